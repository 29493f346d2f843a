//! `sync_runs`: one row per pass, for `/readyz`, `/metrics` and the operator's questions.

use chrono::{DateTime, Utc};

use super::error::{Result, parse_enum, text_enum};
use super::pool::{Store, on_pool};

text_enum!(
    /// `abandoned`: the daemon stopped (shutdown or crash) before the pass finished.
    RunOutcome { Running = "running", Ok = "ok", Failed = "failed", Abandoned = "abandoned" }
);

/// The update that closes a run (parameters: id, finished at, figures, outcome, error).
macro_rules! finish_run_query {
    ($id:expr, $stats:expr, $outcome:expr, $error:expr, $now:expr) => {
        sqlx::query(
            "UPDATE sync_runs SET finished_at = $2, accounts = $3, requests = $4, events_seen = $5, \
             writes = $6, conflicts = $7, outcome = $8, error = $9 WHERE id = $1",
        )
        .bind($id)
        .bind($now)
        .bind($stats.accounts)
        .bind($stats.requests)
        .bind($stats.events_seen)
        .bind($stats.writes)
        .bind($stats.conflicts)
        .bind($outcome.as_str())
        .bind($error)
    };
}

/// What a pass did, counted as it goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    pub accounts: i64,
    pub requests: i64,
    pub events_seen: i64,
    pub writes: i64,
    pub conflicts: i64,
}

impl RunStats {
    /// The counts of one account's pass, before it has done anything.
    pub(crate) fn one_account() -> Self {
        Self {
            accounts: 1,
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncRun {
    pub id: i64,
    pub account_id: Option<i64>,
    pub daemon_id: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub stats: RunStats,
    pub outcome: RunOutcome,
    pub error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RunRecord {
    id: i64,
    account_id: Option<i64>,
    daemon_id: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    accounts: i64,
    requests: i64,
    events_seen: i64,
    writes: i64,
    conflicts: i64,
    outcome: String,
    error: Option<String>,
}

impl Store {
    pub async fn start_run(
        &self,
        daemon: &str,
        account_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        on_pool!(self, |p| {
            sqlx::query_scalar(
                "INSERT INTO sync_runs (account_id, daemon_id, started_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(account_id)
            .bind(daemon)
            .bind(now)
            .fetch_one(p)
            .await
        })
        .map_err(Into::into)
    }

    pub async fn finish_run(
        &self,
        id: i64,
        stats: RunStats,
        outcome: RunOutcome,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |p| finish_run_query!(id, stats, outcome, error, now)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// A pass that succeeded: its run's figures and the account's success (released, next
    /// due) in one commit, which is one disk sync on SQLite instead of two.
    pub(crate) async fn finish_successful_pass(
        &self,
        run_id: i64,
        stats: RunStats,
        account_id: i64,
        now: DateTime<Utc>,
        next_due: DateTime<Utc>,
        daemon: &str,
    ) -> Result<()> {
        let account = super::accounts::record_success_sql();
        on_pool!(self, |p| {
            async {
                let mut tx = p.begin().await?;
                finish_run_query!(run_id, stats, RunOutcome::Ok, None::<&str>, now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(sqlx::AssertSqlSafe(account.as_str()))
                    .bind(account_id)
                    .bind(now)
                    .bind(next_due)
                    .bind(daemon)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            }
            .await
        })
        .map_err(Into::into)
    }

    /// Marks the passes a daemon left running (it crashed or was stopped) as abandoned.
    pub async fn abandon_runs(&self, daemon: &str, now: DateTime<Utc>) -> Result<u64> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE sync_runs SET outcome = 'abandoned', finished_at = $2 \
                 WHERE daemon_id = $1 AND outcome = 'running'",
            )
            .bind(daemon)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done)
    }

    /// Deletes pass records older than `before` (the table would otherwise grow by one row a
    /// minute forever); returns how many went.
    pub async fn prune_runs(&self, before: DateTime<Utc>) -> Result<u64> {
        on_pool!(self, |p| {
            sqlx::query("DELETE FROM sync_runs WHERE started_at < $1 AND outcome <> 'running'")
                .bind(before)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(Into::into)
    }

    /// The most recent passes, newest first.
    pub async fn recent_runs(&self, limit: i64) -> Result<Vec<SyncRun>> {
        let rows: Vec<RunRecord> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, account_id, daemon_id, started_at, finished_at, accounts, requests, \
                 events_seen, writes, conflicts, outcome, error FROM sync_runs \
                 ORDER BY id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(SyncRun {
                    id: r.id,
                    account_id: r.account_id,
                    daemon_id: r.daemon_id,
                    started_at: r.started_at,
                    finished_at: r.finished_at,
                    stats: RunStats {
                        accounts: r.accounts,
                        requests: r.requests,
                        events_seen: r.events_seen,
                        writes: r.writes,
                        conflicts: r.conflicts,
                    },
                    outcome: parse_enum("sync_runs.outcome", &r.outcome)?,
                    error: r.error,
                })
            })
            .collect()
    }
}
