//! Reading a resource: `parse` and `parse_for_cache` turn bytes into a `Calendar`, from the raw
//! component tree to the normalized `model` types.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::error::IcsError;
use super::raw::{Component, ContentLine, Document};
use super::tz::ZoneResolver;
use crate::model::{
    Attendee, CalendarUserType, EmailAddress, Event, EventKind, EventStatus, EventTime,
    ParticipationStatus, Person, Role, Series, Transparency,
};

/// A parsed VCALENDAR resource or file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Calendar {
    /// One entry per UID, in the order the file first mentions it.
    pub series: Vec<Series>,
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

/// Reads a whole VCALENDAR resource or file.
pub fn parse(input: &[u8]) -> Result<Calendar, IcsError> {
    let doc = Document::parse(input)?;
    calendar(&doc)
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
    let doc = Document::skim(input, CACHE_PROPERTIES)?;
    let cal = calendar(&doc)?;
    let custom_zone = cal
        .problems
        .iter()
        .any(|p| matches!(p, IcsError::UnknownZone { .. }));
    if custom_zone || cal.series.iter().any(Series::is_recurring) {
        return parse(input);
    }
    Ok(cal)
}

/// `20260105T090000`, `20260105T090000Z` (the Z is ignored here) or `20260105`.
pub(crate) fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let s = s.strip_suffix(['Z', 'z']).unwrap_or(s);
    let b = s.as_bytes();
    // Hand-rolled: this runs for every date in a file, and chrono's format parser was a
    // visible share of parse time.
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(4..6)?, num(6..8)?)?;
    match b.len() {
        8 => Some(date.and_time(NaiveTime::MIN)),
        15 if matches!(b[8], b'T' | b't') => {
            // A leap second (60) is read as 59: chrono has no 23:59:60 in a NaiveTime.
            let time = NaiveTime::from_hms_opt(num(9..11)?, num(11..13)?, num(13..15)?.min(59))?;
            Some(date.and_time(time))
        }
        _ => None,
    }
}

/// Reads one DATE or DATE-TIME value written with the parameters of `line`.
pub(crate) fn parse_time(
    raw: &str,
    line: &ContentLine,
    zones: &ZoneResolver,
    problems: &mut Vec<IcsError>,
) -> Result<EventTime, IcsError> {
    let raw = raw.trim();
    let bad = || IcsError::BadValue {
        line: line.line_no,
        property: line.name.to_string(),
        message: format!("`{raw}` is not a DATE or DATE-TIME"),
    };
    let is_date = line
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"))
        || raw.len() == 8;
    if is_date {
        let d = parse_naive(raw.get(..8).ok_or_else(bad)?).ok_or_else(bad)?;
        return Ok(EventTime::Date { date: d.date() });
    }
    let local = parse_naive(raw).ok_or_else(bad)?;
    if raw.ends_with(['Z', 'z']) {
        return Ok(EventTime::Utc {
            at: Utc.from_utc_datetime(&local),
        });
    }
    match line.param("TZID") {
        None => Ok(EventTime::Floating { local }),
        Some(tzid) => match zones.resolve(tzid) {
            Some(tz) => Ok(EventTime::Zoned { local, tz }),
            None => {
                problems.push(IcsError::UnknownZone {
                    line: line.line_no,
                    tzid: tzid.to_string(),
                });
                Ok(EventTime::Floating { local })
            }
        },
    }
}

/// RFC 5545 DURATION: `P1W`, `P1DT2H30M`, `-PT15M`, `PT0S`.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (neg, s) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let s = s.strip_prefix(['P', 'p'])?;
    let mut total = Duration::zero();
    let mut num = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in s.chars() {
        match c.to_ascii_uppercase() {
            'T' => in_time = true,
            d if d.is_ascii_digit() => num.push(d),
            unit => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                any = true;
                let part = match (unit, in_time) {
                    ('W', false) => Duration::try_weeks(n)?,
                    ('D', false) => Duration::try_days(n)?,
                    ('H', true) => Duration::try_hours(n)?,
                    ('M', true) => Duration::try_minutes(n)?,
                    ('S', true) => Duration::try_seconds(n)?,
                    _ => return None,
                };
                total = total.checked_add(&part)?;
            }
        }
    }
    // No event lasts a century; refusing those keeps all later date arithmetic in range.
    if !num.is_empty() || !any || total.abs() > Duration::days(36_600) {
        return None;
    }
    Some(if neg { -total } else { total })
}

fn person(line: &ContentLine) -> Person {
    // Apple writes `ATTENDEE;EMAIL=a@x.org:urn:uuid:...`; prefer a mailto value, else EMAIL.
    let email = EmailAddress::parse(&line.value)
        .filter(|_| {
            line.value.to_ascii_lowercase().starts_with("mailto:") || !line.value.contains(':')
        })
        .or_else(|| line.param("EMAIL").and_then(EmailAddress::parse));
    let name = line
        .param("CN")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    Person { email, name }
}

fn attendee(line: &ContentLine) -> Attendee {
    let upper = |p: &str| line.param(p).map(str::to_ascii_uppercase);
    Attendee {
        person: person(line),
        role: match upper("ROLE").as_deref() {
            Some("CHAIR") => Role::Chair,
            Some("OPT-PARTICIPANT") => Role::OptionalParticipant,
            Some("NON-PARTICIPANT") => Role::NonParticipant,
            _ => Role::RequiredParticipant,
        },
        partstat: match upper("PARTSTAT").as_deref() {
            Some("ACCEPTED") => ParticipationStatus::Accepted,
            Some("DECLINED") => ParticipationStatus::Declined,
            Some("TENTATIVE") => ParticipationStatus::Tentative,
            Some("DELEGATED") => ParticipationStatus::Delegated,
            None | Some("NEEDS-ACTION") => ParticipationStatus::NeedsAction,
            Some(_) => ParticipationStatus::Other,
        },
        cutype: match upper("CUTYPE").as_deref() {
            None | Some("INDIVIDUAL") => CalendarUserType::Individual,
            Some("GROUP") => CalendarUserType::Group,
            Some("RESOURCE") => CalendarUserType::Resource,
            Some("ROOM") => CalendarUserType::Room,
            Some(_) => CalendarUserType::Unknown,
        },
    }
}

/// Google's meaning of X-WR-TIMEZONE: a time written in UTC is wall-clock time in that zone.
fn apply_wr_zone(t: EventTime, wr: Option<Tz>) -> EventTime {
    match (t, wr) {
        (EventTime::Utc { at }, Some(tz)) if tz != Tz::UTC => EventTime::Zoned {
            local: at.with_timezone(&tz).naive_local(),
            tz,
        },
        _ => t,
    }
}

fn read_event(
    doc: &Document<'_>,
    comp: &Component,
    zones: &ZoneResolver,
    wr: Option<Tz>,
    problems: &mut Vec<IcsError>,
) -> Result<Event, IcsError> {
    let mut ev = Event::default();
    let mut seen_uid = false;
    for &i in &comp.props {
        let line = &doc.lines[i];
        let time = |problems: &mut Vec<IcsError>| {
            parse_time(&line.value, line, zones, problems).map(|t| apply_wr_zone(t, wr))
        };
        let times = |problems: &mut Vec<IcsError>| -> Result<Vec<EventTime>, IcsError> {
            let mut out = Vec::new();
            for part in line.value.split(',').filter(|p| !p.trim().is_empty()) {
                // RDATE;VALUE=PERIOD: the start counts as the occurrence.
                let start = part.split('/').next().unwrap_or(part);
                out.push(apply_wr_zone(parse_time(start, line, zones, problems)?, wr));
            }
            Ok(out)
        };
        match line.name.as_ref() {
            "UID" => {
                ev.uid = line.value.trim().to_string();
                seen_uid = true;
            }
            "SUMMARY" => ev.summary = Some(line.value.to_string()),
            "DESCRIPTION" => ev.description = Some(line.value.to_string()),
            "DTSTART" => ev.start = Some(time(problems)?),
            "DTEND" => ev.end = Some(time(problems)?),
            "DURATION" => {
                ev.duration =
                    Some(
                        parse_duration(&line.value).ok_or_else(|| IcsError::BadValue {
                            line: line.line_no,
                            property: line.name.to_string(),
                            message: format!("`{}` is not a DURATION", line.value),
                        })?,
                    );
            }
            "RECURRENCE-ID" => {
                ev.recurrence_id = Some(time(problems)?);
                ev.this_and_future = line
                    .param("RANGE")
                    .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"));
            }
            "ORGANIZER" => ev.organizer = Some(person(line)),
            "ATTENDEE" => ev.attendees.push(attendee(line)),
            "STATUS" => {
                ev.status = match line.value.trim().to_ascii_uppercase().as_str() {
                    "CANCELLED" => EventStatus::Cancelled,
                    "TENTATIVE" => EventStatus::Tentative,
                    _ => EventStatus::Confirmed,
                }
            }
            "TRANSP" => {
                ev.transparency = if line.value.trim().eq_ignore_ascii_case("TRANSPARENT") {
                    Transparency::Transparent
                } else {
                    Transparency::Opaque
                }
            }
            // A malformed SEQUENCE only orders revisions; it is not worth losing the event.
            "SEQUENCE" => ev.sequence = line.value.trim().parse().unwrap_or(0),
            "RRULE" => ev.rrules.push(line.value.trim().to_string()),
            "RDATE" => ev.rdates.extend(times(problems)?),
            "EXDATE" => ev.exdates.extend(times(problems)?),
            name if name.starts_with("X-") => {
                if name == "X-MICROSOFT-CDO-BUSYSTATUS" && line.value.trim() == "OOF" {
                    ev.kind = EventKind::OutOfOffice;
                }
                ev.x_props.push((name.to_string(), line.value.to_string()));
            }
            _ => {}
        }
    }
    if !seen_uid || ev.uid.is_empty() {
        return Err(IcsError::MissingProperty {
            line: doc.lines[comp.begin].line_no,
            property: "UID".into(),
        });
    }
    if ev.start.is_none() {
        return Err(IcsError::MissingProperty {
            line: doc.lines[comp.begin].line_no,
            property: "DTSTART".into(),
        });
    }
    Ok(ev)
}

/// Builds the calendar from a parsed document. A VEVENT with a bad value is skipped and
/// reported in `problems`; the others are read.
pub(crate) fn calendar(doc: &Document<'_>) -> Result<Calendar, IcsError> {
    let root = doc
        .roots
        .iter()
        .find(|c| c.name == "VCALENDAR")
        .ok_or(IcsError::NotACalendar)?;
    let mut problems = Vec::new();
    let zones = ZoneResolver::from_calendar(doc, root);
    let wr_line = root.prop(doc, "X-WR-TIMEZONE");
    let x_wr_timezone = wr_line.and_then(|l| super::tz::zone_by_name(&l.value));
    if let (Some(l), None) = (wr_line, x_wr_timezone) {
        problems.push(IcsError::UnknownZone {
            line: l.line_no,
            tzid: l.value.to_string(),
        });
    }
    let name = root.prop(doc, "X-WR-CALNAME").map(|l| l.value.to_string());
    let product = root.prop(doc, "PRODID").map(|l| l.value.to_string());

    let mut series: Vec<Series> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for comp in doc
        .roots
        .iter()
        .filter(|c| c.name == "VCALENDAR")
        .flat_map(|c| c.children.iter())
        .filter(|c| c.name == "VEVENT")
    {
        let ev = match read_event(doc, comp, &zones, x_wr_timezone, &mut problems) {
            Ok(ev) => ev,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let idx = match index.get(&ev.uid) {
            Some(&i) => i,
            None => {
                index.insert(ev.uid.clone(), series.len());
                series.push(Series {
                    uid: ev.uid.clone(),
                    master: None,
                    overrides: Vec::new(),
                    default_tz: x_wr_timezone,
                });
                series.len() - 1
            }
        };
        let s = &mut series[idx];
        if ev.recurrence_id.is_some() {
            s.overrides.push(ev);
        } else {
            // Two masters with one UID: the higher SEQUENCE is the current one (RFC 5546).
            match &s.master {
                Some(m) if m.sequence > ev.sequence => {}
                _ => s.master = Some(ev),
            }
        }
    }
    Ok(Calendar {
        series,
        x_wr_timezone,
        name,
        product,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_parse_strictly() {
        let t = parse_naive("20260105T093015Z").unwrap();
        assert_eq!(t.to_string(), "2026-01-05 09:30:15");
        assert_eq!(
            parse_naive("20260105").unwrap().to_string(),
            "2026-01-05 00:00:00"
        );
        for bad in [
            "2026-01-05",
            "20261305",
            "20260105T250000",
            "20260105X093000",
            "2026010",
        ] {
            assert_eq!(parse_naive(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_parse_like_rfc5545() {
        assert_eq!(parse_duration("PT1H30M"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("P1W"), Some(Duration::weeks(1)));
        assert_eq!(parse_duration("-PT15M"), Some(Duration::minutes(-15)));
        assert_eq!(parse_duration("P1DT1S"), Some(Duration::seconds(86_401)));
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("PT5"), None);
        assert_eq!(parse_duration("P1H"), None);
        assert_eq!(parse_duration("P9999999999999W"), None);
        assert_eq!(parse_duration("P6000W"), None);
    }
}
