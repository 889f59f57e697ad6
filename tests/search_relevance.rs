//! The relevance suite of the knowledge-base fixture (src/demo/kb/): every
//! query of queries.json against the 331 articles with the synonyms, as an
//! operator searches on the fixture's data date (valid articles only).
//! Prints hit@1 and hit@3 overall and per kind; asserts hit@3 ≥ 0.9 and
//! hit@1 ≥ 0.75.

#[path = "support/relevance.rs"]
mod relevance;

use hotline::search::fixture;
use hotline::search::{SearchIndex, warm};
use relevance::suite;

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
    let (hit1, hit3) = suite("relevance", &s, &queries);
    assert!(hit3 >= 0.9, "hit@3 = {hit3:.3}");
    assert!(hit1 >= 0.75, "hit@1 = {hit1:.3}");
}
