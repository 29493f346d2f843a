//! Secrets never leave their encryption: not in logs (even at trace level), the database file,
//! `/readyz` or `/metrics`.

use std::time::Duration;

use oneonone::provider::caldav::{CalDavClient, Precondition};
use secrecy::SecretString;

use crate::fixtures::caldav_server::CalDavServer;
use crate::fixtures::{Daemon, TestDb, get, run_cli};

const PASSWORD: &str = "Zq7-very-distinctive-pw-91x";
const TOKEN: &str = "adm1n-distinctive-token-55k";

#[tokio::test]
async fn no_secret_appears_in_logs_database_readyz_or_metrics() {
    let server = CalDavServer::radicale_with_users(&[("carol".into(), PASSWORD.into())]);
    let cal = server.base.join("/carol/work/").unwrap();
    let c = CalDavClient::new(
        "carol",
        SecretString::from(PASSWORD),
        Duration::from_secs(10),
    )
    .unwrap();
    c.mkcalendar(&cal, "Work").await.unwrap();
    let ev = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:s1\r\nDTSTAMP:20260101T000000Z\r\n\
              DTSTART:20260105T100000Z\r\nDURATION:PT30M\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:1:1 Carol / Dan\r\n\
              ORGANIZER:mailto:carol@example.com\r\nATTENDEE:mailto:carol@example.com\r\nATTENDEE:mailto:dan@example.com\r\n\
              END:VEVENT\r\nEND:VCALENDAR\r\n";
    c.put(
        &cal.join("s1.ics").unwrap(),
        ev.as_bytes().to_vec(),
        &Precondition::Create,
    )
    .await
    .unwrap();

    let db = TestDb::sqlite();
    let keydir = tempfile::tempdir().unwrap();
    let key_file = keydir.path().join("key");
    let key_file = key_file.to_str().unwrap();
    let env = [
        ("ONEONONE__DATABASE__URL", db.url.as_str()),
        ("ONEONONE__SECRETS__KEY_FILE", key_file),
        ("ONEONONE__SERVER__ADMIN_TOKEN", TOKEN),
        ("RUST_LOG", "trace"),
        ("CAROL_PW", PASSWORD),
    ];
    let mut all_output = String::new();
    let out = run_cli(
        &[
            "connect",
            "caldav",
            "--url",
            server.base.as_str(),
            "--username",
            "carol",
            "--password-env",
            "CAROL_PW",
            "--owner",
            "carol@example.com",
            "--now",
            "2026-01-06T12:00:00Z",
        ],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    all_output += &String::from_utf8_lossy(&out.stdout);
    all_output += &String::from_utf8_lossy(&out.stderr);
    let out = run_cli(&["sync", "--once", "--now", "2026-01-13T12:00:00Z"], &env);
    all_output += &String::from_utf8_lossy(&out.stdout);
    all_output += &String::from_utf8_lossy(&out.stderr);
    let out = run_cli(&["accounts", "list", "--json"], &env);
    all_output += &String::from_utf8_lossy(&out.stdout);

    let daemon = Daemon::spawn(&db.url, &env[1..]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, ready) = get(&daemon.url("/readyz")).await;
    let (_, metrics) = get(&daemon.url("/metrics")).await;
    let http = reqwest::Client::new();
    http.post(daemon.url("/api/v1/accounts/1/sync"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    all_output += &daemon.log_text();
    assert!(
        all_output.contains("caldav request"),
        "trace logs were not captured"
    );

    let db_path = db.url.trim_start_matches("sqlite://");
    let mut db_bytes = std::fs::read(db_path).unwrap();
    db_bytes.extend(std::fs::read(format!("{db_path}-wal")).unwrap_or_default());
    for secret in [PASSWORD, TOKEN] {
        assert!(!all_output.contains(secret), "{secret} in the output");
        assert!(
            !ready.contains(secret) && !metrics.contains(secret),
            "{secret} in readyz/metrics"
        );
        assert!(
            !db_bytes
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} in the database file"
        );
    }
    // Basic auth carries the password base64-encoded: that form must not leak either.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("carol:{PASSWORD}"));
    assert!(
        !all_output.contains(&basic),
        "the Authorization header was logged"
    );
}

#[tokio::test]
async fn rotating_the_key_reencrypts_every_credential_and_retires_the_old_key() {
    let server = CalDavServer::radicale_with_users(&[("erin".into(), PASSWORD.into())]);
    let cal = server.base.join("/erin/work/").unwrap();
    let c = CalDavClient::new(
        "erin",
        SecretString::from(PASSWORD),
        Duration::from_secs(10),
    )
    .unwrap();
    c.mkcalendar(&cal, "Work").await.unwrap();
    let db = TestDb::sqlite();
    let keydir = tempfile::tempdir().unwrap();
    let key_path = keydir.path().join("key");
    let key_file = key_path.to_str().unwrap();
    let env = [
        ("ONEONONE__DATABASE__URL", db.url.as_str()),
        ("ONEONONE__SECRETS__KEY_FILE", key_file),
        ("ONEONONE__LOG__LEVEL", "warn"),
        ("ERIN_PW", PASSWORD),
    ];
    let out = run_cli(
        &[
            "connect",
            "caldav",
            "--url",
            server.base.as_str(),
            "--username",
            "erin",
            "--password-env",
            "ERIN_PW",
            "--owner",
            "erin@example.com",
        ],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let old_key = std::fs::read_to_string(&key_path).unwrap();

    let out = run_cli(&["secrets", "rotate"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Re-encrypted 1 credential(s)"));
    let new_key = std::fs::read_to_string(&key_path).unwrap();
    assert_ne!(old_key, new_key);
    assert_eq!(
        new_key.lines().count(),
        1,
        "the old key must be gone from the file"
    );

    // The daemon still reaches the calendar with the new key...
    let out = run_cli(&["sync", "--once"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // ...and the old key no longer opens what is stored.
    let store = db.store().await;
    let blob = store.get_account(1).await.unwrap().credentials.unwrap();
    let old_path = keydir.path().join("old.key");
    std::fs::write(&old_path, &old_key).unwrap();
    let old = oneonone::secrets::Keyring::from_file(&old_path).unwrap();
    assert!(old.decrypt(&blob).is_err());
    store.close().await;
}

#[test]
fn connect_refuses_metadata_addresses_and_plain_http_to_other_hosts() {
    let db = TestDb::sqlite();
    let keydir = tempfile::tempdir().unwrap();
    let key = keydir.path().join("key");
    let env = [
        ("ONEONONE__DATABASE__URL", db.url.as_str()),
        ("ONEONONE__SECRETS__KEY_FILE", key.to_str().unwrap()),
        ("PW", "x"),
    ];
    for (url, says) in [
        (
            "http://169.254.169.254/latest/",
            "link-local or cloud metadata",
        ),
        ("http://calendar.example.com/", "unencrypted"),
        ("file:///etc/passwd", "only http and https"),
    ] {
        let out = run_cli(
            &[
                "connect",
                "caldav",
                "--url",
                url,
                "--username",
                "u",
                "--password-env",
                "PW",
                "--owner",
                "u@example.com",
            ],
            &env,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url} accepted");
        assert!(err.contains(says), "{url}: {err}");
    }
}
