//! The numbers insights give, as pure functions of a [`SeriesHistory`]: the cadence, each slot's
//! [`Outcome`], the counts of a window of weeks, a series' [`SeriesInsights`] with its signals,
//! and the totals over every series (definitions in the `insights` module docs).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::Serialize;

use super::history::{Meeting, SeriesHistory};
use crate::agenda::{ItemState, STALE_AFTER, Section};
use crate::attendance::Attendance;

/// The shorter window every report shows, in weeks.
pub(crate) const SHORT_WINDOW_WEEKS: u32 = 4;
/// The longer window when none is asked for (`report`, the web pages, the API).
pub(crate) const DEFAULT_WEEKS: u32 = 12;
/// The longest window accepted anywhere (two years), as `report --weeks`.
pub(crate) const MAX_WEEKS: u32 = 104;
/// The cadence assumed for a series with fewer than two recorded meetings.
const DEFAULT_CADENCE_DAYS: i64 = 7;

/// What happened in one slot of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    Held,
    /// Held, at another time than its rule gave it.
    HeldMoved,
    /// The calendar kept it, but nothing shows it took place.
    NoNotes,
    /// The same, at another time than its rule gave it.
    NoNotesMoved,
    /// Closed as moved (did not take place in its slot).
    Moved,
    Cancelled,
    /// No meeting recorded for a slot of the cadence.
    Skipped,
}

impl Outcome {
    pub(crate) fn held(self) -> bool {
        matches!(self, Outcome::Held | Outcome::HeldMoved)
    }

    /// Took place by the calendar, with nothing to show for it.
    pub(crate) fn no_notes(self) -> bool {
        matches!(self, Outcome::NoNotes | Outcome::NoNotesMoved)
    }

    pub(crate) fn moved(self) -> bool {
        matches!(
            self,
            Outcome::HeldMoved | Outcome::NoNotesMoved | Outcome::Moved
        )
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Held => "held",
            Outcome::HeldMoved => "held (moved)",
            Outcome::NoNotes => "took place (no notes)",
            Outcome::NoNotesMoved => "took place (moved, no notes)",
            Outcome::Moved => "moved",
            Outcome::Cancelled => "cancelled",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One dated outcome; `meeting` is the recorded occurrence (none for a skipped slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event {
    pub at: DateTime<Utc>,
    pub outcome: Outcome,
    pub meeting: Option<i64>,
}

/// The counts of one window of weeks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct WindowStats {
    pub weeks: u32,
    pub held: u32,
    /// Kept by the calendar with nothing to show it took place (not in `held`).
    pub took_place_no_notes: u32,
    pub cancelled: u32,
    pub moved: u32,
    pub skipped: u32,
    pub items_closed: u32,
    /// `items_closed / held`, to two decimals; `None` without a held meeting.
    pub closed_per_meeting: Option<f64>,
    /// Held meetings whose "15 minutes for you" had a topic, and those where it was empty.
    pub direct_time_used: u32,
    pub direct_time_empty: u32,
    pub direct_topics: u32,
    pub manager_topics: u32,
    /// `direct_topics / (direct_topics + manager_topics)`, to two decimals.
    pub direct_share: Option<f64>,
}

impl WindowStats {
    /// Adds another series' counts (for the totals); the ratios are computed again.
    fn add(&mut self, o: &WindowStats) {
        self.held += o.held;
        self.took_place_no_notes += o.took_place_no_notes;
        self.cancelled += o.cancelled;
        self.moved += o.moved;
        self.skipped += o.skipped;
        self.items_closed += o.items_closed;
        self.direct_time_used += o.direct_time_used;
        self.direct_time_empty += o.direct_time_empty;
        self.direct_topics += o.direct_topics;
        self.manager_topics += o.manager_topics;
        self.ratios();
    }

    fn ratios(&mut self) {
        self.closed_per_meeting = ratio(self.items_closed, self.held);
        self.direct_share = ratio(self.direct_topics, self.direct_topics + self.manager_topics);
    }
}

fn ratio(a: u32, b: u32) -> Option<f64> {
    (b > 0).then(|| (f64::from(a) / f64::from(b) * 100.0).round() / 100.0)
}

/// An item that has waited too long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub(crate) struct StaleItem {
    pub text: String,
    pub section: Section,
    pub times_carried: u32,
}

/// The insights of one series as of a moment.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub(crate) struct SeriesInsights {
    pub series_id: i64,
    pub title: String,
    pub with: String,
    pub cadence_days: i64,
    /// Start of the last held meeting, in the series' zone (RFC 3339 with its offset).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_held: Option<DateTime<FixedOffset>>,
    pub days_since_last_held: Option<i64>,
    pub cancelled_in_a_row: u32,
    pub open_items: u32,
    pub stale_items: Vec<StaleItem>,
    pub windows: Vec<WindowStats>,
    /// What needs the manager's attention, in words (empty when all is well).
    pub signals: Vec<String>,
}

/// The most common gap between consecutive original starts, in days (see the module docs).
pub(crate) fn cadence_days(meetings: &[Meeting]) -> i64 {
    let mut starts: Vec<DateTime<Utc>> = meetings.iter().map(|m| m.original_start).collect();
    starts.sort();
    starts.dedup();
    let mut counts: BTreeMap<i64, u32> = BTreeMap::new();
    for w in starts.windows(2) {
        let days = days_between(w[0], w[1]);
        if days >= 1 {
            *counts.entry(days).or_insert(0) += 1;
        }
    }
    // BTreeMap iterates shortest first, and max_by_key keeps the last maximum: reverse for ties.
    counts
        .into_iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map_or(DEFAULT_CADENCE_DAYS, |(d, _)| d)
}

/// Whole days between two instants, rounded (a DST change moves a weekly slot by an hour).
fn days_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    ((b - a).num_minutes() as f64 / (24.0 * 60.0)).round() as i64
}

/// Every dated outcome of a series up to `now`, oldest first: its closed meetings and the slots
/// of its cadence that have no meeting.
pub(crate) fn events(history: &SeriesHistory, now: DateTime<Utc>) -> Vec<Event> {
    let mut meetings: Vec<&Meeting> = history.meetings.iter().collect();
    meetings.sort_by_key(|m| (m.original_start, m.id));
    let cadence = cadence_days(&history.meetings);
    let step = Duration::days(cadence);
    let mut out = Vec::new();
    for m in &meetings {
        let moved = m.start != m.original_start;
        let outcome = match m.attendance {
            Attendance::Upcoming => None,
            Attendance::Held if moved => Some(Outcome::HeldMoved),
            Attendance::Held => Some(Outcome::Held),
            Attendance::NoNotes if moved => Some(Outcome::NoNotesMoved),
            Attendance::NoNotes => Some(Outcome::NoNotes),
            Attendance::Skipped => Some(Outcome::Skipped),
            Attendance::Moved => Some(Outcome::Moved),
            Attendance::Cancelled => Some(Outcome::Cancelled),
        };
        if let Some(outcome) = outcome.filter(|_| m.start < now) {
            out.push(Event {
                at: m.start,
                outcome,
                meeting: Some(m.id),
            });
        }
    }
    let skipped = |at: DateTime<Utc>| Event {
        at,
        outcome: Outcome::Skipped,
        meeting: None,
    };
    for w in meetings.windows(2) {
        let (a, b) = (w[0].original_start, w[1].original_start);
        let slots = (days_between(a, b) as f64 / cadence as f64).round() as i64 - 1;
        for k in 1..=slots {
            let at = a + step * k as i32;
            if at < now {
                out.push(skipped(at));
            }
        }
    }
    if let Some(last) = meetings.last() {
        let mut at = last.original_start + step;
        while at + Duration::days(1) <= now {
            out.push(skipped(at));
            at += step;
        }
    }
    out.sort_by_key(|e| (e.at, e.outcome));
    out
}

/// The counts of the `weeks` before `now`.
pub(crate) fn window(
    history: &SeriesHistory,
    events: &[Event],
    now: DateTime<Utc>,
    weeks: u32,
) -> WindowStats {
    let from = now - Duration::weeks(i64::from(weeks));
    let mut s = WindowStats {
        weeks,
        ..WindowStats::default()
    };
    let inside: Vec<&Event> = events
        .iter()
        .filter(|e| e.at >= from && e.at < now)
        .collect();
    for e in &inside {
        s.held += u32::from(e.outcome.held());
        s.took_place_no_notes += u32::from(e.outcome.no_notes());
        s.moved += u32::from(e.outcome.moved());
        s.cancelled += u32::from(e.outcome == Outcome::Cancelled);
        s.skipped += u32::from(e.outcome == Outcome::Skipped);
        let topics = e
            .meeting
            .filter(|_| e.outcome.held())
            .and_then(|id| history.meetings.iter().find(|m| m.id == id))
            .and_then(|m| m.topics);
        if let Some(t) = topics {
            if t.direct > 0 {
                s.direct_time_used += 1;
            } else {
                s.direct_time_empty += 1;
            }
            s.direct_topics += t.direct;
            s.manager_topics += t.manager;
        }
    }
    let ids: Vec<i64> = inside.iter().filter_map(|e| e.meeting).collect();
    s.items_closed = history
        .items
        .iter()
        .filter(|i| i.state == ItemState::Done && i.closed_in.is_some_and(|c| ids.contains(&c)))
        .count() as u32;
    s.ratios();
    s
}

/// The windows a report shows: the short one and `weeks`, shortest first, without repeats.
pub(crate) fn windows(weeks: u32) -> Vec<u32> {
    let mut w = vec![SHORT_WINDOW_WEEKS.min(weeks), weeks];
    w.dedup();
    w
}

/// Everything about one series as of `now`, over the given windows.
pub(crate) fn series_insights(
    history: &SeriesHistory,
    now: DateTime<Utc>,
    weeks: &[u32],
) -> SeriesInsights {
    let events = events(history, now);
    let cadence = cadence_days(&history.meetings);
    let last_held = events.iter().rev().find(|e| e.outcome.held()).map(|e| e.at);
    let cancelled_in_a_row = events
        .iter()
        .rev()
        .filter(|e| e.outcome != Outcome::Skipped)
        .take_while(|e| e.outcome == Outcome::Cancelled)
        .count() as u32;
    let mut stale_items: Vec<StaleItem> = history
        .items
        .iter()
        .filter(|i| i.state == ItemState::Open && i.times_carried >= STALE_AFTER)
        .map(|i| StaleItem {
            text: i.text.clone(),
            section: i.section,
            times_carried: i.times_carried,
        })
        .collect();
    stale_items.sort_by_key(|i| std::cmp::Reverse(i.times_carried));
    let windows: Vec<WindowStats> = weeks
        .iter()
        .map(|&w| window(history, &events, now, w))
        .collect();
    let days_since_last_held = last_held.map(|t| (now - t).num_days());
    let mut signals = Vec::new();
    match days_since_last_held {
        None if !events.is_empty() => signals.push("no 1:1 held yet".to_string()),
        Some(d) if d > 2 * cadence => signals.push(format!("no 1:1 held for {d} days")),
        _ => {}
    }
    if cancelled_in_a_row >= 2 {
        signals.push(format!(
            "the last {cancelled_in_a_row} meetings were cancelled"
        ));
    }
    if let Some(short) = windows.first().filter(|w| w.took_place_no_notes > 0) {
        let n = short.took_place_no_notes;
        signals.push(format!(
            "{n} meeting{} took place with no notes: say whether {} held (`oneonone meeting held`)",
            if n == 1 { "" } else { "s" },
            if n == 1 { "it was" } else { "they were" }
        ));
    }
    if !stale_items.is_empty() {
        signals.push(format!(
            "{} stale item{} (carried {STALE_AFTER}+ times)",
            stale_items.len(),
            if stale_items.len() == 1 { "" } else { "s" }
        ));
    }
    if let Some(short) = windows.first()
        && short.direct_time_empty > short.direct_time_used
    {
        signals.push(format!(
            "the direct brought no topic to {} of {} meetings",
            short.direct_time_empty,
            short.direct_time_empty + short.direct_time_used
        ));
    }
    SeriesInsights {
        series_id: history.series_id,
        title: history.title.clone(),
        with: history.with.clone(),
        cadence_days: cadence,
        last_held: last_held.map(|t| crate::when::at(t, history.tz)),
        days_since_last_held,
        cancelled_in_a_row,
        open_items: history
            .items
            .iter()
            .filter(|i| i.state == ItemState::Open)
            .count() as u32,
        stale_items,
        windows,
        signals,
    }
}

/// The sums over every series, window by window.
pub(crate) fn totals(series: &[SeriesInsights], weeks: &[u32]) -> Vec<WindowStats> {
    weeks
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            let mut t = WindowStats {
                weeks: w,
                ..WindowStats::default()
            };
            for s in series {
                if let Some(x) = s.windows.get(i) {
                    t.add(x);
                }
            }
            t
        })
        .collect()
}
