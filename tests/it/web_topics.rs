//! A 1:1's topics managed on its web page (issue 25), the real daemon with a real Radicale: add
//! to a section, edit, close as done or dropped, move to another section and up, "Sync now", each
//! change in the next agenda written into the calendar; a past meeting marked held or skipped and
//! given a private note from its own form; and the same flow in headless Chromium at 375 px.

use std::time::Duration;

use reqwest::StatusCode;

use crate::fixtures::Daemon;
use crate::fixtures::caldav::{Setup, series_with_uid};
use crate::fixtures::caldav_server::Kind;
use crate::fixtures::web::{Browser, TOKEN, csrf_of};
use crate::web::{alice_event_until, connected};

/// The id of the open item with `text` on the series' page (its text field `text-ID`).
fn item_id(page: &str, text: &str) -> String {
    let re = regex::Regex::new(r#"id="text-(\d+)" name="text" value="([^"]*)""#).unwrap();
    re.captures_iter(page)
        .find(|c| &c[2] == text)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("no topic {text:?} on the page:\n{page}"))
}

/// Whether the lines stand in `text` in this order, each as an open checkbox.
fn in_order(text: &str, lines: &[&str]) -> bool {
    let at: Vec<Option<usize>> = lines
        .iter()
        .map(|l| text.find(&format!("- [ ] {l}")))
        .collect();
    at.iter().all(Option::is_some) && at.windows(2).all(|w| w[0] < w[1])
}

/// Posts a form of the series' page with its CSRF token; expects the redirect back to the
/// topics and returns the page it leads to.
async fn act(b: &mut Browser, series: i64, path: &str, form: &[(&str, &str)]) -> String {
    let (_, page) = b.get(&format!("/series/{series}")).await;
    let csrf = csrf_of(&page);
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend_from_slice(form);
    let (code, location, body) = b.post(&format!("/series/{series}{path}"), &fields).await;
    assert_eq!(code, StatusCode::SEE_OTHER, "{path} {form:?}: {body}");
    let location = location.unwrap();
    assert!(
        location.starts_with(&format!("/series/{series}")) && location.ends_with("#topics"),
        "{location}"
    );
    b.get(location.trim_end_matches("#topics")).await.1
}

#[tokio::test]
async fn topics_added_edited_closed_and_moved_on_the_page_reach_the_written_agenda() {
    let (s, d) = connected().await;
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    let mut b = Browser::new(&d);
    b.sign_in(TOKEN).await;
    let (_, page) = b.get(&format!("/series/{}", alice.id)).await;
    for want in [
        "Topics for the next 1:1",
        "Alice Example's topics",
        "Your topics",
        "Follow-ups and action items",
        "Changes reach the invite at the next pass",
        "id=\"sync-now\"",
        "<label for=\"add-manager\">New topic for Your topics</label>",
    ] {
        assert!(page.contains(want), "{want:?} missing:\n{page}");
    }

    // Added to two sections; the page names what it did.
    for (section, text) in [
        ("manager", "Budget"),
        ("manager", "Hiring"),
        ("manager", "Offsite"),
        ("direct", "Promotion"),
        ("action", "Send the travel plan"),
    ] {
        let page = act(
            &mut b,
            alice.id,
            "/items",
            &[("section", section), ("text", text)],
        )
        .await;
        assert!(page.contains(&format!("“{text}” is added to ")), "{page}");
    }
    // An empty topic comes back with why, and nothing is added.
    let (_, page) = b.get(&format!("/series/{}", alice.id)).await;
    let csrf = csrf_of(&page);
    let (code, _, page) = b
        .post(
            &format!("/series/{}/items", alice.id),
            &[("csrf", &csrf), ("section", "manager"), ("text", "   ")],
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"topics-error\" role=\"alert\">The item text is empty."),
        "{page}"
    );
    let (code, _, _) = b
        .post(
            &format!("/series/{}/items", alice.id),
            &[("csrf", "wrong"), ("section", "manager"), ("text", "x")],
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    act(&mut b, alice.id, "/sync", &[]).await;
    let text = alice_event_until(&s, |t| t.contains("- [ ] Send the travel plan")).await;
    assert!(
        in_order(&text, &["Budget", "Hiring", "Offsite"]),
        "the topics are not in the invite:\n{text}"
    );

    // Offsite up to the top, Promotion to the manager's topics, Budget reworded, Hiring done,
    // the travel plan dropped.
    let (_, page) = b.get(&format!("/series/{}", alice.id)).await;
    let offsite = item_id(&page, "Offsite");
    assert!(page.contains(&format!("id=\"up-{offsite}\"")), "{page}");
    assert!(!page.contains(&format!("id=\"down-{offsite}\"")), "last");
    let page = act(
        &mut b,
        alice.id,
        &format!("/items/{offsite}/move"),
        &[("position", "2")],
    )
    .await;
    assert!(
        page.contains("“Offsite” is now #2 of Your topics."),
        "{page}"
    );
    let page = act(
        &mut b,
        alice.id,
        &format!("/items/{offsite}/move"),
        &[("position", "1")],
    )
    .await;
    assert!(!page.contains(&format!("id=\"up-{offsite}\"")), "first");
    let promotion = item_id(&page, "Promotion");
    let page = act(
        &mut b,
        alice.id,
        &format!("/items/{promotion}/move"),
        &[("section", "manager")],
    )
    .await;
    assert!(
        page.contains("“Promotion” is now #4 of Your topics."),
        "{page}"
    );
    let budget = item_id(&page, "Budget");
    let page = act(
        &mut b,
        alice.id,
        &format!("/items/{budget}/edit"),
        &[("text", "Budget for Q3")],
    )
    .await;
    assert!(
        page.contains("The topic now reads “Budget for Q3”."),
        "{page}"
    );
    let hiring = item_id(&page, "Hiring");
    let page = act(
        &mut b,
        alice.id,
        &format!("/items/{hiring}/close"),
        &[("state", "done")],
    )
    .await;
    assert!(page.contains("“Hiring” is done"), "{page}");
    let travel = item_id(&page, "Send the travel plan");
    let page = act(
        &mut b,
        alice.id,
        &format!("/items/{travel}/close"),
        &[("state", "dropped")],
    )
    .await;
    assert!(page.contains("“Send the travel plan” is dropped"), "{page}");
    // A closed topic no longer changes, and the page says so.
    let csrf = csrf_of(&page);
    let (code, _, page) = b
        .post(
            &format!("/series/{}/items/{hiring}/edit", alice.id),
            &[("csrf", &csrf), ("text", "again")],
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains(&format!("Item {hiring} is done; only open items change.")),
        "{page}"
    );
    // An item of another series is not this page's.
    let bob = series_with_uid(&store, "biweekly-bob").await;
    let (code, _, _) = b
        .post(
            &format!("/series/{}/items/{budget}/edit", bob.id),
            &[("csrf", &csrf), ("text", "x")],
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);

    act(&mut b, alice.id, "/sync", &[]).await;
    let text = alice_event_until(&s, |t| {
        in_order(t, &["Offsite", "Budget for Q3", "Promotion"]) && !t.contains("travel plan")
    })
    .await;
    assert!(
        in_order(&text, &["Offsite", "Budget for Q3", "Promotion"]),
        "the page's changes are not in the invite:\n{text}\n{}",
        d.log_text()
    );
    assert!(!text.contains("- [ ] Hiring"), "{text}");
    assert!(!text.contains("travel plan"), "{text}");
    assert!(text.contains("Alice's own notes: keep me."), "{text}");
    // Promotion is the manager's topic now: after "15 minutes for me".
    let me = text
        .find("15 minutes for me")
        .expect("the manager's section");
    assert!(text.find("- [ ] Promotion").unwrap() > me, "{text}");
    // The next pass reads the invite back: the order stays.
    act(&mut b, alice.id, "/sync", &[]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, page) = b.get(&format!("/series/{}", alice.id)).await;
    let at = |t: &str| page.find(&format!("value=\"{t}\"")).unwrap();
    assert!(
        at("Offsite") < at("Budget for Q3") && at("Budget for Q3") < at("Promotion"),
        "{page}"
    );
    store.close().await;
}

#[tokio::test]
async fn a_past_meeting_is_marked_and_given_a_note_from_its_own_form() {
    let s = Setup::new(Kind::Radicale).await;
    s.connect_and_start("2026-03-24T12:00:00Z");
    // The 30 March meeting is over and closed by this pass.
    s.sync("2026-03-31T09:00:00Z");
    let env = s.env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("ONEONONE__SERVER__ADMIN_TOKEN", TOKEN));
    let d = Daemon::spawn_with(&s.db.url, &["--now", "2026-03-31T12:00:00Z"], &env);
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    let mut b = Browser::new(&d);
    b.sign_in(TOKEN).await;
    let path = format!("/series/{}", alice.id);
    let (_, page) = b.get(&path).await;
    let re = regex::Regex::new(r#"id="note-(\d+)""#).unwrap();
    let occurrence = re
        .captures(&page)
        .unwrap_or_else(|| panic!("no note form on a past meeting:\n{page}"))[1]
        .to_string();
    for want in [
        format!("id=\"held-{occurrence}\""),
        format!("id=\"skipped-{occurrence}\""),
        format!("<label for=\"note-{occurrence}\">Private note on this meeting</label>"),
    ] {
        assert!(page.contains(&want), "{want} missing:\n{page}");
    }
    let csrf = csrf_of(&page);
    let meeting = format!("{path}/meetings/{occurrence}");
    for (mark, status) in [("skipped", "skipped"), ("held", "held")] {
        let (code, location, _) = b
            .post(
                &format!("{meeting}/mark"),
                &[("csrf", &csrf), ("mark", mark)],
            )
            .await;
        assert_eq!(code, StatusCode::SEE_OTHER);
        assert_eq!(
            location.as_deref(),
            Some(format!("{path}#meeting-{occurrence}").as_str())
        );
        let (_, page) = b.get(&path).await;
        assert!(
            page.contains(&format!(
                "<span class=\"status status-{status}\">{status}</span> <span class=\"muted\">(marked from the web)"
            )),
            "{mark}: {page}"
        );
    }
    let note = "Alice asked about the platform team: follow up in May";
    let (code, _, _) = b
        .post(
            &format!("{meeting}/notes"),
            &[("csrf", "wrong"), ("text", note)],
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, _, page) = b
        .post(
            &format!("{meeting}/notes"),
            &[("csrf", &csrf), ("text", " ")],
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{page}");
    assert!(
        page.contains("The note was not saved: the note is empty."),
        "{page}"
    );
    let (code, location, _) = b
        .post(
            &format!("{meeting}/notes"),
            &[("csrf", &csrf), ("text", note)],
        )
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert_eq!(
        location.as_deref(),
        Some(format!("{path}#meeting-{occurrence}").as_str())
    );
    let (_, page) = b.get(&path).await;
    let article = &page[page.find(&format!("id=\"meeting-{occurrence}\"")).unwrap()..];
    let article = &article[..article.find("</article>").unwrap()];
    assert!(
        article.contains(&format!("private note: {note}")),
        "{article}"
    );
    // The same note, about that meeting, in the export with private notes.
    let h = s.cli_ok(&[
        "history",
        "--with",
        "alice@example.com",
        "--include-private",
    ]);
    assert!(
        h.contains("2026-03-30 10:00 CEST  held, marked from web\n")
            && h.contains(&format!("    private: {note}")),
        "{h}"
    );
    store.close().await;
}

/// The topic flow in headless Chromium (tests/browser/topics.mjs) at 375 px wide, by keyboard
/// where a person would type: add a topic, reword it, move it up and to another section, close
/// one as done and one as dropped, "Sync now"; then the calendar holds the result.
#[tokio::test]
async fn browser_topics_managed_on_a_phone_sized_page_reach_the_calendar() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let node_dir = root.join(".node");
    assert!(
        node_dir.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run scripts/setup-node (scripts/test does)"
    );
    let (s, d) = connected().await;
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    let artifacts = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-topics");
    let mut node = std::process::Command::new("node");
    node.arg(root.join("tests/browser/topics.mjs"))
        .env("BASE_URL", d.url(""))
        .env("ADMIN_TOKEN", TOKEN)
        .env("SERIES_PATH", format!("/series/{}", alice.id))
        .env("ARTIFACTS", &artifacts)
        .env("NODE_DIR", &node_dir);
    let out = tokio::task::spawn_blocking(move || node.output().expect("run node"))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "browser steps failed (screenshots in {}):\n{}\n{}\ndaemon:\n{}",
        artifacts.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        d.log_text()
    );
    let text = alice_event_until(&s, |t| {
        in_order(t, &["Share the Q3 roadmap", "Budget"]) && !t.contains("Old idea")
    })
    .await;
    assert!(
        in_order(&text, &["Share the Q3 roadmap", "Budget"]),
        "the browser's changes are not in the invite:\n{text}"
    );
    assert!(!text.contains("Old idea"), "{text}");
    assert!(!text.contains("- [ ] Book the offsite"), "{text}");
    let you = text.find("15 minutes for you").unwrap();
    let me = text.find("15 minutes for me").unwrap();
    let at = text.find("- [ ] Share the Q3 roadmap").unwrap();
    assert!(
        you < at && at < me,
        "not among the direct's topics:\n{text}"
    );
    store.close().await;
}
