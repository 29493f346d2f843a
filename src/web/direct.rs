//! The direct's link `/d/<token>`: the next agenda and the direct's own topics (add, remove).
//! It shows nothing else of the manager's data: no other series, no history, no notes beyond
//! what the agenda in the invite already shows. A wrong and a revoked token get the same 404.
//!
//! Whoever holds the link is not trusted with more than a few agenda lines: each topic is one
//! line of text (no control characters, no invalid UTF-8, never the opt-out marker or a line
//! the agenda parser would take for a marker), a link holds at most `web.direct_topics_max_open`
//! open topics, and changes through one link are rate-limited (`web.direct_link_posts_per_minute`,
//! 429 with Retry-After). A refusal is not a dead end: the page comes back with the status,
//! why (above the form) and the text the direct typed (escaped by the template).

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;

use super::auth::{csrf_for, same_secret, token_digest};
use super::error::{Path, WebError};
use super::pages::ItemView;
use super::render::render;
use super::state::WebState;
use crate::agenda::{OPT_OUT_MARKER, holds_opt_out, reads_as_marker};
use crate::manage::ManageError;
use crate::store::{ItemRow, ItemSource, SeriesRow, StoreError};

/// The longest topic accepted (characters): one agenda line, not a document.
const MAX_TOPIC_CHARS: usize = 300;

/// Whole seconds to wait, rounded up, at least one: what Retry-After says.
fn wait_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The topics the direct added through the link and may still remove.
fn is_link_topic(i: &ItemRow) -> bool {
    i.section == "direct" && i.source == ItemSource::Web.as_str() && i.state == "open"
}

/// The tracked series a live link opens.
async fn resolve(s: &WebState, token: &str) -> Result<SeriesRow, WebError> {
    // A token of the wrong shape never reaches the database.
    if token.len() != 43 {
        return Err(WebError::NoSuchPage);
    }
    let Some(id) = s.store.series_for_link(&token_digest(token)).await? else {
        return Err(WebError::NoSuchPage);
    };
    match s.store.get_series(id).await {
        Ok(row) if row.tracked() => Ok(row),
        // Removed since, or no longer tracked: the answer of any dead link, naming nothing.
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(WebError::NoSuchPage),
        Err(e) => Err(e.into()),
    }
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
    direct_view(&s, &row, &token, None, "").await
}

/// The direct's page; after a refusal, with why (`refusal`, shown above the form) and the
/// text they typed back in the field, so a refused topic is a step, not a dead end.
async fn direct_view(
    s: &WebState,
    row: &SeriesRow,
    token: &str,
    refusal: Option<&str>,
    typed: &str,
) -> Result<Html<String>, WebError> {
    let (agenda, agenda_problem) =
        match crate::sync::preview::next_agenda(&s.previewer(), row).await {
            Ok(a) => (a, None),
            // The reason may name the manager's account: the direct only hears there is none
            // (the operator finds it in the log).
            Err(e) => {
                tracing::warn!(series = row.id, error = %e, "direct's page: no agenda preview");
                (None, Some("The next agenda cannot be shown right now."))
            }
        };
    let topics: Vec<ItemView> = s
        .store
        .list_items(row.id, true)
        .await?
        .iter()
        .filter(|i| is_link_topic(i))
        .map(ItemView::from)
        .collect();
    Ok(render(
        "direct.html",
        context! {
            admin => false, title => row.summary, agenda => agenda,
            agenda_problem => agenda_problem, topics => topics, token => token,
            link_csrf => csrf_for("link", token), max_chars => MAX_TOPIC_CHARS,
            max_open => s.config.web.direct_topics_max_open,
            refusal => refusal, typed => typed,
        },
    )?)
}

/// A change through the link that was refused: the direct's page again with the status of
/// the refusal (400, 403, or 429 with Retry-After), why, and what they typed. What is not a
/// refusal of the form (a store failure) stays an error page.
async fn refused(
    s: &WebState,
    row: &SeriesRow,
    token: &str,
    e: WebError,
    typed: &str,
) -> Result<Response, WebError> {
    let status = e.status();
    if ![
        StatusCode::BAD_REQUEST,
        StatusCode::FORBIDDEN,
        StatusCode::TOO_MANY_REQUESTS,
    ]
    .contains(&status)
    {
        // Whatever went missing meanwhile, the link's holder hears only that the page is gone.
        return Err(match e {
            WebError::NotFound { .. } => WebError::NoSuchPage,
            e => e,
        });
    }
    let page = direct_view(s, row, token, Some(&e.to_string()), typed).await?;
    let mut res = (status, page).into_response();
    if let Some(v) = e.retry_after() {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(res)
}

/// The fields of the link's forms.
#[derive(Debug, Default, PartialEq, Eq)]
struct TopicForm {
    csrf: String,
    text: String,
}

impl TopicForm {
    /// Reads an `application/x-www-form-urlencoded` body strictly: a field whose bytes are not
    /// UTF-8 is refused (axum's `Form` would replace them with U+FFFD without a word). The
    /// first of a repeated field counts; unknown fields are ignored.
    fn parse(body: &[u8]) -> Result<Self, WebError> {
        let mut form = Self::default();
        let (mut csrf, mut text) = (false, false);
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            let slot = match decode(name)?.as_str() {
                "csrf" if !csrf => {
                    csrf = true;
                    &mut form.csrf
                }
                "text" if !text => {
                    text = true;
                    &mut form.text
                }
                _ => continue,
            };
            *slot = decode(value)?;
        }
        Ok(form)
    }
}

/// One form-encoded name or value: `+` is a space, `%XX` a byte, and the bytes must be UTF-8.
fn decode(raw: &[u8]) -> Result<String, WebError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| {
            WebError::BadRequest(
                "The form holds bytes that are not valid text (UTF-8), so it was not saved. \
                 Type the topic again (or paste it as plain text) and add it."
                    .into(),
            )
        })
}

/// A topic as the agenda will hold it, or why it cannot be one. The checks of every item
/// (`manage::item_text`: not empty, no control characters such as NUL, ESC or DEL) plus the
/// link's own: shorter (checked first, so the link names its own limit), and nothing the
/// invite would read as the opt-out or a marker line.
fn topic_text(raw: &str) -> Result<String, WebError> {
    // One agenda line: line breaks, tabs and runs of spaces become one space.
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > MAX_TOPIC_CHARS {
        return Err(WebError::BadRequest(format!(
            "The topic is longer than {MAX_TOPIC_CHARS} characters; shorten it."
        )));
    }
    let text = crate::manage::item_text(&text).map_err(|e| {
        let why = match e {
            ManageError::Invalid { message, .. } => message,
            other => other.to_string(),
        };
        WebError::BadRequest(format!("This topic cannot be added: {why}."))
    })?;
    if holds_opt_out(&text) {
        return Err(WebError::BadRequest(format!(
            "A topic cannot contain \"{OPT_OUT_MARKER}\": in an invite it keeps oneonone \
             away, and only whoever organises the meeting decides that. Reword the topic and \
             add it again."
        )));
    }
    if reads_as_marker(&text) {
        return Err(WebError::BadRequest(
            "This topic reads like one of the lines that mark where the agenda starts or ends \
             in the invite, and would break it. Reword the topic and add it again."
                .into(),
        ));
    }
    Ok(text)
}

pub(super) async fn add_topic(
    State(s): State<WebState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let row = resolve(&s, &token).await?;
    // Kept for the page after a refusal; a body that is not UTF-8 has nothing to keep.
    let typed = TopicForm::parse(&body).map(|f| f.text).unwrap_or_default();
    match add(&s, &row, &token, &body).await {
        Ok(()) => Ok(Redirect::to(&format!("/d/{token}")).into_response()),
        Err(e) => refused(&s, &row, &token, e, &typed).await,
    }
}

async fn add(s: &WebState, row: &SeriesRow, token: &str, body: &[u8]) -> Result<(), WebError> {
    let form = TopicForm::parse(body)?;
    check(token, &form.csrf)?;
    if let Some(wait) = s.links.over(row.id) {
        return Err(WebError::LinkBusy(wait_secs(wait)));
    }
    let text = topic_text(&form.text)?;
    let _one = s.links.one_at_a_time.lock().await;
    let cap = s.config.web.direct_topics_max_open;
    let open = s
        .store
        .list_items(row.id, true)
        .await?
        .iter()
        .filter(|i| is_link_topic(i))
        .count();
    if open >= usize::try_from(cap).unwrap_or(usize::MAX) {
        return Err(WebError::BadRequest(format!(
            "You already have {open} open topics here; this link takes at most {cap}. Remove \
             one you no longer need from the list above, or wait until the meeting (the topics \
             talked about there are closed and make room), then add this one: it is still in \
             the field."
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
    Ok(())
}

pub(super) async fn remove_topic(
    State(s): State<WebState>,
    Path((token, item)): Path<(String, i64)>,
    body: Bytes,
) -> Result<Response, WebError> {
    let row = resolve(&s, &token).await?;
    let removed = async {
        check(&token, &TopicForm::parse(&body)?.csrf)?;
        if let Some(wait) = s.links.over(row.id) {
            return Err(WebError::LinkBusy(wait_secs(wait)));
        }
        Ok(s.store.drop_web_topic(row.id, item, s.clock.now()).await?)
    };
    let back = || Redirect::to(&format!("/d/{token}")).into_response();
    match removed.await {
        Ok(true) => Ok(back()),
        // A second click on "remove" (or a form from before a reload): the topic is already
        // gone, which is what the direct asked for.
        Ok(false) if already_removed(&s, row.id, item).await? => Ok(back()),
        Ok(false) => Err(WebError::NoSuchPage),
        Err(e) => refused(&s, &row, &token, e, "").await,
    }
}

/// True when `item` is one of this series' topics added through the link and already dropped.
async fn already_removed(s: &WebState, series: i64, item: i64) -> Result<bool, WebError> {
    let i = match s.store.get_item(item).await {
        Ok(i) => i,
        Err(StoreError::NotFound { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    Ok(i.series_id == series
        && i.section == "direct"
        && i.source == ItemSource::Web.as_str()
        && i.state == "dropped")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(r: Result<String, WebError>) -> String {
        match r {
            Err(WebError::BadRequest(m)) => m,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn form_is_read_strictly() {
        let f = TopicForm::parse(b"text=a+b%20c%E2%9C%93&csrf=t&text=second&x=1").unwrap();
        assert_eq!((f.text.as_str(), f.csrf.as_str()), ("a b c\u{2713}", "t"));
        let m = match TopicForm::parse(b"csrf=t&text=caf%E9") {
            Err(WebError::BadRequest(m)) => m,
            other => panic!("invalid UTF-8 was accepted: {other:?}"),
        };
        assert!(m.contains("not valid text (UTF-8)"), "{m}");
    }

    #[test]
    fn topics_refuse_controls_the_opt_out_and_markers() {
        assert_eq!(
            topic_text("  Conference\nbudget\t ").unwrap(),
            "Conference budget"
        );
        for bad in ["a\u{0}b", "a\u{1b}[31mred", "a\u{7f}b", "a\u{9b}b"] {
            assert!(
                refused(topic_text(bad)).contains("control characters"),
                "{bad:?}"
            );
        }
        assert!(refused(topic_text("let's skip it #No-Agenda")).contains("#no-agenda"));
        for marker in [crate::agenda::START_MARKER, "-- END OF ONEONONE AGENDA --"] {
            assert!(
                refused(topic_text(marker)).contains("starts or ends"),
                "{marker}"
            );
        }
        assert!(refused(topic_text(" ")).contains("empty"));
        assert!(refused(topic_text(&"x".repeat(600))).contains("longer than 300"));
    }
}
