//! The cache of remote events: one row per remote resource (a CalDAV href holds one UID with its
//! overrides; a Google event id one event), with its etag and raw payload, so an idle pass needs
//! no download and a series can be re-read without asking the server.

use chrono::{DateTime, Utc};

use super::error::Result;
use super::pool::{Store, on_pool};

#[derive(Debug, Clone, PartialEq)]
pub struct CachedEvent {
    pub remote_id: String,
    pub uid: String,
    pub etag: Option<String>,
    pub payload_hash: String,
    pub summary: Option<String>,
    pub start_at: Option<DateTime<Utc>>,
    pub status: String,
    /// The payload. CalDAV keeps it only for resources holding a recurring series (empty for
    /// the others); Google keeps every event's JSON.
    pub raw: String,
}

#[derive(sqlx::FromRow)]
struct EventRecord {
    remote_id: String,
    uid: String,
    etag: Option<String>,
    payload_hash: String,
    summary: Option<String>,
    start_at: Option<DateTime<Utc>>,
    status: String,
    raw: String,
}

impl From<EventRecord> for CachedEvent {
    fn from(r: EventRecord) -> Self {
        Self {
            remote_id: r.remote_id,
            uid: r.uid,
            etag: r.etag,
            payload_hash: r.payload_hash,
            summary: r.summary,
            start_at: r.start_at,
            status: r.status,
            raw: r.raw,
        }
    }
}

/// Binds `rows` events (owned: sqlx would copy each borrowed string once more) to the
/// parameters of [`upsert_sql`].
macro_rules! bind_events {
    ($q:expr, $rows:expr, $calendar_id:expr, $now:expr) => {{
        let mut q = $q;
        for e in $rows {
            let e: $crate::store::events::CachedEvent = e;
            q = q
                .bind($calendar_id)
                .bind(e.remote_id)
                .bind(e.uid)
                .bind(e.etag)
                .bind(e.payload_hash)
                .bind(e.summary)
                .bind(e.start_at)
                .bind(e.status)
                .bind(e.raw)
                .bind($now);
        }
        q
    }};
}
pub(super) use bind_events;

/// The `payload_hash` of a resource: XXH3-128 of its bytes, in hex. It tells one payload from
/// another, nothing more (no one gains by forging a collision), so it need not be a
/// cryptographic hash: SHA-256 took 3% of a 10,000-event first import's CPU, XXH3 a few
/// hundredths of that.
pub fn payload_hash(payload: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(payload))
}

const EVENT_COLUMNS: &str = "remote_id, uid, etag, payload_hash, summary, start_at, status, raw";

impl Store {
    /// Stores (or replaces) one cached resource.
    pub(crate) async fn upsert_event(
        &self,
        calendar_id: i64,
        e: &CachedEvent,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.upsert_events(calendar_id, vec![e.clone()], now).await
    }

    /// Stores (or replaces) many cached resources in one transaction, several rows per statement:
    /// a first import of thousands of resources costs a few dozen round trips, not thousands.
    pub async fn upsert_events(
        &self,
        calendar_id: i64,
        mut events: Vec<CachedEvent>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        // In the order of the (calendar_id, remote_id) index, so each statement adds to a few
        // neighbouring index pages instead of one page per row across the whole index: a
        // server lists resources in no useful order (Radicale: its directory's). Stable, so of
        // two rows for one resource the later still wins.
        events.sort_by(|a, b| a.remote_id.cmp(&b.remote_id));
        // 10 parameters a row: 2,500 a statement, far under both databases' limits (32,766 and
        // 65,535). Each statement is a round trip to SQLite's worker thread.
        const ROWS: usize = 250;
        on_pool!(self, |p| {
            async {
                let mut tx = p.begin().await?;
                // Built once per row count: every chunk but the last has the same.
                let mut sql = (0, String::new());
                let mut rows = events.into_iter();
                loop {
                    let chunk: Vec<CachedEvent> = rows.by_ref().take(ROWS).collect();
                    if chunk.is_empty() {
                        break;
                    }
                    if sql.0 != chunk.len() {
                        sql = (chunk.len(), upsert_sql(chunk.len(), self.dialect()));
                    }
                    bind_events!(
                        sqlx::query(sqlx::AssertSqlSafe(sql.1.as_str())),
                        chunk,
                        calendar_id,
                        now
                    )
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await
            }
            .await
        })
        .map_err(Into::into)
    }

    /// The cached resources among `remote_ids` (those no longer cached are left out).
    pub async fn get_events(
        &self,
        calendar_id: i64,
        remote_ids: &[String],
    ) -> Result<Vec<CachedEvent>> {
        let mut out = Vec::with_capacity(remote_ids.len());
        for chunk in remote_ids.chunks(200) {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE calendar_id = {} AND remote_id IN ({})",
                placeholders(self.dialect(), 0, 1),
                placeholders(self.dialect(), 1, chunk.len())
            );
            let rows: Vec<EventRecord> = on_pool!(self, |p| {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(calendar_id);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(p).await
            })?;
            out.extend(rows.into_iter().map(CachedEvent::from));
        }
        Ok(out)
    }

    pub async fn delete_event(&self, calendar_id: i64, remote_id: &str) -> Result<u64> {
        on_pool!(self, |p| {
            sqlx::query("DELETE FROM events WHERE calendar_id = $1 AND remote_id = $2")
                .bind(calendar_id)
                .bind(remote_id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(Into::into)
    }

    /// (remote id, etag) of every cached resource of a calendar.
    pub async fn event_etags(&self, calendar_id: i64) -> Result<Vec<(String, Option<String>)>> {
        on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT remote_id, etag FROM events WHERE calendar_id = $1 ORDER BY remote_id",
            )
            .bind(calendar_id)
            .fetch_all(p)
            .await
        })
        .map_err(Into::into)
    }

    /// The cached resources holding `uid` whose text the cache keeps: a CalDAV resource with a
    /// recurring series, every Google event. A CalDAV one-off is found by its remote id only.
    pub async fn events_by_uid(&self, calendar_id: i64, uid: &str) -> Result<Vec<CachedEvent>> {
        // Sorted here, not by an ORDER BY: with one, SQLite walks the (calendar_id, remote_id)
        // index over the whole calendar instead of looking the UID up in `events_uid`. That
        // index holds only the rows with a text (`raw <> ''`), and the condition must be
        // written as the index writes it for either database to use the index.
        let sql = by_uid_sql();
        let mut rows: Vec<EventRecord> = on_pool!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(calendar_id)
                .bind(uid)
                .fetch_all(p)
                .await
        })?;
        rows.sort_by(|a, b| a.remote_id.cmp(&b.remote_id));
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn count_events(&self, calendar_id: i64) -> Result<i64> {
        on_pool!(self, |p| {
            sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE calendar_id = $1")
                .bind(calendar_id)
                .fetch_one(p)
                .await
        })
        .map_err(Into::into)
    }
}

/// `n` comma-separated parameters after the first `before`: `$k` for PostgreSQL, and for SQLite
/// plain `?`, which it binds in order. (sqlx looks each numbered SQLite parameter up by name,
/// which walks the statement's parameter list: a 500-parameter statement cost 125,000 steps.)
pub(super) fn placeholders(dialect: &str, before: usize, n: usize) -> String {
    let marks: Vec<String> = (before + 1..=before + n)
        .map(|k| match dialect {
            "postgres" => format!("${k}"),
            _ => "?".to_string(),
        })
        .collect();
    marks.join(", ")
}

/// The lookup of [`Store::events_by_uid`], written with the condition of the partial index
/// `events_uid` (migration 0005) so that both databases use it.
fn by_uid_sql() -> String {
    format!("SELECT {EVENT_COLUMNS} FROM events WHERE calendar_id = $1 AND uid = $2 AND raw <> ''")
}

/// `INSERT ... ON CONFLICT DO UPDATE` of `rows` events (10 parameters a row).
pub(super) fn upsert_sql(rows: usize, dialect: &str) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| format!("({})", placeholders(dialect, r * 10, 10)))
        .collect();
    format!(
        "INSERT INTO events (calendar_id, remote_id, uid, etag, payload_hash, summary, start_at, \
         status, raw, updated_at) VALUES {} \
         ON CONFLICT (calendar_id, remote_id) DO UPDATE SET uid = excluded.uid, \
         etag = excluded.etag, payload_hash = excluded.payload_hash, summary = excluded.summary, \
         start_at = excluded.start_at, status = excluded.status, raw = excluded.raw, \
         updated_at = excluded.updated_at",
        values.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::{by_uid_sql, payload_hash};
    use crate::store::pool::tests::{sqlite, sqlite_store};

    #[tokio::test]
    async fn a_uid_lookup_goes_through_the_index_of_the_kept_texts() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(&dir).await;
        store.migrate().await.unwrap();
        // The index holds only the rows with a text: a condition that did not match the
        // index's would read the whole calendar for each series of every pass.
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {}",
            by_uid_sql()
        )))
        .bind(1)
        .bind("weekly")
        .fetch_all(sqlite(&store))
        .await
        .unwrap();
        assert!(plan[0].3.contains("USING INDEX events_uid"), "{plan:?}");
    }

    #[test]
    fn the_payload_hash_is_128_bits_of_hex_and_tells_a_one_byte_change() {
        let a = payload_hash(b"BEGIN:VCALENDAR\r\nSUMMARY:Lunch\r\n");
        let b = payload_hash(b"BEGIN:VCALENDAR\r\nSUMMARY:Lunck\r\n");
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
        assert_eq!(a, payload_hash(b"BEGIN:VCALENDAR\r\nSUMMARY:Lunch\r\n"));
        // Fixed by the algorithm, so a cache written by one build reads the same in the next.
        assert_eq!(payload_hash(b""), "99aa06d3014798d86001c324468d497f");
    }
}
