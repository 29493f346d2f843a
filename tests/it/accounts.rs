//! One calendar, one account (issue 24): connecting a calendar again, `accounts reconnect`, and
//! `accounts remove` (archive) and `--purge`, on a CalDAV server and on the Google test server,
//! through the binary as a manager uses it. What stays attached is checked in the database: the
//! account, its series, items, meetings and the direct's link.

use oneonone::store::Store;

use crate::fixtures::backend::{Backend, CONNECTED, CalDav, Google, OneOnOne, Slot};
use crate::fixtures::caldav::series_with_uid;
use crate::fixtures::caldav_server::Kind;

/// What hangs off the manager's account, as ids and counts: it must not change when the same
/// calendar is connected again, reconnected, removed and brought back.
async fn attached(store: &Store, m: &OneOnOne) -> String {
    let accounts: Vec<i64> = store
        .list_accounts()
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    let s = series_with_uid(store, &m.id).await;
    let items: Vec<(i64, String)> = store
        .list_items(s.id, false)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.id, i.text))
        .collect();
    let meetings = store.list_occurrences(s.id).await.unwrap().len();
    let link = store.series_link_created(s.id).await.unwrap();
    format!(
        "accounts {accounts:?}, series {}, items {items:?}, meetings {meetings}, link {link:?}",
        s.id
    )
}

/// The one line of `text` that holds `needle`, which must appear exactly once.
fn once(text: &str, needle: &str) {
    assert_eq!(text.matches(needle).count(), 1, "{needle:?} in:\n{text}");
}

async fn one_calendar_one_account<B: Backend>(mut b: B) {
    let name = b.name();
    let m = b.create(Slot::Monday, "").await;
    b.connect_and_start(CONNECTED).await;
    let with = m.direct.email.as_str();
    b.cli_ok(&[
        "item",
        "add",
        "--with",
        with,
        "--section",
        "manager",
        "Budget review",
    ])
    .await;
    let store = b.db().store().await;
    let series = series_with_uid(&store, &m.id).await.id;
    store
        .rotate_series_link(
            series,
            "digest-of-the-direct's-link",
            crate::fixtures::t(CONNECTED),
        )
        .await
        .unwrap();
    // A week on: the meeting closed, its topic carried.
    let week = "2026-03-31T12:00:00Z";
    // `sync --once` says what it wrote: the next agenda, then nothing more to write.
    let out = b.sync(week).await;
    once(&out, "account 1: ok, 1 agenda written into its invite");
    let out = b.sync("2026-03-31T12:01:00Z").await;
    once(
        &out,
        "account 1: ok, nothing to write: the agendas in the invites are up to date",
    );
    let before = attached(&store, &m).await;

    // The same calendar connected again (a new password, say): the same account, in place.
    let out = b.connect("2026-03-31T12:05:00Z").await;
    once(&out, "Account 1 (");
    once(
        &out,
        "already connected, so its credentials and settings are updated in place",
    );
    assert!(!out.contains("Connected account"), "{name}: {out}");
    assert_eq!(attached(&store, &m).await, before, "{name}");
    // The 1:1 is still one: its history is found by the direct's address.
    b.cli_ok(&["history", "--with", with]).await;
    let account = store.get_account(1).await.unwrap();
    assert!(
        account.writing_started_at.is_some(),
        "{name}: a reconnect keeps writing"
    );

    // `accounts reconnect`: the credentials are replaced, nothing else.
    let out = b.reconnect(1, "2026-03-31T12:10:00Z").await;
    once(&out, "Account 1 (");
    assert_eq!(attached(&store, &m).await, before, "{name}");

    // `accounts remove` archives: not synced, credentials gone, history readable.
    let out = b.cli_ok(&["accounts", "remove", "1"]).await;
    once(&out, "Removed account 1");
    once(&out, "oneonone accounts remove 1 --purge");
    let account = store.get_account(1).await.unwrap();
    assert!(
        account.archived_at.is_some() && account.credentials.is_none(),
        "{name}"
    );
    let listed = b.cli_ok(&["accounts", "list"]).await;
    assert!(listed.contains("removed on 2026-"), "{name}: {listed}");
    let history = b.cli_ok(&["history", "--with", with]).await;
    assert!(history.contains("Budget review"), "{name}: {history}");
    let report = b.cli_ok(&["report", "--now", week]).await;
    assert!(
        report.contains(with) || report.contains(&m.direct.name),
        "{name}: {report}"
    );
    let writes = b.writes();
    b.sync("2026-04-01T12:00:00Z").await;
    assert_eq!(
        b.writes(),
        writes,
        "{name}: a removed account is not synced"
    );
    let refused = b
        .cli(&["sync", "--once", "--account", "1", "--now", week])
        .await;
    let err = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(!refused.status.success(), "{name}");
    once(&err, "oneonone accounts reconnect 1");

    // Connecting the calendar again brings it all back, waiting to be started.
    let out = b.connect("2026-04-02T12:00:00Z").await;
    once(&out, "is connected again");
    once(&out, "removed on 2026-");
    assert_eq!(attached(&store, &m).await, before, "{name}");
    let account = store.get_account(1).await.unwrap();
    assert!(
        account.archived_at.is_none() && account.writing_started_at.is_none(),
        "{name}"
    );

    // Purging asks: not on a terminal, it needs --yes and deletes nothing without it.
    let refused = b.cli(&["accounts", "remove", "1", "--purge"]).await;
    assert!(!refused.status.success(), "{name}");
    let err = String::from_utf8_lossy(&refused.stderr).into_owned();
    once(&err, "add --yes");
    once(&err, "nothing was deleted");
    assert!(err.contains("1 1:1,"), "{name}: {err}");
    assert_eq!(attached(&store, &m).await, before, "{name}");
    let out = b
        .cli_ok(&["accounts", "remove", "1", "--purge", "--yes"])
        .await;
    once(&out, "Deleted account 1");
    assert!(store.list_accounts().await.unwrap().is_empty(), "{name}");
    assert!(store.list_series().await.unwrap().is_empty(), "{name}");
    store.close().await;
    b.check();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_calendar_one_account_on_radicale() {
    one_calendar_one_account(CalDav::start(Kind::Radicale).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_calendar_one_account_on_google() {
    one_calendar_one_account(Google::start().await.unwrap()).await;
}

/// The same collection through another name of its server is another URL for one calendar: the
/// second account is refused, naming the first and the way to give it a new password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_calendar_through_another_url_is_refused() {
    let mut b = CalDav::start(Kind::Radicale).await.unwrap();
    b.create(Slot::Monday, "").await;
    b.connect(CONNECTED).await;
    let out = b.connect_through_another_name(CONNECTED).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    once(&err, "is already connected as account 1");
    once(&err, "oneonone accounts reconnect 1");
    assert!(
        err.contains("localhost") && err.contains("127.0.0.1"),
        "{err}"
    );
    let store = b.db().store().await;
    assert_eq!(store.list_accounts().await.unwrap().len(), 1);
    store.close().await;
}

/// On a terminal, `--purge` asks, says what would go, and deletes only on "yes" (the binary runs
/// under `script`, which gives it a terminal; the answers come through it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_asks_on_a_terminal_and_deletes_only_on_yes() {
    let mut b = CalDav::start(Kind::Radicale).await.unwrap();
    b.create(Slot::Monday, "").await;
    b.connect(CONNECTED).await;
    let store = b.db().store().await;
    let on_terminal = |answer: &'static str| {
        let env = b.env();
        async move {
            let command = format!("{} accounts remove 1 --purge", crate::fixtures::BIN);
            let out = tokio::task::spawn_blocking(move || {
                use std::io::Write;
                let mut child = std::process::Command::new("script")
                    .args(["-qec", &command, "/dev/null"])
                    .env_remove("ONEONONE_CONFIG")
                    .envs(env)
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut stdin = child.stdin.take().unwrap();
                stdin.write_all(answer.as_bytes()).unwrap();
                child.wait_with_output().unwrap()
            })
            .await
            .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let out = on_terminal("no\n").await;
    once(&out, "Delete account 1 (");
    assert!(
        out.contains("its 1 1:1,") && out.contains("Type yes"),
        "{out}"
    );
    once(&out, "Nothing was deleted.");
    assert_eq!(store.list_accounts().await.unwrap().len(), 1);
    let out = on_terminal("yes\n").await;
    once(&out, "Deleted account 1");
    assert!(store.list_accounts().await.unwrap().is_empty());
    store.close().await;
}
