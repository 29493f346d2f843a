//! The one edit we make: set DESCRIPTION on one occurrence, splicing lines into the original
//! bytes so everything else (order, folds, parameters, X- properties, VTIMEZONE, VALARM, other
//! overrides, BOM, line endings) stays byte-identical.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::raw::{self, Component, ContentLine, Document};
use super::tz::ZoneResolver;
use super::{EditError, expand, read};
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
    raw::fold(&format!("{head}:{value}"), eol).into_bytes()
}

fn description_line(text: &str, eol: &str) -> Vec<u8> {
    line("DESCRIPTION", &raw::escape_text(text), eol)
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
        .ok_or(EditError::Parse(super::IcsError::NotACalendar))?;
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
            };
            let bytes = ctx.build();
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
    Ok(out)
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
        match l.name.as_str() {
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
                    bytes: line(&l.head, &stamp(now), eol),
                });
            }
            "LAST-MODIFIED" if !modified => {
                modified = true;
                splices.push(Splice {
                    range: span,
                    bytes: line(&l.head, &stamp(now), eol),
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
        let (mut described, mut stamped, mut modified) = (false, false, false);
        for &i in &self.base.props {
            let l = &doc.lines[i];
            match l.name.as_str() {
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
                        &l.head,
                        &format_in(form, self.start, self.fallback),
                        eol,
                    ));
                    out.extend(self.recurrence_id(master_start.unwrap_or(l)));
                }
                "DTEND" => {
                    let form = form_of(l, self.zones);
                    out.extend(line(
                        &l.head,
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
                    out.extend(line(&l.head, &stamp(self.now), eol));
                }
                // Outlook marks an exception instance with 3 (MS-OXCICAL 2.1.3.1.1.20.14).
                "X-MICROSOFT-CDO-INSTTYPE" => out.extend(line(&l.head, "3", eol)),
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
        for param in split_params(&master_start.head).into_iter().skip(1) {
            let key = param.split('=').next().unwrap_or("").to_ascii_uppercase();
            if key == "TZID" || key == "VALUE" {
                head.push(';');
                head.push_str(param);
            }
        }
        line(
            &head,
            &format_in(form, self.original_start, self.fallback),
            self.doc.eol,
        )
    }
}

/// Splits `NAME;P1=a;P2="b;c"` at semicolons outside quotes.
fn split_params(head: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, b) in head.bytes().enumerate() {
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
    let cal = super::parse(out).map_err(|e| EditError::Verify(e.to_string()))?;
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
        .and_then(|o| o.description)
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
