//! Google Calendar: the API client, conversion into `model` types, and OAuth 2.0.
//!
//! The public surface, for the sync pass and the connect flow (wiring lives elsewhere):
//! - [`GoogleClient::new`]`(api_base, Arc<dyn AccessTokenSource>, timeout)`, then
//!   - [`GoogleClient::list_events`]`(calendar_id, &SyncMode::Full | Incremental(token))` ->
//!     [`EventListing`] (every page, `singleEvents=false`, the last page's `nextSyncToken`);
//!     410 -> [`GoogleError::FullSyncRequired`]: wipe that calendar's cache and list in full.
//!   - [`GoogleClient::instances`]`(calendar_id, event_id, time_min, time_max)`.
//!   - [`GoogleClient::get`]`(calendar_id, event_id)`.
//!   - [`GoogleClient::patch_description`]`(calendar_id, event_id, etag, description)` -> the
//!     event with its new etag; 412 -> [`GoogleError::Conflict`].
//!   - rate limits and 5xx are retried inside (see [`RetryPolicy`]); what remains is
//!     [`GoogleError::RateLimited`]. [`GoogleError::kind`] names each failure for `/readyz`.
//!   - [`GoogleClient::with_budget`]: at most N requests per window per account (default 500/min,
//!     under Google's 600/min/user); [`GoogleClient::request_count`] for idle-cost checks.
//! - [`convert::series_from_events`]`(&events, calendar_tz)` -> `(Vec<model::Series>, errors)`;
//!   [`convert::event_from_google`]; [`convert::occurrence_from_instance`] for what
//!   `instances` returns; [`convert::self_emails`] for `model::Owner`.
//! - [`oauth::authorize_url`], [`oauth::check_state`], [`oauth::exchange_code`],
//!   [`oauth::refresh`] (`invalid_grant` -> [`oauth::OAuthError::Revoked`]), [`oauth::revoke`],
//!   [`oauth::LoopbackReceiver`] (the installed-app redirect on 127.0.0.1:<free port>),
//!   and [`oauth::RefreshingTokens`], the `AccessTokenSource` that refreshes before expiry.
//! - [`provider::Google`], the provider the one pass drives (sessions keep each account's
//!   client across passes); [`connect::finish`] stores an account after consent.

pub(crate) mod api;
pub(crate) mod client;
pub(crate) mod connect;
pub mod convert;
pub mod oauth;
pub(crate) mod provider;

pub use client::{
    AccessTokenSource, CalendarListEntry, EventListing, GOOGLE_API_BASE, GoogleClient, GoogleError,
    GoogleEvent, RequestBudget, RetryPolicy, StaticToken, SyncMode, TokenError,
};
pub(crate) use provider::{Google, TestingGrantExpired};
