//! The simulated Google Calendar: masters and exceptions with etags, a change log behind sync
//! tokens (forgotten: 410, full sync required), instances expanded from the rule, a PATCH of an
//! instance that makes an exception (412 on a stale etag), and the faults of `sim::server`
//! (429, 5xx, an empty or short listing). It answers the real Google session through
//! [`GoogleApi`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;
use secrecy::SecretString;

use super::gated;
use super::world::{After, Gate, World, stamp};
use crate::model::Etag;
use crate::provider::google::api::GoogleApi;
use crate::provider::google::client::{
    EventListing, GoogleAttendee, GoogleDateTime, GoogleError, GoogleEvent, GooglePerson, Result,
    SyncMode, WatchedChannel,
};

/// The manager's primary calendar.
pub(crate) const CALENDAR_ID: &str = "manager@sim.example";

/// The calendar's events, by id (masters, and exceptions `MASTER_YYYYMMDDTHHMMSSZ`).
#[derive(Debug, Default)]
pub(crate) struct Calendar {
    pub events: BTreeMap<String, GoogleEvent>,
    /// Event id -> sequence number of its last change.
    changes: BTreeMap<String, u64>,
    seq: u64,
    oldest_token: u64,
    next_etag: u64,
}

fn at(t: DateTime<Utc>) -> GoogleDateTime {
    GoogleDateTime {
        date: None,
        date_time: Some(t.to_rfc3339()),
        time_zone: Some("UTC".into()),
    }
}

impl Calendar {
    /// Stores `ev` (a person's edit or the daemon's), with a new etag.
    pub(crate) fn store(&mut self, mut ev: GoogleEvent) -> GoogleEvent {
        self.next_etag += 1;
        self.seq += 1;
        ev.etag = Some(format!("\"{}\"", self.next_etag));
        self.changes.insert(ev.id.clone(), self.seq);
        self.events.insert(ev.id.clone(), ev.clone());
        ev
    }

    /// A weekly series.
    pub(crate) fn add_series(
        &mut self,
        id: &str,
        summary: &str,
        first: DateTime<Utc>,
        people: &[&str],
    ) {
        self.store(GoogleEvent {
            id: id.into(),
            status: Some("confirmed".into()),
            ical_uid: Some(format!("{id}@google.com")),
            recurrence: Some(vec!["RRULE:FREQ=WEEKLY".into()]),
            start: Some(at(first)),
            end: Some(at(first + Duration::minutes(30))),
            summary: Some(summary.into()),
            organizer: Some(GooglePerson {
                email: Some(super::world::MANAGER.into()),
                display_name: None,
                is_self: true,
            }),
            attendees: Some(
                people
                    .iter()
                    .map(|p| GoogleAttendee {
                        email: Some((*p).into()),
                        is_self: *p == super::world::MANAGER,
                        organizer: *p == super::world::MANAGER,
                        response_status: Some("accepted".into()),
                        ..GoogleAttendee::default()
                    })
                    .collect(),
            ),
            event_type: Some("default".into()),
            ..GoogleEvent::default()
        });
    }

    /// Deletes a series (Google keeps it, cancelled, for incremental listings).
    pub(crate) fn delete(&mut self, id: &str) {
        if let Some(mut ev) = self.events.get(id).cloned() {
            ev.status = Some("cancelled".into());
            self.store(ev);
        }
    }

    pub(crate) fn compact(&mut self) {
        self.oldest_token = self.seq;
    }

    /// The master and exceptions of series `id`.
    fn series_events(&self, id: &str) -> Vec<GoogleEvent> {
        self.events
            .values()
            .filter(|e| e.id == id || e.recurring_event_id.as_deref() == Some(id))
            .cloned()
            .collect()
    }

    pub(crate) fn is_live(&self, id: &str) -> bool {
        self.events.get(id).is_some_and(|e| !e.is_cancelled())
    }

    /// The occurrences of series `id` around `now` (none when it is deleted).
    pub(crate) fn occurrences(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Vec<crate::model::Occurrence> {
        if !self.is_live(id) {
            return Vec::new();
        }
        let events = self.series_events(id);
        let (series, _) =
            crate::provider::google::convert::series_from_events(&events, Some(chrono_tz::UTC));
        let Some(series) = series.into_iter().find(|s| s.master.is_some()) else {
            return Vec::new();
        };
        crate::ics::expand(
            &series,
            now - Duration::days(super::world::WINDOW_DAYS),
            now + Duration::days(super::world::WINDOW_DAYS),
            chrono_tz::UTC,
        )
        .unwrap_or_default()
    }

    /// The instance of series `id` that originally starts at `os`, as events.instances gives
    /// it: its exception, or one made from the master (with the master's etag).
    pub(crate) fn instance(
        &self,
        id: &str,
        os: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<GoogleEvent> {
        let iid = format!("{id}_{}", stamp(os));
        if let Some(ex) = self.events.get(&iid) {
            return Some(ex.clone());
        }
        let master = self.events.get(id)?;
        let occ = self
            .occurrences(id, now)
            .into_iter()
            .find(|o| o.original_start == os)?;
        Some(GoogleEvent {
            id: iid,
            recurring_event_id: Some(id.into()),
            original_start_time: Some(at(os)),
            recurrence: None,
            start: Some(at(occ.start)),
            end: Some(at(occ.end)),
            ..master.clone()
        })
    }

    /// Makes or changes the exception of one instance with `edit` (no etag check: a person).
    pub(crate) fn edit_instance(
        &mut self,
        id: &str,
        os: DateTime<Utc>,
        now: DateTime<Utc>,
        edit: impl FnOnce(&mut GoogleEvent),
    ) -> Option<GoogleEvent> {
        let mut ev = self.instance(id, os, now)?;
        edit(&mut ev);
        Some(self.store(ev))
    }

    fn since(&self, token: Option<&str>) -> std::result::Result<Vec<GoogleEvent>, ()> {
        let from = match token {
            None => 0,
            Some(t) => {
                let n: u64 = t
                    .strip_prefix("tok")
                    .and_then(|n| n.parse().ok())
                    .ok_or(())?;
                if n < self.oldest_token || n > self.seq {
                    return Err(());
                }
                n
            }
        };
        let full = from == 0;
        Ok(self
            .changes
            .iter()
            .filter(|(_, seq)| **seq > from)
            .filter_map(|(id, _)| self.events.get(id))
            // A full listing leaves out deleted series (and their exceptions).
            .filter(|e| {
                !full || {
                    let master = e.recurring_event_id.as_deref().unwrap_or(&e.id);
                    self.is_live(master)
                }
            })
            .cloned()
            .collect())
    }

    fn token(&self) -> String {
        format!("tok{}", self.seq)
    }
}

/// The daemon's connection to the simulated Google Calendar.
pub(crate) struct SimGoogle {
    pub world: Arc<Mutex<World>>,
}

impl SimGoogle {
    fn gate(&self, method: &str, what: &str) -> Gate<GoogleError> {
        let mut w = self.world.lock().expect("the world lock is never poisoned");
        match w.gate(method, what) {
            Gate::Fail(429) => Gate::Fail(GoogleError::RateLimited {
                url: what.into(),
                reason: "rateLimitExceeded".into(),
                attempts: 1,
                retry_after: Some(std::time::Duration::from_secs(30)),
            }),
            Gate::Fail(status) => Gate::Fail(GoogleError::Status {
                method: method.into(),
                url: what.into(),
                status,
                reason: "backendError".into(),
                body: String::new(),
            }),
            Gate::Crash => Gate::Crash,
            Gate::Go => Gate::Go,
        }
    }

    fn after(&self, method: &str, what: &str) -> After {
        let mut w = self.world.lock().expect("the world lock is never poisoned");
        w.after(method, what)
    }

    /// A request whose answer was lost: Google's front end gave up waiting.
    fn timed_out(&self, method: &str, what: &str) -> GoogleError {
        GoogleError::Status {
            method: method.into(),
            url: what.into(),
            status: 504,
            reason: "gatewayTimeout".into(),
            body: String::new(),
        }
    }
}

/// The series id and original start an instance id names.
fn split_instance(id: &str) -> Option<(&str, DateTime<Utc>)> {
    let (master, rest) = id.rsplit_once('_')?;
    let t = chrono::NaiveDateTime::parse_from_str(rest, "%Y%m%dT%H%M%SZ").ok()?;
    Some((master, t.and_utc()))
}

impl GoogleApi for SimGoogle {
    fn list_events<'a>(
        &'a self,
        calendar_id: &'a str,
        mode: &'a SyncMode,
    ) -> BoxFuture<'a, Result<EventListing>> {
        Box::pin(async move {
            gated!(self, "GET", "events.list", {
                let mut w = self.world.lock().expect("world lock");
                let token = match mode {
                    SyncMode::Full => None,
                    SyncMode::Incremental(t) => Some(t.as_str()),
                };
                let Ok(mut events) = w.google.since(token) else {
                    w.trace("sync token refused (410)".into());
                    return Err(GoogleError::FullSyncRequired {
                        calendar_id: calendar_id.into(),
                        reason: "fullSyncRequired".into(),
                    });
                };
                if token.is_none() {
                    w.listing_fault(&mut events);
                }
                Ok(EventListing {
                    events,
                    next_sync_token: Some(w.google.token()),
                    time_zone: Some("UTC".into()),
                    pages: 1,
                })
            })
        })
    }

    fn instances<'a>(
        &'a self,
        _calendar_id: &'a str,
        event_id: &'a str,
        time_min: DateTime<Utc>,
        time_max: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<GoogleEvent>>> {
        Box::pin(async move {
            gated!(self, "GET", "events.instances", {
                let w = self.world.lock().expect("world lock");
                if !w.google.is_live(event_id) {
                    return Err(GoogleError::NotFound {
                        url: event_id.into(),
                        status: 410,
                    });
                }
                // Cancelled instances included, as Google does with `showDeleted=true`.
                Ok(w.google
                    .occurrences(event_id, w.now)
                    .into_iter()
                    .filter(|o| o.start >= time_min && o.start < time_max)
                    .filter_map(|o| w.google.instance(event_id, o.original_start, w.now))
                    .collect())
            })
        })
    }

    fn get<'a>(
        &'a self,
        _calendar_id: &'a str,
        event_id: &'a str,
    ) -> BoxFuture<'a, Result<GoogleEvent>> {
        Box::pin(async move {
            gated!(self, "GET", "events.get", {
                let w = self.world.lock().expect("world lock");
                let master = split_instance(event_id).map_or(event_id, |(m, _)| m);
                // A deleted series' exceptions go with it.
                let gone = !w.google.is_live(master) && master != event_id;
                let found = w.google.events.get(event_id).cloned().or_else(|| {
                    let (master, os) = split_instance(event_id)?;
                    w.google.instance(master, os, w.now)
                });
                let found = found.filter(|_| !gone);
                found.ok_or_else(|| GoogleError::NotFound {
                    url: event_id.into(),
                    status: 404,
                })
            })
        })
    }

    fn patch_description<'a>(
        &'a self,
        _calendar_id: &'a str,
        event_id: &'a str,
        etag: &'a Etag,
        description: &'a str,
    ) -> BoxFuture<'a, Result<GoogleEvent>> {
        Box::pin(async move {
            gated!(self, "PATCH", event_id, {
                let mut w = self.world.lock().expect("world lock");
                let now = w.now;
                let current = split_instance(event_id).and_then(|(master, os)| {
                    Some((master, os, w.google.instance(master, os, now)?))
                });
                let Some((master, os, current)) = current else {
                    return Err(GoogleError::NotFound {
                        url: event_id.into(),
                        status: 404,
                    });
                };
                let unconditional =
                    crate::sim::mutation::on(crate::sim::Mutation::UnconditionalWrite);
                if !unconditional && current.etag.as_deref() != Some(etag.0.as_str()) {
                    w.trace(format!("PATCH {event_id} -> 412"));
                    return Err(GoogleError::Conflict {
                        event_id: event_id.into(),
                        after_server_error: false,
                    });
                }
                let master = master.to_string();
                let before = current.description.clone().unwrap_or_default();
                w.daemon_wrote_instance(&master, os, current.end_utc(), &before, description);
                let mut ev = current;
                ev.description = Some(description.to_string());
                Ok(w.google.store(ev))
            })
        })
    }

    fn watch<'a>(
        &'a self,
        _calendar_id: &'a str,
        _channel_id: &'a str,
        _address: &'a str,
        _token: &'a SecretString,
        _ttl: std::time::Duration,
    ) -> BoxFuture<'a, Result<WatchedChannel>> {
        Box::pin(async {
            Err(GoogleError::NotFound {
                url: "the simulator has no push channels".into(),
                status: 404,
            })
        })
    }

    fn stop_channel<'a>(
        &'a self,
        _channel_id: &'a str,
        _resource_id: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn request_count(&self) -> u64 {
        self.world.lock().map(|w| w.requests).unwrap_or(0)
    }
}

/// The end of an instance, read from its own times.
trait EndUtc {
    fn end_utc(&self) -> DateTime<Utc>;
}

impl EndUtc for GoogleEvent {
    fn end_utc(&self) -> DateTime<Utc> {
        self.end
            .as_ref()
            .and_then(|e| e.date_time.as_deref())
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }
}
