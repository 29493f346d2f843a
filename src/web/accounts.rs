//! The accounts page (each account with its health: the facts `/readyz` gives) and an
//! account's own controls: "Reconnect" (a new CalDAV password checked against the server, or
//! Google's consent again), "Remove" (stops syncing, keeps the history) and "Delete for good"
//! (after a confirmation page that says what goes). The same operations as `oneonone accounts`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::auth::{AdminSession, CsrfOnly};
use super::error::{Path, WebError};
use super::render::{render, when};
use super::state::WebState;
use crate::manage::AccountReadiness;
use crate::provider::caldav::connect::CaldavSettings;
use crate::store::{Account, Provider};

#[derive(Serialize)]
struct AccountView {
    id: i64,
    provider: &'static str,
    name: String,
    state: &'static str,
    calendars: Vec<String>,
    writing_since: Option<String>,
    last_success: Option<String>,
    failures: i64,
    error_kind: Option<String>,
    last_error: Option<String>,
    next_due: Option<String>,
    removed: Option<String>,
}

/// `/accounts`: every account with its state and health (the same facts as `/readyz`), the
/// Connect buttons, and each account's Sync now / Reconnect / Review and start.
pub(super) async fn list(
    State(s): State<WebState>,
    session: AdminSession,
    Query(q): Query<super::pages::NoticeQuery>,
) -> Result<Html<String>, WebError> {
    let mut accounts = Vec::new();
    for a in s.store.list_accounts().await? {
        let r = AccountReadiness::from(&a);
        let calendars = s.store.list_calendars(a.id).await?;
        accounts.push(AccountView {
            id: a.id,
            provider: r.provider,
            name: a.display_name.clone(),
            state: r.state,
            calendars: calendars
                .into_iter()
                .map(|c| {
                    if c.display_name.is_empty() {
                        c.remote_id
                    } else {
                        c.display_name
                    }
                })
                .collect(),
            writing_since: r.writing_started_at.map(when),
            last_success: r.last_success.map(when),
            failures: r.consecutive_failures,
            error_kind: r.last_error_kind.clone(),
            last_error: a.current_error().map(str::to_string),
            next_due: r.next_due.map(when),
            removed: r.removed_at.map(when),
        });
    }
    Ok(render(
        "accounts.html",
        context! {
            admin => true,
            csrf => session.csrf(),
            accounts => accounts,
            notice => (q.notice.as_deref() == Some("purged"))
                .then_some("The account is deleted, with its 1:1s and history."),
        },
    )?)
}

/// The reconnect page of a CalDAV account (its server and user shown, a new password asked);
/// a Google account goes to Google's consent for that account.
pub(super) async fn reconnect_form(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let a = s.store.get_account(id).await?;
    if a.provider == Provider::Google {
        return Ok(Redirect::to(&format!("/connect/google?account={id}")).into_response());
    }
    Ok(reconnect_page(&session, &a, None)?.into_response())
}

fn reconnect_page(
    session: &AdminSession,
    a: &Account,
    error: Option<String>,
) -> Result<Html<String>, WebError> {
    let settings = CaldavSettings::from_account(a).ok();
    Ok(render(
        "reconnect.html",
        context! {
            admin => true,
            csrf => session.csrf(),
            account => context! {
                id => a.id,
                name => a.display_name,
                url => settings.as_ref().map(|s| s.url.clone()),
                username => settings.as_ref().map(|s| s.username.clone()),
                removed => a.archived_at.map(when),
            },
            error => error,
        },
    )?)
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    password: SecretString,
}

/// Checks the new password against the server and stores it; the form comes back with the reason
/// when the server refuses it (nothing changed then).
pub(super) async fn reconnect(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<PasswordForm>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let a = s.store.get_account(id).await?;
    let net = (
        std::time::Duration::from_secs(s.config.sync.request_timeout_secs),
        s.config.network.allow_http,
    );
    let now = s.clock.now();
    let done = crate::provider::caldav::connect::reconnect(
        &s.store,
        &s.keyring,
        id,
        form.password,
        net,
        now,
    )
    .await;
    match done {
        Ok(_) => {
            tracing::info!(account = id, "account reconnected from the web");
            s.store.request_sync(id, now).await?;
            s.wake.notify_one();
            let notice = if a.archived_at.is_some() {
                "back"
            } else {
                "reconnected"
            };
            Ok(Redirect::to(&format!("/accounts/{id}?notice={notice}")).into_response())
        }
        Err(e) => {
            let msg = format!("Nothing changed: {e}.");
            let page = reconnect_page(&session, &a, Some(msg))?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// "Remove": the account stops syncing and its password or grant is deleted; its 1:1s and
/// history stay (its page says so, with Reconnect and "Delete for good").
pub(super) async fn remove(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    crate::manage::remove_account(&s.store, id, s.clock.now()).await?;
    tracing::info!(account = id, "account removed from the web (history kept)");
    Ok(Redirect::to(&format!("/accounts/{id}")).into_response())
}

/// The confirmation page of "Delete for good": what would be deleted, and the one button.
pub(super) async fn purge_form(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let a = s.store.get_account(id).await?;
    let lost = crate::manage::purge_holdings(&s.store, id).await?;
    Ok(render(
        "purge.html",
        context! {
            admin => true,
            csrf => session.csrf(),
            account => context! { id => a.id, name => a.display_name },
            lost => lost,
        },
    )?)
}

#[derive(Deserialize)]
pub(super) struct PurgeForm {
    #[serde(default)]
    csrf: String,
    /// The confirmation page's field: "yes".
    #[serde(default)]
    confirm: String,
}

/// Deletes the account with its history, only from the confirmation page's form.
pub(super) async fn purge(
    State(s): State<WebState>,
    session: AdminSession,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<PurgeForm>,
) -> Result<Response, WebError> {
    session.check(&form.csrf)?;
    let confirmed = form.confirm == "yes";
    if !confirmed {
        return Ok(Redirect::to(&format!("/accounts/{id}/purge")).into_response());
    }
    crate::manage::purge_account(&s.store, id, confirmed).await?;
    tracing::info!(account = id, "account purged from the web");
    Ok(Redirect::to("/accounts?notice=purged").into_response())
}
