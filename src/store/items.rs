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
