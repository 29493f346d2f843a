//! Guarantee 10 on CalDAV servers that schedule: an agenda write into a new override that the
//! server refuses with 5xx (DAViCal, when an attendee is one of its users) is written again with
//! `SCHEDULE-AGENT=CLIENT` on the override's attendees, once, counted in `/metrics`. Here a proxy
//! in front of a real Radicale refuses like DAViCal; `interop` runs the same 1:1 on DAViCal itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use oneonone::provider::caldav::CalDavClient;
use secrecy::SecretString;

use crate::fixtures::caldav::{Setup, description_at};
use crate::fixtures::caldav_server::{CalDavServer, Kind, PASSWORD, USER};
use crate::fixtures::proxy::{Received, serve};
use crate::fixtures::{Daemon, get};

/// The first Monday the 1:1 gets an agenda when a pass runs at [`PASS`], and the Monday after.
const W1: &str = "2026-03-30T09:00:00Z";
const W2: &str = "2026-04-06T09:00:00Z";
const PASS: &str = "2026-03-24T12:00:00Z";
const USER_TEXT: &str = "Dave's own notes: keep me.";
/// What the pass logs when it writes a refused override again (see `caldav/pass.rs`).
const FALLBACK_LOG: &str = "new override refused; writing it with SCHEDULE-AGENT=CLIENT";

/// A weekly 1:1 organized by `USER` with Dave, both addresses in `domain`.
fn one_on_one(uid: &str, domain: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oneonone tests//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260302T090000Z\r\nDURATION:PT30M\r\n\
         RRULE:FREQ=WEEKLY;BYDAY=MO\r\nSUMMARY:1:1 Dave / Alice\r\nDESCRIPTION:{USER_TEXT}\r\n\
         ORGANIZER;CN=Alice:mailto:{USER}@{domain}\r\n\
         ATTENDEE;CN=Alice;PARTSTAT=ACCEPTED:mailto:{USER}@{domain}\r\n\
         ATTENDEE;CN=Dave Direct;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:dave@{domain}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// A calendar of its own on `kind` holding only that 1:1; returns the setup and the 1:1's UID.
async fn setup(kind: Kind, domain: &str) -> (Setup, String) {
    let s = Setup::empty(CalDavServer::start(kind)).await;
    let uid = format!("dave-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    s.put("dave.ics", one_on_one(&uid, domain).into_bytes())
        .await;
    (s, uid)
}

/// `connect caldav` at `url` as `USER@domain`, then the first `sync --once` (connecting writes
/// nothing), both at `now` and logging at info; their outputs one after the other.
fn connect(s: &Setup, url: &url::Url, domain: &str, now: &str) -> std::process::Output {
    let args = s.connect_args_as(url, &format!("{USER}@{domain}"), Some(now));
    let info = [("ONEONONE__LOG__LEVEL", "info")];
    let mut out = s.cli_with(&args, &info);
    let sync = s.cli_with(&["sync", "--once", "--now", now], &info);
    for (what, o) in [("connect", &out), ("sync", &sync)] {
        assert!(
            o.status.success(),
            "{:?}: {what} failed: {}{}",
            s.server.kind,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    out.stdout.extend(sync.stdout);
    out.stderr.extend(sync.stderr);
    out
}

/// `sync --once` at `now`, which must succeed; returns its log (info level).
fn sync_logged(s: &Setup, now: &str) -> String {
    let out = s.cli_with(&["sync", "--once", "--now", now], &[("RUST_LOG", "info")]);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{:?}: sync at {now}: {log}",
        s.server.kind
    );
    log
}

/// The unfolded ATTENDEE lines of the VEVENT holding `RECURRENCE-ID` (`true`) or the master.
fn attendees(body: &[u8], of_override: bool) -> Vec<String> {
    let text = String::from_utf8_lossy(body)
        .replace("\r\n ", "")
        .replace("\n ", "");
    text.split("BEGIN:VEVENT")
        .skip(1)
        .filter(|ev| ev.contains("RECURRENCE-ID") == of_override)
        .flat_map(|ev| {
            ev.lines()
                .filter(|l| l.starts_with("ATTENDEE"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The calendar address a content line ends with, lower-cased.
fn address(line: &str) -> String {
    line.rsplit(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// DAViCal 1.1's refusal (docs/decisions.md, "caldav interop"): a PUT holding an override one
/// of whose attendees (other than the organizer) the server would schedule.
fn refused_like_davical(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body)
        .replace("\r\n ", "")
        .replace("\n ", "");
    text.split("BEGIN:VEVENT").skip(1).any(|ev| {
        let lines: Vec<&str> = ev.lines().collect();
        if !lines.iter().any(|l| l.starts_with("RECURRENCE-ID")) {
            return false;
        }
        let organizer = lines
            .iter()
            .find(|l| l.starts_with("ORGANIZER"))
            .map(|l| address(l));
        lines.iter().any(|l| {
            l.starts_with("ATTENDEE")
                && Some(address(l)) != organizer
                && !l.contains("SCHEDULE-AGENT=CLIENT")
        })
    })
}

#[derive(Clone)]
struct DavicalLike {
    upstream: url::Url,
    http: reqwest::Client,
    refused: Arc<AtomicU32>,
    client_scheduled: Arc<AtomicU32>,
}

async fn davical_like(State(p): State<DavicalLike>, req: Request) -> Response {
    let r = Received::read(req).await;
    if r.method == axum::http::Method::PUT {
        if refused_like_davical(&r.body) {
            p.refused.fetch_add(1, Ordering::Relaxed);
            return (StatusCode::INTERNAL_SERVER_ERROR, "DAViCal Fatal Error").into_response();
        }
        if String::from_utf8_lossy(&r.body).contains("SCHEDULE-AGENT=CLIENT") {
            p.client_scheduled.fetch_add(1, Ordering::Relaxed);
        }
    }
    r.forward(&p.http, &p.upstream).await
}

async fn start_davical_like(upstream: url::Url) -> (url::Url, DavicalLike) {
    let p = DavicalLike {
        upstream,
        http: reqwest::Client::new(),
        refused: Arc::new(AtomicU32::new(0)),
        client_scheduled: Arc::new(AtomicU32::new(0)),
    };
    let app = axum::Router::new()
        .fallback(davical_like)
        .with_state(p.clone());
    (serve(app).await, p)
}

/// The value of an unlabelled counter in a `/metrics` text.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// What must hold after a pass wrote the W1 agenda: the user's text on top, the agenda after it,
/// the user's text alone in the other weeks, `SCHEDULE-AGENT=CLIENT` on Dave in the override only (with
/// `client_scheduled`), the master's attendees as they were.
fn assert_agenda_written(kind: Kind, body: &[u8], uid: &str, client_scheduled: bool) {
    let d1 = description_at(body, uid, W1);
    assert!(
        d1.starts_with(&format!("{USER_TEXT}\n\n── oneonone agenda")),
        "{kind:?}: the user's text must stay on top: {d1}"
    );
    assert!(d1.contains("Dave Direct goes first"), "{kind:?}: {d1}");
    assert_eq!(description_at(body, uid, W2), USER_TEXT, "{kind:?}");
    assert!(
        attendees(body, false)
            .iter()
            .all(|l| !l.contains("SCHEDULE-AGENT")),
        "{kind:?}: the master changed: {:?}",
        attendees(body, false)
    );
    let ours = attendees(body, true);
    assert_eq!(ours.len(), 2, "{kind:?}: {ours:?}");
    for l in &ours {
        let marked = l.contains("SCHEDULE-AGENT=CLIENT");
        let is_dave = address(l).starts_with("dave@");
        assert_eq!(marked, client_scheduled && is_dave, "{kind:?}: {l}");
    }
}

// Multi-threaded: the CLI runs as a blocking child process while the proxy serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_override_refused_with_500_is_written_once_more_with_client_scheduling() {
    let (s, uid) = setup(Kind::Radicale, "example.com").await;
    let (via, proxy) = start_davical_like(s.server.base.clone()).await;
    // Connected a month before the series starts: the first pass has nothing to write.
    let out = connect(&s, &via, "example.com", "2026-02-20T12:00:00Z");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 recurring 1:1(s) found"));
    assert_eq!(proxy.refused.load(Ordering::Relaxed), 0);

    let env = s.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let daemon = Daemon::spawn_with(&s.db.url, &["--now", PASS], &env);
    crate::fixtures::wait_for(
        "the pass that writes the agenda",
        Duration::from_secs(30),
        async || {
            let (_, m) = get(&daemon.url("/metrics")).await;
            metric(&m, "oneonone_writes_total") == Some(1.0)
        },
    )
    .await;
    let (_, m) = get(&daemon.url("/metrics")).await;
    assert_eq!(
        metric(&m, "oneonone_schedule_agent_fallbacks_total"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(proxy.refused.load(Ordering::Relaxed), 1, "one plain PUT");
    assert_eq!(proxy.client_scheduled.load(Ordering::Relaxed), 1);
    assert_eq!(daemon.log_text().matches(FALLBACK_LOG).count(), 1);
    drop(daemon);
    assert_agenda_written(Kind::Radicale, &s.body("dave.ics").await, &uid, true);

    // Dave adds a topic in the invite (a plain line, which the pass writes back as an item);
    // the next pass edits the override in place (it carries the parameters already): no
    // refusal, no second fallback, both texts kept.
    s.user_edit("dave.ics", &uid, W1, |d| {
        crate::fixtures::insert_line_after(d, "15 minutes for you", "Career growth")
    })
    .await;
    let log = sync_logged(&s, "2026-03-25T12:00:00Z");
    assert!(log.contains("agenda written"), "{log}");
    assert!(!log.contains(FALLBACK_LOG), "{log}");
    assert_eq!(proxy.refused.load(Ordering::Relaxed), 1);
    let body = s.body("dave.ics").await;
    assert_agenda_written(Kind::Radicale, &body, &uid, true);
    assert!(description_at(&body, &uid, W1).contains("- [ ] Career growth"));
}

#[tokio::test]
async fn a_server_that_accepts_the_plain_override_gets_no_schedule_agent() {
    // Radicale as it is: the plain write goes through, nothing is added.
    let (s, uid) = setup(Kind::Radicale, "example.com").await;
    let out = connect(&s, &s.server.base, "example.com", PASS);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains(FALLBACK_LOG), "{log}");
    assert_agenda_written(Kind::Radicale, &s.body("dave.ics").await, &uid, false);
}

/// The users `scripts/interop` creates on each server: their addresses' domain, and Dave's
/// scheduling inbox.
fn local_users(kind: Kind, base: &url::Url) -> (&'static str, url::Url) {
    match kind {
        Kind::Davical => ("davical.test", base.join("dave/.in/").unwrap()),
        Kind::Cyrus => (
            "internal",
            base.join("/dav/calendars/user/dave/Inbox/").unwrap(),
        ),
        other => panic!("{other:?} has no scheduling users"),
    }
}

/// Items in Dave's scheduling inbox (logging in as Dave also provisions him on Cyrus).
async fn inbox_items(inbox: &url::Url) -> usize {
    let dave = CalDavClient::new(
        "dave",
        SecretString::from(PASSWORD),
        Duration::from_secs(10),
    )
    .unwrap();
    let ms = dave
        .propfind(inbox, "1", &[("DAV:", "getetag")])
        .await
        .unwrap_or_else(|e| panic!("Dave's inbox {inbox}: {e}"));
    ms.responses
        .iter()
        .filter(|r| r.href.ends_with(".ics"))
        .count()
}

/// On a scheduling server whose users are the 1:1's organizer and direct, two weeks: each new
/// override is written (plainly on Cyrus; on DAViCal, which refuses the plain one, through the
/// fallback), Dave's edit in between is absorbed by an in-place rewrite, items carry over, and
/// Dave's scheduling inbox gets nothing from any of it.
pub(crate) async fn local_attendee_gets_an_agenda(kind: Kind) {
    let base = kind
        .external_url()
        .expect("scripts/interop names the server");
    let (domain, inbox) = local_users(kind, &base);
    // Dave logs in first: Cyrus creates a user's calendars at the first login.
    let before_series = inbox_items(&inbox).await;
    let (s, uid) = setup(kind, domain).await;
    let before_pass = inbox_items(&inbox).await;
    let out = connect(&s, &s.server.base, domain, PASS);
    let log = String::from_utf8_lossy(&out.stderr);
    let fallbacks = log.matches(FALLBACK_LOG).count();
    let after_pass = inbox_items(&inbox).await;
    eprintln!(
        "{kind:?}: Dave's inbox {before_series} -> {before_pass} (series created) -> \
         {after_pass} (agenda written); fallbacks {fallbacks}"
    );
    assert_eq!(
        fallbacks,
        usize::from(kind == Kind::Davical),
        "{kind:?}: {log}"
    );
    assert_agenda_written(kind, &s.body("dave.ics").await, &uid, fallbacks == 1);
    assert_eq!(
        after_pass, before_pass,
        "{kind:?}: the agenda write notified Dave"
    );

    // Dave adds a topic (a bullet, which the pass writes back as an item); the next pass
    // rewrites the override in place: no fallback needed.
    s.user_edit("dave.ics", &uid, W1, |d| {
        crate::fixtures::insert_line_after(d, "15 minutes for you", "- Career growth")
    })
    .await;
    let log = sync_logged(&s, "2026-03-25T12:00:00Z");
    assert!(log.contains("agenda written"), "{kind:?}: {log}");
    assert!(!log.contains(FALLBACK_LOG), "{kind:?}: {log}");
    let body = s.body("dave.ics").await;
    assert!(description_at(&body, &uid, W1).contains("- [ ] Career growth"));
    // The week after: W1 is closed, W2 is a new override again, the topic carried into it.
    let log = sync_logged(&s, "2026-03-31T12:00:00Z");
    assert_eq!(
        log.matches(FALLBACK_LOG).count(),
        fallbacks,
        "{kind:?}: {log}"
    );
    let body = s.body("dave.ics").await;
    let d2 = description_at(&body, &uid, W2);
    assert!(d2.contains("Career growth"), "{kind:?}: not carried: {d2}");
    assert!(
        d2.starts_with(&format!("{USER_TEXT}\n\n")),
        "{kind:?}: {d2}"
    );
    let end = inbox_items(&inbox).await;
    eprintln!("{kind:?}: Dave's inbox after two more passes: {end}");
    assert_eq!(end, before_pass, "{kind:?}: a later write notified Dave");
}
