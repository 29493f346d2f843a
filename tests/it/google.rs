//! The Google provider against a Google Calendar test server that checks every request and answer
//! against the discovery document (`google_server`), and OAuth against a real authorization
//! server process (oauth2-mock-server on Node, installed by `scripts/setup-node`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use oneonone::clock::Clock;
use oneonone::model::{Etag, EventStatus};
use oneonone::provider::google::convert;
use oneonone::provider::google::oauth::{self, OAuthError, RefreshingTokens};
use oneonone::provider::google::{
    GoogleClient, GoogleError, RequestBudget, RetryPolicy, StaticToken, SyncMode, TokenError,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use url::Url;

use crate::fixtures::google::{OAuthServer, connect, consent};
use crate::fixtures::google_server::{Fault, GoogleServer, single_event, weekly_one_on_one};

const TOKEN: &str = "ya29.test-token";

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(5),
    }
}

fn client(server: &GoogleServer, token: &str) -> GoogleClient {
    GoogleClient::new(
        server.api_base(),
        Arc::new(StaticToken(SecretString::from(token))),
        Duration::from_secs(10),
    )
    .unwrap()
    .with_retry(fast_retry())
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// A calendar with two weekly 1:1s (one with a cancelled and one with a moved occurrence) and
/// `singles` single events.
fn seed(server: &GoogleServer, singles: usize) {
    server.insert(
        "primary",
        weekly_one_on_one("bob11", "2026-01-05T10:00:00", "Europe/Berlin", "Bob"),
    );
    server.insert(
        "primary",
        weekly_one_on_one(
            "carol11",
            "2026-01-06T15:00:00",
            "America/New_York",
            "Carol",
        ),
    );
    // The occurrence of 12 Jan is cancelled; the one of 19 Jan moved an hour later.
    server.delete("primary", "bob11_20260112T090000Z");
    server.web_edit("primary", "bob11_20260119T090000Z", |e| {
        e["start"]["dateTime"] = json!("2026-01-19T11:00:00+01:00");
        e["end"]["dateTime"] = json!("2026-01-19T11:30:00+01:00");
    });
    for i in 0..singles {
        server.insert(
            "primary",
            single_event(&format!("single{i}"), "2026-01-07T08:00:00Z", 60),
        );
    }
}

#[tokio::test]
async fn test_server_flags_requests_the_discovery_document_does_not_allow() {
    let server = GoogleServer::start().await;
    let http = reqwest::Client::new();
    let base = server.api_base();
    let get = |path: &str| http.get(base.join(path).unwrap()).bearer_auth(TOKEN).send();
    let ok = get("calendars/primary/events?singleEvents=false&maxResults=10")
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    server.assert_clean();
    get("calendars/primary/events?maxResults=many")
        .await
        .unwrap();
    get("calendars/primary/events?singleEvents=yes&colour=red")
        .await
        .unwrap();
    get("calendars/primary/events?timeMin=yesterday&orderBy=random")
        .await
        .unwrap();
    get("calendars/primary/events?q=a&q=b").await.unwrap();
    get("calendars/primary/calendarz").await.unwrap();
    get("calendars/primary/events?maxResults=0").await.unwrap();
    let v = server.violations().join("\n");
    for needle in [
        "`maxResults=many`: not an integer",
        "`singleEvents=yes`: not a boolean",
        "`colour` is not in the discovery document",
        "`timeMin=yesterday`",
        "`orderBy=random`: not one of",
        "`q` given 2 times",
        "no such method",
        "`maxResults=0`: below the documented minimum",
    ] {
        assert!(v.contains(needle), "missing violation {needle:?} in:\n{v}");
    }
    // A patch that breaks the Event schema and mails the guests.
    let r = http
        .patch(base.join("calendars/primary/events/nope").unwrap())
        .bearer_auth(TOKEN)
        .json(&json!({"description": 5, "colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v = server.violations().join("\n");
    assert!(
        v.contains("patch body: Event.description: expected a string"),
        "{v}"
    );
    assert!(v.contains("Event.colour: not a property"), "{v}");
    assert!(
        v.contains("sendUpdates=None: guests would be mailed"),
        "{v}"
    );
}

#[tokio::test]
async fn test_server_refuses_filters_with_a_sync_token_and_garbage_tokens() {
    let server = GoogleServer::start().await;
    seed(&server, 0);
    let c = client(&server, TOKEN);
    let token = c
        .list_events("primary", &SyncMode::Full)
        .await
        .unwrap()
        .next_sync_token
        .unwrap();
    let http = reqwest::Client::new();
    let mut url = server.api_base().join("calendars/primary/events").unwrap();
    url.query_pairs_mut()
        .append_pair("syncToken", &token)
        .append_pair("timeMin", "2026-01-01T00:00:00Z");
    let r = http.get(url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("timeMin")
    );
    let e = c
        .list_events("primary", &SyncMode::Incremental("garbage".into()))
        .await
        .unwrap_err();
    assert!(matches!(&e, GoogleError::Status { status: 400, .. }), "{e}");
    server.assert_clean();
}

#[tokio::test]
async fn full_listing_pages_through_masters_and_exceptions_then_sync_token_returns_only_changes() {
    let server = GoogleServer::start().await;
    seed(&server, 5);
    let c = client(&server, TOKEN).with_page_size(3);
    let full = c.list_events("primary", &SyncMode::Full).await.unwrap();
    // 2 masters + 2 exceptions (one cancelled) + 5 singles, 3 per page.
    assert_eq!(full.events.len(), 9);
    assert_eq!(full.pages, 3);
    assert_eq!(full.time_zone.as_deref(), Some("Europe/Berlin"));
    let token = full
        .next_sync_token
        .clone()
        .expect("a sync token on the last page");
    let cancelled = full
        .events
        .iter()
        .find(|e| e.id == "bob11_20260112T090000Z")
        .expect("the cancelled exception is listed");
    assert!(cancelled.is_cancelled());
    assert!(cancelled.summary.is_none() && cancelled.start.is_none());
    assert_eq!(cancelled.recurring_event_id.as_deref(), Some("bob11"));
    assert!(cancelled.original_start_time.is_some());

    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let (series, errors) = convert::series_from_events(&full.events, Some(tz));
    assert!(errors.is_empty(), "{errors:?}");
    let bob = series.iter().find(|s| s.uid == "bob11").unwrap();
    assert!(bob.is_recurring());
    assert_eq!(bob.overrides.len(), 2);
    assert!(
        bob.overrides
            .iter()
            .any(|o| o.status == EventStatus::Cancelled)
    );
    let moved = bob.overrides.iter().find(|o| o.start.is_some()).unwrap();
    assert_eq!(
        moved.start.unwrap().to_utc(tz),
        utc("2026-01-19T10:00:00Z"),
        "the moved occurrence keeps its new time"
    );
    assert_eq!(
        moved.recurrence_id.unwrap().to_utc(tz),
        utc("2026-01-19T09:00:00Z")
    );

    // Nothing changed: one request, no events.
    let before = server.requests_by(TOKEN);
    let idle = c
        .list_events("primary", &SyncMode::Incremental(token.clone()))
        .await
        .unwrap();
    assert!(idle.events.is_empty());
    assert_eq!(
        server.requests_by(TOKEN) - before,
        1,
        "an idle pass costs one request"
    );
    let token = idle.next_sync_token.unwrap();

    // A web edit, a deletion and a new event: exactly those come back.
    server.web_edit_description("primary", "carol11", "<b>Agenda</b><br>hello");
    server.delete("primary", "single0");
    server.insert("primary", single_event("fresh", "2026-02-01T08:00:00Z", 30));
    let inc = c
        .list_events("primary", &SyncMode::Incremental(token))
        .await
        .unwrap();
    let ids: Vec<&str> = inc.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["carol11", "single0", "fresh"]);
    assert!(inc.events[1].is_cancelled());
    assert_eq!(
        inc.events[0].description.as_deref(),
        Some("<b>Agenda</b><br>hello")
    );

    // Every request named singleEvents=false and maxResults within Google's limit.
    for r in server.requests() {
        let q: std::collections::HashMap<_, _> = r.query.iter().cloned().collect();
        assert_eq!(q.get("singleEvents").map(String::as_str), Some("false"));
        assert_eq!(q.get("maxResults").map(String::as_str), Some("3"));
    }
    server.assert_clean();
}

#[tokio::test]
async fn a_sync_token_the_server_invalidated_is_full_sync_required() {
    let server = GoogleServer::start().await;
    seed(&server, 1);
    let c = client(&server, TOKEN);
    let token = c
        .list_events("primary", &SyncMode::Full)
        .await
        .unwrap()
        .next_sync_token
        .unwrap();
    server.invalidate_sync_tokens("primary");
    let e = c
        .list_events("primary", &SyncMode::Incremental(token))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, GoogleError::FullSyncRequired { calendar_id, reason }
            if calendar_id == "primary" && reason == "fullSyncRequired"),
        "{e}"
    );
    assert_eq!(e.kind(), "full_sync_required");
    // The full listing then works and hands out a token that is valid again.
    let full = c.list_events("primary", &SyncMode::Full).await.unwrap();
    assert_eq!(full.events.len(), 5);
    let again = c
        .list_events(
            "primary",
            &SyncMode::Incremental(full.next_sync_token.unwrap()),
        )
        .await
        .unwrap();
    assert!(again.events.is_empty());
    server.assert_clean();
}

#[tokio::test]
async fn instances_have_their_own_ids_and_original_start_and_cancelled_ones_are_seen() {
    let server = GoogleServer::start().await;
    seed(&server, 0);
    let c = client(&server, TOKEN).with_page_size(2);
    let inst = c
        .instances(
            "primary",
            "bob11",
            utc("2026-01-05T00:00:00Z"),
            utc("2026-02-01T00:00:00Z"),
        )
        .await
        .unwrap();
    let ids: Vec<&str> = inst.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "bob11_20260105T090000Z",
            "bob11_20260112T090000Z",
            "bob11_20260119T090000Z",
            "bob11_20260126T090000Z"
        ]
    );
    assert!(inst[1].is_cancelled());
    for i in &inst {
        assert_eq!(i.recurring_event_id.as_deref(), Some("bob11"));
        assert!(i.original_start_time.is_some());
        assert!(i.recurrence.is_none());
    }
    assert_eq!(
        inst[2].start.as_ref().unwrap().date_time.as_deref(),
        Some("2026-01-19T11:00:00+01:00")
    );
    let occ: Vec<_> = inst
        .iter()
        .map(|i| convert::occurrence_from_instance(i, None).unwrap().unwrap())
        .collect();
    use oneonone::model::OccurrenceStatus::{Cancelled, Moved, Scheduled};
    let statuses: Vec<_> = occ.iter().map(|o| o.status).collect();
    assert_eq!(statuses, [Scheduled, Cancelled, Moved, Scheduled]);
    assert_eq!(occ[2].original_start, utc("2026-01-19T09:00:00Z"));
    assert_eq!(occ[2].start, utc("2026-01-19T10:00:00Z"));
    let one = c.get("primary", "bob11_20260126T090000Z").await.unwrap();
    assert_eq!(one.etag, inst[3].etag);
    let e = c
        .instances(
            "primary",
            "nope",
            utc("2026-01-05T00:00:00Z"),
            utc("2026-02-01T00:00:00Z"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, GoogleError::NotFound { status: 404, .. }),
        "{e}"
    );
    server.assert_clean();
}

#[tokio::test]
async fn patching_an_instance_creates_an_exception_and_a_stale_etag_is_a_conflict() {
    let server = GoogleServer::start().await;
    seed(&server, 0);
    let c = client(&server, TOKEN);
    let id = "bob11_20260126T090000Z";
    let inst = c.get("primary", id).await.unwrap();
    let etag = inst.etag().unwrap();
    let master_before = server.event("primary", "bob11").unwrap();

    let patched = c
        .patch_description("primary", id, &etag, "## Agenda\n- [ ] one")
        .await
        .unwrap();
    assert_ne!(
        patched.etag(),
        Some(etag.clone()),
        "every change gets a new etag"
    );
    assert_eq!(patched.description.as_deref(), Some("## Agenda\n- [ ] one"));
    assert_eq!(patched.recurring_event_id.as_deref(), Some("bob11"));
    assert_eq!(
        server.event("primary", "bob11").unwrap(),
        master_before,
        "master untouched"
    );
    assert!(
        server.event("primary", id).is_some(),
        "an exception now exists"
    );

    // Someone edits it in the web UI: our etag is stale.
    server.web_edit_description("primary", id, "<p>mine</p>");
    let e = c
        .patch_description("primary", id, &patched.etag().unwrap(), "ours")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, GoogleError::Conflict { event_id, after_server_error: false } if event_id == id),
        "{e}"
    );
    assert_eq!(
        server.event("primary", id).unwrap()["description"],
        "<p>mine</p>"
    );
    // Re-read, then the write goes through.
    let fresh = c.get("primary", id).await.unwrap();
    assert_eq!(fresh.description.as_deref(), Some("<p>mine</p>"));
    let e2 = c
        .patch_description("primary", id, &fresh.etag().unwrap(), "<p>mine</p>\nours")
        .await
        .unwrap();
    assert_eq!(e2.description.as_deref(), Some("<p>mine</p>\nours"));
    let patches: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 3);
    for p in &patches {
        assert!(p.if_match.is_some());
        assert!(p.query.contains(&("sendUpdates".into(), "none".into())));
    }
    let e = c
        .patch_description("primary", "missing", &Etag("\"1\"".into()), "x")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "not_found");
    server.assert_clean();
}

#[tokio::test]
async fn descriptions_travel_byte_for_byte_whatever_they_contain() {
    let server = GoogleServer::start().await;
    seed(&server, 0);
    let c = client(&server, TOKEN);
    let id = "carol11_20260113T200000Z";
    let hostile = format!(
        "<b>bold</b> &amp; &nbsp; \"quotes\" \\ back\u{0}slash \u{1F600} Zoë\r\n{}",
        "x".repeat(10_000)
    );
    let inst = c.get("primary", id).await.unwrap();
    let patched = c
        .patch_description("primary", id, &inst.etag().unwrap(), &hostile)
        .await
        .unwrap();
    assert_eq!(patched.description.as_deref(), Some(hostile.as_str()));
    assert_eq!(
        server.event("primary", id).unwrap()["description"],
        hostile.as_str()
    );
    let again = c.get("primary", id).await.unwrap();
    assert_eq!(again.description.as_deref(), Some(hostile.as_str()));
    server.assert_clean();
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_and_retry_after_is_honoured() {
    let server = GoogleServer::start().await;
    seed(&server, 0);
    let c = client(&server, TOKEN);
    server.push_fault(Fault::Forbidden403("rateLimitExceeded"));
    server.push_fault(Fault::Forbidden403("userRateLimitExceeded"));
    server.push_fault(Fault::TooMany429(Some(1)));
    server.push_fault(Fault::Server(503));
    let started = Instant::now();
    let full = c.list_events("primary", &SyncMode::Full).await.unwrap();
    assert_eq!(full.events.len(), 4);
    assert_eq!(c.request_count(), 5);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );

    // More failures than retries: a typed error, after max_retries + 1 attempts.
    for _ in 0..5 {
        server.push_fault(Fault::TooMany429(None));
    }
    let e = c.list_events("primary", &SyncMode::Full).await.unwrap_err();
    assert!(
        matches!(&e, GoogleError::RateLimited { attempts: 5, .. }),
        "{e}"
    );
    assert_eq!(c.request_count(), 5 + 5);

    // A Retry-After beyond what we wait for fails at once, for the scheduler to back off.
    let c2 = client(&server, "other");
    server.push_fault(Fault::TooMany429(Some(3600)));
    let e = c2.get("primary", "bob11").await.unwrap_err();
    assert!(
        matches!(&e, GoogleError::RateLimited { attempts: 1, retry_after: Some(d), .. }
            if *d == Duration::from_secs(3600)),
        "{e}"
    );
    assert_eq!(server.requests_by("other"), 1);

    // The daily quota is not retried.
    server.push_fault(Fault::Forbidden403("quotaExceeded"));
    let e = c2.get("primary", "bob11").await.unwrap_err();
    assert_eq!(e.kind(), "quota_exceeded");
    assert_eq!(server.requests_by("other"), 2);
    server.assert_clean();
}

#[tokio::test]
async fn broken_answers_and_deleted_series_are_typed_errors() {
    let server = GoogleServer::start().await;
    seed(&server, 0);
    let c = client(&server, TOKEN);
    server.push_fault(Fault::Garbage("<html>proxy error</html>"));
    let e = c.list_events("primary", &SyncMode::Full).await.unwrap_err();
    assert_eq!(e.kind(), "bad_json", "{e}");
    server.push_fault(Fault::Garbage(
        r#"{"kind": "calendar#events", "items": [{"id": 5}]}"#,
    ));
    let e = c.list_events("primary", &SyncMode::Full).await.unwrap_err();
    assert!(e.to_string().contains("items[0].id"), "{e}");
    // The series was deleted: its instances are gone (410), not an empty week.
    server.delete("primary", "bob11");
    let e = c
        .instances(
            "primary",
            "bob11",
            utc("2026-01-05T00:00:00Z"),
            utc("2026-02-01T00:00:00Z"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, GoogleError::NotFound { status: 410, .. }),
        "{e}"
    );
    let e = c.get("primary", "x").await.unwrap_err();
    assert!(
        matches!(e, GoogleError::NotFound { status: 404, .. }),
        "{e}"
    );
    server.assert_clean();
}

#[tokio::test]
async fn the_request_budget_spaces_requests_out_instead_of_drawing_rate_limits() {
    let server = GoogleServer::start().await;
    seed(&server, 0);
    let c = client(&server, TOKEN).with_budget(RequestBudget {
        max: 2,
        per: Duration::from_millis(400),
    });
    let started = Instant::now();
    for _ in 0..5 {
        c.get("primary", "bob11").await.unwrap();
    }
    // Requests 3-4 wait for the first window, request 5 for the second.
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.requests_by(TOKEN), 5);
    server.assert_clean();
}

#[test]
fn the_validator_catches_answers_that_break_the_event_schema() {
    let d = crate::fixtures::google_server::Discovery::load();
    let mut v = Vec::new();
    d.check_schema(
        "Events",
        &json!({"kind": "calendar#events", "items": [
            {"id": "a", "start": {"dateTime": "5 pm"}, "attendees": [{"email": 1}],
             "sequence": 1.5, "reminders": {"useDefault": "yes"}, "color": "red"},
            {"id": "b", "originalStartTime": {"date": "2026-13-01"}, "recurrence": "RRULE:FREQ=DAILY"}
        ], "nextSyncToken": 7}),
        &mut v,
    );
    let all = v.join("\n");
    for needle in [
        "Events.items[0].start.dateTime: `5 pm` is not an RFC 3339 date-time",
        "Events.items[0].attendees[0].email: expected a string",
        "Events.items[0].sequence: expected an integer",
        "Events.items[0].reminders.useDefault: expected a boolean",
        "Events.items[0].color: not a property",
        "Events.items[1].originalStartTime.date: `2026-13-01` is not a yyyy-mm-dd date",
        "Events.items[1].recurrence: expected an array",
        "Events.nextSyncToken: expected a string",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
    assert_eq!(v.len(), 8, "{all}");
    let mut ok = Vec::new();
    d.check_schema(
        "Event",
        &crate::fixtures::google_server::weekly_one_on_one(
            "x",
            "2026-01-05T10:00:00",
            "Europe/Berlin",
            "Bob",
        ),
        &mut ok,
    );
    assert!(ok.is_empty(), "{ok:?}");
}

#[tokio::test]
async fn a_sync_token_reused_with_other_parameters_is_flagged() {
    let server = GoogleServer::start().await;
    seed(&server, 0);
    let c = client(&server, TOKEN);
    let token = c
        .list_events("primary", &SyncMode::Full)
        .await
        .unwrap()
        .next_sync_token
        .unwrap();
    let mut url = server.api_base().join("calendars/primary/events").unwrap();
    url.query_pairs_mut()
        .append_pair("syncToken", &token)
        .append_pair("showDeleted", "true");
    let r = reqwest::Client::new()
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = server.violations().join("\n");
    assert!(v.contains("syncToken used with parameters"), "{v}");
}

// ---------------------------------------------------------------------------------------------
// OAuth against a real authorization server.

#[tokio::test]
async fn oauth_code_flow_with_pkce_refresh_and_revocation_against_a_real_server() {
    let s = OAuthServer::start();
    let settings = s.settings("cid");
    let http = oauth::http_client(Duration::from_secs(10)).unwrap();
    let tokens = connect(&s, "cid").await;
    let refresh = tokens
        .refresh_token
        .clone()
        .expect("offline access gives a refresh token");
    assert!(tokens.expires_in.is_some());

    let t2 = oauth::refresh(&settings, &http, &refresh).await.unwrap();
    assert_ne!(
        t2.access_token.expose_secret(),
        tokens.access_token.expose_secret()
    );
    assert!(t2.refresh_token.is_none(), "Google keeps the refresh token");

    // A wrong PKCE verifier is refused by the server.
    let redirect = Url::parse("http://127.0.0.1:1/cb").unwrap();
    let req = oauth::authorize_url(&settings, &redirect, &[oauth::SCOPE_EVENTS]).unwrap();
    let (code, _) = consent(&req.url).await;
    let wrong = SecretString::from("x".repeat(64));
    assert!(
        oauth::exchange_code(&settings, &http, &redirect, &code, &wrong)
            .await
            .is_err()
    );

    // A wrong client secret is a rejection, not a revocation.
    let mut bad = settings.clone();
    bad.client_secret = Some(SecretString::from("nope"));
    let e = oauth::refresh(&bad, &http, &refresh).await.unwrap_err();
    assert!(
        matches!(&e, OAuthError::Rejected { error, .. } if error == "invalid_client"),
        "{e}"
    );

    // The user revokes access: invalid_grant, typed.
    oauth::revoke(&http, &s.issuer.join("revoke").unwrap(), &refresh)
        .await
        .unwrap();
    let e = oauth::refresh(&settings, &http, &refresh)
        .await
        .unwrap_err();
    assert!(matches!(e, OAuthError::Revoked { .. }), "{e}");
    assert_eq!(e.kind(), "revoked");
    let e = oauth::refresh(&settings, &http, &SecretString::from("never-issued"))
        .await
        .unwrap_err();
    assert!(matches!(e, OAuthError::Revoked { .. }), "{e}");

    // An unreachable token endpoint is a network error.
    let mut dead = settings.clone();
    dead.token_url = Url::parse("http://127.0.0.1:1/token").unwrap();
    let e = oauth::refresh(&dead, &http, &refresh).await.unwrap_err();
    assert_eq!(e.kind(), "network", "{e}");
}

#[tokio::test]
async fn loopback_redirect_receives_the_code_from_a_browser_following_consent() {
    let s = OAuthServer::start();
    let settings = s.settings("cid");
    let rx = oauth::LoopbackReceiver::bind().await.unwrap();
    let redirect = rx.redirect_url().clone();
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    let req = oauth::authorize_url(&settings, &redirect, &[oauth::SCOPE_EVENTS]).unwrap();
    let state = req.state.clone();
    let waiting = tokio::spawn(async move { rx.receive(&state, Duration::from_secs(10)).await });
    // The browser: follows the authorization server's redirect to our loopback.
    let browser = reqwest::Client::new();
    let _ = browser
        .get(redirect.join("favicon.ico").unwrap())
        .send()
        .await
        .unwrap();
    let page = browser.get(req.url.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("connected"));
    let code = waiting.await.unwrap().unwrap();
    let http = oauth::http_client(Duration::from_secs(10)).unwrap();
    let tokens = oauth::exchange_code(&settings, &http, &redirect, &code, &req.pkce_verifier)
        .await
        .unwrap();
    assert!(tokens.refresh_token.is_some());

    // A forged callback with another state is refused; a refused consent is typed.
    let rx = oauth::LoopbackReceiver::bind().await.unwrap();
    let url = rx.redirect_url().join("?code=stolen&state=forged").unwrap();
    let waiting =
        tokio::spawn(async move { rx.receive("expected", Duration::from_secs(10)).await });
    let _ = browser.get(url).send().await.unwrap();
    assert!(matches!(
        waiting.await.unwrap(),
        Err(OAuthError::StateMismatch)
    ));
    let rx = oauth::LoopbackReceiver::bind().await.unwrap();
    let url = rx
        .redirect_url()
        .join("?error=access_denied&state=s")
        .unwrap();
    let waiting = tokio::spawn(async move { rx.receive("s", Duration::from_secs(10)).await });
    let _ = browser.get(url).send().await.unwrap();
    assert!(matches!(waiting.await.unwrap(),
        Err(OAuthError::Rejected { error, .. }) if error == "access_denied"));
    let rx = oauth::LoopbackReceiver::bind().await.unwrap();
    let e = rx
        .receive("s", Duration::from_millis(100))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "timed_out");
}

struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

#[tokio::test]
async fn refreshing_tokens_refresh_before_expiry_after_a_401_and_stop_once_revoked() {
    let s = OAuthServer::start();
    let google = GoogleServer::start().await;
    seed(&google, 0);
    let tokens = connect(&s, "cid").await;
    let refresh = tokens.refresh_token.clone().unwrap();
    let clock = Arc::new(TestClock(Mutex::new(
        Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap(),
    )));
    // Seeded with the exchange's access token: no refresh until it nears expiry.
    let seeded = RefreshingTokens::new(
        s.settings("cid"),
        oauth::http_client(Duration::from_secs(10)).unwrap(),
        refresh.clone(),
        clock.clone(),
    )
    .with_access_token(tokens.access_token.clone(), tokens.expires_at(clock.now()))
    .await;
    assert_eq!(
        seeded.get().await.unwrap().expose_secret(),
        tokens.access_token.expose_secret()
    );
    assert_eq!(seeded.refresh_count().await, 0);
    let http = oauth::http_client(Duration::from_secs(10)).unwrap();
    let source = Arc::new(RefreshingTokens::new(
        s.settings("cid"),
        http.clone(),
        refresh.clone(),
        clock.clone(),
    ));
    let c = GoogleClient::new(google.api_base(), source.clone(), Duration::from_secs(10))
        .unwrap()
        .with_retry(fast_retry());
    c.list_events("primary", &SyncMode::Full).await.unwrap();
    c.list_events("primary", &SyncMode::Full).await.unwrap();
    assert_eq!(source.refresh_count().await, 1, "a valid token is reused");
    let first = source.get().await.unwrap();

    // Close to expiry (the mock's tokens live an hour): refreshed before use.
    *clock.0.lock().unwrap() += chrono::Duration::minutes(59);
    let second = source.get().await.unwrap();
    assert_eq!(source.refresh_count().await, 2);
    assert_ne!(first.expose_secret(), second.expose_secret());

    // Google rejects the token (revoked session): refreshed once and retried.
    google.reject_token(second.expose_secret());
    c.list_events("primary", &SyncMode::Full).await.unwrap();
    assert_eq!(source.refresh_count().await, 3);
    assert_eq!(google.requests_by(second.expose_secret()), 1);

    // The user revokes the grant: the client reports it, typed, and stops asking.
    oauth::revoke(&http, &s.issuer.join("revoke").unwrap(), &refresh)
        .await
        .unwrap();
    let third = source.get().await.unwrap();
    google.reject_token(third.expose_secret());
    let e = c.list_events("primary", &SyncMode::Full).await.unwrap_err();
    assert!(
        matches!(e, GoogleError::Token(TokenError::Revoked(_))),
        "{e}"
    );
    assert_eq!(e.kind(), "revoked");
    let n = source.refresh_count().await;
    let _ = c.list_events("primary", &SyncMode::Full).await.unwrap_err();
    assert_eq!(
        source.refresh_count().await,
        n,
        "no refresh after invalid_grant"
    );
    google.assert_clean();
}
