//! `oneonone restore REVISION`: put back the description a write replaced, under the resource's
//! current etag, recording what the restore itself replaced (so it can be undone too).

use chrono::{DateTime, Utc};
use url::Url;

use super::client::Precondition;
use super::fetch::to_cached;
use super::pass::CaldavSyncer;
use crate::store::{Account, Calendar, NewRevision, Revision, Store};

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("revision {0} does not say which occurrence it belongs to")]
    NoOccurrence(i64),
    #[error("revision {0} is of a write the server never accepted: there is nothing to undo")]
    NeverApplied(i64),
    #[error("{0}")]
    Other(String),
}

pub(crate) fn other(e: impl std::fmt::Display) -> RestoreError {
    RestoreError::Other(e.to_string())
}

/// What every provider's restore starts from: revision `id` (refused unless its write reached
/// the calendar), the original start of its occurrence, and its calendar and account.
pub(crate) async fn restorable(
    store: &Store,
    id: i64,
) -> Result<(Revision, DateTime<Utc>, Calendar, Account), RestoreError> {
    let rev = store.get_revision(id).await.map_err(other)?;
    if rev.applied_at.is_none() {
        return Err(RestoreError::NeverApplied(id));
    }
    let original_start = rev.original_start.ok_or(RestoreError::NoOccurrence(id))?;
    let cal = store.get_calendar(rev.calendar_id).await.map_err(other)?;
    let account = store.get_account(cal.account_id).await.map_err(other)?;
    Ok((rev, original_start, cal, account))
}

/// Restores revision `id`; returns the id of the revision that records the restore.
pub async fn restore(
    syncer: &CaldavSyncer,
    id: i64,
    now: DateTime<Utc>,
) -> Result<i64, RestoreError> {
    let store = &syncer.store;
    let (rev, original_start, cal, account) = restorable(store, id).await?;
    let (client, _) = syncer.client_for(&account).map_err(other)?;
    let url = Url::parse(&rev.remote_id).map_err(other)?;
    let tz = cal
        .timezone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(syncer.config.agenda.default_timezone);
    let current = client.get(&url).await.map_err(other)?;
    let parsed = crate::ics::parse(&current.body).map_err(other)?;
    let series = parsed
        .series
        .first()
        .ok_or_else(|| other("the resource holds no event"))?;
    let around = |d| original_start + chrono::Duration::hours(d);
    let occ = crate::ics::expand(series, around(-1), around(1), tz).map_err(other)?;
    let now_desc = occ
        .iter()
        .find(|o| o.original_start == original_start)
        .and_then(|o| o.description.as_deref().map(str::to_string));
    let target = rev.description_before.clone().unwrap_or_default();
    let body = crate::ics::set_occurrence_description_in(
        &current.body,
        &series.uid,
        original_start,
        &target,
        now,
        tz,
    )
    .map_err(other)?;
    let record = NewRevision {
        series_id: rev.series_id,
        occurrence_id: rev.occurrence_id,
        calendar_id: rev.calendar_id,
        remote_id: rev.remote_id.clone(),
        original_start: Some(original_start),
        etag_before: current.etag.as_ref().map(|e| e.0.clone()),
        description_before: now_desc,
        description_after: target,
    };
    let new_id = store.insert_revision(&record, now).await.map_err(other)?;
    let etag = match current.etag {
        Some(e) => e,
        None => client
            .etag(&url)
            .await
            .map_err(other)?
            .ok_or_else(|| other("the server gives no etag"))?,
    };
    let stored = client
        .put_and_read(&url, body, &Precondition::Match(etag))
        .await
        .map_err(other)?;
    let cached = to_cached(url.as_str(), stored.etag.as_ref(), &stored.body).map_err(other)?;
    store
        .upsert_event(cal.id, &cached, now)
        .await
        .map_err(other)?;
    store
        .mark_revision_applied(new_id, now)
        .await
        .map_err(other)?;
    // The restored text holds an older agenda block: compared with the newer block we wrote, it
    // would read as "items deleted". Forget the written block so it is read as found. (Without a
    // block, the record stays: the daemon then knows its block was removed and does not re-add it.)
    let restored_has_block = crate::agenda::parse_block(
        rev.description_before.as_deref().unwrap_or_default(),
        crate::agenda::Format::Plain,
        usize::MAX,
    )
    .is_ok_and(|b| b.is_some());
    if let (true, Some(occ)) = (restored_has_block, rev.occurrence_id) {
        store.forget_written_block(occ).await.map_err(other)?;
    }
    store.mark_revision_restored(id, now).await.map_err(other)?;
    Ok(new_id)
}
