//! Migration test from a stored fixture database.
//!
//! `tests/fixtures/v1.redb` is a data file written by schema version 1. It
//! is rebuilt (only when the schema of version 1 itself is being defined,
//! never after a release) with
//! `cargo test --test migrate -- --ignored write_v1_fixture`.
//!
//! The fixture holds, with the clock at 2026-03-02 10:00 Asia/Shanghai:
//! administrator `admin` (password `password1`, display name 管理员), unit 1
//! 供水公司, category 01 供水 (default unit 1), user `op` (operator +
//! dispatcher, password `password1`) and three tickets:
//! 20260302-000001 (complaint, dispatched to unit 1),
//! 20260302-000002 (help, pending dispatch) and
//! 20260302-000003 (consultation answered at intake, closed).

use std::path::{Path, PathBuf};

use hotline::config::Config;
use hotline::domain::ticket::{EventKind, TicketNo};
use hotline::domain::types::{AppealType, Role, State};
use hotline::service::Actor;
use hotline::service::admin::{NewCategory, NewUnit, NewUser};
use hotline::service::tickets::NewTicket;
use hotline::store::migrate::{CURRENT, stored_version};
use hotline::store::tables::META;
use hotline::store::{Store, StoreError};

/// The schema version the fixture was written with.
const FIXTURE_VERSION: u32 = 1;
const FIXTURE_NOW: &str = "2026-03-02T02:00:00Z";

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.redb")
}

/// A fresh directory, removed when dropped (kept when the test fails).
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

    /// Copies the fixture in as `hotline.redb` and returns its path.
    fn with_fixture(tag: &str) -> (TempDir, PathBuf) {
        let d = TempDir::new(tag);
        let db = d.0.join("hotline.redb");
        std::fs::copy(fixture_path(), &db).expect("tests/fixtures/v1.redb is present");
        (d, db)
    }

    fn backups(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("hotline.redb.pre-v") && n.ends_with(".bak"))
            .collect()
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

fn no(s: &str) -> TicketNo {
    TicketNo::parse(s).unwrap()
}

#[test]
fn fixture_opens_migrated_and_readable() {
    let (dir, db) = TempDir::with_fixture("migrate");
    let store = Store::open(&db).expect("the v1 fixture opens");
    assert_eq!(stored_version(&store).unwrap(), CURRENT);
    // v5 counted the report aggregates of the tickets already stored.
    let agg = store.check_aggregates().unwrap();
    assert_eq!(agg.differences, 0, "{:?}", agg.examples);
    assert_eq!(agg.tickets, store.counts().unwrap().tickets);
    assert!(agg.rows > 0);

    // A backup beside the file exactly when a migration ran.
    let backups = dir.backups();
    if CURRENT > FIXTURE_VERSION {
        assert_eq!(
            backups.len(),
            1,
            "expected one pre-migration backup, found {backups:?}"
        );
        assert!(backups[0].starts_with(&format!("hotline.redb.pre-v{CURRENT}-")));
        let bak = dir.0.join(&backups[0]);
        assert_eq!(
            std::fs::read(&bak).unwrap(),
            std::fs::read(fixture_path()).unwrap(),
            "the backup is the file as it was before migrating"
        );
    } else {
        assert!(
            backups.is_empty(),
            "no migration ran, yet backups exist: {backups:?}"
        );
    }

    // People, org tree and taxonomy.
    let admin = store.user_by_name("admin").unwrap().expect("admin user");
    assert_eq!(admin.id, 1);
    assert_eq!(admin.display_name, "管理员");
    assert_eq!(admin.roles, vec![Role::Admin]);
    assert!(admin.enabled);
    assert!(admin.password_hash.starts_with("$argon2id$"));
    let op = store
        .user_by_name("OP")
        .unwrap()
        .expect("op user (names are case-insensitive)");
    assert_eq!(op.id, 2);
    assert_eq!(op.roles, vec![Role::Operator, Role::Dispatcher]);
    assert_eq!(store.user_count().unwrap(), 2);

    let units = store.units().unwrap();
    assert_eq!(units.len(), 1);
    assert_eq!(
        (units[0].id, units[0].name.as_str(), units[0].parent_id),
        (1, "供水公司", None)
    );
    assert!(units[0].enabled);

    let cats = store.categories().unwrap();
    assert_eq!(cats.len(), 1);
    assert_eq!(
        (cats[0].code.as_str(), cats[0].name.as_str()),
        ("01", "供水")
    );
    assert_eq!(cats[0].default_unit_id, Some(1));

    // Settings and the shipped calendar.
    store.settings().expect("settings decode");
    store.calendar().expect("calendar decodes");

    // Tickets and their timelines.
    let counts = store.counts().unwrap();
    assert_eq!((counts.tickets, counts.events), (3, 5));

    let t1 = store
        .ticket(no("20260302-000001"))
        .unwrap()
        .expect("ticket 1");
    assert_eq!(t1.caller_phone, "13812345678");
    assert_eq!(t1.appeal_type, AppealType::Complaint);
    assert_eq!(t1.content, "停水三天了");
    assert_eq!(t1.state, State::AwaitingSignFor);
    assert_eq!(t1.unit_id, Some(1));
    assert_eq!(t1.units_seen, vec![1]);
    assert!(t1.stage.is_some() && t1.due_at.is_some());
    assert_eq!(t1.created_by, op.id);
    let e1 = store.events(t1.number).unwrap();
    assert_eq!(e1.len(), 2);
    assert_eq!(e1[0].kind, EventKind::Created);
    assert!(matches!(
        e1[1].kind,
        EventKind::Dispatched { unit_id: 1, .. }
    ));
    assert_eq!(e1[1].note, "请尽快处理");

    let t2 = store
        .ticket(no("20260302-000002"))
        .unwrap()
        .expect("ticket 2");
    assert_eq!(t2.state, State::PendingDispatch);
    assert_eq!(t2.district, "东城区");
    assert_eq!(store.events(t2.number).unwrap().len(), 1);

    let t3 = store
        .ticket(no("20260302-000003"))
        .unwrap()
        .expect("ticket 3");
    assert_eq!(t3.state, State::Closed);
    assert_eq!(t3.answer, "周一至周五 9:00–17:00");
    let e3 = store.events(t3.number).unwrap();
    assert!(matches!(&e3[1].kind, EventKind::AnsweredAtIntake { answer } if answer == &t3.answer));

    assert!(store.ticket(no("20260302-000004")).unwrap().is_none());
    let problems = store.check_indexes().unwrap();
    assert!(problems.is_empty(), "inconsistent indexes: {problems:#?}");
    // v7 linked every stored event into its ticket's hash chain.
    let chains = store.verify_chains().unwrap();
    assert!(chains.present);
    assert_eq!((chains.tickets, chains.events), (3, 5));
    assert!(chains.ok(), "{:#?}", chains.broken);
    drop(store);

    // The whole program works on the migrated file: services load, read
    // through the indexes and register a new ticket after the old ones.
    let cfg = Config::resolve(Some(dir.0.clone()), None, false, false).unwrap();
    let svc = hotline::open_services(&cfg).unwrap();
    let actor = Actor::new(svc.store.user_by_name("op").unwrap().unwrap(), &svc.dir());
    let history = svc.caller_history(&actor, "13812345678", 10).unwrap();
    assert_eq!(
        history
            .iter()
            .map(|t| t.number.as_str())
            .collect::<Vec<_>>(),
        vec!["20260302-000002", "20260302-000001"]
    );
    let events = svc.ticket_events(&actor, "20260302-000001").unwrap();
    assert_eq!(events.len(), 2);
    let new = svc
        .register(
            &actor,
            NewTicket {
                caller_phone: "13900001111".into(),
                appeal_type: "suggestion".into(),
                category_code: "01".into(),
                content: "迁移后登记".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(no(&new.number) > no("20260302-000003"));
    let problems = svc.store.check_indexes().unwrap();
    assert!(
        problems.is_empty(),
        "inconsistent indexes after a write: {problems:#?}"
    );
    // New events continue the chains computed by the migration.
    let chains = svc.store.verify_chains().unwrap();
    assert!(chains.ok(), "{:#?}", chains.broken);
    assert_eq!(chains.tickets, 4);
}

#[test]
fn newer_schema_is_refused_and_left_alone() {
    let (dir, db) = TempDir::with_fixture("migrate-newer");
    {
        let raw = redb::Database::create(&db).unwrap();
        let w = raw.begin_write().unwrap();
        {
            let mut meta = w.open_table(META).unwrap();
            meta.insert("schema_version", (CURRENT + 1).to_le_bytes().as_slice())
                .unwrap();
        }
        w.commit().unwrap();
    }
    let before = logical_dump(&db);
    let bytes_before = std::fs::read(&db).unwrap();
    assert!(before.contains(&format!(
        "meta: \"schema_version\" = {:?}",
        (CURRENT + 1).to_le_bytes().as_slice()
    )));

    match Store::open(&db) {
        Err(StoreError::NewerSchema { found, supported }) => {
            assert_eq!((found, supported), (CURRENT + 1, CURRENT));
        }
        Err(e) => panic!("expected NewerSchema, got {e}"),
        Ok(_) => panic!("a file with a newer schema was opened"),
    }

    assert!(
        dir.backups().is_empty(),
        "a refused file must not be backed up"
    );
    // Store::open reads the version through a read-only handle first, so a
    // refused file is left byte for byte as it was.
    assert!(
        std::fs::read(&db).unwrap() == bytes_before,
        "the refused file's bytes changed"
    );
    let after = logical_dump(&db);
    assert!(
        before == after,
        "the refused file was changed:\nbefore: {before:#?}\nafter: {after:#?}"
    );
}

/// Every table of the file and every row, as text, read through a
/// read-only handle (which leaves the file as it is).
fn logical_dump(db: &Path) -> Vec<String> {
    use hotline::store::tables::*;
    use redb::{ReadableDatabase, ReadableTable, TableHandle};

    let rdb = redb::ReadOnlyDatabase::open(db).unwrap();
    let r = rdb.begin_read().unwrap();
    let mut out: Vec<String> = r
        .list_tables()
        .unwrap()
        .map(|t| format!("table {}", t.name()))
        .collect();
    out.sort();
    macro_rules! dump {
        ($($def:expr),* $(,)?) => {$(
            if let Ok(t) = r.open_table($def) {
                for row in t.iter().unwrap() {
                    let (k, v) = row.unwrap();
                    out.push(format!("{}: {:?} = {:?}", $def.name(), k.value(), v.value()));
                }
            }
        )*};
    }
    dump!(
        META,
        SETTINGS,
        CALENDAR,
        USERS,
        USERNAMES,
        UNITS,
        CATEGORIES,
        SESSIONS,
        API_TOKENS,
        TICKETS,
        EVENTS,
        IDX_PHONE,
        IDX_CATEGORY,
        IDX_DISTRICT,
        IDX_STATE,
        IDX_UNIT_STATE,
        IDX_UNIT_SEEN,
        IDX_STATE_DUE,
    );
    out
}

/// Rebuilds `tests/fixtures/v1.redb` with the current code. Only while
/// schema version 1 is being defined: a released fixture is never rebuilt.
#[test]
#[ignore = "writes tests/fixtures/v1.redb"]
fn write_v1_fixture() {
    assert_eq!(
        CURRENT, FIXTURE_VERSION,
        "the fixture must be written by version {FIXTURE_VERSION}"
    );
    let dir = TempDir::new("fixture");
    let cfg = Config::resolve(Some(dir.0.clone()), None, true, false).unwrap();
    let mut svc = hotline::open_services(&cfg).unwrap();
    svc.clock
        .set(FIXTURE_NOW.parse().unwrap())
        .expect("dev clock");

    let admin = svc.setup("admin", "password1", "管理员").unwrap();
    let admin = Actor::new(admin, &svc.dir());
    let unit = svc
        .create_unit(
            &admin,
            NewUnit {
                name: "供水公司".into(),
                parent_id: None,
            },
        )
        .unwrap();
    svc.create_category(
        &admin,
        NewCategory {
            code: "01".into(),
            name: "供水".into(),
            parent_code: None,
            default_unit_id: Some(unit.id),
        },
    )
    .unwrap();
    let op = svc
        .create_user(
            &admin,
            NewUser {
                username: "op".into(),
                password: "password1".into(),
                display_name: "话务员甲".into(),
                roles: vec![Role::Operator, Role::Dispatcher],
                unit_id: None,
            },
        )
        .unwrap();
    let op = Actor::new(op, &svc.dir());

    let t1 = svc
        .register(
            &op,
            NewTicket {
                caller_phone: "138 1234 5678".into(),
                caller_name: "张先生".into(),
                appeal_type: "complaint".into(),
                category_code: "01".into(),
                district: "西城区".into(),
                address: "幸福路1号".into(),
                content: "停水三天了".into(),
                ..Default::default()
            },
        )
        .unwrap();
    // (Written with schema v1; kept compiling against the current API.)
    svc.act(
        &op,
        &t1.number,
        hotline::domain::workflow::Action::Dispatch {
            unit_id: unit.id,
            assisting: vec![],
        },
        "请尽快处理",
    )
    .unwrap();
    let t2 = svc
        .register(
            &op,
            NewTicket {
                caller_phone: "13812345678".into(),
                appeal_type: "help".into(),
                category_code: "01".into(),
                district: "东城区".into(),
                content: "水压低".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let t3 = svc
        .register(
            &op,
            NewTicket {
                caller_phone: "01012345678".into(),
                appeal_type: "consultation".into(),
                category_code: "01".into(),
                content: "营业厅几点上班".into(),
                answer: Some("周一至周五 9:00–17:00".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        [t1.number.as_str(), t2.number.as_str(), t3.number.as_str()],
        ["20260302-000001", "20260302-000002", "20260302-000003"]
    );
    assert!(svc.store.check_indexes().unwrap().is_empty());
    svc.store.compact().unwrap();
    drop(svc);

    let out = fixture_path();
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::copy(cfg.db_path(), &out).unwrap();
    println!(
        "wrote {} ({} bytes)",
        out.display(),
        std::fs::metadata(&out).unwrap().len()
    );
}
