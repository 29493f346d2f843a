//! CalDAV: our own WebDAV layer on reqwest + quick-xml (see docs/decisions.md for why not libdav).

pub mod client;
pub mod xml;

pub use client::{
    CalDavClient, CalendarInfo, DavError, Discovery, Precondition, Resource, SyncChanges,
};
