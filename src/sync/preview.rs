//! A series' next agenda as the next pass will write it: the same agenda step a pass runs
//! (`sync --dry-run` uses it too), read-only, over the cached copy of the event (iCalendar for
//! CalDAV, the event's JSON for Google).

use chrono_tz::Tz;

use chrono::{DateTime, Utc};

use crate::agenda::{Format, Template};
use crate::config::Config;
use crate::model::Series;
use crate::provider::caldav::CaldavSettings;
use crate::provider::google::client::GoogleEvent;
use crate::provider::google::convert::series_from_events;
use crate::provider::google::pass::GoogleSettings;
use crate::store::{Account, CachedEvent, Provider, SeriesRow, Store};
use crate::sync::series::SeriesStep;

/// What a preview reads: the cache in the store, the agenda settings, and the time it is.
pub struct Previewer<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    pub template: &'a Template,
    pub now: DateTime<Utc>,
}

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
pub async fn next_agenda(s: &Previewer<'_>, row: &SeriesRow) -> Result<Option<NextAgenda>, String> {
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
    let now = s.now;
    let step = SeriesStep {
        store: s.store,
        cfg: &s.config.agenda,
        template: s.template,
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

/// One 1:1 an account's preview found: who it is with, why it was taken as a 1:1, and the next
/// occurrence that would get an agenda (or why none would).
#[derive(Debug, serde::Serialize)]
pub struct FoundOneOnOne {
    pub series_id: i64,
    pub summary: String,
    /// The direct: "Name <address>", the address alone, or the name alone.
    pub with: Option<String>,
    pub reason: String,
    /// Whether the manager organizes it (only the organizer's copy is written).
    pub writes_agenda: bool,
    /// The next occurrence and its agenda; `None` when no occurrence is ahead.
    pub next: Option<NextAgenda>,
    /// Why the agenda cannot be shown (an unreadable cached event...).
    pub problem: Option<String>,
}

/// The tracked 1:1s of an account's enabled calendars with their next agenda, as its first
/// write would put them: what `connect` and the web page show before anything is written.
pub async fn account_preview(
    p: &Previewer<'_>,
    account_id: i64,
) -> Result<Vec<FoundOneOnOne>, crate::store::StoreError> {
    let mut found = Vec::new();
    for cal in p.store.list_calendars(account_id).await? {
        if !cal.enabled {
            continue;
        }
        for row in p.store.list_series_in(cal.id).await? {
            if !row.tracked() {
                continue;
            }
            let with = match (&row.direct_name, &row.direct_email) {
                (Some(n), Some(e)) if n != e => Some(format!("{n} <{e}>")),
                (_, Some(e)) => Some(e.clone()),
                (Some(n), None) => Some(n.clone()),
                (None, None) => None,
            };
            let (next, problem) = match next_agenda(p, &row).await {
                Ok(next) => (next, row.last_error.clone()),
                Err(why) => (None, Some(why)),
            };
            found.push(FoundOneOnOne {
                series_id: row.id,
                summary: row.summary.clone(),
                with,
                reason: row.detection_reason.clone(),
                writes_agenda: row.owner_is_organizer,
                next,
                problem,
            });
        }
    }
    Ok(found)
}
