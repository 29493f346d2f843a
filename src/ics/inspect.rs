//! `oneonone inspect`: what we read from a calendar file and when its series next occur, for a
//! user asking "why does my meeting look like that".

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::error::IcsError;
use super::{expand, read};
use crate::model::{
    Attendee, CalendarUserType, EventTime, OccurrenceStatus, ParticipationStatus, Person, Role,
    Series,
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectReport {
    pub calendar_name: Option<String>,
    pub product: Option<String>,
    pub x_wr_timezone: Option<Tz>,
    pub from: DateTime<Utc>,
    /// What was skipped or guessed while reading, each naming its line.
    pub problems: Vec<String>,
    pub series: Vec<SeriesReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesReport {
    pub uid: String,
    pub summary: Option<String>,
    pub organizer: Option<Person>,
    pub attendees: Vec<AttendeeReport>,
    /// The zone the series is shown in (IANA), or "floating" / "all-day" in the default zone.
    pub time_zone: String,
    pub all_day: bool,
    pub rrules: Vec<String>,
    pub overrides: usize,
    /// Set when the series could not be expanded; the others still are.
    pub error: Option<String>,
    pub occurrences: Vec<OccurrenceReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttendeeReport {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Role,
    pub partstat: ParticipationStatus,
    pub cutype: CalendarUserType,
}

impl From<&Attendee> for AttendeeReport {
    fn from(a: &Attendee) -> Self {
        Self {
            email: a.person.email.as_ref().map(ToString::to_string),
            name: a.person.name.clone(),
            role: a.role,
            partstat: a.partstat,
            cutype: a.cutype,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OccurrenceReport {
    /// RFC 3339 in the event's zone.
    pub original_start: String,
    pub start: String,
    pub end: String,
    pub status: OccurrenceStatus,
    pub overridden: bool,
}

/// How far ahead `inspect` looks for the next `count` occurrences.
const HORIZON_YEARS: i64 = 10;

/// Reads `input` and lists, per series, what we understood and the next `count` occurrences
/// starting at or after `from`.
pub fn inspect(
    input: &[u8],
    from: DateTime<Utc>,
    count: usize,
    default_tz: Tz,
) -> Result<InspectReport, IcsError> {
    let cal = read::parse(input)?;
    let series = cal
        .series
        .iter()
        .map(|s| series_report(s, from, count, default_tz))
        .collect();
    Ok(InspectReport {
        calendar_name: cal.name,
        product: cal.product,
        x_wr_timezone: cal.x_wr_timezone,
        from,
        problems: cal.problems.iter().map(ToString::to_string).collect(),
        series,
    })
}

fn series_report(s: &Series, from: DateTime<Utc>, count: usize, default_tz: Tz) -> SeriesReport {
    let rep = s.representative();
    let fallback = s.default_tz.unwrap_or(default_tz);
    let start = rep.and_then(|e| e.start);
    let time_zone = match start {
        Some(EventTime::Zoned { tz, .. }) => tz.name().to_string(),
        Some(EventTime::Utc { .. }) => "UTC".into(),
        Some(EventTime::Floating { .. }) => format!("floating (read in {})", fallback.name()),
        Some(EventTime::Date { .. }) => format!("all-day (dates in {})", fallback.name()),
        None => "unknown".into(),
    };
    let mut report = SeriesReport {
        uid: s.uid.clone(),
        summary: rep.and_then(|e| e.summary.clone()),
        organizer: rep.and_then(|e| e.organizer.clone()),
        attendees: rep
            .map(|e| e.attendees.iter().map(AttendeeReport::from).collect())
            .unwrap_or_default(),
        time_zone,
        all_day: start.is_some_and(|t| t.is_all_day()),
        rrules: s
            .master
            .as_ref()
            .map(|m| m.rrules.clone())
            .unwrap_or_default(),
        overrides: s.overrides.len(),
        error: None,
        occurrences: Vec::new(),
    };
    if count == 0 {
        return report;
    }
    // Widen the window until enough occurrences are found, so a weekly series costs one year.
    for years in [1, 3, HORIZON_YEARS] {
        let to = from + Duration::days(366 * years);
        match expand::expand(s, from, to, default_tz) {
            Ok(occs) if occs.len() >= count || years == HORIZON_YEARS => {
                report.occurrences = occs
                    .into_iter()
                    .take(count)
                    .map(|o| OccurrenceReport {
                        original_start: o.original_start.with_timezone(&o.tz).to_rfc3339(),
                        start: o.start.with_timezone(&o.tz).to_rfc3339(),
                        end: o.end.with_timezone(&o.tz).to_rfc3339(),
                        status: o.status,
                        overridden: o.overridden,
                    })
                    .collect();
                break;
            }
            Ok(_) => {}
            Err(e) => {
                report.error = Some(e.to_string());
                break;
            }
        }
    }
    report
}

fn person_text(p: &Person) -> String {
    match (&p.name, &p.email) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n.clone(),
        (None, Some(e)) => format!("<{e}>"),
        (None, None) => "(unnamed)".into(),
    }
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The human form of the report.
pub fn render_text(r: &InspectReport) -> String {
    let mut out = String::new();
    if let Some(n) = &r.calendar_name {
        let _ = writeln!(out, "Calendar: {n}");
    }
    if let Some(p) = &r.product {
        let _ = writeln!(out, "Written by: {p}");
    }
    if let Some(tz) = &r.x_wr_timezone {
        let _ = writeln!(
            out,
            "X-WR-TIMEZONE: {tz} (UTC times are read as wall-clock time in this zone)"
        );
    }
    let _ = writeln!(
        out,
        "{} series, occurrences from {}",
        r.series.len(),
        r.from.to_rfc3339()
    );
    for p in &r.problems {
        let _ = writeln!(out, "problem: {p}");
    }
    for s in &r.series {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", s.summary.as_deref().unwrap_or("(no summary)"));
        let _ = writeln!(out, "  uid:        {}", s.uid);
        let _ = writeln!(out, "  time zone:  {}", s.time_zone);
        if let Some(o) = &s.organizer {
            let _ = writeln!(out, "  organizer:  {}", person_text(o));
        }
        for a in &s.attendees {
            let person = Person {
                email: a
                    .email
                    .as_deref()
                    .and_then(crate::model::EmailAddress::parse),
                name: a.name.clone(),
            };
            let _ = writeln!(
                out,
                "  attendee:   {} ({}, {}, {})",
                person_text(&person),
                snake(&a.cutype),
                snake(&a.role),
                snake(&a.partstat)
            );
        }
        for rule in &s.rrules {
            let _ = writeln!(out, "  rule:       {rule}");
        }
        if s.overrides > 0 {
            let _ = writeln!(out, "  overrides:  {}", s.overrides);
        }
        if let Some(e) = &s.error {
            let _ = writeln!(out, "  error:      {e}");
        }
        if s.occurrences.is_empty() && s.error.is_none() {
            let _ = writeln!(out, "  no occurrences from {}", r.from.to_rfc3339());
        }
        for o in &s.occurrences {
            let mut line = format!("  - {} -> {}", o.start, o.end);
            if o.original_start != o.start {
                let _ = write!(line, " (originally {})", o.original_start);
            }
            if o.status != OccurrenceStatus::Scheduled {
                let _ = write!(line, " [{}]", snake(&o.status));
            } else if o.overridden {
                // Same time, but its own VEVENT: its text or people may differ from the series.
                line.push_str(" [own override]");
            }
            let _ = writeln!(out, "{line}");
        }
    }
    out
}
