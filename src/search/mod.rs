//! Chinese full-text search for the knowledge base and for tickets (issue 4).
//!
//! One [`SearchIndex`] holds two tantivy indexes under one directory
//! (`<dir>/articles`, `<dir>/tickets`). They are derived data: redb stays
//! the source of truth, and [`SearchIndex::open`] reports when an index must
//! be rebuilt (missing, corrupt, older schema) instead of failing.
//!
//! Text is analysed twice: jieba words (search mode, no HMM) and CJK
//! character bigrams (catches one-character typos and words jieba splits
//! differently). On top of that, two layers of our own: administrator
//! synonyms (query-time expansion, changed at runtime without reindexing)
//! and pinyin (`shebaoka`, `sbk`, `shebao` while typing → 社保卡) against an
//! in-memory dictionary of known terms (article titles, keywords,
//! synonyms) that is rebuilt when articles are committed. The same
//! dictionary corrects homophone typos (低报 → 低保).
//!
//! Queries are built from tokenizer terms, never from tantivy's query
//! syntax, so any input is safe.
//!
//! Writes: `upsert_*`/`delete_*` buffer in the writers; nothing is visible
//! until [`SearchIndex::commit`]. A commit serialises the buffered documents
//! into a new segment, fsyncs the files and `meta.json`, reloads the readers
//! and, if articles changed, rebuilds the pinyin dictionary from the index's
//! term list. Measured with 100,000 articles and 1,000,000 tickets on a busy
//! 2-core machine: about 100–160 ms for a commit of one change (mostly fsync
//! and segment bookkeeping; the cost grows with the number of buffered
//! documents, not with the index size). It blocks writers of that index (not
//! searches) meanwhile, so call it from a background task at most once per
//! second when something changed. Segment merges run in tantivy's background
//! threads.

mod articles;
pub mod bench;
pub mod fixture;
pub mod learned;
pub mod lexicon;
pub mod query;
pub mod snippet;
mod tickets;
pub mod tokenize;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tantivy::schema::Schema;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};

pub use articles::{
    ArticleDoc, ArticleHit, ArticleKind, ArticleQuery, ArticleResults, Collect, SearchTiming,
};
pub use learned::{Learned, LearnedBuilder};
pub use lexicon::{Synonyms, parse_synonyms};
pub use tickets::TicketDoc;
pub use tokenize::warm;

use lexicon::Lexicon;

/// Version of the index layout (schema and analysis). Bump it when the
/// schema or the tokenizers change: indexes written with another version are
/// reported as needing a rebuild. 2: the pinyin dictionary's terms of every
/// title word, word pair and unknown run (issue 11).
pub const SCHEMA_VERSION: u32 = 2;

const MARKER: &str = "hotline-search-schema";

/// Indexing memory of each writer (tantivy's minimum is 15 MB per thread).
const ARTICLE_WRITER_BYTES: usize = 24_000_000;
const TICKET_WRITER_BYTES: usize = 48_000_000;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index file: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index is in use by another process: {0}")]
    Locked(String),
}

pub type Result<T> = std::result::Result<T, SearchError>;

/// The state of one index after [`SearchIndex::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexStatus {
    /// Opened as it was; its content is what was last committed.
    Ready,
    /// Missing, unreadable or of an older schema: it has been replaced by an
    /// empty index and must be refilled from the store. The text says why.
    NeedsRebuild(String),
}

impl IndexStatus {
    pub fn needs_rebuild(&self) -> bool {
        matches!(self, IndexStatus::NeedsRebuild(_))
    }
}

/// What [`SearchIndex::open`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenReport {
    pub articles: IndexStatus,
    pub tickets: IndexStatus,
}

/// One tantivy index with its reader and writer.
struct Part {
    reader: IndexReader,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    dirty: AtomicBool,
}

impl Part {
    fn new(index: Index, writer_bytes: usize) -> Result<Part> {
        tokenize::register(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index
            .writer_with_num_threads(1, writer_bytes)
            .map_err(|e| match e {
                tantivy::TantivyError::LockFailure(l, m) => {
                    SearchError::Locked(format!("{l:?} {}", m.unwrap_or_default()))
                }
                e => SearchError::Tantivy(e),
            })?;
        Ok(Part {
            reader,
            writer: Mutex::new(writer),
            dirty: AtomicBool::new(false),
        })
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter<TantivyDocument>> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Commits if something changed; returns whether it did.
    fn commit(&self) -> Result<bool> {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(false);
        }
        let mut w = self.writer();
        if let Err(e) = w.commit() {
            self.dirty.store(true, Ordering::Release);
            return Err(e.into());
        }
        drop(w);
        self.reader.reload()?;
        Ok(true)
    }

    fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

/// The article and ticket indexes. Share it (`Arc<SearchIndex>`): every
/// method takes `&self`; searches run in parallel, writes are serialised.
pub struct SearchIndex {
    articles: Part,
    tickets: Part,
    af: articles::Fields,
    tf: tickets::Fields,
    synonyms: RwLock<Arc<Synonyms>>,
    /// Expansions learned from use (see [`learned`]).
    learned: RwLock<Arc<Learned>>,
    lexicon: RwLock<Arc<Lexicon>>,
    /// Known terms from the article index (title words, keywords) with the
    /// number of articles using them; merged with the synonyms into the
    /// lexicon.
    index_terms: Mutex<Arc<Vec<(String, u32)>>>,
}

fn read_marker(dir: &Path) -> Option<u32> {
    std::fs::read_to_string(dir.join(MARKER))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Opens the index in `dir`, checking marker, schema and readability.
fn open_existing(dir: &Path, schema: &Schema, writer_bytes: usize) -> (Option<Part>, IndexStatus) {
    if !dir.join("meta.json").exists() {
        return (
            None,
            IndexStatus::NeedsRebuild("索引不存在 (missing)".into()),
        );
    }
    match read_marker(dir) {
        Some(SCHEMA_VERSION) => {}
        Some(v) => {
            return (
                None,
                IndexStatus::NeedsRebuild(format!(
                    "索引版本 {v}，需要 {SCHEMA_VERSION} (older schema)"
                )),
            );
        }
        None => {
            return (
                None,
                IndexStatus::NeedsRebuild("缺少版本标记 (no schema marker)".into()),
            );
        }
    }
    let schema = schema.clone();
    let dir2 = dir.to_path_buf();
    let opened = std::panic::catch_unwind(move || -> Result<Part> {
        let index = Index::open_in_dir(&dir2)?;
        if index.schema() != schema {
            return Err(SearchError::Tantivy(tantivy::TantivyError::SchemaError(
                "schema differs".into(),
            )));
        }
        let part = Part::new(index, writer_bytes)?;
        // Touch every segment: a damaged file fails here, not at the first query.
        let searcher = part.reader.searcher();
        searcher.search(&tantivy::query::AllQuery, &tantivy::collector::Count)?;
        for seg in searcher.segment_readers() {
            for (field, _) in schema.fields() {
                if schema.get_field_entry(field).is_indexed() {
                    seg.inverted_index(field)?;
                }
            }
        }
        Ok(part)
    });
    match opened {
        Ok(Ok(p)) => (Some(p), IndexStatus::Ready),
        Ok(Err(SearchError::Locked(m))) => (
            None,
            IndexStatus::NeedsRebuild(format!("locked: {m}")), // replaced below by an error
        ),
        Ok(Err(e)) => (
            None,
            IndexStatus::NeedsRebuild(format!("索引损坏 (corrupt): {e}")),
        ),
        Err(_) => (
            None,
            IndexStatus::NeedsRebuild("索引损坏 (corrupt: panic while opening)".into()),
        ),
    }
}

/// Opens `dir` as an index of `schema`, or replaces it with an empty one.
fn open_part(dir: &Path, schema: &Schema, writer_bytes: usize) -> Result<(Part, IndexStatus)> {
    let (part, status) = open_existing(dir, schema, writer_bytes);
    if let Some(p) = part {
        return Ok((p, status));
    }
    if let IndexStatus::NeedsRebuild(m) = &status
        && m.starts_with("locked:")
    {
        return Err(SearchError::Locked(m.clone()));
    }
    if dir.is_dir() {
        std::fs::remove_dir_all(dir)?;
    } else if dir.exists() {
        std::fs::remove_file(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let index = Index::create_in_dir(dir, schema.clone())?;
    std::fs::write(dir.join(MARKER), format!("{SCHEMA_VERSION}\n"))?;
    Ok((Part::new(index, writer_bytes)?, status))
}

impl SearchIndex {
    /// Opens (or creates) the indexes under `dir` (`dir/articles`,
    /// `dir/tickets`). An index that is missing, unreadable or of another
    /// schema version is replaced by an empty one and reported in
    /// [`OpenReport`]; refill it with `upsert_*` and [`commit`](Self::commit).
    /// Errors only when the directory cannot be written or another process
    /// holds the index.
    pub fn open(dir: impl AsRef<Path>) -> Result<(SearchIndex, OpenReport)> {
        let dir: PathBuf = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let (aschema, af) = articles::schema();
        let (tschema, tf) = tickets::schema();
        let (a, astatus) = open_part(&dir.join("articles"), &aschema, ARTICLE_WRITER_BYTES)?;
        let (t, tstatus) = open_part(&dir.join("tickets"), &tschema, TICKET_WRITER_BYTES)?;
        let s = SearchIndex::from_parts(a, t, af, tf)?;
        Ok((
            s,
            OpenReport {
                articles: astatus,
                tickets: tstatus,
            },
        ))
    }

    /// Empty indexes in memory (tests, benchmarks).
    pub fn open_in_ram() -> Result<SearchIndex> {
        let (aschema, af) = articles::schema();
        let (tschema, tf) = tickets::schema();
        let a = Part::new(Index::create_in_ram(aschema), ARTICLE_WRITER_BYTES)?;
        let t = Part::new(Index::create_in_ram(tschema), TICKET_WRITER_BYTES)?;
        SearchIndex::from_parts(a, t, af, tf)
    }

    fn from_parts(
        a: Part,
        t: Part,
        af: articles::Fields,
        tf: tickets::Fields,
    ) -> Result<SearchIndex> {
        let s = SearchIndex {
            articles: a,
            tickets: t,
            af,
            tf,
            synonyms: RwLock::new(Arc::new(Synonyms::default())),
            learned: RwLock::new(Arc::new(Learned::default())),
            lexicon: RwLock::new(Arc::new(Lexicon::default())),
            index_terms: Mutex::new(Arc::new(Vec::new())),
        };
        s.refresh_index_terms()?;
        Ok(s)
    }

    /// Replaces the synonym groups (takes effect for the next query; no
    /// reindex needed). Groups are normalised: see [`Synonyms::new`].
    pub fn set_synonyms(&self, groups: Vec<Vec<String>>) {
        let syn = Arc::new(Synonyms::new(groups));
        *self.synonyms.write().unwrap_or_else(|e| e.into_inner()) = syn;
        self.rebuild_lexicon();
    }

    /// Replaces the learned expansions (next query; no reindex needed).
    pub fn set_learned(&self, learned: Learned) {
        *self.learned.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(learned);
    }

    /// The learned expansions in use.
    pub fn learned(&self) -> Arc<Learned> {
        self.learned
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The current synonym groups (normalised).
    pub fn synonyms(&self) -> Vec<Vec<String>> {
        self.synonyms_arc().groups().to_vec()
    }

    fn synonyms_arc(&self) -> Arc<Synonyms> {
        self.synonyms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn lexicon_arc(&self) -> Arc<Lexicon> {
        self.lexicon
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Number of terms in the pinyin dictionary.
    pub fn lexicon_len(&self) -> usize {
        self.lexicon_arc().len()
    }

    fn rebuild_lexicon(&self) {
        let terms = self
            .index_terms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let syn = self.synonyms_arc();
        let from_syn = syn
            .groups()
            .iter()
            .flatten()
            .map(|t| (t.clone(), 1u32))
            .collect::<Vec<_>>();
        let lex = Lexicon::build(terms.iter().cloned().chain(from_syn));
        *self.lexicon.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(lex);
    }

    fn refresh_index_terms(&self) -> Result<()> {
        let terms = articles::known_terms(&self.articles.reader.searcher(), &self.af)?;
        *self.index_terms.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(terms);
        self.rebuild_lexicon();
        Ok(())
    }

    /// Makes all buffered changes searchable (see the module docs for the
    /// cost). Returns whether anything was committed.
    pub fn commit(&self) -> Result<bool> {
        let a = self.articles.commit()?;
        let t = self.tickets.commit()?;
        if a {
            self.refresh_index_terms()?;
        }
        Ok(a || t)
    }

    /// Whether there are changes waiting for [`commit`](Self::commit).
    pub fn has_pending(&self) -> bool {
        self.articles.dirty.load(Ordering::Acquire) || self.tickets.dirty.load(Ordering::Acquire)
    }

    /// Number of searchable (committed) articles.
    pub fn article_count(&self) -> u64 {
        self.articles.num_docs()
    }

    /// Number of searchable (committed) tickets.
    pub fn ticket_count(&self) -> u64 {
        self.tickets.num_docs()
    }

    /// Removes every article (before a full reindex); takes effect at commit.
    pub fn clear_articles(&self) -> Result<()> {
        self.articles.writer().delete_all_documents()?;
        self.articles.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Removes every ticket (before a full reindex); takes effect at commit.
    pub fn clear_tickets(&self) -> Result<()> {
        self.tickets.writer().delete_all_documents()?;
        self.tickets.dirty.store(true, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
