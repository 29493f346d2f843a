//! The connection to either database: `Store` over a SQLite or PostgreSQL pool, opening it,
//! migrations per dialect, the `on_pool!` dispatch the table modules run their queries through,
//! and `durably` for the one commit that must survive a power cut.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use super::error::{Result, StoreError};
use crate::config::{DatabaseConfig, DatabaseUrl};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Clone)]
pub(super) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the concrete pool, so one query text serves both dialects.
macro_rules! on_pool {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::pool::Pool::Sqlite($p) => $body,
            $crate::store::pool::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use on_pool;

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(super) pool: Pool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.pool {
            Pool::Sqlite(_) => "Store(sqlite)",
            Pool::Postgres(_) => "Store(postgres)",
        })
    }
}

/// Creates a SQLite database file readable by its owner only (0600), unless it exists: SQLite
/// would create it with the umask's mode, often 0644, and it holds the calendars' text, the
/// meeting history and the sessions. SQLite gives the `-wal` and `-shm` files it makes beside it
/// the database file's mode. An existing file is left as it is, content and mode.
fn create_private(path: &str) -> std::io::Result<()> {
    let file = path.split('?').next().unwrap_or(path);
    if file.is_empty() || file == ":memory:" || path.contains("mode=memory") {
        return Ok(());
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl Store {
    /// Opens the pool. SQLite: creates the file and its folder, WAL, foreign keys on, one
    /// connection; `max_connections` bounds a PostgreSQL pool.
    pub(crate) async fn connect(cfg: &DatabaseConfig) -> Result<Self> {
        Self::connect_url(
            &cfg.url,
            cfg.max_connections,
            Duration::from_secs(cfg.connect_timeout_secs),
        )
        .await
    }

    pub async fn connect_url(url: &DatabaseUrl, max: u32, timeout: Duration) -> Result<Self> {
        if url.is_postgres() {
            let location = url.location();
            let opts = PgConnectOptions::from_str(url.expose()).map_err(|source| {
                StoreError::ConnectPostgres {
                    location: location.clone(),
                    source,
                }
            })?;
            let pool = PgPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(timeout)
                .connect_with(opts)
                .await
                .map_err(|source| StoreError::ConnectPostgres { location, source })?;
            return Ok(Self {
                pool: Pool::Postgres(pool),
            });
        }
        let path = url.location();
        let dir = std::path::Path::new(&path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|_| path != ":memory:") {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        create_private(&path).map_err(|e| StoreError::OpenSqlite {
            path: path.clone(),
            source: sqlx::Error::Io(e),
        })?;
        let opts = SqliteConnectOptions::from_str(url.expose())
            .map_err(|source| StoreError::OpenSqlite {
                path: path.clone(),
                source,
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            // In WAL mode, NORMAL syncs the log at checkpoints rather than at every commit: a
            // crash of the process loses nothing, a power cut at most the last commits, which
            // the next pass reads again from the calendar. The one commit that must survive a
            // power cut, the revision stored before each write into a calendar, syncs on its
            // own (`durably`). A pass's first import and agendas made 85-100 syncs before.
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            // Statement journals and temporary b-trees in memory: a multi-row upsert inside a
            // transaction keeps a statement journal, which as a file cost a first import
            // 29,000 write calls.
            .pragma("temp_store", "memory")
            .busy_timeout(Duration::from_secs(10));
        // One connection, whatever `max` says. SQLite takes one writer at a time, and in WAL
        // mode each commit empties every other connection's page cache, while each connection
        // prepares every statement for itself. sqlx also hands a released connection back to
        // the pool in a task of its own, so statements run one after another found none idle
        // and opened another, until the pool was full: a first import ran on eight
        // connections, reading pages again and preparing statements again on each.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            // A ping before each statement checks that a network connection is still alive;
            // an embedded database's cannot drop, and each ping was one more round trip to
            // SQLite's worker thread (a first import made some 600 of them).
            .test_before_acquire(false)
            // Nor does it go stale: kept for good, not closed and opened again after 30 minutes
            // (preparing every statement again). A database in memory lives only as long as its
            // connection: the seeded simulator's lost its tables half an hour into a long run.
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(timeout)
            .connect_with(opts)
            .await
            .map_err(|source| StoreError::OpenSqlite { path, source })?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
        })
    }

    pub(crate) fn dialect(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies the pending migrations of this dialect; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize> {
        let before = self.applied_migrations().await.unwrap_or(0);
        on_pool!(self, |p| self.migrator().run(p).await)?;
        Ok(self.applied_migrations().await?.saturating_sub(before))
    }

    async fn applied_migrations(&self) -> Result<usize> {
        let n: i64 = on_pool!(self, |p| {
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(p)
                .await
        })?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Whether every migration this binary knows has been applied.
    pub async fn migrations_current(&self) -> Result<bool> {
        let known = self.migrator().iter().count();
        Ok(self.applied_migrations().await.unwrap_or(0) >= known)
    }

    /// A cheap round trip, for readiness.
    pub(crate) async fn ping(&self) -> Result<()> {
        on_pool!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, |p| p.close().await);
    }
}

/// Runs `work` on `conn` with `synchronous = FULL`, so that its commits are synced to disk before
/// they return (the pool's connections run NORMAL); NORMAL again after, whatever `work` returned.
pub(super) async fn durably<T>(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Sqlite>,
    work: impl AsyncFnOnce(&mut sqlx::SqliteConnection) -> Result<T, sqlx::Error>,
) -> Result<T> {
    sqlx::query("PRAGMA synchronous = FULL")
        .execute(&mut **conn)
        .await?;
    let out = work(&mut *conn).await;
    let back = sqlx::query("PRAGMA synchronous = NORMAL")
        .execute(&mut **conn)
        .await;
    if back.is_err() {
        // A connection that may be left at FULL is only slower, but it is closed rather than
        // returned to the pool (whether or not `work` failed too).
        conn.close_on_drop();
    }
    let v = out?;
    back?;
    Ok(v)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) async fn sqlite_store(dir: &tempfile::TempDir) -> Store {
        let url = DatabaseUrl::try_from(format!("sqlite://{}/db", dir.path().display())).unwrap();
        Store::connect_url(&url, 8, Duration::from_secs(5))
            .await
            .unwrap()
    }

    pub(crate) fn sqlite(store: &Store) -> &SqlitePool {
        match &store.pool {
            Pool::Sqlite(p) => p,
            Pool::Postgres(_) => unreachable!("a SQLite URL"),
        }
    }

    async fn synchronous(c: &mut sqlx::SqliteConnection) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(c)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_one_sqlite_connection_is_kept_for_good() {
        let url = DatabaseUrl::try_from("sqlite::memory:".to_string()).unwrap();
        let store = Store::connect_url(&url, 1, Duration::from_secs(5))
            .await
            .unwrap();
        let options = sqlite(&store).options();
        assert_eq!(options.get_max_lifetime(), None);
        assert_eq!(options.get_idle_timeout(), None);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_sqlite_database_and_its_wal_and_shm_are_readable_by_the_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: std::path::PathBuf| {
            std::fs::metadata(&p)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
                .permissions()
                .mode()
                & 0o777
        };
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(&dir).await;
        store.migrate().await.unwrap();
        store.list_accounts().await.unwrap();
        for name in ["db", "db-wal", "db-shm"] {
            assert_eq!(mode(dir.path().join(name)), 0o600, "{name}");
        }
        store.close().await;

        // A file that is there already keeps its mode and content.
        let other = tempfile::tempdir().unwrap();
        let path = other.path().join("db");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let store = sqlite_store(&other).await;
        store.migrate().await.unwrap();
        assert_eq!(mode(path), 0o640);
        store.close().await;
    }

    #[tokio::test]
    async fn sqlite_statements_run_on_one_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(&dir).await;
        store.migrate().await.unwrap();
        for _ in 0..20 {
            store.ping().await.unwrap();
            store.list_accounts().await.unwrap();
        }
        // sqlx returns a released connection in a task of its own: with room for more, each
        // statement here opened another.
        assert_eq!(sqlite(&store).size(), 1);
    }

    #[tokio::test]
    async fn sqlite_commits_wait_for_the_log_sync_and_a_durable_one_syncs_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(&dir).await;
        let mut conn = sqlite(&store).acquire().await.unwrap();
        // 1 is NORMAL, 2 is FULL.
        assert_eq!(synchronous(&mut conn).await, 1);
        let inside = durably(&mut conn, async |c| Ok(synchronous(c).await))
            .await
            .unwrap();
        assert_eq!(inside, 2);
        assert_eq!(synchronous(&mut conn).await, 1);
        // A failure inside still puts the connection back to NORMAL.
        let failed = durably(&mut conn, async |c| {
            sqlx::query("INSERT INTO no_such_table VALUES (1)")
                .execute(c)
                .await
        })
        .await;
        assert!(failed.is_err());
        assert_eq!(synchronous(&mut conn).await, 1);
    }
}
