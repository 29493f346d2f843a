//! Whether a new recurring 1:1 continues one that ended: the manager deleted the old series (or
//! ended it, as "this and following" edits do) and made a new one with the same direct, under a
//! new UID and often at a new time. A pure rule over what the store keeps about both series; the
//! pass (`sync::continuation`) gathers the facts and records the link.
//!
//! The rule, in order (the first that fails says why not):
//! 1. The same two people: the same manager address and the same direct address (neither
//!    missing), compared without case.
//! 2. The old series has ended: it is gone from the calendar (deleted, or no longer recurring),
//!    or its rule has no meeting left and every meeting it had is closed.
//! 3. They did not run side by side: the new series has no recorded meeting that started before
//!    the old one's last meeting (two 1:1s with one direct at the same time are two 1:1s).
//! 4. A similar cadence: the longer typical gap between meetings is at most twice the shorter
//!    ([`MAX_CADENCE_RATIO`]): weekly continues weekly or every 2 weeks, not monthly. A cadence
//!    the store does not know (a series detected before it was recorded, with fewer than two
//!    meetings) does not stop the link: the other three facts already say it is the same 1:1.

use chrono::{DateTime, NaiveDate, Utc};

use crate::model::Series;

/// How far apart two cadences may be and still be the same 1:1 (see the module doc).
pub(crate) const MAX_CADENCE_RATIO: f64 = 2.0;

/// How often a series meets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cadence {
    /// In words, as detection's reasons say it: "weekly", "every 2 weeks".
    pub words: String,
    /// The typical gap between two meetings, in days.
    pub days: f64,
}

/// The cadence of a series' rule: its words (as the detection reason says them) and the
/// typical gap in days. `None` without a readable RRULE (set dates only).
pub(crate) fn cadence(series: &Series) -> Option<Cadence> {
    use rrule::Frequency as F;
    let master = series.master.as_ref()?;
    let rule = master.rrules.first().and_then(|r| super::parse_rrule(r))?;
    let unit = match rule.get_freq() {
        F::Yearly => 365.25,
        F::Monthly => 30.44,
        F::Weekly => 7.0,
        F::Daily => 1.0,
        F::Hourly => 1.0 / 24.0,
        F::Minutely => 1.0 / 1440.0,
        F::Secondly => 1.0 / 86400.0,
    };
    let interval = f64::from(rule.get_interval().max(1));
    // Several days a period: as many meetings in it (BYDAY=MO,TH weekly is every 3.5 days).
    let per_period = rule.get_by_weekday().len().max(1) as f64;
    let days = match rule.get_freq() {
        // A daily rule limited to some weekdays meets those days of each week.
        F::Daily if per_period > 1.0 => 7.0 * interval / per_period,
        _ => unit * interval / per_period,
    };
    Some(Cadence {
        words: super::frequency(series),
        days,
    })
}

/// Whether two cadences (gaps in days) are close enough for one 1:1 (see [`MAX_CADENCE_RATIO`]).
pub(crate) fn similar_cadence(a: f64, b: f64) -> bool {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    lo > 0.0 && hi / lo <= MAX_CADENCE_RATIO + 1e-9
}

/// What the store knows of one series, for [`continues`].
#[derive(Debug, Clone, Default)]
pub(crate) struct SeriesFacts<'a> {
    pub id: i64,
    pub summary: &'a str,
    pub manager: Option<&'a str>,
    pub direct: Option<&'a str>,
    pub cadence: Option<Cadence>,
    /// Start of its first recorded meeting.
    pub first_start: Option<DateTime<Utc>>,
    /// Start of its last recorded meeting that has started.
    pub last_started: Option<DateTime<Utc>>,
}

/// Whether the old series has ended, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Gone from the calendar, found so on this day.
    Deleted(NaiveDate),
    /// Its rule has no meeting left; the last one was on this day.
    Finished(NaiveDate),
    /// It has meetings ahead, or one not yet closed.
    No,
}

fn same(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

/// The reason the new series continues the old one (shown with the new series), or why not.
pub(crate) fn continues(
    new: &SeriesFacts<'_>,
    old: &SeriesFacts<'_>,
    ended: Ended,
) -> Result<String, String> {
    if !same(new.manager, old.manager) || !same(new.direct, old.direct) {
        return Err("not the same two people".into());
    }
    let how = match ended {
        Ended::Deleted(d) => format!("deleted from the calendar by {d}"),
        Ended::Finished(d) => format!("ended {d}"),
        Ended::No => return Err(format!("series {} has not ended", old.id)),
    };
    if let (Some(first), Some(last)) = (new.first_start, old.last_started)
        && first < last
    {
        return Err(format!(
            "series {} met before series {} ended: two 1:1s side by side",
            new.id, old.id
        ));
    }
    let cadence = match (&new.cadence, &old.cadence) {
        (Some(n), Some(o)) if !similar_cadence(n.days, o.days) => {
            return Err(format!(
                "not a similar cadence: {} then {}",
                o.words, n.words
            ));
        }
        (Some(n), Some(o)) if n.words == o.words => n.words.clone(),
        (Some(n), Some(o)) => format!("{} then {}", o.words, n.words),
        (Some(n), None) => format!("{} (the earlier cadence is not known)", n.words),
        (None, _) => "cadence not known".to_string(),
    };
    Ok(format!(
        "continues series {} ({:?}, {how}): same two people, {cadence}",
        old.id, old.summary
    ))
}

/// The typical gap between recorded meetings, in days (the most common whole number of days),
/// for a series whose cadence was not recorded; `None` with fewer than two meetings.
pub(crate) fn cadence_from_starts(starts: &[DateTime<Utc>]) -> Option<Cadence> {
    let mut starts = starts.to_vec();
    starts.sort();
    starts.dedup();
    let mut counts = std::collections::BTreeMap::<i64, u32>::new();
    for w in starts.windows(2) {
        let days = ((w[1] - w[0]).num_minutes() as f64 / 1440.0).round() as i64;
        if days >= 1 {
            *counts.entry(days).or_insert(0) += 1;
        }
    }
    let days = counts.into_iter().rev().max_by_key(|(_, n)| *n)?.0;
    let words = match days {
        7 => "weekly".to_string(),
        d if d % 7 == 0 => format!("every {} weeks", d / 7),
        1 => "daily".to_string(),
        d => format!("every {d} days"),
    };
    Some(Cadence {
        words,
        days: days as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, Series};

    fn series(rule: &str) -> Series {
        Series {
            uid: "u".into(),
            master: Some(Event {
                rrules: vec![rule.into()],
                ..Event::default()
            }),
            ..Series::default()
        }
    }

    fn days(rule: &str) -> f64 {
        cadence(&series(rule)).unwrap().days
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn facts(id: i64, direct: &str, rule: &str) -> SeriesFacts<'static> {
        SeriesFacts {
            id,
            summary: "1:1 Alice / Sam",
            manager: Some("sam@example.com"),
            direct: Some(Box::leak(direct.to_string().into_boxed_str())),
            cadence: cadence(&series(rule)),
            first_start: None,
            last_started: None,
        }
    }

    #[test]
    fn cadence_reads_the_rule_as_a_gap_in_days() {
        assert_eq!(days("FREQ=WEEKLY;BYDAY=MO"), 7.0);
        assert_eq!(days("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"), 14.0);
        assert_eq!(days("FREQ=WEEKLY;BYDAY=MO,TH"), 3.5);
        assert_eq!(days("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"), 1.4);
        assert!((days("FREQ=MONTHLY;BYDAY=1TH") - 30.44).abs() < 0.01);
        assert_eq!(cadence(&series("FREQ=WEEKLY")).unwrap().words, "weekly");
        assert_eq!(
            cadence(&series("FREQ=WEEKLY;INTERVAL=2")).unwrap().words,
            "every 2 weeks"
        );
        assert!(cadence(&series("not a rule")).is_none());
        assert!(cadence(&Series::default()).is_none());
    }

    #[test]
    fn similar_cadence_allows_at_most_twice_the_gap() {
        assert!(similar_cadence(7.0, 7.0));
        assert!(similar_cadence(7.0, 14.0));
        assert!(similar_cadence(14.0, 7.0));
        assert!(similar_cadence(14.0, 28.0));
        assert!(!similar_cadence(7.0, 21.0));
        assert!(!similar_cadence(7.0, 30.44));
        assert!(!similar_cadence(1.4, 7.0));
        assert!(!similar_cadence(0.0, 7.0));
    }

    #[test]
    fn a_new_weekly_series_with_the_same_direct_continues_a_deleted_one() {
        let old = facts(12, "alice@example.com", "FREQ=WEEKLY;BYDAY=MO");
        let new = facts(14, "Alice@Example.com", "FREQ=WEEKLY;BYDAY=TU");
        let reason = continues(&new, &old, Ended::Deleted(day("2026-11-02"))).unwrap();
        assert_eq!(
            reason,
            "continues series 12 (\"1:1 Alice / Sam\", deleted from the calendar by 2026-11-02): \
             same two people, weekly"
        );
        let biweekly = facts(15, "alice@example.com", "FREQ=WEEKLY;INTERVAL=2");
        let reason = continues(&biweekly, &old, Ended::Finished(day("2026-11-02"))).unwrap();
        assert!(
            reason.ends_with("ended 2026-11-02): same two people, weekly then every 2 weeks"),
            "{reason}"
        );
    }

    #[test]
    fn another_direct_another_manager_or_a_missing_address_is_not_a_continuation() {
        let old = facts(12, "alice@example.com", "FREQ=WEEKLY");
        let ended = Ended::Deleted(day("2026-11-02"));
        let bob = facts(14, "bob@example.com", "FREQ=WEEKLY");
        assert_eq!(
            continues(&bob, &old, ended).unwrap_err(),
            "not the same two people"
        );
        let mut other_manager = facts(14, "alice@example.com", "FREQ=WEEKLY");
        other_manager.manager = Some("kim@example.com");
        assert!(continues(&other_manager, &old, ended).is_err());
        let mut nobody = facts(14, "alice@example.com", "FREQ=WEEKLY");
        nobody.direct = None;
        let mut old_nobody = old.clone();
        old_nobody.direct = None;
        assert!(continues(&nobody, &old_nobody, ended).is_err());
    }

    #[test]
    fn a_different_cadence_is_not_a_continuation() {
        let old = facts(12, "alice@example.com", "FREQ=WEEKLY");
        let monthly = facts(14, "alice@example.com", "FREQ=MONTHLY;BYDAY=1TH");
        let why = continues(&monthly, &old, Ended::Deleted(day("2026-11-02"))).unwrap_err();
        assert_eq!(why, "not a similar cadence: weekly then monthly");
    }

    #[test]
    fn a_series_that_has_not_ended_or_ran_side_by_side_is_not_continued() {
        let mut old = facts(12, "alice@example.com", "FREQ=WEEKLY");
        let mut new = facts(14, "alice@example.com", "FREQ=WEEKLY");
        assert!(continues(&new, &old, Ended::No).is_err());
        old.last_started = Some(at("2026-11-02T10:00:00Z"));
        new.first_start = Some(at("2026-10-20T10:00:00Z"));
        let why = continues(&new, &old, Ended::Deleted(day("2026-11-03"))).unwrap_err();
        assert!(why.contains("side by side"), "{why}");
        new.first_start = Some(at("2026-11-10T10:00:00Z"));
        assert!(continues(&new, &old, Ended::Deleted(day("2026-11-03"))).is_ok());
    }

    #[test]
    fn an_unknown_earlier_cadence_is_read_from_its_meetings_or_does_not_stop_the_link() {
        let starts = [
            at("2026-10-05T10:00:00Z"),
            at("2026-10-12T10:00:00Z"),
            at("2026-10-19T10:00:00Z"),
            at("2026-11-02T10:00:00Z"),
        ];
        let c = cadence_from_starts(&starts).unwrap();
        assert_eq!((c.words.as_str(), c.days), ("weekly", 7.0));
        assert!(cadence_from_starts(&starts[..1]).is_none());
        let mut old = facts(12, "alice@example.com", "FREQ=WEEKLY");
        old.cadence = None;
        let new = facts(14, "alice@example.com", "FREQ=WEEKLY");
        let reason = continues(&new, &old, Ended::Deleted(day("2026-11-03"))).unwrap();
        assert!(
            reason.ends_with("weekly (the earlier cadence is not known)"),
            "{reason}"
        );
    }
}
