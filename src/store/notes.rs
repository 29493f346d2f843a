//! Private notes (ciphertext only: the `notes` module encrypts and decrypts) and the aggregate
//! counts behind the insight gauges of `/metrics`.

use chrono::{DateTime, NaiveDate, Utc};

use super::error::{Result, StoreError};
use super::pool::{Store, on_pool};

/// One stored private note; `body` is ciphertext (`secrets::Purpose::PrivateNote`).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PrivateNoteRow {
    pub id: i64,
    pub series_id: i64,
    pub occurrence_id: Option<i64>,
    pub meeting_date: Option<NaiveDate>,
    pub body: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// Counts over every tracked series, for `/metrics`: no names, no addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InsightCounts {
    pub series_tracked: i64,
    pub meetings_held: i64,
    /// Open items carried `stale_after` times or more.
    pub stale_items: i64,
}

/// The columns that hold ciphertext under the secrets key.
#[derive(Debug, Clone, Copy)]
pub(super) enum Encrypted {
    Credentials,
    PrivateNotes,
    SeriesLinks,
}

/// `attendance::status(o) == Held`, in SQL over `occurrences o` (notes: any kept, where the
/// Rust rule also leaves out blank ones, which a pass does not keep).
const HELD: &str = "(o.marked = 'held' OR (o.marked IS NULL AND o.status = 'held' AND ( \
    COALESCE(o.notes, '[]') <> '[]' OR o.edited_at >= o.start_at \
    OR EXISTS (SELECT 1 FROM items ci WHERE ci.closed_in = o.id) \
    OR EXISTS (SELECT 1 FROM private_notes pn WHERE pn.occurrence_id = o.id))))";

impl Encrypted {
    /// Table, column, and the two for error messages: fixed names, never input.
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Encrypted::Credentials => ("accounts", "credentials", "accounts.credentials"),
            Encrypted::PrivateNotes => ("private_notes", "body", "private_notes.body"),
            Encrypted::SeriesLinks => ("series_links", "token_sealed", "series_links.token_sealed"),
        }
    }
}

/// A series the daemon treats as a 1:1 (the same rule as `SeriesRow::tracked`), in SQL.
const TRACKED: &str = "(s.override = 'included' OR (s.override = 'auto' AND s.one_on_one))";

impl Store {
    pub(crate) async fn add_private_note(
        &self,
        series_id: i64,
        occurrence_id: Option<i64>,
        meeting_date: Option<NaiveDate>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<i64> {
        on_pool!(self, |p| {
            sqlx::query_scalar(
                "INSERT INTO private_notes (series_id, occurrence_id, meeting_date, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(series_id)
            .bind(occurrence_id)
            .bind(meeting_date)
            .bind(body)
            .bind(now)
            .fetch_one(p)
            .await
        })
        .map_err(Into::into)
    }

    /// The private notes of a series, oldest first.
    pub async fn list_private_notes(&self, series_id: i64) -> Result<Vec<PrivateNoteRow>> {
        on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, series_id, occurrence_id, meeting_date, body, created_at \
                 FROM private_notes WHERE series_id = $1 ORDER BY created_at, id",
            )
            .bind(series_id)
            .fetch_all(p)
            .await
        })
        .map_err(Into::into)
    }

    /// Re-encrypts every private note in one transaction (key rotation); nothing changes when
    /// one of them cannot be re-encrypted.
    pub(crate) async fn reencrypt_private_notes<E: std::fmt::Display>(
        &self,
        f: impl Fn(&[u8]) -> std::result::Result<Vec<u8>, E>,
    ) -> Result<usize> {
        self.reencrypt_column(Encrypted::PrivateNotes, f).await
    }

    /// Replaces every value of an encrypted column with `f(old)` in one transaction: all rows
    /// change, or none.
    pub(super) async fn reencrypt_column<E: std::fmt::Display>(
        &self,
        which: Encrypted,
        f: impl Fn(&[u8]) -> std::result::Result<Vec<u8>, E>,
    ) -> Result<usize> {
        let (table, column, label) = which.names();
        let select = format!("SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL");
        let update = format!("UPDATE {table} SET {column} = $2 WHERE id = $1");
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
                .fetch_all(&mut *tx)
                .await?;
            for (id, blob) in &rows {
                let new = f(blob).map_err(|e| StoreError::Corrupt {
                    column: label,
                    value: format!("row {id}: {e}"),
                })?;
                sqlx::query(sqlx::AssertSqlSafe(update.as_str()))
                    .bind(id)
                    .bind(new)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(rows.len())
        })
    }

    /// Aggregate counts over the tracked series, in one round trip. Held meetings as
    /// `attendance` counts them: a person's word, else evidence (a close in it, notes, an edit
    /// after its start, a private note about it).
    pub async fn insight_counts(&self, stale_after: u32) -> Result<InsightCounts> {
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM series s WHERE {TRACKED}), \
             (SELECT COUNT(*) FROM occurrences o JOIN series s ON s.id = o.series_id \
              WHERE {HELD} AND {TRACKED}), \
             (SELECT COUNT(*) FROM items i JOIN series s ON s.id = i.series_id \
              WHERE i.state = 'open' AND i.times_carried >= $1 AND {TRACKED})"
        );
        let (series_tracked, meetings_held, stale_items): (i64, i64, i64) =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(i64::from(stale_after))
                .fetch_one(p)
                .await)?;
        Ok(InsightCounts {
            series_tracked,
            meetings_held,
            stale_items,
        })
    }
}
