//! A series' next agenda as the next pass will write it: the same agenda step a pass runs
//! (`sync --dry-run` uses it too), read-only, over the cached copy of the event (iCalendar for
//! CalDAV, the event's JSON for Google).

use chrono_tz::Tz;

use super::WebState;
use crate::agenda::Format;
use crate::model::Series;
use crate::provider::caldav::CaldavSettings;
use crate::provider::google::client::GoogleEvent;
use crate::provider::google::convert::series_from_events;
use crate::provider::google::pass::GoogleSettings;
use crate::store::{Account, CachedEvent, Provider, SeriesRow};
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
    /// The block is the HTML source a Google description will hold.
    pub html: bool,
}

/// The preview, `Ok(None)` when no occurrence is ahead, or a sentence saying why there is none.
/// CalDAV series read their cached iCalendar; Google series their cached JSON events, and the
/// block is the HTML the pass will write into the Google description.
pub async fn next_agenda(s: &WebState, row: &SeriesRow) -> Result<Option<NextAgenda>, String> {
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
    let cached = s
        .store
        .events_by_uid(cal.id, &row.uid)
        .await
        .map_err(|e| fail("cannot read the cached event", &e))?;
    if cached.is_empty() {
        // Nothing cached with a text: not yet read, or no longer a recurring series.
        return Err(
            "the calendar holds no recurring series with this UID (one just made appears \
             after the next pass)"
                .into(),
        );
    }
    let calendar_tz: Tz = cal
        .timezone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(s.config.agenda.default_timezone);
    let found = match account.provider {
        Provider::Caldav => caldav_series(&account, row, &cached, calendar_tz)?,
        Provider::Google => google_series(&account, row, &cached, calendar_tz)?,
    };
    let now = s.clock.now();
    let step = SeriesStep {
        store: &s.store,
        cfg: &s.config.agenda,
        template: &s.template,
        format: found.format,
        manager_name: &found.manager,
        now,
        read_only: true,
    };
    let preview = step
        .preview(row, &found.series, found.tz)
        .await
        .map_err(|e| fail("cannot render the agenda", &e))?;
    Ok(preview.map(|(occ, block)| {
        let horizon = now + chrono::Duration::days(i64::from(s.config.agenda.lookahead_days));
        NextAgenda {
            when: crate::when::display_long(occ.start, occ.tz),
            text: block.text,
            written_soon: occ.start <= horizon,
            html: block.format == Format::GoogleHtml,
        }
    }))
}

fn fail(what: &str, e: &dyn std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// A series read from the cache, with what the agenda step needs to render it as its provider's
/// pass would.
struct Found {
    series: Series,
    tz: Tz,
    manager: String,
    format: Format,
}

fn caldav_series(
    account: &Account,
    row: &SeriesRow,
    cached: &[CachedEvent],
    calendar_tz: Tz,
) -> Result<Found, String> {
    let settings =
        CaldavSettings::from_account(account).map_err(|e| fail("account settings", &e))?;
    let parsed = crate::ics::parse(cached[0].raw.as_bytes())
        .map_err(|e| fail("the cached event cannot be read", &e))?;
    let series = parsed
        .series
        .into_iter()
        .find(|x| x.uid == row.uid)
        .ok_or("the series is gone from the cached event")?;
    let manager = crate::provider::caldav::pass::manager_name(&series, &settings.owner());
    Ok(Found {
        series,
        tz: parsed.x_wr_timezone.unwrap_or(calendar_tz),
        manager,
        format: Format::Plain,
    })
}

/// The master and exceptions cached for the series, grouped as the Google pass groups them.
fn google_series(
    account: &Account,
    row: &SeriesRow,
    cached: &[CachedEvent],
    calendar_tz: Tz,
) -> Result<Found, String> {
    let settings =
        GoogleSettings::from_account(account).map_err(|e| fail("account settings", &e))?;
    let events = cached
        .iter()
        .map(|c| {
            serde_json::from_str::<GoogleEvent>(&c.raw)
                .map_err(|e| fail(&format!("cached event {} cannot be read", c.remote_id), &e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (all, _) = series_from_events(&events, Some(calendar_tz));
    let series = all
        .into_iter()
        .find(|x| x.uid == row.uid && x.master.is_some())
        .ok_or("the series is gone from the cached events")?;
    let manager = crate::provider::caldav::pass::manager_name(&series, &settings.owner(&events));
    Ok(Found {
        series,
        tz: calendar_tz,
        manager,
        format: Format::GoogleHtml,
    })
}
