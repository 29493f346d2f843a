//! The HTTP surface: `/healthz` (the process serves), `/readyz` (database, migrations, scheduler,
//! per-account state; no secrets, no event contents) and `/metrics` (Prometheus text).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::clock::Clock;
use crate::store::{Account, AccountState, Store};
use crate::sync::Heartbeat;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub heartbeat: Arc<Heartbeat>,
    pub clock: Arc<dyn Clock>,
    /// The scheduler's period: a loop silent for much longer than this is dead.
    pub pass_period: Duration,
    pub started_at: DateTime<Utc>,
    /// Wakes the scheduler (an account was made due).
    pub wake: Arc<tokio::sync::Notify>,
    /// The admin API's bearer token; empty switches the API off.
    pub admin_token: secrecy::SecretString,
    /// Wrong bearer tokens per client address (the admin API, `/connect/google`).
    pub(crate) guesses: Arc<crate::web::guesses::Guesses>,
    /// The admin digest web sessions are bound to (`/connect/google` accepts a session).
    pub(crate) session_digest: [u8; 32],
    /// What the admin API's restore writes with (either provider).
    pub services: Arc<crate::services::Services>,
    /// The Google connect flow's pending consents.
    pub google: Arc<crate::provider::google::web::GoogleWeb>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(crate::api::router(state.clone()))
        .merge(google_pages())
        .route(
            "/webhooks/google",
            axum::routing::post(crate::provider::google::web::webhook),
        )
        .with_state(state)
        // Spans name the path only: a query can carry secrets (the OAuth callback's code).
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |req: &axum::http::Request<axum::body::Body>| {
                    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
                },
            ),
        )
}

/// The Google connect pages, with the headers of every other page (`web::security_headers`):
/// the callback's page shows account details and its URL carries the code.
fn google_pages() -> Router<AppState> {
    Router::new()
        .route("/connect/google", get(crate::provider::google::web::start))
        .route(
            "/oauth/google/callback",
            get(crate::provider::google::web::callback),
        )
        .layer(axum::middleware::map_response(crate::web::security_headers))
}

async fn healthz() -> &'static str {
    "ok"
}

#[derive(Debug, Serialize)]
pub struct Readiness {
    pub status: &'static str,
    pub database: DatabaseReadiness,
    pub scheduler: SchedulerReadiness,
    pub accounts: Vec<AccountReadiness>,
}

#[derive(Debug, Serialize)]
pub struct DatabaseReadiness {
    pub dialect: &'static str,
    pub reachable: bool,
    pub migrations_current: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SchedulerReadiness {
    pub alive: bool,
    pub last_pass: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountReadiness {
    pub id: i64,
    pub provider: &'static str,
    /// ok / waiting_to_start / backing_off / needs_reconnect / disabled. `waiting_to_start`:
    /// connected, its passes only preview, nothing is written until the person starts it.
    pub state: &'static str,
    /// When writing agendas was started; `null` while the account waits to be started.
    pub writing_started_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i64,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error_kind: Option<String>,
    pub next_due: Option<DateTime<Utc>>,
}

impl From<&Account> for AccountReadiness {
    fn from(a: &Account) -> Self {
        let state = match a.state {
            AccountState::Active if a.consecutive_failures > 0 => "backing_off",
            AccountState::Active if !a.writing_started() => "waiting_to_start",
            AccountState::Active => "ok",
            AccountState::NeedsReconnect => "needs_reconnect",
            AccountState::Disabled => "disabled",
        };
        Self {
            id: a.id,
            provider: a.provider.as_str(),
            state,
            writing_started_at: a.writing_started_at,
            consecutive_failures: a.consecutive_failures,
            last_success: a.last_success_at,
            last_error_kind: a.last_error_kind.clone(),
            next_due: a.next_due_at,
        }
    }
}

async fn readyz(State(s): State<AppState>) -> Response {
    let report = readiness(&s).await;
    let code = if report.status == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(report)).into_response()
}

/// Builds the readiness report; every database call is bounded so a hung database answers 503.
pub async fn readiness(s: &AppState) -> Readiness {
    let bound = Duration::from_secs(3);
    let ping = tokio::time::timeout(bound, s.store.ping()).await;
    let (reachable, error) = match ping {
        Ok(Ok(())) => (true, None),
        Ok(Err(e)) => (false, Some(e.to_string())),
        Err(_) => (false, Some("no answer within 3 s".to_string())),
    };
    let migrations_current = reachable
        && matches!(
            tokio::time::timeout(bound, s.store.migrations_current()).await,
            Ok(Ok(true))
        );
    let accounts = if reachable {
        match tokio::time::timeout(bound, s.store.list_accounts()).await {
            Ok(Ok(list)) => list.iter().map(AccountReadiness::from).collect(),
            _ => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let now = s.clock.now();
    let allowed = chrono::Duration::from_std(s.pass_period * 3 + Duration::from_secs(30))
        .unwrap_or(chrono::Duration::minutes(5));
    let last_pass = s.heartbeat.last();
    let alive = now - last_pass.unwrap_or(s.started_at) <= allowed;
    let ready = reachable && migrations_current && alive;
    Readiness {
        status: if ready { "ready" } else { "not_ready" },
        database: DatabaseReadiness {
            dialect: s.store.dialect(),
            reachable,
            migrations_current,
            error,
        },
        scheduler: SchedulerReadiness { alive, last_pass },
        accounts,
    }
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    // Gauges read from the database at scrape time: they are true for every daemon sharing it.
    let bound = Duration::from_secs(3);
    if let Ok(Ok((leased, overdue))) =
        tokio::time::timeout(bound, s.store.lease_counts(s.clock.now())).await
    {
        metrics::gauge!("oneonone_leases_held").set(leased as f64);
        metrics::gauge!("oneonone_accounts_overdue").set(overdue as f64);
    }
    if let Ok(Ok(accounts)) = tokio::time::timeout(bound, s.store.list_accounts()).await {
        for state in [
            "ok",
            "waiting_to_start",
            "backing_off",
            "needs_reconnect",
            "disabled",
        ] {
            let n = accounts
                .iter()
                .filter(|a| AccountReadiness::from(*a).state == state)
                .count();
            metrics::gauge!("oneonone_accounts", "state" => state).set(n as f64);
        }
    }
    // Aggregates only (no series, names or addresses): one query, at scrape time.
    if let Ok(Ok(c)) =
        tokio::time::timeout(bound, s.store.insight_counts(crate::insights::STALE_AFTER)).await
    {
        metrics::gauge!("oneonone_series_tracked").set(c.series_tracked as f64);
        metrics::gauge!("oneonone_meetings_held").set(c.meetings_held as f64);
        metrics::gauge!("oneonone_stale_items").set(c.stale_items as f64);
    }
    let body = crate::telemetry::metrics().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
