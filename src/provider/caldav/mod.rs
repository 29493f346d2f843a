//! CalDAV: our own WebDAV layer on reqwest + quick-xml (see docs/decisions.md for why not libdav),
//! connecting an account, fetching changes into the cache, and the provider the one pass drives.

pub(crate) mod auth;
pub(crate) mod client;
pub(crate) mod connect;
pub mod dav;
pub mod fetch;
pub(crate) mod provider;
pub(crate) mod xml;

pub use client::{
    CalDavClient, CalendarInfo, DavError, Discovery, Precondition, Resource, SyncChanges,
};
pub(crate) use connect::{ConnectRequest, connect};
pub(crate) use provider::CalDav;
