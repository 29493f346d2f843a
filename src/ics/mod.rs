//! iCalendar: parse into `model`, expand recurrences, and the one lossless edit we make.
//!
//! Reading goes through a byte-level raw layer (BOM, folds that split UTF-8 characters, mixed
//! line endings) whose content lines are parsed by the `icalendar` crate; rules are expanded by
//! the `rrule` crate in wall-clock time. Writing never re-serializes a calendar: the edit splices
//! new lines into the original bytes (see `shared/reference/icalendar-evaluation.md`).

mod edit;
mod expand;
mod inspect;
pub(crate) mod raw;
mod read;
mod tz;
mod windows_zones;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::model;

pub use edit::{
    EditOptions, Edited, edit_occurrence_description, set_occurrence_description,
    set_occurrence_description_in,
};
pub use inspect::{
    AttendeeReport, InspectReport, OccurrenceReport, SeriesReport, inspect, render_text,
};
pub use tz::zone_by_name;

/// A parsed VCALENDAR resource or file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Calendar {
    /// One entry per UID, in the order the file first mentions it.
    pub series: Vec<model::Series>,
    /// The calendar's X-WR-TIMEZONE. Policy (Google's meaning): times written in UTC in such a
    /// calendar are read as wall-clock time in this zone, so they keep their local hour across
    /// DST; floating and all-day times are read in it too.
    pub x_wr_timezone: Option<Tz>,
    /// X-WR-CALNAME.
    pub name: Option<String>,
    /// PRODID: which client wrote the file.
    pub product: Option<String>,
    /// What was skipped or guessed while reading (a VEVENT with a bad value, an unknown TZID
    /// read as floating); each names its line. The rest of the calendar is read.
    pub problems: Vec<IcsError>,
}

/// Why a resource could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IcsError {
    #[error("line {line}: {message}")]
    Malformed { line: usize, message: String },
    #[error("line {line}: {property}: {message}")]
    BadValue {
        line: usize,
        property: String,
        message: String,
    },
    #[error("line {line}: component has no {property}")]
    MissingProperty { line: usize, property: String },
    #[error("line {line}: unknown time zone `{tzid}` (read as floating time)")]
    UnknownZone { line: usize, tzid: String },
    #[error("no BEGIN:VCALENDAR in the input")]
    NotACalendar,
}

impl IcsError {
    /// The 1-based line of the input the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            IcsError::Malformed { line, .. }
            | IcsError::BadValue { line, .. }
            | IcsError::MissingProperty { line, .. }
            | IcsError::UnknownZone { line, .. } => Some(*line),
            IcsError::NotACalendar => None,
        }
    }
}

/// Why one series could not be expanded. Other series are unaffected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("cannot expand the recurrence rule: {0}")]
    BadRule(String),
    #[error("the rule produces more than {cap} instances before the window; refusing to go on")]
    TooManyInstances { cap: usize },
    #[error("the series master has no DTSTART")]
    NoStart,
}

/// Why the description edit was not made. The input is never partially changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("cannot read the resource: {0}")]
    Parse(#[from] IcsError),
    #[error("no event with UID `{uid}` in the resource")]
    NoSuchSeries { uid: String },
    #[error("series `{uid}` has no occurrence that originally starts at {original_start}")]
    NoSuchOccurrence {
        uid: String,
        original_start: DateTime<Utc>,
    },
    #[error("cannot expand series `{uid}`: {source}")]
    Expand { uid: String, source: ExpandError },
    #[error("the description contains a control character (U+{code:04X}) iCalendar cannot carry")]
    InvalidText { code: u32 },
    #[error("the edited resource did not read back as intended: {0}")]
    Verify(String),
}

/// Reads a whole VCALENDAR resource or file.
pub fn parse(input: &[u8]) -> Result<Calendar, IcsError> {
    let doc = raw::Document::parse(input)?;
    read::calendar(&doc)
}

/// The VEVENT properties that decide what the events cache keeps of a resource (UID, title,
/// start, status), whether it holds a recurring series, and every one whose bad value makes
/// [`parse`] skip the event, so that both readings fail alike.
const CACHE_PROPERTIES: &[&str] = &[
    "UID",
    "SUMMARY",
    "DTSTART",
    "DTEND",
    "DURATION",
    "RECURRENCE-ID",
    "STATUS",
    "SEQUENCE",
    "RRULE",
    "RDATE",
    "EXDATE",
];

/// Reads a resource for the events cache. A resource that holds a recurring series, or names a
/// time zone only its VTIMEZONE defines, is read as [`parse`] reads it. Any other (the one-off
/// meetings that make up most of a calendar) is skimmed: its events carry only the
/// `CACHE_PROPERTIES` (no attendees, description or X- properties), and its VTIMEZONEs are
/// checked but not read. A test checks that both readings give the cache the same record.
pub fn parse_for_cache(input: &[u8]) -> Result<Calendar, IcsError> {
    let doc = raw::Document::skim(input, CACHE_PROPERTIES)?;
    let cal = read::calendar(&doc)?;
    let custom_zone = cal
        .problems
        .iter()
        .any(|p| matches!(p, IcsError::UnknownZone { .. }));
    if custom_zone || cal.series.iter().any(model::Series::is_recurring) {
        return parse(input);
    }
    Ok(cal)
}

/// The occurrences of `series` that start in `[from, to)`, sorted by start, overrides merged.
/// Floating and all-day times are read in the series' X-WR-TIMEZONE, else `default_tz`.
pub fn expand(
    series: &model::Series,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    default_tz: Tz,
) -> Result<Vec<model::Occurrence>, ExpandError> {
    expand::expand(series, from, to, default_tz)
}
