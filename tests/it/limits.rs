//! Hostile input, one item at a time: an event whose description is over the size limit, absurd
//! recurrence rules, an event too large to download, deeply nested XML, data that is not UTF-8.
//! Each is refused for itself with an error that names it, and the pass goes on with the rest.

use oneonone::provider::caldav::Precondition;

use crate::fixtures::caldav::{ALICE, Setup, W1, description_at};
use crate::fixtures::caldav_server::Kind;

/// A weekly 1:1 Sam organizes with `who`, with the given rule and description.
fn one_on_one(uid: &str, who: &str, rrule: &str, description: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oneonone tests//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:20260303T120000Z\r\nDURATION:PT30M\r\nRRULE:{rrule}\r\n\
         SUMMARY:1:1 {who} / Sam\r\nDESCRIPTION:{description}\r\n\
         ORGANIZER;CN=Sam Manager:mailto:sam@example.com\r\n\
         ATTENDEE;CN=Sam Manager;PARTSTAT=ACCEPTED:mailto:sam@example.com\r\n\
         ATTENDEE;CN={who};PARTSTAT=ACCEPTED:mailto:{who}@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn run(s: &Setup, args: &[impl AsRef<str>]) -> std::process::Output {
    s.cli_with(args, &[("ONEONONE__NETWORK__MAX_RESPONSE_BYTES", "200000")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_events_on_radicale_are_refused_one_by_one_and_the_rest_get_their_agendas() {
    let s = Setup::new(Kind::Radicale).await;
    let weekly = "FREQ=WEEKLY;BYDAY=TU";
    let hostile = [
        // Over agenda.max_description_bytes (64 KiB) but under the response limit.
        (
            "huge.ics",
            one_on_one("huge", "eve", weekly, &"Eve's long notes. ".repeat(4_000)),
        ),
        // Over network.max_response_bytes (200,000 here): never downloaded whole.
        (
            "big.ics",
            one_on_one("big", "hank", weekly, &"Hank's archive. ".repeat(14_000)),
        ),
        (
            "secondly.ics",
            one_on_one("secondly", "frank", "FREQ=SECONDLY", "Frank's text"),
        ),
        // February 30th: a rule that never produces an instance.
        (
            "never.ics",
            one_on_one(
                "never",
                "gina",
                "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
                "Gina's text",
            ),
        ),
    ];
    let mut before = Vec::new();
    for (name, body) in &hostile {
        let url = s.calendar.join(name).unwrap();
        s.client
            .put(&url, body.clone().into_bytes(), &Precondition::Create)
            .await
            .unwrap();
        before.push((name, s.body(name).await));
    }
    let connect = run(
        &s,
        &s.connect_args(&s.server.base, Some("2026-03-24T12:00:00Z")),
    );
    let sync = run(&s, &["sync", "--once", "--now", "2026-03-24T12:05:00Z"]);
    let list = run(&s, &["series", "list", "--json"]);
    for out in [&connect, &sync] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Too large to download: named with the limit, skipped, the rest of the calendar read.
    let said = String::from_utf8_lossy(&connect.stderr);
    assert!(
        said.contains("big.ics: answer larger than 200000 bytes"),
        "{said}"
    );
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let error_of = |uid: &str| {
        let row = v.as_array().unwrap().iter().find(|r| r["uid"] == uid);
        row.unwrap_or_else(|| panic!("no series {uid}: {v}"))["last_error"].clone()
    };
    let huge = error_of("huge");
    assert!(
        huge.as_str()
            .unwrap_or_default()
            .contains("72000 bytes, over the limit of 65536"),
        "{huge}"
    );
    let secondly = error_of("secondly");
    assert!(
        secondly
            .as_str()
            .unwrap_or_default()
            .contains("more than 200000 instances"),
        "{secondly}"
    );
    // A rule that never produces a meeting has no next occurrence: nothing to do, no stall.
    assert!(error_of("never").is_null());
    assert!(error_of("weekly-alice").is_null());
    // The healthy 1:1 got its agenda.
    let d1 = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W1);
    assert_eq!(d1.matches("── oneonone agenda").count(), 1, "{d1}");
    // The hostile events are exactly as they were.
    for (name, body) in before {
        assert!(s.body(name).await == body, "{name} was changed");
    }
}

/// A calendar "server" no real one would be: under `/deep/` every answer is XML nested 10,000
/// levels deep; under `/latin/` the calendar holds one event encoded in Latin-1, not UTF-8.
/// Records every method it is sent.
async fn hostile_server(seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> url::Url {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let latin_ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:latin\r\n\
DTSTAMP:20260101T000000Z\r\nDTSTART:20260303T120000Z\r\nDURATION:PT30M\r\nRRULE:FREQ=WEEKLY\r\n\
SUMMARY:1:1 Ren\xe9 / Sam\r\nDESCRIPTION:Caf\xe9 cr\xe8me\r\nORGANIZER:mailto:latin@example.com\r\n\
ATTENDEE:mailto:latin@example.com\r\nATTENDEE:mailto:rene@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let handler = move |req: axum::extract::Request| {
        let seen = seen.clone();
        async move {
            let method = req.method().to_string();
            let path = req.uri().path().to_string();
            seen.lock().unwrap().push(format!("{method} {path}"));
            let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            let xml = |b: Vec<u8>| {
                (
                    StatusCode::MULTI_STATUS,
                    [("content-type", "application/xml; charset=utf-8")],
                    b,
                )
                    .into_response()
            };
            if path.starts_with("/deep/") {
                let depth = 10_000;
                let doc = format!(
                    "<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\">{}{}</D:multistatus>",
                    "<D:response>".repeat(depth),
                    "</D:response>".repeat(depth)
                );
                return xml(doc.into_bytes());
            }
            let body = String::from_utf8_lossy(&body);
            if method == "GET" && path == "/latin/work/a.ics" {
                return (StatusCode::OK, [("etag", "\"1\"")], latin_ics.to_vec()).into_response();
            }
            if method == "REPORT" && body.contains("sync-collection") {
                return xml(
                    b"<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\"><D:response>\
<D:href>/latin/work/a.ics</D:href><D:propstat><D:prop><D:getetag>\"1\"</D:getetag></D:prop>\
<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:sync-token>t1</D:sync-token>\
</D:multistatus>"
                        .to_vec(),
                );
            }
            if method == "REPORT" && body.contains("calendar-multiget") {
                let mut doc = b"<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\" \
xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:response><D:href>/latin/work/a.ics</D:href>\
<D:propstat><D:prop><D:getetag>\"1\"</D:getetag><C:calendar-data>"
                    .to_vec();
                doc.extend_from_slice(latin_ics);
                doc.extend_from_slice(
                    b"</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>\
</D:response></D:multistatus>",
                );
                return xml(doc);
            }
            StatusCode::NOT_FOUND.into_response()
        }
    };
    crate::fixtures::proxy::serve(axum::Router::new().fallback(handler)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_xml_and_data_that_is_not_utf8_are_refused_and_other_accounts_go_on() {
    use crate::fixtures::caldav::{seed_account, stored_account};
    use crate::fixtures::key_env;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let hostile = hostile_server(seen.clone()).await;
    let server = crate::fixtures::caldav_server::CalDavServer::radicale_with_users(&[(
        "ok".into(),
        "pw".into(),
    )]);
    let db = crate::fixtures::TestDb::sqlite();
    let store = db.store().await;
    let healthy = seed_account(&store, &server.base, "ok", "pw").await;
    let deep_cal = hostile.join("/deep/work/").unwrap();
    let deep = stored_account(&store, &hostile, "deep", "x", &deep_cal).await;
    let latin_cal = hostile.join("/latin/work/").unwrap();
    let latin = stored_account(&store, &hostile, "latin", "x", &latin_cal).await;

    let key = key_env();
    let env = [
        ("ONEONONE_SECRET_KEY", key.as_str()),
        ("ONEONONE__DATABASE__URL", db.url.as_str()),
        ("ONEONONE__LOG__LEVEL", "warn"),
    ];
    let out = crate::fixtures::run_cli(&["sync", "--once"], &env);
    let said = String::from_utf8_lossy(&out.stderr);
    let accounts = store.list_accounts().await.unwrap();
    let account = |id: i64| accounts.iter().find(|a| a.id == id).unwrap();
    assert!(account(healthy).last_success_at.is_some(), "{said}");
    assert!(account(healthy).last_error.is_none(), "{said}");
    let deep_error = account(deep).last_error.clone().unwrap_or_default();
    assert!(
        deep_error.contains("XML nested deeper than 64 levels"),
        "{deep_error}\n{said}"
    );
    // The Latin-1 event is skipped with its name and the reason; the account itself is fine.
    assert!(account(latin).last_success_at.is_some(), "{said}");
    assert!(
        said.contains("/latin/work/a.ics") && said.contains("not valid UTF-8"),
        "{said}"
    );
    let series = store.list_series().await.unwrap();
    assert!(series.iter().all(|s| s.uid != "latin"), "{series:?}");
    // Nothing was ever written to the hostile server.
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().all(|r| !r.starts_with("PUT")), "{seen:?}");
    assert!(
        seen.iter().any(|r| r == "GET /latin/work/a.ics"),
        "{seen:?}"
    );
    store.close().await;
}
