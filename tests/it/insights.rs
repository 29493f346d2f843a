//! Insights and private notes through the real binary: `report` golden outputs in its three
//! formats on a hand-built team history, `note add/list`, `history --include-private`, and the
//! aggregate gauges of `/metrics`. `team` is also the history of the web tests (`web_insights`).
//!
//! Golden files live in `tests/data/report/`. After a deliberate change to the report, regenerate
//! them with `UPDATE_GOLDEN=1 cargo test --test it insights::report` and review the diff.

use chrono::{DateTime, Duration, TimeZone, Utc};
use oneonone::agenda::{
    self, AbsorbAction, AbsorbPlan, AgendaInput, CarryChange, ClosedMeeting, Format, Item,
    MeetingOutcome, Section, Template,
};
use oneonone::store::{
    ItemSource, Mark, MeetingSummary, NewAccount, Provider, SeriesOverride, SeriesRow,
    SeriesUpsert, Store,
};

use crate::agenda::item;
use crate::helpers::{Daemon, TestDb, get, run_cli};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub(crate) const NOW: &str = "2026-04-21T08:00:00Z";

async fn series(store: &Store, calendar_id: i64, uid: &str, who: &str, tracked: bool) -> SeriesRow {
    let s = store
        .upsert_series(
            &SeriesUpsert {
                calendar_id,
                uid: uid.into(),
                summary: format!("1:1 {who} / Sam"),
                manager_email: Some("sam@example.com".into()),
                direct_email: Some(format!("{}@example.com", who.to_lowercase())),
                direct_name: Some(who.into()),
                one_on_one: tracked,
                owner_is_organizer: true,
                confidence: 0.9,
                detection_reason: "weekly, 2 people".into(),
            },
            t("2026-03-01T00:00:00Z"),
        )
        .await
        .unwrap();
    if !tracked {
        store
            .set_series_override(s.id, SeriesOverride::Excluded, t("2026-03-01T00:00:00Z"))
            .await
            .unwrap();
    }
    s
}

/// Records an occurrence at `original` (taking place at `start`) and closes it with `outcome`;
/// with `agenda`, renders and stores the block written into it (and keeps it as the final one).
async fn meeting(
    store: &Store,
    s: &SeriesRow,
    original: &str,
    start: &str,
    outcome: Option<MeetingOutcome>,
    agenda: &[Item],
    changes: Vec<CarryChange>,
) -> i64 {
    let (original, start) = (t(original), t(start));
    let occ = store
        .upsert_occurrence(s.id, original, start, start + Duration::minutes(30), None)
        .await
        .unwrap();
    let mut final_agenda = None;
    if !agenda.is_empty() {
        let input = AgendaInput {
            direct_name: s.direct_name.as_deref().unwrap_or_default(),
            manager_name: "Sam",
            items: agenda,
            notes: &[],
            last_meeting: None,
            start: chrono_tz::UTC.from_utc_datetime(&start.naive_utc()),
            length: Duration::minutes(30),
            cancelled_in_a_row: 0,
        };
        let block = agenda::render(&input, Format::Plain, &Template::default_template()).unwrap();
        store.set_written_block(occ.id, &block).await.unwrap();
        final_agenda = Some(block.text);
    }
    if let Some(outcome) = outcome {
        let closing = ClosedMeeting {
            changes,
            ..ClosedMeeting::default()
        };
        let closed = store
            .close_meeting(
                occ.id,
                outcome,
                &closing,
                final_agenda.as_deref(),
                &[],
                &MeetingSummary::default(),
                start + Duration::hours(3),
            )
            .await
            .unwrap();
        assert!(closed);
    }
    occ.id
}

/// A team of three: Alice weekly (two cancellations, a moved meeting, a stale item), Bob
/// biweekly with a missing slot, and an excluded series that must not show.
pub(crate) async fn team(store: &Store) -> (SeriesRow, SeriesRow) {
    let account = store
        .insert_account(
            &NewAccount {
                provider: Provider::Caldav,
                display_name: "sam".into(),
                settings: serde_json::json!({"url": "http://127.0.0.1:5232/", "username": "sam"}),
                credentials: None,
                calendars: vec![("/sam/work/".into(), "Work".into(), None)],
                writing_started_at: Some(t("2026-03-01T00:00:00Z")),
            },
            t("2026-03-01T00:00:00Z"),
        )
        .await
        .unwrap();
    let cal = store.list_calendars(account).await.unwrap()[0].id;
    let now = t("2026-03-01T00:00:00Z");

    let alice = series(store, cal, "alice", "Alice", true).await;
    let hire = store
        .add_item(
            alice.id,
            "action",
            "Hire a designer | UX *now*",
            ItemSource::Cli,
            None,
            now,
        )
        .await
        .unwrap();
    let career = store
        .add_item(
            alice.id,
            "direct",
            "Career growth",
            ItemSource::Cli,
            None,
            now,
        )
        .await
        .unwrap();
    let budget = store
        .add_item(
            alice.id,
            "manager",
            "Budget | review",
            ItemSource::Cli,
            None,
            now,
        )
        .await
        .unwrap();
    let agenda = [
        item(hire, Section::Action, "Hire a designer | UX *now*", 0),
        item(career, Section::Direct, "Career growth", 0),
        item(budget, Section::Manager, "Budget | review", 0),
    ];
    let carry = |n| {
        vec![CarryChange {
            id: hire,
            times_carried: n,
            in_notes: false,
        }]
    };
    let a = "2026-03-23T09:00:00Z";
    let first = meeting(
        store,
        &alice,
        a,
        a,
        Some(MeetingOutcome::Held),
        &agenda,
        carry(2),
    )
    .await;
    // Nothing was ticked or typed in it: held only because Sam said so.
    store
        .mark_occurrence(
            alice.id,
            first,
            Mark::Held,
            ItemSource::Cli,
            t(a) + Duration::hours(4),
        )
        .await
        .unwrap();
    for d in ["2026-03-30T09:00:00Z", "2026-04-06T09:00:00Z"] {
        meeting(
            store,
            &alice,
            d,
            d,
            Some(MeetingOutcome::Cancelled),
            &[],
            vec![],
        )
        .await;
    }
    // Moved to the Tuesday; Career growth ticked in it.
    let moved = meeting(
        store,
        &alice,
        "2026-04-13T09:00:00Z",
        "2026-04-14T09:00:00Z",
        None,
        &agenda,
        vec![],
    )
    .await;
    let plan = AbsorbPlan {
        actions: vec![AbsorbAction::Close { id: career }],
        ..AbsorbPlan::default()
    };
    store
        .apply_absorb(alice.id, moved, &plan, t("2026-04-14T09:20:00Z"))
        .await
        .unwrap();
    let closing = ClosedMeeting {
        changes: carry(3),
        ..ClosedMeeting::default()
    };
    store
        .close_meeting(
            moved,
            MeetingOutcome::Held,
            &closing,
            None,
            &[],
            &MeetingSummary::default(),
            t("2026-04-14T12:00:00Z"),
        )
        .await
        .unwrap();
    let next = "2026-04-20T09:00:00Z";
    meeting(store, &alice, next, next, None, &[], vec![]).await;

    let bob = series(store, cal, "bob", "Bob", true).await;
    // Two meetings the calendar kept with nothing ticked or typed: the first took place with
    // no notes, Sam said the second was held.
    for d in ["2026-03-10T14:00:00Z", "2026-04-07T14:00:00Z"] {
        let id = meeting(store, &bob, d, d, Some(MeetingOutcome::Held), &[], vec![]).await;
        if d.starts_with("2026-04-07") {
            store
                .mark_occurrence(
                    bob.id,
                    id,
                    Mark::Held,
                    ItemSource::Web,
                    t(d) + Duration::hours(1),
                )
                .await
                .unwrap();
        }
    }
    let next = "2026-04-21T14:00:00Z";
    meeting(store, &bob, next, next, None, &[], vec![]).await;

    let other = series(store, cal, "team", "Team", false).await;
    meeting(
        store,
        &other,
        "2026-04-14T10:00:00Z",
        "2026-04-14T10:00:00Z",
        Some(MeetingOutcome::Held),
        &[],
        vec![],
    )
    .await;
    (alice, bob)
}

fn golden(name: &str, actual: &str) {
    crate::helpers::golden("tests/data/report", name, actual);
}

fn env(db: &TestDb, keydir: &tempfile::TempDir) -> Vec<(&'static str, String)> {
    vec![
        ("ONEONONE__DATABASE__URL", db.url.clone()),
        (
            "ONEONONE__SECRETS__KEY_FILE",
            keydir.path().join("key").display().to_string(),
        ),
        ("ONEONONE__LOG__LEVEL", "warn".into()),
    ]
}

fn cli(env: &[(&'static str, String)], args: &[&str]) -> String {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run_cli(args, &env);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn report_golden_outputs_in_three_formats() {
    let db = TestDb::sqlite();
    let keydir = tempfile::tempdir().unwrap();
    let store = db.store().await;
    team(&store).await;
    store.close().await;
    let env = env(&db, &keydir);
    for (format, ext) in [("text", "txt"), ("markdown", "md"), ("json", "json")] {
        let out = cli(&env, &["report", "--now", NOW, "--format", format]);
        golden(&format!("team.{ext}"), &out);
    }
    let json: serde_json::Value =
        serde_json::from_str(&cli(&env, &["report", "--now", NOW, "--format", "json"])).unwrap();
    assert_eq!(json["series_tracked"], 2, "the excluded series is left out");
    let out = cli(&env, &["report", "--now", NOW, "--weeks", "4"]);
    assert!(out.contains("(last 4 weeks;"), "{out}");
}

#[tokio::test]
async fn private_notes_are_encrypted_listed_and_exported_only_when_asked() {
    for db in TestDb::all().await {
        let keydir = tempfile::tempdir().unwrap();
        let store = db.store().await;
        team(&store).await;
        // The gauges' query, on each dialect: Alice and Bob, their 3 held meetings (Bob's
        // first took place with no notes), 1 stale item.
        let c = store.insight_counts(3).await.unwrap();
        assert_eq!(
            (c.series_tracked, c.meetings_held, c.stale_items),
            (2, 3, 1),
            "{}",
            db.kind
        );
        let env = env(&db, &keydir);
        let with = ["--with", "alice@example.com"];
        let say = |args: &[&str]| cli(&env, &[&["note", "add"], with.as_slice(), args].concat());
        let out = say(&[
            "--meeting",
            "2026-04-14",
            "Seems",
            "tired;",
            "ask",
            "about",
            "the",
            "move",
        ]);
        assert!(out.contains("about the meeting of 2026-04-14"), "{out}");
        let out = say(&["--meeting", "2026-05-04", "Raise: decide before May"]);
        assert!(out.contains("no meeting of that day recorded yet"), "{out}");
        say(&["Wants to lead the Q3 project"]);

        // Only ciphertext in the database.
        let rows = store.list_private_notes(1).await.unwrap();
        assert_eq!(rows.len(), 3, "{}", db.kind);
        assert!(
            rows.iter()
                .all(|r| !String::from_utf8_lossy(&r.body).contains("tired"))
        );
        let occ = store.list_occurrences(1).await.unwrap();
        let moved = occ
            .iter()
            .find(|o| o.original_start == t("2026-04-13T09:00:00Z"))
            .unwrap();
        assert_eq!(
            rows[0].occurrence_id,
            Some(moved.id),
            "by the day it took place"
        );
        assert_eq!(rows[1].occurrence_id, None);

        let list = cli(&env, &["note", "list", "--with", "alice@example.com"]);
        assert!(
            list.contains("2026-04-14  Seems tired; ask about the move"),
            "{list}"
        );
        assert!(
            list.contains("series      Wants to lead the Q3 project"),
            "{list}"
        );
        let json: serde_json::Value = serde_json::from_str(&cli(
            &env,
            &["note", "list", "--with", "alice@example.com", "--json"],
        ))
        .unwrap();
        assert_eq!(json[1]["text"], "Raise: decide before May");

        for format in ["text", "markdown", "json"] {
            let plain = cli(
                &env,
                &["history", "--with", "alice@example.com", "--format", format],
            );
            for secret in ["tired", "Raise", "Q3 project"] {
                assert!(
                    !plain.contains(secret),
                    "{format}: private note without the flag: {plain}"
                );
            }
            let full = cli(
                &env,
                &[
                    "history",
                    "--with",
                    "alice@example.com",
                    "--format",
                    format,
                    "--include-private",
                ],
            );
            for secret in [
                "Seems tired; ask about the move",
                "Raise: decide before May",
                "Wants to lead the Q3 project",
            ] {
                assert!(full.contains(secret), "{format}: {secret} missing: {full}");
            }
        }
        let v: serde_json::Value = serde_json::from_str(&cli(
            &env,
            &[
                "history",
                "--with",
                "alice@example.com",
                "--format",
                "json",
                "--include-private",
            ],
        ))
        .unwrap();
        let m = v["meetings"].as_array().unwrap();
        let on_14th = m
            .iter()
            .find(|x| x["date"] == "2026-04-14 09:00 UTC")
            .unwrap();
        assert_eq!(
            on_14th["private_notes"][0]["text"],
            "Seems tired; ask about the move"
        );
        // The note on a day without a meeting, and the series' note, are the series'.
        assert_eq!(v["private_notes"].as_array().unwrap().len(), 2, "{v}");

        // A key rotation re-encrypts the notes: still readable, with new ciphertext.
        cli(&env, &["secrets", "rotate"]);
        let after = store.list_private_notes(1).await.unwrap();
        assert_ne!(after[0].body, rows[0].body);
        let list = cli(&env, &["note", "list", "--with", "alice@example.com"]);
        assert!(list.contains("Seems tired"), "{list}");

        // Bad input: an empty note, an unknown person.
        let e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = run_cli(&["note", "add", "--with", "alice@example.com", " "], &e);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("the note is empty"));
        let out = run_cli(&["note", "list", "--with", "zed@example.com"], &e);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no tracked 1:1 with zed@example.com")
        );
        store.close().await;
    }
}

#[tokio::test]
async fn metrics_show_aggregate_insight_gauges_without_names() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    team(&store).await;
    store.close().await;
    let keydir = tempfile::tempdir().unwrap();
    let key = keydir.path().join("key").display().to_string();
    let d = Daemon::spawn(
        &db.url,
        &[
            ("ONEONONE__SECRETS__KEY_FILE", &key),
            ("ONEONONE__SYNC__INTERVAL_SECS", "3600"),
        ],
    );
    let (code, body) = get(&d.url("/metrics")).await;
    assert_eq!(code, 200);
    // Alice and Bob (the excluded series is not counted); held: 2 of Alice's, 1 of Bob's (his
    // first took place with no notes); stale: Hire a designer.
    for line in [
        "oneonone_series_tracked 2",
        "oneonone_meetings_held 3",
        "oneonone_stale_items 1",
    ] {
        assert!(body.lines().any(|l| l == line), "{line} missing:\n{body}");
    }
    for private in ["alice", "Alice", "bob", "Hire a designer | UX *now*"] {
        assert!(!body.contains(private), "{private} in /metrics");
    }
}

/// ICS text as one logical line per property: folding (CRLF + space) may split a note's words.
fn unfold(ics: &[u8]) -> String {
    String::from_utf8_lossy(ics)
        .replace("\r\n ", "")
        .replace("\r\n\t", "")
        .replace("\n ", "")
}

/// Four weeks of passes on Radicale with private notes added before each (per series and per
/// meeting, for both 1:1s), items added and edits made so that every pass writes: no note text
/// appears in any resource the server holds, in any description revision, nor in what a dry run
/// would write. The Google half is `google_sync::private_notes_never_reach_a_description_during_
/// weeks_of_passes_on_google` (every request body the Google test server received).
#[tokio::test]
async fn private_notes_never_reach_a_description_during_weeks_of_passes_on_radicale() {
    use crate::caldav_sync::{ALICE, Setup, W1, W2, description_at, insert_after};
    use crate::servers::Kind;

    let s = Setup::new(Kind::Radicale).await;
    let out = s.connect_at(Some("2026-03-24T12:00:00Z"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli = |args: &[&str]| {
        let out = s.cli(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let mut secrets: Vec<String> = Vec::new();
    let passes = [
        ("2026-03-25T12:00:00Z", "2026-03-30", "2026-03-31"),
        ("2026-03-31T09:00:00Z", "2026-04-06", "2026-03-31"),
        ("2026-04-07T09:00:00Z", "2026-04-13", "2026-04-14"),
        ("2026-04-14T09:00:00Z", "2026-04-20", "2026-04-14"),
    ];
    for (week, (now, alice_day, bob_day)) in passes.iter().enumerate() {
        let notes = [
            (
                "alice@example.com",
                None,
                format!("Privnote {week} alice series confidential"),
            ),
            (
                "alice@example.com",
                Some(*alice_day),
                format!("Privnote {week} alice meeting salary"),
            ),
            (
                "bob@example.com",
                Some(*bob_day),
                format!("Privnote {week} bob meeting health"),
            ),
        ];
        for (with, day, text) in &notes {
            let mut args = vec!["note", "add", "--with", with];
            if let Some(d) = day {
                args.extend(["--meeting", d]);
            }
            args.push(text);
            cli(&args);
            secrets.push(text.clone());
        }
        // Something new for every pass to write.
        let topic = format!("Topic of week {week}");
        cli(&["item", "add", "--with", "alice@example.com", &topic]);
        cli(&["item", "add", "--with", "bob@example.com", &topic]);
        let dry = cli(&["sync", "--once", "--dry-run", "--now", now]);
        assert!(
            dry.contains(&topic),
            "the dry run shows what it would write: {dry}"
        );
        s.sync(now);
        if week == 0 {
            // The direct's own edit in the invite, absorbed and written back.
            s.user_edit(ALICE, &s.uid("weekly-alice"), W1, |d| {
                insert_after(d, "15 minutes for you", "- [ ] Career growth")
            })
            .await;
        }
        if week == 1 {
            s.user_edit(ALICE, &s.uid("weekly-alice"), W2, |d| {
                d.replace("- [ ] Career growth", "- [x] Career growth")
            })
            .await;
        }
        for secret in &secrets {
            assert!(
                !dry.contains(secret.as_str()),
                "week {week}: dry run shows {secret:?}"
            );
        }
        // Every resource the server holds, every property.
        for (url, _) in s.client.list_etags(&s.calendar).await.unwrap() {
            let body = unfold(&s.client.get(&url).await.unwrap().body);
            for secret in &secrets {
                assert!(
                    !body.contains(secret.as_str()),
                    "week {week}: {secret:?} in {url}:\n{body}"
                );
            }
        }
    }
    let store = s.db.store().await;
    let revisions = store.list_revisions(None).await.unwrap();
    assert!(revisions.len() >= 6, "the passes wrote: {revisions:?}");
    for r in &revisions {
        let texts = [
            r.description_before.as_deref().unwrap_or(""),
            &r.description_after,
        ];
        for (text, secret) in texts
            .iter()
            .flat_map(|t| secrets.iter().map(move |s| (t, s)))
        {
            assert!(
                !text.contains(secret.as_str()),
                "revision {}: {secret:?}",
                r.id
            );
        }
    }
    // The agenda did carry the week's topics (the search above is not vacuous), and the notes
    // are all there for the manager.
    let alice = description_at(
        &s.body(ALICE).await,
        &s.uid("weekly-alice"),
        "2026-04-20T08:00:00Z",
    );
    assert!(alice.contains("Topic of week 3"), "{alice}");
    let all = cli(&[
        "history",
        "--with",
        "alice@example.com",
        "--include-private",
    ]) + &cli(&["history", "--with", "bob@example.com", "--include-private"]);
    for secret in &secrets {
        assert!(
            all.contains(secret.as_str()),
            "{secret:?} missing from the export:\n{all}"
        );
    }
    store.close().await;
}

/// A title, a name and an item carrying what a terminal obeys: clear screen, an OSC window title
/// ended by BEL, an OSC 8 hyperlink, a C1 CSI.
const TERMINAL_TRAP: &str =
    "\x1b[2J\x1b]0;owned\x07\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\\u{9b}1m\r";

/// Whether `out` holds a character a terminal acts on (newlines and tabs are layout).
fn raw_controls(out: &str) -> Vec<char> {
    out.chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect()
}

#[tokio::test]
async fn escape_sequences_in_titles_names_and_items_never_reach_the_terminal_raw() {
    let db = TestDb::sqlite();
    let keydir = tempfile::tempdir().unwrap();
    let store = db.store().await;
    let (alice, _) = team(&store).await;
    store
        .upsert_series(
            &SeriesUpsert {
                calendar_id: alice.calendar_id,
                uid: alice.uid.clone(),
                summary: format!("1:1 Alice{TERMINAL_TRAP} / Sam"),
                manager_email: Some("sam@example.com".into()),
                direct_email: Some("alice@example.com".into()),
                direct_name: Some(format!("Alice{TERMINAL_TRAP}")),
                one_on_one: true,
                owner_is_organizer: true,
                confidence: 0.9,
                detection_reason: format!("weekly{TERMINAL_TRAP}, 2 people"),
            },
            t("2026-03-02T00:00:00Z"),
        )
        .await
        .unwrap();
    store
        .add_item(
            alice.id,
            "manager",
            &format!("Ship it{TERMINAL_TRAP}"),
            ItemSource::Cli,
            None,
            t("2026-03-02T00:00:00Z"),
        )
        .await
        .unwrap();
    store.close().await;
    let env = env(&db, &keydir);
    let with = ["--with", "alice@example.com"];
    for args in [
        &["series", "list"][..],
        &["series", "list", "--all"],
        &[&["history"], &with[..]].concat(),
        &[&["history", "--format", "markdown"], &with[..]].concat(),
        &[&["item", "list"], &with[..]].concat(),
        &["report", "--now", NOW],
        &["report", "--now", NOW, "--format", "markdown"],
    ] {
        let out = cli(&env, args);
        assert!(raw_controls(&out).is_empty(), "{args:?}: {out:?}");
        assert!(out.contains("\\u{1b}"), "{args:?} shows the title: {out}");
    }
    // JSON stays JSON, with the text as it is.
    let json: serde_json::Value =
        serde_json::from_str(&cli(&env, &["report", "--now", NOW, "--format", "json"])).unwrap();
    assert!(json.to_string().contains("\\u001b[2J"), "{json}");
    let list: serde_json::Value =
        serde_json::from_str(&cli(&env, &["series", "list", "--json"])).unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|s| s["summary"] == format!("1:1 Alice{TERMINAL_TRAP} / Sam")),
        "{list}"
    );
}

#[tokio::test]
async fn connect_prints_a_hostile_title_without_the_raw_control_bytes() {
    use oneonone::provider::caldav::Precondition;
    let s = crate::caldav_sync::Setup::new(crate::servers::Kind::Radicale).await;
    // A 1:1 whose title a hostile organizer filled with terminal commands (no CR: it would end
    // the ICS line).
    let trap = TERMINAL_TRAP.replace('\r', "");
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oneonone tests//EN\r\nBEGIN:VEVENT\r\n\
         UID:weekly-eve\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260304T090000Z\r\n\
         DTEND:20260304T093000Z\r\nRRULE:FREQ=WEEKLY;BYDAY=WE\r\nSUMMARY:1:1 Eve{trap} / Sam\r\n\
         ORGANIZER;CN=Sam Manager:mailto:sam@example.com\r\n\
         ATTENDEE;CN=Sam Manager;PARTSTAT=ACCEPTED:mailto:sam@example.com\r\n\
         ATTENDEE;CN=Eve;PARTSTAT=ACCEPTED:mailto:eve@example.com\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    s.client
        .put(
            &s.calendar.join("weekly-eve.ics").unwrap(),
            ics.into_bytes(),
            &Precondition::Create,
        )
        .await
        .unwrap();
    let out = s.connect();
    // The calendar's reader drops C0 controls from the title already; the C1 CSI gets through
    // to the printer, which shows it escaped.
    assert!(
        out.contains("1:1 Eve") && out.contains("\\u{9b}1m"),
        "{out}"
    );
    assert!(raw_controls(&out).is_empty(), "{out:?}");
}
