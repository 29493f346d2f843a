//! `/api/v1/insights` (every tracked 1:1, with totals: what `oneonone report --format json`
//! prints) and `/api/v1/series/{id}/insights` (one series), over the last 4 and `weeks` weeks.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ApiResult, Path, Query};
use crate::insights::{self, DEFAULT_WEEKS, MAX_WEEKS, Report, SeriesInsights};
use crate::server::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WeeksParams {
    /// The longer window in weeks, from 1 to 104 (default 12); the shorter one is always 4.
    #[param(minimum = 1, maximum = 104, example = 12)]
    pub weeks: Option<u32>,
}

impl WeeksParams {
    fn weeks(&self) -> ApiResult<u32> {
        match self.weeks {
            None => Ok(DEFAULT_WEEKS),
            Some(w) if (1..=MAX_WEEKS).contains(&w) => Ok(w),
            Some(w) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("weeks={w}: the window must be from 1 to {MAX_WEEKS} weeks"),
            )),
        }
    }
}

/// How every tracked 1:1 is going: per series and in total, as of now.
#[utoipa::path(
    get,
    operation_id = "get_insights",
    path = "/api/v1/insights",
    tag = "insights",
    params(WeeksParams),
    responses((status = 200, description = "Every tracked 1:1's insights and the totals", body = Report))
)]
pub(crate) async fn all(
    State(s): State<AppState>,
    Query(q): Query<WeeksParams>,
) -> ApiResult<axum::Json<Report>> {
    let weeks = q.weeks()?;
    let histories = insights::load(&s.store, s.services.config.agenda.default_timezone).await?;
    Ok(axum::Json(Report::build(&histories, s.clock.now(), weeks)))
}

/// How one series is going, as of now (computed for any series, tracked or not).
#[utoipa::path(
    get,
    operation_id = "get_series_insights",
    path = "/api/v1/series/{id}/insights",
    tag = "insights",
    params(("id" = i64, Path, description = "Series id", example = 1), WeeksParams),
    responses((status = 200, description = "The series' insights", body = SeriesInsights))
)]
pub(crate) async fn series(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<WeeksParams>,
) -> ApiResult<axum::Json<SeriesInsights>> {
    let weeks = q.weeks()?;
    let row = s.store.get_series(id).await?;
    let history =
        insights::load_series(&s.store, row, s.services.config.agenda.default_timezone).await?;
    Ok(axum::Json(insights::series_insights(
        &history,
        s.clock.now(),
        &insights::windows(weeks),
    )))
}
