//! Fuzz target: parse + expand + the description edit must never panic or hang on any input.
#![no_main]

use chrono::{Duration, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use oneonone::ics;

fuzz_target!(|data: &[u8]| {
    let cal = match ics::parse(data) {
        Ok(cal) => cal,
        Err(e) => {
            // Every error says where, unless there is no calendar at all.
            assert!(e.line().is_some() || e == ics::IcsError::NotACalendar, "{e}");
            return;
        }
    };
    let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let to = from + Duration::days(400);
    let now = from + Duration::days(10);
    for series in cal.series.iter().take(8) {
        let Ok(occurrences) = ics::expand(series, from, to, chrono_tz::Tz::Europe__Berlin) else {
            continue;
        };
        if let Some(o) = occurrences.first() {
            let text = String::from_utf8_lossy(&data[..data.len().min(200)]).into_owned();
            if let Ok(out) =
                ics::set_occurrence_description(data, &series.uid, o.original_start, &text, now)
            {
                // What we wrote must read back.
                assert!(ics::parse(&out).is_ok());
            }
        }
    }
    let _ = ics::inspect(data, from, 3, chrono_tz::Tz::UTC);
});
