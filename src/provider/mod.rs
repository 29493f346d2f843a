//! The calendar providers behind one trait, [`CalendarProvider`]: each only talks to its server
//! (fetch changes into the cache in batches, read one occurrence, one conditional write, errors
//! classified). The pass that drives them is written once, in `sync::pass`; `sync` imports this
//! module, never the reverse.

pub mod caldav;
pub(crate) mod existing;
pub mod google;
pub(crate) mod netcheck;

use std::any::Any;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::future::BoxFuture;

use crate::agenda::Format;
use crate::model::{Owner, Series};
use crate::store::{Account, CachedEvent, Calendar, Provider, Store, StoreError};

/// An error of any kind, kept with its source chain.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// What a provider answers.
pub(crate) type Res<T> = Result<T, ProviderError>;
/// What a provider answers, later.
pub(crate) type Fut<'a, T> = BoxFuture<'a, Res<T>>;
/// A series read from the cache, if the cached events hold one.
pub(crate) type Found = Res<Option<Loaded>>;
/// Where a fetch puts what it reads.
pub(crate) type Sink<'a> = &'a mut dyn CacheSink;

/// What went wrong talking to a calendar, classified for the pass: the account waits for a
/// reconnect, the pass is retried later, or only one resource is refused. Each variant keeps the
/// error it came from (see [`ProviderError::cause`]); its message is that error's, once (the
/// cause is not also given as `source()`, which would repeat it in every error chain).
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The credentials were refused for good: only a reconnect helps.
    #[error("credentials refused: {0}")]
    Unauthorized(BoxError),
    /// Anything that may pass on retry (network, 5xx, 408/429, timeouts, a refused address, a
    /// provider this build lacks); `kind` names it for `/readyz` and `/metrics`.
    #[error("{kind}: {error}")]
    Transient { kind: &'static str, error: BoxError },
    /// A refusal about one resource (a 4xx on it, an answer that cannot be read, an event that
    /// cannot be edited): it stays with its series and the pass goes on.
    #[error("{error}")]
    Resource { kind: &'static str, error: BoxError },
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ProviderError {
    /// The short name of the failure for `/readyz`, `sync_runs` and `/metrics`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            // A Google app in "Testing" status: its week-old grants expire (named apart so
            // `/readyz` shows the cause).
            ProviderError::Unauthorized(e) if e.is::<google::TestingGrantExpired>() => {
                "grant_expired_testing_app"
            }
            ProviderError::Unauthorized(_) => "unauthorized",
            ProviderError::Transient { kind, .. } | ProviderError::Resource { kind, .. } => kind,
            ProviderError::Store(_) => "internal",
        }
    }

    #[cfg(test)]
    /// The error this one was made from (a `DavError`, a `GoogleError`, a `StoreError`...), to
    /// look into with `downcast_ref`.
    pub(crate) fn cause(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        match self {
            ProviderError::Unauthorized(e)
            | ProviderError::Transient { error: e, .. }
            | ProviderError::Resource { error: e, .. } => e.as_ref(),
            ProviderError::Store(e) => e,
        }
    }

    pub fn transient(kind: &'static str, error: impl Into<BoxError>) -> Self {
        ProviderError::Transient {
            kind,
            error: error.into(),
        }
    }

    pub(crate) fn resource(kind: &'static str, error: impl Into<BoxError>) -> Self {
        ProviderError::Resource {
            kind,
            error: error.into(),
        }
    }

    /// A failure of ours (unreadable stored settings, a bad stored URL): retried like a
    /// transient one, named `internal`.
    pub(crate) fn internal(error: impl Into<BoxError>) -> Self {
        Self::transient("internal", error)
    }
}

/// The zone of a calendar: its own, else `default` (`agenda.default_timezone`).
pub(crate) fn calendar_tz(cal: &Calendar, default: Tz) -> Tz {
    cal.timezone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(default)
}

/// Why a request got no answer, in words a person can act on: the innermost cause (reqwest's own
/// message names the URL again and hides the cause in its source chain) and what to check.
pub fn why_unreachable(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer in time: check that the server is up (or raise \
                sync.request_timeout_secs)"
            .into();
    }
    let mut root: &dyn std::error::Error = e;
    let mut depth = 0;
    while let Some(next) = root.source() {
        root = next;
        depth += 1;
    }
    let cause = root.to_string();
    if e.is_connect() {
        format!(
            "cannot reach the server ({cause}): check that it is running and that the URL's host \
             and port are right"
        )
    } else if depth == 0 {
        cause
    } else {
        format!("the connection failed ({cause})")
    }
}

/// The calendar owner's addresses from what connecting found and the user gave: each parsed,
/// normalized, sorted, once. Empty when none is an address.
pub(crate) fn owner_addresses(candidates: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut emails: Vec<String> = candidates
        .into_iter()
        .filter_map(|e| crate::model::EmailAddress::parse(&e).map(|e| e.to_string()))
        .collect();
    emails.sort();
    emails.dedup();
    emails
}

/// A series read from the cache, with what the agenda step needs to work on it as the provider
/// writes it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub series: Series,
    /// The zone floating times are read in (the calendar's, or the resource's X-WR-TIMEZONE).
    pub tz: Tz,
    /// Who the calendar belongs to (for the manager's name and detection).
    pub owner: Owner,
    /// What the occurrence rows record as the remote id (CalDAV: the resource URL; Google: the
    /// series id).
    pub remote_id: String,
    /// The cached rows it was read from.
    pub cached: Vec<CachedEvent>,
}

/// One occurrence of one series: what a read or a write is about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub calendar: &'a Calendar,
    /// The series as the pass loaded it from the cache; `None` for a restore, which reads the
    /// remote object the revision names.
    pub loaded: Option<&'a Loaded>,
    /// The remote object: the series' `remote_id` in a pass, the revision's in a restore.
    pub remote_id: &'a str,
    pub original_start: DateTime<Utc>,
    pub tz: Tz,
    /// When the read or write happens.
    pub now: DateTime<Utc>,
}

/// An occurrence as its server holds it now.
#[derive(Debug)]
pub(crate) struct Current {
    /// What a revision records as the written object (CalDAV: the resource URL; Google: the
    /// instance id).
    pub remote_id: String,
    pub etag: Option<String>,
    pub description: Option<String>,
    /// Cancelled since the listing the pass planned from.
    pub cancelled: bool,
    /// The provider's own state of the object (CalDAV: the whole resource as read).
    pub(crate) state: Box<dyn Any + Send + Sync>,
}

/// What reading an occurrence before a write found.
#[derive(Debug)]
pub(crate) enum Read {
    /// Write under this etag.
    Ready(Current),
    /// What the pass planned from is stale: read again (into the cache), plan again.
    /// `edited` when a person changed the description since (counted as a conflict).
    Stale { edited: bool },
    /// The occurrence was cancelled since the listing: nothing to write into it; the pass
    /// reads it again ([`Session::reread`] puts the cancellation into the cache) and plans for
    /// the next meeting.
    Gone,
}

impl Current {
    /// The etag a conditional write goes under.
    pub(crate) fn etag_to_write(&self) -> Result<crate::model::Etag, ProviderError> {
        self.etag.clone().map(crate::model::Etag).ok_or_else(|| {
            ProviderError::resource("no_etag", "the server gives no etag for the event")
        })
    }
}

/// A write prepared from a [`Current`] (checked, encoded), ready to send.
pub(crate) struct Prepared {
    payload: Box<dyn Any + Send + Sync>,
}

impl Prepared {
    pub(crate) fn new(payload: impl Any + Send + Sync) -> Self {
        Self {
            payload: Box::new(payload),
        }
    }

    /// The provider's own payload back.
    pub(crate) fn take<T: Any>(self) -> Result<T, ProviderError> {
        self.payload
            .downcast::<T>()
            .map(|p| *p)
            .map_err(|_| ProviderError::internal("a write prepared by another provider"))
    }
}

/// What a conditional write came to.
#[derive(Debug)]
pub(crate) enum Written {
    /// Stored; the object as the server holds it now, for the cache.
    Stored(CachedEvent),
    /// Refused as stale (412): someone edited it since it was read.
    Conflict,
    /// Refused as stale (412) on a second try, after the first try's error (5xx) turned out
    /// to be no refusal: the write most likely landed, unseen. The caller counts it as a
    /// write (the cap bounds the invites a pass changes) and reads the occurrence again.
    MaybeLanded,
}

/// A calendar service: Google Calendar, a CalDAV server. Sessions do the I/O; the provider
/// itself reads cached events without any.
pub(crate) trait CalendarProvider: Send + Sync + 'static {
    fn kind(&self) -> Provider;

    /// How this provider's descriptions are written and read back.
    fn format(&self) -> Format;

    /// A session for the account: its client with its credentials (kept across passes where
    /// the provider keeps clients, with its request budget).
    fn open(&self, account: &Account) -> Result<Box<dyn Session>, ProviderError>;

    /// The series of `cal` whose cached events (master and exceptions, one UID) are `cached`
    /// (`Ok(None)` when they hold no such recurring series). Reads no server.
    fn load_series(&self, account: &Account, cal: &Calendar, cached: Vec<CachedEvent>) -> Found;
}

/// One account's connection to its server, for one pass (or one restore).
pub(crate) trait Session: Send + Sync {
    /// Brings the cache of `cal` up to date: changes since its cursor (or a full listing),
    /// handed to `cache` as they arrive.
    fn fetch<'a>(&'a self, cal: &'a Calendar, now: DateTime<Utc>, cache: Sink<'a>) -> Fut<'a, ()>;

    /// After a conflict: brings what `occ` names up to date in `cache`.
    fn reread<'a>(&'a self, occ: Target<'a>, cache: Sink<'a>) -> Fut<'a, ()>;

    /// Reads the occurrence as it stands before a write (from what the pass loaded where that
    /// is enough, else from the server).
    fn read<'a>(&'a self, occ: Target<'a>) -> Fut<'a, Read>;

    /// Checks and encodes writing `description` into the occurrence `current` holds. No I/O: a
    /// description that cannot be written is refused before its revision is recorded.
    fn prepare(&self, occ: Target<'_>, current: &Current, description: &str) -> Res<Prepared>;

    /// The conditional write (under `current`'s etag).
    fn write<'a>(&'a self, occ: Target<'a>, current: &'a Current, p: Prepared) -> Fut<'a, Written>;

    /// Work after a successful pass (Google: keep push channels open).
    fn after_pass<'a>(
        &'a self,
        _store: &'a Store,
        _account: &'a Account,
        _calendars: &'a [Calendar],
    ) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }

    /// Requests this session has sent (for the idle-cost figures in `sync_runs`).
    fn requests(&self) -> u64;
}

/// Where a session's fetch puts what it reads: the pass's cache of one calendar (batched
/// commits, the empty-listing guard of guarantee 7, the cursor). Implemented in `sync::cache`.
pub trait CacheSink: Send {
    /// Remote id -> etag of every cached event of the calendar.
    fn etags(&mut self) -> BoxFuture<'_, Result<HashMap<String, Option<String>>, StoreError>>;

    /// Cached events of one series (master and exceptions).
    fn by_uid<'a>(
        &'a mut self,
        uid: &'a str,
    ) -> BoxFuture<'a, Result<Vec<CachedEvent>, StoreError>>;

    /// Stores one event (in batches); `series` are the recurring series it holds when the
    /// provider read them on the way, so detection reads nothing back. A provider whose series
    /// span several events (Google) passes none and names the series in [`CacheSink::changed`].
    fn put(
        &mut self,
        event: CachedEvent,
        series: Vec<Loaded>,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// A series whose events changed, to detect again from the cache.
    fn changed(&mut self, uid: String);

    /// A resource that could not be read: skipped, with the reason.
    fn unreadable(&mut self, remote_id: String, why: String);

    /// Deletes one cached event (also one put in this batch and not yet committed).
    fn delete<'a>(&'a mut self, remote_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// A complete listing of the calendar: deletes what it lacks. Returns `false`, changing
    /// nothing, when it is empty while the cache is not (guarantee 7): the pass then stops for
    /// this calendar.
    fn full_listing<'a>(
        &'a mut self,
        present: &'a std::collections::HashSet<String>,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Commits what is pending and records the new cursor (`full`: a full comparison was made).
    fn cursor<'a>(
        &'a mut self,
        sync_token: Option<&'a str>,
        ctag: Option<&'a str>,
        full: bool,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}
