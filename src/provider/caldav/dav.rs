//! What a pass asks of a CalDAV server, as a trait: [`CalDavClient`] answers it over HTTP, and the
//! seeded simulator (`crate::sim`) answers it from an in-memory server with faults, so the same
//! fetch and write code (`fetch`, `provider`) runs against both.

use futures::future::BoxFuture;
use url::Url;

use super::client::{
    CalDavClient, CalendarInfo, Precondition, Resource, Result, SyncChanges, SyncPage,
};
use crate::model::Etag;

/// The requests of a pass: the cheap "anything new?" question, the two ways of listing, the
/// downloads, and the one conditional write.
pub trait Dav: Send + Sync {
    /// One calendar's properties (ctag, sync token), PROPFIND Depth 0.
    fn calendar_info<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<CalendarInfo>>;
    /// RFC 6578 sync-collection since `token` (None: everything), etags only.
    fn sync_collection<'a>(
        &'a self,
        url: &'a Url,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<SyncChanges>>;
    /// One sync-collection answer, with each resource's data when `with_data`.
    fn sync_page<'a>(
        &'a self,
        url: &'a Url,
        token: Option<&'a str>,
        with_data: bool,
    ) -> BoxFuture<'a, Result<SyncPage>>;
    /// Every resource of a calendar with its etag (PROPFIND Depth 1).
    fn list_etags<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<Vec<(Url, Etag)>>>;
    /// calendar-multiget of the given resources.
    fn multiget<'a>(
        &'a self,
        calendar: &'a Url,
        urls: &'a [Url],
    ) -> BoxFuture<'a, Result<Vec<Resource>>>;
    /// GET one resource with its etag.
    fn get<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<Resource>>;
    /// The current etag of one resource.
    fn etag<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<Option<Etag>>>;
    /// PUT under a precondition, then what the server holds with its etag.
    fn put_and_read<'a>(
        &'a self,
        url: &'a Url,
        body: Vec<u8>,
        pre: &'a Precondition,
    ) -> BoxFuture<'a, Result<Resource>>;
    /// Requests sent so far.
    fn request_count(&self) -> u64;
}

impl Dav for CalDavClient {
    fn calendar_info<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<CalendarInfo>> {
        Box::pin(CalDavClient::calendar_info(self, url))
    }

    fn sync_collection<'a>(
        &'a self,
        url: &'a Url,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<SyncChanges>> {
        Box::pin(CalDavClient::sync_collection(self, url, token))
    }

    fn sync_page<'a>(
        &'a self,
        url: &'a Url,
        token: Option<&'a str>,
        with_data: bool,
    ) -> BoxFuture<'a, Result<SyncPage>> {
        Box::pin(CalDavClient::sync_page(self, url, token, with_data))
    }

    fn list_etags<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<Vec<(Url, Etag)>>> {
        Box::pin(CalDavClient::list_etags(self, url))
    }

    fn multiget<'a>(
        &'a self,
        calendar: &'a Url,
        urls: &'a [Url],
    ) -> BoxFuture<'a, Result<Vec<Resource>>> {
        Box::pin(CalDavClient::multiget(self, calendar, urls))
    }

    fn get<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<Resource>> {
        Box::pin(CalDavClient::get(self, url))
    }

    fn etag<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<Option<Etag>>> {
        Box::pin(CalDavClient::etag(self, url))
    }

    fn put_and_read<'a>(
        &'a self,
        url: &'a Url,
        body: Vec<u8>,
        pre: &'a Precondition,
    ) -> BoxFuture<'a, Result<Resource>> {
        Box::pin(CalDavClient::put_and_read(self, url, body, pre))
    }

    fn request_count(&self) -> u64 {
        CalDavClient::request_count(self)
    }
}
