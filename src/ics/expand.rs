//! Recurrence expansion: the master's rule in wall-clock time, minus EXDATEs, plus RDATEs, with
//! overrides (incl. THISANDFUTURE) merged.
//!
//! Rules run on naive wall-clock times (the `rrule` crate is given them as if they were UTC) and
//! each result is then placed in the event's zone. That is what keeps a 09:00 meeting at 09:00
//! across DST, and what every major client does.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::error::ExpandError;
use crate::model::{
    Event, EventStatus, EventTime, Occurrence, OccurrenceStatus, Series, resolve_local,
};

/// Upper bound on rule instances generated for one series in one call; a rule that needs more
/// (FREQ=SECONDLY since 1970) is an error for that series, not a stall.
pub(crate) const MAX_INSTANCES: usize = 200_000;

/// A RRULE with UNTIL taken out (applied by the caller as a wall-clock cutoff).
struct Rule {
    body: String,
    until: Option<NaiveDateTime>,
}

/// How the series' times are read: its zone and whether it is all-day.
#[derive(Clone, Copy)]
struct Frame {
    zone: Tz,
    all_day: bool,
}

impl Frame {
    fn of(start: &EventTime, fallback: Tz) -> Self {
        match *start {
            EventTime::Zoned { tz, .. } => Self {
                zone: tz,
                all_day: false,
            },
            EventTime::Utc { .. } => Self {
                zone: Tz::UTC,
                all_day: false,
            },
            EventTime::Floating { .. } => Self {
                zone: fallback,
                all_day: false,
            },
            EventTime::Date { .. } => Self {
                zone: fallback,
                all_day: true,
            },
        }
    }

    /// The wall-clock time of `t` in this frame.
    fn wall(&self, t: &EventTime) -> NaiveDateTime {
        match *t {
            EventTime::Date { date } => date.and_time(NaiveTime::MIN),
            EventTime::Floating { local } => local,
            EventTime::Zoned { local, tz } if tz == self.zone => local,
            EventTime::Zoned { local, tz } => resolve_local(tz, local)
                .with_timezone(&self.zone)
                .naive_local(),
            EventTime::Utc { at } => at.with_timezone(&self.zone).naive_local(),
        }
    }

    fn instant(&self, wall: NaiveDateTime) -> DateTime<Utc> {
        resolve_local(self.zone, wall)
    }

    /// The instant of a time given in any form, floating ones read in this frame's zone.
    fn instant_of(&self, t: &EventTime) -> DateTime<Utc> {
        match *t {
            EventTime::Utc { at } => at,
            EventTime::Zoned { local, tz } => resolve_local(tz, local),
            _ => self.instant(self.wall(t)),
        }
    }
}

fn split_until(rule: &str, frame: Frame, start: &EventTime) -> Result<Rule, ExpandError> {
    let mut parts = Vec::new();
    let mut until = None;
    for part in rule.trim().trim_end_matches(';').split(';') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let key = k.trim().to_ascii_uppercase();
        match key.as_str() {
            "UNTIL" => {
                let v = v.trim();
                let naive = super::read::parse_naive(v)
                    .ok_or_else(|| ExpandError::BadRule(format!("UNTIL={v} is not a date")))?;
                until = Some(if v.len() == 8 {
                    // A DATE UNTIL on a timed series: the whole day counts (libical, Outlook).
                    if frame.all_day {
                        naive
                    } else {
                        naive.date().and_hms_opt(23, 59, 59).unwrap_or(naive)
                    }
                } else if v.ends_with(['Z', 'z']) {
                    match start {
                        EventTime::Zoned { .. } | EventTime::Utc { .. } => Utc
                            .from_utc_datetime(&naive)
                            .with_timezone(&frame.zone)
                            .naive_local(),
                        // A UTC UNTIL on a floating or all-day series: read as wall time.
                        _ => naive,
                    }
                } else {
                    naive
                });
            }
            // A negative COUNT (seen in the wild) means nothing; drop it like others do.
            "COUNT" if v.trim().starts_with('-') => {}
            // Extensions (Evolution's X-EVOLUTION-ENDDATE) only restate the rule.
            k if k.is_empty() || k.starts_with("X-") => {}
            _ => parts.push(format!("{key}={}", v.trim().to_ascii_uppercase())),
        }
    }
    Ok(Rule {
        body: parts.join(";"),
        until,
    })
}

/// The wall-clock instances of `rule` from `start`, up to `limit` (inclusive), at most `cap`.
pub(crate) fn wall_rule(
    rule: &str,
    start: NaiveDateTime,
    limit: NaiveDateTime,
    cap: usize,
) -> Result<Vec<NaiveDateTime>, ExpandError> {
    let frame = Frame {
        zone: Tz::UTC,
        all_day: false,
    };
    let r = split_until(rule, frame, &EventTime::Floating { local: start })?;
    let mut out = Vec::new();
    rule_walls(&r, start, limit, cap, &mut out)?;
    Ok(out)
}

fn rule_walls(
    rule: &Rule,
    start: NaiveDateTime,
    limit: NaiveDateTime,
    cap: usize,
    out: &mut Vec<NaiveDateTime>,
) -> Result<(), ExpandError> {
    let limit = rule.until.map_or(limit, |u| u.min(limit));
    if limit < start {
        return Ok(());
    }
    // `rrule` slices its input by bytes and panics on non-ASCII (found by fuzzing); no valid
    // rule has anything but these characters.
    if let Some(c) = rule
        .body
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '=' | ';' | ',' | '+' | '-')))
    {
        return Err(ExpandError::BadRule(format!(
            "RRULE:{}: unexpected {c:?}",
            rule.body
        )));
    }
    // A panic inside the third-party rule engine on some other hostile rule must cost this
    // series only, not the sync pass.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_rule(rule, start, limit, cap, out)
    }))
    .unwrap_or_else(|_| {
        Err(ExpandError::BadRule(format!(
            "RRULE:{}: rule engine failed",
            rule.body
        )))
    })
}

fn run_rule(
    rule: &Rule,
    start: NaiveDateTime,
    limit: NaiveDateTime,
    cap: usize,
    out: &mut Vec<NaiveDateTime>,
) -> Result<(), ExpandError> {
    let parsed = rrule::RRule::<rrule::Unvalidated>::from_str(&rule.body)
        .map_err(|e| ExpandError::BadRule(format!("RRULE:{}: {e}", rule.body)))?;
    let dt_start = rrule::Tz::UTC.from_utc_datetime(&start);
    let set = parsed
        .build(dt_start)
        .map_err(|e| ExpandError::BadRule(format!("RRULE:{}: {e}", rule.body)))?
        .limit();
    let mut seen = 0usize;
    for t in &set {
        let wall = t.naive_utc();
        if wall > limit {
            break;
        }
        seen += 1;
        if seen > cap {
            return Err(ExpandError::TooManyInstances { cap });
        }
        out.push(wall);
    }
    Ok(())
}

/// The override that owns each original start, and the THISANDFUTURE ones in order.
struct Overrides<'a> {
    by_start: BTreeMap<DateTime<Utc>, &'a Event>,
    future: Vec<(DateTime<Utc>, &'a Event)>,
}

fn overrides<'a>(series: &'a Series, frame: Frame) -> Overrides<'a> {
    let mut by_start: BTreeMap<DateTime<Utc>, &Event> = BTreeMap::new();
    for ov in &series.overrides {
        let Some(rid) = &ov.recurrence_id else {
            continue;
        };
        let key = frame.instant_of(rid);
        // Several revisions of one override: the highest SEQUENCE wins (RFC 5546).
        match by_start.get(&key) {
            Some(prev) if prev.sequence > ov.sequence => {}
            _ => {
                by_start.insert(key, ov);
            }
        }
    }
    let mut future: Vec<_> = by_start
        .iter()
        .filter(|(_, e)| e.this_and_future)
        .map(|(k, e)| (*k, *e))
        .collect();
    future.sort_by_key(|(k, _)| *k);
    Overrides { by_start, future }
}

/// The length of an event, in wall-clock terms for zoned and all-day times.
fn wall_length(ev: &Event, frame: Frame) -> Duration {
    match (&ev.start, &ev.end, ev.duration) {
        (Some(s), Some(e), _) => {
            let len = frame.wall(e) - frame.wall(s);
            if len < Duration::zero() {
                Duration::zero()
            } else {
                len
            }
        }
        (_, _, Some(d)) => d,
        (Some(EventTime::Date { .. }), None, None) => Duration::days(1),
        _ => Duration::zero(),
    }
}

fn occurrence_of(
    ev: &Event,
    original_start: DateTime<Utc>,
    fallback: Tz,
    master_frame: Frame,
) -> Option<Occurrence> {
    let start_t = ev.start.as_ref()?;
    let frame = Frame::of(start_t, master_frame.zone);
    let frame = if matches!(start_t, EventTime::Floating { .. } | EventTime::Date { .. }) {
        Frame {
            zone: fallback,
            ..frame
        }
    } else {
        frame
    };
    let wall = frame.wall(start_t);
    let start = frame.instant(wall);
    let end = frame.instant(wall + wall_length(ev, frame));
    let status = if ev.status == EventStatus::Cancelled {
        OccurrenceStatus::Cancelled
    } else if start != original_start {
        OccurrenceStatus::Moved
    } else {
        OccurrenceStatus::Scheduled
    };
    Some(Occurrence {
        original_start,
        start,
        end,
        tz: frame.zone,
        status,
        overridden: true,
        description: ev.description.as_deref().map(Arc::from),
    })
}

/// The occurrences of `series` that start in `[from, to)`, sorted by start, overrides merged.
/// Floating and all-day times are read in the series' X-WR-TIMEZONE, else `default_tz`.
pub fn expand(
    series: &Series,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    default_tz: Tz,
) -> Result<Vec<Occurrence>, ExpandError> {
    let fallback = series.default_tz.unwrap_or(default_tz);
    let mut out = Vec::new();
    let Some(master) = series.master.as_ref() else {
        // Only overrides (an invitation to single occurrences): each stands alone.
        let frame = Frame {
            zone: fallback,
            all_day: false,
        };
        for ov in &series.overrides {
            let rid = ov.recurrence_id.as_ref().map(|r| frame.instant_of(r));
            if let Some(o) = ov.start.as_ref().and_then(|s| {
                occurrence_of(ov, rid.unwrap_or(frame.instant_of(s)), fallback, frame)
            }) {
                out.push(o);
            }
        }
        out.retain(|o| o.start >= from && o.start < to);
        out.sort_by_key(|o| (o.start, o.original_start));
        return Ok(out);
    };
    let start_t = master.start.as_ref().ok_or(ExpandError::NoStart)?;
    let frame = Frame::of(start_t, fallback);
    let ovs = overrides(series, frame);
    let start_wall = frame.wall(start_t);
    let length = wall_length(master, frame);

    // How far an override may move an occurrence: widen the generated window by that much.
    let mut margin = Duration::days(2) + length;
    for ov in ovs.by_start.values() {
        if let (Some(s), Some(r)) = (&ov.start, &ov.recurrence_id) {
            let d = frame.instant_of(s) - frame.instant_of(r);
            margin = margin.max(d.abs() + Duration::days(2) + wall_length(ov, frame));
        }
    }
    let gen_from = (from - margin).with_timezone(&frame.zone).naive_local();
    let gen_to = (to + margin).with_timezone(&frame.zone).naive_local();

    // Candidate original starts, as wall-clock times in the series' frame.
    let mut walls: Vec<NaiveDateTime> = Vec::new();
    let mut last_until: Option<NaiveDateTime> = None;
    let mut has_unbounded = false;
    for raw in &master.rrules {
        let rule = split_until(raw, frame, start_t)?;
        match rule.until {
            Some(u) => last_until = Some(last_until.map_or(u, |l| l.max(u))),
            None => has_unbounded = true,
        }
        let mut all = Vec::new();
        rule_walls(&rule, start_wall, gen_to, MAX_INSTANCES, &mut all)?;
        walls.extend(all.into_iter().filter(|w| *w >= gen_from));
    }
    // DTSTART is always an instance unless it lies after every UNTIL (RFC 5545 3.8.5.3).
    let start_after_until = !has_unbounded && last_until.is_some_and(|u| start_wall > u);
    if !start_after_until && start_wall >= gen_from && start_wall <= gen_to {
        walls.push(start_wall);
    }
    walls.extend(master.rdates.iter().map(|r| frame.wall(r)));

    let ex_instants: HashSet<DateTime<Utc>> = master
        .exdates
        .iter()
        .filter(|e| !e.is_all_day())
        .map(|e| frame.instant_of(e))
        .collect();
    let ex_dates: HashSet<NaiveDate> = master
        .exdates
        .iter()
        .filter_map(|e| match e {
            EventTime::Date { date } => Some(*date),
            _ => None,
        })
        .collect();

    let master_cancelled = master.status == EventStatus::Cancelled;
    // One shared text per event that lends its description to generated occurrences.
    let master_description: Option<Arc<str>> = master.description.as_deref().map(Arc::from);
    let future_descriptions: Vec<Option<Arc<str>>> = ovs
        .future
        .iter()
        .map(|(_, e)| e.description.as_deref().map(Arc::from))
        .collect();
    let mut done: HashSet<DateTime<Utc>> = HashSet::new();
    walls.sort();
    walls.dedup();
    for wall in walls {
        let original = frame.instant(wall);
        if !done.insert(original)
            || ex_instants.contains(&original)
            || ex_dates.contains(&wall.date())
        {
            continue;
        }
        if let Some(ov) = ovs.by_start.get(&original) {
            out.extend(occurrence_of(ov, original, fallback, frame));
            continue;
        }
        // The latest THISANDFUTURE override before this instance shapes it.
        let base = ovs
            .future
            .iter()
            .enumerate()
            .rev()
            .find(|(_, (rid, _))| *rid < original)
            .map(|(i, (_, e))| (*e, &future_descriptions[i]));
        let (start_wall, len, desc, cancelled) = match base {
            Some((b, b_description)) => {
                let shift = match (&b.start, &b.recurrence_id) {
                    (Some(s), Some(r)) => frame.wall(s) - frame.wall(r),
                    _ => Duration::zero(),
                };
                (
                    wall + shift,
                    wall_length(b, frame),
                    b_description.clone(),
                    b.status == EventStatus::Cancelled,
                )
            }
            None => (wall, length, master_description.clone(), master_cancelled),
        };
        let start = frame.instant(start_wall);
        out.push(Occurrence {
            original_start: original,
            start,
            end: frame.instant(start_wall + len),
            tz: frame.zone,
            status: if cancelled {
                OccurrenceStatus::Cancelled
            } else if start != original {
                OccurrenceStatus::Moved
            } else {
                OccurrenceStatus::Scheduled
            },
            overridden: false,
            description: desc,
        });
    }
    // Overrides whose RECURRENCE-ID the rule does not produce still stand (clients add them
    // for RDATE-like moves), unless an EXDATE removed that instance.
    for (rid, ov) in &ovs.by_start {
        if done.contains(rid) || ex_instants.contains(rid) {
            continue;
        }
        let rid_date = rid.with_timezone(&frame.zone).date_naive();
        if ex_dates.contains(&rid_date) {
            continue;
        }
        out.extend(occurrence_of(ov, *rid, fallback, frame));
    }
    out.retain(|o| o.start >= from && o.start < to);
    out.sort_by_key(|o| (o.start, o.original_start));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall(s: &str) -> NaiveDateTime {
        super::super::read::parse_naive(s).unwrap()
    }

    #[test]
    fn impossible_rule_ends_instead_of_looping() {
        let r = wall_rule(
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            wall("20260101T090000"),
            wall("20300101T000000"),
            1000,
        );
        assert!(matches!(r, Ok(ref v) if v.is_empty()), "{r:?}");
    }

    #[test]
    fn non_ascii_rule_is_an_error_not_a_panic() {
        let r = wall_rule(
            "FREQ=WEEKLY;BYDAY=F\u{fffd}",
            wall("20260101T090000"),
            wall("20300101T000000"),
            1000,
        );
        assert!(matches!(r, Err(ExpandError::BadRule(_))), "{r:?}");
    }

    #[test]
    fn secondly_rule_hits_the_cap() {
        let r = wall_rule(
            "FREQ=SECONDLY",
            wall("19700101T000000"),
            wall("20300101T000000"),
            1000,
        );
        assert!(
            matches!(r, Err(ExpandError::TooManyInstances { .. })),
            "{r:?}"
        );
    }

    #[test]
    fn a_count_of_a_billion_hits_the_cap_not_the_memory() {
        let r = wall_rule(
            "FREQ=MINUTELY;COUNT=1000000000",
            wall("20000101T000000"),
            wall("20300101T000000"),
            1000,
        );
        assert!(
            matches!(r, Err(ExpandError::TooManyInstances { .. })),
            "{r:?}"
        );
    }

    #[test]
    fn rules_that_never_or_rarely_match_end_without_a_stall() {
        // February 30th, and the 366th day of January: never.
        for rule in [
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=DAILY;BYMONTH=1;BYYEARDAY=366",
        ] {
            match wall_rule(rule, wall("20260101T090000"), wall("21260101T000000"), 1000) {
                Ok(v) => assert!(v.is_empty(), "{rule}: {v:?}"),
                Err(e) => assert!(matches!(e, ExpandError::BadRule(_)), "{rule}: {e:?}"),
            }
        }
        // February 29th on a Monday: once in 28 years (2044), still found.
        let v = wall_rule(
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
            wall("20260101T090000"),
            wall("20600101T000000"),
            1000,
        )
        .unwrap();
        assert_eq!(v, vec![wall("20440229T090000")]);
    }

    #[test]
    fn last_friday_of_month() {
        let v = wall_rule(
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3",
            wall("20260130T100000"),
            wall("20300101T000000"),
            1000,
        )
        .unwrap();
        assert_eq!(
            v,
            vec![
                wall("20260130T100000"),
                wall("20260227T100000"),
                wall("20260327T100000")
            ]
        );
    }
}
