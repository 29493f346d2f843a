//! What needs the manager's attention, one line per 1:1, in words, the most urgent first: what
//! `/insights` opens on. Built from a series' [`SeriesInsights`] and history; a 1:1 on track
//! gives no line.
//!
//! # Reasons, most urgent first
//! 1. No 1:1 held for more than two of its cadence ("no 1:1 held in 3 weeks"), or none ever
//!    while its slots have passed ("no 1:1 held yet"). Between two such 1:1s, the one that
//!    missed more of its slots (days without a held 1:1 over its cadence) comes first.
//! 2. Its last meetings cancelled, two or more in a row.
//! 3. Items carried [`STALE_AFTER`] times or more.
//! 4. The direct brought no topic to the last two or more held meetings whose agenda was read.
//! 5. Meetings of the last 4 weeks that took place by the calendar with nothing to show it
//!    (to be marked held or skipped).
//!
//! Lines sort by their most urgent reason, then by its size (more missed slots, more
//! cancellations, more items...), then by how many reasons they have, then by title.

use std::cmp::Reverse;

use serde::Serialize;

use super::history::SeriesHistory;
use super::stats::SeriesInsights;
use crate::agenda::STALE_AFTER;
use crate::attendance::Attendance;

/// The fewest held meetings in a row without a topic from the direct that make a reason.
const NO_TOPIC_STREAK: usize = 2;

/// One 1:1 that needs attention.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Attention {
    pub series_id: i64,
    pub title: String,
    pub with: String,
    /// The reasons in words, the most urgent first.
    pub reasons: Vec<String>,
    /// The most urgent reason's rank (see the module docs) and its size.
    #[serde(skip)]
    urgency: (u8, Reverse<i64>),
}

fn plural(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The held meetings in a row, newest first, whose agenda had no topic from the direct.
fn no_topic_streak(history: &SeriesHistory, insights_now: chrono::DateTime<chrono::Utc>) -> usize {
    let mut held: Vec<_> = history
        .meetings
        .iter()
        .filter(|m| m.attendance == Attendance::Held && m.start < insights_now)
        .filter_map(|m| m.topics.map(|t| (m.start, t.direct)))
        .collect();
    held.sort_by_key(|(start, _)| Reverse(*start));
    held.iter().take_while(|(_, direct)| *direct == 0).count()
}

/// The line of one 1:1, or `None` when nothing needs attention. `name` is how the direct is
/// called in a reason ("Alice brought no topic..."); `now` the moment `insights` were made at.
pub(crate) fn attention(
    history: &SeriesHistory,
    insights: &SeriesInsights,
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Attention> {
    let mut reasons: Vec<(u8, i64, String)> = Vec::new();
    let cadence = insights.cadence_days.max(1);
    match insights.days_since_last_held {
        None => {
            let passed = history.meetings.iter().filter(|m| m.start < now).count();
            if passed > 0 {
                reasons.push((0, i64::MAX, "no 1:1 held yet".into()));
            }
        }
        Some(d) if d > 2 * cadence => {
            let weeks = d / 7;
            let since = if weeks >= 2 {
                plural(weeks, "week", "weeks")
            } else {
                plural(d, "day", "days")
            };
            reasons.push((0, d / cadence, format!("no 1:1 held in {since}")));
        }
        Some(_) => {}
    }
    let cancelled = insights.cancelled_in_a_row;
    if cancelled >= 2 {
        reasons.push((
            1,
            i64::from(cancelled),
            format!("the last {cancelled} meetings were cancelled"),
        ));
    }
    let stale = insights.stale_items.len() as i64;
    if stale > 0 {
        reasons.push((
            2,
            stale,
            format!(
                "{} carried {STALE_AFTER}+ times",
                plural(stale, "item", "items")
            ),
        ));
    }
    let streak = no_topic_streak(history, now);
    if streak >= NO_TOPIC_STREAK {
        reasons.push((
            3,
            streak as i64,
            format!("{name} brought no topic to the last {streak}"),
        ));
    }
    if let Some(n) = insights
        .windows
        .first()
        .map(|w| w.took_place_no_notes)
        .filter(|n| *n > 0)
    {
        reasons.push((
            4,
            i64::from(n),
            format!(
                "{} with nothing to show {}: mark {} held or skipped",
                plural(n, "meeting took place", "meetings took place"),
                if n == 1 {
                    "it was held"
                } else {
                    "they were held"
                },
                if n == 1 { "it" } else { "them" },
            ),
        ));
    }
    let (rank, size, _) = reasons.first()?;
    Some(Attention {
        series_id: insights.series_id,
        title: insights.title.clone(),
        with: insights.with.clone(),
        urgency: (*rank, Reverse(*size)),
        reasons: reasons.into_iter().map(|(_, _, r)| r).collect(),
    })
}

/// Sorts lines the most urgent first (see the module docs).
pub(crate) fn by_urgency(lines: &mut [Attention]) {
    lines.sort_by(|a, b| {
        (a.urgency, Reverse(a.reasons.len()), &a.title).cmp(&(
            b.urgency,
            Reverse(b.reasons.len()),
            &b.title,
        ))
    });
}
