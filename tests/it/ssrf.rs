//! Issue 29, item 1: URLs a hostile CalDAV server hands back (principal, home set, event hrefs)
//! and a name that moves to a metadata address after connect never get a request, let alone the
//! manager's password. Runs the real binary in a private network namespace where
//! 169.254.169.254 and 192.0.2.10 exist and record what reaches them (tests/py/ssrf_namespace.py).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const METADATA_RULE: &str =
    "169.254.169.254 is a link-local or cloud metadata address, never a calendar server";
const ORIGIN_RULE: &str = "is on another host than the account (http://127.0.0.1): refused";

/// Runs the attack in its namespace; `None` (with a message saying why) where this machine
/// cannot make one.
fn attack() -> Option<Value> {
    let probe = Command::new("unshare")
        .args(["-rmn", "sh", "-c", "ip link set lo up"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED: `unshare -rmn` cannot create a network namespace here ({}); \
             the SSRF test needs it (run as root or with user namespaces enabled)",
            match &probe {
                Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
                Err(e) => e.to_string(),
            }
        );
        return None;
    }
    let work = tempfile::tempdir().unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py/ssrf_namespace.py");
    let key = crate::fixtures::key_env();
    let out = Command::new("unshare")
        .arg("-rmn")
        .arg("python3")
        .arg(&script)
        .arg(crate::fixtures::BIN)
        .arg(&key)
        .arg(work.path())
        .output()
        .expect("run unshare");
    assert!(
        out.status.success(),
        "the namespace script failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    }))
}

fn text(v: &Value) -> &str {
    v["out"].as_str().unwrap_or_default()
}

#[test]
fn urls_a_hostile_server_hands_back_and_names_that_move_never_reach_forbidden_hosts() {
    let Some(report) = attack() else {
        return;
    };
    let hits: Vec<&str> = report["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        hits.is_empty(),
        "requests reached the forbidden hosts: {hits:?}\n{report:#}"
    );
    let cases = report["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 6, "{report:#}");
    for (case, result) in cases {
        let said = format!("{}\n{}", text(&result["connect"]), text(&result["sync"]));
        // Nothing of what a metadata service answers is ever shown.
        assert!(!said.contains("ami-id"), "{case}: {said}");
        let rule = match case.ends_with("-meta") {
            true => METADATA_RULE,
            false => ORIGIN_RULE,
        };
        assert!(
            said.contains(rule),
            "{case}: the rule is not named:\n{said}"
        );
        if case.starts_with("events-") {
            // The refused href is named, and the pass went on (connect succeeded with what is
            // left: no event).
            assert!(said.contains("oo.ics"), "{case}: {said}");
            assert_eq!(result["connect"]["rc"], 0, "{case}: {said}");
        } else {
            // Discovery cannot go on without the principal or home set: connect fails.
            assert_ne!(result["connect"]["rc"], 0, "{case}: {said}");
        }
    }
    let rebind = &report["rebind"];
    assert_eq!(rebind["connect"]["rc"], 0, "{rebind:#}");
    assert_eq!(rebind["sync_before"]["rc"], 0, "{rebind:#}");
    let after = text(&rebind["sync_after"]);
    assert!(
        after.contains("host cal.test: 169.254.169.254 is a link-local or cloud metadata address"),
        "the moved name is not refused with its rule:\n{after}"
    );
}

/// A server that records each request and answers from `answer(method, path)`.
async fn recording_server(
    answer: impl Fn(&str, &str) -> axum::response::Response + Clone + Send + Sync + 'static,
) -> (url::Url, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let handler = move |req: axum::extract::Request| {
        let (log, answer) = (log.clone(), answer.clone());
        async move {
            let (method, path) = (req.method().to_string(), req.uri().path().to_string());
            log.lock().unwrap().push(format!("{method} {path}"));
            answer(&method, &path)
        }
    };
    let base = crate::fixtures::proxy::serve(axum::Router::new().fallback(handler)).await;
    (base, seen)
}

fn redirect(to: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::MOVED_PERMANENTLY,
        [("location", to)],
    )
        .into_response()
}

#[tokio::test]
async fn discovery_follows_a_redirect_that_passes_the_rules_and_the_account_moves_with_it() {
    use axum::response::IntoResponse;
    use oneonone::provider::caldav::{CalDavClient, DavError};
    use secrecy::SecretString;
    // B: the calendar server, a calendar at /cal/, whose GET of an event redirects back to A.
    let a_port = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(0));
    let a_port2 = a_port.clone();
    let (b, b_seen) = recording_server(move |method, path| {
        if method == "GET" {
            let a = a_port2.load(std::sync::atomic::Ordering::Relaxed);
            return redirect(format!("http://127.0.0.1:{a}/stolen.ics"));
        }
        let body = format!(
            "<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\" \
             xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:response><D:href>{path}</D:href>\
             <D:propstat><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype>\
             <D:displayname>Work</D:displayname></D:prop><D:status>HTTP/1.1 200 OK</D:status>\
             </D:propstat></D:response></D:multistatus>"
        );
        (
            axum::http::StatusCode::MULTI_STATUS,
            [("content-type", "application/xml")],
            body,
        )
            .into_response()
    })
    .await;
    // A: what the manager typed; it redirects discovery to B, or to the metadata address.
    let b_cal = b.join("/cal/").unwrap();
    let (a, a_seen) = recording_server(move |_, path| match path {
        "/meta/" => redirect("http://169.254.169.254/latest/meta-data/".into()),
        _ => redirect(b_cal.to_string()),
    })
    .await;
    a_port.store(a.port().unwrap(), std::sync::atomic::Ordering::Relaxed);
    let client = || {
        CalDavClient::new(
            "sam",
            SecretString::from("pw"),
            std::time::Duration::from_secs(5),
        )
        .unwrap()
    };

    let c = client().for_account(&a, false);
    let found = c.discover(&a).await.unwrap();
    assert_eq!(found.url.as_str(), b.join("/cal/").unwrap().as_str());
    assert_eq!(found.calendars[0].url, b.join("/cal/").unwrap());
    // The account is B's now: A is another origin.
    let e = c.get(&a.join("/x.ics").unwrap()).await.unwrap_err();
    assert!(
        e.to_string().contains(&format!(
            "is on another host than the account ({})",
            b.as_str().trim_end_matches('/')
        )),
        "{e}"
    );
    // Outside discovery a redirect to another origin is not followed, and says so.
    let e = c.get(&b.join("/cal/x.ics").unwrap()).await.unwrap_err();
    assert!(matches!(e, DavError::Redirected { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("another host than the account: refused"),
        "{e}"
    );
    assert!(
        !a_seen.lock().unwrap().iter().any(|r| r.contains("stolen")),
        "{:?}",
        a_seen.lock().unwrap()
    );

    // A redirect during discovery to a forbidden address is refused, naming the rule.
    let meta = a.join("/meta/").unwrap();
    let e = client()
        .for_account(&meta, false)
        .discover(&meta)
        .await
        .unwrap_err();
    assert!(e.to_string().contains(METADATA_RULE), "{e}");
    assert_eq!(
        b_seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.starts_with("GET"))
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_connect_form_names_the_rule_and_never_shows_what_a_server_answered() {
    use crate::fixtures::web::{Browser, TOKEN, csrf_of};
    use axum::response::IntoResponse;
    // /meta/: a principal on the metadata address. /leaky/: errors whose body is not a CalDAV
    // error (what a metadata service or a proxy page would put in front of the user).
    let (hostile, _) = recording_server(|_, path| {
        if path.starts_with("/meta/") {
            let body = "<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\"><D:response>\
                 <D:href>/meta/</D:href><D:propstat><D:prop><D:current-user-principal>\
                 <D:href>http://169.254.169.254/latest/meta-data/iam/</D:href>\
                 </D:current-user-principal></D:prop><D:status>HTTP/1.1 200 OK</D:status>\
                 </D:propstat></D:response></D:multistatus>";
            return (axum::http::StatusCode::MULTI_STATUS, body).into_response();
        }
        (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "AccessKeyId: ASIA-LEAKED-KEY\nSecretAccessKey: \u{1b}[2Jwiped",
        )
            .into_response()
    })
    .await;
    let db = crate::fixtures::TestDb::sqlite();
    let key = crate::fixtures::key_env();
    let d = crate::fixtures::Daemon::spawn(
        &db.url,
        &[
            ("ONEONONE_SECRET_KEY", key.as_str()),
            ("ONEONONE__SERVER__ADMIN_TOKEN", TOKEN),
            ("ONEONONE__LOG__LEVEL", "info"),
        ],
    );
    let mut b = Browser::new(&d);
    b.sign_in(TOKEN).await;
    for (path, rule) in [
        ("/meta/", METADATA_RULE),
        ("/leaky/", "/.well-known/caldav: HTTP 500"),
    ] {
        let (_, page) = b.get("/connect/caldav").await;
        let csrf = csrf_of(&page);
        let url = hostile.join(path).unwrap().to_string();
        let form = [
            ("url", url.as_str()),
            ("username", "sam"),
            ("password", "hunter2"),
            ("owner", "sam@example.com"),
            ("csrf", csrf.as_str()),
        ];
        let (code, _, page) = b.post("/connect/caldav", &form).await;
        assert_eq!(code, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(
            page.contains(rule),
            "{path}: the rule is not named:\n{page}"
        );
        for leaked in ["LEAKED", "SecretAccessKey", "\u{1b}"] {
            assert!(!page.contains(leaked), "{path}: {leaked:?} shown:\n{page}");
            assert!(!d.log_text().contains(leaked), "{path}: {leaked:?} logged");
        }
    }
}
