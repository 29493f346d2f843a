//! The command line (clap). Each command loads the config, then calls into the library;
//! `main.rs` only calls [`main`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, DEFAULT_TOML, Sources};

#[derive(Debug, Parser)]
#[command(
    name = "oneonone",
    version,
    about = "Turns a manager's calendar into a 1:1 practice."
)]
pub(crate) struct Cli {
    /// Config file (else ONEONONE_CONFIG, else the built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the daemon: HTTP server (health, readiness, metrics) and the sync loop.
    Run {
        /// Start the clock at this instant (RFC 3339) instead of now: replays any week.
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run the seeded simulator (docs/testing.md): schedules of people, faults and crashes
    /// against the real pass, each checked for lost text and broken guarantees.
    Simulate {
        /// How many schedules to run (seeds FROM, FROM+1, ...).
        #[arg(long, default_value_t = 200, value_name = "N")]
        seeds: u64,
        /// The first seed.
        #[arg(long, default_value_t = 1, value_name = "FROM")]
        from: u64,
        /// Replay one schedule and print its trace.
        #[arg(long, value_name = "S", conflicts_with_all = ["seeds", "from"])]
        seed: Option<u64>,
        /// With --seed: run only the first K steps of the schedule (a shrunk replay).
        #[arg(long, value_name = "K", requires = "seed")]
        steps: Option<usize>,
        /// Run a deliberately broken variant of the daemon (to see the simulator catch it).
        #[arg(long, value_enum, value_name = "NAME")]
        mutation: Option<crate::sim::Mutation>,
        /// Threads (default: one per core).
        #[arg(long, value_name = "J")]
        jobs: Option<usize>,
        /// Print, for every broken variant, the first seed that catches it and how.
        #[arg(long, conflicts_with_all = ["seed", "mutation"])]
        mutation_table: bool,
    },
    /// Show what oneonone reads from an iCalendar file: each series, its people, its time zone
    /// and its next occurrences ("why does my meeting look like that").
    Inspect {
        /// The .ics file, or `-` for standard input.
        file: PathBuf,
        /// First instant to list occurrences from: `YYYY-MM-DD` (midnight in --tz) or RFC 3339.
        /// Default: now.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// How many occurrences to list per series.
        #[arg(long, default_value_t = 5, value_name = "N")]
        count: usize,
        /// Zone for floating and all-day times when the file names none (default:
        /// agenda.default_timezone from the config).
        #[arg(long, value_name = "IANA")]
        tz: Option<chrono_tz::Tz>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The calendar owner's address (repeatable): adds the 1:1 verdict of each series.
        #[arg(long = "owner", value_name = "EMAIL")]
        owners: Vec<String>,
    },
    /// Show or check configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Connect a calendar account once; the daemon keeps it in sync from then on.
    Connect {
        #[command(subcommand)]
        provider: ConnectProvider,
    },
    /// List or remove connected accounts.
    Accounts {
        #[command(subcommand)]
        action: AccountsAction,
    },
    /// Run sync passes now (all accounts, or one), without the HTTP server.
    Sync {
        /// One pass, then exit (non-zero when any account failed). Without it, passes repeat
        /// every `sync.interval_secs` until Ctrl-C.
        #[arg(long)]
        once: bool,
        /// Start the clock at this instant (RFC 3339): replays any week.
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
        /// Only this account (see `accounts list`).
        #[arg(long, value_name = "ID")]
        account: Option<i64>,
        /// Read and record as usual, but write nothing into calendars: print each description
        /// that would be written.
        #[arg(long)]
        dry_run: bool,
    },
    /// Items on a 1:1's agenda.
    Item {
        #[command(subcommand)]
        action: ItemAction,
    },
    /// Every meeting of a 1:1: date, status, items closed and carried, notes.
    History {
        #[arg(long = "with", value_name = "EMAIL")]
        with: String,
        #[arg(long, value_enum, default_value = "text")]
        format: HistoryFormat,
        /// Also your private notes (`oneonone note`), with their meetings.
        #[arg(long)]
        include_private: bool,
    },
    /// Say whether a past meeting took place: `meeting held` or `meeting skipped`. Without a
    /// word, a meeting the calendar kept shows as "took place (no notes)" unless something was
    /// ticked, typed or noted for it.
    Meeting {
        #[command(subcommand)]
        action: MeetingAction,
    },
    /// Your private notes about a 1:1: kept only in the database (encrypted), never written
    /// into the invite.
    Note {
        #[command(subcommand)]
        action: NoteAction,
    },
    /// How your 1:1s are going: meetings held, cancelled, moved and skipped over the last 4 and
    /// N weeks, days since the last one, stale items, items closed per meeting, the direct's share.
    Report {
        /// The longer window, in weeks (the shorter one is always 4).
        #[arg(long, default_value_t = crate::insights::DEFAULT_WEEKS, value_name = "N",
              value_parser = clap::value_parser!(u32)
                  .range(1..=i64::from(crate::insights::MAX_WEEKS)))]
        weeks: u32,
        #[arg(long, value_enum, default_value = "text")]
        format: HistoryFormat,
        /// Report as of this instant (RFC 3339) instead of now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
    },
    /// Put back the description that a write replaced (see the revision ids in `history`).
    Restore {
        revision: i64,
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
    },
    /// Manage the key that encrypts stored credentials.
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// The recurring series found in connected calendars, and your overrides of detection.
    Series {
        #[command(subcommand)]
        action: SeriesAction,
    },
    /// Print a shell completion script, e.g. `oneonone completions bash > ~/.local/share/bash-completion/completions/oneonone`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `oneonone man | man -l -`.
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SectionArg {
    /// The direct's topics ("15 minutes for you").
    Direct,
    /// Your topics.
    Manager,
    /// An action item to follow up on.
    Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum HistoryFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ItemAction {
    /// Queue an item for the next agenda of the 1:1 with EMAIL.
    Add {
        /// The other person of the 1:1 (the direct's address).
        #[arg(long = "with", value_name = "EMAIL")]
        with: String,
        #[arg(long, value_enum, default_value = "manager")]
        section: SectionArg,
        /// The item's text.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Change the text of an open item (ID as `item list` shows it).
    Edit {
        id: i64,
        /// The new text.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Move an open item to another section and/or place: `--position 1` puts it first in its
    /// section (the # column of `item list`); `--section` alone puts it last in that section.
    Move {
        id: i64,
        #[arg(long, value_enum)]
        section: Option<SectionArg>,
        /// Its new place among the open items of the section, 1 first.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        position: Option<u32>,
    },
    /// Close an open item as done (the history says when and that it was from here).
    Done {
        id: i64,
        /// Take this instant (RFC 3339) as now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
    },
    /// Drop an open item (the history says when and that it was from here).
    Drop {
        id: i64,
        /// Take this instant (RFC 3339) as now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
    },
    /// The items of the 1:1 with EMAIL in agenda order: id, section, place in it (#), state, text.
    List {
        #[arg(long = "with", value_name = "EMAIL")]
        with: String,
        /// Also done and dropped items.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
}

/// Which meeting of a 1:1 a mark is about.
#[derive(Debug, clap::Args)]
pub(crate) struct MeetingArgs {
    /// The other person of the 1:1 (the direct's address).
    #[arg(long = "with", value_name = "EMAIL")]
    pub with: String,
    /// The day of the meeting (YYYY-MM-DD, in the meeting's own zone, as `history` shows it).
    /// Default: the last meeting that has started.
    #[arg(long, value_name = "DATE")]
    pub date: Option<chrono::NaiveDate>,
    /// Take this instant (RFC 3339) as now.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<DateTime<Utc>>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MeetingAction {
    /// The meeting took place (it counts as held, notes or not).
    Held(MeetingArgs),
    /// The meeting did not take place (a holiday, a sick day), whatever the calendar says.
    Skipped(MeetingArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum NoteAction {
    /// Keep a private note about the 1:1 with EMAIL (about one meeting with --meeting).
    Add {
        /// The other person of the 1:1 (the direct's address).
        #[arg(long = "with", value_name = "EMAIL")]
        with: String,
        /// The day of the meeting the note is about (YYYY-MM-DD, the day in the meeting's own
        /// zone, as `history` shows it).
        #[arg(long, value_name = "DATE")]
        meeting: Option<chrono::NaiveDate>,
        /// The note's text.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Your private notes about the 1:1 with EMAIL, oldest first.
    List {
        #[arg(long = "with", value_name = "EMAIL")]
        with: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SecretsAction {
    /// Re-encrypt every stored credential under a new key, in one transaction. With a key file,
    /// the new key is written there; with ONEONONE_SECRET_KEY=NEW,OLD the rows move to NEW.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConnectProvider {
    /// A CalDAV server (Fastmail, iCloud, Nextcloud, Radicale...): verifies the credentials and
    /// the calendars, then stores the account with its password encrypted.
    Caldav {
        /// Server URL (discovery finds your calendars) or one calendar's URL.
        #[arg(long)]
        url: url::Url,
        #[arg(long)]
        username: String,
        /// Read the password from this file (first line). Without it or --password-env, you are asked.
        #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
        password_file: Option<PathBuf>,
        /// Read the password from this environment variable.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
        /// A calendar to sync, by display name or URL (repeatable; default: every event calendar).
        #[arg(long = "calendar", value_name = "NAME_OR_URL")]
        calendars: Vec<String>,
        /// An address the calendar owner is known by (repeatable; added to what the server says).
        #[arg(long = "owner", value_name = "EMAIL")]
        owners: Vec<String>,
        /// Run the first pass as if it were this instant (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
    },
    /// Google Calendar: consent in the browser (the redirect comes back to 127.0.0.1), then the
    /// account is stored with its refresh token encrypted. Needs `[google] client_id` (and secret).
    Google {
        /// Print the consent URL instead of opening a browser (open it on any machine whose
        /// browser can reach this one's 127.0.0.1, e.g. through an SSH tunnel).
        #[arg(long)]
        no_browser: bool,
        /// A calendar to sync, by id or name (repeatable; default: your primary calendar).
        #[arg(long = "calendar", value_name = "ID_OR_NAME")]
        calendars: Vec<String>,
        /// An address you are known by (repeatable; added to your primary calendar's).
        #[arg(long = "owner", value_name = "EMAIL")]
        owners: Vec<String>,
        /// Run the first pass as if it were this instant (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AccountsAction {
    /// Every connected account with its state and last pass.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop syncing an account and forget its credentials. Its 1:1s, history, items and notes
    /// stay readable and come back when the calendar is connected again; `--purge` deletes them.
    Remove {
        id: i64,
        /// Also delete its 1:1s, history, items and notes, for good (asks on a terminal).
        #[arg(long)]
        purge: bool,
        /// Confirm `--purge` without being asked (needed when not on a terminal).
        #[arg(long, requires = "purge")]
        yes: bool,
    },
    /// Give an account new credentials in place (a changed password, a revoked Google grant, an
    /// account that was removed): its 1:1s, items, history and the direct's links stay.
    Reconnect {
        id: i64,
        /// CalDAV: read the password from this file (first line). Without it or --password-env,
        /// you are asked.
        #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
        password_file: Option<PathBuf>,
        /// CalDAV: read the password from this environment variable.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
        /// Google: print the consent URL instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// Run the first pass as if it were this instant (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SeriesAction {
    /// Recurring series with the detection verdict and its reason.
    List {
        #[arg(long)]
        json: bool,
        /// Also list series that are not 1:1s.
        #[arg(long)]
        all: bool,
    },
    /// Treat this series as a 1:1 whatever detection says.
    Include { id: i64 },
    /// Never treat this series as a 1:1.
    Exclude { id: i64 },
    /// Let detection decide again.
    Auto { id: i64 },
    /// Undo a continuation (a re-created 1:1 linked to the series it replaced): the open items
    /// it took over go back, the histories are separate again, and detection does not link the
    /// two again. ID is either series of the pair.
    Split { id: i64 },
    /// Make series ID continue an earlier series by hand: its open items move over and its
    /// meetings join ID's history (what detection does for a 1:1 re-created with the same direct).
    Continue {
        id: i64,
        /// The earlier series' id.
        #[arg(long)]
        from: i64,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigAction {
    /// Print the default configuration, every key commented.
    PrintDefault,
    /// Print the configuration reference (Markdown) generated from the defaults' comments.
    Reference,
    /// Print the built-in agenda template, to start your own (see agenda.template_file).
    PrintTemplate,
    /// Check a config file (with the environment applied); exits non-zero naming the bad key.
    Check {
        /// The file to check (else --config / ONEONONE_CONFIG / defaults only).
        file: Option<PathBuf>,
    },
}

/// Parses the command line and runs it. Errors print as one line per cause, exit code 1
/// (2 for a bad command line, from clap).
pub fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) if closed_pipe(&e) => ExitCode::from(141),
        Err(e) => {
            crate::term::errln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A reader that stops early (`oneonone series list | head`) closes the pipe, and the next
/// `println!` panics on it. Exit as a Unix tool killed by SIGPIPE would (status 141), quietly,
/// instead of printing a panic; every other panic keeps the default report.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map_or("", String::as_str);
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// Whether the error is the reader of our output having gone away (see [`quiet_on_closed_stdout`]).
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn load_config(file: Option<PathBuf>) -> anyhow::Result<Config> {
    Config::load(&Sources::from_process(file)).context("invalid configuration")
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    start_runtime(tokio::runtime::Builder::new_multi_thread())
}

/// For a command that serves one account, one request at a time: no worker threads to hand
/// work between. Its one other thread, SQLite's worker (sqlx runs each connection on its own),
/// runs every statement while this one waits for it, so both keep to the CPU the command started
/// on: each hand-off is then a switch on that CPU rather than a wake-up sent to another one (an
/// interrupt, which on a virtual machine goes through the hypervisor). The first import of a
/// 10,000-event calendar took a fifth less CPU so (docs/decisions.md).
fn single_thread_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    keep_to_this_cpu();
    start_runtime(tokio::runtime::Builder::new_current_thread())
}

/// Keeps the calling thread, and the threads it starts from now on, to the CPU it runs on.
#[cfg(target_os = "linux")]
pub(crate) fn keep_to_this_cpu() {
    keep_to(rustix::thread::sched_getcpu());
}

/// Keeps the calling thread, and the threads it starts from now on, to CPU `cpu`. Where that
/// is refused it runs anywhere: slower, not wrong.
#[cfg(target_os = "linux")]
pub(crate) fn keep_to(cpu: usize) {
    use rustix::thread::{CpuSet, sched_setaffinity};
    let mut cpus = CpuSet::new();
    cpus.set(cpu);
    if let Err(e) = sched_setaffinity(None, &cpus) {
        tracing::debug!(error = %e, "cannot keep the command to one CPU; it runs anywhere");
    }
}

/// The CPUs the calling thread may run on.
#[cfg(target_os = "linux")]
pub(crate) fn allowed_cpus() -> Vec<usize> {
    use rustix::thread::{CpuSet, sched_getaffinity};
    sched_getaffinity(None)
        .map(|set| (0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect())
        .unwrap_or_default()
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn keep_to_this_cpu() {}

fn start_runtime(mut builder: tokio::runtime::Builder) -> anyhow::Result<tokio::runtime::Runtime> {
    builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// `--from`: a date (midnight in `tz`) or an RFC 3339 instant.
fn parse_from(raw: &str, tz: chrono_tz::Tz) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    let date = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .with_context(|| format!("--from {raw:?} is neither a date (2026-01-31) nor RFC 3339"))?;
    Ok(crate::model::resolve_local(
        tz,
        date.and_time(chrono::NaiveTime::MIN),
    ))
}

fn inspect(
    file: &std::path::Path,
    from: Option<&str>,
    count: usize,
    tz: chrono_tz::Tz,
    json: bool,
    now: DateTime<Utc>,
    verdicts: Option<(Vec<String>, &crate::config::DetectConfig)>,
) -> anyhow::Result<()> {
    use std::io::Read as _;
    let input = if file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        buf
    } else {
        std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let from = from.map_or(Ok(now), |raw| parse_from(raw, tz))?;
    let report = crate::ics::inspect(&input, from, count, tz)
        .with_context(|| format!("{} is not a calendar we can read", file.display()))?;
    if let Some((owners, detect_cfg)) = verdicts {
        let owner = crate::model::Owner::new(
            owners
                .iter()
                .filter_map(|o| crate::model::EmailAddress::parse(o)),
        );
        if owner.emails.is_empty() {
            anyhow::bail!("--owner: no valid email address in {owners:?}");
        }
        let rules = crate::detect::DetectRules::from_config(detect_cfg)?;
        let cal = crate::ics::parse(&input)?;
        let lines: Vec<serde_json::Value> = report
            .series
            .iter()
            .filter_map(|r| {
                let series = cal.series.iter().find(|s| s.uid == r.uid)?;
                let v = crate::detect::detect(series, &owner, &rules);
                Some(serde_json::json!({
                    "uid": r.uid,
                    "summary": r.summary,
                    "one_on_one": v.one_on_one,
                    "with": v.with_email(),
                    "reason": v.reason,
                    "next": r.occurrences.iter().map(|o| o.start.clone()).collect::<Vec<_>>(),
                }))
            })
            .collect();
        if json {
            println!("{}", serde_json::to_string_pretty(&lines)?);
        } else {
            crate::term::out!("{}", crate::ics::render_text(&report));
            crate::term::outln!("\n1:1 verdicts:");
            for l in &lines {
                crate::term::outln!(
                    "  {}: {}",
                    l["summary"]
                        .as_str()
                        .unwrap_or(l["uid"].as_str().unwrap_or("?")),
                    l["reason"].as_str().unwrap_or("")
                );
            }
        }
        return Ok(());
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        crate::term::out!("{}", crate::ics::render_text(&report));
    }
    Ok(())
}

/// ` --mutation NAME` for a replay command, when a broken variant runs.
fn mutation_arg(m: Option<crate::sim::Mutation>) -> String {
    use clap::ValueEnum;
    m.and_then(|m| m.to_possible_value())
        .map(|v| format!(" --mutation {}", v.get_name()))
        .unwrap_or_default()
}

/// `oneonone simulate --mutation-table`: for each broken variant, the first seed (of `max`)
/// whose schedule fails, and the violation (a Markdown table for docs/testing.md).
fn mutation_table_of(max: u64) -> ExitCode {
    use clap::ValueEnum;
    println!(
        "| broken variant (`--mutation`) | first seed that catches it | what the simulator reports |"
    );
    println!("|---|---|---|");
    let mut missed = 0;
    for m in crate::sim::Mutation::table() {
        let name = m
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        match crate::sim::first_caught(m, max) {
            Some((seed, v)) => println!("| `{name}` | {seed} | {v} |"),
            None => {
                missed += 1;
                println!("| `{name}` | not within {max} | |");
            }
        }
    }
    if missed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A long `simulate` run prints a line each time this many schedules are done.
const PROGRESS_EVERY: u64 = 10_000;

/// `oneonone simulate`: one replay with its trace, or many schedules ending with one line
/// "N schedules, V violations"; every failing seed is printed with the command that replays it.
fn simulate(
    seeds: u64,
    from: u64,
    seed: Option<(u64, Option<usize>)>,
    mutation: Option<crate::sim::Mutation>,
    jobs: Option<usize>,
) -> ExitCode {
    if let Some((seed, steps)) = seed {
        let o = crate::sim::run_prefix(seed, steps.unwrap_or(crate::sim::STEPS), mutation);
        for line in &o.trace {
            println!("{line}");
        }
        println!(
            "seed {seed}: {} violation(s){}",
            o.violations.len(),
            o.violations
                .iter()
                .map(|v| format!("\n  {v}"))
                .collect::<String>()
        );
        if o.violations.is_empty() {
            return ExitCode::SUCCESS;
        }
        if steps.is_none()
            && let Some((k, shrunk)) = crate::sim::shrink(seed, mutation)
            && k < crate::sim::STEPS
        {
            println!(
                "shrunk: the first {k} of {} steps fail too: {}{}",
                crate::sim::STEPS,
                shrunk.replay_command(),
                mutation_arg(mutation)
            );
        }
        return ExitCode::FAILURE;
    }
    let jobs = jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let started = std::time::Instant::now();
    let (done, failed) = (AtomicU64::new(0), AtomicU64::new(0));
    let (n, bad) = crate::sim::run_many(from, seeds, jobs, mutation, |o| {
        if let Some(first) = o.violations.first() {
            failed.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "seed {}: {first} (replay: {}{})",
                o.seed,
                o.replay_command(),
                mutation_arg(mutation)
            );
        }
        // A long run says how far it got, so one stopped early still counts for something.
        let k = done.fetch_add(1, Ordering::Relaxed) + 1;
        if k % PROGRESS_EVERY == 0 && k < seeds {
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "{k} of {seeds} schedules (seeds {from} to about {}), {} violations, {:.0} s",
                from + k - 1,
                failed.load(Ordering::Relaxed),
                secs
            );
        }
    });
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{:.1} s, {:.0} schedules per second on {jobs} thread(s)",
        secs,
        n as f64 / secs.max(1e-9)
    );
    println!("{n} schedules, {bad} violations");
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Simulate {
            seeds,
            from,
            seed,
            steps,
            mutation,
            jobs,
            mutation_table,
        } => {
            if mutation_table {
                return Ok(mutation_table_of(seeds));
            }
            Ok(simulate(
                seeds,
                from,
                seed.map(|s| (s, steps)),
                mutation,
                jobs,
            ))
        }
        Command::Inspect {
            file,
            from,
            count,
            tz,
            json,
            owners,
        } => {
            let config = load_config(cli.config)?;
            let tz = tz.unwrap_or(config.agenda.default_timezone);
            let now = crate::clock::Clock::now(&crate::clock::SystemClock);
            let verdicts = (!owners.is_empty()).then_some((owners, &config.detect));
            inspect(&file, from.as_deref(), count, tz, json, now, verdicts)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            action: ConfigAction::PrintDefault,
        } => {
            print!("{DEFAULT_TOML}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            action: ConfigAction::Reference,
        } => {
            print!("{}", crate::manual::config_reference()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            action: ConfigAction::PrintTemplate,
        } => {
            print!("{}", crate::agenda::DEFAULT_TEMPLATE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            crate::manual::completions(shell, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            crate::manual::man_page(&mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            action: ConfigAction::Check { file },
        } => {
            let named = file.or(cli.config);
            let shown = named
                .as_ref()
                .map_or_else(|| "defaults".into(), |p| p.display().to_string());
            let config = load_config(named)?;
            for w in &config.warnings {
                crate::term::outln!("warning: {w}");
            }
            crate::term::outln!("ok: {shown}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            config.log_warnings();
            runtime()?.block_on(async {
                let store = crate::store::Store::connect(&config.database).await?;
                let applied = store.migrate().await?;
                crate::term::outln!("{applied} migration(s) applied ({})", store.dialect());
                store.close().await;
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Connect { provider } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging_with_progress(&config.log);
            config.log_warnings();
            single_thread_runtime()?.block_on(crate::commands::connect(config, provider))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Accounts { action } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            config.log_warnings();
            runtime()?.block_on(crate::commands::accounts(config, action))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Series { action } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            config.log_warnings();
            runtime()?.block_on(crate::commands::series(config, action))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync {
            once,
            now,
            account,
            dry_run,
        } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging_with_progress(&config.log);
            config.log_warnings();
            let ok =
                runtime()?.block_on(crate::commands::sync(config, once, now, account, dry_run))?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Secrets {
            action: SecretsAction::Rotate,
        } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            config.log_warnings();
            runtime()?.block_on(crate::commands::rotate(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Item { action } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            config.log_warnings();
            runtime()?.block_on(crate::commands::item(config, action))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::History {
            with,
            format,
            include_private,
        } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging_with_progress(&config.log);
            config.log_warnings();
            runtime()?.block_on(crate::commands::history(
                config,
                &with,
                format,
                include_private,
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Meeting { action } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            config.log_warnings();
            runtime()?.block_on(crate::commands::meeting(config, action))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Note { action } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            config.log_warnings();
            runtime()?.block_on(crate::commands::note(config, action))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { weeks, format, now } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            config.log_warnings();
            runtime()?.block_on(crate::commands::report(config, weeks, format, now))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { revision, now } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            config.log_warnings();
            runtime()?.block_on(crate::commands::restore(config, revision, now))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { now } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            config.log_warnings();
            let clock = crate::clock::from_option(now);
            runtime()?.block_on(async {
                let listener = tokio::net::TcpListener::bind(config.server.listen)
                    .await
                    .with_context(|| {
                        format!("cannot listen on {} (server.listen)", config.server.listen)
                    })?;
                let cancel = CancellationToken::new();
                crate::app::cancel_on_signals(cancel.clone());
                crate::app::run(config, listener, cancel, clock).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn a_one_shot_command_and_the_threads_it_starts_keep_to_one_cpu() {
        let (allowed, includes_start, runs_there) = std::thread::spawn(|| {
            super::keep_to_this_cpu();
            let cpu = rustix::thread::sched_getcpu();
            // As sqlx starts SQLite's worker: a thread started after the call.
            std::thread::spawn(move || {
                let set = rustix::thread::sched_getaffinity(None).unwrap();
                (
                    set.count(),
                    set.is_set(cpu),
                    rustix::thread::sched_getcpu() == cpu,
                )
            })
            .join()
            .unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(allowed, 1);
        assert!(includes_start && runs_there);
    }
}
