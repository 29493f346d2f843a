//! Benchmarks on the Google test server (issue 11). Ignored in normal runs: `scripts/bench` runs
//! `cargo test --release --test it bench_google -- --ignored` and reads the `BENCH {json}` lines
//! printed here. Figures, not assertions: the daemon under test is the real release binary.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use oneonone::store::{NewAccount, Provider, Store};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::fixtures::google::{OAuthServer, google_env, insert_after, inst};
use crate::fixtures::google_server::{GoogleServer, single_event, weekly_one_on_one};
use crate::fixtures::{BIN, Daemon, TestDb, key_env, keyring};

const ADMIN: &str = "bench-admin-token-0123456789";
const EVENTS: usize = 100;
/// Accounts in the scale run; ONEONONE_BENCH_ACCOUNTS makes a quick smaller run.
fn accounts() -> usize {
    std::env::var("ONEONONE_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}
/// The 1:1s of every calendar (the rest: team meetings and one-off events).
const ONE_ON_ONES: [&str; 4] = ["Bob", "Carol", "Dave", "Erin"];

/// A manager's calendar of `EVENTS` events: four weekly 1:1s, six weekly team meetings and
/// one-off events, as Google stores them.
fn fill_calendar(google: &GoogleServer, cal: &str) {
    google.add_calendar(cal, "Europe/Berlin");
    for (k, who) in ONE_ON_ONES.iter().enumerate() {
        let start = format!("2026-03-0{}T10:00:00", 2 + k);
        google.insert(
            cal,
            weekly_one_on_one(&format!("oo{k}"), &start, "Europe/Berlin", who),
        );
    }
    let teams = 6;
    for k in 0..teams {
        let start = format!("2026-03-0{}T14:00:00", 2 + k % 5);
        let mut team = weekly_one_on_one(&format!("tm{k}"), &start, "Europe/Berlin", "Bob");
        team["summary"] = json!(format!("Team sync {k}"));
        for other in ["carol", "dave"] {
            team["attendees"].as_array_mut().unwrap().push(
                json!({"email": format!("{other}@example.com"), "responseStatus": "accepted"}),
            );
        }
        google.insert(cal, team);
    }
    let base: DateTime<Utc> = "2026-02-02T08:00:00Z".parse().unwrap();
    for k in 0..EVENTS - ONE_ON_ONES.len() - teams {
        let at = base + chrono::Duration::hours(5 * k as i64);
        google.insert(cal, single_event(&format!("ev{k}"), &at.to_rfc3339(), 45));
    }
}

/// One refresh token from a real consent on the OAuth server; every seeded account holds it
/// (encrypted), as many devices hold grants of one Google user.
async fn refresh_token(oauth: &OAuthServer) -> SecretString {
    crate::fixtures::google::connect(oauth, "cid")
        .await
        .refresh_token
        .expect("a refresh token")
}

/// `n` Google accounts straight into the database, each with its own calendar (filled on the
/// test server) and the grant encrypted as `connect google` stores it.
async fn seed(
    store: &Store,
    google: &GoogleServer,
    n: usize,
    refresh: &SecretString,
) -> Vec<(i64, String)> {
    let keyring = keyring();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let cal = format!("cal{i}");
        fill_calendar(google, &cal);
        let account = NewAccount {
            provider: Provider::Google,
            display_name: format!("manager {i}"),
            settings: json!({"owner_emails": ["alice@example.com"]}),
            credentials: Some(keyring.encrypt(refresh)),
            calendars: vec![(cal.clone(), "Work".into(), Some("Europe/Berlin".into()))],
            writing_started_at: Some(Utc::now()),
        };
        let id = store.insert_account(&account, Utc::now()).await.unwrap();
        out.push((id, cal));
    }
    out
}

fn env(db: &TestDb, oauth: &OAuthServer, google: &GoogleServer) -> Vec<(String, String)> {
    [
        ("ONEONONE__DATABASE__URL", db.url.clone()),
        ("ONEONONE_SECRET_KEY", key_env()),
        ("ONEONONE__LOG__LEVEL", "warn".into()),
        ("ONEONONE__SERVER__ADMIN_TOKEN", ADMIN.into()),
        ("ONEONONE__SYNC__INTERVAL_SECS", "3600".into()),
        ("ONEONONE__SYNC__JITTER", "0.0".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .chain(google_env(oauth, google))
    // Passes at once: the daemon's default (4) unless ONEONONE_BENCH_CONCURRENCY says otherwise.
    // On SQLite 8 was slower (300 accounts: 3.5 s against 2.7 s), its passes queueing for the
    // one writer and switching threads.
    .chain(
        std::env::var("ONEONONE_BENCH_CONCURRENCY")
            .ok()
            .map(|c| ("ONEONONE__SYNC__CONCURRENCY".to_string(), c)),
    )
    .collect()
}

/// The calendar a request was about (`.../calendars/{id}/...`).
fn calendar_of(path: &str) -> Option<&str> {
    path.split("/calendars/").nth(1)?.split('/').next()
}

/// (requests, writes) the test server saw from index `from` on.
fn counted(google: &GoogleServer, from: usize) -> (usize, usize) {
    let r = google.requests();
    let seen = &r[from.min(r.len())..];
    (
        seen.len(),
        seen.iter().filter(|r| r.method != "GET").count(),
    )
}

// ---------------------------------------------------------------------------------------------
// Idle cost: one account, one calendar, passes run by `sync --once --now`.

async fn cli_sync(envs: &[(String, String)], now: &str) {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["sync", "--once", "--now", now])
        .env_remove("ONEONONE_CONFIG")
        .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "sync at {now}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn idle_google() -> Value {
    let google = GoogleServer::start().await;
    let oauth = OAuthServer::start();
    let db = TestDb::sqlite();
    let store = db.store().await;
    let refresh = refresh_token(&oauth).await;
    let accounts = seed(&store, &google, 1, &refresh).await;
    let cal = &accounts[0].1;
    let envs = env(&db, &oauth, &google);
    cli_sync(&envs, "2026-03-24T12:00:00Z").await;
    let first = google.requests().len();
    // Nothing changed: the pass asks Google once per calendar and writes nothing.
    cli_sync(&envs, "2026-03-24T12:10:00Z").await;
    let (idle_requests, idle_writes) = counted(&google, first);
    // The report adds a topic to the next instance's agenda in Google's editor (HTML).
    let next = inst("oo0", "2026-03-30T08:00:00Z");
    let old = google.event(cal, &next).unwrap()["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let new = insert_after(&old, "15 minutes for you", "- [ ] Bench topic<br>");
    google.web_edit_description(cal, &next, &new);
    let before = google.requests().len();
    cli_sync(&envs, "2026-03-24T12:20:00Z").await;
    let (changed_requests, changed_writes) = counted(&google, before);
    let items = store
        .list_series()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.uid == "oo0")
        .expect("the 1:1 is tracked");
    let open = store.list_items(items.id, true).await.unwrap();
    assert!(
        open.iter().any(|i| i.text == "Bench topic"),
        "the topic was not read back: {open:?}"
    );
    store.close().await;
    google.assert_clean();
    json!({"idle_google": {
        "requests_per_calendar": idle_requests,
        "writes": idle_writes,
        "changed_one_on_one_requests": changed_requests,
        "changed_one_on_one_writes": changed_writes,
    }})
}

// ---------------------------------------------------------------------------------------------
// Scale: one daemon over N accounts.

/// (utime + stime) of a process in seconds, from /proc/<pid>/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(100.0)
}

/// Peak resident memory of a process in MB (VmHWM).
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM");
    kb / 1024.0
}

/// Waits until every account has succeeded since `since`; fails on the first account error.
async fn all_passed(store: &Store, since: DateTime<Utc>, d: &Daemon, limit: Duration) {
    let start = Instant::now();
    loop {
        let accounts = store.list_accounts().await.unwrap();
        if let Some(bad) = accounts.iter().find(|a| a.consecutive_failures > 0) {
            panic!(
                "account {} failed: {:?}\n{}",
                bad.id,
                bad.last_error,
                d.log_text()
            );
        }
        if accounts
            .iter()
            .all(|a| a.last_success_at.is_some_and(|t| t >= since))
        {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "passes unfinished after {limit:?}\n{}",
            d.log_text()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// First start to last finish of the per-account passes that started at or after `since`.
async fn pass_wall(store: &Store, since: DateTime<Utc>) -> f64 {
    let runs = store.recent_runs(1_000_000).await.unwrap();
    let spans: Vec<_> = runs
        .iter()
        .filter(|r| r.account_id.is_some() && r.started_at >= since)
        .filter_map(|r| Some((r.started_at, r.finished_at?)))
        .collect();
    let first = spans.iter().map(|s| s.0).min().expect("passes");
    let last = spans.iter().map(|s| s.1).max().expect("passes");
    (last - first).num_milliseconds() as f64 / 1000.0
}

struct Scale {
    connect_all_s: f64,
    wall_s: f64,
    cpu_s: f64,
    rss_mb: f64,
    requests_min: usize,
    requests_max: usize,
    writes: usize,
}

/// `n` accounts on a fresh database of `kind`: the daemon's first pass over all (the accounts'
/// connection), then a steady pass asked for through the store and the API.
async fn scale(db: TestDb, n: usize, oauth: &OAuthServer, refresh: &SecretString) -> Scale {
    let google = GoogleServer::start().await;
    let store = db.store().await;
    let accounts = seed(&store, &google, n, refresh).await;
    let envs = env(&db, oauth, &google);
    let start = Utc::now();
    let url = db.url.clone();
    let daemon = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Daemon::spawn(&url, &env)
    })
    .await
    .unwrap();
    let pid = daemon.child.id();
    let limit = Duration::from_secs(1200);
    all_passed(&store, start, &daemon, limit).await;
    let connect_all_s = pass_wall(&store, start).await;

    // The steady pass: every account due now, the loop woken through the API.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let from = google.requests().len();
    let profile = profiler(pid);
    let cpu0 = cpu_seconds(pid);
    let steady = Utc::now();
    for (id, _) in &accounts {
        store.request_sync(*id, steady).await.unwrap();
    }
    let r = reqwest::Client::new()
        .post(daemon.url(&format!("/api/v1/accounts/{}/sync", accounts[0].0)))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    all_passed(&store, steady, &daemon, limit).await;
    let cpu_s = cpu_seconds(pid) - cpu0;
    if let Some(mut perf) = profile {
        // perf writes its file on SIGINT.
        let _ = std::process::Command::new("kill")
            .args(["-INT", &perf.id().to_string()])
            .status();
        let _ = perf.wait();
    }
    let wall_s = pass_wall(&store, steady).await;
    let rss_mb = peak_rss_mb(pid);

    let mut per_calendar: HashMap<&str, usize> =
        accounts.iter().map(|(_, c)| (c.as_str(), 0)).collect();
    let requests = google.requests();
    for r in &requests[from..] {
        if let Some(c) = calendar_of(&r.path).and_then(|c| per_calendar.get_mut(c)) {
            *c += 1;
        }
    }
    let (_, writes) = counted(&google, from);
    drop(daemon);
    store.close().await;
    drop(db);
    google.assert_clean();
    Scale {
        connect_all_s,
        wall_s,
        cpu_s,
        rss_mb,
        requests_min: per_calendar.values().copied().min().unwrap_or(0),
        requests_max: per_calendar.values().copied().max().unwrap_or(0),
        writes,
    }
}

/// With ONEONONE_BENCH_PERF=<file>, `perf record -g` on the daemon for the steady pass only
/// (how the per-account cost was found; see docs/decisions.md).
fn profiler(pid: u32) -> Option<std::process::Child> {
    let out = std::env::var("ONEONONE_BENCH_PERF").ok()?;
    let child = std::process::Command::new("perf")
        .args([
            "record",
            "-g",
            "-F",
            "999",
            "-o",
            &out,
            "-p",
            &pid.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_millis(300));
    Some(child)
}

/// Three decimals are plenty for seconds and megabytes.
fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn pass(s: &Scale) -> Value {
    json!({"wall_s": r3(s.wall_s), "cpu_s": r3(s.cpu_s), "rss_mb": r3(s.rss_mb)})
}

/// The figures for one database: a daemon over half the accounts, then one over all.
async fn scale_on(kind: &str, oauth: &OAuthServer, refresh: &SecretString) -> Option<Value> {
    let fresh = async || match kind {
        "sqlite" => Some(TestDb::sqlite()),
        _ => TestDb::postgres().await,
    };
    let n = accounts();
    let half = scale(fresh().await?, n / 2, oauth, refresh).await;
    let all = scale(fresh().await?, n, oauth, refresh).await;
    let per_account_kb = (all.rss_mb - half.rss_mb) * 1024.0 / (n - n / 2) as f64;
    Some(json!({
        "accounts": n,
        "events_per_account": EVENTS,
        "connect_all_s": r3(all.connect_all_s),
        "steady_pass": pass(&all),
        "half_pass": pass(&half),
        "requests_min": all.requests_min,
        "requests_max": all.requests_max,
        "writes": all.writes,
        "rss_per_account_kb": r3(per_account_kb),
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by scripts/bench (cargo test --release ... -- --ignored)"]
async fn bench_google() {
    // A line of its own: libtest may have printed the test's name without a line break.
    println!("\nBENCH {}", idle_google().await);
    let oauth = OAuthServer::start();
    let refresh = refresh_token(&oauth).await;
    let mut scale = serde_json::Map::new();
    for kind in ["sqlite", "postgres"] {
        match scale_on(kind, &oauth, &refresh).await {
            Some(v) => {
                scale.insert(kind.into(), v);
            }
            None => eprintln!("{kind} skipped: ONEONONE_TEST_POSTGRES_URL is not set"),
        }
    }
    println!("BENCH {}", json!({"scale_google": scale}));
}
