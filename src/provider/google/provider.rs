//! Google Calendar behind `provider::CalendarProvider`: a session is the account's client (kept
//! across passes with its access token and request budget); it fetches with events.list and the
//! stored sync token (one request when nothing changed; 410 -> a full listing), reads the next
//! instance's id and etag with events.instances, writes with a PATCH under that etag
//! (`sendUpdates=none`), and keeps push channels open after a pass.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::warn;

use super::api::GoogleApi;
use super::client::{
    EventListing, GoogleClient, GoogleError, GoogleEvent, RequestBudget, RetryPolicy, SyncMode,
    TokenError,
};
use super::convert;
use super::oauth::{self, OAuthSettings, RefreshingTokens};
use crate::agenda::Format;
use crate::config::{Config, GoogleConfig};
use crate::model::{EmailAddress, Owner};
use crate::provider::{
    CacheSink, CalendarProvider, Current, Loaded, Prepared, ProviderError, Read, Session, Target,
    Written, calendar_tz,
};
use crate::provider::{Found, Fut, Res, Sink};
use crate::secrets::Keyring;
use crate::store::{Account, CachedEvent, Calendar, Provider, Store};

/// The non-secret settings of a Google account, stored as JSON in `accounts.settings`. The
/// credentials column holds the refresh token, encrypted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct GoogleSettings {
    /// Every address the calendar owner is known by (the primary calendar's id, plus `--owner`).
    pub owner_emails: Vec<String>,
    /// The open push channel of each calendar (by calendar row id), when `server.public_url` is an https URL.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub channels: std::collections::BTreeMap<String, PushChannel>,
    /// When the stored grant was given (connect or reconnect); absent on accounts connected
    /// before it was recorded, whose grant dates from the account's creation at the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_issued_at: Option<DateTime<Utc>>,
}

/// `invalid_grant` about a week after the grant was given: what Google does to the refresh
/// tokens of an OAuth app left in "Testing" status (they expire after 7 days), said with the
/// fix. Another `invalid_grant` keeps its own message.
#[derive(Debug, thiserror::Error)]
#[error(
    "Google refused this account's grant (invalid_grant) {days} days after it was given: the \
     OAuth app is most likely in \"Testing\" status, whose refresh tokens Google expires after 7 \
     days; publish it (Google Cloud console > OAuth consent screen > Publish app, status \"In \
     production\"), then reconnect the account"
)]
pub(crate) struct TestingGrantExpired {
    days: i64,
}

impl TestingGrantExpired {
    /// The explanation of `e` when it is a refused grant (`invalid_grant`) issued 6 to 8 days
    /// before `now`; `e` itself otherwise.
    pub(crate) fn explain(
        e: ProviderError,
        issued_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> ProviderError {
        let days = (now - issued_at).num_days();
        match e {
            ProviderError::Unauthorized(cause)
                if (6..=8).contains(&days)
                    && matches!(
                        cause.downcast_ref::<GoogleError>(),
                        Some(GoogleError::Token(TokenError::Revoked(_)))
                    ) =>
            {
                ProviderError::Unauthorized(Box::new(TestingGrantExpired { days }))
            }
            other => other,
        }
    }
}

/// A push channel (events.watch) of one calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PushChannel {
    pub id: String,
    pub resource_id: String,
    pub expires_at: DateTime<Utc>,
    /// SHA-256 (hex) of the channel's token: enough to check a notification, not to forge one.
    pub token_sha256: String,
}

impl PushChannel {
    /// Whether a notification's `X-Goog-Channel-Token` is this channel's.
    pub(crate) fn token_matches(&self, token: &str) -> bool {
        hex::encode(Sha256::digest(token.as_bytes())) == self.token_sha256
    }
}

/// How long we ask a channel to live (Google caps events channels at about a week).
const CHANNEL_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// A channel is renewed when it has less than this left.
const CHANNEL_RENEW_BEFORE: chrono::Duration = chrono::Duration::hours(24);

impl GoogleSettings {
    pub(crate) fn from_account(a: &Account) -> Result<Self, ProviderError> {
        serde_json::from_value(a.settings.clone()).map_err(|e| {
            ProviderError::internal(format!(
                "account {}: stored settings are unreadable: {e}",
                a.id
            ))
        })
    }

    /// The owner: the stored addresses, plus those Google marks `self` on these events.
    pub(crate) fn owner(&self, events: &[GoogleEvent]) -> Owner {
        let mut emails: Vec<EmailAddress> = self
            .owner_emails
            .iter()
            .filter_map(|e| EmailAddress::parse(e))
            .collect();
        emails.extend(convert::self_emails(events));
        emails.sort();
        emails.dedup();
        Owner::new(emails)
    }
}

/// The OAuth settings from `[google]`.
pub(crate) fn oauth_settings(cfg: &GoogleConfig) -> OAuthSettings {
    use secrecy::ExposeSecret;
    let secret = cfg.client_secret.expose_secret();
    OAuthSettings {
        client_id: cfg.client_id.clone(),
        client_secret: (!secret.is_empty()).then(|| cfg.client_secret.clone()),
        auth_url: cfg.auth_url.clone(),
        token_url: cfg.token_url.clone(),
    }
}

impl From<GoogleError> for ProviderError {
    /// A refusal about one event (4xx, an answer that cannot be read) stays with its series;
    /// Google down, rate limited or the grant gone is the whole account's.
    fn from(e: GoogleError) -> Self {
        let kind = e.kind();
        match e {
            // invalid_grant: the user revoked us or the grant expired; only a reconnect helps.
            GoogleError::Token(TokenError::Revoked(_)) => ProviderError::Unauthorized(Box::new(e)),
            // 408 and 429 say "later", not "never": the whole pass is retried with backoff.
            GoogleError::Status { status, .. }
                if (400..500).contains(&status) && status != 408 && status != 429 =>
            {
                ProviderError::resource(kind, e)
            }
            GoogleError::NotFound { .. }
            | GoogleError::Json { .. }
            | GoogleError::TooLarge { .. }
            | GoogleError::Conflict { .. } => ProviderError::resource(kind, e),
            other => ProviderError::transient(kind, other),
        }
    }
}

/// The Google provider: one client per account, kept across passes.
pub(crate) struct Google {
    pub keyring: Arc<Keyring>,
    pub config: Arc<Config>,
    /// How rate limits and 5xx are retried (tests shorten the waits).
    pub retry: RetryPolicy,
    /// One client per account, kept across passes: its access token is reused until it nears
    /// expiry, and its request budget spans passes. Keyed by the encrypted refresh token, so a
    /// reconnect (a new grant) gets a new client.
    clients: Mutex<HashMap<i64, (Vec<u8>, GoogleClient)>>,
    /// (API, token endpoint) HTTP clients shared by every account's client, made at first use.
    http: std::sync::OnceLock<(reqwest::Client, reqwest::Client)>,
}

impl Google {
    pub(crate) fn new(keyring: Arc<Keyring>, config: Arc<Config>) -> Self {
        Self {
            keyring,
            config,
            retry: RetryPolicy::default(),
            clients: Mutex::new(HashMap::new()),
            http: std::sync::OnceLock::new(),
        }
    }

    /// The account's client (kept across passes) and its settings.
    pub(crate) fn client_for(
        &self,
        account: &Account,
    ) -> Result<(GoogleClient, GoogleSettings), ProviderError> {
        let settings = GoogleSettings::from_account(account)?;
        let g = &self.config.google;
        crate::provider::netcheck::check_static(&g.api_base, self.config.network.allow_http)
            .map_err(|e| {
                ProviderError::transient("refused_url", format!("google.api_base: {e}"))
            })?;
        let blob = account.credentials.clone().ok_or_else(|| {
            ProviderError::Unauthorized("no stored Google grant: connect the account again".into())
        })?;
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((b, c)) = clients.get(&account.id)
            && *b == blob
        {
            return Ok((c.clone(), settings));
        }
        let refresh_token = self
            .keyring
            .decrypt(&blob)
            .map_err(ProviderError::internal)?;
        let (api_http, token_http) = self.shared_http()?;
        // Token lifetimes are real time, whatever `--now` says.
        let tokens = RefreshingTokens::new(
            oauth_settings(g),
            token_http,
            refresh_token,
            Arc::new(crate::clock::SystemClock),
        );
        let client = GoogleClient::with_http(api_http, g.api_base.clone(), Arc::new(tokens))
            .with_retry(self.retry)
            .with_budget(RequestBudget {
                max: g.requests_per_minute as usize,
                per: Duration::from_secs(60),
            });
        clients.insert(account.id, (blob, client.clone()));
        Ok((client, settings))
    }

    /// The HTTP clients every account shares (reqwest clients are cheap to clone).
    fn shared_http(&self) -> Result<(reqwest::Client, reqwest::Client), ProviderError> {
        if let Some(h) = self.http.get() {
            return Ok(h.clone());
        }
        let timeout = Duration::from_secs(self.config.sync.request_timeout_secs);
        let api = GoogleClient::http(timeout).map_err(ProviderError::internal)?;
        let token = oauth::http_client(timeout).map_err(ProviderError::internal)?;
        Ok(self.http.get_or_init(|| (api, token)).clone())
    }
}

/// The cached master and exceptions of one series, as Google events.
fn cached_events(cached: &[CachedEvent]) -> Result<Vec<GoogleEvent>, ProviderError> {
    cached
        .iter()
        .map(|r| {
            serde_json::from_str::<GoogleEvent>(&r.raw).map_err(|e| {
                ProviderError::resource(
                    "unreadable",
                    format!("cached event {} cannot be read: {e}", r.remote_id),
                )
            })
        })
        .collect()
}

impl CalendarProvider for Google {
    fn kind(&self) -> Provider {
        Provider::Google
    }

    fn format(&self) -> Format {
        Format::GoogleHtml
    }

    fn load_series(&self, account: &Account, cal: &Calendar, cached: Vec<CachedEvent>) -> Found {
        load_series(&self.config, account, cal, cached)
    }

    fn open(&self, account: &Account) -> Result<Box<dyn Session>, ProviderError> {
        let (client, settings) = self.client_for(account)?;
        let grant_issued_at = settings.grant_issued_at.unwrap_or(account.created_at);
        Ok(session(
            Box::new(client),
            settings,
            self.config.clone(),
            grant_issued_at,
        ))
    }
}

/// The series a Google calendar's cached events (a master and its exceptions) hold.
pub(crate) fn load_series(
    config: &Config,
    account: &Account,
    cal: &Calendar,
    cached: Vec<CachedEvent>,
) -> Found {
    let Some(uid) = cached.first().map(|c| c.uid.clone()) else {
        return Ok(None);
    };
    let calendar_tz = calendar_tz(cal, config.agenda.default_timezone);
    let settings = GoogleSettings::from_account(account)?;
    let events = cached_events(&cached)?;
    let (all, errors) = convert::series_from_events(&events, Some(calendar_tz));
    for e in errors {
        warn!(account = account.id, series = %uid, error = %e, "event skipped");
    }
    let Some(series) = all.into_iter().find(|s| s.uid == uid && s.master.is_some()) else {
        return Ok(None);
    };
    Ok(Some(Loaded {
        series,
        tz: calendar_tz,
        owner: settings.owner(&events),
        remote_id: uid.to_string(),
        cached,
    }))
}

/// A session over any [`GoogleApi`]: the HTTP client, or the simulator's calendar.
pub(crate) fn session(
    client: Box<dyn GoogleApi>,
    settings: GoogleSettings,
    config: Arc<Config>,
    grant_issued_at: DateTime<Utc>,
) -> Box<dyn Session> {
    Box::new(GoogleSession {
        before: client.request_count(),
        grant_issued_at,
        client,
        settings,
        config,
    })
}

/// Events missing from a full listing that are asked for one by one before they are taken as
/// deleted.
const MAX_CONFIRMED: usize = 50;

struct GoogleSession {
    client: Box<dyn GoogleApi>,
    settings: GoogleSettings,
    config: Arc<Config>,
    /// The client's request count when the session opened (the client outlives it).
    before: u64,
    /// When the account's grant was given: an `invalid_grant` a week later is explained.
    grant_issued_at: DateTime<Utc>,
}

impl GoogleSession {
    /// With `server.public_url` an https URL, keeps one push channel open per calendar,
    /// renewed a day before it expires (real time: Google's clock, not `--now`). A channel that
    /// cannot be opened is logged and polling goes on.
    async fn ensure_channels(&self, store: &Store, account: &Account, calendars: &[Calendar]) {
        let client = self.client.as_ref();
        let mut settings = self.settings.clone();
        let Some(push) = self.config.server.public_https_base() else {
            return;
        };
        let address = format!("{push}/webhooks/google");
        let real_now = Utc::now();
        let mut changed = false;
        for cal in calendars.iter().filter(|c| c.enabled) {
            let key = cal.id.to_string();
            if settings
                .channels
                .get(&key)
                .is_some_and(|c| c.expires_at - real_now > CHANNEL_RENEW_BEFORE)
            {
                continue;
            }
            let id = hex::encode(rand::random::<[u8; 16]>());
            let token = hex::encode(rand::random::<[u8; 32]>());
            let secret = secrecy::SecretString::from(token.clone());
            match client
                .watch(&cal.remote_id, &id, &address, &secret, CHANNEL_TTL)
                .await
            {
                Ok(w) => {
                    let ttl = chrono::Duration::from_std(CHANNEL_TTL).unwrap_or_default();
                    let old = settings.channels.insert(
                        key,
                        PushChannel {
                            id,
                            resource_id: w.resource_id,
                            expires_at: w.expires_at.unwrap_or(real_now + ttl),
                            token_sha256: hex::encode(Sha256::digest(token.as_bytes())),
                        },
                    );
                    changed = true;
                    // The new channel is open: the old one can go (no gap in between).
                    if let Some(old) = old
                        && let Err(e) = client.stop_channel(&old.id, &old.resource_id).await
                    {
                        warn!(calendar = cal.id, error = %e, "old push channel not stopped; it expires");
                    }
                }
                Err(e) => {
                    warn!(calendar = cal.id, error = %e, "push channel not opened; polling goes on");
                }
            }
        }
        if changed {
            let value = serde_json::to_value(&settings).expect("settings serialize");
            if let Err(e) = store.set_account_settings(account.id, &value).await {
                warn!(account = account.id, error = %e, "cannot record the push channels");
            }
        }
    }
}

impl GoogleSession {
    /// `e` as the account should show it at `now` (see [`TestingGrantExpired`]).
    fn explain(&self, e: ProviderError, now: DateTime<Utc>) -> ProviderError {
        TestingGrantExpired::explain(e, self.grant_issued_at, now)
    }

    async fn fetch_events(&self, cal: &Calendar, cache: Sink<'_>) -> Res<()> {
        let tz = calendar_tz(cal, self.config.agenda.default_timezone);
        if let Some(token) = cal.sync_token.clone() {
            match self
                .client
                .list_events(&cal.remote_id, &SyncMode::Incremental(token))
                .await
            {
                Ok(listing) => return apply_changes(cache, cal, listing, tz).await,
                Err(GoogleError::FullSyncRequired { .. }) => {
                    warn!(
                        calendar = cal.id,
                        "Google invalidated the sync token; full sync"
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut listing = self
            .client
            .list_events(&cal.remote_id, &SyncMode::Full)
            .await?;
        self.confirm_missing(cal, &mut listing, cache).await?;
        apply_full(cache, listing, tz).await
    }

    /// Events the cache holds that a full listing left out are each asked for (events.get)
    /// before they are taken as deleted: one still there goes back into the listing, and so
    /// does a cancelled exception (one meeting of a series called off), which a full listing
    /// names too: dropping it from the cache brings the meeting back. A listing one event short
    /// (the seeded simulator found it) made the daemon forget a 1:1 for good, since incremental
    /// listings only name what changes; leaving out a cancellation (seed 92394) made it take
    /// the cancelled meeting for the next one. An empty listing is the cache's guard's
    /// (guarantee 7); beyond [`MAX_CONFIRMED`] the rest are taken as deleted.
    async fn confirm_missing(
        &self,
        cal: &Calendar,
        listing: &mut EventListing,
        cache: &mut dyn CacheSink,
    ) -> Res<()> {
        if listing.events.is_empty()
            || crate::sim::mutation::on(crate::sim::Mutation::TrustShortListing)
        {
            return Ok(());
        }
        let present: HashSet<&str> = listing.events.iter().map(|e| e.id.as_str()).collect();
        let mut missing: Vec<String> = cache
            .etags()
            .await?
            .into_keys()
            .filter(|id| !present.contains(id.as_str()))
            .collect();
        // Sorted, a master comes before its exceptions (`ID_YYYYMMDDTHHMMSSZ`).
        missing.sort();
        for id in missing.into_iter().take(MAX_CONFIRMED) {
            match self.client.get(&cal.remote_id, &id).await {
                Ok(ev) if !ev.is_cancelled() => listing.events.push(ev),
                // A cancelled meeting of a series still listed.
                Ok(ev)
                    if !crate::sim::mutation::on(crate::sim::Mutation::ForgetCancellations)
                        && ev.recurring_event_id.as_deref().is_some_and(|master| {
                            listing
                                .events
                                .iter()
                                .any(|e| e.id == master && !e.is_cancelled())
                        }) =>
                {
                    listing.events.push(ev)
                }
                Ok(_) | Err(GoogleError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The instance `occ` names, from events.instances.
    async fn find_instance(&self, occ: Target<'_>) -> Res<GoogleEvent> {
        let (cal, now) = (occ.calendar, occ.now);
        // The instance itself: its own id and etag (Google creates the exception on PATCH).
        let lookahead = i64::from(self.config.agenda.lookahead_days) + 1;
        let instances = self
            .client
            .instances(
                &cal.remote_id,
                occ.remote_id,
                now - chrono::Duration::days(1),
                now + chrono::Duration::days(lookahead),
            )
            .await?;
        let found = instances.into_iter().find(|i| {
            instance_occurrence(i, occ.tz).is_some_and(|o| o.original_start == occ.original_start)
        });
        found.ok_or_else(|| {
            ProviderError::resource(
                "not_found",
                format!(
                    "Google lists no instance originally at {}",
                    occ.original_start.to_rfc3339()
                ),
            )
        })
    }

    async fn read_instance(&self, occ: Target<'_>) -> Res<Read> {
        let cal = occ.calendar;
        let instance = if occ.loaded.is_some() {
            self.find_instance(occ).await?
        } else {
            // A restore: the instance the revision names (an exception since that write).
            self.client.get(&cal.remote_id, occ.remote_id).await?
        };
        if instance.is_cancelled() && occ.loaded.is_some() {
            return Ok(Read::Gone);
        }
        // Moved into the past since the pass planned (a person moved it between the listing
        // and this read; its etag is the moved one's, so the write would go through): plan
        // again (seed 142738 wrote an agenda into a meeting moved to earlier that day).
        let ended = || instance_occurrence(&instance, occ.tz).is_some_and(|o| o.end <= occ.now);
        if occ.loaded.is_some()
            && !crate::sim::mutation::on(crate::sim::Mutation::WriteIntoAMeetingMovedPast)
            && ended()
        {
            return Ok(Read::Stale { edited: false });
        }
        if instance.etag.is_none() {
            return Err(ProviderError::resource(
                "no_etag",
                "Google gives no etag for the instance",
            ));
        }
        Ok(Read::Ready(Current {
            cancelled: instance.is_cancelled(),
            remote_id: instance.id,
            etag: instance.etag,
            description: instance.description,
            state: Box::new(()),
        }))
    }

    async fn patch(&self, occ: Target<'_>, current: &Current, p: Prepared) -> Res<Written> {
        let description: String = p.take()?;
        let etag = current.etag_to_write()?;
        match self
            .client
            .patch_description(
                &occ.calendar.remote_id,
                &current.remote_id,
                &etag,
                &description,
            )
            .await
        {
            Ok(stored) => Ok(Written::Stored(to_cached(&stored, occ.tz))),
            // The client sent the PATCH again after a 5xx: the first try landed, unanswered.
            Err(GoogleError::Conflict {
                after_server_error: true,
                ..
            }) if !crate::sim::mutation::on(crate::sim::Mutation::UncountedLostWrites) => {
                Ok(Written::MaybeLanded)
            }
            Err(GoogleError::Conflict { .. }) => Ok(Written::Conflict),
            Err(e) => Err(e.into()),
        }
    }
}

impl Session for GoogleSession {
    fn fetch<'a>(&'a self, cal: &'a Calendar, now: DateTime<Utc>, cache: Sink<'a>) -> Fut<'a, ()> {
        Box::pin(async move {
            let fetched = self.fetch_events(cal, cache).await;
            fetched.map_err(|e| self.explain(e, now))
        })
    }

    /// Google lists what changed since the token: a fetch. An incremental listing names only
    /// what changed, so an exception the cache lacks (a listing left it out) would stay stale
    /// however often it is read: the instance as Google has it goes into the cache when the
    /// cache holds no exception for it and its text differs from the series' (the seeded
    /// simulator found a 1:1 that was never written again after a short first listing), when
    /// it is cancelled and the cache does not hold it so, or when it was moved and the cache
    /// does not hold it where it is now.
    fn reread<'a>(&'a self, occ: Target<'a>, cache: Sink<'a>) -> Fut<'a, ()> {
        Box::pin(async move {
            self.fetch_events(occ.calendar, &mut *cache)
                .await
                .map_err(|e| self.explain(e, occ.now))?;
            let Some(loaded) = occ.loaded else {
                return Ok(());
            };
            if crate::sim::mutation::on(crate::sim::Mutation::TrustShortListing) {
                return Ok(());
            }
            let instance = self
                .find_instance(occ)
                .await
                .map_err(|e| self.explain(e, occ.now))?;
            let cached = cache.by_uid(&loaded.series.uid).await?;
            let master = loaded.series.master.as_ref();
            let held = cached.iter().find(|c| c.remote_id == instance.id);
            let missing = if instance.is_cancelled() {
                if crate::sim::mutation::on(crate::sim::Mutation::ForgetCancellations) {
                    return Ok(());
                }
                // A cancellation the listings never named (seed 92394).
                held.is_none_or(|c| c.status != "cancelled")
            } else {
                // Where it is now, when it was moved.
                let start = instance_occurrence(&instance, occ.tz)
                    .map(|o| o.start)
                    .filter(|start| *start != occ.original_start)
                    .filter(|_| {
                        !crate::sim::mutation::on(crate::sim::Mutation::WriteIntoAMeetingMovedPast)
                    });
                match held {
                    // A move the listings never named (a read found the meeting moved into the
                    // past: seed 142738's kind, after a short listing).
                    Some(c) => start.is_some() && c.start_at != start,
                    None => {
                        start.is_some()
                            || master.map(|m| &m.description) != Some(&instance.description)
                    }
                }
            };
            if missing {
                cache.put(to_cached(&instance, occ.tz), Vec::new()).await?;
                cache.changed(loaded.series.uid.clone());
            }
            Ok(())
        })
    }

    fn read<'a>(&'a self, occ: Target<'a>) -> Fut<'a, Read> {
        Box::pin(async move {
            let read = self.read_instance(occ).await;
            read.map_err(|e| self.explain(e, occ.now))
        })
    }

    fn prepare(&self, _: Target<'_>, _: &Current, description: &str) -> Res<Prepared> {
        Ok(Prepared::new(description.to_string()))
    }

    fn write<'a>(&'a self, occ: Target<'a>, current: &'a Current, p: Prepared) -> Fut<'a, Written> {
        Box::pin(async move {
            let written = self.patch(occ, current, p).await;
            written.map_err(|e| self.explain(e, occ.now))
        })
    }

    fn after_pass<'a>(
        &'a self,
        store: &'a Store,
        account: &'a Account,
        calendars: &'a [Calendar],
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.ensure_channels(store, account, calendars))
    }

    fn requests(&self) -> u64 {
        self.client.request_count() - self.before
    }
}

/// An incremental listing: changed events replace their cached copy; a deleted event (a
/// `cancelled` master) leaves the cache with its exceptions; a cancelled exception is kept,
/// since it is what says that one meeting is off.
async fn apply_changes(
    cache: &mut dyn CacheSink,
    cal: &Calendar,
    listing: EventListing,
    tz: Tz,
) -> Result<(), ProviderError> {
    for ev in listing.events.iter().filter(|e| !e.id.is_empty()) {
        if ev.is_cancelled() && ev.recurring_event_id.is_none() {
            for old in cache.by_uid(&ev.id).await? {
                cache.delete(&old.remote_id).await?;
            }
            cache.delete(&ev.id).await?;
            cache.changed(ev.id.clone());
            continue;
        }
        let cached = to_cached(ev, tz);
        cache.changed(cached.uid.clone());
        cache.put(cached, Vec::new()).await?;
    }
    let token = listing.next_sync_token.or(cal.sync_token.clone());
    cache.cursor(token.as_deref(), None, false).await?;
    Ok(())
}

/// A full listing (first pass, or Google said 410): the cache becomes exactly the listing,
/// compared event by event, so a 410 costs no rewrite of what did not change.
async fn apply_full(
    cache: &mut dyn CacheSink,
    listing: EventListing,
    tz: Tz,
) -> Result<(), ProviderError> {
    let cached = cache.etags().await?;
    let present: HashSet<String> = listing.events.iter().map(|e| e.id.clone()).collect();
    if !cache.full_listing(&present).await? {
        return Ok(());
    }
    for ev in listing.events.iter().filter(|e| !e.id.is_empty()) {
        let known = cached.get(&ev.id).cloned().flatten();
        if known.is_some() && known == ev.etag {
            continue;
        }
        let c = to_cached(ev, tz);
        cache.changed(c.uid.clone());
        cache.put(c, Vec::new()).await?;
    }
    cache
        .cursor(listing.next_sync_token.as_deref(), None, true)
        .await?;
    Ok(())
}

/// The occurrence an instance (events.instances) stands for, in `tz`; `None` when it does not
/// read as one.
fn instance_occurrence(i: &GoogleEvent, tz: Tz) -> Option<crate::model::Occurrence> {
    convert::occurrence_from_instance(i, Some(tz))
        .ok()
        .flatten()
}

/// An event as the cache keeps it: `remote_id` its own id, `uid` its series' master id, `raw`
/// its JSON.
pub(crate) fn to_cached(ev: &GoogleEvent, calendar_tz: Tz) -> CachedEvent {
    let raw = serde_json::to_string(ev).expect("a GoogleEvent serializes");
    let start_at = convert::event_from_google(ev, Some(calendar_tz))
        .ok()
        .and_then(|e| e.start)
        .map(|s| s.to_utc(calendar_tz));
    CachedEvent {
        remote_id: ev.id.clone(),
        uid: ev
            .recurring_event_id
            .clone()
            .unwrap_or_else(|| ev.id.clone()),
        etag: ev.etag.clone(),
        payload_hash: crate::store::payload_hash(raw.as_bytes()),
        summary: ev.summary.clone(),
        start_at,
        status: ev.status.clone().unwrap_or_else(|| "confirmed".into()),
        raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exception_is_cached_under_its_own_id_and_its_masters_series() {
        let ev: GoogleEvent = serde_json::from_value(serde_json::json!({
            "id": "abc_20260330T080000Z", "etag": "\"7\"", "status": "cancelled",
            "recurringEventId": "abc",
            "originalStartTime": {"dateTime": "2026-03-30T10:00:00+02:00",
                                  "timeZone": "Europe/Berlin"}
        }))
        .unwrap();
        let c = to_cached(&ev, chrono_tz::Europe::Berlin);
        assert_eq!(
            (c.remote_id.as_str(), c.uid.as_str(), c.status.as_str()),
            ("abc_20260330T080000Z", "abc", "cancelled")
        );
        assert_eq!(c.etag.as_deref(), Some("\"7\""));
        let back: GoogleEvent = serde_json::from_str(&c.raw).unwrap();
        assert_eq!(back, ev, "the cached JSON reads back as the same event");
    }

    #[test]
    fn settings_without_channels_still_read_and_a_channel_checks_its_token() {
        let s: GoogleSettings =
            serde_json::from_value(serde_json::json!({"owner_emails": ["a@example.com"]})).unwrap();
        assert!(s.channels.is_empty());
        let c = PushChannel {
            id: "c1".into(),
            resource_id: "r".into(),
            expires_at: Utc::now(),
            token_sha256: hex::encode(Sha256::digest(b"secret-token")),
        };
        assert!(c.token_matches("secret-token"));
        assert!(!c.token_matches("secret-token "));
        assert!(!c.token_matches(""));
    }
}
