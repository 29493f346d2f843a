//! The Google Calendar API v3 client on reqwest: events.list (full and incremental with sync
//! tokens), events.instances, events.get, and the one write we make (PATCH of `description` under
//! `If-Match`, `sendUpdates=none`). Rate limits (403 `rateLimitExceeded`/`userRateLimitExceeded`,
//! 429) and 5xx answers are retried with exponential backoff and jitter, honouring `Retry-After`,
//! a bounded number of times. Errors keep the status, Google's `reason` and a bounded body.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::future::BoxFuture;
use rand::Rng;
use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::model::Etag;

/// Largest response body we read (2500 events with long descriptions stay well below this).
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Google's maximum page size for events.list.
pub(crate) const MAX_PAGE_SIZE: u32 = 2500;
/// Pages we follow in one listing before giving up: a server that keeps sending page tokens must
/// not keep us in an endless loop.
const MAX_PAGES: usize = 1000;
/// How much of an error body an error keeps.
const ERROR_BODY_CHARS: usize = 300;

/// The production API base.
pub const GOOGLE_API_BASE: &str = "https://www.googleapis.com/calendar/v3/";

#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    /// No answer. (`error` is not a `source`: its cause is already in `why`, once.)
    #[error("{method} {url}: {why}")]
    Network {
        method: String,
        url: String,
        why: String,
        error: reqwest::Error,
    },
    #[error("no access token: {0}")]
    Token(#[from] TokenError),
    #[error("{url}: Google refused the access token (HTTP 401)")]
    Unauthorized { url: String },
    /// The sync token is no longer valid (410): wipe this calendar's cache and list in full.
    #[error("calendar {calendar_id}: Google requires a full sync ({reason})")]
    FullSyncRequired { calendar_id: String, reason: String },
    /// `If-Match` did not match (412 `conditionNotMet`): re-read, absorb, retry. After a 5xx
    /// (`after_server_error`: the request was sent again), the first try most likely went
    /// through unanswered (a timeout behind Google's front end): the 412 is our own write.
    #[error("event {event_id}: changed on Google since we read it (HTTP 412)")]
    Conflict {
        event_id: String,
        after_server_error: bool,
    },
    #[error("{url}: not found (HTTP {status})")]
    NotFound { url: String, status: u16 },
    /// Still rate limited after every retry, or told to wait longer than we are willing to.
    #[error("{url}: rate limited by Google ({reason}) after {attempts} attempts")]
    RateLimited {
        url: String,
        reason: String,
        attempts: u32,
        retry_after: Option<Duration>,
    },
    #[error("{method} {url}: HTTP {status} {reason}: {body}")]
    Status {
        method: String,
        url: String,
        status: u16,
        reason: String,
        body: String,
    },
    #[error("{url}: unreadable JSON answer: {source}")]
    Json {
        url: String,
        source: serde_path_to_error::Error<serde_json::Error>,
    },
    #[error("{url}: answer larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: more than {limit} pages; giving up")]
    TooManyPages { url: String, limit: usize },
}

impl GoogleError {
    /// A short, stable name for `/readyz` and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            GoogleError::Network { error, .. } if error.is_timeout() => "timeout",
            GoogleError::Network { .. } => "network",
            GoogleError::Token(TokenError::Revoked(_)) => "revoked",
            GoogleError::Token(_) => "token",
            GoogleError::Unauthorized { .. } => "unauthorized",
            GoogleError::FullSyncRequired { .. } => "full_sync_required",
            GoogleError::Conflict { .. } => "conflict",
            GoogleError::NotFound { .. } => "not_found",
            GoogleError::RateLimited { .. } => "rate_limited",
            GoogleError::Status { reason, .. } if reason == "quotaExceeded" => "quota_exceeded",
            GoogleError::Status { status, .. } if *status >= 500 => "server_error",
            GoogleError::Status { .. } => "http_error",
            GoogleError::Json { .. } => "bad_json",
            GoogleError::TooLarge { .. } => "too_large",
            GoogleError::TooManyPages { .. } => "too_many_pages",
        }
    }
}

pub type Result<T, E = GoogleError> = std::result::Result<T, E>;

/// Why no access token could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The grant is gone (`invalid_grant`): the account must be reconnected; do not retry.
    #[error("the Google grant was revoked or expired; reconnect the account ({0})")]
    Revoked(String),
    /// Anything that may pass (the token endpoint unreachable, a 5xx).
    #[error("{0}")]
    Unavailable(String),
}

/// Where the client gets its bearer token. The OAuth layer implements it with refresh; tests and
/// one-shot tools use [`StaticToken`].
pub trait AccessTokenSource: Send + Sync {
    /// A currently valid access token.
    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, TokenError>>;
    /// Google answered 401 to `token`: the next `access_token` must not return it again.
    fn invalidate(&self, token: &SecretString) -> BoxFuture<'_, ()>;
}

/// A fixed access token (no refresh).
pub struct StaticToken(pub SecretString);

impl AccessTokenSource for StaticToken {
    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, TokenError>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
    fn invalidate(&self, _token: &SecretString) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// How rate limits and server errors are retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff; doubled on each retry.
    pub base_delay: Duration,
    /// No backoff (before jitter) exceeds this.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the call fails with `RateLimited` and
    /// the scheduler's own backoff takes over.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(32),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): `base * 2^retry`, capped, then scaled by a
    /// random factor in [0.5, 1.0] so many clients do not retry in lockstep.
    pub(crate) fn backoff(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(20)));
        let capped = exp.min(self.max_delay);
        capped.mul_f64(rng.random_range(0.5..=1.0))
    }
}

/// A cap on requests per window for one account: Google allows 600 requests per minute per user;
/// staying under it keeps one busy account from drawing 403s for itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestBudget {
    pub max: usize,
    pub per: Duration,
}

impl Default for RequestBudget {
    fn default() -> Self {
        Self {
            max: 500,
            per: Duration::from_secs(60),
        }
    }
}

/// A sliding window of the instants of recent requests.
#[derive(Debug)]
struct Budget {
    limit: RequestBudget,
    sent: std::sync::Mutex<std::collections::VecDeque<tokio::time::Instant>>,
}

impl Budget {
    /// Waits until one more request fits in the window, then records it.
    async fn acquire(&self) {
        loop {
            let wait = {
                let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
                let now = tokio::time::Instant::now();
                while sent.front().is_some_and(|t| now - *t >= self.limit.per) {
                    sent.pop_front();
                }
                if sent.len() < self.limit.max.max(1) {
                    sent.push_back(now);
                    return;
                }
                *sent.front().expect("a full window is not empty") + self.limit.per - now
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// A date or date-time as Google writes it (`EventDateTime`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleDateTime {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// `organizer` / `creator`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GooglePerson {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, rename = "self")]
    pub is_self: bool,
}

/// One entry of `attendees`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleAttendee {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, rename = "self")]
    pub is_self: bool,
    #[serde(default)]
    pub organizer: bool,
    #[serde(default)]
    pub resource: bool,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub response_status: Option<String>,
}

/// The fields of an `Event` resource the product uses. Unknown fields are ignored; every field is
/// optional because cancelled exceptions carry only a handful.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleEvent {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, rename = "iCalUID")]
    pub ical_uid: Option<String>,
    #[serde(default)]
    pub recurring_event_id: Option<String>,
    #[serde(default)]
    pub original_start_time: Option<GoogleDateTime>,
    #[serde(default)]
    pub recurrence: Option<Vec<String>>,
    #[serde(default)]
    pub start: Option<GoogleDateTime>,
    #[serde(default)]
    pub end: Option<GoogleDateTime>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub organizer: Option<GooglePerson>,
    #[serde(default)]
    pub attendees: Option<Vec<GoogleAttendee>>,
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub transparency: Option<String>,
    #[serde(default)]
    pub sequence: Option<i64>,
    #[serde(default)]
    pub updated: Option<String>,
    #[serde(default)]
    pub locked: Option<bool>,
}

impl GoogleEvent {
    pub fn is_cancelled(&self) -> bool {
        self.status.as_deref() == Some("cancelled")
    }

    pub fn etag(&self) -> Option<Etag> {
        self.etag.clone().map(Etag)
    }
}

/// One page of a list answer, which names the next page.
trait Page: serde::de::DeserializeOwned {
    fn next_page_token(&self) -> Option<String>;
}

impl Page for EventsPage {
    fn next_page_token(&self) -> Option<String> {
        self.next_page_token.clone()
    }
}

impl Page for CalendarListPage {
    fn next_page_token(&self) -> Option<String> {
        self.next_page_token.clone()
    }
}

/// One page of `events.list` / `events.instances` (`Events`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventsPage {
    #[serde(default)]
    items: Vec<GoogleEvent>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    next_sync_token: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
}

/// One entry of `calendarList.list`: a calendar the user has in their list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarListEntry {
    pub id: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub summary_override: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub access_role: Option<String>,
}

impl CalendarListEntry {
    /// The name the user sees for it.
    pub(crate) fn name(&self) -> &str {
        self.summary_override
            .as_deref()
            .or(self.summary.as_deref())
            .unwrap_or(&self.id)
    }

    /// Whether we may write descriptions into its events.
    pub(crate) fn writable(&self) -> bool {
        matches!(self.access_role.as_deref(), Some("owner" | "writer"))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CalendarListPage {
    #[serde(default)]
    items: Vec<CalendarListEntry>,
    #[serde(default)]
    next_page_token: Option<String>,
}

/// A push channel Google opened (events.watch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WatchedChannel {
    pub resource_id: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelAnswer {
    #[serde(default)]
    resource_id: Option<String>,
    /// Milliseconds since the epoch, as a string (int64).
    #[serde(default)]
    expiration: Option<String>,
}

/// How `list_events` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncMode {
    /// Everything (masters and exceptions); the last page gives a sync token.
    Full,
    /// Only what changed since the token (deleted events included, as `cancelled`).
    Incremental(String),
}

/// Everything `events.list` returned across its pages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventListing {
    pub events: Vec<GoogleEvent>,
    /// The cursor for the next incremental listing (from the last page).
    pub next_sync_token: Option<String>,
    /// The calendar's own zone (for all-day events).
    pub time_zone: Option<String>,
    /// Pages fetched (one request each).
    pub pages: usize,
}

/// The Google Calendar client of one account.
#[derive(Clone)]
pub struct GoogleClient {
    http: reqwest::Client,
    api_base: Url,
    tokens: Arc<dyn AccessTokenSource>,
    retry: RetryPolicy,
    page_size: u32,
    requests: Arc<AtomicU64>,
    budget: Arc<Budget>,
}

impl std::fmt::Debug for GoogleClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleClient")
            .field("api_base", &self.api_base.as_str())
            .finish_non_exhaustive()
    }
}

/// Google's error envelope: `{"error": {"code", "message", "errors": [{"reason"}]}}`.
#[derive(Debug, Default, Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    error: ErrorBody,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorItem>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorItem {
    #[serde(default)]
    reason: Option<String>,
}

fn error_reason(body: &[u8]) -> String {
    let env: ErrorEnvelope = serde_json::from_slice(body).unwrap_or_default();
    env.error
        .errors
        .into_iter()
        .find_map(|e| e.reason)
        .or(env.error.status)
        .unwrap_or_default()
}

fn retry_after(h: &header::HeaderMap) -> Option<Duration> {
    let v = h.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // The HTTP-date form: a wait relative to the server's own Date header when it sent one.
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    let now = h
        .get(header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&Utc))?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The outcome of one request after retries: status, headers, body.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    /// An earlier try of this request was answered 5xx (it may have acted).
    after_server_error: bool,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl GoogleClient {
    /// A client for the API at `api_base` (normally [`GOOGLE_API_BASE`]; tests pass their own
    /// server's), authenticating with `tokens`. Redirects are never followed: the API does not
    /// redirect, and a redirect elsewhere would carry the bearer token along.
    pub fn new(
        api_base: Url,
        tokens: Arc<dyn AccessTokenSource>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self::with_http(Self::http(timeout)?, api_base, tokens))
    }

    /// The HTTP client `new` builds; a daemon builds one and shares it between accounts
    /// ([`GoogleClient::with_http`]).
    pub(crate) fn http(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(crate::provider::netcheck::GuardedResolver))
            .user_agent(concat!("oneonone/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// A client over a shared HTTP client: one connection pool and TLS setup for every account
    /// instead of one each (a client per account cost about 300 KB and a connection each).
    pub(crate) fn with_http(
        http: reqwest::Client,
        api_base: Url,
        tokens: Arc<dyn AccessTokenSource>,
    ) -> Self {
        let mut api_base = api_base;
        if !api_base.path().ends_with('/') {
            let p = format!("{}/", api_base.path());
            api_base.set_path(&p);
        }
        Self {
            http,
            api_base,
            tokens,
            retry: RetryPolicy::default(),
            page_size: MAX_PAGE_SIZE,
            requests: Arc::new(AtomicU64::new(0)),
            budget: Arc::new(Budget {
                limit: RequestBudget::default(),
                sent: Default::default(),
            }),
        }
    }

    /// Replaces the retry policy (tests use millisecond delays).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the per-account request budget (shared by this client's clones).
    pub fn with_budget(mut self, limit: RequestBudget) -> Self {
        self.budget = Arc::new(Budget {
            limit,
            sent: Default::default(),
        });
        self
    }

    /// Sets `maxResults` for listings (1..=2500; clamped).
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// Requests sent so far by this client (and its clones), retries included.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.api_base.clone();
        {
            let mut s = url
                .path_segments_mut()
                .expect("an http(s) base URL has path segments");
            s.pop_if_empty();
            s.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// One request with retries on rate limits and 5xx, and one token refresh on 401.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        if_match: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer> {
        let redacted = url.path().to_string();
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        let mut after_server_error = false;
        loop {
            let token = self.tokens.access_token().await?;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose_secret());
            if let Some(e) = if_match {
                req = req.header(header::IF_MATCH, e);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            self.budget.acquire().await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let net = |error: reqwest::Error| GoogleError::Network {
                method: method.to_string(),
                url: redacted.clone(),
                why: crate::provider::why_unreachable(&error),
                error,
            };
            let mut resp = req.send().await.map_err(net)?;
            let status = resp.status();
            tracing::debug!(%method, path = %redacted, status = status.as_u16(), attempt,
                "google request");
            metrics::counter!("oneonone_http_requests_total", "provider" => "google",
                "status" => status.as_u16().to_string())
            .increment(1);
            let headers = resp.headers().clone();
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(net)? {
                if bytes.len() + chunk.len() > MAX_BODY {
                    return Err(GoogleError::TooLarge {
                        url: redacted,
                        limit: MAX_BODY,
                    });
                }
                bytes.extend_from_slice(&chunk);
            }
            if status == StatusCode::UNAUTHORIZED {
                if refreshed {
                    return Err(GoogleError::Unauthorized { url: redacted });
                }
                self.tokens.invalidate(&token).await;
                refreshed = true;
                continue;
            }
            let reason = if status.is_success() {
                String::new()
            } else {
                error_reason(&bytes)
            };
            let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::FORBIDDEN
                    && matches!(
                        reason.as_str(),
                        "rateLimitExceeded" | "userRateLimitExceeded"
                    ));
            let retryable = rate_limited || status.is_server_error();
            if !retryable {
                return Ok(Answer {
                    status,
                    body: bytes,
                    after_server_error,
                });
            }
            let told = retry_after(&headers);
            if attempt >= self.retry.max_retries
                || told.is_some_and(|d| d > self.retry.max_retry_after)
            {
                if rate_limited {
                    return Err(GoogleError::RateLimited {
                        url: redacted,
                        reason: if reason.is_empty() {
                            status.as_u16().to_string()
                        } else {
                            reason
                        },
                        attempts: attempt + 1,
                        retry_after: told,
                    });
                }
                return Ok(Answer {
                    status,
                    body: bytes,
                    after_server_error,
                });
            }
            after_server_error |= status.is_server_error();
            // Retry-After is Google telling us exactly when: wait that long, no less.
            let wait = told.unwrap_or_else(|| self.retry.backoff(attempt, &mut rand::rng()));
            tracing::info!(path = %redacted, status = status.as_u16(), reason = %reason,
                wait_ms = wait.as_millis() as u64, "google asked us to slow down; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn status_error(method: &str, url: &Url, answer: &Answer) -> GoogleError {
        let status = answer.status.as_u16();
        let path = url.path().to_string();
        if matches!(status, 404 | 410) {
            return GoogleError::NotFound { url: path, status };
        }
        let text = String::from_utf8_lossy(&answer.body);
        GoogleError::Status {
            method: method.into(),
            url: path,
            status,
            reason: error_reason(&answer.body),
            body: text.chars().take(ERROR_BODY_CHARS).collect(),
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(url: &Url, body: &[u8]) -> Result<T> {
        let de = &mut serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(de).map_err(|source| GoogleError::Json {
            url: url.path().to_string(),
            source,
        })
    }

    /// Follows the pages of a list answer (at most [`MAX_PAGES`]): GETs `path` with `query` and
    /// each next page's token, and hands every page to `take`. A 410 becomes `gone`'s error.
    async fn each_page<P: Page>(
        &self,
        path: &[&str],
        query: &[(&'static str, String)],
        gone: impl Fn(&Url, &Answer) -> GoogleError,
        mut take: impl FnMut(P),
    ) -> Result<()> {
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = query.to_vec();
            if let Some(p) = &page_token {
                q.push(("pageToken", p.clone()));
            }
            let url = self.url(path, &q);
            let answer = self.send(Method::GET, &url, None, None).await?;
            if answer.status == StatusCode::GONE {
                return Err(gone(&url, &answer));
            }
            if !answer.status.is_success() {
                return Err(Self::status_error("GET", &url, &answer));
            }
            let page: P = Self::parse(&url, &answer.body)?;
            let next = page.next_page_token().filter(|p| !p.is_empty());
            take(page);
            match next {
                Some(p) => page_token = Some(p),
                None => return Ok(()),
            }
        }
        Err(GoogleError::TooManyPages {
            url: self.url(path, &[]).path().to_string(),
            limit: MAX_PAGES,
        })
    }

    /// events.list with `singleEvents=false` (masters and exceptions), following every page.
    /// `Incremental` sends only the token (plus the parameters of the full listing, which Google
    /// requires unchanged). 410 becomes [`GoogleError::FullSyncRequired`].
    pub async fn list_events(&self, calendar_id: &str, mode: &SyncMode) -> Result<EventListing> {
        let mut query = vec![
            ("singleEvents", "false".to_string()),
            ("maxResults", self.page_size.to_string()),
        ];
        if let SyncMode::Incremental(token) = mode {
            query.push(("syncToken", token.clone()));
        }
        let mut out = EventListing::default();
        let gone = |_: &Url, answer: &Answer| GoogleError::FullSyncRequired {
            calendar_id: calendar_id.to_string(),
            reason: error_reason(&answer.body),
        };
        self.each_page(
            &["calendars", calendar_id, "events"],
            &query,
            gone,
            |page: EventsPage| {
                out.pages += 1;
                out.events.extend(page.items);
                if out.time_zone.is_none() {
                    out.time_zone = page.time_zone;
                }
                out.next_sync_token = page.next_sync_token;
            },
        )
        .await?;
        Ok(out)
    }

    /// events.instances of one recurring event between `time_min` and `time_max`: each instance
    /// with its own id, etag and `originalStartTime`. Cancelled instances are included
    /// (`showDeleted=true`) so a cancelled meeting is seen as such, not as a missing one.
    pub async fn instances(
        &self,
        calendar_id: &str,
        event_id: &str,
        time_min: DateTime<Utc>,
        time_max: DateTime<Utc>,
    ) -> Result<Vec<GoogleEvent>> {
        let query = [
            ("timeMin", rfc3339(time_min)),
            ("timeMax", rfc3339(time_max)),
            ("showDeleted", "true".to_string()),
            ("maxResults", self.page_size.to_string()),
        ];
        // instances has no sync token: a 410 here means the series is gone.
        let gone = |url: &Url, _: &Answer| GoogleError::NotFound {
            url: url.path().to_string(),
            status: 410,
        };
        let mut out = Vec::new();
        self.each_page(
            &["calendars", calendar_id, "events", event_id, "instances"],
            &query,
            gone,
            |page: EventsPage| out.extend(page.items),
        )
        .await?;
        Ok(out)
    }

    /// calendarList.list: every calendar in the user's list, across pages.
    pub(crate) async fn calendar_list(&self) -> Result<Vec<CalendarListEntry>> {
        let mut out = Vec::new();
        self.each_page(
            &["users", "me", "calendarList"],
            &[("maxResults", "250".to_string())],
            |url: &Url, answer: &Answer| Self::status_error("GET", url, answer),
            |page: CalendarListPage| out.extend(page.items),
        )
        .await?;
        Ok(out)
    }

    /// events.watch: asks Google to POST to `address` whenever the calendar's events change,
    /// with `token` in `X-Goog-Channel-Token`, for about `ttl`. Returns the channel as Google
    /// opened it (its `resourceId` and expiry).
    pub(crate) async fn watch(
        &self,
        calendar_id: &str,
        channel_id: &str,
        address: &str,
        token: &SecretString,
        ttl: Duration,
    ) -> Result<WatchedChannel> {
        let url = self.url(&["calendars", calendar_id, "events", "watch"], &[]);
        let body = serde_json::json!({
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token.expose_secret(),
            "params": {"ttl": ttl.as_secs().to_string()},
        });
        let answer = self.send(Method::POST, &url, None, Some(&body)).await?;
        if !answer.status.is_success() {
            return Err(Self::status_error("POST", &url, &answer));
        }
        let ch: ChannelAnswer = Self::parse(&url, &answer.body)?;
        Ok(WatchedChannel {
            resource_id: ch.resource_id.unwrap_or_default(),
            expires_at: ch
                .expiration
                .and_then(|ms| ms.parse::<i64>().ok())
                .and_then(DateTime::from_timestamp_millis),
        })
    }

    /// channels.stop: Google stops sending notifications on this channel.
    pub(crate) async fn stop_channel(&self, channel_id: &str, resource_id: &str) -> Result<()> {
        let url = self.url(&["channels", "stop"], &[]);
        let body = serde_json::json!({ "id": channel_id, "resourceId": resource_id });
        let answer = self.send(Method::POST, &url, None, Some(&body)).await?;
        if !answer.status.is_success() {
            return Err(Self::status_error("POST", &url, &answer));
        }
        Ok(())
    }

    /// events.get of one event or instance.
    pub async fn get(&self, calendar_id: &str, event_id: &str) -> Result<GoogleEvent> {
        let url = self.url(&["calendars", calendar_id, "events", event_id], &[]);
        let answer = self.send(Method::GET, &url, None, None).await?;
        if !answer.status.is_success() {
            return Err(Self::status_error("GET", &url, &answer));
        }
        Self::parse(&url, &answer.body)
    }

    /// PATCH of `description` alone, only if the event still has `etag`, without mailing the
    /// guests (`sendUpdates=none`). Patching an instance id makes Google create an exception.
    /// Returns the event as Google now has it (its new etag included).
    pub async fn patch_description(
        &self,
        calendar_id: &str,
        event_id: &str,
        etag: &Etag,
        description: &str,
    ) -> Result<GoogleEvent> {
        let url = self.url(
            &["calendars", calendar_id, "events", event_id],
            &[("sendUpdates", "none".to_string())],
        );
        let body = serde_json::json!({ "description": description });
        let answer = self
            .send(Method::PATCH, &url, Some(&etag.0), Some(&body))
            .await?;
        if answer.status == StatusCode::PRECONDITION_FAILED {
            return Err(GoogleError::Conflict {
                event_id: event_id.to_string(),
                after_server_error: answer.after_server_error,
            });
        }
        if !answer.status.is_success() {
            return Err(Self::status_error("PATCH", &url, &answer));
        }
        Self::parse(&url, &answer.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half_to_full() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(1),
        };
        let mut rng = rand::rng();
        for _ in 0..50 {
            let d0 = p.backoff(0, &mut rng);
            assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100));
            let d3 = p.backoff(3, &mut rng);
            assert!(d3 >= Duration::from_millis(400) && d3 <= Duration::from_millis(800));
            let d9 = p.backoff(9, &mut rng);
            assert!(d9 >= Duration::from_millis(500) && d9 <= Duration::from_millis(1000));
        }
        assert!(p.backoff(u32::MAX, &mut rng) <= Duration::from_millis(1000));
    }

    #[test]
    fn error_reason_reads_googles_envelope_and_tolerates_garbage() {
        let body = br#"{"error":{"code":403,"message":"Rate Limit Exceeded","errors":[
            {"domain":"usageLimits","reason":"rateLimitExceeded","message":"Rate Limit Exceeded"}]}}"#;
        assert_eq!(error_reason(body), "rateLimitExceeded");
        assert_eq!(error_reason(b"<html>oops</html>"), "");
        assert_eq!(
            error_reason(br#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}"#),
            "RESOURCE_EXHAUSTED"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut h = header::HeaderMap::new();
        h.insert(header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            header::RETRY_AFTER,
            "Tue, 24 Nov 2026 10:00:30 GMT".parse().unwrap(),
        );
        h.insert(
            header::DATE,
            "Tue, 24 Nov 2026 10:00:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
        h.insert(header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn urls_percent_encode_calendar_and_event_ids() {
        let c = GoogleClient::new(
            Url::parse("http://127.0.0.1:1/calendar/v3").unwrap(),
            Arc::new(StaticToken(SecretString::from("t"))),
            Duration::from_secs(1),
        )
        .unwrap();
        let u = c.url(
            &["calendars", "a b/c@x.org", "events"],
            &[("syncToken", "x&y=z".into())],
        );
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:1/calendar/v3/calendars/a%20b%2Fc@x.org/events?syncToken=x%26y%3Dz"
        );
    }
}
