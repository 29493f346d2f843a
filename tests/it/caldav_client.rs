//! The CalDAV protocol layer against real servers.

use std::time::Duration;

use oneonone::model::Etag;
use oneonone::provider::caldav::{CalDavClient, DavError, Precondition};
use secrecy::SecretString;

use crate::fixtures::caldav_server::{CalDavServer, Kind, PASSWORD, USER};

fn client(password: &str) -> CalDavClient {
    CalDavClient::new(USER, SecretString::from(password), Duration::from_secs(10)).unwrap()
}

fn event(uid: &str, summary: &str) -> Vec<u8> {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oneonone tests//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20261101T000000Z\r\nDTSTART:20261201T090000Z\r\nDURATION:PT30M\r\n\
         RRULE:FREQ=WEEKLY\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn discovery_sync_and_conditional_writes_work_on_real_servers() {
    for kind in Kind::ALL {
        let server = CalDavServer::start(kind);
        let c = client(PASSWORD);
        let cal = server.calendar_url("work");
        c.mkcalendar(&cal, "Work")
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));

        // Discovery from the bare server URL finds the principal, home and our calendar.
        let found = c
            .discover(&server.base)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(
            found.home.as_ref().map(|u| u.path()),
            Some(server.home().path()),
            "{kind:?}"
        );
        let info = found
            .calendars
            .iter()
            .find(|ci| ci.url.path() == cal.path())
            .unwrap_or_else(|| panic!("{kind:?}: calendar not listed: {:?}", found.calendars));
        assert_eq!(info.display_name.as_deref(), Some("Work"), "{kind:?}");
        assert!(info.holds_events());
        assert!(info.sync_token.is_some(), "{kind:?}: no sync token");
        // A calendar URL given directly is recognised as such.
        let direct = c.discover(&cal).await.unwrap();
        assert_eq!(direct.calendars.len(), 1);

        // Create, and refuse a second create of the same resource.
        let href = cal.join("one.ics").unwrap();
        let etag = c
            .put(
                &href,
                event("one", "1:1 Alice / Sam"),
                &Precondition::Create,
            )
            .await
            .unwrap();
        let etag = etag.unwrap_or_else(|| panic!("{kind:?}: no etag after create"));
        let again = c
            .put(&href, event("one", "dup"), &Precondition::Create)
            .await;
        assert!(
            matches!(again, Err(DavError::PreconditionFailed { .. })),
            "{kind:?}: {again:?}"
        );

        // Initial sync lists it; an idle sync lists nothing; a change is reported.
        let first = c.sync_collection(&cal, None).await.unwrap();
        assert_eq!(first.changed.len(), 1, "{kind:?}: {first:?}");
        let token = first.token.clone().expect("a sync token");
        let idle = c.sync_collection(&cal, Some(&token)).await.unwrap();
        assert!(
            idle.changed.is_empty() && idle.deleted.is_empty(),
            "{kind:?}: {idle:?}"
        );

        // A stale etag is refused; the current one is accepted and gives a new etag.
        let stale = c
            .put(
                &href,
                event("one", "x"),
                &Precondition::Match(Etag("\"stale\"".into())),
            )
            .await;
        assert!(
            matches!(stale, Err(DavError::PreconditionFailed { .. })),
            "{kind:?}: {stale:?}"
        );
        let new = c
            .put(
                &href,
                event("one", "changed"),
                &Precondition::Match(etag.clone()),
            )
            .await
            .unwrap();
        assert_ne!(new.as_ref(), Some(&etag));
        let changed = c.sync_collection(&cal, Some(&token)).await.unwrap();
        assert_eq!(changed.changed.len(), 1, "{kind:?}: {changed:?}");

        // Multiget and GET return the stored data.
        let got = c.multiget(&cal, std::slice::from_ref(&href)).await.unwrap();
        assert_eq!(got.len(), 1);
        assert!(
            String::from_utf8_lossy(&got[0].body).contains("SUMMARY:changed"),
            "{kind:?}"
        );
        assert_eq!(c.list_etags(&cal).await.unwrap().len(), 1);

        // Delete shows up as a deletion.
        c.delete(&href, &new.unwrap()).await.unwrap();
        let gone = c
            .sync_collection(&cal, changed.token.as_deref())
            .await
            .unwrap();
        assert_eq!(gone.deleted.len(), 1, "{kind:?}: {gone:?}");

        // A token the server never issued: an error we can recognise, or (as some servers
        // do) a full listing; never a silent success that hides changes.
        match c.sync_collection(&cal, Some("http://bogus/token/1")).await {
            Err(DavError::InvalidSyncToken { .. }) => {}
            Ok(listing) => assert!(listing.token.is_some(), "{kind:?}"),
            Err(e) => panic!("{kind:?}: unexpected error for a bogus token: {e}"),
        }
    }
}

#[tokio::test]
async fn a_wrong_password_is_reported_as_such() {
    let server = CalDavServer::start(Kind::Radicale);
    let err = client("wrong").discover(&server.base).await.unwrap_err();
    assert!(matches!(err, DavError::Unauthorized { .. }), "{err}");
    assert_eq!(err.kind(), "unauthorized");
    assert!(
        !err.to_string().contains("wrong"),
        "the password leaked into: {err}"
    );
}

#[tokio::test]
async fn a_digest_only_server_is_answered_with_digest_reusing_its_nonce() {
    // sabre/dav 1.8 asks for Digest only: the first request learns it (a 401, then the same
    // request with Digest), every later one reuses the nonce with the next count.
    let server = CalDavServer::start(Kind::SabreDigest);
    let c = client(PASSWORD);
    let cal = server.calendar_url("work");
    c.mkcalendar(&cal, "Work").await.unwrap();
    assert_eq!(c.request_count(), 2);
    let found = c.discover(&server.base).await.unwrap();
    assert!(
        found.calendars.iter().any(|i| i.url.path() == cal.path()),
        "{found:?}"
    );
    let href = cal.join("one.ics").unwrap();
    let before = c.request_count();
    let etag = c
        .put(
            &href,
            event("one", "1:1 Alice / Sam"),
            &Precondition::Create,
        )
        .await
        .unwrap();
    let read = c.get(&href).await.unwrap();
    assert_eq!(read.body, event("one", "1:1 Alice / Sam"));
    assert_eq!(c.request_count() - before, 2, "no request is asked twice");
    if let Some(etag) = etag {
        assert_eq!(read.etag, Some(etag));
    }
    // No sync-collection there: a 403 naming DAV:supported-report, not a password problem.
    let err = c.sync_collection(&cal, None).await.unwrap_err();
    assert_eq!(err.kind(), "unsupported_report", "{err}");

    // A wrong password: refused after Digest was tried, and never shown.
    let wrong = client("wrong");
    let err = wrong.discover(&server.base).await.unwrap_err();
    assert_eq!(err.kind(), "unauthorized", "{err}");
    assert_eq!(wrong.request_count(), 2, "Basic, then Digest, then refused");
    assert!(!err.to_string().contains("wrong"), "{err}");
}

#[tokio::test]
async fn a_dead_server_is_a_network_error_not_a_hang() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let err = client(PASSWORD).discover(&url).await.unwrap_err();
    assert_eq!(err.kind(), "network", "{err}");
}
