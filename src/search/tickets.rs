//! The ticket index: word search for the ticket list and "similar past
//! cases" for the intake page.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::atomic::Ordering;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Order, TantivyDocument, Term};

use super::query::{clean, is_stopword};
use super::tokenize::{BIGRAMS, WORDS, bigrams, is_cjk, words};
use super::{Result, SearchIndex};

/// What the index needs of a ticket.
#[derive(Clone, Debug, Default)]
pub struct TicketDoc {
    pub number: u64,
    pub title: String,
    pub content: String,
    /// The reply / answer text.
    pub answer: String,
    pub address: String,
    /// Creation time, unix seconds.
    pub created: i64,
}

#[derive(Clone, Copy)]
pub(super) struct Fields {
    number: Field,
    created: Field,
    title: Field,
    body: Field,
    bi: Field,
}

/// Most words in a ticket word search; more are ignored.
const MAX_WORDS: usize = 16;
/// Text considered for similar tickets, in characters.
const SIMILAR_CHARS: usize = 600;
/// Most (rarest) terms of the text used to find similar tickets.
const SIMILAR_TERMS: usize = 24;
const MAX_LIMIT: usize = 1000;

pub(super) fn schema() -> (Schema, Fields) {
    let opts = |tok: &str, rec: IndexRecordOption| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tok)
                .set_index_option(rec),
        )
    };
    let mut b = Schema::builder();
    let f = Fields {
        number: b.add_u64_field("number", INDEXED | FAST),
        created: b.add_i64_field("created", FAST),
        title: b.add_text_field("title", opts(WORDS, IndexRecordOption::WithFreqs)),
        body: b.add_text_field("body", opts(WORDS, IndexRecordOption::WithFreqs)),
        bi: b.add_text_field("bi", opts(BIGRAMS, IndexRecordOption::Basic)),
    };
    (b.build(), f)
}

fn to_doc(f: &Fields, t: &TicketDoc) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    d.add_u64(f.number, t.number);
    d.add_i64(f.created, t.created);
    d.add_text(f.title, &t.title);
    for s in [&t.content, &t.answer, &t.address] {
        d.add_text(f.body, s);
    }
    for s in [&t.title, &t.content, &t.answer, &t.address] {
        d.add_text(f.bi, s);
    }
    d
}

fn term(field: Field, text: &str, rec: IndexRecordOption) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), rec))
}

impl Fields {
    /// Documents that contain `word`: all its character bigrams (for
    /// Chinese this is "contains the word"), or all its jieba words.
    fn word_query(&self, word: &str) -> Option<Box<dyn Query>> {
        let bi: Vec<String> = bigrams(word).into_iter().map(|t| t.text).collect();
        let ws: Vec<String> = words(word).into_iter().map(|t| t.text).collect();
        let mut alts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if !bi.is_empty() {
            let must = bi
                .iter()
                .map(|t| (Occur::Must, term(self.bi, t, IndexRecordOption::Basic)))
                .collect();
            alts.push((Occur::Should, Box::new(BooleanQuery::new(must))));
        }
        if !ws.is_empty() {
            let must = ws
                .iter()
                .map(|t| {
                    let either: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                        (Occur::Should, term(self.title, t, IndexRecordOption::Basic)),
                        (Occur::Should, term(self.body, t, IndexRecordOption::Basic)),
                    ]));
                    (Occur::Must, either)
                })
                .collect();
            alts.push((Occur::Should, Box::new(BooleanQuery::new(must))));
        }
        if alts.is_empty() {
            None
        } else {
            Some(Box::new(BooleanQuery::new(alts)))
        }
    }
}

impl SearchIndex {
    /// Adds or replaces a ticket (by number). Visible after [`commit`](Self::commit).
    pub fn upsert_ticket(&self, t: &TicketDoc) -> Result<()> {
        let w = self.tickets.writer();
        w.delete_term(Term::from_field_u64(self.tf.number, t.number));
        w.add_document(to_doc(&self.tf, t))?;
        self.tickets.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Removes a ticket. Visible after [`commit`](Self::commit).
    pub fn delete_ticket(&self, number: u64) -> Result<()> {
        self.tickets
            .writer()
            .delete_term(Term::from_field_u64(self.tf.number, number));
        self.tickets.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Numbers of the tickets whose title, content, answer or address
    /// contain ALL the whitespace-separated `words` (a word also matches
    /// through its synonyms), newest (highest number) first, at most `limit`
    /// (capped at 1000), only numbers below `before` (cursor paging: pass
    /// the last number of the previous page). No searchable word: empty.
    pub fn search_tickets(
        &self,
        words: &str,
        limit: usize,
        before: Option<u64>,
    ) -> Result<Vec<u64>> {
        let limit = limit.min(MAX_LIMIT);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let f = self.tf;
        let syn = self.synonyms_arc();
        let text = clean(words, 400);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in text.split(' ').filter(|w| !w.is_empty()).take(MAX_WORDS) {
            let Some(q) = f.word_query(w) else { continue };
            // The word or any of its synonyms.
            let mut alts: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, q)];
            if let Some(g) = syn.group_of(w) {
                for s in g.iter().filter(|s| s.as_str() != w) {
                    if let Some(q) = f.word_query(s) {
                        alts.push((Occur::Should, q));
                    }
                }
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(alts))));
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(b) = before {
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Unbounded,
                    Bound::Excluded(Term::from_field_u64(f.number, b)),
                )),
            ));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.tickets.reader.searcher();
        let top = searcher.search(
            &query,
            &TopDocs::with_limit(limit).order_by_u64_field("number", Order::Desc),
        )?;
        Ok(top.into_iter().filter_map(|(n, _)| n).collect())
    }

    /// The `n` tickets (at most 100) most similar to `text` (e.g. the
    /// content being typed on the intake page), best first, with their
    /// relevance scores (comparable within one call only).
    pub fn similar_tickets(&self, text: &str, n: usize) -> Result<Vec<(u64, f32)>> {
        let n = n.min(100);
        if n == 0 {
            return Ok(Vec::new());
        }
        let f = self.tf;
        let searcher = self.tickets.reader.searcher();
        let text = clean(text, SIMILAR_CHARS);
        let syn = self.synonyms_arc();
        // Distinct words (and synonyms of synonym terms), weighted.
        let mut weights: HashMap<String, f32> = HashMap::new();
        for t in super::tokenize::words(&text) {
            let single_cjk = t.text.chars().count() == 1 && t.text.chars().all(is_cjk);
            if !is_stopword(&t.text) && !single_cjk {
                weights.entry(t.text).or_insert(1.0);
            }
        }
        for s in syn.scan(&text) {
            for g in syn.group_of(s).unwrap_or_default() {
                for t in super::tokenize::words(g) {
                    if !is_stopword(&t.text) {
                        weights.entry(t.text).or_insert(0.8);
                    }
                }
            }
        }
        // Keep the rarest terms: they say most about the case.
        let mut terms: Vec<(u64, String, f32)> = weights
            .into_iter()
            .filter_map(|(t, w)| {
                let df = searcher
                    .doc_freq(&Term::from_field_text(f.body, &t))
                    .unwrap_or(0)
                    + searcher
                        .doc_freq(&Term::from_field_text(f.title, &t))
                        .unwrap_or(0);
                (df > 0).then_some((df, t, w))
            })
            .collect();
        terms.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        terms.truncate(SIMILAR_TERMS);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (_, t, w) in &terms {
            for (field, boost) in [(f.title, 2.0), (f.body, 1.0)] {
                let q = TermQuery::new(
                    Term::from_field_text(field, t),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(q), boost * w)),
                ));
            }
        }
        let query = BooleanQuery::new(clauses);
        let top = searcher.search(&query, &TopDocs::with_limit(n).order_by_score())?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let seg = searcher.segment_reader(addr.segment_ord);
            if let Some(num) = seg.fast_fields().u64("number")?.first(addr.doc_id) {
                out.push((num, score));
            }
        }
        Ok(out)
    }
}
