//! Insights on hand-built histories whose answers are worked out by hand in the comments.

use chrono::{DateTime, Utc};

use super::chart::chart_svg;
use super::history::*;
use super::load;
use super::report::Report;
use super::stats::*;
use crate::agenda::{ItemState, Section};
use crate::attendance::Attendance;
use crate::store::OccurrenceState;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Tuesday 21 April 2026, 08:00 UTC: the moment every test looks from.
fn now() -> DateTime<Utc> {
    t("2026-04-21T08:00:00Z")
}

fn meeting(id: i64, original: &str, state: OccurrenceState, topics: Option<(u32, u32)>) -> Meeting {
    Meeting {
        id,
        original_start: t(original),
        start: t(original),
        state,
        attendance: match state {
            OccurrenceState::Upcoming => Attendance::Upcoming,
            OccurrenceState::Held => Attendance::Held,
            OccurrenceState::Cancelled => Attendance::Cancelled,
            OccurrenceState::Moved => Attendance::Moved,
        },
        topics: topics.map(|(direct, manager)| Topics { direct, manager }),
    }
}

fn item(
    text: &str,
    section: Section,
    state: ItemState,
    carried: u32,
    closed_in: Option<i64>,
) -> ItemFact {
    ItemFact {
        text: text.into(),
        section,
        state,
        times_carried: carried,
        closed_in,
    }
}

use OccurrenceState::{Cancelled, Held, Upcoming};

/// A weekly 1:1 on Mondays 09:00 UTC since 2 February: a cancelled week, a meeting moved to the
/// Tuesday, two weeks with no record (skipped), two cancellations, and next week upcoming with
/// no record for 20 April (skipped).
fn weekly() -> SeriesHistory {
    let mut moved = meeting(4, "2026-02-23T09:00:00Z", Held, Some((1, 1)));
    moved.start = t("2026-02-24T09:00:00Z");
    SeriesHistory {
        series_id: 1,
        title: "Alice / Sam weekly".into(),
        with: "alice@example.com".into(),
        tz: chrono_tz::Tz::UTC,
        meetings: vec![
            meeting(1, "2026-02-02T09:00:00Z", Held, None),
            meeting(2, "2026-02-09T09:00:00Z", Held, Some((1, 1))),
            meeting(3, "2026-02-16T09:00:00Z", Cancelled, None),
            moved,
            meeting(5, "2026-03-02T09:00:00Z", Held, Some((1, 1))),
            // 9 and 16 March: no record.
            meeting(6, "2026-03-23T09:00:00Z", Held, Some((0, 2))),
            meeting(7, "2026-03-30T09:00:00Z", Cancelled, None),
            meeting(8, "2026-04-06T09:00:00Z", Cancelled, None),
            meeting(9, "2026-04-13T09:00:00Z", Held, Some((2, 1))),
            // 20 April: no record.
            meeting(10, "2026-04-27T09:00:00Z", Upcoming, None),
        ],
        items: vec![
            item("Hire a designer", Section::Action, ItemState::Open, 4, None),
            item("Budget", Section::Manager, ItemState::Open, 3, None),
            item("Career", Section::Direct, ItemState::Open, 1, None),
            item("Q2 plan", Section::Action, ItemState::Done, 1, Some(9)),
            item("Offsite", Section::Manager, ItemState::Done, 0, Some(5)),
            // Deleted, not closed: never counts as closed.
            item("Old idea", Section::Direct, ItemState::Dropped, 0, Some(9)),
        ],
    }
}

#[test]
fn weekly_series_with_moved_cancelled_and_skipped_meetings() {
    let h = weekly();
    assert_eq!(cadence_days(&h.meetings), 7);
    let s = series_insights(&h, now(), &[4, 12]);
    // 4 weeks = [24 Mar 08:00, 21 Apr 08:00): 30 Mar and 6 Apr cancelled, 13 Apr held, 20 Apr
    // skipped (23 Mar 09:00 is before the window).
    let w4 = &s.windows[0];
    assert_eq!(
        (w4.held, w4.cancelled, w4.moved, w4.skipped),
        (1, 2, 0, 1),
        "{w4:?}"
    );
    assert_eq!((w4.items_closed, w4.closed_per_meeting), (1, Some(1.0)));
    assert_eq!((w4.direct_time_used, w4.direct_time_empty), (1, 0));
    assert_eq!((w4.direct_topics, w4.manager_topics), (2, 1));
    assert_eq!(w4.direct_share, Some(0.67));
    // 12 weeks = from 27 Jan: everything. Held: 2, 9 Feb, 24 Feb (moved), 2, 23 Mar, 13 Apr.
    let w12 = &s.windows[1];
    assert_eq!(
        (w12.held, w12.cancelled, w12.moved, w12.skipped),
        (6, 3, 1, 3),
        "{w12:?}"
    );
    // Closed in 13 Apr and 2 Mar, over six held meetings.
    assert_eq!((w12.items_closed, w12.closed_per_meeting), (2, Some(0.33)));
    // 2 Feb had no block read: five held meetings with known topics, 23 Mar's "you" empty.
    assert_eq!((w12.direct_time_used, w12.direct_time_empty), (4, 1));
    assert_eq!((w12.direct_topics, w12.manager_topics), (5, 6));
    assert_eq!(w12.direct_share, Some(0.45));
    // Last held 13 Apr 09:00: 7 days 23 hours before now.
    assert_eq!(
        s.last_held.map(|t| t.to_utc()),
        Some(t("2026-04-13T09:00:00Z"))
    );
    assert_eq!(s.days_since_last_held, Some(7));
    assert_eq!(s.cancelled_in_a_row, 0);
    assert_eq!(s.open_items, 3);
    let stale: Vec<(&str, u32)> = s
        .stale_items
        .iter()
        .map(|i| (i.text.as_str(), i.times_carried))
        .collect();
    assert_eq!(stale, [("Hire a designer", 4), ("Budget", 3)]);
    assert_eq!(s.signals, ["2 stale items (carried 3+ times)"]);
}

#[test]
fn a_series_that_just_started_has_nothing_to_report() {
    let h = SeriesHistory {
        series_id: 2,
        title: "New 1:1".into(),
        with: "new@example.com".into(),
        tz: chrono_tz::Tz::UTC,
        meetings: vec![meeting(1, "2026-04-22T09:00:00Z", Upcoming, None)],
        items: vec![item(
            "First topic",
            Section::Direct,
            ItemState::Open,
            0,
            None,
        )],
    };
    let s = series_insights(&h, now(), &[4, 12]);
    assert!(events(&h, now()).is_empty());
    assert_eq!(
        s.windows[1],
        WindowStats {
            weeks: 12,
            ..WindowStats::default()
        }
    );
    assert_eq!((s.last_held, s.days_since_last_held), (None, None));
    assert_eq!(s.cadence_days, 7);
    assert!(s.signals.is_empty(), "{:?}", s.signals);
    assert_eq!(s.open_items, 1);
}

/// Biweekly on Tuesdays 14:00: three held, six weeks without a record, held again on 7 April.
fn biweekly_with_gap() -> SeriesHistory {
    SeriesHistory {
        series_id: 3,
        title: "Bob / Sam".into(),
        with: "bob@example.com".into(),
        tz: chrono_tz::Tz::UTC,
        meetings: vec![
            meeting(20, "2026-01-27T14:00:00Z", Held, Some((0, 1))),
            meeting(21, "2026-02-10T14:00:00Z", Held, Some((1, 0))),
            meeting(22, "2026-02-24T14:00:00Z", Held, Some((1, 1))),
            meeting(23, "2026-04-07T14:00:00Z", Held, Some((0, 0))),
            meeting(24, "2026-04-21T14:00:00Z", Upcoming, None),
        ],
        items: vec![],
    }
}

#[test]
fn a_gap_of_several_weeks_counts_the_missing_slots_of_the_cadence() {
    let h = biweekly_with_gap();
    // Gaps 14, 14, 42, 14 days: cadence 14; the 42-day gap holds 2 missing slots (10, 24 Mar).
    assert_eq!(cadence_days(&h.meetings), 14);
    let skipped: Vec<DateTime<Utc>> = events(&h, now())
        .iter()
        .filter(|e| e.outcome == Outcome::Skipped)
        .map(|e| e.at)
        .collect();
    assert_eq!(
        skipped,
        [t("2026-03-10T14:00:00Z"), t("2026-03-24T14:00:00Z")]
    );
    let s = series_insights(&h, now(), &[4, 12]);
    assert_eq!((s.windows[0].held, s.windows[0].skipped), (1, 1));
    assert_eq!((s.windows[1].held, s.windows[1].skipped), (4, 2));
    assert_eq!(s.days_since_last_held, Some(13));
    // 13 days is within two cadences: no alarm about the gap; but 7 Apr, the only meeting of
    // the last 4 weeks, had no topic of the direct's.
    assert_eq!(
        s.signals,
        ["the direct brought no topic to 1 of 1 meetings"]
    );
    assert_eq!(s.windows[0].direct_share, None);
    assert_eq!(
        (
            s.windows[0].direct_time_used,
            s.windows[0].direct_time_empty
        ),
        (0, 1)
    );
}

#[test]
fn slots_after_the_last_record_are_skipped_once_a_day_has_passed() {
    // The daemon stopped after 9 March: 16, 23, 30 Mar, 6 and 13 Apr are skipped; 20 Apr 09:00
    // is less than a day before now, so not yet.
    let h = SeriesHistory {
        series_id: 4,
        title: "Carol".into(),
        with: "carol@example.com".into(),
        tz: chrono_tz::Tz::UTC,
        meetings: vec![
            meeting(30, "2026-03-02T09:00:00Z", Held, None),
            meeting(31, "2026-03-09T09:00:00Z", Held, None),
        ],
        items: vec![],
    };
    let s = series_insights(&h, now(), &[4, 12]);
    assert_eq!(s.windows[1].skipped, 5);
    assert_eq!(s.windows[0].skipped, 3);
    assert_eq!(s.days_since_last_held, Some(42));
    assert_eq!(s.signals, ["no 1:1 held for 42 days"]);
}

#[test]
fn two_cancellations_in_a_row_and_a_meeting_closed_as_moved() {
    let mut h = SeriesHistory {
        series_id: 5,
        title: "Dana".into(),
        with: "dana@example.com".into(),
        tz: chrono_tz::Tz::UTC,
        meetings: vec![
            meeting(40, "2026-03-23T09:00:00Z", OccurrenceState::Moved, None),
            meeting(41, "2026-03-30T09:00:00Z", Held, Some((1, 0))),
            meeting(42, "2026-04-06T09:00:00Z", Cancelled, None),
            meeting(43, "2026-04-13T09:00:00Z", Cancelled, None),
            meeting(44, "2026-04-27T09:00:00Z", Upcoming, None),
        ],
        items: vec![],
    };
    let s = series_insights(&h, now(), &[4]);
    // 23 Mar 09:00 is before the window; 20 Apr skipped does not break the run of cancellations.
    assert_eq!(s.cancelled_in_a_row, 2);
    let w = &s.windows[0];
    assert_eq!((w.held, w.cancelled, w.moved, w.skipped), (1, 2, 0, 1));
    assert!(
        s.signals
            .contains(&"the last 2 meetings were cancelled".to_string()),
        "{:?}",
        s.signals
    );
    // Closed as moved: moved, not held.
    h.meetings[0].start = t("2026-03-25T09:00:00Z");
    let w = window(&h, &events(&h, now()), now(), 4);
    assert_eq!((w.held, w.moved), (1, 1));
}

#[test]
fn cadence_prefers_the_most_common_gap_and_the_shorter_on_a_tie() {
    let m = |days: &[i64]| -> Vec<Meeting> {
        days.iter()
            .enumerate()
            .map(|(i, d)| Meeting {
                original_start: t("2026-01-05T09:00:00Z") + chrono::Duration::days(*d),
                ..meeting(i as i64, "2026-01-05T09:00:00Z", Held, None)
            })
            .collect()
    };
    assert_eq!(cadence_days(&m(&[0, 14, 28, 35])), 14);
    assert_eq!(cadence_days(&m(&[0, 7, 21])), 7);
    assert_eq!(cadence_days(&m(&[0])), 7);
    assert_eq!(cadence_days(&m(&[0, 28, 56, 91])), 28);
}

#[test]
fn totals_add_the_series_and_recompute_the_ratios() {
    let r = Report::build(&[weekly(), biweekly_with_gap()], now(), 12);
    assert_eq!(r.windows_weeks, [4, 12]);
    assert_eq!((r.series_tracked, r.stale_items), (2, 2));
    let w12 = &r.totals[1];
    assert_eq!(
        (w12.held, w12.cancelled, w12.moved, w12.skipped),
        (10, 3, 1, 5)
    );
    // Topics: weekly 5 direct / 6 manager, biweekly 2 / 2.
    assert_eq!((w12.direct_topics, w12.manager_topics), (7, 8));
    assert_eq!(w12.direct_share, Some(0.47));
    assert_eq!(w12.closed_per_meeting, Some(0.2));
}

#[test]
fn windows_are_the_short_one_and_the_asked_one() {
    assert_eq!(windows(12), [4, 12]);
    assert_eq!(windows(4), [4]);
    assert_eq!(windows(2), [2]);
}

#[test]
fn the_chart_has_one_bar_per_week_with_an_outcome() {
    let svg = chart_svg(&weekly(), now(), 4);
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"48\""),
        "{svg}"
    );
    assert_eq!(svg.matches("<rect").count(), 4, "{svg}");
    // 30 Mar and 6 Apr cancelled, 13 Apr held, 20 Apr skipped.
    assert_eq!(svg.matches("#c62828").count(), 2, "{svg}");
    assert!(
        svg.contains("<title>week of 2026-04-07: held</title>"),
        "{svg}"
    );
    assert!(
        svg.contains("<title>week of 2026-04-14: skipped</title>"),
        "{svg}"
    );
    assert!(!svg.contains("alice"), "no names in the chart: {svg}");
    let empty = SeriesHistory {
        meetings: vec![meeting(1, "2026-04-22T09:00:00Z", Upcoming, None)],
        ..weekly()
    };
    assert_eq!(chart_svg(&empty, now(), 4).matches("<rect").count(), 0);
}

#[test]
fn topics_are_read_from_the_final_block_with_the_written_headings() {
    use crate::agenda::{AgendaInput, Format, Item, Template, render};
    use chrono::TimeZone;
    let it = |id, section| Item {
        id,
        section,
        text: format!("topic {id}"),
        state: ItemState::Open,
        times_carried: 3,
        in_notes: false,
        position: id,
    };
    let items = [
        it(1, Section::Direct),
        it(2, Section::Manager),
        it(3, Section::Action),
    ];
    let input = AgendaInput {
        direct_name: "Alice",
        manager_name: "Sam",
        items: &items,
        notes: &[],
        last_meeting: None,
        start: chrono_tz::UTC
            .with_ymd_and_hms(2026, 4, 13, 9, 0, 0)
            .unwrap(),
        length: chrono::Duration::minutes(30),
        cancelled_in_a_row: 0,
        last_closed: Default::default(),
        prompt: Default::default(),
    };
    for format in [Format::Plain, Format::GoogleHtml] {
        let written = render(&input, format, &Template::default_template()).unwrap();
        assert_eq!(
            load::topics(&written, None),
            Some(Topics {
                direct: 1,
                manager: 1
            })
        );
        // During the meeting Alice added two topics of hers.
        let sep = if format == Format::Plain {
            "\n"
        } else {
            "<br>"
        };
        let final_block = written.text.replace(
            "Alice goes first.",
            &format!("Alice goes first.{sep}- [ ] Offsite{sep}- [x] Pay rise"),
        );
        assert_eq!(
            load::topics(&written, Some(&final_block)),
            Some(Topics {
                direct: 3,
                manager: 1
            }),
            "{format:?}"
        );
    }
}

/// Four weekly meetings the calendar kept (30 March to 20 April, Berlin time): one with a tick
/// (held), one with nothing (took place, no notes), one a person said did not take place
/// (skipped), one a person said was held though nothing was typed (held). Counted apart.
#[test]
fn meetings_without_evidence_and_marked_ones_are_counted_apart_from_held() {
    let berlin = chrono_tz::Europe::Berlin;
    let mut meetings = vec![
        meeting(1, "2026-03-30T08:00:00Z", Held, Some((1, 0))),
        meeting(2, "2026-04-06T08:00:00Z", Held, None),
        meeting(3, "2026-04-13T08:00:00Z", Held, None),
        meeting(4, "2026-04-20T08:00:00Z", Held, None),
    ];
    meetings[1].attendance = Attendance::NoNotes;
    meetings[2].attendance = Attendance::Skipped;
    let h = SeriesHistory {
        series_id: 9,
        title: "Erin".into(),
        with: "erin@example.com".into(),
        tz: berlin,
        meetings,
        items: vec![item("Ticked", Section::Direct, ItemState::Done, 0, Some(1))],
    };
    let s = series_insights(&h, now(), &[4]);
    let w = &s.windows[0];
    assert_eq!(
        (w.held, w.took_place_no_notes, w.skipped, w.cancelled),
        (2, 1, 1, 0),
        "{w:?}"
    );
    // The ratio is over held meetings only.
    assert_eq!(w.closed_per_meeting, Some(0.5));
    // The last held, 20 April at 10:00 in Berlin (summer time), with its offset.
    assert_eq!(
        s.last_held.map(|t| t.to_rfc3339()),
        Some("2026-04-20T10:00:00+02:00".to_string())
    );
    assert!(
        s.signals
            .iter()
            .any(|x| x.starts_with("1 meeting took place with no notes")),
        "{:?}",
        s.signals
    );
    let chart = chart_svg(&h, now(), 4);
    assert!(chart.contains("took place (no notes)"), "{chart}");
}

/// A series of `meetings` for the attention tests.
fn series(id: i64, title: &str, meetings: Vec<Meeting>) -> SeriesHistory {
    SeriesHistory {
        series_id: id,
        title: title.into(),
        with: format!("{}@example.com", title.to_lowercase()),
        tz: chrono_tz::Tz::UTC,
        meetings,
        items: Vec::new(),
    }
}

fn line(h: &SeriesHistory, name: &str) -> Option<super::Attention> {
    super::attention(h, &series_insights(h, now(), &[4, 12]), name, now())
}

#[test]
fn attention_names_each_reason_in_words_and_sorts_the_most_urgent_first() {
    // Weekly, last held 16 March (36 days, 5 slots missed); Alice's part empty three times.
    let alice = series(
        1,
        "Alice",
        vec![
            meeting(1, "2026-03-02T09:00:00Z", Held, Some((0, 1))),
            meeting(2, "2026-03-09T09:00:00Z", Held, Some((0, 2))),
            meeting(3, "2026-03-16T09:00:00Z", Held, Some((0, 1))),
        ],
    );
    // Biweekly, last held 2 March (50 days, 3 slots missed).
    let bob = series(
        2,
        "Bob",
        vec![
            meeting(4, "2026-02-16T09:00:00Z", Held, Some((1, 1))),
            meeting(5, "2026-03-02T09:00:00Z", Held, Some((1, 1))),
        ],
    );
    // Weekly, held 7 April (13 days), then cancelled twice.
    let chen = series(
        3,
        "Chen",
        vec![
            meeting(6, "2026-03-31T09:00:00Z", Held, Some((1, 0))),
            meeting(7, "2026-04-07T09:00:00Z", Held, Some((1, 0))),
            meeting(8, "2026-04-14T09:00:00Z", Cancelled, None),
            meeting(9, "2026-04-21T07:00:00Z", Cancelled, None),
        ],
    );
    // Weekly, held 13 April with a topic from the direct: on track.
    let dara = series(
        4,
        "Dara",
        vec![
            meeting(10, "2026-04-06T09:00:00Z", Held, Some((1, 0))),
            meeting(11, "2026-04-13T09:00:00Z", Held, Some((0, 1))),
        ],
    );
    assert_eq!(line(&dara, "Dara"), None);
    // Nothing recorded yet: nothing to say.
    assert_eq!(line(&series(5, "Eli", Vec::new()), "Eli"), None);

    let mut lines: Vec<_> = [&chen, &bob, &alice]
        .iter()
        .filter_map(|h| line(h, h.title.as_str()))
        .collect();
    super::by_urgency(&mut lines);
    let shown: Vec<(&str, Vec<&str>)> = lines
        .iter()
        .map(|l| {
            let reasons = l.reasons.iter().map(String::as_str).collect();
            (l.title.as_str(), reasons)
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "Alice",
                vec![
                    "no 1:1 held in 5 weeks",
                    "Alice brought no topic to the last 3"
                ]
            ),
            ("Bob", vec!["no 1:1 held in 7 weeks"]),
            ("Chen", vec!["the last 2 meetings were cancelled"]),
        ]
    );

    // The weekly history: two items carried 3+ times, nothing else.
    let l = line(&weekly(), "Alice").unwrap();
    assert_eq!(l.reasons, ["2 items carried 3+ times"]);
    // Never held while its slots passed.
    let never = series(
        6,
        "Fay",
        vec![
            meeting(12, "2026-04-06T09:00:00Z", Cancelled, None),
            meeting(13, "2026-04-13T09:00:00Z", Cancelled, None),
        ],
    );
    let l = line(&never, "Fay").unwrap();
    assert_eq!(
        l.reasons,
        ["no 1:1 held yet", "the last 2 meetings were cancelled"]
    );
}
