//! Unit tests of `detect` on hand-built model values, one per signal and trap.

use chrono::NaiveDate;

use super::*;
use crate::model::{
    Attendee, CalendarUserType, EmailAddress, Event, EventTime, ParticipationStatus, Role,
};

const SAM: &str = "sam@example.com";
const SAM_ALIAS: &str = "sam.lee@example.org";

fn owner() -> Owner {
    Owner::new([SAM, SAM_ALIAS].map(|e| EmailAddress::parse(e).unwrap()))
}

fn person(email: &str, name: Option<&str>) -> Person {
    Person {
        email: EmailAddress::parse(email),
        name: name.map(str::to_string),
    }
}

fn att(email: &str) -> Attendee {
    Attendee {
        person: person(email, None),
        partstat: ParticipationStatus::Accepted,
        ..Attendee::default()
    }
}

fn at(h: u32, m: u32) -> EventTime {
    let local = NaiveDate::from_ymd_opt(2026, 12, 7)
        .unwrap()
        .and_hms_opt(h, m, 0)
        .unwrap();
    EventTime::Zoned {
        local,
        tz: "Europe/Berlin".parse().unwrap(),
    }
}

/// A weekly 30-minute meeting organized by the owner with the given attendees.
fn meeting(title: &str, attendees: &[&str]) -> Event {
    Event {
        uid: "uid-1".into(),
        summary: Some(title.into()),
        start: Some(at(10, 0)),
        end: Some(at(10, 30)),
        organizer: Some(person(SAM, Some("Sam Lee"))),
        attendees: attendees.iter().map(|e| att(e)).collect(),
        rrules: vec!["FREQ=WEEKLY;BYDAY=MO".into()],
        ..Event::default()
    }
}

fn series(ev: Event) -> Series {
    Series {
        uid: ev.uid.clone(),
        master: Some(ev),
        overrides: Vec::new(),
        default_tz: None,
    }
}

fn run(ev: Event) -> Verdict {
    detect(&series(ev), &owner(), &DetectRules::default())
}

fn with_email(v: &Verdict) -> Option<&str> {
    v.with_email()
}

#[test]
fn weekly_two_person_meeting_with_one_on_one_title_is_a_one_on_one() {
    let v = run(meeting("1:1 Alice / Sam", &[SAM, "alice@example.com"]));
    assert!(v.one_on_one, "{}", v.reason);
    assert_eq!(with_email(&v), Some("alice@example.com"));
    assert_eq!(v.confidence, conf::TWO_AND_TITLE);
    assert_eq!(
        v.reason,
        "1:1: weekly, 30 min, 2 people: you and alice@example.com, title '1:1 Alice / Sam' \
         says 1:1"
    );
}

#[test]
fn two_people_without_title_signal_is_a_one_on_one_with_less_confidence() {
    let v = run(meeting("Weekly catch-up", &["alice@example.com"]));
    assert!(v.one_on_one, "{}", v.reason);
    assert_eq!(v.confidence, conf::TWO_PLAIN);
    assert!(v.reason.contains("no 1:1 signal needed"), "{}", v.reason);
}

#[test]
fn one_off_meeting_is_never_a_one_on_one() {
    let mut ev = meeting("1:1 Alice / Sam", &["alice@example.com"]);
    ev.rrules.clear();
    let v = run(ev);
    assert!(!v.one_on_one);
    assert_eq!(v.confidence, conf::FACT);
    assert!(v.reason.contains("one-off"), "{}", v.reason);
}

#[test]
fn rrule_with_count_one_is_a_one_off() {
    let mut ev = meeting("1:1 Alice / Sam", &["alice@example.com"]);
    ev.rrules = vec!["FREQ=WEEKLY;COUNT=1".into()];
    let v = run(ev);
    assert!(
        !v.one_on_one && v.reason.contains("COUNT=1"),
        "{}",
        v.reason
    );
}

#[test]
fn rdate_only_series_is_recurring() {
    let mut ev = meeting("Alice / Sam", &["alice@example.com"]);
    ev.rrules.clear();
    ev.rdates = vec![at(11, 0)];
    let v = run(ev);
    assert!(v.one_on_one, "{}", v.reason);
    assert!(v.reason.starts_with("1:1: on 2 set dates"), "{}", v.reason);
}

#[test]
fn instances_without_master_count_as_recurring_with_a_doubt() {
    let mut ev = meeting("Alice / Sam", &["alice@example.com"]);
    ev.rrules.clear();
    ev.recurrence_id = Some(at(10, 0));
    let s = Series {
        uid: ev.uid.clone(),
        master: None,
        overrides: vec![ev],
        default_tz: None,
    };
    let v = detect(&s, &owner(), &DetectRules::default());
    assert!(v.one_on_one, "{}", v.reason);
    assert!(v.confidence < conf::TWO_AND_TITLE);
    assert!(v.reason.contains("only single occurrences"), "{}", v.reason);
}

#[test]
fn three_people_with_one_on_one_title_looks_like_one_but_is_not() {
    let v = run(meeting(
        "1:1 Alice / Sam",
        &["alice@example.com", "carol@example.com"],
    ));
    assert!(!v.one_on_one);
    assert_eq!(v.with, None);
    assert_eq!(
        v.reason,
        "not a 1:1: looks like a 1:1 ('1:1 Alice / Sam') but has 3 people: you, \
         alice@example.com, carol@example.com"
    );
}

#[test]
fn room_as_second_attendee_is_not_a_person() {
    let mut ev = meeting("Planning", &["alice@example.com"]);
    ev.attendees.push(Attendee {
        cutype: CalendarUserType::Room,
        ..att("berlin-4.12@example.com")
    });
    ev.attendees
        .push(att("c_188abc@resource.calendar.google.com"));
    let v = run(ev);
    assert!(v.one_on_one, "{}", v.reason);
    assert_eq!(with_email(&v), Some("alice@example.com"));
}

#[test]
fn only_a_room_besides_the_owner_is_a_busy_block() {
    let mut ev = meeting("Deep work", &[]);
    ev.attendees.push(Attendee {
        cutype: CalendarUserType::Room,
        ..att("berlin-4.12@example.com")
    });
    let v = run(ev);
    assert!(!v.one_on_one);
    assert!(v.reason.contains("no one else"), "{}", v.reason);
}

#[test]
fn owner_alias_is_not_a_second_person() {
    let v = run(meeting("Review", &[SAM_ALIAS, SAM]));
    assert!(!v.one_on_one, "{}", v.reason);
    assert!(v.reason.contains("no one else"), "{}", v.reason);
    let v = run(meeting("1:1", &[SAM_ALIAS, "alice@example.com"]));
    assert!(v.one_on_one, "{}", v.reason);
}

#[test]
fn owner_declining_the_series_rules_it_out() {
    let mut ev = meeting("1:1 Alice / Sam", &["alice@example.com"]);
    ev.organizer = Some(person("alice@example.com", None));
    ev.attendees.push(Attendee {
        partstat: ParticipationStatus::Declined,
        ..att(SAM)
    });
    let v = run(ev);
    assert!(!v.one_on_one);
    assert_eq!(v.reason, "not a 1:1: you declined the series");
}

#[test]
fn declined_single_instance_keeps_the_series() {
    let master = meeting("1:1 Alice / Sam", &[SAM, "alice@example.com"]);
    let mut one = master.clone();
    one.rrules.clear();
    one.recurrence_id = Some(at(10, 0));
    one.attendees[0].partstat = ParticipationStatus::Declined;
    let mut s = series(master);
    s.overrides.push(one);
    let v = detect(&s, &owner(), &DetectRules::default());
    assert!(v.one_on_one, "{}", v.reason);
}

#[test]
fn cancelled_all_day_and_special_kinds_are_ruled_out() {
    let mut c = meeting("1:1", &["alice@example.com"]);
    c.status = EventStatus::Cancelled;
    assert!(run(c).reason.contains("cancelled"));

    let mut d = meeting("1:1", &["alice@example.com"]);
    d.start = Some(EventTime::Date {
        date: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
    });
    d.end = None;
    assert!(run(d).reason.contains("all-day"));

    for (kind, word) in [
        (EventKind::OutOfOffice, "out-of-office"),
        (EventKind::FocusTime, "focus-time"),
        (EventKind::WorkingLocation, "working-location"),
    ] {
        let mut e = meeting("Alice / Sam", &["alice@example.com"]);
        e.kind = kind;
        let v = run(e);
        assert!(!v.one_on_one && v.reason.contains(word), "{}", v.reason);
    }

    let mut oof = meeting("Away", &["alice@example.com"]);
    oof.x_props
        .push(("X-MICROSOFT-CDO-BUSYSTATUS".into(), "OOF".into()));
    assert!(run(oof).reason.contains("out-of-office"));
}

#[test]
fn transparent_block_with_nobody_else_is_a_free_block() {
    let mut ev = meeting("Hold", &[]);
    ev.transparency = Transparency::Transparent;
    let v = run(ev);
    assert!(!v.one_on_one);
    assert!(v.reason.contains("free block"), "{}", v.reason);
}

#[test]
fn longer_than_maximum_is_not_a_one_on_one_and_maximum_is_configurable() {
    let mut ev = meeting("Alice / Sam deep dive", &["alice@example.com"]);
    ev.end = Some(at(12, 0));
    let v = run(ev.clone());
    assert!(!v.one_on_one);
    assert!(
        v.reason.contains("longer than the 1h30 maximum"),
        "{}",
        v.reason
    );
    let rules = DetectRules::new(180, &[] as &[&str], &[]).unwrap();
    assert!(detect(&series(ev), &owner(), &rules).one_on_one);
}

#[test]
fn two_person_standup_and_interview_are_not_one_on_ones() {
    let v = run(meeting("Standup", &["alice@example.com"]));
    assert!(!v.one_on_one);
    assert_eq!(v.confidence, conf::SOFT_TITLE);
    assert!(v.reason.contains("says standup"), "{}", v.reason);

    let v = run(meeting(
        "Interview: Jane Doe (backend)",
        &["jane.doe@gmail.com"],
    ));
    assert!(!v.one_on_one);
    assert!(v.reason.contains("says interview"), "{}", v.reason);

    // A 1:1 spelling beats a group-ritual word but not a hiring word.
    assert!(run(meeting("1:1 / retro Alice", &["alice@example.com"])).one_on_one);
    assert!(!run(meeting("1:1 candidate debrief", &["alice@example.com"])).one_on_one);
}

#[test]
fn owner_as_attendee_makes_the_organizer_the_other_person() {
    let mut ev = meeting("Sam / Priya", &[SAM, "priya@example.com"]);
    ev.organizer = Some(person("priya@example.com", Some("Priya Patel")));
    let v = run(ev);
    assert!(v.one_on_one, "{}", v.reason);
    assert_eq!(with_email(&v), Some("priya@example.com"));
    assert!(
        v.reason.contains("priya@example.com (organizer)"),
        "{}",
        v.reason
    );
}

#[test]
fn organizer_not_listed_as_attendee_still_counts() {
    let mut ev = meeting("Sync", &[SAM, "bob@example.com"]);
    ev.organizer = Some(person("carol@example.com", None));
    let v = run(ev);
    assert!(!v.one_on_one);
    assert!(v.reason.contains("3 people"), "{}", v.reason);
}

#[test]
fn organizer_who_declines_own_invite_is_not_counted() {
    let mut ev = meeting("Sam / Alice", &[SAM, "alice@example.com"]);
    ev.organizer = Some(person("ea@example.com", None));
    ev.attendees.push(Attendee {
        partstat: ParticipationStatus::Declined,
        ..att("ea@example.com")
    });
    let v = run(ev);
    assert!(v.one_on_one, "{}", v.reason);
    assert!(v.reason.contains("ea@example.com declined"), "{}", v.reason);
}

#[test]
fn attendee_without_email_is_a_person_and_lowers_confidence() {
    let mut ev = meeting("Mentoring", &[]);
    ev.attendees.push(Attendee {
        person: Person {
            email: None,
            name: Some("Jordan".into()),
        },
        ..Attendee::default()
    });
    let v = run(ev);
    assert!(v.one_on_one, "{}", v.reason);
    assert_eq!(v.with.as_ref().unwrap().name.as_deref(), Some("Jordan"));
    assert!(v.confidence < conf::TWO_PLAIN);
    assert!(v.reason.contains("Jordan (no email)"), "{}", v.reason);
}

#[test]
fn group_address_means_many_people() {
    let mut ev = meeting("Lunch", &["alice@example.com"]);
    ev.attendees.push(Attendee {
        cutype: CalendarUserType::Group,
        ..att("berlin@example.com")
    });
    let v = run(ev);
    assert!(!v.one_on_one);
    assert!(
        v.reason
            .contains("group or shared mailbox berlin@example.com"),
        "{}",
        v.reason
    );
    let v = run(meeting(
        "Lunch",
        &["alice@example.com", "eng-team@example.com"],
    ));
    assert!(!v.one_on_one, "{}", v.reason);
}

#[test]
fn non_participants_and_declined_attendees_are_not_counted() {
    let mut ev = meeting("Alice / Sam", &["alice@example.com"]);
    ev.attendees.push(Attendee {
        role: Role::NonParticipant,
        ..att("assistant@example.com")
    });
    ev.attendees.push(Attendee {
        partstat: ParticipationStatus::Declined,
        ..att("carol@example.com")
    });
    assert!(run(ev).one_on_one);
}

#[test]
fn organizer_listed_again_and_duplicates_count_once() {
    let mut ev = meeting(
        "Alice / Sam",
        &[SAM, "alice@example.com", "ALICE@example.com"],
    );
    ev.organizer = Some(person("alice@example.com", None));
    assert!(run(ev).one_on_one);
}

#[test]
fn meeting_without_the_owner_is_not_theirs() {
    let mut ev = meeting("1:1 Alice / Bob", &["alice@example.com", "bob@example.com"]);
    ev.organizer = Some(person("bob@example.com", None));
    let v = run(ev);
    assert!(!v.one_on_one);
    assert!(v.reason.contains("none of your addresses"), "{}", v.reason);
}

#[test]
fn no_organizer_means_the_owner_put_it_there() {
    let mut ev = meeting("Coaching", &["coach@example.net"]);
    ev.organizer = None;
    let v = run(ev);
    assert!(v.one_on_one, "{}", v.reason);
    assert!(v.reason.contains("taken to be it"), "{}", v.reason);
}

#[test]
fn frequencies_read_back_in_words() {
    for (rule, text) in [
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "every 2 weeks"),
        ("FREQ=MONTHLY;BYDAY=1TH", "monthly"),
        ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "every weekday"),
        ("RRULE:FREQ=WEEKLY;BYDAY=MO,TH", "2 times a week"),
    ] {
        let mut ev = meeting("Alice / Sam", &["alice@example.com"]);
        ev.rrules = vec![rule.into()];
        let v = run(ev);
        assert!(
            v.reason.starts_with(&format!("1:1: {text},")),
            "{}",
            v.reason
        );
    }
}

#[test]
fn title_patterns_overrule_judgement_and_exclude_wins() {
    let rules = DetectRules::new(90, &["Team sync *"], &["*catch-up*"]).unwrap();
    let ev = meeting("Weekly catch-up", &["alice@example.com"]);
    let v = detect(&series(ev), &owner(), &rules);
    assert!(!v.one_on_one);
    assert!(
        v.reason.contains("exclude pattern '*catch-up*'"),
        "{}",
        v.reason
    );
    assert_eq!(v.confidence, conf::PATTERN);

    let ev = meeting(
        "Team sync Alice+Bob",
        &["alice@example.com", "bob@example.com"],
    );
    let v = detect(&series(ev), &owner(), &rules);
    assert!(v.one_on_one, "{}", v.reason);
    assert!(
        v.reason
            .starts_with("1:1: title 'Team sync Alice+Bob' matches your include")
    );

    // A pattern does not revive a cancelled series.
    let mut ev = meeting("Team sync x", &["alice@example.com"]);
    ev.status = EventStatus::Cancelled;
    assert!(!detect(&series(ev), &owner(), &rules).one_on_one);
}

#[test]
fn overrides_win_and_say_so() {
    let v = run(meeting("Standup", &["alice@example.com"]));
    let inc = SeriesOverride::Included.apply(v.clone());
    assert!(inc.one_on_one);
    assert_eq!(inc.confidence, 1.0);
    assert_eq!(inc.with_email(), Some("alice@example.com"));
    assert!(
        inc.reason
            .starts_with("1:1: you included this series by hand")
    );
    assert!(inc.reason.contains("says standup"));

    let yes = run(meeting("1:1", &["alice@example.com"]));
    let exc = SeriesOverride::Excluded.apply(yes.clone());
    assert!(!exc.one_on_one && exc.with.is_none());
    assert!(
        exc.reason
            .starts_with("not a 1:1: you excluded this series by hand")
    );
    assert_eq!(SeriesOverride::Auto.apply(yes.clone()), yes);

    assert_eq!(
        "exclude".parse::<SeriesOverride>().unwrap(),
        SeriesOverride::Excluded
    );
    assert!("maybe".parse::<SeriesOverride>().is_err());
}

#[test]
fn verdict_serializes_without_internal_fields() {
    let v = run(meeting("1:1", &["alice@example.com"]));
    let json = serde_json::to_value(&v).unwrap();
    let mut keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["confidence", "one_on_one", "reason", "with"]);
    assert_eq!(json["with"]["email"], "alice@example.com");
}

#[test]
fn empty_series_is_not_a_one_on_one() {
    let v = detect(&Series::default(), &owner(), &DetectRules::default());
    assert!(!v.one_on_one);
    assert!(v.reason.contains("no events"));
}

#[test]
fn reason_quotes_a_long_multiline_title_on_one_line() {
    let title = format!("Alice / Sam\nagenda: {}", "x".repeat(200));
    let v = run(meeting(&title, &["alice@example.com"]));
    assert!(v.one_on_one, "{}", v.reason);
    assert!(!v.reason.contains('\n'), "{}", v.reason);
    assert!(v.reason.contains("Alice / Sam agenda: xxx"), "{}", v.reason);
    assert!(v.reason.len() < 250, "{}", v.reason);
}

#[test]
fn reason_quotes_title_words_that_span_a_line_break_on_one_line() {
    // Found by the property test: the matched spelling itself held the carriage return.
    let v = run(meeting("1\r-1", &["alice@example.com"]));
    assert!(v.one_on_one, "{}", v.reason);
    assert!(v.reason.contains("says 1:1 ('1 -1')"), "{}", v.reason);
    let v = run(meeting("phone\nscreen", &["alice@example.com"]));
    assert!(!v.one_on_one, "{}", v.reason);
    assert!(v.reason.ends_with("says phone screen"), "{}", v.reason);
}

#[test]
fn unknown_address_with_the_owners_local_part_is_taken_as_an_alias() {
    let mut ev = meeting(
        "Dana <> Sam",
        &["dana@example.com", "sam@old-domain.example"],
    );
    ev.organizer = Some(person("dana@example.com", None));
    let v = run(ev.clone());
    assert!(v.one_on_one, "{}", v.reason);
    assert_eq!(v.with_email(), Some("dana@example.com"));
    assert!(v.confidence < conf::TWO_AND_TITLE);
    assert!(
        v.reason
            .contains("sam@old-domain.example is taken to be you"),
        "{}",
        v.reason
    );

    // Never when a known address of the owner is in the meeting: then it is someone else.
    ev.attendees.push(att(SAM));
    let v = run(ev);
    assert!(!v.one_on_one, "{}", v.reason);
    assert!(v.reason.contains("3 people"), "{}", v.reason);
}

#[test]
fn single_character_cjk_name_makes_a_pair() {
    let mut ev = meeting("Kenji / 森", &[SAM]);
    ev.organizer = Some(person("takeshi.mori@example.jp", Some("森 武")));
    let v = run(ev);
    assert!(v.reason.contains("pairs two names"), "{}", v.reason);
}

#[test]
fn shared_mailbox_is_many_people_as_attendee_and_nobody_as_organizer() {
    let v = run(meeting("Queue review", &[SAM, "support@example.com"]));
    assert!(!v.one_on_one);
    assert!(
        v.reason.contains("shared mailbox support@example.com"),
        "{}",
        v.reason
    );

    let mut ev = meeting("Alice / Sam", &[SAM, "alice@example.com"]);
    ev.organizer = Some(person("recruiting@example.com", None));
    let v = run(ev);
    assert!(v.one_on_one, "{}", v.reason);
}

#[test]
fn owner_invited_through_a_group_hears_about_the_group() {
    let mut ev = meeting(
        "Platform weekly",
        &["alice@example.com", "platform-team@example.com"],
    );
    ev.organizer = Some(person("alice@example.com", None));
    let v = run(ev);
    assert!(!v.one_on_one);
    assert!(
        v.reason.contains("platform-team@example.com"),
        "{}",
        v.reason
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn any_attendee() -> impl Strategy<Value = Attendee> {
        (
            prop::option::of("[a-zA-Z.]{0,8}@?[a-z.]{0,8}"),
            prop::option::of("\\PC{0,12}"),
            0..5u8,
            0..6u8,
            0..4u8,
        )
            .prop_map(|(email, name, cu, ps, role)| Attendee {
                person: Person {
                    email: email.as_deref().and_then(EmailAddress::parse),
                    name,
                },
                cutype: [
                    CalendarUserType::Individual,
                    CalendarUserType::Group,
                    CalendarUserType::Resource,
                    CalendarUserType::Room,
                    CalendarUserType::Unknown,
                ][cu as usize],
                partstat: [
                    ParticipationStatus::NeedsAction,
                    ParticipationStatus::Accepted,
                    ParticipationStatus::Declined,
                    ParticipationStatus::Tentative,
                    ParticipationStatus::Delegated,
                    ParticipationStatus::Other,
                ][ps as usize],
                role: [
                    Role::Chair,
                    Role::RequiredParticipant,
                    Role::OptionalParticipant,
                    Role::NonParticipant,
                ][role as usize],
            })
    }

    proptest! {
        /// Whatever a calendar holds, detect answers with a bounded confidence and a one-line
        /// reason that states the verdict, and never panics.
        #[test]
        fn detect_is_total_and_its_reason_is_one_line(
            title in prop::option::of("\\PC{0,200}|[\\n\\r\\t a-z/:&<>x1-]{0,40}"),
            rule in prop::option::of("[A-Z=;,0-9-]{0,40}|FREQ=(DAILY|WEEKLY|MONTHLY);COUNT=[0-3]"),
            attendees in prop::collection::vec(any_attendee(), 0..6),
            organizer in prop::option::of(any_attendee()),
            minutes in -60i64..600,
            with_master in any::<bool>(),
            include in prop::option::of("[a-z*?/]{0,6}"),
        ) {
            let mut ev = meeting("", &[]);
            ev.summary = title;
            ev.rrules = rule.into_iter().collect();
            ev.attendees = attendees;
            ev.organizer = organizer.map(|a| a.person);
            ev.end = None;
            ev.duration = Some(chrono::Duration::minutes(minutes));
            let s = if with_master {
                series(ev)
            } else {
                ev.recurrence_id = ev.start;
                Series { uid: "u".into(), master: None, overrides: vec![ev], default_tz: None }
            };
            let rules = match include.as_deref().map(TitlePattern::parse) {
                Some(Ok(p)) => DetectRules { include_titles: vec![p], ..DetectRules::default() },
                _ => DetectRules::default(),
            };
            let v = detect(&s, &owner(), &rules);
            prop_assert!((0.5..=1.0).contains(&v.confidence));
            let prefix = if v.one_on_one { "1:1: " } else { "not a 1:1: " };
            prop_assert!(v.reason.starts_with(prefix), "{}", v.reason);
            prop_assert!(!v.reason.contains(['\n', '\r']), "{}", v.reason);
            prop_assert_eq!(v.one_on_one, v.with.is_some() || v.reason.contains("include pattern"));
        }
    }
}

#[test]
fn without_master_a_cancelled_first_instance_does_not_cancel_the_series() {
    let mut ev = meeting("Alice / Sam", &[SAM, "alice@example.com"]);
    ev.rrules.clear();
    ev.recurrence_id = Some(at(10, 0));
    let mut gone = ev.clone();
    gone.status = EventStatus::Cancelled;
    let s = Series {
        uid: ev.uid.clone(),
        master: None,
        overrides: vec![gone.clone(), ev],
        default_tz: None,
    };
    assert!(detect(&s, &owner(), &DetectRules::default()).one_on_one);
    let all_gone = Series {
        overrides: vec![gone],
        ..s
    };
    let v = detect(&all_gone, &owner(), &DetectRules::default());
    assert!(
        !v.one_on_one && v.reason.contains("cancelled"),
        "{}",
        v.reason
    );
}

#[test]
fn a_notetaker_is_not_a_person_and_the_reason_names_it() {
    let v = run(meeting(
        "1:1 Alice / Sam",
        &[SAM, "alice@example.com", "fred@fireflies.ai"],
    ));
    assert!(v.one_on_one, "{}", v.reason);
    assert_eq!(with_email(&v), Some("alice@example.com"));
    assert_eq!(v.confidence, conf::TWO_AND_TITLE);
    assert!(v.has_notetaker());
    assert!(
        v.reason
            .contains("a notetaker (fred@fireflies.ai) is invited"),
        "{}",
        v.reason
    );
    // Without the pattern list the bot is a third person.
    let rules = DetectRules {
        notetakers: Vec::new(),
        ..DetectRules::default()
    };
    let ev = meeting("Weekly", &[SAM, "alice@example.com", "fred@fireflies.ai"]);
    let v = detect(&series(ev), &owner(), &rules);
    assert!(!v.one_on_one, "{}", v.reason);
    assert!(!v.has_notetaker());
}

#[test]
fn a_notetaker_and_a_room_leave_two_people() {
    let mut ev = meeting("Alice / Sam", &[SAM, "alice@example.com"]);
    ev.attendees.push(Attendee {
        person: person("bot-91@meetings.example", Some("Otter.ai Notetaker")),
        ..att("bot-91@meetings.example")
    });
    ev.attendees.push(Attendee {
        cutype: CalendarUserType::Room,
        ..att("b4-12@example.com")
    });
    ev.attendees.push(att("recorder@tldv.io"));
    let v = run(ev);
    assert!(v.one_on_one, "{}", v.reason);
    assert_eq!(with_email(&v), Some("alice@example.com"));
    assert!(
        v.reason
            .contains("notetakers (bot-91@meetings.example, recorder@tldv.io) are invited"),
        "{}",
        v.reason
    );
    // A third human is still a third human, bot or not.
    let v = run(meeting(
        "Weekly",
        &[
            SAM,
            "alice@example.com",
            "bob@example.com",
            "fred@fireflies.ai",
        ],
    ));
    assert!(!v.one_on_one, "{}", v.reason);
    assert!(v.reason.contains("3 people"), "{}", v.reason);
}
