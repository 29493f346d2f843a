//! The web pages with the real daemon and a real database: sign-in, sessions and their cookie,
//! the sign-in limit, CSRF on every form, connecting CalDAV from a form, and the direct's link
//! (what it shows, what it lets the direct change, revocation and rotation).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use sha2::Digest as _;

use crate::fixtures::caldav::{ALICE, Setup, W1, series_with_uid};
use crate::fixtures::caldav_server::{Kind, PASSWORD, USER};
use crate::fixtures::insert_line_after;
use crate::fixtures::web::{Browser, TOKEN, csrf_of, make_link, set_cookies, unescape};
use crate::fixtures::{Daemon, TestDb};

fn daemon(db_url: &str, extra: &[(&str, &str)]) -> Daemon {
    let keydir = tempfile::tempdir().unwrap();
    let key = keydir.path().join("key").display().to_string();
    let mut env = vec![
        ("ONEONONE__SERVER__ADMIN_TOKEN", TOKEN),
        ("ONEONONE__SECRETS__KEY_FILE", key.as_str()),
    ];
    env.extend_from_slice(extra);
    let d = Daemon::spawn(db_url, &env);
    std::mem::forget(keydir); // The daemon's key file must outlive this function.
    d
}

#[tokio::test]
async fn web_sign_in_opens_a_session_with_a_safe_cookie_and_sign_out_ends_it() {
    for db in TestDb::all().await {
        let d = daemon(&db.url, &[]);
        let mut b = Browser::new(&d);

        let (code, _) = b.get("/").await;
        assert_eq!(code, StatusCode::SEE_OTHER, "{}: signed out", db.kind);

        let (code, cookies) = b.sign_in("not-the-token").await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{}", db.kind);
        assert!(!b.has("oneonone_session"), "{}: {cookies:?}", db.kind);

        let (code, cookies) = b.sign_in(TOKEN).await;
        assert_eq!(code, StatusCode::SEE_OTHER, "{}", db.kind);
        let session = cookies
            .iter()
            .find(|c| c.starts_with("oneonone_session="))
            .unwrap_or_else(|| panic!("{}: no session cookie in {cookies:?}", db.kind));
        let c = cookie::Cookie::parse(session.as_str()).unwrap();
        assert_eq!(c.http_only(), Some(true), "{session}");
        assert_eq!(c.same_site(), Some(cookie::SameSite::Lax), "{session}");
        assert_eq!(c.path(), Some("/"), "{session}");
        assert_eq!(c.secure(), None, "{session}: plain http on localhost");
        assert_eq!(c.max_age(), Some(cookie::time::Duration::hours(12)));
        assert_eq!(c.value().len(), 43, "a 256-bit token");

        // The session is stored under the token's digest, bound to the admin token's.
        let store = db.store().await;
        let admin: [u8; 32] = sha2::Sha256::digest(TOKEN.as_bytes()).into();
        let digest = oneonone::web::session_key(c.value(), &admin);
        assert!(
            store
                .session_valid(&digest, chrono::Utc::now())
                .await
                .unwrap()
        );
        assert!(
            !store
                .session_valid(&oneonone::web::token_digest(c.value()), chrono::Utc::now())
                .await
                .unwrap()
        );
        let (code, page) = b.get("/").await;
        assert_eq!(code, StatusCode::OK, "{}", db.kind);
        assert!(page.contains("Connect CalDAV") && page.contains("/connect/google"));
        assert!(
            !page.contains(c.value()),
            "the session token is never in a page"
        );

        let csrf = csrf_of(&page);
        let (code, location, _) = b.post("/signout", &[("csrf", &csrf)]).await;
        assert_eq!(code, StatusCode::SEE_OTHER);
        assert_eq!(location.as_deref(), Some("/signin"));
        // The old cookie no longer opens anything, even when replayed.
        b.cookies = vec![("oneonone_session".into(), c.value().to_string())];
        let (code, _) = b.get("/").await;
        assert_eq!(
            code,
            StatusCode::SEE_OTHER,
            "{}: replayed after sign-out",
            db.kind
        );
        store.close().await;
    }
}

#[tokio::test]
async fn web_session_cookie_is_secure_behind_https_or_when_configured() {
    let db = TestDb::sqlite();
    let d = daemon(&db.url, &[("ONEONONE__WEB__COOKIE_SECURE", "always")]);
    let mut b = Browser::new(&d);
    let (code, cookies) = b.sign_in(TOKEN).await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("oneonone_session="))
        .unwrap();
    let c = cookie::Cookie::parse(session.as_str()).unwrap();
    assert_eq!(c.secure(), Some(true), "{session}");

    let d = daemon(&db.url, &[]);
    let r = reqwest::Client::new()
        .get(d.url("/signin"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let pre = set_cookies(&r).join("\n");
    assert!(pre.contains("Secure"), "{pre}");
    assert!(
        pre.contains("SameSite=Strict") && pre.contains("HttpOnly"),
        "{pre}"
    );
    let headers = r.headers();
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
}

#[tokio::test]
async fn web_sign_in_is_limited_per_address_and_lets_the_owner_in_during_a_lockout() {
    let db = TestDb::sqlite();
    // 30 a minute: a burst of 30, then one every 2 s.
    let d = daemon(
        &db.url,
        &[("ONEONONE__WEB__SIGNIN_ATTEMPTS_PER_MINUTE", "30")],
    );
    let mut b = Browser::new(&d);
    for _ in 0..30 {
        let (code, _) = b.sign_in("guess").await;
        assert_eq!(code, StatusCode::UNAUTHORIZED);
    }
    // Past the budget a guess waits for its turn: guessing goes no faster than one per 2 s.
    let started = std::time::Instant::now();
    let (code, _) = b.sign_in("guess").await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    // The owner still gets in, after the same wait: the lockout slows guesses, it does not lock
    // the owner out.
    let started = std::time::Instant::now();
    let (code, _) = b.sign_in(TOKEN).await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert!(b.has("oneonone_session"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Guesses sent at once, to get ahead of the line: one waits its turn, the others are
    // refused unchecked, with when to come back.
    let (_, page) = b.get("/signin").await;
    let csrf = csrf_of(&page);
    let attempts = (0..5).map(|_| {
        reqwest::Client::new()
            .post(d.url("/signin"))
            .header(COOKIE, format!("oneonone_signin={csrf}"))
            .form(&[("token", "guess"), ("csrf", csrf.as_str())])
            .send()
    });
    let answers = futures::future::join_all(attempts).await;
    let mut refused = 0;
    for r in answers {
        let r = r.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
            let after: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=6).contains(&after), "{after}");
            assert!(
                r.text()
                    .await
                    .unwrap()
                    .contains("Too many sign-in attempts")
            );
        } else {
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
    }
    assert!(refused >= 3, "{refused} of 5 refused");
}

#[tokio::test]
async fn changing_the_admin_token_ends_every_session_and_sign_out_everywhere_ends_them_all() {
    const NEW_TOKEN: &str = "a-new-admin-token-after-a-leak-9876543210";
    for db in TestDb::all().await {
        let d = daemon(&db.url, &[]);
        let mut b = Browser::new(&d);
        assert_eq!(b.sign_in(TOKEN).await.0, StatusCode::SEE_OTHER);
        assert_eq!(b.get("/").await.0, StatusCode::OK);
        drop(d);

        // The same database, a new admin token: the old session opens nothing.
        let d = daemon(&db.url, &[("ONEONONE__SERVER__ADMIN_TOKEN", NEW_TOKEN)]);
        let mut old = Browser::new(&d);
        old.cookies = b.cookies.clone();
        let (code, _) = old.get("/").await;
        assert_eq!(
            code,
            StatusCode::SEE_OTHER,
            "{}: session of the old token",
            db.kind
        );

        // Two browsers signed in; "Sign out everywhere" in one ends both.
        let mut one = Browser::new(&d);
        let mut two = Browser::new(&d);
        assert_eq!(one.sign_in(NEW_TOKEN).await.0, StatusCode::SEE_OTHER);
        assert_eq!(two.sign_in(NEW_TOKEN).await.0, StatusCode::SEE_OTHER);
        let (code, page) = one.get("/").await;
        assert_eq!(code, StatusCode::OK);
        assert!(page.contains("Sign out everywhere"), "{page}");
        let (code, _, _) = one
            .post("/signout/everywhere", &[("csrf", "made-up")])
            .await;
        assert_eq!(code, StatusCode::FORBIDDEN, "CSRF is checked");
        assert_eq!(two.get("/").await.0, StatusCode::OK);
        let (code, location, _) = one
            .post("/signout/everywhere", &[("csrf", &csrf_of(&page))])
            .await;
        assert_eq!(code, StatusCode::SEE_OTHER);
        assert_eq!(location.as_deref(), Some("/signin"));
        assert!(!one.has("oneonone_session"));
        assert_eq!(two.get("/").await.0, StatusCode::SEE_OTHER, "{}", db.kind);
        let store = db.store().await;
        assert_eq!(store.delete_all_sessions().await.unwrap(), 0, "{}", db.kind);
        store.close().await;
    }
}

#[tokio::test]
async fn web_forms_without_the_right_csrf_token_are_refused() {
    let db = TestDb::sqlite();
    let d = daemon(&db.url, &[]);

    // Sign-in: the form's token must match the sign-in cookie.
    let r = reqwest::Client::new()
        .post(d.url("/signin"))
        .form(&[("token", TOKEN), ("csrf", "made-up")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        set_cookies(&r)
            .iter()
            .all(|c| !c.starts_with("oneonone_session="))
    );

    let mut a = Browser::new(&d);
    a.sign_in(TOKEN).await;
    let mut b = Browser::new(&d);
    b.sign_in(TOKEN).await;
    let (_, page_a) = a.get("/").await;
    let (_, page_b) = b.get("/").await;
    let (csrf_a, csrf_b) = (csrf_of(&page_a), csrf_of(&page_b));
    assert_ne!(csrf_a, csrf_b, "the token is bound to the session");
    for form in [vec![], vec![("csrf", "")], vec![("csrf", csrf_b.as_str())]] {
        let mut form = form.clone();
        form.push(("to", "excluded"));
        let (code, _, body) = a.post("/series/1/override", &form).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{form:?}: {body}");
        let (code, _, _) = a.post("/signout", &form).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{form:?}");
        let (code, _, _) = a
            .post(
                "/connect/caldav",
                &[
                    form[0],
                    ("url", "http://127.0.0.1:1/"),
                    ("username", "x"),
                    ("password", "y"),
                ],
            )
            .await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{form:?}");
    }
    // Oversized or malformed forms get a 4xx, never a 500.
    let big = "x".repeat(100 * 1024);
    let (code, _, _) = a
        .post("/series/1/override", &[("csrf", &csrf_a), ("to", &big)])
        .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    let (code, _, _) = a.post("/series/1/override", &[("csrf", &csrf_a)]).await;
    assert!(code.is_client_error(), "{code}");
    let (code, _) = a.get("/series/not-a-number").await;
    assert!(code.is_client_error(), "{code}");
    // The session still works with its own token.
    let (code, location, _) = a.post("/signout", &[("csrf", &csrf_a)]).await;
    assert_eq!(
        (code, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/signin"))
    );
}

#[tokio::test]
async fn web_generates_an_admin_token_once_prints_it_and_stores_only_its_digest() {
    let db = TestDb::sqlite();
    let keydir = tempfile::tempdir().unwrap();
    let key = keydir.path().join("key").display().to_string();
    let env = [("ONEONONE__SECRETS__KEY_FILE", key.as_str())];
    let d = Daemon::spawn(&db.url, &env);
    let logs = d.log_text();
    let token = logs
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 43 && !l.contains(' ') && !l.starts_with('{'))
        .unwrap_or_else(|| panic!("no token printed:\n{logs}"))
        .to_string();
    let store = db.store().await;
    let stored = store.admin_token_hash().await.unwrap().unwrap();
    assert_eq!(stored, oneonone::web::token_digest(&token));
    assert!(!stored.contains(&token));
    let mut b = Browser::new(&d);
    assert_eq!(b.sign_in(&token).await.0, StatusCode::SEE_OTHER);
    drop(d);

    // The next start prints nothing and the same token still signs in.
    let d = Daemon::spawn(&db.url, &env);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!d.log_text().contains(&token), "printed twice");
    assert!(!d.log_text().contains("was generated"));
    let mut b = Browser::new(&d);
    assert_eq!(b.sign_in(&token).await.0, StatusCode::SEE_OTHER);
    store.close().await;
}

/// The daemon on a Setup's database and key, with the test's admin token.
fn daemon_for(s: &Setup) -> Daemon {
    daemon_with(s, &[])
}

/// As `daemon_for`, with more environment (configuration keys).
fn daemon_with(s: &Setup, extra: &[(&str, &str)]) -> Daemon {
    let env = s.env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra);
    env.push(("ONEONONE__SERVER__ADMIN_TOKEN", TOKEN));
    // Request logs on, to check that no secret reaches them.
    env.push(("RUST_LOG", "info,tower_http=debug"));
    Daemon::spawn(&s.db.url, &env)
}

/// A daemon on a Setup's database with the manager's calendar connected (two 1:1s: Alice, Bob).
pub(crate) async fn connected() -> (Setup, Daemon) {
    let s = Setup::new(Kind::Radicale).await;
    s.connect();
    let d = daemon_for(&s);
    (s, d)
}

#[tokio::test]
async fn direct_link_shows_only_its_own_series_and_lets_the_direct_manage_only_their_topics() {
    let (s, d) = connected().await;
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    let bob = series_with_uid(&store, "biweekly-bob").await;
    let now = chrono::Utc::now();
    let bob_item = store
        .add_item(
            bob.id,
            "manager",
            "Bob's salary review",
            oneonone::store::ItemSource::Cli,
            None,
            now,
        )
        .await
        .unwrap();
    let alice_manager = store
        .add_item(
            alice.id,
            "manager",
            "Alice's promotion case",
            oneonone::store::ItemSource::Cli,
            None,
            now,
        )
        .await
        .unwrap();

    let mut admin = Browser::new(&d);
    admin.sign_in(TOKEN).await;
    let (_, series_page) = admin.get(&format!("/series/{}", alice.id)).await;
    assert!(
        series_page.contains("id=\"agenda\">── oneonone agenda")
            && series_page.contains("Alice Example goes first."),
        "{series_page}"
    );
    let link = make_link(&mut admin, alice.id).await;
    // The link is never stored in clear.
    assert!(!format!("{:?}", store.series_link_created(alice.id).await).contains(&link[3..]));

    let mut direct = Browser::new(&d);
    let (code, page) = direct.get(&link).await;
    assert_eq!(code, StatusCode::OK, "{page}");
    assert!(
        page.contains("1:1 Alice / Sam") && page.contains("15 minutes for you"),
        "{page}"
    );
    let agenda = regex::Regex::new(r#"(?s)<pre class="agenda" id="agenda">(.*?)</pre>"#)
        .unwrap()
        .captures(&page)
        .expect("the agenda is shown")[1]
        .to_string();
    // Nothing of the manager's other meetings, and no address the invite's agenda does not show.
    for other in [
        "Bob",
        "bob@example.com",
        "Team sync",
        "Dana",
        "salary",
        "/series",
        "Sign out",
    ] {
        assert!(
            !page.contains(other),
            "{other:?} leaked into the direct's page:\n{page}"
        );
    }
    let emails = regex::Regex::new(r"[\w.+-]+@[\w-]+\.[\w.]+").unwrap();
    for m in emails.find_iter(&page) {
        assert!(
            agenda.contains(m.as_str()),
            "{} is not in the agenda:\n{page}",
            m.as_str()
        );
    }
    assert!(
        agenda.contains("Alice's promotion case"),
        "the agenda as the invite shows it"
    );
    assert!(!direct.has("oneonone_session"), "no session for the direct");
    assert_eq!(direct.get("/").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        direct.get(&format!("/series/{}", bob.id)).await.0,
        StatusCode::SEE_OTHER
    );

    // Adding a topic needs the link's own CSRF token.
    let csrf = csrf_of(&page);
    let topics = format!("{link}/topics");
    let (code, _, _) = direct
        .post(&topics, &[("text", "Conference budget"), ("csrf", "x")])
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, _, _) = direct
        .post(
            &topics,
            &[
                ("text", "Conference budget"),
                ("csrf", &csrf_of(&series_page)),
            ],
        )
        .await;
    assert_eq!(
        code,
        StatusCode::FORBIDDEN,
        "an admin session's token is not the link's"
    );
    let (code, location, _) = direct
        .post(
            &topics,
            &[("text", "  Conference\nbudget  "), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(link.as_str()));
    let (code, _, body) = direct
        .post(&topics, &[("text", "   "), ("csrf", &csrf)])
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
    let items = store.list_items(alice.id, true).await.unwrap();
    let topic = items
        .iter()
        .find(|i| i.text == "Conference budget")
        .expect("the topic is stored as one line");
    assert_eq!(
        (topic.section.as_str(), topic.source.as_str()),
        ("direct", "web")
    );
    let (_, page) = direct.get(&link).await;
    assert!(page.contains("Conference budget"), "{page}");

    // The direct can remove their own topic, and nothing else: not the manager's item, not
    // another series' item.
    for other in [alice_manager, bob_item] {
        let (code, _, _) = direct
            .post(&format!("{link}/topics/{other}/remove"), &[("csrf", &csrf)])
            .await;
        assert_eq!(code, StatusCode::NOT_FOUND);
    }
    let open: Vec<i64> = store
        .list_items(alice.id, true)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert!(open.contains(&alice_manager));
    assert_eq!(store.list_items(bob.id, true).await.unwrap().len(), 1);
    let (code, _, _) = direct
        .post(
            &format!("{link}/topics/{}/remove", topic.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    let open = store.list_items(alice.id, true).await.unwrap();
    assert!(open.iter().all(|i| i.id != topic.id));
    // A second click on the same "remove" is not an error page: the topic is gone, as asked.
    let (code, _, page) = direct
        .post(
            &format!("{link}/topics/{}/remove", topic.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER, "{page}");
    store.close().await;
}

/// A connected daemon, a signed-in admin, and the direct on the link of Alice's series.
struct Linked {
    s: Setup,
    d: Daemon,
    store: oneonone::store::Store,
    alice: oneonone::store::SeriesRow,
    admin: Browser,
    direct: Browser,
    link: String,
    /// The CSRF token of the direct's page.
    csrf: String,
}

async fn linked() -> Linked {
    linked_with(&[]).await
}

/// As `linked`, the daemon with more environment (configuration keys).
async fn linked_with(extra: &[(&str, &str)]) -> Linked {
    let s = Setup::new(Kind::Radicale).await;
    s.connect();
    let d = daemon_with(&s, extra);
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    let mut admin = Browser::new(&d);
    admin.sign_in(TOKEN).await;
    let link = make_link(&mut admin, alice.id).await;
    let mut direct = Browser::new(&d);
    let (_, page) = direct.get(&link).await;
    let csrf = csrf_of(&page);
    Linked {
        s,
        d,
        store,
        alice,
        admin,
        direct,
        link,
        csrf,
    }
}

#[tokio::test]
async fn direct_link_stops_working_when_revoked_or_rotated() {
    let Linked {
        s: _s,
        d,
        store,
        alice,
        mut admin,
        mut direct,
        link: first,
        csrf,
    } = linked().await;

    let second = make_link(&mut admin, alice.id).await;
    assert_ne!(first, second);
    assert_eq!(direct.get(&first).await.0, StatusCode::NOT_FOUND, "rotated");
    let (code, _, _) = direct
        .post(
            &format!("{first}/topics"),
            &[("text", "late"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(direct.get(&second).await.0, StatusCode::OK);

    let (_, page) = admin.get(&format!("/series/{}", alice.id)).await;
    assert!(!page.contains(&second), "the link is shown only when made");
    let (code, _, _) = admin
        .post(
            &format!("/series/{}/link/revoke", alice.id),
            &[("csrf", &csrf_of(&page))],
        )
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert_eq!(
        direct.get(&second).await.0,
        StatusCode::NOT_FOUND,
        "revoked"
    );
    let (code, wrong) = direct.get(&format!("/d/{}", "A".repeat(43))).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(wrong.contains("does not exist"));
    let logs = d.log_text();
    assert!(logs.contains("tower_http"), "requests are logged:\n{logs}");
    for secret in [&first[3..], &second[3..], TOKEN] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
    store.close().await;
}

#[tokio::test]
async fn connect_caldav_form_says_why_it_failed_and_saves_only_a_verified_account() {
    let s = Setup::new(Kind::Radicale).await;
    let d = daemon_for(&s);
    let mut b = Browser::new(&d);
    b.sign_in(TOKEN).await;
    let (code, page) = b.get("/connect/caldav").await;
    assert_eq!(code, StatusCode::OK);
    let csrf = csrf_of(&page);
    let base = s.server.base.to_string();
    let form = |password: &'static str| {
        vec![
            ("url", base.clone()),
            ("username", USER.to_string()),
            ("password", password.to_string()),
            ("owner", "sam@example.com".to_string()),
            ("csrf", csrf.clone()),
        ]
    };
    let wrong = form("wrong-password");
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, _, page) = b.post("/connect/caldav", &wrong).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("refused the user name or password"), "{page}");
    assert!(
        !page.contains("wrong-password"),
        "the password is never shown back"
    );
    assert!(
        page.contains(&format!("value=\"{USER}\"")),
        "the other fields are kept"
    );
    let store = s.db.store().await;
    assert!(store.list_accounts().await.unwrap().is_empty());

    let bad_url = [
        ("url", "not a url"),
        ("username", USER),
        ("password", PASSWORD),
        ("csrf", &csrf),
    ];
    let (code, _, page) = b.post("/connect/caldav", &bad_url).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("is not a URL"), "{page}");

    let right = form(PASSWORD);
    let right: Vec<(&str, &str)> = right.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, location, _) = b.post("/connect/caldav", &right).await;
    assert_eq!(
        (code, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/accounts/1")),
        "sent to the account's preview"
    );
    let accounts = store.list_accounts().await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert!(
        accounts[0]
            .credentials
            .as_deref()
            .is_some_and(|c| !c.windows(6).any(|w| w == PASSWORD.as_bytes()))
    );
    let (_, home) = b.get("/accounts").await;
    assert!(home.contains(&format!("{USER} at 127.0.0.1")), "{home}");
    store.close().await;
}

/// An account's own controls on its page, on SQLite and PostgreSQL: "Change the password" checks
/// the new one with the server (a wrong one changes nothing), "Remove" keeps the 1:1s and says
/// so, the Connect form brings a removed account back, and "Delete for good" deletes only from
/// its confirmation page.
#[tokio::test]
async fn an_account_is_reconnected_removed_brought_back_and_purged_from_its_page() {
    for db in TestDb::all().await {
        let kind = db.kind;
        let mut s = Setup::new(Kind::Radicale).await;
        s.db = db;
        s.connect();
        let d = daemon_for(&s);
        let store = s.db.store().await;
        let mut b = Browser::new(&d);
        b.sign_in(TOKEN).await;
        let (_, page) = b.get("/accounts/1").await;
        assert!(
            page.contains("Change the password") && page.contains("id=\"remove\""),
            "{kind}: {page}"
        );
        let (code, page) = b.get("/accounts/1/reconnect").await;
        assert_eq!(code, StatusCode::OK, "{kind}");
        assert!(
            page.contains(s.server.base.as_str()) && page.contains(USER),
            "{kind}: {page}"
        );
        let csrf = csrf_of(&page);
        let before = store.get_account(1).await.unwrap().credentials;
        let wrong = [("password", "wrong-password"), ("csrf", &csrf)];
        let (code, _, page) = b.post("/accounts/1/reconnect", &wrong).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        assert_eq!(page.matches("Nothing changed").count(), 1, "{kind}: {page}");
        assert!(
            page.contains("refused the user name or password"),
            "{kind}: {page}"
        );
        assert!(!page.contains("wrong-password"), "{kind}");
        assert_eq!(
            store.get_account(1).await.unwrap().credentials,
            before,
            "{kind}"
        );
        let right = [("password", PASSWORD), ("csrf", &csrf)];
        let (code, location, _) = b.post("/accounts/1/reconnect", &right).await;
        assert_eq!(
            (code, location.as_deref()),
            (
                StatusCode::SEE_OTHER,
                Some("/accounts/1?notice=reconnected")
            ),
            "{kind}"
        );
        let (_, page) = b.get("/accounts/1?notice=reconnected").await;
        assert!(
            page.contains("Reconnected: the new credentials are stored"),
            "{kind}: {page}"
        );
        assert_ne!(
            store.get_account(1).await.unwrap().credentials,
            before,
            "{kind}"
        );

        let (code, location, _) = b.post("/accounts/1/remove", &[("csrf", &csrf)]).await;
        assert_eq!(
            (code, location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/accounts/1"))
        );
        let (_, page) = b.get("/accounts/1").await;
        assert!(
            page.contains("Removed on ") && page.contains("Kept: its 3 1:1s"),
            "{kind}: {page}"
        );
        assert!(!page.contains("id=\"remove\""), "{kind}");
        let (_, home) = b.get("/accounts").await;
        assert!(
            home.contains("Connect again") && home.contains(">removed<"),
            "{kind}: {home}"
        );
        let (code, _) = b.get("/series").await;
        assert_eq!(code, StatusCode::OK, "{kind}");
        assert_eq!(
            store.list_series().await.unwrap().len(),
            4,
            "{kind}: series kept"
        );

        // The Connect form with the same server and user brings it back, as account 1.
        let (_, form) = b.get("/connect/caldav").await;
        let base = s.server.base.to_string();
        let again = [
            ("url", base.as_str()),
            ("username", USER),
            ("password", PASSWORD),
            ("owner", "sam@example.com"),
            ("csrf", &csrf_of(&form)),
        ];
        let (code, location, _) = b.post("/connect/caldav", &again).await;
        assert_eq!(
            (code, location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/accounts/1?notice=back")),
            "{kind}"
        );
        let (_, page) = b.get("/accounts/1?notice=back").await;
        assert!(page.contains("Connected again"), "{kind}: {page}");
        assert_eq!(store.list_accounts().await.unwrap().len(), 1, "{kind}");

        // "Delete for good" only from its confirmation page.
        let (_, page) = b.get("/accounts/1/purge").await;
        assert!(
            page.contains("for good?") && page.contains("its 3 1:1s"),
            "{kind}: {page}"
        );
        let csrf = csrf_of(&page);
        let (code, location, _) = b.post("/accounts/1/purge", &[("csrf", &csrf)]).await;
        assert_eq!(
            (code, location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/accounts/1/purge"))
        );
        assert_eq!(
            store.list_accounts().await.unwrap().len(),
            1,
            "{kind}: not confirmed"
        );
        let confirmed = [("csrf", csrf.as_str()), ("confirm", "yes")];
        let (code, location, _) = b.post("/accounts/1/purge", &confirmed).await;
        assert_eq!(
            (code, location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/accounts?notice=purged"))
        );
        assert!(store.list_accounts().await.unwrap().is_empty(), "{kind}");
        assert!(store.list_series().await.unwrap().is_empty(), "{kind}");
        let (_, home) = b.get("/accounts?notice=purged").await;
        assert!(home.contains("The account is deleted"), "{kind}: {home}");
        store.close().await;
    }
}

#[tokio::test]
async fn a_running_daemon_writes_nothing_for_an_account_connected_on_the_web_until_start() {
    for db in TestDb::all().await {
        let mut s = Setup::new(Kind::Radicale).await;
        s.db = db;
        web_connect_then_start(&s).await;
    }
}

/// The daemon runs; the manager connects CalDAV from the form. Its passes import and detect, the
/// account's page shows each 1:1 with the agenda it would get and "Nothing has been written",
/// `/readyz` says the account waits to be started, and no pass writes (not even one asked for
/// with "Sync now") until Start is pressed; then the next pass writes.
async fn web_connect_then_start(s: &Setup) {
    let db = s.db.kind;
    let d = daemon_for(s);
    let before = s.body(ALICE).await;
    let mut b = Browser::new(&d);
    b.sign_in(TOKEN).await;
    let (_, page) = b.get("/connect/caldav").await;
    let base = s.server.base.to_string();
    let form = [
        ("url", base.as_str()),
        ("username", USER),
        ("password", PASSWORD),
        ("owner", "sam@example.com"),
        ("csrf", &csrf_of(&page)),
    ];
    let (code, location, _) = b.post("/connect/caldav", &form).await;
    assert_eq!(code, StatusCode::SEE_OTHER, "{db}");
    let path = location.unwrap();
    let store = s.db.store().await;
    // The account's finished passes.
    let runs = async || {
        let all = store.recent_runs(100).await.unwrap();
        all.iter()
            .filter(|r| r.account_id == Some(1) && r.finished_at.is_some())
            .count()
    };

    // The preview pass, then one more asked for by hand: both finish, neither writes.
    let mut page = String::new();
    for _ in 0..120 {
        page = b.get(&path).await.1;
        if page.contains("id=\"found\"") {
            break;
        }
        assert!(page.contains("Reading your calendars"), "{db}: {page}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for want in [
        "1:1 Alice / Sam",
        "With Alice Example <alice@example.com>",
        "goes first",
        "Nothing has been written to any calendar yet.",
        "id=\"start-writing\"",
    ] {
        assert!(page.contains(want), "{db}: {want:?} missing from:\n{page}");
    }
    let (_, ready) = crate::fixtures::get(&d.url("/readyz")).await;
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(
        ready["accounts"][0]["state"], "waiting_to_start",
        "{db}: {ready}"
    );
    assert!(ready["accounts"][0]["writing_started_at"].is_null(), "{db}");
    let (_, home) = b.get("/accounts").await;
    assert!(home.contains("Review and start"), "{db}: {home}");
    let (_, week) = b.get("/").await;
    assert!(
        week.contains("nothing is written into its calendar until you start it")
            && week.contains("To be written once you start its account"),
        "{db}: {week}"
    );
    let done = runs().await;
    let (code, _, _) = b
        .post("/accounts/1/sync", &[("csrf", &csrf_of(&home))])
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    for _ in 0..120 {
        if runs().await > done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(runs().await > done, "{db}: no pass after Sync now");
    assert_eq!(
        s.body(ALICE).await,
        before,
        "{db}: a pass wrote before Start"
    );

    // Start: the next pass writes the agenda.
    let (code, location, _) = b
        .post("/accounts/1/start", &[("csrf", &csrf_of(&page))])
        .await;
    assert_eq!(
        (code, location.as_deref()),
        (StatusCode::SEE_OTHER, Some(path.as_str())),
        "{db}"
    );
    let text = alice_event_until(s, |t| t.contains("oneonone agenda")).await;
    assert!(
        text.contains("oneonone agenda"),
        "{db}: no agenda after Start:\n{text}\n{}",
        d.log_text()
    );
    let (_, page) = b.get(&path).await;
    assert!(page.contains("Writing agendas since"), "{db}: {page}");
    assert!(!page.contains("Nothing has been written"), "{db}: {page}");
    let (_, ready) = crate::fixtures::get(&d.url("/readyz")).await;
    assert!(ready.contains("\"state\":\"ok\""), "{db}: {ready}");
    store.close().await;
}

/// The whole job in headless Chromium (tests/browser/web.mjs): sign in, connect the test Radicale,
/// include a series, make the direct's link, add a topic as the direct, run a pass; then the
/// topic must stand in the agenda written into the calendar. Screenshots go to
/// `$CARGO_TARGET_TMPDIR/browser`; with ONEONONE_UPDATE_SCREENSHOTS=1 the series page also
/// goes to docs/img/agenda.png.
#[tokio::test]
async fn browser_direct_topic_reaches_the_agenda_in_the_calendar() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let node_dir = root.join(".node");
    assert!(
        node_dir.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run scripts/setup-node (scripts/test does)"
    );
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing: apt-get install chromium (scripts/test does)"
    );
    let s = Setup::new(Kind::Radicale).await;
    let d = daemon_for(&s);
    let artifacts = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let topic = "Conference budget for next year";
    let mut node = std::process::Command::new("node");
    node.arg(root.join("tests/browser/web.mjs"))
        .env("BASE_URL", d.url(""))
        .env("ADMIN_TOKEN", TOKEN)
        .env("CALDAV_URL", s.server.base.as_str())
        .env("CALDAV_USER", USER)
        .env("CALDAV_PASSWORD", PASSWORD)
        .env("OWNER", "sam@example.com")
        .env("TOPIC", topic)
        .env("ARTIFACTS", &artifacts)
        .env("NODE_DIR", &node_dir);
    if std::env::var("ONEONONE_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        node.env("AGENDA_PNG", root.join("docs/img/agenda.png"));
    }
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

    // The pass the browser asked for writes the topic into the invite's agenda.
    let unfolded = alice_event_until(&s, |t| t.contains(topic)).await;
    assert!(
        unfolded.contains(&format!("- [ ] {topic}")),
        "the topic is not in the calendar:\n{unfolded}\ndaemon:\n{}",
        d.log_text()
    );
    // In the direct's part of the agenda.
    let you = unfolded
        .find("15 minutes for you")
        .expect("the direct's section");
    let me = unfolded
        .find("15 minutes for me")
        .expect("the manager's section");
    let at = unfolded.find(topic).unwrap();
    assert!(
        you < at && at < me,
        "not in 15 minutes for you:\n{unfolded}"
    );
    assert!(
        unfolded.contains("Alice's own notes: keep me."),
        "user text kept"
    );
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    assert_eq!(alice.override_.as_str(), "included");
    store.close().await;
}

#[tokio::test]
async fn history_page_finds_meetings_and_items_by_their_text() {
    let s = Setup::new(Kind::Radicale).await;
    s.connect_and_start("2026-03-24T12:00:00Z");
    s.user_edit(ALICE, "weekly-alice", W1, |d| {
        let d = insert_line_after(
            d,
            "Notes and action items",
            "Talked about the offsite in Lisbon",
        );
        insert_line_after(&d, "Talked about the offsite", "- [ ] Book the venue")
    })
    .await;
    s.sync("2026-03-25T12:00:00Z");
    s.sync("2026-03-31T09:00:00Z"); // The 30 March meeting closes into the history.
    let d = daemon_for(&s);
    let mut b = Browser::new(&d);
    b.sign_in(TOKEN).await;

    let (code, page) = b.get("/history?q=LISBON").await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        page.contains("note: Talked about the offsite in Lisbon"),
        "{page}"
    );
    assert!(page.contains("2026-03-30"), "{page}");
    assert!(page.contains("1:1 Alice / Sam"), "{page}");

    let (_, page) = b.get("/history?q=venue").await;
    assert!(page.contains("Book the venue"), "{page}");
    assert!(
        page.contains("id=\"item-hits\""),
        "items are searched too: {page}"
    );

    let (_, page) = b.get("/history?q=no+such+words").await;
    assert!(
        page.contains("No meeting in the history mentions"),
        "{page}"
    );
    assert!(!page.contains("Lisbon"), "{page}");

    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    let (_, page) = b.get(&format!("/series/{}", alice.id)).await;
    assert!(
        page.contains("Talked about the offsite in Lisbon"),
        "the series page shows its history"
    );
    store.close().await;
}

#[tokio::test]
async fn series_can_be_included_and_excluded_from_the_series_page() {
    let (s, d) = connected().await;
    let store = s.db.store().await;
    let team = series_with_uid(&store, "team-sync").await;
    assert!(!team.tracked());
    let mut b = Browser::new(&d);
    b.sign_in(TOKEN).await;
    let (_, page) = b.get("/series").await;
    assert!(
        page.contains("Team sync") && page.contains(&team.detection_reason),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let path = format!("/series/{}/override", team.id);
    let (code, location, _) = b.post(&path, &[("csrf", &csrf), ("to", "included")]).await;
    assert_eq!(
        (code, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/series"))
    );
    assert!(series_with_uid(&store, "team-sync").await.tracked());
    let (code, _, _) = b.post(&path, &[("csrf", &csrf), ("to", "excluded")]).await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    let team = series_with_uid(&store, "team-sync").await;
    assert_eq!(team.override_.as_str(), "excluded");

    let (code, _, page) = b.post(&path, &[("csrf", &csrf), ("to", "maybe")]).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(page.contains("\"maybe\" is not a choice"), "{page}");
    let (code, _, _) = b
        .post(
            "/series/9999/override",
            &[("csrf", &csrf), ("to", "included")],
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/series/9999").await.0, StatusCode::NOT_FOUND);
    store.close().await;
}

#[tokio::test]
async fn expired_sessions_open_nothing() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = chrono::Utc::now();
        let hour = chrono::Duration::hours(1);
        store
            .create_session("old", now - hour * 2, now - hour)
            .await
            .unwrap();
        store.create_session("live", now, now + hour).await.unwrap();
        assert!(
            !store.session_valid("old", now).await.unwrap(),
            "{}",
            db.kind
        );
        assert!(
            store.session_valid("live", now).await.unwrap(),
            "{}",
            db.kind
        );
        assert!(
            !store.session_valid("live", now + hour * 2).await.unwrap(),
            "{}",
            db.kind
        );
        store.close().await;
    }
}

/// "Sync now" on the accounts page.
async fn sync_now(b: &mut Browser) {
    let (_, home) = b.get("/accounts").await;
    let (code, _, _) = b
        .post("/accounts/1/sync", &[("csrf", &csrf_of(&home))])
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER);
}

/// Polls Radicale until Alice's event, unfolded, satisfies `check` (the pass was asked for once:
/// a request that arrives while a pass runs gets a pass of its own).
pub(crate) async fn alice_event_until(s: &Setup, check: impl Fn(&str) -> bool) -> String {
    let mut text = String::new();
    // Up to a minute (a limit: it returns as soon as the check holds), for a loaded machine.
    for _ in 0..240 {
        let body = s.body(ALICE).await;
        text = String::from_utf8_lossy(&body).replace("\r\n ", "");
        if check(&text) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    text
}

#[tokio::test]
async fn a_topic_the_direct_removes_leaves_the_invite_and_does_not_come_back() {
    let Linked {
        s,
        d: _daemon,
        store,
        alice,
        mut admin,
        mut direct,
        link,
        csrf,
    } = linked().await;
    let topic = "Moving to the platform team";
    direct
        .post(
            &format!("{link}/topics"),
            &[("text", topic), ("csrf", &csrf)],
        )
        .await;
    sync_now(&mut admin).await;
    let text = alice_event_until(&s, |t| t.contains(topic)).await;
    assert!(text.contains(&format!("- [ ] {topic}")), "{text}");

    let item = store.list_items(alice.id, true).await.unwrap();
    let item = item.iter().find(|i| i.text == topic).unwrap();
    let (code, _, _) = direct
        .post(
            &format!("{link}/topics/{}/remove", item.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    sync_now(&mut admin).await;
    let text = alice_event_until(&s, |t| !t.contains(topic)).await;
    assert!(
        !text.contains(topic),
        "the removed topic is still in the invite:\n{text}"
    );
    assert!(text.contains("Alice Example goes first."), "{text}");
    // Another pass reads the invite back: the topic stays dropped, and is not re-added.
    sync_now(&mut admin).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let items = store.list_items(alice.id, false).await.unwrap();
    let same: Vec<_> = items.iter().filter(|i| i.text == topic).collect();
    assert_eq!(same.len(), 1, "{items:?}");
    assert_eq!(same[0].state, "dropped");
    // And the history says so: dropped on the web page, in the entry of the meeting it was
    // queued for, on the series page and in the export.
    assert_eq!(same[0].closed_via.as_deref(), Some("web"));
    let (_, page) = admin.get(&format!("/series/{}", alice.id)).await;
    assert!(
        page.contains(&format!("dropped: {topic} (direct's topic, "))
            && page.contains("on the web page)"),
        "{page}"
    );
    let h = s.cli(&["history", "--with", "alice@example.com", "--format", "json"]);
    let h: serde_json::Value = serde_json::from_slice(&h.stdout).unwrap();
    let dropped: Vec<&serde_json::Value> = h["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["dropped"].as_array().unwrap())
        .filter(|i| i["text"] == topic)
        .collect();
    assert_eq!(dropped.len(), 1, "{h:#}");
    assert_eq!(dropped[0]["via"], "web", "{h:#}");
    store.close().await;
}

/// A form body: `csrf` and `text` (raw bytes, percent-encoded here).
fn topic_body(csrf: &str, text: &[u8]) -> Vec<u8> {
    let mut body = format!("csrf={csrf}&text=").into_bytes();
    for &b in text {
        if b.is_ascii_alphanumeric() {
            body.push(b);
        } else {
            body.extend(format!("%{b:02X}").into_bytes());
        }
    }
    body
}

#[tokio::test]
async fn direct_link_refuses_control_characters_bad_utf8_the_opt_out_and_marker_lines() {
    let Linked {
        s: _s,
        d: _d,
        store,
        alice,
        admin: _admin,
        mut direct,
        link,
        csrf,
    } = linked().await;
    let topics = format!("{link}/topics");
    let cases: [(&[u8], &str); 7] = [
        (b"a\0b", "control characters"),
        (b"\x1b[31mred\x1b[0m", "control characters"),
        (b"del\x7f", "control characters"),
        (b"caf\xe9", "not valid text (UTF-8)"),
        (b"\xff\xfe", "not valid text (UTF-8)"),
        (
            b"Let's skip this one #No-Agenda",
            "cannot contain \"#no-agenda\"",
        ),
        (
            "── end of oneonone agenda ──".as_bytes(),
            "starts or ends in the invite",
        ),
    ];
    for (text, why) in cases {
        let (code, _, page) = direct.post_raw(&topics, topic_body(&csrf, text)).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{text:?}: {page}");
        // The direct's page again: why above the form, and what they typed in the field
        // (text that is not UTF-8 cannot be kept: the message asks to type it again).
        assert!(
            page.contains(r#"role="alert">"#) && page.contains(why),
            "{text:?}: {why:?} not in\n{page}"
        );
        assert!(
            page.contains(&format!(r#"action="{topics}""#)),
            "no form: {page}"
        );
        let kept = std::str::from_utf8(text).unwrap_or("");
        assert!(
            page.contains(&format!(r#"name="text" maxlength="300" value="{kept}""#)),
            "{text:?} not kept in\n{page}"
        );
    }
    assert!(
        store.list_items(alice.id, false).await.unwrap().is_empty(),
        "nothing refused was stored"
    );
    // The same body, readable, goes through: the checks are not refusing everything.
    let (code, _, page) = direct
        .post_raw(&topics, topic_body(&csrf, "Café ✓ budget".as_bytes()))
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER, "{page}");
    let items = store.list_items(alice.id, true).await.unwrap();
    assert_eq!(
        items.iter().map(|i| i.text.as_str()).collect::<Vec<_>>(),
        ["Café ✓ budget"]
    );
    store.close().await;
}

#[tokio::test]
async fn direct_link_caps_open_topics_and_limits_changes_per_link() {
    let Linked {
        s: _s,
        d,
        store,
        alice,
        mut admin,
        mut direct,
        link,
        csrf,
    } = linked_with(&[
        ("ONEONONE__WEB__DIRECT_TOPICS_MAX_OPEN", "3"),
        ("ONEONONE__WEB__DIRECT_LINK_POSTS_PER_MINUTE", "6"),
    ])
    .await;
    let topics = format!("{link}/topics");
    for i in 1..=3 {
        let text = format!("Topic {i}");
        let (code, _, page) = direct
            .post(&topics, &[("text", &text), ("csrf", &csrf)])
            .await;
        assert_eq!(code, StatusCode::SEE_OTHER, "{page}");
    }
    // The fourth open topic is refused with the cap and what to do.
    let (code, _, page) = direct
        .post(&topics, &[("text", "Topic 4"), ("csrf", &csrf)])
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{page}");
    assert!(
        page.contains("You already have 3 open topics here; this link takes at most 3.")
            && page.contains("Remove one you no longer need")
            && page.contains("or wait until the meeting"),
        "{page}"
    );
    assert!(
        page.contains(r#"role="alert">You already have"#)
            && page.contains(r#"value="Topic 4""#)
            && page.contains(&format!(r#"action="{topics}""#)),
        "the page again, with the text kept: {page}"
    );
    // The manager's own items do not count against the direct's cap.
    store
        .add_item(
            alice.id,
            "manager",
            "Manager's topic",
            oneonone::store::ItemSource::Cli,
            None,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let first = store.list_items(alice.id, true).await.unwrap();
    let first = first.iter().find(|i| i.text == "Topic 1").unwrap();
    let (code, _, _) = direct
        .post(
            &format!("{link}/topics/{}/remove", first.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    let (code, _, page) = direct
        .post(&topics, &[("text", "Topic 4"), ("csrf", &csrf)])
        .await;
    assert_eq!(
        code,
        StatusCode::SEE_OTHER,
        "room again after a removal: {page}"
    );
    let (_, page) = direct.get(&link).await;
    assert!(page.contains("Up to 3 open topics"), "{page}");

    // Six changes a minute per link: the seventh is 429 with Retry-After, and stores nothing.
    let (code, retry, page) = direct
        .post_raw(&topics, topic_body(&csrf, b"Topic 5"))
        .await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS, "{page}");
    let secs: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    assert!(page.contains(&format!("Wait {secs} seconds")), "{page}");
    assert!(
        page.contains(r#"role="alert">Too many changes"#)
            && page.contains(r#"value="Topic 5""#)
            && page.contains(&format!(r#"action="{topics}""#)),
        "the page again, with the text kept: {page}"
    );
    let open = store.list_items(alice.id, true).await.unwrap();
    assert!(open.iter().all(|i| i.text != "Topic 5"), "{open:?}");
    // Another series' link has its own allowance.
    let bob = series_with_uid(&store, "biweekly-bob").await;
    let bob_link = make_link(&mut admin, bob.id).await;
    let mut bob_direct = Browser::new(&d);
    let (_, page) = bob_direct.get(&bob_link).await;
    let (code, _, page) = bob_direct
        .post(
            &format!("{bob_link}/topics"),
            &[("text", "Bob's topic"), ("csrf", &csrf_of(&page))],
        )
        .await;
    assert_eq!(code, StatusCode::SEE_OTHER, "{page}");
    store.close().await;
}

/// A refused topic brings the direct back to their page (the form, why, what they typed),
/// with the text escaped by the template, never raw; an expired form (403) too.
#[tokio::test]
async fn a_refused_topic_comes_back_escaped_in_the_form_with_why() {
    let Linked {
        s: _s,
        d,
        store,
        alice,
        admin: _admin,
        direct,
        link,
        csrf,
    } = linked().await;
    let topics = format!("{link}/topics");
    // The raw page, not the test browser's unescaped copy.
    let post = async |csrf: &str, text: &str| {
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(d.url(&topics))
            .header(COOKIE, direct.cookie_header())
            .form(&[("csrf", csrf), ("text", text)])
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let hostile = r#"<script>alert("x")</script> #no-agenda"#;
    let (code, page) = post(&csrf, hostile).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{page}");
    assert!(!page.contains("<script>"), "raw text in the page:\n{page}");
    assert!(
        page.contains(
            r#"value="&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2f;script&gt; #no-agenda""#
        ),
        "not kept (escaped):\n{page}"
    );
    assert!(
        page.contains(r#"<p class="error" id="error" role="alert">A topic cannot contain"#),
        "{page}"
    );
    let form = page
        .find(r#"<form method="post" action="/d/"#)
        .expect("the form");
    assert!(
        page.find(r#"role="alert""#).unwrap() < form,
        "why stands above the form"
    );
    // A form that did not come from the page: refused (403), the text kept all the same.
    let (code, page) = post("stale", "Conference budget").await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{page}");
    assert!(
        page.contains(r#"role="alert">This form has expired"#)
            && page.contains(r#"value="Conference budget""#),
        "{page}"
    );
    assert!(store.list_items(alice.id, false).await.unwrap().is_empty());
    // The agenda's "tick [x] when done" is for the invite: the page says so.
    let page = reqwest::get(d.url(&link))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("ticking and notes happen in the calendar, not on this page"),
        "{page}"
    );
    store.close().await;
}

/// "Make a link" is POST-redirect-GET: the token never stands in a URL, the page shows it once
/// (carried by a short-lived HttpOnly cookie scoped to the series' page), a refresh neither
/// shows it again nor makes another, and a carried token that is no longer the live link is
/// not shown.
#[tokio::test]
async fn making_a_link_redirects_then_shows_it_once_and_a_refresh_keeps_it() {
    let Linked {
        s: _s,
        d,
        store,
        alice,
        mut admin,
        mut direct,
        link,
        csrf: _,
    } = linked().await;
    // `linked` made the link through `make_link`, which saw it once; refreshes keep it.
    let series = format!("/series/{}", alice.id);
    for _ in 0..2 {
        let (code, page) = admin.get(&series).await;
        assert_eq!(code, StatusCode::OK);
        assert!(!page.contains(&link[3..]), "shown again:\n{page}");
    }
    assert_eq!(
        direct.get(&link).await.0,
        StatusCode::OK,
        "still the live link"
    );

    // The cookie that carries it, as the POST sets it.
    let raw_post = async |admin: &Browser| {
        let page = reqwest::Client::new()
            .get(d.url(&series))
            .header(COOKIE, admin.cookie_header())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(d.url(&format!("{series}/link")))
            .header(COOKIE, admin.cookie_header())
            .form(&[("csrf", csrf_of(&page))])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let set = set_cookies(&r);
        let carried = set
            .iter()
            .find(|c| c.starts_with("oneonone_new_link="))
            .unwrap_or_else(|| panic!("{set:?}"))
            .clone();
        let c = cookie::Cookie::parse(carried.clone()).unwrap();
        assert_eq!(c.http_only(), Some(true), "{carried}");
        assert_eq!(c.same_site(), Some(cookie::SameSite::Strict), "{carried}");
        assert_eq!(c.path(), Some(series.as_str()), "{carried}");
        assert_eq!(
            c.max_age(),
            Some(cookie::time::Duration::minutes(1)),
            "{carried}"
        );
        c.value().to_string()
    };
    let stale = raw_post(&admin).await;
    let live = raw_post(&admin).await;
    assert_ne!(stale, live);
    // A carried token that is no longer the link (made again since) is not shown.
    admin
        .cookies
        .push(("oneonone_new_link".into(), stale.clone()));
    let (_, page) = admin.get(&series).await;
    assert!(
        !page.contains(&stale) && !page.contains("direct-link"),
        "{page}"
    );
    assert!(!admin.has("oneonone_new_link"), "spent all the same");
    admin
        .cookies
        .push(("oneonone_new_link".into(), live.clone()));
    let (_, page) = admin.get(&series).await;
    assert!(page.contains(&format!("/d/{live}\"")), "{page}");
    store.close().await;
}

#[tokio::test]
async fn the_direct_link_is_built_on_public_url_and_never_on_a_foreign_host_header() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    let (alice, _) = crate::fixtures::team::team(&store).await;
    store.close().await;
    // The link's page, made with a Host header of the client's choosing.
    let link_page = async |d: &Daemon, host: &str| {
        let mut b = Browser::new(d);
        assert_eq!(b.sign_in(TOKEN).await.0, StatusCode::SEE_OTHER);
        let (_, page) = b.get(&format!("/series/{}", alice.id)).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = client
            .post(d.url(&format!("/series/{}/link", alice.id)))
            .header(reqwest::header::HOST, host)
            .header(COOKIE, b.cookie_header())
            .form(&[("csrf", csrf_of(&page))])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        b.keep(&r);
        // The page the POST redirects to, opened at the same Host, shows the link.
        let r = client
            .get(d.url(&format!("/series/{}", alice.id)))
            .header(reqwest::header::HOST, host)
            .header(COOKIE, b.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        unescape(&r.text().await.unwrap())
    };
    let shown = |page: &str| {
        let re = regex::Regex::new(r#"id="direct-link" value="([^"]*)""#).unwrap();
        re.captures(page)
            .unwrap_or_else(|| panic!("no link shown:\n{page}"))[1]
            .to_string()
    };

    // No server.public_url: a foreign Host gives the path alone, and the page says what to set.
    let d = daemon(&db.url, &[]);
    let page = link_page(&d, "evil.example").await;
    let link = shown(&page);
    assert!(
        link.starts_with("/d/") && !page.contains("evil.example"),
        "{link}"
    );
    assert!(page.contains("Set server.public_url so this link works for your direct"));
    // Nor does it go into the invites, and the page says why (issue 27).
    assert!(
        page.contains("The direct's link is not in the invites: set server.public_url"),
        "{page}"
    );
    // The daemon's own loopback address is taken as it is.
    let own = d.addr.to_string();
    let link = shown(&link_page(&d, &own).await);
    assert!(link.starts_with(&format!("http://{own}/d/")), "{link}");
    drop(d);

    // With server.public_url the link is built on it, whatever the Host.
    let d = daemon(
        &db.url,
        &[("ONEONONE__SERVER__PUBLIC_URL", "https://1on1.example.com/")],
    );
    let page = link_page(&d, "evil.example").await;
    let link = shown(&page);
    assert!(link.starts_with("https://1on1.example.com/d/"), "{link}");
    assert_eq!(link.len(), "https://1on1.example.com/d/".len() + 43);
    assert!(!page.contains("Set server.public_url"));
    // A link made on the page is kept for the invite too.
    assert!(
        page.contains("The invite carries this link in the direct's section"),
        "{page}"
    );
}

#[tokio::test]
async fn the_google_connect_pages_carry_the_security_headers_of_every_page() {
    let db = TestDb::sqlite();
    let d = daemon(&db.url, &[]);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/connect/google",
        "/oauth/google/callback?state=unknown&code=x",
    ] {
        let r = client.get(d.url(path)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_page_for_a_series_or_account_that_does_not_exist_names_it_with_404_and_a_link_back() {
    let db = TestDb::sqlite();
    let d = daemon(&db.url, &[]);
    let mut b = Browser::new(&d);
    b.sign_in(TOKEN).await;
    let (_, home) = b.get("/").await;
    let csrf = csrf_of(&home);
    let missing = [
        (
            "/series/999999",
            None,
            "Series 999999 does not exist.",
            "/series",
        ),
        (
            "/accounts/999999",
            None,
            "Account 999999 does not exist.",
            "/accounts",
        ),
        (
            "/series/999999/notes",
            Some("a note"),
            "Series 999999 does not exist.",
            "/series",
        ),
        (
            "/accounts/999999/sync",
            Some(""),
            "Account 999999 does not exist.",
            "/accounts",
        ),
    ];
    for (path, form, sentence, back) in missing {
        let (code, page) = match form {
            None => b.get(path).await,
            Some(text) => {
                let (code, _, page) = b.post(path, &[("csrf", &csrf), ("text", text)]).await;
                (code, page)
            }
        };
        assert_eq!(code, StatusCode::NOT_FOUND, "{path}: {page}");
        assert!(page.contains(sentence), "{path}: {page}");
        assert!(
            page.contains(&format!("id=\"back\" href=\"{back}\"")),
            "{path}: no link back to {back}: {page}"
        );
    }
    // A dead direct's link names nothing and links nowhere: its holder has no other page.
    let (code, page) = b.get(&format!("/d/{}", "x".repeat(43))).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(
        !page.contains("id=\"back\"") && !page.contains("999999"),
        "{page}"
    );
}

#[tokio::test]
async fn connect_google_without_an_oauth_client_shows_the_setup_steps_not_a_bare_error() {
    let db = TestDb::sqlite();
    let d = daemon(&db.url, &[]);
    let r = reqwest::Client::new()
        .get(d.url("/connect/google"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = unescape(&r.text().await.unwrap());
    assert!(page.contains("Google is not set up yet"), "{page}");
    assert!(page.contains("<ol id=\"steps\">"), "{page}");
    for step in [
        "enable the Google Calendar API",
        "OAuth consent screen",
        "/oauth/google/callback",
        "ONEONONE__GOOGLE__CLIENT_ID",
        "docs/google.md",
    ] {
        assert!(page.contains(step), "{step}: {page}");
    }
    // Said once.
    assert_eq!(
        page.matches("Google is not set up yet").count(),
        1,
        "{page}"
    );
}

/// Every page, as axe-core sees it in Chromium (tests/browser/a11y.mjs): signed in, each page a
/// link leads to from the home page (once per route shape), plus sign-in, the direct's link and a
/// page that does not exist; at 1280 px and at 375 px wide. None may have a serious or critical
/// violation of the WCAG 2.1 A/AA rules, nor be wider than a 375 px screen. The data is a
/// week of use: a connected, started account, a meeting held, a direct's link, a topic.
#[tokio::test]
async fn every_page_passes_the_accessibility_check_at_1280_and_375_px() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let node_dir = root.join(".node");
    assert!(
        node_dir.join("node_modules/axe-core").exists(),
        "axe-core is missing: run scripts/setup-node (scripts/test does)"
    );
    let s = Setup::new(Kind::Radicale).await;
    s.connect_and_start("2026-03-24T12:00:00Z");
    s.cli_ok(&[
        "item",
        "add",
        "--with",
        "alice@example.com",
        "--section",
        "manager",
        "Conference budget",
    ]);
    s.sync("2026-04-01T12:00:00Z");
    let d = daemon_for(&s);
    let mut b = Browser::new(&d);
    b.sign_in(TOKEN).await;
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    store.close().await;
    let link = make_link(&mut b, alice.id).await;
    // An address no page has: a page that says so, with the way back (it was an empty 404).
    // So is an id that is not a number (it was a bare 400 in the extractor's words).
    for path in ["/no/such/page", "/series/abc", "/accounts/1x/reconnect"] {
        let (code, page) = b.get(path).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{path}");
        assert!(
            page.contains("There is no page at this address.") && page.contains("href=\"/\""),
            "{path}: {page}"
        );
    }
    let artifacts = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("a11y");
    let mut node = std::process::Command::new("node");
    node.arg(root.join("tests/browser/a11y.mjs"))
        .env("BASE_URL", d.url(""))
        .env("ADMIN_TOKEN", TOKEN)
        .env("EXTRA_PATHS", &link)
        .env("ARTIFACTS", &artifacts)
        .env("NODE_DIR", &node_dir);
    let out = tokio::task::spawn_blocking(move || node.output().expect("run node"))
        .await
        .unwrap();
    let said = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    // The crawl reached the pages a manager works in.
    for page in ["/series/N", "/insights", "/history", "/accounts/N"] {
        assert!(said.contains(page), "{page} not checked:\n{said}");
    }
}

/// A series that continues another says so on its page and in the list, with a "Split" button
/// that undoes it (issue 24); the earlier series' page points to the later one.
#[tokio::test]
async fn a_continued_series_shows_why_and_splits_from_the_web_page() {
    let (s, d) = connected().await;
    let store = s.db.store().await;
    let alice = series_with_uid(&store, "weekly-alice").await;
    let bob = series_with_uid(&store, "biweekly-bob").await;
    let (later, earlier) = (bob.id.to_string(), alice.id.to_string());
    s.cli_ok(&["series", "continue", &later, "--from", &earlier]);
    let mut admin = Browser::new(&d);
    admin.sign_in(TOKEN).await;
    let (_, list) = admin.get("/series").await;
    let why = format!("continues series {earlier} (");
    assert!(list.contains(&why), "{list}");
    let (_, page) = admin.get(&format!("/series/{later}")).await;
    assert!(
        page.contains(&why) && page.contains("linked by hand"),
        "{page}"
    );
    assert!(page.contains(r#"id="split""#), "{page}");
    let (_, old) = admin.get(&format!("/series/{earlier}")).await;
    assert!(
        old.contains(&format!("series {later}</a>: its open items")),
        "{old}"
    );

    let csrf = csrf_of(&page);
    let split = format!("/series/{later}/split");
    let (code, location, _) = admin.post(&split, &[("csrf", &csrf)]).await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert_eq!(
        location.as_deref(),
        Some(format!("/series/{later}").as_str())
    );
    let (_, page) = admin.get(&format!("/series/{later}")).await;
    assert!(
        !page.contains(&why) && !page.contains(r#"id="split""#),
        "{page}"
    );
    assert_eq!(
        store.get_series(bob.id).await.unwrap().continues_series_id,
        None
    );
    let (code, _, body) = admin.post(&split, &[("csrf", &csrf)]).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(body.contains("nothing to split"), "{body}");
    store.close().await;
}

/// The text of the page from the element with `id` on (a section of the page), for checks that
/// a line stands in the right group.
fn from_id<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in:\n{page}"));
    &page[at..]
}

/// The home page, on SQLite and PostgreSQL, as of Wednesday 18 March 2026 12:00 UTC after the
/// first pass: the 1:1s of the next 7 days (Alice Monday 10:00 Berlin, then Dana's that Dana
/// organizes), then later (Bob's biweekly, in 13 days), each with where its agenda stands, the
/// direct's topics and the open follow-ups, and one link to its page; accounts are on /accounts
/// with their health.
#[tokio::test]
async fn home_lists_the_coming_1on1s_soonest_first_with_their_agenda_and_topics() {
    const NOW: &str = "2026-03-18T12:00:00Z";
    for db in TestDb::all().await {
        let kind = db.kind;
        let mut s = Setup::new(Kind::Radicale).await;
        s.db = db;
        s.connect_ok(NOW);
        s.cli_ok(&[
            "item",
            "add",
            "--with",
            "alice@example.com",
            "--section",
            "direct",
            "Career",
        ]);
        s.cli_ok(&[
            "item",
            "add",
            "--with",
            "alice@example.com",
            "--section",
            "action",
            "Send the plan",
        ]);
        s.sync(NOW);
        let env = s.env();
        let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.push(("ONEONONE__SERVER__ADMIN_TOKEN", TOKEN));
        let d = Daemon::spawn_with(&s.db.url, &["--now", NOW], &env);
        let mut b = Browser::new(&d);
        b.sign_in(TOKEN).await;
        let store = s.db.store().await;
        let alice = series_with_uid(&store, "weekly-alice").await;
        let bob = series_with_uid(&store, "biweekly-bob").await;
        let dana = series_with_uid(&store, "with-dana").await;

        let (code, page) = b.get("/").await;
        assert_eq!(code, StatusCode::OK, "{kind}");
        assert!(
            page.contains("<a href=\"/\">This week</a>"),
            "{kind}: {page}"
        );
        assert!(
            page.contains("<a href=\"/accounts\">Accounts</a>"),
            "{kind}"
        );
        let at = |id: i64| {
            page.find(&format!("data-series=\"{id}\""))
                .unwrap_or_else(|| panic!("{kind}: series {id} missing:\n{page}"))
        };
        let later = page.len() - from_id(&page, "later").len();
        // The next 7 days, soonest first; Bob's in 13 days under "Later".
        assert!(page.len() - from_id(&page, "week").len() < at(alice.id));
        assert!(at(alice.id) < at(dana.id), "{kind}: {page}");
        assert!(at(dana.id) < later && later < at(bob.id), "{kind}: {page}");
        let entry = |id: i64| {
            let from = &page[page.find(&format!("data-series=\"{id}\"")).unwrap()..];
            from[..from.find("</li>").unwrap()].to_string()
        };
        let a = entry(alice.id);
        for want in [
            "<a href=\"/series/",
            "<strong>Alice Example</strong></a> · <time datetime=\"2026-03-23T09:00:00Z\">Mon 23 Mar 2026, 10:00 (CET)</time>",
            "1:1 Alice / Sam",
            "Written into the invite.",
            "1 topic from Alice",
            "1 open follow-up",
        ] {
            assert!(a.contains(want), "{kind}: {want:?} missing from {a}");
        }
        assert_eq!(a.matches("<a ").count(), 1, "{kind}: one link: {a}");
        let d_ = entry(dana.id);
        assert!(d_.contains("someone else organizes it"), "{kind}: {d_}");
        let bob_line = entry(bob.id);
        for want in [
            "Tue 31 Mar 2026, 14:00 (UTC)",
            "To be written 8 days before, from Mon 23 Mar.",
            "No topic from Bob yet · no open follow-up",
        ] {
            assert!(
                bob_line.contains(want),
                "{kind}: {want:?} missing from {bob_line}"
            );
        }
        assert!(!page.contains("Team sync"), "{kind}: not a 1:1");
        assert!(
            !page.contains("account-notice"),
            "{kind}: the account is fine"
        );

        // An item added since the write: the page says the change reaches the invite next.
        s.cli_ok(&["item", "add", "--with", "alice@example.com", "Budget"]);
        let (_, page) = b.get("/").await;
        assert!(
            page.contains("Written into the invite; the changes since reach it at the next pass"),
            "{kind}: {page}"
        );

        // The accounts, with their health: the same facts as /readyz.
        let (code, accounts) = b.get("/accounts").await;
        assert_eq!(code, StatusCode::OK, "{kind}");
        for want in [
            &format!("{USER} at 127.0.0.1"),
            ">ok<",
            "since 2026-03-18 12:00 UTC",
            "Last good pass</dt><dd>2026-03-18 12:00 UTC",
            "Failed passes in a row</dt><dd>0",
            "Next pass</dt><dd>2026-03-18 12:01 UTC",
            "Sync now",
            "href=\"/readyz\"",
        ] {
            assert!(
                accounts.contains(want),
                "{kind}: {want:?} missing:\n{accounts}"
            );
        }
        let (code, location, _) = b
            .post("/accounts/1/sync", &[("csrf", &csrf_of(&accounts))])
            .await;
        assert_eq!(
            (code, location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/accounts")),
            "{kind}"
        );
        store.close().await;
    }
}

/// Signed in with no calendar connected, home says so and offers both connects.
#[tokio::test]
async fn home_with_no_calendar_offers_to_connect_one() {
    let db = TestDb::sqlite();
    let d = daemon(&db.url, &[]);
    let mut b = Browser::new(&d);
    b.sign_in(TOKEN).await;
    let (_, page) = b.get("/").await;
    assert!(page.contains("No calendar is connected yet"), "{page}");
    assert!(page.contains("id=\"connect-caldav\"") && page.contains("id=\"connect-google\""));
    assert!(!page.contains("id=\"week\""), "{page}");
}

/// The manager's weekly tasks in Chromium (tests/browser/cockpit.mjs), on a desktop and on a
/// phone, a week after connecting: the home page's coming 1:1s soonest first with one link each,
/// a past meeting marked held and not held from its 1:1's page, the insights lines and their
/// full table.
#[tokio::test]
async fn the_weekly_tasks_work_in_chromium_on_a_desktop_and_a_phone() {
    const NOW: &str = "2026-04-01T12:00:00Z";
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let s = Setup::new(Kind::Radicale).await;
    s.connect_and_start("2026-03-24T12:00:00Z");
    s.sync(NOW);
    let env = s.env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("ONEONONE__SERVER__ADMIN_TOKEN", TOKEN));
    let d = Daemon::spawn_with(&s.db.url, &["--now", NOW], &env);
    let artifacts = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cockpit");
    let mut node = std::process::Command::new("node");
    node.arg(root.join("tests/browser/cockpit.mjs"))
        .env("BASE_URL", d.url(""))
        .env("ADMIN_TOKEN", TOKEN)
        .env("ARTIFACTS", &artifacts)
        .env("NODE_DIR", root.join(".node"));
    let out = tokio::task::spawn_blocking(move || node.output().expect("run node"))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "browser steps failed (screenshots in {}):\n{}\n{}",
        artifacts.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The marks the browser made (one meeting per width) stand in the database, each put back
    // to held last.
    let store = s.db.store().await;
    let mut marked = Vec::new();
    for series in store.list_series().await.unwrap() {
        for o in store.list_occurrences(series.id).await.unwrap() {
            marked.extend(o.mark());
        }
    }
    assert_eq!(marked.len(), 2, "{marked:?}");
    assert!(marked.iter().all(|m| m.as_str() == "held"), "{marked:?}");
    store.close().await;
}
