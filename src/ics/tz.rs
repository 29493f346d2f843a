//! TZID resolution: IANA names (with the prefixes some producers add), Windows zone names via
//! the CLDR table, and custom VTIMEZONEs matched to the IANA zone that has the same rules.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::{OffsetComponents, Tz};

use super::raw::{Component, Document};
use super::windows_zones::WINDOWS_ZONES;

/// Resolves a TZID by name alone: IANA (exact, then case-insensitive), IANA after a producer
/// prefix (`/mozilla.org/20050126_1/Europe/Berlin`, `/citadel.org/.../Europe/Berlin`), Windows.
pub(crate) fn zone_by_name(tzid: &str) -> Option<Tz> {
    let name = tzid.trim().trim_matches('"').trim();
    if name.is_empty() {
        return None;
    }
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    if let Some(tz) = windows_zone(name) {
        return Some(tz);
    }
    // Prefixed IANA names: try every suffix that starts after a '/'.
    for (i, _) in name.match_indices('/') {
        let rest = &name[i + 1..];
        if let Ok(tz) = rest.parse::<Tz>() {
            return Some(tz);
        }
    }
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(name))
        .copied()
}

fn windows_zone(name: &str) -> Option<Tz> {
    WINDOWS_ZONES
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(name))
        .and_then(|(_, iana)| iana.parse().ok())
}

/// The zones a calendar's TZIDs denote, with custom VTIMEZONEs resolved once per calendar.
#[derive(Debug, Default)]
pub(crate) struct ZoneResolver {
    custom: HashMap<String, Option<Tz>>,
}

impl ZoneResolver {
    /// Reads the VTIMEZONE components under `root` (a VCALENDAR).
    pub(crate) fn from_calendar(doc: &Document<'_>, root: &Component) -> Self {
        let mut custom = HashMap::new();
        for vtz in root.children.iter().filter(|c| c.name == "VTIMEZONE") {
            let Some(tzid) = vtz.prop(doc, "TZID").map(|l| l.value.trim().to_string()) else {
                continue;
            };
            if zone_by_name(&tzid).is_some() {
                continue;
            }
            let by_location = vtz
                .prop(doc, "X-LIC-LOCATION")
                .and_then(|l| zone_by_name(&l.value));
            let tz = by_location.or_else(|| match_rules(doc, vtz));
            custom.insert(tzid, tz);
        }
        Self { custom }
    }

    /// The IANA zone a TZID denotes, or `None` when neither its name nor its VTIMEZONE is
    /// understood.
    pub(crate) fn resolve(&self, tzid: &str) -> Option<Tz> {
        zone_by_name(tzid).or_else(|| {
            self.custom
                .get(tzid.trim().trim_matches('"'))
                .copied()
                .flatten()
        })
    }
}

/// One observance of a VTIMEZONE: its onsets as instants and the offset it switches to.
struct Observance {
    onsets: Vec<DateTime<Utc>>,
    offset_to: i32,
}

const MATCH_YEARS: std::ops::RangeInclusive<i32> = 2015..=2035;

/// Finds the IANA zone whose offsets agree with a custom VTIMEZONE's rules at every onset (and
/// between them) in 2015-2035. Windows' canonical zones are preferred, so Outlook's
/// "Customized Time Zone" for Central Europe resolves to Europe/Berlin, not Africa/Ceuta.
fn match_rules(doc: &Document<'_>, vtz: &Component) -> Option<Tz> {
    let mut observances = Vec::new();
    for obs in vtz
        .children
        .iter()
        .filter(|c| c.name == "STANDARD" || c.name == "DAYLIGHT")
    {
        let offset_to = parse_offset(&obs.prop(doc, "TZOFFSETTO")?.value)?;
        let offset_from = obs
            .prop(doc, "TZOFFSETFROM")
            .and_then(|l| parse_offset(&l.value))
            .unwrap_or(offset_to);
        let start = obs
            .prop(doc, "DTSTART")
            .and_then(|l| super::read::parse_naive(&l.value))?;
        let mut walls = vec![start];
        if let Some(rule) = obs.prop(doc, "RRULE") {
            let until = NaiveDateTime::new(
                chrono::NaiveDate::from_ymd_opt(*MATCH_YEARS.end(), 12, 31)?,
                chrono::NaiveTime::MIN,
            );
            walls = super::expand::wall_rule(&rule.value, start, until, 2_000).ok()?;
        }
        for rdate in obs.props_named(doc, "RDATE") {
            walls.extend(rdate.value.split(',').filter_map(super::read::parse_naive));
        }
        let onsets = walls
            .into_iter()
            .map(|w| Utc.from_utc_datetime(&(w - Duration::seconds(i64::from(offset_from)))))
            .collect();
        observances.push(Observance { onsets, offset_to });
    }
    if observances.is_empty() {
        return None;
    }
    // The offset timeline: (instant, offset from then on), sorted.
    let mut timeline: Vec<(DateTime<Utc>, i32)> = observances
        .iter()
        .flat_map(|o| o.onsets.iter().map(move |t| (*t, o.offset_to)))
        .collect();
    timeline.sort();
    let lo = Utc
        .with_ymd_and_hms(*MATCH_YEARS.start(), 1, 1, 0, 0, 0)
        .single()?;
    let hi = Utc
        .with_ymd_and_hms(*MATCH_YEARS.end(), 12, 31, 0, 0, 0)
        .single()?;
    let offset_at = |t: DateTime<Utc>| -> Option<i32> {
        timeline
            .iter()
            .take_while(|(on, _)| *on <= t)
            .last()
            .map(|(_, off)| *off)
    };
    // Probe points: just before and after each onset in range, plus mid-year samples so a zone
    // without transitions is matched by its fixed offset.
    let mut probes = Vec::new();
    for (on, _) in timeline.iter().filter(|(on, _)| *on >= lo && *on <= hi) {
        probes.push(*on - Duration::hours(1));
        probes.push(*on + Duration::hours(1));
    }
    for year in MATCH_YEARS.step_by(5) {
        for month in [1, 7] {
            if let Some(t) = Utc.with_ymd_and_hms(year, month, 15, 12, 0, 0).single() {
                probes.push(t);
            }
        }
    }
    let expected: Vec<(DateTime<Utc>, i32)> = probes
        .into_iter()
        .filter_map(|p| offset_at(p).map(|o| (p, o)))
        .collect();
    if expected.is_empty() {
        return None;
    }
    let fits = |tz: Tz| {
        expected.iter().all(|(p, off)| {
            let o = tz.offset_from_utc_datetime(&p.naive_utc());
            (o.base_utc_offset() + o.dst_offset()).num_seconds() == i64::from(*off)
        })
    };
    WINDOWS_ZONES
        .iter()
        .filter_map(|(_, iana)| iana.parse::<Tz>().ok())
        .chain(chrono_tz::TZ_VARIANTS.iter().copied())
        .find(|tz| fits(*tz))
}

/// `+0100`, `-0530`, `+013045` to seconds east of UTC.
pub(crate) fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => (1, s),
    };
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[0..2].parse().ok()?;
    let m: i32 = digits[2..4].parse().ok()?;
    let sec: i32 = if digits.len() == 6 {
        digits[4..6].parse().ok()?
    } else {
        0
    };
    Some(sign * (h * 3600 + m * 60 + sec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cldr_windows_zone_maps_to_a_known_iana_zone() {
        for (win, iana) in WINDOWS_ZONES {
            assert!(iana.parse::<Tz>().is_ok(), "{win} -> {iana}");
        }
        assert_eq!(
            zone_by_name("W. Europe Standard Time"),
            Some(chrono_tz::Europe::Berlin)
        );
        assert_eq!(
            zone_by_name("Pacific Standard Time"),
            Some(chrono_tz::America::Los_Angeles)
        );
    }

    #[test]
    fn prefixed_and_miscased_iana_names_resolve() {
        assert_eq!(
            zone_by_name("/mozilla.org/20050126_1/America/New_York"),
            Some(chrono_tz::America::New_York)
        );
        assert_eq!(zone_by_name("europe/paris"), Some(chrono_tz::Europe::Paris));
        assert_eq!(zone_by_name("Customized Time Zone"), None);
    }

    #[test]
    fn offsets_parse_with_sign_and_seconds() {
        assert_eq!(parse_offset("+0100"), Some(3600));
        assert_eq!(parse_offset("-0530"), Some(-19800));
        assert_eq!(parse_offset("+013045"), Some(5445));
        assert_eq!(parse_offset("1"), None);
    }
}
