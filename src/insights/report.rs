//! `oneonone report`: the insights of every tracked series and their totals, as text, Markdown
//! or JSON (the JSON is the [`Report`] itself).

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::history::SeriesHistory;
use super::stats::{SeriesInsights, WindowStats, series_insights, totals, windows};
use crate::agenda::STALE_AFTER;

/// Every tracked series' insights as of one moment.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub(crate) struct Report {
    pub as_of: DateTime<Utc>,
    pub windows_weeks: Vec<u32>,
    pub stale_after: u32,
    pub series_tracked: usize,
    /// Open stale items over every series.
    pub stale_items: usize,
    pub totals: Vec<WindowStats>,
    pub series: Vec<SeriesInsights>,
}

/// The rows of the per-window table: label and value.
type Row = (&'static str, fn(&WindowStats) -> String);

const ROWS: [Row; 9] = [
    ("held", |w| w.held.to_string()),
    ("took place, no notes", |w| {
        w.took_place_no_notes.to_string()
    }),
    ("cancelled", |w| w.cancelled.to_string()),
    ("moved", |w| w.moved.to_string()),
    ("skipped", |w| w.skipped.to_string()),
    ("items closed", |w| w.items_closed.to_string()),
    ("closed per meeting", |w| {
        w.closed_per_meeting
            .map_or_else(|| "-".into(), |r| format!("{r:.2}"))
    }),
    ("direct's time used", |w| {
        let known = w.direct_time_used + w.direct_time_empty;
        if known == 0 {
            "-".into()
        } else {
            format!("{}/{known}", w.direct_time_used)
        }
    }),
    ("direct's share", |w| {
        w.direct_share
            .map_or_else(|| "-".into(), |r| format!("{:.0}%", r * 100.0))
    }),
];

fn last_held(s: &SeriesInsights) -> String {
    match (s.last_held, s.days_since_last_held) {
        (Some(t), Some(d)) => format!(
            "last held {} ({d} day{} ago)",
            t.format("%Y-%m-%d"),
            if d == 1 { "" } else { "s" }
        ),
        _ => "never held".to_string(),
    }
}

impl Report {
    pub(crate) fn build(histories: &[SeriesHistory], now: DateTime<Utc>, weeks: u32) -> Self {
        let w = windows(weeks);
        let series: Vec<SeriesInsights> = histories
            .iter()
            .map(|h| series_insights(h, now, &w))
            .collect();
        Self {
            as_of: now,
            stale_after: STALE_AFTER,
            series_tracked: series.len(),
            stale_items: series.iter().map(|s| s.stale_items.len()).sum(),
            totals: totals(&series, &w),
            windows_weeks: w,
            series,
        }
    }

    fn header(&self) -> String {
        let w: Vec<String> = self.windows_weeks.iter().map(u32::to_string).collect();
        format!(
            "1:1 report as of {} (last {} weeks; an item is stale after {} carries)",
            self.as_of.format("%Y-%m-%d %H:%M UTC"),
            w.join(" and "),
            self.stale_after
        )
    }

    /// Plain text, for a terminal.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}\n", self.header());
        let table = |out: &mut String, windows: &[WindowStats]| {
            let _ = write!(out, "  {:<20}", "");
            for w in windows {
                let _ = write!(out, "{:>10}", format!("{} weeks", w.weeks));
            }
            out.push('\n');
            for (label, value) in ROWS {
                let _ = write!(out, "  {label:<20}");
                for w in windows {
                    let _ = write!(out, "{:>10}", value(w));
                }
                out.push('\n');
            }
        };
        let _ = writeln!(
            out,
            "All 1:1s: {} series, {} stale item(s)",
            self.series_tracked, self.stale_items
        );
        table(&mut out, &self.totals);
        for s in &self.series {
            let _ = writeln!(out, "\n{} (with {})", s.title, s.with);
            let _ = writeln!(
                out,
                "  {}; every {} days; {} open item(s)",
                last_held(s),
                s.cadence_days,
                s.open_items
            );
            table(&mut out, &s.windows);
            for i in &s.stale_items {
                let _ = writeln!(out, "  stale: {} (carried x{})", i.text, i.times_carried);
            }
            for sig in &s.signals {
                let _ = writeln!(out, "  attention: {sig}");
            }
        }
        if self.series.is_empty() {
            let _ = writeln!(out, "\nNo tracked 1:1 yet.");
        }
        out
    }

    /// Markdown, for a document or a wiki page.
    pub(crate) fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}\n", self.header());
        let table = |out: &mut String, windows: &[WindowStats]| {
            out.push_str("| |");
            for w in windows {
                let _ = write!(out, " {} weeks |", w.weeks);
            }
            out.push_str("\n|---|");
            for _ in windows {
                out.push_str("---:|");
            }
            out.push('\n');
            for (label, value) in ROWS {
                let _ = write!(out, "| {label} |");
                for w in windows {
                    let _ = write!(out, " {} |", value(w));
                }
                out.push('\n');
            }
        };
        let _ = writeln!(
            out,
            "## All 1:1s\n\n{} series, {} stale item(s).\n",
            self.series_tracked, self.stale_items
        );
        table(&mut out, &self.totals);
        for s in &self.series {
            let _ = writeln!(out, "\n## {} (with {})\n", md_escape(&s.title), s.with);
            let _ = writeln!(
                out,
                "{}; every {} days; {} open item(s).\n",
                last_held(s),
                s.cadence_days,
                s.open_items
            );
            table(&mut out, &s.windows);
            if !s.stale_items.is_empty() || !s.signals.is_empty() {
                out.push('\n');
            }
            for i in &s.stale_items {
                let _ = writeln!(
                    out,
                    "- stale: {} (carried x{})",
                    md_escape(&i.text),
                    i.times_carried
                );
            }
            for sig in &s.signals {
                let _ = writeln!(out, "- **attention**: {sig}");
            }
        }
        if self.series.is_empty() {
            let _ = writeln!(out, "\nNo tracked 1:1 yet.");
        }
        out
    }
}

/// People's text in Markdown: characters that would format or break a table are escaped.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(if c == '\n' { ' ' } else { c });
    }
    out
}
