//! Memory per pass is bounded whatever an event holds: a 1:1 whose description is megabytes is
//! refused (named, with the limit) by a `connect` and a `sync --once` whose data segment is
//! capped, and the other 1:1s of the calendar get their agendas. Before, every occurrence of a
//! year's expansion carried its own copy of the description: about 60 times its size per pass.

use std::process::{Command, Output};

use oneonone::provider::caldav::Precondition;

use crate::fixtures::caldav::{ALICE, Setup, W1, description_at};
use crate::fixtures::caldav_server::Kind;

/// The oversized description (over `agenda.max_description_bytes`, 64 KiB, and well under
/// `network.max_response_bytes`, 64 MiB). Xandikos stores it in a few seconds (Radicale's parser
/// takes minutes over megabytes).
const DESCRIPTION_BYTES: usize = 4_000_000;

/// The cap on the process' data segment (`prlimit --data`: heap and private writable mappings,
/// where jemalloc and the thread stacks live), in bytes. Calibrated with two runtime workers (set
/// below, so that the number of cores does not change the count of thread stacks): `connect` and
/// `sync --once` over the 4 MB description pass under 100 MB and fail under 80 MB; before the
/// fix they aborted on an allocation failure under 300 MB.
const DATA_LIMIT: u64 = 200 << 20;

/// The binary under `prlimit`, as `helpers::run_cli` runs it.
fn capped(s: &Setup, args: &[impl AsRef<str>]) -> Output {
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--data={DATA_LIMIT}"))
        .arg("--")
        .arg(crate::fixtures::BIN)
        .args(args.iter().map(AsRef::as_ref))
        .env_remove("ONEONONE_CONFIG")
        .env("TOKIO_WORKER_THREADS", "2");
    for (k, v) in s.env() {
        cmd.env(k, v);
    }
    cmd.output().expect("run oneonone under prlimit")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_megabytes_description_is_refused_within_a_memory_cap_and_the_other_one_on_ones_get_agendas()
 {
    let s = Setup::new(Kind::Xandikos).await;
    // 50 bytes a paragraph once read (`\\n` is one newline).
    let notes =
        "Notes from the archive: what we said and decided.\\n".repeat(DESCRIPTION_BYTES / 50);
    let body = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oneonone tests//EN\r\nBEGIN:VEVENT\r\n\
         UID:big-notes\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260303T120000Z\r\nDURATION:PT30M\r\n\
         RRULE:FREQ=WEEKLY;BYDAY=TU\r\nSUMMARY:1:1 Eve / Sam\r\nDESCRIPTION:{notes}\r\n\
         ORGANIZER;CN=Sam Manager:mailto:sam@example.com\r\n\
         ATTENDEE;CN=Sam Manager;PARTSTAT=ACCEPTED:mailto:sam@example.com\r\n\
         ATTENDEE;CN=Eve;PARTSTAT=ACCEPTED:mailto:eve@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    s.client
        .put(
            &s.calendar.join("big-notes.ics").unwrap(),
            body.into_bytes(),
            &Precondition::Create,
        )
        .await
        .unwrap();
    let before = s.body("big-notes.ics").await;
    let connect = capped(
        &s,
        &s.connect_args(&s.server.base, Some("2026-03-24T12:00:00Z")),
    );
    let sync = capped(&s, &["sync", "--once", "--now", "2026-03-24T12:05:00Z"]);
    for (what, out) in [("connect", &connect), ("sync --once", &sync)] {
        assert!(
            out.status.success(),
            "{what} under a {DATA_LIMIT}-byte data limit: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Refused with the limit, on its own series row (which carries its title).
    let list = s.cli(&["series", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let big = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["uid"] == "big-notes")
        .unwrap_or_else(|| panic!("the big 1:1 was not found: {v}"));
    assert_eq!(big["summary"], "1:1 Eve / Sam", "{big}");
    let error = big["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!(
            "{DESCRIPTION_BYTES} bytes, over the limit of 65536"
        )),
        "{big}"
    );
    // The other 1:1 of the calendar got its agenda; the big one is untouched.
    let d1 = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W1);
    assert_eq!(d1.matches("── oneonone agenda").count(), 1, "{d1}");
    assert!(
        s.body("big-notes.ics").await == before,
        "the big 1:1 was changed"
    );
}
