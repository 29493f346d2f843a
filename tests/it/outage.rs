//! The database goes away in the middle of a pass and comes back: the daemon keeps running,
//! says it is not ready while the database is down, and recovers on its own, losing nothing.
//! It runs against a private PostgreSQL started by the test (never the shared one).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::response::Response;

use crate::fixtures::caldav::{ALICE, Setup, W2, description_at};
use crate::fixtures::caldav_server::Kind;
use crate::fixtures::insert_line_after;
use crate::fixtures::proxy::{Received, serve};
use crate::fixtures::{Daemon, get, wait_for};

/// A PostgreSQL cluster of its own in a temporary folder, on a free port, that a test may stop
/// and start at will.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user.
    as_postgres: bool,
}

impl PrivatePostgres {
    /// Creates and starts the cluster; Err(why) when the PostgreSQL server binaries are missing.
    pub fn start() -> Result<Self, String> {
        let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| format!("/usr/lib/postgresql: {e}"))?
            .filter_map(|d| d.ok().map(|d| d.path().join("bin")))
            .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
            .collect();
        bins.sort_by_key(|b| {
            let v = b.parent().and_then(|p| p.file_name());
            v.and_then(|v| v.to_str()?.parse::<u32>().ok()).unwrap_or(0)
        });
        let bin = bins
            .pop()
            .ok_or("no initdb/pg_ctl under /usr/lib/postgresql/*/bin")?;
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| e.to_string())?;
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = tempfile::tempdir().unwrap();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["postgres:", &dir.path().display().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                ok,
                "cannot hand {} to the postgres user",
                dir.path().display()
            );
        }
        let pg = Self {
            dir,
            bin,
            port: crate::fixtures::free_port(),
            as_postgres,
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        pg.start_again();
        Ok(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, prog: &str, args: &[&str]) {
        let exe = self.bin.join(prog);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).output().expect("run a PostgreSQL command");
        assert!(
            out.status.success(),
            "{prog} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub fn start_again(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-l", &log, "-o", &opts, "-w", "start"],
        );
    }

    /// Stops the server the way an operator would for maintenance: open sessions are cut.
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&exe)
                .args(args)
                .output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}

/// Forwards everything to the CalDAV server; the first PUT after it is armed stops the database
/// before it reaches the server, so the server stores the write and the daemon's bookkeeping
/// after it fails: the worst point for the database to go.
#[derive(Clone)]
struct Tripwire {
    upstream: url::Url,
    http: reqwest::Client,
    armed: Arc<AtomicBool>,
    tripped: Arc<AtomicBool>,
    pg: Arc<PrivatePostgres>,
}

async fn trip(State(t): State<Tripwire>, req: Request) -> Response {
    let r = Received::read(req).await;
    let is_put = r.method == axum::http::Method::PUT;
    if is_put && t.armed.swap(false, Ordering::SeqCst) {
        let pg = t.pg.clone();
        tokio::task::spawn_blocking(move || pg.stop())
            .await
            .unwrap();
        let answer = r.forward(&t.http, &t.upstream).await;
        t.tripped.store(true, Ordering::SeqCst);
        return answer;
    }
    r.forward(&t.http, &t.upstream).await
}

async fn readyz(d: &Daemon) -> (u16, serde_json::Value) {
    let (code, body) = get(&d.url("/readyz")).await;
    (code, serde_json::from_str(&body).unwrap_or_default())
}

const RAISED: &str = "Raised while the database was down";

// Multi-threaded: the CLI runs as a blocking child process while the proxy serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_pass_and_restarted_is_survived_without_a_restart() {
    let pg = match PrivatePostgres::start() {
        Ok(pg) => Arc::new(pg),
        Err(why) => {
            eprintln!("skipped: cannot start a private PostgreSQL ({why})");
            return;
        }
    };
    let s = Setup::new(Kind::Radicale).await;
    let t = Tripwire {
        upstream: s.server.base.clone(),
        http: reqwest::Client::new(),
        armed: Arc::new(AtomicBool::new(false)),
        tripped: Arc::new(AtomicBool::new(false)),
        pg: pg.clone(),
    };
    let app = axum::Router::new().fallback(trip).with_state(t.clone());
    let via = serve(app).await;

    let db_url = pg.url();
    let mut env: Vec<(&str, String)> = s.env();
    env.retain(|(k, _)| *k != "ONEONONE__DATABASE__URL");
    env.push(("ONEONONE__DATABASE__URL", db_url.clone()));
    env.push(("ONEONONE__SYNC__INTERVAL_SECS", "1".into()));
    env.push(("ONEONONE__SYNC__JITTER", "0.0".into()));
    env.push(("ONEONONE__SYNC__LEASE_SECS", "3".into()));
    env.push(("ONEONONE__DATABASE__CONNECT_TIMEOUT_SECS", "2".into()));
    // The first PUT must be Alice's agenda: no nudge into Bob's meeting of the next day first.
    env.push(("ONEONONE__AGENDA__NUDGE_BEFORE_HOURS", "0".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    s.connect_and_start_via(&via, &env);

    // The first pass wrote the first week's agenda; the daemon, a week later, writes the second's.
    t.armed.store(true, Ordering::SeqCst);
    let mut d = Daemon::spawn_with(&db_url, &["--now", "2026-03-31T09:00:00Z"], &env);
    let start = Instant::now();
    while !t.tripped.load(Ordering::SeqCst) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no agenda write within 60 s:\n{}",
            d.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The write reached the calendar; the database is gone.
    let written = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W2);
    assert_eq!(
        written.matches("── oneonone agenda").count(),
        1,
        "{written}"
    );
    wait_for(
        "/readyz to say the database is down",
        Duration::from_secs(20),
        async || {
            let (code, v) = readyz(&d).await;
            code == 503 && v["database"]["reachable"] == false && v["status"] == "not_ready"
        },
    )
    .await;
    // The manager edits the invite meanwhile.
    s.user_edit(ALICE, &s.uid("weekly-alice"), W2, |desc| {
        insert_line_after(desc, "15 minutes for you", &format!("- [ ] {RAISED}"))
    })
    .await;
    // Several scheduler periods with no database: the daemon stays up and keeps saying so.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        d.child.try_wait().unwrap().is_none(),
        "the daemon exited:\n{}",
        d.log_text()
    );
    let (code, _) = readyz(&d).await;
    assert_eq!(code, 503);

    // The pass in flight has given up recording its outcome: its row says "running".
    wait_for(
        "the interrupted pass to give up recording its outcome",
        Duration::from_secs(30),
        async || d.log_text().contains("cannot record the outcome of a pass"),
    )
    .await;
    pg.start_again();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db_url)
        .await
        .unwrap();
    let last_run_before: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM sync_runs")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let back = Instant::now();
    wait_for(
        "/readyz to be ready again",
        Duration::from_secs(30),
        async || readyz(&d).await.0 == 200,
    )
    .await;
    // The edit made during the outage reaches the history, by the same daemon process.
    wait_for(
        "the item typed during the outage",
        Duration::from_secs(30),
        async || {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items WHERE text = $1")
                .bind(RAISED)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            n == 1
        },
    )
    .await;
    eprintln!(
        "recovered {:?} after the database came back",
        back.elapsed()
    );
    assert!(
        d.child.try_wait().unwrap().is_none(),
        "the daemon exited:\n{}",
        d.log_text()
    );
    // A pass recorded as successful after the outage.
    wait_for(
        "a successful pass recorded after the outage",
        Duration::from_secs(30),
        async || {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sync_runs WHERE account_id IS NOT NULL AND outcome = 'ok' \
             AND id > $1",
            )
            .bind(last_run_before)
            .fetch_one(&mut conn)
            .await
            .unwrap();
            n >= 1
        },
    )
    .await;
    // The passes the outage cut short are marked as such by the running daemon.
    let start = Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sync_runs WHERE outcome = 'running' AND id <= $1",
        )
        .bind(last_run_before)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if n == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{n} passes cut short still say running:\n{}",
            d.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Nothing lost or doubled in the invite; the write made as the database went is reversible.
    let d2 = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W2);
    assert_eq!(d2.matches("── oneonone agenda").count(), 1, "{d2}");
    assert!(d2.contains(RAISED), "{d2}");
    assert!(d2.starts_with("Alice's own notes: keep me."), "{d2}");
    // Both writes (connect's into the first week, the daemon's into the second) can be undone.
    let revisions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM description_revisions")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(revisions >= 2, "a write has no revision to undo it");
    d.signal("TERM");
    let (code, _) = d.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(0), "{}", d.log_text());
    assert!(!d.log_text().contains("panicked"), "{}", d.log_text());
    // Passes cut short by the outage are not left "running" once the daemon has stopped.
    let running: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sync_runs WHERE outcome = 'running'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(running, 0);
}
