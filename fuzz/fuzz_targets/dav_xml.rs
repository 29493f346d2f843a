//! Fuzz target: WebDAV multistatus answers from a hostile or broken server never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oneonone::provider::caldav::client::Multistatus;

fuzz_target!(|data: &[u8]| {
    if let Ok(ms) = Multistatus::parse(data) {
        for r in &ms.responses {
            let _ = (r.etag(), r.is_calendar(), r.is_collection());
        }
    }
});
