//! The search integration: keeps the tantivy index (`crate::search`, derived
//! data under `<data dir>/search`) in step with redb, the source of truth,
//! and answers knowledge-base and ticket searches.
//!
//! Every committed change to an article or a ticket's text writes a
//! `search_outbox` row in its own redb transaction. `sync_search` indexes
//! the pending rows, commits the index, then deletes the rows: a crash
//! between the redb commit and the index commit leaves the rows, and the
//! next sync (at the latest at the next start) indexes them again. Upserts
//! are idempotent, so indexing a row twice is harmless.
//!
//! A missing, corrupt or older-schema index is rebuilt: articles at once
//! when the services open, tickets at once when there are few of them and
//! otherwise in the background by `serve` (ticket word search falls back to
//! the store's word match until it is ready), or by `hotline reindex`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::kb::{Article, ArticleState, Kind};
use crate::domain::ticket::Ticket;
use crate::error::{Error, Result};
use crate::search::{ArticleDoc, ArticleKind, SearchIndex, TicketDoc};
use crate::store::Store;
use crate::store::kb::OutboxKind;

/// Tickets indexed in one go when the services open; above that the
/// rebuild runs in the background.
pub const REBUILD_INLINE_MAX: u64 = 20_000;

/// How long a search waits for a sync in progress before it searches
/// what the index has.
const SYNC_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The index and what is known about its freshness.
pub struct Search {
    pub index: SearchIndex,
    /// False while the ticket index is being rebuilt.
    tickets_ready: AtomicBool,
    /// Held while indexing (sync or rebuild), so that an older snapshot
    /// never overwrites a newer document.
    writing: Mutex<()>,
    /// Progress of a ticket rebuild: done / total.
    rebuild_done: AtomicU64,
    rebuild_total: AtomicU64,
}

impl Search {
    /// Opens `<data dir>/search`; a damaged index is replaced and refilled.
    /// An index another process holds (or an unusable folder) gives an
    /// in-memory index, rebuilt from the store, with a warning.
    pub fn open(store: &Store, dir: &std::path::Path) -> Result<Arc<Search>> {
        let (index, articles_ok, tickets_ok) = match SearchIndex::open(dir) {
            Ok((ix, report)) => {
                for (what, st) in [("articles", &report.articles), ("tickets", &report.tickets)] {
                    if let crate::search::IndexStatus::NeedsRebuild(why) = st {
                        tracing::info!(index = what, reason = %why, "search index will be rebuilt");
                    }
                }
                (
                    ix,
                    !report.articles.needs_rebuild(),
                    !report.tickets.needs_rebuild(),
                )
            }
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "search index unusable; using one in memory");
                (
                    SearchIndex::open_in_ram().map_err(Error::internal)?,
                    false,
                    false,
                )
            }
        };
        // An index can be whole in form but short of documents: made empty
        // by a process that left the (background) refill to `serve` and
        // ended first, or by a server stopped during the refill. Fewer
        // documents than records, beyond what the outbox still holds, means
        // it is refilled like a missing one.
        let pending = store.search_outbox_len().map_err(Error::internal)?;
        let tickets = store.counts().map_err(Error::internal)?.tickets;
        let short = |what: &str, have: u64, want: u64| {
            let short = have + pending < want;
            if short {
                tracing::info!(
                    index = what,
                    reason = %format!("不完整：{have} / {want} (incomplete)"),
                    "search index will be rebuilt"
                );
            }
            short
        };
        let articles_ok = articles_ok
            && !short(
                "articles",
                index.article_count(),
                store.kb_article_count().map_err(Error::internal)?,
            );
        let tickets_ok = tickets_ok && !short("tickets", index.ticket_count(), tickets);
        let s = Arc::new(Search {
            index,
            tickets_ready: AtomicBool::new(tickets_ok),
            writing: Mutex::new(()),
            rebuild_done: AtomicU64::new(0),
            rebuild_total: AtomicU64::new(0),
        });
        s.index.set_synonyms(
            store
                .kb_synonyms()
                .map_err(Error::internal)?
                .into_iter()
                .map(|g| g.terms)
                .collect(),
        );
        if !articles_ok {
            s.rebuild_articles(store)?;
        }
        if !tickets_ok && tickets <= REBUILD_INLINE_MAX {
            s.rebuild_tickets(store, &mut |_, _| {})?;
        }
        Ok(s)
    }

    pub fn tickets_ready(&self) -> bool {
        self.tickets_ready.load(Ordering::Acquire)
    }

    /// (done, total) of a running ticket rebuild.
    pub fn rebuild_progress(&self) -> Option<(u64, u64)> {
        (!self.tickets_ready()).then(|| {
            (
                self.rebuild_done.load(Ordering::Relaxed),
                self.rebuild_total.load(Ordering::Relaxed),
            )
        })
    }

    /// Indexes every article again.
    pub fn rebuild_articles(&self, store: &Store) -> Result<u64> {
        let _w = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        self.index.clear_articles().map_err(Error::internal)?;
        let mut n = 0;
        let mut err = None;
        store
            .kb_for_each_article(|a| {
                if err.is_none() {
                    n += 1;
                    if let Err(e) = self.put_article(&a) {
                        err = Some(e);
                    }
                }
            })
            .map_err(Error::internal)?;
        if let Some(e) = err {
            return Err(e);
        }
        self.index.commit().map_err(Error::internal)?;
        Ok(n)
    }

    /// Indexes every ticket again; `progress(done, total)` as it goes.
    pub fn rebuild_tickets(
        &self,
        store: &Store,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64> {
        let _w = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        self.tickets_ready.store(false, Ordering::Release);
        let total = store.counts().map_err(Error::internal)?.tickets;
        self.rebuild_total.store(total, Ordering::Relaxed);
        self.rebuild_done.store(0, Ordering::Relaxed);
        self.index.clear_tickets().map_err(Error::internal)?;
        let mut after = 0;
        let mut done = 0;
        loop {
            let batch = store.tickets_after(after, 2_000).map_err(Error::internal)?;
            let Some(last) = batch.last() else { break };
            after = last.number.0;
            for t in &batch {
                self.index
                    .upsert_ticket(&ticket_doc(t))
                    .map_err(Error::internal)?;
            }
            done += batch.len() as u64;
            self.rebuild_done.store(done, Ordering::Relaxed);
            progress(done, total.max(done));
        }
        self.index.commit().map_err(Error::internal)?;
        // Outbox rows already covered by the snapshot are left in place:
        // the next sync indexes them again, which is idempotent and cheap
        // (only changes made since the last sync are there).
        self.tickets_ready.store(true, Ordering::Release);
        Ok(done)
    }

    /// Indexes the pending outbox rows and commits. `wait`: block while a
    /// rebuild runs (the background task). Otherwise (a search reading its
    /// own writes) wait up to a second for a sync already in progress —
    /// it may hold the very change the search must see — but never for a
    /// rebuild.
    pub fn sync(&self, store: &Store, wait: bool) -> Result<usize> {
        let _w = if wait {
            self.writing.lock().unwrap_or_else(|p| p.into_inner())
        } else {
            let deadline = std::time::Instant::now() + SYNC_WAIT;
            loop {
                match self.writing.try_lock() {
                    Ok(g) => break g,
                    Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                    Err(std::sync::TryLockError::WouldBlock) => {
                        if !self.tickets_ready() || std::time::Instant::now() >= deadline {
                            return Ok(0);
                        }
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                }
            }
        };
        let mut total = 0;
        loop {
            let pending = store
                .search_outbox_pending(1_000)
                .map_err(Error::internal)?;
            let Some(&(last, _)) = pending.last() else {
                break;
            };
            for (_, e) in &pending {
                match e.kind {
                    OutboxKind::Article => match store.kb_article(e.id).map_err(Error::internal)? {
                        Some(a) => self.put_article(&a)?,
                        None => self.index.delete_article(e.id).map_err(Error::internal)?,
                    },
                    OutboxKind::Ticket => match store
                        .ticket(crate::domain::ticket::TicketNo(e.id))
                        .map_err(Error::internal)?
                    {
                        Some(t) => self.index.upsert_ticket(&ticket_doc(&t)),
                        None => self.index.delete_ticket(e.id),
                    }
                    .map_err(Error::internal)?,
                }
            }
            self.index.commit().map_err(Error::internal)?;
            store
                .search_outbox_delete_through(last)
                .map_err(Error::internal)?;
            total += pending.len();
        }
        Ok(total)
    }

    fn put_article(&self, a: &Article) -> Result<()> {
        self.index
            .upsert_article(&article_doc(a))
            .map_err(Error::internal)
    }
}

fn article_doc(a: &Article) -> ArticleDoc {
    let c = &a.content;
    ArticleDoc {
        id: a.id,
        kind: match c.kind {
            Kind::Faq => ArticleKind::Faq,
            Kind::Article => ArticleKind::Article,
        },
        title: c.title.clone(),
        question: c.question.clone(),
        answer: c.body.clone(),
        category: c.category.clone(),
        department_id: c.department,
        department_name: c.department_name.clone(),
        keywords: c.keywords.clone(),
        valid_from: c.valid_from,
        valid_to: c.valid_to,
        published: a.state == ArticleState::Published,
    }
}

fn ticket_doc(t: &Ticket) -> TicketDoc {
    let answer = match (t.answer.is_empty(), t.reply.is_empty()) {
        (false, false) => format!("{}\n{}", t.answer, t.reply),
        (false, true) => t.answer.clone(),
        _ => t.reply.clone(),
    };
    TicketDoc {
        number: t.number.0,
        title: t.title.clone(),
        content: t.content.clone(),
        answer,
        address: format!("{}{}{}", t.street, t.community, t.address),
        created: t.created_at,
    }
}

/// How far back the learned expansions look.
pub const LEARN_DAYS: i64 = 180;
/// How often `serve` refreshes them (and once at start).
pub const LEARN_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

impl crate::service::Services {
    /// Rebuilds the query expansions learned from the center's own use
    /// (`crate::search::learned`) over the last [`LEARN_DAYS`] days and
    /// puts them in use; returns the number of words that got one. Three
    /// kinds of observations (searches and uses newest first, then tickets
    /// from the window's first day), bounded by `learned::MAX_PAIRS`: a logged search → the title of the article
    /// then used in a ticket; a ticket's title and text → the title of the
    /// article inserted into it; a ticket's title and text → its category's
    /// path of names.
    pub fn learn_expansions(&self) -> Result<usize> {
        use crate::search::LearnedBuilder;
        let now = self.now().as_second();
        let from = now - LEARN_DAYS * 86_400;
        let mut b = LearnedBuilder::default();
        let mut titles: std::collections::HashMap<u64, Option<String>> = Default::default();
        let mut title = |id: u64| -> Result<Option<String>> {
            if let Some(t) = titles.get(&id) {
                return Ok(t.clone());
            }
            let t = self
                .store
                .kb_article(id)
                .map_err(Error::internal)?
                .map(|a| a.content.title);
            titles.insert(id, t.clone());
            Ok(t)
        };
        let max = crate::search::learned::MAX_PAIRS;
        let searches = self
            .store
            .kb_searches_between(from, now + 1)
            .map_err(Error::internal)?;
        for (_, s) in searches
            .iter()
            .rev()
            .filter(|(_, s)| s.used.is_some())
            .take(max)
        {
            if let Some(t) = title(s.used.unwrap_or_default())? {
                b.add(&s.query, &t);
            }
        }
        for u in self
            .store
            .kb_uses_since(from, max)
            .map_err(Error::internal)?
        {
            let (Some(t), Some(ticket)) = (
                title(u.article)?,
                self.store
                    .ticket(crate::domain::ticket::TicketNo(u.ticket))
                    .map_err(Error::internal)?,
            ) else {
                continue;
            };
            b.add(&format!("{} {}", ticket.title, ticket.content), &t);
        }
        // Ticket numbers start with the day: begin at the first day.
        let first_day = jiff::Timestamp::from_second(from)
            .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
            .map(|d| {
                (i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day()))
                    as u64
            })
            .unwrap_or(0);
        let dir = self.dir();
        let mut after = first_day * 1_000_000;
        'tickets: loop {
            let batch = self
                .store
                .tickets_after(after, 2_000)
                .map_err(Error::internal)?;
            let Some(last) = batch.last() else { break };
            after = last.number.0;
            for t in &batch {
                if !b.add(
                    &format!("{} {}", t.title, t.content),
                    &dir.category_path(&t.category_code),
                ) {
                    break 'tickets;
                }
            }
        }
        let learned = b.build();
        let n = learned.len();
        self.search.index.set_learned(learned);
        Ok(n)
    }
}
