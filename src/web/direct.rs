//! The direct's link `/d/<token>`: the next agenda and the direct's own topics (add, remove).
//! It shows nothing else of the manager's data: no other series, no history, no notes beyond
//! what the agenda in the invite already shows. A wrong and a revoked token get the same 404.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use super::auth::{csrf_for, same_secret, token_digest};
use super::pages::ItemView;
use super::{WebError, WebState, render};
use crate::store::{ItemSource, SeriesRow};

/// The longest topic accepted (characters): one agenda line, not a document.
const MAX_TOPIC_CHARS: usize = 300;

/// The tracked series a live link opens.
async fn resolve(s: &WebState, token: &str) -> Result<SeriesRow, WebError> {
    // A token of the wrong shape never reaches the database.
    if token.len() != 43 {
        return Err(WebError::NotFound);
    }
    let Some(id) = s.store.series_for_link(&token_digest(token)).await? else {
        return Err(WebError::NotFound);
    };
    let row = s.store.get_series(id).await?;
    if !row.tracked() {
        return Err(WebError::NotFound);
    }
    Ok(row)
}

fn check(token: &str, given: &str) -> Result<(), WebError> {
    if same_secret(given, &csrf_for("link", token)) {
        Ok(())
    } else {
        Err(WebError::Csrf)
    }
}

pub(super) async fn page(
    State(s): State<WebState>,
    Path(token): Path<String>,
) -> Result<Html<String>, WebError> {
    let row = resolve(&s, &token).await?;
    let (agenda, agenda_problem) =
        match crate::sync::preview::next_agenda(&s.previewer(), &row).await {
            Ok(a) => (a, None),
            // The reason may name the manager's account: the direct only hears there is none.
            Err(_) => (None, Some("The next agenda cannot be shown right now.")),
        };
    let topics: Vec<ItemView> = s
        .store
        .list_items(row.id, true)
        .await?
        .iter()
        .filter(|i| i.section == "direct" && i.source == ItemSource::Web.as_str())
        .map(ItemView::from)
        .collect();
    render(
        "direct.html",
        context! {
            admin => false, title => row.summary, agenda => agenda,
            agenda_problem => agenda_problem, topics => topics, token => token,
            link_csrf => csrf_for("link", &token), max_chars => MAX_TOPIC_CHARS,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct TopicForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

pub(super) async fn add_topic(
    State(s): State<WebState>,
    Path(token): Path<String>,
    axum::Form(form): axum::Form<TopicForm>,
) -> Result<Response, WebError> {
    let row = resolve(&s, &token).await?;
    check(&token, &form.csrf)?;
    // One agenda line: line breaks and runs of spaces become one space.
    let text = form.text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Err(WebError::BadRequest("The topic is empty.".into()));
    }
    if text.chars().count() > MAX_TOPIC_CHARS {
        return Err(WebError::BadRequest(format!(
            "The topic is longer than {MAX_TOPIC_CHARS} characters; shorten it."
        )));
    }
    let id = s
        .store
        .add_item(
            row.id,
            "direct",
            &text,
            ItemSource::Web,
            None,
            s.clock.now(),
        )
        .await?;
    tracing::info!(
        series = row.id,
        item = id,
        "topic added through the direct's link"
    );
    Ok(Redirect::to(&format!("/d/{token}")).into_response())
}

pub(super) async fn remove_topic(
    State(s): State<WebState>,
    Path((token, item)): Path<(String, i64)>,
    axum::Form(form): axum::Form<TopicForm>,
) -> Result<Response, WebError> {
    let row = resolve(&s, &token).await?;
    check(&token, &form.csrf)?;
    if !s.store.drop_web_topic(row.id, item, s.clock.now()).await? {
        return Err(WebError::NotFound);
    }
    Ok(Redirect::to(&format!("/d/{token}")).into_response())
}
