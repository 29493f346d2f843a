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

impl Store {
    /// Empties every table of a SQLite database (ids start at 1 again), keeping its schema and
    /// its connection with the statements it prepared: the seeded simulator runs schedule after
    /// schedule on one database. Refused on PostgreSQL.
    pub(crate) async fn clear_for_simulation(&self) -> Result<()> {
        let Pool::Sqlite(p) = &self.pool else {
            return Err(super::error::StoreError::Corrupt {
                column: "the simulator's database",
                value: "PostgreSQL (the simulator clears SQLite databases only)".into(),
            });
        };
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(p)
        .await?;
        let mut conn = p.acquire().await?;
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *conn)
            .await?;
        for t in &tables {
            let sql = format!("DELETE FROM \"{t}\"");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("DELETE FROM sqlite_sequence")
            .execute(&mut *conn)
            .await?;
        sqlx::query("PRAGMA foreign_keys = ON")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}
