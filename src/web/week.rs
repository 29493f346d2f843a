//! The home page: the manager's coming 1:1s, the next 7 days then later, each with its direct,
//! its local date and time, where its agenda stands (written, to be written and when, or not
//! written and why), the direct's open topics and the open follow-ups, and one link to its page.
//! Accounts that need the manager (not started, refused credentials, failing) get one line each
//! above the list; their details are on `/accounts`.

use axum::extract::State;
use axum::response::Html;
use chrono::{DateTime, Duration, Utc};
use minijinja::context;
use serde::Serialize;

use super::auth::AdminSession;
use super::error::WebError;
use super::render::{render, when};
use super::state::WebState;
use crate::manage::AccountReadiness;
use crate::store::{Account, SeriesRow};
use crate::sync::preview::NextAgenda;

/// The week the home page calls "the next 7 days".
const WEEK_DAYS: i64 = 7;

/// Where a coming meeting's agenda stands, as a short kind (for the page's style and tests) and
/// a sentence.
#[derive(Debug, Serialize, PartialEq)]
pub(super) struct AgendaState {
    /// written / due / later / waiting / refused / other.
    kind: &'static str,
    text: String,
}

/// One coming 1:1 as the home page lists it.
#[derive(Serialize)]
struct Coming {
    series_id: i64,
    title: String,
    direct: String,
    when: String,
    /// The meeting's start, for `<time datetime>`.
    #[serde(rename = "at")]
    start: DateTime<Utc>,
    agenda: AgendaState,
    topics: usize,
    topics_from: String,
    follow_ups: usize,
}

/// A tracked 1:1 with no meeting the page can show ahead, and why.
#[derive(Serialize)]
struct NoneAhead {
    series_id: i64,
    title: String,
    direct: String,
    why: String,
}

/// An account that needs the manager, in one line with the one thing to do.
#[derive(Serialize)]
struct AccountNotice {
    id: i64,
    state: &'static str,
    text: String,
    link: String,
    action: &'static str,
}

/// What the agenda of the next meeting shows: see [`AgendaState`]. `written` is the block last
/// written into that occurrence, if any; `next_pass` when the account's next pass is due.
pub(super) fn agenda_state(
    account: &Account,
    row: &SeriesRow,
    next: &NextAgenda,
    written: Option<&str>,
    next_pass: Option<DateTime<Utc>>,
    lookahead_days: u32,
) -> AgendaState {
    let state = |kind, text: String| AgendaState { kind, text };
    if !row.owner_is_organizer {
        return state(
            "other",
            "Not written: someone else organizes it, and only the organizer's invite carries \
             an agenda."
                .into(),
        );
    }
    if let Some(why) = &row.last_error {
        return state("refused", format!("Not written: {why}."));
    }
    if !account.writing_started() {
        return state(
            "waiting",
            "To be written once you start its account (nothing is written before).".into(),
        );
    }
    let at_next_pass = match next_pass {
        Some(t) => format!("at the next pass ({})", when(t)),
        None => "at the next pass".to_string(),
    };
    match written {
        Some(text) if text == next.text => state("written", "Written into the invite.".into()),
        Some(_) => state(
            "written",
            format!("Written into the invite; the changes since reach it {at_next_pass}."),
        ),
        None if next.written_soon => state("due", format!("To be written {at_next_pass}.")),
        None => {
            let from = next.start - Duration::days(i64::from(lookahead_days));
            state(
                "later",
                format!(
                    "To be written {lookahead_days} days before, from {}.",
                    from.format("%a %-d %b")
                ),
            )
        }
    }
}

/// The direct as the page names them: their name, else their address.
fn direct_of(row: &SeriesRow) -> String {
    row.direct_name
        .clone()
        .or_else(|| row.direct_email.clone())
        .unwrap_or_else(|| "no other attendee named".into())
}

/// Whose topics the count is: the direct's first name, else "the direct".
fn first_name(row: &SeriesRow) -> String {
    row.direct_name
        .as_deref()
        .and_then(|n| n.split_whitespace().next())
        .map_or_else(|| "the direct".to_string(), str::to_string)
}

/// The line an account that needs the manager gets on the home page; none when all is well.
fn account_notice(a: &Account) -> Option<AccountNotice> {
    let r = AccountReadiness::from(a);
    let name = &a.display_name;
    let (text, link, action) = match r.state {
        "waiting_to_start" => (
            format!("{name}: nothing is written into its calendar until you start it."),
            format!("/accounts/{}", a.id),
            "Review and start",
        ),
        "needs_reconnect" => (
            format!("{name}: the server refused the stored credentials; no pass runs."),
            format!("/accounts/{}/reconnect", a.id),
            "Reconnect",
        ),
        "backing_off" => (
            format!(
                "{name}: its last {} pass(es) failed; it is tried again at {}.",
                a.consecutive_failures,
                a.next_due_at.map_or_else(|| "the next pass".into(), when)
            ),
            "/accounts".to_string(),
            "See the accounts",
        ),
        "disabled" => (
            format!("{name} is disabled: no pass runs."),
            "/accounts".to_string(),
            "See the accounts",
        ),
        _ => return None,
    };
    Some(AccountNotice {
        id: a.id,
        state: r.state,
        text,
        link,
        action,
    })
}

/// `/`: the coming 1:1s of every connected account, soonest first.
pub(super) async fn home(
    State(s): State<WebState>,
    session: AdminSession,
) -> Result<Html<String>, WebError> {
    let now = s.clock.now();
    let previewer = s.previewer();
    let lookahead = s.config.agenda.lookahead_days;
    let accounts = s.store.list_accounts().await?;
    let mut coming = Vec::new();
    let mut none_ahead = Vec::new();
    let mut notices = Vec::new();
    for a in accounts.iter().filter(|a| a.archived_at.is_none()) {
        notices.extend(account_notice(a));
        for cal in s.store.list_calendars(a.id).await? {
            if !cal.enabled {
                continue;
            }
            for row in s.store.list_series_in(cal.id).await? {
                if !row.tracked() {
                    continue;
                }
                let next = match crate::sync::preview::next_agenda(&previewer, &row).await {
                    Ok(Some(next)) => next,
                    Ok(None) => {
                        none_ahead.push(NoneAhead {
                            series_id: row.id,
                            title: row.summary.clone(),
                            direct: direct_of(&row),
                            why: "No meeting ahead in the calendar.".into(),
                        });
                        continue;
                    }
                    Err(why) => {
                        none_ahead.push(NoneAhead {
                            series_id: row.id,
                            title: row.summary.clone(),
                            direct: direct_of(&row),
                            why: format!("Its next meeting cannot be shown: {why}."),
                        });
                        continue;
                    }
                };
                let occurrence = s
                    .store
                    .list_occurrences(row.id)
                    .await?
                    .into_iter()
                    .find(|o| o.original_start == next.original_start && o.closed_at.is_none());
                let written = match occurrence {
                    Some(o) => s.store.occurrence_agenda(o.id).await?.0.map(|b| b.text),
                    None => None,
                };
                let items = s.store.list_items(row.id, true).await?;
                let count = |section: &str| items.iter().filter(|i| i.section == section).count();
                coming.push(Coming {
                    series_id: row.id,
                    title: row.summary.clone(),
                    direct: direct_of(&row),
                    agenda: agenda_state(
                        a,
                        &row,
                        &next,
                        written.as_deref(),
                        a.next_due_at,
                        lookahead,
                    ),
                    topics: count("direct"),
                    topics_from: first_name(&row),
                    follow_ups: count("action"),
                    when: next.when,
                    start: next.start,
                });
            }
        }
    }
    coming.sort_by(|a, b| (a.start, &a.title).cmp(&(b.start, &b.title)));
    none_ahead.sort_by(|a, b| a.title.cmp(&b.title));
    let week_end = now + Duration::days(WEEK_DAYS);
    let (week, later): (Vec<Coming>, Vec<Coming>) =
        coming.into_iter().partition(|c| c.start < week_end);
    Ok(render(
        "home.html",
        context! {
            admin => true,
            csrf => session.csrf(),
            connected => !accounts.is_empty(),
            notices => notices,
            week => week,
            later => later,
            none_ahead => none_ahead,
        },
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(started: bool) -> Account {
        Account {
            id: 1,
            provider: crate::store::Provider::Caldav,
            display_name: "sam".into(),
            settings: serde_json::json!({}),
            credentials: None,
            state: crate::store::AccountState::Active,
            lease_owner: None,
            lease_expires_at: None,
            next_due_at: None,
            consecutive_failures: 0,
            last_success_at: None,
            last_error_at: None,
            last_error_kind: None,
            last_error: None,
            created_at: Utc::now(),
            writing_started_at: started.then(Utc::now),
            archived_at: None,
        }
    }

    fn row() -> SeriesRow {
        SeriesRow {
            id: 1,
            calendar_id: 1,
            uid: "u".into(),
            summary: "1:1 Alice / Sam".into(),
            manager_email: None,
            direct_email: Some("alice@example.com".into()),
            direct_name: Some("Alice Martin".into()),
            one_on_one: true,
            owner_is_organizer: true,
            confidence: 1.0,
            detection_reason: String::new(),
            override_: crate::detect::SeriesOverride::Auto,
            last_error: None,
            timezone: None,
            cadence: None,
            cadence_days: None,
            continues_series_id: None,
            continues_reason: None,
        }
    }

    fn next(soon: bool) -> NextAgenda {
        let start: DateTime<Utc> = "2026-04-27T08:00:00Z".parse().unwrap();
        NextAgenda {
            when: "Mon 27 Apr 2026, 10:00 (CEST)".into(),
            text: "the block".into(),
            written_soon: soon,
            html: false,
            start,
            original_start: start,
        }
    }

    #[test]
    fn the_agenda_state_says_written_when_due_or_why_not() {
        let (a, r) = (account(true), row());
        let pass: DateTime<Utc> = "2026-04-21T08:01:00Z".parse().unwrap();
        let kind = |a: &Account, r: &SeriesRow, n: &NextAgenda, w: Option<&str>| {
            agenda_state(a, r, n, w, Some(pass), 8)
        };
        let s = kind(&a, &r, &next(true), Some("the block"));
        assert_eq!(
            (s.kind, s.text.as_str()),
            ("written", "Written into the invite.")
        );
        let s = kind(&a, &r, &next(true), Some("an older block"));
        assert_eq!(s.kind, "written");
        assert!(s.text.contains("2026-04-21 08:01 UTC"), "{}", s.text);
        let s = kind(&a, &r, &next(true), None);
        assert_eq!(
            (s.kind, s.text.as_str()),
            (
                "due",
                "To be written at the next pass (2026-04-21 08:01 UTC)."
            )
        );
        let s = kind(&a, &r, &next(false), None);
        assert_eq!(
            (s.kind, s.text.as_str()),
            ("later", "To be written 8 days before, from Sun 19 Apr.")
        );
        assert_eq!(kind(&account(false), &r, &next(true), None).kind, "waiting");
        let mut refused = row();
        refused.last_error = Some("the description is too large".into());
        let s = kind(&a, &refused, &next(true), Some("the block"));
        assert_eq!(
            (s.kind, s.text.as_str()),
            ("refused", "Not written: the description is too large.")
        );
        let mut other = row();
        other.owner_is_organizer = false;
        assert_eq!(kind(&a, &other, &next(true), None).kind, "other");
    }
}
