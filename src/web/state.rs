//! What the pages share at run time: the store, config and clock, the admin digest sessions are
//! bound to, the budget of sign-in attempts per address and the limits on the direct's links.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::clock::Clock;
use crate::config::Config;
use crate::secrets::Keyring;
use crate::server::guesses::Guesses;
use crate::services::Services;
use crate::store::Store;

/// What the pages need; cheap to clone.
#[derive(Clone)]
pub(crate) struct WebState {
    pub store: Store,
    pub keyring: Arc<Keyring>,
    pub config: Arc<Config>,
    pub template: Arc<crate::agenda::Template>,
    pub providers: crate::sync::pass::Providers,
    pub clock: Arc<dyn Clock>,
    /// Wakes the scheduler (an account was made due).
    pub wake: Arc<tokio::sync::Notify>,
    /// SHA-256 of the admin token (configured, or generated on first start).
    pub(super) admin_digest: [u8; 32],
    /// Sign-in attempts per client address.
    pub(super) guesses: Arc<Guesses>,
    /// Changes through the direct's links: a rate per link, one change at a time.
    pub(super) links: Arc<LinkLimits>,
}

impl WebState {
    /// The state over `services`, with sessions bound to `admin_digest` (see `web::build_state`).
    pub(super) fn new(
        services: &Services,
        clock: Arc<dyn Clock>,
        wake: Arc<tokio::sync::Notify>,
        admin_digest: [u8; 32],
    ) -> Self {
        let web = &services.config.web;
        Self {
            store: services.store.clone(),
            keyring: services.keyring.clone(),
            config: services.config.clone(),
            template: services.template.clone(),
            providers: services.providers.clone(),
            clock,
            wake,
            admin_digest,
            guesses: Arc::new(Guesses::per_minute(web.signin_attempts_per_minute)),
            links: Arc::new(LinkLimits::new(web.direct_link_posts_per_minute)),
        }
    }

    /// The digest sessions are bound to (see `AdminSession::from_headers`).
    pub(crate) fn admin_digest(&self) -> [u8; 32] {
        self.admin_digest
    }

    /// What a preview of the next agenda reads, as of now.
    pub(super) fn previewer(&self) -> crate::sync::preview::Previewer<'_> {
        crate::sync::preview::Previewer {
            store: &self.store,
            config: &self.config,
            template: &self.template,
            providers: &self.providers,
            keyring: &self.keyring,
            now: self.clock.now(),
        }
    }
}

/// The limits on changes through the links: a rate per link (keyed by series: a rotated link
/// shares its series' allowance), and one change at a time, so concurrent posts cannot overrun
/// the cap on open topics between its check and the insert.
pub(super) struct LinkLimits {
    rate: DefaultKeyedRateLimiter<i64>,
    pub(super) one_at_a_time: tokio::sync::Mutex<()>,
}

impl LinkLimits {
    fn new(posts_per_minute: u32) -> Self {
        let n = NonZeroU32::new(posts_per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            rate: RateLimiter::keyed(Quota::per_minute(n)),
            one_at_a_time: tokio::sync::Mutex::new(()),
        }
    }

    /// `Some(wait)` when the link of `series` has used its allowance.
    pub(super) fn over(&self, series: i64) -> Option<Duration> {
        self.rate
            .check_key(&series)
            .err()
            .map(|not_until| not_until.wait_time_from(self.rate.clock().now()))
    }
}
