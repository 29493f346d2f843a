//! `/api/v1/series`: the recurring series found in the calendars, and the user's choice of which
//! are 1:1s.

use axum::extract::State;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiResult, Json, Path, Query};
use crate::detect::SeriesOverride;
use crate::manage::SeriesView;
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
