//! Real CalDAV servers (Radicale and Xandikos from the project's Python venv), each started on a
//! free port with throwaway storage and stopped when the fixture drops.

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
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Radicale, Kind::Xandikos];
}

pub struct CalDavServer {
    pub kind: Kind,
    pub base: Url,
    child: Child,
    _dir: tempfile::TempDir,
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl CalDavServer {
    pub fn start(kind: Kind) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let d = dir.path();
        let mut cmd = match kind {
            Kind::Radicale => {
                std::fs::write(d.join("users"), format!("{USER}:{PASSWORD}\nbob:secret\n"))
                    .unwrap();
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
            child,
            _dir: dir,
        }
    }

    /// Where this server keeps `USER`'s calendars.
    pub fn home(&self) -> Url {
        match self.kind {
            Kind::Radicale => self.base.join(&format!("/{USER}/")).unwrap(),
            Kind::Xandikos => self.base.join(&format!("/{USER}/calendars/")).unwrap(),
        }
    }

    pub fn calendar_url(&self, name: &str) -> Url {
        self.home().join(&format!("{name}/")).unwrap()
    }
}

impl Drop for CalDavServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl CalDavServer {
    /// A Radicale serving many users (`name:password` each), for tests with many accounts.
    pub fn radicale_with_users(users: &[(String, String)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let d = dir.path();
        let lines: String = users.iter().map(|(u, p)| format!("{u}:{p}\n")).collect();
        std::fs::write(d.join("users"), lines).unwrap();
        let child = Command::new(venv_bin("python"))
            .args(["-m", "radicale", "--config", "", "--server-hosts"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--auth-type", "htpasswd", "--auth-htpasswd-filename"])
            .arg(d.join("users"))
            .args(["--auth-htpasswd-encryption", "plain", "--auth-delay", "0"])
            .arg("--storage-filesystem-folder")
            .arg(d.join("collections"))
            .args(["--logging-level", "warning"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start radicale");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "radicale did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let base = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        Self {
            kind: Kind::Radicale,
            base,
            child,
            _dir: dir,
        }
    }
}
