//! The topics of a 1:1 on its page, managed by the manager with plain forms (no JavaScript): add
//! one to any section, change its text, close it as done or dropped, move it to another section
//! or up and down in its own; "Sync now" for the series' account; and a private note on one past
//! meeting. Every change goes through `manage` (the CLI's and the API's functions) and reaches
//! the invite at the account's next pass, which the page names.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::auth::{AdminSession, CsrfOnly};
use super::error::{Path, WebError};
use super::state::WebState;
use crate::agenda::{ItemState, Section};
use crate::manage::{self, ItemChange, ItemView, ManageError};
use crate::store::{ItemSource, SeriesRow};

/// The sections in the order of the agenda, with the label the page gives each.
fn sections(direct: &str) -> [(Section, String); 3] {
    [
        (Section::Direct, format!("{direct}'s topics")),
        (Section::Manager, "Your topics".to_string()),
        (Section::Action, "Follow-ups and action items".to_string()),
    ]
}

fn label_of(row: &SeriesRow, section: &str) -> String {
    sections(&direct_of(row))
        .into_iter()
        .find(|(s, _)| s.as_str() == section)
        .map_or_else(|| section.to_string(), |(_, l)| l)
}

fn direct_of(row: &SeriesRow) -> String {
    row.direct_name
        .clone()
        .or_else(|| row.direct_email.clone())
        .unwrap_or_else(|| "Your report".into())
}

/// What the last form did (the page after the redirect) or why it was refused (the page
/// rendered again, with what was typed).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Feedback {
    /// added, edited, done, dropped or moved (`?did=`), with the item (`?item=`).
    #[serde(default)]
    did: Option<String>,
    #[serde(default)]
    item: Option<i64>,
    #[serde(skip)]
    error: Option<String>,
    /// The text typed into a refused "Add" form, and its section, to show it again.
    #[serde(skip)]
    typed: Option<(String, String)>,
}

#[derive(Serialize)]
struct SectionView {
    key: &'static str,
    label: String,
    items: Vec<ItemLine>,
    /// The text typed into this section's refused "Add" form.
    typed: Option<String>,
}

#[derive(Serialize)]
struct ItemLine {
    #[serde(flatten)]
    item: ItemView,
    first: bool,
    last: bool,
    /// The other sections it can move to: (key, label).
    elsewhere: Vec<(&'static str, String)>,
}

/// The topics block of a series' page.
#[derive(Serialize)]
pub(super) struct TopicsView {
    sections: Vec<SectionView>,
    /// When a change reaches the invite, in words.
    next_pass: String,
    /// The account "Sync now" asks a pass of, when passes write.
    sync_account: Option<i64>,
    notice: Option<String>,
    error: Option<String>,
}

/// When the account's next pass writes the invite, in the series' zone.
async fn next_pass(s: &WebState, row: &SeriesRow) -> Result<(String, Option<i64>), WebError> {
    let account = s
        .store
        .get_account(s.store.get_calendar(row.calendar_id).await?.account_id)
        .await?;
    if account.archived_at.is_some() {
        return Ok((
            "Its account is removed: nothing reaches the invite until the calendar is connected again."
                .into(),
            None,
        ));
    }
    if !account.writing_started() {
        return Ok((
            format!(
                "Nothing is written into the invite until you press Start on the account's page (/accounts/{}).",
                account.id
            ),
            None,
        ));
    }
    if account.current_error().is_some() {
        return Ok((
            format!(
                "Changes reach the invite once account {} passes again: its page says what is wrong.",
                account.id
            ),
            Some(account.id),
        ));
    }
    let tz = crate::when::series_zone(&s.store, row, s.config.agenda.default_timezone).await?;
    let text = match account.next_due_at {
        Some(t) if t > s.clock.now() => format!(
            "Changes reach the invite at the next pass, around {}.",
            crate::when::display(t, tz)
        ),
        _ => "Changes reach the invite at the next pass, which is due now.".into(),
    };
    Ok((text, Some(account.id)))
}

/// The topics of `row` by section, with what the last form did and when changes reach the invite.
pub(super) async fn view(
    s: &WebState,
    row: &SeriesRow,
    feedback: Feedback,
) -> Result<TopicsView, WebError> {
    let items = manage::list_items(&s.store, row.id, true).await?;
    let notice = match (feedback.did.as_deref(), feedback.item) {
        (Some(did), Some(id)) => items
            .iter()
            .find(|i| i.id == id)
            .and_then(|i| notice(row, did, i)),
        _ => None,
    };
    let all = sections(&direct_of(row));
    let sections = all
        .iter()
        .map(|(section, label)| {
            let open: Vec<&ItemView> = items
                .iter()
                .filter(|i| i.section == section.as_str() && i.position.is_some())
                .collect();
            let n = open.len();
            SectionView {
                key: section.as_str(),
                label: label.clone(),
                items: open
                    .into_iter()
                    .enumerate()
                    .map(|(k, i)| ItemLine {
                        item: ItemView::clone(i),
                        first: k == 0,
                        last: k + 1 == n,
                        elsewhere: all
                            .iter()
                            .filter(|(o, _)| o != section)
                            .map(|(o, l)| (o.as_str(), l.clone()))
                            .collect(),
                    })
                    .collect(),
                typed: feedback
                    .typed
                    .as_ref()
                    .filter(|(k, _)| k == section.as_str())
                    .map(|(_, t)| t.clone()),
            }
        })
        .collect();
    let (next_pass, sync_account) = next_pass(s, row).await?;
    Ok(TopicsView {
        sections,
        next_pass,
        sync_account,
        notice,
        error: feedback.error,
    })
}

/// The line that says what a form did, naming the topic once.
fn notice(row: &SeriesRow, did: &str, i: &ItemView) -> Option<String> {
    let label = label_of(row, &i.section);
    Some(match did {
        "added" => format!("“{}” is added to {label}.", i.text),
        "edited" => format!("The topic now reads “{}”.", i.text),
        "done" => format!(
            "“{}” is done: it leaves the agenda and stays in the history.",
            i.text
        ),
        "dropped" => format!(
            "“{}” is dropped: it leaves the agenda and stays in the history.",
            i.text
        ),
        "moved" => format!(
            "“{}” is now #{} of {label}.",
            i.text,
            i.position.unwrap_or_default()
        ),
        _ => return None,
    })
}

/// Back to the series' page, at its topics, saying what was done to which item.
fn done(series: i64, did: &str, item: i64) -> Response {
    Redirect::to(&format!("/series/{series}?did={did}&item={item}#topics")).into_response()
}

/// The series' page again with why the form was refused (422), and what was typed into an
/// "Add" form.
async fn refused(
    s: &WebState,
    session: &AdminSession,
    id: i64,
    e: ManageError,
    typed: Option<(String, String)>,
) -> Result<Response, WebError> {
    let message = match e {
        ManageError::Invalid { message, .. } => message,
        ManageError::Conflict(m) | ManageError::NeedsConfirmation(m) => m,
        other => return Err(other.into()),
    };
    let mut message = message.clone();
    if let Some(c) = message.get_mut(0..1) {
        c.make_ascii_uppercase();
    }
    let feedback = Feedback {
        error: Some(format!("{message}.")),
        typed,
        ..Default::default()
    };
    let page = super::pages::series_view(s, session, id, None, feedback).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// The item `item` of series `series`: a 404 for one of another series.
async fn item_of(s: &WebState, series: i64, item: i64) -> Result<ItemView, WebError> {
    s.store.get_series(series).await?;
    let found = manage::get_item(&s.store, item).await?;
    if found.series_id != series {
        return Err(WebError::NotFound {
            what: "item",
            id: item.to_string(),
        });
    }
    Ok(found)
}

#[derive(Deserialize)]
pub(super) struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    section: String,
    #[serde(default)]
    text: String,
}

fn section_of(raw: &str) -> Result<Section, WebError> {
    Section::parse(raw).ok_or_else(|| {
        WebError::BadRequest(format!(
            "{raw:?} is not a section: use direct, manager or action."
        ))
    })
}

/// "Add" under a section.
pub(super) async fn add(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<AddForm>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let section = section_of(&form.section)?;
    let now = s.clock.now();
    match manage::add_item(&s.store, id, section, &form.text, ItemSource::Web, now).await {
        Ok(item) => Ok(done(id, "added", item.id)),
        Err(e) => {
            let typed = Some((section.as_str().to_string(), form.text));
            refused(&s, &session, id, e, typed).await
        }
    }
}

#[derive(Deserialize)]
pub(super) struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// "Save" beside a topic's text.
pub(super) async fn edit(
    State(s): State<WebState>,
    session: AdminSession,
    Path((id, item)): Path<(i64, i64)>,
    axum::Form(form): axum::Form<EditForm>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    item_of(&s, id, item).await?;
    let change = ItemChange {
        text: Some(&form.text),
        ..Default::default()
    };
    match manage::update_item(&s.store, item, change, s.clock.now()).await {
        Ok(_) => Ok(done(id, "edited", item)),
        Err(e) => refused(&s, &session, id, e, None).await,
    }
}

#[derive(Deserialize)]
pub(super) struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: String,
}

/// "Done" or "Drop" beside a topic.
pub(super) async fn close(
    State(s): State<WebState>,
    session: AdminSession,
    Path((id, item)): Path<(i64, i64)>,
    axum::Form(form): axum::Form<CloseForm>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let state = match form.state.as_str() {
        "done" => ItemState::Done,
        "dropped" => ItemState::Dropped,
        other => {
            return Err(WebError::BadRequest(format!(
                "{other:?} is not a way to close a topic: use done or dropped."
            )));
        }
    };
    item_of(&s, id, item).await?;
    match manage::close_item(&s.store, item, state, ItemSource::Web, s.clock.now()).await {
        Ok(closed) => Ok(done(id, &closed.state, item)),
        Err(e) => refused(&s, &session, id, e, None).await,
    }
}

#[derive(Deserialize)]
pub(super) struct MoveForm {
    #[serde(default)]
    csrf: String,
    /// Another section (empty: its own).
    #[serde(default)]
    section: String,
    /// Its new place in the section, 1 first (empty: the end of another section).
    #[serde(default)]
    position: String,
}

/// "Up", "Down" and "Move to" beside a topic.
pub(super) async fn move_item(
    State(s): State<WebState>,
    session: AdminSession,
    Path((id, item)): Path<(i64, i64)>,
    axum::Form(form): axum::Form<MoveForm>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let section = match form.section.trim() {
        "" => None,
        raw => Some(section_of(raw)?),
    };
    let position = match form.position.trim() {
        "" => None,
        raw => Some(raw.parse::<usize>().map_err(|_| {
            WebError::BadRequest(format!("The position {raw:?} is not a number like 1."))
        })?),
    };
    item_of(&s, id, item).await?;
    match manage::move_item(&s.store, item, section, position, s.clock.now()).await {
        Ok(_) => Ok(done(id, "moved", item)),
        Err(e) => refused(&s, &session, id, e, None).await,
    }
}

/// "Sync now" on the series' page: a pass of its account, now; back to the topics.
pub(super) async fn sync(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let row = s.store.get_series(id).await?;
    let account = s.store.get_calendar(row.calendar_id).await?.account_id;
    s.store.request_sync(account, s.clock.now()).await?;
    s.wake.notify_one();
    Ok(Redirect::to(&format!("/series/{id}#topics")).into_response())
}

#[derive(Deserialize)]
pub(super) struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// "Add the note" on one past meeting: a private note about that meeting.
pub(super) async fn meeting_note(
    State(s): State<WebState>,
    session: AdminSession,
    Path((id, occurrence)): Path<(i64, i64)>,
    axum::Form(form): axum::Form<NoteForm>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let row = s.store.get_series(id).await?;
    let occurrences = s.store.list_occurrences(id).await?;
    let occ = occurrences
        .iter()
        .find(|o| o.id == occurrence)
        .ok_or_else(|| WebError::NotFound {
            what: "meeting",
            id: occurrence.to_string(),
        })?;
    let tz = crate::when::series_zone(&s.store, &row, s.config.agenda.default_timezone).await?;
    let note = crate::notes::add_about(
        &s.store,
        &s.keyring,
        &row,
        occ,
        tz,
        &form.text,
        s.clock.now(),
    )
    .await?;
    tracing::info!(
        series = id,
        note = note.id,
        "private note on a meeting added from the web"
    );
    Ok(Redirect::to(&format!("/series/{id}#meeting-{occurrence}")).into_response())
}

/// The private notes about each meeting of `row`, by occurrence id (as text, for the template).
pub(super) async fn meeting_notes(
    s: &WebState,
    row: &SeriesRow,
) -> Result<HashMap<String, Vec<String>>, WebError> {
    let tz = crate::when::series_zone(&s.store, row, s.config.agenda.default_timezone).await?;
    let occurrences = s.store.list_occurrences(row.id).await?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for n in crate::notes::list(&s.store, &s.keyring, row.id).await? {
        if let Some(o) = occurrences.iter().find(|o| n.is_about(o, tz)) {
            out.entry(o.id.to_string()).or_default().push(n.text);
        }
    }
    Ok(out)
}
