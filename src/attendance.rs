//! Whether a meeting took place, from the evidence the product has (issue 22): the calendar only
//! says a meeting was not cancelled, which a holiday nobody attended is not either. So a meeting
//! counts as **held** only with evidence, and as **took place (no notes)** without:
//!
//! 1. A person's word (`oneonone meeting held|skipped`, the API, the web page's buttons) wins
//!    over everything else, the calendar's cancellation included.
//! 2. Cancelled or moved (closed so by the pass) stays so.
//! 3. Closed as taking place, it is held when any of these is recorded: an item ticked or
//!    dropped in its block, notes typed in its block, a person's change to its block taken in
//!    at or after its start (an edit, a new line), or a private note about it.
//! 4. Otherwise it took place with no notes.
//!
//! History, the web pages, the API and the insights all ask [`status`], so they agree.

use std::collections::HashSet;

use serde::Serialize;

use crate::store::{ItemRow, Mark, OccurrenceRow, OccurrenceState};

/// What the history says about one meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Attendance {
    /// Not closed yet (ahead, or just ended).
    Upcoming,
    /// Took place, with evidence (or a person said so).
    Held,
    /// The calendar kept it, but nothing shows it took place.
    NoNotes,
    /// A person said it did not take place.
    Skipped,
    Cancelled,
    Moved,
}

impl Attendance {
    /// The words a person reads.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Upcoming => "upcoming",
            Self::Held => "held",
            Self::NoNotes => "took place (no notes)",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
            Self::Moved => "moved",
        }
    }
}

/// What else the store knows about a series' meetings: the occurrences items were closed in and
/// those a private note is about.
#[derive(Debug, Clone, Default)]
pub(crate) struct Evidence {
    closed_in: HashSet<i64>,
    private_notes: HashSet<i64>,
}

impl Evidence {
    pub(crate) fn new(items: &[ItemRow], private_note_occurrences: &[i64]) -> Self {
        Self {
            closed_in: items.iter().filter_map(|i| i.closed_in).collect(),
            private_notes: private_note_occurrences.iter().copied().collect(),
        }
    }

    /// Whether anything recorded shows that the meeting took place (rule 3 above).
    pub(crate) fn shows(&self, o: &OccurrenceRow) -> bool {
        let typed_notes = o
            .notes
            .as_deref()
            .and_then(|n| serde_json::from_str::<Vec<crate::agenda::Note>>(n).ok())
            .is_some_and(|notes| notes.iter().any(|n| !n.text.trim().is_empty()));
        typed_notes
            || o.edited_at.is_some_and(|t| t >= o.start_at)
            || self.closed_in.contains(&o.id)
            || self.private_notes.contains(&o.id)
    }
}

/// The status of one meeting under the rules of this module.
pub(crate) fn status(o: &OccurrenceRow, evidence: &Evidence) -> Attendance {
    match o.mark() {
        Some(Mark::Held) => return Attendance::Held,
        Some(Mark::Skipped) => return Attendance::Skipped,
        None => {}
    }
    match o.state() {
        Ok(OccurrenceState::Upcoming) => Attendance::Upcoming,
        Ok(OccurrenceState::Cancelled) => Attendance::Cancelled,
        Ok(OccurrenceState::Moved) => Attendance::Moved,
        Ok(OccurrenceState::Held) if evidence.shows(o) => Attendance::Held,
        // An unreadable status is shown as the weakest claim.
        Ok(OccurrenceState::Held) | Err(_) => Attendance::NoNotes,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn occ(status: &str) -> OccurrenceRow {
        let start = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        OccurrenceRow {
            id: 7,
            series_id: 1,
            original_start: start,
            start_at: start,
            end_at: start + chrono::Duration::minutes(30),
            remote_id: None,
            status: status.into(),
            agenda_hash: None,
            final_agenda: None,
            notes: Some("[]".into()),
            closed_at: (status != "upcoming").then_some(start + chrono::Duration::hours(3)),
            summary: None,
            marked: None,
            marked_at: None,
            marked_via: None,
            edited_at: None,
        }
    }

    #[test]
    fn held_needs_evidence_and_a_persons_mark_wins() {
        let none = Evidence::default();
        let o = occ("held");
        assert_eq!(status(&o, &none), Attendance::NoNotes);
        assert_eq!(status(&o, &none).label(), "took place (no notes)");

        // An edit taken in before the meeting (a topic queued a week ahead) is no evidence;
        // one at or after its start is.
        let mut before = o.clone();
        before.edited_at = Some(o.start_at - chrono::Duration::days(3));
        assert_eq!(status(&before, &none), Attendance::NoNotes);
        let mut during = o.clone();
        during.edited_at = Some(o.start_at + chrono::Duration::minutes(10));
        assert_eq!(status(&during, &none), Attendance::Held);

        let mut noted = o.clone();
        noted.notes = Some(r#"[{"area":"notes","text":"talked about the offsite"}]"#.into());
        assert_eq!(status(&noted, &none), Attendance::Held);

        let ticked = Evidence {
            closed_in: [7].into(),
            ..Evidence::default()
        };
        assert_eq!(status(&o, &ticked), Attendance::Held);
        let private = Evidence {
            private_notes: [7].into(),
            ..Evidence::default()
        };
        assert_eq!(status(&o, &private), Attendance::Held);

        // The person's word wins: over a tick, and over the calendar's cancellation.
        let mut skipped = o.clone();
        skipped.marked = Some("skipped".into());
        assert_eq!(status(&skipped, &ticked), Attendance::Skipped);
        let mut met_anyway = occ("cancelled");
        assert_eq!(status(&met_anyway, &none), Attendance::Cancelled);
        met_anyway.marked = Some("held".into());
        assert_eq!(status(&met_anyway, &none), Attendance::Held);
        assert_eq!(status(&occ("upcoming"), &ticked), Attendance::Upcoming);
    }
}
