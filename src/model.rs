//! The normalized calendar types that both providers (CalDAV via `ics`, Google via JSON) produce.
//!
//! Everything downstream (detection, agenda, sync) works on these types only, so a provider's quirks
//! stay inside its own module.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// An email address, compared case-insensitively (stored lower-cased), without any `mailto:` prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses `alice@example.com` or `mailto:Alice@Example.com`. Returns `None` when there is no `@`.
    pub fn parse(raw: &str) -> Option<Self> {
        let s = raw.trim();
        let s = s
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("mailto:"))
            .map_or(s, |_| &s[7..]);
        let s = s.trim();
        let (local, domain) = s.split_once('@')?;
        if local.is_empty() || domain.is_empty() || s.chars().any(char::is_whitespace) {
            return None;
        }
        Some(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`, used to guess a display name when none is given.
    pub(crate) fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An opaque version tag of a remote resource (CalDAV `getetag`, Google `etag`), kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Etag(pub String);

impl fmt::Display for Etag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person as a calendar names them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Person {
    pub email: Option<EmailAddress>,
    pub name: Option<String>,
}

impl Person {
    /// The name to show a user: the display name, else the email's local part, else "someone".
    pub(crate) fn display_name(&self) -> String {
        if let Some(n) = self
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            return n.to_string();
        }
        self.email
            .as_ref()
            .map_or_else(|| "someone".to_string(), |e| e.local_part().to_string())
    }
}

/// RFC 5545 CUTYPE: only `Individual` (and `Unknown`, which clients use for people too) are humans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarUserType {
    #[default]
    Individual,
    Group,
    Resource,
    Room,
    Unknown,
}

/// RFC 5545 PARTSTAT (Google `responseStatus` maps onto it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipationStatus {
    #[default]
    NeedsAction,
    Accepted,
    Declined,
    Tentative,
    Delegated,
    Other,
}

/// RFC 5545 ROLE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Chair,
    #[default]
    RequiredParticipant,
    OptionalParticipant,
    NonParticipant,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attendee {
    pub person: Person,
    pub role: Role,
    pub partstat: ParticipationStatus,
    pub cutype: CalendarUserType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    #[default]
    Confirmed,
    Tentative,
    Cancelled,
}

/// RFC 5545 TRANSP / Google `transparency`: a transparent event does not block time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transparency {
    #[default]
    Opaque,
    Transparent,
}

/// Google's `eventType`; CalDAV events are `Default` unless an X- property says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    #[default]
    Default,
    OutOfOffice,
    FocusTime,
    WorkingLocation,
}

/// A start or end as the calendar wrote it. Keeping the form matters: an override's RECURRENCE-ID
/// must be written in exactly the form of the master's DTSTART.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventTime {
    /// An all-day value (`VALUE=DATE`).
    Date { date: NaiveDate },
    /// Wall-clock time with no zone; read in the calendar's (or the configured) zone.
    Floating { local: NaiveDateTime },
    /// An instant written in UTC (`...Z`).
    Utc { at: DateTime<Utc> },
    /// Wall-clock time in a named zone (`TZID=...`), mapped to IANA.
    Zoned { local: NaiveDateTime, tz: Tz },
}

impl EventTime {
    pub(crate) fn is_all_day(&self) -> bool {
        matches!(self, EventTime::Date { .. })
    }

    /// The instant this time denotes. Floating and all-day values are read in `fallback`.
    /// A wall-clock time inside a DST gap moves forward by the gap's length (RFC 5545 3.3.5); an ambiguous
    /// one takes the first (earlier) instant.
    pub fn to_utc(&self, fallback: Tz) -> DateTime<Utc> {
        match *self {
            EventTime::Utc { at } => at,
            EventTime::Zoned { local, tz } => resolve_local(tz, local),
            EventTime::Floating { local } => resolve_local(fallback, local),
            EventTime::Date { date } => {
                resolve_local(fallback, date.and_time(chrono::NaiveTime::MIN))
            }
        }
    }

    /// The zone this time is written in, when it names one.
    pub fn zone(&self) -> Option<Tz> {
        match *self {
            EventTime::Zoned { tz, .. } => Some(tz),
            EventTime::Utc { .. } => Some(Tz::UTC),
            _ => None,
        }
    }
}

/// Maps a wall-clock time in `tz` to an instant, never failing: gaps move forward, folds take the
/// earlier instant.
pub(crate) fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    use chrono::LocalResult;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        LocalResult::None => {
            // Inside a gap: read it with the offset in effect before the gap, which moves it
            // forward by the gap's length (RFC 5545 3.3.5: 02:30 on a 02:00->03:00 night is
            // 03:30), as libical and Python's zoneinfo do. Gaps are at most a few hours.
            use chrono::Offset;
            for back in 1..=(24 * 60) {
                let probe = local - chrono::Duration::minutes(back);
                if let Some(t) = tz.from_local_datetime(&probe).latest() {
                    let offset = i64::from(t.offset().fix().local_minus_utc());
                    return Utc.from_utc_datetime(&(local - chrono::Duration::seconds(offset)));
                }
            }
            Utc.from_utc_datetime(&local)
        }
    }
}

/// One VEVENT (or one Google event resource): a series master, an override, or a single event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    pub uid: String,
    /// Set on an override: which occurrence of the series it replaces.
    pub recurrence_id: Option<EventTime>,
    /// RECURRENCE-ID;RANGE=THISANDFUTURE: the override also applies to later occurrences.
    pub this_and_future: bool,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub start: Option<EventTime>,
    pub end: Option<EventTime>,
    /// DURATION when no DTEND is given.
    pub duration: Option<chrono::Duration>,
    pub organizer: Option<Person>,
    pub attendees: Vec<Attendee>,
    pub status: EventStatus,
    pub transparency: Transparency,
    pub kind: EventKind,
    pub sequence: i64,
    /// RRULE values verbatim (normally at most one).
    pub rrules: Vec<String>,
    pub rdates: Vec<EventTime>,
    pub exdates: Vec<EventTime>,
    /// X- properties as (name, value), in file order.
    pub x_props: Vec<(String, String)>,
}

impl Event {
    pub(crate) fn is_recurring(&self) -> bool {
        !self.rrules.is_empty() || !self.rdates.is_empty()
    }

    /// The event's length: DTEND - DTSTART, else DURATION, else RFC 5545's default (one day for
    /// all-day events, zero otherwise).
    pub(crate) fn length(&self, fallback: Tz) -> chrono::Duration {
        match (self.start, self.end, self.duration) {
            (Some(s), Some(e), _) => e.to_utc(fallback) - s.to_utc(fallback),
            (_, _, Some(d)) => d,
            (Some(EventTime::Date { .. }), None, None) => chrono::Duration::days(1),
            _ => chrono::Duration::zero(),
        }
    }
}

/// All the components that share one UID: a master (absent when a server holds only overrides,
/// e.g. an invitation to a single occurrence) and its overrides.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub uid: String,
    pub master: Option<Event>,
    pub overrides: Vec<Event>,
    /// The zone for floating and all-day values: X-WR-TIMEZONE, else the configured default.
    pub default_tz: Option<Tz>,
}

impl Series {
    pub fn is_recurring(&self) -> bool {
        self.master.as_ref().is_some_and(Event::is_recurring)
    }

    /// The event whose properties describe the series: the master, else the first override.
    pub(crate) fn representative(&self) -> Option<&Event> {
        self.master.as_ref().or_else(|| self.overrides.first())
    }
}

/// What happened to one expanded occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OccurrenceStatus {
    /// As the rule says.
    Scheduled,
    /// An override changed its start or end.
    Moved,
    /// An override with STATUS:CANCELLED, or (Google) a cancelled instance.
    Cancelled,
}

/// One occurrence of a series after expansion, identified by its original start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Occurrence {
    /// The start the rule gave it: the occurrence's identity (RECURRENCE-ID), as an instant.
    pub original_start: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The zone to show it in (the event's own zone, else the series default).
    pub tz: Tz,
    pub status: OccurrenceStatus,
    /// True when an override VEVENT (or Google exception) exists for this occurrence.
    pub overridden: bool,
    /// The description this occurrence shows (the override's, else the master's). Shared, not
    /// copied: a year of a weekly series' occurrences all show the master's one text, and a
    /// copy each made a 10 MB description cost 700 MB on every pass.
    pub description: Option<Arc<str>>,
}

/// Who owns the calendar: the manager, with every address the calendar knows them by.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Owner {
    pub emails: Vec<EmailAddress>,
}

impl Owner {
    pub fn new(emails: impl IntoIterator<Item = EmailAddress>) -> Self {
        Self {
            emails: emails.into_iter().collect(),
        }
    }

    pub(crate) fn is(&self, email: &EmailAddress) -> bool {
        self.emails.iter().any(|e| e == email)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_parse_strips_mailto_and_lowercases() {
        let e = EmailAddress::parse("MAILTO:Alice@Example.COM").unwrap();
        assert_eq!(e.as_str(), "alice@example.com");
        assert_eq!(e.local_part(), "alice");
        assert!(EmailAddress::parse("no-at-sign").is_none());
        assert!(EmailAddress::parse("mailto:").is_none());
    }

    #[test]
    fn local_time_in_dst_gap_moves_forward() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let gap = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        let t = resolve_local(tz, gap);
        assert_eq!(t.to_rfc3339(), "2026-03-29T01:30:00+00:00");
    }

    #[test]
    fn display_name_falls_back_to_local_part() {
        let p = Person {
            email: EmailAddress::parse("bob@x.org"),
            name: None,
        };
        assert_eq!(p.display_name(), "bob");
    }
}
