//! The command line: healthcheck against a running and a stopped server,
//! demo into an empty data dir (and refusal of a non-empty one).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hotline")
}

fn temp(tag: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("hotline-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn healthcheck_follows_the_server() {
    let dir = temp("health");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let down = Command::new(bin())
        .args(["healthcheck", "--url", &url])
        .output()
        .unwrap();
    assert!(!down.status.success(), "no server: non-zero");
    let mut child = Command::new(bin())
        .args([
            "serve",
            "--no-browser",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut up = false;
    while start.elapsed() < Duration::from_secs(20) {
        if Command::new(bin())
            .args(["healthcheck", "--url", &url])
            .output()
            .unwrap()
            .status
            .success()
        {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "healthcheck never succeeded against the running server");
    let after = Command::new(bin())
        .args(["healthcheck", "--url", &url])
        .output()
        .unwrap();
    assert!(!after.status.success(), "stopped server: non-zero");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_fills_an_empty_dir_once() {
    let dir = temp("demo");
    let out = Command::new(bin())
        .args(["demo", "--tickets", "300", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("300 tickets")
            && stdout.contains("admin")
            && stdout.contains("hotline-demo"),
        "{stdout}"
    );
    let again = Command::new(bin())
        .args(["demo", "--tickets", "10", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "a second demo into the same dir is refused"
    );
    let pw = Command::new(bin())
        .args([
            "reset-password",
            "--username",
            "op1",
            "--password",
            "new-pass-123",
            "--data-dir",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        pw.status.success(),
        "{}",
        String::from_utf8_lossy(&pw.stderr)
    );
    let bad = Command::new(bin())
        .args([
            "reset-password",
            "--username",
            "nobody",
            "--password",
            "new-pass-123",
            "--data-dir",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// One raw HTTP/1.1 request on a fresh connection; returns the whole
/// response text (headers and body) read until `until` appears or the
/// server closes.
fn http(port: u16, req: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf
}

fn post_json(port: u16, path: &str, body: &str) -> String {
    http(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn wait_healthy(port: u16) {
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if Command::new(bin())
            .args(["healthcheck", "--url", &url])
            .output()
            .unwrap()
            .status
            .success()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server on {port} never became healthy");
}

/// A double-click while the server runs opens the browser on the running
/// one instead of failing; Ctrl+C stops the server promptly even while a
/// browser tab holds the live event stream open.
#[cfg(unix)]
#[test]
fn second_start_finds_the_first_and_ctrl_c_ends_open_streams() {
    let dir = temp("twice");
    let other = temp("twice-other");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(bin())
        .args(["serve", "--no-browser", "--listen", &listen, "--data-dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(port);

    // Second start on the same port: exits 0 and says where it runs.
    let second = Command::new(bin())
        .args(["serve", "--no-browser", "--listen", &listen, "--data-dir"])
        .arg(&other)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        out.contains("already running") && out.contains(&format!(":{port}/")),
        "{out}"
    );

    // A port held by something that is not Hotline: a clear error.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sq_port = squatter.local_addr().unwrap().port();
    let busy = Command::new(bin())
        .args([
            "serve",
            "--no-browser",
            "--listen",
            &format!("127.0.0.1:{sq_port}"),
            "--data-dir",
        ])
        .arg(&other)
        .output()
        .unwrap();
    assert!(!busy.status.success());
    let err = String::from_utf8_lossy(&busy.stderr);
    assert!(err.contains("已被其他程序占用"), "{err}");
    drop(squatter);

    // Log in and open the live stream, as a browser tab does.
    let r = post_json(
        port,
        "/api/v1/setup",
        r#"{"username":"admin","password":"admin-pass-123","display_name":"管理员"}"#,
    );
    assert!(r.starts_with("HTTP/1.1 201"), "{r}");
    let r = post_json(
        port,
        "/api/v1/session",
        r#"{"username":"admin","password":"admin-pass-123"}"#,
    );
    let cookie = r
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no cookie: {r}"))
        .to_string();
    let stream = std::thread::spawn(move || {
        http(
            port,
            &format!("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n"),
        )
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(!stream.is_finished(), "the event stream stays open");

    let stop = Instant::now();
    sigint(child.id());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if stop.elapsed() > Duration::from_secs(8) {
            let _ = child.kill();
            panic!("the server did not stop within 8 s of Ctrl+C with a stream open");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "graceful stop exits 0: {status:?}");
    let events = stream.join().unwrap();
    assert!(events.starts_with("HTTP/1.1 200"), "{events}");
    assert!(events.contains("text/event-stream"), "{events}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other);
}

/// Ctrl+C for a child process (`kill -INT`).
#[cfg(unix)]
fn sigint(pid: u32) {
    let ok = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -INT {pid}");
}
