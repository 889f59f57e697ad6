//! Report benchmarks (ignored by default; release mode):
//!
//! ```text
//! cargo test --release --test reports_bench -- --ignored --nocapture
//! HOTLINE_BENCH_DIR=/tmp/bench1m-reports cargo test --release --test reports_bench -- --ignored --nocapture
//! ```
//!
//! `xlsx_100k_rows` writes a 100,000-row table to .xlsx (and CSV);
//! `kpi_reports_on_bench_dir` times the KPI report over a month and a year
//! grouped by unit, the department ranking, and the export of the year by
//! unit, on a copy of a bench data dir (never the original: opening it
//! migrates it).

use std::time::Instant;

use hotline::service::table::{Cell, Column, Table};

fn stats(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    (p(0.5), p(0.99))
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// A ticket-list-shaped table: 12 columns of text, counts and rates.
fn big_table(rows: usize) -> Table {
    let mut cols = vec![
        Column::new("number", "工单编号"),
        Column::new("unit", "承办单位"),
        Column::new("category", "业务分类"),
        Column::new("street", "街道"),
    ];
    for k in ["受理量", "签收", "办结", "黄牌"] {
        cols.push(Column::new(k, k));
    }
    for k in ["按时签收率", "满意率", "变化"] {
        cols.push(Column::new(k, k));
    }
    cols.push(Column::new("score", "得分"));
    let mut t = Table::new("十万行导出", cols);
    for i in 0..rows {
        t.push(vec![
            Cell::Text(format!("2026{:08}", i)),
            Cell::Text(format!("区城市管理局第{}科", i % 40)),
            Cell::Text(format!("0{}0{} 市容环境/占道经营", i % 9 + 1, i % 7 + 1)),
            Cell::Text(format!("市南区 街道{}", i % 60)),
            Cell::Int(i as i64 % 5000),
            Cell::Int(i as i64 % 300),
            Cell::Int(i as i64 % 280),
            Cell::Int(i as i64 % 7),
            Cell::Rate(Some((i % 1000) as f64 / 1000.0)),
            Cell::Rate(if i % 10 == 0 { None } else { Some(0.9) }),
            Cell::Change(Some(((i % 200) as f64 - 100.0) / 1000.0)),
            Cell::Number {
                value: Some(60.0 + (i % 400) as f64 / 10.0),
                decimals: 2,
            },
        ]);
    }
    t
}

#[test]
#[ignore]
fn xlsx_100k_rows() {
    let t = big_table(100_000);
    let cells = t.rows.len() * t.columns.len();
    let mut xs = vec![];
    let mut size = 0;
    for _ in 0..5 {
        let s = Instant::now();
        let b = hotline::http::export::xlsx(std::slice::from_ref(&t)).unwrap();
        xs.push(s.elapsed().as_secs_f64() * 1000.0);
        size = b.len();
    }
    let mut cs = vec![];
    let mut csv_size = 0;
    for _ in 0..5 {
        let s = Instant::now();
        let b = hotline::http::export::csv(&t);
        cs.push(s.elapsed().as_secs_f64() * 1000.0);
        csv_size = b.len();
    }
    let (x50, x99) = stats(xs);
    let (c50, c99) = stats(cs);
    println!(
        "| xlsx, 100,000 rows × 12 columns ({cells} cells) | {x50:.0} | {x99:.0} | {:.1} MB |",
        size as f64 / 1e6
    );
    println!(
        "| CSV, the same table | {c50:.0} | {c99:.0} | {:.1} MB |",
        csv_size as f64 / 1e6
    );
    println!("load average: {}", load());
    assert!(size > 1_000_000);
}

#[test]
#[ignore]
fn kpi_reports_on_bench_dir() {
    let Ok(dir) = std::env::var("HOTLINE_BENCH_DIR") else {
        eprintln!("HOTLINE_BENCH_DIR is not set: skipped");
        return;
    };
    use hotline::domain::kpi::Period;
    use hotline::service::reports::GroupBy;
    let cfg = hotline::config::Config::resolve(Some(dir.into()), None, false, false).unwrap();
    let t = Instant::now();
    let svc = hotline::open_services(&cfg).unwrap();
    println!("opened in {:.1} s", t.elapsed().as_secs_f64());
    let leader = svc
        .store
        .users()
        .unwrap()
        .into_iter()
        .find(|u| u.has(hotline::domain::types::Role::Leader))
        .expect("a leader");
    let leader = hotline::service::Actor::new(leader, &svc.dir());
    // The last full month and year of the data: the bench dir's tickets
    // run up to the day it was made.
    let until: jiff::civil::Date = std::env::var("BENCH_UNTIL")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| jiff::Zoned::now().date());
    let last = until.first_of_month().yesterday().unwrap();
    let month = Period::month(last.year(), last.month()).unwrap();
    let year = Period::new(
        last.first_of_month()
            .saturating_sub(jiff::ToSpan::months(11)),
        last,
    )
    .unwrap();
    let runs = 15;
    println!(
        "load average before: {}; month {} – {}, 12 months {} – {}",
        load(),
        month.start,
        month.end,
        year.start,
        year.end
    );
    println!("| report | rows read | groups | median ms | p99 ms |\n|---|---:|---:|---:|---:|");
    for (name, p) in [("month", month), ("12 months", year)] {
        for (gname, g) in [
            ("by unit", GroupBy::Unit { top_level: false }),
            ("by level-2 unit", GroupBy::Unit { top_level: true }),
        ] {
            let mut ms = vec![];
            let mut last = None;
            for _ in 0..runs {
                let s = Instant::now();
                let r = svc.kpis(&leader, p, None, Some(&g)).unwrap();
                ms.push(s.elapsed().as_secs_f64() * 1000.0);
                last = Some(r);
            }
            let r = last.unwrap();
            let (m, p99) = stats(ms);
            println!(
                "| KPIs, {name}, {gname} | {} | {} | {m:.1} | {p99:.1} |",
                r.rows_read,
                r.rows.len()
            );
        }
        let mut ms = vec![];
        let mut n = 0;
        for _ in 0..runs {
            let s = Instant::now();
            let r = svc.ranking(&leader, p).unwrap();
            ms.push(s.elapsed().as_secs_f64() * 1000.0);
            n = r.rows.len();
        }
        let (m, p99) = stats(ms);
        println!("| department ranking, {name} | — | {n} | {m:.1} | {p99:.1} |");
        let mut ms = vec![];
        let mut size = 0;
        for _ in 0..runs {
            let s = Instant::now();
            let r = svc
                .kpis(&leader, p, None, Some(&GroupBy::Unit { top_level: false }))
                .unwrap();
            let tables = hotline::service::kpi_views::kpi_tables(&r, Some("unit"));
            let b = hotline::http::export::xlsx(&tables).unwrap();
            ms.push(s.elapsed().as_secs_f64() * 1000.0);
            size = b.len();
        }
        let (m, p99) = stats(ms);
        println!(
            "| KPIs, {name}, by unit, as .xlsx ({:.0} KB) | — | — | {m:.1} | {p99:.1} |",
            size as f64 / 1e3
        );
    }
    println!("load average after: {}", load());
}
