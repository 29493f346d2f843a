//! The daemon's web flow for connecting Google: `GET /connect/google` sends the browser to
//! Google's consent page (state and PKCE verifier kept here, single use, for ten minutes), and
//! `GET /oauth/google/callback` checks the state, stores the account and wakes the scheduler.
//! `/connect/google` serves a signed-in admin (or the admin API token); the callback is guarded by
//! the state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use secrecy::SecretString;
use url::Url;

use super::connect::{Choices, SCOPES, check_config, finish};
use super::oauth;
use super::provider::oauth_settings;
use crate::config::Config;
use crate::secrets::Keyring;
use crate::server::AppState;

/// How long a consent may take before its state is forgotten.
const PENDING_TTL: Duration = Duration::from_secs(600);
/// Consents in flight at most (an unauthenticated flood cannot reach `/connect/google`, but the
/// map stays bounded whatever happens).
const MAX_PENDING: usize = 1000;

struct Pending {
    verifier: SecretString,
    redirect: Url,
    at: Instant,
}

/// What the two handlers share.
pub struct GoogleWeb {
    pub config: Arc<Config>,
    pub keyring: Arc<Keyring>,
    pending: Mutex<HashMap<String, Pending>>,
}

impl GoogleWeb {
    pub fn new(config: Arc<Config>, keyring: Arc<Keyring>) -> Self {
        Self {
            config,
            keyring,
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn remember(&self, state: String, p: Pending) {
        let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, v| v.at.elapsed() < PENDING_TTL);
        if map.len() >= MAX_PENDING
            && let Some(oldest) = map.iter().min_by_key(|(_, v)| v.at).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(state, p);
    }

    /// The consent started with this state, once, if it has not expired. The state is 128 random
    /// bits: guessing one is out of reach, and it is forgotten after its single use.
    fn take(&self, state: &str) -> Option<Pending> {
        let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(state).filter(|p| p.at.elapsed() < PENDING_TTL)
    }

    /// Where Google sends the browser back: `google.push_url` when set (the public base URL),
    /// else this request's own host.
    fn redirect_url(&self, headers: &HeaderMap) -> Option<Url> {
        let base = if self.config.google.push_url.is_empty() {
            let host = headers.get(header::HOST)?.to_str().ok()?;
            format!("http://{host}")
        } else {
            self.config
                .google
                .push_url
                .trim_end_matches('/')
                .to_string()
        };
        Url::parse(&format!("{base}/oauth/google/callback")).ok()
    }
}

fn page(status: StatusCode, text: &str) -> Response {
    let body = format!(
        "<!doctype html><title>oneonone</title><p>{}</p>",
        quick_xml::escape::escape(text)
    );
    (status, Html(body)).into_response()
}

/// `GET /connect/google`: redirect to Google's consent page.
pub async fn start(
    State(s): State<AppState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
) -> Response {
    // A signed-in admin (the web pages' session cookie), or a script with the admin API token.
    let signed_in = matches!(
        crate::web::AdminSession::from_headers(
            &s.store,
            &headers,
            &s.session_digest,
            s.clock.now()
        )
        .await,
        Ok(Some(_))
    );
    if !signed_in {
        use crate::api::Refused;
        match crate::api::check_bearer(&s, &headers, &ext) {
            Ok(()) => {}
            Err(Refused::TooMany(retry)) => {
                let mut res = page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many wrong tokens from this address. Wait a minute and try again.",
                );
                res.headers_mut()
                    .insert(header::RETRY_AFTER, retry.secs().into());
                return res;
            }
            Err(_) if headers.contains_key(header::AUTHORIZATION) => {
                return page(StatusCode::UNAUTHORIZED, "Wrong admin token.");
            }
            Err(_) => return axum::response::Redirect::to("/signin").into_response(),
        }
    }
    let web = &s.google;
    if let Err(e) = check_config(&web.config) {
        return page(StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
    }
    let Some(redirect) = web.redirect_url(&headers) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Cannot tell this server's address: set google.push_url.",
        );
    };
    match oauth::authorize_url(&oauth_settings(&web.config.google), &redirect, &SCOPES) {
        Ok(req) => {
            web.remember(
                req.state,
                Pending {
                    verifier: req.pkce_verifier,
                    redirect,
                    at: Instant::now(),
                },
            );
            Redirect::to(req.url.as_str()).into_response()
        }
        Err(e) => page(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

/// `GET /oauth/google/callback?code&state`: store the account, wake the scheduler for its preview
/// pass, and send the person to the account's page (what was found, and Start).
pub async fn callback(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let web = &s.google;
    if let Some(error) = q.get("error") {
        return page(
            StatusCode::BAD_REQUEST,
            &format!("Google did not grant access ({error}). Nothing was stored."),
        );
    }
    let Some(pending) = q.get("state").and_then(|st| web.take(st)) else {
        return page(
            StatusCode::BAD_REQUEST,
            "This consent is unknown or expired; start again from /connect/google.",
        );
    };
    let Some(code) = q.get("code") else {
        return page(StatusCode::BAD_REQUEST, "The redirect carries no code.");
    };
    let now = s.clock.now();
    match finish(
        &s.store,
        &web.keyring,
        &web.config,
        &pending.redirect,
        code,
        &pending.verifier,
        &Choices::default(),
        now,
    )
    .await
    {
        Ok(c) => {
            // The first pass is a preview (the account is not started, nothing is written); the
            // account's page shows what it found, with the Start button.
            if let Err(e) = s.store.request_sync(c.account_id, now).await {
                tracing::warn!(account = c.account_id, error = %e, "cannot queue the first pass");
            }
            s.wake.notify_one();
            Redirect::to(&format!("/accounts/{}", c.account_id)).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "connecting Google failed");
            page(StatusCode::BAD_GATEWAY, &format!("Connecting failed: {e}"))
        }
    }
}

/// `POST /webhooks/google`: Google says a watched calendar changed. The channel's token (its
/// only authentication) must match; then the account is made due and the scheduler woken. The
/// `sync` message Google sends when a channel opens needs nothing.
pub async fn webhook(State(s): State<AppState>, headers: HeaderMap) -> StatusCode {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let channel = h("x-goog-channel-id");
    if channel.is_empty() {
        return StatusCode::BAD_REQUEST;
    }
    let accounts = match s.store.list_accounts().await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "push notification: cannot read the accounts");
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    };
    let found = accounts
        .iter()
        .filter(|a| a.provider == crate::store::Provider::Google)
        .find_map(|a| {
            let settings: super::GoogleSettings =
                serde_json::from_value(a.settings.clone()).ok()?;
            let c = settings.channels.into_values().find(|c| c.id == channel)?;
            Some((a.id, c))
        });
    let Some((account, c)) = found else {
        return StatusCode::NOT_FOUND;
    };
    if !c.token_matches(h("x-goog-channel-token")) {
        tracing::warn!(
            account,
            "push notification with a wrong channel token ignored"
        );
        return StatusCode::FORBIDDEN;
    }
    if h("x-goog-resource-state") != "sync" {
        match s.store.request_sync(account, s.clock.now()).await {
            Ok(_) => s.wake.notify_one(),
            Err(e) => {
                tracing::warn!(account, error = %e, "push notification: cannot queue a pass");
                return StatusCode::SERVICE_UNAVAILABLE;
            }
        }
    }
    StatusCode::OK
}
