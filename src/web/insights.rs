//! Insights and private notes on the admin pages: the numbers and chart of one series on its page
//! with its private notes (and the form to add one), the 1:1s that need attention in words
//! (`/insights`), and every tracked series' numbers, the ones slipping first (`/insights/all`). Admin only: the direct's link never renders any of this.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::auth::AdminSession;
use super::error::{Path, WebError};
use super::render::{render, when};
use super::state::WebState;
use crate::insights::{
    self, Attention, DEFAULT_WEEKS, MAX_WEEKS, Report, SeriesHistory, SeriesInsights,
};
use crate::notes::{self, PrivateNote};
use crate::store::SeriesRow;

/// One series' insights with its chart (an SVG built from dates and outcomes only).
#[derive(Serialize)]
pub(super) struct InsightsView {
    #[serde(flatten)]
    insights: SeriesInsights,
    last_held_on: Option<String>,
    chart: String,
}

impl InsightsView {
    fn new(history: &SeriesHistory, now: DateTime<Utc>, weeks: u32) -> Self {
        let insights = insights::series_insights(history, now, &insights::windows(weeks));
        Self {
            last_held_on: insights.last_held.map(|t| t.format("%Y-%m-%d").to_string()),
            chart: insights::chart_svg(history, now, weeks),
            insights,
        }
    }
}

/// A private note as a page shows it.
#[derive(Serialize)]
pub(super) struct NoteView {
    about: String,
    text: String,
    added: String,
}

impl From<PrivateNote> for NoteView {
    fn from(n: PrivateNote) -> Self {
        Self {
            about: n
                .meeting_date
                .map_or_else(|| "the series".into(), |d| format!("meeting of {d}")),
            text: n.text,
            added: when(n.created_at),
        }
    }
}

/// What the page of one series adds: its insights and its private notes.
pub(super) async fn series_extras(
    s: &WebState,
    row: &SeriesRow,
) -> Result<(InsightsView, Vec<NoteView>), WebError> {
    let history =
        insights::load_series(&s.store, row.clone(), s.config.agenda.default_timezone).await?;
    let view = InsightsView::new(&history, s.clock.now(), DEFAULT_WEEKS);
    let notes = notes::list(&s.store, &s.keyring, row.id)
        .await?
        .into_iter()
        .map(NoteView::from)
        .collect();
    Ok((view, notes))
}

#[derive(Deserialize)]
pub(super) struct Weeks {
    weeks: Option<String>,
}

/// `?weeks=N`, from 1 to [`MAX_WEEKS`]; absent or empty: [`DEFAULT_WEEKS`].
fn weeks_of(q: &Weeks) -> Result<u32, WebError> {
    match q.weeks.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        None => Ok(DEFAULT_WEEKS),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|w| (1..=MAX_WEEKS).contains(w))
            .ok_or_else(|| {
                WebError::BadRequest(format!(
                    "weeks={raw:?} is not a number of weeks from 1 to {MAX_WEEKS}."
                ))
            }),
    }
}

/// The first name a reason calls the direct by ("Alice brought no topic..."), by series.
async fn first_names(s: &WebState) -> Result<std::collections::HashMap<i64, String>, WebError> {
    Ok(s.store
        .list_series()
        .await?
        .into_iter()
        .map(|r| {
            let name = r
                .direct_name
                .as_deref()
                .and_then(|n| n.split_whitespace().next())
                .map_or_else(|| "the direct".to_string(), str::to_string);
            (r.id, name)
        })
        .collect())
}

/// `/insights`: one line per 1:1 that needs attention, with its reasons in words, the most
/// urgent first (see `insights::attention`); one calm line when none does. The numbers are one
/// click away, on `/insights/all`.
pub(super) async fn overview(
    State(s): State<WebState>,
    session: AdminSession,
    Query(q): Query<Weeks>,
) -> Result<Html<String>, WebError> {
    let weeks = weeks_of(&q)?;
    let now = s.clock.now();
    let histories = insights::load(&s.store, s.config.agenda.default_timezone).await?;
    let names = first_names(&s).await?;
    let windows = insights::windows(weeks);
    let mut lines: Vec<Attention> = histories
        .iter()
        .filter_map(|h| {
            let i = insights::series_insights(h, now, &windows);
            let name = names.get(&h.series_id).map_or("the direct", String::as_str);
            insights::attention(h, &i, name, now)
        })
        .collect();
    insights::by_urgency(&mut lines);
    Ok(render(
        "insights.html",
        context! {
            admin => true, csrf => session.csrf(), as_of => when(now), weeks => weeks,
            tracked => histories.len(), lines => lines,
        },
    )?)
}

/// `/insights/all`: every tracked series with its numbers and chart, those with something to
/// look at first (then the longest since a held 1:1), with the totals.
pub(super) async fn all(
    State(s): State<WebState>,
    session: AdminSession,
    Query(q): Query<Weeks>,
) -> Result<Html<String>, WebError> {
    let weeks = weeks_of(&q)?;
    let now = s.clock.now();
    let histories = insights::load(&s.store, s.config.agenda.default_timezone).await?;
    let report = Report::build(&histories, now, weeks);
    let mut series: Vec<InsightsView> = histories
        .iter()
        .map(|h| InsightsView::new(h, now, weeks))
        .collect();
    series.sort_by_key(|v| {
        let i = &v.insights;
        (
            i.signals.is_empty(),
            std::cmp::Reverse(i.days_since_last_held.unwrap_or(i64::MAX)),
            i.title.clone(),
        )
    });
    Ok(render(
        "insights_all.html",
        context! {
            admin => true, csrf => session.csrf(), as_of => when(now), weeks => weeks,
            totals => report.totals, stale_items => report.stale_items, series => series,
            stale_after => insights::STALE_AFTER,
        },
    )?)
}

#[derive(Deserialize)]
pub(super) struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    /// `YYYY-MM-DD` (an `<input type="date">`); empty: a note about the series.
    #[serde(default)]
    meeting: String,
}

/// Adds a private note to a series (kept exactly as typed, encrypted) and goes back to its page.
pub(super) async fn add_note(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<NoteForm>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let row = s.store.get_series(id).await?;
    let meeting = match form.meeting.trim() {
        "" => None,
        raw => Some(raw.parse::<NaiveDate>().map_err(|_| {
            WebError::BadRequest(format!(
                "The meeting date {raw:?} is not a date like 2026-04-14."
            ))
        })?),
    };
    let tz = crate::when::series_zone(&s.store, &row, s.config.agenda.default_timezone).await?;
    let note = notes::add(
        &s.store,
        &s.keyring,
        &row,
        meeting,
        tz,
        &form.text,
        s.clock.now(),
    )
    .await?;
    tracing::info!(
        series = id,
        note = note.id,
        "private note added from the web"
    );
    Ok(Redirect::to(&format!("/series/{id}#notes")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_default_to_twelve_and_must_be_one_to_104() {
        let w = |v: Option<&str>| {
            weeks_of(&Weeks {
                weeks: v.map(String::from),
            })
        };
        assert_eq!(w(None).unwrap(), 12);
        assert_eq!(w(Some(" ")).unwrap(), 12);
        assert_eq!(w(Some("26")).unwrap(), 26);
        for bad in ["0", "105", "-3", "many"] {
            let e = w(Some(bad)).unwrap_err().to_string();
            assert!(e.contains(bad) && e.contains("1 to 104"), "{e}");
        }
    }
}
