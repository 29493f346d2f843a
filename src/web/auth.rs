//! Who may use the admin pages: the admin token (configured, or generated once and stored as a
//! digest), sessions in an HttpOnly cookie (stored as digests, with an expiry), CSRF tokens
//! derived from the session, and a per-address limit on sign-in attempts (see
//! `server::guesses`). A session is bound to the admin token it was opened with: changing the
//! token ends them all.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use cookie::{Cookie, SameSite};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::error::WebError;
use super::render::render;
use super::state::WebState;
use crate::clock::Clock;
use crate::config::{Config, CookieSecure};
use crate::store::{Store, StoreError};

const SESSION_COOKIE: &str = "oneonone_session";
/// The sign-in form's double-submit cookie (there is no session yet to bind a token to).
const SIGNIN_COOKIE: &str = "oneonone_signin";

/// A new random token: 256 bits, base64url without padding (43 characters, URL-safe).
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The hex SHA-256 digest under which a token is stored. A 256-bit random token needs no slow
/// hash: guessing its preimage is as hard as guessing the token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A CSRF token bound to a secret (a session or a direct's link): derived from it, so nothing
/// more is stored, and useless without the secret itself.
pub(super) fn csrf_for(purpose: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"oneonone csrf\0");
    h.update(purpose.as_bytes());
    h.update(b"\0");
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// Compares through digests, so the time taken does not depend on how much matched.
pub(super) fn same_secret(a: &str, b: &str) -> bool {
    !a.is_empty() && Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// What a session is stored under: its token's digest bound to the admin token's. A session is
/// found only while the admin token that opened it is still the admin token, so changing the
/// token (a leaked one, say) ends every session without anything more to store or compare.
pub fn session_key(token: &str, admin_digest: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"oneonone session\0");
    h.update(admin_digest);
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

/// The digest the admin token must match: `server.admin_token`, else the generated one.
pub(super) async fn admin_digest(
    store: &Store,
    config: &Config,
    clock: &dyn Clock,
) -> Result<[u8; 32], StoreError> {
    let configured = config.server.admin_token.expose_secret();
    if !configured.is_empty() {
        return Ok(Sha256::digest(configured.as_bytes()).into());
    }
    if let Some(stored) = stored_digest(store).await? {
        return Ok(stored);
    }
    let token = new_token();
    if store
        .init_admin_token_hash(&token_digest(&token), clock.now())
        .await?
    {
        // Printed on the console once, never logged: only its digest is kept.
        eprintln!(
            "\noneonone: no server.admin_token is set, so one was generated. Sign in to the web \
             pages with:\n\n    {token}\n\nIt is shown only this once (the database keeps a digest). \
             Set server.admin_token to choose your own.\n"
        );
        tracing::warn!("generated an admin token for the web pages; printed once on the console");
    }
    // Another daemon sharing the database may have stored its own first: use what is stored.
    stored_digest(store).await?.ok_or(StoreError::NotFound {
        what: "admin token digest",
        id: "1".into(),
    })
}

async fn stored_digest(store: &Store) -> Result<Option<[u8; 32]>, StoreError> {
    let Some(hex_digest) = store.admin_token_hash().await? else {
        return Ok(None);
    };
    let bytes = hex::decode(&hex_digest)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| StoreError::Corrupt {
            column: "web_admin_token.token_hash",
            value: hex_digest.chars().take(8).collect(),
        })?;
    Ok(Some(bytes))
}

pub(super) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

pub(super) fn secure(s: &WebState, headers: &HeaderMap) -> bool {
    match s.config.web.cookie_secure {
        CookieSecure::Always => true,
        CookieSecure::Never => false,
        CookieSecure::Auto => headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https")),
    }
}

pub(super) fn set_cookie(c: Cookie<'_>) -> (header::HeaderName, String) {
    (header::SET_COOKIE, c.to_string())
}

/// A signed-in admin. Extracting it from a request without a live session redirects to the
/// sign-in page.
pub struct AdminSession {
    csrf: String,
    digest: String,
}

impl AdminSession {
    /// The token every form of the admin pages carries.
    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Accepts a form's token only when it belongs to this session.
    pub(crate) fn check(&self, given: &str) -> Result<(), WebError> {
        if same_secret(given, &self.csrf) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

impl AdminSession {
    /// The live session the request's cookie names, if any. For handlers outside this module
    /// (the Google connect flow) that must only serve a signed-in admin.
    pub(crate) async fn from_headers(
        store: &Store,
        headers: &HeaderMap,
        admin_digest: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<Option<Self>, StoreError> {
        let Some(token) = cookie_value(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let digest = session_key(&token, admin_digest);
        Ok(store.session_valid(&digest, now).await?.then(|| Self {
            csrf: csrf_for("session", &token),
            digest,
        }))
    }
}

impl FromRequestParts<WebState> for AdminSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &WebState) -> Result<Self, Response> {
        match Self::from_headers(&s.store, &parts.headers, &s.admin_digest, s.clock.now()).await {
            Ok(Some(session)) => Ok(session),
            Ok(None) => Err(Redirect::to("/signin").into_response()),
            Err(e) => Err(WebError::from(e).into_response()),
        }
    }
}

pub(super) async fn signin_page(State(s): State<WebState>, headers: HeaderMap) -> Response {
    let token = cookie_value(&headers, SIGNIN_COOKIE).unwrap_or_else(new_token);
    signin_form(&s, &headers, &token, StatusCode::OK, None)
}

fn signin_form(
    s: &WebState,
    headers: &HeaderMap,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let cookie = Cookie::build((SIGNIN_COOKIE, csrf.to_string()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(s, headers))
        .path("/signin")
        .max_age(cookie::time::Duration::hours(1))
        .build();
    let ctx = minijinja::context! { signin_csrf => csrf, error => error };
    match render("signin.html", ctx) {
        Ok(page) => (status, [set_cookie(cookie)], page).into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct SignIn {
    token: SecretString,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn signin(
    State(s): State<WebState>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignIn>,
) -> Result<Response, WebError> {
    let expected = cookie_value(&headers, SIGNIN_COOKIE).unwrap_or_default();
    if !same_secret(&form.csrf, &expected) {
        return Err(WebError::Csrf);
    }
    // Past the budget an attempt waits for its turn (at most until the next attempt is earned
    // back) and is then checked: guessing goes no faster, and the owner who mistyped, or whose
    // address someone else is guessing from, still gets in. Only when the line reaches further
    // than that is the attempt refused unchecked.
    let turn = match s.guesses.reserve(
        crate::server::guesses::client_ip(&ext),
        s.guesses.signin_wait(),
    ) {
        Ok(turn) => turn,
        Err(retry) => {
            let after = AppendHeaders([(header::RETRY_AFTER, retry.secs().to_string())]);
            return Ok((after, WebError::TooMany).into_response());
        }
    };
    tokio::time::sleep(turn.wait).await;
    let given: [u8; 32] = Sha256::digest(form.token.expose_secret().trim().as_bytes()).into();
    if given == s.admin_digest {
        s.guesses.refund(turn);
    } else {
        tracing::warn!("web sign-in refused: wrong admin token");
        return Ok(signin_form(
            &s,
            &headers,
            &expected,
            StatusCode::UNAUTHORIZED,
            Some("That is not the admin token."),
        ));
    }
    let token = new_token();
    let now = s.clock.now();
    let hours = i64::from(s.config.web.session_hours);
    let expires: DateTime<Utc> = now + chrono::Duration::hours(hours);
    s.store
        .create_session(&session_key(&token, &s.admin_digest), now, expires)
        .await?;
    let session = Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(&s, &headers))
        .path("/")
        .max_age(cookie::time::Duration::hours(hours))
        .build();
    let spent = Cookie::build((SIGNIN_COOKIE, ""))
        .path("/signin")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    tracing::info!("web sign-in");
    // Appended: an array of pairs would keep only the last Set-Cookie.
    let cookies = AppendHeaders([set_cookie(session), set_cookie(spent)]);
    Ok((cookies, Redirect::to("/")).into_response())
}

#[derive(Deserialize)]
pub(super) struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

pub(super) async fn signout(
    State(s): State<WebState>,
    session: AdminSession,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    s.store.delete_session(&session.digest).await?;
    Ok(signed_out(&s, &headers))
}

/// Ends every session, on every browser (a lost laptop, a shared computer): everyone signs in
/// again with the admin token.
pub(super) async fn signout_everywhere(
    State(s): State<WebState>,
    session: AdminSession,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let ended = s.store.delete_all_sessions().await?;
    tracing::info!(sessions = ended, "web: signed out everywhere");
    Ok(signed_out(&s, &headers))
}

/// Clears this browser's session cookie and sends it to the sign-in page.
fn signed_out(s: &WebState, headers: &HeaderMap) -> Response {
    let gone = Cookie::build((SESSION_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(s, headers))
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    ([set_cookie(gone)], Redirect::to("/signin")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_url_safe_and_csrf_depends_on_the_secret() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, new_token());
        assert_ne!(csrf_for("session", &a), csrf_for("session", "other"));
        assert_ne!(csrf_for("session", &a), csrf_for("link", &a));
        assert!(same_secret("x", "x"));
        assert!(!same_secret("", ""), "an empty token never matches");
    }
}
