//! One calendar, one account: what connecting finds among the accounts already stored. The same
//! server and user (or the same Google account) is the same account, whose credentials and
//! settings a connect replaces; a calendar another account already reaches (through a different
//! URL for the same collection, or shared with another user) is refused; an archived account
//! that holds the calendar comes back with its history.

use crate::store::{Account, Calendar, Provider, Store, StoreError};

/// The outcome of looking for the account a connect is about.
#[derive(Debug)]
pub(crate) enum Existing {
    /// Nothing stored reaches these calendars: a new account.
    New,
    /// This account is the one being connected (again): update it in place.
    Same(Box<Account>),
    /// Another account already syncs one of the calendars.
    Taken(Taken),
}

/// A calendar that another (connected) account already syncs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the calendar {ours} is already connected as account {account} ({name}){through}: to give \
     that account a new password or grant, run `oneonone accounts reconnect {account}`; to \
     connect the calendar as this user instead, remove account {account} first \
     (`oneonone accounts remove {account}`, its history is kept)",
    through = if theirs == ours { String::new() } else { format!(", through {theirs}") }
)]
pub(crate) struct Taken {
    pub account: i64,
    pub name: String,
    /// The calendar as this connect reaches it, and as the other account does.
    pub ours: String,
    pub theirs: String,
}

/// The stored accounts of `provider`, each with its calendars: what [`find`] looks through (a
/// provider may read more from them first, e.g. the CalDAV hosts to resolve).
pub(crate) async fn stored(
    store: &Store,
    provider: Provider,
) -> Result<Vec<(Account, Vec<Calendar>)>, StoreError> {
    let mut out = Vec::new();
    for a in store.list_accounts().await? {
        if a.provider == provider {
            let calendars = store.list_calendars(a.id).await?;
            out.push((a, calendars));
        }
    }
    Ok(out)
}

/// Finds, among `accounts` (from [`stored`]), the account a connect of `ours` (calendar remote
/// ids) is about. `same_account`: the stored account is this server and user (or this Google
/// account). `same_calendar(theirs, ours)`: two remote ids name one collection.
pub(crate) fn find(
    accounts: &[(Account, Vec<Calendar>)],
    same_account: impl Fn(&Account) -> bool,
    same_calendar: impl Fn(&str, &str) -> bool,
    ours: &[String],
) -> Existing {
    // A connected account before an archived one: a person with both reconnects the live one.
    let same = accounts
        .iter()
        .map(|(a, _)| a)
        .filter(|a| same_account(a))
        .min_by_key(|a| (a.archived_at.is_some(), a.id));
    if let Some(a) = same {
        return Existing::Same(Box::new(a.clone()));
    }
    let mut archived = None;
    for (a, calendars) in accounts {
        for c in calendars {
            let Some(o) = ours.iter().find(|o| same_calendar(&c.remote_id, o)) else {
                continue;
            };
            if a.archived_at.is_some() {
                archived.get_or_insert_with(|| a.clone());
                continue;
            }
            return Existing::Taken(Taken {
                account: a.id,
                name: a.display_name.clone(),
                ours: o.clone(),
                theirs: c.remote_id.clone(),
            });
        }
    }
    archived.map_or(Existing::New, |a| Existing::Same(Box::new(a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_calendar_names_both_urls_once_and_the_next_steps() {
        let t = Taken {
            account: 3,
            name: "alice at localhost".into(),
            ours: "http://127.0.0.1:5232/alice/work/".into(),
            theirs: "http://localhost:5232/alice/work/".into(),
        };
        let m = t.to_string();
        assert_eq!(
            m.matches("http://127.0.0.1:5232/alice/work/").count(),
            1,
            "{m}"
        );
        assert_eq!(
            m.matches("http://localhost:5232/alice/work/").count(),
            1,
            "{m}"
        );
        assert!(m.contains("oneonone accounts reconnect 3"), "{m}");
        assert!(m.contains("oneonone accounts remove 3"), "{m}");
        let same = Taken {
            theirs: t.ours.clone(),
            ..t
        };
        assert!(!same.to_string().contains("through"), "{same}");
    }
}
