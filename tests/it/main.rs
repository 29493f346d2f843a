//! The one integration test binary: each module exercises one part of the product against real
//! processes and databases (see `fixtures`).

mod accounts;
mod agenda;
mod api;

mod bench_google;
mod caldav_client;
mod caldav_sync;
mod continuation;
mod contract;
mod daemon;
mod detect;
mod faults;
mod fixtures;
mod google;
mod google_sync;
mod history;
mod ics;
mod input_limits;
mod insights;
mod interop;
mod invite_link;
mod limits;
mod memory;
mod newcomer;
mod notetakers;
mod outage;
mod scheduler;
mod scheduling;
mod secrets;
mod ssrf;
mod store;
mod topics;
mod web;
mod web_insights;
mod web_topics;
