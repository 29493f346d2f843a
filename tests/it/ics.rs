//! Integration tests of the `ics` module: corpus, differential against Python, edit, proptest.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use oneonone::ics;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ics")
}

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ics"))
        .collect();
    files.sort();
    files
}

fn python() -> PathBuf {
    std::env::var_os("ONEONONE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"))
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    (utc(2026, 1, 1, 0, 0), utc(2028, 1, 1, 0, 0))
}

/// All occurrence starts of every series in a file, as Python prints them.
fn our_starts(bytes: &[u8]) -> Vec<String> {
    let cal = ics::parse(bytes).unwrap();
    let (from, to) = window();
    let mut starts: Vec<String> = cal
        .series
        .iter()
        .flat_map(|s| ics::expand(s, from, to, Tz::UTC).unwrap())
        .map(|o| o.start.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .collect();
    starts.sort();
    starts.dedup();
    starts
}

#[test]
fn corpus_has_at_least_40_files_and_all_parse_without_problems() {
    let files = corpus();
    assert!(files.len() >= 40, "only {} files", files.len());
    for f in files {
        let cal = ics::parse(&std::fs::read(&f).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(!cal.series.is_empty(), "{}", f.display());
        assert!(
            cal.problems.is_empty(),
            "{}: {:?}",
            f.display(),
            cal.problems
        );
    }
}

#[test]
fn expansion_matches_python_recurring_ical_events_on_the_corpus() {
    let files = corpus();
    let (from, to) = window();
    let out = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/expand.py"))
        .arg(from.to_rfc3339())
        .arg(to.to_rfc3339())
        .args(&files)
        .output()
        .expect("run the Python reference (scripts/setup-python creates .venv)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut failures = Vec::new();
    for f in &files {
        let key = f.to_str().unwrap();
        let theirs: Vec<String> = match reference[key]["starts"].as_array() {
            Some(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
            None => panic!("{key}: Python failed: {}", reference[key]),
        };
        let ours = our_starts(&std::fs::read(f).unwrap());
        assert!(!ours.is_empty(), "{key}: no occurrences in the window");
        if ours != theirs {
            let only_ours: Vec<_> = ours.iter().filter(|s| !theirs.contains(s)).collect();
            let only_theirs: Vec<_> = theirs.iter().filter(|s| !ours.contains(s)).collect();
            failures.push(format!(
                "{}: only ours {only_ours:?}, only Python {only_theirs:?}",
                f.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The edit

const TEXT: &str = "Agenda für Dana — ✅ 1:1\n- [ ] Q3 goals, OKRs; \"quoted\" \\ backslash\n\
- [x] a line long enough to be folded several times: lorem ipsum dolor sit amet, consectetur \
adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua 😀🎉\n";

fn now() -> DateTime<Utc> {
    utc(2026, 11, 24, 12, 0)
}

/// (original bytes, edited bytes, uid, original start, whether a new override was added)
struct EditCase {
    file: PathBuf,
    uid: String,
    original_start: DateTime<Utc>,
    new_override: bool,
}

fn edit_cases() -> Vec<EditCase> {
    let (from, to) = window();
    let mut cases = Vec::new();
    for f in corpus() {
        let cal = ics::parse(&std::fs::read(&f).unwrap()).unwrap();
        for s in &cal.series {
            let occs = ics::expand(s, from, to, Tz::UTC).unwrap();
            if let Some(o) = occs
                .iter()
                .filter(|o| !o.overridden)
                .nth(2)
                .or(occs.first())
            {
                cases.push(EditCase {
                    file: f.clone(),
                    uid: s.uid.clone(),
                    original_start: o.original_start,
                    new_override: s.is_recurring() && !o.overridden,
                });
            }
            if let Some(o) = occs.iter().find(|o| o.overridden) {
                cases.push(EditCase {
                    file: f.clone(),
                    uid: s.uid.clone(),
                    original_start: o.original_start,
                    new_override: false,
                });
            }
        }
    }
    cases
}

/// Lengths of the common prefix and suffix of two byte strings (not overlapping in `a`).
fn common_ends(a: &[u8], b: &[u8]) -> (usize, usize) {
    let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let max_s = a.len().min(b.len()) - p;
    let s = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_s)
        .take_while(|(x, y)| x == y)
        .count();
    (p, s)
}

#[test]
fn edit_on_every_corpus_series_keeps_everything_else_per_python_icalendar() {
    edit_corpus_and_compare_with_python(ics::EditOptions::default());
}

/// Guarantee 10's fallback: besides the plain edit's changes only the new override's attendees
/// (all but the organizer) gain `SCHEDULE-AGENT=CLIENT`; Python checks that too.
#[test]
fn client_scheduled_edit_on_every_corpus_series_changes_only_the_new_attendee_params() {
    let options = ics::EditOptions {
        client_schedules_attendees: true,
    };
    let marked = edit_corpus_and_compare_with_python(options);
    assert!(
        marked >= 5,
        "only {marked} new overrides with attendees to mark"
    );
}

/// Edits every corpus case with `options` and has `tests/py/compare_edit.py` check each result;
/// returns how many results carry `SCHEDULE-AGENT=CLIENT`.
fn edit_corpus_and_compare_with_python(options: ics::EditOptions) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    let mut marked = 0;
    let cases = edit_cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let mut manifest = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let input = std::fs::read(&c.file).unwrap();
        let edited = ics::edit_occurrence_description(
            &input,
            &c.uid,
            c.original_start,
            TEXT,
            now(),
            Tz::UTC,
            options,
        )
        .unwrap_or_else(|e| panic!("{}: {}: {e}", c.file.display(), c.uid));
        assert_eq!(
            edited.created_override,
            c.new_override,
            "{}",
            c.file.display()
        );
        let out = edited.body;
        let client = b"SCHEDULE-AGENT=CLIENT";
        let count = |b: &[u8]| b.windows(client.len()).filter(|w| w == client).count();
        if count(&out) > count(&input) {
            assert!(
                c.new_override,
                "{}: an existing component changed",
                c.file.display()
            );
            marked += 1;
        }
        let (p, s) = common_ends(&input, &out);
        if c.new_override {
            assert_eq!(
                p + s,
                input.len(),
                "{}: not a pure insertion",
                c.file.display()
            );
        } else {
            let changed = &input[p..input.len() - s];
            assert!(
                !changed.windows(10).any(|w| w == b"END:VEVENT"),
                "{}: the edit spans more than one component",
                c.file.display()
            );
        }
        // It reads back with exactly our text, through our own parser too.
        let cal = ics::parse(&out).unwrap();
        assert!(cal.problems.is_empty(), "{:?}", cal.problems);
        let edited = tmp.path().join(format!("{i}.ics"));
        std::fs::write(&edited, &out).unwrap();
        manifest.push(serde_json::json!({
            "original": c.file, "edited": edited, "uid": c.uid,
            "recurrence_id": c.original_start.to_rfc3339(), "text": TEXT,
            "client_schedules_attendees": options.client_schedules_attendees,
        }));
    }
    let manifest_path = tmp.path().join("manifest.json");
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let out = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/compare_edit.py"))
        .arg(&manifest_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let failures: Vec<String> = results
        .as_array()
        .unwrap()
        .iter()
        .zip(&cases)
        .filter(|(r, _)| !r["errors"].as_array().unwrap().is_empty())
        .map(|(r, c)| format!("{} {}: {}", c.file.display(), c.uid, r["errors"]))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    marked
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).unwrap()
}

fn lines_of(bytes: &[u8]) -> String {
    // Unfold for easy assertions on whole content lines.
    String::from_utf8_lossy(bytes)
        .replace("\r\n ", "")
        .replace("\n ", "")
}

#[test]
fn new_override_writes_recurrence_id_in_the_form_of_dtstart() {
    // Zoned (Windows TZID kept verbatim).
    let input = read("outlook_windows_tz.ics");
    let at = utc(2026, 1, 14, 8, 30); // Wed 09:30 Berlin (CET)
    let out = ics::set_occurrence_description(&input, &ics_uid(&input), at, "x", now()).unwrap();
    let text = lines_of(&out);
    assert!(text.contains("RECURRENCE-ID;TZID=W. Europe Standard Time:20260114T093000\r\n"));
    assert!(text.contains("X-MICROSOFT-CDO-INSTTYPE:3\r\n"));
    assert_eq!(
        text.matches("X-ALT-DESC").count(),
        1,
        "kept on the master only"
    );
    assert_eq!(
        text.matches("RRULE:FREQ=WEEKLY").count(),
        1,
        "only the master has the rule"
    );
    assert!(text.contains("DTSTAMP:20261124T120000Z\r\n"));

    // All-day.
    let input = read("google_allday_yearly.ics");
    let at = Tz::Europe__Berlin
        .with_ymd_and_hms(2027, 3, 14, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let out =
        ics::set_occurrence_description(&input, "g-birthday@google.com", at, "x", now()).unwrap();
    assert!(lines_of(&out).contains("RECURRENCE-ID;VALUE=DATE:20270314\r\n"));

    // UTC.
    let input = read("radicale_simple.ics");
    let at = utc(2026, 2, 2, 10, 0);
    let out = ics::set_occurrence_description(&input, "radicale-simple", at, "x", now()).unwrap();
    assert!(lines_of(&out).contains("RECURRENCE-ID:20260202T100000Z\r\n"));
}

fn ics_uid(input: &[u8]) -> String {
    ics::parse(input).unwrap().series[0].uid.clone()
}

#[test]
fn x_wr_timezone_makes_utc_times_wall_clock_in_that_zone() {
    // Written as 14:00Z (09:00 EST); in March New York moves to EDT and the meeting stays at
    // 09:00 local, i.e. 13:00Z. Google's meaning, and our documented policy.
    let cal = ics::parse(&read("google_utc_xwr.ics")).unwrap();
    assert_eq!(cal.x_wr_timezone, Some(Tz::America__New_York));
    let occ = ics::expand(
        &cal.series[0],
        utc(2026, 3, 16, 0, 0),
        utc(2026, 3, 17, 0, 0),
        Tz::UTC,
    )
    .unwrap();
    assert_eq!(occ.len(), 1);
    assert_eq!(occ[0].start, utc(2026, 3, 16, 13, 0));
    assert_eq!(occ[0].tz, Tz::America__New_York);
    // The override we write for it names that instant in UTC, the form of its DTSTART.
    let out = ics::set_occurrence_description(
        &read("google_utc_xwr.ics"),
        "g-utc-xwr@google.com",
        occ[0].original_start,
        "agenda",
        now(),
    )
    .unwrap();
    assert!(lines_of(&out).contains("RECURRENCE-ID:20260316T130000Z\r\n"));
}

#[test]
fn windows_and_custom_zones_resolve_to_iana() {
    let zone = |name: &str| {
        let cal = ics::parse(&read(name)).unwrap();
        cal.series[0].master.as_ref().unwrap().start.unwrap().zone()
    };
    assert_eq!(zone("outlook_windows_tz.ics"), Some(Tz::Europe__Berlin));
    assert_eq!(
        zone("outlook_pacific_biweekly.ics"),
        Some(Tz::America__Los_Angeles)
    );
    assert_eq!(zone("outlook_quoted_tzid.ics"), Some(Tz::America__New_York));
    // CLDR's name for Kolkata; chrono-tz keeps the link with identical rules.
    assert_eq!(zone("outlook_india.ics"), Some(Tz::Asia__Calcutta));
    // "Customized Time Zone" has no name we know: matched by its rules.
    assert_eq!(
        zone("outlook_customized_tz.ics"),
        Some(Tz::America__New_York)
    );
    // Thunderbird's own name, resolved through X-LIC-LOCATION.
    assert_eq!(zone("thunderbird_custom_tzid.ics"), Some(Tz::Asia__Tokyo));
    assert_eq!(
        zone("thunderbird_mozilla_prefix.ics"),
        Some(Tz::America__New_York)
    );
    assert_eq!(
        zone("misc_missing_vtimezone.ics"),
        Some(Tz::America__Chicago)
    );
}

#[test]
fn custom_vtimezone_matched_by_rules_keeps_wall_clock_across_dst() {
    let cal = ics::parse(&read("outlook_customized_tz.ics")).unwrap();
    let s = &cal.series[0];
    let before = ics::expand(s, utc(2026, 3, 2, 0, 0), utc(2026, 3, 3, 0, 0), Tz::UTC).unwrap();
    let after = ics::expand(s, utc(2026, 3, 9, 0, 0), utc(2026, 3, 10, 0, 0), Tz::UTC).unwrap();
    assert_eq!(before[0].start, utc(2026, 3, 2, 14, 15)); // 09:15 EST
    assert_eq!(after[0].start, utc(2026, 3, 9, 13, 15)); // 09:15 EDT
}

#[test]
fn attendees_organizer_and_x_properties_are_read() {
    let cal = ics::parse(&read("outlook_room_resource.ics")).unwrap();
    let m = cal.series[0].master.as_ref().unwrap();
    use oneonone::model::{CalendarUserType as C, Role};
    let kinds: Vec<C> = m.attendees.iter().map(|a| a.cutype).collect();
    assert_eq!(kinds, vec![C::Individual, C::Room, C::Resource, C::Group]);
    assert_eq!(m.attendees[1].role, Role::NonParticipant);
    assert_eq!(
        m.organizer.as_ref().unwrap().name.as_deref(),
        Some("Mia Manager")
    );
    assert!(
        m.x_props
            .iter()
            .any(|(k, v)| k == "X-MICROSOFT-CDO-INSTTYPE" && v == "1")
    );

    let cal = ics::parse(&read("misc_quoted_cn.ics")).unwrap();
    let m = cal.series[0].master.as_ref().unwrap();
    assert_eq!(
        m.attendees[0].person.name.as_deref(),
        Some("Smith, Ann; PhD")
    );
    assert_eq!(
        m.organizer.as_ref().unwrap().name.as_deref(),
        Some("Manager, Mia: Head of Eng")
    );

    // Apple: the address is in EMAIL=, the value is a urn:uuid.
    let cal = ics::parse(&read("apple_weekly.ics")).unwrap();
    let m = cal.series[0].master.as_ref().unwrap();
    assert_eq!(
        m.organizer
            .as_ref()
            .unwrap()
            .email
            .as_ref()
            .map(|e| e.as_str()),
        Some("mia@example.com")
    );
    assert!(
        m.x_props
            .iter()
            .any(|(k, _)| k == "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR")
    );
}

#[test]
fn escaped_text_and_folds_are_decoded() {
    let cal = ics::parse(&read("google_escaped_text.ics")).unwrap();
    let m = cal.series[0].master.as_ref().unwrap();
    assert_eq!(m.summary.as_deref(), Some("Mia / Dana: 1:1, weekly"));
    assert!(
        m.description
            .as_deref()
            .unwrap()
            .starts_with("Agenda, notes; and a backslash \\ here.\n")
    );
    let cal = ics::parse(&read("misc_fold_splits_utf8.ics")).unwrap();
    let m = cal.series[0].master.as_ref().unwrap();
    assert_eq!(
        m.summary.as_deref(),
        Some("Größenvergleich für Café-Besprechung mit Jürgen und Zoë über Überstunden")
    );
}

#[test]
fn overrides_move_cancel_and_thisandfuture_reshape_occurrences() {
    use oneonone::model::OccurrenceStatus as S;
    let cal = ics::parse(&read("google_override_exported.ics")).unwrap();
    let occ = ics::expand(
        &cal.series[0],
        utc(2026, 2, 1, 0, 0),
        utc(2026, 2, 8, 0, 0),
        Tz::UTC,
    )
    .unwrap();
    assert_eq!(occ.len(), 1);
    assert_eq!(occ[0].status, S::Moved);
    assert_eq!(occ[0].original_start, utc(2026, 2, 2, 14, 0));
    assert_eq!(occ[0].start, utc(2026, 2, 3, 15, 0));
    assert_eq!(
        occ[0].description.as_deref(),
        Some("Moved to Tuesday this week.")
    );

    let cal = ics::parse(&read("google_cancelled_instance.ics")).unwrap();
    let occ = ics::expand(
        &cal.series[0],
        utc(2026, 3, 5, 0, 0),
        utc(2026, 3, 6, 0, 0),
        Tz::UTC,
    )
    .unwrap();
    assert_eq!(occ[0].status, S::Cancelled);

    // THISANDFUTURE on 2 March: from then on Tuesdays 11:00-12:00.
    let cal = ics::parse(&read("apple_thisandfuture.ics")).unwrap();
    let occ = ics::expand(
        &cal.series[0],
        utc(2026, 3, 8, 0, 0),
        utc(2026, 3, 15, 0, 0),
        Tz::UTC,
    )
    .unwrap();
    assert_eq!(occ.len(), 1);
    assert_eq!(occ[0].original_start, utc(2026, 3, 9, 9, 0));
    assert_eq!(occ[0].start, utc(2026, 3, 10, 10, 0));
    assert_eq!(occ[0].end - occ[0].start, chrono::Duration::hours(1));
    assert_eq!(
        occ[0].description.as_deref(),
        Some("From March on we meet on Tuesdays.")
    );

    // Only overrides, no master: each is an occurrence.
    let cal = ics::parse(&read("radicale_overrides_only.ics")).unwrap();
    assert!(cal.series[0].master.is_none());
    let occ = ics::expand(
        &cal.series[0],
        utc(2026, 1, 1, 0, 0),
        utc(2027, 1, 1, 0, 0),
        Tz::UTC,
    )
    .unwrap();
    assert_eq!(occ.len(), 2);
    assert_eq!(occ[1].status, S::Moved);
}

#[test]
fn date_exdate_on_timed_series_removes_that_day() {
    let cal = ics::parse(&read("misc_date_exdate_on_timed.ics")).unwrap();
    let occ = ics::expand(
        &cal.series[0],
        utc(2026, 1, 9, 0, 0),
        utc(2026, 1, 13, 0, 0),
        Tz::UTC,
    )
    .unwrap();
    let days: Vec<u32> = occ
        .iter()
        .map(|o| chrono::Datelike::day(&o.start))
        .collect();
    assert_eq!(days, vec![9, 12]);
}

#[test]
fn until_as_date_on_a_timed_series_includes_that_whole_day() {
    // A deliberate difference from recurring-ical-events (which reads UNTIL=date as midnight
    // UTC and drops the last meeting): libical, Outlook and Google include that day.
    let ics_text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u\r\n\
DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260105T100000\r\n\
RRULE:FREQ=WEEKLY;UNTIL=20260119\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let cal = ics::parse(ics_text.as_bytes()).unwrap();
    let occ = ics::expand(
        &cal.series[0],
        utc(2026, 1, 1, 0, 0),
        utc(2026, 3, 1, 0, 0),
        Tz::UTC,
    )
    .unwrap();
    assert_eq!(occ.len(), 3);
    assert_eq!(occ[2].start, utc(2026, 1, 19, 9, 0));
}

#[test]
fn a_bad_rule_fails_only_its_own_series() {
    let ics_text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:bad\r\nDTSTART:19700101T000000Z\r\n\
RRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:garbage\r\nDTSTART:20260101T000000Z\r\n\
RRULE:FREQ=FORTNIGHTLY\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:good\r\n\
DTSTART:20260105T100000Z\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let cal = ics::parse(ics_text.as_bytes()).unwrap();
    let (from, to) = (utc(2026, 1, 1, 0, 0), utc(2026, 2, 1, 0, 0));
    let started = std::time::Instant::now();
    assert!(matches!(
        ics::expand(&cal.series[0], from, to, Tz::UTC),
        Err(ics::ExpandError::TooManyInstances { .. })
    ));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(matches!(
        ics::expand(&cal.series[1], from, to, Tz::UTC),
        Err(ics::ExpandError::BadRule(_))
    ));
    assert_eq!(
        ics::expand(&cal.series[2], from, to, Tz::UTC)
            .unwrap()
            .len(),
        27
    );
}

#[test]
fn malformed_input_is_a_typed_error_naming_the_line() {
    let cases: &[(&str, usize)] = &[
        (
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VCALENDAR\r\n",
            4,
        ),
        (
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nno colon here\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            3,
        ),
        ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 1),
        ("UID:x\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", 1),
    ];
    for (text, line) in cases {
        let err = ics::parse(text.as_bytes()).unwrap_err();
        assert_eq!(err.line(), Some(*line), "{text:?}: {err}");
        assert!(err.to_string().starts_with(&format!("line {line}:")));
    }
    assert_eq!(ics::parse(b"hello").unwrap_err().line(), Some(1));
    assert_eq!(ics::parse(b"").unwrap_err(), ics::IcsError::NotACalendar);
    // A bad value skips its VEVENT only, and says where.
    let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:2026-01-01\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let cal = ics::parse(text.as_bytes()).unwrap();
    assert_eq!(cal.series.len(), 1);
    assert_eq!(cal.problems[0].line(), Some(4));
}

#[test]
fn edit_refuses_unknown_series_non_occurrences_and_control_characters() {
    let input = read("google_weekly_tzid.ics");
    let uid = "g-weekly-1@google.com";
    assert!(matches!(
        ics::set_occurrence_description(&input, "nope", utc(2026, 1, 13, 9, 0), "x", now()),
        Err(ics::EditError::NoSuchSeries { .. })
    ));
    assert!(matches!(
        ics::set_occurrence_description(&input, uid, utc(2026, 1, 13, 9, 1), "x", now()),
        Err(ics::EditError::NoSuchOccurrence { .. })
    ));
    assert!(matches!(
        ics::set_occurrence_description(&input, uid, utc(2026, 1, 13, 9, 0), "a\u{0}b", now()),
        Err(ics::EditError::InvalidText { code: 0 })
    ));
}

#[test]
fn editing_twice_updates_the_override_instead_of_adding_another() {
    let input = read("google_weekly_tzid.ics");
    let uid = "g-weekly-1@google.com";
    let at = utc(2026, 1, 13, 9, 0);
    let once = ics::set_occurrence_description(&input, uid, at, "first", now()).unwrap();
    let later = now() + chrono::Duration::hours(1);
    let twice = ics::set_occurrence_description(&once, uid, at, "second", later).unwrap();
    let text = lines_of(&twice);
    assert_eq!(text.matches("RECURRENCE-ID").count(), 1);
    assert!(text.contains("DESCRIPTION:second\r\n"));
    assert!(text.contains("DTSTAMP:20261124T130000Z\r\n"));
    // SEQUENCE is not bumped: a description is not a significant change.
    assert_eq!(text.matches("SEQUENCE:0\r\n").count(), 2);
    // Line by line, only the description and the two time stamps changed.
    let a = lines_of(&once);
    let b = lines_of(&twice);
    assert_eq!(a.lines().count(), b.lines().count());
    for (x, y) in a.lines().zip(b.lines()).filter(|(x, y)| x != y) {
        assert!(
            ["DESCRIPTION:", "DTSTAMP:", "LAST-MODIFIED:"]
                .iter()
                .any(|p| x.starts_with(p) && y.starts_with(p)),
            "{x} -> {y}"
        );
    }
}

#[test]
fn edit_keeps_bom_and_lf_line_endings() {
    let input = read("misc_bom_lf.ics");
    assert!(input.starts_with(b"\xEF\xBB\xBF"));
    let out = ics::set_occurrence_description(
        &input,
        "misc-bom-lf",
        utc(2026, 1, 12, 10, 0),
        "a\nb",
        now(),
    )
    .unwrap();
    assert!(out.starts_with(b"\xEF\xBB\xBF"));
    assert!(
        !out.windows(2).any(|w| w == b"\r\n"),
        "a CR crept into an LF file"
    );
    assert!(lines_of(&out).contains("DESCRIPTION:a\\nb\n"));
}

#[test]
fn folded_output_lines_never_exceed_75_octets() {
    let long = "ä€😀 word ".repeat(60);
    let input = read("google_weekly_tzid.ics");
    let out = ics::set_occurrence_description(
        &input,
        "g-weekly-1@google.com",
        utc(2026, 1, 13, 9, 0),
        &long,
        now(),
    )
    .unwrap();
    let (p, s) = common_ends(&input, &out);
    let added = &out[p..out.len() - s];
    for line in added.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(line.len() <= 75, "{} octets", line.len());
        assert!(
            std::str::from_utf8(line).is_ok(),
            "a fold split a character"
        );
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn description() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just(",".to_string()),
            Just(";".to_string()),
            Just("\\".to_string()),
            Just("\\n".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just(":".to_string()),
            Just("\"".to_string()),
            Just(" ".to_string()),
            Just("\t".to_string()),
            Just("- [ ] ".to_string()),
            "[a-zA-Z0-9]{1,12}",
            "[äöüßéñ€日本語😀🎉✅—“”]{1,6}",
            "[a-z ]{70,200}",
            any::<char>()
                .prop_filter("no control characters", |c| !c.is_control())
                .prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn description_round_trips_exactly(text in description()) {
            let input = read("google_weekly_tzid.ics");
            let uid = "g-weekly-1@google.com";
            let at = utc(2026, 1, 13, 9, 0);
            let out = ics::set_occurrence_description(&input, uid, at, &text, now()).unwrap();
            let cal = ics::parse(&out).unwrap();
            let occ = ics::expand(&cal.series[0], at, at + chrono::Duration::hours(1), Tz::UTC)
                .unwrap();
            let want = text.replace("\r\n", "\n");
            prop_assert_eq!(occ[0].description.as_deref(), Some(want.as_str()));
            // And once more through the in-place path.
            let again = ics::set_occurrence_description(&out, uid, at, &text, now()).unwrap();
            let cal = ics::parse(&again).unwrap();
            prop_assert_eq!(cal.series[0].overrides[0].description.as_deref(), Some(want.as_str()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// inspect

#[test]
fn inspect_reports_people_zone_and_next_occurrences() {
    let report = ics::inspect(
        &read("google_override_exported.ics"),
        utc(2026, 1, 26, 0, 0),
        3,
        Tz::UTC,
    )
    .unwrap();
    assert_eq!(report.x_wr_timezone, Some(Tz::Europe__Berlin));
    let s = &report.series[0];
    assert_eq!(s.time_zone, "Europe/Berlin");
    assert_eq!(s.summary.as_deref(), Some("1:1 Mia <> Dana"));
    assert_eq!(s.attendees[0].email.as_deref(), Some("dana@example.com"));
    let starts: Vec<&str> = s.occurrences.iter().map(|o| o.start.as_str()).collect();
    assert_eq!(
        starts,
        vec![
            "2026-01-26T15:00:00+01:00",
            "2026-02-03T16:00:00+01:00",
            "2026-02-09T15:00:00+01:00"
        ]
    );
    assert_eq!(s.occurrences[1].original_start, "2026-02-02T15:00:00+01:00");
    let text = ics::render_text(&report);
    assert!(text.contains("1:1 Mia <> Dana"), "{text}");
    assert!(
        text.contains("(originally 2026-02-02T15:00:00+01:00) [moved]"),
        "{text}"
    );
    assert!(text.contains("attendee:   Dana Direct <dana@example.com> (individual, required_participant, accepted)"), "{text}");
    // An override at the original time is shown as such.
    let report = ics::inspect(
        &read("radicale_overrides_only.ics"),
        utc(2026, 1, 1, 0, 0),
        3,
        Tz::UTC,
    )
    .unwrap();
    let text = ics::render_text(&report);
    assert!(
        text.contains("- 2026-02-12T10:00:00+01:00 -> 2026-02-12T11:00:00+01:00 [own override]"),
        "{text}"
    );
}

#[test]
fn inspect_keeps_going_when_one_series_cannot_be_expanded() {
    let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:bad\r\nDTSTART:20260101T000000Z\r\n\
RRULE:FREQ=FORTNIGHTLY\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:good\r\nSUMMARY:ok\r\n\
DTSTART:20260105T100000Z\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let report = ics::inspect(text.as_bytes(), utc(2026, 1, 1, 0, 0), 2, Tz::UTC).unwrap();
    assert!(
        report.series[0]
            .error
            .as_deref()
            .unwrap()
            .contains("FORTNIGHTLY")
    );
    assert_eq!(report.series[1].occurrences.len(), 2);
}

fn oneonone() -> Command {
    Command::new(env!("CARGO_BIN_EXE_oneonone"))
}

#[test]
fn inspect_command_prints_text_and_json_from_a_file_or_stdin() {
    let file = data_dir().join("outlook_windows_tz.ics");
    let out = oneonone()
        .args([
            "inspect",
            "--from",
            "2026-03-01",
            "--count",
            "2",
            "--tz",
            "UTC",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("time zone:  Europe/Berlin"), "{text}");
    assert!(
        text.contains("- 2026-03-04T09:30:00+01:00 -> 2026-03-04T10:00:00+01:00"),
        "{text}"
    );

    use std::io::Write as _;
    let mut child = oneonone()
        .args([
            "inspect",
            "-",
            "--json",
            "--from",
            "2026-04-01T00:00:00Z",
            "--tz",
            "UTC",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&file).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["series"][0]["occurrences"].as_array().unwrap().len(),
        5
    );
    // After the DST change the meeting stays at 09:30 local.
    assert_eq!(
        json["series"][0]["occurrences"][0]["start"],
        "2026-04-01T09:30:00+02:00"
    );

    let out = oneonone()
        .args(["inspect", "--tz", "UTC", "-"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no BEGIN:VCALENDAR"));
}

#[test]
fn override_after_thisandfuture_is_copied_from_that_override() {
    let input = read("apple_thisandfuture.ics");
    let at = utc(2026, 3, 16, 9, 0); // Monday 10:00 Berlin by the rule; Tuesday 11:00 since March
    let out = ics::set_occurrence_description(&input, "apple-thisandfuture-1", at, "agenda", now())
        .unwrap();
    let (p, s) = common_ends(&input, &out);
    let added = String::from_utf8_lossy(&out[p..out.len() - s]).replace("\r\n ", "");
    assert!(
        added.contains("DTSTART;TZID=Europe/Berlin:20260317T110000\r\n"),
        "{added}"
    );
    assert!(
        added.contains("DTEND;TZID=Europe/Berlin:20260317T120000\r\n"),
        "{added}"
    );
    assert!(
        added.contains("RECURRENCE-ID;TZID=Europe/Berlin:20260316T100000\r\n"),
        "{added}"
    );
    assert!(
        added.contains("SUMMARY:Weekly 1:1 (now Tuesdays, 1h)\r\n"),
        "{added}"
    );
    assert!(!added.contains("THISANDFUTURE"), "{added}");
    let cal = ics::parse(&out).unwrap();
    let occ = ics::expand(
        &cal.series[0],
        utc(2026, 3, 15, 0, 0),
        utc(2026, 3, 25, 0, 0),
        Tz::UTC,
    )
    .unwrap();
    assert_eq!(occ[0].description.as_deref(), Some("agenda"));
    assert_eq!(occ[0].start, utc(2026, 3, 17, 10, 0));
    assert_eq!(
        occ[1].description.as_deref(),
        Some("From March on we meet on Tuesdays.")
    );
}

#[test]
fn rule_extensions_and_lowercase_rule_values_are_tolerated() {
    let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:evo\r\n\
DTSTART;TZID=Europe/Berlin:20260105T100000\r\n\
RRULE:FREQ=WEEKLY;COUNT=3;byday=mo;X-EVOLUTION-ENDDATE=20260119T090000Z\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";
    let cal = ics::parse(text.as_bytes()).unwrap();
    let occ = ics::expand(
        &cal.series[0],
        utc(2026, 1, 1, 0, 0),
        utc(2027, 1, 1, 0, 0),
        Tz::UTC,
    )
    .unwrap();
    assert_eq!(occ.len(), 3);
}
