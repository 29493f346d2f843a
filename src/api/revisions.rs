//! `/api/v1/revisions`: every description the daemon replaced, and the restore that puts one back
//! (under the event's current etag, itself recorded as a revision so it can be undone too).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiResult, Path, Query};
use crate::manage::RevisionView;
use crate::server::state::AppState;
use crate::sync::restore::RestoreError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Only the revisions of this series.
    pub series_id: Option<i64>,
}

/// Revisions, newest first.
#[utoipa::path(
    get,
    operation_id = "list_revisions",
    path = "/api/v1/revisions",
    tag = "revisions",
    params(ListParams),
    responses((status = 200, description = "The revisions", body = Vec<RevisionView>))
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Vec<RevisionView>>> {
    Ok(axum::Json(
        crate::manage::list_revisions(&s.store, q.series_id).await?,
    ))
}

/// One revision.
#[utoipa::path(
    get,
    operation_id = "get_revision",
    path = "/api/v1/revisions/{id}",
    tag = "revisions",
    params(("id" = i64, Path, description = "Revision id", example = 1)),
    responses((status = 200, description = "The revision", body = RevisionView))
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<RevisionView>> {
    Ok(axum::Json(s.store.get_revision(id).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Restored {
    /// The revision that was put back.
    pub restored: i64,
    /// The revision recording the restore itself (restore it to undo the restore); null when
    /// the meeting already held the text the write replaced, and nothing was written.
    pub revision: Option<i64>,
}

/// Puts back the description a write replaced.
#[utoipa::path(
    post,
    operation_id = "restore_revision",
    path = "/api/v1/revisions/{id}/restore",
    tag = "revisions",
    params(("id" = i64, Path, description = "Revision id", example = 1)),
    responses(
        (status = 200, description = "Restored", body = Restored),
        (status = 409, description = "The revision cannot be restored", body = super::error::ErrorBody),
        (status = 502, description = "The calendar refused or did not answer", body = super::error::ErrorBody),
    )
)]
pub(crate) async fn restore(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Restored>> {
    // Unknown ids are answered here; past this point a failure is the calendar's.
    s.store.get_revision(id).await?;
    match crate::manage::restore_revision(&s.services, id, s.clock.now()).await {
        Ok(done) => Ok(axum::Json(Restored {
            restored: id,
            revision: match done {
                crate::sync::restore::Restored::Written(revision) => Some(revision),
                crate::sync::restore::Restored::AlreadyThere => None,
            },
        })),
        Err(
            e @ (RestoreError::NoOccurrence(_)
            | RestoreError::NeverApplied(_)
            | RestoreError::Unconfirmed { .. }
            | RestoreError::Conflict(_)
            | RestoreError::Cancelled(_)),
        ) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            e.to_string(),
        )),
        Err(RestoreError::Store { source, .. }) => Err(source.into()),
        // Deleted since the check above.
        Err(RestoreError::Unknown(_)) => Err(crate::store::StoreError::NotFound {
            what: "revision",
            id: id.to_string(),
        }
        .into()),
        Err(e @ (RestoreError::Provider { .. } | RestoreError::Unanswered(_))) => Err(
            ApiError::new(StatusCode::BAD_GATEWAY, "calendar_error", e.to_string()),
        ),
    }
}
