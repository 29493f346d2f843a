//! One pass over a Google account: bring each calendar's cache up to date (events.list with the
//! stored sync token: one request when nothing changed), re-detect the series that changed, then
//! let the agenda step work on every tracked 1:1 and PATCH the next instance's description under
//! its etag.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use super::client::{
    EventListing, GoogleClient, GoogleError, GoogleEvent, RequestBudget, RetryPolicy, SyncMode,
    TokenError,
};
use super::convert;
use super::oauth::{self, OAuthSettings, RefreshingTokens};
use crate::agenda::{Format, Template};
use crate::config::{Config, GoogleConfig};
use crate::detect::{DetectRules, detect};
use crate::model::{EmailAddress, Owner};
use crate::provider::caldav::pass::{manager_name, series_row};
use crate::secrets::Keyring;
use crate::store::{Account, CachedEvent, Calendar, NewRevision, RunStats, SeriesRow, Store};
use crate::sync::series::{NextAction, SeriesError, SeriesStep, show_dry_run};
use crate::sync::{AccountSyncer, PassError, previews};

/// The non-secret settings of a Google account, stored as JSON in `accounts.settings`. The
/// credentials column holds the refresh token, encrypted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoogleSettings {
    /// Every address the calendar owner is known by (the primary calendar's id, plus `--owner`).
    pub owner_emails: Vec<String>,
    /// The open push channel of each calendar (by calendar row id), when `google.push_url` is set.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub channels: std::collections::BTreeMap<String, PushChannel>,
}

/// A push channel (events.watch) of one calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushChannel {
    pub id: String,
    pub resource_id: String,
    pub expires_at: DateTime<Utc>,
    /// SHA-256 (hex) of the channel's token: enough to check a notification, not to forge one.
    pub token_sha256: String,
}

impl PushChannel {
    /// Whether a notification's `X-Goog-Channel-Token` is this channel's.
    pub fn token_matches(&self, token: &str) -> bool {
        hex::encode(Sha256::digest(token.as_bytes())) == self.token_sha256
    }
}

/// How long we ask a channel to live (Google caps events channels at about a week).
const CHANNEL_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// A channel is renewed when it has less than this left.
const CHANNEL_RENEW_BEFORE: chrono::Duration = chrono::Duration::hours(24);

impl GoogleSettings {
    pub fn from_account(a: &Account) -> Result<Self, PassError> {
        serde_json::from_value(a.settings.clone()).map_err(|e| PassError::Transient {
            kind: "internal",
            message: format!("account {}: stored settings are unreadable: {e}", a.id),
        })
    }

    /// The owner: the stored addresses, plus those Google marks `self` on these events.
    pub fn owner(&self, events: &[GoogleEvent]) -> Owner {
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
pub fn oauth_settings(cfg: &GoogleConfig) -> OAuthSettings {
    use secrecy::ExposeSecret;
    let secret = cfg.client_secret.expose_secret();
    OAuthSettings {
        client_id: cfg.client_id.clone(),
        client_secret: (!secret.is_empty()).then(|| cfg.client_secret.clone()),
        auth_url: cfg.auth_url.clone(),
        token_url: cfg.token_url.clone(),
    }
}

pub struct GoogleSyncer {
    pub store: Store,
    pub keyring: Arc<Keyring>,
    pub config: Arc<Config>,
    pub rules: Arc<DetectRules>,
    pub template: Arc<Template>,
    /// Write nothing into calendars; print each description a write would put there.
    pub dry_run: bool,
    /// Write nothing into calendars, started or not, and print nothing: `connect`'s own pass,
    /// which shows what it found afterwards (a reconnect writes nothing either).
    pub preview: bool,
    /// How rate limits and 5xx are retried (tests shorten the waits).
    pub retry: RetryPolicy,
    /// One client per account, kept across passes: its access token is reused until it nears
    /// expiry, and its request budget spans passes. Keyed by the encrypted refresh token, so a
    /// reconnect (a new grant) gets a new client.
    clients: Mutex<HashMap<i64, (Vec<u8>, GoogleClient)>>,
    /// (API, token endpoint) HTTP clients shared by every account's client, made at first use.
    http: std::sync::OnceLock<(reqwest::Client, reqwest::Client)>,
}

fn internal(e: impl std::fmt::Display) -> PassError {
    PassError::Transient {
        kind: "internal",
        message: e.to_string(),
    }
}

impl From<GoogleError> for PassError {
    fn from(e: GoogleError) -> Self {
        match e {
            // invalid_grant: the user revoked us or the grant expired; only a reconnect helps.
            GoogleError::Token(TokenError::Revoked(m)) => PassError::Unauthorized(m),
            other => PassError::Transient {
                kind: other.kind(),
                message: other.to_string(),
            },
        }
    }
}

/// How often one pass re-reads and retries a write refused as stale (412 or a changed instance).
const MAX_CONFLICT_RETRIES: usize = 3;

/// Why one series' agenda step stopped: a problem of that series (recorded on it, the pass goes
/// on) or of the whole account (Google down, rate limited, token gone: the pass stops).
enum AgendaFailure {
    Series(String),
    Pass(PassError),
}

impl AgendaFailure {
    fn internal(e: impl std::fmt::Display) -> Self {
        AgendaFailure::Pass(internal(e))
    }

    fn google(e: GoogleError) -> Self {
        match e {
            GoogleError::Status { status, .. }
                if (400..500).contains(&status) && status != 408 && status != 429 =>
            {
                AgendaFailure::Series(e.to_string())
            }
            GoogleError::NotFound { .. }
            | GoogleError::Json { .. }
            | GoogleError::TooLarge { .. }
            | GoogleError::Conflict { .. } => AgendaFailure::Series(e.to_string()),
            other => AgendaFailure::Pass(other.into()),
        }
    }
}

/// What bringing one calendar's cache up to date did.
#[derive(Debug, Default)]
struct FetchReport {
    /// Series (master ids) with a changed master or exception.
    changed: BTreeSet<String>,
    deleted: usize,
    full: bool,
    /// A full listing came back empty while we hold events: kept as is (DESIGN guarantee 7).
    suspicious_empty: bool,
}

/// An event as the cache keeps it: `remote_id` its own id, `uid` its series' master id, `raw`
/// its JSON.
pub fn to_cached(ev: &GoogleEvent, calendar_tz: Tz) -> CachedEvent {
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

impl GoogleSyncer {
    pub fn new(
        store: Store,
        keyring: Arc<Keyring>,
        config: Arc<Config>,
        rules: Arc<DetectRules>,
        template: Arc<Template>,
    ) -> Self {
        Self {
            store,
            keyring,
            config,
            rules,
            template,
            dry_run: false,
            preview: false,
            retry: RetryPolicy::default(),
            clients: Mutex::new(HashMap::new()),
            http: std::sync::OnceLock::new(),
        }
    }

    /// The account's client (kept across passes) and its settings.
    pub fn client_for(
        &self,
        account: &Account,
    ) -> Result<(GoogleClient, GoogleSettings), PassError> {
        let settings = GoogleSettings::from_account(account)?;
        let g = &self.config.google;
        crate::provider::netcheck::check_static(&g.api_base, self.config.network.allow_http)
            .map_err(|e| PassError::Transient {
                kind: "refused_url",
                message: format!("google.api_base: {e}"),
            })?;
        let blob = account.credentials.clone().ok_or_else(|| {
            PassError::Unauthorized("no stored Google grant: connect the account again".into())
        })?;
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((b, c)) = clients.get(&account.id)
            && *b == blob
        {
            return Ok((c.clone(), settings));
        }
        let refresh_token = self.keyring.decrypt(&blob).map_err(internal)?;
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
    fn shared_http(&self) -> Result<(reqwest::Client, reqwest::Client), PassError> {
        if let Some(h) = self.http.get() {
            return Ok(h.clone());
        }
        let timeout = Duration::from_secs(self.config.sync.request_timeout_secs);
        let api = GoogleClient::http(timeout).map_err(internal)?;
        let token = oauth::http_client(timeout).map_err(internal)?;
        Ok(self.http.get_or_init(|| (api, token)).clone())
    }

    fn calendar_tz(&self, cal: &Calendar) -> Tz {
        cal.timezone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(self.config.agenda.default_timezone)
    }

    async fn run(&self, account: &Account, now: DateTime<Utc>) -> Result<RunStats, PassError> {
        let (client, settings) = self.client_for(account)?;
        let before = client.request_count();
        let mut stats = RunStats {
            accounts: 1,
            ..RunStats::default()
        };
        let calendars = self
            .store
            .list_calendars(account.id)
            .await
            .map_err(internal)?;
        let preview = previews(self.dry_run || self.preview, account);
        let mut failure: Option<PassError> = None;
        for cal in calendars.iter().filter(|c| c.enabled) {
            // One calendar's trouble is recorded and the account's other calendars go on; a
            // revoked grant stops the pass (every calendar would fail the same way).
            if let Err(e) = self
                .calendar_pass(&client, cal, &settings, now, preview, &mut stats)
                .await
            {
                warn!(account = account.id, calendar = cal.id, error = %e, "calendar pass failed");
                let stop = matches!(e, PassError::Unauthorized(_));
                failure.get_or_insert(e);
                if stop {
                    break;
                }
            }
        }
        if failure.is_none() {
            self.ensure_channels(&client, account, &calendars, settings)
                .await;
        }
        stats.requests = (client.request_count() - before) as i64;
        match failure {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    }

    /// With `google.push_url` set, keeps one push channel open per calendar, renewed a day
    /// before it expires (real time: Google's clock, not `--now`). A channel that cannot be
    /// opened is logged and polling goes on.
    async fn ensure_channels(
        &self,
        client: &GoogleClient,
        account: &Account,
        calendars: &[Calendar],
        mut settings: GoogleSettings,
    ) {
        let push = self.config.google.push_url.trim_end_matches('/');
        if push.is_empty() || self.dry_run {
            return;
        }
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
            if let Err(e) = self.store.set_account_settings(account.id, &value).await {
                warn!(account = account.id, error = %e, "cannot record the push channels");
            }
        }
    }

    async fn calendar_pass(
        &self,
        client: &GoogleClient,
        cal: &Calendar,
        settings: &GoogleSettings,
        now: DateTime<Utc>,
        preview: bool,
        stats: &mut RunStats,
    ) -> Result<(), PassError> {
        let report = self.refresh(client, cal, settings, now).await?;
        stats.events_seen += report.changed.len() as i64;
        if report.suspicious_empty {
            return Err(PassError::Transient {
                kind: "empty_listing",
                message: format!(
                    "calendar {} came back empty; nothing was changed",
                    cal.remote_id
                ),
            });
        }
        self.agendas(client, cal, settings, now, preview, stats)
            .await?;
        if !report.changed.is_empty() || report.deleted > 0 {
            info!(
                account = cal.account_id,
                calendar = cal.id,
                changed = report.changed.len(),
                deleted = report.deleted,
                full = report.full,
                "calendar updated"
            );
        }
        Ok(())
    }

    /// Brings the cache of `cal` up to date and re-detects the series that changed.
    async fn refresh(
        &self,
        client: &GoogleClient,
        cal: &Calendar,
        settings: &GoogleSettings,
        now: DateTime<Utc>,
    ) -> Result<FetchReport, PassError> {
        let report = self.fetch(client, cal, now).await?;
        for uid in &report.changed {
            if let Err(e) = self.redetect(cal, uid, settings, now).await {
                warn!(calendar = cal.id, series = %uid, error = %e, "detection failed");
            }
        }
        Ok(report)
    }

    async fn fetch(
        &self,
        client: &GoogleClient,
        cal: &Calendar,
        now: DateTime<Utc>,
    ) -> Result<FetchReport, PassError> {
        // The stored calendar row may be older than a token this pass already advanced.
        let cal = self.store.get_calendar(cal.id).await.map_err(internal)?;
        if let Some(token) = cal.sync_token.clone() {
            match client
                .list_events(&cal.remote_id, &SyncMode::Incremental(token))
                .await
            {
                Ok(listing) => return self.apply_changes(&cal, listing, now).await,
                Err(GoogleError::FullSyncRequired { .. }) => {
                    warn!(
                        calendar = cal.id,
                        "Google invalidated the sync token; full sync"
                    );
                }
                Err(e) => return Err(e.into()),
            }
        }
        let listing = client.list_events(&cal.remote_id, &SyncMode::Full).await?;
        self.apply_full(&cal, listing, now).await
    }

    /// An incremental listing: changed events replace their cached copy; a deleted event (a
    /// `cancelled` master) leaves the cache with its exceptions; a cancelled exception is kept,
    /// since it is what says that one meeting is off.
    async fn apply_changes(
        &self,
        cal: &Calendar,
        listing: EventListing,
        now: DateTime<Utc>,
    ) -> Result<FetchReport, PassError> {
        let tz = self.calendar_tz(cal);
        let mut report = FetchReport::default();
        for ev in listing.events.iter().filter(|e| !e.id.is_empty()) {
            if ev.is_cancelled() && ev.recurring_event_id.is_none() {
                for old in self
                    .store
                    .events_by_uid(cal.id, &ev.id)
                    .await
                    .map_err(internal)?
                {
                    report.deleted += self
                        .store
                        .delete_event(cal.id, &old.remote_id)
                        .await
                        .map_err(internal)? as usize;
                }
                report.deleted += self
                    .store
                    .delete_event(cal.id, &ev.id)
                    .await
                    .map_err(internal)? as usize;
                report.changed.insert(ev.id.clone());
                continue;
            }
            let cached = to_cached(ev, tz);
            self.store
                .upsert_event(cal.id, &cached, now)
                .await
                .map_err(internal)?;
            report.changed.insert(cached.uid);
        }
        let token = listing.next_sync_token.or(cal.sync_token.clone());
        self.store
            .set_calendar_cursor(cal.id, token.as_deref(), None, None)
            .await
            .map_err(internal)?;
        Ok(report)
    }

    /// A full listing (first pass, or Google said 410): the cache becomes exactly the listing,
    /// compared event by event, so a 410 costs no rewrite of what did not change. An empty
    /// listing while we hold events is not taken as "everything was deleted".
    async fn apply_full(
        &self,
        cal: &Calendar,
        listing: EventListing,
        now: DateTime<Utc>,
    ) -> Result<FetchReport, PassError> {
        let tz = self.calendar_tz(cal);
        let mut report = FetchReport {
            full: true,
            ..FetchReport::default()
        };
        let cached: HashMap<String, Option<String>> = self
            .store
            .event_etags(cal.id)
            .await
            .map_err(internal)?
            .into_iter()
            .collect();
        if listing.events.is_empty() && !cached.is_empty() {
            warn!(
                calendar = cal.id,
                cached = cached.len(),
                "full listing is empty; keeping the cache"
            );
            report.suspicious_empty = true;
            return Ok(report);
        }
        let present: HashSet<&str> = listing.events.iter().map(|e| e.id.as_str()).collect();
        for gone in cached.keys().filter(|k| !present.contains(k.as_str())) {
            if let Some(old) = self.store.get_event(cal.id, gone).await.map_err(internal)? {
                report.changed.insert(old.uid);
            }
            report.deleted += self
                .store
                .delete_event(cal.id, gone)
                .await
                .map_err(internal)? as usize;
        }
        for ev in listing.events.iter().filter(|e| !e.id.is_empty()) {
            let known = cached.get(&ev.id).cloned().flatten();
            if known.is_some() && known == ev.etag {
                continue;
            }
            let c = to_cached(ev, tz);
            self.store
                .upsert_event(cal.id, &c, now)
                .await
                .map_err(internal)?;
            report.changed.insert(c.uid);
        }
        self.store
            .set_calendar_cursor(cal.id, listing.next_sync_token.as_deref(), None, Some(now))
            .await
            .map_err(internal)?;
        Ok(report)
    }

    /// The cached master and exceptions of one series.
    async fn cached_series_events(
        &self,
        cal: &Calendar,
        uid: &str,
    ) -> Result<Vec<GoogleEvent>, AgendaFailure> {
        let rows = self
            .store
            .events_by_uid(cal.id, uid)
            .await
            .map_err(AgendaFailure::internal)?;
        rows.iter()
            .map(|r| {
                serde_json::from_str::<GoogleEvent>(&r.raw).map_err(|e| {
                    AgendaFailure::Series(format!(
                        "cached event {} is unreadable: {e}",
                        r.remote_id
                    ))
                })
            })
            .collect()
    }

    async fn redetect(
        &self,
        cal: &Calendar,
        uid: &str,
        settings: &GoogleSettings,
        now: DateTime<Utc>,
    ) -> Result<(), PassError> {
        let events = match self.cached_series_events(cal, uid).await {
            Ok(e) => e,
            Err(AgendaFailure::Series(m)) => return Err(internal(m)),
            Err(AgendaFailure::Pass(p)) => return Err(p),
        };
        let (series, errors) = convert::series_from_events(&events, Some(self.calendar_tz(cal)));
        for e in errors {
            warn!(calendar = cal.id, error = %e, "event skipped");
        }
        let owner = settings.owner(&events);
        for s in series.iter().filter(|s| s.is_recurring()) {
            let verdict = detect(s, &owner, &self.rules);
            self.store
                .upsert_series(&series_row(cal.id, s, &owner, &verdict), now)
                .await
                .map_err(internal)?;
        }
        Ok(())
    }

    /// Only the agenda step, from the cache as it stands (no listing first): what a pass does
    /// between its read and its writes. Tests use it to put a concurrent edit in that gap.
    pub async fn write_agendas(
        &self,
        account: &Account,
        now: DateTime<Utc>,
    ) -> Result<RunStats, PassError> {
        let (client, settings) = self.client_for(account)?;
        let before = client.request_count();
        let preview = previews(self.dry_run || self.preview, account);
        let mut stats = RunStats {
            accounts: 1,
            ..RunStats::default()
        };
        for cal in self
            .store
            .list_calendars(account.id)
            .await
            .map_err(internal)?
            .iter()
            .filter(|c| c.enabled)
        {
            self.agendas(&client, cal, &settings, now, preview, &mut stats)
                .await?;
        }
        stats.requests = (client.request_count() - before) as i64;
        Ok(stats)
    }

    /// The agenda step for every tracked 1:1 of a calendar; one series' problem is recorded on
    /// that series and the others go on.
    async fn agendas(
        &self,
        client: &GoogleClient,
        cal: &Calendar,
        settings: &GoogleSettings,
        now: DateTime<Utc>,
        preview: bool,
        stats: &mut RunStats,
    ) -> Result<(), PassError> {
        let all = self.store.list_series_in(cal.id).await.map_err(internal)?;
        let tracked = all
            .into_iter()
            .filter(|s| s.calendar_id == cal.id && s.tracked());
        for row in tracked {
            let cap = i64::from(self.config.sync.max_writes_per_pass);
            let may_write = stats.writes < cap;
            let outcome = self
                .agenda_for(client, cal, &row, settings, now, stats, may_write, preview)
                .await;
            let error = match &outcome {
                Err(AgendaFailure::Series(msg)) => Some(msg.clone()),
                _ => None,
            };
            if row.last_error != error {
                self.store
                    .set_series_error(row.id, error.as_deref())
                    .await
                    .map_err(internal)?;
            }
            if let Some(e) = &error {
                warn!(series = row.id, error = %e, "series skipped");
            }
            if let Err(AgendaFailure::Pass(e)) = outcome {
                return Err(e);
            }
        }
        Ok(())
    }

    /// One series: close what ended, absorb and re-render the next occurrence, and PATCH that
    /// instance's description under its etag. An instance that changed since our listing (seen
    /// in events.instances, or a 412 on the PATCH) makes us list the changes, absorb, re-render
    /// and try again.
    #[allow(clippy::too_many_arguments)]
    async fn agenda_for(
        &self,
        client: &GoogleClient,
        cal: &Calendar,
        row: &SeriesRow,
        settings: &GoogleSettings,
        now: DateTime<Utc>,
        stats: &mut RunStats,
        may_write: bool,
        preview: bool,
    ) -> Result<(), AgendaFailure> {
        let tz = self.calendar_tz(cal);
        for attempt in 0..MAX_CONFLICT_RETRIES {
            let events = self.cached_series_events(cal, &row.uid).await?;
            let (all, _) = convert::series_from_events(&events, Some(tz));
            let Some(series) = all
                .into_iter()
                .find(|s| s.uid == row.uid && s.master.is_some())
            else {
                return Ok(()); // The series is gone from the calendar: its history stays.
            };
            let owner = settings.owner(&events);
            let manager = manager_name(&series, &owner);
            let step = SeriesStep {
                store: &self.store,
                cfg: &self.config.agenda,
                template: &self.template,
                format: Format::GoogleHtml,
                manager_name: &manager,
                now,
                read_only: preview,
            };
            let writable = may_write && row.owner_is_organizer;
            let action = step
                .run(row, &series, &row.uid, tz, writable)
                .await
                .map_err(|e| match e {
                    SeriesError::Store(s @ crate::store::StoreError::Corrupt { .. }) => {
                        AgendaFailure::Series(s.to_string())
                    }
                    SeriesError::Store(s) => AgendaFailure::internal(s),
                    other => AgendaFailure::Series(other.to_string()),
                })?;
            let NextAction::Write {
                occurrence_id,
                original_start,
                tz: zone,
                before,
                description,
                block,
            } = action
            else {
                if let NextAction::Refused { why, .. } = action {
                    return Err(AgendaFailure::Series(why));
                }
                return Ok(());
            };
            if preview {
                // A preview of an account not started says nothing here: connect and the web
                // page show it. `sync --dry-run` prints what it would write.
                if self.dry_run {
                    show_dry_run(&row.summary, original_start, zone, &description);
                }
                return Ok(());
            }
            // The instance itself: its own id and etag (Google creates the exception on PATCH).
            let window_end =
                now + chrono::Duration::days(i64::from(self.config.agenda.lookahead_days) + 1);
            let instances = client
                .instances(
                    &cal.remote_id,
                    &row.uid,
                    now - chrono::Duration::days(1),
                    window_end,
                )
                .await
                .map_err(AgendaFailure::google)?;
            let instance = instances.into_iter().find(|i| {
                convert::occurrence_from_instance(i, Some(tz))
                    .ok()
                    .flatten()
                    .is_some_and(|o| o.original_start == original_start)
            });
            let Some(instance) = instance else {
                return Err(AgendaFailure::Series(format!(
                    "Google lists no instance originally at {}",
                    original_start.to_rfc3339()
                )));
            };
            if instance.is_cancelled() {
                return Ok(()); // Cancelled since our listing: the next pass sees it.
            }
            let current = instance.description.clone().unwrap_or_default();
            if current != before.clone().unwrap_or_default() {
                // Edited since our listing: list the changes, absorb them, render again.
                stats.conflicts += 1;
                self.refresh(client, cal, settings, now)
                    .await
                    .map_err(AgendaFailure::Pass)?;
                continue;
            }
            let Some(etag) = instance.etag() else {
                return Err(AgendaFailure::Series(
                    "Google gives no etag for the instance".into(),
                ));
            };
            let revision = NewRevision {
                series_id: Some(row.id),
                occurrence_id: Some(occurrence_id),
                calendar_id: cal.id,
                remote_id: instance.id.clone(),
                original_start: Some(original_start),
                etag_before: instance.etag.clone(),
                description_before: instance.description.clone(),
                description_after: description.clone(),
            };
            let revision_id = self
                .store
                .insert_revision(&revision, now)
                .await
                .map_err(AgendaFailure::internal)?;
            match client
                .patch_description(&cal.remote_id, &instance.id, &etag, &description)
                .await
            {
                Ok(stored) => {
                    self.store
                        .record_write(
                            cal.id,
                            &to_cached(&stored, tz),
                            occurrence_id,
                            &block,
                            revision_id,
                            now,
                        )
                        .await
                        .map_err(AgendaFailure::internal)?;
                    stats.writes += 1;
                    info!(series = row.id, attempt, "agenda written");
                    return Ok(());
                }
                Err(GoogleError::Conflict { .. }) => {
                    // Someone edited the invite between our read and our write.
                    stats.conflicts += 1;
                    self.refresh(client, cal, settings, now)
                        .await
                        .map_err(AgendaFailure::Pass)?;
                }
                Err(e) => return Err(AgendaFailure::google(e)),
            }
        }
        Err(AgendaFailure::Series(format!(
            "still conflicting after {MAX_CONFLICT_RETRIES} attempts; next pass retries"
        )))
    }
}

impl AccountSyncer for GoogleSyncer {
    fn sync<'a>(
        &'a self,
        account: &'a Account,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<RunStats, PassError>> {
        Box::pin(self.run(account, now))
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
