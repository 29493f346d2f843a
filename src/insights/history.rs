//! What insights read about a series: its recorded meetings ([`Meeting`], with their [`Topics`])
//! and its items ([`ItemFact`]), gathered in a [`SeriesHistory`]; `load` builds them from the store.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::agenda::{ItemState, Section};
use crate::attendance::Attendance;
use crate::store::OccurrenceState;

/// How many topics each half of a meeting's agenda had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct Topics {
    pub direct: u32,
    pub manager: u32,
}

/// One recorded occurrence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Meeting {
    pub id: i64,
    /// When the rule placed it (its identity).
    pub original_start: DateTime<Utc>,
    /// When it took (or takes) place.
    pub start: DateTime<Utc>,
    pub state: OccurrenceState,
    /// Whether it took place, under the rule of `attendance` (evidence, a person's word).
    pub attendance: Attendance,
    /// The topics on its agenda at close; `None` when no block could be read.
    pub topics: Option<Topics>,
}

/// One item of a series, as far as insights need it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ItemFact {
    pub text: String,
    pub section: Section,
    pub state: ItemState,
    pub times_carried: u32,
    /// The occurrence it was ticked (or dropped) in.
    pub closed_in: Option<i64>,
}

/// What insights read about one tracked series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeriesHistory {
    pub series_id: i64,
    pub title: String,
    /// The direct's address (or name), as the report names the series.
    pub with: String,
    /// The zone its times are shown in.
    pub tz: Tz,
    pub meetings: Vec<Meeting>,
    pub items: Vec<ItemFact>,
}
