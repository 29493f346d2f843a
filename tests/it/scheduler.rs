//! The daemon at work: several daemons sharing accounts through leases on one PostgreSQL, and
//! broken calendars that must not hold up the healthy ones.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use oneonone::provider::caldav::{CalDavClient, Precondition};
use oneonone::store::Store;
use secrecy::SecretString;

use crate::fixtures::caldav::{
    daily_one_on_one, seed_account, stored_account, stored_account_started,
};
use crate::fixtures::caldav_server::CalDavServer;
use crate::fixtures::{Daemon, TestDb, get, key_env, wait_for};

fn daemon_env<'a>(key: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("ONEONONE_SECRET_KEY", key),
        ("ONEONONE__SYNC__INTERVAL_SECS", "1"),
        ("ONEONONE__SYNC__JITTER", "0.0"),
        ("ONEONONE__SYNC__LEASE_SECS", "3"),
        ("ONEONONE__SYNC__CONCURRENCY", "4"),
        ("ONEONONE__LOG__LEVEL", "warn"),
    ];
    env.extend_from_slice(extra);
    env
}

/// (account, daemon, started, finished) of every finished per-account pass.
async fn account_runs(
    store: &Store,
) -> Vec<(
    i64,
    String,
    chrono::DateTime<chrono::Utc>,
    chrono::DateTime<chrono::Utc>,
)> {
    store
        .recent_runs(100_000)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| Some((r.account_id?, r.daemon_id, r.started_at, r.finished_at?)))
        .collect()
}

#[tokio::test]
async fn a_running_daemon_writes_nothing_for_an_account_connected_after_it_started_until_started() {
    let db = TestDb::sqlite();
    let server = CalDavServer::radicale_with_users(&[("ann".into(), "pw".into())]);
    let store = db.store().await;
    let key = key_env();
    let d = Daemon::spawn(&db.url, &daemon_env(&key, &[]));
    // Connected (as `connect` stores it) while the daemon runs: it waits to be started.
    let cal = server.base.join("/ann/work/").unwrap();
    let c = CalDavClient::new("ann", SecretString::from("pw"), Duration::from_secs(10)).unwrap();
    c.mkcalendar(&cal, "Work").await.unwrap();
    let url = cal.join("oo.ics").unwrap();
    c.put(&url, daily_one_on_one("ann"), &Precondition::Create)
        .await
        .unwrap();
    let before = c.get(&url).await.unwrap().body;
    let id = stored_account_started(&store, &server.base, "ann", "pw", &cal, None).await;
    let passes = async || {
        let runs = account_runs(&store).await;
        runs.iter().filter(|r| r.0 == id).count()
    };
    wait_for(
        "three preview passes",
        Duration::from_secs(30),
        async || passes().await >= 3,
    )
    .await;
    let a = store.get_account(id).await.unwrap();
    assert!(a.last_success_at.is_some(), "{a:?}\n{}", d.log_text());
    assert!(
        !store.list_series().await.unwrap().is_empty(),
        "the preview passes import and detect"
    );
    assert_eq!(
        c.get(&url).await.unwrap().body,
        before,
        "a pass wrote before the account was started"
    );

    // Started (the web page's Start, `sync --once`): the daemon's next pass writes.
    assert_eq!(
        store
            .start_writing(Some(&[id]), chrono::Utc::now())
            .await
            .unwrap(),
        vec![id]
    );
    wait_for("the first write", Duration::from_secs(30), async || {
        String::from_utf8_lossy(&c.get(&url).await.unwrap().body).contains("oneonone agenda")
    })
    .await;
    store.close().await;
}

#[tokio::test]
async fn several_daemons_share_accounts_without_overlap_and_take_over_from_a_killed_one() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("skipped: ONEONONE_TEST_POSTGRES_URL is not set");
        return;
    };
    const N: usize = 60;
    let users: Vec<(String, String)> = (0..N)
        .map(|i| (format!("user{i}"), "secret".to_string()))
        .collect();
    let server = CalDavServer::radicale_with_users(&users);
    let store = db.store().await;
    let mut ids = Vec::new();
    for (u, p) in &users {
        ids.push(seed_account(&store, &server.base, u, p).await);
    }
    let key = key_env();
    let env = daemon_env(&key, &[]);
    let mut daemons: Vec<Daemon> = (0..3).map(|_| Daemon::spawn(&db.url, &env)).collect();

    // Every account is processed, more than once.
    wait_for(
        "two passes of every account",
        Duration::from_secs(90),
        async || {
            let runs = account_runs(&store).await;
            ids.iter()
                .all(|id| runs.iter().filter(|r| r.0 == *id).count() >= 2)
        },
    )
    .await;

    // Never by two daemons at once: an account's passes do not overlap in time.
    let runs = account_runs(&store).await;
    let mut by_account: HashMap<i64, Vec<_>> = HashMap::new();
    for r in &runs {
        by_account.entry(r.0).or_default().push(r.clone());
    }
    for (id, mut rs) in by_account {
        rs.sort_by_key(|r| r.2);
        for w in rs.windows(2) {
            assert!(
                w[1].2 >= w[0].3,
                "account {id}: passes overlap: {:?} and {:?}",
                w[0],
                w[1]
            );
        }
    }
    let workers: HashSet<&String> = runs.iter().map(|r| &r.1).collect();
    assert!(
        workers.len() >= 2,
        "one daemon did all the work: {workers:?}"
    );
    // Exactly one agenda write per account: no daemon wrote over another.
    for s in store.list_series().await.unwrap() {
        assert_eq!(
            store.list_revisions(Some(s.id)).await.unwrap().len(),
            1,
            "series {}",
            s.id
        );
    }

    // kill -9 one daemon: its accounts are taken over within a lease period or so.
    let victim = daemons.remove(0);
    let victim_pid = victim.child.id();
    victim.signal("KILL");
    let killed_at = chrono::Utc::now();
    drop(victim);
    wait_for(
        "every account passed again after the kill",
        Duration::from_secs(30),
        async || {
            let runs = account_runs(&store).await;
            ids.iter().all(|id| {
                runs.iter()
                    .any(|r| r.0 == *id && r.2 > killed_at + chrono::Duration::seconds(3))
            })
        },
    )
    .await;
    let late = account_runs(&store)
        .await
        .into_iter()
        .filter(|r| r.2 > killed_at + chrono::Duration::seconds(1));
    for r in late {
        assert!(
            !r.1.contains(&format!("-{victim_pid}-")),
            "a dead daemon ran a pass: {r:?}"
        );
    }
    for d in &daemons {
        let (code, body) = get(&d.url("/readyz")).await;
        assert_eq!(code, 200, "{body}");
    }

    // SIGTERM gives the leases back at once.
    let mut last = daemons.pop().unwrap();
    let pid = last.child.id();
    last.signal("TERM");
    assert_eq!(last.wait_exit(Duration::from_secs(10)).0, Some(0));
    let held: Vec<_> = store
        .list_accounts()
        .await
        .unwrap()
        .into_iter()
        .filter(|a| {
            a.lease_owner
                .as_deref()
                .is_some_and(|o| o.contains(&format!("-{pid}-")))
        })
        .collect();
    assert!(held.is_empty(), "leases kept after SIGTERM: {held:?}");
    store.close().await;
}

/// A TCP server that accepts connections and never answers.
fn black_hole() -> (u16, std::thread::JoinHandle<()>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().take(200) {
            held.push(s);
        }
    });
    (port, h)
}

/// An HTTP server that answers 500 to everything.
async fn always_500() -> u16 {
    let app = axum::Router::new()
        .fallback(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom") });
    let url = crate::fixtures::proxy::serve(app).await;
    url.port().unwrap()
}

#[tokio::test]
async fn broken_calendars_do_not_hold_up_healthy_ones_and_readyz_tells_each_state() {
    const HEALTHY: usize = 20;
    let mut users: Vec<(String, String)> = (0..HEALTHY)
        .map(|i| (format!("ok{i}"), "secret".into()))
        .collect();
    users.push(("revoked".into(), "the-real-one".into()));
    let server = CalDavServer::radicale_with_users(&users);
    let db = TestDb::sqlite();
    let store = db.store().await;
    let mut healthy = Vec::new();
    for (u, p) in users.iter().take(HEALTHY) {
        healthy.push(seed_account(&store, &server.base, u, p).await);
    }
    let (hole, _keep) = black_hole();
    let hole_base = url::Url::parse(&format!("http://127.0.0.1:{hole}/")).unwrap();
    let hanging = stored_account(
        &store,
        &hole_base,
        "hang",
        "x",
        &hole_base.join("/hang/work/").unwrap(),
    )
    .await;
    let five = url::Url::parse(&format!("http://127.0.0.1:{}/", always_500().await)).unwrap();
    let failing = stored_account(
        &store,
        &five,
        "boom",
        "x",
        &five.join("/boom/work/").unwrap(),
    )
    .await;
    let revoked_cal = server.base.join("/revoked/work/").unwrap();
    let revoked = stored_account(
        &store,
        &server.base,
        "revoked",
        "an-old-password",
        &revoked_cal,
    )
    .await;

    let key = key_env();
    let env = daemon_env(
        &key,
        &[
            ("ONEONONE__SYNC__REQUEST_TIMEOUT_SECS", "2"),
            ("ONEONONE__SYNC__PASS_TIMEOUT_SECS", "4"),
        ],
    );
    let started = Instant::now();
    let daemon = Daemon::spawn(&db.url, &env);
    wait_for(
        "every healthy account synced",
        Duration::from_secs(30),
        async || {
            let accounts = store.list_accounts().await.unwrap();
            healthy.iter().all(|id| {
                accounts
                    .iter()
                    .any(|a| a.id == *id && a.last_success_at.is_some())
            })
        },
    )
    .await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "healthy accounts waited {took:?} behind broken ones"
    );

    wait_for(
        "every broken account to report",
        Duration::from_secs(30),
        async || {
            let (_, body) = get(&daemon.url("/readyz")).await;
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let state = |id: i64| {
                v["accounts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["id"] == id)
                    .map(|a| {
                        (
                            a["state"].as_str().unwrap_or("").to_string(),
                            a["last_error_kind"].as_str().unwrap_or("").to_string(),
                        )
                    })
            };
            state(hanging) == Some(("backing_off".into(), "timeout".into()))
                && state(failing) == Some(("backing_off".into(), "server_error".into()))
                && state(revoked) == Some(("needs_reconnect".into(), "unauthorized".into()))
        },
    )
    .await;
    let (code, body) = get(&daemon.url("/readyz")).await;
    assert_eq!(code, 200, "{body}");
    assert!(
        !body.contains("the-real-one") && !body.contains("an-old-password"),
        "{body}"
    );
    // Each calendar with how it is synced (Radicale has sync-collection), by id, not its URL.
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let first = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == healthy[0])
        .unwrap();
    let cals = first["calendars"].as_array().unwrap();
    assert_eq!(cals.len(), 1, "{first}");
    assert!(cals[0]["id"].is_i64(), "{first}");
    assert_eq!(cals[0]["sync_method"], "sync_collection", "{first}");
    assert!(!body.contains("/ok0/"), "{body}");
    let (_, metrics) = get(&daemon.url("/metrics")).await;
    assert!(
        metrics.contains("oneonone_accounts{state=\"needs_reconnect\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("oneonone_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    store.close().await;
}

#[tokio::test]
async fn killing_the_daemon_at_random_points_never_loses_text_or_doubles_an_agenda() {
    use rand::Rng;
    const USERS: usize = 3;
    let users: Vec<(String, String)> = (0..USERS)
        .map(|i| (format!("crash{i}"), "secret".into()))
        .collect();
    let server = CalDavServer::radicale_with_users(&users);
    let db = TestDb::sqlite();
    let store = db.store().await;
    for (u, p) in &users {
        let cal = server.base.join(&format!("/{u}/work/")).unwrap();
        let c =
            CalDavClient::new(u, SecretString::from(p.clone()), Duration::from_secs(10)).unwrap();
        c.mkcalendar(&cal, "Work").await.unwrap();
        let body = String::from_utf8(daily_one_on_one(u)).unwrap().replace(
            "SUMMARY:",
            &format!("DESCRIPTION:Own text of {u}\\, with a comma\\nand a second line\r\nSUMMARY:"),
        );
        c.put(
            &cal.join("oo.ics").unwrap(),
            body.into_bytes(),
            &Precondition::Create,
        )
        .await
        .unwrap();
        stored_account(&store, &server.base, u, p, &cal).await;
    }
    let key = key_env();
    let env = daemon_env(&key, &[]);
    let mut rng = rand::rng();
    for _ in 0..50 {
        let d = Daemon::spawn(&db.url, &env);
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..1200))).await;
        d.signal("KILL");
        drop(d);
    }
    // One clean pass after the storm, once the killed daemons' leases (3 s) have lapsed: until
    // then the accounts are theirs, by design.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let envs: Vec<(&str, &str)> = env
        .iter()
        .copied()
        .chain([("ONEONONE__DATABASE__URL", db.url.as_str())])
        .collect();
    let out = crate::fixtures::run_cli(&["sync", "--once"], &envs);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let now = chrono::Utc::now();
    for (u, p) in &users {
        let c =
            CalDavClient::new(u, SecretString::from(p.clone()), Duration::from_secs(10)).unwrap();
        let url = server.base.join(&format!("/{u}/work/oo.ics")).unwrap();
        let body = c.get(&url).await.unwrap().body;
        let cal = oneonone::ics::parse(&body).unwrap();
        let series = &cal.series[0];
        let occ = oneonone::ics::expand(
            series,
            now - chrono::Duration::days(3),
            now + chrono::Duration::days(8),
            chrono_tz::UTC,
        )
        .unwrap();
        let next = occ
            .iter()
            .find(|o| o.end > now)
            .expect("an upcoming occurrence");
        let mut agendas = 0;
        for o in &occ {
            let d = o.description.clone().unwrap_or_default();
            assert!(
                d.contains("Own text of"),
                "{u}: user text lost at {}: {d}",
                o.original_start
            );
            assert!(
                d.starts_with(&format!("Own text of {u}, with a comma\nand a second line")),
                "{u}: {d}"
            );
            let block = oneonone::agenda::parse_block(&d, oneonone::agenda::Format::Plain, 1 << 20)
                .unwrap_or_else(|e| panic!("{u}: damaged block at {}: {e}\n{d}", o.original_start));
            if block.is_some() && o.original_start == next.original_start {
                agendas += 1;
            }
            assert_eq!(
                d.matches("── oneonone agenda").count(),
                usize::from(block.is_some()),
                "{u}: {d}"
            );
        }
        assert_eq!(
            agendas, 1,
            "{u}: the upcoming occurrence must carry exactly one agenda"
        );
    }
    // The database is consistent: no orphan rows.
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    let orphans: Vec<(String, i64, String, i64)> = sqlx::query_as("PRAGMA foreign_key_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(orphans.is_empty(), "{orphans:?}");
    let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(ok, "ok");
    for s in store.list_series().await.unwrap() {
        for o in store.list_occurrences(s.id).await.unwrap() {
            assert!(o.closed_at.is_none() || o.status != "upcoming", "{o:?}");
        }
    }
    store.close().await;
}

#[tokio::test]
async fn a_sync_asked_for_through_the_api_runs_at_once() {
    const TOKEN: &str = "t0k3n-for-the-scheduler-0123456789";
    let users = vec![("api0".to_string(), "secret".to_string())];
    let server = CalDavServer::radicale_with_users(&users);
    let db = TestDb::sqlite();
    let store = db.store().await;
    let id = seed_account(&store, &server.base, "api0", "secret").await;
    let key = key_env();
    let env = daemon_env(
        &key,
        &[
            ("ONEONONE__SYNC__INTERVAL_SECS", "3600"),
            ("ONEONONE__SERVER__ADMIN_TOKEN", TOKEN),
        ],
    );
    let daemon = Daemon::spawn(&db.url, &env);
    let passes = async || {
        account_runs(&store)
            .await
            .iter()
            .filter(|r| r.0 == id)
            .count()
    };
    wait_for("the first pass", Duration::from_secs(20), async || {
        passes().await == 1
    })
    .await;

    let http = reqwest::Client::new();
    let url = daemon.url(&format!("/api/v1/accounts/{id}/sync"));
    let post = |token: Option<&'static str>, url: String| {
        let mut r = http.post(url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(None, url.clone()).await, 401);
    assert_eq!(post(Some("wrong"), url.clone()).await, 401);
    assert_eq!(
        post(Some(TOKEN), daemon.url("/api/v1/accounts/999/sync")).await,
        404
    );
    assert_eq!(post(Some(TOKEN), url.clone()).await, 202);
    // The loop sleeps for an hour, but the request wakes it.
    wait_for("the requested pass", Duration::from_secs(10), async || {
        passes().await == 2
    })
    .await;

    // Without a configured token the API does not exist.
    let db2 = TestDb::sqlite();
    let plain = Daemon::spawn(&db2.url, &daemon_env(&key, &[]));
    assert_eq!(
        post(Some(TOKEN), plain.url("/api/v1/accounts/1/sync")).await,
        404
    );
    store.close().await;
}

/// A provider that takes its time, so a lease can be taken away mid-pass.
struct Slow;

impl oneonone::sync::AccountSyncer for Slow {
    fn sync<'a>(
        &'a self,
        _account: &'a oneonone::store::Account,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> futures::future::BoxFuture<'a, Result<oneonone::store::RunStats, oneonone::sync::PassError>>
    {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(4)).await;
            Ok(oneonone::store::RunStats::default())
        })
    }
}

#[tokio::test]
async fn a_pass_that_loses_its_lease_stops_and_leaves_the_new_holder_alone() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let users = [("lease0".to_string(), "x".to_string())];
    let base = url::Url::parse("http://127.0.0.1:1/").unwrap();
    let id = stored_account(
        &store,
        &base,
        &users[0].0,
        &users[0].1,
        &base.join("/lease0/work/").unwrap(),
    )
    .await;
    let mut cfg = oneonone::config::Config::defaults().sync;
    cfg.lease_secs = 3;
    let scheduler = oneonone::sync::Scheduler {
        store: store.clone(),
        cfg,
        daemon_id: "daemon-a".into(),
        clock: oneonone::clock::from_option(None),
        syncer: std::sync::Arc::new(Slow),
        heartbeat: Default::default(),
        wake: Default::default(),
    };
    let pass = tokio::spawn(async move { scheduler.sync_now(&[id]).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Another daemon takes the account over (as if daemon-a had stalled past its lease).
    store.release_leases("daemon-a").await.unwrap();
    let now = chrono::Utc::now();
    assert!(
        store
            .claim_account("daemon-b", id, now, now + chrono::Duration::seconds(60))
            .await
            .unwrap()
            .is_some()
    );
    let summary = pass.await.unwrap();
    assert_eq!(summary.failed, 1);
    let a = store.get_account(id).await.unwrap();
    assert_eq!(a.last_error_kind.as_deref(), Some("lease_lost"));
    assert_eq!(
        a.lease_owner.as_deref(),
        Some("daemon-b"),
        "the stopped pass freed another daemon's lease"
    );
    store.close().await;
}

/// A provider that counts how many passes run at once.
#[derive(Default)]
struct Counting {
    running: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

struct CountingSyncer(std::sync::Arc<Counting>);

impl oneonone::sync::AccountSyncer for CountingSyncer {
    fn sync<'a>(
        &'a self,
        _account: &'a oneonone::store::Account,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> futures::future::BoxFuture<'a, Result<oneonone::store::RunStats, oneonone::sync::PassError>>
    {
        use std::sync::atomic::Ordering::SeqCst;
        let c = &self.0;
        Box::pin(async move {
            let n = c.running.fetch_add(1, SeqCst) + 1;
            c.peak.fetch_max(n, SeqCst);
            tokio::time::sleep(Duration::from_millis(200)).await;
            c.running.fetch_sub(1, SeqCst);
            Ok(oneonone::store::RunStats::default())
        })
    }
}

#[tokio::test]
async fn sync_once_works_on_several_accounts_at_a_time_within_the_concurrency_limit() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let base = url::Url::parse("http://127.0.0.1:1/").unwrap();
    let mut ids = Vec::new();
    for i in 0..8 {
        let user = format!("many{i}");
        let cal = base.join(&format!("/{user}/work/")).unwrap();
        ids.push(stored_account(&store, &base, &user, "x", &cal).await);
    }
    let mut cfg = oneonone::config::Config::defaults().sync;
    cfg.concurrency = 3;
    let counting = std::sync::Arc::new(Counting::default());
    let scheduler = oneonone::sync::Scheduler {
        store: store.clone(),
        cfg,
        daemon_id: "daemon-a".into(),
        clock: oneonone::clock::from_option(None),
        syncer: std::sync::Arc::new(CountingSyncer(counting.clone())),
        heartbeat: Default::default(),
        wake: Default::default(),
    };
    let summary = scheduler.sync_now(&ids).await.unwrap();
    assert_eq!((summary.accounts, summary.failed), (8, 0));
    let peak = counting.peak.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(peak, 3, "passes at once: {peak} (concurrency 3)");
    assert_eq!(account_runs(&store).await.len(), 8);
    store.close().await;
}

/// A provider that holds each pass until the test lets it go, then succeeds or fails.
struct Gated {
    started: std::sync::Arc<tokio::sync::Notify>,
    release: std::sync::Arc<tokio::sync::Notify>,
    fail: bool,
}

impl oneonone::sync::AccountSyncer for Gated {
    fn sync<'a>(
        &'a self,
        _account: &'a oneonone::store::Account,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> futures::future::BoxFuture<'a, Result<oneonone::store::RunStats, oneonone::sync::PassError>>
    {
        Box::pin(async move {
            self.started.notify_one();
            self.release.notified().await;
            if self.fail {
                Err(oneonone::sync::PassError::transient("http", "503"))
            } else {
                Ok(oneonone::store::RunStats::default())
            }
        })
    }
}

#[tokio::test]
async fn a_sync_asked_for_during_a_pass_is_due_again_when_the_pass_ends() {
    for db in TestDb::all().await {
        for fail in [false, true] {
            let store = db.store().await;
            let base = url::Url::parse("http://127.0.0.1:1/").unwrap();
            let user = format!("gated{}", u8::from(fail));
            let cal = base.join(&format!("/{user}/work/")).unwrap();
            let id = stored_account(&store, &base, &user, "x", &cal).await;
            let now = chrono::Utc::now();
            let clock = oneonone::clock::from_option(Some(now));
            let started = std::sync::Arc::new(tokio::sync::Notify::new());
            let release = std::sync::Arc::new(tokio::sync::Notify::new());
            let mut cfg = oneonone::config::Config::defaults().sync;
            cfg.jitter = 0.0;
            let scheduler = oneonone::sync::Scheduler {
                store: store.clone(),
                cfg,
                daemon_id: "daemon-a".into(),
                clock,
                syncer: std::sync::Arc::new(Gated {
                    started: started.clone(),
                    release: release.clone(),
                    fail,
                }),
                heartbeat: Default::default(),
                wake: Default::default(),
            };
            // A pass of that account alone (a pass over all due accounts would take the request
            // up in its next batch, blocking this test's gate).
            let pass = tokio::spawn(async move {
                let first = scheduler.sync_now(&[id]).await.unwrap();
                (scheduler, first)
            });
            started.notified().await;
            // "Sync now" while the pass is running.
            assert!(store.request_sync(id, now).await.unwrap());
            release.notify_one();
            let (scheduler, first) = pass.await.unwrap();
            assert_eq!(
                (first.accounts, first.failed),
                (1, usize::from(fail)),
                "{}",
                db.kind
            );
            let a = store.get_account(id).await.unwrap();
            // (PostgreSQL keeps microseconds.)
            assert!(
                a.next_due_at.is_some_and(|d| d <= now),
                "{} (fail={fail}): the request was scheduled over: {:?}",
                db.kind,
                a.next_due_at
            );
            assert_eq!(a.lease_owner, None, "{}", db.kind);
            // And the next pass takes it up; without a request, the interval applies again.
            let again = tokio::spawn(async move { scheduler.pass_once().await.unwrap() });
            started.notified().await;
            release.notify_one();
            assert_eq!(again.await.unwrap().accounts, 1, "{}", db.kind);
            let a = store.get_account(id).await.unwrap();
            assert!(
                a.next_due_at.unwrap() > now,
                "{} (fail={fail}): due again without a request",
                db.kind
            );
            store.close().await;
        }
    }
}
