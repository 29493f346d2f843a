//! Edits to single items from outside a pass (the admin API, later the web pages): read one,
//! change its text or section, close it. Only open items change; a closed one is history.

use chrono::{DateTime, Utc};

use super::error::{Result, StoreError};
use super::history::ITEM_COLUMNS;
use super::history::{ItemRow, ItemSource};
use super::pool::{Store, on_pool};

impl Store {
    pub async fn get_item(&self, id: i64) -> Result<ItemRow> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = $1");
        let row: Option<ItemRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(p)
                .await)?;
        row.ok_or(StoreError::NotFound {
            what: "item",
            id: id.to_string(),
        })
    }

    /// Changes the text and/or section of an open item; false when the item is not open (or
    /// gone), so a caller never rewrites history.
    pub(crate) async fn update_open_item(
        &self,
        id: i64,
        text: Option<&str>,
        section: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE items SET text = COALESCE($2, text), section = COALESCE($3, section), \
                 updated_at = $4 WHERE id = $1 AND state = 'open'",
            )
            .bind(id)
            .bind(text)
            .bind(section)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// Closes an open item as `done` or `dropped` outside any meeting (`closed_in` stays empty),
    /// recording when and through what; false when it was not open.
    pub async fn close_open_item(
        &self,
        id: i64,
        state: &str,
        via: ItemSource,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE items SET state = $2, updated_at = $3, closed_at = $3, closed_via = $4 \
                 WHERE id = $1 AND state = 'open'",
            )
            .bind(id)
            .bind(state)
            .bind(now)
            .bind(via.as_str())
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }
}

impl Store {
    /// Moves an open item to `section` (its own when `None`) and to `place` among that
    /// section's open items (1 is the first; past the last, or `None` when the section changes:
    /// after every item of it; `None` in its own section: where it is). The section's items are
    /// numbered again in their new order (`position` orders each area of the agenda), in one
    /// transaction. False when the item is not open (or gone).
    pub(crate) async fn place_open_item(
        &self,
        id: i64,
        section: Option<&str>,
        place: Option<usize>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let found: Option<(i64, String, String)> =
                sqlx::query_as("SELECT series_id, section, state FROM items WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((series_id, current, state)) = found else {
                return Ok(false);
            };
            if state != "open" {
                return Ok(false);
            }
            let target = section.unwrap_or(&current).to_string();
            let mut rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, state FROM items WHERE series_id = $1 AND section = $2 AND id <> $3 \
                 ORDER BY position, id",
            )
            .bind(series_id)
            .bind(&target)
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            let at = match place {
                None if target != current => rows.len(),
                None => {
                    let ids: Vec<i64> = sqlx::query_scalar(
                        "SELECT id FROM items WHERE series_id = $1 AND section = $2 \
                         ORDER BY position, id",
                    )
                    .bind(series_id)
                    .bind(&target)
                    .fetch_all(&mut *tx)
                    .await?;
                    ids.iter().position(|&i| i == id).unwrap_or(rows.len())
                }
                // Before the place-th open item of the section; after the last item past it.
                Some(place) => rows
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, s))| s == "open")
                    .nth(place.saturating_sub(1))
                    .map_or(rows.len(), |(i, _)| i),
            };
            rows.insert(at, (id, state));
            sqlx::query("UPDATE items SET section = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(&target)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            for (position, (item, _)) in (0_i64..).zip(&rows) {
                sqlx::query("UPDATE items SET position = $2 WHERE id = $1 AND position <> $2")
                    .bind(item)
                    .bind(position)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }
}
