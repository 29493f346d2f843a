//! Fixtures: a throwaway database per test (SQLite always, PostgreSQL when
//! `ONEONONE_TEST_POSTGRES_URL` is set), and the real `oneonone` binary started on port 0.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oneonone::config::DatabaseUrl;
use oneonone::store::Store;

pub const BIN: &str = env!("CARGO_BIN_EXE_oneonone");

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub url: String,
    pub kind: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/nested/oneonone.db", dir.path().display());
        Self {
            url,
            kind: "sqlite",
            _dir: Some(dir),
            pg_admin: None,
        }
    }

    /// A fresh PostgreSQL database, or None when the suite runs without PostgreSQL.
    pub async fn postgres() -> Option<Self> {
        let admin = std::env::var("ONEONONE_TEST_POSTGRES_URL").ok()?;
        let name = format!("oneonone_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("ONEONONE_TEST_POSTGRES_URL={admin} does not answer: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let mut url = url::Url::parse(&admin).expect("admin URL");
        url.set_path(&name);
        Some(Self {
            url: url.to_string(),
            kind: "postgres",
            _dir: None,
            pg_admin: Some((admin, name)),
        })
    }

    /// SQLite, plus PostgreSQL when configured: database tests run on each.
    pub async fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite()];
        dbs.extend(Self::postgres().await);
        dbs
    }

    /// Records every row inserted, updated or deleted in `tables` from now on (a trigger per
    /// table), so a test can say that a pass wrote nothing there; read with `logged_writes`.
    pub async fn log_writes(&self, tables: &[&str]) {
        let mut stmts = vec!["CREATE TABLE test_write_log (tbl TEXT NOT NULL)".to_string()];
        if self.kind == "postgres" {
            stmts.push(
                "CREATE FUNCTION test_log_write() RETURNS trigger AS $$ BEGIN \
                 INSERT INTO test_write_log VALUES (TG_TABLE_NAME); RETURN NULL; END $$ \
                 LANGUAGE plpgsql"
                    .into(),
            );
            for t in tables {
                stmts.push(format!(
                    "CREATE TRIGGER test_log_{t} AFTER INSERT OR UPDATE OR DELETE ON {t} \
                     FOR EACH ROW EXECUTE FUNCTION test_log_write()"
                ));
            }
        } else {
            for t in tables {
                for op in ["INSERT", "UPDATE", "DELETE"] {
                    stmts.push(format!(
                        "CREATE TRIGGER test_log_{t}_{op} AFTER {op} ON {t} \
                         BEGIN INSERT INTO test_write_log VALUES ('{t}'); END"
                    ));
                }
            }
        }
        self.execute(&stmts).await;
    }

    /// The tables written since `log_writes`, one entry per row written.
    pub async fn logged_writes(&self) -> Vec<String> {
        let sql = "SELECT tbl FROM test_write_log";
        if self.kind == "postgres" {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
        } else {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
        }
    }

    async fn execute(&self, stmts: &[String]) {
        if self.kind == "postgres" {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            for q in stmts {
                sqlx::query(sqlx::AssertSqlSafe(q.as_str()))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        } else {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            for q in stmts {
                sqlx::query(sqlx::AssertSqlSafe(q.as_str()))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }
    }

    pub async fn store(&self) -> Store {
        let url: DatabaseUrl = serde_json::from_value(serde_json::json!(self.url)).unwrap();
        let store = Store::connect_url(&url, 4, Duration::from_secs(5))
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        store
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_admin.take() {
            // Drop runs outside async: use a short-lived runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut c) =
                        <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await
                    {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
                    }
                });
            })
            .join();
        }
    }
}

/// The real daemon as a child process, with its stderr (JSON logs) collected.
pub struct Daemon {
    pub child: Child,
    pub addr: SocketAddr,
    pub logs: Arc<Mutex<Vec<String>>>,
    pub workdir: tempfile::TempDir,
}

impl Daemon {
    /// Starts `oneonone run` on 127.0.0.1:0 with `db` and extra environment, and waits until it
    /// logs the address it listens on.
    pub fn spawn(db_url: &str, env: &[(&str, &str)]) -> Self {
        Self::spawn_with(db_url, &[], env)
    }

    /// As `spawn`, with more arguments to `run` (e.g. `--now`).
    pub fn spawn_with(db_url: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let workdir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg("run")
            .args(args)
            .current_dir(workdir.path())
            .env_remove("ONEONONE_CONFIG")
            .env("ONEONONE__SERVER__LISTEN", "127.0.0.1:0")
            .env("ONEONONE__DATABASE__URL", db_url)
            .env("ONEONONE__LOG__FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start oneonone");
        let stderr = child.stderr.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let parsed = serde_json::from_str::<serde_json::Value>(&line).ok();
                if let Some(v) = parsed.filter(|v| v["message"] == "listening") {
                    let _ = tx.send(v["addr"].as_str().unwrap_or_default().to_string());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a.parse().expect("daemon logged a socket address"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "daemon did not start; logs:\n{}",
                    logs.lock().unwrap().join("\n")
                );
            }
        };
        Self {
            child,
            addr,
            logs,
            workdir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status();
        assert!(
            ok.map(|s| s.success()).unwrap_or(false),
            "kill -{sig} failed"
        );
    }

    /// Waits for the process to exit; returns its exit code and how long it took.
    pub fn wait_exit(&mut self, limit: Duration) -> (Option<i32>, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.code(), start.elapsed());
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!("daemon did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary to completion with the given arguments and environment.
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("ONEONONE_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run oneonone")
}

pub fn write_file(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let code = r.status().as_u16();
    (code, r.text().await.unwrap())
}

/// Compares `actual` with the golden file `<dir>/<name>` (relative to the crate). With
/// `UPDATE_GOLDEN=1` it rewrites the file instead (review the diff before committing); a missing
/// or different file fails otherwise.
pub fn golden(dir: &str, name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(dir)
        .join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {} unreadable ({e}): run with UPDATE_GOLDEN=1 and review it",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs (UPDATE_GOLDEN=1 to accept after review)\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// `oneonone connect caldav` of the test user's calendar through `via` (a proxy in front of the
/// server), as Sam at 2026-03-24T12:00Z, then the first `sync --once` at that instant (connecting
/// writes nothing; that pass writes the first agendas); fails the test when either fails.
pub fn connect_and_start_sam_via(via: &url::Url, env: &[(&str, &str)]) {
    let now = "2026-03-24T12:00:00Z";
    let connect = [
        "connect",
        "caldav",
        "--url",
        via.as_str(),
        "--username",
        crate::servers::USER,
        "--password-env",
        "TEST_CALDAV_PASSWORD",
        "--owner",
        "sam@example.com",
        "--now",
        now,
    ];
    for args in [&connect[..], &["sync", "--once", "--now", now]] {
        let out = run_cli(args, env);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
