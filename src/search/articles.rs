//! The knowledge-base index: articles and FAQ pairs.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use jiff::civil::Date;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use super::query::{Analysis, MAX_QUERY_CHARS, analyze};
use super::snippet::{highlight_all, snippet};
use super::tokenize::{BIGRAMS, WORDS, bigrams, plain_words, title_terms};
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
    /// How many articles match (all pages) when `total_exact`; otherwise
    /// at least this many (the page is full and the rest was not counted).
    pub total: usize,
    pub total_exact: bool,
    pub hits: Vec<ArticleHit>,
}

/// Where the time of one search went.
#[derive(Clone, Copy, Debug, Default)]
pub struct SearchTiming {
    /// Query analysis (jieba, synonyms, pinyin, typos) and building the query.
    pub analyze: Duration,
    /// Running the query: matching, scoring, counting.
    pub collect: Duration,
    /// Reading the stored fields of the hits and making the snippets.
    pub hits: Duration,
}

/// How a search collects its hits (the benchmark compares them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Collect {
    /// Top hits and an exact count in one pass (scores every match).
    ExactCount,
    /// Top hits only.
    TopOnly,
    /// Top hits, then a separate unscored count.
    TopThenCount,
    /// Top hits of the text query with the filters checked per candidate
    /// (lets tantivy prune); an exact total only below `k`.
    #[default]
    Pruned,
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

/// Field weights. Each query term scores by its best field (BM25 within
/// that field, so with that field's own length normalisation) plus
/// [`TIE`] × its other fields: a term found in both the title and the
/// keywords counts hardly more than one found in the title alone, so an
/// article imported without keywords ranks like a curated one for the
/// same words. The title counts most, then the FAQ question and the
/// keywords, then the answer.
const B_TITLE: f32 = 3.0;
const B_KW: f32 = 2.0;
const B_KW_EXACT: f32 = 2.0;
const B_QUESTION: f32 = 2.0;
const B_ANSWER: f32 = 1.0;
const B_DEPT_NAME: f32 = 0.5;
/// Bigram fields: lower, they back up the words.
const B_TITLE_BI: f32 = 0.6;
const B_BODY_BI: f32 = 0.25;
/// Share of a term's other fields beside its best one.
const TIE: f32 = 0.15;

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
    for w in title_terms(&a.title) {
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

/// A hit in the top-k heap: the lowest score on top, and of equal scores
/// the later document (so an earlier one is never displaced by a tie,
/// as with tantivy's `TopDocs`).
#[derive(Clone, Copy, PartialEq)]
struct Ranked(f32, DocAddress);

impl Eq for Ranked {}

impl Ord for Ranked {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.0.total_cmp(&self.0).then_with(|| self.1.cmp(&o.1))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// The `k` best documents for `text` that pass every filter, best first.
///
/// The filters are checked only for documents that could enter the top
/// `k`, so tantivy may skip blocks of postings that cannot (block-WAND,
/// when the text query is a union of plain term queries); as clauses of the
/// query they would make it score every match.
fn top_filtered(
    searcher: &Searcher,
    text: &dyn Query,
    filters: &[Box<dyn Query>],
    k: usize,
) -> Result<Vec<(f32, DocAddress)>> {
    use tantivy::DocSet;
    use tantivy::query::EnableScoring;
    let weight = text.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let fweights = filters
        .iter()
        .map(|f| f.weight(EnableScoring::disabled_from_searcher(searcher)))
        .collect::<tantivy::Result<Vec<_>>>()?;
    let mut heap: std::collections::BinaryHeap<Ranked> =
        std::collections::BinaryHeap::with_capacity(k + 1);
    let mut threshold = f32::MIN;
    for (ord, seg) in searcher.segment_readers().iter().enumerate() {
        let alive = seg.alive_bitset();
        let mut fs = fweights
            .iter()
            .map(|w| w.scorer(seg, 1.0))
            .collect::<tantivy::Result<Vec<_>>>()?;
        weight.for_each_pruning(threshold, seg, &mut |doc, score| {
            // Documents come in increasing order: each filter only seeks
            // forward.
            let pass = alive.is_none_or(|a| a.is_alive(doc))
                && fs.iter_mut().all(|f| {
                    if f.doc() < doc {
                        f.seek(doc);
                    }
                    f.doc() == doc
                });
            if pass {
                heap.push(Ranked(score, DocAddress::new(ord as u32, doc)));
                if heap.len() > k {
                    heap.pop();
                }
                if heap.len() == k {
                    threshold = heap.peek().map_or(f32::MIN, |r| r.0);
                }
            }
            threshold
        })?;
    }
    let mut v: Vec<(f32, DocAddress)> = heap.into_iter().map(|r| (r.0, r.1)).collect();
    v.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(v)
}

impl Fields {
    /// The filters of a query (they do not score).
    fn filters(&self, q: &ArticleQuery) -> Vec<Box<dyn Query>> {
        let mut out: Vec<Box<dyn Query>> = vec![];
        if !q.include_unpublished {
            out.push(Box::new(TermQuery::new(
                Term::from_field_u64(self.published, 1),
                IndexRecordOption::Basic,
            )));
        }
        if let Some(c) = &q.category
            && let Some(c) = category_prefixes(c).pop()
        {
            out.push(Box::new(TermQuery::new(
                Term::from_field_text(self.cat, &c),
                IndexRecordOption::Basic,
            )));
        }
        if let Some(d) = q.department_id {
            out.push(Box::new(TermQuery::new(
                Term::from_field_u64(self.dept, u64::from(d)),
                IndexRecordOption::Basic,
            )));
        }
        if let Some(k) = q.kind {
            out.push(Box::new(TermQuery::new(
                Term::from_field_u64(self.kind, k.code()),
                IndexRecordOption::Basic,
            )));
        }
        if let Some(d) = q.valid_on {
            let d = day(d);
            out.push(Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(self.valid_from, d)),
            )));
            out.push(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_i64(self.valid_to, d)),
                Bound::Unbounded,
            )));
        }
        out
    }

    /// The scoring part: per query term the best of its fields (see
    /// [`TIE`]), summed over the terms.
    fn text_query(&self, a: &Analysis) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut push = |parts: Vec<Box<dyn Query>>| {
            if let Some(q) = dismax(parts) {
                clauses.push((Occur::Should, q));
            }
        };
        for (t, &w) in &a.words {
            push(vec![
                term_q(self.title, t, w * B_TITLE),
                term_q(self.kw, t, w * B_KW),
                term_q(self.question, t, w * B_QUESTION),
                term_q(self.answer, t, w * B_ANSWER),
                term_q(self.dept_name, t, w * B_DEPT_NAME),
            ]);
        }
        for (t, &w) in &a.bigrams {
            push(vec![
                term_q(self.title_bi, t, w * B_TITLE_BI),
                term_q(self.body_bi, t, w * B_BODY_BI),
            ]);
        }
        for (t, &w) in &a.concepts {
            let ws: Vec<String> = plain_words(t);
            let mut parts = vec![term_q(self.kw_exact, t, w * B_KW_EXACT)];
            for (field, boost) in [
                (self.title, B_TITLE),
                (self.kw, B_KW),
                (self.question, B_QUESTION),
                (self.answer, B_ANSWER),
            ] {
                parts.extend(all_of(field, &ws, w * boost));
            }
            push(parts);
            let bs: Vec<String> = bigrams(t).into_iter().map(|b| b.text).collect();
            let mut parts = vec![];
            for (field, boost) in [(self.title_bi, B_TITLE_BI), (self.body_bi, B_BODY_BI)] {
                parts.extend(all_of(field, &bs, w * boost));
            }
            push(parts);
        }
        BooleanQuery::new(clauses)
    }
}

/// Weighs the query's words and bigrams by how specific they are in this
/// knowledge base: a term's weight is multiplied by its idf over the
/// highest idf among the query's terms (at least [`MIN_SPECIFICITY`]).
/// BM25 already counts idf once; counting it twice keeps a common word
/// (小区, 办理) from outweighing the word that says what the call is about
/// (停水) when the common one happens to be in a title.
fn sharpen(searcher: &Searcher, f: &Fields, a: &mut Analysis) {
    let n = searcher.num_docs() as f32;
    if n < 1.0 {
        return;
    }
    let idf = |df: u64| ((n - df as f32 + 0.5) / (df as f32 + 0.5) + 1.0).ln();
    let df = |fields: &[Field], t: &str| {
        fields
            .iter()
            .map(|&fld| {
                searcher
                    .doc_freq(&Term::from_field_text(fld, t))
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    };
    let weigh = |map: &mut HashMap<String, f32>, fields: &[Field]| {
        let idfs: Vec<(String, f32)> = map
            .keys()
            .filter_map(|t| {
                let d = df(fields, t);
                (d > 0).then(|| (t.clone(), idf(d)))
            })
            .collect();
        let max = idfs.iter().map(|x| x.1).fold(0.0f32, f32::max);
        if max <= 0.0 {
            return;
        }
        for (t, i) in idfs {
            if let Some(w) = map.get_mut(&t) {
                *w *= (i / max)
                    .powf(SPECIFICITY_POWER)
                    .clamp(MIN_SPECIFICITY, 1.0);
            }
        }
    };
    weigh(&mut a.words, &[f.title, f.answer, f.question]);
    weigh(&mut a.bigrams, &[f.title_bi, f.body_bi]);
}

/// Lowest specificity factor of [`sharpen`], and its exponent.
const MIN_SPECIFICITY: f32 = 0.25;
const SPECIFICITY_POWER: f32 = 1.5;

/// Hits scoring below this share of the best hit are not answers to the
/// question but to one of its side words (小区 in 我家小区停水): they are
/// left out of the first page.
const MIN_RELATIVE_SCORE: f32 = 0.25;

/// The best of `parts` plus [`TIE`] × the others.
fn dismax(mut parts: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Box::new(DisjunctionMaxQuery::with_tie_breaker(
            parts,
            tantivy::Score::from(TIE),
        ))),
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
        let mut a = analyze(
            text,
            MAX_QUERY_CHARS,
            &self.synonyms_arc(),
            &self.lexicon_arc(),
            &self.learned(),
            &indexed,
        );
        sharpen(searcher, &f, &mut a);
        a
    }

    /// Searches the knowledge base. Any text is accepted; text without any
    /// searchable term gives an empty result.
    pub fn search_articles(&self, q: &ArticleQuery) -> Result<ArticleResults> {
        Ok(self.search_articles_timed(q, Collect::default())?.0)
    }

    /// [`search_articles`](Self::search_articles) with the time of each
    /// phase and a choice of collection (for the benchmark).
    pub fn search_articles_timed(
        &self,
        q: &ArticleQuery,
        how: Collect,
    ) -> Result<(ArticleResults, SearchTiming)> {
        let mut timing = SearchTiming::default();
        let t0 = Instant::now();
        let searcher = self.articles.reader.searcher();
        let a = self.analyze_with(&searcher, &q.text);
        let limit = q.limit.min(MAX_LIMIT);
        if a.is_empty() || limit == 0 {
            timing.analyze = t0.elapsed();
            let none = ArticleResults {
                total_exact: true,
                ..Default::default()
            };
            return Ok((none, timing));
        }
        let f = self.af;
        let text = f.text_query(&a);
        let filters = f.filters(q);
        let terms = a.highlight_terms();
        let t1 = Instant::now();
        timing.analyze = t1 - t0;
        let k = limit + q.offset;
        let (top, total, total_exact) = match how {
            Collect::Pruned => {
                let all = top_filtered(&searcher, &text, &filters, k)?;
                // Fewer than asked for: that is every match.
                let (n, exact) = (all.len(), all.len() < k);
                (all.into_iter().skip(q.offset).collect(), n, exact)
            }
            _ => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(text))];
                clauses.extend(filters.into_iter().map(filter));
                let query = BooleanQuery::new(clauses);
                let top_docs = TopDocs::with_limit(limit)
                    .and_offset(q.offset)
                    .order_by_score();
                match how {
                    Collect::TopOnly => {
                        let top = searcher.search(&query, &top_docs)?;
                        let n = q.offset + top.len();
                        let exact = top.len() < limit && (q.offset == 0 || !top.is_empty());
                        (top, n, exact)
                    }
                    Collect::TopThenCount => {
                        let top = searcher.search(&query, &top_docs)?;
                        let n = searcher.search(&query, &Count)?;
                        (top, n, true)
                    }
                    _ => {
                        let (top, n) = searcher.search(&query, &(top_docs, Count))?;
                        (top, n, true)
                    }
                }
            }
        };
        let (top, total, total_exact) = match top.first() {
            Some(&(best, _)) if q.offset == 0 => {
                let keep: Vec<(f32, DocAddress)> = top
                    .iter()
                    .copied()
                    .filter(|(s, _)| *s >= best * MIN_RELATIVE_SCORE)
                    .collect();
                if keep.len() < top.len() {
                    (keep.clone(), keep.len(), true)
                } else {
                    (top, total, total_exact)
                }
            }
            _ => (top, total, total_exact),
        };
        let t2 = Instant::now();
        timing.collect = t2 - t1;
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            hits.push(self.hit(&searcher, addr, score, &terms)?);
        }
        timing.hits = t2.elapsed();
        Ok((
            ArticleResults {
                total,
                total_exact,
                hits,
            },
            timing,
        ))
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
