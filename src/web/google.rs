//! Google's endpoints: the web flow for connecting Google (`GET /connect/google` sends the browser
//! to Google's consent page, state and PKCE verifier kept here, single use, for ten minutes;
//! `GET /oauth/google/callback` checks the state, stores the account and wakes the scheduler) and
//! the push webhook (`POST /webhooks/google`). `/connect/google` serves a signed-in admin (or the
//! admin API token); the callback is guarded by the state, the webhook by the channel's token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use url::Url;

use super::auth::AdminSession;
use super::error::WebError;
use crate::config::Config;
use crate::provider::google::connect::{Choices, SCOPES, check_config, finish};
use crate::provider::google::oauth;
use crate::provider::google::provider::{GoogleSettings, oauth_settings};
use crate::server::bearer::{Refused, check_bearer};
use crate::server::state::AppState;

/// How long a consent may take before its state is forgotten.
const PENDING_TTL: Duration = Duration::from_secs(600);
/// Consents in flight at most (an unauthenticated flood cannot reach `/connect/google`, but the
/// map stays bounded whatever happens).
const MAX_PENDING: usize = 1000;

struct Pending {
    verifier: SecretString,
    redirect: Url,
    at: Instant,
    /// "Reconnect" on an account's page: the consent must be that account's.
    account: Option<i64>,
}

/// The consents in flight, by their OAuth state.
#[derive(Default)]
struct Consents(Mutex<HashMap<String, Pending>>);

impl Consents {
    fn remember(&self, state: String, p: Pending) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
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
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(state).filter(|p| p.at.elapsed() < PENDING_TTL)
    }
}

/// What Google's handlers share: the daemon's HTTP state and the consents in flight.
#[derive(Clone)]
struct GoogleState {
    app: AppState,
    consents: Arc<Consents>,
}

/// `/connect/google` and its callback (with the headers of every other page: the callback's page
/// shows account details and its URL carries the code), and `/webhooks/google`.
pub(crate) fn routes(app: AppState) -> Router {
    let pages = Router::new()
        .route("/connect/google", get(start))
        .route("/oauth/google/callback", get(callback))
        .layer(axum::middleware::map_response(super::security_headers));
    pages
        .route("/webhooks/google", post(webhook))
        .with_state(GoogleState {
            app,
            consents: Arc::default(),
        })
}

/// Where Google sends the browser back: `server.public_url` when set, else this request's own
/// host.
fn redirect_url(config: &Config, headers: &HeaderMap) -> Option<Url> {
    let base = match config.server.public_base() {
        Some(base) => base.to_string(),
        None => {
            let host = headers.get(header::HOST)?.to_str().ok()?;
            format!("http://{host}")
        }
    };
    Url::parse(&format!("{base}/oauth/google/callback")).ok()
}

/// `GET /connect/google`: redirect to Google's consent page.
async fn start(
    State(GoogleState { app: s, consents }): State<GoogleState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    // A signed-in admin (the web pages' session cookie), or a script with the admin API token.
    let session =
        AdminSession::from_headers(&s.store, &headers, &s.session_digest, s.clock.now()).await?;
    if session.is_none() {
        match check_bearer(&s, &headers, &ext) {
            Ok(()) => {}
            Err(Refused::TooMany(retry)) => return Err(WebError::TooManyTokens(retry.secs())),
            Err(_) if headers.contains_key(header::AUTHORIZATION) => {
                return Err(WebError::WrongToken);
            }
            Err(_) => return Ok(Redirect::to("/signin").into_response()),
        }
    }
    let config = &s.services.config;
    check_config(config).map_err(WebError::GoogleNotSetUp)?;
    let redirect = redirect_url(config, &headers).ok_or_else(|| {
        WebError::BadRequest("Cannot tell this server's address: set server.public_url.".into())
    })?;
    let req = oauth::authorize_url(&oauth_settings(&config.google), &redirect, &SCOPES)
        .map_err(|e| WebError::GoogleNotSetUp(e.into()))?;
    consents.remember(
        req.state,
        Pending {
            verifier: req.pkce_verifier,
            redirect,
            at: Instant::now(),
            account: q.get("account").and_then(|a| a.parse().ok()),
        },
    );
    Ok(Redirect::to(req.url.as_str()).into_response())
}

/// `GET /oauth/google/callback?code&state`: store the account, wake the scheduler for its preview
/// pass, and send the person to the account's page (what was found, and Start).
async fn callback(
    State(GoogleState { app: s, consents }): State<GoogleState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    if let Some(error) = q.get("error") {
        return Err(WebError::BadRequest(format!(
            "Google did not grant access ({error}). Nothing was stored."
        )));
    }
    let Some(pending) = q.get("state").and_then(|st| consents.take(st)) else {
        return Err(WebError::BadRequest(
            "This consent is unknown or expired; start again from /connect/google.".into(),
        ));
    };
    let Some(code) = q.get("code") else {
        return Err(WebError::BadRequest("The redirect carries no code.".into()));
    };
    let now = s.clock.now();
    let connected = finish(
        &s.store,
        &s.services.keyring,
        &s.services.config,
        &pending.redirect,
        code,
        &pending.verifier,
        &Choices {
            account: pending.account,
            ..Choices::default()
        },
        now,
    )
    .await
    .map_err(WebError::GoogleConnect)?;
    // The first pass is a preview (the account is not started, nothing is written); the
    // account's page shows what it found, with the Start button.
    if let Err(e) = s.store.request_sync(connected.account_id, now).await {
        tracing::warn!(account = connected.account_id, error = %e, "cannot queue the first pass");
    }
    s.wake.notify_one();
    let notice = match (connected.reconnected, connected.removed_at) {
        (false, _) => "",
        (true, None) => "?notice=updated",
        (true, Some(_)) => "?notice=back",
    };
    Ok(Redirect::to(&format!("/accounts/{}{notice}", connected.account_id)).into_response())
}

/// `POST /webhooks/google`: Google says a watched calendar changed. The channel's token (its
/// only authentication) must match; then the account is made due and the scheduler woken. The
/// `sync` message Google sends when a channel opens needs nothing.
async fn webhook(
    State(GoogleState { app: s, .. }): State<GoogleState>,
    headers: HeaderMap,
) -> StatusCode {
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
            let settings: GoogleSettings = serde_json::from_value(a.settings.clone()).ok()?;
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
