//! Bulletin benchmark (ignored by default): the monthly analysis and the
//! annual report over a data dir of ~1,000,000 tickets. Opening the dir
//! migrates it to the current schema first (the v6 backfill of hot words
//! and difficult cases is timed). Use a COPY of the bench data:
//!
//! ```text
//! cp -r /tmp/bench1m-copy /tmp/bench1m-mine
//! HOTLINE_BENCH_DIR=/tmp/bench1m-mine cargo test --release --test bulletins_bench -- --ignored --nocapture
//! ```

use std::time::Instant;

use hotline::domain::bulletin::BulletinKind;
use hotline::domain::org::User;
use hotline::domain::permissions::Scope;
use hotline::domain::types::Role;
use hotline::service::Actor;

fn stats(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let med = ms[ms.len() / 2];
    let p99 = ms[((ms.len() as f64 * 0.99).ceil() as usize).min(ms.len()) - 1];
    (med, p99)
}

#[test]
#[ignore]
fn bulletins_bench() {
    let Ok(dir) = std::env::var("HOTLINE_BENCH_DIR") else {
        eprintln!("HOTLINE_BENCH_DIR is not set; skipping");
        return;
    };
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let started = Instant::now();
    let cfg =
        hotline::config::Config::resolve(Some(dir.into()), None, false, false).expect("config");
    let svc = hotline::open_services(&cfg).expect("open (and migrate)");
    println!("open + migrate: {:.1} s", started.elapsed().as_secs_f64());
    let counts = svc.store.counts().unwrap();
    println!("tickets: {}, events: {}", counts.tickets, counts.events);
    let leader = Actor {
        user: User {
            id: 0,
            username: "bench".into(),
            display_name: "bench".into(),
            password_hash: String::new(),
            roles: vec![Role::Leader],
            unit_id: None,
            enabled: true,
            created_at: 0,
            password_changed_at: 0,
        },
        scope: Scope::All,
    };
    // The last whole month and year of the data.
    let mut newest = 0u32;
    svc.store
        .scan(
            &hotline::store::ScanSource::All,
            hotline::domain::ticket::TicketNo(0),
            hotline::domain::ticket::TicketNo(u64::MAX),
            true,
            |t| {
                newest = t.number.day();
                std::ops::ControlFlow::Break(())
            },
        )
        .unwrap();
    let end = jiff::civil::Date::new(
        (newest / 10000) as i16,
        (newest / 100 % 100) as i8,
        (newest % 100) as i8,
    )
    .unwrap();
    let month = BulletinKind::Monthly.last_complete(end);
    let year = BulletinKind::Annual.period_containing(month.start);
    for (name, kind, p) in [
        ("monthly analysis", BulletinKind::Monthly, month),
        ("annual report", BulletinKind::Annual, year),
    ] {
        let mut ms = vec![];
        for _ in 0..runs {
            let t = Instant::now();
            let b = svc.bulletin(&leader, kind, p).unwrap();
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(!b.hot_words.rows.is_empty());
        }
        let (med, p99) = stats(ms);
        println!(
            "{name} {}: median {med:.0} ms, p99 {p99:.0} ms ({runs} runs)",
            kind.key(p)
        );
    }
}
