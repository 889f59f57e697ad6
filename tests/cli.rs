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
