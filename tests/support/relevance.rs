//! The relevance suites' scoring (search_relevance.rs, search_heldout.rs):
//! every query against an index on the fixture's data date, hit@1 and
//! hit@3 overall and per kind, the misses printed.
#![allow(dead_code)]

use std::collections::BTreeMap;

use hotline::search::fixture::{DATA_DATE, FixtureQuery};
use hotline::search::{ArticleQuery, SearchIndex};

/// (hit@1, hit@3), printed with the misses.
pub fn suite(name: &str, s: &SearchIndex, queries: &[FixtureQuery]) -> (f64, f64) {
    let mut per_kind: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let mut misses = Vec::new();
    for q in queries {
        let mut aq = ArticleQuery::new(q.q.clone());
        aq.valid_on = Some(DATA_DATE);
        aq.limit = 3;
        let got: Vec<u64> = s
            .search_articles(&aq)
            .unwrap()
            .hits
            .iter()
            .map(|h| h.id)
            .collect();
        let h1 = got.first().is_some_and(|id| q.expect.contains(id));
        let h3 = got.iter().any(|id| q.expect.contains(id));
        let e = per_kind.entry(q.kind.clone()).or_default();
        e.0 += 1;
        e.1 += u32::from(h1);
        e.2 += u32::from(h3);
        if !h1 {
            misses.push(format!(
                "{} {:<16} expect {:?} got {:?}",
                if h3 { "(top3)" } else { "MISS  " },
                q.q,
                q.expect,
                got
            ));
        }
    }
    let (n, h1, h3) = per_kind
        .values()
        .fold((0, 0, 0), |a, v| (a.0 + v.0, a.1 + v.1, a.2 + v.2));
    println!("{name}: {n} queries");
    for (k, (n, a, b)) in &per_kind {
        println!(
            "  {k:<12} n={n:<3} hit@1={:.3} hit@3={:.3}",
            f64::from(*a) / f64::from(*n),
            f64::from(*b) / f64::from(*n)
        );
    }
    let hit1 = f64::from(h1) / f64::from(n);
    let hit3 = f64::from(h3) / f64::from(n);
    println!("  overall      n={n:<3} hit@1={hit1:.3} hit@3={hit3:.3}");
    for m in &misses {
        println!("  {m}");
    }
    (hit1, hit3)
}
