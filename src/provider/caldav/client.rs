//! The WebDAV/CalDAV protocol layer on reqwest + quick-xml: discovery, calendar listing,
//! sync-collection (RFC 6578), etag listings, multiget, conditional PUT/DELETE, MKCALENDAR.
//! Errors keep the status and the URL, so the sync pass can tell a stale etag from a rejected
//! token from a dead server; of an error's body only a CalDAV error element is shown.
//!
//! Every request goes through [`CalDavClient::send`], which holds the network rules: the account's
//! origin (scheme, host, port) and no other, no forbidden address, no password over plain http
//! off loopback, and (through [`crate::provider::netcheck::GuardedResolver`]) no connection to a
//! name that resolves to a forbidden address. URLs the server hands back are held to the same
//! rules, so a hostile server cannot send our requests (and the password) elsewhere.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::auth;
use super::xml::{self, CALDAV, CS, DAV, Element, Item, XmlError};
use crate::model::Etag;
use crate::provider::netcheck::{self, UrlRefused};

/// Largest response body we read (a calendar export of a busy decade is well below this).
pub(crate) const MAX_BODY: usize = 64 * 1024 * 1024;
/// Hrefs per calendar-multiget request: Radicale answers each in time proportional to the whole
/// collection, so fewer, larger requests import a big calendar faster (scripts/bench).
const MULTIGET_CHUNK: usize = 250;

#[derive(Debug, thiserror::Error)]
pub enum DavError {
    /// No answer. (`error` is not a `source`: its cause is already in `why`, once.)
    #[error("{method} {url}: {why}")]
    Network {
        method: String,
        url: String,
        why: String,
        error: reqwest::Error,
    },
    #[error("{url}: the server refused the user name or password (HTTP {status})")]
    Unauthorized { url: String, status: u16 },
    #[error("{url}: changed on the server since we read it (HTTP 412)")]
    PreconditionFailed { url: String },
    #[error("{url}: the server no longer accepts our sync token")]
    InvalidSyncToken { url: String },
    #[error("{url}: not found (HTTP 404)")]
    NotFound { url: String },
    /// HTTP 403: the password was right, this request is not allowed here (see
    /// `CalDavClient::refusal`).
    /// `condition` is the precondition the server named (`DAV:need-privileges`, a `CALDAV:`
    /// one), `detail` what else its error element said (shown only without a condition).
    #[error("{}", forbidden_message(.method, .url, .user, .condition.as_deref(), .detail))]
    Forbidden {
        method: String,
        url: String,
        user: String,
        condition: Option<String>,
        detail: String,
    },
    /// HTTP 403 with `DAV:supported-report`: the server has no such REPORT on that collection
    /// (the case a fallback to another way of listing hooks into).
    #[error(
        "{url}: the server does not support the {report} report here (HTTP 403, DAV:supported-report)"
    )]
    UnsupportedReport { url: String, report: String },
    /// HTTP 404 (or 405 to a PROPFIND) at a URL that should be a calendar; `found` lists the
    /// calendars discovery found instead, when it looked.
    #[error("{}", not_a_calendar_message(.url, *.status, .found))]
    NotACalendar {
        url: String,
        status: u16,
        found: Vec<String>,
    },
    /// `body` is a short excerpt of a CalDAV error element, or empty (see [`error_excerpt`]).
    #[error("{method} {url}: HTTP {status}{}", excerpt_suffix(.body))]
    Status {
        method: String,
        url: String,
        status: u16,
        body: String,
    },
    /// A network rule refused the URL (before sending, or at connection time).
    /// (`rule` is not a `source`: its text is already in the message, once.)
    #[error("{what}: {rule}")]
    Refused { what: String, rule: UrlRefused },
    /// A redirect to another origin, outside discovery (or one discovery could not follow).
    #[error(
        "{url}: the server redirects to {location}, another host than the account: refused (connect the account with that URL if it is the calendar server)"
    )]
    Redirected { url: String, location: String },
    #[error("{url}: unreadable XML answer: {source}")]
    Xml { url: String, source: XmlError },
    #[error("{url}: answer larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: {reason}")]
    NotCalDav { url: String, reason: String },
}

impl DavError {
    /// A short, stable name for `/readyz` and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            DavError::Network { error, .. } if error.is_timeout() => "timeout",
            DavError::Network { .. } => "network",
            DavError::Unauthorized { .. } => "unauthorized",
            DavError::PreconditionFailed { .. } => "conflict",
            DavError::InvalidSyncToken { .. } => "invalid_sync_token",
            DavError::NotFound { .. } => "not_found",
            DavError::Forbidden { .. } => "forbidden",
            DavError::UnsupportedReport { .. } => "unsupported_report",
            DavError::NotACalendar { .. } => "not_a_calendar",
            DavError::Status { status, .. } if *status >= 500 => "server_error",
            DavError::Status { .. } => "http_error",
            DavError::Xml { .. } => "bad_xml",
            DavError::TooLarge { .. } => "too_large",
            DavError::NotCalDav { .. } => "not_caldav",
            DavError::Refused { .. } | DavError::Redirected { .. } => "refused_url",
        }
    }
}

pub type Result<T, E = DavError> = std::result::Result<T, E>;

/// A calendar collection as the server lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarInfo {
    pub url: Url,
    pub display_name: Option<String>,
    /// Component names the calendar accepts (VEVENT, VTODO...); empty when the server does not say.
    pub components: Vec<String>,
    pub ctag: Option<String>,
    pub sync_token: Option<String>,
    /// Whether its `DAV:supported-report-set` lists sync-collection (None: the server lists
    /// no set).
    pub sync_collection: Option<bool>,
}

impl CalendarInfo {
    pub fn holds_events(&self) -> bool {
        self.components.is_empty() || self.components.iter().any(|c| c == "VEVENT")
    }
}

/// What discovery found behind a URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    /// Where the account is reached: the URL discovery started from, or where a redirect during
    /// discovery led (RFC 6764 `/.well-known/caldav`, or an HTTP redirect). Its origin is the
    /// account's origin: every later request is held to it.
    pub url: Url,
    pub principal: Option<Url>,
    pub home: Option<Url>,
    /// The owner's addresses (`calendar-user-address-set`), `mailto:` stripped.
    pub addresses: Vec<String>,
    pub calendars: Vec<CalendarInfo>,
}

/// Changes reported by sync-collection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncChanges {
    pub token: Option<String>,
    pub changed: Vec<(Url, Option<Etag>)>,
    pub deleted: Vec<Url>,
    /// The server reported 507: more changes remain; ask again with the new token.
    pub truncated: bool,
}

/// A sync-collection answer as received ([`CalDavClient::sync_page`]).
pub struct SyncPage {
    calendar: Url,
    body: Vec<u8>,
}

/// One entry of a sync-collection answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SyncEntry {
    /// The collection itself: a 507 says the answer was cut short (ask on from its token).
    Collection {
        truncated: bool,
    },
    Deleted(Url),
    /// New or changed, with its `calendar-data` when it was asked for and given.
    Changed {
        url: Url,
        etag: Option<Etag>,
        data: Option<Vec<u8>>,
    },
}

impl SyncPage {
    /// A sync-collection answer from its multistatus body (the simulator's server answers so).
    pub(crate) fn from_body(calendar: Url, body: Vec<u8>) -> Self {
        Self { calendar, body }
    }

    /// The entries, read as they are asked for; the token once they have all been read.
    pub(crate) fn entries(&self) -> Result<SyncEntries<'_>> {
        Ok(SyncEntries {
            inner: Responses::new(&self.body).map_err(|e| self.xml_error(e))?,
            page: self,
        })
    }

    fn xml_error(&self, source: XmlError) -> DavError {
        DavError::Xml {
            url: redact(&self.calendar),
            source,
        }
    }
}

pub(crate) struct SyncEntries<'a> {
    inner: Responses<'a>,
    page: &'a SyncPage,
}

impl SyncEntries<'_> {
    pub(crate) fn next_entry(&mut self) -> Result<Option<SyncEntry>> {
        while let Some(r) = self
            .inner
            .next_response()
            .map_err(|e| self.page.xml_error(e))?
        {
            if let Some(entry) = sync_entry(&self.page.calendar, r) {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    /// The new sync token (known once every entry has been read).
    pub(crate) fn token(&self) -> Option<&str> {
        self.inner.sync_token.as_deref()
    }
}

/// What one sync-collection response says; `None` for an href that is not a URL or a response
/// that says nothing usable.
fn sync_entry(calendar: &Url, mut r: MsResponse) -> Option<SyncEntry> {
    let url = resource_url(calendar, &r.href)?;
    if same_path(&url, calendar) {
        return Some(SyncEntry::Collection {
            truncated: r.status == Some(507),
        });
    }
    if r.status == Some(404) {
        return Some(SyncEntry::Deleted(url));
    }
    if !(r.propstats.iter().any(|(s, _)| (200..300).contains(s))
        || r.status.is_some_and(|s| s < 300))
    {
        return None;
    }
    let etag = r.etag();
    let data = r
        .take_prop(CALDAV, "calendar-data")
        .map(|d| d.text)
        .filter(|text| !text.trim().is_empty())
        .map(String::into_bytes);
    Some(SyncEntry::Changed { url, etag, data })
}

/// A fetched calendar resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub url: Url,
    pub etag: Option<Etag>,
    pub body: Vec<u8>,
}

/// The condition a write is made under.
#[derive(Debug, Clone, PartialEq)]
pub enum Precondition {
    /// Create only: `If-None-Match: *`.
    Create,
    /// Replace only the version we read: `If-Match`.
    Match(Etag),
}

#[derive(Clone)]
pub struct CalDavClient {
    http: reqwest::Client,
    username: String,
    password: SecretString,
    requests: Arc<AtomicU64>,
    /// Answers larger than this are refused (`network.max_response_bytes`).
    max_body: usize,
    /// The account's URL: every request must be on its origin. Set by [`CalDavClient::for_account`];
    /// moved only by a redirect during discovery that passes the rules (shared by clones, so
    /// the client that discovered is the client that goes on).
    origin: Arc<RwLock<Option<Url>>>,
    /// `network.allow_http`: the password may go over plain http off loopback.
    allow_http: bool,
    /// Basic, or the Digest challenge being answered (shared by clones: a nonce is reused).
    auth: auth::Shared,
}

impl std::fmt::Debug for CalDavClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalDavClient")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

fn redact(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}

impl CalDavClient {
    pub fn new(
        username: &str,
        password: SecretString,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        // Redirects are followed here only on the same origin (scheme, host, port: the one
        // `send` checked); another origin comes back to `send` as a 3xx, which only discovery
        // may follow, after checking it.
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            let same_origin = attempt
                .previous()
                .last()
                .is_some_and(|last| last.origin() == attempt.url().origin());
            if attempt.previous().len() >= 5 || !same_origin {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(policy)
            .dns_resolver(Arc::new(netcheck::GuardedResolver))
            .user_agent(concat!("oneonone/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            username: username.to_string(),
            password,
            requests: Arc::new(AtomicU64::new(0)),
            max_body: MAX_BODY,
            origin: Arc::new(RwLock::new(None)),
            allow_http: false,
            auth: Arc::new(Mutex::new(auth::Auth::Basic)),
        })
    }

    /// Holds every request to the origin of `account_url` (the account's URL as connected), and
    /// allows plain http off loopback only with `allow_http` (`network.allow_http`). The daemon
    /// builds every client this way; without it (tests setting up a server) only the address
    /// and plain-http rules hold.
    pub fn for_account(mut self, account_url: &Url, allow_http: bool) -> Self {
        self.origin = Arc::new(RwLock::new(Some(account_url.clone())));
        self.allow_http = allow_http;
        self
    }

    /// The account URL requests are held to, when there is one.
    fn account(&self) -> Option<Url> {
        self.origin.read().map_or(None, |o| o.clone())
    }

    /// The rules a request to `url` must pass before it is sent.
    fn check_target(&self, method: &Method, url: &Url) -> Result<()> {
        let refused = |rule| DavError::Refused {
            what: format!("{method} not sent"),
            rule,
        };
        netcheck::check_static(url, self.allow_http).map_err(refused)?;
        if let Some(account) = self.account() {
            netcheck::check_same_origin(&account, url).map_err(refused)?;
        }
        Ok(())
    }

    /// Authenticates as `auth` says, and keeps there what the server asks for (see
    /// [`auth::Remembered`]).
    pub(crate) fn with_auth(mut self, auth: auth::Shared) -> Self {
        self.auth = auth;
        self
    }

    /// Refuses answers larger than `bytes` (instead of the default 64 MiB).
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Requests sent so far by this client (and its clones): the idle-cost measure.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends one request, authenticated as the server asks: on a 401 whose challenge calls for
    /// another scheme (Digest) or a new nonce, once more with it. Only a 401 to the right
    /// scheme is [`DavError::Unauthorized`].
    async fn send(
        &self,
        method: Method,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, header::HeaderMap, Vec<u8>)> {
        self.check_target(&method, url)?;
        let body = body.map(bytes::Bytes::from);
        let mut retried = false;
        loop {
            let sent = self.lock_auth().clone();
            let (status, answer, text) =
                self.send_once(&method, url, headers, body.clone()).await?;
            if status != StatusCode::UNAUTHORIZED {
                return Ok((status, answer, text));
            }
            let offered = auth::Offered::from_headers(
                answer
                    .get_all(header::WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok()),
            );
            match sent.after_401(offered, url.scheme() == "https") {
                Some(next) if !retried => {
                    *self.lock_auth() = next;
                    retried = true;
                }
                _ => {
                    return Err(DavError::Unauthorized {
                        url: redact(url),
                        status: status.as_u16(),
                    });
                }
            }
        }
    }

    fn lock_auth(&self) -> std::sync::MutexGuard<'_, auth::Auth> {
        self.auth
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One request with the current authentication, its answer read whole (a 401 too).
    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<bytes::Bytes>,
    ) -> Result<(StatusCode, header::HeaderMap, Vec<u8>)> {
        let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let cnonce = hex::encode(rand::random::<[u8; 16]>());
        let authorization = self.lock_auth().header(
            &self.username,
            self.password.expose_secret(),
            method.as_str(),
            target,
            &cnonce,
        );
        let mut authorization = header::HeaderValue::from_str(&authorization).map_err(|_| {
            DavError::NotCalDav {
                url: redact(url),
                reason: "the user name or the server's challenge holds characters an HTTP header cannot carry".into(),
            }
        })?;
        authorization.set_sensitive(true);
        let mut req = self
            .http
            .request(method.clone(), url.clone())
            .header(header::AUTHORIZATION, authorization);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let net = |source: reqwest::Error| match netcheck::refusal_in(&source) {
            // Refused at connection time (the name resolves to a forbidden address).
            Some(rule) => DavError::Refused {
                what: format!("{method} {} not sent", redact(url)),
                rule: rule.clone(),
            },
            None => DavError::Network {
                method: method.to_string(),
                url: redact(url),
                why: crate::provider::why_unreachable(&source),
                error: source,
            },
        };
        let sent = req.send().await;
        metrics::histogram!("oneonone_http_request_duration_seconds", "provider" => "caldav")
            .record(started.elapsed().as_secs_f64());
        let mut resp = sent.map_err(net)?;
        let status = resp.status();
        tracing::debug!(%method, url = %redact(url), status = status.as_u16(), "caldav request");
        metrics::counter!("oneonone_http_requests_total", "provider" => "caldav",
            "status" => status.as_u16().to_string())
        .increment(1);
        let headers = resp.headers().clone();
        if status.is_redirection() {
            // The redirect policy stopped here: another origin (or too many hops). Its body is
            // not read: nothing of it reaches an error.
            let location = headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| url.join(l).ok());
            if let Some(location) = location {
                if location.origin() == url.origin() {
                    return Err(DavError::NotCalDav {
                        url: redact(url),
                        reason: "too many redirects".into(),
                    });
                }
                return Err(DavError::Redirected {
                    url: redact(url),
                    location: redact(&location),
                });
            }
        }
        let too_large = || DavError::TooLarge {
            url: redact(url),
            limit: self.max_body,
        };
        // A declared length over the limit is refused before anything is read.
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(too_large());
        }
        // Sized from the declared length (already checked against the limit): a large answer
        // is not grown and copied a doubling at a time.
        let mut body = Vec::with_capacity(resp.content_length().map_or(0, |n| n as usize));
        while let Some(chunk) = resp.chunk().await.map_err(net)? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, body))
    }

    /// What an error answer (anything but 401, which [`Self::send`] answers) to `asked` at
    /// `url` means: the one place refusals are classified. A 403 is never the password: a
    /// precondition the server names, or a collection this user may not use; a 404 (or a 405
    /// to a PROPFIND) where a calendar was expected is no calendar there.
    fn refusal(&self, asked: Asked<'_>, url: &Url, status: StatusCode, body: &[u8]) -> DavError {
        let at = redact(url);
        if asked.report == Some("sync-collection") && is_invalid_token(status, body) {
            return DavError::InvalidSyncToken { url: at };
        }
        match status.as_u16() {
            403 => {
                let (condition, detail) = dav_condition(body);
                if let (Some("DAV:supported-report"), Some(report)) =
                    (condition.as_deref(), asked.report)
                {
                    return DavError::UnsupportedReport {
                        url: at,
                        report: report.into(),
                    };
                }
                DavError::Forbidden {
                    method: asked.method.into(),
                    url: at,
                    user: self.username.clone(),
                    condition,
                    detail,
                }
            }
            404 if asked.calendar => DavError::NotACalendar {
                url: at,
                status: 404,
                found: vec![],
            },
            405 if asked.calendar && asked.method == "PROPFIND" => DavError::NotACalendar {
                url: at,
                status: 405,
                found: vec![],
            },
            404 => DavError::NotFound { url: at },
            412 => DavError::PreconditionFailed { url: at },
            code => DavError::Status {
                method: asked.method.into(),
                url: at,
                status: code,
                body: error_excerpt(body),
            },
        }
    }

    /// [`Self::refusal`] of a request to one resource (GET, PUT, DELETE, MKCALENDAR).
    fn status_error(&self, method: &str, url: &Url, status: StatusCode, body: &[u8]) -> DavError {
        self.refusal(Asked::resource(method), url, status, body)
    }

    async fn dav_request(
        &self,
        asked: Asked<'_>,
        url: &Url,
        depth: &str,
        body: String,
    ) -> Result<Multistatus> {
        let body = self.dav_body(asked, url, depth, body).await?;
        Multistatus::parse(&body).map_err(|source| DavError::Xml {
            url: redact(url),
            source,
        })
    }

    /// A WebDAV request answered 207: the multistatus body, not yet read.
    async fn dav_body(
        &self,
        asked: Asked<'_>,
        url: &Url,
        depth: &str,
        body: String,
    ) -> Result<Vec<u8>> {
        let m = Method::from_bytes(asked.method.as_bytes()).expect("a valid method name");
        let headers = [
            ("Depth", depth.to_string()),
            ("Content-Type", "application/xml; charset=utf-8".to_string()),
        ];
        let (status, _, body) = self.send(m, url, &headers, Some(body.into_bytes())).await?;
        if status != StatusCode::MULTI_STATUS {
            return Err(self.refusal(asked, url, status, &body));
        }
        Ok(body)
    }

    /// PROPFIND with the given properties (`(namespace, name)`), at `depth`.
    pub async fn propfind(
        &self,
        url: &Url,
        depth: &str,
        props: &[(&str, &str)],
    ) -> Result<Multistatus> {
        self.dav_request(
            Asked::resource("PROPFIND"),
            url,
            depth,
            propfind_body(props),
        )
        .await
    }

    /// PROPFIND of a calendar: a 404 or 405 says there is none there.
    async fn propfind_calendar(
        &self,
        url: &Url,
        depth: &str,
        props: &[(&str, &str)],
    ) -> Result<Multistatus> {
        let asked = Asked {
            calendar: true,
            ..Asked::resource("PROPFIND")
        };
        self.dav_request(asked, url, depth, propfind_body(props))
            .await
    }

    /// Finds the calendars behind `start`: a calendar URL itself, or a server/principal URL
    /// (current-user-principal, then calendar-home-set, with `/.well-known/caldav` as fallback).
    /// A redirect to another origin is followed here only (RFC 6764), when its target passes the
    /// rules; the account's origin becomes the target's ([`Discovery::url`]). The principal and
    /// home set the server names must be on the account's origin.
    ///
    /// A URL with a path that is not there (404) is refused naming the calendars the server has
    /// (found from `/.well-known/caldav`): a mistyped calendar path does not connect them all.
    pub async fn discover(&self, start: &Url) -> Result<Discovery> {
        let probe = self
            .probe(
                start,
                &[(DAV, "resourcetype"), (DAV, "current-user-principal")],
            )
            .await;
        let missing = matches!(probe, Err(DavError::NotFound { .. })) && start.path() != "/";
        let found = self.discover_from(start, probe).await?;
        if missing {
            return Err(DavError::NotACalendar {
                url: redact(start),
                status: 404,
                found: found
                    .calendars
                    .iter()
                    .filter(|c| c.holds_events())
                    .map(|c| {
                        format!(
                            "{:?} <{}>",
                            c.display_name.as_deref().unwrap_or(""),
                            redact(&c.url)
                        )
                    })
                    .collect(),
            });
        }
        Ok(found)
    }

    /// Discovery on from the first probe of `start`.
    async fn discover_from(
        &self,
        start: &Url,
        probe: Result<(Multistatus, Url)>,
    ) -> Result<Discovery> {
        let (probe, base) = match probe {
            Ok(found) => found,
            Err(first @ (DavError::NotFound { .. } | DavError::Status { .. })) => {
                let wk = start.join("/.well-known/caldav").expect("a valid path");
                match self.probe(&wk, &[(DAV, "current-user-principal")]).await {
                    Ok(found) => found,
                    // Neither the URL nor the well-known address takes a PROPFIND: a web
                    // server (a provider's web page, a proxy's welcome page), not CalDAV.
                    Err(DavError::NotFound { .. } | DavError::Status { .. })
                        if matches!(
                            first,
                            DavError::Status {
                                status: 400 | 405 | 501,
                                ..
                            }
                        ) =>
                    {
                        let DavError::Status { status, .. } = first else {
                            unreachable!("matched above")
                        };
                        return Err(DavError::NotCalDav {
                            url: redact(start),
                            reason: format!(
                                "this is not a CalDAV server (it refuses CalDAV requests with \
                                 HTTP {status}): use your provider's CalDAV address, not its \
                                 web page"
                            ),
                        });
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let reached = self.account().unwrap_or_else(|| base.clone());
        let me = probe.responses.first();
        if me.is_some_and(|r| r.is_calendar()) {
            let cal = self.calendar_info(&base).await?;
            return Ok(Discovery {
                url: base,
                principal: None,
                home: None,
                addresses: vec![],
                calendars: vec![cal],
            });
        }
        let principal = me
            .and_then(|r| r.prop(DAV, "current-user-principal"))
            .and_then(|p| p.child(DAV, "href"))
            .and_then(|h| base.join(h.trimmed()).ok())
            .ok_or_else(|| DavError::NotCalDav {
                url: redact(start),
                reason: "neither a calendar nor a CalDAV server (no current-user-principal)".into(),
            })?;
        netcheck::check_same_origin(&reached, &principal).map_err(|rule| DavError::Refused {
            what: "the server's current-user-principal".into(),
            rule,
        })?;
        let p = self
            .propfind(
                &principal,
                "0",
                &[
                    (CALDAV, "calendar-home-set"),
                    (CALDAV, "calendar-user-address-set"),
                ],
            )
            .await?;
        let pr = p.responses.first();
        let home = pr
            .and_then(|r| r.prop(CALDAV, "calendar-home-set"))
            .and_then(|p| p.child(DAV, "href"))
            .and_then(|h| principal.join(h.trimmed()).ok())
            .ok_or_else(|| DavError::NotCalDav {
                url: redact(&principal),
                reason: "the principal has no calendar-home-set".into(),
            })?;
        netcheck::check_same_origin(&reached, &home).map_err(|rule| DavError::Refused {
            what: "the server's calendar-home-set".into(),
            rule,
        })?;
        let addresses = pr
            .and_then(|r| r.prop(CALDAV, "calendar-user-address-set"))
            .map(|set| {
                set.children_named(DAV, "href")
                    .filter_map(|h| {
                        let t = h.trimmed();
                        let lower = t.to_ascii_lowercase();
                        lower.strip_prefix("mailto:").map(|_| t[7..].to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let calendars = self.list_calendars(&home).await?;
        Ok(Discovery {
            url: reached,
            principal: Some(principal),
            home: Some(home),
            addresses,
            calendars,
        })
    }

    /// A depth-0 PROPFIND of a discovery step, following up to three redirects to another
    /// origin that pass the rules (each moves the account's origin); the answer and the URL
    /// that gave it.
    async fn probe(&self, url: &Url, props: &[(&str, &str)]) -> Result<(Multistatus, Url)> {
        let mut at = url.clone();
        for _ in 0..3 {
            match self.propfind(&at, "0", props).await {
                Err(DavError::Redirected { location, .. }) => {
                    let to = Url::parse(&location).map_err(|_| DavError::NotCalDav {
                        url: redact(&at),
                        reason: format!("redirects to {location:?}, which is not a URL"),
                    })?;
                    let refused = |rule| DavError::Refused {
                        what: format!("the redirect from {}", redact(&at)),
                        rule,
                    };
                    netcheck::check_static(&to, self.allow_http).map_err(refused)?;
                    netcheck::check_redirect(&at, &to).await.map_err(refused)?;
                    tracing::info!(from = %redact(&at), to = %location, "discovery follows a redirect to another host");
                    if let Ok(mut origin) = self.origin.write()
                        && origin.is_some()
                    {
                        *origin = Some(to.clone());
                    }
                    at = to;
                }
                other => return other.map(|ms| (ms, at)),
            }
        }
        Err(DavError::NotCalDav {
            url: redact(url),
            reason: "too many redirects to other hosts".into(),
        })
    }

    const CALENDAR_PROPS: [(&'static str, &'static str); 6] = [
        (DAV, "supported-report-set"),
        (DAV, "resourcetype"),
        (DAV, "displayname"),
        (CALDAV, "supported-calendar-component-set"),
        (CS, "getctag"),
        (DAV, "sync-token"),
    ];

    /// The calendars in a calendar home.
    pub(crate) async fn list_calendars(&self, home: &Url) -> Result<Vec<CalendarInfo>> {
        let ms = self.propfind(home, "1", &Self::CALENDAR_PROPS).await?;
        Ok(ms
            .responses
            .iter()
            .filter(|r| r.is_calendar())
            .filter_map(|r| {
                let info = r.calendar_info(home);
                // On the home's origin only (the home set is on the account's).
                resource_url(home, &r.href).map(|_| info)
            })
            .collect())
    }

    /// One calendar's properties (ctag and sync token: the cheap "anything new?" question).
    pub(crate) async fn calendar_info(&self, url: &Url) -> Result<CalendarInfo> {
        let ms = self
            .propfind_calendar(url, "0", &Self::CALENDAR_PROPS)
            .await?;
        let r = ms.responses.first().ok_or_else(|| DavError::NotCalDav {
            url: redact(url),
            reason: "empty PROPFIND answer".into(),
        })?;
        if !r.is_calendar() {
            return Err(DavError::NotCalDav {
                url: redact(url),
                reason: "not a calendar collection".into(),
            });
        }
        let mut info = r.calendar_info(url);
        info.url = url.clone();
        Ok(info)
    }

    /// RFC 6578 sync-collection: what changed since `token` (None: everything).
    pub async fn sync_collection(
        &self,
        calendar: &Url,
        token: Option<&str>,
    ) -> Result<SyncChanges> {
        let page = self.sync_page(calendar, token, false).await?;
        let mut entries = page.entries()?;
        let mut changes = SyncChanges::default();
        while let Some(entry) = entries.next_entry()? {
            match entry {
                SyncEntry::Collection { truncated } => changes.truncated |= truncated,
                SyncEntry::Deleted(url) => changes.deleted.push(url),
                SyncEntry::Changed { url, etag, .. } => changes.changed.push((url, etag)),
            }
        }
        changes.token = entries.token().map(str::to_string);
        Ok(changes)
    }

    /// A sync-collection answer to read entry by entry. With `with_data` it asks for each
    /// resource's `calendar-data` too (RFC 6578 allows any property), which saves the listing
    /// and the multigets of a first import; an entry the server gives no data for is fetched
    /// the usual way.
    pub(crate) async fn sync_page(
        &self,
        calendar: &Url,
        token: Option<&str>,
        with_data: bool,
    ) -> Result<SyncPage> {
        let (decl, data) = match with_data {
            true => (format!(" xmlns:C=\"{CALDAV}\""), "<C:calendar-data/>"),
            false => (String::new(), ""),
        };
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:sync-collection xmlns:D=\"DAV:\"{decl}>\
             <D:sync-token>{}</D:sync-token><D:sync-level>1</D:sync-level>\
             <D:prop><D:getetag/>{data}</D:prop></D:sync-collection>",
            escape(token.unwrap_or(""))
        );
        let body = self
            .dav_body(Asked::report("sync-collection"), calendar, "0", body)
            .await?;
        Ok(SyncPage {
            calendar: calendar.clone(),
            body,
        })
    }

    /// Every resource of a calendar with its etag (the fallback where sync-collection is missing).
    pub async fn list_etags(&self, calendar: &Url) -> Result<Vec<(Url, Etag)>> {
        let ms = self
            .propfind_calendar(calendar, "1", &[(DAV, "getetag"), (DAV, "resourcetype")])
            .await?;
        Ok(ms
            .responses
            .iter()
            .filter_map(|r| {
                let url = resource_url(calendar, &r.href)?;
                (!same_path(&url, calendar) && !r.is_collection()).then_some(())?;
                Some((url, r.etag()?))
            })
            .collect())
    }

    /// calendar-multiget of the given resources (in chunks), with their data and etags.
    pub async fn multiget(&self, calendar: &Url, urls: &[Url]) -> Result<Vec<Resource>> {
        let mut out = Vec::with_capacity(urls.len());
        for chunk in urls.chunks(MULTIGET_CHUNK) {
            let hrefs: String = chunk
                .iter()
                .map(|u| format!("<D:href>{}</D:href>", escape(u.path())))
                .collect();
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:calendar-multiget xmlns:D=\"DAV:\" \
                 xmlns:C=\"{CALDAV}\"><D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}\
                 </C:calendar-multiget>"
            );
            let ms = self
                .dav_request(Asked::report("calendar-multiget"), calendar, "1", body)
                .await?;
            for mut r in ms.responses {
                let etag = r.etag();
                let Some(data) = r.take_prop(CALDAV, "calendar-data") else {
                    continue;
                };
                let Some(url) = resource_url(calendar, &r.href) else {
                    continue;
                };
                out.push(Resource {
                    url,
                    etag,
                    body: data.text.into_bytes(),
                });
            }
        }
        Ok(out)
    }

    /// GET one resource with its etag.
    pub async fn get(&self, url: &Url) -> Result<Resource> {
        let (status, headers, body) = self.send(Method::GET, url, &[], None).await?;
        if !status.is_success() {
            return Err(self.status_error("GET", url, status, &body));
        }
        Ok(Resource {
            url: url.clone(),
            etag: etag_header(&headers),
            body,
        })
    }

    /// The current etag of one resource (after a PUT that did not return one).
    pub async fn etag(&self, url: &Url) -> Result<Option<Etag>> {
        let ms = self.propfind(url, "0", &[(DAV, "getetag")]).await?;
        Ok(ms.responses.first().and_then(MsResponse::etag))
    }

    /// PUT under a precondition. Returns the new etag when the server sends one (Cyrus never
    /// does; DAViCal only when it stored the body unchanged). Without one, the caller must not
    /// pair our body with an etag read later: someone may have written in between, and the
    /// server may have rewritten what we sent. Caching "no etag" makes the next pass re-read it.
    pub async fn put(&self, url: &Url, body: Vec<u8>, pre: &Precondition) -> Result<Option<Etag>> {
        let cond = match pre {
            Precondition::Create => ("If-None-Match", "*".to_string()),
            Precondition::Match(e) => ("If-Match", e.0.clone()),
        };
        let headers = [
            cond,
            ("Content-Type", "text/calendar; charset=utf-8".to_string()),
        ];
        let (status, h, resp) = self.send(Method::PUT, url, &headers, Some(body)).await?;
        if !status.is_success() {
            return Err(self.status_error("PUT", url, status, &resp));
        }
        Ok(etag_header(&h))
    }

    /// PUT under a precondition, then what the server now holds with its etag: our body with the
    /// etag the PUT answered, or (when it answered none, as Cyrus does) a GET of the resource, so
    /// body and etag always belong together.
    pub(crate) async fn put_and_read(
        &self,
        url: &Url,
        body: Vec<u8>,
        pre: &Precondition,
    ) -> Result<Resource> {
        match self.put(url, body.clone(), pre).await? {
            Some(etag) => Ok(Resource {
                url: url.clone(),
                etag: Some(etag),
                body,
            }),
            None => self.get(url).await,
        }
    }

    /// DELETE under `If-Match`.
    pub async fn delete(&self, url: &Url, etag: &Etag) -> Result<()> {
        let (status, _, body) = self
            .send(Method::DELETE, url, &[("If-Match", etag.0.clone())], None)
            .await?;
        if !status.is_success() {
            return Err(self.status_error("DELETE", url, status, &body));
        }
        Ok(())
    }

    /// MKCALENDAR (used by tests and the demo to set up a calendar).
    pub async fn mkcalendar(&self, url: &Url, display_name: &str) -> Result<()> {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<C:mkcalendar xmlns:D=\"DAV:\" xmlns:C=\"{CALDAV}\">\
             <D:set><D:prop><D:displayname>{}</D:displayname>\
             <C:supported-calendar-component-set><C:comp name=\"VEVENT\"/></C:supported-calendar-component-set>\
             </D:prop></D:set></C:mkcalendar>",
            escape(display_name)
        );
        let m = Method::from_bytes(b"MKCALENDAR").expect("a valid method name");
        let headers = [("Content-Type", "application/xml; charset=utf-8".to_string())];
        let (status, _, resp) = self.send(m, url, &headers, Some(body.into_bytes())).await?;
        if !status.is_success() {
            return Err(self.status_error("MKCALENDAR", url, status, &resp));
        }
        Ok(())
    }
}

/// What a request asked, for [`CalDavClient::refusal`].
#[derive(Debug, Clone, Copy)]
struct Asked<'a> {
    method: &'a str,
    /// The REPORT's name (`sync-collection`, `calendar-multiget`).
    report: Option<&'a str>,
    /// Addressed to a calendar collection: a 404 there means no calendar.
    calendar: bool,
}

impl<'a> Asked<'a> {
    fn resource(method: &'a str) -> Self {
        Self {
            method,
            report: None,
            calendar: false,
        }
    }

    /// A REPORT, always addressed to a calendar.
    fn report(name: &'a str) -> Self {
        Self {
            method: "REPORT",
            report: Some(name),
            calendar: true,
        }
    }
}

/// The precondition a `DAV:error` body names (`DAV:need-privileges`,
/// `CALDAV:supported-calendar-data`: its first element in the DAV or CalDAV namespace), and
/// what else it says, as [`error_excerpt`] shows it.
fn dav_condition(body: &[u8]) -> (Option<String>, String) {
    let condition = (body.len() <= 16 * 1024)
        .then(|| xml::parse_keeping_every_element(body).ok())
        .flatten()
        .filter(|root| root.is(DAV, "error"))
        .and_then(|root| {
            root.children.iter().find_map(|c| match c.ns.as_ref() {
                DAV => Some(format!("DAV:{}", c.name)),
                CALDAV => Some(format!("CALDAV:{}", c.name)),
                _ => None,
            })
        });
    (condition, error_excerpt(body))
}

/// A 403's message: the URL, what the user may not do there, the condition the server named,
/// and where to look, once.
fn forbidden_message(
    method: &str,
    url: &str,
    user: &str,
    condition: Option<&str>,
    detail: &str,
) -> String {
    let why = match (condition, detail) {
        (Some(c), _) => format!("HTTP 403, {c}"),
        (None, "") => "HTTP 403".to_string(),
        (None, d) => format!("HTTP 403; the server says: {d}"),
    };
    let reads = matches!(method, "GET" | "PROPFIND" | "REPORT");
    match condition {
        None | Some("DAV:need-privileges") if reads => format!(
            "{url}: the server does not let {user} read this collection ({why}): check the \
             calendar path in the URL, or ask the calendar's owner to share it with {user}"
        ),
        None | Some("DAV:need-privileges") => format!(
            "{method} {url}: the server does not let {user} change this ({why}): ask the \
             calendar's owner for write access, or check the calendar path"
        ),
        Some(_) => format!(
            "{method} {url}: the server refuses it ({why}): the server's documentation of that \
             condition says what it requires"
        ),
    }
}

/// The message of [`DavError::NotACalendar`]: with the calendars found elsewhere on the
/// server, pick one of them; else connect at the server's address.
fn not_a_calendar_message(url: &str, status: u16, found: &[String]) -> String {
    match found {
        [] => format!(
            "{url}: there is no calendar at this address (HTTP {status}): connect again with the \
             server's address, without the calendar path, and pick from the calendars it lists"
        ),
        found => format!(
            "{url}: there is no calendar at this address (HTTP {status}); the server has {}: \
             connect with one of these URLs (or with the server's address for all of them)",
            found.join(", ")
        ),
    }
}

/// 403/409 with a `valid-sync-token` precondition, or a 412 (Xandikos), on a sync REPORT.
fn is_invalid_token(status: StatusCode, body: &[u8]) -> bool {
    match status {
        StatusCode::PRECONDITION_FAILED => true,
        StatusCode::FORBIDDEN | StatusCode::CONFLICT => {
            String::from_utf8_lossy(body).contains("valid-sync-token")
        }
        _ => false,
    }
}

fn etag_header(h: &header::HeaderMap) -> Option<Etag> {
    h.get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(|s| Etag(s.to_string()))
}

/// The URL an href of a multistatus answer names, when it is one and on the collection's origin
/// (the collection itself was held to the account's). Another origin is refused with a warning
/// naming the href and the rule, and the answer's other entries go on.
fn resource_url(collection: &Url, href: &str) -> Option<Url> {
    let url = collection.join(href).ok()?;
    match netcheck::check_same_origin(collection, &url) {
        Ok(()) => Some(url),
        Err(rule) => {
            tracing::warn!(collection = %redact(collection), href = ?href, error = %rule, "href refused and skipped");
            None
        }
    }
}

/// At most this many characters of a server's error element reach an error message.
const EXCERPT_CHARS: usize = 120;

/// What of an error answer's body may be shown to a user: for a WebDAV/CalDAV error body
/// (`DAV:error`, RFC 4918 16), the names of its precondition elements and their text, without
/// control characters, cut to [`EXCERPT_CHARS`]; for anything else, nothing (a page from a
/// proxy, a metadata service or anything a hostile server sends is not echoed).
pub(crate) fn error_excerpt(body: &[u8]) -> String {
    // A real DAV:error is a few hundred bytes; a larger answer is not read at all.
    if body.len() > 16 * 1024 {
        return String::new();
    }
    let Ok(root) = xml::parse_keeping_every_element(body) else {
        return String::new();
    };
    if !root.is(DAV, "error") {
        return String::new();
    }
    let parts: Vec<String> = root
        .children
        .iter()
        .map(|c| {
            let text = c.trimmed();
            match text.is_empty() {
                true => c.name.to_string(),
                false => format!("{}: {text}", c.name),
            }
        })
        .collect();
    let joined = parts.join("; ");
    let clean: String = joined
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match clean.chars().count() > EXCERPT_CHARS {
        true => format!(
            "{}...",
            clean.chars().take(EXCERPT_CHARS).collect::<String>()
        ),
        false => clean,
    }
}

fn excerpt_suffix(body: &str) -> String {
    match body {
        "" => String::new(),
        b => format!(" ({b})"),
    }
}

fn same_path(a: &Url, b: &Url) -> bool {
    a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
}

fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

fn propfind_body(props: &[(&str, &str)]) -> String {
    let mut namespaces: Vec<&str> = props.iter().map(|(ns, _)| *ns).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let prefix = |ns: &str| format!("n{}", namespaces.iter().position(|n| *n == ns).unwrap_or(0));
    let decls: String = namespaces
        .iter()
        .map(|ns| format!(" xmlns:{}=\"{}\"", prefix(ns), ns))
        .collect();
    let items: String = props
        .iter()
        .map(|(ns, name)| format!("<{}:{name}/>", prefix(ns)))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propfind xmlns:D=\"DAV:\"{decls}><D:prop>{items}</D:prop></D:propfind>"
    )
}

/// A parsed `multistatus`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Multistatus {
    pub responses: Vec<MsResponse>,
    pub sync_token: Option<String>,
}

/// One `response`: its href, an overall status (when given), and each propstat's status + props.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MsResponse {
    pub href: String,
    pub status: Option<u16>,
    pub propstats: Vec<(u16, Element)>,
}

fn status_code(line: &str) -> Option<u16> {
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A `multistatus` answer read one `response` at a time, so a caller can act on each (and drop
/// it) before the next is read. The `sync-token` is known once every response has been read.
pub(crate) struct Responses<'a> {
    r: xml::Reader<'a>,
    done: bool,
    pub sync_token: Option<String>,
}

impl<'a> Responses<'a> {
    pub(crate) fn new(body: &'a [u8]) -> Result<Self, XmlError> {
        let mut r = xml::Reader::new(body);
        let done = match r.next(None)? {
            Item::Start(tag) if tag.is(DAV, "multistatus") => false,
            Item::Empty(tag) if tag.is(DAV, "multistatus") => true,
            Item::Start(tag) | Item::Empty(tag) => return Err(unexpected(&tag)),
            Item::End | Item::Eof => return Err(malformed(&r, "no root element")),
        };
        let mut stream = Self {
            r,
            done,
            sync_token: None,
        };
        if done {
            stream.end()?;
        }
        Ok(stream)
    }

    /// The next `response` with an href; `None` once the root element has ended (and nothing
    /// follows it).
    pub(crate) fn next_response(&mut self) -> Result<Option<MsResponse>, XmlError> {
        while !self.done {
            match self.r.next(None)? {
                Item::Start(tag) if tag.is(DAV, "response") => {
                    if let Some(resp) = Multistatus::response(&mut self.r)? {
                        return Ok(Some(resp));
                    }
                }
                Item::Start(tag) if tag.is(DAV, "sync-token") && self.sync_token.is_none() => {
                    self.sync_token = Some(text_of(&mut self.r)?);
                }
                Item::Start(_) => self.r.skip()?,
                Item::Empty(_) => {}
                Item::End => {
                    self.done = true;
                    self.end()?;
                }
                Item::Eof => {
                    return Err(malformed(&self.r, "document ends inside an element"));
                }
            }
        }
        Ok(None)
    }

    fn end(&mut self) -> Result<(), XmlError> {
        match self.r.next(None)? {
            Item::Eof => Ok(()),
            _ => Err(malformed(&self.r, "content after the root element")),
        }
    }
}

impl Multistatus {
    /// Reads a whole `multistatus` answer, as it streams: responses, their hrefs and statuses
    /// are read into place and only each `prop` becomes a tree, so a 10,000-resource listing
    /// builds no tree of 10,000 elements first. Of repeated elements the first counts (an href,
    /// a status, a propstat's prop); elements it does not know are skipped.
    pub fn parse(body: &[u8]) -> Result<Self, XmlError> {
        let mut stream = Responses::new(body)?;
        let mut ms = Multistatus::default();
        while let Some(resp) = stream.next_response()? {
            ms.responses.push(resp);
        }
        ms.sync_token = stream.sync_token;
        Ok(ms)
    }

    /// The rest of a `response` element; `None` without an href.
    fn response(r: &mut xml::Reader<'_>) -> Result<Option<MsResponse>, XmlError> {
        let mut href = None;
        let mut status = None;
        let mut propstats = Vec::new();
        loop {
            match r.next(None)? {
                Item::Start(tag) if tag.is(DAV, "href") && href.is_none() => {
                    href = Some(text_of(r)?);
                }
                Item::Empty(tag) if tag.is(DAV, "href") && href.is_none() => {
                    href = Some(String::new());
                }
                Item::Start(tag) if tag.is(DAV, "status") && status.is_none() => {
                    status = Some(status_code(&text_of(r)?));
                }
                Item::Empty(tag) if tag.is(DAV, "status") && status.is_none() => {
                    status = Some(None);
                }
                Item::Start(tag) if tag.is(DAV, "propstat") => {
                    propstats.extend(Self::propstat(r)?);
                }
                Item::Start(_) => r.skip()?,
                Item::Empty(_) => {}
                Item::End => break,
                Item::Eof => return Err(malformed(r, "document ends inside an element")),
            }
        }
        // A response is a node too: millions of bare ones are counted like elements.
        r.charge(std::mem::size_of::<MsResponse>())?;
        propstats.shrink_to_fit();
        Ok(href.map(|href| MsResponse {
            href,
            status: status.flatten(),
            propstats,
        }))
    }

    /// The rest of a `propstat`: its status (200 when missing) and its first `prop`.
    fn propstat(r: &mut xml::Reader<'_>) -> Result<Option<(u16, Element)>, XmlError> {
        let mut status = None;
        let mut prop = None;
        loop {
            match r.next(None)? {
                Item::Start(tag) if tag.is(DAV, "status") && status.is_none() => {
                    status = Some(status_code(&text_of(r)?));
                }
                Item::Empty(tag) if tag.is(DAV, "status") && status.is_none() => {
                    status = Some(None);
                }
                Item::Start(tag) if tag.is(DAV, "prop") && prop.is_none() => {
                    let mut el = r.element(tag)?;
                    r.finish(&mut el)?;
                    prop = Some(el);
                }
                Item::Empty(tag) if tag.is(DAV, "prop") && prop.is_none() => {
                    prop = Some(r.element(tag)?);
                }
                Item::Start(_) => r.skip()?,
                Item::Empty(_) => {}
                Item::End => break,
                Item::Eof => return Err(malformed(r, "document ends inside an element")),
            }
        }
        Ok(prop.map(|p| (status.flatten().unwrap_or(200), p)))
    }
}

/// The trimmed text of an element whose start was just read (its own, not its children's).
fn text_of(r: &mut xml::Reader<'_>) -> Result<String, XmlError> {
    let text = r.text()?;
    Ok(match text.trim() {
        t if t.len() == text.len() => text,
        t => t.to_string(),
    })
}

fn unexpected(tag: &xml::Tag<'_>) -> XmlError {
    XmlError::Unexpected {
        expected: "DAV:multistatus",
        found: tag.local_name().into_owned(),
    }
}

fn malformed(r: &xml::Reader<'_>, message: &str) -> XmlError {
    XmlError::Malformed {
        position: r.position(),
        message: message.into(),
    }
}

impl MsResponse {
    /// Moves a property out of a successful propstat (no copy of a large value).
    pub(crate) fn take_prop(&mut self, ns: &str, name: &str) -> Option<Element> {
        self.propstats
            .iter_mut()
            .filter(|(code, _)| (200..300).contains(code))
            .find_map(|(_, p)| p.children.iter_mut().find(|c| c.is(ns, name)))
            .map(std::mem::take)
    }

    /// A property from a successful propstat.
    pub(crate) fn prop(&self, ns: &str, name: &str) -> Option<&Element> {
        self.propstats
            .iter()
            .filter(|(code, _)| (200..300).contains(code))
            .find_map(|(_, p)| p.child(ns, name))
    }

    pub(crate) fn etag(&self) -> Option<Etag> {
        self.prop(DAV, "getetag")
            .map(|e| Etag(e.trimmed().to_string()))
            .filter(|e| !e.0.is_empty())
    }

    fn resource_types(&self) -> impl Iterator<Item = &Element> {
        self.prop(DAV, "resourcetype")
            .into_iter()
            .flat_map(|t| t.children.iter())
    }

    pub(crate) fn is_calendar(&self) -> bool {
        self.resource_types().any(|t| t.is(CALDAV, "calendar"))
    }

    pub(crate) fn is_collection(&self) -> bool {
        self.resource_types().any(|t| t.is(DAV, "collection"))
    }

    fn calendar_info(&self, base: &Url) -> CalendarInfo {
        let text = |ns, name| {
            self.prop(ns, name)
                .map(|e| e.trimmed().to_string())
                .filter(|s| !s.is_empty())
        };
        CalendarInfo {
            url: base.join(&self.href).unwrap_or_else(|_| base.clone()),
            display_name: text(DAV, "displayname"),
            components: self
                .prop(CALDAV, "supported-calendar-component-set")
                .map(|s| {
                    s.children_named(CALDAV, "comp")
                        .filter_map(|c| c.attr("name").map(str::to_ascii_uppercase))
                        .collect()
                })
                .unwrap_or_default(),
            ctag: text(CS, "getctag"),
            sync_token: text(DAV, "sync-token"),
            sync_collection: self.prop(DAV, "supported-report-set").map(|set| {
                set.children_named(DAV, "supported-report")
                    .flat_map(|r| r.children_named(DAV, "report"))
                    .any(|r| r.children_named(DAV, "sync-collection").next().is_some())
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multistatus_reads_hrefs_etags_tokens_and_statuses_whatever_the_prefixes() {
        let body = br#"<?xml version="1.0"?>
<x:multistatus xmlns:x="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <x:response><x:href>/cal/a.ics</x:href>
    <x:propstat><x:prop><x:getetag>"1&amp;2"</x:getetag></x:prop><x:status>HTTP/1.1 200 OK</x:status></x:propstat>
  </x:response>
  <x:response><x:href>/cal/gone.ics</x:href><x:status>HTTP/1.1 404 Not Found</x:status></x:response>
  <x:sync-token>data:,42</x:sync-token>
</x:multistatus>"#;
        let ms = Multistatus::parse(body).unwrap();
        assert_eq!(ms.sync_token.as_deref(), Some("data:,42"));
        assert_eq!(ms.responses[0].etag(), Some(Etag("\"1&2\"".into())));
        assert_eq!(ms.responses[1].status, Some(404));
    }

    #[test]
    fn entity_expansion_and_doctypes_are_refused() {
        let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<D:multistatus xmlns:D="DAV:"><D:response><D:href>&lol2;</D:href></D:response></D:multistatus>"#;
        assert!(matches!(xml::parse(bomb), Err(XmlError::Doctype)));
        assert!(matches!(Multistatus::parse(bomb), Err(XmlError::Doctype)));
        // Refused where the text is kept (an href) and where it is skipped.
        for external in [
            &br#"<D:multistatus xmlns:D="DAV:"><D:href>&xxe;</D:href></D:multistatus>"#[..],
            br#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>&xxe;</D:href></D:response></D:multistatus>"#,
        ] {
            assert!(matches!(xml::parse(external), Err(XmlError::UnknownEntity(e)) if e == "xxe"));
            assert!(
                matches!(Multistatus::parse(external), Err(XmlError::UnknownEntity(e)) if e == "xxe")
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let depth = 10_000;
        let doc = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        assert!(matches!(xml::parse(doc.as_bytes()), Err(XmlError::TooDeep)));
        let doc = format!(
            "<D:multistatus xmlns:D=\"DAV:\"><D:response>{}{}</D:response></D:multistatus>",
            "<D:x>".repeat(depth),
            "</D:x>".repeat(depth)
        );
        assert!(matches!(
            Multistatus::parse(doc.as_bytes()),
            Err(XmlError::TooDeep)
        ));
    }

    #[test]
    fn malformed_xml_is_an_error_with_a_position() {
        for bad in [
            &b"<D:multistatus xmlns:D=\"DAV:\"><D:response></D:multistatus>"[..],
            b"",
            b"<D:multistatus xmlns:D=\"DAV:\"></D:multistatus><D:multistatus xmlns:D=\"DAV:\"/>",
            b"<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>/a</D:href>",
        ] {
            assert!(xml::parse(bad).is_err(), "{bad:?}");
            let e = Multistatus::parse(bad).unwrap_err();
            assert!(matches!(e, XmlError::Malformed { .. }), "{e}");
        }
        assert!(xml::parse(b"<a>unterminated").is_err());
        let e = Multistatus::parse(b"<D:error xmlns:D=\"DAV:\"/>").unwrap_err();
        assert!(matches!(e, XmlError::Unexpected { .. }), "{e}");
    }

    /// A multistatus read from the whole tree (how it was read before it was streamed): the
    /// reference the streaming reader is checked against.
    fn from_tree(root: Element) -> Result<Multistatus, XmlError> {
        if !root.is(DAV, "multistatus") {
            return Err(XmlError::Unexpected {
                expected: "DAV:multistatus",
                found: root.name.to_string(),
            });
        }
        let mut ms = Multistatus {
            sync_token: root
                .child(DAV, "sync-token")
                .map(|t| t.trimmed().to_string()),
            ..Multistatus::default()
        };
        for r in root.children.into_iter().filter(|c| c.is(DAV, "response")) {
            let Some(href) = r.child(DAV, "href") else {
                continue;
            };
            let mut resp = MsResponse {
                href: href.trimmed().to_string(),
                status: r
                    .child(DAV, "status")
                    .and_then(|s| status_code(s.trimmed())),
                propstats: Vec::new(),
            };
            for ps in r.children.into_iter().filter(|c| c.is(DAV, "propstat")) {
                let code = ps
                    .child(DAV, "status")
                    .and_then(|s| status_code(s.trimmed()))
                    .unwrap_or(200);
                if let Some(prop) = ps.children.into_iter().find(|c| c.is(DAV, "prop")) {
                    resp.propstats.push((code, prop));
                }
            }
            ms.responses.push(resp);
        }
        Ok(ms)
    }

    /// Pieces a response or propstat is made of, in any order and number.
    fn piece() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy;
        proptest::prop_oneof![
            "[a-z/.]{0,8}".prop_map(|h| format!("<D:href> {h} </D:href>")),
            proptest::strategy::Just("<D:href/>".to_string()),
            "(200|404|507|x)".prop_map(|c| format!("<D:status>HTTP/1.1 {c} Why</D:status>")),
            proptest::strategy::Just("<D:status/>".to_string()),
            "[a-z0-9 ]{0,6}".prop_map(|e| format!(
                "<D:propstat><D:prop><D:getetag>\"{e}&amp;\"</D:getetag>\
                 <C:calendar-data>A&#13;\nB<![CDATA[<x>]]></C:calendar-data></D:prop>\
                 <D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
            )),
            proptest::strategy::Just(
                "<D:propstat><D:status>HTTP/1.1 404 No</D:status><D:prop><D:getetag/><D:prop/></D:prop></D:propstat>".to_string()
            ),
            proptest::strategy::Just("<D:propstat><D:prop/></D:propstat>".to_string()),
            proptest::strategy::Just("<X:other xmlns:X=\"urn:x\"><D:href>/no</D:href></X:other>".to_string()),
            proptest::strategy::Just("\n  ".to_string()),
        ]
    }

    proptest::proptest! {
        /// The streaming reader reads every multistatus as the whole-tree reading did.
        #[test]
        fn the_streaming_multistatus_reads_as_the_tree_did(
            responses in proptest::collection::vec(proptest::collection::vec(piece(), 0..6), 0..4),
            token in proptest::option::of("[a-z0-9:,]{0,6}"),
            prefix in "(D|d|dav)",
        ) {
            let mut body = String::from("<D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">");
            for pieces in &responses {
                body.push_str(&format!("<D:response>{}</D:response>", pieces.concat()));
            }
            if let Some(t) = &token {
                body.push_str(&format!("<D:sync-token> {t} </D:sync-token><D:sync-token>second</D:sync-token>"));
            }
            body.push_str("</D:multistatus>");
            let body = body.replace("D:", &format!("{prefix}:")).replace("xmlns:D=", &format!("xmlns:{prefix}="));
            let streamed = Multistatus::parse(body.as_bytes());
            let tree = xml::parse(body.as_bytes()).and_then(from_tree);
            proptest::prop_assert_eq!(format!("{streamed:?}"), format!("{tree:?}"), "{}", body);
        }
    }

    #[test]
    fn only_a_dav_error_element_is_shown_of_an_error_body_short_and_clean() {
        let dav = br#"<?xml version="1.0"?><D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:supported-calendar-data/></D:error>"#;
        assert_eq!(error_excerpt(dav), "supported-calendar-data");
        let sabre = "<d:error xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\">\
            <s:exception>Sabre\\DAV\\Exception\\Forbidden</s:exception>\
            <s:message>No\u{1b}[31m write\u{7}\nhere</s:message></d:error>";
        assert_eq!(
            error_excerpt(sabre.as_bytes()),
            "exception: Sabre\\DAV\\Exception\\Forbidden; message: No [31m write here"
        );
        let long = format!(
            "<D:error xmlns:D=\"DAV:\"><D:x>{}</D:x></D:error>",
            "y".repeat(500)
        );
        let cut = error_excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 3, "{cut}");
        // Anything else, however it looks, is not shown: a metadata answer, HTML, plain text,
        // XML that is not a DAV error.
        for other in [
            &b"ami-id\nami-launch-index\ninstance-id\niam/security-credentials/admin"[..],
            b"<html><body><h1>403 Forbidden</h1>secret</body></html>",
            b"<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>/x</D:href></D:response></D:multistatus>",
            b"",
        ] {
            assert_eq!(error_excerpt(other), "", "{:?}", String::from_utf8_lossy(other));
        }
        let url = Url::parse("http://127.0.0.1:1/c/").unwrap();
        let client =
            CalDavClient::new("alice", SecretString::from("p"), Duration::from_secs(2)).unwrap();
        let e = client.status_error("PUT", &url, StatusCode::FORBIDDEN, b"AccessKeyId: AKIA");
        assert_eq!(
            e.to_string(),
            "PUT http://127.0.0.1:1/c/: the server does not let alice change this (HTTP 403): \
             ask the calendar's owner for write access, or check the calendar path"
        );
        let e = client.status_error("PUT", &url, StatusCode::FORBIDDEN, dav);
        assert_eq!(
            e.to_string(),
            "PUT http://127.0.0.1:1/c/: the server refuses it (HTTP 403, \
             CALDAV:supported-calendar-data): the server's documentation of that condition \
             says what it requires"
        );
        let e = client.status_error("DELETE", &url, StatusCode::FORBIDDEN, sabre.as_bytes());
        assert!(
            e.to_string()
                .contains("(HTTP 403; the server says: exception: Sabre"),
            "{e}"
        );
    }

    #[test]
    fn a_403_is_a_permission_or_a_precondition_never_the_password_and_a_404_at_a_calendar_is_no_calendar()
     {
        let client =
            CalDavClient::new("alice", SecretString::from("p"), Duration::from_secs(2)).unwrap();
        let url = Url::parse("https://dav.example/bob/work/").unwrap();
        let at = "https://dav.example/bob/work/";
        let refused = |asked: Asked<'_>, status: u16, body: &str| {
            let e = client.refusal(
                asked,
                &url,
                StatusCode::from_u16(status).unwrap(),
                body.as_bytes(),
            );
            (e.kind(), e.to_string())
        };
        let error = |inner: &str| {
            format!(
                "<?xml version=\"1.0\"?><D:error xmlns:D=\"DAV:\" \
                 xmlns:C=\"urn:ietf:params:xml:ns:caldav\">{inner}</D:error>"
            )
        };
        let sync = Asked::report("sync-collection");
        // Each message names the URL once and says what to do.
        let once = |(kind, msg): (&str, String), want_kind: &str, want: &str| {
            assert_eq!(kind, want_kind, "{msg}");
            assert!(msg.contains(want), "{msg}");
            assert_eq!(msg.matches(at).count(), 1, "{msg}");
            assert!(!msg.contains("password"), "{msg}");
        };
        // No precondition: this user may not read that collection.
        once(
            refused(sync, 403, "<html>Forbidden</html>"),
            "forbidden",
            "https://dav.example/bob/work/: the server does not let alice read this collection \
             (HTTP 403): check the calendar path in the URL, or ask the calendar's owner to \
             share it with alice",
        );
        // DAV:need-privileges is the same, named.
        let privileges = error(
            "<D:need-privileges><D:resource><D:href>/bob/work/</D:href><D:privilege><D:read/>\
             </D:privilege></D:resource></D:need-privileges>",
        );
        once(
            refused(Asked::resource("PROPFIND"), 403, &privileges),
            "forbidden",
            "read this collection (HTTP 403, DAV:need-privileges): check the calendar path",
        );
        // A report the server does not have there (issue 28's fallback hooks on this kind).
        let unsupported = error("<D:supported-report/>");
        once(
            refused(sync, 403, &unsupported),
            "unsupported_report",
            "https://dav.example/bob/work/: the server does not support the sync-collection \
             report here (HTTP 403, DAV:supported-report)",
        );
        once(
            refused(Asked::report("calendar-multiget"), 403, &unsupported),
            "unsupported_report",
            "the calendar-multiget report",
        );
        // Another precondition is named as the server gave it.
        once(
            refused(sync, 403, &error("<C:max-resource-size/>")),
            "forbidden",
            "REPORT https://dav.example/bob/work/: the server refuses it (HTTP 403, \
             CALDAV:max-resource-size)",
        );
        // The sync token is still its own case.
        let token = error("<D:valid-sync-token/>");
        assert_eq!(refused(sync, 403, &token).0, "invalid_sync_token");
        // No calendar at a calendar's URL.
        for (asked, status) in [(sync, 404), (Asked::report("calendar-multiget"), 404)] {
            once(
                refused(asked, status, ""),
                "not_a_calendar",
                "https://dav.example/bob/work/: there is no calendar at this address (HTTP 404): \
                 connect again with the server's address, without the calendar path, and pick \
                 from the calendars it lists",
            );
        }
        let calendar_propfind = Asked {
            calendar: true,
            ..Asked::resource("PROPFIND")
        };
        once(
            refused(calendar_propfind, 405, ""),
            "not_a_calendar",
            "no calendar at this address (HTTP 405)",
        );
        // A REPORT answered 405 may be a server without sync-collection: left to the fallback.
        assert_eq!(refused(sync, 405, "").0, "http_error");
        // A resource that is gone is only that.
        assert_eq!(refused(Asked::resource("GET"), 404, "").0, "not_found");
        assert_eq!(refused(Asked::resource("PUT"), 412, "").0, "conflict");
    }

    #[tokio::test]
    async fn a_client_for_an_account_sends_nothing_off_its_origin_or_to_a_forbidden_address() {
        let account = Url::parse("http://127.0.0.1:9/user/").unwrap();
        let client = CalDavClient::new("u", SecretString::from("p"), Duration::from_secs(2))
            .unwrap()
            .for_account(&account, false);
        for (url, rule) in [
            (
                "http://127.0.0.1:10/user/a.ics",
                "is on another host than the account (http://127.0.0.1:9): refused",
            ),
            (
                "http://169.254.169.254/latest/meta-data/",
                "169.254.169.254 is a link-local or cloud metadata address",
            ),
            (
                "http://192.0.2.10:9/user/",
                "plain http would send the password unencrypted",
            ),
        ] {
            let e = client.get(&Url::parse(url).unwrap()).await.unwrap_err();
            assert!(matches!(e, DavError::Refused { .. }), "{url}: {e}");
            assert!(e.to_string().contains(rule), "{url}: {e}");
            assert_eq!(e.kind(), "refused_url");
        }
        assert_eq!(client.request_count(), 0, "nothing was sent");
    }

    #[test]
    fn hrefs_to_another_origin_are_skipped_and_the_others_kept() {
        let cal = Url::parse("http://127.0.0.1:5232/u/cal/").unwrap();
        assert_eq!(
            resource_url(&cal, "/u/cal/a.ics").map(|u| u.to_string()),
            Some("http://127.0.0.1:5232/u/cal/a.ics".to_string())
        );
        for other in [
            "http://169.254.169.254/latest/meta-data/a.ics",
            "http://192.0.2.10/u/cal/b.ics",
            "//127.0.0.1:5233/u/cal/c.ics",
            "https://127.0.0.1:5232/u/cal/d.ics",
        ] {
            assert_eq!(resource_url(&cal, other), None, "{other}");
        }
    }

    #[test]
    fn a_calendar_says_whether_it_has_sync_collection_in_its_supported_report_set() {
        let info = |set: &str| {
            let body = format!(
                r#"<d:multistatus xmlns:d="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/c/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><cal:calendar/></d:resourcetype>{set}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#
            );
            let ms = Multistatus::parse(body.as_bytes()).unwrap();
            ms.responses[0]
                .calendar_info(&Url::parse("http://h/").unwrap())
                .sync_collection
        };
        // sabre/dav 1.8: multiget and query, no sync-collection.
        let sabre = "<d:supported-report-set><d:supported-report><d:report><cal:calendar-multiget/></d:report></d:supported-report><d:supported-report><d:report><cal:calendar-query/></d:report></d:supported-report></d:supported-report-set>";
        assert_eq!(info(sabre), Some(false));
        let with = "<d:supported-report-set><d:supported-report><d:report><d:sync-collection/></d:report></d:supported-report></d:supported-report-set>";
        assert_eq!(info(with), Some(true));
        assert_eq!(info(""), None);
    }

    #[test]
    fn propfind_body_declares_each_namespace_once() {
        let b = propfind_body(&[
            (DAV, "getetag"),
            (CALDAV, "calendar-data"),
            (DAV, "displayname"),
        ]);
        assert_eq!(b.matches("xmlns:n").count(), 2, "{b}");
        assert!(xml::parse(b.as_bytes()).is_ok());
    }
}
