//! The held-out relevance suite (tests/fixtures/heldout/): 20 articles
//! without keywords and 50 queries written apart from the engine, by
//! someone who never read its code, synonyms or tests (see the README
//! there). Run (a) alone in an empty index and (b) beside the 331 demo
//! articles with the demo synonyms, as distractors. Both assert hit@3 ≥ 0.9
//! and hit@1 ≥ 0.75, and print the figures per kind and the misses.

use std::collections::BTreeMap;

use hotline::search::fixture::{self, DATA_DATE, FixtureQuery};
use hotline::search::{ArticleDoc, ArticleQuery, SearchIndex, warm};

const ARTICLES: &str = include_str!("fixtures/heldout/heldout_articles.json");
const QUERIES: &str = include_str!("fixtures/heldout/heldout_queries.json");

fn heldout() -> (Vec<ArticleDoc>, Vec<FixtureQuery>) {
    let a = fixture::parse_articles(ARTICLES);
    let q = fixture::parse_queries(QUERIES);
    assert_eq!(a.len(), 20);
    assert_eq!(q.len(), 50);
    assert!(a.iter().all(|a| a.keywords.is_empty() && a.id > 100_000));
    (a, q)
}

/// (hit@1, hit@3), printed with the misses.
fn suite(name: &str, s: &SearchIndex, queries: &[FixtureQuery]) -> (f64, f64) {
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

#[test]
fn heldout_alone_in_an_empty_index() {
    warm();
    let (articles, queries) = heldout();
    let s = SearchIndex::open_in_ram().unwrap();
    for a in &articles {
        s.upsert_article(a).unwrap();
    }
    s.commit().unwrap();
    let (hit1, hit3) = suite("held-out alone", &s, &queries);
    assert!(hit3 >= 0.9, "hit@3 = {hit3:.3}");
    assert!(hit1 >= 0.75, "hit@1 = {hit1:.3}");
}

#[test]
fn heldout_beside_the_demo_articles() {
    warm();
    let (articles, queries) = heldout();
    let s = SearchIndex::open_in_ram().unwrap();
    let demo = fixture::articles();
    assert_eq!(demo.len(), 331);
    for a in demo.iter().chain(&articles) {
        s.upsert_article(a).unwrap();
    }
    s.set_synonyms(fixture::synonyms());
    s.commit().unwrap();
    let (hit1, hit3) = suite("held-out beside 331 demo articles", &s, &queries);
    assert!(hit3 >= 0.9, "hit@3 = {hit3:.3}");
    assert!(hit1 >= 0.75, "hit@1 = {hit1:.3}");
}
