//! One pass over a CalDAV account: bring each calendar's cache up to date, re-detect the series
//! whose resources changed, then let the agenda step work on every tracked 1:1.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tracing::{info, warn};

use super::client::{CalDavClient, DavError, Precondition, Resource};
use super::connect::CaldavSettings;
use super::fetch::{FetchError, fetch_calendar, to_cached};
use crate::agenda::{Format, Template};
use crate::config::Config;
use crate::detect::{DetectRules, detect};
use crate::ics::{EditOptions, Edited};
use crate::model::Etag;
use crate::model::Owner;
use crate::secrets::Keyring;
use crate::store::{Account, Calendar, RunStats, SeriesUpsert, Store};
use crate::store::{NewRevision, SeriesRow};
use crate::sync::series::{NextAction, SeriesError, SeriesStep, show_dry_run};
use crate::sync::{AccountSyncer, PassError, previews};
use url::Url;

pub struct CaldavSyncer {
    pub store: Store,
    pub keyring: Arc<Keyring>,
    pub config: Arc<Config>,
    pub rules: Arc<DetectRules>,
    /// The compiled agenda template (compiled once at start-up).
    pub template: Arc<Template>,
    /// Write nothing into calendars; print each description a write would put there.
    pub dry_run: bool,
    /// Write nothing into calendars, started or not, and print nothing: `connect`'s own pass,
    /// which shows what it found afterwards (a reconnect writes nothing either).
    pub preview: bool,
}

impl From<DavError> for PassError {
    fn from(e: DavError) -> Self {
        match e {
            DavError::Unauthorized { .. } => PassError::Unauthorized(e.to_string()),
            other => PassError::Transient {
                kind: other.kind(),
                message: other.to_string(),
            },
        }
    }
}

impl From<FetchError> for PassError {
    fn from(e: FetchError) -> Self {
        match e {
            FetchError::Dav(d) => d.into(),
            other => PassError::Transient {
                kind: "internal",
                message: other.to_string(),
            },
        }
    }
}

fn internal(e: impl std::fmt::Display) -> PassError {
    PassError::Transient {
        kind: "internal",
        message: e.to_string(),
    }
}

impl CaldavSyncer {
    pub fn client_for(
        &self,
        account: &Account,
    ) -> Result<(CalDavClient, CaldavSettings), PassError> {
        let settings = CaldavSettings::from_account(account).map_err(internal)?;
        let url = url::Url::parse(&settings.url).map_err(internal)?;
        crate::provider::netcheck::check_static(&url, self.config.network.allow_http).map_err(
            |e| PassError::Transient {
                kind: "refused_url",
                message: e.to_string(),
            },
        )?;
        let blob = account.credentials.as_deref().ok_or_else(|| {
            PassError::Unauthorized("no stored password: connect the account again".into())
        })?;
        let password = self.keyring.decrypt(blob).map_err(internal)?;
        let timeout = Duration::from_secs(self.config.sync.request_timeout_secs);
        let client = CalDavClient::new(&settings.username, password, timeout)
            .map_err(internal)?
            .with_max_body(self.config.network.max_response_bytes)
            .for_account(&url, self.config.network.allow_http);
        Ok((client, settings))
    }

    async fn run(&self, account: &Account, now: DateTime<Utc>) -> Result<RunStats, PassError> {
        let (client, settings) = self.client_for(account)?;
        let owner = settings.owner();
        let mut stats = RunStats {
            accounts: 1,
            ..RunStats::default()
        };
        let calendars = self
            .store
            .list_calendars(account.id)
            .await
            .map_err(internal)?;
        let preview = previews(self.dry_run || self.preview, account);
        let mut failure: Option<PassError> = None;
        for cal in calendars.iter().filter(|c| c.enabled) {
            // One calendar's trouble is recorded and the account's other calendars go on.
            if let Err(e) = self
                .calendar_pass(&client, cal, &owner, now, preview, &mut stats)
                .await
            {
                warn!(account = account.id, calendar = cal.id, error = %e, "calendar pass failed");
                failure.get_or_insert(e);
            }
        }
        stats.requests = client.request_count() as i64;
        match failure {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    }

    async fn calendar_pass(
        &self,
        client: &CalDavClient,
        cal: &Calendar,
        owner: &Owner,
        now: DateTime<Utc>,
        preview: bool,
        stats: &mut RunStats,
    ) -> Result<(), PassError> {
        let report = fetch_calendar(client, &self.store, cal, now).await?;
        stats.events_seen += report.changed.len() as i64;
        // Detection on what was downloaded, recorded in one transaction.
        let detected: Vec<SeriesUpsert> = report
            .recurring
            .iter()
            .flat_map(|(_, parsed)| parsed.series.iter().filter(|s| s.is_recurring()))
            .map(|series| {
                let verdict = detect(series, owner, &self.rules);
                series_row(cal.id, series, owner, &verdict)
            })
            .collect();
        self.store
            .upsert_series_many(&detected, now)
            .await
            .map_err(internal)?;
        if report.suspicious_empty {
            // Guarantee 7: an empty answer is not "every meeting was deleted".
            return Err(PassError::Transient {
                kind: "empty_listing",
                message: format!(
                    "calendar {} came back empty; nothing was changed",
                    cal.remote_id
                ),
            });
        }
        self.agendas(client, cal, owner, now, preview, stats)
            .await?;
        if !report.changed.is_empty() || report.deleted > 0 {
            info!(
                account = cal.account_id,
                calendar = cal.id,
                changed = report.changed.len(),
                deleted = report.deleted,
                full = report.full,
                "calendar updated"
            );
        }
        Ok(())
    }

    /// Only the agenda step, from the cache as it stands (no fetch): what a pass does between its
    /// read and its writes. Tests use it to put a concurrent edit in exactly that gap.
    pub async fn write_agendas(
        &self,
        account: &Account,
        now: DateTime<Utc>,
    ) -> Result<RunStats, PassError> {
        let (client, settings) = self.client_for(account)?;
        let owner = settings.owner();
        let preview = previews(self.dry_run || self.preview, account);
        let mut stats = RunStats {
            accounts: 1,
            ..RunStats::default()
        };
        for cal in self
            .store
            .list_calendars(account.id)
            .await
            .map_err(internal)?
            .iter()
            .filter(|c| c.enabled)
        {
            self.agendas(&client, cal, &owner, now, preview, &mut stats)
                .await?;
        }
        stats.requests = client.request_count() as i64;
        Ok(stats)
    }

    /// The agenda step for every tracked 1:1 of a calendar; one series' problem is recorded on
    /// that series and the others go on.
    async fn agendas(
        &self,
        client: &CalDavClient,
        cal: &Calendar,
        owner: &Owner,
        now: DateTime<Utc>,
        preview: bool,
        stats: &mut RunStats,
    ) -> Result<(), PassError> {
        let all = self.store.list_series_in(cal.id).await.map_err(internal)?;
        let tracked = all
            .into_iter()
            .filter(|s| s.calendar_id == cal.id && s.tracked());
        let default_tz = cal
            .timezone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(self.config.agenda.default_timezone);
        for row in tracked {
            let cap = i64::from(self.config.sync.max_writes_per_pass);
            let outcome = self
                .agenda_for(
                    client,
                    cal,
                    &row,
                    owner,
                    default_tz,
                    now,
                    stats,
                    stats.writes < cap,
                    preview,
                )
                .await;
            let error = match &outcome {
                Ok(()) => None,
                Err(AgendaFailure::Series(msg)) => Some(msg.clone()),
                Err(AgendaFailure::Pass(_)) => None,
            };
            if row.last_error != error {
                self.store
                    .set_series_error(row.id, error.as_deref())
                    .await
                    .map_err(internal)?;
            }
            if let Some(e) = &error {
                warn!(series = row.id, error = %e, "series skipped");
            }
            if let Err(AgendaFailure::Pass(e)) = outcome {
                return Err(e);
            }
        }
        Ok(())
    }

    /// One series: close what ended, absorb and re-render the next occurrence, write it under
    /// the resource's etag; on a conflict re-read (absorbing the concurrent edit) and retry.
    #[allow(clippy::too_many_arguments)]
    async fn agenda_for(
        &self,
        client: &CalDavClient,
        cal: &Calendar,
        row: &SeriesRow,
        owner: &Owner,
        default_tz: chrono_tz::Tz,
        now: DateTime<Utc>,
        stats: &mut RunStats,
        may_write: bool,
        preview: bool,
    ) -> Result<(), AgendaFailure> {
        for attempt in 0..MAX_CONFLICT_RETRIES {
            let Some(cached) = self
                .store
                .events_by_uid(cal.id, &row.uid)
                .await
                .map_err(AgendaFailure::internal)?
                .into_iter()
                .next()
            else {
                // Gone from the calendar, or no longer recurring (its text is not kept, and
                // only resources with a text are found by UID): its history stays.
                return Ok(());
            };
            let parsed = crate::ics::parse(cached.raw.as_bytes())
                .map_err(|e| AgendaFailure::Series(e.to_string()))?;
            let Some(series) = parsed.series.iter().find(|s| s.uid == row.uid) else {
                return Ok(());
            };
            let manager = manager_name(series, owner);
            let step = SeriesStep {
                store: &self.store,
                cfg: &self.config.agenda,
                template: &self.template,
                format: Format::Plain,
                manager_name: &manager,
                now,
                read_only: preview,
            };
            let tz = parsed.x_wr_timezone.unwrap_or(default_tz);
            let writable = may_write && row.owner_is_organizer;
            let action = step
                .run(row, series, &cached.remote_id, tz, writable)
                .await
                .map_err(|e| match e {
                    SeriesError::Store(s @ crate::store::StoreError::Corrupt { .. }) => {
                        AgendaFailure::Series(s.to_string())
                    }
                    SeriesError::Store(s) => AgendaFailure::internal(s),
                    other => AgendaFailure::Series(other.to_string()),
                })?;
            if let (
                true,
                NextAction::Write {
                    original_start,
                    tz: zone,
                    description,
                    ..
                },
            ) = (preview, &action)
            {
                // A preview of an account not started says nothing here: connect and the web
                // page show it. `sync --dry-run` prints what it would write.
                if self.dry_run {
                    show_dry_run(&row.summary, *original_start, *zone, description);
                }
                return Ok(());
            }
            let NextAction::Write {
                occurrence_id,
                original_start,
                tz: _,
                before,
                description,
                block,
            } = action
            else {
                if let NextAction::Refused { why, .. } = action {
                    return Err(AgendaFailure::Series(why));
                }
                return Ok(());
            };
            let edit = |options| {
                crate::ics::edit_occurrence_description(
                    cached.raw.as_bytes(),
                    &row.uid,
                    original_start,
                    &description,
                    now,
                    tz,
                    options,
                )
                .map_err(|e| AgendaFailure::Series(e.to_string()))
            };
            let plain = edit(EditOptions::default())?;
            let revision = NewRevision {
                series_id: Some(row.id),
                occurrence_id: Some(occurrence_id),
                calendar_id: cal.id,
                remote_id: cached.remote_id.clone(),
                original_start: Some(original_start),
                etag_before: cached.etag.clone(),
                description_before: before,
                description_after: description.clone(),
            };
            let revision_id = self
                .store
                .insert_revision(&revision, now)
                .await
                .map_err(AgendaFailure::internal)?;
            let url = Url::parse(&cached.remote_id).map_err(AgendaFailure::internal)?;
            let Some(etag) = cached.etag.clone().map(Etag) else {
                // No etag to write under: read the resource (body and etag together) and
                // plan again from what it holds.
                let fresh = client.get(&url).await.map_err(AgendaFailure::dav)?;
                if fresh.etag.is_none() {
                    return Err(AgendaFailure::Series(
                        "the server gives no etag for the resource".into(),
                    ));
                }
                let fresh = to_cached(&cached.remote_id, fresh.etag.as_ref(), &fresh.body)
                    .map_err(AgendaFailure::Series)?;
                self.store
                    .upsert_event(cal.id, &fresh, now)
                    .await
                    .map_err(AgendaFailure::internal)?;
                continue;
            };
            match put_edit(
                client,
                &url,
                &Precondition::Match(etag),
                plain,
                edit,
                row.id,
            )
            .await?
            {
                Ok(stored) => {
                    let fresh = to_cached(&cached.remote_id, stored.etag.as_ref(), &stored.body)
                        .map_err(AgendaFailure::Series)?;
                    self.store
                        .record_write(cal.id, &fresh, occurrence_id, &block, revision_id, now)
                        .await
                        .map_err(AgendaFailure::internal)?;
                    stats.writes += 1;
                    info!(series = row.id, attempt, "agenda written");
                    return Ok(());
                }
                Err(DavError::PreconditionFailed { .. }) => {
                    // Someone edited the invite since we read it: re-read, absorb, re-render.
                    stats.conflicts += 1;
                    let fresh = client.get(&url).await.map_err(AgendaFailure::dav)?;
                    let fresh = to_cached(&cached.remote_id, fresh.etag.as_ref(), &fresh.body)
                        .map_err(AgendaFailure::Series)?;
                    self.store
                        .upsert_event(cal.id, &fresh, now)
                        .await
                        .map_err(AgendaFailure::internal)?;
                }
                Err(e) => return Err(AgendaFailure::dav(e)),
            }
        }
        Err(AgendaFailure::Series(format!(
            "still conflicting after {MAX_CONFLICT_RETRIES} attempts; next pass retries"
        )))
    }
}

/// PUTs an agenda edit. Guarantee 10 on DAViCal: when the server answers 5xx to an edit that
/// adds an override (DAViCal fails every such PUT when an attendee is one of its users), the
/// same edit goes once more under the same etag with `SCHEDULE-AGENT=CLIENT` on the override's
/// attendees, which it stores and sends nothing for. A 412 then means the first PUT did act:
/// the caller's conflict path re-reads. Plain stays the default so that the servers which take
/// it keep their own scheduling behaviour (docs/decisions.md, "caldav interop").
async fn put_edit(
    client: &CalDavClient,
    url: &Url,
    pre: &Precondition,
    plain: Edited,
    edit: impl Fn(EditOptions) -> Result<Edited, AgendaFailure>,
    series: i64,
) -> Result<Result<Resource, DavError>, AgendaFailure> {
    let created_override = plain.created_override;
    let first = client.put_and_read(url, plain.body.clone(), pre).await;
    let status = match &first {
        Err(DavError::Status { status, .. }) if *status >= 500 && created_override => *status,
        _ => return Ok(first),
    };
    let fallback = edit(EditOptions {
        client_schedules_attendees: true,
    })?;
    if fallback.body == plain.body {
        return Ok(first); // No attendee to take out of the server's scheduling.
    }
    info!(
        series,
        status, "new override refused; writing it with SCHEDULE-AGENT=CLIENT on its attendees"
    );
    metrics::counter!("oneonone_schedule_agent_fallbacks_total").increment(1);
    Ok(client.put_and_read(url, fallback.body, pre).await)
}

/// How often one pass re-reads and retries a write refused as stale (412).
const MAX_CONFLICT_RETRIES: usize = 3;

/// Why one series' agenda step stopped: a problem of that series (recorded on it, the pass goes
/// on) or of the whole account (the server is down: the pass stops).
enum AgendaFailure {
    Series(String),
    Pass(PassError),
}

impl AgendaFailure {
    fn internal(e: impl std::fmt::Display) -> Self {
        AgendaFailure::Pass(internal(e))
    }

    /// A refusal about this one resource (4xx, unreadable answer) stays with its series; the
    /// server being down or refusing us stops the account's pass.
    fn dav(e: DavError) -> Self {
        match e {
            // 408 and 429 say "later", not "never": the whole pass is retried with backoff.
            DavError::Status { status, .. }
                if (400..500).contains(&status) && status != 408 && status != 429 =>
            {
                AgendaFailure::Series(e.to_string())
            }
            DavError::NotFound { .. } | DavError::TooLarge { .. } | DavError::Xml { .. } => {
                AgendaFailure::Series(e.to_string())
            }
            other => AgendaFailure::Pass(other.into()),
        }
    }
}

/// The name the agenda uses for the manager: the organizer's CN when the owner organizes, else
/// the owner's address.
pub(crate) fn manager_name(series: &crate::model::Series, owner: &Owner) -> String {
    let rep = series.representative();
    let organizer = rep.and_then(|e| e.organizer.as_ref());
    match organizer {
        Some(o) if o.email.as_ref().is_some_and(|e| owner.is(e)) => o.display_name(),
        _ => owner
            .emails
            .first()
            .map_or_else(|| "Manager".into(), |e| e.local_part().to_string()),
    }
}

/// The series row detection gives (the user's override is kept by the store).
pub fn series_row(
    calendar_id: i64,
    series: &crate::model::Series,
    owner: &Owner,
    verdict: &crate::detect::Verdict,
) -> SeriesUpsert {
    let rep = series.representative();
    let organizer = rep
        .and_then(|e| e.organizer.as_ref())
        .and_then(|o| o.email.as_ref());
    let owner_is_organizer = organizer.is_none_or(|o| owner.is(o));
    let other = verdict.with.as_ref();
    SeriesUpsert {
        calendar_id,
        uid: series.uid.clone(),
        summary: rep.and_then(|e| e.summary.clone()).unwrap_or_default(),
        manager_email: owner.emails.first().map(ToString::to_string),
        direct_email: other
            .and_then(|p| p.email.as_ref())
            .map(ToString::to_string),
        direct_name: other.map(crate::model::Person::display_name),
        one_on_one: verdict.one_on_one,
        owner_is_organizer,
        confidence: f64::from(verdict.confidence),
        detection_reason: verdict.reason.clone(),
    }
}

impl AccountSyncer for CaldavSyncer {
    fn sync<'a>(
        &'a self,
        account: &'a Account,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<RunStats, PassError>> {
        Box::pin(self.run(account, now))
    }
}
