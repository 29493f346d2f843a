//! The cache of one calendar as a pass fills it: what a provider's fetch hands over is stored in
//! transactions of [`COMMIT_EVERY`] events (a first import of 10,000 events streams into the
//! store), a complete listing deletes what it lacks unless it is suspiciously empty (guarantee
//! 7, here and nowhere else), and the cursor is recorded after the events it covers.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tracing::warn;

use crate::provider::{CacheSink, Loaded};
use crate::store::{CachedEvent, Calendar, Store, StoreError};

/// Events stored per transaction. Each commit rewrites the index pages its events touched, so
/// committing every 500 of a 10,000-event import wrote the indexes twenty times over; an import
/// cut short resumes from what was committed (the etags of stored events match).
const COMMIT_EVERY: usize = 2_500;

/// What bringing one calendar's cache up to date did.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Events downloaded and stored (remote ids).
    pub changed: Vec<String>,
    pub deleted: usize,
    /// A full comparison with the server was made (first sync, rejected token, daily check).
    pub full: bool,
    /// A complete listing came back empty while the cache holds events: nothing was changed.
    pub suspicious_empty: bool,
    /// Events that could not be read, with the reason (skipped; the rest went on).
    pub unreadable: Vec<(String, String)>,
    /// Recurring series read on the way (detection reads nothing back for these).
    pub loaded: Vec<Loaded>,
    /// Series whose events changed, to read from the cache for detection.
    pub changed_series: BTreeSet<String>,
}

/// The cache of one calendar during a fetch.
pub struct CalendarCache<'a> {
    store: &'a Store,
    calendar_id: i64,
    now: DateTime<Utc>,
    /// Read events not yet committed, with the recurring series each holds. A one-off holds
    /// none: its parsed form is dropped at once (kept for a whole batch, 2,500 of them took
    /// memory the allocator could not reuse).
    pending: Vec<(CachedEvent, Vec<Loaded>)>,
    pub report: Fetched,
}

impl<'a> CalendarCache<'a> {
    pub fn new(store: &'a Store, cal: &Calendar, now: DateTime<Utc>) -> Self {
        Self {
            store,
            calendar_id: cal.id,
            now,
            pending: Vec::new(),
            report: Fetched::default(),
        }
    }

    /// Stores what is pending in one transaction and records it in the report.
    async fn commit(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // A server that lists an event twice: its last copy wins (PostgreSQL refuses to update
        // one row twice in a statement).
        let mut seen = HashSet::new();
        self.pending.reverse();
        self.pending
            .retain(|(e, _)| seen.insert(e.remote_id.clone()));
        self.pending.reverse();
        let (events, loaded): (Vec<CachedEvent>, Vec<Vec<Loaded>>) =
            std::mem::take(&mut self.pending).into_iter().unzip();
        let ids: Vec<String> = events.iter().map(|e| e.remote_id.clone()).collect();
        self.store
            .upsert_events(self.calendar_id, events, self.now)
            .await?;
        self.report.loaded.extend(loaded.into_iter().flatten());
        self.report.changed.extend(ids);
        Ok(())
    }

    /// Commits what is left and hands over the report.
    pub async fn finish(mut self) -> Result<Fetched, StoreError> {
        self.commit().await?;
        Ok(self.report)
    }
}

impl CacheSink for CalendarCache<'_> {
    fn etags(&mut self) -> BoxFuture<'_, Result<HashMap<String, Option<String>>, StoreError>> {
        Box::pin(async move {
            Ok(self
                .store
                .event_etags(self.calendar_id)
                .await?
                .into_iter()
                .collect())
        })
    }

    fn by_uid<'b>(
        &'b mut self,
        uid: &'b str,
    ) -> BoxFuture<'b, Result<Vec<CachedEvent>, StoreError>> {
        Box::pin(async move {
            self.commit().await?;
            self.store.events_by_uid(self.calendar_id, uid).await
        })
    }

    fn put(
        &mut self,
        event: CachedEvent,
        series: Vec<Loaded>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.pending.push((event, series));
            if self.pending.len() >= COMMIT_EVERY {
                self.commit().await?;
            }
            Ok(())
        })
    }

    fn changed(&mut self, uid: String) {
        self.report.changed_series.insert(uid);
    }

    fn unreadable(&mut self, remote_id: String, why: String) {
        warn!(calendar = self.calendar_id, resource = %remote_id, error = %why, "unreadable resource skipped");
        self.report.unreadable.push((remote_id, why));
    }

    fn delete<'b>(&'b mut self, remote_id: &'b str) -> BoxFuture<'b, Result<(), StoreError>> {
        Box::pin(async move {
            self.pending.retain(|(e, _)| e.remote_id != remote_id);
            self.report.deleted +=
                self.store.delete_event(self.calendar_id, remote_id).await? as usize;
            Ok(())
        })
    }

    fn full_listing<'b>(
        &'b mut self,
        present: &'b HashSet<String>,
    ) -> BoxFuture<'b, Result<bool, StoreError>> {
        Box::pin(async move {
            self.report.full = true;
            self.commit().await?;
            let cached = self.store.event_etags(self.calendar_id).await?;
            if present.is_empty()
                && !cached.is_empty()
                && !crate::sim::mutation::on(crate::sim::Mutation::NoEmptyListingGuard)
            {
                // A calendar that suddenly comes back empty is not taken as "every meeting was
                // deleted" (DESIGN.md guarantee 7).
                warn!(
                    calendar = self.calendar_id,
                    cached = cached.len(),
                    "full listing is empty; keeping the cache"
                );
                self.report.suspicious_empty = true;
                return Ok(false);
            }
            for (gone, _) in cached.iter().filter(|(k, _)| !present.contains(k)) {
                self.report.deleted +=
                    self.store.delete_event(self.calendar_id, gone).await? as usize;
            }
            Ok(true)
        })
    }

    fn cursor<'b>(
        &'b mut self,
        sync_token: Option<&'b str>,
        ctag: Option<&'b str>,
        full: bool,
    ) -> BoxFuture<'b, Result<(), StoreError>> {
        Box::pin(async move {
            self.commit().await?;
            self.report.full |= full;
            self.store
                .set_calendar_cursor(self.calendar_id, sync_token, ctag, full.then_some(self.now))
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::DatabaseUrl;
    use crate::store::{NewAccount, Provider};

    fn event(id: &str) -> CachedEvent {
        CachedEvent {
            remote_id: id.into(),
            uid: id.into(),
            etag: Some(format!("\"{id}\"")),
            payload_hash: crate::store::payload_hash(id.as_bytes()),
            summary: None,
            start_at: None,
            status: "confirmed".into(),
            raw: String::new(),
        }
    }

    async fn calendar() -> (Store, Calendar, DateTime<Utc>) {
        let url = DatabaseUrl::try_from("sqlite::memory:".to_string()).unwrap();
        let store = Store::connect_url(&url, 1, Duration::from_secs(5))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let now: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
        let account = NewAccount {
            provider: Provider::Caldav,
            display_name: "a".into(),
            settings: serde_json::json!({}),
            credentials: None,
            calendars: vec![("https://dav.example/c/".into(), "c".into(), None)],
            writing_started_at: None,
        };
        let id = store.insert_account(&account, now).await.unwrap();
        let cal = store.list_calendars(id).await.unwrap().remove(0);
        (store, cal, now)
    }

    async fn cached_ids(store: &Store, cal: &Calendar) -> Vec<String> {
        let mut ids: Vec<String> = store
            .event_etags(cal.id)
            .await
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn an_empty_listing_over_a_filled_cache_changes_nothing_and_says_so() {
        let (store, cal, now) = calendar().await;
        let mut cache = CalendarCache::new(&store, &cal, now);
        for id in ["a", "b"] {
            cache.put(event(id), Vec::new()).await.unwrap();
        }
        cache.cursor(Some("t1"), None, true).await.unwrap();
        cache.finish().await.unwrap();

        let mut cache = CalendarCache::new(&store, &cal, now);
        assert!(!cache.full_listing(&HashSet::new()).await.unwrap());
        let report = cache.finish().await.unwrap();
        assert!(report.suspicious_empty && report.full, "{report:?}");
        assert_eq!(report.deleted, 0);
        assert_eq!(cached_ids(&store, &cal).await, ["a", "b"]);
        // The cursor is where the last good listing left it.
        let cal = store.get_calendar(cal.id).await.unwrap();
        assert_eq!(cal.sync_token.as_deref(), Some("t1"));
    }

    #[tokio::test]
    async fn a_full_listing_deletes_what_it_lacks_and_an_uncommitted_delete_is_forgotten() {
        let (store, cal, now) = calendar().await;
        let mut cache = CalendarCache::new(&store, &cal, now);
        for id in ["a", "b", "c"] {
            cache.put(event(id), Vec::new()).await.unwrap();
        }
        // Deleted before its batch was committed: it never reaches the store.
        cache.delete("c").await.unwrap();
        cache.cursor(None, None, true).await.unwrap();
        let report = cache.finish().await.unwrap();
        assert_eq!(report.changed, ["a", "b"]);
        assert_eq!(cached_ids(&store, &cal).await, ["a", "b"]);

        let mut cache = CalendarCache::new(&store, &cal, now);
        let present: HashSet<String> = ["b".to_string()].into();
        assert!(cache.full_listing(&present).await.unwrap());
        let report = cache.finish().await.unwrap();
        assert_eq!((report.deleted, report.suspicious_empty), (1, false));
        assert_eq!(cached_ids(&store, &cal).await, ["b"]);
    }

    #[tokio::test]
    async fn a_large_import_is_committed_in_batches_as_it_arrives() {
        let (store, cal, now) = calendar().await;
        let mut cache = CalendarCache::new(&store, &cal, now);
        for i in 0..COMMIT_EVERY + 1 {
            cache
                .put(event(&format!("e{i:05}")), Vec::new())
                .await
                .unwrap();
        }
        // One full batch is in the store before the import ends; the rest waits for the end.
        assert_eq!(cached_ids(&store, &cal).await.len(), COMMIT_EVERY);
        let report = cache.finish().await.unwrap();
        assert_eq!(report.changed.len(), COMMIT_EVERY + 1);
        assert_eq!(cached_ids(&store, &cal).await.len(), COMMIT_EVERY + 1);
    }
}
