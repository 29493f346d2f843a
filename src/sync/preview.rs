//! A series' next agenda as the next pass will write it: the same agenda step a pass runs
//! (`sync --dry-run` uses it too), read-only, over the cached copy of the event, read by the
//! account's provider (`CalendarProvider::load_series`) as the pass reads it.

use chrono::{DateTime, Utc};

use super::pass::{Providers, manager_name};
use crate::agenda::{Format, Template};
use crate::config::Config;
use crate::store::{SeriesRow, Store};
use crate::sync::series::SeriesStep;

/// What a preview reads: the cache in the store, the agenda settings, and the time it is.
pub(crate) struct Previewer<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    pub template: &'a Template,
    pub providers: &'a Providers,
    /// Unseals the direct's link the invite shows.
    pub keyring: &'a crate::secrets::Keyring,
    pub now: DateTime<Utc>,
}

/// The next occurrence and the block it will carry.
#[derive(Debug, serde::Serialize)]
pub(crate) struct NextAgenda {
    /// The occurrence's start, in the event's own zone.
    pub when: String,
    /// The block, markers included, as it will stand in the description.
    pub text: String,
    /// Whether it is near enough (`agenda.lookahead_days`) to be written at the next pass.
    pub written_soon: bool,
    /// The block is the HTML source a Google description will hold.
    pub html: bool,
    /// The occurrence's start, for sorting and grouping (the home page's week).
    #[serde(skip)]
    pub start: DateTime<Utc>,
    /// When its rule placed it: the occurrence's identity in the store.
    #[serde(skip)]
    pub original_start: DateTime<Utc>,
}

/// Why a series' next agenda cannot be shown; each keeps the error it comes from.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PreviewError {
    #[error("cannot read {what}: {source}")]
    Store {
        what: &'static str,
        source: crate::store::StoreError,
    },
    #[error(
        "the calendar holds no recurring series with this UID (one just made appears after the \
         next pass)"
    )]
    NotCached,
    #[error("the series is gone from the cached event")]
    Gone,
    #[error("{0}")]
    Provider(#[from] crate::provider::ProviderError),
    #[error("cannot render the agenda: {0}")]
    Render(#[from] super::series::SeriesError),
}

/// The preview, `Ok(None)` when no occurrence is ahead, or why there is none. The series is read
/// from its cached events by its account's provider, as the pass reads it, and the block is what
/// the pass will write (HTML for a Google description).
pub(crate) async fn next_agenda(
    s: &Previewer<'_>,
    row: &SeriesRow,
) -> Result<Option<NextAgenda>, PreviewError> {
    let store = |what| move |source| PreviewError::Store { what, source };
    let cal = s
        .store
        .get_calendar(row.calendar_id)
        .await
        .map_err(store("the calendar"))?;
    let account = s
        .store
        .get_account(cal.account_id)
        .await
        .map_err(store("the account"))?;
    let cached = s
        .store
        .events_by_uid(cal.id, &row.uid)
        .await
        .map_err(store("the cached event"))?;
    if cached.is_empty() {
        // Nothing cached with a text: not yet read, or no longer a recurring series.
        return Err(PreviewError::NotCached);
    }
    let provider = s.providers.get(account.provider)?;
    let found = provider
        .load_series(&account, &cal, cached)?
        .ok_or(PreviewError::Gone)?;
    let manager = manager_name(&found.series, &found.owner);
    let now = s.now;
    let step = SeriesStep {
        store: s.store,
        link: super::series::InviteLink::from_config(s.config, s.keyring),
        cfg: &s.config.agenda,
        template: s.template,
        format: provider.format(),
        manager_name: &manager,
        now,
        read_only: true,
    };
    let preview = step.preview(row, &found.series, found.tz).await?;
    Ok(preview.map(|(occ, block)| {
        let horizon = now + chrono::Duration::days(i64::from(s.config.agenda.lookahead_days));
        NextAgenda {
            when: crate::when::display_long(occ.start, occ.tz),
            text: block.text,
            written_soon: occ.start <= horizon,
            html: block.format == Format::GoogleHtml,
            start: occ.start,
            original_start: occ.original_start,
        }
    }))
}

/// One 1:1 an account's preview found: who it is with, why it was taken as a 1:1, and the next
/// occurrence that would get an agenda (or why none would).
#[derive(Debug, serde::Serialize)]
pub(crate) struct FoundOneOnOne {
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
pub(crate) async fn account_preview(
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
                Err(why) => (None, Some(why.to_string())),
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
