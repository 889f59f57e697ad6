//! Crash safety: the server is killed with SIGKILL while clients register
//! tickets, then restarted; every ticket whose creation was acknowledged
//! (a complete `201` answer) must be there, with a consistent index.

#[path = "support/process.rs"]
mod process;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use hotline::domain::ticket::TicketNo;
use hotline::store::Store;
use process::{Response, Server, Session, TempDir, cli};
use serde_json::json;

const CLIENTS: usize = 8;
const ROUNDS: usize = 2;
/// How long the clients register tickets before the kill.
const LOAD_TIME: Duration = Duration::from_millis(1500);
use process::{ADMIN_PW, OP_PW};

// ---------------------------------------------------------------------------

/// Runs `CLIENTS` threads registering tickets, kills the server after
/// `LOAD_TIME` while they run, and returns the acknowledged tickets
/// (number → caller phone).
fn load_and_kill(server: &mut Server, round: usize) -> HashMap<String, String> {
    let addr = server.addr;
    let killed = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
    let mut handles = Vec::new();
    for c in 0..CLIENTS {
        let killed = killed.clone();
        let ready_tx = ready_tx.clone();
        handles.push(thread::spawn(move || {
            let mut acked = Vec::new();
            let session = match Session::login(addr, "op", OP_PW) {
                Ok(s) => {
                    let _ = ready_tx.send(Ok(()));
                    s
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return acked;
                }
            };
            let mut i = 0u32;
            while !killed.load(Ordering::SeqCst) {
                // 11-digit mobile numbers, unique per (round, client, i).
                let phone = format!("13{}{c}{:07}", round % 10, i);
                i += 1;
                // Errors are expected once the server is gone.
                if let Ok(Some(number)) =
                    session.register(&phone, &format!("停水 round {round} client {c} #{i}"))
                {
                    acked.push((number, phone));
                }
            }
            acked
        }));
    }
    drop(ready_tx);
    for _ in 0..CLIENTS {
        match ready_rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("a client could not log in: {e}"),
            Err(e) => panic!("clients did not log in: {e}"),
        }
    }
    thread::sleep(LOAD_TIME);
    server.kill();
    killed.store(true, Ordering::SeqCst);
    let mut acked = HashMap::new();
    for h in handles {
        for (number, phone) in h.join().expect("client thread") {
            assert!(
                acked.insert(number.clone(), phone).is_none(),
                "number {number} was handed out twice"
            );
        }
    }
    acked
}

/// Opens the data file directly (no server running) and checks every
/// acknowledged ticket and the indexes.
fn check_store(db: &Path, acked: &HashMap<String, String>) {
    let store = Store::open(db).expect("the data file opens after the crash");
    for (number, phone) in acked {
        let no = TicketNo::parse(number).unwrap_or_else(|| panic!("bad number {number}"));
        let t = store
            .ticket(no)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged ticket {number} is missing after the crash"));
        assert_eq!(
            &t.caller_phone, phone,
            "ticket {number} holds another caller"
        );
        assert_eq!(store.events(no).unwrap().len() as u32, t.event_count);
    }
    let problems = store.check_indexes().unwrap();
    assert!(
        problems.is_empty(),
        "inconsistent indexes after the crash: {problems:#?}"
    );
    let counts = store.counts().unwrap();
    println!(
        "  store: {} tickets, {} acknowledged, {} committed without an answer",
        counts.tickets,
        acked.len(),
        counts.tickets.saturating_sub(acked.len() as u64)
    );
    assert!(
        counts.tickets >= acked.len() as u64,
        "{} tickets stored, {} acknowledged",
        counts.tickets,
        acked.len()
    );
}

#[test]
fn acknowledged_tickets_survive_sigkill() {
    let dir = TempDir::new("crash");
    let data = dir.0.to_str().unwrap().to_string();
    let db = dir.0.join("hotline.redb");
    cli(&[
        "create-admin",
        "--data-dir",
        &data,
        "--username",
        "admin",
        "--password",
        ADMIN_PW,
    ]);

    let mut server = Server::start(&dir.0, 0);
    {
        let admin = Session::login(server.addr, "admin", ADMIN_PW).unwrap();
        let r = admin
            .post("/api/v1/categories", &json!({"code": "01", "name": "供水"}))
            .unwrap();
        assert!(
            r.status == 200 || r.status == 201,
            "category: {} {}",
            r.status,
            r.text()
        );
        let r = admin
            .post(
                "/api/v1/users",
                &json!({"username": "op", "password": OP_PW, "display_name": "op", "roles": ["operator"]}),
            )
            .unwrap();
        assert!(
            r.status == 200 || r.status == 201,
            "user: {} {}",
            r.status,
            r.text()
        );
    }

    let mut all: HashMap<String, String> = HashMap::new();
    for round in 0..ROUNDS {
        let acked = load_and_kill(&mut server, round);
        println!(
            "round {round}: {} tickets acknowledged before SIGKILL",
            acked.len()
        );
        assert!(
            !acked.is_empty(),
            "round {round}: no ticket was acknowledged"
        );
        for (n, p) in acked {
            assert!(
                all.insert(n.clone(), p).is_none(),
                "number {n} was reused after a crash"
            );
        }
        check_store(&db, &all);

        // Restart: the acknowledged tickets answer, and numbering goes on.
        server = Server::start(&dir.0, round + 1);
        let op = Session::login(server.addr, "op", OP_PW).unwrap();
        let mut sample: Vec<&String> = all.keys().collect();
        sample.sort();
        let step = (sample.len() / 20).max(1);
        let mut picked: Vec<&String> = sample.iter().step_by(step).copied().collect();
        picked.push(sample.last().unwrap());
        for number in picked {
            let r = op.get(&format!("/api/v1/tickets/{number}")).unwrap();
            assert_eq!(r.status, 200, "GET {number}: {}", r.text());
            assert_eq!(r.json().unwrap()["number"].as_str(), Some(number.as_str()));
        }
        let phone = format!("1390000000{round}");
        let new = op
            .register(&phone, "重启后登记 (after restart)")
            .unwrap()
            .expect("a registration after the restart is acknowledged");
        let last = TicketNo::parse(sample.last().unwrap()).unwrap();
        assert!(
            TicketNo::parse(&new).unwrap() > last,
            "new number {new} does not follow the last acknowledged {last}"
        );
        assert!(
            all.insert(new.clone(), phone).is_none(),
            "number {new} collides"
        );
    }
    println!(
        "{} tickets acknowledged in {ROUNDS} kill rounds, all found",
        all.len()
    );
    server.kill();
    check_store(&db, &all);
}

// ---------------------------------------------------------------------------
// Crash trials: many SIGKILLs at random moments under a mixed workload.

/// Trials per run: `HOTLINE_CRASH_TRIALS` (default 10, CI; 100 for the
/// benchmark in BENCHMARKS.md). `HOTLINE_CRASH_SEED` repeats a run.
fn trials() -> usize {
    std::env::var("HOTLINE_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

/// xorshift64*: enough randomness for kill moments, reproducible by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// What an acknowledged answer promised about a ticket.
#[derive(Clone, Debug, Default)]
struct Promised {
    phone: String,
    /// A word only this ticket's content holds (search must find it).
    token: String,
    dispatched: bool,
    signed: bool,
}

#[derive(Default)]
struct Acked {
    tickets: HashMap<String, Promised>,
    /// (article id, a word only its title holds)
    articles: Vec<(u64, String)>,
}

fn status_ok(r: &Result<Response, String>, want: u16) -> bool {
    matches!(r, Ok(r) if r.status == want)
}

/// One trial: operators register, a dispatcher dispatches what they
/// registered, the unit signs for it, a team lead publishes articles; the
/// server is killed after `load` while all of this runs.
fn mixed_load_and_kill(server: &mut Server, trial: usize, load: Duration, unit: u64) -> Acked {
    use std::sync::Mutex;
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let to_dispatch = Arc::new(Mutex::new(Vec::<String>::new()));
    let to_sign = Arc::new(Mutex::new(Vec::<String>::new()));
    let acked = Arc::new(Mutex::new(Acked::default()));
    let login = |u: &str| Session::login(addr, u, OP_PW).unwrap_or_else(|e| panic!("{e}"));
    let mut handles = Vec::new();
    for c in 0..3usize {
        let (stop, queue, acked, s) = (
            stop.clone(),
            to_dispatch.clone(),
            acked.clone(),
            login("op"),
        );
        handles.push(thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let phone = format!("15{:03}{c}{:05}", trial % 1000, i % 100_000);
                let token = format!("crashq{trial}x{c}x{i}");
                if let Ok(Some(n)) = s.register(&phone, &format!("停水 {token}")) {
                    acked.lock().unwrap().tickets.insert(
                        n.clone(),
                        Promised {
                            phone,
                            token,
                            ..Default::default()
                        },
                    );
                    queue.lock().unwrap().push(n);
                }
            }
        }));
    }
    {
        let (stop, queue, next, acked, s) = (
            stop.clone(),
            to_dispatch.clone(),
            to_sign.clone(),
            acked.clone(),
            login("disp"),
        );
        handles.push(thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Some(n) = queue.lock().unwrap().pop() else {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let r = s.post(
                    &format!("/api/v1/tickets/{n}/actions/dispatch"),
                    &json!({"unit_id": unit, "note": "请处理"}),
                );
                if status_ok(&r, 200) {
                    if let Some(p) = acked.lock().unwrap().tickets.get_mut(&n) {
                        p.dispatched = true;
                    }
                    next.lock().unwrap().push(n);
                }
            }
        }));
    }
    {
        let (stop, queue, acked, s) = (stop.clone(), to_sign.clone(), acked.clone(), login("dept"));
        handles.push(thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Some(n) = queue.lock().unwrap().pop() else {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let r = s.post(&format!("/api/v1/tickets/{n}/actions/sign-for"), &json!({}));
                if status_ok(&r, 200)
                    && let Some(p) = acked.lock().unwrap().tickets.get_mut(&n)
                {
                    p.signed = true;
                }
            }
        }));
    }
    {
        let (stop, acked, s) = (stop.clone(), acked.clone(), login("lead"));
        handles.push(thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let token = format!("crashkb{trial}x{i}");
                let r = s.post(
                    "/api/v1/kb/articles",
                    &json!({"kind":"faq","title":format!("停水 {token}"),"question":"家里停水了怎么办？",
                        "body":"请拨打供水服务热线，抢修人员2小时内到场。","category":"水电气热/供水",
                        "department_id":unit,"keywords":["停水"],"valid_from":"2020-01-01","publish":true}),
                );
                if let Ok(r) = &r
                    && r.status == 201
                    && let Some(id) = r.json().ok().and_then(|v| v["article_id"].as_u64())
                {
                    acked.lock().unwrap().articles.push((id, token));
                }
            }
        }));
    }
    thread::sleep(load);
    server.kill();
    stop.store(true, Ordering::SeqCst);
    for h in handles {
        h.join().expect("client thread");
    }
    Arc::try_unwrap(acked)
        .ok()
        .expect("clients are done")
        .into_inner()
        .unwrap()
}

/// Every promise of `acked` holds in the data file (server stopped), the
/// indexes, aggregates and hash chains are consistent.
fn check_promises(db: &Path, acked: &Acked) {
    use hotline::domain::ticket::EventKind;
    let store = Store::open(db).expect("the data file opens after the crash");
    for (number, p) in &acked.tickets {
        let no = TicketNo::parse(number).unwrap();
        let t = store
            .ticket(no)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged ticket {number} is missing"));
        assert_eq!(t.caller_phone, p.phone, "ticket {number}");
        let ev = store.events(no).unwrap();
        assert_eq!(ev.len() as u32, t.event_count, "ticket {number}");
        assert!(matches!(ev[0].kind, EventKind::Created), "{number}: {ev:?}");
        if p.dispatched {
            assert!(
                ev.iter()
                    .any(|e| matches!(e.kind, EventKind::Dispatched { .. })),
                "acknowledged dispatch of {number} is missing: {ev:?}"
            );
        }
        if p.signed {
            assert!(
                ev.iter()
                    .any(|e| matches!(e.kind, EventKind::SignedFor { .. })),
                "acknowledged sign-for of {number} is missing: {ev:?}"
            );
        }
    }
    for (id, token) in &acked.articles {
        let a = store
            .kb_article(*id)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged article {id} is missing"));
        assert!(a.content.title.contains(token.as_str()), "article {id}");
    }
    let problems = store.check_indexes().unwrap();
    assert!(
        problems.is_empty(),
        "indexes after the crash: {problems:#?}"
    );
    let agg = store.check_aggregates().unwrap();
    assert_eq!(
        agg.differences, 0,
        "aggregates after the crash: {:?}",
        agg.examples
    );
    let chains = store.verify_chains().unwrap();
    assert!(
        chains.ok(),
        "hash chains after the crash: {:#?}",
        chains.broken
    );
}

/// After the restart the search index has healed: the newest acknowledged
/// articles and tickets of the trial are found by their unique words.
fn check_search(server: &Server, acked: &Acked) {
    let op = Session::login(server.addr, "op", OP_PW).unwrap();
    for (id, token) in acked.articles.iter().rev().take(3) {
        let r = op.get(&format!("/api/v1/kb/search?q={token}")).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let hits = r.json().unwrap()["hits"].clone();
        assert!(
            hits.as_array()
                .unwrap()
                .iter()
                .any(|h| h["article"]["id"].as_u64() == Some(*id)),
            "search for {token} does not find article {id}: {hits}"
        );
    }
    let mut newest: Vec<(&String, &Promised)> = acked.tickets.iter().collect();
    newest.sort_by(|a, b| a.0.cmp(b.0));
    for (number, p) in newest.iter().rev().take(3) {
        let r = op.get(&format!("/api/v1/tickets?q={}", p.token)).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let items = r.json().unwrap()["items"].clone();
        assert!(
            items
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["number"].as_str() == Some(number.as_str())),
            "search for {} does not find ticket {number}: {items}",
            p.token
        );
    }
}

#[test]
fn crash_trials_under_mixed_load() {
    let n = trials();
    let seed: u64 = std::env::var("HOTLINE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("{n} crash trials, HOTLINE_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("crash-trials");
    let data = dir.0.to_str().unwrap().to_string();
    let db = dir.0.join("hotline.redb");
    cli(&[
        "create-admin",
        "--data-dir",
        &data,
        "--username",
        "admin",
        "--password",
        ADMIN_PW,
    ]);
    let mut server = Server::start(&dir.0, 0);
    let unit;
    {
        let admin = Session::login(server.addr, "admin", ADMIN_PW).unwrap();
        let r = admin
            .post(
                "/api/v1/units",
                &json!({"name": "供水公司", "parent_id": null}),
            )
            .unwrap();
        assert!(r.status == 201 || r.status == 200, "unit: {}", r.text());
        unit = r.json().unwrap()["id"].as_u64().unwrap();
        let r = admin
            .post("/api/v1/categories", &json!({"code": "01", "name": "供水"}))
            .unwrap();
        assert!(r.status == 201 || r.status == 200, "category: {}", r.text());
        for (u, role, unit) in [
            ("op", "operator", None),
            ("disp", "dispatcher", None),
            ("lead", "team_lead", None),
            ("dept", "department_handler", Some(unit)),
        ] {
            let r = admin
                .post(
                    "/api/v1/users",
                    &json!({"username": u, "password": OP_PW, "display_name": u, "roles": [role], "unit_id": unit}),
                )
                .unwrap();
            assert!(r.status == 201 || r.status == 200, "user {u}: {}", r.text());
        }
    }
    let started = Instant::now();
    let (mut tickets, mut dispatched, mut signed, mut articles) = (0, 0, 0, 0);
    for trial in 0..n {
        let load = Duration::from_millis(200 + rng.next() % 1300);
        let acked = mixed_load_and_kill(&mut server, trial, load, unit);
        tickets += acked.tickets.len();
        dispatched += acked.tickets.values().filter(|p| p.dispatched).count();
        signed += acked.tickets.values().filter(|p| p.signed).count();
        articles += acked.articles.len();
        check_promises(&db, &acked);
        server = Server::start(&dir.0, trial + 1);
        check_search(&server, &acked);
        println!(
            "trial {trial}: killed after {} ms; {} tickets, {} dispatches, {} sign-fors, {} articles acknowledged, all present",
            load.as_millis(),
            acked.tickets.len(),
            acked.tickets.values().filter(|p| p.dispatched).count(),
            acked.tickets.values().filter(|p| p.signed).count(),
            acked.articles.len()
        );
    }
    server.kill();
    // The command-line checks agree on the final file.
    cli(&["rebuild-aggregates", "--check", "--data-dir", &data]);
    cli(&["verify-audit", "--data-dir", &data]);
    println!(
        "{n} SIGKILLs in {:.0} s: {tickets} tickets, {dispatched} dispatches, {signed} sign-fors, {articles} articles acknowledged; every one present with its timeline, indexes, aggregates and hash chains consistent, search healed",
        started.elapsed().as_secs_f64()
    );
    assert!(tickets > 0 && articles > 0, "the load did not run");
}
