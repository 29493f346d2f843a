//! Criterion benches of the per-pass hot paths besides parsing (see `benches/ics.rs`): 1:1
//! detection over a whole calendar, rendering an agenda, reading it back (plain and Google HTML)
//! and planning what a person's edit changes. `scripts/bench` reports their means.

use std::hint::black_box;

use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use criterion::Criterion;
use oneonone::agenda::{
    AgendaInput, Format, Item, ItemState, Section, Template, parse_block, plan_absorb, render,
};
use oneonone::detect::{DetectRules, detect};
use oneonone::ics;
use oneonone::model::{EmailAddress, Owner};

const CALENDAR: &str = include_str!("../tests/data/detect/google-sam.ics");
const MAX: usize = 64 * 1024;

fn items() -> Vec<Item> {
    let texts = [
        (Section::Direct, "Career goals for H2"),
        (Section::Direct, "On-call rota: fairer split?"),
        (Section::Manager, "Promotion case draft"),
        (Section::Manager, "Offsite notes <to share>"),
        (Section::Action, "Alice: book the venue"),
        (Section::Action, "Bob: ask HR about the travel budget"),
        (Section::Action, "Review the hiring loop feedback"),
        (Section::Manager, "Q3 planning & budget"),
    ];
    texts
        .iter()
        .enumerate()
        .map(|(i, (section, text))| Item {
            id: i as i64 + 1,
            section: *section,
            text: (*text).to_string(),
            state: ItemState::Open,
            times_carried: (i % 3) as u32,
            in_notes: false,
            position: i as i64,
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let cal = ics::parse(CALENDAR.as_bytes()).expect("the corpus parses");
    let owner = Owner::new(EmailAddress::parse("sam@example.com"));
    let rules = DetectRules::default();
    c.bench_function("detect_calendar", |b| {
        b.iter(|| {
            cal.series
                .iter()
                .filter(|s| detect(black_box(s), &owner, &rules).one_on_one)
                .count()
        })
    });

    let items = items();
    let tz: Tz = "Europe/Berlin".parse().unwrap();
    let input = AgendaInput {
        direct_name: "Alice Martin",
        manager_name: "Bob Stone",
        items: &items,
        notes: &[],
        last_meeting: NaiveDate::from_ymd_opt(2026, 2, 24),
        start: tz.with_ymd_and_hms(2026, 3, 3, 10, 0, 0).single().unwrap(),
        length: Duration::minutes(30),
        cancelled_in_a_row: 0,
        last_closed: Default::default(),
        prompt: Default::default(),
    };
    let template = Template::default_template();
    for (name, format) in [("plain", Format::Plain), ("html", Format::GoogleHtml)] {
        c.bench_function(&format!("render_{name}"), |b| {
            b.iter(|| render(black_box(&input), format, &template).unwrap())
        });
        let block = render(&input, format, &template).unwrap();
        let description = format!("Room 4, 2nd floor\n\n{}\n\nDial-in: 555-0100", block.text);
        c.bench_function(&format!("parse_back_{name}"), |b| {
            b.iter(|| parse_block(black_box(&description), format, MAX).unwrap())
        });
        let edited = description.replacen("- [ ] Career", "- [x] Career", 1);
        let parsed = parse_block(&edited, format, MAX).unwrap().unwrap();
        c.bench_function(&format!("plan_absorb_{name}"), |b| {
            b.iter(|| plan_absorb(black_box(&items), &block, &parsed))
        });
    }
}

/// A description stuffed with 2,500 new lines among 300 known items: planning must stay
/// near-linear (it was quadratic once).
fn stuffed(c: &mut Criterion) {
    let items: Vec<Item> = (1..=300)
        .map(|i| Item {
            id: i,
            section: Section::Direct,
            text: format!("topic number {i}"),
            state: ItemState::Open,
            times_carried: 0,
            in_notes: false,
            position: i,
        })
        .collect();
    let tz: Tz = "Europe/Berlin".parse().unwrap();
    let input = AgendaInput {
        direct_name: "Alice Martin",
        manager_name: "Bob Stone",
        items: &items,
        notes: &[],
        last_meeting: None,
        start: tz.with_ymd_and_hms(2026, 3, 3, 10, 0, 0).single().unwrap(),
        length: Duration::minutes(30),
        cancelled_in_a_row: 0,
        last_closed: Default::default(),
        prompt: Default::default(),
    };
    let block = render(&input, Format::Plain, &Template::default_template()).unwrap();
    let text = block.text.replace(
        "- [ ] topic number 1\n",
        &"- [ ] some other thing\n".repeat(2500),
    );
    c.bench_function("plan_absorb_2500_new_lines", |b| {
        b.iter(|| {
            let parsed = parse_block(black_box(&text), Format::Plain, MAX)
                .unwrap()
                .unwrap();
            plan_absorb(&items, &block, &parsed)
        })
    });
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    stuffed(&mut c);
    c.final_summary();
}
