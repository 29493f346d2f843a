//! The state the HTTP handlers outside the web pages share (health, admin API, Google connect and
//! push): the services, the scheduler's heartbeat and wake-up, the admin credentials and the
//! budget of wrong tokens. `api` and `web` import it; it imports neither.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::guesses::Guesses;
use crate::clock::Clock;
use crate::services::Services;
use crate::store::Store;
use crate::sync::{Heartbeat, Scheduler};

#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Store,
    pub heartbeat: Arc<Heartbeat>,
    pub clock: Arc<dyn Clock>,
    /// The scheduler's period: a loop silent for much longer than this is dead.
    pub pass_period: Duration,
    pub started_at: DateTime<Utc>,
    /// Wakes the scheduler (an account was made due).
    pub wake: Arc<tokio::sync::Notify>,
    /// The admin API's bearer token; empty switches the API off.
    pub admin_token: secrecy::SecretString,
    /// Wrong bearer tokens per client address (the admin API, `/connect/google`).
    pub(crate) guesses: Arc<Guesses>,
    /// The admin digest web sessions are bound to (`/connect/google` accepts a session).
    pub(crate) session_digest: [u8; 32],
    /// What the handlers read and write with (the admin API's restore: either provider).
    pub services: Arc<Services>,
}

impl AppState {
    /// The state for a daemon whose scheduler is `scheduler`; `session_digest` is the web pages'
    /// (see `web::build_state`).
    pub(crate) fn new(
        services: &Services,
        scheduler: &Scheduler,
        clock: Arc<dyn Clock>,
        session_digest: [u8; 32],
    ) -> Self {
        let config = &services.config;
        Self {
            store: services.store.clone(),
            heartbeat: scheduler.heartbeat.clone(),
            pass_period: Duration::from_secs(config.sync.interval_secs.min(60)),
            started_at: clock.now(),
            clock,
            wake: scheduler.wake.clone(),
            admin_token: config.server.admin_token.clone(),
            guesses: Arc::new(Guesses::per_minute(
                config.server.api_wrong_tokens_per_minute,
            )),
            session_digest,
            services: Arc::new(services.clone()),
        }
    }
}
