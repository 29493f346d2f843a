//! A series' next agenda as the next pass will write it: the same agenda step a pass runs
//! (`sync --dry-run` uses it too), read-only, over the cached copy of the event.

use chrono_tz::Tz;

use super::WebState;
use crate::agenda::Format;
use crate::provider::caldav::CaldavSettings;
use crate::store::{Provider, SeriesRow};
use crate::sync::series::SeriesStep;

/// The next occurrence and the block it will carry.
#[derive(Debug, serde::Serialize)]
pub struct NextAgenda {
    /// The occurrence's start, in the event's own zone.
    pub when: String,
    /// The block, markers included, as it will stand in the description.
    pub text: String,
    /// Whether it is near enough (`agenda.lookahead_days`) to be written at the next pass.
    pub written_soon: bool,
}

/// The preview, `Ok(None)` when no occurrence is ahead, or a sentence saying why there is none.
pub async fn next_agenda(s: &WebState, row: &SeriesRow) -> Result<Option<NextAgenda>, String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");
    let cal = s
        .store
        .get_calendar(row.calendar_id)
        .await
        .map_err(|e| fail("cannot read the calendar", &e))?;
    let account = s
        .store
        .get_account(cal.account_id)
        .await
        .map_err(|e| fail("cannot read the account", &e))?;
    if account.provider != Provider::Caldav {
        return Err("the preview is shown for CalDAV calendars only".into());
    }
    let settings =
        CaldavSettings::from_account(&account).map_err(|e| fail("account settings", &e))?;
    let cached = s
        .store
        .events_by_uid(cal.id, &row.uid)
        .await
        .map_err(|e| fail("cannot read the cached event", &e))?
        .into_iter()
        .next()
        .ok_or("the event is not in the cache yet (wait for a pass)")?;
    let parsed = crate::ics::parse(cached.raw.as_bytes())
        .map_err(|e| fail("the cached event cannot be read", &e))?;
    let series = parsed
        .series
        .iter()
        .find(|x| x.uid == row.uid)
        .ok_or("the series is gone from the cached event")?;
    let default_tz: Tz = cal
        .timezone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(s.config.agenda.default_timezone);
    let tz = parsed.x_wr_timezone.unwrap_or(default_tz);
    let manager = crate::provider::caldav::pass::manager_name(series, &settings.owner());
    let now = s.clock.now();
    let step = SeriesStep {
        store: &s.store,
        cfg: &s.config.agenda,
        template: &s.template,
        format: Format::Plain,
        manager_name: &manager,
        now,
        read_only: true,
    };
    let preview = step
        .preview(row, series, tz)
        .await
        .map_err(|e| fail("cannot render the agenda", &e))?;
    Ok(preview.map(|(occ, block)| {
        let horizon = now + chrono::Duration::days(i64::from(s.config.agenda.lookahead_days));
        NextAgenda {
            when: occ
                .start
                .with_timezone(&occ.tz)
                .format("%a %-d %b %Y, %H:%M (%Z)")
                .to_string(),
            text: block.text,
            written_soon: occ.start <= horizon,
        }
    }))
}
