//! Brings one CalDAV calendar's cache up to date: sync-collection since the stored token
//! (one request when nothing changed), a full listing when the token is missing or rejected, and
//! ctag + etag comparison where a server lacks sync-collection. Only resources whose etag changed
//! are downloaded (multiget). What is read goes to the pass's cache (`provider::CacheSink`),
//! which stores it in batches and guards against an empty listing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tracing::{debug, warn};
use url::Url;

use super::client::{DavError, Resource, SyncEntry};
use super::dav::Dav;
use crate::model::{Etag, Owner};
use crate::provider::{CacheSink, Loaded, ProviderError};
use crate::store::{CachedEvent, Calendar};

/// How often a calendar gets a full comparison with the cache.
const FULL_RESYNC_HOURS: i64 = 24;
/// Resources missing from a complete listing that are asked for one by one before they are
/// taken as deleted.
const MAX_CONFIRMED: usize = 50;
/// Resources downloaded per step of an import (a multiget may split it further).
const IMPORT_SLICE: usize = 500;

/// A resource as the cache keeps it: UID, summary and first start read from the ICS.
pub fn to_cached(remote_id: &str, etag: Option<&Etag>, body: &[u8]) -> Result<CachedEvent, String> {
    read_resource(remote_id, etag, body).map(|(cached, _)| cached)
}

/// [`to_cached`], with the parsed calendar it was read from.
pub(crate) fn read_resource(
    remote_id: &str,
    etag: Option<&Etag>,
    body: &[u8],
) -> Result<(CachedEvent, crate::ics::Calendar), String> {
    record(remote_id, etag, body, crate::ics::parse_for_cache)
}

/// [`read_resource`] with the calendar read by `parse`.
fn record(
    remote_id: &str,
    etag: Option<&Etag>,
    body: &[u8],
    parse: fn(&[u8]) -> Result<crate::ics::Calendar, crate::ics::IcsError>,
) -> Result<(CachedEvent, crate::ics::Calendar), String> {
    if body.contains(&0) {
        // Not text (and PostgreSQL cannot store it as such): refused for this resource only.
        return Err("the resource contains a NUL byte".into());
    }
    // iCalendar is UTF-8 (RFC 5545 3.1.4). Another encoding is refused rather than read lossily:
    // a write would otherwise replace the user's bytes with U+FFFD.
    let text = std::str::from_utf8(body).map_err(|e| {
        format!(
            "the resource is not valid UTF-8 (byte {}); it is left alone",
            e.valid_up_to()
        )
    })?;
    let cal = parse(body).map_err(|e| e.to_string())?;
    let series = cal.series.first().ok_or("no VEVENT in the resource")?;
    let rep = series.representative();
    let tz = cal.x_wr_timezone.unwrap_or(chrono_tz::UTC);
    let status = match rep.map(|e| e.status) {
        Some(crate::model::EventStatus::Cancelled) => "cancelled",
        Some(crate::model::EventStatus::Tentative) => "tentative",
        _ => "confirmed",
    };
    let cached = CachedEvent {
        remote_id: remote_id.to_string(),
        uid: series.uid.clone(),
        etag: etag.map(|e| e.0.clone()),
        payload_hash: crate::store::payload_hash(body),
        summary: rep.and_then(|e| e.summary.clone()),
        start_at: rep.and_then(|e| e.start).map(|s| s.to_utc(tz)),
        status: status.into(),
        // Only a resource with a recurring series is ever read again (agenda step, preview);
        // for the one-off meetings that make up most calendars, etag and hash are all a pass
        // needs, and not keeping their text keeps the cache a twentieth of the calendar's size.
        raw: if cal.series.iter().any(|s| s.is_recurring()) {
            text.to_string()
        } else {
            String::new()
        },
    };
    Ok((cached, cal))
}

/// What a fetch needs besides the server: the calendar, the time, and how to read a resource
/// into the cache (the owner and zone its series are detected with).
pub struct Fetch<'a> {
    pub client: &'a dyn Dav,
    pub cal: &'a Calendar,
    pub now: DateTime<Utc>,
    pub owner: &'a Owner,
    /// The calendar's zone (a resource's X-WR-TIMEZONE comes first).
    pub tz: Tz,
}

impl Fetch<'_> {
    /// Reads one downloaded resource into the cache (an unreadable one is reported and
    /// skipped), with the recurring series it holds.
    pub(crate) async fn take(
        &self,
        r: Resource,
        cache: &mut dyn CacheSink,
    ) -> Result<(), ProviderError> {
        match read_resource(r.url.as_str(), r.etag.as_ref(), &r.body) {
            Ok((event, parsed)) => {
                let tz = parsed.x_wr_timezone.unwrap_or(self.tz);
                let loaded = parsed
                    .series
                    .into_iter()
                    .filter(|s| s.is_recurring())
                    .map(|series| Loaded {
                        series,
                        tz,
                        owner: self.owner.clone(),
                        remote_id: event.remote_id.clone(),
                        cached: Vec::new(),
                    })
                    .collect();
                cache.put(event, loaded).await?;
            }
            Err(why) => cache.unreadable(r.url.to_string(), why),
        }
        Ok(())
    }

    /// Brings the cache of the calendar up to date.
    pub async fn run(&self, cache: &mut dyn CacheSink) -> Result<(), ProviderError> {
        let cal = self.cal;
        let url = Url::parse(&cal.remote_id).map_err(|e| {
            ProviderError::internal(format!(
                "calendar URL {:?} stored for this account is not a URL: {e}",
                cal.remote_id
            ))
        })?;
        // Once a day the whole listing is compared with the cache even when the token is
        // accepted: some servers (DAViCal) answer an unknown token with a plain listing that
        // cannot show deletions, so only a full comparison catches those. It costs the same
        // single request.
        let reconcile = cal
            .last_full_sync_at
            .is_none_or(|t| self.now - t > chrono::Duration::hours(FULL_RESYNC_HOURS));
        if listing_method(cal) {
            return self.listing(cache, &url).await.map_err(ProviderError::from);
        }
        if let Some(token) = cal.sync_token.as_deref().filter(|_| !reconcile) {
            match self.incremental(cache, &url, token).await {
                Err(DavOr::Dav(DavError::InvalidSyncToken { .. })) => {
                    warn!(calendar = cal.id, "sync token rejected; full resync");
                }
                Err(DavOr::Dav(e @ DavError::UnsupportedReport { .. })) => {
                    warn!(calendar = cal.id, error = %e, "sync-collection gone; listing by etag");
                    return self.listing(cache, &url).await.map_err(ProviderError::from);
                }
                other => return other.map_err(ProviderError::from),
            }
        }
        self.full(cache, &url).await.map_err(ProviderError::from)
    }

    async fn incremental(
        &self,
        cache: &mut dyn CacheSink,
        url: &Url,
        token: &str,
    ) -> Result<(), DavOr> {
        let cached = cache.etags().await.map_err(ProviderError::from)?;
        let mut token = token.to_string();
        // A server may truncate (507): ask again with the new token until it has said
        // everything.
        for _ in 0..100 {
            let changes = self.client.sync_collection(url, Some(&token)).await?;
            for gone in &changes.deleted {
                cache
                    .delete(gone.as_str())
                    .await
                    .map_err(ProviderError::from)?;
            }
            let wanted = wanted(&changes.changed, &cached);
            self.download(cache, url, &wanted).await?;
            let new_token = changes.token.clone().unwrap_or(token.clone());
            cache
                .cursor(Some(&new_token), self.cal.ctag.as_deref(), false)
                .await
                .map_err(ProviderError::from)?;
            token = new_token;
            if !changes.truncated {
                break;
            }
        }
        Ok(())
    }

    async fn full(&self, cache: &mut dyn CacheSink, url: &Url) -> Result<(), DavOr> {
        let mut cached = cache.etags().await.map_err(ProviderError::from)?;
        if cached.is_empty() {
            match self.first_import(cache, url).await {
                Ok(()) => return Ok(()),
                // No sync-collection here (a 403 naming it): the listing method from now on.
                Err(DavOr::Dav(e @ DavError::UnsupportedReport { .. })) => {
                    debug!(calendar = self.cal.id, error = %e, "no sync-collection; listing by etag");
                    return self.listing(cache, url).await;
                }
                // A server that refuses data in a sync report (Radicale caps the events one
                // answer may hold), or an answer too large or unreadable: the listing and
                // multigets below (what it stored so far shows as cached there, by etag).
                Err(DavOr::Dav(
                    e @ (DavError::Status { .. }
                    | DavError::TooLarge { .. }
                    | DavError::Xml { .. }
                    | DavError::InvalidSyncToken { .. }),
                )) => {
                    warn!(calendar = self.cal.id, error = %e, "sync report with data refused; listing instead");
                    cached = cache.etags().await.map_err(ProviderError::from)?;
                }
                Err(e) => return Err(e),
            }
        }
        let changes = match self.client.sync_collection(url, None).await {
            Ok(changes) => changes,
            Err(e) if no_sync_collection(&e) => {
                debug!(calendar = self.cal.id, error = %e, "no sync-collection; listing by etag");
                return self.listing(cache, url).await;
            }
            Err(e) => return Err(e.into()),
        };
        // A server may cut a long first listing short (507): ask on from its token until the
        // listing is complete, before anything is taken as deleted.
        let mut changes = changes;
        let mut listing: Vec<(Url, Option<Etag>)> = std::mem::take(&mut changes.changed);
        let mut token = changes.token.clone();
        let mut rounds = 0;
        while changes.truncated && rounds < 100 {
            rounds += 1;
            changes = self.client.sync_collection(url, token.as_deref()).await?;
            listing.append(&mut changes.changed);
            token = changes.token.clone().or(token);
        }
        self.compare(cache, url, listing, &cached, token.as_deref(), None)
            .await
    }

    /// The listing method, for servers without sync-collection (the way vdirsyncer syncs every
    /// server): the calendar's ctag (one PROPFIND, Depth 0: all an idle pass costs); when it
    /// changed, the etag of every resource (Depth 1) compared with the cache, and a multiget of
    /// what changed. The ctag stored (empty when the server has none) marks the method.
    async fn listing(&self, cache: &mut dyn CacheSink, url: &Url) -> Result<(), DavOr> {
        let info = self.client.calendar_info(url).await?;
        let ctag = info.ctag.unwrap_or_default();
        if !ctag.is_empty() && self.cal.ctag.as_deref() == Some(ctag.as_str()) {
            debug!(calendar = self.cal.id, "ctag unchanged");
            return Ok(());
        }
        let cached = cache.etags().await.map_err(ProviderError::from)?;
        let listing = self
            .client
            .list_etags(url)
            .await?
            .into_iter()
            .map(|(u, e)| (u, Some(e)))
            .collect();
        self.compare(cache, url, listing, &cached, None, Some(&ctag))
            .await
    }

    /// A complete listing compared with the cache: what is gone is deleted, what changed is
    /// downloaded, and the cursor is stored.
    async fn compare(
        &self,
        cache: &mut dyn CacheSink,
        url: &Url,
        listing: Vec<(Url, Option<Etag>)>,
        cached: &HashMap<String, Option<String>>,
        token: Option<&str>,
        ctag: Option<&str>,
    ) -> Result<(), DavOr> {
        let mut listing = listing;
        self.confirm_missing(&mut listing, cached).await?;
        let present = listing.iter().map(|(u, _)| u.to_string()).collect();
        if !cache
            .full_listing(&present)
            .await
            .map_err(ProviderError::from)?
        {
            return Ok(());
        }
        let wanted = wanted(&listing, cached);
        self.download(cache, url, &wanted).await?;
        cache
            .cursor(token, ctag, true)
            .await
            .map_err(ProviderError::from)?;
        Ok(())
    }

    /// Resources the cache holds that a complete listing left out are each asked for (PROPFIND
    /// Depth 0) before they are taken as deleted: one still there goes back into the listing.
    /// A server that answers a listing short (the seeded simulator found it) made the daemon
    /// forget a 1:1 until the next daily comparison, since a sync token only names changes.
    /// An empty listing is the cache's guard's (guarantee 7); beyond [`MAX_CONFIRMED`] missing
    /// resources the rest are taken as deleted (a person cleared a calendar).
    async fn confirm_missing(
        &self,
        listing: &mut Vec<(Url, Option<Etag>)>,
        cached: &HashMap<String, Option<String>>,
    ) -> Result<(), DavOr> {
        if listing.is_empty() || crate::sim::mutation::on(crate::sim::Mutation::TrustShortListing) {
            return Ok(());
        }
        let present: std::collections::HashSet<String> =
            listing.iter().map(|(u, _)| u.to_string()).collect();
        let mut missing: Vec<&String> = cached.keys().filter(|k| !present.contains(*k)).collect();
        missing.sort();
        for gone in missing.into_iter().take(MAX_CONFIRMED) {
            let Ok(url) = Url::parse(gone) else {
                continue;
            };
            match self.client.etag(&url).await {
                Ok(etag) => {
                    debug!(calendar = self.cal.id, resource = %url, "left out of the listing but still there");
                    listing.push((url, etag));
                }
                Err(DavError::NotFound { .. } | DavError::NotACalendar { .. }) => {}
                Err(DavError::Status {
                    status: 404 | 410, ..
                }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Downloads `wanted` into the cache, a slice at a time so that the first import of a large
    /// calendar can show its progress (a bar on a terminal; see `crate::progress`).
    async fn download(
        &self,
        cache: &mut dyn CacheSink,
        url: &Url,
        wanted: &[Url],
    ) -> Result<(), DavOr> {
        if wanted.is_empty() {
            return Ok(());
        }
        let name = match self.cal.display_name.as_str() {
            "" => "calendar",
            named => named,
        };
        let task = format!("importing {name}");
        let total = wanted.len() as u64;
        let mut done = 0;
        for slice in wanted.chunks(IMPORT_SLICE) {
            let fetched = match self.client.multiget(url, slice).await {
                Ok(fetched) => fetched,
                // One bad resource (too large, not UTF-8) spoils the whole multistatus answer:
                // ask for this slice one resource at a time, so only that one is skipped.
                Err(e @ (DavError::TooLarge { .. } | DavError::Xml { .. })) => {
                    warn!(calendar = self.cal.id, error = %e, "multiget refused; reading resources one by one");
                    self.one_by_one(cache, slice).await?
                }
                Err(e) => return Err(e.into()),
            };
            for r in fetched {
                self.take(r, cache).await?;
            }
            done += slice.len() as u64;
            crate::progress::report(&task, done, total);
        }
        Ok(())
    }

    /// The first import of a calendar whose cache is empty: one sync report that carries every
    /// resource's data, read and stored response by response (no listing, no multigets). What
    /// a server leaves without data is fetched by multiget after.
    async fn first_import(&self, cache: &mut dyn CacheSink, url: &Url) -> Result<(), DavOr> {
        let mut missing: Vec<Url> = Vec::new();
        let mut token: Option<String> = None;
        // A server may cut a long answer short (507): ask on from its token.
        for _ in 0..100 {
            let page = self.client.sync_page(url, token.as_deref(), true).await?;
            let mut entries = page.entries()?;
            let mut truncated = false;
            while let Some(entry) = entries.next_entry()? {
                match entry {
                    SyncEntry::Collection { truncated: t } => truncated |= t,
                    SyncEntry::Changed {
                        url,
                        etag,
                        data: Some(body),
                    } => self.take(Resource { url, etag, body }, cache).await?,
                    SyncEntry::Changed { url, .. } => missing.push(url),
                    // Only a continuation can delete what an earlier answer of this import
                    // gave. (One still missing is answered 404 by the multiget, which skips
                    // it.)
                    SyncEntry::Deleted(gone) => {
                        cache
                            .delete(gone.as_str())
                            .await
                            .map_err(ProviderError::from)?;
                    }
                }
            }
            token = entries.token().map(str::to_string).or(token);
            if !truncated {
                break;
            }
        }
        if !missing.is_empty() {
            debug!(
                calendar = self.cal.id,
                missing = missing.len(),
                "resources without data; multiget"
            );
            self.download(cache, url, &missing).await?;
        }
        cache
            .cursor(token.as_deref(), None, true)
            .await
            .map_err(ProviderError::from)?;
        Ok(())
    }

    async fn one_by_one(
        &self,
        cache: &mut dyn CacheSink,
        slice: &[Url],
    ) -> Result<Vec<Resource>, DavOr> {
        let mut fetched = Vec::with_capacity(slice.len());
        for one in slice {
            // A plain GET: its body reaches `to_cached` as bytes, which names what is wrong
            // with it.
            match self.client.get(one).await {
                Ok(r) => fetched.push(r),
                Err(e @ DavError::TooLarge { .. }) => {
                    cache.unreadable(one.to_string(), e.to_string())
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(fetched)
    }
}

/// Whether the calendar is synced by the listing method: a ctag stored without a sync token
/// (only [`Fetch::listing`] stores one so).
pub(crate) fn listing_method(cal: &Calendar) -> bool {
    cal.ctag.is_some() && cal.sync_token.is_none()
}

/// An answer to sync-collection that says the server has none there: a 403 naming
/// `DAV:supported-report` (sabre/dav 1.8), or a 4xx/501 without a reason (older servers).
fn no_sync_collection(e: &DavError) -> bool {
    match e {
        DavError::UnsupportedReport { .. } => true,
        DavError::Status { status, .. } => (400..500).contains(status) || *status == 501,
        _ => false,
    }
}

/// The listed resources whose etag differs from the cached one (or that give none).
fn wanted(listing: &[(Url, Option<Etag>)], cached: &HashMap<String, Option<String>>) -> Vec<Url> {
    listing
        .iter()
        .filter(|(u, etag)| {
            let known = cached.get(u.as_str()).cloned().flatten();
            etag.is_none() || known.as_deref() != etag.as_ref().map(|e| e.0.as_str())
        })
        .map(|(u, _)| u.clone())
        .collect()
}

/// A fetch step's error: the server's (matched on to choose a fallback) or already classified.
#[derive(Debug)]
enum DavOr {
    Dav(DavError),
    Provider(ProviderError),
}

impl From<DavError> for DavOr {
    fn from(e: DavError) -> Self {
        DavOr::Dav(e)
    }
}

impl From<ProviderError> for DavOr {
    fn from(e: ProviderError) -> Self {
        DavOr::Provider(e)
    }
}

impl From<DavOr> for ProviderError {
    fn from(e: DavOr) -> Self {
        match e {
            DavOr::Dav(d) => d.into(),
            DavOr::Provider(p) => p,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn a_resource_that_is_not_utf8_is_refused_not_read_lossily() {
        let body = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260101T100000Z\r\n\
SUMMARY:Caf\xe9\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let err = to_cached("/c/x.ics", None, body).unwrap_err();
        assert!(err.contains("not valid UTF-8 (byte 88)"), "{err}");
        let utf8 = String::from_utf8_lossy(body).replace('\u{fffd}', "\u{e9}");
        assert!(
            to_cached("/c/x.ics", None, utf8.as_bytes())
                .unwrap()
                .raw
                .contains("Caf\u{e9}")
        );
    }

    #[test]
    fn a_resource_with_a_nul_byte_is_refused_not_stored() {
        let body = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260101T100000Z\r\n\
SUMMARY:hello\0world\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let err = to_cached("/c/x.ics", None, body).unwrap_err();
        assert!(err.contains("NUL"), "{err}");
        let ok = body
            .iter()
            .map(|&b| if b == 0 { b' ' } else { b })
            .collect::<Vec<u8>>();
        assert_eq!(to_cached("/c/x.ics", None, &ok).unwrap().uid, "x");
    }

    /// Every test calendar, as it is, as a one-off (its recurrence lines removed) and with a bad
    /// line in each of its components.
    fn corpus() -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "ics") {
                    files.push((path.display().to_string(), std::fs::read(path).unwrap()));
                }
            }
        }
        assert!(files.len() > 40, "the test calendars are missing");
        let mut out = Vec::new();
        for (name, body) in files {
            // Logical lines (a folded line with its continuations), endings kept.
            let mut lines: Vec<Vec<u8>> = Vec::new();
            for physical in body.split_inclusive(|&b| b == b'\n') {
                match (lines.last_mut(), physical.first()) {
                    (Some(last), Some(b' ' | b'\t')) => last.extend_from_slice(physical),
                    _ => lines.push(physical.to_vec()),
                }
            }
            let starts = |l: &[u8], p: &str| {
                l.len() >= p.len() && l[..p.len()].eq_ignore_ascii_case(p.as_bytes())
            };
            let one_off: Vec<u8> = lines
                .iter()
                .filter(|l| !["RRULE", "RDATE", "EXDATE"].iter().any(|p| starts(l, p)))
                .flatten()
                .copied()
                .collect();
            let one_off_lines: Vec<Vec<u8>> = lines
                .iter()
                .filter(|l| !["RRULE", "RDATE", "EXDATE"].iter().any(|p| starts(l, p)))
                .cloned()
                .collect();
            let odd = [
                "NO COLON HERE",
                "ATTENDEE;CN=\"open:mailto:a@x.org",
                "X-A;B:\x01",
                "status:CANCELLED",
                "STATUS:TENTATIVE",
                "SEQUENCE:7",
                "SUMMARY;LANGUAGE=de:Caf\u{e9}\\, Kuchen",
                "DTEND:not-a-time",
                "DURATION:P1X",
                "RECURRENCE-ID:nope",
                "EXDATE:nope",
            ];
            // After the first BEGIN of each kind of component.
            let mut kinds = HashSet::new();
            let begins: Vec<usize> = (0..one_off_lines.len())
                .filter(|&i| starts(&one_off_lines[i], "BEGIN:") && kinds.insert(&one_off_lines[i]))
                .collect();
            for (i, line) in odd.iter().enumerate() {
                for &at in &begins {
                    let mut changed = one_off_lines.clone();
                    changed.insert(at + 1, format!("{line}\r\n").into_bytes());
                    out.push((
                        format!("{name} one-off, `{}` after line {at}", odd[i]),
                        changed.concat(),
                    ));
                }
            }
            // Its first event twice with one UID: the higher SEQUENCE is the one read.
            if let (Some(b), Some(e)) = (
                one_off_lines.iter().position(|l| starts(l, "BEGIN:VEVENT")),
                one_off_lines.iter().position(|l| starts(l, "END:VEVENT")),
            ) && b < e
            {
                let event = &one_off_lines[b + 1..=e];
                let mut twice = one_off_lines[..=b].to_vec();
                twice.push(b"SEQUENCE:7\r\nSUMMARY:newer\r\n".to_vec());
                twice.extend_from_slice(event);
                twice.extend_from_slice(&one_off_lines[b..e]);
                twice.push(b"SUMMARY:older\r\n".to_vec());
                twice.extend_from_slice(&one_off_lines[e..]);
                out.push((format!("{name} one-off, its event twice"), twice.concat()));
            }
            out.push((format!("{name} as a one-off"), one_off));
            out.push((name, body));
        }
        out
    }

    #[test]
    fn skimming_a_resource_gives_the_cache_what_reading_it_whole_gives() {
        let mut skimmed = 0;
        for (name, body) in corpus() {
            let whole = record("/c/x.ics", None, &body, crate::ics::parse);
            let skim = read_resource("/c/x.ics", None, &body);
            match (&whole, &skim) {
                (Ok((a, whole_cal)), Ok((b, cal))) => {
                    assert_eq!(a, b, "{name}");
                    let recurring = whole_cal.series.iter().any(|s| s.is_recurring());
                    if recurring {
                        assert_eq!(whole_cal, cal, "{name}: a recurring resource is read whole");
                    } else if whole_cal != cal {
                        skimmed += 1;
                    }
                }
                (Err(a), Err(b)) => assert_eq!(a, b, "{name}"),
                _ => panic!("{name}: read whole {whole:?}, skimmed {skim:?}"),
            }
        }
        assert!(skimmed > 20, "only {skimmed} resources were skimmed");
    }

    #[test]
    fn the_cache_keeps_the_text_of_recurring_resources_only() {
        let one_off = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\n\
DTSTART:20260101T100000Z\r\nSUMMARY:Lunch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let cached = to_cached("/c/a.ics", None, one_off).unwrap();
        assert_eq!(cached.raw, "");
        assert_eq!(cached.summary.as_deref(), Some("Lunch"));
        assert_eq!(cached.payload_hash, crate::store::payload_hash(one_off));
        let weekly = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:b\r\n\
DTSTART:20260101T100000Z\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:1:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let cached = to_cached("/c/b.ics", None, weekly).unwrap();
        assert_eq!(cached.raw.as_bytes(), weekly);
    }
}
