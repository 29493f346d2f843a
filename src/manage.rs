//! What the CLI commands, the admin API and the web pages do with accounts (and the account state
//! `/readyz` reports), series, items, history and revisions: one library function per operation,
//! returning serializable views, so the surfaces cannot drift apart. It imports no HTTP module.

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use crate::agenda::{ItemState, Section};
use crate::attendance::{self, Attendance, Evidence};
use crate::detect::SeriesOverride;
use crate::notes::PrivateNote;
use crate::store::{
    Account, AccountState, ItemRow, ItemSource, Mark, OccurrenceRow, Revision, SeriesRow, Store,
    StoreError,
};
use crate::sync::restore::RestoreError;

/// The longest item text accepted: an agenda line, not a document.
pub(crate) const MAX_ITEM_TEXT: usize = 500;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ManageError {
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    /// The input is well-formed but not acceptable; `field` names where.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The operation does not apply in the current state (e.g. editing a closed item).
    #[error("{0}")]
    Conflict(String),
    /// The operation deletes for good and the person has not confirmed it; the message says
    /// what would be deleted. Each surface names its own way to confirm.
    #[error("{0}")]
    NeedsConfirmation(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ManageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what, id } => Self::NotFound { what, id },
            other => Self::Store(other),
        }
    }
}

pub type Result<T, E = ManageError> = std::result::Result<T, E>;

/// An account's state as `/readyz`, the admin API, `accounts list` and the web pages show it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountReadiness {
    pub id: i64,
    pub provider: &'static str,
    /// ok / waiting_to_start / backing_off / needs_reconnect / disabled / removed.
    /// `waiting_to_start`: connected, its passes only preview, nothing is written until the
    /// person starts it. `removed`: no longer synced; its history is kept (`accounts remove`).
    pub state: &'static str,
    /// When writing agendas was started; `null` while the account waits to be started.
    pub writing_started_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i64,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error_kind: Option<String>,
    pub next_due: Option<DateTime<Utc>>,
    /// When the account was removed; its series and history stay until it is purged.
    pub removed_at: Option<DateTime<Utc>>,
}

impl From<&Account> for AccountReadiness {
    fn from(a: &Account) -> Self {
        let state = match a.state {
            AccountState::Active if a.consecutive_failures > 0 => "backing_off",
            AccountState::Active if !a.writing_started() => "waiting_to_start",
            AccountState::Active => "ok",
            AccountState::NeedsReconnect => "needs_reconnect",
            AccountState::Disabled => "disabled",
        };
        let state = if a.archived_at.is_some() {
            "removed"
        } else {
            state
        };
        Self {
            id: a.id,
            provider: a.provider.as_str(),
            state,
            writing_started_at: a.writing_started_at,
            consecutive_failures: a.consecutive_failures,
            last_success: a.last_success_at,
            last_error_kind: a.last_error_kind.clone(),
            next_due: a.next_due_at,
            removed_at: a.archived_at,
        }
    }
}

/// How a calendar is brought up to date each pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SyncMethod {
    /// CalDAV sync-collection since the stored token (RFC 6578).
    SyncCollection,
    /// CalDAV ctag, then an etag listing and a multiget of what changed: the server has no
    /// sync-collection report.
    Listing,
    /// The Google Calendar API's incremental sync token.
    Google,
}

impl SyncMethod {
    /// The method `cal` of a `provider` account is synced by.
    pub(crate) fn of(provider: crate::store::Provider, cal: &crate::store::Calendar) -> Self {
        match provider {
            crate::store::Provider::Google => SyncMethod::Google,
            crate::store::Provider::Caldav
                if crate::provider::caldav::fetch::listing_method(cal) =>
            {
                SyncMethod::Listing
            }
            crate::store::Provider::Caldav => SyncMethod::SyncCollection,
        }
    }
}

/// An account with its state, calendars and last error.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountView {
    #[serde(flatten)]
    pub state: AccountReadiness,
    pub display_name: String,
    /// The calendars' remote ids (CalDAV collection URLs or Google calendar ids).
    pub calendars: Vec<String>,
    /// Those of `calendars` synced by ctag and etag listing, their server having no
    /// sync-collection report (the others: sync-collection, or the provider's own sync).
    pub listing_calendars: Vec<String>,
    pub last_error: Option<String>,
}

pub(crate) async fn list_accounts(store: &Store) -> Result<Vec<AccountView>> {
    let mut lines = Vec::new();
    for a in store.list_accounts().await? {
        let all = store.list_calendars(a.id).await?;
        let listing_calendars = all
            .iter()
            .filter(|c| {
                a.provider == crate::store::Provider::Caldav
                    && crate::provider::caldav::fetch::listing_method(c)
            })
            .map(|c| c.remote_id.clone())
            .collect();
        let calendars = all.into_iter().map(|c| c.remote_id).collect();
        lines.push(AccountView {
            state: AccountReadiness::from(&a),
            display_name: a.display_name.clone(),
            calendars,
            listing_calendars,
            last_error: a.current_error().map(str::to_string),
        });
    }
    Ok(lines)
}

/// What `accounts remove` did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Removed {
    pub account: i64,
    pub display_name: String,
    /// False when the account had been removed before (nothing changed).
    pub removed_now: bool,
    /// Whether its history was deleted (`--purge`); otherwise it is kept.
    pub purged: bool,
}

/// `accounts remove ID`: the account stops syncing and forgets its credentials; its 1:1s,
/// history, items and notes stay readable and come back when the calendar is connected again.
pub(crate) async fn remove_account(store: &Store, id: i64, now: DateTime<Utc>) -> Result<Removed> {
    let a = store.get_account(id).await?;
    let removed_now = store.archive_account(id, now).await?;
    Ok(Removed {
        account: id,
        display_name: a.display_name,
        removed_now,
        purged: false,
    })
}

/// What purging an account deletes, in words: "its 2 1:1s, 14 meetings of history and 9 items".
pub(crate) async fn purge_holdings(store: &Store, id: i64) -> Result<String> {
    let (series, meetings, items) = store.account_holdings(id).await?;
    let n = |k: i64, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
    Ok(format!(
        "its {}, {} and {}",
        n(series, "1:1", "1:1s"),
        n(meetings, "meeting of history", "meetings of history"),
        n(items, "item", "items")
    ))
}

/// `accounts remove ID --purge`: deletes the account with its 1:1s, history, items, notes and
/// revisions, for good. Refused unless the person `confirmed` (a terminal's "yes", `--yes`, the
/// API's `yes=true`, the web page's confirmation form); the refusal says what would be lost.
pub(crate) async fn purge_account(store: &Store, id: i64, confirmed: bool) -> Result<Removed> {
    let a = store.get_account(id).await?;
    if !confirmed {
        return Err(ManageError::NeedsConfirmation(format!(
            "purging account {id} ({}) deletes {} for good, so it needs a confirmation; nothing was deleted",
            a.display_name,
            purge_holdings(store, id).await?
        )));
    }
    store.purge_account(id).await?;
    Ok(Removed {
        account: id,
        display_name: a.display_name,
        removed_now: a.archived_at.is_none(),
        purged: true,
    })
}

/// A recurring series as detection and the user's override see it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SeriesView {
    pub id: i64,
    pub uid: String,
    pub summary: String,
    /// Whether the daemon treats it as a 1:1 (the override, else detection).
    pub one_on_one: bool,
    /// The direct report's address.
    pub with: Option<String>,
    #[serde(rename = "override")]
    #[schema(rename = "override")]
    pub override_: SeriesOverride,
    /// Why detection decided as it did.
    pub reason: String,
    /// Whether the owner organizes it (only then is an agenda written).
    pub writes_agenda: bool,
    /// What keeps the series from getting its agenda, if anything.
    pub last_error: Option<String>,
    /// The earlier series this 1:1 continues (its meetings are part of this one's history),
    /// and why; `oneonone series split` undoes it.
    pub continues: Option<i64>,
    pub continues_reason: Option<String>,
    /// The later series that continues this one, if any.
    pub continued_by: Option<i64>,
}

impl From<&SeriesRow> for SeriesView {
    fn from(s: &SeriesRow) -> Self {
        Self {
            id: s.id,
            uid: s.uid.clone(),
            summary: s.summary.clone(),
            one_on_one: s.tracked(),
            with: s.direct_email.clone(),
            override_: s.override_,
            reason: s.detection_reason.clone(),
            writes_agenda: s.owner_is_organizer,
            last_error: s.last_error.clone(),
            continues: s.continues_series_id,
            continues_reason: s.continues_reason.clone(),
            continued_by: None,
        }
    }
}

/// Every series (`all`) or only the tracked 1:1s.
pub(crate) async fn list_series(store: &Store, all: bool) -> Result<Vec<SeriesView>> {
    let rows = store.list_series().await?;
    let successor: std::collections::HashMap<i64, i64> = rows
        .iter()
        .filter_map(|s| Some((s.continues_series_id?, s.id)))
        .collect();
    Ok(rows
        .iter()
        .filter(|s| all || s.tracked())
        .map(|s| SeriesView {
            continued_by: successor.get(&s.id).copied(),
            ..SeriesView::from(s)
        })
        .collect())
}

pub(crate) async fn get_series(store: &Store, id: i64) -> Result<SeriesView> {
    Ok(SeriesView {
        continued_by: store.continued_by(id).await?,
        ..SeriesView::from(&store.get_series(id).await?)
    })
}

/// What `series split` did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SplitView {
    /// The series as it now stands (continuing nothing).
    pub series: SeriesView,
    /// The series it continued, whose history is its own again.
    pub earlier_series_id: i64,
    pub earlier_summary: String,
    /// Items taken over from the earlier series, still open, moved back to it.
    pub items_moved_back: u64,
}

/// Undoes a continuation: `id` names the later series (or the earlier one, when a later one
/// continues it). Open items it took over go back, the histories are separate again, and
/// detection does not link the pair again.
pub(crate) async fn split_series(store: &Store, id: i64, now: DateTime<Utc>) -> Result<SplitView> {
    let row = store.get_series(id).await?;
    let later = match row.continues_series_id {
        Some(_) => id,
        None => store.continued_by(id).await?.ok_or_else(|| {
            ManageError::Conflict(format!(
                "series {id} ({:?}) neither continues nor is continued by another series; \
                 nothing to split (see `oneonone series list`)",
                row.summary
            ))
        })?,
    };
    let split = store.split_series(later, now).await?.ok_or_else(|| {
        ManageError::Conflict(format!(
            "series {later} continues no series; nothing to split"
        ))
    })?;
    let earlier = store.get_series(split.earlier_series_id).await?;
    Ok(SplitView {
        series: get_series(store, later).await?,
        earlier_series_id: earlier.id,
        earlier_summary: earlier.summary,
        items_moved_back: split.items_moved_back,
    })
}

/// Makes series `id` continue series `earlier` by hand (what detection does for a re-created
/// 1:1, or again after a split): the earlier one's open items move over and its meetings join
/// the history.
pub(crate) async fn continue_series(
    store: &Store,
    id: i64,
    earlier: i64,
    now: DateTime<Utc>,
) -> Result<SeriesView> {
    let row = store.get_series(id).await?;
    let old = store.get_series(earlier).await?;
    if id == earlier {
        return Err(ManageError::Invalid {
            field: "from",
            message: format!("series {id} cannot continue itself; give the earlier series' id"),
        });
    }
    if let Some(c) = row.continues_series_id {
        return Err(ManageError::Conflict(format!(
            "series {id} already continues series {c}; undo that first with `oneonone series split {id}`"
        )));
    }
    if let Some(c) = store.continued_by(earlier).await? {
        return Err(ManageError::Conflict(format!(
            "series {earlier} is already continued by series {c}; undo that first with `oneonone series split {c}`"
        )));
    }
    if store.series_chain(earlier).await?.contains(&id) {
        return Err(ManageError::Conflict(format!(
            "series {earlier} continues series {id} already; a series cannot continue a later one"
        )));
    }
    let reason = format!(
        "continues series {} ({:?}): linked by hand",
        old.id, old.summary
    );
    store
        .link_series(id, earlier, &reason, now)
        .await?
        .ok_or_else(|| {
            ManageError::Conflict(format!(
                "series {id} or {earlier} was linked meanwhile; see `oneonone series list`"
            ))
        })?;
    get_series(store, id).await
}

/// Stores the user's choice for a series and returns it as it now stands.
pub(crate) async fn set_override(
    store: &Store,
    id: i64,
    choice: SeriesOverride,
    now: DateTime<Utc>,
) -> Result<SeriesView> {
    store.set_series_override(id, choice, now).await?;
    get_series(store, id).await
}

/// The tracked 1:1 with `email` (the direct's address); an error naming the choices otherwise.
pub(crate) async fn series_with(store: &Store, email: &str) -> Result<SeriesRow> {
    let wanted = crate::model::EmailAddress::parse(email).ok_or_else(|| ManageError::Invalid {
        field: "with",
        message: format!("{email:?} is not an email address"),
    })?;
    let all = store.list_series().await?;
    // A series another one continues is part of that one's history, not a 1:1 of its own.
    let continued: std::collections::HashSet<i64> =
        all.iter().filter_map(|s| s.continues_series_id).collect();
    let mut found: Vec<SeriesRow> = all
        .into_iter()
        .filter(|s| s.tracked() && s.direct_email.as_deref() == Some(wanted.as_str()))
        .filter(|s| !continued.contains(&s.id))
        .collect();
    match found.len() {
        0 => Err(ManageError::Invalid {
            field: "with",
            message: format!("no tracked 1:1 with {wanted}; see `oneonone series list`"),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(ManageError::Conflict(format!(
            "several 1:1s with {wanted} ({}); exclude the ones you do not use with `oneonone series exclude ID`",
            found
                .iter()
                .map(|s| format!("{} {:?}", s.id, s.summary))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// One item of a series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ItemView {
    pub id: i64,
    pub series_id: i64,
    /// direct, manager or action.
    pub section: String,
    pub text: String,
    /// open, done or dropped.
    pub state: String,
    pub times_carried: i64,
    /// calendar, cli, api or web.
    pub source: String,
    /// Its place among the open items of its section in the agenda, 1 first (what
    /// `item move --position` and the API's `position` take); null once closed.
    pub position: Option<usize>,
}

impl ItemView {
    /// The views of a series' items given in agenda order (`store::list_items`), each open one
    /// with its place in its section.
    fn in_order(rows: Vec<ItemRow>) -> Vec<Self> {
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        rows.into_iter()
            .map(|i| {
                let position = (i.state == ItemState::Open.as_str()).then(|| {
                    let n = seen.entry(i.section.clone()).or_default();
                    *n += 1;
                    *n
                });
                Self {
                    id: i.id,
                    series_id: i.series_id,
                    section: i.section,
                    text: i.text,
                    state: i.state,
                    times_carried: i.times_carried,
                    source: i.source,
                    position,
                }
            })
            .collect()
    }
}

/// Checks an item's text: one line (it becomes an agenda line), not empty, not too long.
/// Returns it trimmed.
pub(crate) fn item_text(text: &str) -> Result<String> {
    let invalid = |message: &str| ManageError::Invalid {
        field: "text",
        message: message.to_string(),
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid("the item text is empty"));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(
            "the item text must be one line without control characters",
        ));
    }
    if text.chars().count() > MAX_ITEM_TEXT {
        return Err(invalid(&format!(
            "the item text is longer than {MAX_ITEM_TEXT} characters"
        )));
    }
    Ok(text.to_string())
}

/// The items of a series in agenda order; `all` includes done and dropped ones.
pub(crate) async fn list_items(store: &Store, series_id: i64, all: bool) -> Result<Vec<ItemView>> {
    store.get_series(series_id).await?;
    // Every item, so each open one gets its place; then only the open ones unless `all`.
    Ok(
        ItemView::in_order(store.list_items(series_id, false).await?)
            .into_iter()
            .filter(|i| all || i.position.is_some())
            .collect(),
    )
}

/// Adds an item to a series; it shows in the next agenda after the next pass.
pub(crate) async fn add_item(
    store: &Store,
    series_id: i64,
    section: Section,
    text: &str,
    source: ItemSource,
    now: DateTime<Utc>,
) -> Result<ItemView> {
    let text = item_text(text)?;
    store.get_series(series_id).await?;
    let id = store
        .add_item(series_id, section.as_str(), &text, source, None, now)
        .await?;
    get_item(store, id).await
}

pub(crate) async fn get_item(store: &Store, id: i64) -> Result<ItemView> {
    let row = store.get_item(id).await?;
    ItemView::in_order(store.list_items(row.series_id, false).await?)
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| ManageError::NotFound {
            what: "item",
            id: id.to_string(),
        })
}

/// Why an item cannot change: it is gone (not found) or closed (conflict).
async fn not_open(store: &Store, id: i64) -> ManageError {
    match store.get_item(id).await {
        Ok(item) => ManageError::Conflict(format!(
            "item {id} is {}; only open items change",
            item.state
        )),
        Err(e) => e.into(),
    }
}

/// What changes in an open item: its text, its section, its place in the section (1 first).
#[derive(Debug, Default, Clone)]
pub(crate) struct ItemChange<'a> {
    pub text: Option<&'a str>,
    pub section: Option<Section>,
    pub position: Option<usize>,
}

/// Changes the text, section and/or place of an open item. Moved to another section without a
/// place, it goes after that section's items.
pub(crate) async fn update_item(
    store: &Store,
    id: i64,
    change: ItemChange<'_>,
    now: DateTime<Utc>,
) -> Result<ItemView> {
    if change.text.is_none() && change.section.is_none() && change.position.is_none() {
        return Err(ManageError::Invalid {
            field: "body",
            message: "nothing to change: give text, section and/or position".into(),
        });
    }
    if change.position == Some(0) {
        return Err(ManageError::Invalid {
            field: "position",
            message: "positions start at 1 (the first item of the section)".into(),
        });
    }
    let text = change.text.map(item_text).transpose()?;
    if let Some(text) = text.as_deref()
        && !store.update_open_item(id, Some(text), None, now).await?
    {
        return Err(not_open(store, id).await);
    }
    if (change.section.is_some() || change.position.is_some())
        && !store
            .place_open_item(
                id,
                change.section.map(Section::as_str),
                change.position,
                now,
            )
            .await?
    {
        return Err(not_open(store, id).await);
    }
    get_item(store, id).await
}

/// Moves an open item to another section and/or place (see [`update_item`]).
pub(crate) async fn move_item(
    store: &Store,
    id: i64,
    section: Option<Section>,
    position: Option<usize>,
    now: DateTime<Utc>,
) -> Result<ItemView> {
    if section.is_none() && position.is_none() {
        return Err(ManageError::Invalid {
            field: "position",
            message: format!("say where item {id} goes: a section and/or a position"),
        });
    }
    let change = ItemChange {
        text: None,
        section,
        position,
    };
    update_item(store, id, change, now).await
}

/// Closes an open item as done or dropped.
pub(crate) async fn close_item(
    store: &Store,
    id: i64,
    state: ItemState,
    via: ItemSource,
    now: DateTime<Utc>,
) -> Result<ItemView> {
    if state == ItemState::Open {
        return Err(ManageError::Invalid {
            field: "state",
            message: "an item closes as done or dropped".into(),
        });
    }
    if !store.close_open_item(id, state.as_str(), via, now).await? {
        return Err(not_open(store, id).await);
    }
    get_item(store, id).await
}

/// An item closed (done or dropped) in or before a meeting, with how and when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ClosedItemView {
    pub id: i64,
    pub text: String,
    /// direct, manager or action: the section it was in.
    pub section: String,
    /// done or dropped.
    pub state: String,
    /// When it was closed, in the series' zone (RFC 3339 with its offset); null when the
    /// database has no record of it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<DateTime<FixedOffset>>,
    /// How: calendar (ticked or deleted in the invite), cli, api or web; null when unknown.
    pub via: Option<String>,
}

impl ClosedItemView {
    fn new(i: &ItemRow, tz: Tz) -> Self {
        Self {
            id: i.id,
            text: i.text.clone(),
            section: i.section.clone(),
            state: i.state.clone(),
            at: i.closed_at.map(|t| crate::when::at(t, tz)),
            via: i.closed_via.clone(),
        }
    }

    /// `(manager topic, 2026-12-07 10:40 CET, deleted from the invite)`.
    pub(crate) fn circumstances(&self) -> String {
        let section = match self.section.as_str() {
            "direct" => "direct's topic",
            "manager" => "manager's topic",
            "action" => "action item",
            other => other,
        };
        let how = match (self.via.as_deref(), self.state.as_str()) {
            (Some("calendar"), "dropped") => "deleted from the invite",
            (Some("calendar"), _) => "ticked in the invite",
            (Some("cli"), _) => "from the command line",
            (Some("api"), _) => "through the API",
            (Some("web"), _) => "on the web page",
            _ => "",
        };
        let when = self
            .at
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        [section, when.as_str(), how]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One meeting of a series, as the history shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MeetingView {
    /// The occurrence (to mark it held or skipped).
    pub occurrence_id: i64,
    /// The series it belongs to: this one, or an earlier one it continues.
    pub series_id: i64,
    /// Start in the series' zone, for a person: `2026-12-07 10:00 CET`.
    pub date: String,
    /// Start in the series' zone, RFC 3339 with its offset: `2026-12-07T10:00:00+01:00`.
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<FixedOffset>,
    /// upcoming, held, no_notes (the calendar kept it, nothing shows it took place), skipped
    /// (a person said so), cancelled or moved. See `attendance` for the rule.
    pub status: Attendance,
    /// The status in words (`took place (no notes)`).
    pub status_text: String,
    /// A person's word (held or skipped) and through what (cli, api, web).
    pub marked: Option<String>,
    pub marked_via: Option<String>,
    /// Items ticked in this meeting.
    pub closed: Vec<String>,
    /// Open items carried on, with how often they have been carried.
    #[schema(value_type = Vec<(String, u32)>)]
    pub carried: Vec<(String, u32)>,
    /// Open items that went on to the next meeting without a carry: added during this one, or
    /// its meeting did not take place. Shown as "open, for the next 1:1".
    pub moved_on: Vec<String>,
    /// Items dropped in this meeting (their line deleted from the invite) or, from the CLI, the
    /// API or the web, while it was the next meeting.
    pub dropped: Vec<ClosedItemView>,
    /// Items marked done from the CLI, the API or the web while this was the next meeting.
    pub done_elsewhere: Vec<ClosedItemView>,
    /// Free lines typed in the agenda.
    pub notes: Vec<String>,
    /// The manager's private notes about this meeting; only when asked for (the CLI's
    /// `--include-private`), never through the API.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub private_notes: Option<Vec<PrivateNote>>,
}

impl MeetingView {
    /// Every text of the entry (for the web page's search).
    pub(crate) fn texts(&self) -> impl Iterator<Item = &String> {
        self.closed
            .iter()
            .chain(self.carried.iter().map(|(t, _)| t))
            .chain(&self.moved_on)
            .chain(self.dropped.iter().map(|i| &i.text))
            .chain(self.done_elsewhere.iter().map(|i| &i.text))
            .chain(&self.notes)
    }
}

/// The meeting history of a series.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HistoryView {
    pub series_id: i64,
    /// The series' title.
    pub series: String,
    /// Why the earlier series it continues belongs to this history (their meetings are
    /// included); null when it continues none.
    pub continues_reason: Option<String>,
    pub with: Option<String>,
    /// The zone its times are given in (IANA name).
    pub timezone: String,
    pub meetings: Vec<MeetingView>,
    /// Items closed from the CLI, the API or the web when no meeting was recorded as the next
    /// one.
    pub closed_between_meetings: Vec<ClosedItemView>,
    /// Private notes about no recorded meeting; only when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub private_notes: Option<Vec<PrivateNote>>,
}

/// The meeting an item closed outside the invite belongs to: the one that was next when it
/// closed (the first not yet closed at that time), whose agenda would have shown it.
fn next_meeting_at(occurrences: &[OccurrenceRow], t: DateTime<Utc>) -> Option<i64> {
    occurrences
        .iter()
        .find(|o| o.closed_at.is_none_or(|c| c > t))
        .map(|o| o.id)
}

/// The history of a series, its times in the series' zone (`default_tz` when none is known);
/// `private` (the series' private notes, decrypted by the caller) are shown with the first
/// meeting each is about, the rest for the series as a whole.
pub(crate) async fn history(
    store: &Store,
    series_id: i64,
    mut private: Option<Vec<PrivateNote>>,
    default_tz: Tz,
) -> Result<HistoryView> {
    let series = store.get_series(series_id).await?;
    let tz = crate::when::series_zone(store, &series, default_tz).await?;
    // With the meetings and items of the earlier series it continues: one 1:1.
    let occurrences = store.list_occurrences_in_chain(series.id).await?;
    let items = store.list_items_in_chain(series.id).await?;
    let evidence = Evidence::new(
        &items,
        &store.private_note_occurrences_in_chain(series.id).await?,
    );
    // Where each closed item shows: the meeting it was closed in, else the one that was next.
    let mut closed_items: Vec<(Option<i64>, &ItemRow)> = items
        .iter()
        .filter(|i| i.state != ItemState::Open.as_str())
        .map(|i| {
            let home = i
                .closed_in
                .or_else(|| i.closed_at.and_then(|t| next_meeting_at(&occurrences, t)));
            (home, i)
        })
        .collect();
    closed_items.sort_by_key(|(_, i)| (i.closed_at, i.id));
    let mut meetings = Vec::new();
    let total = occurrences.len() as u64;
    for (n, o) in occurrences.iter().enumerate() {
        // A bar only for a CLI on a terminal (see `progress`); nothing in the daemon's logs.
        crate::progress::report("exporting history", n as u64, total);
        let private_notes = private.as_mut().map(|all| {
            let (about, rest): (Vec<_>, Vec<_>) = std::mem::take(all)
                .into_iter()
                .partition(|n| n.is_about(o, tz));
            *all = rest;
            about
        });
        // A snapshot that does not parse shows as empty rather than hiding the meeting.
        let summary: crate::store::MeetingSummary = o
            .summary
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let notes: Vec<crate::agenda::Note> = o
            .notes
            .as_deref()
            .and_then(|n| serde_json::from_str(n).ok())
            .unwrap_or_default();
        let here = |state: &str, elsewhere: bool| -> Vec<ClosedItemView> {
            closed_items
                .iter()
                .filter(|(home, i)| {
                    *home == Some(o.id)
                        && i.state == state
                        && (!elsewhere || i.closed_via.as_deref() != Some("calendar"))
                        // A tick in the invite is in `closed` already (from the meeting's summary).
                        && (state != "done" || i.closed_in.is_none())
                })
                .map(|(_, i)| ClosedItemView::new(i, tz))
                .collect()
        };
        let status = attendance::status(o, &evidence);
        meetings.push(MeetingView {
            occurrence_id: o.id,
            series_id: o.series_id,
            date: crate::when::display(o.start_at, tz),
            at: crate::when::at(o.start_at, tz),
            status,
            status_text: status.label().to_string(),
            marked: o.marked.clone(),
            marked_via: o.marked_via.clone(),
            closed: summary.closed,
            carried: summary.carried,
            moved_on: summary.moved_on,
            dropped: here("dropped", false),
            done_elsewhere: here("done", true),
            notes: notes
                .into_iter()
                .map(|n| n.text)
                .filter(|t| !t.trim().is_empty())
                .collect(),
            private_notes,
        });
    }
    crate::progress::report("exporting history", total, total);
    Ok(HistoryView {
        series_id: series.id,
        series: series.summary,
        continues_reason: series.continues_reason,
        with: series.direct_email,
        timezone: tz.name().to_string(),
        meetings,
        closed_between_meetings: closed_items
            .iter()
            .filter(|(home, _)| home.is_none())
            .map(|(_, i)| ClosedItemView::new(i, tz))
            .collect(),
        private_notes: private,
    })
}

/// Records a person's word on whether a meeting of the series took place (it replaces an
/// earlier word) and returns the meeting as the history now shows it. A meeting that has not
/// started cannot be marked.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn mark_meeting(
    store: &Store,
    series_id: i64,
    occurrence_id: i64,
    mark: Mark,
    via: ItemSource,
    now: DateTime<Utc>,
    default_tz: Tz,
) -> Result<MeetingView> {
    let series = store.get_series(series_id).await?;
    let tz = crate::when::series_zone(store, &series, default_tz).await?;
    let occurrences = store.list_occurrences_in_chain(series_id).await?;
    let not_found = || ManageError::NotFound {
        what: "meeting",
        id: occurrence_id.to_string(),
    };
    let occ = occurrences
        .iter()
        .find(|o| o.id == occurrence_id)
        .ok_or_else(not_found)?;
    if occ.start_at > now {
        return Err(ManageError::Conflict(format!(
            "the meeting of {} has not started yet; mark it once it is over",
            crate::when::display(occ.start_at, tz)
        )));
    }
    if !store
        .mark_occurrence(occ.series_id, occurrence_id, mark, via, now)
        .await?
    {
        return Err(not_found());
    }
    history(store, series_id, None, default_tz)
        .await?
        .meetings
        .into_iter()
        .find(|m| m.occurrence_id == occurrence_id)
        .ok_or_else(not_found)
}

/// The meeting a person means: the one on `date` (a day in the series' zone), else the last
/// one that has started by `now`.
pub(crate) async fn meeting_on(
    store: &Store,
    series: &SeriesRow,
    date: Option<chrono::NaiveDate>,
    now: DateTime<Utc>,
    default_tz: Tz,
) -> Result<i64> {
    let tz = crate::when::series_zone(store, series, default_tz).await?;
    let occurrences = store.list_occurrences_in_chain(series.id).await?;
    let found = match date {
        Some(d) => crate::notes::occurrence_on(&occurrences, d, tz),
        None => occurrences.iter().rev().find(|o| o.start_at <= now),
    };
    found.map(|o| o.id).ok_or_else(|| ManageError::Invalid {
        field: "date",
        message: match date {
            Some(d) => format!(
                "no meeting of {:?} on {d} is recorded; see `oneonone history --with ...`",
                series.summary
            ),
            None => format!("no meeting of {:?} has taken place yet", series.summary),
        },
    })
}

impl HistoryView {
    /// Plain text (`markdown == false`, for a terminal) or Markdown (for export).
    pub fn render(&self, markdown: bool) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        if markdown {
            let _ = writeln!(out, "# {}\n", self.series);
            let _ = writeln!(out, "Times in {}.\n", self.timezone);
        } else {
            let _ = writeln!(
                out,
                "{} (with {}; times in {})",
                self.series,
                self.with.as_deref().unwrap_or("?"),
                self.timezone
            );
        }
        if let Some(why) = &self.continues_reason {
            // "continues series 12 (...)": its meetings are listed below with this one's.
            if markdown {
                let _ = writeln!(out, "This 1:1 {why}.\n");
            } else {
                let _ = writeln!(out, "This 1:1 {why}.");
            }
        }
        let bullet = if markdown { "- " } else { "    " };
        for m in &self.meetings {
            let marked = match (&m.marked, &m.marked_via) {
                (Some(_), Some(via)) => format!(", marked from {via}"),
                (Some(_), None) => ", marked".to_string(),
                _ => String::new(),
            };
            if markdown {
                let _ = writeln!(out, "## {} ({}{marked})\n", m.date, m.status_text);
            } else {
                let _ = writeln!(out, "{}  {}{marked}", m.date, m.status_text);
            }
            for c in &m.closed {
                let _ = writeln!(out, "{bullet}done: {c}");
            }
            for i in &m.done_elsewhere {
                let _ = writeln!(out, "{bullet}done: {} ({})", i.text, i.circumstances());
            }
            for i in &m.dropped {
                let _ = writeln!(out, "{bullet}dropped: {} ({})", i.text, i.circumstances());
            }
            for (c, n) in &m.carried {
                let _ = writeln!(out, "{bullet}carried (x{n}): {c}");
            }
            for c in &m.moved_on {
                let _ = writeln!(out, "{bullet}open, for the next 1:1: {c}");
            }
            for n in &m.notes {
                let _ = writeln!(out, "{bullet}note: {n}");
            }
            for n in m.private_notes.iter().flatten() {
                let _ = writeln!(out, "{bullet}private: {}", one_line(&n.text));
            }
            if markdown {
                out.push('\n');
            }
        }
        if !self.closed_between_meetings.is_empty() {
            out.push_str(if markdown {
                "## Closed between meetings\n\n"
            } else {
                "Closed between meetings\n"
            });
            for i in &self.closed_between_meetings {
                let _ = writeln!(
                    out,
                    "{bullet}{}: {} ({})",
                    i.state,
                    i.text,
                    i.circumstances()
                );
            }
            if markdown {
                out.push('\n');
            }
        }
        if let Some(rest) = self.private_notes.as_ref().filter(|r| !r.is_empty()) {
            out.push_str(if markdown {
                "## Private notes\n\n"
            } else {
                "Private notes\n"
            });
            for n in rest {
                let day = n.meeting_date.map(|d| format!("{d}: ")).unwrap_or_default();
                let _ = writeln!(out, "{bullet}{day}{}", one_line(&n.text));
            }
            if markdown {
                out.push('\n');
            }
        }
        out
    }
}

/// A multi-line text on one output line (the line breaks shown as ` / `).
pub(crate) fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// A description the daemon replaced, kept so the write can be undone.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RevisionView {
    pub id: i64,
    pub series_id: Option<i64>,
    pub occurrence_id: Option<i64>,
    pub calendar_id: i64,
    /// The event's resource (CalDAV URL or Google event id).
    pub remote_id: String,
    pub original_start: Option<DateTime<Utc>>,
    /// The description before the write (null: there was none).
    pub description_before: Option<String>,
    pub description_after: String,
    pub created_at: DateTime<Utc>,
    /// When the server accepted the write (null: it never took effect).
    pub applied_at: Option<DateTime<Utc>>,
    pub restored_at: Option<DateTime<Utc>>,
    /// The revision this write undid (null: a write of the daemon, not a restore).
    pub restores: Option<i64>,
}

impl From<Revision> for RevisionView {
    fn from(r: Revision) -> Self {
        Self {
            id: r.id,
            series_id: r.series_id,
            occurrence_id: r.occurrence_id,
            calendar_id: r.calendar_id,
            remote_id: r.remote_id,
            original_start: r.original_start,
            description_before: r.description_before,
            description_after: r.description_after,
            created_at: r.created_at,
            applied_at: r.applied_at,
            restored_at: r.restored_at,
            restores: r.restores,
        }
    }
}

/// Puts back the description revision `id` replaced, through the provider of its account.
pub(crate) async fn restore_revision(
    services: &crate::services::Services,
    id: i64,
    now: DateTime<Utc>,
) -> std::result::Result<crate::sync::restore::Restored, RestoreError> {
    crate::sync::restore::restore(
        &services.store,
        &services.config,
        &services.providers,
        id,
        now,
    )
    .await
}

/// Revisions of one series (every series with `None`), newest first.
pub(crate) async fn list_revisions(
    store: &Store,
    series_id: Option<i64>,
) -> Result<Vec<RevisionView>> {
    if let Some(id) = series_id {
        store.get_series(id).await?;
    }
    Ok(store
        .list_revisions(series_id)
        .await?
        .into_iter()
        .map(RevisionView::from)
        .collect())
}

/// How many writes `history` lists (the newest: the ones a person undoes).
const REVISIONS_SHOWN: usize = 10;

/// The writes into a 1:1's invites for `history`'s text, newest first, one a line: the id to
/// give `oneonone restore`, when it was written, into which meeting, and whether it never
/// reached the calendar or was undone. Empty when nothing was written.
pub(crate) fn render_revisions(revisions: &[Revision], tz: Tz) -> String {
    use std::fmt::Write;
    if revisions.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "Writes into the invites, newest first (undo one with `oneonone restore ID`):\n",
    );
    for r in revisions.iter().take(REVISIONS_SHOWN) {
        let meeting = match r.original_start {
            Some(t) => format!("into the meeting of {}", crate::when::display(t, tz)),
            None => "into the series".to_string(),
        };
        let (verb, fate) = match (r.applied_at, r.restored_at) {
            (_, Some(t)) => (
                "written",
                format!(", undone {}", crate::when::display(t, tz)),
            ),
            (None, None) => ("tried", ", never reached the calendar".to_string()),
            (Some(_), None) => ("written", String::new()),
        };
        // A restore's write says which write it undid.
        let undoing = r
            .restores
            .map(|id| format!(", undoing {id}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {:>4}  {verb} {}  {meeting}{undoing}{fate}",
            r.id,
            crate::when::display(r.created_at, tz)
        );
    }
    if let Some(older) = revisions
        .len()
        .checked_sub(REVISIONS_SHOWN)
        .filter(|n| *n > 0)
    {
        let _ = writeln!(out, "    ... and {older} older");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_lists_each_write_with_its_date_its_meeting_and_what_became_of_it() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let rev = |id: i64, applied: bool, restored: Option<&str>| Revision {
            id,
            series_id: Some(1),
            occurrence_id: Some(1),
            calendar_id: 1,
            remote_id: "https://dav.example/cal/a.ics".into(),
            original_start: Some(t("2026-03-30T08:00:00Z")),
            etag_before: None,
            description_before: None,
            description_after: "x".into(),
            created_at: t("2026-03-24T12:05:00Z"),
            applied_at: applied.then(|| t("2026-03-24T12:05:01Z")),
            restored_at: restored.map(t),
            restores: None,
        };
        let berlin = chrono_tz::Europe::Berlin;
        let text = render_revisions(
            &[
                Revision {
                    restores: Some(1),
                    ..rev(4, true, None)
                },
                rev(3, true, None),
                rev(2, false, None),
                rev(1, true, Some("2026-03-25T09:00:00Z")),
            ],
            berlin,
        );
        assert_eq!(
            text,
            "Writes into the invites, newest first (undo one with `oneonone restore ID`):\n\
             \x20      4  written 2026-03-24 13:05 CET  into the meeting of 2026-03-30 10:00 CEST, undoing 1\n\
             \x20      3  written 2026-03-24 13:05 CET  into the meeting of 2026-03-30 10:00 CEST\n\
             \x20      2  tried 2026-03-24 13:05 CET  into the meeting of 2026-03-30 10:00 CEST, never reached the calendar\n\
             \x20      1  written 2026-03-24 13:05 CET  into the meeting of 2026-03-30 10:00 CEST, undone 2026-03-25 10:00 CET\n"
        );
        assert_eq!(render_revisions(&[], berlin), "");
        let many: Vec<Revision> = (1..=12).rev().map(|i| rev(i, true, None)).collect();
        let text = render_revisions(&many, berlin);
        assert_eq!(text.lines().count(), 1 + REVISIONS_SHOWN + 1, "{text}");
        assert!(text.ends_with("    ... and 2 older\n"), "{text}");
        assert!(
            text.contains("  12  written") && !text.contains("   2  written"),
            "{text}"
        );
    }

    #[test]
    fn a_calendars_sync_method_is_read_from_its_provider_and_cursor() {
        use crate::store::{Calendar, Provider};
        let cal = |sync_token: Option<&str>, ctag: Option<&str>| Calendar {
            id: 1,
            account_id: 1,
            remote_id: "https://dav.example/cal/".into(),
            display_name: "Work".into(),
            timezone: None,
            sync_token: sync_token.map(str::to_string),
            ctag: ctag.map(str::to_string),
            last_full_sync_at: None,
            enabled: true,
        };
        let of = |p, c: &Calendar| serde_json::to_value(SyncMethod::of(p, c)).unwrap();
        // Not yet synced, or synced by token: sync-collection.
        assert_eq!(of(Provider::Caldav, &cal(None, None)), "sync_collection");
        assert_eq!(
            of(Provider::Caldav, &cal(Some("t1"), Some("c1"))),
            "sync_collection"
        );
        // A ctag alone (an empty one from discovery too): the listing method.
        assert_eq!(of(Provider::Caldav, &cal(None, Some("c1"))), "listing");
        assert_eq!(of(Provider::Caldav, &cal(None, Some(""))), "listing");
        assert_eq!(of(Provider::Google, &cal(None, Some("c1"))), "google");
    }

    #[test]
    fn item_text_is_one_trimmed_line_of_bounded_length() {
        assert_eq!(item_text("  Budget review \t").unwrap(), "Budget review");
        assert_eq!(item_text("Café ✓").unwrap(), "Café ✓");
        for bad in [
            "",
            "   ",
            "two\nlines",
            "tab\tinside",
            "nul\0",
            "c1\u{85}inside",
        ] {
            let e = item_text(bad).unwrap_err();
            assert!(
                matches!(e, ManageError::Invalid { field: "text", .. }),
                "{bad:?}: {e}"
            );
        }
        assert!(item_text(&"é".repeat(MAX_ITEM_TEXT)).is_ok());
        assert!(item_text(&"é".repeat(MAX_ITEM_TEXT + 1)).is_err());
    }

    #[test]
    fn an_item_left_for_the_next_meeting_reads_as_open_for_the_next_one() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00+01:00").unwrap();
        let view = HistoryView {
            series_id: 1,
            series: "1:1 Alice / Sam".into(),
            continues_reason: None,
            with: Some("alice@example.com".into()),
            timezone: "Europe/Berlin".into(),
            meetings: vec![MeetingView {
                occurrence_id: 1,
                series_id: 1,
                date: "2026-12-07 10:00 CET".into(),
                at,
                status: Attendance::Held,
                status_text: "held".into(),
                marked: None,
                marked_via: None,
                closed: vec![],
                carried: vec![],
                moved_on: vec!["Share the hiring plan for Q1".into()],
                dropped: vec![],
                done_elsewhere: vec![],
                notes: vec![],
                private_notes: None,
            }],
            closed_between_meetings: vec![],
            private_notes: None,
        };
        for markdown in [false, true] {
            let text = view.render(markdown);
            assert!(
                text.contains("open, for the next 1:1: Share the hiring plan for Q1"),
                "{text}"
            );
            assert!(!text.contains("moved on"), "{text}");
        }
    }
}
