//! Insights and private notes on the web pages, with the real daemon (its clock started at the
//! report's instant) on the hand-built team history of `insights::team`: the numbers and chart of
//! a series, adding a private note (CSRF, bad input), the 1:1s that need attention in words and
//! the full table with the slipping 1:1s first,
//! and the direct's link that shows none of it.

use reqwest::StatusCode;

use crate::fixtures::team::{NOW, team};
use crate::fixtures::web::{Browser, TOKEN, csrf_of, make_link};
use crate::fixtures::{Daemon, TestDb};

/// The daemon as of the team's report instant, signed in.
async fn signed_in(db: &TestDb, keydir: &tempfile::TempDir) -> (Daemon, Browser) {
    signed_in_at(db, keydir, NOW).await
}

/// The daemon as of `now`, signed in.
async fn signed_in_at(db: &TestDb, keydir: &tempfile::TempDir, now: &str) -> (Daemon, Browser) {
    let key = keydir.path().join("key").display().to_string();
    let d = Daemon::spawn_with(
        &db.url,
        &["--now", now],
        &[
            ("ONEONONE__SERVER__ADMIN_TOKEN", TOKEN),
            ("ONEONONE__SECRETS__KEY_FILE", &key),
            ("ONEONONE__SYNC__INTERVAL_SECS", "3600"),
        ],
    );
    let mut b = Browser::new(&d);
    assert_eq!(b.sign_in(TOKEN).await.0, StatusCode::SEE_OTHER);
    (d, b)
}

/// The cells of a row of a stats table, by its label.
fn row(page: &str, label: &str) -> Vec<String> {
    let re = regex::Regex::new(&format!(
        r#"<tr><td>{}</td>((?:<td class="num">[^<]*</td>)+)</tr>"#,
        regex::escape(label)
    ))
    .unwrap();
    let cells = re
        .captures(page)
        .unwrap_or_else(|| panic!("no row {label:?} in:\n{page}"))[1]
        .to_string();
    regex::Regex::new(r#"<td class="num">([^<]*)</td>"#)
        .unwrap()
        .captures_iter(&cells)
        .map(|c| c[1].to_string())
        .collect()
}

/// The fields of the "New note" form.
fn note_form<'a>(csrf: &'a str, text: &'a str, meeting: &'a str) -> [(&'a str, &'a str); 3] {
    [("csrf", csrf), ("text", text), ("meeting", meeting)]
}

#[tokio::test]
async fn series_page_shows_its_insights_and_chart_and_takes_private_notes() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let (alice, bob) = team(&store).await;
        let keydir = tempfile::tempdir().unwrap();
        let (_d, mut b) = signed_in(&db, &keydir).await;
        let path = format!("/series/{}", alice.id);

        let (code, page) = b.get(&path).await;
        assert_eq!(code, StatusCode::OK, "{}: {page}", db.kind);
        // The same numbers as `report` (tests/data/report/team.txt).
        assert!(
            page.contains("Last held 2026-04-14 (6 days ago); every 7 days; 2 open item(s)"),
            "{page}"
        );
        assert_eq!(row(&page, "held"), ["1", "2"]);
        assert_eq!(row(&page, "cancelled"), ["2", "2"]);
        assert_eq!(row(&page, "moved"), ["1", "1"]);
        assert_eq!(row(&page, "skipped"), ["0", "0"]);
        assert_eq!(row(&page, "closed per meeting"), ["1.0", "0.5"]);
        assert_eq!(row(&page, "direct's time used"), ["1/1", "2/2"]);
        assert_eq!(row(&page, "direct's share of topics"), ["50%", "50%"]);
        assert!(page.contains("1 stale item (carried 3+ times)"), "{page}");
        assert!(
            page.contains("Hire a designer | UX *now* <span class=\"muted\">(carried x3)"),
            "{page}"
        );
        // The inline chart: no script, one bar per week with an outcome.
        assert!(
            page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{page}"
        );
        for bar in [
            "week of 2026-03-24: cancelled",
            "week of 2026-04-14: held (moved)",
        ] {
            assert!(page.contains(bar), "{bar} missing:\n{page}");
        }
        assert!(!page.contains("<script"), "no script on the page");
        assert!(page.contains("No private note yet."), "{page}");

        // Refused: a foreign CSRF token, an empty note, a date that is not one, an unknown series.
        let csrf = csrf_of(&page);
        let notes = format!("{path}/notes");
        let f = note_form("not-the-token", "Sneaky note", "");
        let (code, _, _) = b.post(&notes, &f).await;
        assert_eq!(code, StatusCode::FORBIDDEN);
        let f = note_form(&csrf, "  \n ", "");
        let (code, _, body) = b.post(&notes, &f).await;
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert!(body.contains("the note is empty"), "{body}");
        let f = note_form(&csrf, "Some note", "14/04/2026");
        let (code, _, body) = b.post(&notes, &f).await;
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert!(body.contains("\"14/04/2026\" is not a date"), "{body}");
        let f = note_form(&csrf, "Some note", "");
        let (code, _, _) = b.post("/series/9999/notes", &f).await;
        assert_eq!(code, StatusCode::NOT_FOUND);
        assert!(store.list_private_notes(alice.id).await.unwrap().is_empty());

        // Accepted: one about the moved meeting (by the day it took place), one about the series.
        let about_meeting = "Seems tired <b>ask</b> about the move";
        let f = note_form(&csrf, about_meeting, "2026-04-14");
        let (code, location, _) = b.post(&notes, &f).await;
        assert_eq!(code, StatusCode::SEE_OTHER);
        assert_eq!(location.as_deref(), Some(format!("{path}#notes").as_str()));
        let f = note_form(&csrf, "Wants to lead the Q3 project", " ");
        assert_eq!(b.post(&notes, &f).await.0, StatusCode::SEE_OTHER);

        let rows = store.list_private_notes(alice.id).await.unwrap();
        assert_eq!(rows.len(), 2, "{}", db.kind);
        assert!(
            rows[0].occurrence_id.is_some(),
            "linked to the moved meeting"
        );
        assert_eq!(rows[1].meeting_date, None);
        for r in &rows {
            let raw = String::from_utf8_lossy(&r.body);
            // Whole phrases: a random ciphertext holds a two-letter one ("Q3") about once in a
            // thousand notes (a CI run failed on it).
            assert!(
                !raw.contains("Seems tired") && !raw.contains("lead the Q3 project"),
                "encrypted"
            );
        }
        let (_, page) = b.get(&path).await;
        assert!(
            page.contains(&format!(
                "<span class=\"tag\">meeting of 2026-04-14</span> {about_meeting} "
            )),
            "{page}"
        );
        assert!(
            page.contains("<span class=\"tag\">the series</span> Wants to lead the Q3 project"),
            "{page}"
        );
        // Bob's page has its own (no) notes.
        let (_, page) = b.get(&format!("/series/{}", bob.id)).await;
        assert!(!page.contains("Q3 project") && page.contains("No private note yet."));
        store.close().await;
    }
}

/// The lines of `/insights`: (series id, the line's text), in the page's order.
fn attention_lines(page: &str) -> Vec<(i64, String)> {
    let re = regex::Regex::new(
        r#"<li data-series="(\d+)"><a href="/series/\d+">[^<]*</a>: ([^<]*)</li>"#,
    )
    .unwrap();
    re.captures_iter(page)
        .map(|c| (c[1].parse().unwrap(), c[2].to_string()))
        .collect()
}

#[tokio::test]
async fn insights_open_on_one_line_per_1on1_that_needs_attention_most_urgent_first() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let (alice, bob) = team(&store).await;
    let keydir = tempfile::tempdir().unwrap();
    let (d, mut b) = signed_in(&db, &keydir).await;

    // As of the report: Alice's stale item; Bob is on track and gets no line.
    let (code, page) = b.get("/insights").await;
    assert_eq!(code, StatusCode::OK, "{page}");
    assert_eq!(
        attention_lines(&page),
        [(alice.id, "1 item carried 3+ times.".to_string())],
        "{page}"
    );
    assert!(
        page.contains("1 of your 2 1:1s, the most urgent first"),
        "{page}"
    );
    assert!(
        !page.contains("<table") && !page.contains("<svg"),
        "no table here: {page}"
    );
    assert!(
        !page.contains("1:1 Team / Sam"),
        "the excluded series is left out"
    );
    assert!(page.contains("<a href=\"/insights/all?weeks=12\" id=\"all-numbers\">"));
    for bad in ["0", "105", "soon"] {
        let (code, page) = b.get(&format!("/insights?weeks={bad}")).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{bad}");
        assert!(page.contains("from 1 to 104"), "{page}");
    }

    // The full table, one click away: the slipping 1:1s first, the totals as the report's.
    let (code, page) = b.get("/insights/all").await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let at = |id: i64| {
        page.find(&format!("data-series=\"{id}\""))
            .unwrap_or_else(|| panic!("series {id} missing:\n{page}"))
    };
    assert!(at(alice.id) < at(bob.id), "Alice (a stale item) before Bob");
    assert!(!page.contains("1:1 Team / Sam"));
    assert_eq!(row(&page, "held"), ["2", "3"]);
    assert_eq!(row(&page, "took place, no notes"), ["0", "1"]);
    assert_eq!(row(&page, "skipped"), ["1", "1"]);
    assert_eq!(page.matches("<svg").count(), 2, "one chart per series");
    assert!(
        page.contains("href=\"/insights?weeks=12\""),
        "a way back: {page}"
    );
    let (code, page) = b.get("/insights/all?weeks=4").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        row(&page, "held"),
        ["2"],
        "one window when it is the short one"
    );
    let (code, _) = b.get("/insights/all?weeks=0").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    // Signed out: the sign-in page, nothing else.
    let mut stranger = Browser::new(&d);
    for path in ["/insights", "/insights/all"] {
        let (code, page) = stranger.get(path).await;
        assert_eq!(code, StatusCode::SEE_OTHER);
        assert!(!page.contains("Alice"), "{page}");
    }
    drop(d);

    // A month on, with no meeting since: both 1:1s slip; Alice, who missed 5 of her weekly
    // slots, before Bob, who missed 3 of his biweekly ones.
    let keydir = tempfile::tempdir().unwrap();
    let (d, mut b) = signed_in_at(&db, &keydir, "2026-05-21T08:00:00Z").await;
    let (_, page) = b.get("/insights").await;
    assert_eq!(
        attention_lines(&page),
        [
            (
                alice.id,
                "no 1:1 held in 5 weeks; 1 item carried 3+ times.".to_string()
            ),
            (bob.id, "no 1:1 held in 6 weeks.".to_string()),
        ],
        "{page}"
    );
    drop(d);

    // Alice's stale item closed: nothing needs attention, and the page says so calmly.
    let hire = store
        .list_items(alice.id, true)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.times_carried >= 3)
        .unwrap();
    let closed = store
        .close_open_item(
            hire.id,
            "done",
            oneonone::store::ItemSource::Web,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert!(closed);
    let (_, page) = b_at_now(&db).await;
    assert!(attention_lines(&page).is_empty(), "{page}");
    assert!(
        page.contains("Nothing needs your attention: your 2 1:1s are on track."),
        "{page}"
    );
    store.close().await;
}

/// `/insights` as of the team's report instant, from a fresh daemon.
async fn b_at_now(db: &TestDb) -> (Daemon, String) {
    let keydir = tempfile::tempdir().unwrap();
    let (d, mut b) = signed_in(db, &keydir).await;
    let (_, page) = b.get("/insights").await;
    (d, page)
}

#[tokio::test]
async fn the_direct_link_never_shows_private_notes_or_insights() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let (alice, _) = team(&store).await;
        store.close().await;
        let keydir = tempfile::tempdir().unwrap();
        let (d, mut b) = signed_in(&db, &keydir).await;
        let path = format!("/series/{}", alice.id);
        let (_, page) = b.get(&path).await;
        let secret = "Privnote: salary review, do not share";
        let dated = "Privnote: seemed upset on the 14th";
        for (text, meeting) in [(secret, ""), (dated, "2026-04-14"), (dated, "2026-04-20")] {
            let csrf = csrf_of(&page);
            let form = note_form(&csrf, text, meeting);
            let (code, _, body) = b.post(&format!("{path}/notes"), &form).await;
            assert_eq!(code, StatusCode::SEE_OTHER, "{body}");
        }
        let (_, page) = b.get(&path).await;
        assert!(page.contains(secret) && page.contains("How this 1:1 is going"));

        let link = make_link(&mut b, alice.id).await;
        let mut direct = Browser::new(&d);
        let (code, page) = direct.get(&link).await;
        assert_eq!(code, StatusCode::OK, "{}: {page}", db.kind);
        for private in [
            "Privnote",
            "Private notes",
            "How this 1:1 is going",
            "<svg",
            "stale item",
            "Last held",
            "direct's share",
            "/insights",
            "/notes",
        ] {
            assert!(
                !page.contains(private),
                "{}: {private:?} on the direct's link:\n{page}",
                db.kind
            );
        }
        // Nor does anything under the link answer with them.
        for sub in ["/notes", "/insights"] {
            let (code, page) = direct.get(&format!("{link}{sub}")).await;
            assert!(!page.contains("Privnote"), "{sub}");
            assert_ne!(code, StatusCode::OK, "{sub}");
        }
    }
}
