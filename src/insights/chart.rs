//! A small inline SVG per series: one bar per week, coloured by what happened that week. No
//! script, no external resource, no names: safe to embed in the web page as it is.

use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};

use super::history::SeriesHistory;
use super::stats::{Outcome, events};

const BAR_WIDTH: u32 = 10;
const GAP: u32 = 2;
const HEIGHT: u32 = 32;

fn style(outcome: Outcome) -> (&'static str, u32) {
    match outcome {
        Outcome::Held => ("#2e7d32", HEIGHT),
        Outcome::HeldMoved => ("#f9a825", HEIGHT),
        // Half a bar: the calendar kept it, nothing shows it took place.
        Outcome::NoNotes | Outcome::NoNotesMoved => ("#81c784", HEIGHT / 2),
        Outcome::Moved => ("#f9a825", HEIGHT / 2),
        Outcome::Cancelled => ("#c62828", HEIGHT / 2),
        Outcome::Skipped => ("#9e9e9e", HEIGHT / 4),
    }
}

/// The chart of the `weeks` before `now`, oldest week on the left. A week with several outcomes
/// shows the best one (held, then moved, cancelled, skipped); a week without any stays empty.
pub(crate) fn chart_svg(history: &SeriesHistory, now: DateTime<Utc>, weeks: u32) -> String {
    let events = events(history, now);
    let width = weeks * (BAR_WIDTH + GAP);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {width} {HEIGHT}\" role=\"img\" aria-label=\"1:1s over the last {weeks} weeks\">"
    );
    for i in 0..weeks {
        let from = now - Duration::weeks(i64::from(weeks - i));
        let to = from + Duration::weeks(1);
        let best = events
            .iter()
            .filter(|e| e.at >= from && e.at < to)
            .map(|e| e.outcome)
            .min();
        let Some(outcome) = best else { continue };
        let (colour, h) = style(outcome);
        let x = i * (BAR_WIDTH + GAP);
        let y = HEIGHT - h;
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{BAR_WIDTH}\" height=\"{h}\" fill=\"{colour}\">\
             <title>week of {}: {}</title></rect>",
            crate::when::day(from, history.tz),
            outcome.as_str()
        );
    }
    out.push_str("</svg>");
    out
}
