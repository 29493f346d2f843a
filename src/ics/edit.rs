//! The one edit we make: set DESCRIPTION on one occurrence, splicing lines into the original
//! bytes so everything else (order, folds, parameters, X- properties, VTIMEZONE, VALARM, other
//! overrides, BOM, line endings) stays byte-identical.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::error::{EditError, IcsError};
use super::raw::{self, Component, ContentLine, Document};
use super::tz::ZoneResolver;
use super::{expand, read};
use crate::model::{EventTime, Series};

/// How a DATE / DATE-TIME property is written in the file (not how we read it).
#[derive(Debug, Clone, Copy)]
enum Form {
    Date,
    Utc,
    Zoned(Tz),
    Floating,
}

fn form_of(line: &ContentLine, zones: &ZoneResolver) -> Form {
    let v = line.value.trim();
    if line
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"))
        || v.len() == 8
    {
        Form::Date
    } else if v.ends_with(['Z', 'z']) {
        Form::Utc
    } else if let Some(tz) = line.param("TZID").and_then(|t| zones.resolve(t)) {
        Form::Zoned(tz)
    } else {
        Form::Floating
    }
}

/// Writes `at` in `form`; floating and date forms are wall-clock in `fallback`.
fn format_in(form: Form, at: DateTime<Utc>, fallback: Tz) -> String {
    match form {
        Form::Date => at.with_timezone(&fallback).format("%Y%m%d").to_string(),
        Form::Utc => at.format("%Y%m%dT%H%M%SZ").to_string(),
        Form::Zoned(tz) => at.with_timezone(&tz).format("%Y%m%dT%H%M%S").to_string(),
        Form::Floating => at
            .with_timezone(&fallback)
            .format("%Y%m%dT%H%M%S")
            .to_string(),
    }
}

/// A change to the source: replace `range` with `bytes` (an empty range inserts).
struct Splice {
    range: std::ops::Range<usize>,
    bytes: Vec<u8>,
}

fn apply(src: &[u8], mut splices: Vec<Splice>) -> Vec<u8> {
    splices.sort_by_key(|s| (s.range.start, s.range.end));
    let extra: usize = splices.iter().map(|s| s.bytes.len()).sum();
    let mut out = Vec::with_capacity(src.len() + extra);
    let mut pos = 0;
    for s in splices {
        out.extend_from_slice(&src[pos..s.range.start]);
        out.extend_from_slice(&s.bytes);
        pos = s.range.end;
    }
    out.extend_from_slice(&src[pos..]);
    out
}

fn check_text(text: &str) -> Result<(), EditError> {
    match text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        Some(c) => Err(EditError::InvalidText { code: c as u32 }),
        None => Ok(()),
    }
}

fn stamp(now: DateTime<Utc>) -> String {
    now.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A new content line `head:value`, folded, ending with the file's line ending.
fn line(head: &str, value: &str, eol: &str) -> Vec<u8> {
    raw::fold(format!("{head}:{value}").as_bytes(), eol)
}

fn description_line(text: &str, eol: &str) -> Vec<u8> {
    line("DESCRIPTION", &raw::escape_text(text), eol)
}

/// What the caller chooses about an edit beyond the new description.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EditOptions {
    /// On a NEW override only: `SCHEDULE-AGENT=CLIENT` (RFC 6638 7.1) on every ATTENDEE but
    /// the organizer, so a scheduling server neither sends anything for this occurrence nor
    /// rewrites the attendees' copies. DAViCal fails the PUT of a plain override with 500 when
    /// an attendee is one of its users (docs/decisions.md, "caldav interop"); the master and
    /// existing overrides are never changed, so the server still schedules the manager's own
    /// moves and cancellations.
    pub client_schedules_attendees: bool,
}

/// An edited resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    pub body: Vec<u8>,
    /// The edit added an override VEVENT (instead of changing a component already there).
    pub created_override: bool,
}

/// Sets DESCRIPTION on the occurrence of series `uid` that originally starts at
/// `original_start`: edits its override VEVENT, or adds one copied from the master as
/// RFC 5545 requires. Floating times are read in the calendar's X-WR-TIMEZONE, else UTC.
pub fn set_occurrence_description(
    resource: &[u8],
    uid: &str,
    original_start: DateTime<Utc>,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, EditError> {
    set_occurrence_description_in(resource, uid, original_start, text, now, Tz::UTC)
}

/// [`set_occurrence_description`] with the zone floating times are read in when the calendar
/// names none (the same `default_tz` given to `expand`).
pub fn set_occurrence_description_in(
    resource: &[u8],
    uid: &str,
    original_start: DateTime<Utc>,
    text: &str,
    now: DateTime<Utc>,
    default_tz: Tz,
) -> Result<Vec<u8>, EditError> {
    edit_occurrence_description(
        resource,
        uid,
        original_start,
        text,
        now,
        default_tz,
        EditOptions::default(),
    )
    .map(|e| e.body)
}

/// [`set_occurrence_description_in`] with `options`; also says whether an override was added.
pub fn edit_occurrence_description(
    resource: &[u8],
    uid: &str,
    original_start: DateTime<Utc>,
    text: &str,
    now: DateTime<Utc>,
    default_tz: Tz,
    options: EditOptions,
) -> Result<Edited, EditError> {
    check_text(text)?;
    let doc = Document::parse(resource)?;
    let cal = read::calendar(&doc)?;
    let series = cal
        .series
        .iter()
        .find(|s| s.uid == uid)
        .ok_or_else(|| EditError::NoSuchSeries { uid: uid.into() })?;
    let fallback = series.default_tz.unwrap_or(default_tz);
    let root = doc
        .roots
        .iter()
        .find(|c| c.name == "VCALENDAR")
        .ok_or(EditError::Parse(IcsError::NotACalendar))?;
    let zones = ZoneResolver::from_calendar(&doc, root);
    let events: Vec<&Component> = root
        .children
        .iter()
        .filter(|c| {
            c.name == "VEVENT" && c.prop(&doc, "UID").is_some_and(|l| l.value.trim() == uid)
        })
        .collect();
    if events.is_empty() {
        return Err(EditError::NoSuchSeries { uid: uid.into() });
    }
    let mut problems = Vec::new();
    let time_of = |l: &ContentLine, problems: &mut Vec<_>| -> Option<DateTime<Utc>> {
        let t = read::parse_time(&l.value, l, &zones, problems).ok()?;
        Some(series_instant(series, &t, fallback))
    };

    // An existing override for this occurrence (the highest SEQUENCE if several revisions).
    let target = events
        .iter()
        .filter(|c| {
            c.prop(&doc, "RECURRENCE-ID")
                .and_then(|l| time_of(l, &mut problems))
                == Some(original_start)
        })
        .max_by_key(|c| sequence(&doc, c));
    let master = events
        .iter()
        .filter(|c| c.prop(&doc, "RECURRENCE-ID").is_none())
        .max_by_key(|c| sequence(&doc, c));

    let mut created_override = false;
    let splices = match (target, master) {
        (Some(ov), _) => edit_in_place(&doc, ov, text, now),
        (None, Some(m)) if !series.is_recurring() => {
            let start = m
                .prop(&doc, "DTSTART")
                .and_then(|l| time_of(l, &mut problems));
            if start != Some(original_start) {
                return Err(EditError::NoSuchOccurrence {
                    uid: uid.into(),
                    original_start,
                });
            }
            edit_in_place(&doc, m, text, now)
        }
        (None, Some(m)) => {
            let occ = find_occurrence(series, original_start, fallback)?;
            // A THISANDFUTURE override before this instance is what it is derived from.
            let base = events
                .iter()
                .filter(|c| {
                    c.prop(&doc, "RECURRENCE-ID").is_some_and(|l| {
                        l.param("RANGE")
                            .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"))
                            && time_of(l, &mut problems).is_some_and(|t| t < original_start)
                    })
                })
                .max_by_key(|c| {
                    c.prop(&doc, "RECURRENCE-ID")
                        .and_then(|l| time_of(l, &mut Vec::new()))
                })
                .copied()
                .unwrap_or(m);
            let ctx = NewOverride {
                doc: &doc,
                zones: &zones,
                master: m,
                base,
                original_start,
                start: occ.start,
                end: occ.end,
                fallback,
                text,
                now,
                client_schedules_attendees: options.client_schedules_attendees,
            };
            let bytes = ctx.build();
            created_override = true;
            let after = events
                .iter()
                .map(|c| doc.lines[c.end].span.end)
                .max()
                .unwrap_or(doc.src.len());
            vec![Splice {
                range: after..after,
                bytes,
            }]
        }
        (None, None) => {
            return Err(EditError::NoSuchOccurrence {
                uid: uid.into(),
                original_start,
            });
        }
    };
    let out = apply(doc.src, splices);
    verify(&out, uid, original_start, text, default_tz)?;
    Ok(Edited {
        body: out,
        created_override,
    })
}

/// The instant a time of this series denotes, floating values read like `expand` reads them.
fn series_instant(series: &Series, t: &EventTime, fallback: Tz) -> DateTime<Utc> {
    match t {
        EventTime::Floating { .. } | EventTime::Date { .. } => {
            // Floating RECURRENCE-IDs follow the master's frame.
            let zone = series
                .master
                .as_ref()
                .and_then(|m| m.start.as_ref())
                .and_then(EventTime::zone)
                .unwrap_or(fallback);
            t.to_utc(zone)
        }
        _ => t.to_utc(fallback),
    }
}

fn sequence(doc: &Document<'_>, c: &Component) -> i64 {
    c.prop(doc, "SEQUENCE")
        .and_then(|l| l.value.trim().parse().ok())
        .unwrap_or(0)
}

fn find_occurrence(
    series: &Series,
    original_start: DateTime<Utc>,
    fallback: Tz,
) -> Result<crate::model::Occurrence, EditError> {
    let margin = Duration::days(400);
    let occs = expand::expand(
        series,
        original_start - margin,
        original_start + margin,
        fallback,
    )
    .map_err(|source| EditError::Expand {
        uid: series.uid.clone(),
        source,
    })?;
    occs.into_iter()
        .find(|o| o.original_start == original_start && !o.overridden)
        .ok_or_else(|| EditError::NoSuchOccurrence {
            uid: series.uid.clone(),
            original_start,
        })
}

/// Changes DESCRIPTION (and DTSTAMP, LAST-MODIFIED) of one existing component. X-ALT-DESC goes:
/// Outlook would keep showing its stale HTML instead of the new text.
fn edit_in_place(
    doc: &Document<'_>,
    comp: &Component,
    text: &str,
    now: DateTime<Utc>,
) -> Vec<Splice> {
    let eol = doc.eol;
    let mut splices = Vec::new();
    let mut described = false;
    let mut stamped = false;
    let mut modified = false;
    for &i in &comp.props {
        let l = &doc.lines[i];
        let span = l.span.clone();
        match l.name.as_ref() {
            "DESCRIPTION" if !described => {
                described = true;
                splices.push(Splice {
                    range: span,
                    bytes: description_line(text, eol),
                });
            }
            "DESCRIPTION" | "X-ALT-DESC" => splices.push(Splice {
                range: span,
                bytes: Vec::new(),
            }),
            "DTSTAMP" if !stamped => {
                stamped = true;
                splices.push(Splice {
                    range: span,
                    bytes: line(&doc.head(l), &stamp(now), eol),
                });
            }
            "LAST-MODIFIED" if !modified => {
                modified = true;
                splices.push(Splice {
                    range: span,
                    bytes: line(&doc.head(l), &stamp(now), eol),
                });
            }
            _ => {}
        }
    }
    // Missing lines go just before END:VEVENT (after the last property, before sub-components
    // would be wrong: properties must precede them).
    let insert_at = comp
        .children
        .first()
        .map_or(doc.lines[comp.end].span.start, |c| {
            doc.lines[c.begin].span.start
        });
    let mut extra = Vec::new();
    if !described {
        extra.extend(description_line(text, eol));
    }
    if !stamped {
        extra.extend(line("DTSTAMP", &stamp(now), eol));
    }
    if !modified {
        extra.extend(line("LAST-MODIFIED", &stamp(now), eol));
    }
    if !extra.is_empty() {
        splices.push(Splice {
            range: insert_at..insert_at,
            bytes: extra,
        });
    }
    splices
}

struct NewOverride<'a, 'd> {
    doc: &'a Document<'d>,
    zones: &'a ZoneResolver,
    master: &'a Component,
    base: &'a Component,
    original_start: DateTime<Utc>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    fallback: Tz,
    text: &'a str,
    now: DateTime<Utc>,
    client_schedules_attendees: bool,
}

impl NewOverride<'_, '_> {
    /// The override VEVENT: the base's lines verbatim, minus the recurrence set and the HTML
    /// description, with DTSTART/DTEND of this occurrence and RECURRENCE-ID written exactly in
    /// the form (value type, TZID) of the master's DTSTART.
    fn build(&self) -> Vec<u8> {
        let doc = self.doc;
        let eol = doc.eol;
        let mut out: Vec<u8> = Vec::new();
        out.extend_from_slice(&line("BEGIN", "VEVENT", eol));
        let master_start = self.master.prop(doc, "DTSTART");
        let organizer = self
            .base
            .prop(doc, "ORGANIZER")
            .map(|l| cal_address(&l.value));
        let (mut described, mut stamped, mut modified) = (false, false, false);
        for &i in &self.base.props {
            let l = &doc.lines[i];
            match l.name.as_ref() {
                "RRULE" | "RDATE" | "EXDATE" | "EXRULE" | "X-ALT-DESC" | "RECURRENCE-ID" => {}
                "DESCRIPTION" => {
                    if !described {
                        out.extend(description_line(self.text, eol));
                        described = true;
                    }
                }
                "DTSTART" => {
                    let form = form_of(l, self.zones);
                    out.extend(line(
                        &doc.head(l),
                        &format_in(form, self.start, self.fallback),
                        eol,
                    ));
                    out.extend(self.recurrence_id(master_start.unwrap_or(l)));
                }
                "DTEND" => {
                    let form = form_of(l, self.zones);
                    out.extend(line(
                        &doc.head(l),
                        &format_in(form, self.end, self.fallback),
                        eol,
                    ));
                }
                "DTSTAMP" | "LAST-MODIFIED" => {
                    if l.name == "DTSTAMP" {
                        stamped = true;
                    } else {
                        modified = true;
                    }
                    out.extend(line(&doc.head(l), &stamp(self.now), eol));
                }
                // Outlook marks an exception instance with 3 (MS-OXCICAL 2.1.3.1.1.20.14).
                "X-MICROSOFT-CDO-INSTTYPE" => out.extend(line(&doc.head(l), "3", eol)),
                // Without an ORGANIZER the resource is no scheduling object: nothing to stop.
                "ATTENDEE"
                    if self.client_schedules_attendees
                        && organizer
                            .as_ref()
                            .is_some_and(|o| *o != cal_address(&l.value)) =>
                {
                    out.extend(client_scheduled(doc, l));
                }
                _ => out.extend_from_slice(doc.raw(i)),
            }
        }
        if !described {
            out.extend(description_line(self.text, eol));
        }
        if !stamped {
            out.extend(line("DTSTAMP", &stamp(self.now), eol));
        }
        if !modified {
            out.extend(line("LAST-MODIFIED", &stamp(self.now), eol));
        }
        for child in &self.base.children {
            let span = doc.lines[child.begin].span.start..doc.lines[child.end].span.end;
            out.extend_from_slice(&doc.src[span]);
            if !doc.src[..doc.lines[child.end].span.end].ends_with(b"\n") {
                out.extend_from_slice(eol.as_bytes());
            }
        }
        out.extend_from_slice(&line("END", "VEVENT", eol));
        out
    }

    fn recurrence_id(&self, master_start: &ContentLine) -> Vec<u8> {
        let form = form_of(master_start, self.zones);
        let mut head = String::from("RECURRENCE-ID");
        // Copy TZID and VALUE exactly as DTSTART writes them (quotes included).
        let dtstart = self.doc.head(master_start);
        for param in split_params(dtstart.as_bytes()).into_iter().skip(1) {
            let key = param.split(|&b| b == b'=').next().unwrap_or_default();
            if key.eq_ignore_ascii_case(b"TZID") || key.eq_ignore_ascii_case(b"VALUE") {
                head.push(';');
                // Split at ASCII semicolons of a `String`: still UTF-8, nothing replaced.
                head.push_str(&String::from_utf8_lossy(param));
            }
        }
        line(
            &head,
            &format_in(form, self.original_start, self.fallback),
            self.doc.eol,
        )
    }
}

/// A calendar user address compared the way servers match ORGANIZER and ATTENDEE: scheme and
/// case do not count.
fn cal_address(value: &str) -> String {
    let v = value.trim();
    let v = match v.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => &v[7..],
        _ => v,
    };
    v.to_lowercase()
}

/// An ATTENDEE line with `SCHEDULE-AGENT=CLIENT`: its name, other parameters and value stay
/// byte for byte (an explicit `SCHEDULE-AGENT=SERVER` is replaced; CLIENT or NONE already
/// keep the server out, so such a line is copied as it is).
fn client_scheduled(doc: &Document<'_>, l: &ContentLine) -> Vec<u8> {
    let raw = &doc.src[l.span.clone()];
    if l.param("SCHEDULE-AGENT")
        .is_some_and(|v| !v.eq_ignore_ascii_case("SERVER"))
    {
        return raw.to_vec();
    }
    let logical = doc.unfolded(l);
    let Some(colon) = raw::value_colon_bytes(&logical) else {
        return raw.to_vec(); // cannot happen: the line parsed with a colon
    };
    let mut out = Vec::with_capacity(logical.len() + 24);
    for (k, part) in split_params(&logical[..colon]).into_iter().enumerate() {
        let key = part.split(|&b| b == b'=').next().unwrap_or_default();
        if k > 0 && key.eq_ignore_ascii_case(b"SCHEDULE-AGENT") {
            continue;
        }
        if k > 0 {
            out.push(b';');
        }
        out.extend_from_slice(part);
    }
    out.extend_from_slice(b";SCHEDULE-AGENT=CLIENT");
    out.extend_from_slice(&logical[colon..]);
    raw::fold(&out, doc.eol)
}

/// Splits `NAME;P1=a;P2="b;c"` at semicolons outside quotes.
fn split_params(head: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, &b) in head.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b';' if !quoted => {
                out.push(&head[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&head[start..]);
    out
}

/// Reads the result back: the occurrence must now show exactly the new text.
fn verify(
    out: &[u8],
    uid: &str,
    original_start: DateTime<Utc>,
    text: &str,
    default_tz: Tz,
) -> Result<(), EditError> {
    let cal = read::parse(out).map_err(|e| EditError::Verify(e.to_string()))?;
    let series = cal
        .series
        .iter()
        .find(|s| s.uid == uid)
        .ok_or_else(|| EditError::Verify("the series is gone".into()))?;
    let want = text.replace("\r\n", "\n").replace('\r', "\n");
    let fallback = series.default_tz.unwrap_or(default_tz);
    let own = series
        .overrides
        .iter()
        .filter(|o| {
            o.recurrence_id
                .as_ref()
                .is_some_and(|r| series_instant(series, r, fallback) == original_start)
        })
        .max_by_key(|o| o.sequence);
    let shows = if let Some(o) = own {
        o.description.clone()
    } else if series.is_recurring() {
        let margin = Duration::days(400);
        expand::expand(
            series,
            original_start - margin,
            original_start + margin,
            fallback,
        )
        .map_err(|e| EditError::Verify(e.to_string()))?
        .into_iter()
        .find(|o| o.original_start == original_start)
        .and_then(|o| o.description.as_deref().map(str::to_string))
    } else {
        series.master.as_ref().and_then(|m| m.description.clone())
    };
    if shows.as_deref() == Some(want.as_str()) {
        Ok(())
    } else {
        Err(EditError::Verify(format!(
            "the occurrence shows {:?}",
            shows.map(|s| raw::excerpt(&s))
        )))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const SERIES: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n\
        UID:s1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260302T090000Z\r\nDURATION:PT30M\r\n\
        RRULE:FREQ=WEEKLY\r\nSUMMARY:1:1 Dave / Sam\r\nDESCRIPTION:series text\r\n\
        ORGANIZER;CN=Sam:mailto:sam@example.com\r\n\
        ATTENDEE;CN=Sam;PARTSTAT=ACCEPTED:MAILTO:Sam@Example.com\r\n\
        ATTENDEE;CN=\"Dave; Direct: Jr\";PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT;RSVP=TRUE;X-LONG\r\n \
        =a-parameter-long-enough-to-fold:mailto:dave@example.com\r\n\
        ATTENDEE;SCHEDULE-AGENT=SERVER;CN=Ext:mailto:ext@example.com\r\n\
        ATTENDEE;SCHEDULE-AGENT=NONE;CN=Room:mailto:room@example.com\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n";

    fn at(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, 9, 0, 0).unwrap()
    }

    fn client(input: &[u8], day: u32) -> Edited {
        let options = EditOptions {
            client_schedules_attendees: true,
        };
        edit_occurrence_description(input, "s1", at(day), "agenda", at(1), Tz::UTC, options)
            .unwrap()
    }

    /// The unfolded ATTENDEE lines of the VEVENT with `RECURRENCE-ID` `rid` (None: master).
    fn attendees(body: &[u8], rid: Option<&str>) -> Vec<String> {
        let text = String::from_utf8_lossy(body).replace("\r\n ", "");
        text.split("BEGIN:VEVENT")
            .skip(1)
            .find(|ev| match rid {
                Some(r) => ev.contains(&format!("RECURRENCE-ID:{r}")),
                None => !ev.contains("RECURRENCE-ID"),
            })
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("ATTENDEE"))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn client_scheduling_marks_only_the_new_overrides_attendees_but_the_organizer() {
        let plain =
            set_occurrence_description(SERIES.as_bytes(), "s1", at(9), "agenda", at(1)).unwrap();
        let edited = client(SERIES.as_bytes(), 9);
        assert!(edited.created_override);
        // The master (everything before the insertion) is byte-identical.
        assert!(
            edited
                .body
                .starts_with(&SERIES.as_bytes()[..SERIES.len() - 15])
        );
        assert!(edited.body.ends_with(b"END:VEVENT\r\nEND:VCALENDAR\r\n"));
        assert_eq!(
            attendees(&edited.body, None),
            attendees(SERIES.as_bytes(), None)
        );
        let ours = attendees(&edited.body, Some("20260309T090000Z"));
        assert_eq!(
            ours,
            [
                "ATTENDEE;CN=Sam;PARTSTAT=ACCEPTED:MAILTO:Sam@Example.com",
                "ATTENDEE;CN=\"Dave; Direct: Jr\";PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT;RSVP=TRUE;\
                 X-LONG=a-parameter-long-enough-to-fold;SCHEDULE-AGENT=CLIENT:mailto:dave@example.com",
                "ATTENDEE;CN=Ext;SCHEDULE-AGENT=CLIENT:mailto:ext@example.com",
                "ATTENDEE;SCHEDULE-AGENT=NONE;CN=Room:mailto:room@example.com",
            ]
        );
        // Only the attendee lines differ from the plain edit; every line stays within 75 octets.
        let differ: Vec<_> = String::from_utf8_lossy(&edited.body)
            .replace("\r\n ", "")
            .lines()
            .zip(String::from_utf8_lossy(&plain).replace("\r\n ", "").lines())
            .filter(|(a, b)| a != b)
            .map(|(a, _)| a.split([';', ':']).next().unwrap().to_string())
            .collect();
        assert_eq!(differ, ["ATTENDEE", "ATTENDEE"]);
        let added = &edited.body[SERIES.len() - 15..];
        assert!(added.split(|&b| b == b'\n').all(|l| l.len() <= 76));
        // It reads back: the parameters are where a parser looks for them.
        let cal = read::parse(&edited.body).unwrap();
        assert!(cal.problems.is_empty(), "{:?}", cal.problems);
        assert_eq!(cal.series[0].overrides.len(), 1);
        assert_eq!(
            cal.series[0].overrides[0].description.as_deref(),
            Some("agenda")
        );
    }

    #[test]
    fn client_scheduling_leaves_an_existing_override_as_it_is() {
        let once =
            set_occurrence_description(SERIES.as_bytes(), "s1", at(9), "first", at(1)).unwrap();
        let plain = set_occurrence_description(&once, "s1", at(9), "agenda", at(1)).unwrap();
        let edited = client(&once, 9);
        assert!(!edited.created_override);
        assert_eq!(edited.body, plain);
        assert!(!String::from_utf8_lossy(&edited.body).contains("SCHEDULE-AGENT=CLIENT"));
    }

    #[test]
    fn client_scheduling_needs_an_organizer_and_keeps_bytes_that_are_not_utf8() {
        let no_organizer = SERIES.replace("ORGANIZER;CN=Sam:mailto:sam@example.com\r\n", "");
        let edited = client(no_organizer.as_bytes(), 9);
        let plain =
            set_occurrence_description(no_organizer.as_bytes(), "s1", at(9), "agenda", at(1))
                .unwrap();
        assert_eq!(edited.body, plain, "no organizer: no scheduling object");

        // A Latin-1 CN ("Dav\xe9"): the bytes go through untouched.
        let latin = SERIES
            .as_bytes()
            .split(|&b| b == b'\n')
            .map(|l| {
                if l.starts_with(b"ATTENDEE;SCHEDULE-AGENT=SERVER") {
                    b"ATTENDEE;SCHEDULE-AGENT=SERVER;CN=Dav\xe9:mailto:ext@example.com\r".to_vec()
                } else {
                    l.to_vec()
                }
            })
            .collect::<Vec<_>>()
            .join(&b'\n');
        let edited = client(&latin, 9);
        let needle = b"ATTENDEE;CN=Dav\xe9;SCHEDULE-AGENT=CLIENT:mailto:ext@example.com\r\n";
        assert!(
            edited.body.windows(needle.len()).any(|w| w == needle),
            "{}",
            String::from_utf8_lossy(&edited.body)
        );
    }

    #[test]
    fn cal_addresses_compare_without_scheme_or_case() {
        assert_eq!(cal_address(" MAILTO:Sam@Example.com"), "sam@example.com");
        assert_eq!(cal_address("sam@example.com"), "sam@example.com");
        assert_ne!(
            cal_address("mailto:sam@example.com"),
            cal_address("mailto:dave@x")
        );
    }
}
