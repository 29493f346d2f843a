//! Connected accounts, their calendars, and the leases that let several daemons share them.

use chrono::{DateTime, Utc};

use super::error::{Result, StoreError, parse_enum, text_enum};
use super::pool::{Store, on_pool};

text_enum!(
    /// Which API an account speaks.
    Provider { Caldav = "caldav", Google = "google" }
);

text_enum!(
    /// `needs_reconnect`: the credentials were refused for good (revoked token, changed password);
    /// the scheduler leaves the account alone until the user connects it again.
    AccountState { Active = "active", NeedsReconnect = "needs_reconnect", Disabled = "disabled" }
);

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: i64,
    pub provider: Provider,
    pub display_name: String,
    /// Non-secret settings as JSON (server URL, user name, owner addresses).
    pub settings: serde_json::Value,
    /// Encrypted credentials; opaque to the store.
    pub credentials: Option<Vec<u8>>,
    pub state: AccountState,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub next_due_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i64,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error_kind: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the person started writing agendas into this account's calendars (`sync --once`,
    /// `run`, or "Start" on the web page). `None`: connected, waiting to be started; every pass
    /// is a preview that writes into no calendar (DESIGN.md guarantee 12).
    pub writing_started_at: Option<DateTime<Utc>>,
    /// When the account was removed (`accounts remove`): it no longer syncs and holds no
    /// credentials, but its series, history, items and notes stay readable, and connecting the
    /// same calendar again brings them back. `None`: connected.
    pub archived_at: Option<DateTime<Utc>>,
}

impl Account {
    /// Whether a pass may write agendas into this account's calendars.
    pub(crate) fn writing_started(&self) -> bool {
        self.writing_started_at.is_some()
    }

    /// The error the account is failing with now; one it has recovered from is history, not
    /// its state.
    pub(crate) fn current_error(&self) -> Option<&str> {
        self.last_error
            .as_deref()
            .filter(|_| self.consecutive_failures > 0)
    }
}

#[derive(sqlx::FromRow)]
struct AccountRecord {
    id: i64,
    provider: String,
    display_name: String,
    settings: String,
    credentials: Option<Vec<u8>>,
    state: String,
    lease_owner: Option<String>,
    lease_expires_at: Option<DateTime<Utc>>,
    next_due_at: Option<DateTime<Utc>>,
    consecutive_failures: i64,
    last_success_at: Option<DateTime<Utc>>,
    last_error_at: Option<DateTime<Utc>>,
    last_error_kind: Option<String>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    writing_started_at: Option<DateTime<Utc>>,
    archived_at: Option<DateTime<Utc>>,
}

impl TryFrom<AccountRecord> for Account {
    type Error = StoreError;

    fn try_from(r: AccountRecord) -> Result<Self> {
        Ok(Self {
            id: r.id,
            provider: parse_enum("accounts.provider", &r.provider)?,
            display_name: r.display_name,
            settings: serde_json::from_str(&r.settings).map_err(|_| StoreError::Corrupt {
                column: "accounts.settings",
                value: r.settings,
            })?,
            credentials: r.credentials,
            state: parse_enum("accounts.state", &r.state)?,
            lease_owner: r.lease_owner,
            lease_expires_at: r.lease_expires_at,
            next_due_at: r.next_due_at,
            consecutive_failures: r.consecutive_failures,
            last_success_at: r.last_success_at,
            last_error_at: r.last_error_at,
            last_error_kind: r.last_error_kind,
            last_error: r.last_error,
            created_at: r.created_at,
            writing_started_at: r.writing_started_at,
            archived_at: r.archived_at,
        })
    }
}

/// Gives the lease back only when `$4` still holds it (a daemon that lost its lease must not
/// free the account under the daemon that took it over).
const RELEASE_IF_MINE: &str = "lease_owner = CASE WHEN lease_owner = $4 THEN NULL ELSE lease_owner END, \
    lease_expires_at = CASE WHEN lease_owner = $4 THEN NULL ELSE lease_expires_at END";

/// While a pass runs, `next_due_at` is NULL (the claim clears it): a sync asked for meanwhile
/// sets it, and the end of the pass keeps that earlier time instead of scheduling over it, so a
/// "Sync now" pressed during a pass gets a pass of its own. Only the lease holder's pending
/// request counts; `$3` is the schedule the pass computed.
const NEXT_DUE_KEEPING_REQUEST: &str = "next_due_at = CASE WHEN lease_owner = $4 \
    AND next_due_at IS NOT NULL AND next_due_at < $3 THEN next_due_at ELSE $3 END";

const ACCOUNT_COLUMNS: &str = "id, provider, display_name, settings, credentials, state, lease_owner, \
    lease_expires_at, next_due_at, consecutive_failures, last_success_at, last_error_at, \
    last_error_kind, last_error, created_at, writing_started_at, archived_at";

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub provider: Provider,
    pub display_name: String,
    pub settings: serde_json::Value,
    pub credentials: Option<Vec<u8>>,
    /// (remote id, display name, time zone) of each calendar to sync.
    pub calendars: Vec<(String, String, Option<String>)>,
    /// `None` for an account just connected: it writes nothing until started.
    pub writing_started_at: Option<DateTime<Utc>>,
}

/// What a reconnect replaces: the credentials always; the settings when given; calendars the
/// person picked that the account does not sync yet are added.
pub struct Reconnect<'a> {
    pub credentials: &'a [u8],
    pub settings: Option<&'a serde_json::Value>,
    /// (remote id, display name, time zone), as in `NewAccount`.
    pub calendars: &'a [(String, String, Option<String>)],
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Calendar {
    pub id: i64,
    pub account_id: i64,
    pub remote_id: String,
    pub display_name: String,
    pub timezone: Option<String>,
    pub sync_token: Option<String>,
    pub ctag: Option<String>,
    pub last_full_sync_at: Option<DateTime<Utc>>,
    pub enabled: bool,
}

impl Store {
    /// Stores an account and its calendars in one transaction; returns the account id.
    pub async fn insert_account(&self, new: &NewAccount, now: DateTime<Utc>) -> Result<i64> {
        let settings = new.settings.to_string();
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO accounts (provider, display_name, settings, credentials, state, \
                 next_due_at, created_at, updated_at, writing_started_at) \
                 VALUES ($1, $2, $3, $4, 'active', $5, $5, $5, $6) RETURNING id",
            )
            .bind(new.provider.as_str())
            .bind(&new.display_name)
            .bind(&settings)
            .bind(&new.credentials)
            .bind(now)
            .bind(new.writing_started_at)
            .fetch_one(&mut *tx)
            .await?;
            for (remote_id, name, tz) in &new.calendars {
                sqlx::query(
                    "INSERT INTO calendars (account_id, remote_id, display_name, timezone) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(remote_id)
                .bind(name)
                .bind(tz)
                .execute(&mut *tx)
                .await
                .map(|r| r.rows_affected())?;
            }
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn list_accounts(&self) -> Result<Vec<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id");
        let rows: Vec<AccountRecord> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(Account::try_from).collect()
    }

    pub async fn get_account(&self, id: i64) -> Result<Account> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        let row: Option<AccountRecord> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(p)
                .await)?;
        row.ok_or(StoreError::NotFound {
            what: "account",
            id: id.to_string(),
        })?
        .try_into()
    }

    /// Replaces an account's non-secret settings (a provider's own bookkeeping, e.g. Google's
    /// push channels).
    pub(crate) async fn set_account_settings(
        &self,
        id: i64,
        settings: &serde_json::Value,
    ) -> Result<()> {
        let text = settings.to_string();
        on_pool!(self, |p| {
            sqlx::query("UPDATE accounts SET settings = $2 WHERE id = $1")
                .bind(id)
                .bind(&text)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Deletes an account with everything that hangs off it (calendars, series, history, items,
    /// notes): `accounts remove --purge`. Use `archive_account` for a plain remove.
    pub async fn purge_account(&self, id: i64) -> Result<()> {
        let done = on_pool!(self, |p| {
            sqlx::query("DELETE FROM accounts WHERE id = $1")
                .bind(id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "account",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// `accounts remove`: the account stops syncing (disabled, no lease, not due), its
    /// credentials and its cached copy of the calendars are deleted (with the sync cursors, so a
    /// later connect lists everything afresh), and its series, history, items, revisions and
    /// notes stay. Returns false when it was archived already (nothing changes).
    pub async fn archive_account(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        self.get_account(id).await?;
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE accounts SET state = 'disabled', archived_at = $2, credentials = NULL, \
                 lease_owner = NULL, lease_expires_at = NULL, next_due_at = NULL, updated_at = $2 \
                 WHERE id = $1 AND archived_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query(
                    "DELETE FROM events WHERE calendar_id IN \
                     (SELECT id FROM calendars WHERE account_id = $1)",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE calendars SET sync_token = NULL, ctag = NULL, last_full_sync_at = NULL \
                     WHERE account_id = $1",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(n == 1)
        })
    }

    /// What purging an account would delete: (series tracked as 1:1s, meetings with a record,
    /// items), for the confirmation question.
    pub(crate) async fn account_holdings(&self, id: i64) -> Result<(i64, i64, i64)> {
        on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT \
                 (SELECT COUNT(*) FROM series s JOIN calendars c ON c.id = s.calendar_id \
                  WHERE c.account_id = $1 \
                  AND ((s.one_on_one AND s.override <> 'excluded') OR s.override = 'included')), \
                 (SELECT COUNT(*) FROM occurrences o JOIN series s ON s.id = o.series_id \
                  JOIN calendars c ON c.id = s.calendar_id \
                  WHERE c.account_id = $1 AND o.closed_at IS NOT NULL), \
                 (SELECT COUNT(*) FROM items i JOIN series s ON s.id = i.series_id \
                  JOIN calendars c ON c.id = s.calendar_id WHERE c.account_id = $1)",
            )
            .bind(id)
            .fetch_one(p)
            .await
        })
        .map_err(Into::into)
    }

    /// Starts writing agendas for the given accounts (`None`: every account) that were waiting;
    /// returns the ids started now, in order (one already started is left as it is). The account
    /// is made due, so a running daemon writes at its next pass.
    pub async fn start_writing(&self, ids: Option<&[i64]>, now: DateTime<Utc>) -> Result<Vec<i64>> {
        let waiting: Vec<i64> = self
            .list_accounts()
            .await?
            .into_iter()
            .filter(|a| !a.writing_started() && ids.is_none_or(|ids| ids.contains(&a.id)))
            .map(|a| a.id)
            .collect();
        let mut started = Vec::new();
        for id in waiting {
            // Conditional: two starters at once (the web page and a CLI) start it once.
            let n = on_pool!(self, |p| {
                sqlx::query(
                    "UPDATE accounts SET writing_started_at = $2, next_due_at = $2, updated_at = $2 \
                     WHERE id = $1 AND writing_started_at IS NULL",
                )
                .bind(id)
                .bind(now)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
            })?;
            if n == 1 {
                started.push(id);
            }
        }
        Ok(started)
    }

    /// The same calendar connected again (`connect`, `accounts reconnect`, the web's
    /// "Reconnect"): new credentials and settings, any calendar not synced yet added, the account
    /// active again and due now; its series, history and links stay. An archived account comes
    /// back waiting to be started (its first pass is a preview, DESIGN.md guarantee 12); one that
    /// was writing goes on writing.
    pub async fn reconnect_account(
        &self,
        id: i64,
        again: &Reconnect<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let settings = again.settings.map(|s| s.to_string());
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE accounts SET credentials = $2, settings = COALESCE($4, settings), \
                 state = 'active', consecutive_failures = 0, next_due_at = $3, updated_at = $3, \
                 writing_started_at = CASE WHEN archived_at IS NULL THEN writing_started_at END, \
                 archived_at = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(again.credentials)
            .bind(now)
            .bind(&settings)
            .execute(&mut *tx)
            .await?;
            for (remote_id, name, tz) in again.calendars {
                sqlx::query(
                    "INSERT INTO calendars (account_id, remote_id, display_name, timezone) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, remote_id) DO NOTHING",
                )
                .bind(id)
                .bind(remote_id)
                .bind(name)
                .bind(tz)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn set_account_state(
        &self,
        id: i64,
        state: AccountState,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query("UPDATE accounts SET state = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(state.as_str())
                .bind(now)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Claims up to `limit` active accounts that are due and not leased by another live daemon.
    /// One conditional UPDATE: under concurrency each account goes to exactly one daemon. The
    /// claim clears `next_due_at` (see `NEXT_DUE_KEEPING_REQUEST`); an account whose daemon died
    /// mid-pass is due again once its lease runs out.
    pub async fn claim_due_accounts(
        &self,
        daemon: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Account>> {
        let free = "(lease_owner IS NULL OR lease_expires_at < $2 OR lease_owner = $1)";
        let sql = format!(
            "UPDATE accounts SET lease_owner = $1, lease_expires_at = $3, next_due_at = NULL \
             WHERE id IN (SELECT id FROM accounts WHERE state = 'active' \
                 AND (next_due_at IS NULL OR next_due_at <= $2) AND {free} \
                 ORDER BY next_due_at, id LIMIT CAST($4 AS BIGINT)) \
             AND {free} RETURNING {ACCOUNT_COLUMNS}"
        );
        // `LIMIT $4` bare: SQLite plans a LIMIT by its bound value, so it prepared this
        // statement again at every claim (once a pass); behind a CAST the plan holds.
        let rows: Vec<AccountRecord> = on_pool!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(daemon)
                .bind(now)
                .bind(lease_until)
                .bind(limit)
                .fetch_all(p)
                .await
        })?;
        rows.into_iter().map(Account::try_from).collect()
    }

    /// Claims one account whether due or not (a sync asked for by hand), unless another live
    /// daemon holds it or it is not active.
    pub async fn claim_account(
        &self,
        daemon: &str,
        id: i64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<Account>> {
        let sql = format!(
            "UPDATE accounts SET lease_owner = $1, lease_expires_at = $3, next_due_at = NULL \
             WHERE id = $4 \
             AND state = 'active' AND (lease_owner IS NULL OR lease_expires_at < $2 OR lease_owner = $1) \
             RETURNING {ACCOUNT_COLUMNS}"
        );
        let row: Option<AccountRecord> = on_pool!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(daemon)
                .bind(now)
                .bind(lease_until)
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        row.map(Account::try_from).transpose()
    }

    /// Replaces every account's credentials with `f(old)` in one transaction (key rotation): all
    /// rows change, or none.
    pub(crate) async fn reencrypt_credentials<E: std::fmt::Display>(
        &self,
        f: impl Fn(&[u8]) -> std::result::Result<Vec<u8>, E>,
    ) -> Result<usize> {
        self.reencrypt_column(super::notes::Encrypted::Credentials, f)
            .await
    }

    /// Extends a lease this daemon holds; false when it no longer holds it.
    pub(crate) async fn renew_lease(
        &self,
        id: i64,
        daemon: &str,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE accounts SET lease_expires_at = $3 WHERE id = $1 AND lease_owner = $2",
            )
            .bind(id)
            .bind(daemon)
            .bind(until)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// (accounts leased now, active accounts overdue): for `/metrics`.
    pub(crate) async fn lease_counts(&self, now: DateTime<Utc>) -> Result<(i64, i64)> {
        on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT \
                 (SELECT COUNT(*) FROM accounts WHERE lease_owner IS NOT NULL AND lease_expires_at >= $1), \
                 (SELECT COUNT(*) FROM accounts WHERE state = 'active' AND next_due_at < $1)",
            )
            .bind(now)
            .fetch_one(p)
            .await
        })
        .map_err(Into::into)
    }

    /// Makes an account due now (a sync asked for through the API or a push notification). Asked
    /// during a pass, it survives that pass's end: the account is due again at once.
    pub async fn request_sync(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query("UPDATE accounts SET next_due_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Gives back every lease `daemon` holds (at shutdown), so another daemon can take over at once.
    pub async fn release_leases(&self, daemon: &str) -> Result<u64> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE accounts SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1",
            )
            .bind(daemon)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done)
    }

    /// Records a successful pass: clears the failure streak and schedules the next one.
    pub async fn record_account_success(
        &self,
        id: i64,
        now: DateTime<Utc>,
        next_due: DateTime<Utc>,
        daemon: &str,
    ) -> Result<()> {
        let sql = record_success_sql();
        on_pool!(self, |p| {
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .bind(now)
                .bind(next_due)
                .bind(daemon)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Records a failed pass with its kind (for /readyz) and a message without secrets.
    pub async fn record_account_failure(
        &self,
        id: i64,
        now: DateTime<Utc>,
        next_due: DateTime<Utc>,
        kind: &str,
        message: &str,
        daemon: &str,
    ) -> Result<()> {
        let sql = format!(
            "UPDATE accounts SET last_error_at = $2, {NEXT_DUE_KEEPING_REQUEST}, \
             consecutive_failures = consecutive_failures + 1, last_error_kind = $5, last_error = $6, \
             {RELEASE_IF_MINE}, updated_at = $2 WHERE id = $1"
        );
        on_pool!(self, |p| {
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .bind(now)
                .bind(next_due)
                .bind(daemon)
                .bind(kind)
                .bind(message)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn list_calendars(&self, account_id: i64) -> Result<Vec<Calendar>> {
        on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, account_id, remote_id, display_name, timezone, sync_token, ctag, \
                 last_full_sync_at, enabled FROM calendars WHERE account_id = $1 ORDER BY id",
            )
            .bind(account_id)
            .fetch_all(p)
            .await
        })
        .map_err(Into::into)
    }

    pub async fn get_calendar(&self, id: i64) -> Result<Calendar> {
        let row: Option<Calendar> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, account_id, remote_id, display_name, timezone, sync_token, ctag, \
                 last_full_sync_at, enabled FROM calendars WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.ok_or(StoreError::NotFound {
            what: "calendar",
            id: id.to_string(),
        })
    }

    /// Stores a calendar's sync cursor after a pass.
    pub async fn set_calendar_cursor(
        &self,
        calendar_id: i64,
        sync_token: Option<&str>,
        ctag: Option<&str>,
        full_sync_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        on_pool!(self, |p| {
            // An idle pass brings back the cursor it already has: matching no row, the update
            // writes nothing (on SQLite, no commit to sync to disk).
            sqlx::query(
                "UPDATE calendars SET sync_token = $2, ctag = $3, \
                 last_full_sync_at = COALESCE($4, last_full_sync_at) WHERE id = $1 \
                 AND (sync_token IS DISTINCT FROM $2 OR ctag IS DISTINCT FROM $3 OR $4 IS NOT NULL)",
            )
            .bind(calendar_id)
            .bind(sync_token)
            .bind(ctag)
            .bind(full_sync_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}

/// Records an account's successful pass (parameters: id, now, next due, daemon).
pub(super) fn record_success_sql() -> String {
    format!(
        "UPDATE accounts SET last_success_at = $2, {NEXT_DUE_KEEPING_REQUEST}, \
         consecutive_failures = 0, {RELEASE_IF_MINE}, updated_at = $2 WHERE id = $1"
    )
}
