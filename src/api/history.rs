//! `/api/v1/series/{id}/history`: the meetings of a 1:1, as JSON or exported as a Markdown or
//! JSON file.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiResult, Path, Query};
use crate::manage::HistoryView;
use crate::server::AppState;

/// The meetings of a series, oldest first.
#[utoipa::path(
    get,
    operation_id = "get_history",
    path = "/api/v1/series/{id}/history",
    tag = "history",
    params(("id" = i64, Path, description = "Series id", example = 1)),
    responses((status = 200, description = "The history", body = HistoryView))
)]
pub async fn get(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<HistoryView>> {
    Ok(axum::Json(
        crate::manage::history(&s.store, id, None).await?,
    ))
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    #[default]
    Markdown,
    Json,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
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
pub async fn export(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<ExportParams>,
) -> ApiResult<Response> {
    let history = crate::manage::history(&s.store, id, None).await?;
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
