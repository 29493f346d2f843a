//! PostgreSQL stopped under a running daemon and started again: `/readyz` says not ready while it
//! is down, and the same process works again once it is back. The server is a private one this
//! test starts (initdb + pg_ctl on a free port), never the shared one the other tests use.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::caldav_sync::Setup;
use crate::helpers::{Daemon, get};
use crate::newcomer::{connect_args, run_with};
use crate::servers::Kind;

/// A PostgreSQL server of our own, stopped (immediately) when dropped.
struct PrivatePg {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

fn id(args: &[&str]) -> String {
    let out = Command::new("id").args(args).output().expect("run id");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl PrivatePg {
    /// None when no PostgreSQL server binaries are installed.
    fn start() -> Option<Self> {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .collect();
        found.sort();
        let bin = found.pop()?;
        let dir = tempfile::tempdir().unwrap();
        if id(&["-u"]) == "0" {
            // PostgreSQL refuses to run as root: its files belong to the postgres user.
            let uid: u32 = id(&["-u", "postgres"]).parse().expect("a postgres user");
            let gid: u32 = id(&["-g", "postgres"]).parse().expect("a postgres group");
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Self { bin, dir, port };
        let data = pg.data();
        pg.run(
            "initdb",
            &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        );
        pg.start_again();
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs one of the server's programs, as the postgres user when we are root.
    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut cmd = if id(&["-u"]) == "0" {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = cmd
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start_again(&self) {
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let data = self.data();
        self.run(
            "pg_ctl",
            &["start", "-w", "-D", &data, "-l", &log, "-o", &opts],
        );
    }

    fn stop(&self) {
        let data = self.data();
        self.run("pg_ctl", &["stop", "-w", "-m", "fast", "-D", &data]);
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let path = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["stop", "-m", "immediate", "-D", data.as_str()];
        let _ = if id(&["-u"]) == "0" {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&path)
                .args(args)
                .output()
        } else {
            Command::new(&path).args(args).output()
        };
    }
}

/// Polls `/readyz` until `accept` holds for its status and JSON, or panics after `limit`.
async fn wait_readyz(
    daemon: &Daemon,
    limit: Duration,
    what: &str,
    accept: impl Fn(u16, &serde_json::Value) -> bool,
) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let (code, body) = get(&daemon.url("/readyz")).await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if accept(code, &v) {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "{what}: still {code} {body} after {limit:?}; log:\n{}",
            daemon.log_text()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn last_success(v: &serde_json::Value) -> Option<String> {
    v["accounts"][0]["last_success"].as_str().map(String::from)
}

#[tokio::test]
async fn postgres_stopped_under_the_daemon_makes_it_unready_then_it_recovers_without_restart() {
    let Some(pg) = PrivatePg::start() else {
        eprintln!("skipped: no PostgreSQL server binaries under /usr/lib/postgresql");
        return;
    };
    let s = Setup::new(Kind::Radicale).await;
    let url = pg.url();
    let out = run_with(&s, &connect_args(&s), &[("ONEONONE__DATABASE__URL", &url)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = s.keydir.path().join("key").display().to_string();
    // Passes every second, so that the server goes away while passes run.
    let mut daemon = Daemon::spawn(
        &url,
        &[
            ("ONEONONE__SECRETS__KEY_FILE", &key),
            ("ONEONONE__DATABASE__CONNECT_TIMEOUT_SECS", "1"),
            ("ONEONONE__SYNC__INTERVAL_SECS", "1"),
            ("ONEONONE__SYNC__JITTER", "0"),
            ("ONEONONE__SYNC__REQUEST_TIMEOUT_SECS", "5"),
        ],
    );
    let up = |code: u16, v: &serde_json::Value| code == 200 && last_success(v).is_some();
    wait_readyz(&daemon, Duration::from_secs(60), "first pass", up).await;

    pg.stop();
    let down = wait_readyz(&daemon, Duration::from_secs(30), "unready", |code, v| {
        code == 503 && v["database"]["reachable"] == false
    })
    .await;
    assert_eq!(down["status"], "not_ready", "{down}");
    assert_eq!(get(&daemon.url("/healthz")).await.0, 200);

    pg.start_again();
    let back = Instant::now();
    let back_at = chrono::Utc::now();
    // Ready again, with a pass that succeeded after the server came back.
    let again = wait_readyz(&daemon, Duration::from_secs(90), "recovery", |code, v| {
        let passed = last_success(v)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .is_some_and(|t| t > back_at);
        code == 200 && passed
    })
    .await;
    assert_eq!(again["database"]["reachable"], true, "{again}");
    assert_eq!(again["accounts"][0]["state"], "ok", "{again}");
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "the daemon exited instead of recovering"
    );
    eprintln!("recovered {:?} after PostgreSQL came back", back.elapsed());
    assert!(Path::new(&pg.data()).exists());
}
