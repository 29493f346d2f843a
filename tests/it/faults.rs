//! Fault injection between the daemon and a real CalDAV server: a share of requests fails (500,
//! 503, 429 with and without Retry-After, a delay past the request timeout, an answer lost after
//! the server acted on it, a connection reset, a body cut short). Weeks of passes through it end
//! exactly where they end without faults.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::fixtures::caldav::{ALICE, Setup, W1, W2, W3, description_at};
use crate::fixtures::caldav_server::Kind;
use crate::fixtures::insert_line_after;
use crate::fixtures::proxy::{Received, serve};

/// When `enabled`, every fifth request fails (20 %), cycling through `KINDS`, so a run is
/// reproducible and every kind occurs.
#[derive(Clone)]
struct Proxy {
    upstream: url::Url,
    permille: Arc<AtomicU32>,
    seen: Arc<AtomicU32>,
    /// How many times each kind of fault was injected.
    hits: Arc<[AtomicU32; KINDS.len()]>,
    http: reqwest::Client,
}

/// The kinds of fault, in the order the proxy cycles through them.
const KINDS: [&str; 8] = [
    "500",
    "truncated body",
    "429 with Retry-After",
    "connection reset",
    "503",
    "429 without Retry-After",
    "delay past the request timeout",
    "answer lost after the server acted",
];

/// A body that fails after `head` (nothing, for a connection dropped before any answer): the
/// connection is cut where a real network would cut it.
fn cut_after(head: Bytes) -> axum::body::Body {
    let reset = std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "fault: connection reset",
    );
    let chunks: Vec<Result<Bytes, std::io::Error>> = if head.is_empty() {
        vec![Err(reset)]
    } else {
        vec![Ok(head), Err(reset)]
    };
    axum::body::Body::from_stream(futures::stream::iter(chunks))
}

async fn handle(State(p): State<Proxy>, req: Request) -> Response {
    let received = Received::read(req).await;
    let fault = if p.permille.load(Ordering::Relaxed) > 0 {
        let k = p.seen.fetch_add(1, Ordering::Relaxed);
        (k % 5 == 0).then_some((k / 5) as usize % KINDS.len())
    } else {
        None
    };
    if let Some(f) = fault {
        p.hits[f].fetch_add(1, Ordering::Relaxed);
    }
    let fwd = || received.forward(&p.http, &p.upstream);
    match fault.map(|f| KINDS[f]) {
        Some("500") => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Some("503") => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Some("429 with Retry-After") => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response()
        }
        Some("429 without Retry-After") => StatusCode::TOO_MANY_REQUESTS.into_response(),
        Some("delay past the request timeout") => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            fwd().await
        }
        Some("answer lost after the server acted") => {
            let _ = fwd().await;
            StatusCode::BAD_GATEWAY.into_response()
        }
        // Dropped before the server saw it.
        Some("connection reset") => Response::new(cut_after(Bytes::new())),
        Some(_) => {
            // Truncated: the server acts; its answer arrives cut in the middle, under the full
            // length.
            let full = fwd().await;
            let (mut head, b) = full.into_parts();
            let bytes = axum::body::to_bytes(b, 64 << 20).await.unwrap_or_default();
            head.headers
                .insert("content-length", bytes.len().to_string().parse().unwrap());
            let half = bytes.slice(..bytes.len() / 2);
            Response::from_parts(head, cut_after(half))
        }
        None => fwd().await,
    }
}

/// Starts the proxy; returns its URL and its count of faults per kind.
async fn start_proxy(
    upstream: url::Url,
    permille: Arc<AtomicU32>,
) -> (url::Url, Arc<[AtomicU32; KINDS.len()]>) {
    let hits = Arc::new(std::array::from_fn(|_| AtomicU32::new(0)));
    let p = Proxy {
        upstream,
        permille,
        seen: Arc::new(AtomicU32::new(0)),
        hits: hits.clone(),
        http: reqwest::Client::new(),
    };
    let app = axum::Router::new().fallback(handle).with_state(p);
    (serve(app).await, hits)
}

/// Runs `sync --once` at `now` until a pass succeeds (each failure is a fault the next pass
/// must recover from); returns how many attempts it took.
fn sync_until_ok(s: &Setup, extra: &[(&str, &str)], now: &str) -> usize {
    for attempt in 1..=40 {
        let out = s.cli_with(&["sync", "--once", "--now", now], extra);
        if out.status.success() {
            return attempt;
        }
    }
    panic!("no successful pass at {now} in 40 attempts");
}

/// The multi-week story of the scenario test; returns what the calendar and history say at the end.
async fn weeks(
    s: &Setup,
    via: &url::Url,
    faults: &AtomicU32,
    permille: u32,
) -> (String, String, usize) {
    s.connect_and_start_via(via, &[]);
    faults.store(permille, Ordering::Relaxed);
    let timeout = [("ONEONONE__SYNC__REQUEST_TIMEOUT_SECS", "2")];
    let mut attempts = 0;
    attempts += sync_until_ok(s, &timeout, "2026-03-24T12:05:00Z");
    s.user_edit(ALICE, &s.uid("weekly-alice"), W1, |d| {
        let d = insert_line_after(d, "15 minutes for you", "- [ ] Career growth");
        insert_line_after(&d, "Notes and action items", "- [ ] Prepare the Q2 plan")
    })
    .await;
    attempts += sync_until_ok(s, &timeout, "2026-03-25T12:00:00Z");
    // A pass a day in between, as a daemon would make (more, with nothing new): enough requests
    // for every kind of fault to occur.
    for day in 26..=30 {
        for hour in [7, 19] {
            attempts += sync_until_ok(s, &timeout, &format!("2026-03-{day}T{hour:02}:00:00Z"));
        }
    }
    attempts += sync_until_ok(s, &timeout, "2026-03-31T09:00:00Z");
    s.user_edit(ALICE, &s.uid("weekly-alice"), W2, |d| {
        d.replace("- [ ] Prepare the Q2 plan", "- [x] Prepare the Q2 plan")
    })
    .await;
    for day in 1..=6 {
        for hour in [12, 18] {
            attempts += sync_until_ok(s, &timeout, &format!("2026-04-0{day}T{hour}:00:00Z"));
        }
    }
    attempts += sync_until_ok(s, &timeout, "2026-04-07T09:00:00Z");
    for day in 8..=12 {
        attempts += sync_until_ok(s, &timeout, &format!("2026-04-{day:02}T12:00:00Z"));
    }
    attempts += sync_until_ok(s, &timeout, "2026-04-13T06:00:00Z");
    faults.store(0, Ordering::Relaxed);
    let d3 = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W3);
    let h = s.cli(&["history", "--with", "alice@example.com", "--format", "json"]);
    (
        d3,
        String::from_utf8_lossy(&h.stdout).into_owned(),
        attempts,
    )
}

// Multi-threaded: the CLI runs as a blocking child process while the proxy serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weeks_of_passes_through_twenty_percent_faults_end_as_without_faults() {
    let clean = Setup::new(Kind::Radicale).await;
    let off = Arc::new(AtomicU32::new(0));
    let (via_clean, _) = start_proxy(clean.server.base.clone(), off.clone()).await;
    let (d_clean, h_clean, clean_attempts) = weeks(&clean, &via_clean, &off, 0).await;
    assert_eq!(clean_attempts, 32, "no faults, no retries");

    let faulty = Setup::new(Kind::Radicale).await;
    let rate = Arc::new(AtomicU32::new(0));
    let (via, hits) = start_proxy(faulty.server.base.clone(), rate.clone()).await;
    let (d_faulty, h_faulty, attempts) = weeks(&faulty, &via, &rate, 200).await;
    eprintln!("passes needed with faults: {attempts}");
    for (kind, n) in KINDS.iter().zip(hits.iter()) {
        let n = n.load(Ordering::Relaxed);
        eprintln!("{kind}: {n}");
        assert!(
            n > 0,
            "no fault of kind {kind:?} was injected: the test proves less than it says"
        );
    }
    // No series may be left with an error the faults caused.
    let list = faulty.cli(&["series", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    for row in v.as_array().unwrap() {
        assert!(row["last_error"].is_null(), "{row}");
    }
    // Nor the account: an error it has recovered from is not shown as its state.
    let list = faulty.cli(&["accounts", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    for row in v.as_array().unwrap() {
        assert!(row["last_error"].is_null(), "{row}");
    }
    assert!(
        attempts > 32,
        "the faults never hit ({attempts} attempts): the test proves nothing"
    );
    assert_eq!(d_faulty, d_clean, "the invite differs after faults");
    assert_eq!(h_faulty, h_clean, "the history differs after faults");
    // Exactly one agenda block, and the user's own text, in the invite.
    assert_eq!(d_faulty.matches("── oneonone agenda").count(), 1);
    assert!(d_faulty.starts_with("Alice's own notes: keep me.\n\n"));
}
