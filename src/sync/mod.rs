//! Syncing: the one pass over any provider (`pass`, with the calendar cache it fills in `cache`
//! and the agenda step of one series in `series`), restore and preview through the same provider
//! trait, and here the scheduler: every `sync.interval_secs` it claims the accounts that are due
//! (with a lease, so several daemons can share one database), runs one pass per account with
//! bounded concurrency, records each pass in `sync_runs`, and schedules the next one (with
//! jitter, and exponential backoff after failures).

pub mod cache;
pub(crate) mod continuation;
pub(crate) mod pass;
pub(crate) mod preview;
pub(crate) mod restore;
pub(crate) mod series;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::future::BoxFuture;
use rand::Rng;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::SyncConfig;
use crate::store::{Account, AccountState, RunOutcome, RunStats, Store, StoreError};

/// What one account's pass reports back to the scheduler: the provider's classified error.
pub type PassError = crate::provider::ProviderError;

/// Whether a pass over `account` only previews (imports, detects and plans, writes into no
/// calendar): asked for (`dry_run`), or the account is not started yet (DESIGN.md guarantee 12).
pub(crate) fn previews(dry_run: bool, account: &Account) -> bool {
    dry_run || !account.writing_started()
}

/// Syncs one account. The providers implement it; the scheduler only schedules.
pub trait AccountSyncer: Send + Sync + 'static {
    fn sync<'a>(
        &'a self,
        account: &'a Account,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<RunStats, PassError>>;
}

/// Liveness of the scheduler loop, for `/readyz`.
#[derive(Debug, Default)]
pub struct Heartbeat {
    last_pass_unix: AtomicI64,
}

impl Heartbeat {
    pub(crate) fn beat(&self, now: DateTime<Utc>) {
        self.last_pass_unix
            .store(now.timestamp(), Ordering::Relaxed);
    }

    pub(crate) fn last(&self) -> Option<DateTime<Utc>> {
        match self.last_pass_unix.load(Ordering::Relaxed) {
            0 => None,
            t => DateTime::from_timestamp(t, 0),
        }
    }
}

/// When an account is due next: the interval with jitter after a success; after `failures`
/// failures in a row, an exponential backoff (interval x 2^n, capped at one day) with jitter.
pub(crate) fn next_due(
    now: DateTime<Utc>,
    cfg: &SyncConfig,
    failures: i64,
    rng: &mut impl Rng,
) -> DateTime<Utc> {
    let base = cfg.interval_secs as f64;
    let secs = if failures <= 0 {
        base
    } else {
        (base * 2f64.powi(failures.min(16) as i32)).min(86_400.0)
    };
    let jitter = if cfg.jitter > 0.0 {
        rng.random_range(0.0..=cfg.jitter)
    } else {
        0.0
    };
    now + chrono::Duration::milliseconds((secs * (1.0 + jitter) * 1000.0) as i64)
}

/// Upper bound of claim batches in one pass (each account is due again only after its pass).
const MAX_BATCHES_PER_PASS: usize = 10_000;

/// How long `sync_runs` rows are kept.
const RUN_RETENTION_DAYS: i64 = 30;

/// Summary of one scheduler pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    pub accounts: usize,
    pub failed: usize,
    /// Account passes whose outcome could not be recorded (the database went away): their rows
    /// still say "running".
    pub unrecorded: usize,
}

pub struct Scheduler {
    pub store: Store,
    pub cfg: SyncConfig,
    pub daemon_id: String,
    pub clock: Arc<dyn Clock>,
    pub syncer: Arc<dyn AccountSyncer>,
    pub heartbeat: Arc<Heartbeat>,
    /// Wakes the loop before its period is over (a sync was asked for).
    pub wake: Arc<tokio::sync::Notify>,
}

impl Scheduler {
    /// How long a claimed account stays ours without renewal; a dead daemon's accounts are taken
    /// over by others after this.
    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.cfg.lease_secs as i64)
    }

    /// Runs passes until `cancel` fires. A pass in flight when it fires is given
    /// `grace` to finish, then abandoned (recorded as such).
    pub(crate) async fn run(self, cancel: CancellationToken, grace: Duration) {
        let period = Duration::from_secs(self.cfg.interval_secs.min(60));
        // Set when a pass, or an account pass in it, could not record its end (the database
        // went away): its rows would say "running" until shutdown.
        let mut cut_short = false;
        loop {
            if cut_short {
                // No pass of ours is in flight here, so every "running" row of ours is over.
                match self
                    .store
                    .abandon_runs(&self.daemon_id, self.clock.now())
                    .await
                {
                    Ok(n) => {
                        cut_short = false;
                        if n > 0 {
                            info!(passes = n, "passes cut short by a failure marked abandoned");
                        }
                    }
                    Err(e) => warn!(error = %e, "cannot mark the passes cut short yet"),
                }
            }
            let pass = self.pass_once();
            tokio::pin!(pass);
            let finished = tokio::select! {
                r = &mut pass => Some(r),
                () = cancel.cancelled() => None,
            };
            let result = match finished {
                Some(r) => r,
                None => match tokio::time::timeout(grace, pass).await {
                    Ok(r) => r,
                    Err(_) => {
                        warn!("abandoning the sync pass in flight at shutdown");
                        Ok(PassSummary::default())
                    }
                },
            };
            match result {
                Err(e) => {
                    warn!(error = %e, "sync pass failed");
                    cut_short = true;
                }
                Ok(summary) => cut_short |= summary.unrecorded > 0,
            }
            if cancel.is_cancelled() {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                () = self.wake.notified() => {}
                () = cancel.cancelled() => break,
            }
        }
        let now = self.clock.now();
        if let Err(e) = self.store.release_leases(&self.daemon_id).await {
            warn!(error = %e, "could not release leases at shutdown");
        }
        if let Err(e) = self.store.abandon_runs(&self.daemon_id, now).await {
            warn!(error = %e, "could not mark unfinished passes at shutdown");
        }
    }

    /// One pass: claim the due accounts, sync each (bounded concurrency), record everything.
    pub async fn pass_once(&self) -> Result<PassSummary, StoreError> {
        let started = Instant::now();
        let now = self.clock.now();
        let run_id = self.store.start_run(&self.daemon_id, None, now).await?;
        // Claim only what can start now (one batch per free slot), so no claimed account waits
        // in a queue while its lease runs out; batches follow each other until none is due.
        let mut accounts = Vec::new();
        let mut failed = 0;
        let mut unrecorded = 0;
        for _ in 0..MAX_BATCHES_PER_PASS {
            let at = self.clock.now();
            let batch = self
                .store
                .claim_due_accounts(
                    &self.daemon_id,
                    at,
                    at + self.lease(),
                    self.cfg.concurrency as i64,
                )
                .await?;
            if batch.is_empty() {
                break;
            }
            let results: Vec<(bool, bool)> = futures::stream::iter(batch.clone())
                .map(|a| async move { self.sync_account(&a).await })
                .buffer_unordered(self.cfg.concurrency)
                .collect()
                .await;
            failed += results.iter().filter(|(ok, _)| !ok).count();
            unrecorded += results.iter().filter(|(_, recorded)| !recorded).count();
            accounts.extend(batch);
        }
        let summary = PassSummary {
            accounts: accounts.len(),
            failed,
            unrecorded,
        };
        let stats = RunStats {
            accounts: accounts.len() as i64,
            ..RunStats::default()
        };
        let outcome = if failed == 0 {
            RunOutcome::Ok
        } else {
            RunOutcome::Failed
        };
        let error = (failed > 0).then(|| format!("{failed} of {} accounts failed", accounts.len()));
        self.store
            .finish_run(run_id, stats, outcome, error.as_deref(), self.clock.now())
            .await?;
        self.store
            .prune_runs(now - chrono::Duration::days(RUN_RETENTION_DAYS))
            .await?;
        self.heartbeat.beat(self.clock.now());
        metrics::counter!("oneonone_sync_passes_total", "outcome" => outcome.as_str()).increment(1);
        metrics::histogram!("oneonone_sync_pass_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        if !accounts.is_empty() {
            info!(accounts = accounts.len(), failed, "sync pass finished");
        }
        Ok(summary)
    }

    /// Syncs the given accounts now, due or not (`oneonone sync --once`), `sync.concurrency` at a
    /// time: each is claimed first, so a daemon working on the same database never processes it
    /// at the same time.
    pub async fn sync_now(&self, ids: &[i64]) -> Result<PassSummary, StoreError> {
        let outcomes: Vec<Result<Option<(bool, bool)>, StoreError>> =
            futures::stream::iter(ids.to_vec())
                .map(|id| async move {
                    let now = self.clock.now();
                    let claimed = self
                        .store
                        .claim_account(&self.daemon_id, id, now, now + self.lease())
                        .await?;
                    match claimed {
                        Some(account) => Ok(Some(self.sync_account(&account).await)),
                        None => {
                            warn!(
                                account = id,
                                "skipped: not active, or another daemon is working on it"
                            );
                            Ok(None)
                        }
                    }
                })
                .buffer_unordered(self.cfg.concurrency.max(1))
                .collect()
                .await;
        let mut summary = PassSummary::default();
        for outcome in outcomes {
            match outcome? {
                Some((ok, recorded)) => {
                    summary.accounts += 1;
                    summary.failed += usize::from(!ok);
                    summary.unrecorded += usize::from(!recorded);
                }
                None => summary.failed += 1,
            }
        }
        Ok(summary)
    }

    /// Runs the provider's pass, renewing the lease while it works and giving up after
    /// `sync.pass_timeout_secs` (a hung server must not hold the account forever).
    async fn run_leased(
        &self,
        account: &Account,
        now: DateTime<Utc>,
    ) -> Result<RunStats, PassError> {
        let pass = tokio::time::timeout(
            Duration::from_secs(self.cfg.pass_timeout_secs),
            self.syncer.sync(account, now),
        );
        tokio::pin!(pass);
        let every = Duration::from_secs((self.cfg.lease_secs / 3).max(1));
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tokio::select! {
                r = &mut pass => {
                    return r.unwrap_or_else(|_| Err(PassError::transient(
                        "timeout",
                        format!("the pass took longer than {} s", self.cfg.pass_timeout_secs),
                    )));
                }
                _ = renew.tick() => {
                    let until = self.clock.now() + self.lease();
                    match self.store.renew_lease(account.id, &self.daemon_id, until).await {
                        Ok(true) => {}
                        Ok(false) => {
                            // Another daemon holds the account now: stop before writing anything
                            // it may be writing too.
                            warn!(account = account.id, "lease lost to another daemon; pass stopped");
                            return Err(PassError::transient(
                                "lease_lost",
                                "another daemon took the account over",
                            ));
                        }
                        Err(e) => warn!(account = account.id, error = %e, "cannot renew lease"),
                    }
                }
            }
        }
    }

    /// Syncs one claimed account and records the outcome; returns whether it succeeded, and
    /// whether its outcome could be recorded.
    async fn sync_account(&self, account: &Account) -> (bool, bool) {
        let now = self.clock.now();
        let run_id = match self
            .store
            .start_run(&self.daemon_id, Some(account.id), now)
            .await
        {
            Ok(id) => id,
            Err(e) => {
                warn!(account = account.id, error = %e, "cannot record the start of a pass");
                return (false, true);
            }
        };
        let result = self.run_leased(account, now).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        metrics::counter!("oneonone_account_passes_total", "provider" => account.provider.as_str(),
            "outcome" => outcome)
        .increment(1);
        let done = self.clock.now();
        // Computed before any await: the thread-local rng must not live across one.
        let next_ok = next_due(done, &self.cfg, 0, &mut rand::rng());
        let next_failed = next_due(
            done,
            &self.cfg,
            account.consecutive_failures + 1,
            &mut rand::rng(),
        );
        let recorded = match &result {
            Ok(stats) => {
                let next = next_ok;
                metrics::counter!("oneonone_writes_total").increment(stats.writes as u64);
                metrics::counter!("oneonone_conflicts_total").increment(stats.conflicts as u64);
                self.store
                    .finish_successful_pass(run_id, *stats, account.id, done, next, &self.daemon_id)
                    .await
            }
            Err(e) => {
                warn!(account = account.id, kind = e.kind(), error = %e, "account pass failed");
                let next = next_failed;
                let msg = e.to_string();
                let r = self
                    .store
                    .finish_run(
                        run_id,
                        RunStats::default(),
                        RunOutcome::Failed,
                        Some(&msg),
                        done,
                    )
                    .await;
                let r = r.and(
                    self.store
                        .record_account_failure(
                            account.id,
                            done,
                            next,
                            e.kind(),
                            &msg,
                            &self.daemon_id,
                        )
                        .await,
                );
                if matches!(e, PassError::Unauthorized(_)) {
                    r.and(
                        self.store
                            .set_account_state(account.id, AccountState::NeedsReconnect, done)
                            .await,
                    )
                } else {
                    r
                }
            }
        };
        if let Err(e) = &recorded {
            warn!(account = account.id, error = %e, "cannot record the outcome of a pass");
        }
        (result.is_ok(), recorded.is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(jitter: f64) -> SyncConfig {
        SyncConfig {
            interval_secs: 60,
            jitter,
            concurrency: 2,
            request_timeout_secs: 30,
            lease_secs: 120,
            pass_timeout_secs: 600,
            max_writes_per_pass: 25,
        }
    }

    #[test]
    fn next_due_is_the_interval_without_jitter() {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut rng = rand::rng();
        assert_eq!(
            next_due(now, &cfg(0.0), 0, &mut rng),
            now + chrono::Duration::seconds(60)
        );
    }

    #[test]
    fn next_due_backs_off_exponentially_and_caps_at_a_day() {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut rng = rand::rng();
        assert_eq!(
            next_due(now, &cfg(0.0), 3, &mut rng),
            now + chrono::Duration::seconds(480)
        );
        assert_eq!(
            next_due(now, &cfg(0.0), 40, &mut rng),
            now + chrono::Duration::days(1)
        );
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let now: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut rng = rand::rng();
        for _ in 0..200 {
            let d = next_due(now, &cfg(0.5), 0, &mut rng) - now;
            assert!(
                d >= chrono::Duration::seconds(60) && d <= chrono::Duration::seconds(90),
                "{d}"
            );
        }
    }
}
