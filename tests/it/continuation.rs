//! A 1:1 survives a new series (issue 24): the manager deletes the recurring 1:1 and makes a new
//! one with the same direct at another time; the next pass links them, the new series' first
//! agenda carries the open items, and the history reads on through the old meetings.
//! `series split` undoes it and detection leaves the pair apart; `series continue` links it
//! again by hand. A new series with another direct, or a different cadence, is not linked. On
//! Radicale and the Google test server, each on SQLite and PostgreSQL.

use oneonone::store::Store;
use serde_json::Value;

use crate::fixtures::backend::{Backend, CONNECTED, CalDav, Google, Person, Slot};
use crate::fixtures::caldav_server::Kind;
use crate::fixtures::{TestDb, services};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn radicale_sqlite() {
    if let Some(b) = CalDav::start(Kind::Radicale).await {
        a_recreated_one_on_one_continues_until_split(b).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn radicale_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    if let Some(b) = CalDav::start(Kind::Radicale).await {
        a_recreated_one_on_one_continues_until_split(b.on_db(db)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_sqlite() {
    a_recreated_one_on_one_continues_until_split(Google::on(TestDb::sqlite()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    a_recreated_one_on_one_continues_until_split(Google::on(db).await).await;
}

/// `series list --json`, the entry whose UID starts with `uid`.
pub(crate) async fn listed<B: Backend>(b: &B, uid: &str) -> Value {
    let out = b.cli_ok(&["series", "list", "--json", "--all"]).await;
    let all: Value = serde_json::from_str(&out).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .find(|s| s["uid"].as_str().unwrap().starts_with(uid))
        .unwrap_or_else(|| panic!("no series {uid} in {out}"))
        .clone()
}

/// A direct neither slot's 1:1 is with.
fn erin() -> Person {
    Person {
        name: "Erin".into(),
        email: "erin@example.com".into(),
    }
}

async fn open_items(store: &Store, series: i64) -> Vec<String> {
    let items = store.list_items(series, true).await.unwrap();
    items.into_iter().map(|i| i.text).collect()
}

async fn a_recreated_one_on_one_continues_until_split<B: Backend>(mut b: B) {
    let name = format!("{} on {}", b.name(), b.db().kind);
    let old = b.create(Slot::Monday, "").await;
    let with = old.direct.email.clone();
    b.connect_and_start(CONNECTED).await;
    for (section, text) in [("manager", "Budget review"), ("direct", "Vacation in May")] {
        b.cli_ok(&["item", "add", "--with", &with, "--section", section, text])
            .await;
    }
    b.sync("2026-03-25T12:00:00Z").await;
    // Monday 30 March: "Budget review" is ticked in the meeting, which then closes.
    let w0 = old.slot.at(0);
    let tick = crate::fixtures::backend::Edit::Replace(
        "[ ] Budget review".into(),
        "[x] Budget review".into(),
    );
    b.edit(&old, &w0, &[tick]).await;
    b.sync("2026-03-31T12:00:00Z").await;
    let old_id = listed(&b, &old.id).await["id"].as_i64().unwrap();

    // The manager deletes the Monday series and makes a Thursday one with the same direct;
    // also a weekly one with someone else and one every 4 weeks with the same direct.
    b.delete(&old).await;
    let direct = old.direct.clone();
    let new = b
        .create_series(
            "again11",
            Slot::Monday,
            "2026-04-02T14:00:00",
            "FREQ=WEEKLY",
            &direct,
            "",
        )
        .await;
    let erin = erin();
    let other = b
        .create_series(
            "erin11",
            Slot::Tuesday,
            "2026-04-03T09:00:00",
            "FREQ=WEEKLY",
            &erin,
            "",
        )
        .await;
    let sparse = b
        .create_series(
            "fourth11",
            Slot::Tuesday,
            "2026-04-03T16:00:00",
            "FREQ=WEEKLY;INTERVAL=4",
            &direct,
            "",
        )
        .await;
    b.sync("2026-04-01T12:00:00Z").await;

    let linked = listed(&b, &new.id).await;
    let new_id = linked["id"].as_i64().unwrap();
    assert_eq!(linked["continues"], old_id, "{name}: {linked}");
    let reason = linked["continues_reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!("continues series {old_id} (")),
        "{name}: {reason}"
    );
    assert!(
        reason.contains("deleted from the calendar by 2026-04-01): same two people, weekly"),
        "{name}: {reason}"
    );
    assert_eq!(listed(&b, &old.id).await["continued_by"], new_id, "{name}");
    for (m, why) in [(&other, "another direct"), (&sparse, "every 4 weeks")] {
        let s = listed(&b, &m.id).await;
        assert_eq!(s["continues"], Value::Null, "{name}: {why}: {s}");
        assert_eq!(s["one_on_one"], true, "{name}: {why}: {s}");
    }
    let text = b.cli_ok(&["series", "list"]).await;
    assert!(
        text.contains(&format!("undo: `oneonone series split {new_id}`")),
        "{name}: {text}"
    );

    // The new series' first agenda carries the open item, not the one ticked.
    let first = "2026-04-02T12:00:00Z";
    let d = b.description(&new, first).await;
    assert!(d.contains("Vacation in May"), "{name}:\n{d}");
    assert!(!d.contains("Budget review"), "{name}:\n{d}");

    // One 1:1 with the direct: its history has the old meeting and the tick.
    b.cli_ok(&[
        "series",
        "exclude",
        &listed(&b, &sparse.id).await["id"].to_string(),
    ])
    .await;
    let history = b.cli_ok(&["history", "--with", &with]).await;
    assert!(
        history.contains(&format!("This 1:1 continues series {old_id}")),
        "{name}: {history}"
    );
    assert!(history.contains("2026-03-30 10:00"), "{name}: {history}");
    assert!(history.contains("done: Budget review"), "{name}: {history}");
    let store = services(b.env()).await.store;
    assert_eq!(open_items(&store, new_id).await, ["Vacation in May"]);

    // Split: the item goes back, the history is the new series' own, and the next pass
    // neither links them again nor shows the item in the new agenda.
    let split = b.cli_ok(&["series", "split", &new_id.to_string()]).await;
    assert!(
        split.contains(&format!("no longer continues series {old_id} (")),
        "{name}: {split}"
    );
    assert!(
        split.contains(&format!("1 open item went back to series {old_id}")),
        "{name}: {split}"
    );
    assert!(
        split.contains(&format!(
            "`oneonone series continue {new_id} --from {old_id}`"
        )),
        "{name}: {split}"
    );
    assert_eq!(open_items(&store, old_id).await, ["Vacation in May"]);
    assert!(open_items(&store, new_id).await.is_empty());
    b.sync("2026-04-01T13:00:00Z").await;
    assert_eq!(
        listed(&b, &new.id).await["continues"],
        Value::Null,
        "{name}"
    );
    let d = b.description(&new, first).await;
    assert!(!d.contains("Vacation in May"), "{name}:\n{d}");
    let again = b.cli(&["series", "split", &new_id.to_string()]).await;
    assert!(!again.status.success(), "{name}");
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("nothing to split"), "{name}: {err}");

    // Linked again by hand: the item comes back into the next agenda.
    let out = b
        .cli_ok(&[
            "series",
            "continue",
            &new_id.to_string(),
            "--from",
            &old_id.to_string(),
        ])
        .await;
    assert!(out.contains("linked by hand"), "{name}: {out}");
    b.sync("2026-04-01T14:00:00Z").await;
    let d = b.description(&new, first).await;
    assert!(d.contains("Vacation in May"), "{name}:\n{d}");
    store.close().await;
    b.check();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_rule_radicale_sqlite() {
    if let Some(b) = CalDav::start(Kind::Radicale).await {
        a_series_split_by_its_rule_continues_unless_they_ran_side_by_side(b).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_rule_google_postgres() {
    let db = TestDb::postgres().await.unwrap_or_else(TestDb::sqlite);
    a_series_split_by_its_rule_continues_unless_they_ran_side_by_side(Google::on(db).await).await;
}

/// "This and following" in a calendar client ends the series by its rule (UNTIL) and starts a
/// new one: found on the very first import, the new one continues the ended one. A series that
/// ended while a new one already ran (two 1:1s side by side) is not continued.
async fn a_series_split_by_its_rule_continues_unless_they_ran_side_by_side<B: Backend>(mut b: B) {
    let name = format!("{} on {}", b.name(), b.db().kind);
    let (_, direct) = b.slot_series(Slot::Monday);
    let until = "FREQ=WEEKLY;UNTIL=20260316T090000Z";
    let before = b
        .create_series(
            "until11",
            Slot::Monday,
            "2026-03-02T10:00:00",
            until,
            &direct,
            "",
        )
        .await;
    let after = b
        .create_series(
            "split11",
            Slot::Monday,
            "2026-03-19T10:00:00",
            "FREQ=WEEKLY",
            &direct,
            "",
        )
        .await;
    let erin = erin();
    b.create_series(
        "erin11",
        Slot::Tuesday,
        "2026-03-02T09:00:00",
        until,
        &erin,
        "",
    )
    .await;
    let side = b
        .create_series(
            "erin22",
            Slot::Tuesday,
            "2026-02-26T09:00:00",
            "FREQ=WEEKLY",
            &erin,
            "",
        )
        .await;
    b.connect_and_start(CONNECTED).await;
    let old_id = listed(&b, &before.id).await["id"].as_i64().unwrap();
    let linked = listed(&b, &after.id).await;
    assert_eq!(linked["continues"], old_id, "{name}: {linked}");
    let reason = linked["continues_reason"].as_str().unwrap();
    assert!(
        reason.contains("ended 2026-03-16): same two people, weekly"),
        "{name}: {reason}"
    );
    let apart = listed(&b, &side.id).await;
    assert_eq!(apart["continues"], Value::Null, "{name}: {apart}");
    b.check();
}
