//! What a pass asks of Google Calendar, as a trait: [`GoogleClient`] answers it over HTTP, and
//! the seeded simulator (`crate::sim`) from an in-memory calendar with faults, so the same
//! session code (`provider`) runs against both.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use secrecy::SecretString;

use super::client::{EventListing, GoogleClient, GoogleEvent, Result, SyncMode, WatchedChannel};
use crate::model::Etag;

/// The requests of a pass: events.list, events.instances, events.get, the conditional PATCH,
/// and the push channels.
pub(crate) trait GoogleApi: Send + Sync {
    fn list_events<'a>(
        &'a self,
        calendar_id: &'a str,
        mode: &'a SyncMode,
    ) -> BoxFuture<'a, Result<EventListing>>;
    fn instances<'a>(
        &'a self,
        calendar_id: &'a str,
        event_id: &'a str,
        time_min: DateTime<Utc>,
        time_max: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<GoogleEvent>>>;
    fn get<'a>(
        &'a self,
        calendar_id: &'a str,
        event_id: &'a str,
    ) -> BoxFuture<'a, Result<GoogleEvent>>;
    fn patch_description<'a>(
        &'a self,
        calendar_id: &'a str,
        event_id: &'a str,
        etag: &'a Etag,
        description: &'a str,
    ) -> BoxFuture<'a, Result<GoogleEvent>>;
    fn watch<'a>(
        &'a self,
        calendar_id: &'a str,
        channel_id: &'a str,
        address: &'a str,
        token: &'a SecretString,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<WatchedChannel>>;
    fn stop_channel<'a>(
        &'a self,
        channel_id: &'a str,
        resource_id: &'a str,
    ) -> BoxFuture<'a, Result<()>>;
    /// Requests sent so far.
    fn request_count(&self) -> u64;
}

impl GoogleApi for GoogleClient {
    fn list_events<'a>(
        &'a self,
        calendar_id: &'a str,
        mode: &'a SyncMode,
    ) -> BoxFuture<'a, Result<EventListing>> {
        Box::pin(GoogleClient::list_events(self, calendar_id, mode))
    }

    fn instances<'a>(
        &'a self,
        calendar_id: &'a str,
        event_id: &'a str,
        time_min: DateTime<Utc>,
        time_max: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<Vec<GoogleEvent>>> {
        Box::pin(GoogleClient::instances(
            self,
            calendar_id,
            event_id,
            time_min,
            time_max,
        ))
    }

    fn get<'a>(
        &'a self,
        calendar_id: &'a str,
        event_id: &'a str,
    ) -> BoxFuture<'a, Result<GoogleEvent>> {
        Box::pin(GoogleClient::get(self, calendar_id, event_id))
    }

    fn patch_description<'a>(
        &'a self,
        calendar_id: &'a str,
        event_id: &'a str,
        etag: &'a Etag,
        description: &'a str,
    ) -> BoxFuture<'a, Result<GoogleEvent>> {
        Box::pin(GoogleClient::patch_description(
            self,
            calendar_id,
            event_id,
            etag,
            description,
        ))
    }

    fn watch<'a>(
        &'a self,
        calendar_id: &'a str,
        channel_id: &'a str,
        address: &'a str,
        token: &'a SecretString,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<WatchedChannel>> {
        Box::pin(GoogleClient::watch(
            self,
            calendar_id,
            channel_id,
            address,
            token,
            ttl,
        ))
    }

    fn stop_channel<'a>(
        &'a self,
        channel_id: &'a str,
        resource_id: &'a str,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(GoogleClient::stop_channel(self, channel_id, resource_id))
    }

    fn request_count(&self) -> u64 {
        GoogleClient::request_count(self)
    }
}
