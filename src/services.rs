//! The services value: everything a pass, a command or a page needs (config, store, keyring,
//! detection rules, agenda template, the providers), built once from the config. The CLI, the
//! scheduler and the HTTP layer take it; it imports none of them.

use std::sync::Arc;

use tracing::info;

use crate::clock::Clock;
use crate::config::Config;
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

