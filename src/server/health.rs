//! The health endpoints: `/healthz` (the process serves), `/readyz` (database, migrations,
//! scheduler, per-account state and how each calendar is synced; no secrets, no event contents)
//! and `/metrics` (Prometheus text).

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::state::AppState;
use crate::manage::{AccountReadiness, SyncMethod};

/// `/healthz`, `/readyz` and `/metrics`.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> &'static str {
    "ok"
}

#[derive(Debug, Serialize)]
pub(crate) struct Readiness {
    pub status: &'static str,
    pub database: DatabaseReadiness,
    pub scheduler: SchedulerReadiness,
    pub accounts: Vec<AccountReady>,
    /// Whether invites carry the direct's link (never a reason to be not ready).
    pub direct_link: DirectLinkReadiness,
}

/// An account's state, with how each of its calendars is synced.
#[derive(Debug, Serialize)]
pub(crate) struct AccountReady {
    #[serde(flatten)]
    pub state: AccountReadiness,
    /// Its calendars by id (the `calendars` table's), not by URL: a CalDAV URL names the user.
    pub calendars: Vec<CalendarReadiness>,
}

/// How one calendar is synced.
#[derive(Debug, Serialize)]
pub(crate) struct CalendarReadiness {
    pub id: i64,
    pub sync_method: SyncMethod,
}

/// Whether the direct's link goes into the invites, and if not, why (the key to set).
#[derive(Debug, Serialize)]
pub(crate) struct DirectLinkReadiness {
    pub in_invites: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_not: Option<&'static str>,
}

impl DirectLinkReadiness {
    pub(crate) fn of(config: &crate::config::Config) -> Self {
        let why_not = if config.agenda.direct_link_in_invite {
            config.server.link_missing_why()
        } else {
            Some("Off: agenda.direct_link_in_invite is false.")
        };
        Self {
            in_invites: why_not.is_none(),
            why_not,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct DatabaseReadiness {
    pub dialect: &'static str,
    pub reachable: bool,
    pub migrations_current: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SchedulerReadiness {
    pub alive: bool,
    pub last_pass: Option<DateTime<Utc>>,
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
pub(crate) async fn readiness(s: &AppState) -> Readiness {
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
        tokio::time::timeout(bound, accounts_ready(&s.store))
            .await
            .unwrap_or_default()
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
        direct_link: DirectLinkReadiness::of(&s.services.config),
    }
}

/// Every account's state and calendars; empty when the database fails to answer.
async fn accounts_ready(store: &crate::store::Store) -> Vec<AccountReady> {
    let Ok(list) = store.list_accounts().await else {
        return Vec::new();
    };
    let mut accounts = Vec::with_capacity(list.len());
    for a in &list {
        let calendars = store
            .list_calendars(a.id)
            .await
            .unwrap_or_default()
            .iter()
            .map(|c| CalendarReadiness {
                id: c.id,
                sync_method: SyncMethod::of(a.provider, c),
            })
            .collect();
        accounts.push(AccountReady {
            state: AccountReadiness::from(a),
            calendars,
        });
    }
    accounts
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
            "removed",
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
