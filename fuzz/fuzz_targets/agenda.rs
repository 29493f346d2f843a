//! Fuzz target: the agenda block reader (plain text and Google HTML), splice and absorb planning
//! must never panic, and a splice never changes the text outside the block.
#![no_main]

use chrono::{Duration, TimeZone};
use libfuzzer_sys::fuzz_target;
use oneonone::agenda::{self, AgendaInput, Format, Item, ItemState, Section, Template};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let template = Template::default_template();
    let items = [Item {
        id: 1,
        section: Section::Action,
        text: "Send the plan".into(),
        state: ItemState::Open,
        times_carried: 1,
        in_notes: false,
        position: 1,
    }];
    let start = chrono_tz::Tz::Europe__Berlin.with_ymd_and_hms(2026, 3, 30, 10, 0, 0).unwrap();
    let input = AgendaInput {
        direct_name: "Alice",
        manager_name: "Sam",
        items: &items,
        notes: &[],
        last_meeting: None,
        start,
        length: Duration::minutes(30),
        cancelled_in_a_row: 0,
        last_closed: Default::default(),
        prompt: Default::default(),
    };
    for format in [Format::Plain, Format::GoogleHtml] {
        let block = agenda::render(&input, format, &template).expect("the default template renders");
        if let Ok(Some(parsed)) = agenda::parse_block(text, format, 1 << 20) {
            let plan = agenda::plan_absorb(&items, &block, &parsed);
            let _ = plan.notes_with_ids(&[]);
            let (before, after) = (parsed.before(text), parsed.after(text));
            if let Ok(out) = agenda::splice(text, &block.text, format, 1 << 20) {
                assert!(out.starts_with(before) && out.ends_with(after), "splice changed the text around the block");
            }
        }
        let _ = agenda::plan_write(text, &block, true, 1 << 20);
    }
});
