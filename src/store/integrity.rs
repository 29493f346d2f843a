//! The database's own consistency checks (SQLite's `integrity_check` and `foreign_key_check`),
//! for the simulator's end-of-schedule invariant.

use super::error::Result;
use super::history::{ITEM_COLUMNS, ItemRow, OCCURRENCE_COLUMNS, OccurrenceRow};
use super::pool::{Pool, Store, on_pool};

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
    /// Every item of every series, by id: the simulator's checks after each pass read the
    /// whole record in one statement rather than two a series.
    pub(crate) async fn all_items(&self) -> Result<Vec<ItemRow>> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM items ORDER BY id");
        on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_all(p)
            .await)
        .map_err(Into::into)
    }

    /// Every occurrence of every series, by id (see [`Store::all_items`]).
    pub(crate) async fn all_occurrences(&self) -> Result<Vec<OccurrenceRow>> {
        let sql = format!("SELECT {OCCURRENCE_COLUMNS} FROM occurrences ORDER BY id");
        on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_all(p)
            .await)
        .map_err(Into::into)
    }
}

impl Store {
    /// The tables a simulation empties, children before their parents (read once per database:
    /// the schema does not change between schedules). Refused on PostgreSQL.
    pub(crate) async fn simulation_tables(&self) -> Result<Vec<String>> {
        let p = Self::simulation_pool(self)?;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(p)
        .await?;
        let references: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.name, f.\"table\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' ORDER BY m.name, f.\"table\"",
        )
        .fetch_all(p)
        .await?;
        Ok(delete_order(tables, &references))
    }

    /// Empties `tables` (from [`Store::simulation_tables`]) and restarts the ids at 1, keeping
    /// the schema and the connection with the statements it prepared: the seeded simulator runs
    /// schedule after schedule on one database. Children go before their parents with the
    /// foreign keys left on: turning them off and on again is a pragma that expires every
    /// prepared statement of the connection, and the next schedule then prepared each of its
    /// ~200 statements again.
    pub(crate) async fn clear_for_simulation(&self, tables: &[String]) -> Result<()> {
        let p = Self::simulation_pool(self)?;
        let mut conn = p.acquire().await?;
        for t in tables {
            let sql = format!("DELETE FROM \"{t}\"");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("DELETE FROM sqlite_sequence")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    fn simulation_pool(&self) -> Result<&sqlx::SqlitePool> {
        match &self.pool {
            Pool::Sqlite(p) => Ok(p),
            Pool::Postgres(_) => Err(super::error::StoreError::Corrupt {
                column: "the simulator's database",
                value: "PostgreSQL (the simulator clears SQLite databases only)".into(),
            }),
        }
    }
}

/// `tables` ordered so that each comes before the tables it references (`references`: child,
/// parent), a table referencing itself aside; tables in a cycle, if any, come last as they are.
fn delete_order(mut tables: Vec<String>, references: &[(String, String)]) -> Vec<String> {
    let mut order = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let referenced = |t: &String| {
            references
                .iter()
                .any(|(child, parent)| parent == t && child != t && tables.contains(child))
        };
        let Some(i) = tables.iter().position(|t| !referenced(t)) else {
            order.append(&mut tables);
            break;
        };
        order.push(tables.remove(i));
    }
    order
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_are_emptied_children_first() {
        let refs = [
            ("items", "series"),
            ("series", "calendars"),
            ("series", "series"),
            ("calendars", "accounts"),
            ("items", "occurrences"),
            ("occurrences", "series"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()));
        let tables = [
            "accounts",
            "calendars",
            "items",
            "occurrences",
            "series",
            "other",
        ]
        .map(String::from)
        .to_vec();
        let order = super::delete_order(tables, &refs);
        let at = |t: &str| order.iter().position(|o| o == t).unwrap();
        assert_eq!(order.len(), 6);
        for (child, parent) in refs.iter().filter(|(a, b)| a != b) {
            assert!(at(child) < at(parent), "{order:?}");
        }
    }
}
