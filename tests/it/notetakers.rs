//! Issue 27: a 1:1 with an AI notetaker invited is still a 1:1 (its reason names the bot), and
//! `agenda.when_notetaker = "skip"` writes nothing into it; the follow-ups say what the last
//! meeting closed ("(last time: 2 done)"). On Radicale and the Google test server, each on SQLite
//! and PostgreSQL.

use crate::fixtures::TestDb;
use crate::fixtures::backend::{Backend, CONNECTED, CalDav, Edit, Google, OneOnOne, Person, Slot};
use crate::fixtures::caldav_server::Kind;
use oneonone::agenda::START_MARKER;

/// The manager's own text in the Monday 1:1: never the daemon's to change.
const OWN: &str = "Our own notes: keep me.";

macro_rules! on_radicale_and_google {
    ($body:ident) => {
        mod $body {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn radicale_sqlite() {
                if let Some(b) = CalDav::start(Kind::Radicale).await {
                    super::$body(b).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn radicale_postgres() {
                let Some(db) = TestDb::postgres().await else {
                    return;
                };
                if let Some(b) = CalDav::start(Kind::Radicale).await {
                    super::$body(b.on_db(db)).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn google_sqlite() {
                super::$body(Google::on(TestDb::sqlite()).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn google_postgres() {
                let Some(db) = TestDb::postgres().await else {
                    return;
                };
                super::$body(Google::on(db).await).await;
            }
        }
    };
}

on_radicale_and_google!(a_notetaker_keeps_the_one_on_one_and_skip_writes_nothing);
on_radicale_and_google!(the_follow_ups_say_what_the_last_meeting_closed);

fn fred() -> Person {
    Person {
        name: "Fireflies.ai Notetaker".into(),
        email: "fred@fireflies.ai".into(),
    }
}

/// `series list --json --all`, the entry of `m`, as text.
async fn listed<B: Backend>(b: &B, m: &OneOnOne) -> String {
    crate::continuation::listed(b, &m.id).await.to_string()
}

async fn a_notetaker_keeps_the_one_on_one_and_skip_writes_nothing<B: Backend>(mut b: B) {
    let name = b.name();
    let monday = b.create(Slot::Monday, OWN).await;
    let tuesday = b.create(Slot::Tuesday, "").await;
    b.invite(&monday, &fred()).await;
    b.connect(CONNECTED).await;
    let (w0, t0) = (monday.slot.at(0), tuesday.slot.at(0));
    let before = b.description(&monday, &w0).await;

    let skip = [("ONEONONE__AGENDA__WHEN_NOTETAKER", "skip")];
    let out = b
        .cli_with(&["sync", "--once", "--now", CONNECTED], &skip)
        .await;
    assert!(out.status.success(), "{name}: {out:?}");
    assert_eq!(
        b.description(&monday, &w0).await,
        before,
        "{name}: an agenda was written into a 1:1 with a notetaker despite skip"
    );
    let other = b.description(&tuesday, &t0).await;
    assert!(other.contains(START_MARKER), "{name}: {other}");
    let entry = listed(&b, &monday).await;
    assert!(
        entry.contains("\"one_on_one\":true")
            && entry.contains("a notetaker (fred@fireflies.ai) is invited")
            && entry.contains("agenda.when_notetaker"),
        "{name}: {entry}"
    );

    // The default writes the agenda as usual, and the reason no longer says it is skipped.
    b.sync("2026-03-24T12:01:00Z").await;
    let d = b.description(&monday, &w0).await;
    assert!(d.contains(START_MARKER) && d.contains(OWN), "{name}: {d}");
    let entry = listed(&b, &monday).await;
    assert!(
        entry.contains("a notetaker (fred@fireflies.ai) is invited")
            && !entry.contains("when_notetaker"),
        "{name}: {entry}"
    );
    b.check();
}

async fn the_follow_ups_say_what_the_last_meeting_closed<B: Backend>(mut b: B) {
    let name = b.name();
    let monday = b.create(Slot::Monday, OWN).await;
    let tuesday = b.create(Slot::Tuesday, "").await;
    b.connect_and_start(CONNECTED).await;
    let with = monday.direct.email.clone();
    for topic in ["Budget review", "Hiring plan", "Offsite"] {
        b.cli_ok(&[
            "item",
            "add",
            "--with",
            &with,
            "--section",
            "manager",
            topic,
        ])
        .await;
    }
    b.sync("2026-03-24T12:01:00Z").await;
    let w0 = monday.slot.at(0);
    let first = b.description(&monday, &w0).await;
    assert!(first.contains("Budget review"), "{name}: {first}");
    assert!(!first.contains("last time"), "{name}: {first}");
    let ticks = [
        Edit::Replace("[ ] Budget review".into(), "[x] Budget review".into()),
        Edit::Replace("[ ] Hiring plan".into(), "[x] Hiring plan".into()),
    ];
    b.edit(&monday, &w0, &ticks).await;
    b.sync("2026-03-25T12:00:00Z").await;

    // Both meetings of week 0 are over: Monday's closed two items, Tuesday's nothing.
    b.sync("2026-03-31T12:00:00Z").await;
    let next = b.description(&monday, &monday.slot.at(1)).await;
    assert!(next.contains("(last time: 2 done)"), "{name}: {next}");
    assert!(
        next.contains("Offsite") && !next.contains("Hiring plan"),
        "{name}: {next}"
    );
    let quiet = b.description(&tuesday, &tuesday.slot.at(1)).await;
    assert!(quiet.contains(START_MARKER), "{name}: {quiet}");
    assert!(!quiet.contains("last time"), "{name}: {quiet}");
    b.check();
}
