//! Connecting a CalDAV account once: verify the credentials, find the calendars, store the
//! account with its password encrypted.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::client::{CalDavClient, CalendarInfo, DavError};
use crate::model::{EmailAddress, Owner};
use crate::provider::existing::{self, Existing};
use crate::secrets::Keyring;
use crate::store::{Account, NewAccount, Provider, Reconnect, Store, StoreError};

/// The non-secret settings of a CalDAV account, stored as JSON in `accounts.settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CaldavSettings {
    pub url: String,
    pub username: String,
    /// Every address the calendar owner is known by (from the server, plus `--owner`).
    pub owner_emails: Vec<String>,
}

impl CaldavSettings {
    pub(crate) fn from_account(a: &Account) -> Result<Self, ConnectError> {
        serde_json::from_value(a.settings.clone())
            .map_err(|e| ConnectError::Settings(format!("account {}: {e}", a.id)))
    }

    pub(crate) fn owner(&self) -> Owner {
        Owner::new(
            self.owner_emails
                .iter()
                .filter_map(|e| EmailAddress::parse(e)),
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error(transparent)]
    Dav(#[from] DavError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no calendar matches {0:?}; the server has: {1}")]
    NoSuchCalendar(String, String),
    #[error("the server lists no calendar that holds events")]
    NoCalendars,
    #[error("cannot tell whose calendar this is: pass --owner EMAIL (the server lists no address)")]
    NoOwner,
    #[error("stored settings are unreadable: {0}")]
    Settings(String),
    #[error("cannot create the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Url(#[from] crate::provider::netcheck::UrlRefused),
    #[error(transparent)]
    Taken(#[from] crate::provider::existing::Taken),
}

pub(crate) struct ConnectRequest {
    pub url: Url,
    pub username: String,
    pub password: SecretString,
    /// Display names or URLs; empty: every calendar that holds events.
    pub calendars: Vec<String>,
    pub owners: Vec<String>,
    pub timeout: std::time::Duration,
    /// `network.allow_http`.
    pub allow_http: bool,
}

#[derive(Debug)]
pub(crate) struct Connected {
    pub account_id: i64,
    pub calendars: Vec<CalendarInfo>,
    pub settings: CaldavSettings,
    /// The account existed: `Some(removed_at)`, `Some(None)` for one that was connected.
    pub again: Option<Option<DateTime<Utc>>>,
}

/// Whether two collection URLs name one collection: the same port and path, on the same host or
/// on two names of it (`localhost` and `127.0.0.1`, a server's two DNS names), as `hosts` resolved
/// them.
fn same_collection(a: &str, b: &str, hosts: &HashMap<(String, u16), Vec<IpAddr>>) -> bool {
    let (Ok(a), Ok(b)) = (Url::parse(a), Url::parse(b)) else {
        return a == b;
    };
    let path = |u: &Url| {
        percent_encoding::percent_decode_str(u.path().trim_end_matches('/'))
            .decode_utf8_lossy()
            .into_owned()
    };
    let key = |u: &Url| {
        (
            u.host_str().unwrap_or_default().to_string(),
            u.port_or_known_default().unwrap_or(0),
        )
    };
    if a.scheme() != b.scheme() || key(&a).1 != key(&b).1 || path(&a) != path(&b) {
        return false;
    }
    let (ka, kb) = (key(&a), key(&b));
    ka == kb
        || hosts.get(&ka).is_some_and(|x| {
            hosts
                .get(&kb)
                .is_some_and(|y| x.iter().any(|ip| y.contains(ip)))
        })
}

/// The addresses each URL's host resolves to (none when it does not resolve in two seconds).
async fn resolve_hosts(urls: &[String]) -> HashMap<(String, u16), Vec<IpAddr>> {
    let mut out = HashMap::new();
    for u in urls.iter().filter_map(|u| Url::parse(u).ok()) {
        let Some(host) = u.host_str() else { continue };
        let port = u.port_or_known_default().unwrap_or(0);
        let key = (host.to_string(), port);
        if out.contains_key(&key) {
            continue;
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let found = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            tokio::net::lookup_host((bare, port)),
        )
        .await;
        let ips = match found {
            Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
            _ => Vec::new(),
        };
        out.insert(key, ips);
    }
    out
}

/// The account this connect is about, if one is stored (see `provider::existing`): the same
/// server origin and user name, else an account that syncs one of `calendars`.
async fn existing(
    store: &Store,
    url: &Url,
    username: &str,
    calendars: &[CalendarInfo],
) -> Result<Existing, ConnectError> {
    let ours: Vec<String> = calendars.iter().map(|c| c.url.to_string()).collect();
    let accounts = existing::stored(store, Provider::Caldav).await?;
    let urls: Vec<String> = accounts
        .iter()
        .flat_map(|(_, cals)| cals.iter().map(|c| c.remote_id.clone()))
        .chain(ours.iter().cloned())
        .collect();
    let hosts = resolve_hosts(&urls).await;
    let same_account = |a: &Account| {
        CaldavSettings::from_account(a).is_ok_and(|s| {
            s.username == username && Url::parse(&s.url).is_ok_and(|u| u.origin() == url.origin())
        })
    };
    let same_calendar = |t: &str, o: &str| same_collection(t, o, &hosts);
    Ok(existing::find(
        &accounts,
        same_account,
        same_calendar,
        &ours,
    ))
}

/// Picks the calendars the user named (by display name, case-insensitively, or by URL/path).
pub(crate) fn select_calendars(
    found: &[CalendarInfo],
    wanted: &[String],
) -> Result<Vec<CalendarInfo>, ConnectError> {
    let events: Vec<&CalendarInfo> = found.iter().filter(|c| c.holds_events()).collect();
    if wanted.is_empty() {
        if events.is_empty() {
            return Err(ConnectError::NoCalendars);
        }
        return Ok(events.into_iter().cloned().collect());
    }
    let names = || {
        events
            .iter()
            .map(|c| format!("{:?} <{}>", c.display_name.as_deref().unwrap_or(""), c.url))
            .collect::<Vec<_>>()
            .join(", ")
    };
    wanted
        .iter()
        .map(|w| {
            let w_path = w.trim_end_matches('/');
            events
                .iter()
                .find(|c| {
                    c.display_name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(w))
                        || c.url.as_str().trim_end_matches('/') == w_path
                        || c.url.path().trim_end_matches('/') == w_path
                })
                .map(|c| (*c).clone())
                .ok_or_else(|| ConnectError::NoSuchCalendar(w.clone(), names()))
        })
        .collect()
}

/// Verifies the account against the server and stores it.
pub(crate) async fn connect(
    store: &Store,
    keyring: &Keyring,
    req: ConnectRequest,
    now: DateTime<Utc>,
) -> Result<Connected, ConnectError> {
    crate::provider::netcheck::check_typed(&req.url)?;
    crate::provider::netcheck::check(&req.url, req.allow_http).await?;
    // One checked client for the whole flow: every URL the server hands back is held to the
    // rules (see `CalDavClient::send`).
    let client = CalDavClient::new(&req.username, req.password.clone(), req.timeout)?
        .for_account(&req.url, req.allow_http);
    let found = client.discover(&req.url).await?;
    let calendars = select_calendars(&found.calendars, &req.calendars)?;
    for c in &calendars {
        crate::provider::netcheck::check(&c.url, req.allow_http).await?;
    }
    let mut owners: Vec<String> = req.owners.clone();
    owners.extend(found.addresses.iter().cloned());
    if req.username.contains('@') {
        owners.push(req.username.clone());
    }
    let owner_emails = crate::provider::owner_addresses(owners);
    if owner_emails.is_empty() {
        return Err(ConnectError::NoOwner);
    }
    let settings = CaldavSettings {
        // Where discovery reached the server (a redirect may have moved it): its origin is the
        // one every pass is held to.
        url: found.url.to_string(),
        username: req.username.clone(),
        owner_emails,
    };
    let display_name = format!(
        "{} at {}",
        req.username,
        req.url.host_str().unwrap_or("server")
    );
    let account = NewAccount {
        provider: Provider::Caldav,
        display_name,
        settings: serde_json::to_value(&settings).expect("settings serialize"),
        credentials: Some(keyring.encrypt(&req.password)),
        calendars: calendars
            .iter()
            .map(|c| {
                (
                    c.url.to_string(),
                    c.display_name.clone().unwrap_or_default(),
                    None,
                )
            })
            .collect(),
        // Connecting writes nothing: the person starts the account after seeing the preview.
        writing_started_at: None,
    };
    let account_id = match existing(store, &found.url, &req.username, &calendars).await? {
        Existing::Taken(t) => return Err(t.into()),
        Existing::Same(a) => {
            let credentials = account.credentials.as_deref().unwrap_or_default();
            let again = Reconnect {
                credentials,
                settings: Some(&account.settings),
                calendars: &account.calendars,
            };
            store.reconnect_account(a.id, &again, now).await?;
            return Ok(Connected {
                account_id: a.id,
                calendars,
                settings,
                again: Some(a.archived_at),
            });
        }
        Existing::New => store.insert_account(&account, now).await?,
    };
    // A calendar whose server lists its reports without sync-collection is synced by listing
    // from the first pass on (an empty ctag: compared with nothing, see `fetch::listing_method`).
    let lacking: Vec<&str> = calendars
        .iter()
        .filter(|c| c.sync_collection == Some(false))
        .map(|c| c.url.as_str())
        .collect();
    if !lacking.is_empty() {
        for c in store.list_calendars(account_id).await? {
            if lacking.contains(&c.remote_id.as_str()) {
                store
                    .set_calendar_cursor(c.id, None, Some(""), None)
                    .await?;
            }
        }
    }
    Ok(Connected {
        account_id,
        calendars,
        settings,
        again: None,
    })
}

/// `accounts reconnect ID` (and the web's "Reconnect"): checks the new password against the
/// account's server, as its user, and replaces the stored one; its calendars, 1:1s, history and
/// links stay. A removed account comes back (waiting to be started).
pub(crate) async fn reconnect(
    store: &Store,
    keyring: &Keyring,
    id: i64,
    password: SecretString,
    net: (std::time::Duration, bool),
    now: DateTime<Utc>,
) -> Result<Connected, ConnectError> {
    let (timeout, allow_http) = net;
    let a = store.get_account(id).await?;
    let settings = CaldavSettings::from_account(&a)?;
    let url = Url::parse(&settings.url).map_err(|e| {
        ConnectError::Settings(format!("account {id}: url {:?}: {e}", settings.url))
    })?;
    crate::provider::netcheck::check(&url, allow_http).await?;
    let client = CalDavClient::new(&settings.username, password.clone(), timeout)?
        .for_account(&url, allow_http);
    let found = client.discover(&url).await?;
    let credentials = keyring.encrypt(&password);
    let again = Reconnect {
        credentials: &credentials,
        settings: None,
        calendars: &[],
    };
    store.reconnect_account(id, &again, now).await?;
    let ours: Vec<String> = store
        .list_calendars(id)
        .await?
        .into_iter()
        .map(|c| c.remote_id)
        .collect();
    Ok(Connected {
        account_id: id,
        calendars: found
            .calendars
            .into_iter()
            .filter(|c| ours.contains(&c.url.to_string()))
            .collect(),
        settings,
        again: Some(a.archived_at),
    })
}

/// Whether an error message already names `url` (with or without its last slash): what wraps a
/// connect error adds the URL only when the error does not, so it is named once.
pub(crate) fn names_url(message: &str, url: &str) -> bool {
    message.contains(url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(name: &str, path: &str, comps: &[&str]) -> CalendarInfo {
        CalendarInfo {
            url: Url::parse("http://h/").unwrap().join(path).unwrap(),
            display_name: Some(name.into()),
            components: comps.iter().map(|s| s.to_string()).collect(),
            ctag: None,
            sync_token: None,
            sync_collection: None,
        }
    }

    #[test]
    fn calendars_are_picked_by_name_or_url_and_task_lists_are_left_out() {
        let found = [
            cal("Work", "/a/work/", &["VEVENT"]),
            cal("Tasks", "/a/tasks/", &["VTODO"]),
            cal("Home", "/a/home/", &[]),
        ];
        let all = select_calendars(&found, &[]).unwrap();
        assert_eq!(all.len(), 2);
        let by_name = select_calendars(&found, &["work".into()]).unwrap();
        assert_eq!(by_name[0].url.path(), "/a/work/");
        let by_path = select_calendars(&found, &["/a/home".into()]).unwrap();
        assert_eq!(by_path[0].display_name.as_deref(), Some("Home"));
        let err = select_calendars(&found, &["Tasks".into()]).unwrap_err();
        assert!(err.to_string().contains("\"Work\""), "{err}");
    }
}
