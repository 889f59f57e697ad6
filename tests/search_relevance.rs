//! The relevance suite of the knowledge-base fixture (src/demo/kb/): every
//! query of queries.json against the 331 articles with the synonyms, as an
//! operator searches on the fixture's data date (valid articles only).
//! Prints hit@1 and hit@3 overall and per kind; asserts hit@3 ≥ 0.9 and
//! hit@1 ≥ 0.75.

use std::collections::BTreeMap;

use hotline::search::fixture::{self, DATA_DATE};
use hotline::search::{ArticleQuery, SearchIndex, warm};

#[test]
fn relevance_suite() {
    warm();
    let s = SearchIndex::open_in_ram().unwrap();
    let articles = fixture::articles();
    assert_eq!(articles.len(), 331);
    for a in &articles {
        s.upsert_article(a).unwrap();
    }
    s.set_synonyms(fixture::synonyms());
    s.commit().unwrap();

    let queries = fixture::queries();
    assert_eq!(queries.len(), 85);
    // kind → (queries, hit@1, hit@3)
    let mut per_kind: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let mut misses = Vec::new();
    for q in &queries {
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
    println!("relevance: {n} queries");
    for (k, (n, a, b)) in &per_kind {
        println!(
            "  {k:<11} n={n:<3} hit@1={:.3} hit@3={:.3}",
            f64::from(*a) / f64::from(*n),
            f64::from(*b) / f64::from(*n)
        );
    }
    let hit1 = f64::from(h1) / f64::from(n);
    let hit3 = f64::from(h3) / f64::from(n);
    println!("  overall     n={n:<3} hit@1={hit1:.3} hit@3={hit3:.3}");
    for m in &misses {
        println!("  {m}");
    }
    assert!(hit3 >= 0.9, "hit@3 = {hit3:.3}");
    assert!(hit1 >= 0.75, "hit@1 = {hit1:.3}");
}
