//! The 1:1 history: series, their occurrences, the items carried between meetings, and every
//! description we replaced (so each write can be undone).

use chrono::{DateTime, Utc};

use super::error::{Result, StoreError, parse_enum, text_enum};
use super::pool::{Pool, Store, durably, on_pool};
pub use crate::detect::SeriesOverride;

text_enum!(
    OccurrenceState { Upcoming = "upcoming", Held = "held", Cancelled = "cancelled", Moved = "moved" }
);

text_enum!(
    /// A person's word on whether a meeting took place.
    Mark { Held = "held", Skipped = "skipped" }
);

text_enum!(
    /// Where an item came from.
    ItemSource { Calendar = "calendar", Cli = "cli", Api = "api", Web = "web" }
);

#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRow {
    pub id: i64,
    pub calendar_id: i64,
    pub uid: String,
    pub summary: String,
    pub manager_email: Option<String>,
    pub direct_email: Option<String>,
    pub direct_name: Option<String>,
    pub one_on_one: bool,
    pub owner_is_organizer: bool,
    pub confidence: f64,
    pub detection_reason: String,
    pub override_: SeriesOverride,
    pub last_error: Option<String>,
    /// The zone its events are in (IANA name), as the last pass saw it; see `when::series_zone`.
    pub timezone: Option<String>,
    /// How often it meets, as detection read its rule: in words, and the gap in days.
    pub cadence: Option<String>,
    pub cadence_days: Option<f64>,
    /// The earlier series this one continues (a 1:1 re-created under a new UID), and why.
    pub continues_series_id: Option<i64>,
    pub continues_reason: Option<String>,
}

impl SeriesRow {
    /// Whether the daemon treats this series as a 1:1: the user's override, else detection.
    pub fn tracked(&self) -> bool {
        match self.override_ {
            SeriesOverride::Included => true,
            SeriesOverride::Excluded => false,
            SeriesOverride::Auto => self.one_on_one,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SeriesRecord {
    id: i64,
    calendar_id: i64,
    uid: String,
    summary: String,
    manager_email: Option<String>,
    direct_email: Option<String>,
    direct_name: Option<String>,
    one_on_one: bool,
    owner_is_organizer: bool,
    confidence: f64,
    detection_reason: String,
    #[sqlx(rename = "override")]
    override_: String,
    last_error: Option<String>,
    timezone: Option<String>,
    cadence: Option<String>,
    cadence_days: Option<f64>,
    continues_series_id: Option<i64>,
    continues_reason: Option<String>,
}

impl TryFrom<SeriesRecord> for SeriesRow {
    type Error = StoreError;

    fn try_from(r: SeriesRecord) -> Result<Self> {
        Ok(Self {
            id: r.id,
            calendar_id: r.calendar_id,
            uid: r.uid,
            summary: r.summary,
            manager_email: r.manager_email,
            direct_email: r.direct_email,
            direct_name: r.direct_name,
            one_on_one: r.one_on_one,
            owner_is_organizer: r.owner_is_organizer,
            confidence: r.confidence,
            detection_reason: r.detection_reason,
            override_: parse_enum("series.override", &r.override_)?,
            last_error: r.last_error,
            timezone: r.timezone,
            cadence: r.cadence,
            cadence_days: r.cadence_days,
            continues_series_id: r.continues_series_id,
            continues_reason: r.continues_reason,
        })
    }
}

const SERIES_COLUMNS: &str = "id, calendar_id, uid, summary, manager_email, direct_email, direct_name, \
    one_on_one, owner_is_organizer, confidence, detection_reason, override, last_error, timezone, \
    cadence, cadence_days, continues_series_id, continues_reason";

/// The columns of [`OccurrenceRow`], in its order.
pub(super) const OCCURRENCE_COLUMNS: &str = "id, series_id, original_start, start_at, end_at, \
    remote_id, status, agenda_hash, final_agenda, notes, closed_at, summary, marked, marked_at, \
    marked_via, edited_at";

/// What detection says about a series; written on every pass, never touching the user's override.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesUpsert {
    pub calendar_id: i64,
    pub uid: String,
    pub summary: String,
    pub manager_email: Option<String>,
    pub direct_email: Option<String>,
    pub direct_name: Option<String>,
    pub one_on_one: bool,
    pub owner_is_organizer: bool,
    pub confidence: f64,
    pub detection_reason: String,
    /// How often it meets (in words, and the gap in days), when its rule says.
    pub cadence: Option<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OccurrenceRow {
    pub id: i64,
    pub series_id: i64,
    pub original_start: DateTime<Utc>,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub remote_id: Option<String>,
    pub status: String,
    pub agenda_hash: Option<String>,
    pub final_agenda: Option<String>,
    pub notes: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub summary: Option<String>,
    /// A person's word: `held` or `skipped` (see [`Mark`]).
    pub marked: Option<String>,
    pub marked_at: Option<DateTime<Utc>>,
    pub marked_via: Option<String>,
    /// The last time a pass took in a person's change to its block.
    pub edited_at: Option<DateTime<Utc>>,
}

impl OccurrenceRow {
    pub fn state(&self) -> Result<OccurrenceState> {
        parse_enum("occurrences.status", &self.status)
    }

    /// A person's mark, if any (an unreadable one counts as none).
    pub fn mark(&self) -> Option<Mark> {
        self.marked.as_deref().and_then(|m| m.parse().ok())
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ItemRow {
    pub id: i64,
    pub series_id: i64,
    pub section: String,
    pub text: String,
    pub state: String,
    pub created_in: Option<i64>,
    pub closed_in: Option<i64>,
    pub times_carried: i64,
    pub source: String,
    pub position: i64,
    /// When it was closed (done or dropped), and through what (calendar, cli, api, web).
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_via: Option<String>,
}

/// The columns of [`ItemRow`], in its order.
pub(super) const ITEM_COLUMNS: &str = "id, series_id, section, text, state, created_in, closed_in, \
    times_carried, source, position, closed_at, closed_via";

#[derive(Debug, Clone, PartialEq)]
pub struct NewRevision {
    pub series_id: Option<i64>,
    pub occurrence_id: Option<i64>,
    pub calendar_id: i64,
    pub remote_id: String,
    pub original_start: Option<DateTime<Utc>>,
    pub etag_before: Option<String>,
    pub description_before: Option<String>,
    pub description_after: String,
    /// The revision this write undoes (a restore's); `None` for the daemon's own writes.
    pub restores: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Revision {
    pub id: i64,
    pub series_id: Option<i64>,
    pub occurrence_id: Option<i64>,
    pub calendar_id: i64,
    pub remote_id: String,
    pub original_start: Option<DateTime<Utc>>,
    pub etag_before: Option<String>,
    pub description_before: Option<String>,
    pub description_after: String,
    pub created_at: DateTime<Utc>,
    pub applied_at: Option<DateTime<Utc>>,
    pub restored_at: Option<DateTime<Utc>>,
    /// The revision this one undid, when it is a restore's.
    pub restores: Option<i64>,
}

/// Every column of a revision, as [`Revision`] reads them.
const SELECT_REVISIONS: &str = "SELECT id, series_id, occurrence_id, calendar_id, remote_id, \
     original_start, etag_before, description_before, description_after, created_at, applied_at, \
     restored_at, restores FROM description_revisions";

/// Marks a revision as having reached the calendar (parameters: id, when).
pub(super) const MARK_REVISION_APPLIED: &str =
    "UPDATE description_revisions SET applied_at = $2 WHERE id = $1";

/// Records a detected series, or updates the one with its calendar and UID.
/// `INSERT ... ON CONFLICT DO UPDATE` of `rows` series (14 parameters a row; see
/// [`upsert_series_bind`]). The user's override is not among the columns, so it is kept.
fn upsert_series_sql(rows: usize, dialect: &str) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| format!("({})", super::events::placeholders(dialect, r * 14, 14)))
        .collect();
    format!(
        "INSERT INTO series (calendar_id, uid, summary, manager_email, direct_email, direct_name, \
         one_on_one, owner_is_organizer, confidence, detection_reason, cadence, cadence_days, \
         created_at, updated_at) \
         VALUES {} ON CONFLICT (calendar_id, uid) DO UPDATE SET summary = excluded.summary, \
         manager_email = excluded.manager_email, direct_email = excluded.direct_email, \
         direct_name = excluded.direct_name, one_on_one = excluded.one_on_one, \
         owner_is_organizer = excluded.owner_is_organizer, confidence = excluded.confidence, \
         detection_reason = excluded.detection_reason, cadence = excluded.cadence, \
         cadence_days = excluded.cadence_days, updated_at = excluded.updated_at",
        values.join(", ")
    )
}

/// Binds a [`SeriesUpsert`] to one row of [`upsert_series_sql`]'s parameters.
macro_rules! upsert_series_bind {
    ($q:expr, $s:expr, $now:expr) => {
        $q.bind($s.calendar_id)
            .bind(&$s.uid)
            .bind(&$s.summary)
            .bind(&$s.manager_email)
            .bind(&$s.direct_email)
            .bind(&$s.direct_name)
            .bind($s.one_on_one)
            .bind($s.owner_is_organizer)
            .bind($s.confidence)
            .bind(&$s.detection_reason)
            .bind($s.cadence.as_ref().map(|c| c.0.as_str()))
            .bind($s.cadence.as_ref().map(|c| c.1))
            .bind($now)
            .bind($now)
    };
}

/// Binds a [`NewRevision`] and its time to the parameters of the revision insert.
macro_rules! bind_revision {
    ($q:expr, $r:expr, $now:expr) => {
        $q.bind($r.series_id)
            .bind($r.occurrence_id)
            .bind($r.calendar_id)
            .bind(&$r.remote_id)
            .bind($r.original_start)
            .bind(&$r.etag_before)
            .bind(&$r.description_before)
            .bind(&$r.description_after)
            .bind($now)
            .bind($r.restores)
    };
}

impl Store {
    /// Inserts or refreshes a series from detection; the user's override is kept.
    pub async fn upsert_series(&self, s: &SeriesUpsert, now: DateTime<Utc>) -> Result<SeriesRow> {
        let sql = format!(
            "{} RETURNING {SERIES_COLUMNS}",
            upsert_series_sql(1, self.dialect())
        );
        let row: SeriesRecord = on_pool!(self, |p| upsert_series_bind!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())),
            s,
            now
        )
        .fetch_one(p)
        .await)?;
        row.try_into()
    }

    /// [`Store::upsert_series`] for many series in one transaction, many rows a statement: a
    /// first import's detection commits once, in a few round trips, not one per series.
    pub async fn upsert_series_many(
        &self,
        series: &[SeriesUpsert],
        now: DateTime<Utc>,
    ) -> Result<()> {
        const ROWS: usize = 200; // 2,800 parameters a statement.
        // One row per series: PostgreSQL refuses to update a row twice in one statement.
        let mut seen = std::collections::HashSet::new();
        let mut unique: Vec<&SeriesUpsert> = series
            .iter()
            .rev()
            .filter(|s| seen.insert((s.calendar_id, s.uid.as_str())))
            .collect();
        unique.reverse();
        if unique.is_empty() {
            return Ok(());
        }
        on_pool!(self, |p| {
            async {
                let mut tx = p.begin().await?;
                // Built once per row count: every chunk but the last has the same.
                let mut sql = (0, String::new());
                for chunk in unique.chunks(ROWS) {
                    if sql.0 != chunk.len() {
                        sql = (chunk.len(), upsert_series_sql(chunk.len(), self.dialect()));
                    }
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.1.as_str()));
                    for s in chunk {
                        q = upsert_series_bind!(q, s, now);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await
            }
            .await
        })
        .map_err(Into::into)
    }

    pub async fn list_series(&self) -> Result<Vec<SeriesRow>> {
        let sql = format!("SELECT {SERIES_COLUMNS} FROM series ORDER BY id");
        let rows: Vec<SeriesRecord> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(SeriesRow::try_from).collect()
    }

    /// The series of one calendar (a pass reads only its own: reading every account's series
    /// for each calendar made a pass over N accounts cost N x N rows).
    pub async fn list_series_in(&self, calendar_id: i64) -> Result<Vec<SeriesRow>> {
        let sql = format!("SELECT {SERIES_COLUMNS} FROM series WHERE calendar_id = $1 ORDER BY id");
        let rows: Vec<SeriesRecord> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(calendar_id)
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(SeriesRow::try_from).collect()
    }

    pub async fn get_series(&self, id: i64) -> Result<SeriesRow> {
        let sql = format!("SELECT {SERIES_COLUMNS} FROM series WHERE id = $1");
        let row: Option<SeriesRecord> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(p)
                .await)?;
        row.ok_or(StoreError::NotFound {
            what: "series",
            id: id.to_string(),
        })?
        .try_into()
    }

    pub async fn set_series_override(
        &self,
        id: i64,
        o: SeriesOverride,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let done = on_pool!(self, |p| {
            sqlx::query("UPDATE series SET override = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(o.as_str())
                .bind(now)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "series",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Records (or clears) the problem that keeps a series from getting its agenda.
    pub(crate) async fn set_series_error(&self, id: i64, error: Option<&str>) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query("UPDATE series SET last_error = $2 WHERE id = $1")
                .bind(id)
                .bind(error)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Records an occurrence (or refreshes its times and status while it is still open).
    pub async fn upsert_occurrence(
        &self,
        series_id: i64,
        original_start: DateTime<Utc>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        remote_id: Option<&str>,
    ) -> Result<OccurrenceRow> {
        let sql = format!(
            "INSERT INTO occurrences (series_id, original_start, start_at, end_at, remote_id) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (series_id, original_start) DO UPDATE SET \
             start_at = CASE WHEN occurrences.closed_at IS NULL THEN excluded.start_at ELSE occurrences.start_at END, \
             end_at = CASE WHEN occurrences.closed_at IS NULL THEN excluded.end_at ELSE occurrences.end_at END, \
             remote_id = COALESCE(excluded.remote_id, occurrences.remote_id) \
             RETURNING {OCCURRENCE_COLUMNS}"
        );
        on_pool!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(series_id)
                .bind(original_start)
                .bind(start)
                .bind(end)
                .bind(remote_id)
                .fetch_one(p)
                .await
        })
        .map_err(Into::into)
    }

    pub async fn list_occurrences(&self, series_id: i64) -> Result<Vec<OccurrenceRow>> {
        let sql = format!(
            "SELECT {OCCURRENCE_COLUMNS} FROM occurrences WHERE series_id = $1 ORDER BY original_start"
        );
        on_pool!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(series_id)
                .fetch_all(p)
                .await
        })
        .map_err(Into::into)
    }

    /// Records a person's word on whether a meeting took place (it replaces an earlier one);
    /// false when the occurrence is not one of the series'.
    pub async fn mark_occurrence(
        &self,
        series_id: i64,
        occurrence_id: i64,
        mark: Mark,
        via: ItemSource,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE occurrences SET marked = $3, marked_at = $4, marked_via = $5 \
                 WHERE id = $1 AND series_id = $2",
            )
            .bind(occurrence_id)
            .bind(series_id)
            .bind(mark.as_str())
            .bind(now)
            .bind(via.as_str())
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Remembers the zone a series' events are in (when it changed), for showing its times.
    pub async fn set_series_timezone(&self, id: i64, tz: &str) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
                "UPDATE series SET timezone = $2 WHERE id = $1 \
                 AND (timezone IS NULL OR timezone <> $2)",
            )
            .bind(id)
            .bind(tz)
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Closes an occurrence with its final state; a closed occurrence is never reopened.
    pub async fn close_occurrence(
        &self,
        id: i64,
        state: OccurrenceState,
        final_agenda: Option<&str>,
        notes: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE occurrences SET status = $2, final_agenda = $3, notes = $4, closed_at = $5 \
                 WHERE id = $1 AND closed_at IS NULL",
            )
            .bind(id)
            .bind(state.as_str())
            .bind(final_agenda)
            .bind(notes)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    pub async fn add_item(
        &self,
        series_id: i64,
        section: &str,
        text: &str,
        source: ItemSource,
        created_in: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        on_pool!(self, |p| {
            sqlx::query_scalar(
                "INSERT INTO items (series_id, section, text, source, created_in, position, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, \
                 (SELECT COALESCE(MAX(position), 0) + 1 FROM items WHERE series_id = $1), $6, $6) RETURNING id",
            )
            .bind(series_id)
            .bind(section)
            .bind(text)
            .bind(source.as_str())
            .bind(created_in)
            .bind(now)
            .fetch_one(p)
            .await
        })
        .map_err(Into::into)
    }

    /// Items of a series in their order; `open_only` leaves out done and dropped ones.
    pub async fn list_items(&self, series_id: i64, open_only: bool) -> Result<Vec<ItemRow>> {
        let filter = if open_only { " AND state = 'open'" } else { "" };
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE series_id = $1{filter} ORDER BY position, id"
        );
        on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(series_id)
            .fetch_all(p)
            .await)
        .map_err(Into::into)
    }

    /// Adds one carry to every open action item of a series (a meeting was held without closing them).
    pub async fn carry_open_actions(&self, series_id: i64, now: DateTime<Utc>) -> Result<u64> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE items SET times_carried = times_carried + 1, updated_at = $2 \
                 WHERE series_id = $1 AND section = 'action' AND state = 'open'",
            )
            .bind(series_id)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done)
    }

    /// Stores the description we are about to replace; the write happens only after this commits,
    /// durably (on SQLite too, where other commits may wait for the next sync of the log): every
    /// write into a calendar stays reversible, a power cut included.
    pub async fn insert_revision(&self, r: &NewRevision, now: DateTime<Utc>) -> Result<i64> {
        const INSERT: &str = "INSERT INTO description_revisions (series_id, occurrence_id, \
             calendar_id, remote_id, original_start, etag_before, description_before, \
             description_after, created_at, restores) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             RETURNING id";
        match &self.pool {
            Pool::Postgres(p) => bind_revision!(sqlx::query_scalar(INSERT), r, now)
                .fetch_one(p)
                .await
                .map_err(Into::into),
            Pool::Sqlite(p) => {
                let mut conn = p.acquire().await?;
                durably(&mut conn, async |c| {
                    bind_revision!(sqlx::query_scalar(INSERT), r, now)
                        .fetch_one(&mut *c)
                        .await
                })
                .await
            }
        }
    }

    /// Every revision of a series (all series with `None`), newest first.
    pub async fn list_revisions(&self, series_id: Option<i64>) -> Result<Vec<Revision>> {
        let sql =
            format!("{SELECT_REVISIONS} WHERE ($1 IS NULL OR series_id = $1) ORDER BY id DESC");
        on_pool!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(series_id)
                .fetch_all(p)
                .await
        })
        .map_err(Into::into)
    }

    /// Records that the server accepted the write a revision describes.
    pub(crate) async fn mark_revision_applied(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(MARK_REVISION_APPLIED)
                .bind(id)
                .bind(now)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    pub(crate) async fn mark_revision_restored(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query("UPDATE description_revisions SET restored_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Whether a restore of revision `id` put `text` into its meeting, which holds that text
    /// now: the newest such restore that never heard back is then known to have landed, and is
    /// marked applied.
    pub(crate) async fn confirm_restore(
        &self,
        id: i64,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let found: Option<(i64, bool)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, applied_at IS NOT NULL FROM description_revisions \
                 WHERE restores = $1 AND description_after = $2 ORDER BY id DESC LIMIT 1",
            )
            .bind(id)
            .bind(text)
            .fetch_optional(p)
            .await
        })?;
        if let Some((restore, false)) = found {
            self.mark_revision_applied(restore, now).await?;
        }
        Ok(found.is_some())
    }

    pub async fn get_revision(&self, id: i64) -> Result<Revision> {
        let sql = format!("{SELECT_REVISIONS} WHERE id = $1");
        let row: Option<Revision> = on_pool!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        row.ok_or(StoreError::NotFound {
            what: "revision",
            id: id.to_string(),
        })
    }
}
