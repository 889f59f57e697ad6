//! The knowledge-base index: articles and FAQ pairs.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::atomic::Ordering;

use jiff::civil::Date;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use super::query::{Analysis, MAX_QUERY_CHARS, analyze};
use super::snippet::{highlight_all, snippet};
use super::tokenize::{BIGRAMS, WORDS, bigrams, plain_words};
use super::{Result, SearchIndex};

/// Article or FAQ pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ArticleKind {
    #[default]
    Article,
    Faq,
}

impl ArticleKind {
    fn code(self) -> u64 {
        match self {
            ArticleKind::Article => 0,
            ArticleKind::Faq => 1,
        }
    }
}

/// What the index needs of an article.
#[derive(Clone, Debug, Default)]
pub struct ArticleDoc {
    pub id: u64,
    pub kind: ArticleKind,
    pub title: String,
    /// The caller's question of a FAQ pair; empty for articles.
    pub question: String,
    pub answer: String,
    /// Category path, levels separated by `/`: `社会保障/社保卡`.
    pub category: String,
    pub department_id: Option<u32>,
    pub department_name: String,
    pub keywords: Vec<String>,
    /// First day the article is valid; `None`: always was.
    pub valid_from: Option<Date>,
    /// Last day the article is valid; `None`: open-ended.
    pub valid_to: Option<Date>,
    pub published: bool,
}

/// A knowledge-base search.
#[derive(Clone, Debug)]
pub struct ArticleQuery {
    /// What the user typed (any text; truncated to
    /// [`MAX_QUERY_CHARS`](super::query::MAX_QUERY_CHARS) characters).
    pub text: String,
    /// Only articles in this category or below it (`社会保障` matches
    /// `社会保障/社保卡`).
    pub category: Option<String>,
    pub department_id: Option<u32>,
    pub kind: Option<ArticleKind>,
    /// Only articles valid on this day (operators: today). `None`: any
    /// validity, e.g. for editors who look for expired articles.
    pub valid_on: Option<Date>,
    /// Include unpublished articles (drafts; editors only).
    pub include_unpublished: bool,
    /// Number of hits to return (capped at 100).
    pub limit: usize,
    /// Hits to skip (paging).
    pub offset: usize,
}

impl ArticleQuery {
    /// A query for published articles with no other filter, top 10.
    pub fn new(text: impl Into<String>) -> ArticleQuery {
        ArticleQuery {
            text: text.into(),
            category: None,
            department_id: None,
            kind: None,
            valid_on: None,
            include_unpublished: false,
            limit: 10,
            offset: 0,
        }
    }
}

/// One search hit. The `*_html` fields are HTML-escaped text with
/// `<mark>…</mark>` around the matched terms: insert them as markup.
#[derive(Clone, Debug, PartialEq)]
pub struct ArticleHit {
    pub id: u64,
    pub score: f32,
    pub title_html: String,
    /// The FAQ question, highlighted; empty for articles.
    pub question_html: String,
    /// About 120 characters of the answer around the best hits.
    pub snippet_html: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArticleResults {
    /// How many articles match (all pages).
    pub total: usize,
    pub hits: Vec<ArticleHit>,
}

#[derive(Clone, Copy)]
pub(super) struct Fields {
    id: Field,
    kind: Field,
    title: Field,
    title_bi: Field,
    question: Field,
    answer: Field,
    body_bi: Field,
    kw: Field,
    dept_name: Field,
    kw_exact: Field,
    lex: Field,
    cat: Field,
    dept: Field,
    published: Field,
    valid_from: Field,
    valid_to: Field,
}

/// Field boosts: a hit in the title counts most, then keywords, the FAQ
/// question, the answer.
const B_TITLE: f32 = 3.0;
const B_KW: f32 = 2.5;
const B_KW_EXACT: f32 = 2.0;
const B_QUESTION: f32 = 1.5;
const B_ANSWER: f32 = 1.0;
const B_DEPT_NAME: f32 = 0.5;
/// Bigram fields: lower, they back up the words.
const B_TITLE_BI: f32 = 0.6;
const B_BODY_BI: f32 = 0.25;

const SNIPPET_CHARS: usize = 120;
const MAX_LIMIT: usize = 100;

fn text_opts(tokenizer: &str, stored: bool) -> TextOptions {
    let o = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    if stored { o.set_stored() } else { o }
}

pub(super) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let f = Fields {
        id: b.add_u64_field("id", INDEXED | tantivy::schema::FAST),
        kind: b.add_u64_field("kind", INDEXED),
        title: b.add_text_field("title", text_opts(WORDS, true)),
        title_bi: b.add_text_field("title_bi", text_opts(BIGRAMS, false)),
        question: b.add_text_field("question", text_opts(WORDS, true)),
        answer: b.add_text_field("answer", text_opts(WORDS, true)),
        body_bi: b.add_text_field("body_bi", text_opts(BIGRAMS, false)),
        kw: b.add_text_field("kw", text_opts(WORDS, false)),
        dept_name: b.add_text_field("dept_name", text_opts(WORDS, false)),
        kw_exact: b.add_text_field("kw_exact", STRING),
        lex: b.add_text_field("lex", STRING),
        cat: b.add_text_field("cat", STRING),
        dept: b.add_u64_field("dept", INDEXED),
        published: b.add_u64_field("published", INDEXED),
        valid_from: b.add_i64_field("valid_from", INDEXED | tantivy::schema::FAST),
        valid_to: b.add_i64_field("valid_to", INDEXED | tantivy::schema::FAST),
    };
    (b.build(), f)
}

fn day(d: Date) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// Category path prefixes: `a/b/c` → `a`, `a/b`, `a/b/c`.
fn category_prefixes(path: &str) -> Vec<String> {
    let parts: Vec<&str> = path
        .split('/')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    (1..=parts.len()).map(|n| parts[..n].join("/")).collect()
}

fn to_doc(f: &Fields, a: &ArticleDoc) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    d.add_u64(f.id, a.id);
    d.add_u64(f.kind, a.kind.code());
    d.add_text(f.title, &a.title);
    d.add_text(f.title_bi, &a.title);
    d.add_text(f.question, &a.question);
    d.add_text(f.answer, &a.answer);
    d.add_text(f.body_bi, &a.question);
    d.add_text(f.body_bi, &a.answer);
    for k in &a.keywords {
        let k = k.trim();
        if k.is_empty() {
            continue;
        }
        d.add_text(f.kw, k);
        d.add_text(f.kw_exact, k.to_ascii_lowercase());
        d.add_text(f.lex, k.to_ascii_lowercase());
    }
    for w in plain_words(&a.title) {
        d.add_text(f.lex, w);
    }
    for c in category_prefixes(&a.category) {
        d.add_text(f.cat, c);
    }
    if let Some(dep) = a.department_id {
        d.add_u64(f.dept, u64::from(dep));
    }
    d.add_text(f.dept_name, &a.department_name);
    d.add_u64(f.published, u64::from(a.published));
    d.add_i64(f.valid_from, a.valid_from.map_or(i64::MIN, day));
    d.add_i64(f.valid_to, a.valid_to.map_or(i64::MAX, day));
    d
}

/// The known terms of the article index (for the pinyin dictionary) with
/// the number of articles using each.
pub(super) fn known_terms(searcher: &Searcher, f: &Fields) -> Result<Vec<(String, u32)>> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for seg in searcher.segment_readers() {
        let inv = seg.inverted_index(f.lex)?;
        let mut s = inv.terms().stream()?;
        while s.advance() {
            if let Ok(t) = std::str::from_utf8(s.key()) {
                *counts.entry(t.to_string()).or_default() += s.value().doc_freq;
            }
        }
    }
    Ok(counts.into_iter().collect())
}

fn term_q(field: Field, text: &str, boost: f32) -> Box<dyn Query> {
    let q = TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    );
    Box::new(BoostQuery::new(Box::new(q), boost))
}

/// Documents with all `terms` in `field`, scored as their sum × `boost`.
fn all_of(field: Field, terms: &[String], boost: f32) -> Option<Box<dyn Query>> {
    match terms {
        [] => None,
        [t] => Some(term_q(field, t, boost)),
        _ => {
            let mut ts = terms.to_vec();
            ts.sort();
            ts.dedup();
            let must = ts
                .iter()
                .map(|t| (Occur::Must, term_q(field, t, 1.0)))
                .collect();
            // Sum of the parts: scale so a two-part term weighs like one word.
            let scale = boost / ts.len() as f32 * 1.5;
            Some(Box::new(BoostQuery::new(
                Box::new(BooleanQuery::new(must)),
                scale,
            )))
        }
    }
}

fn filter(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

impl Fields {
    /// The scoring part: one flat disjunction of boosted term queries.
    fn text_query(&self, a: &Analysis) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (t, &w) in &a.words {
            clauses.push((Occur::Should, term_q(self.title, t, w * B_TITLE)));
            clauses.push((Occur::Should, term_q(self.kw, t, w * B_KW)));
            clauses.push((Occur::Should, term_q(self.question, t, w * B_QUESTION)));
            clauses.push((Occur::Should, term_q(self.answer, t, w * B_ANSWER)));
            clauses.push((Occur::Should, term_q(self.dept_name, t, w * B_DEPT_NAME)));
        }
        for (t, &w) in &a.bigrams {
            clauses.push((Occur::Should, term_q(self.title_bi, t, w * B_TITLE_BI)));
            clauses.push((Occur::Should, term_q(self.body_bi, t, w * B_BODY_BI)));
        }
        for (t, &w) in &a.concepts {
            clauses.push((Occur::Should, term_q(self.kw_exact, t, w * B_KW_EXACT)));
            let ws: Vec<String> = plain_words(t);
            for (field, boost) in [
                (self.title, B_TITLE),
                (self.kw, B_KW),
                (self.question, B_QUESTION),
                (self.answer, B_ANSWER),
            ] {
                if let Some(q) = all_of(field, &ws, w * boost) {
                    clauses.push((Occur::Should, q));
                }
            }
            let bs: Vec<String> = bigrams(t).into_iter().map(|b| b.text).collect();
            for (field, boost) in [(self.title_bi, B_TITLE_BI), (self.body_bi, B_BODY_BI)] {
                if let Some(q) = all_of(field, &bs, w * boost) {
                    clauses.push((Occur::Should, q));
                }
            }
        }
        BooleanQuery::new(clauses)
    }
}

impl SearchIndex {
    /// Adds or replaces an article (by id). Visible after [`commit`](Self::commit).
    pub fn upsert_article(&self, a: &ArticleDoc) -> Result<()> {
        let w = self.articles.writer();
        w.delete_term(Term::from_field_u64(self.af.id, a.id));
        w.add_document(to_doc(&self.af, a))?;
        self.articles.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Removes an article. Visible after [`commit`](Self::commit).
    pub fn delete_article(&self, id: u64) -> Result<()> {
        self.articles
            .writer()
            .delete_term(Term::from_field_u64(self.af.id, id));
        self.articles.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Analyses a knowledge-base query (for tests and diagnostics).
    pub fn analyze_article_query(&self, text: &str) -> Analysis {
        let searcher = self.articles.reader.searcher();
        self.analyze_with(&searcher, text)
    }

    fn analyze_with(&self, searcher: &Searcher, text: &str) -> Analysis {
        let f = self.af;
        let indexed = |w: &str| {
            [f.title, f.answer, f.kw].iter().any(|&fld| {
                searcher
                    .doc_freq(&Term::from_field_text(fld, w))
                    .unwrap_or(0)
                    > 0
            })
        };
        analyze(
            text,
            MAX_QUERY_CHARS,
            &self.synonyms_arc(),
            &self.lexicon_arc(),
            &indexed,
        )
    }

    /// Searches the knowledge base. Any text is accepted; text without any
    /// searchable term gives an empty result.
    pub fn search_articles(&self, q: &ArticleQuery) -> Result<ArticleResults> {
        let searcher = self.articles.reader.searcher();
        let a = self.analyze_with(&searcher, &q.text);
        let limit = q.limit.min(MAX_LIMIT);
        if a.is_empty() || limit == 0 {
            return Ok(ArticleResults::default());
        }
        let f = self.af;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(f.text_query(&a)))];
        if !q.include_unpublished {
            clauses.push(filter(Box::new(TermQuery::new(
                Term::from_field_u64(f.published, 1),
                IndexRecordOption::Basic,
            ))));
        }
        if let Some(c) = &q.category
            && let Some(c) = category_prefixes(c).pop()
        {
            clauses.push(filter(Box::new(TermQuery::new(
                Term::from_field_text(f.cat, &c),
                IndexRecordOption::Basic,
            ))));
        }
        if let Some(d) = q.department_id {
            clauses.push(filter(Box::new(TermQuery::new(
                Term::from_field_u64(f.dept, u64::from(d)),
                IndexRecordOption::Basic,
            ))));
        }
        if let Some(k) = q.kind {
            clauses.push(filter(Box::new(TermQuery::new(
                Term::from_field_u64(f.kind, k.code()),
                IndexRecordOption::Basic,
            ))));
        }
        if let Some(d) = q.valid_on {
            let d = day(d);
            clauses.push(filter(Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(f.valid_from, d)),
            ))));
            clauses.push(filter(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_i64(f.valid_to, d)),
                Bound::Unbounded,
            ))));
        }
        let query = BooleanQuery::new(clauses);
        let collector = (
            TopDocs::with_limit(limit)
                .and_offset(q.offset)
                .order_by_score(),
            Count,
        );
        let (top, total) = searcher.search(&query, &collector)?;
        let terms = a.highlight_terms();
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            hits.push(self.hit(&searcher, addr, score, &terms)?);
        }
        Ok(ArticleResults { total, hits })
    }

    fn hit(
        &self,
        searcher: &Searcher,
        addr: DocAddress,
        score: f32,
        terms: &[String],
    ) -> Result<ArticleHit> {
        let f = self.af;
        let seg = searcher.segment_reader(addr.segment_ord);
        let id = seg
            .fast_fields()
            .u64("id")?
            .first(addr.doc_id)
            .unwrap_or_default();
        let doc: TantivyDocument = searcher.doc(addr)?;
        let text = |fld: Field| {
            doc.get_first(fld)
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        Ok(ArticleHit {
            id,
            score,
            title_html: highlight_all(&text(f.title), terms),
            question_html: highlight_all(&text(f.question), terms),
            snippet_html: snippet(&text(f.answer), terms, SNIPPET_CHARS),
        })
    }
}
