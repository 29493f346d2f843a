//! Builds [`SeriesHistory`]s from the store: the only I/O of the insights.

use chrono_tz::Tz;

use crate::agenda::{self, Area, ItemState, RenderedBlock, Section};
use crate::attendance::{self, Evidence};
use crate::store::{OccurrenceState, SeriesRow, Store, StoreError};

use super::history::{ItemFact, Meeting, SeriesHistory, Topics};

/// The histories of every tracked series, by series id; times in each series' zone
/// (`default_tz` where none is known).
pub(crate) async fn load(store: &Store, default_tz: Tz) -> Result<Vec<SeriesHistory>, StoreError> {
    let mut out = Vec::new();
    let all = store.list_series().await?;
    // A series another continues is part of that one's history, not a 1:1 of its own.
    let continued: std::collections::HashSet<i64> =
        all.iter().filter_map(|s| s.continues_series_id).collect();
    for s in all {
        if s.tracked() && !continued.contains(&s.id) {
            out.push(load_series(store, s, default_tz).await?);
        }
    }
    Ok(out)
}

/// The history of one series (for the page or the API of one series).
pub(crate) async fn load_series(
    store: &Store,
    s: SeriesRow,
    default_tz: Tz,
) -> Result<SeriesHistory, StoreError> {
    let tz = crate::when::series_zone(store, &s, default_tz).await?;
    // With the earlier series it continues: one 1:1.
    let rows = store.list_items_in_chain(s.id).await?;
    let evidence = Evidence::new(&rows, &store.private_note_occurrences_in_chain(s.id).await?);
    let mut meetings = Vec::new();
    for o in store.list_occurrences_in_chain(s.id).await? {
        let state = o.state()?;
        let topics = if state == OccurrenceState::Held {
            let (written, _) = store.occurrence_agenda(o.id).await?;
            written.and_then(|w| topics(&w, o.final_agenda.as_deref()))
        } else {
            None
        };
        meetings.push(Meeting {
            id: o.id,
            original_start: o.original_start,
            start: o.start_at,
            state,
            attendance: attendance::status(&o, &evidence),
            topics,
        });
    }
    let corrupt = |column, value: &str| StoreError::Corrupt {
        column,
        value: value.to_string(),
    };
    let mut items = Vec::new();
    for i in rows {
        items.push(ItemFact {
            section: Section::parse(&i.section)
                .ok_or_else(|| corrupt("items.section", &i.section))?,
            state: ItemState::parse(&i.state).ok_or_else(|| corrupt("items.state", &i.state))?,
            times_carried: u32::try_from(i.times_carried).unwrap_or(0),
            closed_in: i.closed_in,
            text: i.text,
        });
    }
    let with = s
        .direct_email
        .or(s.direct_name)
        .unwrap_or_else(|| "?".into());
    Ok(SeriesHistory {
        series_id: s.id,
        title: s.summary,
        with,
        tz,
        meetings,
        items,
    })
}

/// The topics of each half on a meeting's final block (read with the headings of the block last
/// written into it), else on that written block itself.
pub(crate) fn topics(written: &RenderedBlock, final_agenda: Option<&str>) -> Option<Topics> {
    let parsed = final_agenda
        .and_then(|text| agenda::parse_block(text, written.format, usize::MAX).ok())
        .flatten();
    let per_area = match parsed {
        Some(p) => agenda::items_per_area(written, &p),
        None => {
            let mut m = std::collections::BTreeMap::new();
            for l in &written.lines {
                if matches!(l.kind, agenda::LineKind::Item { .. }) {
                    *m.entry(l.area).or_insert(0) += 1;
                }
            }
            m
        }
    };
    let n = |a: Area| per_area.get(&a).copied().unwrap_or(0);
    Some(Topics {
        direct: n(Area::Direct),
        manager: n(Area::Manager),
    })
}
