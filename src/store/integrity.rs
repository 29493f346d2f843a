//! The database's own consistency checks (SQLite's `integrity_check` and `foreign_key_check`),
//! for the simulator's end-of-schedule invariant.

use super::error::Result;
use super::pool::{Pool, Store};

impl Store {
    /// What SQLite's integrity and foreign-key checks report (empty: all is well). PostgreSQL
    /// enforces both itself: nothing to report.
    pub(crate) async fn integrity_problems(&self) -> Result<Vec<String>> {
        let Pool::Sqlite(p) = &self.pool else {
            return Ok(Vec::new());
        };
        let mut out: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(p)
            .await?;
        out.retain(|r| r != "ok");
        let fk: Vec<(String, Option<i64>, String, i64)> =
            sqlx::query_as("PRAGMA foreign_key_check")
                .fetch_all(p)
                .await?;
        out.extend(fk.into_iter().map(|(table, row, parent, _)| {
            format!("{table} row {row:?} names a missing {parent}")
        }));
        Ok(out)
    }
}
