//! The newcomer's path: the generated configuration reference stays current, completions and the
//! man page work, a first import's progress stays off output that is not a terminal, and a
//! user's own agenda template is used (or refused with the key named).

use std::path::Path;
use std::process::Command;

use oneonone::provider::caldav::Precondition;

use crate::fixtures::caldav::{Setup, description_at};
use crate::fixtures::caldav_server::Kind;
use crate::fixtures::{run_cli, write_file};

#[test]
fn configuration_reference_in_docs_matches_default_toml() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(oneonone::manual::CONFIG_REFERENCE_PATH);
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    let fresh = oneonone::manual::config_reference().unwrap();
    assert!(
        on_disk == fresh,
        "docs/configuration.md is stale: regenerate it with \
         `cargo run -q -- config reference > docs/configuration.md`"
    );
}

fn stdout_of(args: &[&str]) -> String {
    let out = run_cli(args, &[]);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_load_in_bash_and_the_man_page_renders() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(
            script.contains("connect") && script.contains("caldav"),
            "{shell}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let script = write_file(
        dir.path(),
        "oneonone.bash",
        &stdout_of(&["completions", "bash"]),
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p oneonone",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("oneonone"),
        "bash did not register the completion: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let roff = stdout_of(&["man"]);
    assert!(roff.contains(".TH oneonone"), "{roff}");
    let page = write_file(dir.path(), "oneonone.1", &roff);
    // Rendered the way `man -l` would, where groff is installed.
    if let Ok(out) = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
    {
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && warnings.trim().is_empty(),
            "{warnings}"
        );
    }
}

fn event(i: usize) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oneonone tests//EN\r\nBEGIN:VEVENT\r\n\
         UID:extra-{i}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260210T{:02}0000Z\r\n\
         DURATION:PT30M\r\nSUMMARY:Meeting {i}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        8 + i % 10
    )
}

#[tokio::test]
async fn first_import_of_a_large_calendar_shows_no_progress_off_a_terminal() {
    let s = Setup::new(Kind::Radicale).await;
    for i in 0..150 {
        let url = s.calendar.join(&format!("extra-{i}.ics")).unwrap();
        s.client
            .put(&url, event(i).into_bytes(), &Precondition::Create)
            .await
            .unwrap();
    }
    // At info level, so that a progress event leaking into the log would show.
    let out = s.cli_with(
        &s.connect_args(&s.server.base, Some("2026-03-01T12:00:00Z")),
        &[("ONEONONE__LOG__LEVEL", "info")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("1:1(s) found"), "{stdout}");
    for noise in ["\r", "\x1b[", "importing", "progress"] {
        assert!(!stderr.contains(noise), "{noise:?} in stderr: {stderr}");
        assert!(!stdout.contains(noise), "{noise:?} in stdout: {stdout}");
    }
    let store = s.db.store().await;
    let cals = store.list_calendars(1).await.unwrap();
    let cached = store.event_etags(cals[0].id).await.unwrap();
    assert!(cached.len() >= 150, "only {} events imported", cached.len());
}

#[tokio::test]
async fn a_custom_agenda_template_is_used_and_a_broken_one_is_refused_naming_the_key() {
    let s = Setup::new(Kind::Radicale).await;
    let dir = tempfile::tempdir().unwrap();
    let own = oneonone::agenda::DEFAULT_TEMPLATE
        .replace("Anything I can do to help?", "What should we stop doing?");
    let own = write_file(dir.path(), "agenda.j2", &own);
    let own = own.display().to_string();
    let env = [("ONEONONE__AGENDA__TEMPLATE_FILE", own.as_str())];

    // Connecting writes nothing; the first `sync --once` writes with the template.
    let sync = ["sync", "--once", "--now", "2026-03-01T12:00:00Z"].map(String::from);
    for args in [
        s.connect_args(&s.server.base, Some("2026-03-01T12:00:00Z")),
        sync.to_vec(),
    ] {
        let out = s.cli_with(&args, &env);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let body = s.body("weekly-alice.ics").await;
    let agenda = description_at(&body, &s.uid("weekly-alice"), "2026-03-02T09:00:00Z");
    assert!(agenda.contains("What should we stop doing?"), "{agenda}");
    assert!(!agenda.contains("Anything I can do to help?"), "{agenda}");

    let broken = oneonone::agenda::DEFAULT_TEMPLATE.replace("heading(\"direct\", ", "title(");
    let broken = write_file(dir.path(), "broken.j2", &broken);
    let broken = broken.display().to_string();
    for args in [vec!["config", "check"], vec!["sync", "--once"]] {
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        let out = s.cli_with(&args, &[("ONEONONE__AGENDA__TEMPLATE_FILE", &broken)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} accepted a broken template");
        assert!(
            err.contains("agenda.template_file") && err.contains("broken.j2"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    // `oneonone man | head -1`: the pipe is closed before everything is printed.
    for args in [
        &["man"][..],
        &["config", "print-default"],
        &["completions", "bash"],
    ] {
        // The reading end closed before the command starts: closed after it, a short output
        // could be written whole first (it was, once, on a loaded machine).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let child = Command::new(crate::fixtures::BIN)
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
    }
}

/// `scripts/demo` as it runs, killed (with what it started) when dropped.
struct Demo(std::process::Child);

impl Drop for Demo {
    fn drop(&mut self) {
        // TERM: the script's trap stops Radicale and the daemon it started.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

/// `scripts/demo` (with the test binary), up to the running daemon; then its end state through
/// the admin API, `/readyz` and the home page: three weeks of use ending today. The account's
/// last pass is today and its next one minutes away; every 1:1 has been held and has a meeting
/// ahead; Alice's history has the meetings of the last three weeks, held and cancelled, none in
/// the future.
#[tokio::test]
async fn the_demo_leaves_three_weeks_of_history_that_end_today() {
    use std::io::{BufRead, BufReader};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new("bash")
        .arg(root.join("scripts/demo"))
        .current_dir(root)
        .env("ONEONONE_DEMO_BIN", crate::fixtures::BIN)
        .env("ONEONONE_DEMO_DIR", dir.path().join("demo"))
        .env_remove("ONEONONE_DEMO_NO_WAIT")
        .env_remove("ONEONONE_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let mut demo = Demo(child);
    let stdout = demo.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            seen.push_str(&line);
            seen.push('\n');
            // web:      http://127.0.0.1:PORT/  (sign in with the admin token: TOKEN)
            if let Some(rest) = line.strip_prefix("web:") {
                let base = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let token = rest.rsplit(": ").next().unwrap_or_default();
                let token = token.trim_end_matches(')').to_string();
                let _ = tx.send(Ok((base, token, seen.clone())));
            }
        }
        // Read to the end (a closed pipe would stop the script and its daemon).
        let _ = tx.send(Err(seen));
    });
    let (base, token, printed) = match rx.recv_timeout(std::time::Duration::from_secs(300)) {
        Ok(Ok(found)) => found,
        Ok(Err(seen)) => panic!("the demo ended before its daemon ran:\n{seen}"),
        Err(_) => panic!("the demo did not reach its daemon in 5 minutes"),
    };
    let base = base.trim_end_matches('/').to_string();
    let now = chrono::Utc::now();
    let api = reqwest::Client::new();
    let get = async |path: &str| -> serde_json::Value {
        let r = api
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    };
    let at = |v: &serde_json::Value| -> chrono::DateTime<chrono::Utc> {
        v.as_str()
            .unwrap_or_else(|| panic!("not a time: {v}"))
            .parse()
            .unwrap()
    };
    let minutes = |t: chrono::DateTime<chrono::Utc>| (t - now).num_minutes();

    // The account: writing for three weeks, its last pass today, the next one minutes away.
    let accounts = get("/api/v1/accounts").await;
    let a = &accounts[0];
    assert_eq!(a["state"], "ok", "{accounts}");
    assert!((minutes(at(&a["last_success"]))).abs() < 30, "{accounts}");
    assert!(
        (-30..30).contains(&minutes(at(&a["next_due"]))),
        "{accounts}"
    );
    let started = now - at(&a["writing_started_at"]);
    assert!((20..=21).contains(&started.num_days()), "{accounts}");
    let ready = get("/readyz").await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["accounts"][0]["state"], "ok", "{ready}");

    // Every 1:1 was held in the three weeks (no "never held").
    let series = get("/api/v1/series").await;
    let series = series.as_array().unwrap();
    assert_eq!(series.len(), 5, "five directs: {series:?}");
    let mut alice = None;
    for s in series {
        let id = s["id"].as_i64().unwrap();
        let i = get(&format!("/api/v1/series/{id}/insights")).await;
        let days = i["days_since_last_held"].as_i64();
        assert!(
            days.is_some_and(|d| d <= 21),
            "{}: not held in the three weeks: {i}",
            s["summary"]
        );
        if s["with"] == "alice@example.com" {
            alice = Some(id);
        }
    }
    // Alice's history: held, then cancelled, then one taken place; nothing closed ahead of now.
    let history = get(&format!("/api/v1/series/{}/history", alice.unwrap())).await;
    let meetings = history["meetings"].as_array().unwrap();
    let past: Vec<&serde_json::Value> = meetings
        .iter()
        .filter(|m| m["status"] != "upcoming")
        .collect();
    assert!(past.len() >= 2, "{history}");
    for m in &past {
        assert!(at(&m["at"]) < now, "closed in the future: {m}");
    }
    // Every meeting is closed two hours after its end (the close grace); one that ended less
    // than that ago is still open (on a Monday from 10:00 to 12:30 Berlin time: Alice's).
    for m in meetings {
        if at(&m["at"]) < now - chrono::Duration::hours(3) {
            assert_ne!(m["status"], "upcoming", "not closed: {m}");
        }
    }
    let statuses: Vec<&str> = past.iter().filter_map(|m| m["status"].as_str()).collect();
    assert!(
        statuses.contains(&"held") && statuses.contains(&"cancelled"),
        "{statuses:?}"
    );
    assert!(printed.contains("pass at"), "{printed}");

    // The home page: every 1:1 with a meeting ahead, its agenda written or to be written.
    let mut b = crate::fixtures::web::Browser::at(&base);
    b.sign_in(&token).await;
    let (_, page) = b.get("/").await;
    for who in [
        "Alice Martin",
        "Bob Okafor",
        "Chen Wei",
        "Dara Byrne",
        "Eli Cohen",
    ] {
        assert!(
            page.contains(&format!("<strong>{who}</strong>")),
            "{who}:\n{page}"
        );
    }
    for wrong in ["No meeting ahead", "Not written", "account-notice"] {
        assert!(!page.contains(wrong), "{wrong:?} on the home page:\n{page}");
    }
    // Insights: the directs brought topics and the manager said which meetings took place, so
    // only what the demo left undone can be asked about (Alice's last meeting).
    let (_, page) = b.get("/insights").await;
    for wrong in ["brought no topic", "no 1:1 held yet"] {
        assert!(!page.contains(wrong), "{wrong:?} on /insights:\n{page}");
    }
    drop(demo);
}
