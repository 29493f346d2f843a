//! The simulated CalDAV server: resources with etags, a change log behind sync tokens (which it
//! forgets, answering "invalid token"), a ctag, and the faults a real server shows (429, 5xx,
//! an empty or short listing, a rewrite of what was stored). It answers the pass through
//! [`Dav`], the same trait the HTTP client implements, so the real fetch and write code runs.
//! A crash of the daemon is a request that never answers (see `sim::run`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use url::Url;

use super::gated;
use super::world::{After, Gate, World};
use crate::model::Etag;
use crate::provider::caldav::client::{
    CalendarInfo, DavError, Precondition, Resource, Result, SyncChanges, SyncPage,
};
use crate::provider::caldav::dav::Dav;

/// The calendar's URL on the simulated server.
pub(crate) const CALENDAR_URL: &str = "https://sim.example/cal/manager/";

/// One stored resource.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub body: String,
    pub etag: u64,
}

/// How a server rewrites what it stores (each a real server's habit: docs/decisions.md,
/// "caldav interop").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rewrite {
    /// Stores the bytes it was given.
    Verbatim,
    /// Line ends as CRLF (most servers).
    Crlf,
    /// Unfolds and folds again at 75 octets (Cyrus, DAViCal).
    Refold,
    /// Moves DESCRIPTION to the end of its component (sabre/dav reserializes).
    Reorder,
    /// Stamps DTSTAMP with its own time.
    Stamp,
}

/// The server's state: what a person's calendar app and the daemon both see.
#[derive(Debug)]
pub(crate) struct Server {
    /// Path -> resource.
    pub resources: BTreeMap<String, Stored>,
    /// Path -> sequence number of its last change (deletions kept, as tombstones).
    changes: BTreeMap<String, (u64, bool)>,
    seq: u64,
    /// Tokens older than this are refused (the server compacted its log).
    oldest_token: u64,
    next_etag: u64,
    /// The server has no sync-collection (sabre/dav 1.8): ctag and etag listing only.
    pub no_sync_collection: bool,
    pub rewrite: Rewrite,
}

impl Server {
    pub(crate) fn new(no_sync_collection: bool, rewrite: Rewrite) -> Self {
        Self {
            resources: BTreeMap::new(),
            changes: BTreeMap::new(),
            seq: 1,
            oldest_token: 0,
            next_etag: 1,
            no_sync_collection,
            rewrite,
        }
    }

    /// Stores `body` at `path` (as a person's app or the daemon writes it), rewritten the
    /// server's way; returns the new etag.
    pub(crate) fn store(&mut self, path: &str, body: &str) -> u64 {
        let body = rewrite(self.rewrite, body, self.seq);
        let etag = self.next_etag;
        self.next_etag += 1;
        self.seq += 1;
        self.resources
            .insert(path.to_string(), Stored { body, etag });
        self.changes.insert(path.to_string(), (self.seq, false));
        etag
    }

    pub(crate) fn delete(&mut self, path: &str) {
        if self.resources.remove(path).is_some() {
            self.seq += 1;
            self.changes.insert(path.to_string(), (self.seq, true));
        }
    }

    /// Forgets the change log: every token given so far is refused.
    pub(crate) fn compact(&mut self) {
        self.oldest_token = self.seq;
    }

    fn token(&self) -> String {
        format!("https://sim.example/sync/{}", self.seq)
    }

    fn ctag(&self) -> String {
        format!("ctag-{}", self.seq)
    }

    /// What changed since `token` (everything for `None`): (path, deleted).
    fn since(&self, token: Option<&str>) -> std::result::Result<Vec<(String, bool)>, ()> {
        let from = match token {
            None | Some("") => 0,
            Some(t) => {
                let n: u64 = t
                    .rsplit('/')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or(())?;
                if n < self.oldest_token || n > self.seq {
                    return Err(());
                }
                n
            }
        };
        Ok(self
            .changes
            .iter()
            .filter(|(_, (seq, deleted))| *seq > from && !(from == 0 && *deleted))
            .map(|(p, (_, deleted))| (p.clone(), *deleted))
            .collect())
    }
}

fn etag(n: u64) -> Etag {
    Etag(format!("\"{n}\""))
}

fn url_of(path: &str) -> Url {
    Url::parse(CALENDAR_URL)
        .and_then(|u| u.join(path))
        .expect("simulated resource paths are URL paths")
}

/// The resource's path from its URL.
pub(crate) fn path_of(url: &Url) -> String {
    url.path()
        .strip_prefix("/cal/manager/")
        .unwrap_or(url.path())
        .to_string()
}

/// `body` as a server with habit `how` stores it. Each keeps the meaning: the same
/// properties, values and parameters.
pub(crate) fn rewrite(how: Rewrite, body: &str, stamp: u64) -> String {
    match how {
        Rewrite::Verbatim => body.to_string(),
        Rewrite::Crlf => crlf(&unfold_lines(body).join("\n")),
        Rewrite::Refold => crlf(
            &unfold_lines(body)
                .iter()
                .map(|l| fold75(l))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        Rewrite::Reorder => {
            let mut out: Vec<String> = Vec::new();
            let mut held: Vec<String> = Vec::new();
            for line in unfold_lines(body) {
                if line.starts_with("DESCRIPTION") {
                    held.push(line);
                } else if line == "END:VEVENT" {
                    out.append(&mut held);
                    out.push(line);
                } else {
                    out.push(line);
                }
            }
            crlf(&out.join("\n"))
        }
        Rewrite::Stamp => crlf(
            &unfold_lines(body)
                .into_iter()
                .map(|l| {
                    if l.starts_with("DTSTAMP") {
                        format!("DTSTAMP:20260101T{:06}Z", stamp % 235959)
                    } else {
                        l
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
}

/// The logical lines of an iCalendar text (folds joined, line ends dropped).
pub(crate) fn unfold_lines(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in body.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let (Some(rest), Some(last)) = (raw.strip_prefix([' ', '\t']), out.last_mut()) {
            last.push_str(rest);
            continue;
        }
        if !raw.is_empty() {
            out.push(raw.to_string());
        }
    }
    out
}

fn crlf(s: &str) -> String {
    let mut out = s.replace('\n', "\r\n");
    out.push_str("\r\n");
    out
}

/// One logical line folded at 75 octets (never inside a UTF-8 sequence).
fn fold75(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3);
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out
}

/// A multistatus answer to sync-collection with data, as servers send it.
fn multistatus(entries: &[(String, Option<&Stored>)], token: &str) -> Vec<u8> {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\" \
         xmlns:c=\"urn:ietf:params:xml:ns:caldav\">",
    );
    for (path, stored) in entries {
        let href = format!("/cal/manager/{path}");
        match stored {
            Some(s) => x.push_str(&format!(
                "<d:response><d:href>{href}</d:href><d:propstat><d:prop><d:getetag>&quot;{}&quot;\
                 </d:getetag><c:calendar-data>{}</c:calendar-data></d:prop>\
                 <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>",
                s.etag,
                xml_escape(&s.body)
            )),
            None => x.push_str(&format!(
                "<d:response><d:href>{href}</d:href><d:status>HTTP/1.1 404 Not Found</d:status>\
                 </d:response>"
            )),
        }
    }
    x.push_str(&format!(
        "<d:sync-token>{}</d:sync-token></d:multistatus>",
        xml_escape(token)
    ));
    x.into_bytes()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\r', "&#13;")
}

/// The daemon's connection to the simulated server: every request goes through the world
/// (its faults, its people, its crash point).
pub(crate) struct SimDav {
    pub world: Arc<Mutex<World>>,
}

impl SimDav {
    /// The world decides: a fault, a crash, or go (a person may act first).
    fn gate(&self, method: &str, url: &Url) -> Gate<DavError> {
        let mut w = self.world.lock().expect("the world lock is never poisoned");
        match w.gate(method, url.path()) {
            Gate::Fail(429) => Gate::Fail(status(method, url, 429)),
            Gate::Fail(_) => Gate::Fail(status(method, url, 503)),
            Gate::Crash => Gate::Crash,
            Gate::Go => Gate::Go,
        }
    }

    fn after(&self, method: &str, url: &Url) -> After {
        let mut w = self.world.lock().expect("the world lock is never poisoned");
        w.after(method, url.path())
    }

    /// A request whose answer was lost: the server's proxy gave up waiting.
    fn timed_out(&self, method: &str, url: &Url) -> DavError {
        status(method, url, 504)
    }
}

fn status(method: &str, url: &Url, status: u16) -> DavError {
    DavError::Status {
        method: method.into(),
        url: url.to_string(),
        status,
        body: String::new(),
    }
}

/// What a sync-collection REPORT since `token` names: (path, deleted); the server's refusal
/// when it has no such report or no longer knows the token.
fn sync_report(w: &mut World, url: &Url, token: Option<&str>) -> Result<Vec<(String, bool)>> {
    if w.server.no_sync_collection {
        return Err(DavError::UnsupportedReport {
            url: url.to_string(),
            report: "sync-collection".into(),
        });
    }
    w.server.since(token).map_err(|()| {
        w.trace("sync token refused".into());
        DavError::InvalidSyncToken {
            url: url.to_string(),
        }
    })
}

impl Dav for SimDav {
    fn calendar_info<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<CalendarInfo>> {
        Box::pin(async move {
            gated!(self, "PROPFIND", url, {
                let w = self.world.lock().expect("world lock");
                Ok(CalendarInfo {
                    url: url.clone(),
                    display_name: Some("Calendar".into()),
                    components: vec!["VEVENT".into()],
                    ctag: Some(w.server.ctag()),
                    sync_token: (!w.server.no_sync_collection).then(|| w.server.token()),
                    sync_collection: Some(!w.server.no_sync_collection),
                })
            })
        })
    }

    fn sync_collection<'a>(
        &'a self,
        url: &'a Url,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<SyncChanges>> {
        Box::pin(async move {
            gated!(self, "REPORT sync-collection", url, {
                let mut w = self.world.lock().expect("world lock");
                let changes = sync_report(&mut w, url, token)?;
                let mut out = SyncChanges {
                    token: Some(w.server.token()),
                    ..SyncChanges::default()
                };
                for (path, deleted) in changes {
                    if deleted {
                        out.deleted.push(url_of(&path));
                    } else if let Some(s) = w.server.resources.get(&path) {
                        out.changed.push((url_of(&path), Some(etag(s.etag))));
                    }
                }
                if token.is_none() {
                    w.listing_fault(&mut out.changed);
                }
                Ok(out)
            })
        })
    }

    fn sync_page<'a>(
        &'a self,
        url: &'a Url,
        token: Option<&'a str>,
        with_data: bool,
    ) -> BoxFuture<'a, Result<SyncPage>> {
        Box::pin(async move {
            gated!(self, "REPORT sync-collection", url, {
                let mut w = self.world.lock().expect("world lock");
                let changes = sync_report(&mut w, url, token)?;
                let mut paths: Vec<(Url, Option<Etag>)> = changes
                    .iter()
                    .filter(|(_, d)| !d)
                    .map(|(p, _)| (url_of(p), None))
                    .collect();
                w.listing_fault(&mut paths);
                let kept: Vec<String> = paths.iter().map(|(u, _)| path_of(u)).collect();
                let entries: Vec<(String, Option<&Stored>)> = changes
                    .iter()
                    .filter(|(p, d)| *d || kept.contains(p))
                    .map(|(p, d)| {
                        let s = if *d { None } else { w.server.resources.get(p) };
                        (p.clone(), s)
                    })
                    .collect();
                let body = if with_data {
                    multistatus(&entries, &w.server.token())
                } else {
                    multistatus(&[], &w.server.token())
                };
                Ok(SyncPage::from_body(url.clone(), body))
            })
        })
    }

    fn list_etags<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<Vec<(Url, Etag)>>> {
        Box::pin(async move {
            gated!(self, "PROPFIND Depth 1", url, {
                let mut w = self.world.lock().expect("world lock");
                let mut all: Vec<(Url, Option<Etag>)> = w
                    .server
                    .resources
                    .iter()
                    .map(|(p, s)| (url_of(p), Some(etag(s.etag))))
                    .collect();
                w.listing_fault(&mut all);
                Ok(all.into_iter().filter_map(|(u, e)| Some((u, e?))).collect())
            })
        })
    }

    fn multiget<'a>(
        &'a self,
        _calendar: &'a Url,
        urls: &'a [Url],
    ) -> BoxFuture<'a, Result<Vec<Resource>>> {
        Box::pin(async move {
            gated!(self, "REPORT calendar-multiget", _calendar, {
                let w = self.world.lock().expect("world lock");
                Ok(urls
                    .iter()
                    .filter_map(|u| {
                        let s = w.server.resources.get(&path_of(u))?;
                        Some(Resource {
                            url: u.clone(),
                            etag: Some(etag(s.etag)),
                            body: s.body.clone().into_bytes(),
                        })
                    })
                    .collect())
            })
        })
    }

    fn get<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<Resource>> {
        Box::pin(async move {
            gated!(self, "GET", url, {
                let w = self.world.lock().expect("world lock");
                match w.server.resources.get(&path_of(url)) {
                    Some(s) => Ok(Resource {
                        url: url.clone(),
                        etag: Some(etag(s.etag)),
                        body: s.body.clone().into_bytes(),
                    }),
                    None => Err(DavError::NotFound {
                        url: url.to_string(),
                    }),
                }
            })
        })
    }

    fn etag<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<Option<Etag>>> {
        Box::pin(async move {
            gated!(self, "PROPFIND Depth 0", url, {
                let w = self.world.lock().expect("world lock");
                match w.server.resources.get(&path_of(url)) {
                    Some(s) => Ok(Some(etag(s.etag))),
                    None => Err(DavError::NotFound {
                        url: url.to_string(),
                    }),
                }
            })
        })
    }

    fn put_and_read<'a>(
        &'a self,
        url: &'a Url,
        body: Vec<u8>,
        pre: &'a Precondition,
    ) -> BoxFuture<'a, Result<Resource>> {
        Box::pin(async move {
            gated!(self, "PUT", url, {
                let mut w = self.world.lock().expect("world lock");
                let path = path_of(url);
                let current = w.server.resources.get(&path).cloned();
                let unconditional =
                    crate::sim::mutation::on(crate::sim::Mutation::UnconditionalWrite);
                let matches = unconditional
                    || match (pre, &current) {
                        (Precondition::Create, None) => true,
                        (Precondition::Match(e), Some(s)) => *e == etag(s.etag),
                        _ => false,
                    };
                if !matches {
                    w.trace(format!("PUT {path} -> 412"));
                    return Err(DavError::PreconditionFailed {
                        url: url.to_string(),
                    });
                }
                let Ok(text) = String::from_utf8(body) else {
                    w.violation("the daemon wrote a resource that is not UTF-8".into());
                    return Err(status("PUT", url, 400));
                };
                w.daemon_wrote(&path, current.as_ref().map(|s| s.body.as_str()), &text);
                let new = w.server.store(&path, &text);
                let stored = w.server.resources[&path].body.clone();
                Ok(Resource {
                    url: url.clone(),
                    etag: Some(etag(new)),
                    body: stored.into_bytes(),
                })
            })
        })
    }

    fn request_count(&self) -> u64 {
        self.world.lock().map(|w| w.requests).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nDESCRIPTION:one\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn every_rewrite_keeps_what_the_resource_says() {
        let long = ICS.replace("one", &"é".repeat(100));
        for how in [
            Rewrite::Verbatim,
            Rewrite::Crlf,
            Rewrite::Refold,
            Rewrite::Reorder,
            Rewrite::Stamp,
        ] {
            let before = crate::ics::parse(long.as_bytes()).unwrap();
            let text = rewrite(how, &long, 7);
            let after = crate::ics::parse(text.as_bytes()).unwrap();
            let desc = |c: &crate::ics::Calendar| c.series[0].master.clone().unwrap().description;
            assert_eq!(desc(&before), desc(&after), "{how:?}");
            if how == Rewrite::Refold {
                assert!(text.lines().all(|l| l.len() <= 76), "{text}");
            }
        }
    }

    #[test]
    fn a_token_names_what_changed_since_and_a_compacted_log_refuses_it() {
        let mut s = Server::new(false, Rewrite::Verbatim);
        s.store("a.ics", ICS);
        let t = s.token();
        s.store("b.ics", ICS);
        s.delete("a.ics");
        let mut since = s.since(Some(&t)).unwrap();
        since.sort();
        assert_eq!(since, vec![("a.ics".into(), true), ("b.ics".into(), false)]);
        assert_eq!(s.since(None).unwrap(), vec![("b.ics".into(), false)]);
        s.compact();
        assert!(s.since(Some(&t)).is_err());
    }
}
