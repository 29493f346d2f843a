//! `oneonone restore REVISION`, for every provider: put back the description a write replaced,
//! under the occurrence's current etag, recording what the restore itself replaced (so it can be
//! undone too).

use chrono::{DateTime, Utc};

use super::pass::{Providers, calendar_tz};
use crate::config::Config;
use crate::provider::{ProviderError, Read, Target, Written};
use crate::store::{Account, Calendar, NewRevision, Revision, Store, StoreError};

/// Why revision `id` was not restored: each message names the revision once, and what to do.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RestoreError {
    #[error(
        "there is no revision {0}: `oneonone history --with EMAIL` lists the revisions of a 1:1"
    )]
    Unknown(i64),
    #[error(
        "revision {0} does not say which occurrence it belongs to: it cannot be restored; \
         `oneonone history --with EMAIL` lists the others"
    )]
    NoOccurrence(i64),
    #[error("revision {0} is of a write the server never accepted: there is nothing to undo")]
    NeverApplied(i64),
    /// Its write was never confirmed (no answer, or a crash before the commit), and the
    /// calendar, which would show whether it landed, cannot be read.
    #[error(
        "revision {id} is of a write the server never confirmed, and the calendar cannot be \
         read to see whether it landed ({source}); once it can, run the restore again"
    )]
    Unconfirmed { id: i64, source: ProviderError },
    #[error(
        "the occurrence of revision {0} was changed while it was being restored: nothing was \
         written; run the restore again"
    )]
    Conflict(i64),
    #[error(
        "the server did not answer the restore of revision {0}, and most likely stored it: \
         look at the meeting's description, and run the restore again if it is not restored"
    )]
    Unanswered(i64),
    #[error("the occurrence of revision {0} is cancelled: there is nothing to restore it into")]
    Cancelled(i64),
    #[error("cannot restore revision {id}: {source}")]
    Store { id: i64, source: StoreError },
    #[error("cannot restore revision {id}: {source}")]
    Provider { id: i64, source: ProviderError },
}

/// What went wrong restoring revision `id`, with the revision named.
trait Naming<T> {
    fn naming(self, id: i64) -> Result<T, RestoreError>;
}

impl<T> Naming<T> for Result<T, StoreError> {
    fn naming(self, id: i64) -> Result<T, RestoreError> {
        self.map_err(|source| RestoreError::Store { id, source })
    }
}

impl<T> Naming<T> for Result<T, ProviderError> {
    fn naming(self, id: i64) -> Result<T, RestoreError> {
        self.map_err(|source| RestoreError::Provider { id, source })
    }
}

/// Revision `id`, the original start of its occurrence, and its calendar and account.
async fn restorable(
    store: &Store,
    id: i64,
) -> Result<(Revision, DateTime<Utc>, Calendar, Account), RestoreError> {
    let rev = match store.get_revision(id).await {
        Err(StoreError::NotFound { .. }) => return Err(RestoreError::Unknown(id)),
        other => other.naming(id)?,
    };
    let original_start = rev.original_start.ok_or(RestoreError::NoOccurrence(id))?;
    let cal = store.get_calendar(rev.calendar_id).await.naming(id)?;
    let account = store.get_account(cal.account_id).await.naming(id)?;
    Ok((rev, original_start, cal, account))
}

/// What a restore did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Restored {
    /// The text was put back; the revision that records the restore (restore it to undo it).
    Written(i64),
    /// The meeting already held the text the write replaced (it was restored before, or
    /// someone put it back): nothing was written.
    AlreadyThere,
}

/// Restores revision `id`.
pub(crate) async fn restore(
    store: &Store,
    config: &Config,
    providers: &Providers,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Restored, RestoreError> {
    let (rev, original_start, cal, account) = restorable(store, id).await?;
    let provider = providers.get(account.provider).naming(id)?;
    // A write never confirmed is only restorable if the calendar shows it landed: when the
    // calendar cannot be read, that is what stops the restore.
    let unconfirmed = |source| {
        if rev.applied_at.is_none() {
            RestoreError::Unconfirmed { id, source }
        } else {
            RestoreError::Provider { id, source }
        }
    };
    let session = provider.open(&account).map_err(unconfirmed)?;
    let occ = Target {
        calendar: &cal,
        loaded: None,
        remote_id: &rev.remote_id,
        original_start,
        tz: calendar_tz(&cal, config),
        now,
    };
    let current = match session.read(occ).await.map_err(unconfirmed)? {
        Read::Ready(c) if !c.cancelled => c,
        Read::Ready(_) | Read::Gone => return Err(RestoreError::Cancelled(id)),
        Read::Stale { .. } => return Err(RestoreError::Conflict(id)),
    };
    let target = rev.description_before.clone().unwrap_or_default();
    // Restored already (a second `restore`, or one that landed unanswered): the meeting holds
    // the text the write replaced. A restore of it that never heard back is then known to have
    // landed.
    let now_text = current.description.as_deref().unwrap_or_default();
    let already = now_text == target;
    let restored_before = already && store.confirm_restore(id, &target, now).await.naming(id)?;
    // Refused unless its write reached the calendar. One never marked so may have landed
    // unanswered (a timeout, a crash before the commit): the calendar holding exactly the text
    // it wrote says it did, or holding the text it replaced, with a restore of it that put it
    // back; otherwise it never landed.
    let broken = crate::sim::mutation::on(crate::sim::Mutation::RestoreOnlyAnsweredWrites);
    if rev.applied_at.is_none() && (broken || now_text != rev.description_after && !restored_before)
    {
        return Err(RestoreError::NeverApplied(id));
    }
    // Writing the same text again would only touch the invite and add a revision for nothing.
    if already {
        settle(store, provider.format(), &rev, &target)
            .await
            .naming(id)?;
        if rev.restored_at.is_none() {
            store.mark_revision_restored(id, now).await.naming(id)?;
        }
        return Ok(Restored::AlreadyThere);
    }
    let prepared = session.prepare(occ, &current, &target).naming(id)?;
    let record = NewRevision {
        series_id: rev.series_id,
        occurrence_id: rev.occurrence_id,
        calendar_id: rev.calendar_id,
        remote_id: rev.remote_id.clone(),
        original_start: Some(original_start),
        etag_before: current.etag.clone(),
        description_before: current.description.clone(),
        description_after: target.clone(),
        restores: Some(id),
    };
    let new_id = store.insert_revision(&record, now).await.naming(id)?;
    match session.write(occ, &current, prepared).await.naming(id)? {
        Written::Stored(cached) => store.upsert_event(cal.id, &cached, now).await.naming(id)?,
        Written::Conflict => return Err(RestoreError::Conflict(id)),
        Written::MaybeLanded => return Err(RestoreError::Unanswered(id)),
    }
    store.mark_revision_applied(new_id, now).await.naming(id)?;
    settle(store, provider.format(), &rev, &target)
        .await
        .naming(id)?;
    store.mark_revision_restored(id, now).await.naming(id)?;
    Ok(Restored::Written(new_id))
}

/// Once the meeting of `rev` holds `restored`, the text its write replaced: the block the
/// daemon wrote there is forgotten when that text has one of its own.
async fn settle(
    store: &Store,
    format: crate::agenda::Format,
    rev: &Revision,
    restored: &str,
) -> Result<(), StoreError> {
    // The restored text holds an older agenda block: compared with the newer block we wrote, it
    // would read as "items deleted". Forget the written block so it is read as found. (Without a
    // block, the record stays: the daemon then knows its block was removed and does not re-add
    // it.)
    let restored_has_block =
        crate::agenda::parse_block(restored, format, usize::MAX).is_ok_and(|b| b.is_some());
    if let (true, Some(occ)) = (restored_has_block, rev.occurrence_id) {
        store.forget_written_block(occ).await?;
    }
    Ok(())
}
