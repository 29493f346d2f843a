//! The services value: everything a pass, a command or a page needs (config, store, keyring,
//! detection rules, agenda template, the providers), built once from the config. The CLI, the
//! scheduler and the HTTP layer take it; it imports none of them.

use std::sync::Arc;

use tracing::info;

use crate::clock::Clock;
use crate::config::Config;
use crate::store::Store;
use crate::sync::pass::{Pass, Providers};
use crate::sync::{Heartbeat, Scheduler};

/// A name for this daemon in leases and `sync_runs`: host, process id and a random suffix.
pub(crate) fn daemon_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    let suffix: u32 = rand::random();
    format!("{host}-{}-{suffix:08x}", std::process::id())
}

/// Opens the database and applies pending migrations.
pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database).await?;
    let applied = store.migrate().await?;
    if applied > 0 {
        info!(applied, dialect = store.dialect(), "database migrated");
    }
    Ok(store)
}

/// Everything a pass, a command or a page needs, built once from the config.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub store: Store,
    pub keyring: Arc<crate::secrets::Keyring>,
    pub rules: Arc<crate::detect::DetectRules>,
    pub template: Arc<crate::agenda::Template>,
    /// The calendar providers (one Google provider keeps each account's client across passes).
    pub providers: Providers,
}

impl Services {
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        let keyring = Arc::new(crate::secrets::Keyring::load(&config.secrets.key_file)?);
        let rules = crate::detect::DetectRules::from_config(&config.detect)?;
        let template = config.agenda.template()?;
        let config = Arc::new(config);
        let providers = Providers::default()
            .with(Arc::new(crate::provider::caldav::CalDav {
                keyring: keyring.clone(),
                config: config.clone(),
                auth: Default::default(),
            }))
            .with(Arc::new(crate::provider::google::Google::new(
                keyring.clone(),
                config.clone(),
            )));
        Ok(Self {
            config,
            store,
            keyring,
            rules: Arc::new(rules),
            template: Arc::new(template),
            providers,
        })
    }

    /// The one pass over an account, writing as the account allows (a dry run writes nothing).
    pub fn pass(&self, dry_run: bool) -> Pass {
        Pass {
            store: self.store.clone(),
            config: self.config.clone(),
            rules: self.rules.clone(),
            template: self.template.clone(),
            providers: self.providers.clone(),
            keyring: self.keyring.clone(),
            dry_run,
            preview: false,
        }
    }

    pub(crate) fn scheduler(&self, clock: Arc<dyn Clock>) -> Scheduler {
        self.scheduler_with(clock, false)
    }

    /// A scheduler; with `dry_run` it writes nothing into calendars (see `sync --dry-run`).
    pub(crate) fn scheduler_with(&self, clock: Arc<dyn Clock>, dry_run: bool) -> Scheduler {
        self.scheduler_from(clock, self.pass(dry_run))
    }

    /// A scheduler whose passes import and detect and write into no calendar, even for an account
    /// started (a reconnect): `connect`'s own pass (DESIGN.md guarantee 12).
    pub(crate) fn previewing_scheduler(&self, clock: Arc<dyn Clock>) -> Scheduler {
        let pass = Pass {
            preview: true,
            ..self.pass(false)
        };
        self.scheduler_from(clock, pass)
    }

    fn scheduler_from(&self, clock: Arc<dyn Clock>, pass: Pass) -> Scheduler {
        Scheduler {
            store: self.store.clone(),
            cfg: self.config.sync.clone(),
            daemon_id: daemon_id(),
            clock,
            syncer: Arc::new(pass),
            heartbeat: Arc::new(Heartbeat::default()),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }
}
