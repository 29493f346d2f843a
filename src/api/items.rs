//! Agenda items: `/api/v1/series/{id}/items` (list, add) and `/api/v1/items/{id}` (read, change
//! text, section or place, close as done or dropped). They reach the calendar at the next pass.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiResult, Json, Path, Query};
use crate::agenda::{ItemState, Section};
use crate::manage::{ItemView, MAX_ITEM_TEXT};
use crate::server::state::AppState;
use crate::store::ItemSource;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Include done and dropped items.
    #[serde(default)]
    pub all: bool,
}

/// The items of a series in agenda order (open ones only unless `all=true`).
#[utoipa::path(
    get,
    operation_id = "list_items",
    path = "/api/v1/series/{id}/items",
    tag = "items",
    params(("id" = i64, Path, description = "Series id", example = 1), ListParams),
    responses((status = 200, description = "The items", body = Vec<ItemView>))
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<Vec<ItemView>>> {
    Ok(axum::Json(
        crate::manage::list_items(&s.store, id, q.all).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewItem {
    /// direct ("15 minutes for you"), manager, or action.
    pub section: Section,
    /// One line: no control characters, something besides white space (what
    /// `manage::item_text` accepts).
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub text: String,
}

/// Adds an item; it shows in the next agenda after the next pass.
#[utoipa::path(
    post,
    operation_id = "add_item",
    path = "/api/v1/series/{id}/items",
    tag = "items",
    params(("id" = i64, Path, description = "Series id", example = 1)),
    request_body = NewItem,
    responses((status = 201, description = "The new item", body = ItemView))
)]
pub(crate) async fn add(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<NewItem>,
) -> ApiResult<(StatusCode, axum::Json<ItemView>)> {
    let now = s.clock.now();
    let item =
        crate::manage::add_item(&s.store, id, body.section, &body.text, ItemSource::Api, now)
            .await?;
    Ok((StatusCode::CREATED, axum::Json(item)))
}

/// One item.
#[utoipa::path(
    get,
    operation_id = "get_item",
    path = "/api/v1/items/{id}",
    tag = "items",
    params(("id" = i64, Path, description = "Item id", example = 1)),
    responses((status = 200, description = "The item", body = ItemView))
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ItemView>> {
    Ok(axum::Json(crate::manage::get_item(&s.store, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemChange {
    /// The new text (one line).
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub text: Option<String>,
    /// The section to move it to (after its items, unless `position` says where).
    pub section: Option<Section>,
    /// Its new place among the open items of its section (or of `section`), 1 first, as the
    /// items' `position` shows it; past the last: last.
    #[schema(minimum = 1, example = 1)]
    pub position: Option<usize>,
}

/// Changes the text, section and/or place of an open item (a reorder: `position`).
#[utoipa::path(
    patch,
    operation_id = "update_item",
    path = "/api/v1/items/{id}",
    tag = "items",
    params(("id" = i64, Path, description = "Item id", example = 1)),
    request_body = ItemChange,
    responses(
        (status = 200, description = "The item as it now stands", body = ItemView),
        (status = 409, description = "The item is closed", body = super::error::ErrorBody),
    )
)]
pub(crate) async fn update(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<ItemChange>,
) -> ApiResult<axum::Json<ItemView>> {
    let change = crate::manage::ItemChange {
        text: body.text.as_deref(),
        section: body.section,
        position: body.position,
    };
    Ok(axum::Json(
        crate::manage::update_item(&s.store, id, change, s.clock.now()).await?,
    ))
}

/// How an item closes.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClosedAs {
    Done,
    Dropped,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemClose {
    pub state: ClosedAs,
}

/// Closes an open item as done or dropped; it leaves the agenda at the next pass.
#[utoipa::path(
    post,
    operation_id = "close_item",
    path = "/api/v1/items/{id}/close",
    tag = "items",
    params(("id" = i64, Path, description = "Item id", example = 1)),
    request_body = ItemClose,
    responses(
        (status = 200, description = "The closed item", body = ItemView),
        (status = 409, description = "The item is already closed", body = super::error::ErrorBody),
    )
)]
pub(crate) async fn close(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<ItemClose>,
) -> ApiResult<axum::Json<ItemView>> {
    let state = match body.state {
        ClosedAs::Done => ItemState::Done,
        ClosedAs::Dropped => ItemState::Dropped,
    };
    Ok(axum::Json(
        crate::manage::close_item(&s.store, id, state, ItemSource::Api, s.clock.now()).await?,
    ))
}

const _: () = assert!(MAX_ITEM_TEXT == 500, "update the schema's max_length");
