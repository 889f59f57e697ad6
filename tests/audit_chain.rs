//! The hash chains of the timelines and the audit log: a record changed
//! directly in the redb file (behind the program's back) is named by
//! `hotline verify-audit`, and a backup of such a file is refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use hotline::store::Store;
use hotline::store::audit::AuditRecord;
use hotline::store::tables::{AUDIT, EVENT_CHAIN, EVENTS};
use redb::ReadableTable;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
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
        if std::thread::panicking() {
            eprintln!("keeping {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn hotline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(args)
        .env_remove("HOTLINE_DATA_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("run hotline")
}

fn verify_audit(dir: &Path) -> (bool, String) {
    let out = hotline(&["verify-audit", "--data-dir", dir.to_str().unwrap()]);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A data dir from the v1 fixture (3 tickets, 5 events), migrated, with
/// three audit records.
fn data_dir(tag: &str) -> TempDir {
    let d = TempDir::new(tag);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.redb"),
        d.0.join("hotline.redb"),
    )
    .unwrap();
    let store = Store::open(&d.0.join("hotline.redb")).unwrap();
    for i in 0..3 {
        store
            .append_audit(&AuditRecord {
                at: 1_770_000_000 + i,
                actor: 1,
                action: "user.create".into(),
                target: format!("user{i}"),
                detail: String::new(),
            })
            .unwrap();
    }
    d
}

/// Changes the stored bytes under one key of one table, as someone with
/// the file (and redb) but without the program would.
fn tamper(db: &Path, f: impl FnOnce(&redb::WriteTransaction)) {
    let db = redb::Database::create(db).unwrap();
    let w = db.begin_write().unwrap();
    f(&w);
    w.commit().unwrap();
}

fn flip_last_byte(v: &[u8]) -> Vec<u8> {
    let mut v = v.to_vec();
    *v.last_mut().unwrap() ^= 0x01;
    v
}

#[test]
fn intact_chains_verify() {
    let d = data_dir("chain-ok");
    let (ok, out) = verify_audit(&d.0);
    assert!(ok, "{out}");
    assert!(
        out.contains("3 tickets, 5 events, 3 audit records"),
        "{out}"
    );
    assert!(out.contains("every hash chain is intact"), "{out}");
}

#[test]
fn a_changed_event_is_named_and_its_backup_refused() {
    let d = data_dir("chain-event");
    let db = d.0.join("hotline.redb");
    tamper(&db, |w| {
        let mut t = w.open_table(EVENTS).unwrap();
        let key = (20260302000001u64, 1u32);
        let v = flip_last_byte(t.get(key).unwrap().unwrap().value());
        t.insert(key, v.as_slice()).unwrap();
    });
    let (ok, out) = verify_audit(&d.0);
    assert!(!ok, "a tampered event passed: {out}");
    assert!(out.contains("ticket 20260302-000001 event 1"), "{out}");
    // Only that chain is broken.
    assert!(!out.contains("20260302-000002"), "{out}");
    assert!(!out.contains("(audit record "), "{out}");

    // A backup reads its copy back and checks the chains.
    let to = TempDir::new("chain-backup");
    let out = hotline(&[
        "backup",
        "--data-dir",
        d.0.to_str().unwrap(),
        "--to",
        to.0.to_str().unwrap(),
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "backup of a tampered file: {text}");
    assert!(text.contains("hash chain is broken"), "{text}");
    assert!(text.contains("ticket 20260302-000001 event 1"), "{text}");
}

#[test]
fn a_removed_last_event_and_a_forged_link_are_named() {
    let d = data_dir("chain-removed");
    let db = d.0.join("hotline.redb");
    // Ticket 2's only event goes, with its link.
    tamper(&db, |w| {
        w.open_table(EVENTS)
            .unwrap()
            .remove((20260302000002u64, 0u32))
            .unwrap();
        w.open_table(EVENT_CHAIN)
            .unwrap()
            .remove((20260302000002u64, 0u32))
            .unwrap();
    });
    // Ticket 3's first event is rewritten and its link recomputed with
    // the public function: the next link still breaks.
    tamper(&db, |w| {
        let mut ev = w.open_table(EVENTS).unwrap();
        let mut ch = w.open_table(EVENT_CHAIN).unwrap();
        let key = (20260302000003u64, 0u32);
        let v = flip_last_byte(ev.get(key).unwrap().unwrap().value());
        let l = hotline::domain::chain::link(
            &hotline::domain::chain::GENESIS,
            &hotline::domain::chain::event_key(key.0, key.1),
            &v,
        );
        ev.insert(key, v.as_slice()).unwrap();
        ch.insert(key, l.as_slice()).unwrap();
    });
    let (ok, out) = verify_audit(&d.0);
    assert!(!ok, "{out}");
    assert!(
        out.contains("ticket 20260302-000002 has 0 events, its record says 1"),
        "{out}"
    );
    assert!(out.contains("ticket 20260302-000003 event 1"), "{out}");
    assert!(!out.contains("20260302-000001"), "{out}");
}

#[test]
fn a_changed_audit_record_is_named() {
    let d = data_dir("chain-audit");
    let db = d.0.join("hotline.redb");
    tamper(&db, |w| {
        let mut t = w.open_table(AUDIT).unwrap();
        let v = flip_last_byte(t.get(2u64).unwrap().unwrap().value());
        t.insert(2u64, v.as_slice()).unwrap();
    });
    let (ok, out) = verify_audit(&d.0);
    assert!(!ok, "{out}");
    assert!(out.contains("audit record 2"), "{out}");
    assert!(!out.contains("ticket 2026"), "{out}");
    // New records after a broken one are refused rather than linked to it?
    // No: appending goes on (the log must keep recording); the break stays
    // visible.
    let store = Store::open(&db).unwrap();
    store
        .append_audit(&AuditRecord {
            at: 1_770_000_100,
            actor: 1,
            action: "login.ok".into(),
            target: "admin".into(),
            detail: String::new(),
        })
        .unwrap();
    let rep = store.verify_chains().unwrap();
    assert_eq!(rep.audit, 4);
    assert_eq!(rep.broken.len(), 1, "{:?}", rep.broken);
    assert!(rep.broken[0].contains("audit record 2"));
}
