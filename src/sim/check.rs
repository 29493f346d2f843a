//! The invariants read from the database: after every pass (the write cap; history is never
//! lost: no item disappears, a closed meeting never changes, a 1:1 still in the calendar stays
//! tracked) and at the end (every typed line is an item or a note, open items are carried to
//! the next meeting, every write has its revision, the database checks out), then the newest
//! write into each meeting undone from its revision.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use super::lock;
use super::world::World;
use crate::config::Config;
use crate::model::OccurrenceStatus;
use crate::store::Store;
use crate::sync::pass::Providers;
use crate::sync::restore::{Restored, restore};

/// What closing a meeting recorded: its final agenda, its notes, its summary.
type Closed = (Option<String>, Option<String>, Option<String>);

/// What earlier passes left in the database, to compare the next one with.
#[derive(Debug, Default)]
pub(super) struct History {
    /// Item id -> text.
    items: BTreeMap<i64, String>,
    /// Closed occurrence id -> what closing it recorded.
    closed: BTreeMap<i64, Closed>,
    /// UIDs of the series detected as 1:1s.
    tracked: BTreeSet<String>,
}

/// The checks after one pass.
pub(super) async fn after_pass(
    world: &Arc<Mutex<World>>,
    store: &Store,
    config: &Config,
    history: &mut History,
) -> anyhow::Result<()> {
    let mut found = Vec::new();
    let writes = lock(world).pass_writes;
    if writes > config.sync.max_writes_per_pass {
        found.push(format!(
            "a pass made {writes} writes, over the cap of {}",
            config.sync.max_writes_per_pass
        ));
    }
    let series = store.list_series().await?;
    let items: BTreeMap<i64, String> = store
        .all_items()
        .await?
        .into_iter()
        .map(|it| (it.id, it.text))
        .collect();
    let closed: BTreeMap<i64, Closed> = store
        .all_occurrences()
        .await?
        .into_iter()
        .filter(|o| o.closed_at.is_some())
        .map(|o| (o.id, (o.final_agenda, o.notes, o.summary)))
        .collect();
    let tracked: BTreeSet<String> = series
        .iter()
        .filter(|s| s.tracked())
        .map(|s| s.uid.clone())
        .collect();
    for (id, text) in &history.items {
        if !items.contains_key(id) {
            found.push(format!("item {id} ({text:?}) disappeared from the record"));
        }
    }
    for (id, was) in &history.closed {
        if closed.get(id) != Some(was) {
            found.push(format!("the closed meeting {id} was rewritten or lost"));
        }
    }
    {
        let w = lock(world);
        for uid in &history.tracked {
            let live = w
                .ones
                .iter()
                .any(|o| &o.uid == uid && !o.deleted && w.exists(&o.path));
            if live && !tracked.contains(uid) {
                found.push(format!(
                    "the 1:1 {uid} is still in the calendar but no longer tracked"
                ));
            }
        }
    }
    history.items = items;
    history.closed = closed;
    history.tracked = tracked;
    report(world, found);
    Ok(())
}

/// The checks once the world went quiet and the passes converged.
pub(super) async fn at_end(
    world: &Arc<Mutex<World>>,
    store: &Store,
    config: &Config,
) -> anyhow::Result<()> {
    let lookahead = chrono::Duration::days(i64::from(config.agenda.lookahead_days));
    let mut found = Vec::new();
    // Everything the record holds as text.
    let mut recorded = String::new();
    let series = store.list_series().await?;
    let items = store.all_items().await?;
    for it in &items {
        recorded.push_str(&it.text);
        recorded.push('\n');
    }
    for o in store.all_occurrences().await? {
        for t in [o.notes, o.final_agenda].into_iter().flatten() {
            recorded.push_str(&t);
            recorded.push('\n');
        }
    }
    let revisions = store.list_revisions(None).await?;
    let mut open: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for s in series.iter().filter(|s| s.tracked()) {
        let texts = items
            .iter()
            .filter(|i| i.series_id == s.id && i.state == "open")
            .map(|i| i.text.clone());
        open.insert(s.id, texts.collect());
    }
    {
        let w = lock(world);
        // Every line typed inside a block is an item or a note, or still in the calendar.
        for t in &w.typed {
            let deleted = w.ones.iter().any(|o| o.path == t.path && o.deleted);
            let in_calendar = w.text_of(&t.path).contains(&t.key);
            if !deleted && !in_calendar && !recorded.contains(&t.key) {
                found.push(format!("the typed line {:?} was lost", t.key));
            }
        }
        // Open items are carried to the next meeting of their 1:1.
        for one in w.ones.iter().filter(|o| !o.deleted) {
            let Some(s) = series.iter().find(|s| s.uid == one.uid && s.tracked()) else {
                continue;
            };
            let Some(next) = w
                .occurrences(&one.path)
                .into_iter()
                .find(|o| o.end > w.now && o.status != OccurrenceStatus::Cancelled)
            else {
                continue;
            };
            // A meeting in progress is the one the agenda is for until it ends.
            if next.start <= w.now {
                continue;
            }
            // The agenda is written only this far ahead.
            if next.start > w.now + lookahead {
                continue;
            }
            let text = next.description.as_deref().unwrap_or("");
            if !text.contains(crate::agenda::START_MARKER) {
                found.push(format!(
                    "the next meeting of {} ({}) has no agenda",
                    one.path, next.start
                ));
            }
            for it in open.get(&s.id).into_iter().flatten() {
                if !text.contains(it.as_str()) {
                    found.push(format!(
                        "the open item {it:?} of {} is not on its next meeting ({})",
                        one.path, next.start
                    ));
                }
            }
        }
        // Every write of the daemon has its revision, with the text it replaced.
        for wr in &w.writes {
            let ok = revisions.iter().any(|r| {
                super::world::names(&r.remote_id, &wr.path)
                    && r.original_start == Some(wr.original_start)
                    && r.description_after == wr.after
                    && r.description_before.as_deref().unwrap_or("")
                        == wr.before.as_deref().unwrap_or("")
            });
            if !ok {
                found.push(format!(
                    "the write into {} on {} has no revision to undo it",
                    wr.path, wr.original_start
                ));
            }
        }
    }
    for p in store.integrity_problems().await? {
        found.push(format!("database check: {p}"));
    }
    report(world, found);
    Ok(())
}

/// Every write can be undone from its revision: after the checks at the end, the newest
/// write into each occurrence whose text the calendar still holds (no one edited it since) is
/// restored as `oneonone restore` does, and the calendar must then hold, byte for byte, the
/// text that write replaced; the database must still check out.
pub(super) async fn undo_writes(
    world: &Arc<Mutex<World>>,
    store: &Store,
    config: &Config,
    providers: &Providers,
) -> anyhow::Result<()> {
    lock(world).trace("the manager undoes the newest write into each meeting".into());
    let mut found = Vec::new();
    let mut newest = BTreeSet::new();
    // Newest first: the first revision of an occurrence is the write now in the calendar.
    for r in store.list_revisions(None).await? {
        let Some(os) = r.original_start else {
            continue;
        };
        if !newest.insert((r.remote_id.clone(), os)) {
            continue;
        }
        let (path, now) = {
            let w = lock(world);
            let Some(path) = w.path_of(&r.remote_id) else {
                continue;
            };
            if w.description_at(&path, os).as_deref() != Some(r.description_after.as_str()) {
                continue;
            }
            (path, w.now)
        };
        lock(world).restoring = true;
        let first = restore(store, config, providers, r.id, now).await;
        let (restored, writes) = {
            let w = lock(world);
            (w.description_at(&path, os), w.pass_writes)
        };
        // The manager runs it again: it must find the text there and write nothing.
        let again = match first {
            Ok(Restored::Written(_)) => Some(restore(store, config, providers, r.id, now).await),
            _ => None,
        };
        let mut w = lock(world);
        w.restoring = false;
        let before = r.description_before.unwrap_or_default();
        match first {
            Err(e) => found.push(format!(
                "the write into {path} on {os} could not be undone from revision {}: {e}",
                r.id
            )),
            Ok(Restored::AlreadyThere) => found.push(format!(
                "restoring revision {} into {path} on {os} wrote nothing, though the meeting \
                 held the text that write put there",
                r.id
            )),
            Ok(Restored::Written(_)) => {
                if restored.as_deref() != Some(before.as_str()) {
                    w.trace(format!("replaced: {before:?}"));
                    w.trace(format!("restored: {restored:?}"));
                    found.push(format!(
                        "restoring revision {} did not put back into {path} on {os} the text \
                         its write replaced",
                        r.id
                    ));
                }
                if !matches!(again, Some(Ok(Restored::AlreadyThere))) || w.pass_writes != writes {
                    found.push(format!(
                        "restoring revision {} again did not find it done and write nothing: \
                         {again:?}",
                        r.id
                    ));
                }
            }
        }
    }
    for p in store.integrity_problems().await? {
        found.push(format!("database check after the restores: {p}"));
    }
    report(world, found);
    Ok(())
}

/// Records what a check found as the schedule's violations.
fn report(world: &Arc<Mutex<World>>, found: Vec<String>) {
    let mut w = lock(world);
    for f in found {
        w.violation(f);
    }
}
