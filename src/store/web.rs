//! What the web pages keep: the digest of a generated admin token, sign-in sessions, the
//! direct's links, and the direct's own topics. Tokens are stored as SHA-256 digests only.

use chrono::{DateTime, Utc};

use super::error::Result;
use super::pool::{Store, on_pool};

/// The state of a series' link, as the invite needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SeriesLink {
    /// The series never had a link: the first pass that shows it makes one.
    Never,
    /// A live link, kept encrypted (purpose `DirectLink`).
    Sealed(Vec<u8>),
    /// A live link made before links were kept for the invite: only its digest is known.
    DigestOnly,
    /// Its last link was revoked: none is shown until the manager makes a new one.
    Revoked,
}

impl Store {
    /// The digest of the generated admin token, if one was generated.
    pub async fn admin_token_hash(&self) -> Result<Option<String>> {
        on_pool!(self, |p| {
            sqlx::query_scalar("SELECT token_hash FROM web_admin_token WHERE id = 1")
                .fetch_optional(p)
                .await
        })
        .map_err(Into::into)
    }

    /// Stores the digest unless one is there already (another daemon sharing the database won
    /// the race); returns whether this one was stored.
    pub async fn init_admin_token_hash(&self, hash: &str, now: DateTime<Utc>) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO web_admin_token (id, token_hash, created_at) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(hash)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Opens a session; expired ones are removed on the way.
    pub async fn create_session(
        &self,
        hash: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO web_sessions (token_hash, created_at, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(hash)
            .bind(now)
            .bind(expires)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Whether a session with this digest exists and has not expired.
    pub async fn session_valid(&self, hash: &str, now: DateTime<Utc>) -> Result<bool> {
        let n: i64 = on_pool!(self, |p| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM web_sessions WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(hash)
            .bind(now)
            .fetch_one(p)
            .await
        })?;
        Ok(n > 0)
    }

    pub(crate) async fn delete_session(&self, hash: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "DELETE FROM web_sessions WHERE token_hash = $1"
        )
        .bind(hash)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends every session; returns how many there were.
    pub async fn delete_all_sessions(&self) -> Result<u64> {
        let n = on_pool!(self, |p| sqlx::query("DELETE FROM web_sessions")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// Makes `hash` the series' only live link: any earlier link stops working.
    pub async fn rotate_series_link(
        &self,
        series_id: i64,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.rotate_series_link_sealed(series_id, hash, None, now)
            .await
    }

    /// [`Self::rotate_series_link`], keeping the link itself encrypted (`sealed`, purpose
    /// `DirectLink`) so the passes can write it into the invite.
    pub(crate) async fn rotate_series_link_sealed(
        &self,
        series_id: i64,
        hash: &str,
        sealed: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE series_links SET revoked_at = $2 WHERE series_id = $1 AND revoked_at IS NULL",
            )
            .bind(series_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO series_links (series_id, token_hash, created_at, token_sealed) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(series_id)
            .bind(hash)
            .bind(now)
            .bind(sealed)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Makes the series' first link, unless it ever had one (live or revoked: a revoked link is
    /// the manager's choice, not a gap to fill). Returns whether this one was made; a daemon
    /// sharing the database may have won the race.
    pub(crate) async fn create_first_series_link(
        &self,
        series_id: i64,
        hash: &str,
        sealed: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO series_links (series_id, token_hash, created_at, token_sealed) \
                 SELECT $1, $2, $3, $4 \
                 WHERE NOT EXISTS (SELECT 1 FROM series_links WHERE series_id = $1)",
            )
            .bind(series_id)
            .bind(hash)
            .bind(now)
            .bind(sealed)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// What the series' link is, for the invite: see [`SeriesLink`].
    pub(crate) async fn series_link_state(&self, series_id: i64) -> Result<SeriesLink> {
        let live: Option<(Option<Vec<u8>>,)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT token_sealed FROM series_links WHERE series_id = $1 AND revoked_at IS NULL",
            )
            .bind(series_id)
            .fetch_optional(p)
            .await
        })?;
        if let Some((sealed,)) = live {
            return Ok(sealed.map_or(SeriesLink::DigestOnly, SeriesLink::Sealed));
        }
        let any: i64 = on_pool!(self, |p| {
            sqlx::query_scalar("SELECT COUNT(*) FROM series_links WHERE series_id = $1")
                .bind(series_id)
                .fetch_one(p)
                .await
        })?;
        Ok(if any > 0 {
            SeriesLink::Revoked
        } else {
            SeriesLink::Never
        })
    }

    /// Re-encrypts every kept link with `f` (secrets key rotation), in one transaction.
    pub(crate) async fn reencrypt_series_links<E: std::fmt::Display>(
        &self,
        f: impl Fn(&[u8]) -> std::result::Result<Vec<u8>, E>,
    ) -> Result<usize> {
        self.reencrypt_column(super::notes::Encrypted::SeriesLinks, f)
            .await
    }

    /// Revokes the series' live link; returns how many were revoked (0 or 1).
    pub async fn revoke_series_link(&self, series_id: i64, now: DateTime<Utc>) -> Result<u64> {
        let n = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE series_links SET revoked_at = $2 WHERE series_id = $1 AND revoked_at IS NULL",
            )
            .bind(series_id)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n)
    }

    /// When the series' live link was made, if it has one.
    pub async fn series_link_created(&self, series_id: i64) -> Result<Option<DateTime<Utc>>> {
        on_pool!(self, |p| {
            sqlx::query_scalar(
                "SELECT created_at FROM series_links WHERE series_id = $1 AND revoked_at IS NULL",
            )
            .bind(series_id)
            .fetch_optional(p)
            .await
        })
        .map_err(Into::into)
    }

    /// The series a live link with this digest opens.
    pub async fn series_for_link(&self, hash: &str) -> Result<Option<i64>> {
        on_pool!(self, |p| {
            sqlx::query_scalar(
                "SELECT series_id FROM series_links WHERE token_hash = $1 AND revoked_at IS NULL",
            )
            .bind(hash)
            .fetch_optional(p)
            .await
        })
        .map_err(Into::into)
    }

    /// Drops an open topic the direct added through their link; nothing else can be dropped
    /// this way. Returns whether one was dropped.
    pub async fn drop_web_topic(
        &self,
        series_id: i64,
        item_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE items SET state = 'dropped', updated_at = $3, closed_at = $3, closed_via = 'web' \
                 WHERE id = $1 AND series_id = $2 \
                 AND section = 'direct' AND source = 'web' AND state = 'open'",
            )
            .bind(item_id)
            .bind(series_id)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }
}
