//! The admin API's one error type: every failure is a 4xx/5xx with the body
//! `{"error": {"code": "...", "message": "..."}}`. Extractor rejections (bad JSON, wrong types,
//! oversized bodies, malformed ids) become 4xx through the wrappers here, the store's "not found"
//! is 404, and internal errors are logged with their source chain and answered without detail.

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::manage::ManageError;
use crate::store::StoreError;

#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// What every error response carries.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable, machine-readable: not_found, unauthorized, invalid_body, bad_json, conflict, ...
    pub code: String,
    /// For a person: what was wrong and where.
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message)
    }

    /// Logs the cause with its source chain; the client learns only that something went wrong
    /// on our side.
    pub(crate) fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let cause: Box<dyn std::error::Error + Send + Sync> = cause.into();
        let chain = crate::telemetry::error_chain(&*cause);
        tracing::error!(error = %chain, "admin API request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the daemon's log",
        )
    }

    /// The generic error for a status produced outside our handlers (405, a bare 404, ...).
    pub(crate) fn from_status(status: StatusCode) -> Self {
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNAUTHORIZED => "unauthorized",
            s if s.is_server_error() => "internal",
            _ => "bad_request",
        };
        let message = status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_string();
        Self::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<ManageError> for ApiError {
    fn from(e: ManageError) -> Self {
        match e {
            ManageError::NotFound { .. } => Self::not_found(e.to_string()),
            ManageError::Invalid { .. } => Self::unprocessable(e.to_string()),
            ManageError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            ManageError::NeedsConfirmation(m) => Self::new(
                StatusCode::CONFLICT,
                "needs_confirmation",
                format!("{m}: send the request again with `yes=true` to confirm"),
            ),
            ManageError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => Self::not_found(e.to_string()),
            other => Self::internal(other),
        }
    }
}

/// A rejection keeps its status (400 syntax, 413 size, 415 content type, 422 shape) and its
/// message, which names the field and position at fault.
fn rejection(status: StatusCode, message: String) -> ApiError {
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        _ => ApiError::from_status(status).code,
    };
    if status.is_server_error() {
        return ApiError::internal(message);
    }
    ApiError::new(status, code, message)
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        rejection(r.status(), r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        rejection(r.status(), r.body_text())
    }
}

/// A JSON body, read within the body limit. Unlike `axum::Json` it tells malformed JSON (400)
/// from JSON of the wrong shape (422, naming the field's path), whatever serde's error category.
pub(crate) struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let kind = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if kind != "application/json" && !kind.ends_with("+json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON, sent with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| rejection(r.status(), r.body_text()))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_json",
                format!("the body is not valid JSON: {e}"),
            )
        })?;
        let parsed = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                ApiError::unprocessable(e.inner().to_string())
            } else {
                ApiError::unprocessable(format!("{path}: {}", e.inner()))
            }
        })?;
        Ok(Json(parsed))
    }
}

/// `axum::extract::Path` with rejections answered as [`ApiError`].
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub(crate) struct Path<T>(pub T);

/// `axum::extract::Query` with rejections answered as [`ApiError`].
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub(crate) struct Query<T>(pub T);

pub(crate) type ApiResult<T> = Result<T, ApiError>;
