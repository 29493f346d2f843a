//! Input limits end to end, on a real Radicale: an item that is too large or absurd is refused
//! for that item, with an error saying what and where, and the rest of the pass goes on.

use oneonone::provider::caldav::Precondition;

use crate::fixtures::caldav::{Setup, description_at};
use crate::fixtures::caldav_server::Kind;

fn resource(uid: &str, rule: &str, summary: &str, extra: &str) -> Vec<u8> {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oneonone tests//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T120000Z\r\nDURATION:PT30M\r\n\
         RRULE:{rule}\r\nSUMMARY:{summary}\r\n{extra}\
         ORGANIZER:mailto:sam@example.com\r\n\
         ATTENDEE;PARTSTAT=ACCEPTED:mailto:sam@example.com\r\n\
         ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@example.com\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn oversized_descriptions_and_absurd_rules_are_refused_per_item_and_the_pass_goes_on() {
    let s = Setup::new(Kind::Radicale).await;
    // Alice's invite carries a description over the limit set below.
    let alice = s.calendar.join("weekly-alice.ics").unwrap();
    let r = s.client.get(&alice).await.unwrap();
    let long = format!("DESCRIPTION:{}\r\n", "x".repeat(3000));
    let body = String::from_utf8(r.body).unwrap().replacen(
        "DESCRIPTION:Alice's own notes: keep me.\r\n",
        &long,
        1,
    );
    let etag = r.etag.or(s.client.etag(&alice).await.unwrap()).unwrap();
    s.client
        .put(&alice, body.into_bytes(), &Precondition::Match(etag))
        .await
        .unwrap();
    let alice_before = s.client.get(&alice).await.unwrap().body;
    // Rules that are valid but absurd: one instance a second for ever, and a date that never
    // comes (30 February).
    for (name, rule) in [
        ("every-second", "FREQ=SECONDLY"),
        ("never", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"),
    ] {
        let url = s.calendar.join(&format!("{name}.ics")).unwrap();
        let body = resource(name, rule, &format!("Carol / Sam {name}"), "");
        s.client
            .put(&url, body, &Precondition::Create)
            .await
            .unwrap();
    }

    let limit = [("ONEONONE__AGENDA__MAX_DESCRIPTION_BYTES", "2048")];
    let started = std::time::Instant::now();
    let out = s.cli_with(
        &s.connect_args(&s.server.base, Some("2026-03-01T12:00:00Z")),
        &limit,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the absurd rules stalled the pass"
    );
    // Connecting writes nothing: the first `sync --once` writes.
    let sync = ["sync", "--once", "--now", "2026-03-01T12:00:00Z"].map(String::from);
    let out = s.cli_with(&sync, &limit);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the absurd rules stalled the pass"
    );

    // Bob's 1:1 got its agenda: the pass went on.
    let bob = s.body("biweekly-bob.ics").await;
    let agenda = description_at(&bob, &s.uid("biweekly-bob"), "2026-03-03T14:00:00Z");
    assert!(agenda.contains("oneonone agenda"), "{agenda}");
    // Alice's invite is untouched, and the reason is shown where a user looks.
    assert_eq!(s.client.get(&alice).await.unwrap().body, alice_before);
    let listed = s.cli_with(
        &["series", "list", "--all", "--json"].map(String::from),
        &limit,
    );
    let series: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let of = |uid: &str| {
        series
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["uid"] == uid)
            .cloned()
            .unwrap_or_else(|| panic!("no series {uid} in {series}"))
    };
    let problem = of(&s.uid("weekly-alice"))["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        problem.contains("bytes") && problem.contains("2048"),
        "Alice's series should say why it is left alone: {problem:?}"
    );
    // The absurd series were read (not fatal), whatever their verdict.
    for uid in ["every-second", "never"] {
        let x = of(uid);
        assert!(x["reason"].as_str().is_some_and(|r| !r.is_empty()), "{x}");
    }
    // A second pass is as calm: nothing new to write, nothing failed.
    let again = s.cli_with(
        &["sync", "--once", "--now", "2026-03-01T12:05:00Z"].map(String::from),
        &limit,
    );
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[tokio::test]
async fn an_oversized_resource_is_refused_alone_and_the_rest_of_its_calendar_is_read() {
    let s = Setup::new(Kind::Radicale).await;
    let out = s.cli_with(
        &s.connect_args(&s.server.base, Some("2026-03-01T12:00:00Z")),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Two new resources, read in one multiget: one small, one far over the answer limit below.
    let big = format!("DESCRIPTION:{}\r\n", "y".repeat(300_000));
    for (name, extra) in [("small", String::new()), ("huge", big)] {
        let url = s.calendar.join(&format!("{name}.ics")).unwrap();
        let body = resource(name, "FREQ=WEEKLY", &format!("Carol / Sam {name}"), &extra);
        s.client
            .put(&url, body, &Precondition::Create)
            .await
            .unwrap();
    }
    let store = s.db.store().await;
    let cal = store.list_calendars(1).await.unwrap().remove(0);
    let client = oneonone::provider::caldav::CalDavClient::new(
        crate::fixtures::caldav_server::USER,
        secrecy::SecretString::from(crate::fixtures::caldav_server::PASSWORD),
        std::time::Duration::from_secs(10),
    )
    .unwrap()
    .with_max_body(100_000);
    let now = chrono::Utc::now();
    let report = crate::fixtures::caldav::fetch_calendar(&client, &store, &cal, now)
        .await
        .expect("one oversized resource must not fail the calendar");
    assert!(
        report.changed.iter().any(|id| id.ends_with("/small.ics")),
        "{report:?}"
    );
    let (which, why) = report.unreadable.first().expect("the huge one is refused");
    assert!(which.ends_with("/huge.ics"), "{report:?}");
    assert!(why.contains("larger than 100000 bytes"), "{why}");
    assert_eq!(report.unreadable.len(), 1, "{report:?}");
}
