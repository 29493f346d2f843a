//! The CalDAV scenarios of `caldav_sync` against DAViCal, Cyrus and SOGo, which `scripts/interop`
//! installs, starts and names in `ONEONONE_INTEROP_DAVICAL` / `_CYRUS` / `_SOGO`, and against
//! sabre/dav 1.8 in both authentications (`ONEONONE_INTEROP_SABRE=1`; the tests start it).
//! Without those variables each test says it was skipped and passes, so a plain `cargo test`
//! stays green.

use crate::caldav_sync::{
    a_concurrent_edit_keeps_both, agendas_week_after_week, connect_and_idle_pass, first_import,
};
use crate::fixtures::caldav::Setup;
use crate::fixtures::caldav_server::Kind;

/// The external servers to run against; prints the skip when there are none.
fn kinds(test: &str) -> Vec<Kind> {
    let kinds = Kind::interop();
    if kinds.is_empty() {
        eprintln!(
            "interop::{test} skipped: none of ONEONONE_INTEROP_DAVICAL, _CYRUS, _SOGO and \
             ONEONONE_INTEROP_SABRE is set (scripts/interop sets them)"
        );
    } else {
        eprintln!("interop::{test} on {kinds:?}");
    }
    kinds
}

#[tokio::test]
async fn interop_connect_and_idle_pass() {
    for kind in kinds("interop_connect_and_idle_pass") {
        connect_and_idle_pass(kind).await;
    }
}

#[tokio::test]
async fn interop_agendas_week_after_week() {
    for kind in kinds("interop_agendas_week_after_week") {
        agendas_week_after_week(kind).await;
    }
}

#[tokio::test]
async fn interop_a_concurrent_edit_keeps_both() {
    for kind in kinds("interop_a_concurrent_edit_keeps_both") {
        a_concurrent_edit_keeps_both(kind).await;
    }
}

#[tokio::test]
async fn interop_a_local_attendee_gets_an_agenda_without_a_notification() {
    // On the servers whose scheduling the scripts set up with users of their own.
    for kind in kinds("interop_a_local_attendee_gets_an_agenda_without_a_notification") {
        if matches!(kind, Kind::Davical | Kind::Cyrus) {
            crate::scheduling::local_attendee_gets_an_agenda(kind).await;
        }
    }
}

#[tokio::test]
async fn interop_a_first_import_takes_the_fewest_requests() {
    // DAViCal answers calendar-data in a sync report 404: one multiget after fetches it.
    // sabre/dav, whose cursor the test emptied: the sync-collection it refuses (403), the ctag,
    // the etag listing and one multiget (after one 401 for Digest).
    for kind in kinds("interop_a_first_import_takes_the_fewest_requests") {
        let requests = match kind {
            Kind::Davical => 2,
            Kind::SabreDigest => 5,
            Kind::SabreBasic => 4,
            _ => 1,
        };
        first_import(Setup::new(kind).await, requests).await;
    }
}
