//! The labeled 1:1 corpus (`tests/data/detect/`): every series in five calendar exports is parsed
//! with `ics::parse` and judged by `detect::detect`; precision and recall must reach 0.98 / 0.95
//! and the confidences must mean what the module doc says.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use oneonone::detect::{DetectRules, Verdict, detect};
use oneonone::ics;
use oneonone::model::{EmailAddress, Owner, Series};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/detect")
}

/// One row of `labels.tsv`.
#[derive(Debug)]
struct Label {
    file: String,
    uid: String,
    one_on_one: bool,
    /// The other person's email (or name when they have none); "-" when not a 1:1.
    with: String,
    owner: Vec<String>,
    note: String,
}

fn labels() -> Vec<Label> {
    let text = std::fs::read_to_string(corpus_dir().join("labels.tsv")).expect("labels.tsv");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(n, l)| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "labels.tsv line {}: want 6 columns: {l}", n + 1);
            Label {
                file: f[0].into(),
                uid: f[1].into(),
                one_on_one: match f[2] {
                    "true" => true,
                    "false" => false,
                    other => panic!("labels.tsv line {}: bad one_on_one {other:?}", n + 1),
                },
                with: f[3].into(),
                owner: f[4].split(',').map(str::to_string).collect(),
                note: f[5].into(),
            }
        })
        .collect()
}

/// Every series of every corpus file, by (file, uid).
fn corpus_series(files: &[&str]) -> HashMap<(String, String), Series> {
    let mut out = HashMap::new();
    for file in files {
        let bytes = std::fs::read(corpus_dir().join(file)).expect("corpus file");
        let cal = ics::parse(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        // The corpus is well-formed: anything the parser had to skip or guess would make the
        // detector judge something other than what the label describes.
        assert!(cal.problems.is_empty(), "{file}: {:?}", cal.problems);
        for s in cal.series {
            out.insert((file.to_string(), s.uid.clone()), s);
        }
    }
    out
}

/// Whether the verdict's other person is the labeled one (by email, else by name).
fn same_other(v: &Verdict, want: &str) -> bool {
    let Some(p) = &v.with else { return false };
    match &p.email {
        Some(e) => e.as_str().eq_ignore_ascii_case(want),
        None => p
            .name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(want)),
    }
}

struct Outcome<'a> {
    label: &'a Label,
    verdict: Verdict,
}

impl Outcome<'_> {
    /// Right when the verdict matches the label and, for a 1:1, names the right person.
    fn right(&self) -> bool {
        self.verdict.one_on_one == self.label.one_on_one
            && (!self.label.one_on_one || same_other(&self.verdict, &self.label.with))
    }
}

fn judge_corpus(labels: &[Label]) -> Vec<Outcome<'_>> {
    let mut files: Vec<&str> = labels.iter().map(|l| l.file.as_str()).collect();
    files.sort();
    files.dedup();
    let series = corpus_series(&files);
    let rules = DetectRules::default();
    labels
        .iter()
        .map(|l| {
            let s = series
                .get(&(l.file.clone(), l.uid.clone()))
                .unwrap_or_else(|| panic!("{}: no series with UID {} ({})", l.file, l.uid, l.note));
            let owner = Owner::new(l.owner.iter().filter_map(|e| EmailAddress::parse(e)));
            Outcome {
                label: l,
                verdict: detect(s, &owner, &rules),
            }
        })
        .collect()
}

#[test]
fn corpus_is_large_labeled_and_complete() {
    let labels = labels();
    assert!(labels.len() >= 150, "only {} labeled series", labels.len());
    let positives = labels.iter().filter(|l| l.one_on_one).count();
    assert!(positives >= 60 && labels.len() - positives >= 60);
    // Every series in the files has a label, and no label is for a series not in the files.
    let mut files: Vec<&str> = labels.iter().map(|l| l.file.as_str()).collect();
    files.sort();
    files.dedup();
    let series = corpus_series(&files);
    assert_eq!(
        series.len(),
        labels.len(),
        "labels and series differ in number"
    );
    for l in &labels {
        assert!(
            l.one_on_one != (l.with == "-"),
            "{}: with must be set iff 1:1",
            l.uid
        );
    }
}

#[test]
fn detector_reaches_precision_and_recall_on_the_labeled_corpus() {
    let labels = labels();
    let outcomes = judge_corpus(&labels);

    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let mut wrong = Vec::new();
    for o in &outcomes {
        let said = o.verdict.one_on_one;
        let is = o.label.one_on_one;
        let right = o.right();
        match (said, is) {
            (true, true) if right => tp += 1,
            // A 1:1 with the wrong person is both a false positive and a miss.
            (true, true) => {
                fp += 1;
                fn_ += 1;
            }
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
        if !right {
            wrong.push(o);
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "detect corpus: {} series, tp {tp}, fp {fp}, fn {fn_}: precision {precision:.3}, \
         recall {recall:.3}",
        outcomes.len()
    );
    // ONEONONE_DETECT_VERBOSE=1 prints every verdict, to review the reasons by eye.
    if std::env::var_os("ONEONONE_DETECT_VERBOSE").is_some() {
        for o in &outcomes {
            println!(
                "  {:5} {:.2} {} | {}",
                o.right(),
                o.verdict.confidence,
                o.label.note,
                o.verdict.reason
            );
        }
    }
    for o in &wrong {
        println!(
            "  WRONG {} [{}] want one_on_one={} with={} ({}); got: {} (confidence {:.2})",
            o.label.file,
            o.label.uid,
            o.label.one_on_one,
            o.label.with,
            o.label.note,
            o.verdict.reason,
            o.verdict.confidence
        );
    }
    assert!(precision >= 0.98, "precision {precision:.3} < 0.98");
    assert!(recall >= 0.95, "recall {recall:.3} < 0.95");
}

#[test]
fn confidence_is_calibrated_on_the_labeled_corpus() {
    let labels = labels();
    let outcomes = judge_corpus(&labels);
    let sure: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.verdict.confidence >= 0.95)
        .collect();
    let sure_right = sure.iter().filter(|o| o.right()).count();
    let accuracy = sure_right as f64 / sure.len().max(1) as f64;
    let mean = |right: bool| {
        let v: Vec<f64> = outcomes
            .iter()
            .filter(|o| o.right() == right)
            .map(|o| f64::from(o.verdict.confidence))
            .collect();
        (v.iter().sum::<f64>() / v.len().max(1) as f64, v.len())
    };
    let (mean_right, n_right) = mean(true);
    let (mean_wrong, n_wrong) = mean(false);
    println!(
        "confidence >= 0.95: {} verdicts, {:.3} right; mean confidence right {mean_right:.3} \
         ({n_right}), wrong {mean_wrong:.3} ({n_wrong})",
        sure.len(),
        accuracy
    );
    assert!(
        accuracy >= 0.95,
        "verdicts at >= 0.95 are right only {accuracy:.3}"
    );
    for o in &outcomes {
        let c = o.verdict.confidence;
        assert!((0.5..=1.0).contains(&c), "{}: confidence {c}", o.label.uid);
    }
    if n_wrong > 0 {
        assert!(
            mean_wrong < mean_right,
            "wrong verdicts are not less confident"
        );
    }
}

#[test]
fn every_corpus_reason_is_one_sentence_that_states_the_verdict() {
    let labels = labels();
    for o in judge_corpus(&labels) {
        let r = &o.verdict.reason;
        let prefix = if o.verdict.one_on_one {
            "1:1: "
        } else {
            "not a 1:1: "
        };
        assert!(r.starts_with(prefix), "{}: {r}", o.label.uid);
        assert!(!r.contains('\n') && r.len() < 400, "{}: {r}", o.label.uid);
    }
}

/// The corpus' 1:1s with a meeting bot invited are found, and their reason names the bot.
#[test]
fn corpus_one_on_ones_with_a_notetaker_say_so() {
    let labels = labels();
    let outcomes = judge_corpus(&labels);
    let bots: Vec<_> = outcomes
        .iter()
        .filter(|o| o.label.one_on_one && o.label.note.contains("notetaker"))
        .collect();
    assert!(bots.len() >= 4, "{} notetaker cases", bots.len());
    for o in bots {
        let r = &o.verdict.reason;
        assert!(o.verdict.one_on_one && o.verdict.has_notetaker(), "{r}");
        assert!(r.contains("notetaker"), "{}: {r}", o.label.uid);
    }
    let fred = outcomes
        .iter()
        .find(|o| o.label.note == "notetaker fred@fireflies.ai invited")
        .expect("the Fireflies case");
    assert!(
        fred.verdict
            .reason
            .contains("a notetaker (fred@fireflies.ai) is invited"),
        "{}",
        fred.verdict.reason
    );
}

#[test]
fn inspect_with_owner_prints_one_verdict_object_per_series() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/detect/google-sam.ics"
    );
    let out = crate::fixtures::run_cli(
        &[
            "inspect",
            file,
            "--owner",
            "sam@acme.io",
            "--json",
            "--count",
            "2",
            "--from",
            "2026-12-01",
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["summary"] == "1:1 Alice / Sam")
        .unwrap();
    assert_eq!(first["one_on_one"], true);
    assert_eq!(first["with"], "alice.martin@acme.io");
    assert!(first["reason"].as_str().unwrap().starts_with("1:1: weekly"));
    assert_eq!(first["next"].as_array().unwrap().len(), 2);
    assert!(first["uid"].is_string());
    let bad = crate::fixtures::run_cli(&["inspect", file, "--owner", "not-an-address"], &[]);
    assert!(!bad.status.success());
}
