//! `oneonone restore REVISION`, for every provider: put back the description a write replaced,
//! under the occurrence's current etag, recording what the restore itself replaced (so it can be
//! undone too).

use chrono::{DateTime, Utc};

use super::pass::{Providers, calendar_tz};
use crate::config::Config;
use crate::provider::{ProviderError, Read, Target, Written};
use crate::store::{Account, Calendar, NewRevision, Revision, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum RestoreError {
    #[error("revision {0} does not say which occurrence it belongs to")]
    NoOccurrence(i64),
    #[error("revision {0} is of a write the server never accepted: there is nothing to undo")]
    NeverApplied(i64),
    #[error(
        "the occurrence of revision {0} was changed while it was being restored: nothing was written; try again"
    )]
    Conflict(i64),
    #[error("the occurrence of revision {0} is cancelled: there is nothing to restore it into")]
    Cancelled(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// Revision `id` (refused unless its write reached the calendar), the original start of its
/// occurrence, and its calendar and account.
async fn restorable(
    store: &Store,
    id: i64,
) -> Result<(Revision, DateTime<Utc>, Calendar, Account), RestoreError> {
    let rev = store.get_revision(id).await?;
    if rev.applied_at.is_none() {
        return Err(RestoreError::NeverApplied(id));
    }
    let original_start = rev.original_start.ok_or(RestoreError::NoOccurrence(id))?;
    let cal = store.get_calendar(rev.calendar_id).await?;
    let account = store.get_account(cal.account_id).await?;
    Ok((rev, original_start, cal, account))
}

/// Restores revision `id`; returns the id of the revision that records the restore.
pub(crate) async fn restore(
    store: &Store,
    config: &Config,
    providers: &Providers,
    id: i64,
    now: DateTime<Utc>,
) -> Result<i64, RestoreError> {
    let (rev, original_start, cal, account) = restorable(store, id).await?;
    let provider = providers.get(account.provider)?;
    let session = provider.open(&account)?;
    let occ = Target {
        calendar: &cal,
        loaded: None,
        remote_id: &rev.remote_id,
        original_start,
        tz: calendar_tz(&cal, config),
        now,
    };
    let current = match session.read(occ).await? {
        Read::Ready(c) if !c.cancelled => c,
        Read::Ready(_) | Read::Gone => return Err(RestoreError::Cancelled(id)),
        Read::Stale { .. } => return Err(RestoreError::Conflict(id)),
    };
    let target = rev.description_before.clone().unwrap_or_default();
    let prepared = session.prepare(occ, &current, &target)?;
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
    let new_id = store.insert_revision(&record, now).await?;
    match session.write(occ, &current, prepared).await? {
        Written::Stored(cached) => store.upsert_event(cal.id, &cached, now).await?,
        Written::Conflict => return Err(RestoreError::Conflict(id)),
    }
    store.mark_revision_applied(new_id, now).await?;
    // The restored text holds an older agenda block: compared with the newer block we wrote, it
    // would read as "items deleted". Forget the written block so it is read as found. (Without a
    // block, the record stays: the daemon then knows its block was removed and does not re-add
    // it.)
    let restored_has_block = crate::agenda::parse_block(&target, provider.format(), usize::MAX)
        .is_ok_and(|b| b.is_some());
    if let (true, Some(occ)) = (restored_has_block, rev.occurrence_id) {
        store.forget_written_block(occ).await?;
    }
    store.mark_revision_restored(id, now).await?;
    Ok(new_id)
}
