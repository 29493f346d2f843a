//! Insights and private notes through the real binary: `report` golden outputs in its three
//! formats on a hand-built team history, `note add/list`, `history --include-private`, and the
//! aggregate gauges of `/metrics`. `team` is also the history of the web tests (`web_insights`).
//!
//! Golden files live in `tests/data/report/`. After a deliberate change to the report, regenerate
//! them with `UPDATE_GOLDEN=1 cargo test --test it insights::report` and review the diff.

use oneonone::store::{ItemSource, SeriesUpsert};

use crate::fixtures::team::{NOW, team};
use crate::fixtures::{Daemon, TestDb, base_env, cli_ok, get, run_cli, t};

fn golden(name: &str, actual: &str) {
    crate::fixtures::golden("tests/data/report", name, actual);
}

#[tokio::test]
async fn report_golden_outputs_in_three_formats() {
    let db = TestDb::sqlite();
    let keydir = tempfile::tempdir().unwrap();
    let store = db.store().await;
    team(&store).await;
    store.close().await;
    let env = base_env(&db, &keydir);
    for (format, ext) in [("text", "txt"), ("markdown", "md"), ("json", "json")] {
        let out = cli_ok(&env, &["report", "--now", NOW, "--format", format]);
        golden(&format!("team.{ext}"), &out);
    }
    let json: serde_json::Value =
        serde_json::from_str(&cli_ok(&env, &["report", "--now", NOW, "--format", "json"])).unwrap();
    assert_eq!(json["series_tracked"], 2, "the excluded series is left out");
    let out = cli_ok(&env, &["report", "--now", NOW, "--weeks", "4"]);
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
        let env = base_env(&db, &keydir);
        let with = ["--with", "alice@example.com"];
        let say = |args: &[&str]| cli_ok(&env, &[&["note", "add"], with.as_slice(), args].concat());
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

        let list = cli_ok(&env, &["note", "list", "--with", "alice@example.com"]);
        assert!(
            list.contains("2026-04-14  Seems tired; ask about the move"),
            "{list}"
        );
        assert!(
            list.contains("series      Wants to lead the Q3 project"),
            "{list}"
        );
        let json: serde_json::Value = serde_json::from_str(&cli_ok(
            &env,
            &["note", "list", "--with", "alice@example.com", "--json"],
        ))
        .unwrap();
        assert_eq!(json[1]["text"], "Raise: decide before May");

        for format in ["text", "markdown", "json"] {
            let plain = cli_ok(
                &env,
                &["history", "--with", "alice@example.com", "--format", format],
            );
            for secret in ["tired", "Raise", "Q3 project"] {
                assert!(
                    !plain.contains(secret),
                    "{format}: private note without the flag: {plain}"
                );
            }
            let full = cli_ok(
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
        let v: serde_json::Value = serde_json::from_str(&cli_ok(
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
        cli_ok(&env, &["secrets", "rotate"]);
        let after = store.list_private_notes(1).await.unwrap();
        assert_ne!(after[0].body, rows[0].body);
        let list = cli_ok(&env, &["note", "list", "--with", "alice@example.com"]);
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
                cadence: None,
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
    let env = base_env(&db, &keydir);
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
        let out = cli_ok(&env, args);
        assert!(raw_controls(&out).is_empty(), "{args:?}: {out:?}");
        assert!(out.contains("\\u{1b}"), "{args:?} shows the title: {out}");
    }
    // JSON stays JSON, with the text as it is.
    let json: serde_json::Value =
        serde_json::from_str(&cli_ok(&env, &["report", "--now", NOW, "--format", "json"])).unwrap();
    assert!(json.to_string().contains("\\u001b[2J"), "{json}");
    let list: serde_json::Value =
        serde_json::from_str(&cli_ok(&env, &["series", "list", "--json"])).unwrap();
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
    let s =
        crate::fixtures::caldav::Setup::new(crate::fixtures::caldav_server::Kind::Radicale).await;
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
