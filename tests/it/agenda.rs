//! The agenda engine, end to end on its pure functions: golden renders, round trips through
//! plain text and Google's HTML, random edits (proptest), and a multi-week series.
//!
//! Golden files live in `tests/data/agenda/<case>.{txt,html}`, one per case and format. After a
//! deliberate change to the template or the formatter, regenerate them with
//! `UPDATE_GOLDEN=1 cargo test --test it agenda::golden` and review the diff before committing;
//! a missing or different file otherwise fails the test.

use chrono::{DateTime, Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use oneonone::agenda::{
    AbsorbAction, AgendaInput, Anchor, Area, END_MARKER, Format, Item, ItemState, LastClosed,
    Ledger, MeetingOutcome, Note, ParsedLine, START_MARKER, Section, Template, WriteDecision,
    WriteRefusal, opted_out, parse_block, plan_absorb, plan_write, render, same_block, splice,
};
use proptest::prelude::*;

use crate::fixtures::item;

const MAX: usize = 64 * 1024;

fn at(tz: &str, y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Tz> {
    let tz: Tz = tz.parse().unwrap();
    tz.with_ymd_and_hms(y, m, d, h, mi, 0).single().unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Compares `actual` with `tests/data/agenda/<name>` (see `fixtures::golden`).
fn golden(name: &str, actual: &str) {
    crate::fixtures::golden("tests/data/agenda", name, actual);
}

fn input<'a>(items: &'a [Item], notes: &'a [Note]) -> AgendaInput<'a> {
    AgendaInput {
        direct_name: "Alice Martin",
        manager_name: "Bob Stone",
        items,
        notes,
        last_meeting: Some(date(2026, 2, 24)),
        start: at("Europe/Berlin", 2026, 3, 3, 10, 0),
        length: Duration::minutes(30),
        cancelled_in_a_row: 0,
        last_closed: Default::default(),
        prompt: Default::default(),
    }
}

fn golden_both(name: &str, input: &AgendaInput<'_>) {
    let t = Template::default_template();
    for (format, ext) in [(Format::Plain, "txt"), (Format::GoogleHtml, "html")] {
        let block = render(input, format, &t).unwrap();
        // Deterministic: the same state renders the same bytes.
        assert_eq!(block, render(input, format, &t).unwrap());
        golden(&format!("{name}.{ext}"), &block.text);
    }
}

#[test]
fn golden_first_meeting_ever() {
    let mut i = input(&[], &[]);
    i.last_meeting = None;
    golden_both("first_meeting", &i);
}

#[test]
fn golden_items_carried_twice() {
    let items = [
        item(1, Section::Direct, "Career goals for H2", 1),
        item(2, Section::Action, "Alice: draft the promotion case", 2),
        item(3, Section::Action, "Bob: ask HR about the travel budget", 3),
        item(4, Section::Action, "Share the offsite notes", 1),
        Item {
            state: ItemState::Done,
            ..item(5, Section::Manager, "Q2 planning", 0)
        },
        item(6, Section::Manager, "Hiring loop feedback", 0),
        Item {
            in_notes: true,
            ..item(7, Section::Action, "Alice: book the venue", 0)
        },
        Item {
            state: ItemState::Dropped,
            ..item(8, Section::Direct, "never shown", 0)
        },
    ];
    let notes = [
        Note::new(Area::Notes, "Good energy this week"),
        Note::new(Area::Direct, "- talk about the on-call rota"),
    ];
    // The last meeting closed some: the follow-ups say so.
    let i = AgendaInput {
        last_closed: LastClosed {
            done: 2,
            dropped: 1,
        },
        ..input(&items, &notes)
    };
    golden_both("carried_twice", &i);
}

#[test]
fn golden_empty_sections_after_cancellations() {
    let mut i = input(&[], &[]);
    i.cancelled_in_a_row = 2;
    golden_both("empty_sections", &i);
}

/// Issue 27: the day before, nothing queued: the question, then the direct's link; with a
/// topic queued, the link alone.
#[test]
fn golden_the_directs_link_and_the_nudge() {
    let link = "https://oneonone.example.com/d/k3Jx9vQ2LmN8pR4tW6yZ1aB5cD7eF0gH2iJ4kL6mN8o";
    let mut i = input(&[], &[]);
    i.prompt = oneonone::agenda::DirectPrompt {
        link: Some(link.into()),
        nudge: true,
    };
    golden_both("nudge_and_link", &i);
    let items = [item(1, Section::Direct, "Career goals for H2", 0)];
    let mut i = input(&items, &[]);
    i.prompt = oneonone::agenda::DirectPrompt {
        link: Some(link.into()),
        nudge: false,
    };
    golden_both("link_with_a_topic", &i);
}

#[test]
fn golden_45_and_60_minute_meetings() {
    let items = [item(1, Section::Direct, "Roadmap", 0)];
    let mut i = input(&items, &[]);
    i.length = Duration::minutes(45);
    golden_both("length_45", &i);
    i.length = Duration::minutes(60);
    i.start = at("America/New_York", 2026, 3, 9, 16, 30);
    golden_both("length_60", &i);
}

#[test]
fn golden_non_ascii_names() {
    let items = [item(1, Section::Direct, "Überstunden & Urlaub 🌴", 0)];
    let mut i = input(&items, &[]);
    i.direct_name = "Zoë Ångström-Łukasiewicz";
    i.manager_name = "李小龍";
    i.start = at("Asia/Tokyo", 2026, 3, 3, 9, 0);
    golden_both("non_ascii", &i);
}

#[test]
fn golden_item_text_with_html_and_marker_like_text() {
    let items = [
        item(
            1,
            Section::Direct,
            "<script>alert(1)</script> & <b>bold</b>",
            0,
        ),
        item(2, Section::Manager, END_MARKER, 0),
        item(3, Section::Action, "line one\nline two", 2),
    ];
    let notes = [Note::new(Area::Notes, START_MARKER)];
    let i = input(&items, &notes);
    golden_both("hostile_text", &i);
    // And the block still parses as one block with the same items.
    let t = Template::default_template();
    for format in [Format::Plain, Format::GoogleHtml] {
        let block = render(&i, format, &t).unwrap();
        let parsed = parse_block(&block.text, format, MAX).unwrap().unwrap();
        let plan = plan_absorb(&items, &block, &parsed);
        assert!(plan.actions.is_empty(), "{format:?}: {:?}", plan.actions);
        assert_eq!(plan.notes.len(), 1);
    }
}

fn sample_items() -> Vec<Item> {
    vec![
        item(1, Section::Direct, "Career goals", 0),
        item(2, Section::Direct, "Conference budget", 1),
        item(3, Section::Action, "Draft the promotion case", 2),
        item(4, Section::Manager, "Q2 planning", 0),
        Item {
            in_notes: true,
            ..item(5, Section::Action, "Book the venue", 0)
        },
    ]
}

#[test]
fn round_trip_render_then_parse_gives_the_same_items() {
    let items = sample_items();
    let t = Template::default_template();
    for format in [Format::Plain, Format::GoogleHtml] {
        let block = render(&input(&items, &[]), format, &t).unwrap();
        let parsed = parse_block(&block.text, format, MAX).unwrap().unwrap();
        let checkboxes: Vec<String> = parsed
            .lines
            .iter()
            .filter_map(|l| match l {
                ParsedLine::Checkbox { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            checkboxes,
            [
                "Career goals",
                "Conference budget",
                "Draft the promotion case (carried x2)",
                "Q2 planning",
                "Book the venue"
            ]
        );
        let plan = plan_absorb(&items, &block, &parsed);
        assert!(plan.actions.is_empty() && plan.notes.is_empty(), "{plan:?}");
        assert!(same_block(&parsed, &block));
    }
}

/// An item at the stale threshold asks for a decision in its label; the label is read back as
/// the renderer's, never as the item's text, in both formats (also after Google's rewrite), and
/// a person's edit of the text around it is absorbed as an edit of that item.
#[test]
fn stale_item_label_survives_parse_back_and_text_edits() {
    let items = [
        item(1, Section::Action, "Hire a designer", 3),
        item(2, Section::Direct, "Team offsite", 5),
        Item {
            state: ItemState::Done,
            ..item(3, Section::Manager, "Q2 planning", 4)
        },
    ];
    let t = Template::default_template();
    for format in [Format::Plain, Format::GoogleHtml] {
        let block = render(&input(&items, &[]), format, &t).unwrap();
        assert!(
            block
                .text
                .contains("[ ] Hire a designer (carried x3: decide, delegate or drop)"),
            "{format:?}: {}",
            block.text
        );
        // The direct's own topic keeps its count, without the request for a decision.
        assert!(
            block.text.contains("[ ] Team offsite (carried x5)")
                && !block.text.contains("Team offsite (carried x5:"),
            "{format:?}: {}",
            block.text
        );
        // Done: no decision left to make.
        assert!(
            block.text.contains("[x] Q2 planning (carried x4)"),
            "{}",
            block.text
        );
        let reads = [block.text.clone(), google_rewrite(&block.text)];
        for text in reads
            .iter()
            .take(if format == Format::Plain { 1 } else { 2 })
        {
            let parsed = parse_block(text, format, MAX).unwrap().unwrap();
            let plan = plan_absorb(&items, &block, &parsed);
            assert!(plan.actions.is_empty() && plan.notes.is_empty(), "{plan:?}");
            assert!(same_block(&parsed, &block));
        }
        // Edited text with the label kept, and with the label deleted: both are edits.
        let edited = block
            .text
            .replace(
                "Hire a designer (carried",
                "Hire a senior designer (carried",
            )
            .replace("Team offsite (carried x5)", "Team offsite in May");
        let parsed = parse_block(&edited, format, MAX).unwrap().unwrap();
        let plan = plan_absorb(&items, &block, &parsed);
        let mut actions = plan.actions.clone();
        actions.sort_by_key(|a| format!("{a:?}"));
        assert_eq!(
            actions,
            [
                AbsorbAction::Edit {
                    id: 1,
                    text: "Hire a senior designer".into()
                },
                AbsorbAction::Edit {
                    id: 2,
                    text: "Team offsite in May".into()
                },
            ],
            "{format:?}"
        );
        assert!(plan.notes.is_empty(), "{plan:?}");
        // Words typed after the label belong to the item, and the label moved to the middle of
        // the line causes no rewrite once absorbed.
        let edited = block.text.replace(
            "Hire a designer (carried x3: decide, delegate or drop)",
            "Hire a designer (carried x3: decide, delegate or drop) by Friday",
        );
        let parsed = parse_block(&edited, format, MAX).unwrap().unwrap();
        let plan = plan_absorb(&items, &block, &parsed);
        assert_eq!(
            plan.actions,
            [AbsorbAction::Edit {
                id: 1,
                text: "Hire a designer by Friday".into()
            }]
        );
        let mut after = items.clone();
        after[0].text = "Hire a designer by Friday".into();
        let again = render(&input(&after, &[]), format, &t).unwrap();
        assert!(same_block(&parsed, &again), "{format:?}");
        // Ticking a stale item: closed, and the hint the render then drops is no reason to write.
        let ticked = block
            .text
            .replace("[ ] Hire a designer", "[x] Hire a designer");
        let parsed = parse_block(&ticked, format, MAX).unwrap().unwrap();
        let plan = plan_absorb(&items, &block, &parsed);
        assert_eq!(plan.actions, [AbsorbAction::Close { id: 1 }]);
        after[0] = Item {
            state: ItemState::Done,
            ..items[0].clone()
        };
        let again = render(&input(&after, &[]), format, &t).unwrap();
        assert!(again.text.contains("[x] Hire a designer (carried x3)"));
        assert!(same_block(&parsed, &again), "{format:?}");
    }
}

/// What Google's editor does to a description after a web edit: blocks become `<div>`s, spaces
/// next to others become `&nbsp;`, quotes get escaped, links wrapped.
fn google_rewrite(html: &str) -> String {
    let mut out = String::from("<div>");
    out.push_str(
        &html
            .replace("<br>", "</div><div>")
            .replace("[ ] ", "[ ]&nbsp;")
            .replace('\'', "&#39;"),
    );
    out.push_str("</div>");
    out.replace("<div></div>", "<div><br></div>")
}

#[test]
fn round_trip_through_a_google_web_edit() {
    let items = sample_items();
    let t = Template::default_template();
    let block = render(&input(&items, &[]), Format::GoogleHtml, &t).unwrap();
    let desc = format!(
        "<a href=\"https://meet.example/abc\">Join</a><br><br>{}<br>after &amp; more",
        block.text
    );
    // Cosmetic rewrite only: nothing to absorb, nothing to write.
    let rewritten = google_rewrite(&desc);
    assert_ne!(rewritten, desc);
    let parsed = parse_block(&rewritten, Format::GoogleHtml, MAX)
        .unwrap()
        .unwrap();
    assert_eq!(
        parsed.before(&rewritten),
        "<div><a href=\"https://meet.example/abc\">Join</a></div><div><br></div><div>"
    );
    assert_eq!(
        parsed.after(&rewritten),
        "</div><div>after &amp; more</div>"
    );
    assert!(plan_absorb(&items, &block, &parsed).actions.is_empty());
    assert_eq!(
        plan_write(&rewritten, &block, true, MAX).unwrap(),
        WriteDecision::Unchanged
    );
    // Now a person ticks one item, edits one, adds a topic and a note in the editor.
    let edited = rewritten
        .replace("<li>[ ]&nbsp;Q2 planning</li>", "<li>[x]&nbsp;Q2 planning</li>")
        .replace("Conference budget", "Conference travel budget")
        .replace(
            "<li>[ ]&nbsp;Career goals</li>",
            "<li>[ ]&nbsp;Career goals</li><li>☐ Team offsite</li>",
        )
        .replace(
            "<li>[ ]&nbsp;Book the venue</li></ul>",
            "<li>[ ]&nbsp;Book the venue</li></ul><div>We agreed on &lt;b&gt;Friday&lt;/b&gt;&nbsp;&nbsp;demos</div>",
        );
    let parsed = parse_block(&edited, Format::GoogleHtml, MAX)
        .unwrap()
        .unwrap();
    let plan = plan_absorb(&items, &block, &parsed);
    assert_eq!(
        plan.actions,
        [
            AbsorbAction::Create {
                section: Section::Direct,
                text: "Team offsite".into(),
                done: false,
                in_notes: false,
                position: 1
            },
            AbsorbAction::Edit {
                id: 2,
                text: "Conference travel budget".into()
            },
            AbsorbAction::Close { id: 4 },
            // Typed between two topics: the others are renumbered around it.
            AbsorbAction::Place { id: 1, position: 0 },
        ]
    );
    assert_eq!(
        plan.notes,
        [Note {
            after: Some(Anchor::Item { id: 5 }),
            ..Note::new(Area::Notes, "We agreed on <b>Friday</b> demos")
        }]
    );
    assert!(plan.structure_found);
}

#[test]
fn write_is_refused_for_opt_out_size_and_removed_blocks() {
    let t = Template::default_template();
    let block = render(&input(&[], &[]), Format::Plain, &t).unwrap();
    assert!(opted_out("Standup #NO-AGENDA", Format::Plain));
    assert_eq!(
        plan_write("Standup #no-agenda", &block, false, MAX),
        Err(WriteRefusal::OptedOut)
    );
    assert!(matches!(
        plan_write(&"x".repeat(MAX + 1), &block, false, MAX),
        Err(WriteRefusal::Block(_))
    ));
    assert!(matches!(
        plan_write(&"x".repeat(MAX - 10), &block, false, MAX),
        Err(WriteRefusal::ResultTooLarge { .. })
    ));
    assert_eq!(
        plan_write("user text only", &block, true, MAX),
        Err(WriteRefusal::BlockRemoved)
    );
    let WriteDecision::Write(first) = plan_write("user text only", &block, false, MAX).unwrap()
    else {
        panic!("a first write is expected")
    };
    assert_eq!(first, format!("user text only\n\n{}", block.text));
    assert_eq!(
        plan_write(&first, &block, true, MAX).unwrap(),
        WriteDecision::Unchanged
    );
}

#[test]
fn deleting_everything_inside_the_block_drops_nothing() {
    let items = sample_items();
    let t = Template::default_template();
    let block = render(&input(&items, &[]), Format::Plain, &t).unwrap();
    let cleared = format!("{START_MARKER}\nsome text\n{END_MARKER}");
    let parsed = parse_block(&cleared, Format::Plain, MAX).unwrap().unwrap();
    let plan = plan_absorb(&items, &block, &parsed);
    assert!(!plan.structure_found);
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    assert_eq!(plan.notes.len(), 1);
}

#[test]
fn unknown_written_block_matches_by_text_and_never_drops() {
    let items = sample_items();
    let t = Template::default_template();
    let block = render(&input(&items, &[]), Format::Plain, &t).unwrap();
    let edited = block
        .text
        .replace("- [ ] Q2 planning\n", "- [x] Q2 planning\n")
        .replace("- [ ] Career goals\n", "");
    let parsed = parse_block(&edited, Format::Plain, MAX).unwrap().unwrap();
    let plan = plan_absorb(&items, &block.without_items(), &parsed);
    assert_eq!(plan.actions, [AbsorbAction::Close { id: 4 }]);
}

// ---------------------------------------------------------------------------------------------
// A pass as the daemon runs it, on an in-memory series.

struct Meeting {
    start: DateTime<Tz>,
    length: Duration,
}

/// Reads the block in `desc` (when there is one written before), absorbs it, renders, and returns
/// the description to write (or the same one when nothing changes).
fn pass(ledger: &mut Ledger, desc: &str, m: &Meeting, format: Format) -> String {
    let t = Template::default_template();
    let written_before = ledger.written().is_some();
    if let Some(written) = ledger.written().cloned() {
        let parsed = parse_block(desc, format, MAX).unwrap().unwrap();
        let plan = plan_absorb(ledger.items(), &written, &parsed);
        ledger.apply(&plan);
    }
    let block = ledger
        .render("Alice", "Bob", m.start, m.length, format, &t)
        .unwrap();
    match plan_write(desc, &block, written_before, MAX).unwrap() {
        WriteDecision::Unchanged => desc.to_string(),
        WriteDecision::Write(d) => d,
    }
}

fn by_text<'a>(ledger: &'a Ledger, text: &str) -> &'a Item {
    ledger
        .items()
        .iter()
        .find(|i| i.text == text)
        .unwrap_or_else(|| panic!("no item {text:?} in {:#?}", ledger.items()))
}

fn insert_after(desc: &str, anchor: &str, line: &str) -> String {
    let pos = desc
        .find(anchor)
        .unwrap_or_else(|| panic!("{anchor:?} not in {desc}"));
    let eol = desc[pos..].find('\n').map_or(desc.len(), |p| pos + p);
    format!("{}\n{line}{}", &desc[..eol], &desc[eol..])
}

fn delete_line(desc: &str, line: &str) -> String {
    let needle = format!("{line}\n");
    assert!(desc.contains(&needle), "{line:?} not in {desc}");
    desc.replacen(&needle, "", 1)
}

#[test]
fn four_weeks_of_ticks_additions_deletions_a_cancelled_week_and_a_moved_meeting() {
    let tz = "Europe/Berlin";
    let len = Duration::minutes(30);
    let mut l = Ledger::new();

    // Week 1 (first meeting ever): two topics queued from the CLI.
    l.add_item(Section::Direct, "Career goals");
    l.add_item(Section::Manager, "Q2 planning");
    let w1 = Meeting {
        start: at(tz, 2026, 3, 3, 10, 0),
        length: len,
    };
    let desc = pass(&mut l, "Zoom: https://zoom.example/j/1", &w1, Format::Plain);
    // The join link stays on top; the block follows it.
    assert!(
        desc.starts_with(&format!(
            "Zoom: https://zoom.example/j/1\n\n{START_MARKER}\n"
        )) && desc.ends_with(END_MARKER),
        "{desc}"
    );
    assert!(desc.contains("Follow-ups\n\nTopics from Bob"), "{desc}");
    // The direct adds a topic; an idle pass after the absorb writes nothing.
    let desc = insert_after(&desc, "- [ ] Career goals", "- [ ] Conference budget");
    let desc = pass(&mut l, &desc, &w1, Format::Plain);
    assert_eq!(pass(&mut l, &desc, &w1, Format::Plain), desc);
    // In the meeting: Q2 planning is ticked, two action items and a note are written.
    let desc = desc.replace("- [ ] Q2 planning", "- [x] Q2 planning");
    let desc = insert_after(
        &desc,
        "Notes and action items",
        "- [ ] Alice: draft the promotion case\n- [ ] Bob: ask HR about budget\nGood energy this week",
    );
    let desc = pass(&mut l, &desc, &w1, Format::Plain);
    assert!(desc.starts_with("Zoom: https://zoom.example/j/1\n\n"));
    assert_eq!(by_text(&l, "Q2 planning").state, ItemState::Done);
    assert!(by_text(&l, "Bob: ask HR about budget").in_notes);
    let rec = l.close(MeetingOutcome::Held, date(2026, 3, 3));
    assert_eq!(rec.closed, ["Q2 planning"]);
    assert_eq!(
        rec.carried,
        [
            ("Career goals".to_string(), 1),
            ("Conference budget".to_string(), 1),
            ("Alice: draft the promotion case".to_string(), 1),
            ("Bob: ask HR about budget".to_string(), 1),
        ]
    );
    assert_eq!(rec.notes[0].text, "Good energy this week");

    // Week 2: follow-ups from 3 Mar; a tick, an edit and a deletion.
    let w2 = Meeting {
        start: at(tz, 2026, 3, 10, 10, 0),
        length: len,
    };
    let user = "Zoom: https://zoom.example/j/1\n\nBring coffee.";
    let desc = pass(&mut l, user, &w2, Format::Plain);
    assert!(desc.starts_with(&format!("{user}\n\n{START_MARKER}")));
    assert!(desc.contains("Follow-ups from Tue 3 Mar 2026\n- [ ] Alice: draft the promotion case\n- [ ] Bob: ask HR about budget\n"));
    assert!(!desc.contains("carried x"));
    let bob = by_text(&l, "Bob: ask HR about budget").id;
    let desc = desc
        .replace("- [ ] Alice: draft", "- [X] Alice: draft")
        .replace("ask HR about budget", "ask HR about the travel budget");
    let desc = delete_line(&desc, "- [ ] Conference budget");
    let desc = pass(&mut l, &desc, &w2, Format::Plain);
    assert_eq!(
        l.item(bob).unwrap().text,
        "Bob: ask HR about the travel budget"
    );
    assert_eq!(by_text(&l, "Conference budget").state, ItemState::Dropped);
    assert!(desc.starts_with(&format!("{user}\n\n{START_MARKER}")));
    let rec = l.close(MeetingOutcome::Held, date(2026, 3, 10));
    assert_eq!(rec.closed, ["Alice: draft the promotion case"]);
    assert_eq!(
        rec.carried,
        [
            ("Career goals".to_string(), 2),
            ("Bob: ask HR about the travel budget".to_string(), 2),
        ]
    );

    // Week 3: the agenda shows "(carried x2)"; a topic is added, then the meeting is cancelled.
    let w3 = Meeting {
        start: at(tz, 2026, 3, 17, 10, 0),
        length: len,
    };
    let desc = pass(&mut l, "", &w3, Format::Plain);
    assert!(desc.contains("- [ ] Career goals (carried x2)"));
    assert!(desc.contains("- [ ] Bob: ask HR about the travel budget (carried x2)"));
    let desc = insert_after(&desc, "Topics from Bob", "- [ ] Offsite ideas");
    pass(&mut l, &desc, &w3, Format::Plain);
    let rec = l.close(MeetingOutcome::Cancelled, date(2026, 3, 17));
    assert!(rec.carried.is_empty() && rec.closed.is_empty());
    assert_eq!(by_text(&l, "Career goals").times_carried, 2);
    assert_eq!(by_text(&l, "Offsite ideas").times_carried, 0);

    // 24 Mar: skipped (no occurrence): nothing is closed, nothing changes.
    // Week 4: the 31 Mar meeting is moved to Wed 1 Apr 14:00 (Google this time).
    let w4 = Meeting {
        start: at(tz, 2026, 4, 1, 14, 0),
        length: Duration::minutes(45),
    };
    let mut l4 = l.clone();
    let desc = pass(&mut l4, "<p>Agenda below</p>", &w4, Format::GoogleHtml);
    assert!(desc.starts_with("<p>Agenda below</p><br>"), "{desc}");
    assert!(desc.contains("The last meeting was cancelled: its items moved here."));
    assert!(desc.contains("Follow-ups from Tue 10 Mar 2026"));
    assert!(desc.contains("<b>25 minutes for you: Alice goes first.</b>"));
    let desc = google_rewrite(&desc).replace("[ ]&nbsp;Career goals", "[x]&nbsp;Career goals");
    pass(&mut l4, &desc, &w4, Format::GoogleHtml);
    assert_eq!(by_text(&l4, "Career goals").state, ItemState::Done);
    let rec = l4.close(MeetingOutcome::Moved, date(2026, 4, 1));
    assert_eq!(rec.closed, ["Career goals"]);
    assert!(rec.carried.is_empty());
    let mut l = l4;

    // Week 5: held; the counts moved on without carries in weeks 3 and 4, then carry once.
    let w5 = Meeting {
        start: at(tz, 2026, 4, 7, 10, 0),
        length: len,
    };
    let desc = pass(&mut l, "", &w5, Format::Plain);
    assert!(desc.contains("Follow-ups from Tue 10 Mar 2026"));
    assert!(!desc.contains("Career goals"));
    let rec = l.close(MeetingOutcome::Held, date(2026, 4, 7));
    assert_eq!(
        rec.carried,
        [
            ("Bob: ask HR about the travel budget".to_string(), 3),
            ("Offsite ideas".to_string(), 1),
        ]
    );
    let outcomes: Vec<_> = l.history().iter().map(|r| (r.date, r.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            (date(2026, 3, 3), MeetingOutcome::Held),
            (date(2026, 3, 10), MeetingOutcome::Held),
            (date(2026, 3, 17), MeetingOutcome::Cancelled),
            (date(2026, 4, 1), MeetingOutcome::Moved),
            (date(2026, 4, 7), MeetingOutcome::Held),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Random text around the block, random edits inside it, random concurrent changes.

#[derive(Debug, Clone)]
enum Edit {
    Tick(usize),
    Untick(usize),
    Delete(usize),
    Append(usize, String),
    /// Insert a line after the n-th line of the block (never before the start marker), in one
    /// of the forms people type (see [`STYLES`]).
    Insert(usize, String, usize),
    /// Insert a plain line somewhere after the notes heading (a note).
    Note(usize, String),
}

/// How a typed line starts: a checkbox, nothing, the bullets clients re-type, a number.
const STYLES: [&str; 7] = ["- [ ] ", "", "- ", "* ", "• ", "1. ", "2) "];

fn word() -> impl Strategy<Value = String> {
    "[a-z]{3,9}( [a-z0-9]{1,8}){0,3}"
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Tick),
        any::<usize>().prop_map(Edit::Untick),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), word()).prop_map(|(i, w)| Edit::Append(i, w)),
        (any::<usize>(), word(), 0..STYLES.len()).prop_map(|(i, w, b)| Edit::Insert(i, w, b)),
    ]
}

fn outside_plain() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,;:!?#<>&\"'()\\[\\]\t\u{a0}é–-]{0,40}(\n[a-zA-Z0-9 <>&\u{a0}-]{0,30}){0,3}"
}

fn outside_html() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("<br>".to_string()),
            Just("<b>".to_string()),
            Just("</b>".to_string()),
            Just("<div>".to_string()),
            Just("</div>".to_string()),
            Just("&nbsp;".to_string()),
            Just("&amp;".to_string()),
            Just("<a href=\"https://x.example/?a=1&amp;b=2\">link</a>".to_string()),
            "[a-zA-Z0-9 .,;:!?()\u{a0}é]{1,12}",
        ],
        0..8,
    )
    .prop_map(|v| v.concat())
}

/// Applies edits to the lines strictly inside the block; returns the new lines and the lines a
/// person typed or changed (without their checkbox), as they stand after all the edits.
fn apply_edits(block_lines: &[String], edits: &[Edit]) -> (Vec<String>, Vec<String>) {
    let original: Vec<String> = block_lines[1..block_lines.len() - 1].to_vec();
    let mut lines = original.clone();
    let item_idx = |lines: &[String], n: usize| -> Option<usize> {
        let idx: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with("- [ ] ") || lines[i].starts_with("- [x] "))
            .collect();
        (!idx.is_empty()).then(|| idx[n % idx.len()])
    };
    for e in edits {
        match e {
            Edit::Tick(n) => {
                if let Some(i) = item_idx(&lines, *n) {
                    lines[i] = lines[i].replacen("- [ ] ", "- [x] ", 1);
                }
            }
            Edit::Untick(n) => {
                if let Some(i) = item_idx(&lines, *n) {
                    lines[i] = lines[i].replacen("- [x] ", "- [ ] ", 1);
                }
            }
            Edit::Delete(n) => {
                if let Some(i) = item_idx(&lines, *n) {
                    lines.remove(i);
                }
            }
            Edit::Append(n, w) => {
                if let Some(i) = item_idx(&lines, *n) {
                    lines[i] = format!("{} {w}", lines[i]);
                }
            }
            Edit::Insert(n, w, style) => {
                let at = if lines.is_empty() {
                    0
                } else {
                    n % (lines.len() + 1)
                };
                lines.insert(at, format!("{}{w}", STYLES[style % STYLES.len()]));
            }
            Edit::Note(n, w) => {
                let heading = lines
                    .iter()
                    .position(|l| l.starts_with("Notes and action items"))
                    .map_or(lines.len(), |h| h + 1);
                lines.insert(heading + n % (lines.len() - heading + 1), w.clone());
            }
        }
    }
    let typed = lines
        .iter()
        .filter(|l| !original.contains(l))
        .map(|l| {
            let l = l.strip_prefix("- [x] ").unwrap_or(l);
            STYLES
                .iter()
                .filter(|s| !s.is_empty())
                .find_map(|s| l.strip_prefix(s))
                .unwrap_or(l)
                .to_string()
        })
        .collect();
    (lines, typed)
}

fn check_typed_kept(ledger: &Ledger, typed: &[String]) -> Result<(), TestCaseError> {
    for t in typed {
        // A carry label left in a changed line is the renderer's, not typed.
        let (t, _) = oneonone::agenda::split_carry_label(t);
        let t = t.trim();
        let in_items = ledger
            .items()
            .iter()
            .any(|i| i.state != ItemState::Dropped && i.text.contains(t));
        let in_notes = ledger.notes().iter().any(|n| n.text.contains(t));
        prop_assert!(
            in_items || in_notes,
            "typed {t:?} is neither an item nor a note: {:#?} {:#?}",
            ledger.items(),
            ledger.notes()
        );
    }
    Ok(())
}

/// A series with the seed's items, carried through 0 to 3 held meetings (by the seed's length),
/// so the edits also meet the `(carried x2)` and stale `(carried x3: ...)` labels.
fn seeded_ledger(seed: &[(u8, String)]) -> Ledger {
    let mut l = Ledger::new();
    for (s, text) in seed {
        let section = [Section::Direct, Section::Manager, Section::Action][*s as usize % 3];
        l.add_item(section, text);
    }
    for week in 0..seed.len() % 4 {
        l.close(MeetingOutcome::Held, date(2026, 4, 7 + week as u32 * 7));
    }
    l
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn plain_text_outside_is_kept_and_typed_lines_are_never_lost(
        before in outside_plain(),
        after in outside_plain(),
        seed in prop::collection::vec((0u8..3, word()), 0..6),
        edits in prop::collection::vec(edit(), 0..8),
        concurrent in prop::option::of((0u8..3, word())),
    ) {
        let m = Meeting { start: at("Europe/Paris", 2026, 5, 5, 9, 30), length: Duration::minutes(30) };
        let mut l = seeded_ledger(&seed);
        let t = Template::default_template();
        let block = l.render("Ann", "Max", m.start, m.length, Format::Plain, &t).unwrap();
        let desc = format!("{before}\n{}\n{after}", block.text);
        let block_lines: Vec<String> = block.text.split('\n').map(str::to_string).collect();
        let (inner, typed) = apply_edits(&block_lines, &edits);
        let edited = format!("{before}\n{START_MARKER}\n{}\n{END_MARKER}\n{after}", inner.join("\n"));
        prop_assert_ne!(desc.len(), 0);
        // Someone adds an item from the CLI while the person edits: the pass renders both.
        if let Some((s, w)) = &concurrent {
            l.add_item([Section::Direct, Section::Manager, Section::Action][*s as usize % 3], w);
        }
        let out = pass(&mut l, &edited, &m, Format::Plain);
        prop_assert!(out.starts_with(&format!("{before}\n")), "before changed: {out:?}");
        prop_assert!(out.ends_with(&format!("\n{after}")), "after changed: {out:?}");
        check_typed_kept(&l, &typed)?;
        if let Some((_, w)) = &concurrent {
            prop_assert!(out.contains(w.as_str()));
        }
        // A second pass with nothing new changes nothing: no write storm.
        let again = pass(&mut l, &out, &m, Format::Plain);
        prop_assert_eq!(&again, &out);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn google_html_outside_is_kept_and_typed_lines_are_never_lost(
        before in outside_html(),
        after in outside_html(),
        seed in prop::collection::vec((0u8..3, word()), 0..6),
        edits in prop::collection::vec(edit(), 0..8),
        divs in any::<bool>(),
    ) {
        let m = Meeting { start: at("America/Chicago", 2026, 11, 2, 8, 0), length: Duration::minutes(60) };
        let mut l = seeded_ledger(&seed);
        let t = Template::default_template();
        let block = l.render("Ann", "Max", m.start, m.length, Format::GoogleHtml, &t).unwrap();
        // The person edits in Google's web editor, which re-serializes the block: lines as
        // `<div>`s or `<br>`s, entities for what needs them.
        let plain = render(
            &AgendaInput {
                direct_name: "Ann", manager_name: "Max", items: &l.agenda_items(), notes: l.notes(),
                last_meeting: None, start: m.start, length: m.length, cancelled_in_a_row: 0,
                last_closed: Default::default(),
                prompt: Default::default(),
            },
            Format::Plain,
            &t,
        ).unwrap();
        let block_lines: Vec<String> = plain.text.split('\n').map(str::to_string).collect();
        let (inner, typed) = apply_edits(&block_lines, &edits);
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace("  ", " &nbsp;");
        let body: String = if divs {
            inner.iter().map(|l| if l.is_empty() { "<div><br></div>".to_string() } else { format!("<div>{}</div>", esc(l)) }).collect()
        } else {
            inner.iter().map(|l| format!("{}<br>", esc(l))).collect()
        };
        // Google's editor also wraps the marker lines themselves in `<div>`s.
        let edited = if divs {
            format!("{before}<br><div>{START_MARKER}</div>{body}<div>{END_MARKER}</div>{after}")
        } else {
            format!("{before}<br>{START_MARKER}<br>{body}{END_MARKER}<br>{after}")
        };
        let _ = &block;
        let out = pass(&mut l, &edited, &m, Format::GoogleHtml);
        let (head, tail) = if divs {
            (format!("{before}<br><div>"), format!("</div>{after}"))
        } else {
            (format!("{before}<br>"), format!("<br>{after}"))
        };
        prop_assert!(out.starts_with(&head), "before changed: {out:?}");
        prop_assert!(out.ends_with(&tail), "after changed: {out:?}");
        check_typed_kept(&l, &typed)?;
        let again = pass(&mut l, &out, &m, Format::GoogleHtml);
        prop_assert_eq!(&again, &out);
    }
}

fn gentle_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Tick),
        any::<usize>().prop_map(Edit::Untick),
        (any::<usize>(), word()).prop_map(|(i, w)| Edit::Append(i, w)),
        (any::<usize>(), word()).prop_map(|(i, w)| Edit::Note(i, w)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Notes typed anywhere, ticks and edited items are absorbed without rewriting the invite:
    /// the re-render reproduces what the person wrote, where they wrote it.
    #[test]
    fn notes_ticks_and_edits_cause_no_write(
        seed in prop::collection::vec((0u8..3, word()), 0..6),
        edits in prop::collection::vec(gentle_edit(), 1..8),
        html in any::<bool>(),
    ) {
        let format = if html { Format::GoogleHtml } else { Format::Plain };
        let m = Meeting { start: at("Europe/London", 2026, 10, 25, 9, 0), length: Duration::minutes(30) };
        let mut l = seeded_ledger(&seed);
        let t = Template::default_template();
        let plain = l.render("Alice", "Bob", m.start, m.length, Format::Plain, &t).unwrap();
        let block_lines: Vec<String> = plain.text.split('\n').map(str::to_string).collect();
        let (inner, _) = apply_edits(&block_lines, &edits);
        let edited = if html {
            let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
            let body: String = inner.iter().map(|l| format!("<div>{}</div>", esc(l))).collect();
            l.render("Alice", "Bob", m.start, m.length, format, &t).unwrap();
            format!("Call link<br>{START_MARKER}{body}{END_MARKER}")
        } else {
            format!("Call link\n{START_MARKER}\n{}\n{END_MARKER}", inner.join("\n"))
        };
        let out = pass(&mut l, &edited, &m, format);
        prop_assert_eq!(&out, &edited);
    }
}

#[test]
fn items_typed_between_others_keep_their_place_and_cause_no_write() {
    let m = Meeting {
        start: at("Europe/Berlin", 2026, 3, 3, 10, 0),
        length: Duration::minutes(30),
    };
    let mut l = Ledger::new();
    for t in ["First", "Second", "Third"] {
        l.add_item(Section::Direct, t);
    }
    l.add_item(Section::Action, "Old follow-up");
    let desc = pass(&mut l, "", &m, Format::Plain);
    let edited = desc
        .replace("- [ ] Second\n", "- [ ] Urgent one\n- [ ] Second\n")
        .replace("- [ ] First\n", "")
        .replace("- [ ] Third\n", "- [ ] Third\n- [ ] Last one\n")
        .replace(
            "Notes and action items\n",
            "Notes and action items\nWe met in person\n- [ ] Ann: book a room\nMore notes\n",
        );
    let out = pass(&mut l, &edited, &m, Format::Plain);
    assert_eq!(out, edited);
    let direct = l
        .agenda_items()
        .into_iter()
        .filter(|i| i.section == Section::Direct)
        .count();
    assert_eq!(direct, 4, "First was dropped, two were added");
    assert_eq!(by_text(&l, "First").state, ItemState::Dropped);
    assert!(by_text(&l, "Ann: book a room").in_notes);
    assert!(out.contains("- [ ] Urgent one\n- [ ] Second\n- [ ] Third\n- [ ] Last one\n"));
}

#[test]
fn splice_of_rendered_block_is_found_again_at_the_same_place() {
    let t = Template::default_template();
    let block = render(&input(&sample_items(), &[]), Format::GoogleHtml, &t).unwrap();
    let desc = splice("<div>hello</div>", &block.text, Format::GoogleHtml, MAX).unwrap();
    let parsed = parse_block(&desc, Format::GoogleHtml, MAX)
        .unwrap()
        .unwrap();
    assert_eq!(&desc[parsed.span.clone()], block.text);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Any input at all: reading, splicing and planning never panic, and a splice either keeps
    /// every byte outside the block or refuses.
    #[test]
    fn arbitrary_descriptions_never_panic(
        raw in "(\\PC|<|>|&|;|#|\n|\r|\u{a0}|<br>|<li>|</div>|&nbsp;|── end of oneonone agenda ──|── oneonone agenda ──|── oneonone agenda: edit inside, keep these lines ──|- \\[x\\] ){0,60}",
        html in any::<bool>(),
    ) {
        let format = if html { Format::GoogleHtml } else { Format::Plain };
        let t = Template::default_template();
        let items = sample_items();
        let block = render(&input(&items, &[]), format, &t).unwrap();
        match parse_block(&raw, format, MAX) {
            Ok(Some(parsed)) => {
                let _ = plan_absorb(&items, &block, &parsed);
                let out = splice(&raw, &block.text, format, MAX).unwrap();
                prop_assert!(out.starts_with(&raw[..parsed.span.start]));
                prop_assert!(out.ends_with(&raw[parsed.span.end..]));
            }
            Ok(None) => {
                // No block yet: the event's text stays first, byte for byte.
                let out = splice(&raw, &block.text, format, MAX).unwrap();
                prop_assert!(out.starts_with(raw.as_str()));
                prop_assert!(out.ends_with(block.text.as_str()));
            }
            Err(e) => prop_assert!(splice(&raw, &block.text, format, MAX) == Err(e)),
        }
    }
}

#[test]
fn a_description_stuffed_with_lines_is_planned_in_full() {
    // Its speed (a guard against quadratic matching) is `plan_absorb_2500_new_lines` in
    // benches/hot.rs: a timed assertion here failed on a loaded machine.
    let items: Vec<Item> = (1..=300)
        .map(|i| item(i, Section::Direct, &format!("topic number {i}"), 0))
        .collect();
    let t = Template::default_template();
    let block = render(&input(&items, &[]), Format::Plain, &t).unwrap();
    let stuffing = "- [ ] some other thing\n".repeat(2500);
    let text = block.text.replace("- [ ] topic number 1\n", &stuffing);
    assert!(text.len() < MAX);
    let parsed = parse_block(&text, Format::Plain, MAX).unwrap().unwrap();
    let plan = plan_absorb(&items, &block, &parsed);
    let count = |f: fn(&AbsorbAction) -> bool| plan.actions.iter().filter(|a| f(a)).count();
    assert_eq!(count(|a| matches!(a, AbsorbAction::Create { .. })), 2500);
    assert_eq!(count(|a| matches!(a, AbsorbAction::Drop { id: 1 })), 1);
    // The new lines came first, so the other 299 topics are renumbered after them.
    assert_eq!(count(|a| matches!(a, AbsorbAction::Place { .. })), 299);
}

// ---------------------------------------------------------------------------------------------
// A short invite; people's own writing, as each client leaves it; an upgrade from the old template.

/// The lines a person sees in a block (plain text, or Google's HTML read as lines).
fn seen_lines(block: &str, format: Format) -> Vec<String> {
    let parsed = parse_block(block, format, MAX).unwrap().unwrap();
    let mut lines = vec![START_MARKER.to_string()];
    lines.extend(parsed.lines.iter().map(ParsedLine::canonical));
    lines.push(END_MARKER.to_string());
    lines
}

#[test]
fn an_agenda_with_nothing_queued_is_short_and_keeps_the_method() {
    let t = Template::default_template();
    // Before the first meeting; after one that closed nothing; after one that closed some
    // (the follow-ups heading says "(last time: 2 done, 1 dropped)": no line more).
    let closed = LastClosed {
        done: 2,
        dropped: 1,
    };
    let cases = [
        (None, LastClosed::default()),
        (Some(date(2026, 2, 24)), LastClosed::default()),
        (Some(date(2026, 2, 24)), closed),
    ];
    for (last, last_closed) in cases {
        for format in [Format::Plain, Format::GoogleHtml] {
            let i = AgendaInput {
                last_meeting: last,
                last_closed,
                prompt: Default::default(),
                ..input(&[], &[])
            };
            let block = render(&i, format, &t).unwrap();
            let lines = seen_lines(&block.text, format);
            assert!(
                lines.len() <= 13,
                "{format:?}: {} lines\n{lines:#?}",
                lines.len()
            );
            if format == Format::Plain {
                let non_empty = block.text.lines().filter(|l| !l.trim().is_empty()).count();
                assert!(
                    non_empty <= 13,
                    "{non_empty} non-empty lines:\n{}",
                    block.text
                );
            }
            for l in &lines {
                assert!(l.chars().count() <= 100, "{format:?}: too long: {l:?}");
            }
            // The method, in order: the direct first, the two halves, follow-ups, the five
            // questions, a place for notes and actions.
            let text = lines.join("\n");
            let mut at = 0;
            for part in [
                "15 minutes for you: Alice Martin goes first",
                "15 minutes for me",
                "Follow-ups",
                "Topics from Bob Stone",
                "- How are things going?",
                "- Any feedback for me?",
                "- Any blockers or bottlenecks?",
                "- Any ideas or questions?",
                "- Anything I can do to help?",
                "Notes and action items",
            ] {
                let found = text[at..].find(part).unwrap_or_else(|| {
                    panic!("{format:?}: {part:?} missing or out of order:\n{text}")
                });
                at += found + part.len();
            }
            // No title repeating what the calendar shows (the event's name, date and time).
            assert!(
                !text.contains("10:00") && !text.contains("Mar 2026,"),
                "{text}"
            );
        }
    }
}

/// Issue 27: the direct's way in costs at most two short lines of that budget, in the direct's
/// section: the link line, and the day before with nothing queued, the question.
#[test]
fn the_link_and_the_nudge_add_two_short_lines_under_the_directs_heading() {
    let t = Template::default_template();
    // An ordinary public address: the line is its 74 characters and 17 more.
    let link = format!("https://oneonone.example.com/d/{}", "x".repeat(43));
    for format in [Format::Plain, Format::GoogleHtml] {
        let bare = seen_lines(&render(&input(&[], &[]), format, &t).unwrap().text, format);
        let i = AgendaInput {
            prompt: oneonone::agenda::DirectPrompt {
                link: Some(link.clone()),
                nudge: true,
            },
            ..input(&[], &[])
        };
        let block = render(&i, format, &t).unwrap();
        let lines = seen_lines(&block.text, format);
        assert_eq!(lines.len(), bare.len() + 2, "{format:?}: {lines:#?}");
        for l in &lines {
            assert!(l.chars().count() <= 100, "{format:?}: too long: {l:?}");
        }
        let heading = lines
            .iter()
            .position(|l| l.contains("minutes for you"))
            .unwrap();
        assert_eq!(
            lines[heading + 1],
            "Anything on your mind for this one? Add a line below, or use the link."
        );
        assert_eq!(lines[heading + 2], format!("Add your topics: {link}"));
        // With a topic queued (no nudge), only the link line.
        let i = AgendaInput {
            prompt: oneonone::agenda::DirectPrompt {
                link: Some(link.clone()),
                nudge: false,
            },
            ..input(&[], &[])
        };
        let lines = seen_lines(&render(&i, format, &t).unwrap().text, format);
        assert_eq!(lines.len(), bare.len() + 1, "{format:?}: {lines:#?}");
    }
}

/// One way a client leaves the description after a person typed into it.
struct Client {
    name: &'static str,
    format: Format,
    /// The event's own text, above the block.
    outside: &'static str,
    /// Types `lines` after the line holding `anchor`, as this client would.
    type_after: fn(&str, &str, &[&str]) -> String,
}

/// Inserts `new` lines after the first line holding `anchor` in plain text.
fn plain_type(desc: &str, anchor: &str, new: &[&str]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut done = false;
    for l in desc.split('\n') {
        out.push(l.to_string());
        if !done && l.contains(anchor) {
            out.extend(new.iter().map(|n| n.to_string()));
            done = true;
        }
    }
    assert!(done, "{anchor:?} not in {desc}");
    out.join("\n")
}

/// Apple Calendar: plain text, bullets re-typed as `•`, trailing spaces.
fn apple_type(desc: &str, anchor: &str, new: &[&str]) -> String {
    let typed: Vec<String> = new
        .iter()
        .map(|n| format!("{}  ", n.replacen("- ", "• ", 1)))
        .collect();
    let typed: Vec<&str> = typed.iter().map(String::as_str).collect();
    plain_type(desc, anchor, &typed)
}

/// Thunderbird: plain text with CRLF line ends everywhere, `*` bullets.
fn thunderbird_type(desc: &str, anchor: &str, new: &[&str]) -> String {
    let lf = desc.replace("\r\n", "\n");
    let typed: Vec<String> = new.iter().map(|n| n.replacen("- ", "* ", 1)).collect();
    let typed: Vec<&str> = typed.iter().map(String::as_str).collect();
    plain_type(&lf, anchor, &typed).replace('\n', "\r\n")
}

/// Outlook through CalDAV: DESCRIPTION as plain text (X-ALT-DESC's HTML beside it is never
/// read, and the ICS layer drops it from an occurrence it writes), CRLF, `·` + tab bullets,
/// numbers with a tab.
fn outlook_type(desc: &str, anchor: &str, new: &[&str]) -> String {
    let lf = desc.replace("\r\n", "\n");
    let typed: Vec<String> = new
        .iter()
        .map(|n| n.replacen("- ", "·\t", 1).replacen("1. ", "1.\t", 1))
        .collect();
    let typed: Vec<&str> = typed.iter().map(String::as_str).collect();
    plain_type(&lf, anchor, &typed).replace('\n', "\r\n")
}

/// Google's web editor: the description comes back as HTML with `<div>` lines, typed bullets
/// as `<ul><li>`, numbers as `<ol><li>`, spaces as `&nbsp;`.
fn google_type(desc: &str, anchor: &str, new: &[&str]) -> String {
    let html = google_rewrite(desc);
    let at = html
        .find(anchor)
        .unwrap_or_else(|| panic!("{anchor:?} not in {html}"));
    let end = at + html[at..].find("</div>").unwrap() + "</div>".len();
    let typed: String = new
        .iter()
        .map(|n| {
            let esc = |s: &str| {
                s.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace(' ', "&nbsp;")
            };
            if let Some(t) = n.strip_prefix("- [ ] ") {
                format!("<ul><li>[ ]&nbsp;{}</li></ul>", esc(t))
            } else if let Some(t) = n.strip_prefix("- ") {
                format!("<ul><li>{}</li></ul>", esc(t))
            } else if let Some(t) = n.strip_prefix("1. ") {
                format!("<ol><li>{}</li></ol>", esc(t))
            } else {
                format!("<div>{}<br></div>", esc(n))
            }
        })
        .collect();
    format!("{}{typed}{}", &html[..end], &html[end..])
}

const CLIENTS: [Client; 5] = [
    Client {
        name: "plain",
        format: Format::Plain,
        outside: "Join: https://meet.example/j/42",
        type_after: plain_type,
    },
    Client {
        name: "Apple Calendar",
        format: Format::Plain,
        outside: "Join: https://meet.example/j/42\nDial-in: +1 555 0100",
        type_after: apple_type,
    },
    Client {
        name: "Thunderbird",
        format: Format::Plain,
        outside: "Join: https://meet.example/j/42",
        type_after: thunderbird_type,
    },
    Client {
        name: "Outlook (CalDAV)",
        format: Format::Plain,
        outside: "Join: https://meet.example/j/42",
        type_after: outlook_type,
    },
    Client {
        name: "Google web editor",
        format: Format::GoogleHtml,
        outside: "<a href=\"https://meet.example/j/42\">Join</a>",
        type_after: google_type,
    },
];

#[test]
fn typed_topics_in_every_form_and_client_become_items_of_their_section_and_carry() {
    let m = Meeting {
        start: at("Europe/Berlin", 2026, 3, 3, 10, 0),
        length: Duration::minutes(30),
    };
    for c in CLIENTS {
        let mut l = Ledger::new();
        l.add_item(Section::Manager, "Q2 planning");
        let desc = pass(&mut l, c.outside, &m, c.format);
        // The join link stays on top.
        assert!(desc.starts_with(c.outside), "{}: {desc}", c.name);
        let desc = (c.type_after)(
            &desc,
            "Alice goes first",
            &[
                "- need a new laptop",
                "Can we talk about the conference budget?",
                "1. Promotion timeline",
                "- [ ] Desk move",
                // Only repeat a prompt: not items.
                "- How are things going?",
                "Any feedback for me?",
            ],
        );
        let desc = (c.type_after)(&desc, "Follow-ups", &["- check the budget numbers"]);
        let desc = (c.type_after)(&desc, "Topics from Bob", &["Hiring plan for Q3"]);
        let desc = (c.type_after)(
            &desc,
            "Notes and action items",
            &[
                "We met in the kitchen",
                "- [ ] Alice: send the slides",
                "- a bullet note",
            ],
        );
        let outside_now = {
            let p = parse_block(&desc, c.format, MAX).unwrap().unwrap();
            p.before(&desc).to_string()
        };
        let out = pass(&mut l, &desc, &m, c.format);
        // Every byte the client left outside the block is kept.
        assert!(out.starts_with(&outside_now), "{}: {out}", c.name);
        let open = |section: Section| -> Vec<String> {
            let mut v: Vec<Item> = l
                .agenda_items()
                .into_iter()
                .filter(|i| i.section == section && !i.in_notes)
                .collect();
            v.sort_by_key(|i| (i.position, i.id));
            v.into_iter().map(|i| i.text).collect()
        };
        assert_eq!(
            open(Section::Direct),
            [
                "need a new laptop",
                "Can we talk about the conference budget?",
                "Promotion timeline",
                "Desk move"
            ],
            "{}",
            c.name
        );
        assert_eq!(
            open(Section::Manager),
            ["Hiring plan for Q3", "Q2 planning"],
            "{}",
            c.name
        );
        assert_eq!(
            open(Section::Action),
            ["check the budget numbers"],
            "{}",
            c.name
        );
        assert!(by_text(&l, "Alice: send the slides").in_notes, "{}", c.name);
        // The questions typed again stay where they were typed, as notes.
        let notes: Vec<(Area, &str)> = l
            .notes()
            .iter()
            .map(|n| (n.area, n.text.as_str()))
            .collect();
        assert_eq!(
            notes,
            [
                (Area::Direct, "- How are things going?"),
                (Area::Direct, "Any feedback for me?"),
                (Area::Notes, "We met in the kitchen"),
                (Area::Notes, "- a bullet note"),
            ],
            "{}",
            c.name
        );
        // Nothing new: no write.
        assert_eq!(pass(&mut l, &out, &m, c.format), out, "{}", c.name);

        // The meeting is held; the next one carries every typed topic, each in its place.
        l.close(MeetingOutcome::Held, date(2026, 3, 3));
        let next = Meeting {
            start: at("Europe/Berlin", 2026, 3, 10, 10, 0),
            length: Duration::minutes(30),
        };
        let d2 = pass(&mut l, c.outside, &next, c.format);
        let lines = seen_lines(&d2[c.outside.len()..], c.format);
        let area_of = |text: &str| -> String {
            let i = lines
                .iter()
                .position(|x| x == &format!("- [ ] {text}"))
                .unwrap_or_else(|| panic!("{}: {text:?} not carried:\n{lines:#?}", c.name));
            lines[..i]
                .iter()
                .rev()
                .find(|h| {
                    h.contains("minutes for")
                        || h.starts_with("Topics from")
                        || h.starts_with("Notes and")
                })
                .unwrap()
                .clone()
        };
        for t in [
            "need a new laptop",
            "Can we talk about the conference budget?",
            "Desk move",
        ] {
            assert_eq!(
                area_of(t),
                "15 minutes for you: Alice goes first.",
                "{}",
                c.name
            );
        }
        assert_eq!(
            area_of("Hiring plan for Q3"),
            "Topics from Bob",
            "{}",
            c.name
        );
        for t in ["check the budget numbers", "Alice: send the slides"] {
            assert_eq!(area_of(t), "15 minutes for me", "{}", c.name);
        }
    }
}

#[test]
fn from_the_start_of_the_meeting_plain_lines_are_notes_and_checkboxes_items() {
    use oneonone::agenda::{Moment, plan_absorb_at};
    let items = sample_items();
    let t = Template::default_template();
    let block = render(&input(&items, &[]), Format::Plain, &t).unwrap();
    let edited = block
        .text
        .replace(
            "- [ ] Career goals\n",
            "- [ ] Career goals\nShe wants the staff track\n- [ ] Ask for a mentor\n",
        )
        // A client dropped the checkbox of an item: still that item, not a note.
        .replace("- [ ] Conference budget", "- Conference budget");
    let parsed = parse_block(&edited, Format::Plain, MAX).unwrap().unwrap();
    let during = plan_absorb_at(&items, &block, &parsed, Moment::Started);
    let changes: Vec<&AbsorbAction> = during
        .actions
        .iter()
        .filter(|a| !matches!(a, AbsorbAction::Place { .. }))
        .collect();
    assert_eq!(
        changes,
        [&AbsorbAction::Create {
            section: Section::Direct,
            text: "Ask for a mentor".into(),
            done: false,
            in_notes: false,
            position: 1
        }]
    );
    assert_eq!(
        during.notes,
        [Note {
            after: Some(Anchor::Item { id: 1 }),
            ..Note::new(Area::Direct, "She wants the staff track")
        }]
    );
    // Before the meeting the same line is a topic.
    let before = plan_absorb(&items, &block, &parsed);
    assert!(
        before.actions.iter().any(|a| matches!(a, AbsorbAction::Create { text, .. } if text == "She wants the staff track")),
        "{:?}",
        before.actions
    );
    assert!(before.notes.is_empty(), "{:?}", before.notes);
}

/// The default template as it was before the short invite, as written into invites then (old
/// start marker, block above the event's text).
fn old_invite(l: &mut Ledger, m: &Meeting, format: Format, outside: &str) -> String {
    let old = Template::new(include_str!("../data/agenda/old_default_template.j2")).unwrap();
    let block = l
        .render("Alice", "Bob", m.start, m.length, format, &old)
        .unwrap();
    let legacy = "── oneonone agenda: edit inside, keep these lines ──";
    let text = block.text.replace(START_MARKER, legacy);
    assert!(text.contains("Nothing queued yet") || text.contains("Write notes below"));
    let sep = if format == Format::Plain {
        "\n\n"
    } else {
        "<br><br>"
    };
    format!("{text}{sep}{outside}")
}

#[test]
fn an_invite_written_with_the_old_template_is_read_and_rewritten_in_place() {
    let m = Meeting {
        start: at("Europe/Berlin", 2026, 3, 3, 10, 0),
        length: Duration::minutes(30),
    };
    let t = Template::default_template();
    for format in [Format::Plain, Format::GoogleHtml] {
        for recorded in [true, false] {
            let mut l = Ledger::new();
            l.add_item(Section::Direct, "Career goals");
            l.add_item(Section::Manager, "Q2 planning");
            let outside = "Join: https://meet.example/j/42";
            let desc = old_invite(&mut l, &m, format, outside);
            let written = l.written().cloned().unwrap();
            // People typed into the old invite.
            let (br, ticked) = if format == Format::Plain {
                ("\n", desc.replace("- [ ] Q2 planning", "- [x] Q2 planning"))
            } else {
                ("<br>", desc.replace("[ ] Q2 planning", "[x] Q2 planning"))
            };
            let edited = ticked
                .replacen(
                    "Alice goes first.",
                    &format!("Alice goes first.{br}- need a new laptop{br}- [ ] Desk move"),
                    1,
                )
                .replacen(
                    "lines become action items.",
                    &format!("lines become action items.{br}Good energy this week"),
                    1,
                );
            assert_ne!(edited, ticked);
            let parsed = parse_block(&edited, format, MAX).unwrap().unwrap();
            // With the block as written on record, or without (a crash before recording it):
            // then it is compared with a render of the new template showing no items.
            let base = if recorded {
                written
            } else {
                l.render("Alice", "Bob", m.start, m.length, format, &t)
                    .unwrap()
                    .without_items()
            };
            let plan = plan_absorb(l.items(), &base, &parsed);
            l.apply(&plan);
            let block = l
                .render("Alice", "Bob", m.start, m.length, format, &t)
                .unwrap();
            let WriteDecision::Write(out) = plan_write(&edited, &block, true, MAX).unwrap() else {
                panic!("the upgrade must rewrite the block")
            };
            let why = format!("{format:?}, recorded: {recorded}\n{out}");
            // One block, in the new form, where the old one was; the event's text kept.
            assert!(out.starts_with(START_MARKER), "{why}");
            assert_eq!(
                &out[block.text.len()..],
                &edited[parsed.span.end..],
                "{why}"
            );
            assert!(
                !out.contains("edit inside") && !out.contains("Nothing queued"),
                "{why}"
            );
            // What people typed: items of their section, the tick, the note; nothing doubled.
            let texts: Vec<(Section, String, ItemState)> = l
                .items()
                .iter()
                .map(|i| (i.section, i.text.clone(), i.state))
                .collect();
            assert_eq!(
                texts,
                [
                    (Section::Direct, "Career goals".into(), ItemState::Open),
                    (Section::Manager, "Q2 planning".into(), ItemState::Done),
                    (Section::Direct, "need a new laptop".into(), ItemState::Open),
                    (Section::Direct, "Desk move".into(), ItemState::Open),
                ],
                "{why}"
            );
            let notes: Vec<&str> = l.notes().iter().map(|n| n.text.as_str()).collect();
            assert_eq!(notes, ["Good energy this week"], "{why}");
            // The next pass reads the new block back and writes nothing.
            assert_eq!(pass(&mut l, &out, &m, format), out, "{why}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// The first write into an event's own text keeps it first, byte for byte; then whatever
    /// people type in the block, in any form, is kept as an item or a note, the event's text
    /// is never changed, and a pass with nothing new writes nothing.
    #[test]
    fn the_events_text_stays_first_and_every_typed_form_is_kept(
        outside in outside_plain(),
        html_outside in outside_html(),
        html in any::<bool>(),
        seed in prop::collection::vec((0u8..3, word()), 0..5),
        edits in prop::collection::vec(edit(), 0..8),
        crlf in any::<bool>(),
    ) {
        let format = if html { Format::GoogleHtml } else { Format::Plain };
        let outside = if html { html_outside } else { outside };
        let m = Meeting { start: at("Europe/Berlin", 2026, 6, 2, 9, 0), length: Duration::minutes(30) };
        let mut l = seeded_ledger(&seed);
        let first = pass(&mut l, &outside, &m, format);
        prop_assert!(first.starts_with(outside.as_str()), "outside changed: {first:?}");
        let parsed = parse_block(&first, format, MAX).unwrap().unwrap();
        let before = parsed.before(&first).to_string();
        let t = Template::default_template();
        let plain = l.render("Alice", "Bob", m.start, m.length, Format::Plain, &t).unwrap();
        let block_lines: Vec<String> = plain.text.split('\n').map(str::to_string).collect();
        let (inner, typed) = apply_edits(&block_lines, &edits);
        let edited = if html {
            let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
            let body: String = inner.iter().map(|l| format!("<div>{}</div>", esc(l))).collect();
            format!("{before}{START_MARKER}{body}{END_MARKER}")
        } else {
            let nl = if crlf { "\r\n" } else { "\n" };
            format!("{before}{START_MARKER}{nl}{}{nl}{END_MARKER}", inner.join(nl))
        };
        let out = pass(&mut l, &edited, &m, format);
        prop_assert!(out.starts_with(&before), "outside changed: {out:?}");
        check_typed_kept(&l, &typed)?;
        let again = pass(&mut l, &out, &m, format);
        prop_assert_eq!(&again, &out);
    }
}
