//! `/api/v1/series/{id}/history`: the meetings of a 1:1, as JSON or exported as a Markdown or
//! JSON file.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiResult, Json, Path, Query};
use crate::manage::{HistoryView, MeetingView};
use crate::server::state::AppState;

/// The meetings of a series, oldest first.
#[utoipa::path(
    get,
    operation_id = "get_history",
    path = "/api/v1/series/{id}/history",
    tag = "history",
    params(("id" = i64, Path, description = "Series id", example = 1)),
    responses((status = 200, description = "The history", body = HistoryView))
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<HistoryView>> {
    let default_tz = s.services.config.agenda.default_timezone;
    Ok(axum::Json(
        crate::manage::history(&s.store, id, None, default_tz).await?,
    ))
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ExportFormat {
    #[default]
    Markdown,
    Json,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportParams {
    /// markdown (default) or json.
    #[serde(default)]
    #[param(inline)]
    pub format: ExportFormat,
}

/// The history as a file to download (`Content-Disposition: attachment`).
#[utoipa::path(
    get,
    operation_id = "export_history",
    path = "/api/v1/series/{id}/history/export",
    tag = "history",
    params(("id" = i64, Path, description = "Series id", example = 1), ExportParams),
    responses((status = 200, description = "The history file", content(
        (String = "text/markdown"),
        (HistoryView = "application/json"),
    )))
)]
pub(crate) async fn export(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<ExportParams>,
) -> ApiResult<Response> {
    let default_tz = s.services.config.agenda.default_timezone;
    let history = crate::manage::history(&s.store, id, None, default_tz).await?;
    let (body, kind, ext) = match q.format {
        ExportFormat::Markdown => (history.render(true), "text/markdown; charset=utf-8", "md"),
        ExportFormat::Json => (
            serde_json::to_string_pretty(&history).map_err(ApiError::internal)?,
            "application/json",
            "json",
        ),
    };
    let disposition = format!("attachment; filename=\"series-{id}-history.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// A person's word on whether a meeting took place.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkBody {
    pub mark: MarkChoice,
}

/// held: it took place; skipped: it did not.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MarkChoice {
    Held,
    Skipped,
}

impl From<MarkChoice> for crate::store::Mark {
    fn from(m: MarkChoice) -> Self {
        match m {
            MarkChoice::Held => Self::Held,
            MarkChoice::Skipped => Self::Skipped,
        }
    }
}

/// Marks a meeting that has started as held or skipped. The mark wins over what the calendar
/// says; without one, a meeting with nothing ticked, typed or noted shows as `no_notes`.
#[utoipa::path(
    post,
    operation_id = "mark_meeting",
    path = "/api/v1/series/{id}/meetings/{occurrence_id}/mark",
    tag = "history",
    params(
        ("id" = i64, Path, description = "Series id", example = 1),
        ("occurrence_id" = i64, Path, description = "The meeting (`occurrence_id` in the history)", example = 4),
    ),
    request_body = MarkBody,
    responses(
        (status = 200, description = "The meeting as the history now shows it", body = MeetingView),
        (status = 404, description = "No such series or meeting", body = super::error::ErrorBody),
        (status = 409, description = "The meeting has not started yet", body = super::error::ErrorBody),
    )
)]
pub(crate) async fn mark(
    State(s): State<AppState>,
    Path((id, occurrence_id)): Path<(i64, i64)>,
    Json(body): Json<MarkBody>,
) -> ApiResult<axum::Json<MeetingView>> {
    Ok(axum::Json(
        crate::manage::mark_meeting(
            &s.store,
            id,
            occurrence_id,
            body.mark.into(),
            crate::store::ItemSource::Api,
            s.clock.now(),
            s.services.config.agenda.default_timezone,
        )
        .await?,
    ))
}
