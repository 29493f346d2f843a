//! The admin pages: accounts (with "Connect CalDAV" and "Connect Google"), series with their
//! reason, include/exclude and next agenda, the direct's link, and the history with search.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use cookie::{Cookie, SameSite};

use super::auth::{AdminSession, CsrfOnly, cookie_value, secure, set_cookie, token_digest};
use super::error::{Path, WebError};
use super::render::{render, when};
use super::state::WebState;
use crate::detect::SeriesOverride;
use crate::store::SeriesRow;

/// The fields of the "Connect CalDAV" form shown again after an error (never the password).
#[derive(Default, Serialize, Deserialize)]
pub(super) struct CaldavFields {
    #[serde(default)]
    url: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    calendars: String,
}

#[derive(Deserialize)]
pub(super) struct CaldavForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: CaldavFields,
    password: SecretString,
}

pub(super) async fn caldav_form(session: AdminSession) -> Result<Html<String>, WebError> {
    Ok(render(
        "caldav.html",
        context! { admin => true, csrf => session.csrf(), form => CaldavFields::default() },
    )?)
}

/// Verifies the account against the server (the same code as `oneonone connect caldav`), stores
/// it, and queues its first pass; on failure the form comes back with the reason.
pub(super) async fn caldav_connect(
    State(s): State<WebState>,
    session: AdminSession,
    axum::Form(form): axum::Form<CaldavForm>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let f = form.fields;
    let again = |status: StatusCode, error: String, f: &CaldavFields| -> Response {
        let ctx = context! { admin => true, csrf => session.csrf(), form => f, error => error };
        match render("caldav.html", ctx) {
            Ok(page) => (status, page).into_response(),
            Err(e) => WebError::from(e).into_response(),
        }
    };
    let url = match url::Url::parse(f.url.trim()) {
        Ok(u) => u,
        Err(e) => {
            let msg = format!("The server URL {:?} is not a URL ({e}).", f.url.trim());
            return Ok(again(StatusCode::UNPROCESSABLE_ENTITY, msg, &f));
        }
    };
    if f.username.trim().is_empty() {
        let msg = "The user name is empty.".to_string();
        return Ok(again(StatusCode::UNPROCESSABLE_ENTITY, msg, &f));
    }
    let split = |v: &str| -> Vec<String> {
        v.split([',', '\n'])
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    };
    let req = crate::provider::caldav::ConnectRequest {
        url: url.clone(),
        username: f.username.trim().to_string(),
        password: form.password,
        calendars: split(&f.calendars),
        owners: split(&f.owner),
        timeout: std::time::Duration::from_secs(s.config.sync.request_timeout_secs),
        allow_http: s.config.network.allow_http,
    };
    let now = s.clock.now();
    match crate::provider::caldav::connect(&s.store, &s.keyring, req, now).await {
        Ok(connected) => {
            tracing::info!(
                account = connected.account_id,
                "CalDAV account connected from the web"
            );
            // The first pass is a preview (the account is not started): its page shows what
            // it found, with the Start button.
            s.store.request_sync(connected.account_id, now).await?;
            s.wake.notify_one();
            let notice = match connected.again {
                None => "",
                Some(None) => "?notice=updated",
                Some(Some(_)) => "?notice=back",
            };
            Ok(
                Redirect::to(&format!("/accounts/{}{notice}", connected.account_id))
                    .into_response(),
            )
        }
        Err(e) => {
            // Name the URL once: most errors name the address they were about already.
            let msg = if crate::provider::caldav::connect::names_url(&e.to_string(), url.as_str()) {
                format!("Could not connect: {e}")
            } else {
                format!("Could not connect {url}: {e}")
            };
            Ok(again(StatusCode::UNPROCESSABLE_ENTITY, msg, &f))
        }
    }
}

/// An account's page: what its passes found (each 1:1, its direct, why, and the agenda its next
/// meeting would get) and, until it is started, "Nothing has been written" with the Start
/// button. Refreshes itself while the first pass is still reading.
pub(super) async fn account_page(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, WebError> {
    let a = s.store.get_account(id).await?;
    let calendars: Vec<String> = s
        .store
        .list_calendars(id)
        .await?
        .into_iter()
        .map(|c| {
            if c.display_name.is_empty() {
                c.remote_id
            } else {
                c.display_name
            }
        })
        .collect();
    let removed = a.archived_at.map(when);
    let reading = removed.is_none() && a.last_success_at.is_none() && a.last_error.is_none();
    let (found, kept) = if removed.is_some() {
        let kept = crate::manage::purge_holdings(&s.store, id).await?;
        (Vec::new(), Some(kept))
    } else {
        let found = crate::sync::preview::account_preview(&s.previewer(), id).await?;
        (found, None)
    };
    let notice = match q.notice.as_deref() {
        Some("updated") => Some(
            "This calendar was already connected: its credentials and settings are updated in \
             place; its 1:1s, history and the direct's links stay.",
        ),
        Some("reconnected") => Some(
            "Reconnected: the new credentials are stored; the 1:1s, history and the direct's \
             links stay. The next pass runs now.",
        ),
        Some("back") => Some(
            "Connected again: the 1:1s, history and the direct's links of this account are back. \
             Nothing is written into a calendar until you press Start.",
        ),
        _ => None,
    };
    let account = context! {
        id => a.id,
        name => a.display_name,
        provider => a.provider.as_str(),
        calendars => calendars,
        last_error => a.current_error(),
        needs_reconnect => a.state == crate::store::AccountState::NeedsReconnect,
        removed => removed,
    };
    Ok(render(
        "account.html",
        context! {
            admin => true,
            csrf => session.csrf(),
            account => account,
            notice => notice,
            kept => kept,
            reading => reading,
            // Start only after a pass has read the calendars (not after a failed one alone).
            read => a.last_success_at.is_some(),
            found => found,
            started => a.writing_started_at.map(when),
        },
    )?)
}

/// A page's one-line confirmation of what the person just did (`?notice=`).
#[derive(Deserialize, Default)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    pub(super) notice: Option<String>,
}

/// "Start": the person has seen the preview; the account's passes write agendas from now on.
/// The account is made due and the scheduler woken, so the first write follows at once.
pub(super) async fn start_account(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    s.store.get_account(id).await?;
    if !s
        .store
        .start_writing(Some(&[id]), s.clock.now())
        .await?
        .is_empty()
    {
        tracing::info!(account = id, "started writing agendas from the web");
    }
    s.wake.notify_one();
    Ok(Redirect::to(&format!("/accounts/{id}")).into_response())
}

/// "Sync now": makes the account due and wakes the scheduler.
pub(super) async fn sync_account(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    if !s.store.request_sync(id, s.clock.now()).await? {
        return Err(WebError::NotFound {
            what: "account",
            id: id.to_string(),
        });
    }
    s.wake.notify_one();
    Ok(Redirect::to("/accounts").into_response())
}

#[derive(Serialize)]
struct SeriesView {
    id: i64,
    summary: String,
    with: Option<String>,
    tracked: bool,
    #[serde(rename = "override")]
    override_: &'static str,
    reason: String,
    writes_agenda: bool,
    problem: Option<String>,
    /// "continues series 12 (...)": a re-created 1:1 linked to the series it replaced.
    continues_reason: Option<String>,
    /// The later series whose history this one is part of.
    continued_by: Option<i64>,
}

impl From<&SeriesRow> for SeriesView {
    fn from(r: &SeriesRow) -> Self {
        Self {
            id: r.id,
            summary: r.summary.clone(),
            with: r.direct_name.clone().or_else(|| r.direct_email.clone()),
            tracked: r.tracked(),
            override_: r.override_.as_str(),
            reason: r.detection_reason.clone(),
            writes_agenda: r.owner_is_organizer,
            problem: r.last_error.clone(),
            continues_reason: r.continues_reason.clone(),
            continued_by: None,
        }
    }
}

pub(super) async fn series_list(
    State(s): State<WebState>,
    session: AdminSession,
) -> Result<Html<String>, WebError> {
    let mut rows = s.store.list_series().await?;
    // Tracked 1:1s first, then the rest, each by title.
    rows.sort_by(|a, b| (!a.tracked(), &a.summary).cmp(&(!b.tracked(), &b.summary)));
    let later: std::collections::HashMap<i64, i64> = rows
        .iter()
        .filter_map(|r| Some((r.continues_series_id?, r.id)))
        .collect();
    let series: Vec<SeriesView> = rows
        .iter()
        .map(|r| SeriesView {
            continued_by: later.get(&r.id).copied(),
            ..SeriesView::from(r)
        })
        .collect();
    Ok(render(
        "series_list.html",
        context! { admin => true, csrf => session.csrf(), series => series },
    )?)
}

#[derive(Deserialize)]
pub(super) struct OverrideForm {
    #[serde(default)]
    csrf: String,
    to: String,
}

pub(super) async fn set_override(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<OverrideForm>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let to: SeriesOverride = form.to.parse().map_err(|_| {
        WebError::BadRequest(format!(
            "{:?} is not a choice: use included, excluded or auto",
            form.to
        ))
    })?;
    s.store.get_series(id).await?;
    s.store.set_series_override(id, to, s.clock.now()).await?;
    Ok(Redirect::to("/series").into_response())
}

/// "Split": the series no longer continues the earlier one (see `manage::split_series`).
pub(super) async fn split_series(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let split = crate::manage::split_series(&s.store, id, s.clock.now()).await?;
    Ok(Redirect::to(&format!("/series/{}", split.series.id)).into_response())
}

#[derive(Serialize)]
pub(super) struct ItemView {
    pub id: i64,
    pub section: String,
    pub text: String,
    pub state: String,
    pub times_carried: i64,
    pub source: String,
}

impl From<&crate::store::ItemRow> for ItemView {
    fn from(i: &crate::store::ItemRow) -> Self {
        Self {
            id: i.id,
            section: i.section.clone(),
            text: i.text.clone(),
            state: i.state.clone(),
            times_carried: i.times_carried,
            source: i.source.clone(),
        }
    }
}

/// One meeting as the history shows it: the same entry as `oneonone history` and the API, with
/// its series.
#[derive(Serialize)]
struct Meeting {
    series_id: i64,
    series: String,
    #[serde(flatten)]
    view: crate::manage::MeetingView,
    /// Its start as an instant, for sorting meetings of several series.
    #[serde(skip)]
    at: chrono::DateTime<chrono::Utc>,
    /// Whether a person may mark it held or skipped (it has started).
    can_mark: bool,
    /// The items closed outside the meeting's ticks, with how and when, as lines to show.
    done_lines: Vec<String>,
    dropped_lines: Vec<String>,
}

/// Case-insensitive substring search; an empty query matches everything.
fn matches(text: &str, q: &str) -> bool {
    q.is_empty() || text.to_lowercase().contains(q)
}

/// The meetings of a series, newest first, that mention `q`: the closed ones, and one not yet
/// closed when something was already closed or dropped for it.
async fn meetings(s: &WebState, row: &SeriesRow, q: &str) -> Result<Vec<Meeting>, WebError> {
    let history =
        crate::manage::history(&s.store, row.id, None, s.config.agenda.default_timezone).await?;
    let now = s.clock.now();
    let mut out: Vec<Meeting> = history
        .meetings
        .into_iter()
        .filter(|m| {
            m.status != crate::attendance::Attendance::Upcoming
                || !m.dropped.is_empty()
                || !m.done_elsewhere.is_empty()
        })
        .filter(|m| q.is_empty() || m.texts().any(|t| matches(t, q)))
        .map(|view| {
            let lines = |items: &[crate::manage::ClosedItemView]| -> Vec<String> {
                items
                    .iter()
                    .map(|i| format!("{} ({})", i.text, i.circumstances()))
                    .collect()
            };
            Meeting {
                series_id: row.id,
                series: row.summary.clone(),
                at: view.at.to_utc(),
                can_mark: view.at.to_utc() <= now,
                done_lines: lines(&view.done_elsewhere),
                dropped_lines: lines(&view.dropped),
                view,
            }
        })
        .collect();
    out.reverse();
    Ok(out)
}

#[derive(Deserialize)]
pub(super) struct MarkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    mark: String,
}

/// "It took place" / "It did not take place" on a past meeting: a person's word, which wins
/// over what the calendar says (see `attendance`).
pub(super) async fn mark_meeting(
    State(s): State<WebState>,
    session: AdminSession,
    Path((id, occurrence)): Path<(i64, i64)>,
    axum::Form(form): axum::Form<MarkForm>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    s.store.get_series(id).await?;
    let mark: crate::store::Mark = form.mark.parse().map_err(|_| {
        WebError::BadRequest(format!(
            "{:?} is not a choice: use held or skipped",
            form.mark
        ))
    })?;
    let marked = crate::manage::mark_meeting(
        &s.store,
        id,
        occurrence,
        mark,
        crate::store::ItemSource::Web,
        s.clock.now(),
        s.config.agenda.default_timezone,
    )
    .await;
    match marked {
        Ok(_) => Ok(Redirect::to(&format!("/series/{id}#meeting-{occurrence}")).into_response()),
        Err(e @ crate::manage::ManageError::Invalid { .. })
        | Err(e @ crate::manage::ManageError::Conflict(_)) => {
            Err(WebError::BadRequest(format!("Not marked: {e}.")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Where the direct's link points: `server.public_url` when set. Otherwise the request's `Host`,
/// which is whatever the client sent (a DNS-rebinding page or a careless proxy can make it name
/// another site, which would then receive the link's secret), so only when it names this daemon
/// as it listens: its configured listen address, or a loopback name or address (any port: a
/// test or a tunnel on port 0). Anything else gives the path alone, and the page asks for
/// `server.public_url`.
fn link_base(s: &WebState, headers: &HeaderMap) -> String {
    if let Some(base) = s.config.server.public_base() {
        return base.to_string();
    }
    let Some(authority) = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.parse::<axum::http::uri::Authority>().ok())
    else {
        return String::new();
    };
    let host = authority.host();
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .ok();
    let listen = s.config.server.listen.ip();
    let ours = host.eq_ignore_ascii_case("localhost")
        || ip.is_some_and(|ip| ip.is_loopback() || (!listen.is_unspecified() && ip == listen));
    match (ours, authority.port_u16()) {
        // Host and port only: a user part (`evil@127.0.0.1`) is left out.
        (true, Some(port)) => format!("http://{host}:{port}"),
        (true, None) => format!("http://{host}"),
        (false, _) => String::new(),
    }
}

pub(super) async fn series_view(
    s: &WebState,
    session: &AdminSession,
    id: i64,
    new_link: Option<String>,
    topics: super::topics::Feedback,
) -> Result<Html<String>, WebError> {
    let row = s.store.get_series(id).await?;
    let continued_by = s.store.continued_by(row.id).await?;
    let (agenda, agenda_problem) =
        match crate::sync::preview::next_agenda(&s.previewer(), &row).await {
            Ok(a) => (a, None),
            Err(why) => (None, Some(why.to_string())),
        };
    let link_created = s.store.series_link_created(row.id).await?.map(when);
    let invite_link = invite_link_note(s, row.id).await?;
    let history = meetings(s, &row, "").await?;
    let (insights, private_notes) = super::insights::series_extras(s, &row).await?;
    let topics = super::topics::view(s, &row, topics).await?;
    let meeting_notes = super::topics::meeting_notes(s, &row).await?;
    Ok(render(
        "series.html",
        context! {
            admin => true, csrf => session.csrf(),
            series => SeriesView { continued_by, ..SeriesView::from(&row) },
            agenda => agenda, agenda_problem => agenda_problem,
            link_created => link_created, new_link => new_link, meetings => history,
            public_url_missing => s.config.server.public_base().is_none(),
            invite_link => invite_link,
            insights => insights, private_notes => private_notes,
            topics => topics, meeting_notes => meeting_notes,
        },
    )?)
}

/// What the page says about the link in the invites: whether the next pass puts it there, and
/// if not, why (the setting to change, or the link to make).
async fn invite_link_note(s: &WebState, id: i64) -> Result<&'static str, WebError> {
    if !s.config.agenda.direct_link_in_invite {
        return Ok("The invites carry no link (agenda.direct_link_in_invite is false).");
    }
    if let Some(why) = s.config.server.link_missing_why() {
        return Ok(why);
    }
    Ok(match s.store.series_link_state(id).await? {
        crate::store::SeriesLink::Sealed(_) => {
            "The invite carries this link in the direct's section; a new link or a revoke \
             changes it at the next pass."
        }
        crate::store::SeriesLink::Never => "The next pass makes a link and puts it in the invite.",
        crate::store::SeriesLink::DigestOnly => {
            "This link was made before links went into invites: make a new one to have it there."
        }
        crate::store::SeriesLink::Revoked => "The invite carries no link until you make a new one.",
    })
}

/// Carries a link just made from the "Make a link" POST to the page it redirects to, so that
/// page can show it once without the token in a URL (history, logs, Referer) and a refresh
/// neither repeats the POST nor shows it again. Only the link's digest is stored, so the plain
/// token lives only here: HttpOnly, SameSite=Strict, scoped to the one series' page and alive
/// a minute; the page clears it when it shows it, and shows the token it carries only while it
/// is still the series' live link. A cookie rather than a server-side flash: nothing more to
/// keep in memory or the database, and it works with several daemons behind one address.
const NEW_LINK_COOKIE: &str = "oneonone_new_link";

fn new_link_cookie(s: &WebState, headers: &HeaderMap, id: i64, token: &str) -> Cookie<'static> {
    Cookie::build((NEW_LINK_COOKIE, token.to_string()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(s, headers))
        .path(format!("/series/{id}"))
        .max_age(cookie::time::Duration::minutes(1))
        .build()
}

pub(super) async fn series_page(
    State(s): State<WebState>,
    session: AdminSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(topics): Query<super::topics::Feedback>,
) -> Result<Response, WebError> {
    let Some(token) = cookie_value(&headers, NEW_LINK_COOKIE) else {
        return Ok(series_view(&s, &session, id, None, topics)
            .await?
            .into_response());
    };
    // Shown only while it is still the series' link (not rotated again or revoked since).
    let live = s.store.series_for_link(&token_digest(&token)).await? == Some(id);
    let link = live.then(|| format!("{}/d/{token}", link_base(&s, &headers)));
    let page = series_view(&s, &session, id, link, topics).await?;
    let mut spent = new_link_cookie(&s, &headers, id, "");
    spent.set_max_age(cookie::time::Duration::ZERO);
    Ok(([set_cookie(spent)], page).into_response())
}

/// Makes a new link for the series (the old one stops working) and redirects to the series'
/// page, which shows it once: only its digest is kept, and it is never put in a URL.
pub(super) async fn rotate_link(
    State(s): State<WebState>,
    session: AdminSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    s.store.get_series(id).await?;
    let token = super::rotate_direct_link(&s.store, &s.keyring, id, s.clock.now()).await?;
    let carried = new_link_cookie(&s, &headers, id, &token);
    Ok((
        [set_cookie(carried)],
        Redirect::to(&format!("/series/{id}")),
    )
        .into_response())
}

pub(super) async fn revoke_link(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    s.store.get_series(id).await?;
    s.store.revoke_series_link(id, s.clock.now()).await?;
    Ok(Redirect::to(&format!("/series/{id}")).into_response())
}

#[derive(Deserialize)]
pub(super) struct Search {
    #[serde(default)]
    q: String,
}

#[derive(Serialize)]
struct ItemHit {
    series_id: i64,
    series: String,
    item: ItemView,
}

/// Every closed meeting (newest first) and, with a query, every item whose text matches.
pub(super) async fn history(
    State(s): State<WebState>,
    session: AdminSession,
    Query(search): Query<Search>,
) -> Result<Html<String>, WebError> {
    let shown_q = search.q.trim().to_string();
    let q = shown_q.to_lowercase();
    let mut found = Vec::new();
    let mut items = Vec::new();
    let rows = s.store.list_series().await?;
    let continued: std::collections::HashSet<i64> =
        rows.iter().filter_map(|r| r.continues_series_id).collect();
    for row in rows {
        if !continued.contains(&row.id) {
            // A series another continues: its meetings are in that one's history.
            found.extend(meetings(&s, &row, &q).await?);
        }
        if !q.is_empty() {
            for i in s.store.list_items(row.id, false).await? {
                if matches(&i.text, &q) {
                    items.push(ItemHit {
                        series_id: row.id,
                        series: row.summary.clone(),
                        item: ItemView::from(&i),
                    });
                }
            }
        }
    }
    found.sort_by_key(|m| std::cmp::Reverse(m.at));
    Ok(render(
        "history.html",
        context! {
            admin => true, csrf => session.csrf(), q => shown_q, meetings => found, items => items,
        },
    )?)
}
