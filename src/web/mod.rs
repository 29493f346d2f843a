//! The web pages, rendered on the server with no JavaScript: sign-in with the admin token, the
//! coming 1:1s (home), accounts and "Connect CalDAV"/"Connect Google", the detected series with their next agenda,
//! the meeting history with search, and the direct's secret link (their own topics only). This
//! file routes them and sets the headers every page gets; Google's connect flow and push webhook
//! are `google`'s.

mod accounts;
mod auth;
mod direct;
mod error;
pub(crate) mod google;
mod insights;
mod pages;
mod render;
mod state;
mod topics;
mod week;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub(crate) use auth::new_token;
pub use auth::{AdminSession, session_key, token_digest};
pub(crate) use state::WebState;

use crate::clock::Clock;
use crate::services::Services;
use crate::store::StoreError;

/// Makes a new link for a series (any earlier one stops working) and returns its token: kept as
/// a digest, which opens the direct's page, and sealed under the secrets key, so the passes can
/// write it into the invite (issue 27). What "Make a link" on the 1:1's page does.
pub async fn rotate_direct_link(
    store: &crate::store::Store,
    keyring: &crate::secrets::Keyring,
    series_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, StoreError> {
    let token = auth::new_token();
    let sealed = keyring.encrypt_for(
        crate::secrets::Purpose::DirectLink,
        &secrecy::SecretString::from(token.clone()),
    );
    store
        .rotate_series_link_sealed(series_id, &token_digest(&token), Some(&sealed), now)
        .await?;
    Ok(token)
}

/// Builds the pages' state; when `server.admin_token` is empty and none was generated before,
/// generates one, prints it once on the console and stores only its digest.
pub(crate) async fn build_state(
    services: &Services,
    clock: Arc<dyn Clock>,
    wake: Arc<tokio::sync::Notify>,
) -> Result<WebState, StoreError> {
    let admin_digest = auth::admin_digest(&services.store, &services.config, &*clock).await?;
    Ok(WebState::new(services, clock, wake, admin_digest))
}

/// Any address no route serves: the error page naming it, with a link to the start page.
pub(crate) async fn unknown_page() -> axum::response::Response {
    axum::response::IntoResponse::into_response(error::WebError::UnknownPage)
}

pub(crate) fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(week::home))
        .route("/accounts", get(accounts::list))
        .route("/static/style.css", get(style))
        .route("/signin", get(auth::signin_page).post(auth::signin))
        .route("/signout", post(auth::signout))
        .route("/signout/everywhere", post(auth::signout_everywhere))
        .route(
            "/connect/caldav",
            get(pages::caldav_form).post(pages::caldav_connect),
        )
        .route("/accounts/{id}", get(pages::account_page))
        .route("/accounts/{id}/start", post(pages::start_account))
        .route("/accounts/{id}/sync", post(pages::sync_account))
        .route(
            "/accounts/{id}/reconnect",
            get(accounts::reconnect_form).post(accounts::reconnect),
        )
        .route("/accounts/{id}/remove", post(accounts::remove))
        .route(
            "/accounts/{id}/purge",
            get(accounts::purge_form).post(accounts::purge),
        )
        .route("/series", get(pages::series_list))
        .route("/series/{id}", get(pages::series_page))
        .route("/series/{id}/override", post(pages::set_override))
        .route("/series/{id}/split", post(pages::split_series))
        .route("/series/{id}/link", post(pages::rotate_link))
        .route("/series/{id}/link/revoke", post(pages::revoke_link))
        .route("/series/{id}/notes", post(insights::add_note))
        .route(
            "/series/{id}/meetings/{occurrence}/mark",
            post(pages::mark_meeting),
        )
        .route("/series/{id}/items", post(topics::add))
        .route("/series/{id}/items/{item}/edit", post(topics::edit))
        .route("/series/{id}/items/{item}/close", post(topics::close))
        .route("/series/{id}/items/{item}/move", post(topics::move_item))
        .route("/series/{id}/sync", post(topics::sync))
        .route(
            "/series/{id}/meetings/{occurrence}/notes",
            post(topics::meeting_note),
        )
        .route("/insights", get(insights::overview))
        .route("/insights/all", get(insights::all))
        .route("/history", get(pages::history))
        .route("/d/{token}", get(direct::page))
        .route("/d/{token}/topics", post(direct::add_topic))
        .route(
            "/d/{token}/topics/{item}/remove",
            post(direct::remove_topic),
        )
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(axum::middleware::map_response(security_headers))
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |req: &axum::http::Request<axum::body::Body>| {
                    tracing::debug_span!(
                        "request",
                        method = %req.method(),
                        path = %redacted_path(req.uri().path()),
                    )
                },
            ),
        )
        .with_state(state)
}

/// The path as logs may show it: the direct's link is a secret, so its token is left out.
fn redacted_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/d/") {
        Some(rest) => {
            let after = rest.find('/').map_or("", |i| &rest[i..]);
            format!("/d/<token>{after}").into()
        }
        None => path.into(),
    }
}

/// Every page: no caching (pages show private data), no referrer (the direct's link is a
/// secret in the URL), no framing, and only our own stylesheet may load.
pub(crate) async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    let set = [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    ];
    for (name, value) in set {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("templates/style.css"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn logged_paths_leave_out_the_direct_link_token() {
        assert_eq!(super::redacted_path("/d/abc"), "/d/<token>");
        assert_eq!(
            super::redacted_path("/d/abc/topics/3/remove"),
            "/d/<token>/topics/3/remove"
        );
        assert_eq!(super::redacted_path("/series/3"), "/series/3");
    }
}
