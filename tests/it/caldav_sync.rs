//! The CalDAV path end to end with the real binary and real servers: connect once, then passes.

use std::time::Duration;

use oneonone::provider::caldav::{CalDavClient, Precondition};
use secrecy::SecretString;

use crate::helpers::{TestDb, run_cli};
use crate::servers::{CalDavServer, Kind, PASSWORD, USER};

/// A manager calendar: a weekly 1:1 in Berlin crossing the March DST change, a biweekly 1:1, a
/// three-person weekly and a one-off.
pub fn manager_calendar() -> Vec<(&'static str, String)> {
    let ev = |uid: &str, body: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oneonone tests//EN\r\n{body}BEGIN:VEVENT\r\nUID:{uid}\r\n\
             DTSTAMP:20260101T000000Z\r\n"
        )
    };
    let berlin_tz = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n\
        TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
        END:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n\
        DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";
    let people = |others: &[(&str, &str)]| {
        let mut s = String::from(
            "ORGANIZER;CN=Sam Manager:mailto:sam@example.com\r\n\
            ATTENDEE;CN=Sam Manager;PARTSTAT=ACCEPTED:mailto:sam@example.com\r\n",
        );
        for (cn, mail) in others {
            s.push_str(&format!(
                "ATTENDEE;CN={cn};PARTSTAT=ACCEPTED:mailto:{mail}\r\n"
            ));
        }
        s
    };
    vec![
        (
            "weekly-alice.ics",
            ev("weekly-alice", berlin_tz)
                + "DTSTART;TZID=Europe/Berlin:20260302T100000\r\nDTEND;TZID=Europe/Berlin:20260302T103000\r\n\
                   RRULE:FREQ=WEEKLY;BYDAY=MO\r\nSUMMARY:1:1 Alice / Sam\r\n\
                   DESCRIPTION:Alice's own notes: keep me.\r\n"
                + &people(&[("Alice Example", "alice@example.com")])
                + "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\n\
                   X-OWN-PROPERTY:kept\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        ),
        (
            "biweekly-bob.ics",
            ev("biweekly-bob", "")
                + "DTSTART:20260303T140000Z\r\nDURATION:PT45M\r\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU\r\n\
                   SUMMARY:Bob <> Sam catch-up\r\n"
                + &people(&[("Bob Builder", "bob@example.com")])
                + "END:VEVENT\r\nEND:VCALENDAR\r\n",
        ),
        (
            "team-sync.ics",
            ev("team-sync", "")
                + "DTSTART:20260304T090000Z\r\nDURATION:PT30M\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Team sync\r\n"
                + &people(&[
                    ("Alice Example", "alice@example.com"),
                    ("Bob Builder", "bob@example.com"),
                ])
                + "END:VEVENT\r\nEND:VCALENDAR\r\n",
        ),
        (
            "one-off.ics",
            ev("one-off", "")
                + "DTSTART:20260305T110000Z\r\nDURATION:PT30M\r\nSUMMARY:Coffee with Carol\r\n"
                + &people(&[("Carol", "carol@example.com")])
                + "END:VEVENT\r\nEND:VCALENDAR\r\n",
        ),
    ]
}

#[allow(dead_code)] // client and calendar serve the scenario tests that edit the calendar.
pub struct Setup {
    pub server: CalDavServer,
    pub db: TestDb,
    pub keydir: tempfile::TempDir,
    pub client: CalDavClient,
    pub calendar: url::Url,
}

impl Setup {
    pub async fn new(kind: Kind) -> Self {
        let server = CalDavServer::start(kind);
        let client =
            CalDavClient::new(USER, SecretString::from(PASSWORD), Duration::from_secs(10)).unwrap();
        let calendar = server.calendar_url("work");
        client.mkcalendar(&calendar, "Work").await.unwrap();
        for (name, body) in manager_calendar() {
            let url = calendar.join(name).unwrap();
            client
                .put(&url, body.into_bytes(), &Precondition::Create)
                .await
                .unwrap();
        }
        Self {
            server,
            db: TestDb::sqlite(),
            keydir: tempfile::tempdir().unwrap(),
            client,
            calendar,
        }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ONEONONE__DATABASE__URL", self.db.url.clone()),
            (
                "ONEONONE__SECRETS__KEY_FILE",
                self.keydir.path().join("key").display().to_string(),
            ),
            ("ONEONONE__LOG__LEVEL", "warn".into()),
            ("TEST_CALDAV_PASSWORD", PASSWORD.into()),
        ]
    }

    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_cli(args, &env)
    }

    pub fn connect(&self) -> String {
        let out = self.cli(&[
            "connect",
            "caldav",
            "--url",
            self.server.base.as_str(),
            "--username",
            USER,
            "--password-env",
            "TEST_CALDAV_PASSWORD",
            "--owner",
            "sam@example.com",
        ]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "connect failed: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }
}

#[tokio::test]
async fn connect_finds_the_two_one_on_ones_and_an_idle_pass_costs_one_request() {
    for kind in Kind::ALL {
        let s = Setup::new(kind).await;
        let text = s.connect();
        assert!(
            text.contains("2 recurring 1:1(s) found"),
            "{kind:?}: {text}"
        );
        assert!(
            text.contains("1:1 Alice / Sam") && text.contains("Bob <> Sam"),
            "{kind:?}: {text}"
        );
        assert!(!text.contains("Team sync"), "{kind:?}: {text}");

        let out = s.cli(&["sync", "--once", "--now", "2026-03-01T12:00:00Z"]);
        assert!(
            out.status.success(),
            "{kind:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let store = s.db.store().await;
        let idle = s.cli(&["sync", "--once", "--now", "2026-03-01T12:05:00Z"]);
        assert!(idle.status.success());
        let runs = store.recent_runs(1).await.unwrap();
        assert_eq!(runs[0].account_id, Some(1));
        let calendars = store.list_calendars(1).await.unwrap().len() as i64;
        assert_eq!(
            runs[0].stats.requests, calendars,
            "{kind:?}: an idle pass must cost one request per calendar"
        );
        assert_eq!(runs[0].stats.writes, 0, "{kind:?}");

        let list = s.cli(&["series", "list", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        let withs: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["with"].as_str())
            .collect();
        assert_eq!(withs.len(), 2, "{kind:?}: {v}");
        assert!(withs.contains(&"alice@example.com") && withs.contains(&"bob@example.com"));
        store.close().await;
    }
}

#[tokio::test]
async fn connect_with_a_wrong_password_stores_nothing_and_says_why() {
    let s = Setup::new(Kind::Radicale).await;
    let mut env = s.env();
    env.retain(|(k, _)| *k != "TEST_CALDAV_PASSWORD");
    env.push(("TEST_CALDAV_PASSWORD", "wrong".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run_cli(
        &[
            "connect",
            "caldav",
            "--url",
            s.server.base.as_str(),
            "--username",
            USER,
            "--password-env",
            "TEST_CALDAV_PASSWORD",
        ],
        &env,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("refused the user name or password"), "{err}");
    assert!(!err.contains("wrong"), "password leaked: {err}");
    let store = s.db.store().await;
    assert!(store.list_accounts().await.unwrap().is_empty());
}
