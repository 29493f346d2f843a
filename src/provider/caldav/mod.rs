//! CalDAV: our own WebDAV layer on reqwest + quick-xml (see docs/decisions.md for why not libdav),
//! connecting an account, fetching changes into the cache, and the provider the one pass drives.

pub mod client;
pub mod connect;
pub mod fetch;
pub mod provider;
pub mod xml;

pub use client::{
    CalDavClient, CalendarInfo, DavError, Discovery, Precondition, Resource, SyncChanges,
};
pub use connect::{CaldavSettings, ConnectRequest, connect};
pub use provider::CalDav;
