//! The step of a pass that links a new 1:1 series to the one it continues (issue 24): gathers
//! what the store and the calendar cache say about each candidate pair, asks the rule
//! (`detect::continuation`), and records the link. Writes nothing into a calendar: the next
//! agenda written for the new series simply carries the items it took over.

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::detect::continuation::{self, Cadence, Ended, SeriesFacts};
use crate::model::EventStatus;
use crate::provider::{CalendarProvider, Loaded, ProviderError};
use crate::store::{Account, OccurrenceRow, SeriesRow, Store};

/// How long after its end a meeting may still be closed (as `sync::series` closes it).
const CLOSE_GRACE_HOURS: i64 = 2;
/// How far ahead an earlier series' rule is read for a meeting left, and how far back for its
/// last one.
const AHEAD_DAYS: i64 = 400;
const BEHIND_DAYS: i64 = 800;

/// Links every new tracked series of `calendar_id` that continues an ended one of the account.
pub(crate) async fn link_new_series(
    store: &Store,
    provider: &dyn CalendarProvider,
    account: &Account,
    calendar_id: i64,
    now: DateTime<Utc>,
) -> Result<(), ProviderError> {
    let candidates = store.continuation_candidates(calendar_id).await?;
    let mut linked_new = std::collections::HashSet::new();
    let mut linked_old = std::collections::HashSet::new();
    for (new_id, old_id) in candidates {
        if linked_new.contains(&new_id) || linked_old.contains(&old_id) {
            continue;
        }
        let (new, old) = (
            store.get_series(new_id).await?,
            store.get_series(old_id).await?,
        );
        if !new.tracked() || !old.tracked() {
            continue;
        }
        let old_occ = store.list_occurrences(old.id).await?;
        let old_loaded = load(store, provider, account, &old).await;
        let (ended, rule_last) = match old_loaded.and_then(|l| ended(l.as_ref(), &old_occ, now)) {
            Ok(e) => e,
            Err(e) => {
                warn!(series = old.id, error = %e, "cannot tell whether the series ended");
                continue;
            }
        };
        let new_occ = store.list_occurrences(new.id).await?;
        let old_cadence = cadence_of(&old).or_else(|| {
            continuation::cadence_from_starts(
                &old_occ.iter().map(|o| o.original_start).collect::<Vec<_>>(),
            )
        });
        // The new series' first meeting by its rule, too: on a first import nothing is
        // recorded yet, and two 1:1s that ran side by side must not be taken for one.
        let new_start = match load(store, provider, account, &new).await {
            Ok(Some(l)) => l
                .series
                .master
                .and_then(|m| m.start)
                .map(|t| t.to_utc(l.tz)),
            _ => None,
        };
        let mut new_facts = facts(&new, &new_occ, cadence_of(&new), now);
        new_facts.first_start = new_facts.first_start.into_iter().chain(new_start).min();
        let mut old_facts = facts(&old, &old_occ, old_cadence, now);
        old_facts.last_started = old_facts.last_started.into_iter().chain(rule_last).max();
        let verdict = continuation::continues(&new_facts, &old_facts, ended);
        let reason = match verdict {
            Ok(r) => r,
            Err(why) => {
                tracing::debug!(new = new.id, old = old.id, why, "not a continuation");
                continue;
            }
        };
        if let Some(l) = store.link_series(new.id, old.id, &reason, now).await? {
            info!(
                series = new.id,
                continues = old.id,
                items_moved = l.items_moved,
                "series continues an earlier one"
            );
            linked_new.insert(new.id);
            linked_old.insert(old.id);
        }
    }
    Ok(())
}

fn facts<'a>(
    s: &'a SeriesRow,
    occ: &[OccurrenceRow],
    cadence: Option<Cadence>,
    now: DateTime<Utc>,
) -> SeriesFacts<'a> {
    SeriesFacts {
        id: s.id,
        summary: &s.summary,
        manager: s.manager_email.as_deref(),
        direct: s.direct_email.as_deref(),
        cadence,
        first_start: occ.iter().map(|o| o.start_at).min(),
        last_started: occ.iter().map(|o| o.start_at).filter(|t| *t <= now).max(),
    }
}

fn cadence_of(s: &SeriesRow) -> Option<Cadence> {
    Some(Cadence {
        words: s.cadence.clone()?,
        days: s.cadence_days?,
    })
}

/// A series as the calendar cache holds it; `None` when it is gone (deleted, cancelled, no
/// longer recurring).
async fn load(
    store: &Store,
    provider: &dyn CalendarProvider,
    account: &Account,
    row: &SeriesRow,
) -> Result<Option<Loaded>, ProviderError> {
    let cal = store.get_calendar(row.calendar_id).await?;
    let cached = store.events_by_uid(cal.id, &row.uid).await?;
    Ok(provider.load_series(account, &cal, cached)?.filter(|l| {
        l.series.is_recurring()
            && l.series
                .master
                .as_ref()
                .is_some_and(|m| m.status != EventStatus::Cancelled)
    }))
}

/// Whether the old series (`loaded`, as [`load`] gives it) has ended: gone from the calendar,
/// or no meeting of its rule left and every recorded one closed; with, then, the start of the
/// last meeting its rule had.
fn ended(
    loaded: Option<&Loaded>,
    occurrences: &[OccurrenceRow],
    now: DateTime<Utc>,
) -> Result<(Ended, Option<DateTime<Utc>>), ProviderError> {
    let Some(l) = loaded else {
        return Ok((Ended::Deleted(now.date_naive()), None));
    };
    if occurrences.iter().any(|o| o.closed_at.is_none()) {
        return Ok((Ended::No, None));
    }
    let expanded = crate::ics::expand(
        &l.series,
        now - chrono::Duration::days(BEHIND_DAYS),
        now + chrono::Duration::days(AHEAD_DAYS),
        l.tz,
    )
    .map_err(|e| ProviderError::resource("unexpandable", e.to_string()))?;
    let held = expanded
        .iter()
        .filter(|o| o.status != crate::model::OccurrenceStatus::Cancelled);
    let grace = now - chrono::Duration::hours(CLOSE_GRACE_HOURS);
    if held.clone().any(|o| o.end > grace) {
        return Ok((Ended::No, None));
    }
    let last = held.map(|o| o.start).max();
    let day = last
        .or_else(|| occurrences.iter().map(|o| o.start_at).max())
        .unwrap_or(now)
        .with_timezone(&l.tz)
        .date_naive();
    Ok((Ended::Finished(day), last))
}
