//! `oneonone restore REVISION` for Google: put back the description a write replaced, with a
//! PATCH under the instance's current etag, recording what the restore itself replaced (so it can
//! be undone too).

use chrono::{DateTime, Utc};

use super::pass::{GoogleSyncer, to_cached};
use crate::provider::caldav::restore::{RestoreError, other, restorable};
use crate::store::NewRevision;

/// Restores revision `id`; returns the id of the revision that records the restore.
pub async fn restore(
    syncer: &GoogleSyncer,
    id: i64,
    now: DateTime<Utc>,
) -> Result<i64, RestoreError> {
    let store = &syncer.store;
    let (rev, original_start, cal, account) = restorable(store, id).await?;
    let (client, _) = syncer.client_for(&account).map_err(other)?;
    // The revision names the instance we patched (an exception since that write).
    let current = client
        .get(&cal.remote_id, &rev.remote_id)
        .await
        .map_err(other)?;
    let etag = current
        .etag()
        .ok_or_else(|| other("Google gives no etag for the event"))?;
    let target = rev.description_before.clone().unwrap_or_default();
    let record = NewRevision {
        series_id: rev.series_id,
        occurrence_id: rev.occurrence_id,
        calendar_id: rev.calendar_id,
        remote_id: rev.remote_id.clone(),
        original_start: Some(original_start),
        etag_before: current.etag.clone(),
        description_before: current.description.clone(),
        description_after: target.clone(),
    };
    let new_id = store.insert_revision(&record, now).await.map_err(other)?;
    let stored = client
        .patch_description(&cal.remote_id, &rev.remote_id, &etag, &target)
        .await
        .map_err(other)?;
    let tz = cal
        .timezone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(syncer.config.agenda.default_timezone);
    store
        .upsert_event(cal.id, &to_cached(&stored, tz), now)
        .await
        .map_err(other)?;
    store
        .mark_revision_applied(new_id, now)
        .await
        .map_err(other)?;
    // As on CalDAV: a restored older block, compared with the newer one we wrote, would read as
    // "items deleted"; forget the written block so it is read as found.
    let restored_has_block =
        crate::agenda::parse_block(&target, crate::agenda::Format::GoogleHtml, usize::MAX)
            .is_ok_and(|b| b.is_some());
    if let (true, Some(occ)) = (restored_has_block, rev.occurrence_id) {
        store.forget_written_block(occ).await.map_err(other)?;
    }
    store.mark_revision_restored(id, now).await.map_err(other)?;
    Ok(new_id)
}
