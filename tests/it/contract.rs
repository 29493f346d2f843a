//! The contract suite: each guarantee of DESIGN.md that a calendar server can break (1, 2, 3, 7,
//! 9, 10, 11) is one test body, written once against `fixtures::backend::Backend` and run on
//! every backend: Radicale, Xandikos, sabre/dav 1.8 with Digest and without sync-collection, and
//! the Google test server in every run, DAViCal, Cyrus and SOGo (`interop_*`) when
//! `scripts/interop` names them. A body drives the daemon only as a person
//! does (the binary) and checks the server's side as the people in the 1:1 would see it.

use oneonone::agenda::START_MARKER;
use oneonone::store::{Revision, SeriesRow, Store};

use crate::fixtures::backend::{Backend, CONNECTED, CalDav, Edit, Google, OneOnOne, Slot};
use crate::fixtures::caldav::series_with_uid;
use crate::fixtures::caldav_server::Kind;
use crate::fixtures::{agenda_step_only, services, t};

/// The manager's own text in the Monday 1:1 (a link, a room): never the daemon's to change.
const OWN: &str = "Our own notes: keep me.";

/// One guarantee's test on one backend; it says it was skipped where the run has no such server.
macro_rules! on_backend {
    ($guarantee:ident, $test:ident, $start:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            if let Some(b) = $start.await {
                super::$guarantee(b).await;
            }
        }
    };
}

/// Each guarantee as a module of tests, one per backend, all running the same body.
macro_rules! on_every_backend {
    ($($guarantee:ident),* $(,)?) => {$(
        mod $guarantee {
            use super::*;

            on_backend!($guarantee, radicale, CalDav::start(Kind::Radicale));
            on_backend!($guarantee, xandikos, CalDav::start(Kind::Xandikos));
            on_backend!($guarantee, google, Google::start());
            on_backend!($guarantee, interop_davical, CalDav::start(Kind::Davical));
            on_backend!($guarantee, interop_cyrus, CalDav::start(Kind::Cyrus));
            on_backend!($guarantee, sabre_digest, CalDav::start(Kind::SabreDigest));
            on_backend!($guarantee, interop_sogo, CalDav::start(Kind::Sogo));
        }
    )*};
}

on_every_backend!(
    g1_user_text_survives_a_concurrent_edit,
    g2_passes_are_idempotent_and_a_crash_converges,
    g3_every_write_can_be_undone_from_its_revision,
    g7_an_empty_or_failing_calendar_is_not_taken_for_deleted_meetings,
    g9_writes_are_capped_previewed_and_never_touch_an_opted_out_invite,
    g10_writing_an_agenda_notifies_no_attendee,
    g11_private_notes_never_reach_a_description,
);

/// How many agenda blocks a description holds.
fn blocks(description: &str) -> usize {
    description.matches(START_MARKER).count()
}

async fn series_of(store: &Store, m: &OneOnOne) -> SeriesRow {
    series_with_uid(store, &m.id).await
}

/// The topic `text` queued for `m` from the command line, in `section` (direct, manager).
async fn add_topic<B: Backend>(b: &B, m: &OneOnOne, section: &str, text: &str) {
    let with = m.direct.email.as_str();
    b.cli_ok(&["item", "add", "--with", with, "--section", section, text])
        .await;
}

/// Guarantee 1: an edit a person makes while the daemon writes is merged, not overwritten: once
/// when the daemon's copy is stale (its write meets the newer version: 412, re-read, merge,
/// retry), once when the edit lands between the read and the write of a whole pass. The text
/// outside the block stays as it was, byte for byte, in its place.
async fn g1_user_text_survives_a_concurrent_edit<B: Backend>(mut b: B) {
    let name = b.name();
    let m = b.create(Slot::Monday, OWN).await;
    let w1 = m.slot.at(0);
    b.connect_and_start(CONNECTED).await;

    // The manager queues a topic (the agenda must change) and the direct edits the invite after
    // the daemon last read it: a line in the block, a line of their own after it.
    add_topic(&b, &m, "manager", "Team offsite plans").await;
    let vacation = Edit::LineUnder("15 minutes for you", "- [ ] Vacation in May".into());
    let ps = Edit::Append("PS: room 4.2".into());
    b.edit(&m, &w1, &[vacation, ps]).await;
    let services = services(b.env()).await;
    let account = services.store.get_account(1).await.unwrap();
    let stats = agenda_step_only(&services, &account, t("2026-03-25T12:00:00Z")).await;
    assert!(stats.conflicts >= 1, "{name}: no conflict met: {stats:?}");
    let d = b.description(&m, &w1).await;
    for want in ["Vacation in May", "Team offsite plans"] {
        assert!(d.contains(want), "{name}: {want:?} lost:\n{d}");
    }
    assert!(d.starts_with(OWN), "{name}: {d}");
    assert!(d.ends_with("PS: room 4.2"), "{name}: {d}");
    assert_eq!(blocks(&d), 1, "{name}: {d}");

    // The direct edits again between a pass's read and its write.
    add_topic(&b, &m, "manager", "Budget review").await;
    let leave = Edit::LineUnder("15 minutes for you", "- [ ] Parental leave".into());
    let edits = vec![leave, Edit::Append("PS2".into())];
    b.edit_before_next_write(&m, &w1, edits).await;
    b.sync("2026-03-25T13:00:00Z").await;
    let run = services.store.recent_runs(1).await.unwrap().remove(0);
    assert!(
        run.stats.conflicts >= 1,
        "{name}: the edit did not land between read and write: {run:?}"
    );
    let d = b.description(&m, &w1).await;
    for want in [
        "Vacation in May",
        "Parental leave",
        "Team offsite plans",
        "Budget review",
    ] {
        assert!(d.contains(want), "{name}: {want:?} lost:\n{d}");
    }
    assert!(d.starts_with(OWN), "{name}: {d}");
    assert!(d.ends_with("PS2"), "{name}: {d}");
    assert_eq!(blocks(&d), 1, "{name}: {d}");
    services.store.close().await;
    b.check();
}

/// Guarantee 2: a pass with nothing new writes nothing and changes nothing on the server; a
/// crash after a write reached the server and before the database recorded it (the database
/// loses the whole pass) ends, at the next passes, with one agenda holding the topic once, and
/// then nothing more to write.
async fn g2_passes_are_idempotent_and_a_crash_converges<B: Backend>(mut b: B) {
    let name = b.name();
    let m = b.create(Slot::Monday, OWN).await;
    let w1 = m.slot.at(0);
    b.connect_and_start(CONNECTED).await;
    let d = b.description(&m, &w1).await;
    assert_eq!(blocks(&d), 1, "{name}: {d}");

    let (contents, writes) = (b.contents().await, b.writes());
    for now in ["2026-03-24T12:05:00Z", "2026-03-24T12:10:00Z"] {
        b.sync(now).await;
    }
    assert_eq!(b.writes(), writes, "{name}: an idle pass wrote");
    assert_eq!(
        b.contents().await,
        contents,
        "{name}: an idle pass changed the calendar"
    );

    add_topic(&b, &m, "manager", "Budget review").await;
    let before_pass = b.db().snapshot();
    b.sync("2026-03-24T12:15:00Z").await;
    assert!(b.writes() > writes, "{name}: the topic was not written");
    b.db().roll_back(&before_pass);
    b.sync("2026-03-24T12:20:00Z").await;
    let settled = b.writes();
    b.sync("2026-03-24T12:25:00Z").await;
    assert_eq!(
        b.writes(),
        settled,
        "{name}: still writing after the restart"
    );

    let d = b.description(&m, &w1).await;
    assert_eq!(blocks(&d), 1, "{name}: {d}");
    assert_eq!(d.matches("Budget review").count(), 1, "{name}: {d}");
    assert!(d.starts_with(OWN), "{name}: {d}");
    let store = b.db().store().await;
    let series = series_of(&store, &m).await;
    let open: Vec<String> = store
        .list_items(series.id, true)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.text)
        .collect();
    assert_eq!(open, ["Budget review"], "{name}");
    store.close().await;
    b.check();
}

/// Guarantee 3: every write is in `description_revisions` with what it replaced and what it
/// wrote, as the server held them (a person's edit in between included); restoring the
/// revisions, newest first, puts each description back, down to the person's own text byte for
/// byte.
async fn g3_every_write_can_be_undone_from_its_revision<B: Backend>(mut b: B) {
    let name = b.name();
    let m = b.create(Slot::Monday, OWN).await;
    let w1 = m.slot.at(0);
    b.connect(CONNECTED).await;
    let store = b.db().store().await;
    let mut written = Vec::new();
    for (k, topic) in ["", "Budget review", "Hiring plan"].into_iter().enumerate() {
        if k == 2 {
            let career = Edit::LineUnder("15 minutes for you", "- [ ] Career growth".into());
            b.edit(&m, &w1, &[career]).await;
        }
        if !topic.is_empty() {
            add_topic(&b, &m, "manager", topic).await;
        }
        let before = b.description(&m, &w1).await;
        b.sync(&format!("2026-03-24T12:0{k}:00Z")).await;
        let after = b.description(&m, &w1).await;
        let series = series_of(&store, &m).await;
        let newest = store
            .list_revisions(Some(series.id))
            .await
            .unwrap()
            .remove(0);
        assert!(
            !written.iter().any(|r: &Revision| r.id == newest.id),
            "{name}: write {k} has no revision"
        );
        assert_eq!(
            newest.description_before.as_deref(),
            Some(before.as_str()),
            "{name}"
        );
        assert_eq!(newest.description_after, after, "{name}");
        written.push(newest);
    }
    for (k, r) in written.iter().rev().enumerate() {
        let now = format!("2026-03-24T13:{k:02}:00Z");
        b.cli_ok(&["restore", &r.id.to_string(), "--now", &now])
            .await;
        assert_eq!(
            Some(b.description(&m, &w1).await),
            r.description_before,
            "{name}: restoring revision {}",
            r.id
        );
    }
    assert_eq!(b.description(&m, &w1).await, OWN, "{name}");
    store.close().await;
    b.check();
}

/// What the database knows of the calendar and of a 1:1's past: the events it holds, the series,
/// the meetings, the items and the exported history.
async fn record<B: Backend>(b: &B, store: &Store, m: &OneOnOne) -> String {
    let mut events = Vec::new();
    for cal in store.list_calendars(1).await.unwrap() {
        let mut etags = store.event_etags(cal.id).await.unwrap();
        etags.sort();
        events.push(etags);
    }
    let series: Vec<String> = store
        .list_series()
        .await
        .unwrap()
        .into_iter()
        .map(|s| format!("{} {} {} {:?}", s.id, s.uid, s.one_on_one, s.override_))
        .collect();
    let id = series_of(store, m).await.id;
    let occurrences = store.list_occurrences(id).await.unwrap();
    let items = store.list_items(id, false).await.unwrap();
    let with = m.direct.email.as_str();
    let history = b
        .cli_ok(&["history", "--with", with, "--format", "json"])
        .await;
    format!("{events:#?}\n{series:#?}\n{occurrences:#?}\n{items:#?}\n{history}")
}

/// Guarantee 7: a week on, when the meeting with the agenda is over and would be closed, the
/// calendar's listing comes back empty, then every request fails: neither pass drops an event it
/// knows, closes a meeting, drops an item or changes the history. Once the calendar answers again, the same pass closes
/// the meeting and carries its topic. (The Tuesday 1:1: its direct is no user of a scheduling
/// server, and DAViCal refuses to take back a resource whose override has a local attendee.)
async fn g7_an_empty_or_failing_calendar_is_not_taken_for_deleted_meetings<B: Backend>(mut b: B) {
    let name = b.name();
    let m = b.create(Slot::Tuesday, OWN).await;
    b.connect_and_start(CONNECTED).await;
    add_topic(&b, &m, "manager", "Budget review").await;
    b.sync("2026-03-24T12:05:00Z").await;
    let store = b.db().store().await;
    let before = record(&b, &store, &m).await;

    let week_on = "2026-03-31T09:00:00Z";
    b.list_empty(true).await;
    b.cli(&["sync", "--once", "--now", week_on]).await;
    b.list_empty(false).await;
    assert_eq!(
        record(&b, &store, &m).await,
        before,
        "{name}: a calendar that came back empty was believed"
    );
    b.fail_requests(true);
    b.cli(&["sync", "--once", "--now", week_on]).await;
    b.fail_requests(false);
    assert_eq!(
        record(&b, &store, &m).await,
        before,
        "{name}: a failing calendar was believed"
    );

    b.sync(week_on).await;
    let series = series_of(&store, &m).await;
    let occurrences = store.list_occurrences(series.id).await.unwrap();
    let w1 = occurrences
        .iter()
        .find(|o| o.original_start == t(&m.slot.at(0)))
        .unwrap_or_else(|| panic!("{name}: no meeting of {}: {occurrences:?}", m.slot.at(0)));
    assert!(w1.closed_at.is_some(), "{name}: not closed: {w1:?}");
    let d2 = b.description(&m, &m.slot.at(1)).await;
    assert!(d2.contains("Budget review"), "{name}: not carried:\n{d2}");
    store.close().await;
    b.check();
}

/// Guarantee 9: a dry run prints what it would write and changes nothing on the server; with
/// `sync.max_writes_per_pass = 1` a pass writes one description, and the next the other; an
/// invite where a person typed `#no-agenda` outside the block is never written again.
async fn g9_writes_are_capped_previewed_and_never_touch_an_opted_out_invite<B: Backend>(mut b: B) {
    let name = b.name();
    let monday = b.create(Slot::Monday, OWN).await;
    let tuesday = b.create(Slot::Tuesday, "").await;
    b.connect(CONNECTED).await;
    add_topic(&b, &monday, "manager", "Budget review").await;

    let (contents, writes) = (b.contents().await, b.writes());
    let dry = b
        .cli_ok(&["sync", "--once", "--dry-run", "--now", CONNECTED])
        .await;
    assert!(
        dry.contains("would write") && dry.contains("Budget review"),
        "{name}: {dry}"
    );
    assert_eq!(b.writes(), writes, "{name}: a dry run wrote");
    assert_eq!(
        b.contents().await,
        contents,
        "{name}: a dry run changed the calendar"
    );

    let store = b.db().store().await;
    let cap = [("ONEONONE__SYNC__MAX_WRITES_PER_PASS", "1")];
    for (now, expected) in [
        (CONNECTED, 1),
        ("2026-03-24T12:01:00Z", 1),
        ("2026-03-24T12:02:00Z", 0),
    ] {
        let out = b.cli_with(&["sync", "--once", "--now", now], &cap).await;
        assert!(out.status.success(), "{name}: {out:?}");
        let run = store.recent_runs(1).await.unwrap().remove(0);
        assert_eq!(run.stats.writes, expected, "{name}: pass at {now}: {run:?}");
    }
    for (m, at) in [(&monday, monday.slot.at(0)), (&tuesday, tuesday.slot.at(0))] {
        let d = b.description(m, &at).await;
        assert_eq!(blocks(&d), 1, "{name}: {} at {at}: {d}", m.id);
    }

    let w1 = monday.slot.at(0);
    let opt_out = Edit::Replace(OWN.into(), format!("{OWN} #no-agenda"));
    b.edit(&monday, &w1, &[opt_out]).await;
    let kept = b.description(&monday, &w1).await;
    add_topic(&b, &monday, "manager", "Hiring plan").await;
    b.sync("2026-03-24T12:03:00Z").await;
    b.sync("2026-03-25T12:00:00Z").await;
    assert_eq!(
        b.description(&monday, &w1).await,
        kept,
        "{name}: an opted-out invite was written"
    );
    store.close().await;
    b.check();
}

/// Guarantee 10: the agenda writes of two weeks (the first ones, a rewrite for a new topic and
/// for the direct's own edit, the next week's) notify no attendee: Google is told
/// `sendUpdates=none`; on CalDAV the series itself and its SEQUENCE stay as they were (what a
/// scheduling server would send on), and a scheduling server's user who is the direct finds
/// nothing new in their scheduling inbox.
async fn g10_writing_an_agenda_notifies_no_attendee<B: Backend>(mut b: B) {
    let name = b.name();
    let monday = b.create(Slot::Monday, OWN).await;
    b.create(Slot::Tuesday, "").await;
    b.connect(CONNECTED).await;
    // What creating the series sent (a scheduling server's invitations).
    let before = b.notices().await;
    eprintln!("{name}: creating the 1:1s told the attendees: {before:?}");
    let writes = b.writes();

    b.sync(CONNECTED).await;
    add_topic(&b, &monday, "manager", "Budget review").await;
    b.sync("2026-03-24T12:05:00Z").await;
    let career = Edit::LineUnder("15 minutes for you", "- [ ] Career growth".into());
    b.edit(&monday, &monday.slot.at(0), &[career]).await;
    b.sync("2026-03-25T12:00:00Z").await;
    b.sync("2026-03-31T09:00:00Z").await;
    let d2 = b.description(&monday, &monday.slot.at(1)).await;
    assert!(d2.contains("Career growth"), "{name}: {d2}");
    assert!(b.writes() >= writes + 4, "{name}: the passes did not write");
    assert_eq!(b.notices().await, before, "{name}: a write notified");
    b.check();
}

/// Guarantee 11: four weeks of passes with private notes added before each (on the series and on
/// a meeting, for both 1:1s), topics so that every pass writes, and the direct's edits: no note
/// appears in anything the server holds, in any request the daemon sent it, in any description
/// revision, nor in what a dry run would write; the manager's export has them all.
async fn g11_private_notes_never_reach_a_description<B: Backend>(mut b: B) {
    let name = b.name();
    let monday = b.create(Slot::Monday, OWN).await;
    let tuesday = b.create(Slot::Tuesday, "").await;
    b.connect_and_start(CONNECTED).await;
    let mut secrets: Vec<String> = Vec::new();
    let search = |secrets: &[String], what: &str, text: &str| {
        for secret in secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{name}: {what}: {secret:?} in:\n{text}"
            );
        }
    };
    let passes = [
        "2026-03-25T12:00:00Z",
        "2026-03-31T09:00:00Z",
        "2026-04-07T09:00:00Z",
        "2026-04-14T09:00:00Z",
    ];
    // The Tuesday meeting each week's meeting note is about.
    let tuesdays = [1, 1, 3, 3];
    for (week, now) in passes.iter().enumerate() {
        let (mon, tue) = (&monday.direct.email, &tuesday.direct.email);
        let notes = [
            (
                mon,
                None,
                format!("Privnote {week} monday series confidential"),
            ),
            (
                mon,
                Some(monday.slot.day(week)),
                format!("Privnote {week} monday meeting salary"),
            ),
            (
                tue,
                Some(tuesday.slot.day(tuesdays[week])),
                format!("Privnote {week} tuesday meeting health"),
            ),
        ];
        for (with, day, text) in &notes {
            let mut args = vec!["note", "add", "--with", with];
            if let Some(d) = day {
                args.extend(["--meeting", d]);
            }
            args.push(text);
            b.cli_ok(&args).await;
            secrets.push(text.clone());
        }
        // Something new for every pass to write.
        let topic = format!("Topic of week {week}");
        for with in [mon, tue] {
            b.cli_ok(&["item", "add", "--with", with, &topic]).await;
        }
        let dry = b
            .cli_ok(&["sync", "--once", "--dry-run", "--now", now])
            .await;
        assert!(dry.contains(&topic), "{name}: the dry run shows: {dry}");
        search(&secrets, &format!("week {week}: dry run"), &dry);
        b.sync(now).await;
        if week == 0 {
            let career = Edit::LineUnder("15 minutes for you", "- [ ] Career growth".into());
            b.edit(&monday, &monday.slot.at(0), &[career]).await;
        }
        if week == 1 {
            let tick = Edit::Replace("[ ] Career growth".into(), "[x] Career growth".into());
            b.edit(&monday, &monday.slot.at(1), &[tick]).await;
        }
        for request in b.sent() {
            search(&secrets, &format!("week {week}: a request"), &request);
        }
        search(
            &secrets,
            &format!("week {week}: the calendar"),
            &b.contents().await,
        );
    }
    let store = b.db().store().await;
    let revisions = store.list_revisions(None).await.unwrap();
    assert!(
        revisions.len() >= 6,
        "{name}: the passes wrote: {revisions:?}"
    );
    for r in &revisions {
        let what = format!("revision {}", r.id);
        search(
            &secrets,
            &what,
            r.description_before.as_deref().unwrap_or(""),
        );
        search(&secrets, &what, &r.description_after);
    }
    // The agendas did carry the week's topics (the searches are not vacuous), and the notes are
    // all there for the manager.
    let last = b.description(&monday, &monday.slot.at(3)).await;
    assert!(last.contains("Topic of week 3"), "{name}: {last}");
    let mut all = String::new();
    for m in [&monday, &tuesday] {
        let with = m.direct.email.as_str();
        all += &b
            .cli_ok(&["history", "--with", with, "--include-private"])
            .await;
    }
    for secret in &secrets {
        assert!(
            all.contains(secret.as_str()),
            "{name}: {secret:?} not exported:\n{all}"
        );
    }
    store.close().await;
    b.check();
}
