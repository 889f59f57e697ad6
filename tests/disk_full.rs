//! A full disk: the data dir on a 64 MB tmpfs (mounted by the test, which
//! needs root; CI runs as root) that is filled up. Writes answer 507 with
//! the reason and leave nothing behind, reads and logins keep working, and
//! writing resumes once space is freed.

#[path = "support/app.rs"]
mod app;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use app::*;
use axum::http::StatusCode;
use hotline::domain::ticket::TicketNo;
use hotline::store::space;
use serde_json::{Value, json};

/// Unmounts (lazily) when dropped, even when the test fails.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount_tmpfs(dir: &Path, size: &str) -> Result<Mount, String> {
    if unsafe { libc::geteuid() } != 0 {
        return Err("not running as root".into());
    }
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "mount failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(Mount(dir.to_path_buf()))
}

/// Writes zeros into `path` until only `leave` bytes are free (or the disk
/// is full when `leave` is 0).
fn fill(path: &Path, leave: u64) {
    let dir = path.parent().unwrap();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let chunk = vec![0u8; 1 << 20];
    loop {
        let free = space::available(dir).unwrap();
        if free <= leave {
            break;
        }
        let n = ((free - leave) as usize).min(chunk.len());
        match f.write_all(&chunk[..n]) {
            Ok(()) => {}
            Err(e) if leave == 0 => {
                assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
                break;
            }
            Err(e) => panic!("filling: {e}"),
        }
        f.sync_all().unwrap();
    }
}

fn ticket(code: &str, i: u32) -> Value {
    json!({
        "caller_phone": format!("1391234{i:04}"),
        "appeal_type": "complaint",
        "category_code": code,
        "content": format!("停水 diskfull {i}"),
    })
}

fn assert_507(r: &Resp) {
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.text());
    assert!(
        r.ctype().starts_with("application/problem+json"),
        "{}",
        r.ctype()
    );
    let detail = r.json()["detail"].as_str().unwrap_or_default().to_string();
    assert!(detail.contains("磁盘空间不足"), "{detail}");
    assert!(
        detail.contains("the disk holding the data is full"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_refuses_writes_with_507_keeps_reads_and_recovers() {
    let base = temp_dir("diskfull");
    let mnt = base.0.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let _mount = match mount_tmpfs(&mnt, "64m") {
        Ok(m) => m,
        Err(e) => {
            eprintln!(
                "SKIPPED a_full_disk_refuses_writes_with_507_keeps_reads_and_recovers: it mounts a 64 MB tmpfs and needs root ({e})"
            );
            return;
        }
    };
    let data = mnt.join("data");
    let cfg = hotline::config::Config::resolve(Some(data.clone()), None, false, false).unwrap();
    {
        std::fs::create_dir_all(&data).unwrap();
        let store = hotline::store::Store::open(&cfg.db_path()).unwrap();
        let opts = hotline::demo::DemoOptions {
            tickets: 200,
            password: PW.into(),
            seed: 7,
            months: 1,
        };
        hotline::demo::generate(&store, &opts, jiff::Timestamp::now(), &mut |_, _| {}).unwrap();
    }
    let state = hotline::http::AppState::new(hotline::open_services(&cfg).unwrap(), false);
    let app = App {
        svc: state.svc.clone(),
        router: hotline::build_app(state.clone()),
        state,
        dir: TempDir(data.join("unused")),
    };
    let op = app.login("op1").await;
    // A leaf category of the demo district.
    let cats = app.svc.store.categories().unwrap();
    let code = cats
        .iter()
        .map(|c| c.code.clone())
        .find(|c| {
            !cats
                .iter()
                .any(|o| o.code != *c && o.code.starts_with(c.as_str()))
        })
        .unwrap();

    // Room to spare: a registration is stored.
    let r = app
        .call(&op, "POST", "/api/v1/tickets", Some(ticket(&code, 1)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let stored = r.json()["number"].as_str().unwrap().to_string();
    let before = app.svc.store.counts().unwrap();

    // Below the reserve: 507 with the reason, nothing stored.
    let filler = mnt.join("filler");
    fill(&filler, space::reserve() / 2);
    let r = app
        .call(&op, "POST", "/api/v1/tickets", Some(ticket(&code, 2)))
        .await;
    assert_507(&r);
    let r = app
        .call(
            &op,
            "POST",
            &format!("/api/v1/tickets/{stored}/actions/progress"),
            Some(json!({"note": "x"})),
        )
        .await;
    assert_ne!(
        r.status,
        StatusCode::OK,
        "a change went through: {}",
        r.text()
    );
    assert_eq!(app.svc.store.counts().unwrap().tickets, before.tickets);
    // Reads and a new login still work.
    let r = app.get(&op, &format!("/api/v1/tickets/{stored}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.get(&op, "/api/v1/tickets?limit=5").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let op2 = app.login("op2").await;

    // Completely full: still 507, still readable.
    fill(&filler, 0);
    assert!(space::available(&mnt).unwrap() < 1 << 20);
    let r = app
        .call(&op2, "POST", "/api/v1/tickets", Some(ticket(&code, 3)))
        .await;
    assert_507(&r);
    let r = app.get(&op2, &format!("/api/v1/tickets/{stored}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.svc.store.counts().unwrap().tickets, before.tickets);

    // Space freed: writing resumes by itself.
    std::fs::remove_file(&filler).unwrap();
    let r = app
        .call(&op2, "POST", "/api/v1/tickets", Some(ticket(&code, 4)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let after = app.svc.store.counts().unwrap();
    assert_eq!(after.tickets, before.tickets + 1);
    let no = TicketNo::parse(r.json()["number"].as_str().unwrap()).unwrap();
    assert!(app.svc.store.ticket(no).unwrap().is_some());
    // Nothing half-written.
    assert_eq!(app.svc.store.check_indexes().unwrap(), Vec::<String>::new());
    let chains = app.svc.store.verify_chains().unwrap();
    assert!(chains.ok(), "{:#?}", chains.broken);
    drop(app);
}
