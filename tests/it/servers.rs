//! Real CalDAV servers: Radicale and Xandikos (from the project's Python venv), each started on a
//! free port with throwaway storage and stopped when the fixture drops; DAViCal and Cyrus started
//! outside the tests by `scripts/interop`, which passes their URLs in environment variables.

#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use url::Url;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Radicale,
    Xandikos,
    /// DAViCal 1.1 (PHP + PostgreSQL), at `$ONEONONE_INTEROP_DAVICAL`.
    Davical,
    /// Cyrus 3.6 httpd with the caldav module, at `$ONEONONE_INTEROP_CYRUS`.
    Cyrus,
}

impl Kind {
    /// The servers every test run starts itself.
    pub const ALL: [Kind; 2] = [Kind::Radicale, Kind::Xandikos];
    /// The servers `scripts/interop` starts.
    pub const EXTERNAL: [Kind; 2] = [Kind::Davical, Kind::Cyrus];

    /// The environment variable holding an external server's base URL (None: started here).
    pub fn env_var(self) -> Option<&'static str> {
        match self {
            Kind::Radicale | Kind::Xandikos => None,
            Kind::Davical => Some("ONEONONE_INTEROP_DAVICAL"),
            Kind::Cyrus => Some("ONEONONE_INTEROP_CYRUS"),
        }
    }

    /// The external server's base URL, when its variable is set.
    pub fn external_url(self) -> Option<Url> {
        let var = self.env_var()?;
        let value = std::env::var(var).ok().filter(|v| !v.trim().is_empty())?;
        let mut url =
            Url::parse(value.trim()).unwrap_or_else(|e| panic!("{var}={value:?} is no URL: {e}"));
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Some(url)
    }

    /// The external servers whose URL is set (scripts/interop sets them; empty elsewhere).
    pub fn interop() -> Vec<Kind> {
        Kind::EXTERNAL
            .into_iter()
            .filter(|k| k.external_url().is_some())
            .collect()
    }

    pub fn is_external(self) -> bool {
        self.env_var().is_some()
    }
}

pub struct CalDavServer {
    pub kind: Kind,
    pub base: Url,
    /// The process and storage of a server started here (None for an external one).
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

fn venv_bin(name: &str) -> PathBuf {
    let root = std::env::var_os("ONEONONE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    let path = root.join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup-python (scripts/test does)",
        path.display()
    );
    path
}

/// Radicale on `port` with its users file and storage in `d`.
fn radicale_command(d: &std::path::Path, port: u16) -> Command {
    let mut c = Command::new(venv_bin("python"));
    c.args(["-m", "radicale", "--config", "", "--server-hosts"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--auth-type", "htpasswd", "--auth-htpasswd-filename"])
        .arg(d.join("users"))
        .args(["--auth-htpasswd-encryption", "plain", "--auth-delay", "0"])
        .arg("--storage-filesystem-folder")
        .arg(d.join("collections"))
        .args(["--logging-level", "warning"]);
    c
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl CalDavServer {
    /// Starts a local server, or points at the external one named by its environment variable.
    pub fn start(kind: Kind) -> Self {
        if kind.is_external() {
            let base = kind.external_url().unwrap_or_else(|| {
                panic!(
                    "{kind:?}: set {} (scripts/interop does)",
                    kind.env_var().unwrap_or_default()
                )
            });
            return Self {
                kind,
                base,
                child: None,
                _dir: None,
            };
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let d = dir.path();
        let mut cmd = match kind {
            Kind::Radicale => {
                std::fs::write(d.join("users"), format!("{USER}:{PASSWORD}\nbob:secret\n"))
                    .unwrap();
                radicale_command(d, port)
            }
            Kind::Davical | Kind::Cyrus => unreachable!("external servers return above"),
            Kind::Xandikos => {
                let mut c = Command::new(venv_bin("xandikos"));
                c.arg("serve")
                    .arg("-d")
                    .arg(d.join("data"))
                    .args(["--defaults", "--current-user-principal"])
                    .arg(format!("/{USER}/"))
                    .arg("--state-dir")
                    .arg(d.join("state"))
                    .args(["-l", "127.0.0.1", "-p"])
                    .arg(port.to_string());
                c
            }
        };
        Self::launch(kind, &mut cmd, port, dir)
    }

    /// A Radicale started here with extra command-line settings.
    pub fn radicale_with(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        std::fs::write(dir.path().join("users"), format!("{USER}:{PASSWORD}\n")).unwrap();
        let mut cmd = radicale_command(dir.path(), port);
        cmd.args(args);
        Self::launch(Kind::Radicale, &mut cmd, port, dir)
    }

    /// Starts `cmd` and waits until it listens on `port`.
    fn launch(kind: Kind, cmd: &mut Command, port: u16, dir: tempfile::TempDir) -> Self {
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{kind:?} did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let base = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        Self {
            kind,
            base,
            child: Some(child),
            _dir: Some(dir),
        }
    }

    /// Where this server keeps `USER`'s calendars.
    pub fn home(&self) -> Url {
        match self.kind {
            Kind::Radicale => self.base.join(&format!("/{USER}/")).unwrap(),
            Kind::Xandikos => self.base.join(&format!("/{USER}/calendars/")).unwrap(),
            // Relative: DAViCal lives under its script, `/caldav.php/`.
            Kind::Davical => self.base.join(&format!("{USER}/")).unwrap(),
            Kind::Cyrus => self
                .base
                .join(&format!("/dav/calendars/user/{USER}/"))
                .unwrap(),
        }
    }

    pub fn calendar_url(&self, name: &str) -> Url {
        self.home().join(&format!("{name}/")).unwrap()
    }
}

impl Drop for CalDavServer {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl CalDavServer {
    /// A Radicale serving many users (`name:password` each), for tests with many accounts.
    pub fn radicale_with_users(users: &[(String, String)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let lines: String = users.iter().map(|(u, p)| format!("{u}:{p}\n")).collect();
        std::fs::write(dir.path().join("users"), lines).unwrap();
        let mut cmd = radicale_command(dir.path(), port);
        Self::launch(Kind::Radicale, &mut cmd, port, dir)
    }
}
