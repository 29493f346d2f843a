//! The daemon as an operator sees it: endpoints, shutdown, migrations, config errors.

use std::time::Duration;

use crate::fixtures::{Daemon, TestDb, get, run_cli, write_file};

#[tokio::test]
async fn daemon_serves_health_readiness_metrics_and_exits_zero_on_sigterm() {
    for db in TestDb::all().await {
        let mut daemon = Daemon::spawn(&db.url, &[]);

        let (code, body) = get(&daemon.url("/healthz")).await;
        assert_eq!((code, body.as_str()), (200, "ok"), "{}", db.kind);

        // The first pass runs at start-up; wait for the scheduler to report it.
        let mut ready = serde_json::Value::Null;
        for _ in 0..100 {
            let (code, body) = get(&daemon.url("/readyz")).await;
            assert_eq!(code, 200, "{}: {body}", db.kind);
            ready = serde_json::from_str(&body).unwrap();
            if !ready["scheduler"]["last_pass"].is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            !ready["scheduler"]["last_pass"].is_null(),
            "no pass reported: {ready}"
        );
        assert_eq!(ready["status"], "ready");
        assert_eq!(ready["database"]["dialect"], db.kind);
        assert_eq!(ready["database"]["reachable"], true);
        assert_eq!(ready["database"]["migrations_current"], true);
        assert_eq!(ready["scheduler"]["alive"], true);
        assert!(ready["accounts"].as_array().unwrap().is_empty());

        let (code, metrics) = get(&daemon.url("/metrics")).await;
        assert_eq!(code, 200);
        for name in [
            "oneonone_sync_passes_total",
            "oneonone_sync_pass_duration_seconds_bucket",
            "oneonone_writes_total",
            "oneonone_conflicts_total",
            "oneonone_schedule_agent_fallbacks_total",
        ] {
            assert!(
                metrics.contains(name),
                "{} missing {name} in:\n{metrics}",
                db.kind
            );
        }

        // ... and is recorded.
        let store = db.store().await;
        let runs = store.recent_runs(10).await.unwrap();
        assert!(!runs.is_empty(), "{}: no sync_runs row", db.kind);
        assert_eq!(
            runs.last().unwrap().outcome,
            oneonone::store::RunOutcome::Ok
        );

        daemon.signal("TERM");
        let (code, took) = daemon.wait_exit(Duration::from_secs(10));
        assert_eq!(code, Some(0), "{}: logs:\n{}", db.kind, daemon.log_text());
        assert!(took < Duration::from_secs(10));
        assert!(
            daemon.log_text().contains("SIGTERM"),
            "{}",
            daemon.log_text()
        );
        store.close().await;
    }
}

#[tokio::test]
async fn daemon_exits_zero_on_sigint() {
    let db = TestDb::sqlite();
    let mut daemon = Daemon::spawn(&db.url, &[]);
    daemon.signal("INT");
    let (code, _) = daemon.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0), "{}", daemon.log_text());
}

#[tokio::test]
async fn readyz_is_503_when_the_database_goes_away() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("skipped: ONEONONE_TEST_POSTGRES_URL is not set");
        return;
    };
    let daemon = Daemon::spawn(
        &db.url,
        &[("ONEONONE__DATABASE__CONNECT_TIMEOUT_SECS", "1")],
    );
    assert_eq!(get(&daemon.url("/readyz")).await.0, 200);
    drop(db); // DROP DATABASE ... WITH (FORCE): every connection of the daemon is cut.
    let (code, body) = get(&daemon.url("/readyz")).await;
    assert_eq!(code, 503, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["database"]["reachable"], false);
    // The process itself still serves.
    assert_eq!(get(&daemon.url("/healthz")).await.0, 200);
}

#[test]
fn unreachable_postgres_is_a_one_line_error_naming_host_and_port() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_cli(
        &["run"],
        &[
            (
                "ONEONONE__DATABASE__URL",
                "postgres://nobody@127.0.0.1:1/oneonone",
            ),
            ("ONEONONE__DATABASE__CONNECT_TIMEOUT_SECS", "2"),
            ("ONEONONE__SERVER__LISTEN", "127.0.0.1:0"),
            ("ONEONONE__LOG__LEVEL", "off"),
            ("HOME", dir.path().to_str().unwrap()),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn config_check_names_a_typo_key_and_a_bad_url() {
    let dir = tempfile::tempdir().unwrap();
    let typo = write_file(
        dir.path(),
        "typo.toml",
        "[server]\nlisten_adress = \"0.0.0.0:1\"\n",
    );
    let out = run_cli(&["config", "check", typo.to_str().unwrap()], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("server.listen_adress"), "{stderr}");

    let bad = write_file(
        dir.path(),
        "bad.toml",
        "[database]\nurl = \"mysql://db/x\"\n",
    );
    let out = run_cli(&["config", "check", bad.to_str().unwrap()], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("database.url"), "{stderr}");

    let syntax = write_file(dir.path(), "syntax.toml", "[sync]\n\ninterval_secs = \n");
    let out = run_cli(&["config", "check", syntax.to_str().unwrap()], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr.contains("syntax.toml") && stderr.contains("line 3"),
        "{stderr}"
    );

    let good = write_file(dir.path(), "good.toml", "[sync]\ninterval_secs = 30\n");
    let out = run_cli(&["config", "check", good.to_str().unwrap()], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn config_print_default_is_the_documented_file_and_checks_clean() {
    let out = run_cli(&["config", "print-default"], &[]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, oneonone::config::DEFAULT_TOML);
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "copy.toml", &text);
    assert!(
        run_cli(&["config", "check", path.to_str().unwrap()], &[])
            .status
            .success()
    );
}

#[tokio::test]
async fn migrate_applies_once_then_reports_nothing_to_do() {
    for db in TestDb::all().await {
        let env = [
            ("ONEONONE__DATABASE__URL", db.url.as_str()),
            ("ONEONONE__LOG__LEVEL", "off"),
        ];
        let first = run_cli(&["migrate"], &env);
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        let text = String::from_utf8_lossy(&first.stdout);
        // Every migration of the dialect, however many later issues add.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(db.kind);
        let known = std::fs::read_dir(dir).unwrap().count();
        assert!(
            text.starts_with(&format!("{known} migration(s) applied")),
            "{}: {text}",
            db.kind
        );
        let second = run_cli(&["migrate"], &env);
        let text = String::from_utf8_lossy(&second.stdout);
        assert!(
            text.starts_with("0 migration(s) applied"),
            "{}: {text}",
            db.kind
        );
        assert!(db.store().await.migrations_current().await.unwrap());
    }
}
