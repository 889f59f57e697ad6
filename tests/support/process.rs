//! A `hotline serve` process for tests over a real socket: a tiny
//! blocking HTTP/1.1 client, logged-in sessions, the server process (killed
//! with SIGKILL when dropped) and the command line. Used by crash.rs and
//! login_storm.rs with `#[path = "support/process.rs"] mod process;`.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const ADMIN_PW: &str = "admin-password-1";
pub const OP_PW: &str = "password1";

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("bad JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Decodes a chunked body; `None` when it is incomplete or malformed.
pub fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_s = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_s.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if data.len() < size + 2 || &data[size..size + 2] != b"\r\n" {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// One request on its own connection (`Connection: close`). Fails on any
/// transport error and on a truncated answer, so a response counts only
/// when it arrived whole.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Result<Response, String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(15)))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(Duration::from_secs(15)))
        .map_err(|e| e.to_string())?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    if !body.is_empty() || method != "GET" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|e| e.to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("empty answer")?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let mut resp = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if resp
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        resp.body = dechunk(rest).ok_or("truncated chunked body")?;
    } else if let Some(len) = resp.header("content-length") {
        let len: usize = len.parse().map_err(|_| "bad content-length")?;
        if rest.len() < len {
            return Err(format!("truncated body: {} of {len} bytes", rest.len()));
        }
        resp.body = rest[..len].to_vec();
    } else {
        resp.body = rest.to_vec();
    }
    Ok(resp)
}

/// A logged-in user: the session cookie and its CSRF token.
pub struct Session {
    pub addr: SocketAddr,
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    pub fn login(addr: SocketAddr, username: &str, password: &str) -> Result<Session, String> {
        let r = request(
            addr,
            "POST",
            "/api/v1/session",
            &[],
            Some(&json!({"username": username, "password": password})),
        )?;
        if r.status != 200 {
            return Err(format!("login {username}: {} {}", r.status, r.text()));
        }
        let cookie = r
            .header("set-cookie")
            .and_then(|c| c.split(';').next())
            .filter(|c| c.starts_with("hotline_session="))
            .ok_or("no session cookie")?
            .to_string();
        let csrf = r.json()?["csrf_token"]
            .as_str()
            .ok_or("no csrf_token")?
            .to_string();
        Ok(Session { addr, cookie, csrf })
    }

    pub fn get(&self, path: &str) -> Result<Response, String> {
        request(self.addr, "GET", path, &[("Cookie", &self.cookie)], None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Response, String> {
        request(
            self.addr,
            "POST",
            path,
            &[("Cookie", &self.cookie), ("X-CSRF-Token", &self.csrf)],
            Some(body),
        )
    }

    /// Registers one ticket; `Ok(Some(number))` on a whole `201` answer.
    pub fn register(&self, phone: &str, content: &str) -> Result<Option<String>, String> {
        let r = self.post(
            "/api/v1/tickets",
            &json!({
                "caller_phone": phone,
                "appeal_type": "complaint",
                "category_code": "01",
                "content": content,
            }),
        )?;
        if r.status != 201 {
            return Ok(None);
        }
        Ok(r.json()?["number"].as_str().map(str::to_string))
    }
}

// ---------------------------------------------------------------------------
// The server process and the data directory.

/// Removes the data directory when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("hotline-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("keeping {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A running `hotline serve`, killed (SIGKILL) when dropped, even on panic.
pub struct Server {
    pub child: Option<Child>,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

impl Server {
    pub fn start(dir: &Path, run: usize) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = dir.join(format!("server-{run}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--no-browser")
            .env_remove("HOTLINE_DATA_DIR")
            .env_remove("HOTLINE_LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("start hotline serve");
        let mut server = Server {
            child: Some(child),
            addr,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(r) = request(addr, "GET", "/healthz", &[], None)
                && r.status == 200
            {
                return server;
            }
            if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("server exited with {status}: {}", server.log_text());
            }
            if Instant::now() > deadline {
                panic!("server not up within 10 s: {}", server.log_text());
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, then wait until the process is gone (and its file lock
    /// with it).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn cli(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(args)
        .env_remove("HOTLINE_DATA_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("run hotline");
    assert!(
        out.status.success(),
        "hotline {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Resident and peak resident memory (KiB) of a process, from
/// `/proc/<pid>/status` (Linux).
pub fn rss_kib(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
