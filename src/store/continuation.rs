//! A 1:1 that goes on under a new series (issue 24): the link from a new series to the one it
//! continues, the open items it took over, and the pairs a person split apart. Nothing is
//! deleted by linking or splitting: the old series keeps its meetings and closed items, and the
//! views read through the chain (`*_in_chain`).

use chrono::{DateTime, Utc};

use super::error::Result;
use super::history::{ITEM_COLUMNS, ItemRow, OCCURRENCE_COLUMNS, OccurrenceRow};
use super::pool::{Store, on_pool};

/// `chain (id)`: series `$1` and every series it continues, transitively (UNION stops a cycle).
pub(super) const CHAIN: &str = "WITH RECURSIVE chain (id) AS (SELECT CAST($1 AS BIGINT) \
     UNION SELECT s.continues_series_id FROM series s JOIN chain c ON s.id = c.id \
     WHERE s.continues_series_id IS NOT NULL)";

/// What a link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linked {
    /// Open items moved to the new series.
    pub items_moved: u64,
}

/// What a split did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// The series the split one had continued.
    pub earlier_series_id: i64,
    /// Items taken over from it, still open, moved back to it.
    pub items_moved_back: u64,
}

impl Store {
    /// Pairs (new series of `calendar_id`, earlier series of the same account), both tracked,
    /// with the same manager and direct addresses, where the new one continues nothing and is
    /// continued by nothing, the earlier one is continued by nothing, and no person split the
    /// pair. The rest of the rule (ended, cadence) is `detect::continuation`'s. (Tracked is
    /// asked here, not after: every pair is loaded and judged at every pass, and the pairs of
    /// untracked series made a first import of 10,000 events cost 60% more CPU.)
    pub(crate) async fn continuation_candidates(
        &self,
        calendar_id: i64,
    ) -> Result<Vec<(i64, i64)>> {
        on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT n.id, o.id FROM series n \
                 JOIN calendars nc ON nc.id = n.calendar_id \
                 JOIN calendars oc ON oc.account_id = nc.account_id \
                 JOIN series o ON o.calendar_id = oc.id \
                 WHERE n.calendar_id = $1 AND o.id <> n.id AND n.continues_series_id IS NULL \
                 AND ((n.one_on_one AND n.override <> 'excluded') OR n.override = 'included') \
                 AND ((o.one_on_one AND o.override <> 'excluded') OR o.override = 'included') \
                 AND n.direct_email IS NOT NULL \
                 AND lower(n.manager_email) = lower(o.manager_email) \
                 AND lower(n.direct_email) = lower(o.direct_email) \
                 AND NOT EXISTS (SELECT 1 FROM series x WHERE x.continues_series_id IN (n.id, o.id)) \
                 AND NOT EXISTS (SELECT 1 FROM series_splits p \
                     WHERE p.series_id = n.id AND p.earlier_series_id = o.id) \
                 ORDER BY n.id, o.id",
            )
            .bind(calendar_id)
            .fetch_all(p)
            .await
        })
        .map_err(Into::into)
    }

    /// Makes `new_id` continue `earlier_id`, in one transaction: the reason is recorded, the
    /// earlier series' open items move to the new one (remembering where from, for a split).
    /// A pair split earlier is no longer remembered as split. `None` when either series is
    /// already linked that way (nothing changed).
    pub(crate) async fn link_series(
        &self,
        new_id: i64,
        earlier_id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Linked>> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let linked = sqlx::query(
                "UPDATE series SET continues_series_id = $2, continues_reason = $3, continued_at = $4 \
                 WHERE id = $1 AND continues_series_id IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM series x WHERE x.continues_series_id = $2)",
            )
            .bind(new_id)
            .bind(earlier_id)
            .bind(reason)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if linked == 0 {
                return Ok(None);
            }
            let items_moved = sqlx::query(
                "UPDATE items SET series_id = $1, moved_from_series_id = $2, in_notes = $3 \
                 WHERE series_id = $2 AND state = 'open'",
            )
            .bind(new_id)
            .bind(earlier_id)
            .bind(false)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "DELETE FROM series_splits WHERE series_id = $1 AND earlier_series_id = $2",
            )
            .bind(new_id)
            .bind(earlier_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(Linked { items_moved }))
        })
    }

    /// Undoes [`Store::link_series`] for `id`, in one transaction: the items it took over that
    /// are still open go back, the link is cleared, and the pair is remembered as split so
    /// detection does not link it again. `None` when `id` continues no series.
    pub(crate) async fn split_series(&self, id: i64, now: DateTime<Utc>) -> Result<Option<Split>> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let earlier: Option<Option<i64>> =
                sqlx::query_scalar("SELECT continues_series_id FROM series WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(earlier) = earlier.flatten() else {
                return Ok(None);
            };
            let items_moved_back = sqlx::query(
                "UPDATE items SET series_id = $2, moved_from_series_id = NULL \
                 WHERE series_id = $1 AND moved_from_series_id = $2 AND state = 'open'",
            )
            .bind(id)
            .bind(earlier)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "UPDATE series SET continues_series_id = NULL, continues_reason = NULL, \
                 continued_at = NULL WHERE id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO series_splits (series_id, earlier_series_id, split_at) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(earlier)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(Split {
                earlier_series_id: earlier,
                items_moved_back,
            }))
        })
    }

    /// The series that continues `id`, if any.
    pub(crate) async fn continued_by(&self, id: i64) -> Result<Option<i64>> {
        on_pool!(self, |p| {
            sqlx::query_scalar("SELECT id FROM series WHERE continues_series_id = $1")
                .bind(id)
                .fetch_optional(p)
                .await
        })
        .map_err(Into::into)
    }

    /// The ids `select` (a query on `chain`, with `$1` the series) gives.
    async fn chain_ids(&self, select: &str, series_id: i64) -> Result<Vec<i64>> {
        let sql = format!("{CHAIN} {select}");
        on_pool!(self, |p| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(series_id)
                .fetch_all(p)
                .await
        })
        .map_err(Into::into)
    }

    /// A series and every series it continues, newest first.
    pub(crate) async fn series_chain(&self, series_id: i64) -> Result<Vec<i64>> {
        let mut ids = self.chain_ids("SELECT id FROM chain", series_id).await?;
        // A series continues an older one: the later the id, the newer.
        ids.sort_by_key(|&id| (id != series_id, std::cmp::Reverse(id)));
        Ok(ids)
    }

    /// The meetings of a series and the closed ones of every series it continues, oldest
    /// first. A meeting of an earlier series that never closed was still ahead when that series
    /// ended (deleted from the calendar): it did not take place, and is not this 1:1's history.
    pub async fn list_occurrences_in_chain(&self, series_id: i64) -> Result<Vec<OccurrenceRow>> {
        let sql = format!(
            "{CHAIN} SELECT {OCCURRENCE_COLUMNS} FROM occurrences \
             WHERE series_id = $1 OR (series_id IN (SELECT id FROM chain) AND closed_at IS NOT NULL) \
             ORDER BY original_start, id"
        );
        on_pool!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(series_id)
                .fetch_all(p)
                .await
        })
        .map_err(Into::into)
    }

    /// The items of a series and of every series it continues (open ones are all in the
    /// newest: a link moves them), in their order.
    pub async fn list_items_in_chain(&self, series_id: i64) -> Result<Vec<ItemRow>> {
        let sql = format!(
            "{CHAIN} SELECT {ITEM_COLUMNS} FROM items \
             WHERE series_id IN (SELECT id FROM chain) ORDER BY position, id"
        );
        on_pool!(self, |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(series_id)
                .fetch_all(p)
                .await
        })
        .map_err(Into::into)
    }

    /// The meetings with a private note (no note is decrypted), of a series and of every
    /// series it continues: evidence that they took place (see `attendance`).
    pub(crate) async fn private_note_occurrences_in_chain(
        &self,
        series_id: i64,
    ) -> Result<Vec<i64>> {
        let select = "SELECT DISTINCT occurrence_id FROM private_notes \
             WHERE series_id IN (SELECT id FROM chain) AND occurrence_id IS NOT NULL";
        self.chain_ids(select, series_id).await
    }
}
