//! Search benchmark (ignored by default: minutes in release mode):
//!
//! ```text
//! cargo test --release --test search_bench -- --ignored --nocapture
//! BENCH_TICKETS=200000 cargo test --release --test search_bench -- --ignored --nocapture
//! ```

use hotline::search::bench::{BenchConfig, run};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore]
fn search_bench() {
    let dir = std::env::temp_dir().join(format!("hotline-search-bench-{}", std::process::id()));
    let cfg = BenchConfig {
        articles: env("BENCH_ARTICLES", 100_000),
        tickets: env("BENCH_TICKETS", 1_000_000),
        dir: dir.clone(),
    };
    let report = run(&cfg);
    assert!(report.contains("KB search"));
    let _ = std::fs::remove_dir_all(&dir);
}
