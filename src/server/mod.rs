//! The HTTP layer's wiring: one router over the health endpoints, the admin API (`api`), the web
//! pages and Google's connect and push endpoints (`web`); the state and the admin-token checks
//! they share live here, below them, so neither imports the other's router.

pub(crate) mod bearer;
pub(crate) mod guesses;
pub(crate) mod health;
pub(crate) mod state;

use axum::Router;

use crate::web::WebState;
use state::AppState;

/// Every route the daemon serves.
pub(crate) fn router(state: AppState, pages: WebState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(crate::api::router(state.clone()))
        .with_state(state.clone())
        .merge(crate::web::google::routes(state))
        // Spans name the path only: a query can carry secrets (the OAuth callback's code).
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |req: &axum::http::Request<axum::body::Body>| {
                    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
                },
            ),
        )
        // The pages log their paths without the direct's link token: their own trace layer.
        .merge(crate::web::router(pages))
        // Any other address: a page that says so, with the way back (not an empty 404).
        .fallback(crate::web::unknown_page)
}
