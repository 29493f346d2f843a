//! OAuth 2.0 for Google with the `oauth2` crate: the consent URL (authorization code with PKCE
//! S256, `access_type=offline`, `prompt=consent`, a random `state`), the code exchange, refresh,
//! and revocation. `invalid_grant` on refresh means the user revoked us or the grant expired:
//! [`OAuthError::Revoked`], which the sync marks `needs_reconnect` and never retries.
//! The HTTP client never follows redirects (a token endpoint that redirects could send our
//! client secret and codes anywhere). Endpoints and client credentials are parameters.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::client::{AccessTokenSource, TokenError};
use crate::clock::Clock;

#[cfg(test)]
pub(crate) const GOOGLE_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
#[cfg(test)]
pub(crate) const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Read and write events (list, instances, patch, watch).
pub const SCOPE_EVENTS: &str = "https://www.googleapis.com/auth/calendar.events";
/// List the user's calendars (to let them pick one besides `primary`).
pub(crate) const SCOPE_CALENDAR_LIST: &str =
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly";

/// A token is refreshed when it has less than this left.
const REFRESH_MARGIN: chrono::Duration = chrono::Duration::seconds(120);

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// `invalid_grant`: the refresh token (or code) is revoked, expired or already used.
    #[error("Google no longer accepts this grant (invalid_grant{}): reconnect the account",
        .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Revoked { description: Option<String> },
    /// Any other OAuth error answer (`invalid_client`, `unauthorized_client`, ...).
    #[error("the authorization server refused: {error}{}",
        .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Rejected {
        error: String,
        description: Option<String>,
    },
    #[error("the OAuth callback's state does not match the one we sent (possible CSRF)")]
    StateMismatch,
    #[error("the authorization server could not be reached: {0}")]
    Network(String),
    #[error("unreadable answer from the authorization server: {0}")]
    BadAnswer(String),
    #[error("no answer from the browser within {0:?}; run the connect command again")]
    TimedOut(Duration),
    #[error("could not listen for the OAuth redirect on 127.0.0.1: {0}")]
    Listen(String),
    #[error("invalid OAuth setting {key}: {message}")]
    Config { key: &'static str, message: String },
}

impl OAuthError {
    pub fn kind(&self) -> &'static str {
        match self {
            OAuthError::Revoked { .. } => "revoked",
            OAuthError::Rejected { .. } => "oauth_rejected",
            OAuthError::StateMismatch => "state_mismatch",
            OAuthError::Network(_) => "network",
            OAuthError::BadAnswer(_) => "bad_answer",
            OAuthError::TimedOut(_) => "timed_out",
            OAuthError::Listen(_) => "listen",
            OAuthError::Config { .. } => "config",
        }
    }
}

pub type Result<T, E = OAuthError> = std::result::Result<T, E>;

/// Where and as whom we authorize (from config).
#[derive(Clone)]
pub struct OAuthSettings {
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub auth_url: Url,
    pub token_url: Url,
}

impl std::fmt::Debug for OAuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthSettings")
            .field("client_id", &self.client_id)
            .field("auth_url", &self.auth_url.as_str())
            .field("token_url", &self.token_url.as_str())
            .finish_non_exhaustive()
    }
}

/// A consent URL to send the user to, and what the callback must be checked against.
pub struct AuthorizationRequest {
    pub url: Url,
    /// Compare with the callback's `state` using [`check_state`].
    pub state: String,
    /// Kept until the callback, then passed to [`exchange_code`].
    pub pkce_verifier: SecretString,
}

/// What the token endpoint gave us.
pub struct Tokens {
    pub access_token: SecretString,
    /// Present after a code exchange with `access_type=offline`; usually absent after a refresh
    /// (keep the one you have then).
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<Duration>,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// When the access token stops working, counted from `now` (the moment of the answer).
    pub fn expires_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let d = chrono::Duration::from_std(self.expires_in?).ok()?;
        Some(now + d)
    }
}

/// The HTTP client for the token endpoint: no redirects, bounded time.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(
            crate::provider::netcheck::GuardedResolver,
        ))
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("oneonone/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| OAuthError::Network(e.to_string()))
}

type Client = oauth2::Client<
    oauth2::StandardErrorResponse<BasicErrorResponseType>,
    BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn client(s: &OAuthSettings, redirect_uri: Option<&Url>) -> Result<Client> {
    let auth = AuthUrl::from_url(s.auth_url.clone());
    let token = TokenUrl::from_url(s.token_url.clone());
    let mut c = BasicClient::new(ClientId::new(s.client_id.clone()))
        .set_auth_uri(auth)
        .set_token_uri(token)
        // Google documents the secret in the form body; both work, the body is what it shows.
        .set_auth_type(AuthType::RequestBody);
    if let Some(secret) = &s.client_secret {
        c = c.set_client_secret(ClientSecret::new(secret.expose_secret().to_string()));
    }
    if let Some(r) = redirect_uri {
        c = c.set_redirect_uri(RedirectUrl::from_url(r.clone()));
    }
    Ok(c)
}

/// The consent URL: code flow with PKCE S256, offline access (a refresh token), forced consent
/// (so Google sends a refresh token again on a reconnect), a fresh random `state`.
pub fn authorize_url(
    s: &OAuthSettings,
    redirect_uri: &Url,
    scopes: &[&str],
) -> Result<AuthorizationRequest> {
    let c = client(s, Some(redirect_uri))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = c
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes.iter().map(|s| Scope::new(s.to_string())))
        .set_pkce_challenge(challenge)
        .add_extra_param("access_type", "offline")
        .add_extra_param("prompt", "consent")
        .url();
    Ok(AuthorizationRequest {
        url,
        state: state.secret().clone(),
        pkce_verifier: SecretString::from(verifier.secret().clone()),
    })
}

/// Checks the callback's `state` against ours in constant time.
pub fn check_state(expected: &str, got: &str) -> Result<()> {
    let (a, b) = (expected.as_bytes(), got.as_bytes());
    let diff = a
        .iter()
        .zip(b)
        .fold(u8::from(a.len() != b.len()), |acc, (x, y)| acc | (x ^ y));
    if diff == 0 && !expected.is_empty() {
        Ok(())
    } else {
        Err(OAuthError::StateMismatch)
    }
}

fn map_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
) -> OAuthError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let description = r.error_description().cloned();
            match r.error() {
                BasicErrorResponseType::InvalidGrant => OAuthError::Revoked { description },
                other => OAuthError::Rejected {
                    error: other.to_string(),
                    description,
                },
            }
        }
        RequestTokenError::Request(e) => {
            // Keep the cause chain (connection refused, timeout) but nothing from the request.
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            OAuthError::Network(msg)
        }
        RequestTokenError::Parse(e, body) => OAuthError::BadAnswer(format!(
            "{e} in `{}`",
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        )),
        RequestTokenError::Other(m) => OAuthError::BadAnswer(m),
    }
}

fn tokens(t: &BasicTokenResponse) -> Tokens {
    Tokens {
        access_token: SecretString::from(t.access_token().secret().clone()),
        refresh_token: t
            .refresh_token()
            .map(|r| SecretString::from(r.secret().clone())),
        expires_in: t.expires_in(),
        scopes: t
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
    }
}

/// Exchanges the callback's `code` (with our PKCE verifier) for tokens.
pub async fn exchange_code(
    s: &OAuthSettings,
    http: &reqwest::Client,
    redirect_uri: &Url,
    code: &str,
    pkce_verifier: &SecretString,
) -> Result<Tokens> {
    let c = client(s, Some(redirect_uri))?;
    let t = c
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(
            pkce_verifier.expose_secret().to_string(),
        ))
        .request_async(http)
        .await
        .map_err(map_error)?;
    Ok(tokens(&t))
}

/// A new access token from the refresh token. `invalid_grant` -> [`OAuthError::Revoked`].
pub async fn refresh(
    s: &OAuthSettings,
    http: &reqwest::Client,
    refresh_token: &SecretString,
) -> Result<Tokens> {
    let c = client(s, None)?;
    let rt = RefreshToken::new(refresh_token.expose_secret().to_string());
    let t = c
        .exchange_refresh_token(&rt)
        .request_async(http)
        .await
        .map_err(map_error)?;
    Ok(tokens(&t))
}

/// Revokes a token (Google: `POST /revoke?token=...`), when the user disconnects.
pub async fn revoke(http: &reqwest::Client, revoke_url: &Url, token: &SecretString) -> Result<()> {
    let mut url = revoke_url.clone();
    url.query_pairs_mut()
        .append_pair("token", token.expose_secret());
    let resp = http
        .post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .send()
        .await
        .map_err(|e| OAuthError::Network(e.without_url().to_string()))?;
    if resp.status().is_success() {
        return Ok(());
    }
    Err(OAuthError::Rejected {
        error: format!("HTTP {}", resp.status().as_u16()),
        description: None,
    })
}

/// The loopback redirect of an installed app (`http://127.0.0.1:<free port>/`): it receives the
/// browser's one redirect after consent, checks `state`, and hands back the code.
pub struct LoopbackReceiver {
    listener: tokio::net::TcpListener,
    redirect: Url,
}

type Callback = std::result::Result<String, OAuthError>;

impl LoopbackReceiver {
    /// Listens on 127.0.0.1 on a free port (never on other interfaces: the code must not be
    /// reachable from the network).
    pub async fn bind() -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| OAuthError::Listen(e.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|e| OAuthError::Listen(e.to_string()))?
            .port();
        let redirect = Url::parse(&format!("http://127.0.0.1:{port}/")).expect("a valid URL");
        Ok(Self { listener, redirect })
    }

    /// The `redirect_uri` to put in the consent URL.
    pub fn redirect_url(&self) -> &Url {
        &self.redirect
    }

    /// Waits for the redirect (at most `timeout`) and returns the authorization code. A refused
    /// consent (`error=access_denied`) is [`OAuthError::Rejected`]; a wrong `state` is
    /// [`OAuthError::StateMismatch`]. Other paths (a browser's `/favicon.ico`) get 404 and the
    /// wait goes on.
    pub async fn receive(self, expected_state: &str, timeout: Duration) -> Result<String> {
        use axum::extract::{Query, State};
        use axum::response::Html;

        let (tx, mut rx) = tokio::sync::mpsc::channel::<Callback>(1);
        let expected = expected_state.to_string();
        let handler =
            move |State(tx): State<tokio::sync::mpsc::Sender<Callback>>,
                  Query(q): Query<std::collections::HashMap<String, String>>| {
                let expected = expected.clone();
                async move {
                    let outcome = if let Some(error) = q.get("error") {
                        Err(OAuthError::Rejected {
                            error: error.clone(),
                            description: q.get("error_description").cloned(),
                        })
                    } else {
                        match (q.get("state"), q.get("code")) {
                            (Some(state), Some(code)) => {
                                check_state(&expected, state).map(|()| code.clone())
                            }
                            (None, _) => Err(OAuthError::StateMismatch),
                            (Some(_), None) => Err(OAuthError::BadAnswer(
                                "the redirect carries neither a code nor an error".into(),
                            )),
                        }
                    };
                    let page = match &outcome {
                        Ok(_) => {
                            "<p>oneonone is connected to your calendar. You can close this tab.</p>"
                                .to_string()
                        }
                        Err(e) => format!(
                            "<p>Connecting failed: {}</p>",
                            quick_xml::escape::escape(e.to_string())
                        ),
                    };
                    let _ = tx.try_send(outcome);
                    Html(page)
                }
            };
        let app = axum::Router::new()
            .route("/", axum::routing::get(handler))
            .with_state(tx);
        let stop = tokio_util::sync::CancellationToken::new();
        let server =
            axum::serve(self.listener, app).with_graceful_shutdown(stop.clone().cancelled_owned());
        let serving = tokio::spawn(async move { server.await });
        let got = tokio::time::timeout(timeout, rx.recv()).await;
        stop.cancel();
        // The page is already written; give the server a moment to flush it, no more.
        let _ = tokio::time::timeout(Duration::from_secs(2), serving).await;
        match got {
            Ok(Some(outcome)) => outcome,
            Ok(None) | Err(_) => Err(OAuthError::TimedOut(timeout)),
        }
    }
}

/// An [`AccessTokenSource`] that refreshes before expiry (times from `clock`), and after a 401.
/// Once the grant is revoked it keeps failing with the revocation message without asking again.
pub struct RefreshingTokens {
    settings: OAuthSettings,
    http: reqwest::Client,
    refresh_token: SecretString,
    clock: Arc<dyn Clock>,
    state: tokio::sync::Mutex<TokenState>,
}

#[derive(Default)]
struct TokenState {
    current: Option<(SecretString, Option<DateTime<Utc>>)>,
    revoked: Option<String>,
    refreshes: u64,
}

impl RefreshingTokens {
    pub fn new(
        settings: OAuthSettings,
        http: reqwest::Client,
        refresh_token: SecretString,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            settings,
            http,
            refresh_token,
            clock,
            state: tokio::sync::Mutex::new(TokenState::default()),
        }
    }

    /// Starts with the access token a code exchange just gave (so connecting does not cost an
    /// immediate refresh).
    pub async fn with_access_token(
        self,
        token: SecretString,
        expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        self.state.lock().await.current = Some((token, expires_at));
        self
    }

    /// Refreshes made so far (to check that a valid token is reused).
    pub async fn refresh_count(&self) -> u64 {
        self.state.lock().await.refreshes
    }

    /// A valid access token, refreshing when none is held or it expires within two minutes.
    pub async fn get(&self) -> Result<SecretString> {
        let mut st = self.state.lock().await;
        if let Some(msg) = &st.revoked {
            return Err(OAuthError::Revoked {
                description: Some(msg.clone()),
            });
        }
        let now = self.clock.now();
        if let Some((tok, exp)) = &st.current
            && exp.is_none_or(|e| e - REFRESH_MARGIN > now)
        {
            return Ok(tok.clone());
        }
        st.refreshes += 1;
        match refresh(&self.settings, &self.http, &self.refresh_token).await {
            Ok(t) => {
                let exp = t.expires_at(now);
                st.current = Some((t.access_token.clone(), exp));
                Ok(t.access_token)
            }
            Err(OAuthError::Revoked { description }) => {
                st.revoked = Some(
                    description
                        .clone()
                        .unwrap_or_else(|| "invalid_grant".into()),
                );
                st.current = None;
                Err(OAuthError::Revoked { description })
            }
            Err(e) => Err(e),
        }
    }
}

impl AccessTokenSource for RefreshingTokens {
    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, TokenError>> {
        Box::pin(async move {
            self.get().await.map_err(|e| match e {
                OAuthError::Revoked { .. } => TokenError::Revoked(e.to_string()),
                e => TokenError::Unavailable(e.to_string()),
            })
        })
    }

    fn invalidate(&self, token: &SecretString) -> BoxFuture<'_, ()> {
        let token = token.expose_secret().to_string();
        Box::pin(async move {
            let mut st = self.state.lock().await;
            if st
                .current
                .as_ref()
                .is_some_and(|(t, _)| t.expose_secret() == token)
            {
                st.current = None;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> OAuthSettings {
        OAuthSettings {
            client_id: "cid.apps.googleusercontent.com".into(),
            client_secret: Some(SecretString::from("shh")),
            auth_url: Url::parse(GOOGLE_AUTH_URL).unwrap(),
            token_url: Url::parse(GOOGLE_TOKEN_URL).unwrap(),
        }
    }

    #[test]
    fn consent_url_has_pkce_s256_offline_consent_state_and_no_secret() {
        let redirect = Url::parse("http://127.0.0.1:8123/").unwrap();
        let req = authorize_url(&settings(), &redirect, &[SCOPE_EVENTS]).unwrap();
        let q: std::collections::HashMap<_, _> = req.url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "cid.apps.googleusercontent.com");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:8123/");
        assert_eq!(q["scope"], SCOPE_EVENTS);
        assert_eq!(q["state"], req.state);
        assert!(req.state.len() >= 16);
        assert!(!req.url.as_str().contains("shh"));
        assert!(req.pkce_verifier.expose_secret().len() >= 43);
        let again = authorize_url(&settings(), &redirect, &[SCOPE_EVENTS]).unwrap();
        assert_ne!(again.state, req.state);
    }

    #[test]
    fn state_check_refuses_anything_but_an_exact_match() {
        assert!(check_state("abc", "abc").is_ok());
        assert!(matches!(
            check_state("abc", "abd"),
            Err(OAuthError::StateMismatch)
        ));
        assert!(check_state("abc", "abcd").is_err());
        assert!(check_state("", "").is_err());
    }

    #[test]
    fn tokens_debug_never_shows_secrets() {
        let t = Tokens {
            access_token: SecretString::from("ya29.secret"),
            refresh_token: Some(SecretString::from("1//refresh")),
            expires_in: Some(Duration::from_secs(3599)),
            scopes: vec![],
        };
        let d = format!("{t:?}");
        assert!(!d.contains("ya29") && !d.contains("1//"), "{d}");
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            t.expires_at(now).unwrap().to_rfc3339(),
            "2026-01-01T00:59:59+00:00"
        );
    }
}
