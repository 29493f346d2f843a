//! `/api/v1/series/{id}/notes`: the manager's private notes about a 1:1 (list, add). Kept
//! encrypted in the database and never written into an invite (`notes`).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult, Json, Path};
use crate::notes::{self, NotesError, PrivateNote};
use crate::server::state::AppState;

impl From<NotesError> for ApiError {
    fn from(e: NotesError) -> Self {
        match e {
            NotesError::Store(e) => e.into(),
            // The key file does not open this note: the daemon's problem, logged with the id.
            NotesError::Decrypt { .. } => Self::internal(e),
            NotesError::Empty | NotesError::TooLong { .. } | NotesError::Nul => {
                Self::unprocessable(format!("text: {e}"))
            }
        }
    }
}

/// The private notes of a series, oldest first.
#[utoipa::path(
    get,
    operation_id = "list_private_notes",
    path = "/api/v1/series/{id}/notes",
    tag = "notes",
    params(("id" = i64, Path, description = "Series id", example = 1)),
    responses((status = 200, description = "The notes, in clear", body = Vec<PrivateNote>))
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Vec<PrivateNote>>> {
    s.store.get_series(id).await?;
    Ok(axum::Json(
        notes::list(&s.store, &s.services.keyring, id).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewNote {
    /// The note, kept exactly as given: not only white space, no NUL, at most 16 KiB of UTF-8.
    #[schema(
        min_length = 1,
        max_length = 4096,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub text: String,
    /// The day of the meeting it is about (UTC, as the history shows it); absent: the series.
    #[schema(value_type = Option<String>, format = Date, example = "2026-04-14")]
    pub meeting: Option<NaiveDate>,
}

/// Adds a private note about a series, or about its meeting of a given day.
#[utoipa::path(
    post,
    operation_id = "add_private_note",
    path = "/api/v1/series/{id}/notes",
    tag = "notes",
    params(("id" = i64, Path, description = "Series id", example = 1)),
    request_body = NewNote,
    responses((status = 201, description = "The new note", body = PrivateNote))
)]
pub(crate) async fn add(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Json(body): Json<NewNote>,
) -> ApiResult<(StatusCode, axum::Json<PrivateNote>)> {
    let row = s.store.get_series(id).await?;
    let default_tz = s.services.config.agenda.default_timezone;
    let tz = crate::when::series_zone(&s.store, &row, default_tz).await?;
    let note = notes::add(
        &s.store,
        &s.services.keyring,
        &row,
        body.meeting,
        tz,
        &body.text,
        s.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(note)))
}
