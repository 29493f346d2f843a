//! The record of a 1:1 on a real Radicale, through every export (issue 22): a line a person
//! deletes from the invite is dropped and the history says so (text, which section, when), as
//! does an item dropped from the command line; meeting times read in the event's own zone
//! (Europe/Berlin, across the March DST change); a meeting with nothing ticked or typed "took
//! place (no notes)", and a person's word (CLI, API, web) wins.

use reqwest::StatusCode;
use serde_json::Value;

use crate::fixtures::Daemon;
use crate::fixtures::caldav::{ALICE, Setup, series_with_uid};
use crate::fixtures::caldav_server::Kind;
use crate::fixtures::web::{Browser, TOKEN, csrf_of};

/// The 23 March meeting (10:00 CET = 09:00 UTC), the last before the DST change.
const M1: &str = "2026-03-23T09:00:00Z";

fn history(s: &Setup, format: &str) -> String {
    s.cli_ok(&["history", "--with", "alice@example.com", "--format", format])
}

/// The meeting of the history JSON that starts at `at` (RFC 3339 with its offset).
fn meeting<'a>(h: &'a Value, at: &str) -> &'a Value {
    h["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["at"] == at)
        .unwrap_or_else(|| panic!("no meeting at {at} in {h:#}"))
}

/// Items added from the CLI; returns the id of each.
/// Alice's 1:1 in the JSON report of 31 March.
fn report_on_alice(s: &Setup) -> Value {
    let report: Value = serde_json::from_str(&s.cli_ok(&[
        "report",
        "--now",
        "2026-03-31T12:00:00Z",
        "--format",
        "json",
    ]))
    .unwrap();
    report["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["with"] == "alice@example.com")
        .unwrap()
        .clone()
}

fn add_items(s: &Setup, texts: &[&str]) -> Vec<i64> {
    for t in texts {
        s.cli_ok(&[
            "item",
            "add",
            "--with",
            "alice@example.com",
            "--section",
            "manager",
            t,
        ]);
    }
    let list: Value =
        serde_json::from_str(&s.cli_ok(&["item", "list", "--with", "alice@example.com", "--json"]))
            .unwrap();
    texts
        .iter()
        .map(|t| {
            list.as_array()
                .unwrap()
                .iter()
                .find(|i| i["text"] == *t)
                .and_then(|i| i["id"].as_i64())
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn dropped_items_local_times_and_the_held_rule_show_in_every_export() {
    let s = Setup::new(Kind::Radicale).await;
    s.connect_ok("2026-03-17T12:00:00Z");
    let ids = add_items(&s, &["Budget review", "Team offsite"]);
    s.sync("2026-03-17T12:00:00Z");
    let uid = s.uid("weekly-alice");

    // Alice deletes the "Budget review" line from the 23 March invite; Sam drops the offsite
    // from the command line. Both while the 23 March meeting is the next one.
    s.user_edit(ALICE, &uid, M1, |d| {
        d.split('\n')
            .filter(|l| !l.contains("Budget review"))
            .collect::<Vec<_>>()
            .join("\n")
    })
    .await;
    s.sync("2026-03-19T12:00:00Z");
    let dropped = s.cli_ok(&[
        "item",
        "drop",
        &ids[1].to_string(),
        "--now",
        "2026-03-20T15:30:00Z",
    ]);
    assert!(dropped.contains("is dropped"), "{dropped}");
    // 23 March closes; nothing is typed into the 30 March invite; 30 March closes.
    s.sync("2026-03-24T09:00:00Z");
    s.sync("2026-03-31T09:00:00Z");

    // Text: times in Berlin, on both sides of the DST change; the two drops with how and when.
    let text = history(&s, "text");
    for want in [
        "times in Europe/Berlin",
        "2026-03-23 10:00 CET  held",
        "    dropped: Budget review (manager's topic, 2026-03-19 13:00, deleted from the invite)",
        "    dropped: Team offsite (manager's topic, 2026-03-20 16:30, from the command line)",
        "2026-03-30 10:00 CEST  took place (no notes)",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    assert!(!text.contains("UTC"), "{text}");
    // Markdown.
    let md = history(&s, "markdown");
    for want in [
        "## 2026-03-23 10:00 CET (held)",
        "- dropped: Budget review (manager's topic, 2026-03-19 13:00, deleted from the invite)",
        "## 2026-03-30 10:00 CEST (took place (no notes))",
    ] {
        assert!(md.contains(want), "{want:?} missing:\n{md}");
    }
    // JSON: RFC 3339 with the zone's offset, and each drop with its section, time and way.
    let json: Value = serde_json::from_str(&history(&s, "json")).unwrap();
    assert_eq!(json["timezone"], "Europe/Berlin");
    let first = meeting(&json, "2026-03-23T10:00:00+01:00");
    assert_eq!(first["status"], "held", "{first:#}");
    let drops = first["dropped"].as_array().unwrap();
    assert_eq!(drops.len(), 2, "{first:#}");
    assert_eq!(
        (
            &drops[0]["text"],
            &drops[0]["section"],
            &drops[0]["at"],
            &drops[0]["via"]
        ),
        (
            &Value::from("Budget review"),
            &Value::from("manager"),
            &Value::from("2026-03-19T13:00:00+01:00"),
            &Value::from("calendar")
        )
    );
    assert_eq!(drops[1]["via"], "cli");
    assert_eq!(drops[1]["at"], "2026-03-20T16:30:00+01:00");
    let second = meeting(&json, "2026-03-30T10:00:00+02:00");
    assert_eq!(second["status"], "no_notes", "{second:#}");
    assert_eq!(second["date"], "2026-03-30 10:00 CEST");

    // The report: the last held meeting in Berlin time, the no-notes meeting counted apart.
    let alice = report_on_alice(&s);
    assert_eq!(alice["last_held"], "2026-03-23T10:00:00+01:00", "{alice:#}");
    assert_eq!(alice["windows"][0]["took_place_no_notes"], 1, "{alice:#}");
    let report_text = s.cli_ok(&["report", "--now", "2026-03-31T12:00:00Z"]);
    assert!(
        report_text.contains("last held 2026-03-23"),
        "{report_text}"
    );

    // The API and the web page, from a daemon whose clock stands after the last pass.
    let env = s.env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("ONEONONE__SERVER__ADMIN_TOKEN", TOKEN));
    env.push(("ONEONONE__SYNC__INTERVAL_SECS", "3600"));
    let d = Daemon::spawn_with(&s.db.url, &["--now", "2026-03-31T12:00:00Z"], &env);
    let store = s.db.store().await;
    let series = series_with_uid(&store, "weekly-alice").await;
    store.close().await;
    let api: Value = reqwest::Client::new()
        .get(d.url(&format!("/api/v1/series/{}/history", series.id)))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        api, json,
        "the API gives what `history --format json` gives"
    );

    let mut b = Browser::new(&d);
    assert_eq!(b.sign_in(TOKEN).await.0, StatusCode::SEE_OTHER);
    let path = format!("/series/{}", series.id);
    let (code, page) = b.get(&path).await;
    assert_eq!(code, StatusCode::OK, "{page}");
    for want in [
        "2026-03-23 10:00 CET",
        "dropped: Budget review (manager's topic, 2026-03-19 13:00, deleted from the invite)",
        "dropped: Team offsite (manager's topic, 2026-03-20 16:30, from the command line)",
        "2026-03-30 10:00 CEST",
        "took place (no notes)",
    ] {
        assert!(page.contains(want), "{want:?} missing:\n{page}");
    }
    assert!(!page.contains(" UTC</time>"), "{page}");

    // Sam says the 30 March meeting did take place, from the web page (CSRF checked).
    let occurrence = second["occurrence_id"].as_i64().unwrap();
    assert!(
        page.contains(&format!("id=\"held-{occurrence}\"")),
        "no \"It took place\" button: {page}"
    );
    let mark = format!("{path}/meetings/{occurrence}/mark");
    let refused = b
        .post(&mark, &[("csrf", "not-the-token"), ("mark", "held")])
        .await;
    assert_eq!(refused.0, StatusCode::FORBIDDEN);
    let csrf = csrf_of(&page);
    let (code, location, _) = b
        .post(&mark, &[("csrf", csrf.as_str()), ("mark", "held")])
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert_eq!(
        location.as_deref(),
        Some(format!("{path}#meeting-{occurrence}").as_str())
    );
    let json: Value = serde_json::from_str(&history(&s, "json")).unwrap();
    let second = meeting(&json, "2026-03-30T10:00:00+02:00");
    assert_eq!(
        (&second["status"], &second["marked_via"]),
        (&Value::from("held"), &Value::from("web"))
    );
    // And from the command line that the 23 March one did not, whatever was dropped in it.
    let said = s.cli_ok(&[
        "meeting",
        "skipped",
        "--with",
        "alice@example.com",
        "--date",
        "2026-03-23",
        "--now",
        "2026-03-31T12:00:00Z",
    ]);
    assert!(said.contains("2026-03-23 10:00 CET"), "{said}");
    let text = history(&s, "text");
    assert!(
        text.contains("2026-03-23 10:00 CET  skipped, marked from cli"),
        "{text}"
    );
    let alice = report_on_alice(&s);
    assert_eq!(alice["last_held"], "2026-03-30T10:00:00+02:00", "{alice:#}");
    assert_eq!(alice["windows"][0]["took_place_no_notes"], 0, "{alice:#}");
}
