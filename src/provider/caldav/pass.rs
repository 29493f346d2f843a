//! One pass over a CalDAV account: bring each calendar's cache up to date, re-detect the series
//! whose resources changed, then let the agenda step work on every tracked 1:1.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tracing::{info, warn};

use super::client::{CalDavClient, DavError};
use super::connect::CaldavSettings;
use super::fetch::{FetchError, fetch_calendar};
use crate::config::Config;
use crate::detect::{DetectRules, detect};
use crate::model::Owner;
use crate::secrets::Keyring;
use crate::store::{Account, Calendar, RunStats, SeriesUpsert, Store};
use crate::sync::{AccountSyncer, PassError};

pub struct CaldavSyncer {
    pub store: Store,
    pub keyring: Arc<Keyring>,
    pub config: Arc<Config>,
    pub rules: Arc<DetectRules>,
}

impl From<DavError> for PassError {
    fn from(e: DavError) -> Self {
        match e {
            DavError::Unauthorized { .. } => PassError::Unauthorized(e.to_string()),
            other => PassError::Transient {
                kind: other.kind(),
                message: other.to_string(),
            },
        }
    }
}

impl From<FetchError> for PassError {
    fn from(e: FetchError) -> Self {
        match e {
            FetchError::Dav(d) => d.into(),
            other => PassError::Transient {
                kind: "internal",
                message: other.to_string(),
            },
        }
    }
}

fn internal(e: impl std::fmt::Display) -> PassError {
    PassError::Transient {
        kind: "internal",
        message: e.to_string(),
    }
}

impl CaldavSyncer {
    pub fn client_for(
        &self,
        account: &Account,
    ) -> Result<(CalDavClient, CaldavSettings), PassError> {
        let settings = CaldavSettings::from_account(account).map_err(internal)?;
        let blob = account.credentials.as_deref().ok_or_else(|| {
            PassError::Unauthorized("no stored password: connect the account again".into())
        })?;
        let password = self.keyring.decrypt(blob).map_err(internal)?;
        let timeout = Duration::from_secs(self.config.sync.request_timeout_secs);
        let client = CalDavClient::new(&settings.username, password, timeout).map_err(internal)?;
        Ok((client, settings))
    }

    async fn run(&self, account: &Account, now: DateTime<Utc>) -> Result<RunStats, PassError> {
        let (client, settings) = self.client_for(account)?;
        let owner = settings.owner();
        let mut stats = RunStats {
            accounts: 1,
            ..RunStats::default()
        };
        let calendars = self
            .store
            .list_calendars(account.id)
            .await
            .map_err(internal)?;
        for cal in calendars.iter().filter(|c| c.enabled) {
            let report = fetch_calendar(&client, &self.store, cal, now).await?;
            stats.events_seen += report.changed.len() as i64;
            for remote_id in &report.changed {
                if let Err(e) = self.redetect(cal, remote_id, &owner, now).await {
                    warn!(calendar = cal.id, resource = %remote_id, error = %e, "detection failed");
                }
            }
            if !report.changed.is_empty() || report.deleted > 0 {
                info!(
                    account = account.id,
                    calendar = cal.id,
                    changed = report.changed.len(),
                    deleted = report.deleted,
                    full = report.full,
                    "calendar updated"
                );
            }
        }
        stats.requests = client.request_count() as i64;
        Ok(stats)
    }

    /// Runs detection on one changed resource and records each recurring series it holds.
    async fn redetect(
        &self,
        cal: &Calendar,
        remote_id: &str,
        owner: &Owner,
        now: DateTime<Utc>,
    ) -> Result<(), PassError> {
        let Some(cached) = self
            .store
            .get_event(cal.id, remote_id)
            .await
            .map_err(internal)?
        else {
            return Ok(());
        };
        let parsed = crate::ics::parse(cached.raw.as_bytes()).map_err(internal)?;
        for series in parsed.series.iter().filter(|s| s.is_recurring()) {
            let verdict = detect(series, owner, &self.rules);
            self.store
                .upsert_series(&series_row(cal.id, series, owner, &verdict), now)
                .await
                .map_err(internal)?;
        }
        Ok(())
    }
}

/// The series row detection gives (the user's override is kept by the store).
pub fn series_row(
    calendar_id: i64,
    series: &crate::model::Series,
    owner: &Owner,
    verdict: &crate::detect::Verdict,
) -> SeriesUpsert {
    let rep = series.representative();
    let organizer = rep
        .and_then(|e| e.organizer.as_ref())
        .and_then(|o| o.email.as_ref());
    let owner_is_organizer = organizer.is_none_or(|o| owner.is(o));
    let other = verdict.with.as_ref();
    SeriesUpsert {
        calendar_id,
        uid: series.uid.clone(),
        summary: rep.and_then(|e| e.summary.clone()).unwrap_or_default(),
        manager_email: owner.emails.first().map(ToString::to_string),
        direct_email: other
            .and_then(|p| p.email.as_ref())
            .map(ToString::to_string),
        direct_name: other.map(crate::model::Person::display_name),
        one_on_one: verdict.one_on_one,
        owner_is_organizer,
        confidence: f64::from(verdict.confidence),
        detection_reason: verdict.reason.clone(),
    }
}

impl AccountSyncer for CaldavSyncer {
    fn sync<'a>(
        &'a self,
        account: &'a Account,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<RunStats, PassError>> {
        Box::pin(self.run(account, now))
    }
}
