//! CalDAV behind `provider::CalendarProvider`: a session is one checked client with the
//! account's password; it fetches into the cache (`fetch`), reads an occurrence from the cached
//! resource (or the server, for a restore), and writes by PUT of the whole resource with the
//! occurrence's DESCRIPTION set, under its etag.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::info;
use url::Url;

use super::client::{CalDavClient, DavError, Precondition, Resource};
use super::connect::CaldavSettings;
use super::dav::Dav;
use super::fetch::{Fetch, to_cached};
use crate::agenda::Format;
use crate::config::Config;
use crate::ics::{EditOptions, Edited};
use crate::model::Owner;
use crate::provider::{
    CalendarProvider, Current, Loaded, Prepared, ProviderError, Read, Session, Target, Written,
    calendar_tz,
};
use crate::provider::{Found, Fut, Res, Sink};
use crate::secrets::Keyring;
use crate::store::{Account, CachedEvent, Calendar, Provider};

impl From<DavError> for ProviderError {
    /// A refusal about one resource (4xx, an answer too large or unreadable) stays with its
    /// series; the server being down, slow or refusing us is the whole account's. Only a 401
    /// asks for a reconnect: a 403 (a collection this user may not use, a precondition, a
    /// report the server lacks) or no calendar at a URL is about that calendar, not the password.
    fn from(e: DavError) -> Self {
        let kind = e.kind();
        match e {
            DavError::Unauthorized { .. } => ProviderError::Unauthorized(Box::new(e)),
            DavError::Forbidden { .. }
            | DavError::UnsupportedReport { .. }
            | DavError::NotACalendar { .. } => ProviderError::resource(kind, e),
            // 408 and 429 say "later", not "never": the whole pass is retried with backoff.
            DavError::Status { status, .. }
                if (400..500).contains(&status) && status != 408 && status != 429 =>
            {
                ProviderError::resource(kind, e)
            }
            DavError::NotFound { .. } | DavError::TooLarge { .. } | DavError::Xml { .. } => {
                ProviderError::resource(kind, e)
            }
            other => ProviderError::transient(kind, other),
        }
    }
}

/// The CalDAV provider: opens sessions with the stored password.
pub(crate) struct CalDav {
    pub keyring: Arc<Keyring>,
    pub config: Arc<Config>,
    /// How each account's server wants to be authenticated, kept from pass to pass (a Digest
    /// server's nonce is reused: the daemon's idle pass makes no handshake).
    pub auth: super::auth::Remembered,
}

impl CalDav {
    /// The checked client of an account (its origin only, no forbidden address) and its
    /// settings.
    pub(crate) fn client_for(
        &self,
        account: &Account,
    ) -> Result<(CalDavClient, CaldavSettings), ProviderError> {
        let settings = CaldavSettings::from_account(account).map_err(ProviderError::internal)?;
        let url = Url::parse(&settings.url).map_err(ProviderError::internal)?;
        crate::provider::netcheck::check_static(&url, self.config.network.allow_http)
            .map_err(|e| ProviderError::transient("refused_url", e))?;
        let blob = account.credentials.as_deref().ok_or_else(|| {
            ProviderError::Unauthorized("no stored password: connect the account again".into())
        })?;
        let password = self
            .keyring
            .decrypt(blob)
            .map_err(ProviderError::internal)?;
        let timeout = Duration::from_secs(self.config.sync.request_timeout_secs);
        let client = CalDavClient::new(&settings.username, password, timeout)
            .map_err(ProviderError::internal)?
            .with_max_body(self.config.network.max_response_bytes)
            .for_account(&url, self.config.network.allow_http)
            .with_auth(self.auth.of(account.id, &settings.username));
        Ok((client, settings))
    }
}

impl CalendarProvider for CalDav {
    fn kind(&self) -> Provider {
        Provider::Caldav
    }

    fn format(&self) -> Format {
        Format::Plain
    }

    fn open(&self, account: &Account) -> Result<Box<dyn Session>, ProviderError> {
        let (client, settings) = self.client_for(account)?;
        Ok(session(
            Box::new(client),
            settings.owner(),
            self.config.clone(),
        ))
    }

    fn load_series(&self, account: &Account, cal: &Calendar, cached: Vec<CachedEvent>) -> Found {
        load_series(&self.config, account, cal, cached)
    }
}

/// The series a CalDAV calendar's cached resource holds (one resource holds one series).
pub(crate) fn load_series(
    config: &Config,
    account: &Account,
    cal: &Calendar,
    cached: Vec<CachedEvent>,
) -> Found {
    // One resource holds a series (only resources with a text are found by UID).
    let mut cached = cached;
    cached.truncate(1);
    let Some(first) = cached.first() else {
        return Ok(None);
    };
    let settings = CaldavSettings::from_account(account).map_err(ProviderError::internal)?;
    let parsed = crate::ics::parse(first.raw.as_bytes()).map_err(|e| {
        ProviderError::resource(
            "unreadable",
            format!("the cached event cannot be read: {e}"),
        )
    })?;
    let tz = parsed
        .x_wr_timezone
        .unwrap_or(calendar_tz(cal, config.agenda.default_timezone));
    let Some(series) = parsed.series.into_iter().find(|s| s.uid == first.uid) else {
        return Ok(None);
    };
    let remote_id = first.remote_id.clone();
    Ok(Some(Loaded {
        series,
        tz,
        owner: settings.owner(),
        remote_id,
        cached,
    }))
}

/// A session over any [`Dav`] server: the HTTP client, or the simulator's server.
pub(crate) fn session(client: Box<dyn Dav>, owner: Owner, config: Arc<Config>) -> Box<dyn Session> {
    Box::new(CalDavSession {
        client,
        owner,
        config,
    })
}

struct CalDavSession {
    client: Box<dyn Dav>,
    owner: Owner,
    config: Arc<Config>,
}

/// The resource a restore read from the server (a pass writes from the cached one).
struct ReadResource {
    body: Vec<u8>,
    uid: String,
}

/// A prepared PUT: the edited resource, and what the edit was made with (for the
/// `SCHEDULE-AGENT=CLIENT` retry).
struct Put {
    plain: Edited,
    uid: String,
    description: String,
}

impl CalDavSession {
    /// The resource a write edits, and its series' UID: the cached one in a pass, the one read
    /// from the server in a restore.
    fn resource<'a>(occ: &Target<'a>, current: &'a Current) -> Option<(&'a [u8], &'a str)> {
        if let Some(r) = current.state.downcast_ref::<ReadResource>() {
            return Some((&r.body, &r.uid));
        }
        let loaded = occ.loaded?;
        let first = loaded.cached.first()?;
        Some((first.raw.as_bytes(), &loaded.series.uid))
    }

    fn url(remote_id: &str) -> Result<Url, ProviderError> {
        Url::parse(remote_id)
            .map_err(|e| ProviderError::internal(format!("stored resource URL {remote_id:?}: {e}")))
    }
}

/// How far from its original start an occurrence may have been moved and still be found (the
/// agenda step looks as far ahead).
const MOVED_AT_MOST_DAYS: i64 = 370;

/// The description of the occurrence that originally starts at `original_start` (wherever it
/// was moved to).
fn occurrence_description(
    series: &crate::model::Series,
    occ: &Target<'_>,
) -> Result<Option<String>, ProviderError> {
    let around = |days| occ.original_start + chrono::Duration::days(days);
    let found = crate::ics::expand(
        series,
        around(-MOVED_AT_MOST_DAYS),
        around(MOVED_AT_MOST_DAYS),
        occ.tz,
    )
    .map_err(|e| ProviderError::resource("unreadable", e))?;
    Ok(found
        .iter()
        .find(|o| o.original_start == occ.original_start)
        .and_then(|o| o.description.as_deref().map(str::to_string)))
}

impl Session for CalDavSession {
    fn fetch<'a>(&'a self, cal: &'a Calendar, now: DateTime<Utc>, cache: Sink<'a>) -> Fut<'a, ()> {
        Box::pin(async move {
            let fetch = Fetch {
                client: self.client.as_ref(),
                cal,
                now,
                owner: &self.owner,
                tz: calendar_tz(cal, self.config.agenda.default_timezone),
            };
            fetch.run(cache).await
        })
    }

    fn reread<'a>(&'a self, occ: Target<'a>, cache: Sink<'a>) -> Fut<'a, ()> {
        Box::pin(async move {
            let fresh = self.client.get(&Self::url(occ.remote_id)?).await?;
            if fresh.etag.is_none() {
                return Err(ProviderError::resource(
                    "no_etag",
                    "the server gives no etag for the resource",
                ));
            }
            let fetch = Fetch {
                client: self.client.as_ref(),
                cal: occ.calendar,
                now: occ.now,
                owner: &self.owner,
                tz: occ.tz,
            };
            fetch.take(fresh, cache).await
        })
    }

    fn read<'a>(&'a self, occ: Target<'a>) -> Fut<'a, Read> {
        Box::pin(async move {
            if let Some(loaded) = occ.loaded {
                // A pass writes over the resource it read in its listing, under its etag.
                let Some(first) = loaded.cached.first() else {
                    return Ok(Read::Gone);
                };
                if first.etag.is_none() {
                    // No etag to write under: read it (body and etag together) and plan again.
                    return Ok(Read::Stale { edited: false });
                }
                return Ok(Read::Ready(Current {
                    remote_id: first.remote_id.clone(),
                    etag: first.etag.clone(),
                    description: occurrence_description(&loaded.series, &occ)?,
                    cancelled: false,
                    state: Box::new(()),
                }));
            }
            let url = Self::url(occ.remote_id)?;
            let Resource { etag, body, .. } = self.client.get(&url).await?;
            let parsed =
                crate::ics::parse(&body).map_err(|e| ProviderError::resource("unreadable", e))?;
            let series = parsed.series.first().ok_or_else(|| {
                ProviderError::resource("unreadable", "the resource holds no event")
            })?;
            let description = occurrence_description(series, &occ)?;
            let etag = match etag {
                Some(e) => e,
                None => self.client.etag(&url).await?.ok_or_else(|| {
                    ProviderError::resource("no_etag", "the server gives no etag")
                })?,
            };
            Ok(Read::Ready(Current {
                remote_id: url.to_string(),
                etag: Some(etag.0),
                description,
                cancelled: false,
                state: Box::new(ReadResource {
                    uid: series.uid.clone(),
                    body,
                }),
            }))
        })
    }

    fn prepare(&self, occ: Target<'_>, current: &Current, description: &str) -> Res<Prepared> {
        let (body, uid) = Self::resource(&occ, current)
            .ok_or_else(|| ProviderError::internal("no resource to write into"))?;
        let plain = crate::ics::edit_occurrence_description(
            body,
            uid,
            occ.original_start,
            description,
            occ.now,
            occ.tz,
            EditOptions::default(),
        )
        .map_err(|e| ProviderError::resource("edit", e))?;
        Ok(Prepared::new(Put {
            plain,
            uid: uid.to_string(),
            description: description.to_string(),
        }))
    }

    fn write<'a>(&'a self, occ: Target<'a>, current: &'a Current, p: Prepared) -> Fut<'a, Written> {
        Box::pin(async move {
            let put: Put = p.take()?;
            let url = Self::url(&current.remote_id)?;
            let etag = current.etag_to_write()?;
            let (body, _) = Self::resource(&occ, current)
                .ok_or_else(|| ProviderError::internal("no resource to write into"))?;
            let edit = |options| {
                crate::ics::edit_occurrence_description(
                    body,
                    &put.uid,
                    occ.original_start,
                    &put.description,
                    occ.now,
                    occ.tz,
                    options,
                )
                .map_err(|e| ProviderError::resource("edit", e))
            };
            let (answer, retried) = put_edit(
                self.client.as_ref(),
                &url,
                &Precondition::Match(etag),
                put.plain,
                edit,
            )
            .await?;
            match answer {
                Ok(stored) => {
                    let fresh = to_cached(url.as_str(), stored.etag.as_ref(), &stored.body)
                        .map_err(|e| ProviderError::resource("unreadable", e))?;
                    Ok(Written::Stored(fresh))
                }
                // The first PUT's 5xx was no refusal: it acted (a timeout behind a proxy, or
                // DAViCal storing the edit before its scheduling failed).
                Err(DavError::PreconditionFailed { .. })
                    if retried
                        && !crate::sim::mutation::on(crate::sim::Mutation::UncountedLostWrites) =>
                {
                    Ok(Written::MaybeLanded)
                }
                Err(DavError::PreconditionFailed { .. }) => Ok(Written::Conflict),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn requests(&self) -> u64 {
        self.client.request_count()
    }
}

/// PUTs an agenda edit. Guarantee 10 on DAViCal: when the server answers 5xx to an edit that
/// adds an override (DAViCal fails every such PUT when an attendee is one of its users), the
/// same edit goes once more under the same etag with `SCHEDULE-AGENT=CLIENT` on the override's
/// attendees, which it stores and sends nothing for. A 412 then means the first PUT did act
/// (so does a timeout's 504: the seeded simulator's); the answer says whether it came from
/// that second PUT, and the caller counts the write and re-reads. Plain stays the default so
/// that the servers which take it keep their own scheduling behaviour (docs/decisions.md,
/// "caldav interop").
async fn put_edit(
    client: &dyn Dav,
    url: &Url,
    pre: &Precondition,
    plain: Edited,
    edit: impl Fn(EditOptions) -> Result<Edited, ProviderError>,
) -> Result<(Result<Resource, DavError>, bool), ProviderError> {
    let created_override = plain.created_override;
    let first = client.put_and_read(url, plain.body.clone(), pre).await;
    let status = match &first {
        Err(DavError::Status { status, .. }) if *status >= 500 && created_override => *status,
        _ => return Ok((first, false)),
    };
    let fallback = edit(EditOptions {
        client_schedules_attendees: true,
    })?;
    if fallback.body == plain.body {
        return Ok((first, false)); // No attendee to take out of the server's scheduling.
    }
    info!(
        resource = %url,
        status, "new override refused; writing it with SCHEDULE-AGENT=CLIENT on its attendees"
    );
    metrics::counter!("oneonone_schedule_agent_fallbacks_total").increment(1);
    Ok((client.put_and_read(url, fallback.body, pre).await, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_of_an_occurrence_moved_a_day_later_is_found_by_its_original_start() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:w\r\n\
DTSTART:20260302T090000Z\r\nDTEND:20260302T093000Z\r\nRRULE:FREQ=WEEKLY\r\n\
DESCRIPTION:usual\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:w\r\n\
RECURRENCE-ID:20260309T090000Z\r\nDTSTART:20260310T140000Z\r\nDTEND:20260310T143000Z\r\n\
DESCRIPTION:moved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let parsed = crate::ics::parse(ics.as_bytes()).unwrap();
        let series = &parsed.series[0];
        let cal = Calendar {
            id: 1,
            account_id: 1,
            remote_id: "https://dav.example/c/".into(),
            display_name: String::new(),
            timezone: None,
            sync_token: None,
            ctag: None,
            last_full_sync_at: None,
            enabled: true,
        };
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let target = |original_start| Target {
            calendar: &cal,
            loaded: None,
            remote_id: "https://dav.example/c/w.ics",
            original_start,
            tz: chrono_tz::UTC,
            now: at("2026-03-01T00:00:00Z"),
        };
        let moved = occurrence_description(series, &target(at("2026-03-09T09:00:00Z"))).unwrap();
        assert_eq!(moved.as_deref(), Some("moved"));
        let usual = occurrence_description(series, &target(at("2026-03-16T09:00:00Z"))).unwrap();
        assert_eq!(usual.as_deref(), Some("usual"));
    }

    fn status(status: u16) -> DavError {
        DavError::Status {
            method: "PUT".into(),
            url: "https://dav.example/c/1.ics".into(),
            status,
            body: String::new(),
        }
    }

    #[test]
    fn a_refusal_of_one_resource_stays_with_its_series_and_the_server_being_down_stops_the_pass() {
        let kind = |e: DavError| {
            let e = ProviderError::from(e);
            let class = match &e {
                ProviderError::Unauthorized(_) => "account",
                ProviderError::Resource { .. } => "series",
                ProviderError::Transient { .. } => "retry",
                ProviderError::Store(_) => "store",
            };
            (class, e.kind())
        };
        let forbidden = DavError::Forbidden {
            method: "REPORT".into(),
            url: "u".into(),
            user: "alice".into(),
            condition: None,
            detail: String::new(),
        };
        assert_eq!(kind(forbidden), ("series", "forbidden"));
        let unsupported = DavError::UnsupportedReport {
            url: "u".into(),
            report: "sync-collection".into(),
        };
        assert_eq!(kind(unsupported), ("series", "unsupported_report"));
        let gone = DavError::NotACalendar {
            url: "u".into(),
            status: 404,
            found: vec![],
        };
        assert_eq!(kind(gone), ("series", "not_a_calendar"));
        assert_eq!(kind(status(404)), ("series", "http_error"));
        assert_eq!(
            kind(DavError::NotFound { url: "u".into() }),
            ("series", "not_found")
        );
        assert_eq!(kind(status(408)), ("retry", "http_error"));
        assert_eq!(kind(status(429)), ("retry", "http_error"));
        assert_eq!(kind(status(503)), ("retry", "server_error"));
        assert_eq!(
            kind(DavError::Unauthorized {
                url: "u".into(),
                status: 401
            }),
            ("account", "unauthorized")
        );
        // The message is the server error's, once, and the error itself is kept.
        let e = ProviderError::from(status(503));
        assert_eq!(
            e.to_string(),
            "server_error: PUT https://dav.example/c/1.ics: HTTP 503"
        );
        assert!(e.cause().downcast_ref::<DavError>().is_some());
        assert!(std::error::Error::source(&e).is_none());
    }
}
