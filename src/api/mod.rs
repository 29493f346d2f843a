//! The JSON admin API under `/api/v1/`: accounts, series, items, history and revisions, behind the
//! bearer token `server.admin_token` (no token configured: the API does not exist, 404; wrong
//! tokens limited per client address, `server.api_wrong_tokens_per_minute`). Routes
//! and the OpenAPI document come from the same `routes!` calls, so they cannot drift apart; the
//! document is served without authentication at `/api/v1/openapi.json`.

mod accounts;
mod error;
mod history;
mod insights;
mod items;
mod notes;
mod revisions;
mod series;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) use error::{ApiError, ErrorBody, ErrorDetail};

use crate::server::bearer::{Refused, check_bearer};
use crate::server::state::AppState;

/// The largest request body accepted; larger ones get 413 before any parsing.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

#[cfg(test)]
/// Where the OpenAPI document is served.
pub(crate) const OPENAPI_PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "oneonone admin API",
        description = "Accounts, 1:1 series, agenda items, meeting history, description \
                       revisions, insights and private notes of a oneonone daemon. Authenticate with \
                       `Authorization: Bearer <server.admin_token>`."
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "accounts", description = "Connected calendar accounts"),
        (name = "series", description = "Recurring series and whether they are 1:1s"),
        (name = "items", description = "Agenda items of a 1:1"),
        (name = "history", description = "Meeting history of a 1:1"),
        (name = "revisions", description = "Descriptions the daemon replaced, and their undo"),
        (name = "insights", description = "How the 1:1s are going (what `oneonone report` prints)"),
        (name = "notes", description = "The manager's private notes: never written into an invite"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The routes behind the token. Both the router and the document are built from this.
fn protected() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(accounts::list))
        .routes(routes!(accounts::remove))
        .routes(routes!(accounts::sync))
        .routes(routes!(accounts::start))
        .routes(routes!(series::list))
        .routes(routes!(series::get))
        .routes(routes!(series::set_override))
        .routes(routes!(series::split))
        .routes(routes!(series::continue_from))
        .routes(routes!(items::list, items::add))
        .routes(routes!(items::get, items::update))
        .routes(routes!(items::close))
        .routes(routes!(history::get))
        .routes(routes!(history::export))
        .routes(routes!(history::mark))
        .routes(routes!(insights::all))
        .routes(routes!(insights::series))
        .routes(routes!(notes::list, notes::add))
        .routes(routes!(revisions::list))
        .routes(routes!(revisions::get))
        .routes(routes!(revisions::restore))
}

fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// The OpenAPI document of the admin API (what `/api/v1/openapi.json` serves).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(protected())
        .merge(public())
        .into_openapi();
    conventions(&mut doc);
    doc
}

/// The admin API, ready to merge into the daemon's router.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    let doc = openapi().to_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot serialize the OpenAPI document");
        "{}".into()
    });
    let (protected, _) = protected().split_for_parts();
    let (public, _) = public().split_for_parts();
    let unknown = any(|| async { ApiError::not_found("no such API route") });
    protected
        .route_layer(from_fn_with_state(state, require_token))
        .merge(public)
        .route("/api/v1", unknown.clone())
        .route("/api/v1/{*rest}", unknown)
        .layer(axum::Extension(OpenApiJson(Arc::new(doc))))
        // A bug in a handler answers 500 (in the JSON shape) instead of dropping the connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
        .layer(map_response(json_errors))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

#[derive(Clone)]
struct OpenApiJson(Arc<String>);

fn on_panic(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    ApiError::internal(format!("handler panicked: {what}")).into_response()
}

/// The OpenAPI document of this API.
#[utoipa::path(
    get,
    operation_id = "openapi_document",
    path = "/api/v1/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
async fn openapi_json(axum::Extension(doc): axum::Extension<OpenApiJson>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
        .into_response()
}

async fn require_token(State(s): State<AppState>, req: Request, next: Next) -> Response {
    match check_bearer(&s, req.headers(), req.extensions()) {
        Ok(()) => next.run(req).await,
        Err(Refused::Off) => {
            ApiError::not_found("the admin API is off: set server.admin_token to use it")
                .into_response()
        }
        Err(Refused::Unauthorized) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token",
        )
        .into_response(),
        Err(Refused::TooMany(retry)) => {
            let secs = retry.secs();
            let mut res = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!(
                    "too many wrong tokens from this address; the token is not checked for {secs} s"
                ),
            )
            .into_response();
            res.headers_mut().insert(header::RETRY_AFTER, secs.into());
            res
        }
    }
}

/// Gives errors produced outside the handlers (405, 413 from the body limit, ...) the JSON shape.
async fn json_errors(res: Response) -> Response {
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let allow = res.headers().get(header::ALLOW).cloned();
        let mut out = ApiError::from_status(status).into_response();
        if let Some(allow) = allow {
            out.headers_mut().insert(header::ALLOW, allow);
        }
        return out;
    }
    res
}

/// What every operation shares, added to the finished document once instead of on each handler:
/// the bearer scheme, and the error responses the token check and the extractors can give.
fn conventions(doc: &mut utoipa::openapi::OpenApi) {
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("server.admin_token"))
                    .build(),
            ),
        );
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let public = op
                .security
                .as_ref()
                .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
            let (has_path, has_query) = params(op);
            let has_body = op.request_body.is_some();
            let mut add = |code: &str, description: &str| {
                op.responses
                    .responses
                    .entry(code.to_string())
                    .or_insert_with(|| error(description));
            };
            if !public {
                add("401", "Missing or wrong bearer token");
                add(
                    "429",
                    "Too many wrong tokens from this address (Retry-After says when to retry)",
                );
                add(
                    "404",
                    "Unknown id, or the API is off (no server.admin_token)",
                );
                add("500", "Internal error (details in the daemon's log)");
            }
            if has_path || has_query {
                add("400", "A malformed path or query parameter");
            }
            if has_body {
                add("400", "The body is not valid JSON");
                add("413", "The body is larger than the limit");
                add("415", "The body is not declared as application/json");
                add(
                    "422",
                    "The body has the wrong shape or a value is not acceptable",
                );
            }
            if !public && op.security.is_none() {
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
            }
        }
    }
}

/// Whether an operation takes path and query parameters.
fn params(op: &Operation) -> (bool, bool) {
    let ins: Vec<bool> = op
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(p) => Some(matches!(p.parameter_in, ParameterIn::Path)),
            RefOr::Ref(_) => None,
        })
        .collect();
    (ins.iter().any(|p| *p), ins.iter().any(|p| !*p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_the_error_shape_without_the_cause() {
        let app: Router = Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    if true {
                        panic!("secret detail");
                    }
                }),
            )
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
            .layer(map_response(json_errors));
        let req = axum::http::Request::get("/boom")
            .body(axum::body::Body::empty())
            .unwrap();
        let res = tower::ServiceExt::oneshot(app, req).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "internal");
        assert!(!v.to_string().contains("secret detail"), "{v}");
    }

    #[test]
    fn every_protected_operation_requires_the_bearer_token_in_the_document() {
        let doc = serde_json::to_value(openapi()).unwrap();
        let mut n = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                n += 1;
                let public = path == OPENAPI_PATH;
                let security = &op["security"];
                assert_eq!(
                    security == &serde_json::json!([{"bearer": []}]),
                    !public,
                    "{method} {path}: {security}"
                );
                assert_eq!(
                    op["responses"]["401"].is_object(),
                    !public,
                    "{method} {path}"
                );
            }
        }
        assert!(n >= 17);
    }
}
