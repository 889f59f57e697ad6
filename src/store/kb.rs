//! The knowledge base: articles, their immutable versions, proposals,
//! notices (unread lists), must-read acknowledgements, views and uses, the
//! search log, synonym groups and the search outbox.
//!
//! Invariant: every change to an article (publish, archive, restore,
//! import) writes a [`OutboxEntry`] to `SEARCH_OUTBOX` in the same write
//! transaction, so the search index can always catch up with redb after a
//! crash between the two commits.

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::tables::*;
use super::{Result, Store, StoreError, codec};
use crate::domain::kb::{Article, ArticleState, Proposal, ProposalState, Version};

/// One publish, as told to every agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub article: u64,
    pub version: u32,
    pub at: i64,
    pub title: String,
    pub must_read: bool,
    /// Who published.
    pub by: u32,
}

/// Views and uses of one article.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub views: u64,
    pub uses: u64,
    pub last_used_at: i64,
}

/// An article's answer went into a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseRecord {
    pub article: u64,
    /// `YYYYMMDDNNNNNN`.
    pub ticket: u64,
    pub user: u32,
    pub at: i64,
    /// The search that led to it, if any.
    pub search: Option<u64>,
}

/// One knowledge-base search, for the missing-knowledge report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRecord {
    pub at: i64,
    pub user: u32,
    /// As typed (at most 200 characters).
    pub query: String,
    /// `domain::kb::normalize_query` of it: the report groups by this.
    pub normalized: String,
    pub results: u32,
    /// The first article opened from its results.
    pub opened: Option<u64>,
    /// The first article whose answer was then used in a ticket.
    pub used: Option<u64>,
}

/// An administrator-managed group of synonyms; the first term is the
/// canonical one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynonymGroup {
    pub terms: Vec<String>,
    pub updated_at: i64,
    pub updated_by: u32,
}

/// What a search outbox entry refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OutboxKind {
    Article,
    Ticket,
}

/// A pending search index update: re-read `id` of `kind` from the store
/// and index it (or drop it from the index if it is gone or hidden).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub kind: OutboxKind,
    pub id: u64,
}

/// Appends an outbox entry inside an open write transaction. Ticket writers
/// call this from their own transactions.
pub fn push_outbox(w: &WriteTransaction, e: OutboxEntry) -> Result<u64> {
    let mut t = w.open_table(SEARCH_OUTBOX)?;
    let seq = t.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
    t.insert(seq, codec::encode(&e).as_slice())?;
    Ok(seq)
}

/// A publish: the new article record (id 0 for a new article, which gets
/// the next id), its version, the proposal it settles, and the notice for
/// `recipients`.
#[derive(Clone, Debug)]
pub struct Publish {
    pub article: Article,
    pub version: Version,
    pub proposal: Option<Proposal>,
    pub notice_recipients: Vec<u32>,
}

/// Where a browsing scan stands: the last (category, id) returned.
pub type ListKey = (String, u64);

/// One page of a browsing scan.
#[derive(Clone, Debug, Default)]
pub struct ArticleScan {
    pub items: Vec<Article>,
    /// Resume after this key; `None` at the end.
    pub next: Option<ListKey>,
    /// The scan stopped at its candidate limit before filling the page.
    pub partial: bool,
}

fn non_durable(w: &mut WriteTransaction) -> Result<()> {
    w.set_durability(redb::Durability::None)
        .map_err(|e| StoreError::Db(e.to_string()))
}

fn write_article(w: &WriteTransaction, a: &Article, old: Option<&Article>) -> Result<()> {
    let mut t = w.open_table(KB_ARTICLES)?;
    t.insert(a.id, codec::encode(a).as_slice())?;
    let mut ix = w.open_table(KB_IDX_CATEGORY)?;
    if let Some(o) = old
        && o.content.category != a.content.category
    {
        ix.remove((o.content.category.as_str(), a.id))?;
    }
    ix.insert((a.content.category.as_str(), a.id), ())?;
    if !a.code.is_empty() {
        let mut codes = w.open_table(KB_CODES)?;
        if let Some(other) = codes.get(a.code.as_str())?.map(|v| v.value())
            && other != a.id
        {
            return Err(StoreError::Conflict(format!(
                "编码 {} 已被知识 {other} 使用 (code {} is taken by article {other})",
                a.code, a.code
            )));
        }
        codes.insert(a.code.as_str(), a.id)?;
    }
    push_outbox(
        w,
        OutboxEntry {
            kind: OutboxKind::Article,
            id: a.id,
        },
    )?;
    Ok(())
}

fn write_version(w: &WriteTransaction, v: &Version) -> Result<()> {
    let mut t = w.open_table(KB_VERSIONS)?;
    if t.get((v.article, v.version))?.is_some() {
        return Err(StoreError::Conflict(format!(
            "知识 {} 的第 {} 版已存在 (version {} of article {} exists)",
            v.article, v.version, v.version, v.article
        )));
    }
    t.insert((v.article, v.version), codec::encode(v).as_slice())?;
    w.open_table(KB_VERSIONS_BY_TIME)?
        .insert((v.at, v.article, v.version), ())?;
    Ok(())
}

fn write_proposal(w: &WriteTransaction, p: &Proposal, old: Option<ProposalState>) -> Result<()> {
    w.open_table(KB_PROPOSALS)?
        .insert(p.id, codec::encode(p).as_slice())?;
    let mut ix = w.open_table(KB_IDX_PROPOSAL_STATE)?;
    if let Some(o) = old {
        ix.remove((o.code(), p.id))?;
    }
    ix.insert((p.state.code(), p.id), ())?;
    Ok(())
}

fn get_article(w: &WriteTransaction, id: u64) -> Result<Option<Article>> {
    let t = w.open_table(KB_ARTICLES)?;
    let v = t.get(id)?;
    v.map(|v| codec::decode("article", v.value())).transpose()
}

fn get_proposal(w: &WriteTransaction, id: u64) -> Result<Option<Proposal>> {
    let t = w.open_table(KB_PROPOSALS)?;
    let v = t.get(id)?;
    v.map(|v| codec::decode("proposal", v.value())).transpose()
}

fn article_gone(id: u64) -> StoreError {
    StoreError::NotFound(format!("知识 {id} 不存在 (article {id} not found)"))
}

fn changed_meanwhile(id: u64) -> StoreError {
    StoreError::Conflict(format!(
        "知识 {id} 刚被他人修改，请刷新后重试 (article {id} was changed meanwhile; reload and try again)"
    ))
}

impl Store {
    // ---------------------------------------------------------- articles

    /// Publishes a version: the article record, its version, the proposal
    /// it settles, the notice with everyone's unread entry and the search
    /// outbox entry, in one transaction. A new article (id 0) gets the next
    /// id and version 1; a changed one must still be at the version before
    /// (someone else publishing meanwhile is a conflict).
    pub fn kb_publish(&self, mut p: Publish) -> Result<Article> {
        let w = self.write()?;
        let old = if p.article.id == 0 {
            let id = w
                .open_table(KB_ARTICLES)?
                .last()?
                .map(|(k, _)| k.value() + 1)
                .unwrap_or(1);
            p.article.id = id;
            p.article.version = 1;
            None
        } else {
            let old = get_article(&w, p.article.id)?.ok_or_else(|| article_gone(p.article.id))?;
            if old.version + 1 != p.article.version {
                return Err(changed_meanwhile(p.article.id));
            }
            Some(old)
        };
        let a = &p.article;
        p.version.article = a.id;
        p.version.version = a.version;
        write_article(&w, a, old.as_ref())?;
        write_version(&w, &p.version)?;
        if let Some(mut prop) = p.proposal.take() {
            let stored = get_proposal(&w, prop.id)?
                .ok_or_else(|| StoreError::NotFound(format!("proposal {} not found", prop.id)))?;
            if stored.state != ProposalState::Pending || stored.updated_at != prop.updated_at {
                return Err(StoreError::Conflict(format!(
                    "提议 {} 刚被他人处理，请刷新后重试 (proposal {} was changed meanwhile)",
                    prop.id, prop.id
                )));
            }
            prop.article = Some(a.id);
            prop.state = ProposalState::Published;
            prop.published_version = a.version;
            write_proposal(&w, &prop, Some(stored.state))?;
        }
        if !p.notice_recipients.is_empty() {
            let notice = Notice {
                article: a.id,
                version: a.version,
                at: p.version.at,
                title: a.content.title.clone(),
                must_read: a.content.must_read,
                by: p.version.editor,
            };
            let mut n = w.open_table(KB_NOTICES)?;
            let nid = n.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
            n.insert(nid, codec::encode(&notice).as_slice())?;
            let mut u = w.open_table(KB_UNREAD)?;
            for user in &p.notice_recipients {
                u.insert((*user, nid), ())?;
            }
        }
        let out = p.article.clone();
        w.commit()?;
        Ok(out)
    }

    /// Archives or restores an article (editors); the version stays.
    pub fn kb_set_state(
        &self,
        id: u64,
        state: ArticleState,
        expected_version: u32,
    ) -> Result<Article> {
        let w = self.write()?;
        let mut a = get_article(&w, id)?.ok_or_else(|| article_gone(id))?;
        if a.version != expected_version {
            return Err(changed_meanwhile(id));
        }
        let old = a.clone();
        a.state = state;
        write_article(&w, &a, Some(&old))?;
        w.commit()?;
        Ok(a)
    }

    /// Loads published articles with their first versions (the demo's
    /// fixture), one transaction, ids assigned in order; no notices.
    pub fn kb_import(&self, items: Vec<(Article, Version)>) -> Result<Vec<u64>> {
        let mut w = self.write()?;
        non_durable(&mut w)?;
        let mut ids = vec![];
        let first = w
            .open_table(KB_ARTICLES)?
            .last()?
            .map(|(k, _)| k.value() + 1)
            .unwrap_or(1);
        for (id, (mut a, mut v)) in (first..).zip(items) {
            a.id = id;
            a.version = 1;
            v.article = id;
            v.version = 1;
            write_article(&w, &a, None)?;
            write_version(&w, &v)?;
            ids.push(a.id);
        }
        w.commit()?;
        self.sync()?;
        Ok(ids)
    }

    pub fn kb_article(&self, id: u64) -> Result<Option<Article>> {
        let r = self.read()?;
        let t = r.open_table(KB_ARTICLES)?;
        t.get(id)?
            .map(|v| codec::decode("article", v.value()))
            .transpose()
    }

    pub fn kb_article_by_code(&self, code: &str) -> Result<Option<Article>> {
        let r = self.read()?;
        let Some(id) = r.open_table(KB_CODES)?.get(code)?.map(|v| v.value()) else {
            return Ok(None);
        };
        let t = r.open_table(KB_ARTICLES)?;
        t.get(id)?
            .map(|v| codec::decode("article", v.value()))
            .transpose()
    }

    /// How many articles exist (published at least once, archived ones
    /// included).
    pub fn kb_article_count(&self) -> Result<u64> {
        Ok(self.read()?.open_table(KB_ARTICLES)?.len()?)
    }

    /// Articles with ids above `after`, in id order (reindexing).
    pub fn kb_articles_after(&self, after: u64, limit: usize) -> Result<Vec<Article>> {
        let r = self.read()?;
        let t = r.open_table(KB_ARTICLES)?;
        t.range(after.saturating_add(1)..)?
            .take(limit)
            .map(|row| codec::decode("article", row?.1.value()))
            .collect()
    }

    /// Calls `f` with every article (reports over all articles).
    pub fn kb_for_each_article(&self, mut f: impl FnMut(Article)) -> Result<()> {
        let r = self.read()?;
        let t = r.open_table(KB_ARTICLES)?;
        for row in t.iter()? {
            f(codec::decode("article", row?.1.value())?);
        }
        Ok(())
    }

    /// Browses articles in (category path, id) order under `prefix` (a
    /// category path; empty for all), after `after`, keeping those `keep`
    /// accepts, until `limit` are found or `max_scan` candidates were read.
    pub fn kb_scan(
        &self,
        prefix: &str,
        after: Option<&ListKey>,
        limit: usize,
        max_scan: usize,
        mut keep: impl FnMut(&Article) -> bool,
    ) -> Result<ArticleScan> {
        let r = self.read()?;
        let ix = r.open_table(KB_IDX_CATEGORY)?;
        let arts = r.open_table(KB_ARTICLES)?;
        let mut out = ArticleScan::default();
        let range = match after {
            Some((c, id)) => ix.range((c.as_str(), id.saturating_add(1))..)?,
            None => ix.range((prefix, 0u64)..)?,
        };
        let mut scanned = 0usize;
        let mut last: Option<ListKey> = None;
        for row in range {
            let (k, _) = row?;
            let (cat, id) = k.value();
            if !cat.starts_with(prefix) {
                break;
            }
            if !crate::domain::kb::in_category(cat, prefix) {
                continue;
            }
            if out.items.len() == limit {
                out.next = last.clone();
                return Ok(out);
            }
            scanned += 1;
            if scanned > max_scan {
                out.partial = true;
                out.next = last.clone();
                return Ok(out);
            }
            last = Some((cat.to_string(), id));
            let Some(v) = arts.get(id)? else { continue };
            let a: Article = codec::decode("article", v.value())?;
            if keep(&a) {
                out.items.push(a);
            }
        }
        Ok(out)
    }

    /// (category path, number of articles) for every path in use.
    pub fn kb_category_counts(&self) -> Result<Vec<(String, u64)>> {
        let r = self.read()?;
        let ix = r.open_table(KB_IDX_CATEGORY)?;
        let mut out: Vec<(String, u64)> = vec![];
        for row in ix.iter()? {
            let (k, _) = row?;
            let (cat, _) = k.value();
            match out.last_mut() {
                Some((c, n)) if c == cat => *n += 1,
                _ => out.push((cat.to_string(), 1)),
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------- versions

    /// Every version of an article, oldest first.
    pub fn kb_versions(&self, article: u64) -> Result<Vec<Version>> {
        let r = self.read()?;
        let t = r.open_table(KB_VERSIONS)?;
        t.range((article, 0u32)..=(article, u32::MAX))?
            .map(|row| codec::decode("version", row?.1.value()))
            .collect()
    }

    pub fn kb_version(&self, article: u64, version: u32) -> Result<Option<Version>> {
        let r = self.read()?;
        let t = r.open_table(KB_VERSIONS)?;
        t.get((article, version))?
            .map(|v| codec::decode("version", v.value()))
            .transpose()
    }

    /// (published at, article, version) of versions published in
    /// `[from, to)` (unix seconds).
    pub fn kb_versions_between(&self, from: i64, to: i64) -> Result<Vec<(i64, u64, u32)>> {
        let r = self.read()?;
        let t = r.open_table(KB_VERSIONS_BY_TIME)?;
        t.range((from, 0u64, 0u32)..(to, 0u64, 0u32))?
            .map(|row| Ok(row?.0.value()))
            .collect()
    }

    // ---------------------------------------------------------- proposals

    /// Stores a new proposal; `p.id` is assigned.
    pub fn kb_create_proposal(&self, mut p: Proposal) -> Result<Proposal> {
        let w = self.write()?;
        p.id = w
            .open_table(KB_PROPOSALS)?
            .last()?
            .map(|(k, _)| k.value() + 1)
            .unwrap_or(1);
        write_proposal(&w, &p, None)?;
        w.commit()?;
        Ok(p)
    }

    /// Replaces a proposal that nobody changed since `expected_updated_at`.
    pub fn kb_update_proposal(&self, p: &Proposal, expected_updated_at: i64) -> Result<()> {
        let w = self.write()?;
        let stored = get_proposal(&w, p.id)?
            .ok_or_else(|| StoreError::NotFound(format!("proposal {} not found", p.id)))?;
        if stored.updated_at != expected_updated_at || stored.state != ProposalState::Pending {
            return Err(StoreError::Conflict(format!(
                "提议 {} 刚被他人修改或处理，请刷新后重试 (proposal {} was changed meanwhile)",
                p.id, p.id
            )));
        }
        write_proposal(&w, p, Some(stored.state))?;
        w.commit()?;
        Ok(())
    }

    pub fn kb_proposal(&self, id: u64) -> Result<Option<Proposal>> {
        let r = self.read()?;
        let t = r.open_table(KB_PROPOSALS)?;
        t.get(id)?
            .map(|v| codec::decode("proposal", v.value()))
            .transpose()
    }

    /// Proposals in `state` (all states if `None`), newest first, with ids
    /// below `before`, that `keep` accepts, at most `limit`.
    pub fn kb_proposals(
        &self,
        state: Option<ProposalState>,
        before: Option<u64>,
        limit: usize,
        mut keep: impl FnMut(&Proposal) -> bool,
    ) -> Result<Vec<Proposal>> {
        let r = self.read()?;
        let t = r.open_table(KB_PROPOSALS)?;
        let hi = before.unwrap_or(u64::MAX);
        let mut out = vec![];
        match state {
            Some(s) => {
                let ix = r.open_table(KB_IDX_PROPOSAL_STATE)?;
                for row in ix.range((s.code(), 0u64)..(s.code(), hi))?.rev() {
                    let (_, id) = row?.0.value();
                    if let Some(v) = t.get(id)? {
                        let p: Proposal = codec::decode("proposal", v.value())?;
                        if keep(&p) {
                            out.push(p);
                            if out.len() == limit {
                                break;
                            }
                        }
                    }
                }
            }
            None => {
                for row in t.range(..hi)?.rev() {
                    let p: Proposal = codec::decode("proposal", row?.1.value())?;
                    if keep(&p) {
                        out.push(p);
                        if out.len() == limit {
                            break;
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// How many proposals wait for review.
    pub fn kb_pending_count(&self) -> Result<u64> {
        let r = self.read()?;
        let ix = r.open_table(KB_IDX_PROPOSAL_STATE)?;
        let c = ProposalState::Pending.code();
        Ok(ix.range((c, 0u64)..=(c, u64::MAX))?.count() as u64)
    }

    // ---------------------------------------------------------- notices

    /// A user's unread notices, newest first.
    pub fn kb_unread(&self, user: u32) -> Result<Vec<(u64, Notice)>> {
        let r = self.read()?;
        let u = r.open_table(KB_UNREAD)?;
        let n = r.open_table(KB_NOTICES)?;
        let mut out = vec![];
        for row in u.range((user, 0u64)..=(user, u64::MAX))?.rev() {
            let (_, nid) = row?.0.value();
            if let Some(v) = n.get(nid)? {
                out.push((nid, codec::decode("notice", v.value())?));
            }
        }
        Ok(out)
    }

    pub fn kb_unread_count(&self, user: u32) -> Result<u64> {
        let r = self.read()?;
        let u = r.open_table(KB_UNREAD)?;
        Ok(u.range((user, 0u64)..=(user, u64::MAX))?.count() as u64)
    }

    /// Marks a user's notices of `article` read (every version up to the
    /// current one); returns how many.
    pub fn kb_mark_read(&self, user: u32, article: u64) -> Result<usize> {
        let mut w = self.write()?;
        non_durable(&mut w)?;
        let mut done = 0;
        {
            let n = w.open_table(KB_NOTICES)?;
            let mut u = w.open_table(KB_UNREAD)?;
            let mut ids = vec![];
            for row in u.range((user, 0u64)..=(user, u64::MAX))? {
                let (_, nid) = row?.0.value();
                if let Some(v) = n.get(nid)? {
                    let notice: Notice = codec::decode("notice", v.value())?;
                    if notice.article == article {
                        ids.push(nid);
                    }
                }
            }
            for nid in ids {
                u.remove((user, nid))?;
                done += 1;
            }
        }
        if done == 0 {
            w.abort()?;
        } else {
            w.commit()?;
        }
        Ok(done)
    }

    /// Marks every notice of a user read.
    pub fn kb_mark_all_read(&self, user: u32) -> Result<usize> {
        let w = self.write()?;
        let n = {
            let mut u = w.open_table(KB_UNREAD)?;
            let before = u.len()?;
            u.retain_in((user, 0u64)..=(user, u64::MAX), |_, _| false)?;
            (before - u.len()?) as usize
        };
        w.commit()?;
        Ok(n)
    }

    // ---------------------------------------------------------- acks

    /// Records an acknowledgement; `false` if it was already recorded.
    pub fn kb_acknowledge(&self, article: u64, version: u32, user: u32, at: i64) -> Result<bool> {
        let w = self.write()?;
        let new = {
            let a = get_article(&w, article)?.ok_or_else(|| article_gone(article))?;
            if a.version != version {
                return Err(StoreError::Conflict(format!(
                    "知识 {article} 已更新到第 {} 版，请阅读新版本后再确认 (article {article} is now at version {}: read it and acknowledge again)",
                    a.version, a.version
                )));
            }
            let mut t = w.open_table(KB_ACKS)?;
            if t.get((article, version, user))?.is_some() {
                false
            } else {
                t.insert((article, version, user), at)?;
                true
            }
        };
        w.commit()?;
        Ok(new)
    }

    /// (user, acknowledged at) of a version.
    pub fn kb_acks(&self, article: u64, version: u32) -> Result<Vec<(u32, i64)>> {
        let r = self.read()?;
        let t = r.open_table(KB_ACKS)?;
        t.range((article, version, 0u32)..=(article, version, u32::MAX))?
            .map(|row| {
                let (k, v) = row?;
                Ok((k.value().2, v.value()))
            })
            .collect()
    }

    // ---------------------------------------------------------- stats

    /// Counts a view (not made durable on its own: a crash may lose the
    /// last few views, never anything else).
    pub fn kb_record_view(&self, article: u64) -> Result<()> {
        let mut w = self.write()?;
        non_durable(&mut w)?;
        {
            let mut t = w.open_table(KB_STATS)?;
            let mut s: Stats = match t.get(article)? {
                Some(v) => codec::decode("stats", v.value())?,
                None => Stats::default(),
            };
            s.views += 1;
            t.insert(article, codec::encode(&s).as_slice())?;
        }
        w.commit()?;
        Ok(())
    }

    /// Records a use: the log entry, the article's count and the search
    /// that led to it.
    pub fn kb_record_use(&self, u: &UseRecord) -> Result<u64> {
        let w = self.write()?;
        let id = {
            let mut uses = w.open_table(KB_USES)?;
            let id = uses.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
            uses.insert(id, codec::encode(u).as_slice())?;
            let mut t = w.open_table(KB_STATS)?;
            let mut s: Stats = match t.get(u.article)? {
                Some(v) => codec::decode("stats", v.value())?,
                None => Stats::default(),
            };
            s.uses += 1;
            s.last_used_at = u.at;
            t.insert(u.article, codec::encode(&s).as_slice())?;
            if let Some(sid) = u.search {
                let mut st = w.open_table(KB_SEARCHES)?;
                let rec: Option<SearchRecord> = st
                    .get(sid)?
                    .map(|v| codec::decode("search", v.value()))
                    .transpose()?;
                if let Some(mut rec) = rec
                    && rec.used.is_none()
                {
                    rec.used = Some(u.article);
                    if rec.opened.is_none() {
                        rec.opened = Some(u.article);
                    }
                    st.insert(sid, codec::encode(&rec).as_slice())?;
                }
            }
            id
        };
        w.commit()?;
        Ok(id)
    }

    pub fn kb_stats(&self, article: u64) -> Result<Stats> {
        let r = self.read()?;
        let t = r.open_table(KB_STATS)?;
        Ok(match t.get(article)? {
            Some(v) => codec::decode("stats", v.value())?,
            None => Stats::default(),
        })
    }

    /// Uses of an article, newest first.
    pub fn kb_uses_of(&self, article: u64, limit: usize) -> Result<Vec<UseRecord>> {
        let r = self.read()?;
        let t = r.open_table(KB_USES)?;
        let mut out = vec![];
        for row in t.iter()?.rev() {
            let u: UseRecord = codec::decode("use", row?.1.value())?;
            if u.article == article {
                out.push(u);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Uses recorded at or after `from` (unix seconds), newest first, at
    /// most `limit` (learning query expansions).
    pub fn kb_uses_since(&self, from: i64, limit: usize) -> Result<Vec<UseRecord>> {
        let r = self.read()?;
        let t = r.open_table(KB_USES)?;
        let mut out = vec![];
        for row in t.iter()?.rev() {
            let u: UseRecord = codec::decode("use", row?.1.value())?;
            if u.at < from || out.len() == limit {
                break;
            }
            out.push(u);
        }
        Ok(out)
    }

    // ---------------------------------------------------------- searches

    /// Logs a search (not made durable on its own); returns its id.
    pub fn kb_record_search(&self, s: &SearchRecord) -> Result<u64> {
        let mut w = self.write()?;
        non_durable(&mut w)?;
        let id = {
            let mut t = w.open_table(KB_SEARCHES)?;
            let id = t.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
            t.insert(id, codec::encode(s).as_slice())?;
            id
        };
        w.commit()?;
        Ok(id)
    }

    /// Notes that `article` was opened from the results of search `id`
    /// (the first opened article counts); unknown ids are ignored.
    pub fn kb_search_opened(&self, id: u64, article: u64) -> Result<()> {
        let mut w = self.write()?;
        non_durable(&mut w)?;
        {
            let mut t = w.open_table(KB_SEARCHES)?;
            let rec: Option<SearchRecord> = t
                .get(id)?
                .map(|v| codec::decode("search", v.value()))
                .transpose()?;
            if let Some(mut rec) = rec
                && rec.opened.is_none()
            {
                rec.opened = Some(article);
                t.insert(id, codec::encode(&rec).as_slice())?;
            }
        }
        w.commit()?;
        Ok(())
    }

    /// Searches made in `[from, to)` (unix seconds), oldest first.
    pub fn kb_searches_between(&self, from: i64, to: i64) -> Result<Vec<(u64, SearchRecord)>> {
        let r = self.read()?;
        let t = r.open_table(KB_SEARCHES)?;
        let mut out = vec![];
        // Ids grow with time: walk back from the newest until before `from`.
        for row in t.iter()?.rev() {
            let (k, v) = row?;
            let s: SearchRecord = codec::decode("search", v.value())?;
            if s.at < from {
                break;
            }
            if s.at < to {
                out.push((k.value(), s));
            }
        }
        out.reverse();
        Ok(out)
    }

    pub fn kb_search(&self, id: u64) -> Result<Option<SearchRecord>> {
        let r = self.read()?;
        let t = r.open_table(KB_SEARCHES)?;
        t.get(id)?
            .map(|v| codec::decode("search", v.value()))
            .transpose()
    }

    // ---------------------------------------------------------- synonyms

    pub fn kb_synonyms(&self) -> Result<Vec<SynonymGroup>> {
        let r = self.read()?;
        let t = r.open_table(KB_SYNONYMS)?;
        t.iter()?
            .map(|row| codec::decode("synonym group", row?.1.value()))
            .collect()
    }

    /// Replaces every synonym group.
    pub fn kb_replace_synonyms(&self, groups: &[SynonymGroup]) -> Result<()> {
        let w = self.write()?;
        {
            let mut t = w.open_table(KB_SYNONYMS)?;
            t.retain(|_, _| false)?;
            for (i, g) in groups.iter().enumerate() {
                t.insert(i as u32 + 1, codec::encode(g).as_slice())?;
            }
        }
        w.commit()?;
        Ok(())
    }

    // ---------------------------------------------------------- outbox

    /// How many search index updates are pending.
    pub fn search_outbox_len(&self) -> Result<u64> {
        Ok(self.read()?.open_table(SEARCH_OUTBOX)?.len()?)
    }

    /// The oldest pending search index updates.
    pub fn search_outbox_pending(&self, limit: usize) -> Result<Vec<(u64, OutboxEntry)>> {
        let r = self.read()?;
        let t = r.open_table(SEARCH_OUTBOX)?;
        t.iter()?
            .take(limit)
            .map(|row| {
                let (k, v) = row?;
                Ok((k.value(), codec::decode("outbox entry", v.value())?))
            })
            .collect()
    }

    /// Removes the entries up to and including `seq` (once indexed and the
    /// index committed); returns how many.
    pub fn search_outbox_delete_through(&self, seq: u64) -> Result<usize> {
        let w = self.write()?;
        let n = {
            let mut t = w.open_table(SEARCH_OUTBOX)?;
            let before = t.len()?;
            t.retain_in(..=seq, |_, _| false)?;
            (before - t.len()?) as usize
        };
        w.commit()?;
        Ok(n)
    }
}
