//! The one sync pass over an account, for every provider: per calendar, fetch into the cache
//! (full or incremental; guarantee 7 in `sync::cache`), detect the series that changed, then per
//! tracked 1:1 the agenda step (`sync::series`) and a capped, dry-runnable, conditional write
//! with the 412 retry and the revision record (guarantees 1, 3, 9). The provider only talks to
//! its server, through [`crate::provider::Session`].

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::future::BoxFuture;
use tracing::{info, warn};

use super::cache::{CalendarCache, Fetched};
use super::series::{InviteLink, NextAction, SeriesError, SeriesStep, show_dry_run};
use super::{AccountSyncer, PassError, previews};
use crate::agenda::Template;
use crate::config::Config;
use crate::detect::{DetectRules, detect};
use crate::model::{Owner, Series};
use crate::provider::{CalendarProvider, ProviderError, Read, Session, Target, Written};
use crate::store::{
    Account, Calendar, NewRevision, Provider, RunStats, SeriesRow, SeriesUpsert, Store, StoreError,
};

/// How often one pass re-reads and retries a write refused as stale (412, or an occurrence
/// changed since the listing).
const MAX_CONFLICT_RETRIES: usize = 3;

/// The providers this build has, by kind.
#[derive(Default, Clone)]
pub struct Providers {
    all: Vec<Arc<dyn CalendarProvider>>,
}

impl Providers {
    pub(crate) fn with(mut self, provider: Arc<dyn CalendarProvider>) -> Self {
        self.all.push(provider);
        self
    }

    /// The provider of `kind`.
    pub(crate) fn get(&self, kind: Provider) -> Result<&dyn CalendarProvider, ProviderError> {
        self.all
            .iter()
            .find(|p| p.kind() == kind)
            .map(|p| p.as_ref())
            .ok_or_else(|| {
                ProviderError::transient(
                    "unsupported_provider",
                    format!("this build cannot sync {kind} accounts"),
                )
            })
    }
}

/// The zone of a calendar (its own, else `agenda.default_timezone`).
pub(crate) fn calendar_tz(cal: &Calendar, config: &Config) -> Tz {
    crate::provider::calendar_tz(cal, config.agenda.default_timezone)
}

/// The pass, with what it reads and how it may write.
#[derive(Clone)]
pub struct Pass {
    pub store: Store,
    pub config: Arc<Config>,
    pub rules: Arc<DetectRules>,
    /// The compiled agenda template (compiled once at start-up).
    pub template: Arc<Template>,
    pub providers: Providers,
    /// Unseals the direct's links the invites carry.
    pub keyring: Arc<crate::secrets::Keyring>,
    /// Write nothing into calendars; print each description a write would put there.
    pub dry_run: bool,
    /// Write nothing into calendars, started or not, and print nothing: `connect`'s own pass,
    /// which shows what it found afterwards (a reconnect writes nothing either).
    pub preview: bool,
}

/// Why one series' agenda step stopped: a problem of that series (recorded on it, the pass goes
/// on) or of the whole account (the server is down, the credentials are gone: the pass stops).
enum Failure {
    Series(String),
    Pass(PassError),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Self {
        match e {
            ProviderError::Resource { .. } | ProviderError::Store(StoreError::Corrupt { .. }) => {
                Failure::Series(e.to_string())
            }
            other => Failure::Pass(other),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        ProviderError::Store(e).into()
    }
}

impl From<SeriesError> for Failure {
    fn from(e: SeriesError) -> Self {
        match e {
            SeriesError::Store(s) => s.into(),
            other => Failure::Series(other.to_string()),
        }
    }
}

/// The series row detection gives (the user's override is kept by the store).
pub(crate) fn series_row(
    calendar_id: i64,
    series: &Series,
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
        cadence: crate::detect::continuation::cadence(series).map(|c| (c.words, c.days)),
    }
}

/// The name the agenda uses for the manager: the organizer's CN when the owner organizes, else
/// the owner's address.
pub(crate) fn manager_name(series: &Series, owner: &Owner) -> String {
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

/// What one account's pass works with: its provider and its open session.
struct Ctx<'a> {
    provider: &'a dyn CalendarProvider,
    session: &'a dyn Session,
    account: &'a Account,
    now: DateTime<Utc>,
    /// Plan and show, write nothing.
    preview: bool,
}

impl Pass {
    /// The account's provider and a session on its server.
    fn open(
        &self,
        account: &Account,
    ) -> Result<(&dyn CalendarProvider, Box<dyn Session>), PassError> {
        let provider = self.providers.get(account.provider)?;
        Ok((provider, provider.open(account)?))
    }

    fn ctx<'a>(
        &self,
        (provider, session): (&'a dyn CalendarProvider, &'a dyn Session),
        account: &'a Account,
        now: DateTime<Utc>,
    ) -> Ctx<'a> {
        Ctx {
            provider,
            session,
            account,
            now,
            preview: previews(self.dry_run || self.preview, account),
        }
    }

    async fn run(&self, account: &Account, now: DateTime<Utc>) -> Result<RunStats, PassError> {
        let (provider, session) = self.open(account)?;
        let ctx = self.ctx((provider, session.as_ref()), account, now);
        let mut stats = RunStats::one_account();
        let calendars = self.store.list_calendars(account.id).await?;
        let mut failure: Option<PassError> = None;
        for cal in calendars.iter().filter(|c| c.enabled) {
            // One calendar's trouble is recorded and the account's other calendars go on; refused
            // credentials stop the pass (every calendar would fail the same way).
            if let Err(e) = self.calendar_pass(&ctx, cal, &mut stats).await {
                warn!(account = account.id, calendar = cal.id, error = %e, "calendar pass failed");
                let stop = matches!(e, ProviderError::Unauthorized(_));
                failure.get_or_insert(e);
                if stop {
                    break;
                }
            }
        }
        if failure.is_none() && !self.dry_run {
            session.after_pass(&self.store, account, &calendars).await;
        }
        stats.requests = session.requests() as i64;
        match failure {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    }

    async fn calendar_pass(
        &self,
        ctx: &Ctx<'_>,
        cal: &Calendar,
        stats: &mut RunStats,
    ) -> Result<(), PassError> {
        let report = self.fetch(ctx, cal, None).await?;
        stats.events_seen += report.changed.len() as i64;
        if report.suspicious_empty {
            // Guarantee 7: an empty answer is not "every meeting was deleted".
            return Err(ProviderError::transient(
                "empty_listing",
                format!(
                    "calendar {} came back empty; nothing was changed",
                    cal.remote_id
                ),
            ));
        }
        if !self.dry_run {
            // A new 1:1 that continues a deleted one takes over its open items before its
            // agenda is rendered (issue 24).
            super::continuation::link_new_series(
                &self.store,
                ctx.provider,
                ctx.account,
                cal.id,
                ctx.now,
            )
            .await?;
        }
        self.agendas(ctx, cal, stats).await?;
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

    /// Brings the cache of `cal` up to date (all of it, or after a conflict what `occ` names),
    /// then detects the series that changed.
    async fn fetch(
        &self,
        ctx: &Ctx<'_>,
        cal: &Calendar,
        occ: Option<Target<'_>>,
    ) -> Result<Fetched, PassError> {
        // The stored row may be older than a cursor this pass already advanced.
        let cal = self.store.get_calendar(cal.id).await?;
        let mut cache = CalendarCache::new(&self.store, &cal, ctx.now);
        match occ {
            None => ctx.session.fetch(&cal, ctx.now, &mut cache).await?,
            Some(occ) => {
                let occ = Target {
                    calendar: &cal,
                    ..occ
                };
                ctx.session.reread(occ, &mut cache).await?;
            }
        }
        let report = cache.finish().await?;
        self.detect(ctx, &cal, &report).await?;
        Ok(report)
    }

    /// Detection on what a fetch brought, recorded in one transaction.
    async fn detect(
        &self,
        ctx: &Ctx<'_>,
        cal: &Calendar,
        report: &Fetched,
    ) -> Result<(), PassError> {
        let mut rows: Vec<SeriesUpsert> = Vec::new();
        let mut done = HashSet::new();
        for l in report.loaded.iter().filter(|l| l.series.is_recurring()) {
            done.insert(l.series.uid.as_str());
            let verdict = self.verdict(&l.series, &l.owner);
            rows.push(series_row(cal.id, &l.series, &l.owner, &verdict));
        }
        for uid in report
            .changed_series
            .iter()
            .filter(|u| !done.contains(u.as_str()))
        {
            let cached = self.store.events_by_uid(cal.id, uid).await?;
            match ctx.provider.load_series(ctx.account, cal, cached) {
                Ok(Some(l)) if l.series.is_recurring() => {
                    let verdict = self.verdict(&l.series, &l.owner);
                    rows.push(series_row(cal.id, &l.series, &l.owner, &verdict));
                }
                Ok(_) => {}
                Err(e) => warn!(calendar = cal.id, series = %uid, error = %e, "detection failed"),
            }
        }
        self.store.upsert_series_many(&rows, ctx.now).await?;
        Ok(())
    }

    /// Detection of one series; with `agenda.when_notetaker = "skip"`, the reason of a 1:1 with
    /// a notetaker invited also says that its agenda is not written.
    fn verdict(&self, series: &Series, owner: &Owner) -> crate::detect::Verdict {
        let mut v = detect(series, owner, &self.rules);
        if crate::sim::mutation::on(crate::sim::Mutation::EveryMeetingIsAOneOnOne) {
            v.one_on_one = true;
        }
        if v.one_on_one && v.has_notetaker() && self.skips_notetaker_series() {
            v.reason
                .push_str("; no agenda is written (agenda.when_notetaker = \"skip\")");
        }
        v
    }

    /// Stores the series' reason again when it no longer says what the agenda step does
    /// (`agenda.when_notetaker` changed since the series was last detected).
    async fn refresh_reason(
        &self,
        cal: &Calendar,
        row: &SeriesRow,
        series: &Series,
        owner: &Owner,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let verdict = self.verdict(series, owner);
        if verdict.reason != row.detection_reason {
            let fresh = series_row(cal.id, series, owner, &verdict);
            self.store.upsert_series_many(&[fresh], now).await?;
        }
        Ok(())
    }

    fn skips_notetaker_series(&self) -> bool {
        self.config.agenda.when_notetaker == crate::config::WhenNotetaker::Skip
    }

    /// Only the agenda step, from the cache as it stands (no fetch): what a pass does between
    /// its read and its writes. Tests use it to put a concurrent edit in exactly that gap.
    pub async fn write_agendas(
        &self,
        account: &Account,
        now: DateTime<Utc>,
    ) -> Result<RunStats, PassError> {
        let (provider, session) = self.open(account)?;
        let ctx = self.ctx((provider, session.as_ref()), account, now);
        let mut stats = RunStats::one_account();
        for cal in self.store.list_calendars(account.id).await? {
            if cal.enabled {
                self.agendas(&ctx, &cal, &mut stats).await?;
            }
        }
        stats.requests = session.requests() as i64;
        Ok(stats)
    }

    /// The agenda step for every tracked 1:1 of a calendar; one series' problem is recorded on
    /// that series and the others go on.
    async fn agendas(
        &self,
        ctx: &Ctx<'_>,
        cal: &Calendar,
        stats: &mut RunStats,
    ) -> Result<(), PassError> {
        let all = self.store.list_series_in(cal.id).await?;
        let tracked = all
            .into_iter()
            .filter(|s| s.calendar_id == cal.id && s.tracked());
        let cap = i64::from(self.config.sync.max_writes_per_pass);
        for row in tracked {
            let may_write =
                stats.writes < cap || crate::sim::mutation::on(crate::sim::Mutation::NoWriteCap);
            let outcome = self.agenda_for(ctx, cal, &row, stats, may_write).await;
            let error = match &outcome {
                Err(Failure::Series(msg)) => Some(msg.clone()),
                _ => None,
            };
            if row.last_error != error {
                self.store
                    .set_series_error(row.id, error.as_deref())
                    .await?;
            }
            if let Some(e) = &error {
                warn!(series = row.id, error = %e, "series skipped");
            }
            if let Err(Failure::Pass(e)) = outcome {
                return Err(e);
            }
        }
        Ok(())
    }

    /// One series: close what ended, absorb and re-render the next occurrence, and write it
    /// under its etag. An occurrence changed since the listing (seen when reading it, or a 412
    /// on the write) is read again, absorbed and rendered again, up to
    /// [`MAX_CONFLICT_RETRIES`] times.
    async fn agenda_for(
        &self,
        ctx: &Ctx<'_>,
        cal: &Calendar,
        row: &SeriesRow,
        stats: &mut RunStats,
        may_write: bool,
    ) -> Result<(), Failure> {
        for attempt in 0..MAX_CONFLICT_RETRIES {
            let cached = self.store.events_by_uid(cal.id, &row.uid).await?;
            // Gone from the calendar, or no longer recurring: its history stays.
            let Some(loaded) = ctx.provider.load_series(ctx.account, cal, cached)? else {
                return Ok(());
            };
            let manager = manager_name(&loaded.series, &loaded.owner);
            let step = SeriesStep {
                store: &self.store,
                link: InviteLink::from_config(&self.config, &self.keyring),
                cfg: &self.config.agenda,
                template: &self.template,
                format: ctx.provider.format(),
                manager_name: &manager,
                now: ctx.now,
                read_only: ctx.preview,
            };
            // A notetaker invited and `agenda.when_notetaker = "skip"`: the meeting's history
            // is kept as usual, nothing is written into the invite.
            let bots =
                !crate::detect::notetakers(&loaded.series, &loaded.owner, &self.rules).is_empty();
            let skipped = bots && self.skips_notetaker_series();
            if bots && !ctx.preview {
                self.refresh_reason(cal, row, &loaded.series, &loaded.owner, ctx.now)
                    .await?;
            }
            let writable = may_write && row.owner_is_organizer && !skipped;
            let action = step
                .run(row, &loaded.series, &loaded.remote_id, loaded.tz, writable)
                .await?;
            let NextAction::Write {
                occurrence_id,
                original_start,
                tz: zone,
                before,
                description,
                block,
                nudge,
            } = action
            else {
                if let NextAction::Refused { why, .. } = action {
                    return Err(Failure::Series(why));
                }
                return Ok(());
            };
            if ctx.preview {
                // A preview of an account not started says nothing here: connect and the web
                // page show it. `sync --dry-run` prints what it would write.
                if self.dry_run {
                    show_dry_run(&row.summary, original_start, zone, &description);
                }
                return Ok(());
            }
            let occ = Target {
                calendar: cal,
                loaded: Some(&loaded),
                remote_id: &loaded.remote_id,
                original_start,
                tz: loaded.tz,
                now: ctx.now,
            };
            let current = match ctx.session.read(occ).await? {
                Read::Ready(c) => c,
                // Seed 92394's bug, put back.
                Read::Gone
                    if crate::sim::mutation::on(crate::sim::Mutation::ForgetCancellations) =>
                {
                    return Ok(());
                }
                // Changed, or cancelled, since what the pass planned from (a listing may never
                // name a cancellation: seed 92394): read it again, plan again.
                stale @ (Read::Gone | Read::Stale { .. }) => {
                    stats.conflicts += i64::from(matches!(stale, Read::Stale { edited: true }));
                    self.fetch(ctx, cal, Some(occ))
                        .await
                        .map_err(Failure::Pass)?;
                    continue;
                }
            };
            if current.description.as_deref().unwrap_or_default()
                != before.as_deref().unwrap_or_default()
            {
                // Edited since the listing: read the changes, absorb them, render again.
                stats.conflicts += 1;
                self.fetch(ctx, cal, Some(occ))
                    .await
                    .map_err(Failure::Pass)?;
                continue;
            }
            let prepared = ctx.session.prepare(occ, &current, &description)?;
            // Recorded before the write: a write that lands is always reversible (guarantee 3).
            let revision = NewRevision {
                series_id: Some(row.id),
                occurrence_id: Some(occurrence_id),
                calendar_id: cal.id,
                remote_id: current.remote_id.clone(),
                original_start: Some(original_start),
                etag_before: current.etag.clone(),
                description_before: current.description.clone(),
                description_after: description.clone(),
                restores: None,
            };
            let revision = if crate::sim::mutation::on(crate::sim::Mutation::NoRevision) {
                NewRevision {
                    description_before: None,
                    ..revision
                }
            } else {
                revision
            };
            let revision_id = self.store.insert_revision(&revision, ctx.now).await?;
            match ctx.session.write(occ, &current, prepared).await? {
                Written::Stored(fresh) => {
                    self.store
                        .record_write(cal.id, &fresh, occurrence_id, &block, revision_id, ctx.now)
                        .await?;
                    stats.writes += 1;
                    if nudge {
                        metrics::counter!("oneonone_nudges_written_total").increment(1);
                    }
                    info!(series = row.id, attempt, nudge, "agenda written");
                    return Ok(());
                }
                Written::MaybeLanded => {
                    // Its revision is stored; the next plan sees the block as written. Counted:
                    // at the cap, the next pass reads the occurrence again (seed 4138 of the
                    // seeded simulator wrote a third time, a person's line typed since).
                    stats.writes += 1;
                    if stats.writes >= i64::from(self.config.sync.max_writes_per_pass) {
                        return Ok(());
                    }
                    self.fetch(ctx, cal, Some(occ))
                        .await
                        .map_err(Failure::Pass)?;
                }
                Written::Conflict => {
                    // Someone edited the invite between our read and our write.
                    stats.conflicts += 1;
                    self.fetch(ctx, cal, Some(occ))
                        .await
                        .map_err(Failure::Pass)?;
                }
            }
        }
        Err(Failure::Series(format!(
            "still conflicting after {MAX_CONFLICT_RETRIES} attempts; next pass retries"
        )))
    }
}

impl AccountSyncer for Pass {
    fn sync<'a>(
        &'a self,
        account: &'a Account,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<RunStats, PassError>> {
        Box::pin(self.run(account, now))
    }
}
