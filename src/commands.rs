//! What the one-shot CLI commands do (the parsing is in `cli`): each opens the services it needs,
//! calls the library, and prints for a person (or JSON with `--json`).

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use crate::agenda::Section;
use crate::cli::{
    AccountsAction, ConnectProvider, HistoryFormat, ItemAction, MeetingAction, NoteAction,
    SectionArg, SeriesAction,
};
use crate::clock::Clock;
use crate::config::Config;
use crate::detect::SeriesOverride;
use crate::services::Services;
use crate::store::{ItemSource, SeriesRow, Store};
use crate::sync::restore::Restored;
use crate::term::{out, outln};

fn read_password(
    file: Option<&std::path::Path>,
    env: Option<&str>,
) -> anyhow::Result<SecretString> {
    let raw = if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the password file {}", path.display()))?;
        text.lines().next().unwrap_or_default().to_string()
    } else if let Some(var) = env {
        std::env::var(var).with_context(|| format!("environment variable {var} is not set"))?
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").context("cannot read the password")?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if raw.is_empty() {
        bail!("the password is empty");
    }
    Ok(SecretString::from(raw))
}

pub(crate) async fn connect(config: Config, provider: ConnectProvider) -> anyhow::Result<()> {
    match provider {
        ConnectProvider::Caldav {
            url,
            username,
            password_file,
            password_env,
            calendars,
            owners,
            now,
        } => {
            let clock = crate::clock::from_option(now);
            let password = read_password(password_file.as_deref(), password_env.as_deref())?;
            let services = Services::open(config).await?;
            let timeout = std::time::Duration::from_secs(services.config.sync.request_timeout_secs);
            let req = crate::provider::caldav::ConnectRequest {
                url: url.clone(),
                username,
                password,
                calendars,
                owners,
                timeout,
                allow_http: services.config.network.allow_http,
            };
            let connected = crate::provider::caldav::connect(
                &services.store,
                &services.keyring,
                req,
                clock.now(),
            )
            .await
            .map_err(|e| {
                // Name the URL once: most errors name the address they were about already.
                let e = anyhow::Error::new(e);
                if crate::provider::caldav::connect::names_url(&e.to_string(), url.as_str()) {
                    e.context("cannot connect the CalDAV account")
                } else {
                    e.context(format!("cannot connect {url}"))
                }
            })?;
            let name = services
                .store
                .get_account(connected.account_id)
                .await?
                .display_name;
            match connected.again {
                None => outln!("Connected account {} ({}).", connected.account_id, url),
                Some(removed) => outln!(
                    "{}",
                    again_text(connected.account_id, &name, removed, ALREADY)
                ),
            }
            outln!("Owner: {}", connected.settings.owner_emails.join(", "));
            for c in &connected.calendars {
                outln!(
                    "  calendar {:?} <{}>",
                    c.display_name.as_deref().unwrap_or(""),
                    c.url
                );
            }
            first_pass(&services, clock, connected.account_id).await
        }
        ConnectProvider::Google {
            no_browser,
            calendars,
            owners,
            now,
        } => {
            let clock = crate::clock::from_option(now);
            crate::provider::google::connect::check_config(&config)?;
            let services = Services::open(config).await?;
            let choices = crate::provider::google::connect::Choices {
                calendars,
                owners,
                account: None,
            };
            let connected = google_consent(&services, &choices, no_browser, clock.now())
                .await
                .context("cannot connect Google Calendar")?;
            google_connected(&services, &connected, false).await?;
            first_pass(&services, clock, connected.account_id).await
        }
    }
}

/// "Account 3 (alice at host) was already connected: ..." for a connect or reconnect of an account
/// that existed; `removed`: when it had been removed; `what`: what changed in a connected one.
fn again_text(id: i64, name: &str, removed: Option<DateTime<Utc>>, what: &str) -> String {
    match removed {
        None => {
            format!("Account {id} ({name}): {what}; its 1:1s, history and the direct's links stay.")
        }
        Some(t) => format!(
            "Account {id} ({name}), removed on {}, is connected again: its 1:1s, history and \
             the direct's links are back.",
            t.format("%Y-%m-%d")
        ),
    }
}

/// A connect or reconnect of an account that existed, in place.
const ALREADY: &str = "already connected, so its credentials and settings are updated in place";

/// Google's consent on the command line: prints the page (and opens it in a browser unless
/// `no_browser`), waits for the redirect back, stores or updates the account.
async fn google_consent(
    services: &Services,
    choices: &crate::provider::google::connect::Choices,
    no_browser: bool,
    now: DateTime<Utc>,
) -> Result<
    crate::provider::google::connect::Connected,
    crate::provider::google::connect::ConnectError,
> {
    let show = |url: &url::Url| {
        use std::io::Write;
        outln!("Open this page to let oneonone use your Google Calendar:\n{url}");
        let _ = std::io::stdout().flush();
        if !no_browser && !crate::provider::google::connect::open_browser(url) {
            outln!("(No browser could be opened: open the page yourself.)");
        }
    };
    crate::provider::google::connect::interactive(
        &services.store,
        &services.keyring,
        &services.config,
        choices,
        show,
        now,
    )
    .await
}

/// What connecting (or reconnecting) a Google account prints before its first pass.
async fn google_connected(
    services: &Services,
    connected: &crate::provider::google::connect::Connected,
    reconnect: bool,
) -> anyhow::Result<()> {
    let id = connected.account_id;
    if connected.reconnected {
        let name = services.store.get_account(id).await?.display_name;
        let what = if reconnect {
            "its Google grant is replaced"
        } else {
            ALREADY
        };
        outln!("{}", again_text(id, &name, connected.removed_at, what));
    } else {
        outln!("Connected account {id} (Google).");
    }
    outln!("Owner: {}", connected.settings.owner_emails.join(", "));
    for c in &connected.calendars {
        outln!("  calendar {:?} <{}>", c.name(), c.id);
    }
    Ok(())
}

/// The pass right after connecting: a preview that writes into no calendar (even for a
/// reconnected account that was writing already), then what it found: each 1:1, its direct, why, and the next meeting that would get an
/// agenda, in the meeting's own zone.
async fn first_pass(
    services: &Services,
    clock: Arc<dyn Clock>,
    account_id: i64,
) -> anyhow::Result<()> {
    let scheduler = services.previewing_scheduler(clock.clone());
    let summary = scheduler.sync_now(&[account_id]).await?;
    if summary.failed > 0 {
        let a = services.store.get_account(account_id).await?;
        bail!(
            "the account is connected, but reading its calendars failed: {}\n\
             Nothing has been written to any calendar. Try again with `oneonone sync --once --dry-run`.",
            a.last_error.unwrap_or_default()
        );
    }
    let previewer = crate::sync::preview::Previewer {
        store: &services.store,
        config: &services.config,
        template: &services.template,
        providers: &services.providers,
        keyring: &services.keyring,
        now: clock.now(),
    };
    let found = crate::sync::preview::account_preview(&previewer, account_id).await?;
    let started = services
        .store
        .get_account(account_id)
        .await?
        .writing_started();
    crate::term::out!(
        "{}",
        found_text(&found, started, services.config.agenda.lookahead_days)
    );
    Ok(())
}

/// What `connect` prints about the 1:1s it found, ending with the one next step. `started`: a
/// reconnected account that was writing before (it goes on at its next pass).
fn found_text(
    found: &[crate::sync::preview::FoundOneOnOne],
    started: bool,
    lookahead_days: u32,
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if found.is_empty() {
        out.push_str("No recurring 1:1 found in these calendars.\n");
    } else {
        let _ = writeln!(out, "{} recurring 1:1(s) found:", found.len());
    }
    for f in found {
        let _ = writeln!(out, "  [{}] {}", f.series_id, f.summary);
        let with = f.with.as_deref().unwrap_or("(no other attendee named)");
        let _ = writeln!(out, "      with: {with}");
        let _ = writeln!(out, "      why: {}", f.reason);
        let next = match (&f.next, f.writes_agenda) {
            (_, false) => {
                "none, someone else organizes it (only the organizer's invite is written)".into()
            }
            (Some(n), true) if n.written_soon => n.when.clone(),
            (Some(n), true) => format!(
                "{}, written once the meeting is {lookahead_days} days away",
                n.when
            ),
            (None, true) => "none, no meeting ahead".into(),
        };
        let _ = writeln!(out, "      next agenda: {next}");
        if let Some(p) = &f.problem {
            let _ = writeln!(out, "      problem: {p}");
        }
    }
    if started {
        out.push_str(
            "Connecting wrote nothing. This account was already writing agendas: the next pass \
             (`oneonone sync --once`, or the running daemon) goes on.\n",
        );
        return out;
    }
    out.push_str("Nothing has been written to any calendar yet.\n");
    if found.is_empty() {
        out.push_str(
            "Next: `oneonone series list --all` shows every recurring series and why it is not \
             taken as a 1:1 (`oneonone series include ID` to take one).\n",
        );
    } else {
        out.push_str(
            "Next: `oneonone sync --once` starts writing these agendas into the invites (first \
             exclude any that is not a 1:1: `oneonone series exclude ID`).\n",
        );
    }
    out
}

pub(crate) async fn accounts(config: Config, action: AccountsAction) -> anyhow::Result<()> {
    let store = crate::services::open_store(&config).await?;
    match action {
        AccountsAction::List { json } => {
            let lines = crate::manage::list_accounts(&store).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&lines)?);
            } else if lines.is_empty() {
                outln!(
                    "No accounts. Connect one with `oneonone connect caldav --url URL --username USER`."
                );
            } else {
                for l in &lines {
                    let last = l.state.last_success.map_or("never".into(), |t| {
                        t.format("%Y-%m-%d %H:%M UTC").to_string()
                    });
                    outln!(
                        "{:>4}  {:<7} {:<16} {}  (last success: {last})",
                        l.state.id,
                        l.state.provider,
                        l.state.state,
                        l.display_name
                    );
                    if let Some(t) = l.state.removed_at {
                        outln!(
                            "      removed on {}: not synced, its history is kept; \
                             `oneonone accounts reconnect {id}` syncs it again, \
                             `oneonone accounts remove {id} --purge` deletes it",
                            t.format("%Y-%m-%d"),
                            id = l.state.id
                        );
                        continue;
                    }
                    for c in &l.listing_calendars {
                        outln!(
                            "      {c}: synced by ctag and etag listing (the server has no \
                             sync-collection report)"
                        );
                    }
                    if let Some(e) = &l.last_error {
                        outln!("      last error: {e}");
                    }
                    if l.state.state == "needs_reconnect" {
                        outln!(
                            "      the server refused its credentials: \
                             `oneonone accounts reconnect {}` gives it new ones",
                            l.state.id
                        );
                    }
                    if l.state.writing_started_at.is_none() {
                        println!(
                            "      waiting to start: nothing is written into its calendars until \
                             `oneonone sync --once` (or Start on the web page)"
                        );
                    }
                }
            }
        }
        AccountsAction::Remove { id, purge, yes } => {
            remove_account(&store, id, purge, yes).await?;
        }
        AccountsAction::Reconnect {
            id,
            password_file,
            password_env,
            no_browser,
            now,
        } => {
            store.close().await;
            let secret = (password_file, password_env);
            return reconnect(config, id, secret, no_browser, now).await;
        }
    }
    store.close().await;
    Ok(())
}

/// `accounts remove ID [--purge [--yes]]`: archives; a purge asks on a terminal, needs `--yes`
/// otherwise.
async fn remove_account(store: &Store, id: i64, purge: bool, yes: bool) -> anyhow::Result<()> {
    if !purge {
        let r = crate::manage::remove_account(store, id, Utc::now()).await?;
        let was = if r.removed_now {
            "Removed"
        } else {
            "Already removed:"
        };
        outln!(
            "{was} account {id} ({}). It is no longer synced and its password or grant is \
             deleted; its 1:1s, history, items and notes are kept (`oneonone history`, \
             `oneonone report`) and come back if you connect the calendar again. To delete \
             them for good: `oneonone accounts remove {id} --purge`.",
            r.display_name
        );
        return Ok(());
    }
    let mut confirmed = yes;
    if !confirmed && std::io::stdin().is_terminal() {
        let name = store.get_account(id).await?.display_name;
        let lost = crate::manage::purge_holdings(store, id).await?;
        out!(
            "Delete account {id} ({name}) with {lost}, for good? This cannot be undone. \
             Type yes to delete: "
        );
        use std::io::Write;
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !answer.trim().eq_ignore_ascii_case("yes") {
            outln!("Nothing was deleted.");
            return Ok(());
        }
        confirmed = true;
    }
    let r = crate::manage::purge_account(store, id, confirmed)
        .await
        .map_err(|e| match e {
            crate::manage::ManageError::NeedsConfirmation(m) => {
                anyhow::anyhow!("{m}: add --yes to confirm (or run it on a terminal to be asked)")
            }
            other => other.into(),
        })?;
    outln!(
        "Deleted account {id} ({}) with its 1:1s, history, items and notes.",
        r.display_name
    );
    Ok(())
}

/// `accounts reconnect ID`: new credentials in place (a CalDAV password read like `connect`'s;
/// Google's consent in the browser), then the same first pass as `connect`.
async fn reconnect(
    config: Config,
    id: i64,
    secret: (Option<std::path::PathBuf>, Option<String>),
    no_browser: bool,
    now: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    let clock = crate::clock::from_option(now);
    let services = Services::open(config).await?;
    let a = services.store.get_account(id).await?;
    match a.provider {
        crate::store::Provider::Caldav => {
            let password = read_password(secret.0.as_deref(), secret.1.as_deref())?;
            let net = (
                std::time::Duration::from_secs(services.config.sync.request_timeout_secs),
                services.config.network.allow_http,
            );
            let connected = crate::provider::caldav::connect::reconnect(
                &services.store,
                &services.keyring,
                id,
                password,
                net,
                clock.now(),
            )
            .await
            .with_context(|| {
                format!(
                    "cannot reconnect account {id} ({}); nothing changed",
                    a.display_name
                )
            })?;
            let what = "its password is replaced";
            outln!("{}", again_text(id, &a.display_name, a.archived_at, what));
            outln!("Owner: {}", connected.settings.owner_emails.join(", "));
        }
        crate::store::Provider::Google => {
            let choices = crate::provider::google::connect::Choices {
                account: Some(id),
                ..Default::default()
            };
            let connected = google_consent(&services, &choices, no_browser, clock.now())
                .await
                .with_context(|| format!("cannot reconnect account {id} ({})", a.display_name))?;
            google_connected(&services, &connected, true).await?;
        }
    }
    first_pass(&services, clock, id).await
}

pub(crate) async fn series(config: Config, action: SeriesAction) -> anyhow::Result<()> {
    let store = crate::services::open_store(&config).await?;
    let set = |id, o| {
        let store = store.clone();
        async move {
            let s = crate::manage::set_override(&store, id, o, Utc::now()).await?;
            outln!(
                "Series {id} ({}) is now {}.",
                s.summary,
                if s.one_on_one {
                    "tracked as a 1:1"
                } else {
                    "not tracked"
                }
            );
            anyhow::Ok(())
        }
    };
    match action {
        SeriesAction::List { json, all } => {
            let rows = crate::manage::list_series(&store, all).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for s in &rows {
                    let o = if s.override_ == SeriesOverride::Auto {
                        String::new()
                    } else {
                        format!(" [{}]", s.override_)
                    };
                    outln!("{:>4}  {}{o}\n      {}", s.id, s.summary, s.reason);
                    if let Some(why) = &s.continues_reason {
                        outln!("      {why} (undo: `oneonone series split {}`)", s.id);
                    }
                    if let Some(later) = s.continued_by {
                        outln!("      continued by series {later}");
                    }
                    if let Some(e) = &s.last_error {
                        outln!("      problem: {e}");
                    }
                }
                if rows.is_empty() {
                    outln!("No series yet (connect an account, then `oneonone sync --once`).");
                }
            }
        }
        SeriesAction::Include { id } => set(id, SeriesOverride::Included).await?,
        SeriesAction::Exclude { id } => set(id, SeriesOverride::Excluded).await?,
        SeriesAction::Auto { id } => set(id, SeriesOverride::Auto).await?,
        SeriesAction::Split { id } => {
            let split = crate::manage::split_series(&store, id, Utc::now()).await?;
            let (later, earlier) = (split.series.id, split.earlier_series_id);
            let items = match split.items_moved_back {
                0 => "no open item went".to_string(),
                1 => "1 open item went".to_string(),
                n => format!("{n} open items went"),
            };
            outln!(
                "Series {later} ({:?}) no longer continues series {earlier} ({:?}): {items} back to \
                 series {earlier}, and each keeps its own history. Detection will not link them \
                 again; to link them by hand: `oneonone series continue {later} --from {earlier}`.",
                split.series.summary,
                split.earlier_summary,
            );
        }
        SeriesAction::Continue { id, from } => {
            let s = crate::manage::continue_series(&store, id, from, Utc::now()).await?;
            outln!(
                "Series {id} ({:?}) now {}; its open items show in the next agenda after the next \
                 pass. Undo with `oneonone series split {id}`.",
                s.summary,
                s.continues_reason.as_deref().unwrap_or_default()
            );
        }
    }
    store.close().await;
    Ok(())
}

/// Runs one pass (or passes until Ctrl-C); returns whether every account succeeded.
pub(crate) async fn sync(
    config: Config,
    once: bool,
    now: Option<DateTime<Utc>>,
    account: Option<i64>,
    dry_run: bool,
) -> anyhow::Result<bool> {
    let services = Services::open(config).await?;
    let clock: Arc<dyn Clock> = crate::clock::from_option(now);
    let scheduler = services.scheduler_with(clock.clone(), dry_run);
    // Asking for a pass that writes is what starts an account connected but not started yet.
    let start = |ids: Option<Vec<i64>>| {
        let store = services.store.clone();
        let at = clock.now();
        async move {
            for id in store.start_writing(ids.as_deref(), at).await? {
                println!("Started writing agendas for account {id}.");
            }
            anyhow::Ok(())
        }
    };
    if !once {
        if !dry_run {
            start(None).await?;
        }
        let cancel = tokio_util::sync::CancellationToken::new();
        crate::app::cancel_on_signals(cancel.clone());
        scheduler
            .run(
                cancel,
                std::time::Duration::from_secs(services.config.server.shutdown_timeout_secs),
            )
            .await;
        return Ok(true);
    }
    let ids: Vec<i64> = match account {
        Some(id) => {
            let a = services.store.get_account(id).await?;
            if a.archived_at.is_some() {
                bail!(
                    "account {id} ({}) was removed, so it is not synced: \
                     `oneonone accounts reconnect {id}` connects it again",
                    a.display_name
                );
            }
            vec![id]
        }
        // Every account but the ones switched off on purpose; one that needs reconnecting is
        // tried (and reported) so the user sees why it fails.
        None => services
            .store
            .list_accounts()
            .await?
            .iter()
            .filter(|a| a.state != crate::store::AccountState::Disabled)
            .map(|a| a.id)
            .collect(),
    };
    if !dry_run {
        start(Some(ids.clone())).await?;
    }
    let summary = scheduler.sync_now(&ids).await?;
    // What each account's pass wrote, from its run's record (newest first).
    let runs = services.store.recent_runs(ids.len() as i64 * 4 + 4).await?;
    for id in &ids {
        let a = services.store.get_account(*id).await?;
        match (&a.last_error_kind, a.consecutive_failures) {
            // The message starts with its kind where it has one ("network: ...").
            (Some(_), n) if n > 0 => outln!(
                "account {id}: failed: {}",
                a.last_error.as_deref().unwrap_or_default()
            ),
            _ => {
                let writes = runs
                    .iter()
                    .find(|r| r.account_id == Some(*id))
                    .map(|r| r.stats.writes);
                let what = match (dry_run || !a.writing_started(), writes) {
                    (true, _) => ", nothing written (a preview)".to_string(),
                    (false, Some(0)) => {
                        ", nothing to write: the agendas in the invites are up to date".into()
                    }
                    (false, Some(1)) => ", 1 agenda written into its invite".into(),
                    (false, Some(n)) => format!(", {n} agendas written into their invites"),
                    (false, None) => String::new(),
                };
                outln!("account {id}: ok{what}")
            }
        }
    }
    services.store.close().await;
    Ok(summary.failed == 0)
}

async fn series_with(store: &Store, email: &str) -> anyhow::Result<SeriesRow> {
    Ok(crate::manage::series_with(store, email).await?)
}

fn section_of(arg: SectionArg) -> Section {
    match arg {
        SectionArg::Direct => Section::Direct,
        SectionArg::Manager => Section::Manager,
        SectionArg::Action => Section::Action,
    }
}

pub(crate) async fn item(config: Config, action: ItemAction) -> anyhow::Result<()> {
    let store = crate::services::open_store(&config).await?;
    match action {
        ItemAction::Add {
            with,
            section,
            text,
        } => {
            let series = series_with(&store, &with).await?;
            let section = section_of(section);
            let item = crate::manage::add_item(
                &store,
                series.id,
                section,
                &text.join(" "),
                ItemSource::Cli,
                Utc::now(),
            )
            .await?;
            outln!(
                "Item {} added to {:?} ({}); it shows in the next agenda after the next pass.",
                item.id,
                series.summary,
                item.section
            );
        }
        ItemAction::Edit { id, text } => {
            let change = crate::manage::ItemChange {
                text: Some(&text.join(" ")),
                ..Default::default()
            };
            let item = crate::manage::update_item(&store, id, change, Utc::now()).await?;
            outln!(
                "Item {id} now reads {:?}; the agenda shows it at the next pass.",
                item.text
            );
        }
        ItemAction::Move {
            id,
            section,
            position,
        } => {
            let item = crate::manage::move_item(
                &store,
                id,
                section.map(section_of),
                position.map(|p| p as usize),
                Utc::now(),
            )
            .await?;
            outln!(
                "Item {id} ({}) is #{} of {}; the agenda shows it there at the next pass.",
                item.text,
                item.position.unwrap_or_default(),
                item.section
            );
        }
        ItemAction::Done { id, now } | ItemAction::Drop { id, now } => {
            let state = match action {
                ItemAction::Done { .. } => crate::agenda::ItemState::Done,
                _ => crate::agenda::ItemState::Dropped,
            };
            let now = crate::clock::from_option(now).now();
            let item = crate::manage::close_item(&store, id, state, ItemSource::Cli, now).await?;
            outln!(
                "Item {id} ({}) is {}; it leaves the agenda at the next pass, and the history keeps it.",
                item.text,
                item.state
            );
        }
        ItemAction::List { with, all, json } => {
            let series = series_with(&store, &with).await?;
            let items = crate::manage::list_items(&store, series.id, all).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else {
                for i in &items {
                    let carried = if i.times_carried > 0 {
                        format!(" (carried x{})", i.times_carried)
                    } else {
                        String::new()
                    };
                    let place = i.position.map(|p| format!("#{p}")).unwrap_or_default();
                    outln!(
                        "{:>5}  {:<7} {:>3}  {:<7} {}{carried}",
                        i.id,
                        i.section,
                        place,
                        i.state,
                        i.text
                    );
                }
                if items.is_empty() {
                    outln!("No items.");
                } else {
                    outln!(
                        "Change one with `oneonone item edit|done|drop ID` or `item move ID --section S --position N`."
                    );
                }
            }
        }
    }
    store.close().await;
    Ok(())
}

pub(crate) async fn history(
    config: Config,
    with: &str,
    format: HistoryFormat,
    include_private: bool,
) -> anyhow::Result<()> {
    let store = crate::services::open_store(&config).await?;
    let series = series_with(&store, with).await?;
    let private = if include_private {
        let keyring = crate::secrets::Keyring::load(&config.secrets.key_file)?;
        Some(crate::notes::list(&store, &keyring, series.id).await?)
    } else {
        None
    };
    let default_tz = config.agenda.default_timezone;
    let history = crate::manage::history(&store, series.id, private, default_tz).await?;
    match format {
        HistoryFormat::Json => println!("{}", serde_json::to_string_pretty(&history)?),
        HistoryFormat::Markdown => out!("{}", history.render(true)),
        HistoryFormat::Text => {
            out!("{}", history.render(false));
            let revs = store.list_revisions(Some(series.id)).await?;
            let tz = history.timezone.parse().unwrap_or(default_tz);
            out!("{}", crate::manage::render_revisions(&revs, tz));
        }
    }
    store.close().await;
    Ok(())
}

/// `oneonone meeting held|skipped`: a person's word on whether a meeting took place.
pub(crate) async fn meeting(config: Config, action: MeetingAction) -> anyhow::Result<()> {
    let store = crate::services::open_store(&config).await?;
    let (mark, args) = match action {
        MeetingAction::Held(a) => (crate::store::Mark::Held, a),
        MeetingAction::Skipped(a) => (crate::store::Mark::Skipped, a),
    };
    let now = crate::clock::from_option(args.now).now();
    let series = series_with(&store, &args.with).await?;
    let default_tz = config.agenda.default_timezone;
    let occurrence = crate::manage::meeting_on(&store, &series, args.date, now, default_tz).await?;
    let m = crate::manage::mark_meeting(
        &store,
        series.id,
        occurrence,
        mark,
        ItemSource::Cli,
        now,
        default_tz,
    )
    .await?;
    outln!(
        "The meeting of {} ({:?}) is marked {}.",
        m.date,
        series.summary,
        m.status_text
    );
    store.close().await;
    Ok(())
}

pub(crate) async fn note(config: Config, action: NoteAction) -> anyhow::Result<()> {
    let store = crate::services::open_store(&config).await?;
    let keyring = crate::secrets::Keyring::load(&config.secrets.key_file)?;
    match action {
        NoteAction::Add {
            with,
            meeting,
            text,
        } => {
            let series = series_with(&store, &with).await?;
            let tz =
                crate::when::series_zone(&store, &series, config.agenda.default_timezone).await?;
            let note = crate::notes::add(
                &store,
                &keyring,
                &series,
                meeting,
                tz,
                &text.join(" "),
                Utc::now(),
            )
            .await?;
            let about = match (note.meeting_date, note.occurrence_id) {
                (Some(d), Some(_)) => format!("the meeting of {d}"),
                (Some(d), None) => format!("{d} (no meeting of that day recorded yet)"),
                (None, _) => "the series".to_string(),
            };
            outln!(
                "Private note {} kept for {:?}, about {about}; it is never written into the invite.",
                note.id,
                series.summary
            );
        }
        NoteAction::List { with, json } => {
            let series = series_with(&store, &with).await?;
            let notes = crate::notes::list(&store, &keyring, series.id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&notes)?);
            } else if notes.is_empty() {
                outln!("No private notes.");
            } else {
                for n in &notes {
                    let day = n
                        .meeting_date
                        .map_or_else(|| "series".to_string(), |d| d.to_string());
                    outln!(
                        "{:>5}  {day:<10}  {}",
                        n.id,
                        crate::manage::one_line(&n.text)
                    );
                }
            }
        }
    }
    store.close().await;
    Ok(())
}

/// `oneonone report`: the insights of every tracked series as of `now`.
pub(crate) async fn report(
    config: Config,
    weeks: u32,
    format: HistoryFormat,
    now: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    let store = crate::services::open_store(&config).await?;
    // The instant as given: a clock started at it would tick on, and the report must be stable.
    let now = now.unwrap_or_else(|| crate::clock::from_option(None).now());
    let histories = crate::insights::load(&store, config.agenda.default_timezone).await?;
    let report = crate::insights::Report::build(&histories, now, weeks);
    match format {
        HistoryFormat::Text => out!("{}", report.to_text()),
        HistoryFormat::Markdown => out!("{}", report.to_markdown()),
        // Serde escapes control characters; cleaning would break its `\u` escapes.
        HistoryFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    store.close().await;
    Ok(())
}

pub(crate) async fn restore(
    config: Config,
    revision: i64,
    now: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    let services = Services::open(config).await?;
    let now = crate::clock::from_option(now).now();
    // Every RestoreError names the revision (once).
    match crate::manage::restore_revision(&services, revision, now).await? {
        Restored::Written(id) => {
            outln!("Restored revision {revision}; the restore itself is revision {id}.");
        }
        Restored::AlreadyThere => outln!(
            "Revision {revision} is already undone: its meeting holds the text that write \
             replaced. Nothing was written."
        ),
    }
    services.store.close().await;
    Ok(())
}

pub(crate) async fn rotate(config: Config) -> anyhow::Result<()> {
    use crate::secrets::{KeySource, Keyring};
    let store = crate::services::open_store(&config).await?;
    let mut ring = Keyring::load(&config.secrets.key_file)?;
    let from_file = matches!(ring.source(), KeySource::File(_));
    if from_file {
        ring.begin_rotation()?;
    }
    let n = store
        .reencrypt_credentials(|blob| ring.decrypt(blob).map(|pt| ring.encrypt(&pt)))
        .await
        .context("nothing was changed")?;
    // Old keys stay in the ring until both steps are done: interrupted here, a rerun finishes.
    let note = crate::secrets::Purpose::PrivateNote;
    let notes = store
        .reencrypt_private_notes(|blob| {
            ring.decrypt_for(note, blob)
                .map(|pt| ring.encrypt_for(note, &pt))
        })
        .await
        .context("the credentials were re-encrypted, the private notes not: run it again")?;
    let link = crate::secrets::Purpose::DirectLink;
    let links = store
        .reencrypt_series_links(|blob| {
            ring.decrypt_for(link, blob)
                .map(|pt| ring.encrypt_for(link, &pt))
        })
        .await
        .context(
            "the credentials and private notes were re-encrypted, the direct's links not: run it again",
        )?;
    if from_file {
        ring.finish_rotation()?;
        outln!(
            "Re-encrypted {n} credential(s), {notes} private note(s) and {links} direct's link(s) under a new key in {}.",
            config.secrets.key_file.display()
        );
    } else {
        outln!(
            "Re-encrypted {n} credential(s), {notes} private note(s) and {links} direct's link(s) under the first key of ONEONONE_SECRET_KEY; the other keys can go."
        );
    }
    store.close().await;
    Ok(())
}
