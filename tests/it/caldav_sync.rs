//! The CalDAV path end to end with the real binary and real servers: connect once, then passes.
//! Each scenario is a function of the server kind, so `interop` runs the same ones against DAViCal,
//! Cyrus and SOGo; every run has them on Radicale, Xandikos and sabre/dav 1.8 (Digest and Basic,
//! without sync-collection).

use std::time::Duration;

use oneonone::provider::caldav::fetch::to_cached;
use oneonone::provider::caldav::{CalDavClient, Precondition};
use secrecy::SecretString;

use crate::fixtures::caldav::{
    ALICE, DANA, Setup, W1, W2, W3, description_at, fetch_calendar, manager_calendar,
    series_with_uid,
};
use crate::fixtures::caldav_server::{CalDavServer, Kind, PASSWORD, USER};
use crate::fixtures::{TestDb, agenda_step_only, insert_line_after, run_cli, services, t};

#[tokio::test]
async fn connect_finds_the_two_one_on_ones_and_an_idle_pass_costs_one_request() {
    for kind in Kind::SCENARIO {
        connect_and_idle_pass(kind).await;
    }
}

/// Connect finds the two 1:1s (not the team meeting); the pass after an idle one costs one
/// request per calendar (sync-collection, or on a server without it the ctag PROPFIND) and
/// writes nothing.
pub(crate) async fn connect_and_idle_pass(kind: Kind) {
    let s = Setup::new(kind).await;
    let text = s.connect();
    // With Dana's 1:1 (organized by Dana, Sam attends) on the servers started per test.
    let expected = if kind.is_external() { 2 } else { 3 };
    assert!(
        text.contains(&format!("{expected} recurring 1:1(s) found")),
        "{kind:?}: {text}"
    );
    assert!(
        text.contains("1:1 Alice / Sam") && text.contains("Bob <> Sam"),
        "{kind:?}: {text}"
    );
    assert!(!text.contains("Team sync"), "{kind:?}: {text}");

    let out = s.cli(&["sync", "--once", "--now", "2026-03-01T12:00:00Z"]);
    assert!(
        out.status.success(),
        "{kind:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = s.db.store().await;
    // SOGo's token counts whole seconds: the idle passes come in a second after our writes
    // (a daemon's next pass is a minute later), or the first reports them again.
    kind.pause_before_an_edit().await;
    let idle = s.cli(&["sync", "--once", "--now", "2026-03-01T12:05:00Z"]);
    assert!(idle.status.success());
    // An idle pass reads; it records its run and the account's next pass, and nothing else:
    // no cursor, occurrence, item, series or cached event is rewritten as it was. (The pass
    // before took in the sync token that our own writes had moved on.)
    let watched = ["calendars", "events", "series", "occurrences", "items"];
    s.db.log_writes(&watched).await;
    kind.pause_before_an_edit().await;
    let again = s.cli(&["sync", "--once", "--now", "2026-03-01T12:10:00Z"]);
    assert!(again.status.success());
    assert_eq!(
        s.db.logged_writes().await,
        Vec::<String>::new(),
        "{kind:?}: an idle pass must not write to {watched:?}"
    );
    let runs = store.recent_runs(1).await.unwrap();
    assert_eq!(runs[0].account_id, Some(1));
    let calendars = store.list_calendars(1).await.unwrap().len() as i64;
    // A new process meets a Digest-only server's 401 once before its first answer (the daemon
    // keeps the nonce from pass to pass: a_server_without_sync_collection_... checks its 1).
    let handshake = i64::from(kind.digest());
    assert_eq!(
        runs[0].stats.requests,
        calendars + handshake,
        "{kind:?}: an idle pass must cost one request per calendar"
    );
    assert_eq!(runs[0].stats.writes, 0, "{kind:?}");

    let list = s.cli(&["series", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let withs: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["with"].as_str())
        .collect();
    assert_eq!(withs.len(), expected, "{kind:?}: {v}");
    assert!(withs.contains(&"alice@example.com") && withs.contains(&"bob@example.com"));
    // Synced by sync-collection, or by ctag and etag listing where the server has none.
    let listed = s.cli(&["accounts", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(
        listed.contains("etag listing"),
        kind.listing(),
        "{kind:?}: {listed}"
    );
    let listing = store
        .list_calendars(1)
        .await
        .unwrap()
        .iter()
        .all(|c| c.ctag.is_some() && c.sync_token.is_none());
    assert_eq!(listing, kind.listing(), "{kind:?}");
    store.close().await;
}

#[tokio::test]
async fn a_first_import_takes_one_request_and_caches_what_the_resources_hold() {
    // Xandikos answers calendar-data in a sync report 404: the one multiget after fetches it.
    for (kind, requests) in [(Kind::Radicale, 1), (Kind::Xandikos, 2)] {
        first_import(Setup::new(kind).await, requests).await;
    }
    // Radicale caps the events one report may carry: refused there, the import lists the
    // calendar and multigets it (the refused report, the listing, one multiget).
    // With 300 one-off meetings more, capped at 300 events: the report with every resource is
    // refused, and the listing and two multigets of 250 and 50 serve (4 requests).
    let capped = CalDavServer::radicale_with(&["--reporting-max-expand-occurrence", "300"]);
    let s = Setup::on(capped).await;
    for i in 0..300 {
        let body = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oneonone tests//EN\r\nBEGIN:VEVENT\r\n\
             UID:lunch-{i}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260305T120000Z\r\n\
             SUMMARY:Lunch {i}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        let url = s.calendar.join(&format!("lunch-{i}.ics")).unwrap();
        s.client
            .put(&url, body.into_bytes(), &Precondition::Create)
            .await
            .unwrap();
    }
    first_import(s, 4).await;
}

/// Empties the cache of a connected calendar, fetches it again as a first import, and checks
/// the requests it took and that each cached resource is what a GET of it gives.
pub(crate) async fn first_import(s: Setup, requests: u64) {
    let kind = s.server.kind;
    let said = s.connect();
    let store = s.db.store().await;
    // The calendar the test filled: Xandikos also has an empty default one, listed first or
    // second as its PROPFIND answers (taking the first made this test fail now and then).
    let cal = store
        .list_calendars(1)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.remote_id == s.calendar.as_str())
        .unwrap_or_else(|| panic!("{kind:?}: {} is not connected\n{said}", s.calendar));
    let ids: Vec<String> = store
        .event_etags(cal.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(ids.len() >= 3, "{kind:?}: {ids:?}\n{said}");
    for id in &ids {
        store.delete_event(cal.id, id).await.unwrap();
    }
    store
        .set_calendar_cursor(cal.id, None, None, None)
        .await
        .unwrap();
    let cal = store.get_calendar(cal.id).await.unwrap();
    let client =
        CalDavClient::new(USER, SecretString::from(PASSWORD), Duration::from_secs(10)).unwrap();
    let report = fetch_calendar(&client, &store, &cal, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(client.request_count(), requests, "{kind:?}: {report:?}");
    assert!(
        report.full && report.unreadable.is_empty(),
        "{kind:?}: {report:?}"
    );
    assert_eq!(report.changed.len(), ids.len(), "{kind:?}: {report:?}");
    assert!(!report.loaded.is_empty(), "{kind:?}: {report:?}");
    let mut cached = store.get_events(cal.id, &ids).await.unwrap();
    cached.sort_by(|a, b| a.remote_id.cmp(&b.remote_id));
    let mut expected = Vec::new();
    for id in &ids {
        let r = s.client.get(&url::Url::parse(id).unwrap()).await.unwrap();
        expected.push(to_cached(id, r.etag.as_ref(), &r.body).unwrap());
    }
    assert_eq!(cached, expected, "{kind:?}");
    // The token it kept (the ctag, on a server without sync-collection) lets the next pass ask
    // for changes only: one request.
    let cal = store.get_calendar(cal.id).await.unwrap();
    if kind.listing() {
        assert!(cal.ctag.is_some() && cal.sync_token.is_none(), "{kind:?}");
    } else {
        assert!(cal.sync_token.is_some(), "{kind:?}");
    }
    let again = fetch_calendar(&client, &store, &cal, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(client.request_count(), requests + 1, "{kind:?}: {again:?}");
    assert!(again.changed.is_empty(), "{kind:?}: {again:?}");
    store.close().await;
}

/// `connect caldav --url URL` as the setup's user (with `password` instead of the right one),
/// which must fail; returns what it printed on stderr.
fn failed_connect(s: &Setup, url: &str, password: Option<&str>) -> String {
    let mut env = s.env();
    if let Some(p) = password {
        env.retain(|(k, _)| *k != "TEST_CALDAV_PASSWORD");
        env.push(("TEST_CALDAV_PASSWORD", p.into()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = [
        "connect",
        "caldav",
        "--url",
        url,
        "--username",
        USER,
        "--password-env",
        "TEST_CALDAV_PASSWORD",
    ];
    let out = run_cli(&args, &env);
    assert!(!out.status.success(), "connect {url} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn connect_with_a_wrong_password_stores_nothing_and_says_why() {
    let s = Setup::new(Kind::Radicale).await;
    let err = failed_connect(&s, s.server.base.as_str(), Some("wrong"));
    assert!(err.contains("refused the user name or password"), "{err}");
    assert!(!err.contains("wrong"), "password leaked: {err}");
    // The URL is named once.
    let origin = s.server.base.as_str().trim_end_matches('/');
    assert_eq!(err.matches(origin).count(), 1, "{err}");
    let store = s.db.store().await;
    assert!(store.list_accounts().await.unwrap().is_empty());
}

/// `connect caldav --url URL` fails, naming `url` once, saying what to do (`next`), never
/// blaming the password, and stores nothing.
async fn refused_once(s: &Setup, url: &url::Url, next: &str) {
    let err = failed_connect(s, url.as_str(), None);
    assert!(err.contains(next), "{next:?} missing from: {err}");
    assert_eq!(err.matches(url.as_str()).count(), 1, "{err}");
    assert!(!err.contains("password"), "{err}");
    let store = s.db.store().await;
    assert!(store.list_accounts().await.unwrap().is_empty());
    store.close().await;
}

#[tokio::test]
async fn connect_to_a_calendar_the_user_may_not_read_says_so_not_that_the_password_is_wrong() {
    let s = Setup::new(Kind::Radicale).await;
    // Bob's calendar: Radicale lets each user read only their own (a real 403).
    let bobs = s.server.base.join("/bob/work/").unwrap();
    let next = format!(
        "{bobs}: the server does not let alice read this collection (HTTP 403): check the \
         calendar path in the URL, or ask the calendar's owner to share it with alice"
    );
    refused_once(&s, &bobs, &next).await;
}

#[tokio::test]
async fn connect_to_a_calendar_path_that_is_not_there_lists_the_calendars_instead_of_taking_them_all()
 {
    let s = Setup::new(Kind::Radicale).await;
    let typo = s.server.base.join("/alice/wrok/").unwrap();
    let next = format!(
        "{typo}: there is no calendar at this address (HTTP 404); the server has \"Work\" \
         <{}>: connect with one of these URLs (or with the server's address for all of them)",
        s.calendar
    );
    refused_once(&s, &typo, &next).await;
}

// Multi-threaded: the CLI blocks one thread while the test server answers on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_refused_with_a_webdav_precondition_names_it_and_not_the_password() {
    let s = Setup::new(Kind::Radicale).await;
    // A server that answers what RFC 3744 servers answer a user without the read privilege.
    let app = axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::FORBIDDEN,
            "<?xml version=\"1.0\"?><D:error xmlns:D=\"DAV:\"><D:need-privileges><D:resource>\
             <D:href>/cal/team/</D:href><D:privilege><D:read/></D:privilege></D:resource>\
             </D:need-privileges></D:error>",
        )
    });
    let base = crate::fixtures::proxy::serve(app).await;
    let url = base.join("/cal/team/").unwrap();
    let next = format!(
        "{url}: the server does not let alice read this collection (HTTP 403, \
         DAV:need-privileges): check the calendar path in the URL, or ask the calendar's owner \
         to share it with alice"
    );
    refused_once(&s, &url, &next).await;
}

/// A pass on a calendar that answers 403 (the user may not read it) or 404 (no calendar there):
/// the account is not asked to reconnect (the password is right), its error names the calendar
/// and the next step once, and the other state goes on.
#[tokio::test]
async fn a_calendar_refused_or_gone_during_a_pass_is_not_a_password_problem() {
    let s = Setup::new(Kind::Radicale).await;
    s.connect_and_start("2026-03-24T12:00:00Z");
    let set_calendar_url = async |url: &str| {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&s.db.url).await.unwrap();
        sqlx::query("UPDATE calendars SET remote_id = $1, sync_token = NULL")
            .bind(url)
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    };
    let account = async || {
        let list = s.cli(&["accounts", "list", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        let field = |k: &str| v[0][k].as_str().unwrap_or_default().to_string();
        (
            field("state"),
            field("last_error_kind"),
            field("last_error"),
        )
    };
    let bobs = s.server.base.join("/bob/work/").unwrap();
    let gone = s.server.base.join("/alice/deleted/").unwrap();
    for (url, kind, next) in [
        (
            &bobs,
            "forbidden",
            "the server does not let alice read this collection (HTTP 403): check the calendar \
             path in the URL, or ask the calendar's owner to share it with alice",
        ),
        (
            &gone,
            "not_a_calendar",
            "there is no calendar at this address (HTTP 404): connect again with the server's \
             address, without the calendar path, and pick from the calendars it lists",
        ),
    ] {
        set_calendar_url(url.as_str()).await;
        let out = s.cli(&["sync", "--once", "--now", "2026-03-24T13:00:00Z"]);
        assert!(!out.status.success(), "{url}");
        let (state, error_kind, error) = account().await;
        assert_eq!(state, "backing_off", "{url}: {error}");
        assert_eq!(error_kind, kind, "{url}: {error}");
        assert!(error.contains(&format!("{url}: {next}")), "{url}: {error}");
        assert_eq!(error.matches(url.as_str()).count(), 1, "{error}");
        assert!(!error.contains("password"), "{error}");
        // Printed once (the log on stderr is the log).
        let printed = String::from_utf8_lossy(&out.stdout);
        assert_eq!(printed.matches(next).count(), 1, "{printed}");
    }
}

#[tokio::test]
async fn connect_to_a_server_that_is_not_running_names_the_url_once_the_cause_and_what_to_check() {
    let s = Setup::new(Kind::Radicale).await;
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = failed_connect(&s, &format!("http://127.0.0.1:{port}/"), None);
    assert_eq!(
        err.matches(&format!("127.0.0.1:{port}")).count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("cannot reach the server (Connection refused"),
        "{err}"
    );
    assert!(
        err.contains("check that it is running and that the URL's host and port are right"),
        "{err}"
    );
    assert!(!err.contains("error sending request"), "{err}");
    let store = s.db.store().await;
    assert!(store.list_accounts().await.unwrap().is_empty());
}

#[tokio::test]
async fn connect_writes_nothing_and_the_first_sync_once_writes() {
    for db in TestDb::all().await {
        let mut s = Setup::new(Kind::Radicale).await;
        let kind = db.kind;
        s.db = db;
        connect_writes_nothing(&s, kind).await;
    }
}

/// Every resource's bytes, by name.
async fn calendar_bytes(s: &Setup) -> Vec<(&'static str, Vec<u8>)> {
    let mut all = Vec::new();
    for (name, _) in manager_calendar(&s.tag) {
        all.push((name, s.body(name).await));
    }
    all
}

/// Connect imports, detects and shows what it found (each 1:1, its direct, why, the next meeting
/// that would get an agenda in the meeting's own zone) and writes nothing; neither does a dry
/// run. The first `sync --once` starts the account and writes.
async fn connect_writes_nothing(s: &Setup, db: &str) {
    let before = calendar_bytes(s).await;
    let out = s.connect_at(Some("2026-03-24T12:00:00Z"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{db}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "3 recurring 1:1(s) found:",
        "1:1 Alice / Sam",
        "with: Alice Example <alice@example.com>",
        "next agenda: Mon 30 Mar 2026, 10:00 (CEST)",
        "with: Bob Builder <bob@example.com>",
        "Sam / Dana 1:1",
        "next agenda: none, someone else organizes it",
        "Nothing has been written to any calendar yet.",
        "Next: `oneonone sync --once` starts writing these agendas",
    ] {
        assert!(text.contains(want), "{db}: {want:?} missing from:\n{text}");
    }
    assert!(text.contains("why: "), "{db}: {text}");
    assert!(!text.contains("Team sync"), "{db}: {text}");
    assert_eq!(
        calendar_bytes(s).await,
        before,
        "{db}: connect changed the calendar"
    );

    // Waiting to be started: `accounts list` says so, and a dry run neither writes nor starts.
    let list = s.cli(&["accounts", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("waiting_to_start") && listed.contains("waiting to start"),
        "{db}: {listed}"
    );
    let dry = s.cli(&[
        "sync",
        "--once",
        "--dry-run",
        "--now",
        "2026-03-24T12:00:00Z",
    ]);
    let dry_text = String::from_utf8_lossy(&dry.stdout);
    assert!(dry.status.success(), "{db}: {dry_text}");
    assert!(dry_text.contains("would write into"), "{db}: {dry_text}");
    assert!(!dry_text.contains("Started writing"), "{db}: {dry_text}");
    assert_eq!(
        calendar_bytes(s).await,
        before,
        "{db}: a dry run changed the calendar"
    );

    let out = s.cli(&["sync", "--once", "--now", "2026-03-24T12:00:00Z"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{db}: {said}");
    assert!(
        said.contains("Started writing agendas for account 1."),
        "{db}: {said}"
    );
    let d1 = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W1);
    // The block follows the event's own text, which stays first.
    assert!(
        d1.starts_with("Alice's own notes: keep me.\n\n── oneonone agenda ──"),
        "{db}: {d1}"
    );
    let list = s.cli(&["accounts", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(!listed.contains("waiting"), "{db}: {listed}");
    // Started once: the next pass says nothing of it.
    let again = s.cli(&["sync", "--once", "--now", "2026-03-24T12:05:00Z"]);
    assert!(!String::from_utf8_lossy(&again.stdout).contains("Started"));
}

#[tokio::test]
async fn agendas_appear_carry_over_and_absorb_edits_week_after_week() {
    for kind in Kind::SCENARIO {
        agendas_week_after_week(kind).await;
    }
}

/// Three weeks: agendas only in the next occurrence of each 1:1, an idle pass that writes
/// nothing, the direct's edits read back, follow-ups carried, ticked items closed.
pub(crate) async fn agendas_week_after_week(kind: Kind) {
    let s = Setup::new(kind).await;
    let team_before = s.body("team-sync.ics").await;
    let oneoff_before = s.body("one-off.ics").await;
    let dana_before = if kind.is_external() {
        None
    } else {
        Some(s.body(DANA).await)
    };
    s.connect_and_start("2026-03-24T12:00:00Z");

    // First pass: agendas only in the next occurrence of the two 1:1s.
    let alice = s.body(ALICE).await;
    let d1 = description_at(&alice, &s.uid("weekly-alice"), W1);
    assert!(
        d1.starts_with("Alice's own notes: keep me.\n\n── oneonone agenda ──\n"),
        "{kind:?}: the event's own text must stay on top, the block after it: {d1}"
    );
    assert!(d1.contains("Alice Example goes first"), "{kind:?}: {d1}");
    assert!(
        d1.ends_with("── end of oneonone agenda ──"),
        "{kind:?}: {d1}"
    );
    assert_eq!(
        description_at(&alice, &s.uid("weekly-alice"), W2),
        "Alice's own notes: keep me."
    );
    let text = String::from_utf8_lossy(&alice);
    assert!(
        text.contains("X-OWN-PROPERTY:kept") && text.contains("BEGIN:VALARM"),
        "{kind:?}: {text}"
    );
    let bob = s.body("biweekly-bob.ics").await;
    assert!(
        description_at(&bob, &s.uid("biweekly-bob"), "2026-03-31T14:00:00Z")
            .contains("Bob Builder goes first"),
        "{kind:?}"
    );
    assert_eq!(
        s.body("team-sync.ics").await,
        team_before,
        "{kind:?}: team meeting touched"
    );
    assert_eq!(
        s.body("one-off.ics").await,
        oneoff_before,
        "{kind:?}: one-off touched"
    );
    if let Some(before) = &dana_before {
        let after = s.body(DANA).await;
        assert_eq!(&after, before, "{kind:?}: wrote into Dana's event");
    }

    // A second pass writes nothing.
    s.sync("2026-03-24T12:05:00Z");
    let store = s.db.store().await;
    assert_eq!(
        store.recent_runs(1).await.unwrap()[0].stats.writes,
        0,
        "{kind:?}"
    );

    // Alice adds a topic of hers (a plain line, as a person types it) and an action item.
    s.user_edit(ALICE, &s.uid("weekly-alice"), W1, |d| {
        let d = insert_line_after(d, "15 minutes for you", "Career growth  ");
        insert_line_after(&d, "Notes and action items", "- [ ] Prepare the Q2 plan")
    })
    .await;
    // A dry run shows the write the pass will make, with what Alice typed taken in (not a
    // block that leaves her topic out), and records nothing.
    let dry = s.cli(&[
        "sync",
        "--once",
        "--dry-run",
        "--now",
        "2026-03-25T11:59:00Z",
    ]);
    assert!(dry.status.success(), "{kind:?}");
    let shown = String::from_utf8_lossy(&dry.stdout);
    assert!(
        shown.contains("would write into") && shown.contains("- [ ] Career growth"),
        "{kind:?}: {shown}"
    );
    let alice_id = store
        .list_series()
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.uid == s.uid("weekly-alice"))
        .unwrap()
        .id;
    assert!(
        store.list_items(alice_id, true).await.unwrap().is_empty(),
        "{kind:?}: a dry run recorded items"
    );
    s.sync("2026-03-25T12:00:00Z");
    let series = store.list_series().await.unwrap();
    let alice_series = series
        .iter()
        .find(|x| x.uid == s.uid("weekly-alice"))
        .unwrap();
    let items = store.list_items(alice_series.id, true).await.unwrap();
    let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts.len(), 2, "{kind:?}: {texts:?}");
    assert!(
        texts.contains(&"Career growth") && texts.contains(&"Prepare the Q2 plan"),
        "{kind:?}: {texts:?}"
    );

    // The meeting is held; next week's agenda follows up on both.
    s.sync("2026-03-31T09:00:00Z");
    let d2 = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W2);
    assert!(d2.contains("- [ ] Prepare the Q2 plan"), "{kind:?}: {d2}");
    assert!(d2.contains("- [ ] Career growth"), "{kind:?}: {d2}");
    assert!(
        d2.contains("Follow-ups from Mon 30 Mar 2026"),
        "{kind:?}: {d2}"
    );

    // Alice ticks the action item in the invite; the week after it is gone and the other
    // item shows its second carry.
    s.user_edit(ALICE, &s.uid("weekly-alice"), W2, |d| {
        d.replace("- [ ] Prepare the Q2 plan", "- [x] Prepare the Q2 plan")
    })
    .await;
    s.sync("2026-04-07T09:00:00Z");
    let d3 = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W3);
    assert!(
        !d3.contains("Prepare the Q2 plan"),
        "{kind:?}: closed item still shown: {d3}"
    );
    assert!(d3.contains("Career growth (carried x2)"), "{kind:?}: {d3}");
    assert!(
        d3.starts_with("Alice's own notes: keep me.\n\n"),
        "{kind:?}: {d3}"
    );

    let occ = store.list_occurrences(alice_series.id).await.unwrap();
    let held: Vec<_> = occ.iter().filter(|o| o.status == "held").collect();
    assert_eq!(held.len(), 2, "{kind:?}: {occ:?}");
    let all = store.list_items(alice_series.id, false).await.unwrap();
    let q2 = all
        .iter()
        .find(|i| i.text == "Prepare the Q2 plan")
        .unwrap();
    assert_eq!(
        (q2.state.as_str(), q2.times_carried),
        ("done", 1),
        "{kind:?}"
    );

    let h = s.cli(&["history", "--with", "alice@example.com", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&h.stdout).unwrap();
    let m = v["meetings"].as_array().unwrap();
    // Nothing was ticked or typed in the first meeting: it took place with no notes; the
    // second had a tick.
    assert_eq!(
        (m[0]["status"].as_str(), m[1]["status"].as_str()),
        (Some("no_notes"), Some("held")),
        "{kind:?}: {v}"
    );
    assert_eq!(m[1]["closed"][0], "Prepare the Q2 plan", "{kind:?}: {v}");
    assert_eq!(
        m[1]["carried"][0],
        serde_json::json!(["Career growth", 2]),
        "{kind:?}: {v}"
    );
    if let Some(before) = &dana_before {
        assert_eq!(
            &s.body(DANA).await,
            before,
            "{kind:?}: wrote into Dana's event"
        );
    }
    store.close().await;
}

#[tokio::test]
async fn a_concurrent_edit_between_read_and_write_keeps_both() {
    for kind in Kind::SCENARIO {
        a_concurrent_edit_keeps_both(kind).await;
    }
}

/// A user edit between the pass's read and its write: the write meets a 412, re-reads, merges,
/// and both texts survive.
pub(crate) async fn a_concurrent_edit_keeps_both(kind: Kind) {
    let s = Setup::new(kind).await;
    s.connect_and_start("2026-03-24T12:00:00Z");

    // The daemon's services, as the pass builds them.
    let env = s.env();
    let services = services(
        env.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
    .await;
    let account = services.store.get_account(1).await.unwrap();

    // The manager queues a topic (the agenda must change), and meanwhile Alice edits the
    // invite: a line in the block, and text of her own outside it.
    let series = services.store.list_series().await.unwrap();
    let alice = series
        .iter()
        .find(|x| x.uid == s.uid("weekly-alice"))
        .unwrap();
    services
        .store
        .add_item(
            alice.id,
            "manager",
            "Team offsite plans",
            oneonone::store::ItemSource::Cli,
            None,
            t("2026-03-25T10:00:00Z"),
        )
        .await
        .unwrap();
    s.user_edit(ALICE, &s.uid("weekly-alice"), W1, |d| {
        let d = insert_line_after(d, "15 minutes for you", "- [ ] Vacation in May");
        format!("{d}\nPS from Alice: room 4.2")
    })
    .await;

    // The cache still holds the old version: the write meets a 412, re-reads, merges.
    let stats = agenda_step_only(&services, &account, t("2026-03-25T12:00:00Z")).await;
    assert!(stats.conflicts >= 1, "{kind:?}: {stats:?}");
    assert_eq!(stats.writes, 1, "{kind:?}: {stats:?}");
    let d = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W1);
    assert!(
        d.contains("- [ ] Vacation in May"),
        "{kind:?}: Alice's line lost: {d}"
    );
    assert!(
        d.contains("Team offsite plans"),
        "{kind:?}: the queued topic is missing: {d}"
    );
    assert!(
        d.starts_with("Alice's own notes: keep me.\n\n")
            && d.ends_with("\nPS from Alice: room 4.2"),
        "{kind:?}: {d}"
    );

    // Every write is reversible: the revisions hold what was replaced.
    let revs = services.store.list_revisions(Some(alice.id)).await.unwrap();
    assert!(
        revs[0]
            .description_before
            .as_deref()
            .unwrap()
            .contains("PS from Alice"),
        "{kind:?}"
    );
    assert_eq!(revs[0].description_after, d, "{kind:?}");
    services.store.close().await;
}

#[tokio::test]
async fn items_from_the_cli_show_up_and_a_write_can_be_undone() {
    let s = Setup::new(Kind::Radicale).await;
    s.connect_and_start("2026-03-24T12:00:00Z");
    let add = s.cli(&[
        "item",
        "add",
        "--with",
        "Alice@Example.com",
        "--section",
        "manager",
        "Budget",
        "review",
    ]);
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let unknown = s.cli(&["item", "add", "--with", "nobody@example.com", "x"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no tracked 1:1 with nobody@example.com")
    );

    // A dry run shows the write and does not make it.
    let before = s.body(ALICE).await;
    let dry = s.cli(&[
        "sync",
        "--once",
        "--dry-run",
        "--now",
        "2026-03-24T12:04:00Z",
    ]);
    assert!(dry.status.success());
    let shown = String::from_utf8_lossy(&dry.stdout);
    assert!(
        shown.contains(
            "would write into \"1:1 Alice / Sam\", the meeting of Mon 30 Mar 2026, 10:00 (CEST)"
        ) && shown.contains("- [ ] Budget review"),
        "{shown}"
    );
    assert_eq!(s.body(ALICE).await, before, "a dry run wrote");

    s.sync("2026-03-24T12:05:00Z");
    let d = description_at(&s.body(ALICE).await, "weekly-alice", W1);
    assert!(d.contains("- [ ] Budget review"), "{d}");
    let list = s.cli(&["item", "list", "--with", "alice@example.com", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v[0]["text"], "Budget review", "{v}");

    // Undo every write into this occurrence, oldest first: the description is the user's again.
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    let first = store
        .list_revisions(Some(alice.id))
        .await
        .unwrap()
        .into_iter()
        .last()
        .unwrap();
    assert_eq!(
        first.description_before.as_deref(),
        Some("Alice's own notes: keep me.")
    );
    let out = s.cli(&["restore", &first.id.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        description_at(&s.body(ALICE).await, "weekly-alice", W1),
        "Alice's own notes: keep me."
    );
    // Run again, it says so and writes nothing: the invite and the revisions stay as they are.
    let restored = s.body(ALICE).await;
    let revisions = store.list_revisions(Some(alice.id)).await.unwrap().len();
    let undone_at = store.get_revision(first.id).await.unwrap().restored_at;
    assert!(undone_at.is_some());
    let again = s.cli(&["restore", &first.id.to_string()]);
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{said}");
    assert_eq!(
        said.trim(),
        format!(
            "Revision {} is already undone: its meeting holds the text that write replaced. \
             Nothing was written.",
            first.id
        )
    );
    assert_eq!(s.body(ALICE).await, restored, "a second restore wrote");
    assert_eq!(
        store.list_revisions(Some(alice.id)).await.unwrap().len(),
        revisions
    );
    // It was undone when it was: the second run does not move that date.
    assert_eq!(
        store.get_revision(first.id).await.unwrap().restored_at,
        undone_at
    );
    // `history` lists the writes with their dates, their meeting and the one undone.
    let h = s.cli(&["history", "--with", "alice@example.com"]);
    let h = String::from_utf8_lossy(&h.stdout);
    assert!(h.contains("undo one with `oneonone restore ID`"), "{h}");
    let line = h
        .lines()
        .find(|l| {
            l.trim_start()
                .starts_with(&format!("{}  written", first.id))
        })
        .unwrap_or_else(|| panic!("revision {} is not listed: {h}", first.id));
    assert!(
        line.contains("written 2026-03-24 13:")
            && line.contains("into the meeting of 2026-03-30 10:00 CEST, undone "),
        "{line}"
    );
    // The restore's own write is listed as the undo it is (it comes first: the newest).
    let undo = h
        .lines()
        .find(|l| l.contains(&format!(", undoing {}", first.id)))
        .unwrap_or_else(|| panic!("the restore of {} is not listed as one: {h}", first.id));
    assert!(
        undo.contains("into the meeting of 2026-03-30 10:00 CEST"),
        "{undo}"
    );

    // The daemon does not put back a block someone removed; it says why.
    s.sync("2026-03-24T12:10:00Z");
    assert_eq!(
        description_at(&s.body(ALICE).await, "weekly-alice", W1),
        "Alice's own notes: keep me."
    );
    let list = s.cli(&["series", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let row = v
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["uid"] == "weekly-alice")
        .unwrap();
    assert!(
        row["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("removed"),
        "{row}"
    );

    // A dry run a week ahead previews and changes nothing: the meeting is not closed by it.
    let dry = s.cli(&[
        "sync",
        "--once",
        "--dry-run",
        "--now",
        "2026-03-31T09:00:00Z",
    ]);
    assert!(dry.status.success());
    let occ = store.list_occurrences(alice.id).await.unwrap();
    assert!(
        occ.iter().all(|o| o.closed_at.is_none()),
        "a dry run closed a meeting: {occ:?}"
    );

    // An hour after the end people may still be typing into it: not closed yet.
    s.sync("2026-03-30T09:30:00Z");
    let occ = store.list_occurrences(alice.id).await.unwrap();
    assert!(
        occ.iter().all(|o| o.closed_at.is_none()),
        "closed too early: {occ:?}"
    );

    // A write that never reached the server cannot be "restored".
    let unsent_write = async |before: String, after: &str| {
        let revision = oneonone::store::NewRevision {
            series_id: Some(alice.id),
            occurrence_id: None,
            calendar_id: alice.calendar_id,
            remote_id: s.calendar.join(ALICE).unwrap().to_string(),
            original_start: Some(t(W1)),
            etag_before: None,
            description_before: Some(before),
            description_after: after.into(),
            restores: None,
        };
        let at = t("2026-03-30T09:40:00Z");
        store.insert_revision(&revision, at).await.unwrap()
    };
    let ghost = unsent_write("never written".into(), "x").await;
    let out = s.cli(&["restore", &ghost.to_string()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("never accepted"), "{err}");
    // The revision is named once (issue 24).
    assert_eq!(
        err.matches(&format!("revision {ghost}")).count(),
        1,
        "{err}"
    );
    // Nor one whose text was never sent, though the meeting holds the text it would have
    // replaced: that is not a write "already undone".
    let held = description_at(&s.body(ALICE).await, "weekly-alice", W1);
    let unsent = unsent_write(held, "never sent").await;
    let out = s.cli(&["restore", &unsent.to_string()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(err.contains("never accepted"), "{err}");
    // An id that does not exist: named once, with where the ids are listed.
    let out = s.cli(&["restore", "999"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "there is no revision 999: `oneonone history --with EMAIL` lists the revisions of a 1:1"
        ),
        "{err}"
    );
    assert_eq!(err.matches("999").count(), 1, "{err}");

    // The meeting stays in the history, at its Berlin time: the calendar kept it, and nothing
    // was ticked or typed in it, so it took place with no notes (issue 22).
    s.sync("2026-03-31T09:00:00Z");
    let h = s.cli(&["history", "--with", "alice@example.com", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&h.stdout).unwrap();
    assert_eq!(v["meetings"][0]["status"], "no_notes", "{v}");
    assert_eq!(v["meetings"][0]["carried"][0][0], "Budget review", "{v}");
    let md = s.cli(&[
        "history",
        "--with",
        "alice@example.com",
        "--format",
        "markdown",
    ]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("## 2026-03-30 10:00 CEST (took place (no notes))"),
        "{md}"
    );
    store.close().await;
}

/// Moves one occurrence's override to new local start/end (as a client dragging it would).
fn move_override(body: &[u8], recurrence_local: &str, new_start: &str, new_end: &str) -> Vec<u8> {
    let text = String::from_utf8(body.to_vec()).unwrap();
    let mut out = Vec::new();
    let mut in_target = false;
    let blocks: Vec<&str> = text.split_inclusive("END:VEVENT\r\n").collect();
    for b in &blocks {
        if b.contains(&format!(
            "RECURRENCE-ID;TZID=Europe/Berlin:{recurrence_local}"
        )) {
            in_target = true;
            let lines: Vec<String> = b
                .split("\r\n")
                .map(|l| {
                    if l.starts_with("DTSTART;") {
                        format!("DTSTART;TZID=Europe/Berlin:{new_start}")
                    } else if l.starts_with("DTEND;") {
                        format!("DTEND;TZID=Europe/Berlin:{new_end}")
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            out.push(lines.join("\r\n"));
        } else {
            out.push(b.to_string());
        }
    }
    assert!(in_target, "no override for {recurrence_local} in:\n{text}");
    out.concat().into_bytes()
}

#[tokio::test]
async fn a_meeting_moved_weeks_later_is_not_taken_for_cancelled_and_counts_as_held() {
    let s = Setup::new(Kind::Radicale).await;
    s.connect_and_start("2026-03-24T12:00:00Z");
    // Alice drags the 30 March meeting (which carries our agenda) to 15 April.
    let url = s.calendar.join(ALICE).unwrap();
    let r = s.client.get(&url).await.unwrap();
    let moved = move_override(
        &r.body,
        "20260330T100000",
        "20260415T100000",
        "20260415T103000",
    );
    let etag = r.etag.or(s.client.etag(&url).await.unwrap()).unwrap();
    s.client
        .put(&url, moved, &Precondition::Match(etag))
        .await
        .unwrap();

    s.sync("2026-03-30T12:00:00Z");
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    let w1 = |occ: &[oneonone::store::OccurrenceRow]| {
        occ.iter()
            .find(|o| o.original_start == t(W1))
            .cloned()
            .unwrap()
    };
    let occ = store.list_occurrences(alice.id).await.unwrap();
    assert!(
        w1(&occ).closed_at.is_none(),
        "a moved meeting was closed: {:?}",
        w1(&occ)
    );
    assert_eq!(w1(&occ).start_at, t("2026-04-15T08:00:00Z"));

    s.sync("2026-04-15T12:00:00Z");
    let occ = store.list_occurrences(alice.id).await.unwrap();
    assert_eq!(w1(&occ).status, "held", "{:?}", w1(&occ));
    store.close().await;
}

#[tokio::test]
async fn restoring_an_older_agenda_drops_no_item() {
    let s = Setup::new(Kind::Radicale).await;
    s.connect_and_start("2026-03-24T12:00:00Z");
    for (topic, now) in [
        ("Budget review", "2026-03-24T12:05:00Z"),
        ("Second topic", "2026-03-24T12:10:00Z"),
    ] {
        let add = s.cli(&["item", "add", "--with", "alice@example.com", topic]);
        assert!(
            add.status.success(),
            "{}",
            String::from_utf8_lossy(&add.stderr)
        );
        s.sync(now);
    }
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    let newest = newest_revision(&store, alice.id).await;
    assert!(newest.description_after.contains("Second topic"));
    let out = s.cli(&["restore", &newest.id.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = description_at(&s.body(ALICE).await, "weekly-alice", W1);
    assert!(
        restored.contains("Budget review") && !restored.contains("Second topic"),
        "{restored}"
    );

    // The next pass reads the older block without taking "Second topic" as deleted.
    s.sync("2026-03-24T12:15:00Z");
    let open = store.list_items(alice.id, true).await.unwrap();
    let texts: Vec<&str> = open.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(
        texts,
        ["Budget review", "Second topic"],
        "an item was dropped by the restore"
    );
    store.close().await;
}

/// A template whose direct's area says "Nothing queued yet" while it is empty (the default one
/// did, before the short invite; people keep their own): a restore puts back a block that said
/// it, now that a topic is queued. The next pass must not keep the prompt above the topic, nor
/// take it for a topic or a note (issue 24).
#[tokio::test]
async fn after_a_restore_the_empty_prompt_is_not_kept_above_a_queued_topic() {
    let s = Setup::new(Kind::Radicale).await;
    let dir = tempfile::tempdir().unwrap();
    let template = crate::fixtures::write_file(
        dir.path(),
        "prompting.j2",
        include_str!("../data/agenda/old_default_template.j2"),
    );
    let template = template.to_str().unwrap();
    let env = [("ONEONONE__AGENDA__TEMPLATE_FILE", template)];
    let prompt = "Nothing queued yet";
    let sync = |now: &str| {
        crate::fixtures::ok(
            &format!("sync at {now}"),
            s.cli_with(&["sync", "--once", "--now", now], &env),
        )
    };
    let connect = s.connect_args(&s.server.base, Some("2026-03-24T12:00:00Z"));
    crate::fixtures::ok("connect", s.cli_with(&connect, &env));
    sync("2026-03-24T12:00:00Z");
    let first = description_at(&s.body(ALICE).await, "weekly-alice", W1);
    assert!(first.contains(prompt), "{first}");
    // Alice queues a topic; the next pass writes it in place of the prompt.
    let add = [
        "item",
        "add",
        "--with",
        "alice@example.com",
        "--section",
        "direct",
    ];
    let add = [&add[..], &["Career goals"]].concat();
    crate::fixtures::ok("item add", s.cli_with(&add, &env));
    sync("2026-03-24T12:05:00Z");
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    let newest = newest_revision(&store, alice.id).await;
    assert!(newest.description_after.contains("Career goals"));
    assert!(!newest.description_after.contains(prompt));
    // Undo that write: the invite says "Nothing queued yet" again, the topic is still queued.
    let restore = ["restore".to_string(), newest.id.to_string()];
    crate::fixtures::ok("restore", s.cli_with(&restore, &env));
    let restored = description_at(&s.body(ALICE).await, "weekly-alice", W1);
    assert!(
        restored.contains(prompt) && !restored.contains("Career goals"),
        "{restored}"
    );

    // The next pass: the topic, and no prompt, neither in the invite nor kept as a line.
    sync("2026-03-24T12:10:00Z");
    let after = description_at(&s.body(ALICE).await, "weekly-alice", W1);
    assert!(after.contains("- [ ] Career goals"), "{after}");
    assert!(!after.contains(prompt), "{after}");
    let items = store.list_items(alice.id, false).await.unwrap();
    let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, ["Career goals"], "the prompt became an item");
    let page = s.cli_with(&["history", "--with", "alice@example.com"], &env);
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(!page.contains(prompt), "{page}");
    store.close().await;
}

/// The last write recorded for a series.
async fn newest_revision(store: &oneonone::store::Store, series: i64) -> oneonone::store::Revision {
    let revisions = store.list_revisions(Some(series)).await.unwrap();
    revisions.into_iter().next().unwrap()
}

/// Adds an item to Alice's series as the store would from `source`.
async fn add_alice_item(
    store: &oneonone::store::Store,
    section: &str,
    text: &str,
    source: oneonone::store::ItemSource,
) {
    let alice = series_with_uid(store, "weekly-alice").await;
    store
        .add_item(
            alice.id,
            section,
            text,
            source,
            None,
            t("2026-03-24T12:00:00Z"),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_direct_topic_with_no_agenda_does_not_freeze_the_invite() {
    use oneonone::store::ItemSource;
    let s = Setup::new(Kind::Radicale).await;
    s.connect_ok("2026-03-24T12:00:00Z");
    let store = s.db.store().await;
    let uid = s.uid("weekly-alice");
    let invite = |body: &[u8]| description_at(body, &uid, W1);

    // A topic from the direct's link (as stored before the link refused the marker).
    let topic = "Can we drop the agenda? #no-agenda";
    add_alice_item(&store, "direct", topic, ItemSource::Web).await;
    s.sync("2026-03-25T12:00:00Z");
    let d = invite(&s.body(ALICE).await);
    assert!(
        d.contains("- [ ] Can we drop the agenda? #no\u{2011}agenda"),
        "the topic is shown, its marker inert:\n{d}"
    );
    assert!(!d.to_lowercase().contains("#no-agenda"), "{d}");

    // The manager's next topic still reaches the invite.
    add_alice_item(&store, "manager", "Budget for Q3", ItemSource::Cli).await;
    s.sync("2026-03-26T12:00:00Z");
    let d = invite(&s.body(ALICE).await);
    assert!(d.contains("- [ ] Budget for Q3"), "frozen:\n{d}");

    // An invite an earlier version wrote, with the marker live inside the block: text between
    // the markers never counts, so the next topic still reaches it.
    s.user_edit(ALICE, &uid, W1, |d| {
        d.replace("#no\u{2011}agenda", "#no-agenda")
    })
    .await;
    add_alice_item(&store, "manager", "Hiring plan", ItemSource::Cli).await;
    s.sync("2026-03-26T13:00:00Z");
    let d = invite(&s.body(ALICE).await);
    assert!(
        d.contains("- [ ] Hiring plan"),
        "frozen by the block's text:\n{d}"
    );
    assert!(!d.to_lowercase().contains("#no-agenda"), "{d}");
    let alice = series_with_uid(&store, "weekly-alice").await;
    let items = store.list_items(alice.id, true).await.unwrap();
    assert_eq!(
        items
            .iter()
            .filter(|i| i.text.starts_with("Can we drop"))
            .count(),
        1,
        "read back as the same topic: {items:?}"
    );

    // A person typing the marker outside the block still keeps the daemon out (guarantee 9).
    s.user_edit(ALICE, &uid, W1, |d| {
        d.replace("keep me.", "keep me. #no-agenda")
    })
    .await;
    let kept = invite(&s.body(ALICE).await);
    add_alice_item(&store, "manager", "Offsite dates", ItemSource::Cli).await;
    s.sync("2026-03-26T14:00:00Z");
    assert_eq!(
        invite(&s.body(ALICE).await),
        kept,
        "an opted-out invite was written"
    );
    store.close().await;
}

#[tokio::test]
async fn a_flood_of_direct_topics_folds_instead_of_stopping_the_write() {
    use oneonone::store::ItemSource;
    let s = Setup::new(Kind::Radicale).await;
    s.connect_ok("2026-03-24T12:00:00Z");
    let store = s.db.store().await;
    let uid = s.uid("weekly-alice");
    // 250 topics of 300 characters: past the 64 KiB description limit in full.
    for i in 0..250 {
        let text = format!("Topic {i:03} {}", "x".repeat(290));
        add_alice_item(&store, "direct", &text, ItemSource::Web).await;
    }
    add_alice_item(&store, "manager", "Budget for Q3", ItemSource::Cli).await;
    s.sync("2026-03-25T12:00:00Z");
    let d = description_at(&s.body(ALICE).await, &uid, W1);
    assert!(d.len() <= 16 * 1024 + 100, "{} bytes", d.len());
    assert!(d.contains("- [ ] Budget for Q3"), "{d}");
    assert!(
        d.contains("- [ ] Topic 000 "),
        "the first topics are shown:\n{d}"
    );
    let re = regex::Regex::new(r"… and (\d+) more topics on the page").unwrap();
    let folded: usize = re.captures(&d).expect("a fold line")[1].parse().unwrap();
    let shown = d.matches("- [ ] Topic ").count();
    assert_eq!(shown + folded, 250, "{d}");
    assert!(d.starts_with("Alice's own notes: keep me.\n\n"), "{d}");

    // The next pass reads the invite back: the folded topics are not taken as deleted, and
    // nothing changes.
    s.sync("2026-03-25T13:00:00Z");
    assert_eq!(description_at(&s.body(ALICE).await, &uid, W1), d);
    let alice = series_with_uid(&store, "weekly-alice").await;
    let open = store.list_items(alice.id, true).await.unwrap();
    assert_eq!(open.len(), 251, "folded topics stay open");
    store.close().await;
}

/// The block's budget counts the text around it: beside 50 KB of the user's own text, a flood
/// of topics folds until the whole description fits in `agenda.max_description_bytes`, and is
/// written (with the block's own 16 KiB budget alone, the description would pass 64 KiB and
/// every pass would refuse it).
#[tokio::test]
async fn the_block_folds_to_leave_room_for_a_long_text_of_the_users_own() {
    use oneonone::store::ItemSource;
    let s = Setup::new(Kind::Radicale).await;
    s.connect_ok("2026-03-24T12:00:00Z");
    let store = s.db.store().await;
    let uid = s.uid("weekly-alice");
    s.sync("2026-03-25T12:00:00Z");
    let own = format!(
        "Alice's own notes: keep me. {}",
        "lorem ipsum ".repeat(4_200)
    );
    s.user_edit(ALICE, &uid, W1, |d| {
        d.replace("Alice's own notes: keep me.", &own)
    })
    .await;
    for i in 0..80 {
        let text = format!("Topic {i:03} {}", "x".repeat(290));
        add_alice_item(&store, "direct", &text, ItemSource::Web).await;
    }
    add_alice_item(&store, "manager", "Budget for Q3", ItemSource::Cli).await;
    s.sync("2026-03-25T13:00:00Z");
    let d = description_at(&s.body(ALICE).await, &uid, W1);
    assert!(
        d.contains("- [ ] Budget for Q3"),
        "not written:\n{}",
        &d[d.len() - 500..]
    );
    assert!(d.len() <= 65_536, "{} bytes", d.len());
    assert!(
        d.starts_with(&format!("{own}\n\n")),
        "the user's text changed"
    );
    let re = regex::Regex::new(r"… and (\d+) more topics on the page").unwrap();
    let folded: usize = re.captures(&d).expect("a fold line")[1].parse().unwrap();
    assert_eq!(d.matches("- [ ] Topic ").count() + folded, 80);
    // The next pass changes nothing.
    s.sync("2026-03-25T14:00:00Z");
    assert_eq!(description_at(&s.body(ALICE).await, &uid, W1), d);
    store.close().await;
}

/// Outlook (through its CalDAV bridge) and Thunderbird save what a person types as plain text
/// with CRLF line ends and their own bullets (`·` and a tab, `1.` and a tab, trailing spaces);
/// Outlook also keeps an HTML copy in X-ALT-DESC beside it. Topics typed that way before the
/// meeting become items of the part they were typed in, the stale HTML copy does not outlive
/// the next write, and the topics carry to the next week.
#[tokio::test]
async fn topics_typed_in_outlook_on_a_caldav_server_become_items_and_carry() {
    for kind in Kind::SCENARIO {
        let s = Setup::new(kind).await;
        s.connect_ok("2026-03-24T12:00:00Z");
        s.sync("2026-03-24T12:00:00Z");
        let uid = s.uid("weekly-alice");
        s.user_edit(ALICE, &uid, W1, |d| {
            let d = insert_line_after(d, "15 minutes for you", "·\tneed a new laptop  ");
            let d = insert_line_after(&d, "·\tneed", "Can we talk about the conference budget?");
            let d = insert_line_after(&d, "Topics from", "1.\tHiring plan for Q3");
            let d = insert_line_after(&d, "Notes and action items", "Met in the kitchen");
            d.replace('\n', "\r\n")
        })
        .await;
        // Outlook's HTML copy of the description, beside it in the occurrence.
        let url = s.calendar.join(ALICE).unwrap();
        let r = s.client.get(&url).await.unwrap();
        let text = String::from_utf8(r.body.clone()).unwrap();
        let at = text
            .find("RECURRENCE-ID")
            .expect("the occurrence with the agenda");
        let eol = at + text[at..].find("\r\n").unwrap() + 2;
        let with_alt = format!(
            "{}X-ALT-DESC;FMTTYPE=text/html:<html><body><ul><li>need a new laptop</li></ul></body></html>\r\n{}",
            &text[..eol],
            &text[eol..]
        );
        let etag = r.etag.or(s.client.etag(&url).await.unwrap()).unwrap();
        s.client
            .put(&url, with_alt.into_bytes(), &Precondition::Match(etag))
            .await
            .unwrap();

        s.sync("2026-03-25T12:00:00Z");
        let store = s.db.store().await;
        let series = series_with_uid(&store, "weekly-alice").await;
        let items: Vec<(String, String)> = store
            .list_items(series.id, true)
            .await
            .unwrap()
            .into_iter()
            .map(|i| (i.section, i.text))
            .collect();
        let want = |section: &str, text: &str| (section.to_string(), text.to_string());
        for w in [
            want("direct", "need a new laptop"),
            want("direct", "Can we talk about the conference budget?"),
            want("manager", "Hiring plan for Q3"),
        ] {
            assert!(items.contains(&w), "{kind:?}: {w:?} not in {items:?}");
        }
        assert_eq!(
            items.len(),
            3,
            "{kind:?}: the note became an item: {items:?}"
        );
        let body = s.body(ALICE).await;
        let d1 = description_at(&body, &uid, W1);
        assert!(d1.contains("- [ ] need a new laptop"), "{kind:?}: {d1}");
        assert!(
            d1.contains("Met in the kitchen"),
            "{kind:?}: the note is lost: {d1}"
        );
        assert!(
            d1.starts_with("Alice's own notes: keep me."),
            "{kind:?}: {d1}"
        );
        assert!(
            !String::from_utf8_lossy(&body).contains("X-ALT-DESC"),
            "{kind:?}: Outlook would show its stale copy"
        );

        // In the meeting, a line typed under a topic is a note of the meeting, not a new topic.
        s.user_edit(ALICE, &uid, W1, |d| {
            insert_line_after(d, "- [ ] need a new laptop", "Agreed: order one this week")
        })
        .await;
        s.sync("2026-03-30T08:10:00Z");
        let open = store.list_items(series.id, true).await.unwrap();
        assert_eq!(
            open.len(),
            3,
            "{kind:?}: a note in the meeting became a topic: {open:?}"
        );
        let d1 = description_at(&s.body(ALICE).await, &uid, W1);
        assert!(d1.contains("Agreed: order one this week"), "{kind:?}: {d1}");

        // Held; next week's agenda carries the typed topics in their parts.
        s.sync("2026-03-31T09:00:00Z");
        let d2 = description_at(&s.body(ALICE).await, &uid, W2);
        let pos = |needle: &str| {
            d2.find(needle)
                .unwrap_or_else(|| panic!("{kind:?}: {needle:?} not in {d2}"))
        };
        let (you, me, mgr) = (
            pos("15 minutes for you"),
            pos("15 minutes for me"),
            pos("Topics from"),
        );
        let laptop = pos("- [ ] need a new laptop");
        let budget = pos("- [ ] Can we talk about the conference budget?");
        assert!(
            you < laptop && laptop < me && you < budget && budget < me,
            "{kind:?}: {d2}"
        );
        assert!(mgr < pos("- [ ] Hiring plan for Q3"), "{kind:?}: {d2}");
        assert!(
            !d2.contains("Agreed: order"),
            "{kind:?}: the meeting's note carried: {d2}"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn answers_to_standing_questions_are_notes_and_a_line_under_minutes_for_me_is_a_topic() {
    let s = Setup::new(Kind::Radicale).await;
    s.connect_ok("2026-03-24T12:00:00Z");
    s.sync("2026-03-24T12:00:00Z");
    let uid = s.uid("weekly-alice");
    // Alice answers two questions in the invite (typed on, and indented under one), deletes
    // another, and the manager types a topic right under "15 minutes for me".
    s.user_edit(ALICE, &uid, W1, |d| {
        let d = d.replace(
            "- How are things going?",
            "- How are things going? Good, busy with the launch",
        );
        let d = insert_line_after(&d, "- Any blockers", "  pretty good, a bit tired");
        let d = d.replace("- Any feedback for me?\n", "");
        insert_line_after(&d, "15 minutes for me", "Team offsite in May")
    })
    .await;
    s.sync("2026-03-25T12:00:00Z");
    let store = s.db.store().await;
    let series = series_with_uid(&store, "weekly-alice").await;
    let items: Vec<(String, String)> = store
        .list_items(series.id, false)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.section, i.text))
        .collect();
    assert_eq!(
        items,
        [("manager".to_string(), "Team offsite in May".to_string())],
        "an answer became an item, or the topic is not the manager's"
    );
    let d1 = description_at(&s.body(ALICE).await, &uid, W1);
    assert_eq!(d1.matches("How are things going?").count(), 1, "{d1}");
    assert!(
        d1.contains("\n- How are things going? Good, busy with the launch\n"),
        "{d1}"
    );
    assert!(
        d1.contains("- Any blockers or bottlenecks?\n  pretty good, a bit tired\n"),
        "{d1}"
    );
    // The deleted question is the template's: written back, nothing made of it.
    assert_eq!(d1.matches("Any feedback for me?").count(), 1, "{d1}");
    // Read again, the invite means the same: nothing to write.
    s.sync("2026-03-25T12:05:00Z");
    let d1b = description_at(&s.body(ALICE).await, &uid, W1);
    assert_eq!(d1b, d1);
    assert_eq!(store.recent_runs(1).await.unwrap()[0].stats.writes, 0);

    // Held: the answers are the meeting's notes, not carried; the topic is.
    s.sync("2026-03-31T09:00:00Z");
    let h = s.cli(&["history", "--with", "alice@example.com", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&h.stdout).unwrap();
    let notes = v["meetings"][0]["notes"].to_string();
    assert!(
        notes.contains("How are things going? Good, busy with the launch")
            && notes.contains("pretty good, a bit tired"),
        "{v}"
    );
    let d2 = description_at(&s.body(ALICE).await, &uid, W2);
    assert!(
        !d2.contains("busy with the launch") && !d2.contains("a bit tired"),
        "{d2}"
    );
    assert_eq!(d2.matches("How are things going?").count(), 1, "{d2}");
    assert!(d2.contains("- [ ] Team offsite in May"), "{d2}");
    let open = store.list_items(series.id, true).await.unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    store.close().await;
}

// Multi-threaded: the CLI blocks one thread while the web server answers on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_to_a_web_server_that_is_not_caldav_says_so_once_without_its_page() {
    let s = Setup::new(Kind::Radicale).await;
    // A web server: a welcome page for GET, 501 for the methods it does not know.
    let app = axum::Router::new().fallback(|method: axum::http::Method| async move {
        if method == axum::http::Method::GET {
            (
                axum::http::StatusCode::OK,
                "<html><body><h1>Welcome to nginx!</h1></body></html>",
            )
        } else {
            (
                axum::http::StatusCode::NOT_IMPLEMENTED,
                "<html><body><h1>501 Not Implemented</h1></body></html>",
            )
        }
    });
    let url = crate::fixtures::proxy::serve(app).await;
    let err = failed_connect(&s, url.as_str(), None);
    assert!(
        err.contains("this is not a CalDAV server (it refuses CalDAV requests with HTTP 501)"),
        "{err}"
    );
    assert!(err.contains("use your provider's CalDAV address"), "{err}");
    assert_eq!(err.matches(url.as_str()).count(), 1, "{err}");
    assert!(!err.contains("<html") && !err.contains("nginx"), "{err}");
}

#[tokio::test]
async fn a_server_without_sync_collection_is_synced_by_ctag_and_etags_not_marked_unauthorized() {
    // sabre/dav 1.8 answers sync-collection 403 with DAV:supported-report: the calendar moves
    // to the listing method (ctag, then etags and a multiget of what changed) and the account
    // stays healthy.
    let s = Setup::new(Kind::SabreDigest).await;
    let text = s.connect();
    assert!(text.contains("3 recurring 1:1(s) found"), "{text}");
    let store = s.db.store().await;
    let out = s.cli(&["sync", "--once", "--now", "2026-03-01T12:00:00Z"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cal = store.list_calendars(1).await.unwrap().remove(0);
    assert!(
        cal.ctag.as_deref().is_some_and(|c| !c.is_empty()) && cal.sync_token.is_none(),
        "the listing method is recorded: {cal:?}"
    );
    // sabre/dav's multiget drops the CRs of calendar-data; the agenda written from it keeps the
    // event's CRLF line ends (RFC 5545) as the person's client stored them.
    let written = String::from_utf8(s.body(ALICE).await).unwrap();
    assert!(written.contains("oneonone agenda"), "{written}");
    assert_eq!(
        written.matches('\n').count(),
        written.matches("\r\n").count(),
        "bare line feeds in {written:?}"
    );
    let list = s.cli(&["series", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(3), "{v}");
    let listed = s.cli(&["accounts", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains(&format!("{}: synced by ctag and etag listing", s.calendar)),
        "{listed}"
    );
    assert!(
        listed.contains("ok") || listed.contains("waiting"),
        "{listed}"
    );

    // The pass after takes in the ctag our own agenda writes moved on; then an idle pass of
    // the binary writes nothing and asks the ctag once (after the Digest handshake every new
    // process makes: one 401).
    let again = s.cli(&["sync", "--once", "--now", "2026-03-01T12:05:00Z"]);
    assert!(again.status.success());
    let watched = ["calendars", "events", "series", "occurrences", "items"];
    s.db.log_writes(&watched).await;
    let idle = s.cli(&["sync", "--once", "--now", "2026-03-01T12:10:00Z"]);
    assert!(idle.status.success());
    assert_eq!(s.db.logged_writes().await, Vec::<String>::new());
    let runs = store.recent_runs(1).await.unwrap();
    assert_eq!(
        runs[0].stats.requests, 2,
        "one 401, one PROPFIND of the ctag"
    );

    // With one client that already speaks Digest: the idle fetch is one request; a new event
    // moves the ctag, and the etag listing and one multiget bring only that event.
    let client = &s.client;
    let cal = store.list_calendars(1).await.unwrap().remove(0);
    let now = t("2026-03-01T12:20:00Z");
    let before = client.request_count();
    let idle = fetch_calendar(client, &store, &cal, now).await.unwrap();
    assert!(idle.changed.is_empty(), "{:?}", idle.changed);
    assert_eq!(client.request_count() - before, 1);
    let new = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oneonone tests//EN\r\nBEGIN:VEVENT\r\n\
         UID:new-one\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260302T150000Z\r\nDURATION:PT30M\r\n\
         RRULE:FREQ=WEEKLY\r\nSUMMARY:1:1 Alice / Kim\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    s.put("new-one.ics", new.as_bytes().to_vec()).await;
    let before = client.request_count();
    let fetched = fetch_calendar(client, &store, &cal, now).await.unwrap();
    assert_eq!(
        client.request_count() - before,
        3,
        "ctag, etag listing, multiget"
    );
    assert_eq!(fetched.changed.len(), 1, "{:?}", fetched.changed);
    assert!(fetched.changed[0].ends_with("new-one.ics"));

    // The daemon keeps what the server asked for from pass to pass: after its first pass, an
    // idle one is the ctag alone, without a Digest handshake.
    let mut env = s.env();
    env.push(("ONEONONE__SYNC__INTERVAL_SECS", "1".into()));
    env.push(("ONEONONE__SYNC__JITTER", "0".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let daemon = crate::fixtures::daemon::Daemon::spawn(&s.db.url, &env);
    let started = std::time::Instant::now();
    let idle = loop {
        let runs = store.recent_runs(50).await.unwrap();
        // Three passes of the binary above, then the daemon's: its first, then idle ones.
        let account_runs: Vec<_> = runs
            .iter()
            .filter(|r| r.account_id == Some(1) && r.finished_at.is_some())
            .collect();
        if account_runs.len() >= 6 {
            break account_runs[0].stats.requests;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the daemon made no passes: {runs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(idle, 1, "an idle pass of the daemon is one request");
    // `/readyz` tells the calendar's method.
    let (code, body) = crate::fixtures::get(&daemon.url("/readyz")).await;
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["accounts"][0]["calendars"][0],
        serde_json::json!({"id": cal.id, "sync_method": "listing"}),
        "{body}"
    );
    store.close().await;
}
