//! Benchmarks of `ics`: parse throughput and a year of a weekly series.
//!
//! `cargo bench --bench ics` runs the criterion groups. With `ONEONONE_BENCH_FILE=<path>` it
//! instead times `ics::parse` on that file (best of `ONEONONE_BENCH_RUNS`, default 5) and prints
//! `rust_mb_per_s=<float>` for `scripts/bench-ics`, which compares it with Python icalendar.

use std::hint::black_box;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput};
use oneonone::ics;

const CORPUS: &[&str] = &[
    include_str!("../tests/data/ics/google_weekly_tzid.ics"),
    include_str!("../tests/data/ics/outlook_windows_tz.ics"),
    include_str!("../tests/data/ics/apple_weekly.ics"),
];

/// About 1 MB: the corpus files' events repeated with distinct UIDs inside one VCALENDAR.
fn synthetic_calendar() -> String {
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:bench\r\n");
    let mut i = 0;
    while out.len() < 1_000_000 {
        for file in CORPUS {
            let start = file.find("BEGIN:VEVENT").unwrap();
            let end = file.rfind("END:VEVENT").unwrap() + "END:VEVENT\r\n".len();
            let body = file[start..end].replacen("UID:", &format!("UID:{i}-"), 1);
            out.push_str(&body);
            i += 1;
        }
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

fn criterion_benches(c: &mut Criterion) {
    let cal = synthetic_calendar();
    let mut g = c.benchmark_group("ics");
    g.throughput(Throughput::Bytes(cal.len() as u64));
    g.bench_function("parse_1mb", |b| {
        b.iter(|| ics::parse(black_box(cal.as_bytes())).unwrap())
    });
    g.finish();

    let weekly = ics::parse(CORPUS[0].as_bytes()).unwrap();
    let series = &weekly.series[0];
    let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    c.bench_function("expand_weekly_one_year", |b| {
        b.iter(|| {
            let occ = ics::expand(black_box(series), from, to, chrono_tz::Tz::UTC).unwrap();
            assert_eq!(occ.len(), 52);
            occ
        })
    });

    let resource = CORPUS[0].as_bytes();
    let at = Utc.with_ymd_and_hms(2026, 3, 3, 9, 0, 0).unwrap();
    c.bench_function("edit_new_override", |b| {
        b.iter(|| {
            ics::set_occurrence_description(resource, "g-weekly-1@google.com", at, "agenda", to)
                .unwrap()
        })
    });
}

fn file_throughput(path: &str) {
    let data = std::fs::read(path).expect("read ONEONONE_BENCH_FILE");
    let runs: usize = std::env::var("ONEONONE_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let mut best = f64::INFINITY;
    let mut events = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let cal = ics::parse(black_box(&data)).expect("the bench file parses");
        best = best.min(t.elapsed().as_secs_f64());
        events = cal
            .series
            .iter()
            .map(|s| usize::from(s.master.is_some()) + s.overrides.len())
            .sum();
    }
    println!("rust_events={events}");
    println!("rust_mb_per_s={:.3}", data.len() as f64 / best / 1e6);
}

fn main() {
    if let Ok(path) = std::env::var("ONEONONE_BENCH_FILE") {
        file_throughput(&path);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
}
