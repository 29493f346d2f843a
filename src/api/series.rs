//! `/api/v1/series`: the recurring series found in the calendars, and the user's choice of which
//! are 1:1s.

use axum::extract::State;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiResult, Json, Path, Query};
use crate::detect::SeriesOverride;
use crate::manage::{SeriesView, SplitView};
use crate::server::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Every series, not only the tracked 1:1s.
    #[serde(default)]
    pub all: bool,
}

/// The tracked 1:1 series (every series with `all=true`).
#[utoipa::path(
    get,
    operation_id = "list_series",
    path = "/api/v1/series",
    tag = "series",
    params(ListParams),
    responses((status = 200, description = "The series", body = Vec<SeriesView>))
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Vec<SeriesView>>> {
    Ok(axum::Json(
        crate::manage::list_series(&s.store, q.all).await?,
    ))
}

/// One series.
#[utoipa::path(
    get,
    operation_id = "get_series",
    path = "/api/v1/series/{id}",
    tag = "series",
    params(("id" = i64, Path, description = "Series id", example = 1)),
    responses((status = 200, description = "The series", body = SeriesView))
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<SeriesView>> {
    Ok(axum::Json(crate::manage::get_series(&s.store, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OverrideChange {
    /// `included`: always a 1:1; `excluded`: never; `auto`: detection decides.
    #[serde(rename = "override")]
    #[schema(rename = "override")]
    pub override_: SeriesOverride,
}

/// Includes a series as a 1:1, excludes it, or lets detection decide again.
#[utoipa::path(
    put,
    operation_id = "set_series_override",
    path = "/api/v1/series/{id}/override",
    tag = "series",
    params(("id" = i64, Path, description = "Series id", example = 1)),
    request_body = OverrideChange,
    responses((status = 200, description = "The series as it now stands", body = SeriesView))
)]
pub(crate) async fn set_override(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<OverrideChange>,
) -> ApiResult<axum::Json<SeriesView>> {
    let now = s.clock.now();
    Ok(axum::Json(
        crate::manage::set_override(&s.store, id, body.override_, now).await?,
    ))
}

/// Undoes a continuation (a re-created 1:1 linked to the series it replaced); `id` is either
/// series of the pair. The open items taken over go back, the histories are separate again,
/// and detection does not link the pair again.
#[utoipa::path(
    post,
    operation_id = "split_series",
    path = "/api/v1/series/{id}/split",
    tag = "series",
    params(("id" = i64, Path, description = "Series id", example = 1)),
    responses(
        (status = 200, description = "What the split did", body = SplitView),
        (status = 409, description = "The series neither continues nor is continued by another")
    )
)]
pub(crate) async fn split(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<SplitView>> {
    let now = s.clock.now();
    Ok(axum::Json(
        crate::manage::split_series(&s.store, id, now).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContinueFrom {
    /// The earlier series this one continues.
    pub from: i64,
}

/// Makes a series continue an earlier one by hand: the earlier one's open items move over and
/// its meetings join this one's history (undo with `split`).
#[utoipa::path(
    post,
    operation_id = "continue_series",
    path = "/api/v1/series/{id}/continue",
    tag = "series",
    params(("id" = i64, Path, description = "Series id", example = 1)),
    request_body = ContinueFrom,
    responses(
        (status = 200, description = "The series as it now stands", body = SeriesView),
        (status = 409, description = "One of the two is already linked")
    )
)]
pub(crate) async fn continue_from(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<ContinueFrom>,
) -> ApiResult<axum::Json<SeriesView>> {
    let now = s.clock.now();
    Ok(axum::Json(
        crate::manage::continue_series(&s.store, id, body.from, now).await?,
    ))
}
