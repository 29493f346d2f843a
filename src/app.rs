//! Start-up and shutdown of the daemon: database, scheduler and HTTP server, wired together and
//! stopped in order. Takes a bound listener and a cancellation token so tests run the real thing
//! on port 0.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::Config;
use crate::server::{AppState, router};
use crate::store::Store;
use crate::sync::{Heartbeat, Providers, Scheduler};

/// A name for this daemon in leases and `sync_runs`: host, process id and a random suffix.
pub fn daemon_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    let suffix: u32 = rand::random();
    format!("{host}-{}-{suffix:08x}", std::process::id())
}

/// Opens the database and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database).await?;
    let applied = store.migrate().await?;
    if applied > 0 {
        info!(applied, dialect = store.dialect(), "database migrated");
    }
    Ok(store)
}

/// Everything a pass needs, built once from the config.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub store: Store,
    pub keyring: Arc<crate::secrets::Keyring>,
    pub rules: Arc<crate::detect::DetectRules>,
    pub template: Arc<crate::agenda::Template>,
}

impl Services {
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        let keyring = crate::secrets::Keyring::load(&config.secrets.key_file)?;
        let rules = crate::detect::DetectRules::from_config(&config.detect)?;
        let template = config.agenda.template()?;
        Ok(Self {
            config: Arc::new(config),
            store,
            keyring: Arc::new(keyring),
            rules: Arc::new(rules),
            template: Arc::new(template),
        })
    }

    pub fn caldav(&self) -> crate::provider::caldav::CaldavSyncer {
        crate::provider::caldav::CaldavSyncer {
            store: self.store.clone(),
            keyring: self.keyring.clone(),
            config: self.config.clone(),
            rules: self.rules.clone(),
            template: self.template.clone(),
            dry_run: false,
            preview: false,
        }
    }

    pub fn google(&self) -> crate::provider::google::GoogleSyncer {
        crate::provider::google::GoogleSyncer::new(
            self.store.clone(),
            self.keyring.clone(),
            self.config.clone(),
            self.rules.clone(),
            self.template.clone(),
        )
    }

    /// The syncer that routes each account to its provider.
    pub fn providers(&self, dry_run: bool) -> Providers {
        self.providers_with(dry_run, false)
    }

    /// As `providers`; with `preview`, no pass writes into a calendar, started or not.
    fn providers_with(&self, dry_run: bool, preview: bool) -> Providers {
        let caldav = crate::provider::caldav::CaldavSyncer {
            dry_run,
            preview,
            ..self.caldav()
        };
        let mut google = self.google();
        google.dry_run = dry_run;
        google.preview = preview;
        Providers::default()
            .with(crate::store::Provider::Caldav, Arc::new(caldav))
            .with(crate::store::Provider::Google, Arc::new(google))
    }

    pub fn scheduler(&self, clock: Arc<dyn Clock>) -> Scheduler {
        self.scheduler_with(clock, false)
    }

    /// A scheduler; with `dry_run` it writes nothing into calendars (see `sync --dry-run`).
    pub fn scheduler_with(&self, clock: Arc<dyn Clock>, dry_run: bool) -> Scheduler {
        self.scheduler_from(clock, self.providers(dry_run))
    }

    /// A scheduler whose passes import and detect and write into no calendar, even for an account
    /// started (a reconnect): `connect`'s own pass (DESIGN.md guarantee 12).
    pub fn previewing_scheduler(&self, clock: Arc<dyn Clock>) -> Scheduler {
        self.scheduler_from(clock, self.providers_with(false, true))
    }

    fn scheduler_from(&self, clock: Arc<dyn Clock>, providers: Providers) -> Scheduler {
        Scheduler {
            store: self.store.clone(),
            cfg: self.config.sync.clone(),
            daemon_id: daemon_id(),
            clock,
            syncer: Arc::new(providers),
            heartbeat: Arc::new(Heartbeat::default()),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }
}

/// Runs the daemon until `cancel` fires, then shuts down within `server.shutdown_timeout_secs`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    cancel: CancellationToken,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    let grace = Duration::from_secs(config.server.shutdown_timeout_secs);
    let services = Services::open(config.clone()).await?;
    let store = services.store.clone();
    // Starting the daemon is the person's go-ahead for the accounts connected before it: they
    // start writing now. One connected while it runs stays a preview until started (the web
    // page's Start button, or `oneonone sync --once`).
    for id in store.start_writing(None, clock.now()).await? {
        info!(account = id, "started writing agendas");
        eprintln!("Started writing agendas for account {id}.");
    }
    crate::telemetry::metrics();
    let scheduler = services.scheduler(clock.clone());
    let heartbeat = scheduler.heartbeat.clone();
    let wake = scheduler.wake.clone();
    let pass_period = Duration::from_secs(config.sync.interval_secs.min(60));
    let web = crate::web::WebState::start(&services, clock.clone(), wake.clone()).await?;
    let state = AppState {
        store: store.clone(),
        heartbeat,
        clock: clock.clone(),
        pass_period,
        started_at: clock.now(),
        wake: wake.clone(),
        admin_token: config.server.admin_token.clone(),
        guesses: Arc::new(crate::web::guesses::Guesses::per_minute(
            config.server.api_wrong_tokens_per_minute,
        )),
        session_digest: web.admin_digest(),
        services: Arc::new(services.clone()),
        google: Arc::new(crate::provider::google::web::GoogleWeb::new(
            services.config.clone(),
            services.keyring.clone(),
        )),
    };
    let addr = listener
        .local_addr()
        .context("listener has no local address")?;
    info!(%addr, daemon = %scheduler.daemon_id, "listening");
    let sched = tokio::spawn(scheduler.run(cancel.clone(), grace));
    let server_cancel = cancel.clone();
    let app = router(state).merge(crate::web::router(web));
    // The peer address keys the sign-in rate limit.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(async move { server_cancel.cancelled().await });
    let served = server.await;
    cancel.cancel();
    if tokio::time::timeout(grace + Duration::from_secs(1), sched)
        .await
        .is_err()
    {
        warn!("the scheduler did not stop in time; exiting anyway");
    }
    store.close().await;
    info!("stopped");
    served.context("HTTP server failed")
}

/// Cancels `token` on SIGTERM or SIGINT.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => info!("SIGINT: shutting down"),
            () = term => info!("SIGTERM: shutting down"),
        }
        token.cancel();
    });
}
