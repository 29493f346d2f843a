//! Connecting a Google account once: after consent, exchange the code, list the user's
//! calendars, and store the account with its refresh token encrypted (never in plain text). The
//! CLI (loopback redirect) and the web flow (`/oauth/google/callback`) both end here.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use url::Url;

use super::client::{CalendarListEntry, GoogleClient, GoogleError};
use super::oauth::{self, OAuthError, RefreshingTokens};
use super::provider::{GoogleSettings, oauth_settings};
use crate::config::Config;
use crate::provider::existing::{self, Existing};
use crate::secrets::Keyring;
use crate::store::{NewAccount, Provider, Reconnect, Store, StoreError};

/// The scopes we ask for: events (read and PATCH) and the calendar list (to pick calendars).
pub(crate) const SCOPES: [&str; 2] = [oauth::SCOPE_EVENTS, oauth::SCOPE_CALENDAR_LIST];

#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error(transparent)]
    Google(#[from] GoogleError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "Google sent no refresh token: remove oneonone's access at \
         https://myaccount.google.com/permissions and connect again"
    )]
    NoRefreshToken,
    #[error(
        "Google is not set up yet: connecting needs an OAuth client of your own \
         (google.client_id and google.client_secret are empty); docs/google.md shows how, in \
         about ten minutes"
    )]
    NotConfigured,
    #[error("no calendar matches {0:?}; your calendars: {1}")]
    NoSuchCalendar(String, String),
    #[error("Google lists no calendar you can write to")]
    NoCalendars,
    #[error("cannot tell whose calendar this is: pass --owner EMAIL")]
    NoOwner,
    #[error(transparent)]
    Url(#[from] crate::provider::netcheck::UrlRefused),
    #[error("cannot create the HTTP client: {0}")]
    Http(reqwest::Error),
    #[error(transparent)]
    Taken(#[from] crate::provider::existing::Taken),
    #[error(
        "Google's consent was given as {got}, but account {account} is {expected}: run \
         `oneonone accounts reconnect {account}` again and choose that Google account on \
         Google's page"
    )]
    WrongAccount {
        account: i64,
        expected: String,
        got: String,
    },
}

/// What the user asked for besides consent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Choices {
    /// Calendar ids or names; empty: the primary calendar.
    pub calendars: Vec<String>,
    /// Addresses the owner is known by, besides the primary calendar's id.
    pub owners: Vec<String>,
    /// `accounts reconnect ID`: the consent must be this account's.
    pub account: Option<i64>,
}

#[derive(Debug)]
pub(crate) struct Connected {
    pub account_id: i64,
    /// An account of the same owner existed (e.g. `needs_reconnect`): it got the new grant.
    pub reconnected: bool,
    /// When the reconnected account had been removed (its history is back).
    pub removed_at: Option<DateTime<Utc>>,
    pub calendars: Vec<CalendarListEntry>,
    pub settings: GoogleSettings,
}

/// Checks that Google can be connected with this config.
pub(crate) fn check_config(config: &Config) -> Result<(), ConnectError> {
    if config.google.client_id.trim().is_empty() {
        return Err(ConnectError::NotConfigured);
    }
    let allow = config.network.allow_http;
    crate::provider::netcheck::check_static(&config.google.api_base, allow)?;
    crate::provider::netcheck::check_static(&config.google.token_url, allow)?;
    Ok(())
}

/// Picks the calendars the user named (by id, or name case-insensitively); none named: the
/// primary calendar. Only calendars we may write to are offered.
pub(crate) fn select_calendars(
    found: &[CalendarListEntry],
    wanted: &[String],
) -> Result<Vec<CalendarListEntry>, ConnectError> {
    let writable: Vec<&CalendarListEntry> = found.iter().filter(|c| c.writable()).collect();
    if wanted.is_empty() {
        return writable
            .iter()
            .find(|c| c.primary)
            .or(writable.first())
            .map(|c| vec![(*c).clone()])
            .ok_or(ConnectError::NoCalendars);
    }
    let names = || {
        writable
            .iter()
            .map(|c| format!("{:?} <{}>", c.name(), c.id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    wanted
        .iter()
        .map(|w| {
            writable
                .iter()
                .find(|c| c.id == *w || c.name().eq_ignore_ascii_case(w))
                .map(|c| (*c).clone())
                .ok_or_else(|| ConnectError::NoSuchCalendar(w.clone(), names()))
        })
        .collect()
}

/// The installed-app flow: a loopback redirect on 127.0.0.1:<free port>, the consent URL handed
/// to `show` (which prints it and may open a browser), then [`finish`] once the browser is back.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn interactive(
    store: &Store,
    keyring: &Keyring,
    config: &Config,
    choices: &Choices,
    show: impl FnOnce(&Url),
    now: DateTime<Utc>,
) -> Result<Connected, ConnectError> {
    check_config(config)?;
    let rx = oauth::LoopbackReceiver::bind().await?;
    let redirect = rx.redirect_url().clone();
    let req = oauth::authorize_url(&oauth_settings(&config.google), &redirect, &SCOPES)?;
    show(&req.url);
    let wait = Duration::from_secs(config.google.consent_timeout_secs);
    let code = rx.receive(&req.state, wait).await?;
    finish(
        store,
        keyring,
        config,
        &redirect,
        &code,
        &req.pkce_verifier,
        choices,
        now,
    )
    .await
}

/// Opens `url` in the desktop's browser; false when there is no browser to open.
pub(crate) fn open_browser(url: &Url) -> bool {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(url.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

/// After consent: exchanges `code`, lists the calendars, stores the account.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn finish(
    store: &Store,
    keyring: &Keyring,
    config: &Config,
    redirect_uri: &Url,
    code: &str,
    pkce_verifier: &SecretString,
    choices: &Choices,
    now: DateTime<Utc>,
) -> Result<Connected, ConnectError> {
    check_config(config)?;
    let g = &config.google;
    let settings = oauth_settings(g);
    let timeout = Duration::from_secs(config.sync.request_timeout_secs);
    let http = oauth::http_client(timeout)?;
    let tokens = oauth::exchange_code(&settings, &http, redirect_uri, code, pkce_verifier).await?;
    let refresh = tokens
        .refresh_token
        .clone()
        .ok_or(ConnectError::NoRefreshToken)?;
    let source = RefreshingTokens::new(
        settings,
        http,
        refresh.clone(),
        Arc::new(crate::clock::SystemClock),
    )
    .with_access_token(tokens.access_token.clone(), tokens.expires_at(Utc::now()))
    .await;
    let client = GoogleClient::new(g.api_base.clone(), Arc::new(source), timeout)
        .map_err(ConnectError::Http)?;
    let found = client.calendar_list().await?;
    let calendars = select_calendars(&found, &choices.calendars)?;
    let mut owner_emails: Vec<String> = choices.owners.clone();
    // The primary calendar's id is the user's address.
    owner_emails.extend(found.iter().filter(|c| c.primary).map(|c| c.id.clone()));
    let owner_emails = crate::provider::owner_addresses(owner_emails);
    if owner_emails.is_empty() {
        return Err(ConnectError::NoOwner);
    }
    let settings = GoogleSettings {
        owner_emails,
        channels: Default::default(),
        grant_issued_at: Some(now),
    };
    let credentials = keyring.encrypt(&refresh);
    let picked: Vec<(String, String, Option<String>)> = calendars
        .iter()
        .map(|c| (c.id.clone(), c.name().to_string(), c.time_zone.clone()))
        .collect();
    // The same Google user connecting again (a revoked or expired grant, or an account that was
    // removed): the account, its calendars and history stay; the grant is replaced.
    let primary = found.iter().find(|c| c.primary).map(|c| c.id.as_str());
    let same_account = |a: &crate::store::Account| {
        serde_json::from_value::<GoogleSettings>(a.settings.clone())
            .is_ok_and(|s| primary.is_some_and(|p| s.owner_emails.iter().any(|e| e == p)))
    };
    let ours: Vec<String> = picked.iter().map(|c| c.0.clone()).collect();
    let accounts = existing::stored(store, Provider::Google).await?;
    let existing = existing::find(&accounts, same_account, |t, o| t == o, &ours);
    if let Some(wanted) = choices.account {
        let got = match &existing {
            Existing::Same(a) => Some(a.id),
            _ => None,
        };
        if got != Some(wanted) {
            let expected = store.get_account(wanted).await?.display_name;
            return Err(ConnectError::WrongAccount {
                account: wanted,
                expected,
                got: primary.unwrap_or("another Google account").to_string(),
            });
        }
    }
    match existing {
        Existing::Taken(t) => return Err(t.into()),
        Existing::Same(a) => {
            // The stored settings hold the push channels: kept; a new grant's week starts now
            // (see `TestingGrantExpired`).
            let mut stored: GoogleSettings =
                serde_json::from_value(a.settings.clone()).map_err(|e| StoreError::Corrupt {
                    column: "accounts.settings",
                    value: e.to_string(),
                })?;
            stored.grant_issued_at = Some(now);
            let value = serde_json::to_value(&stored).expect("settings serialize");
            let again = Reconnect {
                credentials: &credentials,
                settings: Some(&value),
                calendars: &picked,
            };
            store.reconnect_account(a.id, &again, now).await?;
            let calendars = store.list_calendars(a.id).await?;
            return Ok(Connected {
                account_id: a.id,
                reconnected: true,
                removed_at: a.archived_at,
                calendars: found
                    .into_iter()
                    .filter(|f| calendars.iter().any(|c| c.remote_id == f.id))
                    .collect(),
                settings,
            });
        }
        Existing::New => {}
    }
    let account = NewAccount {
        provider: Provider::Google,
        display_name: format!("{} on Google", settings.owner_emails[0]),
        settings: serde_json::to_value(&settings).expect("settings serialize"),
        credentials: Some(credentials),
        calendars: picked,
        // Connecting writes nothing: the person starts the account after seeing the preview.
        writing_started_at: None,
    };
    let account_id = store.insert_account(&account, now).await?;
    Ok(Connected {
        account_id,
        reconnected: false,
        removed_at: None,
        calendars,
        settings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, name: &str, primary: bool, role: &str) -> CalendarListEntry {
        CalendarListEntry {
            id: id.into(),
            summary: Some(name.into()),
            primary,
            access_role: Some(role.into()),
            ..CalendarListEntry::default()
        }
    }

    #[test]
    fn the_primary_calendar_by_default_others_by_id_or_name_and_never_read_only_ones() {
        let found = [
            entry("team@group.calendar.google.com", "Team", false, "writer"),
            entry("sam@example.com", "Sam", true, "owner"),
            entry("holidays", "Holidays", false, "reader"),
        ];
        assert_eq!(
            select_calendars(&found, &[]).unwrap()[0].id,
            "sam@example.com"
        );
        let team = select_calendars(&found, &["team".into()]).unwrap();
        assert_eq!(team[0].id, "team@group.calendar.google.com");
        let err = select_calendars(&found, &["Holidays".into()]).unwrap_err();
        assert!(err.to_string().contains("\"Team\""), "{err}");
    }
}
