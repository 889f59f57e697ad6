//! Plumbing shared by the headless-Chromium tests (e2e.rs, e2e_loop.rs,
//! e2e_dashboard.rs): finding chromium and chromedriver, child processes
//! and temporary folders that clean up, a free port, and a minimal HTTP
//! client for setting up data beside the browser. Each test file includes
//! it with `#[path = "support/browser.rs"] mod browser;`; not every file
//! uses every piece.
#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Finds chromium and chromedriver; `None` means skip (outside CI).
pub fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let find = |var: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(p) = std::env::var_os(var) {
            return Some(PathBuf::from(p)).filter(|p| p.is_file());
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
        dirs.push(PathBuf::from("/usr/bin"));
        names
            .iter()
            .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
            .find(|p| p.is_file())
    };
    let chromium = find(
        "HOTLINE_E2E_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let driver = find("HOTLINE_E2E_CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        (c, d) => {
            let msg = format!(
                "end-to-end browser tests need Chromium and chromedriver (Debian: apt-get install chromium chromium-driver); \
                 chromium: {c:?}, chromedriver: {d:?}"
            );
            if std::env::var_os("CI").is_some() {
                panic!("{msg} (CI is set, so this is a failure)");
            }
            eprintln!("\n!!!!!!!!!!\n!!! SKIPPED: {msg}\n!!!!!!!!!!\n");
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Processes and directories that clean up after themselves

pub struct ChildGuard {
    pub what: &'static str,
    pub child: Child,
    /// Started in its own process group, killed as a group (chromedriver
    /// and the browser it starts).
    pub group: bool,
    pub log: PathBuf,
}

impl ChildGuard {
    pub fn spawn(what: &'static str, mut cmd: Command, log: &Path, group: bool) -> ChildGuard {
        let out = File::create(log).expect("creating a log file");
        let err = out.try_clone().unwrap();
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        if group {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {what}: {e}"));
        ChildGuard {
            what,
            child,
            group,
            log: log.to_path_buf(),
        }
    }

    /// Polls `ready` every 50 ms until it holds, while this process lives;
    /// panics after `wait` with a pointer to its log. One loop for "the
    /// server answers /healthz" and "chromedriver is ready".
    pub fn wait_ready(&self, wait: std::time::Duration, ready: impl Fn() -> bool) {
        let started = std::time::Instant::now();
        while !ready() {
            self.check_alive();
            assert!(
                started.elapsed() < wait,
                "{} not ready in {wait:?}; see {}",
                self.what,
                self.log.display()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// `hotline serve` on `port` answers `GET /healthz` (see [`wait_ready`]).
    pub fn wait_healthz(&self, port: u16, wait: std::time::Duration) {
        self.wait_ready(wait, || {
            http(port, "GET", "/healthz", &[], None).is_ok_and(|r| r.status == 200)
        });
    }

    /// chromedriver on `port` says it is ready (see [`wait_ready`]).
    pub fn wait_driver(&self, port: u16, wait: std::time::Duration) {
        self.wait_ready(wait, || {
            http(port, "GET", "/status", &[], None)
                .is_ok_and(|r| r.status == 200 && r.body.contains("\"ready\":true"))
        });
    }

    pub fn check_alive(&self) {
        // `try_wait` needs `&mut`; peek through /proc instead to keep `&self`.
        let stat =
            fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or("X");
        if state == "Z" || state == "X" {
            let log = fs::read_to_string(&self.log).unwrap_or_default();
            panic!(
                "{} exited early; its output ({}):\n{log}",
                self.what,
                self.log.display()
            );
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.group {
            // The whole group we created: the driver and the browser it started.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("hotline-e2e-{}-{nanos}-{tag}", std::process::id()));
        fs::create_dir_all(&p).expect("creating a temporary directory");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

// ---------------------------------------------------------------------------
// A tiny HTTP/1.1 client for setup and readiness checks

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    s.write_all(req.as_bytes())?;
    // Read until the response is complete: some servers (chromedriver) keep
    // the connection open despite `Connection: close`.
    let mut raw = vec![];
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf)?;
        raw.extend_from_slice(&buf[..n]);
        if let Some(r) = parse_response(&raw, n == 0) {
            return Ok(r);
        }
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "incomplete HTTP response",
            ));
        }
    }
}

/// The response in `raw`, once it is all there (`eof`: nothing more comes).
pub fn parse_response(raw: &[u8], eof: bool) -> Option<Resp> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let rest = &raw[split + 4..];
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        rest.get(..len)?.to_vec()
    } else if eof {
        rest.to_vec()
    } else {
        return None;
    };
    Some(Resp {
        status,
        body: String::from_utf8_lossy(&body).to_string(),
        headers,
    })
}

pub fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![];
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_line = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}
