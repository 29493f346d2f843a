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
    let tmp = tempfile::tempdir().unwrap();
    let cases = edit_cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let mut manifest = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let input = std::fs::read(&c.file).unwrap();
        let out = ics::set_occurrence_description(&input, &c.uid, c.original_start, TEXT, now())
            .unwrap_or_else(|e| panic!("{}: {}: {e}", c.file.display(), c.uid));
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
}
