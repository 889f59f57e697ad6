//! The knowledge-base fixture (src/demo/kb/): 331 articles and FAQ pairs of
//! a city hotline, administrator synonyms, and a relevance suite of queries
//! with their expected articles. Loaded by the demo and by the search tests
//! once the knowledge base exists (issue 4); for now only checked here.

pub const ARTICLES_JSON: &str = include_str!("kb/articles.json");
pub const SYNONYMS_TXT: &str = include_str!("kb/synonyms.txt");
pub const QUERIES_JSON: &str = include_str!("kb/queries.json");

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn fixture_is_consistent() {
        let articles: Vec<serde_json::Value> = serde_json::from_str(ARTICLES_JSON).unwrap();
        assert!(articles.len() >= 300, "{}", articles.len());
        let mut ids = HashSet::new();
        for a in &articles {
            let id = a["id"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "duplicate {id}");
            for f in ["title", "answer", "category", "department"] {
                assert!(!a[f].as_str().unwrap_or("").is_empty(), "{id}.{f}");
            }
            assert!(
                matches!(a["kind"].as_str(), Some("article" | "faq")),
                "{id}"
            );
            assert!(
                a["valid_from"]
                    .as_str()
                    .unwrap()
                    .parse::<jiff::civil::Date>()
                    .is_ok(),
                "{id}"
            );
        }
        let queries: Vec<serde_json::Value> = serde_json::from_str(QUERIES_JSON).unwrap();
        assert!(queries.len() >= 60);
        for q in &queries {
            for e in q["expect"].as_array().unwrap() {
                assert!(
                    ids.contains(e.as_str().unwrap()),
                    "query {} expects unknown {e}",
                    q["q"]
                );
            }
        }
        let groups: Vec<&str> = SYNONYMS_TXT
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(groups.len() >= 40);
        assert!(groups.iter().all(|g| g.split(',').count() >= 2));
    }
}
