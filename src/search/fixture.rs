//! The knowledge-base fixture (src/demo/kb/) as search documents: used by
//! the relevance suite and the benchmark.

use jiff::civil::Date;

use super::{ArticleDoc, ArticleKind, parse_synonyms};
use crate::demo::kb::{ARTICLES_JSON, QUERIES_JSON, SYNONYMS_TXT};

/// The fixture's "today": expired and future entries are judged against it.
pub const DATA_DATE: Date = jiff::civil::date(2026, 11, 22);

/// One query of the relevance suite.
#[derive(Clone, Debug)]
pub struct FixtureQuery {
    pub q: String,
    /// Acceptable article ids, best first.
    pub expect: Vec<u64>,
    pub kind: String,
}

/// `kb-0042` → 42; ids of another set (`ho-0042`, the held-out suite)
/// → 100,000 + 42, so that both sets fit in one index.
pub fn article_id(s: &str) -> u64 {
    match s.strip_prefix("kb-") {
        Some(n) => n.parse().unwrap_or(0),
        None => {
            let n: u64 = s
                .trim_start_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .unwrap_or(0);
            100_000 + n
        }
    }
}

fn s(v: &serde_json::Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

/// The 331 fixture articles, all published. Departments get ids 1, 2, …
/// in order of first appearance.
pub fn articles() -> Vec<ArticleDoc> {
    parse_articles(ARTICLES_JSON)
}

/// Articles in the fixture's format (`articles.json`), all published.
pub fn parse_articles(json: &str) -> Vec<ArticleDoc> {
    let raw: Vec<serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    let mut depts: Vec<String> = Vec::new();
    raw.iter()
        .map(|a| {
            let dept = s(a, "department");
            let dept_id = match depts.iter().position(|d| *d == dept) {
                Some(i) => i,
                None => {
                    depts.push(dept.clone());
                    depts.len() - 1
                }
            };
            ArticleDoc {
                id: article_id(&s(a, "id")),
                kind: if s(a, "kind") == "faq" {
                    ArticleKind::Faq
                } else {
                    ArticleKind::Article
                },
                title: s(a, "title"),
                question: s(a, "question"),
                answer: s(a, "answer"),
                category: s(a, "category"),
                department_id: Some(dept_id as u32 + 1),
                department_name: dept,
                keywords: a["keywords"]
                    .as_array()
                    .map(|v| {
                        v.iter()
                            .filter_map(|k| k.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                valid_from: a["valid_from"].as_str().and_then(|d| d.parse().ok()),
                valid_to: a["valid_to"].as_str().and_then(|d| d.parse().ok()),
                published: true,
            }
        })
        .collect()
}

/// The administrator synonyms of the fixture.
pub fn synonyms() -> Vec<Vec<String>> {
    parse_synonyms(SYNONYMS_TXT)
}

/// The relevance suite.
pub fn queries() -> Vec<FixtureQuery> {
    parse_queries(QUERIES_JSON)
}

/// Queries in the fixture's format (`queries.json`).
pub fn parse_queries(json: &str) -> Vec<FixtureQuery> {
    let raw: Vec<serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    raw.iter()
        .map(|q| FixtureQuery {
            q: s(q, "q"),
            expect: q["expect"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .filter_map(|e| e.as_str().map(article_id))
                        .collect()
                })
                .unwrap_or_default(),
            kind: s(q, "kind"),
        })
        .collect()
}
