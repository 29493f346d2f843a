//! Issue 27: the direct's way in, in the invite. Their private link goes into their section only
//! with an https `server.public_url` (formerly `google.push_url`, still read with a warning); a
//! new link or a revoke rewrites the line at the next pass. The day before the meeting, with no
//! topic queued, one question asks for one: written once, never again for that occurrence, and
//! counted in `/metrics`. On Radicale and the Google test server, each on SQLite and PostgreSQL.

use std::time::Duration;

use crate::fixtures::TestDb;
use crate::fixtures::backend::{Backend, CONNECTED, CalDav, Edit, Google, OneOnOne, Slot};
use crate::fixtures::caldav_server::Kind;
use crate::fixtures::daemon::Daemon;
use oneonone::agenda::START_MARKER;

/// The manager's own text in the Monday 1:1: never the daemon's to change.
const OWN: &str = "Our own notes: keep me.";
/// The public address the tests give the daemon.
const BASE: &str = "https://1on1.example.com";
/// The nudge of the default template, without a link.
const NUDGE: &str = "Anything on your mind for this one? Add a line below.";

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

on_radicale_and_google!(the_link_line_needs_https_and_follows_rotate_and_revoke);
on_radicale_and_google!(the_nudge_is_written_once_at_its_time_when_nothing_is_queued);

/// `sync --once` at `now` with `env` over the backend's, which must succeed.
async fn sync_with<B: Backend>(b: &B, now: &str, env: &[(&str, &str)]) {
    let out = b.cli_with(&["sync", "--once", "--now", now], env).await;
    assert!(out.status.success(), "{}: {out:?}", b.name());
}

/// The series id of `m`.
async fn series_id<B: Backend>(b: &B, m: &OneOnOne) -> i64 {
    crate::continuation::listed(b, &m.id).await["id"]
        .as_i64()
        .unwrap()
}

/// The direct's link in a description, if it holds one.
fn link_in(description: &str) -> Option<String> {
    let re = regex::Regex::new(r"https://1on1\.example\.com/d/[A-Za-z0-9_-]{43}").unwrap();
    re.find(description).map(|m| m.as_str().to_string())
}

async fn the_link_line_needs_https_and_follows_rotate_and_revoke<B: Backend>(mut b: B) {
    let name = b.name();
    let monday = b.create(Slot::Monday, OWN).await;
    b.connect(CONNECTED).await;
    let w0 = monday.slot.at(0);
    // Far from the meeting: no nudge in the way.
    let off = ("ONEONONE__AGENDA__NUDGE_BEFORE_HOURS", "0");

    // No public address, then a plain http one: the invite carries no link.
    sync_with(&b, CONNECTED, &[off]).await;
    let plain = [
        off,
        ("ONEONONE__SERVER__PUBLIC_URL", "http://1on1.example.com"),
    ];
    sync_with(&b, "2026-03-24T12:05:00Z", &plain).await;
    let d = b.description(&monday, &w0).await;
    assert!(d.contains(START_MARKER) && d.contains(OWN), "{name}: {d}");
    assert!(
        !d.contains("/d/") && !d.contains("Add your topics"),
        "{name}: {d}"
    );

    // https: the first pass makes the link and writes it under the direct's heading (and, on
    // Google, opens the push channel on the same address: a request that changes something).
    let https = [off, ("ONEONONE__SERVER__PUBLIC_URL", BASE)];
    sync_with(&b, "2026-03-24T12:10:00Z", &https).await;
    let before = b.writes() - 1;
    let d = b.description(&monday, &w0).await;
    let first = link_in(&d).unwrap_or_else(|| panic!("{name}: no link in\n{d}"));
    assert!(
        d.contains(&format!("Add your topics: {first}")) && d.contains(OWN),
        "{name}: {d}"
    );
    // Read back, it is the template's line: no topic made of it, nothing written again.
    sync_with(&b, "2026-03-24T12:15:00Z", &https).await;
    assert_eq!(
        b.writes(),
        before + 1,
        "{name}: the link line was written again"
    );
    let items = b
        .cli_ok(&["item", "list", "--with", &monday.direct.email])
        .await;
    assert!(
        !items.contains("/d/"),
        "{name}: the link became an item: {items}"
    );
    // The page the link opens is the series' (the link is the one the web page would give).
    let mut env = b.env();
    env.push(("ONEONONE__SERVER__PUBLIC_URL".into(), BASE.into()));
    let services = crate::fixtures::services(env).await;
    let id = series_id(&b, &monday).await;
    let token = first.rsplit('/').next().unwrap();
    assert_eq!(
        services
            .store
            .series_for_link(&oneonone::web::token_digest(token))
            .await
            .unwrap(),
        Some(id),
        "{name}"
    );

    // A new link: the next pass writes it in place of the old one.
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-24T12:20:00Z")
        .unwrap()
        .to_utc();
    let token = oneonone::web::rotate_direct_link(&services.store, &services.keyring, id, now)
        .await
        .unwrap();
    sync_with(&b, "2026-03-24T12:21:00Z", &https).await;
    let d = b.description(&monday, &w0).await;
    let second = link_in(&d).unwrap_or_else(|| panic!("{name}: no link in\n{d}"));
    assert_eq!(second, format!("{BASE}/d/{token}"), "{name}");
    assert!(!d.contains(&first) && d.contains(OWN), "{name}: {d}");
    assert_eq!(b.writes(), before + 2, "{name}");

    // Revoked: the next pass takes the line out, and no pass makes a new link by itself.
    services.store.revoke_series_link(id, now).await.unwrap();
    services.store.close().await;
    sync_with(&b, "2026-03-24T12:30:00Z", &https).await;
    sync_with(&b, "2026-03-24T12:35:00Z", &https).await;
    let d = b.description(&monday, &w0).await;
    assert!(
        !d.contains("/d/") && !d.contains("Add your topics") && d.contains(OWN),
        "{name}: {d}"
    );
    assert_eq!(b.writes(), before + 3, "{name}");
    b.check();
}

async fn the_nudge_is_written_once_at_its_time_when_nothing_is_queued<B: Backend>(mut b: B) {
    let name = b.name();
    let monday = b.create(Slot::Monday, OWN).await;
    let tuesday = b.create(Slot::Tuesday, "").await;
    b.connect(CONNECTED).await;
    // Tuesday's direct has a topic queued: never nudged, though their meeting is 2 hours away.
    b.cli_ok(&[
        "item",
        "add",
        "--with",
        &tuesday.direct.email,
        "--section",
        "direct",
        "Career chat",
    ])
    .await;
    b.sync(CONNECTED).await;
    let (w0, t0) = (monday.slot.at(0), tuesday.slot.at(0));
    let t = b.description(&tuesday, &t0).await;
    assert!(
        t.contains("Career chat") && !t.contains(NUDGE),
        "{name}: {t}"
    );
    let d = b.description(&monday, &w0).await;
    assert!(
        d.contains(START_MARKER) && !d.contains(NUDGE),
        "{name}: {d}"
    );

    // Monday 30 March 10:00 in Berlin is 08:00 UTC: the nudge is due from 08:00 on the 29th.
    b.sync("2026-03-29T07:59:00Z").await;
    let quiet = b.description(&monday, &w0).await;
    assert!(!quiet.contains(NUDGE), "{name}: nudged early: {quiet}");
    let writes = b.writes();

    // At the time, the running daemon writes it: one write, counted.
    let env = b.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let db_url = b.db().url.clone();
    let d = Daemon::spawn_with(&db_url, &["--now", "2026-03-29T08:00:30Z"], &env);
    let mut metrics = String::new();
    for _ in 0..60 {
        metrics = reqwest::get(d.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains("oneonone_nudges_written_total 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(d);
    assert!(
        metrics.contains("oneonone_nudges_written_total 1"),
        "{name}: {metrics}"
    );
    assert_eq!(b.writes(), writes + 1, "{name}");
    let nudged = b.description(&monday, &w0).await;
    assert_eq!(nudged.matches(NUDGE).count(), 1, "{name}: {nudged}");
    assert!(nudged.contains(OWN), "{name}: {nudged}");

    // Never again for this meeting: later passes, up to and into it, write nothing.
    for now in [
        "2026-03-29T12:00:00Z",
        "2026-03-30T07:00:00Z",
        "2026-03-30T08:10:00Z",
    ] {
        b.sync(now).await;
        assert_eq!(b.writes(), writes + 1, "{name}: written again at {now}");
    }
    assert_eq!(b.description(&monday, &w0).await, nudged, "{name}");

    // The direct answers it in the invite: a topic, and the question goes (the usual write).
    let answer = Edit::LineUnder(
        "Anything on your mind for this one?",
        "Roadmap worries".into(),
    );
    b.edit(&monday, &w0, &[answer]).await;
    b.sync("2026-03-30T07:59:00Z").await;
    let d = b.description(&monday, &w0).await;
    assert!(
        d.contains("[ ] Roadmap worries") && !d.contains(NUDGE),
        "{name}: {d}"
    );
    // Tuesday's next meeting (31 March 15:00 in Berlin) is within a day later on: its topic
    // is carried, so it is not nudged either.
    b.sync("2026-03-30T13:30:00Z").await;
    let t = b.description(&tuesday, &tuesday.slot.at(1)).await;
    assert!(
        t.contains("Career chat") && !t.contains(NUDGE),
        "{name}: {t}"
    );
    assert!(b.notices().await.is_empty(), "{name}: someone was notified");
    b.check();
}

/// `/readyz` says why invites carry no link, naming the setting; the old key still works, with
/// a warning in the log naming the new one.
#[tokio::test]
async fn readyz_says_why_the_link_is_not_in_the_invites() {
    let db = TestDb::sqlite();
    let readyz = async |d: &Daemon| -> serde_json::Value {
        reqwest::get(d.url("/readyz"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let key = tempfile::tempdir().unwrap();
    let key_file = key.path().join("key").display().to_string();
    let base = [("ONEONONE__SECRETS__KEY_FILE", key_file.as_str())];

    let d = Daemon::spawn(&db.url, &base);
    let r = readyz(&d).await;
    assert_eq!(r["direct_link"]["in_invites"], false, "{r}");
    let why = r["direct_link"]["why_not"].as_str().unwrap();
    assert!(why.contains("server.public_url"), "{why}");
    drop(d);

    let old = [
        base[0],
        ("ONEONONE__GOOGLE__PUSH_URL", "https://1on1.example.com"),
    ];
    let d = Daemon::spawn(&db.url, &old);
    let r = readyz(&d).await;
    assert_eq!(r["direct_link"]["in_invites"], true, "{r}");
    assert!(r["direct_link"].get("why_not").is_none(), "{r}");
    let logs = d.log_text();
    assert_eq!(
        logs.matches("google.push_url is deprecated").count(),
        1,
        "{logs}"
    );
    assert!(logs.contains("server.public_url"), "{logs}");
    // `config check` says it too.
    let out = crate::fixtures::run_cli(&["config", "check"], &old);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        said.contains("warning: google.push_url is deprecated") && said.contains("ok: defaults"),
        "{said}"
    );
}

/// `secrets rotate` re-encrypts the links kept for the invites with the rest, so the invites
/// keep their link under the new key.
#[tokio::test]
async fn rotating_the_secrets_key_reencrypts_the_links_kept_for_the_invites() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let (alice, _) = crate::fixtures::team::team(&store).await;
    store.close().await;
    let keydir = tempfile::tempdir().unwrap();
    let key_file = keydir.path().join("key").display().to_string();
    let env = [
        ("ONEONONE__DATABASE__URL", db.url.as_str()),
        ("ONEONONE__SECRETS__KEY_FILE", key_file.as_str()),
        ("ONEONONE__LOG__LEVEL", "warn"),
    ];
    let owned = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let services = crate::fixtures::services(owned).await;
    oneonone::web::rotate_direct_link(
        &services.store,
        &services.keyring,
        alice.id,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    services.store.close().await;
    let out = crate::fixtures::run_cli(&["secrets", "rotate"], &env);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(said.contains("1 direct's link(s)"), "{said}");
}
