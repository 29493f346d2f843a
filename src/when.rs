//! Meeting times as people read them (DESIGN.md guarantee 14): every place that shows when a
//! meeting was (history, the web pages, the report, the JSON) goes through here, with the
//! series' own zone, so a 10:00 Berlin 1:1 reads 10:00, in winter and in summer.

use chrono::{DateTime, FixedOffset, NaiveDate, SubsecRound, Utc};
use chrono_tz::Tz;

use crate::store::{SeriesRow, Store, StoreError};

/// An instant in `tz`, for JSON: RFC 3339 with the zone's offset (`2026-12-07T10:00:00+01:00`),
/// to the second (a pass's clock ticks on from `--now`; no reader needs the nanoseconds).
pub(crate) fn at(t: DateTime<Utc>, tz: Tz) -> DateTime<FixedOffset> {
    t.trunc_subsecs(0).with_timezone(&tz).fixed_offset()
}

/// An instant in `tz` for a person: `2026-12-07 10:00 CET` (the zone's abbreviation, which
/// chrono-tz gives as an offset such as `+03` where the zone has none).
pub(crate) fn display(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// The same, with the weekday, for the next agenda's line: `Mon 7 Dec 2026, 10:00 (CET)`.
pub(crate) fn display_long(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %-d %b %Y, %H:%M (%Z)")
        .to_string()
}

/// The day an instant falls on in `tz` (the day a person says "the meeting of").
pub(crate) fn day(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// The zone a series' times are shown in: its events' own zone as the last pass saw it, else
/// its calendar's, else `default` (`agenda.default_timezone`).
pub async fn series_zone(store: &Store, series: &SeriesRow, default: Tz) -> Result<Tz, StoreError> {
    if let Some(tz) = series.timezone.as_deref().and_then(|z| z.parse().ok()) {
        return Ok(tz);
    }
    let calendar = store.get_calendar(series.calendar_id).await?;
    Ok(calendar
        .timezone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn berlin_times_read_as_in_berlin_on_both_sides_of_the_dst_change() {
        let berlin = chrono_tz::Europe::Berlin;
        // 10:00 Berlin in winter is 09:00 UTC; after 29 March 2026 it is 08:00 UTC.
        let winter = Utc.with_ymd_and_hms(2026, 3, 23, 9, 0, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 3, 30, 8, 0, 0).unwrap();
        assert_eq!(display(winter, berlin), "2026-03-23 10:00 CET");
        assert_eq!(display(summer, berlin), "2026-03-30 10:00 CEST");
        assert_eq!(at(winter, berlin).to_rfc3339(), "2026-03-23T10:00:00+01:00");
        assert_eq!(at(summer, berlin).to_rfc3339(), "2026-03-30T10:00:00+02:00");
        assert_eq!(display(winter, Tz::UTC), "2026-03-23 09:00 UTC");
        // 00:30 in Berlin is still the day before in UTC.
        let late = Utc.with_ymd_and_hms(2026, 12, 6, 23, 30, 0).unwrap();
        assert_eq!(day(late, berlin).to_string(), "2026-12-07");
    }
}
