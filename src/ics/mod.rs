//! iCalendar: parse into `model`, expand recurrences, and the one lossless edit we make.
//!
//! Reading goes through a byte-level raw layer (BOM, folds that split UTF-8 characters, mixed
//! line endings) whose content lines are parsed by the `icalendar` crate; rules are expanded by
//! the `rrule` crate in wall-clock time. Writing never re-serializes a calendar: the edit splices
//! new lines into the original bytes (see `shared/reference/icalendar-evaluation.md`).

mod edit;
mod error;
mod expand;
mod inspect;
pub(crate) mod raw;
mod read;
mod tz;
mod windows_zones;

pub use edit::{
    EditOptions, Edited, edit_occurrence_description, set_occurrence_description,
    set_occurrence_description_in,
};
pub use error::{EditError, ExpandError, IcsError};
pub use expand::expand;
pub use inspect::{
    AttendeeReport, InspectReport, OccurrenceReport, SeriesReport, inspect, render_text,
};
pub use read::{Calendar, parse, parse_for_cache};
pub(crate) use tz::zone_by_name;
