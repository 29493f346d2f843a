//! The seeded simulator (docs/testing.md): one seed drives a whole world, a manager's calendar
//! on a simulated CalDAV server with its faults, the people who edit it, the clock, crashes of
//! the daemon and a second daemon on the same database, while the real pass (fetch, cache,
//! detection, agenda, conditional write, revisions) runs against it on a real SQLite database.
//! Invariants are checked on every write, after every pass and at the end. The same seed
//! gives the same trace, byte for byte; `oneonone simulate --seed S` replays one.

mod check;
mod google;
pub(crate) mod mutation;
mod server;
mod world;

use std::sync::{Arc, Mutex};
use std::task::Poll;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use mutation::Mutation;
use server::{CALENDAR_URL, SimDav};
use world::World;

use crate::clock::Clock;
use crate::config::Config;
use crate::provider::{CalendarProvider, Found, ProviderError, Session};
use crate::store::{Account, CachedEvent, Calendar, NewAccount, Provider, Store};
use crate::sync::pass::{Pass, Providers};
use crate::sync::{Heartbeat, Scheduler};

/// A request that never answers: the daemon crashed there (the driver drops the pass).
pub(crate) async fn crashed<T>() -> T {
    std::future::pending().await
}

/// The body of a simulated request, behind the world's gate: a fault or a crash before it, a
/// crash after it (the server acted, the daemon never heard), or a timeout after it (the
/// server acted, the daemon heard 504).
macro_rules! gated {
    ($self:ident, $method:expr, $what:expr, $body:expr) => {{
        match $self.gate($method, $what) {
            $crate::sim::world::Gate::Crash => return $crate::sim::crashed().await,
            $crate::sim::world::Gate::Fail(e) => return Err(e),
            $crate::sim::world::Gate::Go => {}
        }
        let answer = $body;
        match $self.after($method, $what) {
            $crate::sim::world::After::Crash => return $crate::sim::crashed().await,
            $crate::sim::world::After::Lost => return Err($self.timed_out($method, $what)),
            $crate::sim::world::After::Answer => {}
        }
        answer
    }};
}
pub(crate) use gated;

/// What one schedule came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub seed: u64,
    /// What happened, one line a step: the same for the same seed, byte for byte.
    pub trace: Vec<String>,
    pub violations: Vec<String>,
    /// Steps the schedule ran before its quiet end ([`STEPS`], or fewer in a shrunk replay).
    pub steps: usize,
}

impl Outcome {
    /// The command that replays this schedule.
    pub fn replay_command(&self) -> String {
        match self.steps {
            STEPS => format!("scripts/simulate --seed {}", self.seed),
            k => format!("scripts/simulate --seed {} --steps {k}", self.seed),
        }
    }
}

/// Steps of one schedule (people, time, passes, faults), besides the quiet end.
pub const STEPS: usize = 24;

/// The world's clock: the simulated time, which only the schedule moves.
struct SimClock(Arc<Mutex<World>>);

impl Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|w| w.now).unwrap_or_default()
    }
}

/// A provider over the simulated calendar of its kind: the real CalDAV session on [`SimDav`],
/// or the real Google session on [`google::SimGoogle`], instead of HTTP.
struct SimProvider {
    kind: Provider,
    world: Arc<Mutex<World>>,
    config: Arc<Config>,
}

/// How descriptions of a provider's calendars are written.
fn format_of(kind: Provider) -> crate::agenda::Format {
    match kind {
        Provider::Google => crate::agenda::Format::GoogleHtml,
        _ => crate::agenda::Format::Plain,
    }
}

impl CalendarProvider for SimProvider {
    fn kind(&self) -> Provider {
        self.kind
    }

    fn format(&self) -> crate::agenda::Format {
        format_of(self.kind)
    }

    fn open(&self, account: &Account) -> Result<Box<dyn Session>, ProviderError> {
        let world = self.world.clone();
        if self.kind == Provider::Google {
            let settings =
                crate::provider::google::provider::GoogleSettings::from_account(account)?;
            return Ok(crate::provider::google::provider::session(
                Box::new(google::SimGoogle { world }),
                settings,
                self.config.clone(),
                account.created_at,
            ));
        }
        let owner = crate::model::Owner::new(crate::model::EmailAddress::parse(world::MANAGER));
        Ok(crate::provider::caldav::provider::session(
            Box::new(SimDav { world }),
            owner,
            self.config.clone(),
        ))
    }

    fn load_series(&self, account: &Account, cal: &Calendar, cached: Vec<CachedEvent>) -> Found {
        match self.kind {
            Provider::Google => {
                crate::provider::google::provider::load_series(&self.config, account, cal, cached)
            }
            _ => crate::provider::caldav::provider::load_series(&self.config, account, cal, cached),
        }
    }
}

/// The configuration of a simulated daemon: no jitter (time is the schedule's), a small write
/// cap so that it is reached.
fn config() -> Config {
    let mut c = Config::defaults();
    c.sync.jitter = 0.0;
    c.sync.interval_secs = 60;
    c.sync.lease_secs = 300;
    c.sync.concurrency = 1;
    c.sync.max_writes_per_pass = 2;
    c
}

/// What every schedule of a thread shares: the configuration, the compiled detection rules and
/// agenda template (compiling them cost a fifth of a schedule).
pub struct Shared {
    /// One SQLite database in memory, migrated once and emptied before each schedule.
    store: Store,
    /// Its tables, in the order they are emptied.
    tables: Vec<String>,
    config: Arc<Config>,
    rules: Arc<crate::detect::DetectRules>,
    template: Arc<crate::agenda::Template>,
}

impl Shared {
    pub async fn new() -> anyhow::Result<Self> {
        let config = config();
        let url = crate::config::DatabaseUrl::try_from("sqlite::memory:".to_string())
            .map_err(anyhow::Error::msg)?;
        let store = Store::connect_url(&url, 1, std::time::Duration::from_secs(5)).await?;
        store.migrate().await?;
        Ok(Self {
            tables: store.simulation_tables().await?,
            store,
            rules: Arc::new(crate::detect::DetectRules::from_config(&config.detect)?),
            template: Arc::new(config.agenda.template()?),
            config: Arc::new(config),
        })
    }
}

/// Runs the schedule of `seed` on a fresh database, on a runtime of its own, with the broken
/// variant `mutation` of the daemon when given.
pub fn run_seed(seed: u64, mutation: Option<Mutation>) -> Outcome {
    run_prefix(seed, STEPS, mutation)
}

/// [`run_seed`] with only the first `steps` steps of the schedule (then the quiet end).
pub fn run_prefix(seed: u64, steps: usize, mutation: Option<Mutation>) -> Outcome {
    mutation::set(mutation);
    crate::cli::keep_to_this_cpu();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime builds");
    rt.block_on(async {
        let shared = Shared::new().await.expect("the simulator's database opens");
        run_steps(seed, steps, &shared).await
    })
}

/// The shortest prefix of the schedule of `seed` that still breaks an invariant (the schedule
/// shrunk: its steps after that one are not needed to show the failure), by trying each length
/// from one step up. `None` when the whole schedule passes.
pub fn shrink(seed: u64, mutation: Option<Mutation>) -> Option<(usize, Outcome)> {
    (1..=STEPS).find_map(|k| {
        let o = run_prefix(seed, k, mutation);
        (!o.violations.is_empty()).then_some((k, o))
    })
}

/// Runs the schedule of `seed`.
pub async fn run(seed: u64, shared: &Shared) -> Outcome {
    run_steps(seed, STEPS, shared).await
}

async fn run_steps(seed: u64, steps: usize, shared: &Shared) -> Outcome {
    match schedule(seed, steps, shared).await {
        Ok(o) => o,
        Err(e) => Outcome {
            seed,
            trace: vec![format!("the simulator failed: {e:#}")],
            violations: vec![format!("the simulator failed: {e:#}")],
            steps,
        },
    }
}

async fn schedule(seed: u64, steps: usize, shared: &Shared) -> anyhow::Result<Outcome> {
    let mut rng = StdRng::seed_from_u64(seed);
    let start: DateTime<Utc> = "2027-01-04T08:00:00Z".parse()?;
    let start = start + Duration::hours(rng.random_range(0..24 * 7));
    let profile = world::profile(&mut rng);
    let server = world::server(&mut rng);
    let provider = if rng.random_bool(0.4) {
        Provider::Google
    } else {
        Provider::Caldav
    };
    let format = format_of(provider);
    let people_rng = StdRng::seed_from_u64(rng.random());
    let world = Arc::new(Mutex::new(World::new(
        people_rng, start, server, format, profile,
    )));
    {
        let mut w = lock(&world);
        let desc = match provider {
            Provider::Google => format!("seed {seed}: Google, {:?}", w.profile),
            _ => format!(
                "seed {seed}: CalDAV, {:?}, sync-collection {}, {:?}",
                w.server.rewrite, !w.server.no_sync_collection, w.profile
            ),
        };
        w.trace(desc);
        let directs = ["dana", "eli", "fay"];
        for d in directs.iter().take(rng.random_range(1..=3)) {
            let first = world::next_slot(start) + Duration::hours(rng.random_range(0..72));
            w.add_one_on_one(d, first);
        }
        w.add_team_meeting(world::next_slot(start));
    }

    let config = shared.config.clone();
    let store = shared.store.clone();
    store.clear_for_simulation(&shared.tables).await?;
    let (settings, calendar) = match provider {
        Provider::Google => (
            serde_json::json!({ "owner_emails": [world::MANAGER] }),
            google::CALENDAR_ID,
        ),
        _ => (
            serde_json::json!({
                "url": CALENDAR_URL,
                "username": "manager",
                "owner_emails": [world::MANAGER],
            }),
            CALENDAR_URL,
        ),
    };
    let account = store
        .insert_account(
            &NewAccount {
                provider,
                display_name: "manager at sim.example".into(),
                settings,
                credentials: None,
                calendars: vec![(calendar.into(), "Calendar".into(), Some("UTC".into()))],
                writing_started_at: None,
            },
            start,
        )
        .await?;
    let providers = Providers::default()
        .with(Arc::new(SimProvider {
            kind: Provider::Caldav,
            world: world.clone(),
            config: config.clone(),
        }))
        .with(Arc::new(SimProvider {
            kind: Provider::Google,
            world: world.clone(),
            config: config.clone(),
        }));
    let pass = Pass {
        store: store.clone(),
        config: config.clone(),
        rules: shared.rules.clone(),
        template: shared.template.clone(),
        providers: providers.clone(),
        // A fixed key: the simulation is replayed from its seed alone.
        keyring: Arc::new(crate::secrets::Keyring::from_bytes([7; 32])),
        dry_run: false,
        preview: false,
    };
    let syncer: Arc<dyn crate::sync::AccountSyncer> = Arc::new(pass);
    let daemon = |id: String| Scheduler {
        store: store.clone(),
        cfg: config.sync.clone(),
        daemon_id: id,
        clock: Arc::new(SimClock(world.clone())),
        syncer: syncer.clone(),
        heartbeat: Arc::new(Heartbeat::default()),
        wake: Arc::new(tokio::sync::Notify::new()),
    };
    let mut daemons = vec![daemon("d1".into()), daemon("d2".into())];
    let mut restarts = 0;
    let mut history = check::History::default();

    for _ in 0..steps {
        let roll = rng.random_range(0..100);
        match roll {
            0..=29 => {
                let by = Duration::minutes(rng.random_range(2..60 * 48));
                let mut w = lock(&world);
                w.now += by;
                let line = format!("time passes: {} min", by.num_minutes());
                w.trace(line);
            }
            30..=49 => lock(&world).person_acts("between passes"),
            50..=53 => {
                let mut w = lock(&world);
                w.compact();
                w.trace("the server forgets its sync tokens".into());
            }
            54 => lock(&world).recreate(),
            _ => {
                let d = rng.random_range(0..daemons.len());
                let start_now = {
                    let mut w = lock(&world);
                    // Passes come a minute or a few apart.
                    w.now += Duration::minutes(rng.random_range(1..=5));
                    let start_now = !w.started && rng.random_bool(0.5);
                    if start_now {
                        w.started = true;
                        w.trace("the manager starts writing".into());
                    }
                    start_now
                };
                if start_now {
                    store.start_writing(Some(&[account]), start).await?;
                }
                // A fifth of the passes crash: half right after their first write reached the
                // server (the crash between the remote write and the local commit), half at
                // any request, before or after the server acted.
                let crash = rng.random_bool(0.2).then(|| {
                    if rng.random_bool(0.5) {
                        (0, true)
                    } else {
                        (rng.random_range(1..8), rng.random_bool(0.5))
                    }
                });
                let crashed = one_pass(&world, &daemons[d], crash, None).await?;
                if crashed {
                    restarts += 1;
                    daemons[d] = daemon(format!("d{}-restart{restarts}", d + 1));
                }
                check::after_pass(&world, &store, &config, &mut history).await?;
            }
        }
    }
    quiet(&world, &store, &daemons, &config, &mut history, account).await?;
    check::undo_writes(&world, &store, &config, &providers).await?;
    let w = lock(&world);
    Ok(Outcome {
        seed,
        trace: w.trace.clone(),
        violations: w.violations.clone(),
        steps,
    })
}

fn lock(world: &Arc<Mutex<World>>) -> std::sync::MutexGuard<'_, World> {
    world.lock().expect("the world lock is never poisoned")
}

/// One scheduler pass of `daemon`, crashed at request `crash` (counted from now) when given.
/// Returns whether it crashed.
async fn one_pass(
    world: &Arc<Mutex<World>>,
    daemon: &Scheduler,
    crash: Option<(u64, bool)>,
    now_for: Option<i64>,
) -> anyhow::Result<bool> {
    {
        let mut w = lock(world);
        w.pass_writes = 0;
        w.crashed = false;
        w.crash_after_write = crash == Some((0, true));
        w.crash_at = crash
            .filter(|&(at, _)| at > 0)
            .map(|(at, after)| (w.requests + at, after));
        let line = format!("{} runs a pass", daemon.daemon_id);
        w.trace(line);
    }
    // A scheduled pass takes what is due; `now_for` syncs that account due or not (as
    // `oneonone sync --once` does), past any backoff.
    let pass = Box::pin(async {
        match now_for {
            None => daemon.pass_once().await,
            Some(id) => daemon.sync_now(&[id]).await,
        }
    });
    let watch = Box::pin(futures::future::poll_fn(|_| {
        if lock(world).crashed {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }));
    let crashed = match futures::future::select(pass, watch).await {
        futures::future::Either::Left((r, _)) => {
            let summary = r?;
            let mut w = lock(world);
            let line = format!(
                "pass over: {} account(s), {} failed, {} write(s)",
                summary.accounts, summary.failed, w.pass_writes
            );
            w.trace(line);
            false
        }
        futures::future::Either::Right(_) => true,
    };
    let mut w = lock(world);
    w.crash_at = None;
    w.crash_after_write = false;
    w.crashed = false;
    Ok(crashed)
}

/// The world goes quiet: no faults, no people, no crash. Passes must then converge to none
/// that writes, after which the end checks run.
async fn quiet(
    world: &Arc<Mutex<World>>,
    store: &Store,
    daemons: &[Scheduler],
    config: &Config,
    history: &mut check::History,
    account: i64,
) -> anyhow::Result<()> {
    let start_now = {
        let mut w = lock(world);
        w.profile = world::Profile {
            throttle: 0.0,
            server_error: 0.0,
            empty_listing: 0.0,
            short_listing: 0.0,
            people_during_pass: 0.0,
        };
        let start_now = (!w.started).then_some(w.now);
        w.started = true;
        // Past any lease a crashed daemon left.
        w.now += Duration::minutes(10);
        w.trace("the world goes quiet".into());
        start_now
    };
    if let Some(now) = start_now {
        store.start_writing(Some(&[account]), now).await?;
    }
    let mut last = u32::MAX;
    for round in 0..8 {
        lock(world).now += Duration::minutes(2);
        one_pass(world, &daemons[round % daemons.len()], None, Some(account)).await?;
        check::after_pass(world, store, config, history).await?;
        let writes = lock(world).pass_writes;
        if writes == 0 && last == 0 {
            break;
        }
        last = writes;
    }
    if last != 0 {
        lock(world).violation("passes keep writing after the world went quiet".into());
    }
    check::at_end(world, store, config).await
}

/// Runs seeds `from..from + n` on `jobs` threads; calls `each` with every outcome (in seed
/// order within a thread). Returns (schedules, violations).
pub fn run_many(
    from: u64,
    n: u64,
    jobs: usize,
    mutation: Option<Mutation>,
    each: impl Fn(&Outcome) + Send + Sync,
) -> (u64, u64) {
    let next = std::sync::atomic::AtomicU64::new(from);
    let bad = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        for job in 0..jobs.max(1) {
            let (next, bad, each) = (&next, &bad, &each);
            s.spawn(move || {
                keep_to_cpu(job);
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                    .expect("a current-thread runtime builds");
                let shared = rt
                    .block_on(Shared::new())
                    .expect("the simulator's database opens");
                mutation::set(mutation);
                loop {
                    let seed = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if seed >= from + n {
                        break;
                    }
                    let o = rt.block_on(run(seed, &shared));
                    if !o.violations.is_empty() {
                        bad.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    each(&o);
                }
            });
        }
    });
    (n, bad.into_inner())
}

/// Keeps the calling thread, and the threads it starts from now on (sqlx's SQLite worker),
/// to the `job`-th CPU it may run on (counted round). A schedule hands each statement to that
/// worker and waits: on one CPU a hand-off is a switch, across two it is a wake-up sent to the
/// other CPU, which on this virtual machine cost four times the CPU of the whole schedule
/// (`--seeds 300 --jobs 1`: 29 s of CPU unpinned, 9.5 s pinned).
#[cfg(target_os = "linux")]
fn keep_to_cpu(job: usize) {
    let cpus = crate::cli::allowed_cpus();
    if let Some(&cpu) = cpus.get(job % cpus.len().max(1)) {
        crate::cli::keep_to(cpu);
    }
}

#[cfg(not(target_os = "linux"))]
fn keep_to_cpu(_job: usize) {}

/// The first seed from 1 whose schedule the broken variant `m` fails, within `max` seeds, and
/// the violation (one thread; the switch is this thread's).
pub fn first_caught(m: Mutation, max: u64) -> Option<(u64, String)> {
    crate::cli::keep_to_this_cpu();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime builds");
    let shared = rt
        .block_on(Shared::new())
        .expect("the simulator's database opens");
    mutation::set(Some(m));
    let found = (1..=max).find_map(|seed| {
        let o = rt.block_on(run(seed, &shared));
        o.violations.first().map(|v| (seed, v.clone()))
    });
    mutation::set(None);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seeds whose schedules found a bug, kept once it was fixed, with the broken variant that
    /// puts the bug back and what the seed then reports.
    const REGRESSIONS: [(u64, Mutation, &str); 6] = [
        // CalDAV: a full listing one resource short made the daemon forget that 1:1 until the
        // next daily comparison (fixed in `Fetch::confirm_missing`).
        (827, Mutation::TrustShortListing, "has no agenda"),
        // Google: the same after a 410, for good (fixed in `GoogleSession::confirm_missing`).
        (240, Mutation::TrustShortListing, "has no agenda"),
        // Google: the first listing left out an exception a person had made; every write then
        // found the instance changed, re-read incrementally (which never names it) and gave
        // up, for good (fixed in `GoogleSession::reread`).
        (3849, Mutation::TrustShortListing, "has no agenda"),
        // Google (a long run): the manager cancelled a meeting whose agenda was written, then
        // a 410's full listing left the cancellation out; the daemon took the cancelled
        // meeting for the next one and the real next one got no agenda (fixed in
        // `GoogleSession::confirm_missing`, and in the pass for a meeting found cancelled).
        (92394, Mutation::ForgetCancellations, "has no agenda"),
        // Google (session 14's long run): the manager moved the meeting the pass was about to
        // write to earlier that day, already over, between the listing and the read of the
        // instance; the write went into the past meeting (fixed in
        // `GoogleSession::read_instance`: an instance that has ended is a stale plan).
        (
            142738,
            Mutation::WriteIntoAMeetingMovedPast,
            "an agenda written into the past occurrence",
        ),
        // The same, found again by that run; here the move lands at the read itself, with no
        // 412 before it.
        (
            295400,
            Mutation::WriteIntoAMeetingMovedPast,
            "an agenda written into the past occurrence",
        ),
    ];

    /// Seeds that found a bug once the simulator lost answers (a write times out after it
    /// landed), with the violation they show when it is put back
    /// (`Mutation::UncountedLostWrites`): CalDAV's second try of the write met a 412 and the
    /// pass took it for a person's edit, so the landed write went uncounted and the pass wrote
    /// past its cap (fixed with `Written::MaybeLanded`, counted, and the pass stops at the cap).
    const LOST_ANSWER_REGRESSIONS: [u64; 2] = [
        // Then wrote two more series.
        64, // Then a person typed in that invite, and the pass wrote it once more.
        4138,
    ];

    #[test]
    fn a_few_hundred_seeded_schedules_break_no_invariant() {
        let failed = Mutex::new(Vec::new());
        // Schedules in which a write landed and its answer was lost (a timeout).
        let timed_out = std::sync::atomic::AtomicU32::new(0);
        let (n, bad) = run_many(1, 300, 2, None, |o| {
            if o.trace.iter().any(|l| l.contains("its answer lost")) {
                timed_out.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            if let Some(v) = o.violations.first() {
                failed.lock().unwrap().push(format!(
                    "seed {}: {v} ({})",
                    o.seed,
                    o.replay_command()
                ));
            }
        });
        assert_eq!((n, bad), (300, 0), "{:#?}", failed.into_inner().unwrap());
        assert!(
            timed_out.into_inner() >= 5,
            "too few timed-out writes to test them"
        );
    }

    /// Seed 19242 (a long run; seed 346 of an earlier version of the world, found with issue
    /// 27's nudge): a person deleted the direct's topic line, another was typed in its place
    /// just before the daemon's write, and the retry after the 412 skipped the new line as an
    /// edit of the dropped item (fixed in `agenda::absorb`: similarity pairing takes only items
    /// still in the store).
    #[test]
    fn the_seed_that_lost_a_line_typed_during_a_retried_write_passes() {
        let seed = 19242;
        let o = run_seed(seed, None);
        assert!(o.violations.is_empty(), "seed {seed}: {:#?}", o.violations);
        assert!(
            o.trace.iter().any(|l| l.contains("-> 412")),
            "seed {seed} no longer retries a write: {:#?}",
            o.trace
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_trace_byte_for_byte() {
        for seed in [3, 92, 240, 827] {
            let a = run_seed(seed, None);
            let b = run_seed(seed, None);
            assert_eq!(a.trace.join("\n"), b.trace.join("\n"), "seed {seed}");
            assert!(a.trace.len() > 20, "seed {seed}: {:#?}", a.trace);
        }
        // And two seeds are two different worlds.
        assert_ne!(run_seed(3, None).trace, run_seed(4, None).trace);
        // A schedule run after others on the same (emptied) database is the same as alone.
        let traces = Mutex::new(Vec::new());
        run_many(90, 4, 1, None, |o| traces.lock().unwrap().push(o.clone()));
        for o in traces.into_inner().unwrap() {
            assert_eq!(o.trace, run_seed(o.seed, None).trace, "seed {}", o.seed);
        }
    }

    #[test]
    fn a_failing_schedule_shrinks_to_the_shortest_prefix_that_still_fails() {
        // A daemon that reads no typed line fails once a person typed one (seed 5 of the
        // mutation table): the prefix ends at that step, and one step fewer passes.
        let m = Some(Mutation::IgnoreTypedLines);
        let (k, o) = shrink(5, m).expect("seed 5 fails");
        assert!(1 < k && k < STEPS, "{k}");
        assert!(
            o.violations.iter().any(|v| v.contains("typed line")),
            "{:#?}",
            o.violations
        );
        let shorter = run_prefix(5, k - 1, m);
        assert!(shorter.violations.is_empty(), "{:#?}", shorter.violations);
        assert!(
            o.trace.iter().any(|l| l.contains("types the topic")),
            "{:#?}",
            o.trace
        );
        assert!(
            o.replay_command()
                .ends_with(&format!("--seed 5 --steps {k}"))
        );
        assert!(shrink(5, None).is_none());
    }

    #[test]
    fn the_seeds_that_found_a_write_past_the_cap_after_a_lost_answer_pass() {
        for seed in LOST_ANSWER_REGRESSIONS {
            let o = run_seed(seed, None);
            assert!(o.violations.is_empty(), "seed {seed}: {:#?}", o.violations);
            assert!(
                o.trace.iter().any(|l| l.contains("its answer lost")),
                "seed {seed} no longer loses an answer: {:#?}",
                o.trace
            );
            let o = run_seed(seed, Some(Mutation::UncountedLostWrites));
            assert!(
                o.violations.iter().any(|v| v.contains("over the cap")),
                "seed {seed}: {:#?}",
                o.violations
            );
        }
    }

    #[test]
    fn the_seeds_that_found_bugs_pass() {
        for (seed, _, _) in REGRESSIONS {
            let o = run_seed(seed, None);
            assert!(o.violations.is_empty(), "seed {seed}: {:#?}", o.violations);
        }
        // Each catches the bug when it is put back.
        for (seed, bug, shows) in REGRESSIONS {
            let o = run_seed(seed, Some(bug));
            assert!(
                o.violations.iter().any(|v| v.contains(shows)),
                "seed {seed}: {:#?}",
                o.violations
            );
        }
    }

    /// Each job of `run_many` keeps to a CPU of its own, and so does the SQLite worker thread
    /// it starts (sqlx starts it when the job opens its database).
    #[cfg(target_os = "linux")]
    #[test]
    fn each_job_and_its_database_thread_keep_to_one_cpu_of_their_own() {
        use rustix::thread::{CpuSet, sched_getaffinity};
        let cpus = crate::cli::allowed_cpus();
        for job in 0..3 {
            let (count, cpu) = std::thread::spawn(move || {
                keep_to_cpu(job);
                std::thread::spawn(|| {
                    let set = sched_getaffinity(None).unwrap();
                    (set.count(), (0..CpuSet::MAX_CPU).find(|&c| set.is_set(c)))
                })
                .join()
                .unwrap()
            })
            .join()
            .unwrap();
            assert_eq!(count, 1, "job {job}");
            assert_eq!(cpu, Some(cpus[job % cpus.len()]), "job {job}");
        }
    }

    #[test]
    fn every_broken_variant_is_caught_within_a_bounded_number_of_seeds() {
        for m in Mutation::table() {
            let caught = first_caught(m, 300);
            assert!(caught.is_some(), "{m:?} was not caught in 300 seeds");
        }
    }
}
