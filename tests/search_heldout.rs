//! The held-out relevance suite (tests/fixtures/heldout/): 20 articles
//! without keywords and 50 queries written apart from the engine, by
//! someone who never read its code, synonyms or tests (see the README
//! there). Run (a) alone in an empty index and (b) beside the 331 demo
//! articles with the demo synonyms, as distractors. Both assert hit@3 ≥ 0.9
//! and hit@1 ≥ 0.75, and print the figures per kind and the misses.

#[path = "support/relevance.rs"]
mod relevance;

use hotline::search::fixture::{self, FixtureQuery};
use hotline::search::{ArticleDoc, SearchIndex, warm};
use relevance::suite;

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
