//! The web pages, rendered on the server with no JavaScript: sign-in with the admin token,
//! accounts and "Connect CalDAV"/"Connect Google", the detected series with their next agenda,
//! the meeting history with search, and the direct's secret link (their own topics only).

mod auth;
mod direct;
pub(crate) mod guesses;
mod insights;
mod pages;

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::Environment;

pub use auth::{AdminSession, session_key, token_digest};

use crate::clock::Clock;
use crate::config::Config;
use crate::secrets::Keyring;
use crate::store::{Store, StoreError};

/// What the pages need; cheap to clone.
#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    pub keyring: Arc<Keyring>,
    pub config: Arc<Config>,
    pub template: Arc<crate::agenda::Template>,
    pub providers: crate::sync::pass::Providers,
    pub clock: Arc<dyn Clock>,
    /// Wakes the scheduler (an account was made due).
    pub wake: Arc<tokio::sync::Notify>,
    /// SHA-256 of the admin token (configured, or generated on first start).
    admin_digest: [u8; 32],
    /// Sign-in attempts per client address.
    guesses: Arc<guesses::Guesses>,
    /// Changes through the direct's links: a rate per link, one change at a time.
    links: Arc<direct::LinkLimits>,
}

impl WebState {
    /// Builds the state; when `server.admin_token` is empty and none was generated before,
    /// generates one, prints it once on the console and stores only its digest.
    pub async fn start(
        services: &crate::services::Services,
        clock: Arc<dyn Clock>,
        wake: Arc<tokio::sync::Notify>,
    ) -> Result<Self, StoreError> {
        let admin_digest = auth::admin_digest(&services.store, &services.config, &*clock).await?;
        Ok(Self {
            store: services.store.clone(),
            keyring: services.keyring.clone(),
            config: services.config.clone(),
            template: services.template.clone(),
            providers: services.providers.clone(),
            clock,
            wake,
            admin_digest,
            guesses: Arc::new(guesses::Guesses::per_minute(
                services.config.web.signin_attempts_per_minute,
            )),
            links: Arc::new(direct::LinkLimits::new(
                services.config.web.direct_link_posts_per_minute,
            )),
        })
    }

    /// The digest sessions are bound to (see `AdminSession::from_headers`).
    pub fn admin_digest(&self) -> [u8; 32] {
        self.admin_digest
    }

    /// What a preview of the next agenda reads, as of now.
    fn previewer(&self) -> crate::sync::preview::Previewer<'_> {
        crate::sync::preview::Previewer {
            store: &self.store,
            config: &self.config,
            template: &self.template,
            providers: &self.providers,
            now: self.clock.now(),
        }
    }
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(pages::home))
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
        .route("/series", get(pages::series_list))
        .route("/series/{id}", get(pages::series_page))
        .route("/series/{id}/override", post(pages::set_override))
        .route("/series/{id}/link", post(pages::rotate_link))
        .route("/series/{id}/link/revoke", post(pages::revoke_link))
        .route("/series/{id}/notes", post(insights::add_note))
        .route(
            "/series/{id}/meetings/{occurrence}/mark",
            post(pages::mark_meeting),
        )
        .route("/insights", get(insights::overview))
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

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    let files = [
        ("base.html", include_str!("templates/base.html")),
        ("error.html", include_str!("templates/error.html")),
        ("signin.html", include_str!("templates/signin.html")),
        ("home.html", include_str!("templates/home.html")),
        ("account.html", include_str!("templates/account.html")),
        ("caldav.html", include_str!("templates/caldav.html")),
        (
            "series_list.html",
            include_str!("templates/series_list.html"),
        ),
        ("series.html", include_str!("templates/series.html")),
        ("history.html", include_str!("templates/history.html")),
        ("meetings.html", include_str!("templates/meetings.html")),
        ("direct.html", include_str!("templates/direct.html")),
        ("insights.html", include_str!("templates/insights.html")),
        (
            "insights_table.html",
            include_str!("templates/insights_table.html"),
        ),
        (
            "insight_summary.html",
            include_str!("templates/insight_summary.html"),
        ),
    ];
    for (name, source) in files {
        // The templates are part of the binary; a unit test renders each one.
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e}"));
    }
    env
});

/// Renders a page (HTML-escaped: `.html` templates autoescape).
fn render(name: &str, ctx: minijinja::Value) -> Result<Html<String>, WebError> {
    Ok(Html(TEMPLATES.get_template(name)?.render(ctx)?))
}

/// What a page request can fail with; each variant says its status.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 404: unknown page, series, or a revoked or wrong direct's link (one answer for all).
    #[error("This page does not exist (or the link was revoked).")]
    NotFound,
    /// 403: the form's CSRF token is missing or does not belong to this session or link.
    #[error("This form has expired or did not come from this site. Reload the page and try again.")]
    Csrf,
    /// 429: too many sign-in attempts from one address.
    #[error("Too many sign-in attempts. Wait a minute and try again.")]
    TooMany,
    /// 429 with Retry-After (the seconds it holds): too many changes through one direct's link.
    #[error(
        "Too many changes through this link in a short time. Wait {0} seconds, then try again."
    )]
    LinkBusy(u64),
    /// 400: the form holds something we cannot use (the message says what).
    #[error("{0}")]
    BadRequest(String),
    /// 500: logged; the page says only that something went wrong.
    #[error("database error: {0}")]
    Store(#[from] StoreError),
    /// 500: logged.
    #[error("template error: {0}")]
    Template(#[from] minijinja::Error),
    /// 500: logged (e.g. a private note the key file cannot decrypt).
    #[error("{0}")]
    Internal(String),
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::TooMany | Self::LinkBusy(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Store(_) | Self::Template(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "web page failed");
            "Something went wrong on our side; the daemon's log says what.".to_string()
        } else {
            self.to_string()
        };
        let ctx = minijinja::context! { status => status.as_u16(), message => message };
        let retry_after = self.retry_after();
        let mut res = match render("error.html", ctx) {
            Ok(page) => (status, page).into_response(),
            Err(_) => (status, message).into_response(),
        };
        if let Some(v) = retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

impl WebError {
    /// The Retry-After header a 429 of the direct's link carries.
    fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            Self::LinkBusy(secs) => HeaderValue::from_str(&secs.to_string()).ok(),
            _ => None,
        }
    }
}

/// Formats an instant that is not a meeting's (a pass, a link, a note added), in UTC; a
/// meeting's time goes through `crate::when` with its series' zone.
fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
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

    #[test]
    fn every_template_compiles() {
        for name in super::TEMPLATES.templates().map(|(n, _)| n) {
            assert!(super::TEMPLATES.get_template(name).is_ok(), "{name}");
        }
        assert_eq!(super::TEMPLATES.templates().count(), 14);
    }
}
