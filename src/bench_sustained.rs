//! `hotline bench --sustained SECS --clients N`: N clients with a mix of
//! what the floor does (registration, ticket lists, knowledge-base search
//! as you type, dispatching, the dashboard) against a separate
//! `hotline serve` on an existing data dir for SECS seconds. Prints errors
//! and p50/p99 per request kind and the server's resident memory over
//! time, as Markdown for BENCHMARKS.md.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::bench::{Conn, free_port, percentiles, rss_kib, start};

const PW: &str = "hotline-demo";
/// Words typed letter by letter into the knowledge-base search.
const TYPED: &[&str] = &["停水", "供暖不热", "噪音扰民", "垃圾清运", "路灯不亮"];

#[derive(Default)]
struct Kind {
    times: Vec<Duration>,
    errors: u64,
    example: Option<String>,
}

type Stats = Arc<Mutex<BTreeMap<&'static str, Kind>>>;

fn record(
    stats: &Stats,
    kind: &'static str,
    t: Duration,
    r: &std::io::Result<crate::bench::Reply>,
) {
    let mut s = stats.lock().expect("stats");
    let k = s.entry(kind).or_default();
    k.times.push(t);
    match r {
        Ok(r) if r.status < 400 => {}
        Ok(r) => {
            k.errors += 1;
            k.example.get_or_insert_with(|| {
                format!("HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body))
            });
        }
        Err(e) => {
            k.errors += 1;
            k.example.get_or_insert_with(|| e.to_string());
        }
    }
}

/// xorshift64*, seeded per client.
fn next(s: &mut u64) -> u64 {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    s.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

fn client(
    addr: &str,
    i: usize,
    code: &str,
    unit: u32,
    stop: &AtomicBool,
    stats: &Stats,
) -> Result<(), String> {
    let ops = ["op1", "op2", "op3", "op4"];
    let mut op = Conn::open(addr).map_err(|e| e.to_string())?;
    op.login(ops[i % ops.len()], PW)?;
    let mut disp = Conn::open(addr).map_err(|e| e.to_string())?;
    disp.login("dispatcher", PW)?;
    let mut lead = Conn::open(addr).map_err(|e| e.to_string())?;
    lead.login("lead", PW)?;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (i as u64 + 1);
    let mut mine: Vec<String> = vec![];
    let mut n = 0u64;
    let timed = |c: &mut Conn, kind: &'static str, m: &str, p: &str, b: Option<&str>| {
        let t = Instant::now();
        let r = c.request(m, p, b);
        record(stats, kind, t.elapsed(), &r);
        r
    };
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        match next(&mut rng) % 100 {
            0..15 => {
                let body = serde_json::json!({
                    "caller_phone": format!("137{:08}", (i as u64 * 1_000_000 + n) % 100_000_000),
                    "appeal_type": "complaint",
                    "category_code": code,
                    "content": format!("持续负载测试 停水 客户端 {i} 第 {n} 件"),
                })
                .to_string();
                if let Ok(r) = timed(&mut op, "register", "POST", "/api/v1/tickets", Some(&body))
                    && r.status == 201
                    && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&r.body)
                    && let Some(no) = v["number"].as_str()
                {
                    mine.push(no.to_string());
                }
            }
            15..45 => {
                let q = [
                    "",
                    "&state=pending_dispatch",
                    "&state=in_progress",
                    "&q=停水",
                ];
                let p = format!("/api/v1/tickets?limit=20{}", q[(n % 4) as usize]);
                let _ = timed(&mut op, "list", "GET", &p, None);
            }
            45..75 => {
                // One keystroke after another, as the search box sends them.
                let w: Vec<char> = TYPED[(next(&mut rng) % TYPED.len() as u64) as usize]
                    .chars()
                    .collect();
                for k in 1..=w.len() {
                    let q: String = w[..k].iter().collect();
                    let p = format!("/api/v1/kb/search?q={}", urlencode(&q));
                    let _ = timed(&mut op, "search as you type", "GET", &p, None);
                }
            }
            75..85 => {
                if let Some(no) = mine.pop() {
                    let body = serde_json::json!({"unit_id": unit, "note": "请处理"}).to_string();
                    let p = format!("/api/v1/tickets/{no}/actions/dispatch");
                    let _ = timed(&mut disp, "dispatch", "POST", &p, Some(&body));
                }
            }
            _ => {
                let _ = timed(
                    &mut lead,
                    "dashboard",
                    "GET",
                    "/api/v1/reports/dashboard",
                    None,
                );
            }
        }
    }
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

pub fn run(data_dir: &std::path::Path, secs: u64, clients: usize) -> Result<String, String> {
    let cfg = crate::config::Config::resolve(Some(data_dir.to_path_buf()), None, false, false)?;
    if !cfg.db_path().exists() {
        return Err(format!(
            "{} holds no data: make it first with `hotline demo --data-dir {} --tickets N` (or a plain `hotline bench`)",
            data_dir.display(),
            data_dir.display()
        ));
    }
    let (tickets, code, unit) = {
        let store = crate::store::Store::open(&cfg.db_path()).map_err(|e| e.to_string())?;
        let cats = store.categories().map_err(|e| e.to_string())?;
        let code = cats
            .iter()
            .filter(|c| c.enabled)
            .map(|c| c.code.clone())
            .find(|c| {
                !cats
                    .iter()
                    .any(|o| o.code != *c && o.code.starts_with(c.as_str()))
            })
            .ok_or("no category")?;
        let unit = store
            .units()
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|u| u.enabled && u.parent_id.is_none())
            .ok_or("no unit")?
            .id;
        (
            store.counts().map_err(|e| e.to_string())?.tickets,
            code,
            unit,
        )
    };
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let (server, _) = start(data_dir, port)?;
    let pid = server.0.id();
    let stats: Stats = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut memory = vec![(0u64, rss_kib(pid))];
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let (addr, code, stop, stats) =
                (addr.clone(), code.clone(), stop.clone(), stats.clone());
            std::thread::spawn(move || client(&addr, i, &code, unit, &stop, &stats))
        })
        .collect();
    let step = (secs / 10).max(1);
    while started.elapsed().as_secs() < secs {
        std::thread::sleep(Duration::from_secs(
            step.min(secs - started.elapsed().as_secs().min(secs))
                .max(1),
        ));
        memory.push((started.elapsed().as_secs(), rss_kib(pid)));
    }
    stop.store(true, Ordering::Relaxed);
    let mut failures = vec![];
    for h in handles {
        if let Err(e) = h.join().map_err(|_| "a client panicked".to_string())? {
            failures.push(e);
        }
    }
    drop(server);
    let mut out = format!(
        "### Sustained load: {clients} clients for {secs} s on {tickets} tickets\n\n| request | count | errors | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|\n"
    );
    let stats = stats.lock().expect("stats");
    let mut errors = 0;
    for (kind, k) in stats.iter() {
        let (p50, p99, n) = percentiles(k.times.clone());
        errors += k.errors;
        out.push_str(&format!(
            "| {kind} | {n} | {} | {p50:.1} | {p99:.1} |\n",
            k.errors
        ));
    }
    out.push_str(&format!("\nerrors: {errors}\n"));
    for (kind, k) in stats.iter() {
        if let Some(e) = &k.example {
            out.push_str(&format!(
                "- first {kind} error: {}\n",
                e.chars().take(300).collect::<String>()
            ));
        }
    }
    for f in failures {
        out.push_str(&format!("- a client stopped: {f}\n"));
    }
    out.push_str("\n| second | resident MB |\n|---:|---:|\n");
    for (s, kib) in memory {
        out.push_str(&format!("| {s} | {:.1} |\n", kib as f64 / 1024.0));
    }
    Ok(out)
}
