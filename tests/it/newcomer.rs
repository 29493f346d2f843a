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
        let mut child = Command::new(crate::fixtures::BIN)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
    }
}
