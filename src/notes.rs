//! A manager's private notes about a 1:1: per meeting or per series, kept only in the database
//! (encrypted with the secrets key) and never rendered into a description, because every attendee
//! can read the invite (DESIGN.md guarantee 11). Shown by `note list`, exported by
//! `history --include-private`; the web page and the admin API call the same functions.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::secrets::{Keyring, Purpose, SecretsError};
use crate::store::{OccurrenceRow, PrivateNoteRow, SeriesRow, Store, StoreError};

/// Longest note accepted, in bytes: a note is a paragraph, not a document.
pub(crate) const MAX_NOTE_BYTES: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub(crate) enum NotesError {
    #[error("the note is empty")]
    Empty,
    #[error("the note is {len} bytes long; at most {MAX_NOTE_BYTES} are kept")]
    TooLong { len: usize },
    #[error("the note contains a NUL byte")]
    Nul,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("private note {id}: {source}")]
    Decrypt { id: i64, source: SecretsError },
}

/// A private note in clear, as shown to the manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub(crate) struct PrivateNote {
    pub id: i64,
    pub series_id: i64,
    /// The recorded meeting it is about, if any.
    pub occurrence_id: Option<i64>,
    /// The day of the meeting it is about (`None`: about the series as a whole).
    pub meeting_date: Option<NaiveDate>,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

impl PrivateNote {
    /// Whether the note is about this occurrence: linked to it, or (not linked to any) about
    /// the day it started in the series' zone `tz` (as `history` prints dates).
    pub(crate) fn is_about(&self, occ: &OccurrenceRow, tz: Tz) -> bool {
        match self.occurrence_id {
            Some(id) => id == occ.id,
            None => self.meeting_date == Some(crate::when::day(occ.start_at, tz)),
        }
    }
}

fn check(text: &str) -> Result<(), NotesError> {
    if text.trim().is_empty() {
        return Err(NotesError::Empty);
    }
    if text.len() > MAX_NOTE_BYTES {
        return Err(NotesError::TooLong { len: text.len() });
    }
    if text.contains('\0') {
        return Err(NotesError::Nul);
    }
    Ok(())
}

/// The recorded occurrence of `series` on `date` (its actual start, else its original start,
/// as a day in the series' zone `tz`: the 10:00 Berlin meeting of 7 December is on the 7th).
pub(crate) fn occurrence_on(
    occurrences: &[OccurrenceRow],
    date: NaiveDate,
    tz: Tz,
) -> Option<&OccurrenceRow> {
    let day = |t| crate::when::day(t, tz);
    occurrences
        .iter()
        .find(|o| day(o.start_at) == date)
        .or_else(|| occurrences.iter().find(|o| day(o.original_start) == date))
}

/// Stores a note about `series` (and the meeting on `meeting`, when given), encrypted. The text
/// is kept exactly as given.
/// `meeting` is a day in the series' zone `tz`.
pub(crate) async fn add(
    store: &Store,
    keyring: &Keyring,
    series: &SeriesRow,
    meeting: Option<NaiveDate>,
    tz: Tz,
    text: &str,
    now: DateTime<Utc>,
) -> Result<PrivateNote, NotesError> {
    check(text)?;
    let occurrence_id = match meeting {
        Some(date) => {
            let occ = store.list_occurrences(series.id).await?;
            occurrence_on(&occ, date, tz).map(|o| o.id)
        }
        None => None,
    };
    keep(store, keyring, series, occurrence_id, meeting, text, now).await
}

/// Stores a note about one recorded meeting of `series` (the form on that meeting in the
/// series' page: no day to match, so two meetings on one day stay apart), encrypted, as given.
pub(crate) async fn add_about(
    store: &Store,
    keyring: &Keyring,
    series: &SeriesRow,
    occurrence: &OccurrenceRow,
    tz: Tz,
    text: &str,
    now: DateTime<Utc>,
) -> Result<PrivateNote, NotesError> {
    check(text)?;
    let day = crate::when::day(occurrence.start_at, tz);
    keep(
        store,
        keyring,
        series,
        Some(occurrence.id),
        Some(day),
        text,
        now,
    )
    .await
}

async fn keep(
    store: &Store,
    keyring: &Keyring,
    series: &SeriesRow,
    occurrence_id: Option<i64>,
    meeting: Option<NaiveDate>,
    text: &str,
    now: DateTime<Utc>,
) -> Result<PrivateNote, NotesError> {
    // PostgreSQL keeps microseconds: the note returned is the note a later list reads.
    let now = now.trunc_subsecs(6);
    let body = keyring.encrypt_for(Purpose::PrivateNote, &SecretString::from(text));
    let id = store
        .add_private_note(series.id, occurrence_id, meeting, &body, now)
        .await?;
    Ok(PrivateNote {
        id,
        series_id: series.id,
        occurrence_id,
        meeting_date: meeting,
        text: text.to_string(),
        created_at: now,
    })
}

fn open(keyring: &Keyring, row: PrivateNoteRow) -> Result<PrivateNote, NotesError> {
    let text = keyring
        .decrypt_for(Purpose::PrivateNote, &row.body)
        .map_err(|source| NotesError::Decrypt { id: row.id, source })?;
    Ok(PrivateNote {
        id: row.id,
        series_id: row.series_id,
        occurrence_id: row.occurrence_id,
        meeting_date: row.meeting_date,
        text: text.expose_secret().to_string(),
        created_at: row.created_at,
    })
}

/// The private notes of a series in clear, oldest first.
pub(crate) async fn list(
    store: &Store,
    keyring: &Keyring,
    series_id: i64,
) -> Result<Vec<PrivateNote>, NotesError> {
    store
        .list_private_notes(series_id)
        .await?
        .into_iter()
        .map(|row| open(keyring, row))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occ(id: i64, original: &str, start: &str) -> OccurrenceRow {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        OccurrenceRow {
            id,
            series_id: 1,
            original_start: t(original),
            start_at: t(start),
            end_at: t(start) + chrono::Duration::minutes(30),
            remote_id: None,
            status: "held".into(),
            agenda_hash: None,
            final_agenda: None,
            notes: None,
            closed_at: None,
            summary: None,
            marked: None,
            marked_at: None,
            marked_via: None,
            edited_at: None,
        }
    }

    #[test]
    fn a_date_finds_the_meeting_that_took_place_that_day_first() {
        let list = [
            occ(1, "2026-03-02T09:00:00Z", "2026-03-04T09:00:00Z"),
            occ(2, "2026-03-04T09:00:00Z", "2026-03-05T09:00:00Z"),
        ];
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let on = |day| occurrence_on(&list, d(day), Tz::UTC).map(|o| o.id);
        assert_eq!(on("2026-03-04"), Some(1));
        assert_eq!(on("2026-03-02"), Some(1));
        assert_eq!(on("2026-03-05"), Some(2));
        assert!(on("2026-03-09").is_none());
    }

    #[test]
    fn a_date_is_a_day_in_the_series_zone() {
        // 00:30 on 5 March in Berlin is still 4 March in UTC.
        let list = [occ(1, "2026-03-04T23:30:00Z", "2026-03-04T23:30:00Z")];
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            occurrence_on(&list, d("2026-03-05"), berlin).map(|o| o.id),
            Some(1)
        );
        assert!(occurrence_on(&list, d("2026-03-04"), berlin).is_none());
    }

    #[test]
    fn empty_long_or_nul_notes_are_refused() {
        assert!(matches!(check("  \n"), Err(NotesError::Empty)));
        assert!(matches!(
            check(&"x".repeat(MAX_NOTE_BYTES + 1)),
            Err(NotesError::TooLong { .. })
        ));
        assert!(matches!(check("a\0b"), Err(NotesError::Nul)));
        assert!(check(" Struggling with the move; ask about support. ").is_ok());
    }

    #[test]
    fn a_note_not_linked_to_an_occurrence_is_about_the_meeting_of_its_day() {
        let o = occ(7, "2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z");
        let mut n = PrivateNote {
            id: 1,
            series_id: 1,
            occurrence_id: None,
            meeting_date: "2026-03-02".parse().ok(),
            text: "x".into(),
            created_at: Utc::now(),
        };
        assert!(n.is_about(&o, Tz::UTC));
        n.occurrence_id = Some(8);
        assert!(!n.is_about(&o, Tz::UTC));
        n.meeting_date = None;
        n.occurrence_id = None;
        assert!(!n.is_about(&o, Tz::UTC));
    }
}
