//! `/api/v1/accounts`: list, remove, ask for a pass now, and start writing agendas.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiResult, Path, Query};
use crate::manage::{AccountView, Removed};
use crate::server::state::AppState;

/// Every connected account with its state and calendars.
#[utoipa::path(
    get,
    operation_id = "list_accounts",
    path = "/api/v1/accounts",
    tag = "accounts",
    responses((status = 200, description = "The accounts", body = Vec<AccountView>))
)]
pub(crate) async fn list(State(s): State<AppState>) -> ApiResult<axum::Json<Vec<AccountView>>> {
    Ok(axum::Json(crate::manage::list_accounts(&s.store).await?))
}

/// How `DELETE /api/v1/accounts/{id}` removes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RemoveQuery {
    /// Delete the account's 1:1s, history, items and notes too, for good (default: keep them).
    #[serde(default)]
    pub purge: bool,
    /// Confirms a purge; without it a purge is refused with what it would delete.
    #[serde(default)]
    pub yes: bool,
}

/// Removes an account: it stops syncing and its credentials are deleted; its 1:1s, history,
/// items and notes stay readable and come back when the calendar is connected again. With
/// `purge=true&yes=true` they are deleted too (`purge=true` alone answers 409 with what would be
/// deleted).
#[utoipa::path(
    delete,
    operation_id = "remove_account",
    path = "/api/v1/accounts/{id}",
    tag = "accounts",
    params(("id" = i64, Path, description = "Account id", example = 1), RemoveQuery),
    responses(
        (status = 200, description = "Removed (or purged)", body = Removed),
        (status = 409, description = "A purge without `yes=true`: nothing was deleted"),
    )
)]
pub(crate) async fn remove(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<RemoveQuery>,
) -> ApiResult<axum::Json<Removed>> {
    let done = if q.purge {
        crate::manage::purge_account(&s.store, id, q.yes).await?
    } else {
        crate::manage::remove_account(&s.store, id, s.clock.now()).await?
    };
    Ok(axum::Json(done))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SyncQueued {
    pub account: i64,
    /// Always `queued`: the pass runs in the background.
    pub sync: String,
}

/// Makes the account due now and wakes the scheduler.
#[utoipa::path(
    post,
    operation_id = "sync_account",
    path = "/api/v1/accounts/{id}/sync",
    tag = "accounts",
    params(("id" = i64, Path, description = "Account id", example = 1)),
    responses((status = 202, description = "A pass is queued", body = SyncQueued))
)]
pub(crate) async fn sync(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, axum::Json<SyncQueued>)> {
    if !s.store.request_sync(id, s.clock.now()).await? {
        return Err(ApiError::not_found(format!("account {id} does not exist")));
    }
    s.wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(SyncQueued {
            account: id,
            sync: "queued".into(),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WritingStarted {
    pub account: i64,
    /// Whether this call started it (false: it was writing already).
    pub started_now: bool,
    /// Since when its passes write agendas into its calendars.
    pub writing_started_at: chrono::DateTime<chrono::Utc>,
}

/// Starts writing agendas for an account connected and waiting (the web page's "Start"): until
/// then its passes only preview. Makes it due now and wakes the scheduler, so the first write
/// follows at once. Starting an account already writing changes nothing.
#[utoipa::path(
    post,
    operation_id = "start_account",
    path = "/api/v1/accounts/{id}/start",
    tag = "accounts",
    params(("id" = i64, Path, description = "Account id", example = 1)),
    responses((status = 200, description = "The account writes agendas", body = WritingStarted))
)]
pub(crate) async fn start(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<WritingStarted>> {
    s.store.get_account(id).await?;
    let started_now = !s
        .store
        .start_writing(Some(&[id]), s.clock.now())
        .await?
        .is_empty();
    if started_now {
        tracing::info!(account = id, "started writing agendas from the API");
    }
    s.wake.notify_one();
    let account = s.store.get_account(id).await?;
    let writing_started_at = account
        .writing_started_at
        .ok_or_else(|| ApiError::not_found(format!("account {id} does not exist")))?;
    Ok(axum::Json(WritingStarted {
        account: id,
        started_now,
        writing_started_at,
    }))
}
