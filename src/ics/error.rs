//! Why reading, expanding or editing a resource failed: `IcsError` (with the line it is about),
//! `ExpandError` and `EditError`, shared by every stage of the `ics` module.

use chrono::{DateTime, Utc};

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
