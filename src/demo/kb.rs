//! The knowledge-base fixture (src/demo/kb/): 331 articles and FAQ pairs of
//! a city hotline, administrator synonyms, and a relevance suite of queries
//! with their expected articles. `hotline demo` loads the articles as
//! published (version 1, keeping the fixture's id as the article's `code`)
//! and the synonyms as the administrator's synonym groups; the search tests
//! map `queries.json` expectations through the codes.

use serde::Deserialize;

use crate::domain::kb::{Article, ArticleState, Content, Kind, Version};
use crate::domain::org::Unit;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::kb::SynonymGroup;

pub const ARTICLES_JSON: &str = include_str!("kb/articles.json");
pub const SYNONYMS_TXT: &str = include_str!("kb/synonyms.txt");
pub const QUERIES_JSON: &str = include_str!("kb/queries.json");

/// One entry of `articles.json`.
#[derive(Clone, Debug, Deserialize)]
pub struct FixtureArticle {
    pub id: String,
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub question: String,
    pub answer: String,
    pub category: String,
    pub department: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    #[serde(default)]
    pub must_read: bool,
}

pub fn fixture_articles() -> Result<Vec<FixtureArticle>> {
    serde_json::from_str(ARTICLES_JSON).map_err(Error::internal)
}

/// The unit a fixture's department names, by name only: the exact name; a
/// level-2 unit's name followed by one of its children's (区公安分局户政管理科
/// → 户政管理科); the name without the district's `区` prefix
/// (区社会保险事业中心 → 社会保险事业中心); a level-2 unit whose name it
/// starts with. Of several departments joined with `、`, the first that
/// maps. `None` when nothing matches (the name is then kept as text).
pub fn map_department(name: &str, units: &[Unit]) -> Option<u32> {
    let by_name = |n: &str| units.iter().find(|u| u.name == n).map(|u| u.id);
    let one = |n: &str| -> Option<u32> {
        let n = n.trim();
        if let Some(id) = by_name(n) {
            return Some(id);
        }
        for p in units.iter().filter(|u| u.parent_id.is_none()) {
            if let Some(rest) = n.strip_prefix(p.name.as_str())
                && !rest.is_empty()
            {
                return units
                    .iter()
                    .find(|c| c.parent_id == Some(p.id) && c.name == rest)
                    .map(|c| c.id)
                    .or(Some(p.id));
            }
        }
        n.strip_prefix('区').and_then(by_name)
    };
    name.split('、').find_map(one)
}

/// Loads the fixture into the store as published articles (version 1 by
/// `by` at `at`) and the synonym groups; returns how many articles.
pub fn load(store: &Store, by: u32, at: i64) -> Result<usize> {
    let units = store.units()?;
    let mut items = vec![];
    for f in fixture_articles()? {
        let date = |s: &Option<String>| -> Result<Option<jiff::civil::Date>> {
            s.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().map_err(Error::internal))
                .transpose()
        };
        let department = map_department(&f.department, &units);
        let kind = Kind::parse(&f.kind).unwrap_or(Kind::Article);
        let content = Content {
            kind,
            title: f.title,
            question: if kind == Kind::Faq {
                f.question
            } else {
                String::new()
            },
            body: f.answer,
            category: f.category,
            department,
            department_name: if department.is_some() {
                String::new()
            } else {
                f.department
            },
            keywords: f.keywords,
            valid_from: date(&f.valid_from)?,
            valid_to: date(&f.valid_to)?,
            must_read: f.must_read,
            attachments: vec![],
        };
        items.push((
            Article {
                id: 0,
                code: f.id,
                content: content.clone(),
                state: ArticleState::Published,
                version: 1,
                created_at: at,
                created_by: by,
                updated_at: at,
                updated_by: by,
            },
            Version {
                article: 0,
                version: 1,
                content,
                author: by,
                editor: by,
                at,
                note: "演示知识库导入 (demo knowledge base)".into(),
                proposal: None,
            },
        ));
    }
    let n = store.kb_import(items)?.len();
    let groups: Vec<SynonymGroup> = crate::service::kb::parse_synonym_lines(SYNONYMS_TXT)
        .into_iter()
        .map(|terms| SynonymGroup {
            terms,
            updated_at: at,
            updated_by: by,
        })
        .collect();
    store.kb_replace_synonyms(&groups)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn unit(id: u32, name: &str, parent: Option<u32>) -> Unit {
        Unit {
            id,
            name: name.into(),
            parent_id: parent,
            enabled: true,
            created_at: 0,
        }
    }

    #[test]
    fn departments_map_by_name() {
        let units = [
            unit(1, "区公安分局", None),
            unit(2, "户政管理科", Some(1)),
            unit(3, "区人力资源和社会保障局", None),
            unit(4, "社会保险事业中心", Some(3)),
            unit(5, "区城市管理局", None),
        ];
        assert_eq!(map_department("区公安分局", &units), Some(1));
        assert_eq!(map_department("区公安分局户政管理科", &units), Some(2));
        assert_eq!(map_department("区公安分局出入境管理大队", &units), Some(1));
        assert_eq!(map_department("区社会保险事业中心", &units), Some(4));
        assert_eq!(
            map_department("区城市管理局、属地街道办事处", &units),
            Some(5)
        );
        assert_eq!(
            map_department("属地街道办事处、区城市管理局", &units),
            Some(5)
        );
        assert_eq!(map_department("区医疗保障局", &units), None);
        assert_eq!(map_department("", &units), None);
    }

    #[test]
    fn the_fixture_parses() {
        let a = fixture_articles().unwrap();
        assert_eq!(a.len(), 331);
        assert_eq!(a[0].id, "kb-0001");
        assert!(a.iter().filter(|x| x.must_read).count() >= 20);
    }

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
