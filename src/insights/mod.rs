//! Insights: how each 1:1 is going, from its history: meetings held, cancelled, moved and skipped
//! over a window of weeks, days since the last held one, stale items, items closed per meeting,
//! and the direct's share of the topics. Pure functions over [`SeriesHistory`] (built from the
//! store by [`load`]), so the CLI report, the web page and the API show the same numbers.
//!
//! # Definitions
//! - A meeting counts in a window by its actual start (`now - 7 × weeks <= start < now`); upcoming
//!   meetings never count.
//! - **held**: took place with evidence (see `attendance`: a tick, notes, an edit during or
//!   after it, a private note, or a person's "held"); a meeting that took place at another time
//!   counts as held too.
//! - **took place, no notes**: the calendar kept it, but nothing shows it took place (a holiday
//!   nobody attended looks the same); counted apart from held, never in the ratios.
//! - **moved**: it did not take place at the time its rule gave it (its start differs from its
//!   original start, or it was closed as moved). A moved meeting that took place is both held
//!   and moved.
//! - **cancelled**: recorded (it was the next meeting at some pass) and then cancelled or removed.
//! - **skipped**: a slot of the series' cadence with no recorded meeting at all. The cadence is the
//!   most common gap between consecutive original starts, in whole days (the shorter on a tie;
//!   7 with fewer than two meetings). Between two recorded meetings `g` days apart,
//!   `round(g / cadence) - 1` slots are skipped; after the last one, every slot that ended a day
//!   or more before `now`. A meeting cancelled before it became the next one (or weeks when no
//!   daemon ran) leaves no record, so it counts as skipped, never as cancelled. A meeting a person
//!   marked as not taken place counts as skipped too.
//! - **stale**: an open item carried [`STALE_AFTER`] times or more (the agenda marks it too).
//! - **items closed per meeting**: items ticked in the window's meetings over its held meetings.
//! - **direct's share**: of the held meetings whose agenda was read at close, how many had at least
//!   one topic under "15 minutes for you" (used) or none (empty); and the direct's topics over
//!   the direct's plus the manager's topics (follow-ups and action items are neither's topics).

mod attention;
mod chart;
mod history;
mod load;
mod report;
mod stats;

pub(crate) use crate::agenda::STALE_AFTER;
pub(crate) use attention::{Attention, attention, by_urgency};
pub(crate) use chart::chart_svg;
pub(crate) use history::SeriesHistory;
pub(crate) use load::{load, load_series};
pub(crate) use report::Report;
pub(crate) use stats::{DEFAULT_WEEKS, MAX_WEEKS, SeriesInsights, series_insights, windows};

#[cfg(test)]
mod tests;
