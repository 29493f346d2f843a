//! Google `Event` resources -> `model::Event` / `model::Series`: recurrence lines, start/end in
//! their date or dateTime+timeZone form, attendees, organizer, status, eventType, transparency.
//! Descriptions are kept verbatim (HTML after a web edit): the agenda parser reads both forms.
//!
//! Identity: `Event::uid` is the Google id of the series master (an exception's
//! `recurringEventId`), because that is what Google's API addresses; each event's own id, its
//! `iCalUID` and its etag travel in `x_props` as `X-GOOGLE-EVENT-ID`, `X-GOOGLE-ICALUID` and
//! `X-GOOGLE-ETAG`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::client::{GoogleAttendee, GoogleDateTime, GoogleEvent, GooglePerson};
use crate::ics::zone_by_name;
use crate::model::{
    Attendee, CalendarUserType, EmailAddress, Event, EventKind, EventStatus, EventTime, Occurrence,
    OccurrenceStatus, ParticipationStatus, Person, Role, Series, Transparency,
};

pub(crate) const X_EVENT_ID: &str = "X-GOOGLE-EVENT-ID";
pub(crate) const X_ICAL_UID: &str = "X-GOOGLE-ICALUID";
pub(crate) const X_ETAG: &str = "X-GOOGLE-ETAG";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("event {event_id}: {field} `{value}` is not a Google date or dateTime")]
    BadTime {
        event_id: String,
        field: &'static str,
        value: String,
    },
    #[error("event {event_id}: unreadable recurrence line `{line}`")]
    BadRecurrence { event_id: String, line: String },
    #[error("an event without an id")]
    MissingId,
}

/// Reads an `EventDateTime`. `date` -> all-day; `dateTime` + a known `timeZone` -> wall-clock in
/// that zone; `dateTime` alone -> the same instant in the calendar's zone (`calendar_tz`), else
/// UTC. An unknown zone name keeps the instant (UTC) rather than failing the event.
pub(crate) fn event_time(
    event_id: &str,
    field: &'static str,
    t: &GoogleDateTime,
    calendar_tz: Option<Tz>,
) -> Result<EventTime, ConvertError> {
    let bad = |value: &str| ConvertError::BadTime {
        event_id: event_id.to_string(),
        field,
        value: value.chars().take(100).collect(),
    };
    if let Some(d) = t.date.as_deref().filter(|d| !d.is_empty()) {
        let date = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| bad(d))?;
        return Ok(EventTime::Date { date });
    }
    let raw = t.date_time.as_deref().ok_or_else(|| bad(""))?;
    let at = DateTime::parse_from_rfc3339(raw.trim())
        .map_err(|_| bad(raw))?
        .with_timezone(&Utc);
    let zone = t
        .time_zone
        .as_deref()
        .and_then(zone_by_name)
        .or(calendar_tz);
    Ok(match zone {
        Some(tz) => EventTime::Zoned {
            local: at.with_timezone(&tz).naive_local(),
            tz,
        },
        None => EventTime::Utc { at },
    })
}

/// `20260105T090000`, `20260105T090000Z` or `20260105` (RFC 5545 basic forms).
fn ical_value(raw: &str, tz: Option<Tz>, is_date: bool) -> Option<EventTime> {
    let s = raw.trim();
    if is_date || s.len() == 8 {
        return NaiveDate::parse_from_str(s.get(..8)?, "%Y%m%d")
            .ok()
            .map(|date| EventTime::Date { date });
    }
    let (body, utc) = match s.strip_suffix(['Z', 'z']) {
        Some(b) => (b, true),
        None => (s, false),
    };
    let local = NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S").ok()?;
    Some(if utc {
        EventTime::Utc {
            at: Utc.from_utc_datetime(&local),
        }
    } else if let Some(tz) = tz {
        EventTime::Zoned { local, tz }
    } else {
        EventTime::Floating { local }
    })
}

/// Applies one line of `recurrence[]` (RRULE, EXRULE, RDATE, EXDATE) to `ev`.
fn apply_recurrence_line(ev: &mut Event, event_id: &str, line: &str) -> Result<(), ConvertError> {
    let bad = || ConvertError::BadRecurrence {
        event_id: event_id.to_string(),
        line: line.chars().take(200).collect(),
    };
    let (head, value) = line.split_once(':').ok_or_else(bad)?;
    let mut parts = head.split(';');
    let name = parts.next().unwrap_or_default().trim().to_ascii_uppercase();
    let mut tz = None;
    let mut is_date = false;
    for p in parts {
        let (k, v) = p.split_once('=').ok_or_else(bad)?;
        match k.trim().to_ascii_uppercase().as_str() {
            "TZID" => tz = Some(zone_by_name(v).ok_or_else(bad)?),
            "VALUE" => is_date = v.trim().eq_ignore_ascii_case("DATE"),
            _ => {}
        }
    }
    match name.as_str() {
        "RRULE" => ev.rrules.push(value.trim().to_string()),
        // Deprecated by RFC 5545 and never written by Google; kept so nothing is silently lost.
        "EXRULE" => ev.x_props.push(("EXRULE".into(), value.trim().to_string())),
        "RDATE" | "EXDATE" => {
            let times = value
                .split(',')
                .filter(|v| !v.trim().is_empty())
                .map(|v| ical_value(v, tz, is_date).ok_or_else(bad))
                .collect::<Result<Vec<_>, _>>()?;
            if name == "RDATE" {
                ev.rdates.extend(times);
            } else {
                ev.exdates.extend(times);
            }
        }
        _ => return Err(bad()),
    }
    Ok(())
}

fn person(p: &GooglePerson) -> Person {
    Person {
        email: p.email.as_deref().and_then(EmailAddress::parse),
        name: p.display_name.clone().filter(|n| !n.trim().is_empty()),
    }
}

fn attendee(a: &GoogleAttendee) -> Attendee {
    Attendee {
        person: Person {
            email: a.email.as_deref().and_then(EmailAddress::parse),
            name: a.display_name.clone().filter(|n| !n.trim().is_empty()),
        },
        role: if a.organizer {
            Role::Chair
        } else if a.optional {
            Role::OptionalParticipant
        } else {
            Role::RequiredParticipant
        },
        partstat: match a.response_status.as_deref() {
            Some("accepted") => ParticipationStatus::Accepted,
            Some("declined") => ParticipationStatus::Declined,
            Some("tentative") => ParticipationStatus::Tentative,
            Some("needsAction") | None => ParticipationStatus::NeedsAction,
            Some(_) => ParticipationStatus::Other,
        },
        // Google's `resource` attendees are rooms and equipment booked through Workspace.
        cutype: if a.resource {
            CalendarUserType::Resource
        } else {
            CalendarUserType::Individual
        },
    }
}

/// Converts one Google event. `calendar_tz` is the calendar's zone (the listing's `timeZone`).
pub(crate) fn event_from_google(
    ev: &GoogleEvent,
    calendar_tz: Option<Tz>,
) -> Result<Event, ConvertError> {
    if ev.id.is_empty() {
        return Err(ConvertError::MissingId);
    }
    let id = ev.id.as_str();
    let time = |field, t: &Option<GoogleDateTime>| {
        t.as_ref()
            .map(|t| event_time(id, field, t, calendar_tz))
            .transpose()
    };
    let mut out = Event {
        uid: ev
            .recurring_event_id
            .clone()
            .unwrap_or_else(|| ev.id.clone()),
        recurrence_id: time("originalStartTime", &ev.original_start_time)?,
        summary: ev.summary.clone(),
        description: ev.description.clone(),
        start: time("start", &ev.start)?,
        end: time("end", &ev.end)?,
        organizer: ev.organizer.as_ref().map(person),
        attendees: ev.attendees.iter().flatten().map(attendee).collect(),
        status: match ev.status.as_deref() {
            Some("cancelled") => EventStatus::Cancelled,
            Some("tentative") => EventStatus::Tentative,
            _ => EventStatus::Confirmed,
        },
        transparency: match ev.transparency.as_deref() {
            Some("transparent") => Transparency::Transparent,
            _ => Transparency::Opaque,
        },
        // birthday and fromGmail events are ordinary events for detection (they never have a
        // 1:1's shape); the model has no kind for them.
        kind: match ev.event_type.as_deref() {
            Some("outOfOffice") => EventKind::OutOfOffice,
            Some("focusTime") => EventKind::FocusTime,
            Some("workingLocation") => EventKind::WorkingLocation,
            _ => EventKind::Default,
        },
        sequence: ev.sequence.unwrap_or(0),
        ..Event::default()
    };
    for line in ev.recurrence.iter().flatten() {
        apply_recurrence_line(&mut out, id, line)?;
    }
    out.x_props.push((X_EVENT_ID.into(), ev.id.clone()));
    if let Some(u) = &ev.ical_uid {
        out.x_props.push((X_ICAL_UID.into(), u.clone()));
    }
    if let Some(e) = &ev.etag {
        out.x_props.push((X_ETAG.into(), e.clone()));
    }
    Ok(out)
}

/// Groups a listing (`singleEvents=false`: masters and exceptions) into series: one per master
/// id, with its exceptions (cancelled ones included) as overrides; an exception whose master is
/// not in the listing makes a series without a master. Events that cannot be read are reported
/// and left out; the rest goes on. Order follows the listing.
pub fn series_from_events(
    events: &[GoogleEvent],
    calendar_tz: Option<Tz>,
) -> (Vec<Series>, Vec<ConvertError>) {
    let mut series: Vec<Series> = Vec::new();
    let mut errors = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for g in events {
        let ev = match event_from_google(g, calendar_tz) {
            Ok(ev) => ev,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let slot = *index.entry(ev.uid.clone()).or_insert_with(|| {
            series.push(Series {
                uid: ev.uid.clone(),
                default_tz: calendar_tz,
                ..Series::default()
            });
            series.len() - 1
        });
        let s = &mut series[slot];
        if g.recurring_event_id.is_some() {
            s.overrides.push(ev);
        } else {
            s.master = Some(ev);
        }
    }
    (series, errors)
}

/// One instance from `events.instances` as a `model::Occurrence`, identified by its original
/// start. Google does not say whether an instance is an exception, so `overridden` is true when
/// it visibly differs from the rule (moved or cancelled). The occurrence is shown in its own zone,
/// else `calendar_tz`, else UTC. `None` for an instance without `originalStartTime` or a start.
pub fn occurrence_from_instance(
    ev: &GoogleEvent,
    calendar_tz: Option<Tz>,
) -> Result<Option<Occurrence>, ConvertError> {
    let e = event_from_google(ev, calendar_tz)?;
    let fallback = calendar_tz.unwrap_or(Tz::UTC);
    let Some(original) = e.recurrence_id else {
        return Ok(None);
    };
    let original_start = original.to_utc(fallback);
    let tz = e
        .start
        .and_then(|s| s.zone())
        .or(original.zone())
        .unwrap_or(fallback);
    let (start, end, status) = match (e.status, e.start) {
        (EventStatus::Cancelled, _) => {
            let len = e.length(fallback);
            (
                original_start,
                original_start + len,
                OccurrenceStatus::Cancelled,
            )
        }
        (_, Some(s)) => {
            let start = s.to_utc(fallback);
            let end = e.end.map_or(start, |x| x.to_utc(fallback));
            let status = if start == original_start {
                OccurrenceStatus::Scheduled
            } else {
                OccurrenceStatus::Moved
            };
            (start, end, status)
        }
        (_, None) => return Ok(None),
    };
    Ok(Some(Occurrence {
        original_start,
        start,
        end,
        tz,
        status,
        overridden: status != OccurrenceStatus::Scheduled,
        description: e.description.map(Into::into),
    }))
}

/// The addresses Google marks as the calendar owner's (`self: true` on the organizer or an
/// attendee), for `model::Owner`.
pub(crate) fn self_emails(events: &[GoogleEvent]) -> Vec<EmailAddress> {
    let mut out: Vec<EmailAddress> = events
        .iter()
        .flat_map(|e| {
            let org = e
                .organizer
                .iter()
                .filter(|o| o.is_self)
                .filter_map(|o| o.email.as_deref());
            let att = e
                .attendees
                .iter()
                .flatten()
                .filter(|a| a.is_self)
                .filter_map(|a| a.email.as_deref());
            org.chain(att).collect::<Vec<_>>()
        })
        .filter_map(EmailAddress::parse)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(json: serde_json::Value) -> GoogleEvent {
        serde_json::from_value(json).unwrap()
    }

    fn berlin() -> Tz {
        "Europe/Berlin".parse().unwrap()
    }

    #[test]
    fn master_with_zone_rrule_exdate_attendees_and_html_description() {
        let ev = g(serde_json::json!({
            "kind": "calendar#event", "id": "abc123", "etag": "\"31\"", "status": "confirmed",
            "iCalUID": "abc123@google.com", "summary": "Alice / Bob 1:1",
            "description": "<b>Agenda</b><br><ul><li>one&nbsp;item</li></ul>",
            "start": {"dateTime": "2026-01-05T10:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-01-05T10:30:00+01:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO",
                           "EXDATE;TZID=Europe/Berlin:20260112T100000,20260119T100000",
                           "RDATE;VALUE=DATE:20260301"],
            "organizer": {"email": "Alice@Example.com", "self": true},
            "attendees": [
                {"email": "alice@example.com", "organizer": true, "self": true,
                 "responseStatus": "accepted"},
                {"email": "bob@example.com", "displayName": "Bob B", "responseStatus": "tentative",
                 "optional": true},
                {"email": "room1@resource.calendar.google.com", "resource": true,
                 "responseStatus": "accepted"}],
            "eventType": "default", "transparency": "transparent", "sequence": 3
        }));
        let e = event_from_google(&ev, None).unwrap();
        assert_eq!(e.uid, "abc123");
        let ten = NaiveDate::from_ymd_opt(2026, 1, 5)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        assert_eq!(
            e.start,
            Some(EventTime::Zoned {
                local: ten,
                tz: berlin()
            })
        );
        assert_eq!(e.rrules, vec!["FREQ=WEEKLY;BYDAY=MO".to_string()]);
        assert_eq!(e.exdates.len(), 2);
        assert_eq!(
            e.exdates[0],
            EventTime::Zoned {
                local: ten + chrono::Duration::days(7),
                tz: berlin()
            }
        );
        assert!(matches!(e.rdates[0], EventTime::Date { .. }));
        assert_eq!(
            e.description.as_deref(),
            Some("<b>Agenda</b><br><ul><li>one&nbsp;item</li></ul>")
        );
        assert_eq!(
            e.organizer
                .as_ref()
                .unwrap()
                .email
                .as_ref()
                .unwrap()
                .as_str(),
            "alice@example.com"
        );
        assert_eq!(e.attendees[0].role, Role::Chair);
        assert_eq!(e.attendees[1].role, Role::OptionalParticipant);
        assert_eq!(e.attendees[1].partstat, ParticipationStatus::Tentative);
        assert_eq!(e.attendees[1].person.name.as_deref(), Some("Bob B"));
        assert_eq!(e.attendees[2].cutype, CalendarUserType::Resource);
        assert_eq!(e.transparency, Transparency::Transparent);
        assert_eq!(e.sequence, 3);
        assert!(e.x_props.contains(&(X_ETAG.into(), "\"31\"".into())));
        assert!(
            e.x_props
                .contains(&(X_ICAL_UID.into(), "abc123@google.com".into()))
        );
        assert_eq!(self_emails(&[ev]).len(), 1);
    }

    #[test]
    fn all_day_and_utc_and_calendar_zone_forms() {
        let ev = g(
            serde_json::json!({"id": "d", "start": {"date": "2026-02-01"},
            "end": {"date": "2026-02-02"}}),
        );
        let e = event_from_google(&ev, None).unwrap();
        assert!(e.start.unwrap().is_all_day());
        assert_eq!(e.length(Tz::UTC), chrono::Duration::days(1));

        let ev = g(
            serde_json::json!({"id": "u", "start": {"dateTime": "2026-02-01T09:00:00Z"},
            "end": {"dateTime": "2026-02-01T09:30:00Z"}}),
        );
        let e = event_from_google(&ev, None).unwrap();
        assert!(matches!(e.start, Some(EventTime::Utc { .. })));
        // Without timeZone the same instant is shown in the calendar's zone.
        let e = event_from_google(&ev, Some(berlin())).unwrap();
        assert_eq!(e.start.unwrap().zone(), Some(berlin()));
        assert_eq!(
            e.start.unwrap().to_utc(Tz::UTC).to_rfc3339(),
            "2026-02-01T09:00:00+00:00"
        );
        // An unknown zone name keeps the instant.
        let ev = g(
            serde_json::json!({"id": "z", "start": {"dateTime": "2026-02-01T09:00:00+02:00",
            "timeZone": "Mars/Olympus"}}),
        );
        let e = event_from_google(&ev, None).unwrap();
        assert_eq!(
            e.start.unwrap().to_utc(Tz::UTC).to_rfc3339(),
            "2026-02-01T07:00:00+00:00"
        );
    }

    #[test]
    fn event_types_and_statuses_map_onto_the_model() {
        for (t, k) in [
            ("outOfOffice", EventKind::OutOfOffice),
            ("focusTime", EventKind::FocusTime),
            ("workingLocation", EventKind::WorkingLocation),
            ("birthday", EventKind::Default),
            ("fromGmail", EventKind::Default),
        ] {
            let e = event_from_google(&g(serde_json::json!({"id": "x", "eventType": t})), None);
            assert_eq!(e.unwrap().kind, k, "{t}");
        }
        let e = event_from_google(
            &g(serde_json::json!({"id": "x", "status": "tentative"})),
            None,
        );
        assert_eq!(e.unwrap().status, EventStatus::Tentative);
    }

    #[test]
    fn exceptions_group_under_their_master_and_cancelled_ones_stay_as_cancelled_overrides() {
        let events = vec![
            g(
                serde_json::json!({"id": "m", "recurrence": ["RRULE:FREQ=WEEKLY"],
                "start": {"dateTime": "2026-01-05T10:00:00+01:00", "timeZone": "Europe/Berlin"},
                "end": {"dateTime": "2026-01-05T10:30:00+01:00", "timeZone": "Europe/Berlin"}}),
            ),
            g(
                serde_json::json!({"id": "m_20260112T090000Z", "status": "cancelled",
                "recurringEventId": "m",
                "originalStartTime": {"dateTime": "2026-01-12T10:00:00+01:00",
                    "timeZone": "Europe/Berlin"}}),
            ),
            g(
                serde_json::json!({"id": "orphan_20260101T090000Z", "recurringEventId": "orphan",
                "originalStartTime": {"dateTime": "2026-01-01T09:00:00Z"},
                "start": {"dateTime": "2026-01-01T11:00:00Z"}}),
            ),
            g(serde_json::json!({"id": "single", "start": {"date": "2026-03-03"}})),
            g(serde_json::json!({"id": "bad", "start": {"dateTime": "yesterday"}})),
        ];
        let (series, errors) = series_from_events(&events, Some(berlin()));
        assert_eq!(series.len(), 3);
        assert_eq!(series[0].uid, "m");
        assert!(series[0].is_recurring());
        let ov = &series[0].overrides[0];
        assert_eq!(ov.status, EventStatus::Cancelled);
        assert!(ov.start.is_none());
        assert_eq!(
            ov.recurrence_id.unwrap().to_utc(Tz::UTC).to_rfc3339(),
            "2026-01-12T09:00:00+00:00"
        );
        assert!(
            ov.x_props
                .contains(&(X_EVENT_ID.into(), "m_20260112T090000Z".into()))
        );
        assert!(series[1].master.is_none());
        assert_eq!(series[1].overrides.len(), 1);
        assert_eq!(series[2].default_tz, Some(berlin()));
        assert_eq!(errors.len(), 1);
        assert!(
            matches!(&errors[0], ConvertError::BadTime { event_id, field: "start", .. }
            if event_id == "bad")
        );
    }

    #[test]
    fn bad_recurrence_lines_are_typed_errors_not_panics() {
        for line in [
            "RRULE",
            "EXDATE;TZID=Nowhere/Land:20260105T100000",
            "EXDATE:2026-01-05",
            "FOO:BAR",
            "EXDATE;TZID:20260105T100000",
        ] {
            let ev = g(serde_json::json!({"id": "r", "recurrence": [line]}));
            let e = event_from_google(&ev, None).unwrap_err();
            assert!(
                matches!(e, ConvertError::BadRecurrence { .. }),
                "{line}: {e}"
            );
        }
        let ev = g(serde_json::json!({"id": "r", "recurrence": ["EXDATE:20260105T090000Z"]}));
        let e = event_from_google(&ev, None).unwrap();
        assert!(matches!(e.exdates[0], EventTime::Utc { .. }));
        assert!(matches!(
            event_from_google(&GoogleEvent::default(), None),
            Err(ConvertError::MissingId)
        ));
    }

    #[test]
    fn instances_become_occurrences_scheduled_moved_or_cancelled() {
        let tz = berlin();
        let base = |id: &str, start: &str| {
            g(
                serde_json::json!({"id": id, "recurringEventId": "m", "etag": "\"9\"",
                "description": "<p>agenda</p>",
                "originalStartTime": {"dateTime": "2026-01-12T10:00:00+01:00",
                    "timeZone": "Europe/Berlin"},
                "start": {"dateTime": start, "timeZone": "Europe/Berlin"},
                "end": {"dateTime": "2026-01-12T12:30:00+01:00", "timeZone": "Europe/Berlin"}}),
            )
        };
        let o = occurrence_from_instance(&base("a", "2026-01-12T10:00:00+01:00"), None)
            .unwrap()
            .unwrap();
        assert_eq!(o.status, OccurrenceStatus::Scheduled);
        assert!(!o.overridden);
        assert_eq!(o.tz, tz);
        assert_eq!(o.original_start.to_rfc3339(), "2026-01-12T09:00:00+00:00");
        assert_eq!(o.description.as_deref(), Some("<p>agenda</p>"));
        let o = occurrence_from_instance(&base("b", "2026-01-12T12:00:00+01:00"), None)
            .unwrap()
            .unwrap();
        assert_eq!(o.status, OccurrenceStatus::Moved);
        assert_eq!(o.start.to_rfc3339(), "2026-01-12T11:00:00+00:00");
        assert!(o.overridden);
        let cancelled = g(serde_json::json!({"id": "c", "status": "cancelled",
            "recurringEventId": "m",
            "originalStartTime": {"dateTime": "2026-01-19T10:00:00+01:00",
                "timeZone": "Europe/Berlin"}}));
        let o = occurrence_from_instance(&cancelled, None).unwrap().unwrap();
        assert_eq!(o.status, OccurrenceStatus::Cancelled);
        assert_eq!(o.start.to_rfc3339(), "2026-01-19T09:00:00+00:00");
        let single = g(serde_json::json!({"id": "s", "start": {"date": "2026-01-01"}}));
        assert_eq!(occurrence_from_instance(&single, None).unwrap(), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_times_and_recurrence_lines_never_panic(
            dt in ".{0,40}", date in ".{0,12}", tz in ".{0,20}", line in ".{0,80}",
        ) {
            let ev = g(serde_json::json!({"id": "p",
                "start": {"dateTime": dt, "timeZone": tz},
                "end": {"date": date},
                "originalStartTime": {"dateTime": dt},
                "recurrence": [line]}));
            let _ = event_from_google(&ev, None);
            let _ = series_from_events(&[ev], Some(Tz::UTC));
        }
    }
}
