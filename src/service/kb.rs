//! The knowledge base's use cases: browsing, reading, proposing, reviewing
//! and publishing, notices and must-read acknowledgements, views and uses,
//! the search log and its reports, synonyms.
//!
//! Every rule is a pure function of `domain::kb`; this layer asks them with
//! the acting person and refuses with 403 / 409 and the reason. Publishes,
//! rejections, archiving and synonym changes also go into the audit log;
//! every published change is a new immutable version.
//!
//! The full-text search is NOT here: [`Services::search_articles`] is the
//! seam the search engine (src/search/) implements; until then it answers
//! 503 "search not available". The browsing list here filters by category,
//! department, validity and state only.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::views::fmt_time;
use super::{Actor, Directory, Services};
use crate::domain::kb::{
    self, Article, ArticleState, Content, Draft, FieldDiff, Kind, Proposal, ProposalState, Refusal,
    Validity, Version, Who,
};
use crate::domain::permissions::Scope;
use crate::domain::ticket::{Attachment, FieldError, TicketNo};
use crate::error::{Error, Result};
use crate::store::kb::{Publish, SearchRecord, SynonymGroup, UseRecord};

/// Candidates a browsing page reads at most before answering `partial`.
const MAX_SCAN: usize = 50_000;

// ------------------------------------------------------------ inputs

/// An attachment already uploaded through `POST /api/v1/attachments`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[schema(as = KbAttachmentRef)]
pub struct AttachmentRef {
    pub sha256: String,
    pub name: String,
}

/// Where files uploaded with a page form go (see
/// [`Services::kb_store_files`]); `department` is the responsible unit the
/// form names.
#[derive(Clone, Copy, Debug)]
pub enum AttachTarget {
    /// A proposal for a new article.
    New { department: Option<u32> },
    /// A correction to article `id`.
    Article { id: u64, department: Option<u32> },
    /// An edit of proposal `id`.
    Proposal { id: u64, department: Option<u32> },
}

/// An article as typed: for a new article absent fields are empty; for a
/// correction or a proposal edit absent fields keep their current value.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    /// `article` (default) or `faq`.
    pub kind: Option<String>,
    pub title: Option<String>,
    /// The caller's question (FAQ only).
    pub question: Option<String>,
    /// The answer or text.
    #[serde(alias = "answer")]
    pub body: Option<String>,
    /// Category path, segments joined by `/`, e.g. `社会保障/社保卡`.
    pub category: Option<String>,
    /// The responsible unit; `0` for none.
    pub department_id: Option<u32>,
    /// The responsible body by name when it is not a unit.
    pub department_name: Option<String>,
    pub keywords: Option<Vec<String>>,
    /// `YYYY-MM-DD`; `""` for none.
    pub valid_from: Option<String>,
    /// `YYYY-MM-DD` (last valid day); `""` for open-ended.
    pub valid_to: Option<String>,
    pub must_read: Option<bool>,
    pub attachments: Option<Vec<AttachmentRef>>,
    /// Why: what is wrong or what changed (e.g. "这个答复已经过时").
    pub note: Option<String>,
    /// The ticket that showed the need, `YYYYMMDD-NNNNNN`.
    pub ticket: Option<String>,
    /// Editors: publish at once instead of queueing for review.
    #[serde(default)]
    pub publish: bool,
}

/// Filters of the browsing list.
#[derive(Clone, Debug, Default, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// A category path: that node and everything below it.
    pub category: Option<String>,
    /// The responsible unit.
    pub department_id: Option<u32>,
    /// `current` (default), `expired`, `future` or `all`; only editors see
    /// other than `current`.
    pub validity: Option<String>,
    /// `published` (default), `archived` or `all` (editors).
    pub state: Option<String>,
    /// Only must-read articles.
    pub must_read: Option<bool>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

// ------------------------------------------------------------ views

#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = KbAttachmentView)]
pub struct AttachmentView {
    pub sha256: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// Where a logged-in browser downloads it: `/kb/{id}/attachments/{sha256}`
    /// for an article or one of its versions,
    /// `/kb/proposals/{id}/attachments/{sha256}` for a proposal.
    pub url: String,
}

/// An article's content as shown.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ContentView {
    pub kind: Kind,
    pub title: String,
    pub question: String,
    pub body: String,
    pub category: String,
    pub department_id: Option<u32>,
    /// The responsible department's name (unit or free text).
    pub department: String,
    pub keywords: Vec<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub must_read: bool,
    pub attachments: Vec<AttachmentView>,
}

/// One article, as read.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArticleView {
    pub id: u64,
    /// External code (the demo fixture's `kb-0001`), or empty.
    pub code: String,
    #[serde(flatten)]
    pub content: ContentView,
    pub state: ArticleState,
    /// Against today's date in the center's zone.
    pub validity: Validity,
    pub version: u32,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
    pub views: u64,
    pub uses: u64,
    /// For a must-read article: whether the viewer acknowledged this
    /// version (`null` when not must-read or the viewer is not an agent).
    pub acknowledged: Option<bool>,
}

/// A line of the browsing list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArticleSummary {
    pub id: u64,
    pub code: String,
    pub kind: Kind,
    pub title: String,
    pub category: String,
    pub department_id: Option<u32>,
    pub department: String,
    pub validity: Validity,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub must_read: bool,
    pub state: ArticleState,
    pub version: u32,
    pub updated_at: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArticlePage {
    pub items: Vec<ArticleSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// The scan stopped before filling the page; follow `next_cursor`.
    pub partial: bool,
}

/// A node of the category tree.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CategoryNode {
    pub path: String,
    pub name: String,
    pub depth: usize,
    /// Articles at or below this node (all states and dates).
    pub count: u64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VersionView {
    pub version: u32,
    pub author: String,
    pub editor: String,
    pub at: String,
    pub note: String,
    pub proposal_id: Option<u64>,
    pub content: ContentView,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DiffView {
    pub article_id: u64,
    pub from: u32,
    pub to: u32,
    /// Only the fields that differ.
    pub fields: Vec<FieldDiff>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProposalView {
    pub id: u64,
    /// `null` for a proposed new article.
    pub article_id: Option<u64>,
    pub base_version: u32,
    /// The article's version now (0 for a new article).
    pub current_version: u32,
    pub state: ProposalState,
    pub note: String,
    /// `YYYYMMDD-NNNNNN`.
    pub ticket: Option<String>,
    pub author_id: u32,
    pub author: String,
    pub created_at: String,
    pub updated_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The rejection reason or the publish note.
    pub reason: String,
    pub published_version: Option<u32>,
    pub content: ContentView,
    /// What publishing would change in the current article (empty for a
    /// new article).
    pub changes: Vec<FieldDiff>,
    /// Whether the viewer may edit it now.
    pub can_edit: bool,
    /// Whether the viewer may publish or reject it now.
    pub can_review: bool,
    /// Whether the viewer may withdraw it now.
    pub can_withdraw: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProposalList {
    pub items: Vec<ProposalView>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NoticeView {
    pub id: u64,
    pub article_id: u64,
    pub version: u32,
    pub title: String,
    pub must_read: bool,
    pub at: String,
    pub by: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AckPerson {
    pub user_id: u32,
    pub name: String,
    /// When they acknowledged (absent for those who have not).
    pub at: Option<String>,
}

/// Who acknowledged the current version of a must-read article.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AckStatus {
    pub article_id: u64,
    pub title: String,
    pub version: u32,
    pub acknowledged: Vec<AckPerson>,
    pub missing: Vec<AckPerson>,
}

#[derive(Clone, Debug, Deserialize, Default, ToSchema)]
#[schema(as = KbActionBody)]
pub struct ActionBody {
    /// `acknowledge`: the version read (default: the current one).
    pub version: Option<u32>,
    /// `use`: the ticket the answer went into, `YYYYMMDD-NNNNNN`.
    pub ticket: Option<String>,
    /// `use`: the search that led to the article.
    pub search_id: Option<u64>,
    /// `publish`: the note of the version; `reject`: the reason (required).
    pub note: Option<String>,
    /// `reject`: the reason (alias of `note`).
    pub reason: Option<String>,
}

/// What an article action did.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActionOutcome {
    pub article_id: u64,
    pub version: u32,
    /// `acknowledge`: false when it had already been acknowledged.
    pub recorded: bool,
    pub state: ArticleState,
}

/// A group of the missing-knowledge report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MissingRow {
    /// The normalised query.
    pub words: String,
    /// Searches with these words that found nothing or led to no use.
    pub count: u64,
    pub no_results: u64,
    /// Found something, but nothing was used.
    pub no_use: u64,
    pub last_at: String,
    /// One query as typed.
    pub example: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MissingReport {
    pub from: String,
    pub to: String,
    pub searches: u64,
    pub rows: Vec<MissingRow>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SummaryRow {
    pub article_id: u64,
    pub title: String,
    pub category: String,
    /// Versions published in the month.
    pub versions: Vec<u32>,
    pub last_at: String,
    pub editor: String,
    pub note: String,
}

/// Articles added and changed in one month.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MonthSummary {
    /// `YYYY-MM`.
    pub month: String,
    pub added: Vec<SummaryRow>,
    pub changed: Vec<SummaryRow>,
}

/// Articles editors must look after: expired, not yet valid, archived.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExpiredList {
    pub today: String,
    pub expired: Vec<ArticleSummary>,
    pub future: Vec<ArticleSummary>,
    pub archived: Vec<ArticleSummary>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Synonyms {
    /// Each group's terms; the first is the canonical one.
    pub groups: Vec<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArticleStats {
    pub article_id: u64,
    pub views: u64,
    pub uses: u64,
    pub recent_uses: Vec<UseView>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct UseView {
    pub ticket: String,
    pub user: String,
    pub at: String,
}

/// The search seam's question (implemented by the search engine).
#[derive(Clone, Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct KbSearchQuery {
    pub q: String,
    pub category: Option<String>,
    pub department_id: Option<u32>,
    /// Only articles valid today (default true; editors may pass false).
    pub valid_now: Option<bool>,
    /// 1–50, default 10.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<usize>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct KbSearchHit {
    pub article: ArticleSummary,
    pub score: f32,
    /// The title, HTML-escaped, with `<mark>` around the matched words.
    pub title_html: String,
    /// About 120 characters of the answer around the matches, HTML-escaped
    /// with `<mark>` around them.
    pub snippet: String,
    /// The whole answer as plain text (what the operator reads out or
    /// inserts into the ticket).
    pub answer: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct KbSearchResults {
    /// The search log id: pass it when opening (`?search_id=`) or using an
    /// article so the missing-knowledge report learns what helped.
    pub search_id: u64,
    /// How many articles match (all pages) when `total_exact` is true.
    /// When false the hits filled the page and the rest were not counted
    /// (counting every match of a common word costs more than the search):
    /// at least `total` articles match; show it as "`total`+" ("至少").
    pub total: usize,
    /// Whether `total` is the exact number of matches.
    pub total_exact: bool,
    pub hits: Vec<KbSearchHit>,
}

// ------------------------------------------------------------ helpers

fn who(actor: &Actor) -> Who<'_> {
    Who {
        user: actor.user.id,
        roles: &actor.user.roles,
        units: match &actor.scope {
            Scope::Units(s) => Some(s),
            Scope::All => None,
        },
    }
}

fn refused(r: Refusal) -> Error {
    match r {
        Refusal::Forbidden(m) => Error::Forbidden(m),
        Refusal::Conflict(m) => Error::Conflict(m),
    }
}

fn article_not_found(id: u64) -> Error {
    Error::NotFound(format!("知识 {id} 不存在 (article {id} not found)"))
}

fn proposal_not_found(id: u64) -> Error {
    Error::NotFound(format!("提议 {id} 不存在 (proposal {id} not found)"))
}

fn date_str(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn department_label(c: &Content, dir: &Directory) -> String {
    match c.department {
        Some(id) => dir.unit_name(id),
        None => c.department_name.clone(),
    }
}

/// `files` is the page that serves the attachments (`/kb/{id}` or
/// `/kb/proposals/{id}`).
fn content_view(c: &Content, dir: &Directory, files: &str) -> ContentView {
    ContentView {
        kind: c.kind,
        title: c.title.clone(),
        question: c.question.clone(),
        body: c.body.clone(),
        category: c.category.clone(),
        department_id: c.department,
        department: department_label(c, dir),
        keywords: c.keywords.clone(),
        valid_from: date_str(c.valid_from),
        valid_to: date_str(c.valid_to),
        must_read: c.must_read,
        attachments: c
            .attachments
            .iter()
            .map(|a| AttachmentView {
                sha256: a.sha256.clone(),
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
                url: format!("{files}/attachments/{}", a.sha256),
            })
            .collect(),
    }
}

fn summary(a: &Article, today: Date, dir: &Directory) -> ArticleSummary {
    ArticleSummary {
        id: a.id,
        code: a.code.clone(),
        kind: a.content.kind,
        title: a.content.title.clone(),
        category: a.content.category.clone(),
        department_id: a.content.department,
        department: department_label(&a.content, dir),
        validity: a.content.validity_on(today),
        valid_from: date_str(a.content.valid_from),
        valid_to: date_str(a.content.valid_to),
        must_read: a.content.must_read,
        state: a.state,
        version: a.version,
        updated_at: fmt_time(a.updated_at, dir),
    }
}

fn draft_of(c: &Content) -> Draft {
    Draft {
        kind: c.kind.as_str().into(),
        title: c.title.clone(),
        question: c.question.clone(),
        body: c.body.clone(),
        category: c.category.clone(),
        department: c.department,
        department_name: c.department_name.clone(),
        keywords: c.keywords.clone(),
        valid_from: c.valid_from.map(|d| d.to_string()).unwrap_or_default(),
        valid_to: c.valid_to.map(|d| d.to_string()).unwrap_or_default(),
        must_read: c.must_read,
    }
}

fn encode_cursor(k: &(String, u64)) -> String {
    format!("{}.{}", hex::encode(k.0.as_bytes()), k.1)
}

fn decode_cursor(s: &str) -> Option<(String, u64)> {
    let (h, id) = s.split_once('.')?;
    let cat = String::from_utf8(hex::decode(h).ok()?).ok()?;
    Some((cat, id.parse().ok()?))
}

fn validation(errors: Vec<FieldError>) -> Error {
    Error::Validation(errors)
}

/// `YYYY-MM` → the first day of that month and of the next.
fn month_bounds(s: &str) -> Option<(Date, Date)> {
    let (y, m) = s.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let first = Date::new(y.parse().ok()?, m.parse().ok()?, 1).ok()?;
    let next = first.checked_add(jiff::Span::new().months(1)).ok()?;
    Some((first, next))
}

impl Services {
    /// Today's date in the center's time zone.
    pub fn kb_today(&self) -> Date {
        self.now().to_zoned(self.dir().settings.tz()).date()
    }

    fn day_start(&self, d: Date) -> i64 {
        d.to_zoned(self.dir().settings.tz())
            .map(|z| z.timestamp().as_second())
            .unwrap_or(0)
    }

    fn require_reader(&self, actor: &Actor) -> Result<()> {
        if kb::can_read(&actor.user.roles) {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "您的角色无权阅读知识库 (your roles do not allow reading the knowledge base)"
                    .into(),
            ))
        }
    }

    /// Whether `actor` may put the stored file `sha` into an article by
    /// its hash (issue 12.5): they uploaded it (within
    /// [`super::attachments::UPLOAD_GRANT_SECONDS`]), or an article they
    /// may read already holds it. Files of tickets are never taken over by
    /// reference: an article is read by every department, a ticket's photo
    /// (a whistle-blower's, say) only by its units; whoever means to
    /// publish it downloads and uploads it on purpose.
    fn kb_may_reference(&self, actor: &Actor, sha: &str) -> Result<bool> {
        if self.uploads.uploaded_by(actor.user.id, sha) {
            return Ok(true);
        }
        let all = kb::sees_all_validity(&actor.user.roles);
        let mut found = false;
        self.store.kb_for_each_article(|a| {
            found = found
                || ((all || a.state != ArticleState::Archived)
                    && a.content.attachments.iter().any(|x| x.sha256 == sha));
        })?;
        Ok(found)
    }

    /// An article the actor may read: archived ones only for editors.
    fn readable_article(&self, actor: &Actor, id: u64) -> Result<Article> {
        self.require_reader(actor)?;
        let a = self
            .store
            .kb_article(id)?
            .ok_or_else(|| article_not_found(id))?;
        if a.state == ArticleState::Archived && !kb::sees_all_validity(&actor.user.roles) {
            return Err(article_not_found(id));
        }
        Ok(a)
    }

    fn article_view(&self, actor: &Actor, a: &Article) -> Result<ArticleView> {
        let dir = self.dir();
        let stats = self.store.kb_stats(a.id)?;
        let acknowledged = if a.content.must_read && kb::is_agent(&actor.user.roles) {
            Some(
                self.store
                    .kb_acks(a.id, a.version)?
                    .iter()
                    .any(|(u, _)| *u == actor.user.id),
            )
        } else {
            None
        };
        Ok(ArticleView {
            id: a.id,
            code: a.code.clone(),
            content: content_view(&a.content, &dir, &format!("/kb/{}", a.id)),
            state: a.state,
            validity: a.content.validity_on(self.kb_today()),
            version: a.version,
            created_at: fmt_time(a.created_at, &dir),
            created_by: dir.user_name(a.created_by),
            updated_at: fmt_time(a.updated_at, &dir),
            updated_by: dir.user_name(a.updated_by),
            views: stats.views,
            uses: stats.uses,
            acknowledged,
        })
    }

    // -------------------------------------------------------- browsing

    /// The browsing list: by category path then id, filtered. Everyone but
    /// editors sees only published articles valid today.
    pub fn kb_list(&self, actor: &Actor, q: &ArticleQuery) -> Result<ArticlePage> {
        self.require_reader(actor)?;
        let editor = kb::sees_all_validity(&actor.user.roles);
        let mut errors = vec![];
        let validity = match q.validity.as_deref().unwrap_or("current") {
            "" | "current" => Some(Validity::Current),
            "expired" => Some(Validity::Expired),
            "future" => Some(Validity::Future),
            "all" => None,
            other => {
                errors.push(FieldError::new(
                    "validity",
                    format!("应为 current、expired、future 或 all (validity is current, expired, future or all): {other}"),
                ));
                None
            }
        };
        let state = match q.state.as_deref().unwrap_or("published") {
            "" | "published" => Some(ArticleState::Published),
            "archived" => Some(ArticleState::Archived),
            "all" => None,
            other => {
                errors.push(FieldError::new(
                    "state",
                    format!("应为 published、archived 或 all (state is published, archived or all): {other}"),
                ));
                None
            }
        };
        let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match decode_cursor(c) {
                Some(k) => Some(k),
                None => {
                    errors.push(FieldError::new("cursor", "无效的分页标记 (invalid cursor)"));
                    None
                }
            },
        };
        let mut cat_errors = vec![];
        let prefix = match q
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(c) => kb::clean_category(c, &mut cat_errors),
            None => String::new(),
        };
        errors.extend(cat_errors);
        if !errors.is_empty() {
            return Err(validation(errors));
        }
        let (validity, state) = if editor {
            (validity, state)
        } else {
            (Some(Validity::Current), Some(ArticleState::Published))
        };
        let limit = q.limit.unwrap_or(50).clamp(1, 200);
        let today = self.kb_today();
        let dept = q.department_id.filter(|d| *d != 0);
        let must = q.must_read;
        let scan = self
            .store
            .kb_scan(&prefix, after.as_ref(), limit, MAX_SCAN, |a| {
                validity.is_none_or(|v| a.content.validity_on(today) == v)
                    && state.is_none_or(|s| a.state == s)
                    && dept.is_none_or(|d| a.content.department == Some(d))
                    && must.is_none_or(|m| a.content.must_read == m)
            })?;
        let dir = self.dir();
        Ok(ArticlePage {
            items: scan.items.iter().map(|a| summary(a, today, &dir)).collect(),
            next_cursor: scan.next.as_ref().map(encode_cursor),
            partial: scan.partial,
        })
    }

    /// The category tree with article counts.
    pub fn kb_tree(&self, actor: &Actor) -> Result<Vec<CategoryNode>> {
        self.require_reader(actor)?;
        Ok(kb::category_tree(&self.store.kb_category_counts()?)
            .into_iter()
            .map(|n| CategoryNode {
                path: n.path,
                name: n.name,
                depth: n.depth,
                count: n.count,
            })
            .collect())
    }

    /// Reads an article: counts the view, marks the reader's notices of it
    /// read, and notes the search it was opened from.
    pub fn kb_read(&self, actor: &Actor, id: u64, search_id: Option<u64>) -> Result<ArticleView> {
        let a = self.readable_article(actor, id)?;
        self.store.kb_record_view(id)?;
        self.store.kb_mark_read(actor.user.id, id)?;
        if let Some(s) = search_id
            && self
                .store
                .kb_search(s)?
                .is_some_and(|r| r.user == actor.user.id)
        {
            self.store.kb_search_opened(s, id)?;
        }
        self.article_view(actor, &a)
    }

    /// An article without counting a view (forms, integrations).
    pub fn kb_article(&self, actor: &Actor, id: u64) -> Result<ArticleView> {
        let a = self.readable_article(actor, id)?;
        self.article_view(actor, &a)
    }

    /// The id of the article with an external code (the fixture's
    /// `kb-0001`).
    pub fn kb_id_of_code(&self, code: &str) -> Result<Option<u64>> {
        Ok(self.store.kb_article_by_code(code)?.map(|a| a.id))
    }

    /// A file attached to an article the actor may read.
    pub fn kb_attachment(
        &self,
        actor: &Actor,
        id: u64,
        sha: &str,
    ) -> Result<(std::path::PathBuf, Attachment)> {
        let a = self.readable_article(actor, id)?;
        let att = a
            .content
            .attachments
            .iter()
            .find(|x| x.sha256 == sha)
            .cloned()
            .ok_or_else(|| Error::NotFound("附件不存在 (attachment not found)".into()))?;
        Ok((self.attachment_path(&att.sha256), att))
    }

    /// A file attached to a proposal the actor may see (reviewers look at
    /// the files before publishing; a new article has no article page yet).
    pub fn kb_proposal_attachment(
        &self,
        actor: &Actor,
        pid: u64,
        sha: &str,
    ) -> Result<(std::path::PathBuf, Attachment)> {
        let p = self.visible_proposal(actor, pid)?;
        let att = p
            .content
            .attachments
            .iter()
            .find(|x| x.sha256 == sha)
            .cloned()
            .ok_or_else(|| Error::NotFound("附件不存在 (attachment not found)".into()))?;
        Ok((self.attachment_path(&att.sha256), att))
    }

    /// Stores files for a proposal the actor is about to save to `target`
    /// (the page forms upload with the proposal): first the same rule as
    /// the save itself (a department user attaches only to their own
    /// department's articles), then every file's type, size and emptiness
    /// and the number of attachments (`keeping` already listed plus the new
    /// ones). Nothing is stored unless every file is acceptable; the
    /// answer references the stored files for [`ArticleInput::attachments`].
    pub fn kb_store_files(
        &self,
        actor: &Actor,
        target: AttachTarget,
        files: &[(String, Vec<u8>)],
        keeping: usize,
    ) -> Result<Vec<AttachmentRef>> {
        self.require_reader(actor)?;
        let w = who(actor);
        match target {
            AttachTarget::New { department } => {
                kb::check_propose_new(&w, department).map_err(refused)?
            }
            AttachTarget::Article { id, department } => {
                let a = self.readable_article(actor, id)?;
                kb::check_propose_change(&w, &a, department).map_err(refused)?
            }
            AttachTarget::Proposal { id, department } => {
                let p = self.load_proposal(actor, id)?;
                kb::check_edit_proposal(&w, &p, department).map_err(refused)?
            }
        }
        let mut errors = vec![];
        if keeping + files.len() > kb::limits::ATTACHMENTS {
            errors.push(FieldError::new(
                "files",
                format!(
                    "最多{}个附件，现有{}个、新选{}个 (at most {} attachments)",
                    kb::limits::ATTACHMENTS,
                    keeping,
                    files.len(),
                    kb::limits::ATTACHMENTS
                ),
            ));
        }
        for (name, bytes) in files {
            if let Err(e) = self.check_attachment(name, bytes) {
                match e {
                    Error::Validation(v) => {
                        errors.extend(v.into_iter().map(|f| FieldError::new("files", f.message)))
                    }
                    Error::PayloadTooLarge(m) => errors.push(FieldError::new("files", m)),
                    other => return Err(other),
                }
            }
        }
        if !errors.is_empty() {
            return Err(validation(errors));
        }
        let mut out = Vec::with_capacity(files.len());
        for (name, bytes) in files {
            let up = self.store_attachment(actor, name, bytes)?;
            out.push(AttachmentRef {
                sha256: up.sha256,
                name: up.name,
            });
        }
        Ok(out)
    }

    // -------------------------------------------------------- versions

    fn version_view(&self, v: &Version, dir: &Directory) -> VersionView {
        VersionView {
            version: v.version,
            author: dir.user_name(v.author),
            editor: dir.user_name(v.editor),
            at: fmt_time(v.at, dir),
            note: v.note.clone(),
            proposal_id: v.proposal,
            content: content_view(&v.content, dir, &format!("/kb/{}", v.article)),
        }
    }

    /// Every version, newest first.
    pub fn kb_versions(&self, actor: &Actor, id: u64) -> Result<Vec<VersionView>> {
        self.readable_article(actor, id)?;
        let dir = self.dir();
        let mut v: Vec<VersionView> = self
            .store
            .kb_versions(id)?
            .iter()
            .map(|v| self.version_view(v, &dir))
            .collect();
        v.reverse();
        Ok(v)
    }

    pub fn kb_version(&self, actor: &Actor, id: u64, version: u32) -> Result<VersionView> {
        self.readable_article(actor, id)?;
        let v = self.store.kb_version(id, version)?.ok_or_else(|| {
            Error::NotFound(format!(
                "知识 {id} 没有第 {version} 版 (article {id} has no version {version})"
            ))
        })?;
        Ok(self.version_view(&v, &self.dir()))
    }

    /// The differences between two versions (`to` defaults to the current
    /// one, `from` to the one before `to`).
    pub fn kb_diff(
        &self,
        actor: &Actor,
        id: u64,
        from: Option<u32>,
        to: Option<u32>,
    ) -> Result<DiffView> {
        let a = self.readable_article(actor, id)?;
        let to = to.unwrap_or(a.version);
        let from = from.unwrap_or(to.saturating_sub(1).max(1));
        let get = |v: u32| -> Result<Version> {
            self.store.kb_version(id, v)?.ok_or_else(|| {
                Error::NotFound(format!(
                    "知识 {id} 没有第 {v} 版 (article {id} has no version {v})"
                ))
            })
        };
        let (old, new) = (get(from)?, get(to)?);
        let dir = self.dir();
        Ok(DiffView {
            article_id: id,
            from,
            to,
            fields: kb::diff_content(&old.content, &new.content, |c| department_label(c, &dir)),
        })
    }

    // -------------------------------------------------------- proposals

    /// Applies typed input over `base`, validates, checks units, ticket and
    /// attachments. Returns the content, note and ticket.
    fn check_input(
        &self,
        base: &Content,
        actor: &Actor,
        base_attachments: &[Attachment],
        input: &ArticleInput,
    ) -> Result<(Content, String, Option<u64>)> {
        let mut d = draft_of(base);
        let set = |v: &Option<String>, slot: &mut String| {
            if let Some(v) = v {
                *slot = v.clone();
            }
        };
        set(&input.kind, &mut d.kind);
        set(&input.title, &mut d.title);
        set(&input.question, &mut d.question);
        set(&input.body, &mut d.body);
        set(&input.category, &mut d.category);
        set(&input.department_name, &mut d.department_name);
        set(&input.valid_from, &mut d.valid_from);
        set(&input.valid_to, &mut d.valid_to);
        if let Some(k) = &input.keywords {
            d.keywords = k.clone();
        }
        if let Some(m) = input.must_read {
            d.must_read = m;
        }
        if let Some(dep) = input.department_id {
            d.department = (dep != 0).then_some(dep);
        }
        let mut errors = vec![];
        let content = kb::validate(&d);
        let note = match kb::clean_note("note", input.note.as_deref().unwrap_or(""), false) {
            Ok(n) => n,
            Err(e) => {
                errors.extend(e);
                String::new()
            }
        };
        let dir = self.dir();
        if let Some(dep) = d.department
            && dir.unit(dep).is_none()
        {
            errors.push(FieldError::new(
                "department_id",
                format!("单位 {dep} 不存在 (unit {dep} does not exist)"),
            ));
        }
        let ticket = match input
            .ticket
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => None,
            Some(t) => match TicketNo::parse(t) {
                Some(n) if self.store.ticket(n)?.is_some() => Some(n.0),
                Some(_) => {
                    errors.push(FieldError::new(
                        "ticket",
                        format!("工单 {t} 不存在 (ticket {t} not found)"),
                    ));
                    None
                }
                None => {
                    errors.push(FieldError::new(
                        "ticket",
                        format!("工单编号格式应为 YYYYMMDD-NNNNNN (ticket numbers look like 20261122-000123): {t}"),
                    ));
                    None
                }
            },
        };
        let attachments = match &input.attachments {
            None => base_attachments.to_vec(),
            Some(list) => {
                if list.len() > kb::limits::ATTACHMENTS {
                    errors.push(FieldError::new(
                        "attachments",
                        format!(
                            "最多{}个附件 (at most {} attachments)",
                            kb::limits::ATTACHMENTS,
                            kb::limits::ATTACHMENTS
                        ),
                    ));
                }
                let mut out = vec![];
                for a in list {
                    let sha = a.sha256.trim().to_ascii_lowercase();
                    if !base_attachments.iter().any(|b| b.sha256 == sha)
                        && !self.kb_may_reference(actor, &sha)?
                    {
                        errors.push(FieldError::new(
                            "attachments",
                            format!(
                                "不能引用附件 {sha}：只能引用您上传的文件或您能阅读的知识库文章中的文件 (you may reference only files you uploaded or files of articles you can read)"
                            ),
                        ));
                        continue;
                    }
                    match self.attachment_meta(&a.sha256, &a.name) {
                        Ok(m) => out.push(m),
                        Err(m) => errors.push(FieldError::new("attachments", m)),
                    }
                }
                out
            }
        };
        match content {
            Ok(mut c) if errors.is_empty() => {
                c.attachments = attachments;
                Ok((c, note, ticket))
            }
            Ok(_) => Err(validation(errors)),
            Err(mut e) => {
                e.extend(errors);
                Err(validation(e))
            }
        }
    }

    fn proposal_view(&self, actor: &Actor, p: &Proposal) -> Result<ProposalView> {
        let dir = self.dir();
        let w = who(actor);
        let current = match p.article {
            Some(id) => self.store.kb_article(id)?,
            None => None,
        };
        let changes = match (&current, p.state) {
            (Some(a), ProposalState::Pending) => {
                kb::diff_content(&a.content, &p.content, |c| department_label(c, &dir))
            }
            _ => vec![],
        };
        Ok(ProposalView {
            id: p.id,
            article_id: p.article,
            base_version: p.base_version,
            current_version: current.as_ref().map(|a| a.version).unwrap_or(0),
            state: p.state,
            note: p.note.clone(),
            ticket: p.ticket.map(|t| TicketNo(t).to_string()),
            author_id: p.author,
            author: dir.user_name(p.author),
            created_at: fmt_time(p.created_at, &dir),
            updated_at: fmt_time(p.updated_at, &dir),
            decided_by: (p.decided_by != 0).then(|| dir.user_name(p.decided_by)),
            decided_at: (p.decided_at != 0).then(|| fmt_time(p.decided_at, &dir)),
            reason: p.reason.clone(),
            published_version: (p.published_version != 0).then_some(p.published_version),
            content: content_view(&p.content, &dir, &format!("/kb/proposals/{}", p.id)),
            changes,
            can_edit: kb::check_edit_proposal(&w, p, p.content.department).is_ok(),
            can_review: kb::check_review(&w, p).is_ok(),
            can_withdraw: kb::check_withdraw(&w, p).is_ok(),
        })
    }

    /// Proposes a new article; an editor with `publish: true` publishes it
    /// at once.
    pub fn kb_propose_new(&self, actor: &Actor, input: ArticleInput) -> Result<ProposalView> {
        self.require_reader(actor)?;
        let empty = Content {
            kind: Kind::Article,
            title: String::new(),
            question: String::new(),
            body: String::new(),
            category: String::new(),
            department: None,
            department_name: String::new(),
            keywords: vec![],
            valid_from: None,
            valid_to: None,
            must_read: false,
            attachments: vec![],
        };
        let (content, note, ticket) = self.check_input(&empty, actor, &[], &input)?;
        kb::check_propose_new(&who(actor), content.department).map_err(refused)?;
        self.create_proposal(actor, None, 0, content, note, ticket, input.publish)
    }

    /// Proposes a correction to an article (absent fields keep the current
    /// content; a note alone says what is wrong); an editor with
    /// `publish: true` publishes it at once.
    pub fn kb_propose_change(
        &self,
        actor: &Actor,
        id: u64,
        input: ArticleInput,
    ) -> Result<ProposalView> {
        let a = self.readable_article(actor, id)?;
        let (content, note, ticket) =
            self.check_input(&a.content, actor, &a.content.attachments, &input)?;
        kb::check_propose_change(&who(actor), &a, content.department).map_err(refused)?;
        if content == a.content && note.is_empty() {
            return Err(Error::field(
                "note",
                "请说明哪里有误，或修改内容 (say what is wrong, or change the content)",
            ));
        }
        self.create_proposal(
            actor,
            Some(id),
            a.version,
            content,
            note,
            ticket,
            input.publish,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn create_proposal(
        &self,
        actor: &Actor,
        article: Option<u64>,
        base_version: u32,
        content: Content,
        note: String,
        ticket: Option<u64>,
        publish: bool,
    ) -> Result<ProposalView> {
        if publish {
            kb::check_editor(&who(actor)).map_err(refused)?;
        }
        let now = self.now().as_second();
        let p = self.store.kb_create_proposal(Proposal {
            id: 0,
            article,
            base_version,
            content,
            note,
            ticket,
            author: actor.user.id,
            created_at: now,
            updated_at: now,
            updated_by: actor.user.id,
            state: ProposalState::Pending,
            decided_by: 0,
            decided_at: 0,
            reason: String::new(),
            published_version: 0,
        })?;
        if publish {
            let note = p.note.clone();
            self.kb_publish(actor, p.id, Some(note))?;
            let p = self
                .store
                .kb_proposal(p.id)?
                .ok_or_else(|| proposal_not_found(p.id))?;
            return self.proposal_view(actor, &p);
        }
        self.proposal_view(actor, &p)
    }

    fn visible_proposal(&self, actor: &Actor, id: u64) -> Result<Proposal> {
        self.require_reader(actor)?;
        let p = self
            .store
            .kb_proposal(id)?
            .ok_or_else(|| proposal_not_found(id))?;
        if !kb::can_see_proposal(&who(actor), &p) {
            return Err(proposal_not_found(id));
        }
        Ok(p)
    }

    /// A proposal to act on: the rules (author, editor) decide and say
    /// why with 403, so only a missing id is 404.
    fn load_proposal(&self, actor: &Actor, id: u64) -> Result<Proposal> {
        self.require_reader(actor)?;
        self.store
            .kb_proposal(id)?
            .ok_or_else(|| proposal_not_found(id))
    }

    pub fn kb_proposal(&self, actor: &Actor, id: u64) -> Result<ProposalView> {
        let p = self.visible_proposal(actor, id)?;
        self.proposal_view(actor, &p)
    }

    /// Edits a pending proposal: its author, or an editor (who thereby
    /// rebases a correction on the article's current version).
    pub fn kb_update_proposal(
        &self,
        actor: &Actor,
        id: u64,
        input: ArticleInput,
    ) -> Result<ProposalView> {
        let p = self.load_proposal(actor, id)?;
        let w = who(actor);
        let mut np = p.clone();
        // An editor's save brings a stale correction up to the current
        // version: the proposal's own changes over the current content.
        let mut start = p.content.clone();
        if let Some(aid) = p.article
            && kb::is_editor(w.roles)
            && p.state == ProposalState::Pending
        {
            let a = self
                .store
                .kb_article(aid)?
                .ok_or_else(|| article_not_found(aid))?;
            if a.version != p.base_version
                && let Some(base) = self.store.kb_version(aid, p.base_version)?
            {
                start = kb::rebase(&base.content, &p.content, &a.content);
            }
            np.base_version = a.version;
        }
        let (content, note, ticket) =
            self.check_input(&start, actor, &start.attachments, &input)?;
        kb::check_edit_proposal(&w, &p, content.department).map_err(refused)?;
        np.content = content;
        if input.note.is_some() {
            np.note = note;
        }
        if input.ticket.is_some() {
            np.ticket = ticket;
        }
        np.updated_at = self.now().as_second().max(p.updated_at + 1);
        np.updated_by = actor.user.id;
        self.store.kb_update_proposal(&np, p.updated_at)?;
        if input.publish {
            self.kb_publish(actor, id, None)?;
            let p = self
                .store
                .kb_proposal(id)?
                .ok_or_else(|| proposal_not_found(id))?;
            return self.proposal_view(actor, &p);
        }
        self.proposal_view(actor, &np)
    }

    /// The review queue (editors: every proposal in `state`, default
    /// pending) or the actor's own proposals (everyone else).
    pub fn kb_proposals(
        &self,
        actor: &Actor,
        state: Option<&str>,
        cursor: Option<&str>,
        limit: Option<usize>,
    ) -> Result<ProposalList> {
        self.require_reader(actor)?;
        let editor = kb::is_editor(&actor.user.roles);
        let state = match state.map(str::trim).filter(|s| !s.is_empty()) {
            None if editor => Some(ProposalState::Pending),
            None | Some("all") => None,
            Some(s) => Some(ProposalState::parse(s).ok_or_else(|| {
                Error::field(
                    "state",
                    format!("应为 pending、published、rejected、withdrawn 或 all (state is pending, published, rejected, withdrawn or all): {s}"),
                )
            })?),
        };
        let before = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                c.parse::<u64>()
                    .map_err(|_| Error::field("cursor", "无效的分页标记 (invalid cursor)"))?,
            ),
        };
        let limit = limit.unwrap_or(50).clamp(1, 200);
        let me = actor.user.id;
        let list = self
            .store
            .kb_proposals(state, before, limit + 1, |p| editor || p.author == me)?;
        let more = list.len() > limit;
        let items: Vec<ProposalView> = list
            .iter()
            .take(limit)
            .map(|p| self.proposal_view(actor, p))
            .collect::<Result<_>>()?;
        Ok(ProposalList {
            next_cursor: if more {
                items.last().map(|p| p.id.to_string())
            } else {
                None
            },
            items,
        })
    }

    /// How many proposals wait for review (0 for non-editors).
    pub fn kb_pending_count(&self, actor: &Actor) -> u64 {
        if kb::is_editor(&actor.user.roles) {
            self.store.kb_pending_count().unwrap_or(0)
        } else {
            0
        }
    }

    /// Publishes a pending proposal as the article's next version (or its
    /// first), notifies every agent, and records it in the audit log.
    pub fn kb_publish(&self, actor: &Actor, id: u64, note: Option<String>) -> Result<ArticleView> {
        let p = self.load_proposal(actor, id)?;
        let w = who(actor);
        kb::check_review(&w, &p).map_err(refused)?;
        let note = match note {
            Some(n) => kb::clean_note("note", &n, false).map_err(validation)?,
            None => p.note.clone(),
        };
        let now = self.now().as_second();
        let (article, old_version) = match p.article {
            None => (
                Article {
                    id: 0,
                    code: String::new(),
                    content: p.content.clone(),
                    state: ArticleState::Published,
                    version: 1,
                    created_at: now,
                    created_by: p.author,
                    updated_at: now,
                    updated_by: actor.user.id,
                },
                0,
            ),
            Some(aid) => {
                let cur = self
                    .store
                    .kb_article(aid)?
                    .ok_or_else(|| article_not_found(aid))?;
                if cur.version != p.base_version {
                    return Err(Error::Conflict(format!(
                        "提议基于第 {} 版，知识现已是第 {} 版：请先打开提议核对差异并保存，再发布 (the proposal was written against version {} but the article is now at version {}: open it, check the differences and save it, then publish)",
                        p.base_version, cur.version, p.base_version, cur.version
                    )));
                }
                let v = cur.version;
                (
                    Article {
                        content: p.content.clone(),
                        version: v + 1,
                        updated_at: now,
                        updated_by: actor.user.id,
                        ..cur
                    },
                    v,
                )
            }
        };
        let mut settled = p.clone();
        settled.decided_by = actor.user.id;
        settled.decided_at = now;
        settled.reason = note.clone();
        let recipients: Vec<u32> = self
            .store
            .users()?
            .into_iter()
            .filter(|u| u.enabled && kb::is_agent(&u.roles) && u.id != actor.user.id)
            .map(|u| u.id)
            .collect();
        let a = self.store.kb_publish(Publish {
            version: Version {
                article: article.id,
                version: article.version,
                content: article.content.clone(),
                author: p.author,
                editor: actor.user.id,
                at: now,
                note: note.clone(),
                proposal: Some(p.id),
            },
            article,
            proposal: Some(settled),
            notice_recipients: recipients,
        })?;
        self.audit(
            actor.user.id,
            "kb.publish",
            &format!("article {} v{}", a.id, a.version),
            &format!(
                "proposal {}; from v{old_version}; {}; {}",
                p.id,
                a.content.title,
                note.chars().take(200).collect::<String>()
            ),
        );
        self.article_view(actor, &a)
    }

    /// Rejects a pending proposal with a reason (editors).
    pub fn kb_reject(&self, actor: &Actor, id: u64, reason: &str) -> Result<ProposalView> {
        let p = self.load_proposal(actor, id)?;
        kb::check_review(&who(actor), &p).map_err(refused)?;
        let reason = kb::clean_note("reason", reason, true).map_err(validation)?;
        let mut np = p.clone();
        let now = self.now().as_second().max(p.updated_at + 1);
        np.state = ProposalState::Rejected;
        np.decided_by = actor.user.id;
        np.decided_at = now;
        np.reason = reason.clone();
        np.updated_at = now;
        np.updated_by = actor.user.id;
        self.store.kb_update_proposal(&np, p.updated_at)?;
        self.audit(
            actor.user.id,
            "kb.reject",
            &format!("proposal {}", p.id),
            &format!("{}: {reason}", np.content.title),
        );
        self.proposal_view(actor, &np)
    }

    /// Withdraws one's own pending proposal.
    pub fn kb_withdraw(&self, actor: &Actor, id: u64) -> Result<ProposalView> {
        let p = self.load_proposal(actor, id)?;
        kb::check_withdraw(&who(actor), &p).map_err(refused)?;
        let mut np = p.clone();
        let now = self.now().as_second().max(p.updated_at + 1);
        np.state = ProposalState::Withdrawn;
        np.updated_at = now;
        np.updated_by = actor.user.id;
        self.store.kb_update_proposal(&np, p.updated_at)?;
        self.proposal_view(actor, &np)
    }

    /// Archives (`archived`) or restores (`published`) an article
    /// (editors); audited.
    pub fn kb_set_state(&self, actor: &Actor, id: u64, state: ArticleState) -> Result<ArticleView> {
        let a = self.readable_article(actor, id)?;
        kb::check_editor(&who(actor)).map_err(refused)?;
        if a.state == state {
            return self.article_view(actor, &a);
        }
        let a = self.store.kb_set_state(id, state, a.version)?;
        self.audit(
            actor.user.id,
            if state == ArticleState::Archived {
                "kb.archive"
            } else {
                "kb.restore"
            },
            &format!("article {id}"),
            &a.content.title,
        );
        self.article_view(actor, &a)
    }

    // -------------------------------------------------------- notices

    pub fn kb_unread(&self, actor: &Actor) -> Result<Vec<NoticeView>> {
        self.require_reader(actor)?;
        let dir = self.dir();
        Ok(self
            .store
            .kb_unread(actor.user.id)?
            .into_iter()
            .map(|(id, n)| NoticeView {
                id,
                article_id: n.article,
                version: n.version,
                title: n.title,
                must_read: n.must_read,
                at: fmt_time(n.at, &dir),
                by: dir.user_name(n.by),
            })
            .collect())
    }

    /// The number in the page header's badge.
    pub fn kb_unread_count(&self, user: u32) -> u64 {
        self.store.kb_unread_count(user).unwrap_or(0)
    }

    pub fn kb_mark_all_read(&self, actor: &Actor) -> Result<usize> {
        self.require_reader(actor)?;
        Ok(self.store.kb_mark_all_read(actor.user.id)?)
    }

    // -------------------------------------------------------- actions

    /// `acknowledge`, `use`, `archive`, `restore` on an article.
    pub fn kb_article_action(
        &self,
        actor: &Actor,
        id: u64,
        action: &str,
        body: ActionBody,
    ) -> Result<ActionOutcome> {
        match action {
            "acknowledge" => self.kb_acknowledge(actor, id, body.version),
            "use" => {
                let ticket = body.ticket.unwrap_or_default();
                self.record_use(actor, id, &ticket, body.search_id)
            }
            "archive" | "restore" => {
                let s = if action == "archive" {
                    ArticleState::Archived
                } else {
                    ArticleState::Published
                };
                let a = self.kb_set_state(actor, id, s)?;
                Ok(ActionOutcome {
                    article_id: id,
                    version: a.version,
                    recorded: true,
                    state: a.state,
                })
            }
            other => Err(Error::NotFound(format!(
                "没有这个操作 (no such action): {other}; 可用 acknowledge、use、archive、restore"
            ))),
        }
    }

    /// Acknowledges the current version of a must-read article.
    pub fn kb_acknowledge(
        &self,
        actor: &Actor,
        id: u64,
        version: Option<u32>,
    ) -> Result<ActionOutcome> {
        let a = self.readable_article(actor, id)?;
        kb::check_acknowledge(&who(actor), &a).map_err(refused)?;
        let v = version.unwrap_or(a.version);
        let recorded = self
            .store
            .kb_acknowledge(id, v, actor.user.id, self.now().as_second())?;
        self.store.kb_mark_read(actor.user.id, id)?;
        Ok(ActionOutcome {
            article_id: id,
            version: v,
            recorded,
            state: a.state,
        })
    }

    /// Records that an article's answer went into a ticket (the intake
    /// page calls this when the operator inserts an answer).
    pub fn record_use(
        &self,
        actor: &Actor,
        article_id: u64,
        ticket_number: &str,
        search_id: Option<u64>,
    ) -> Result<ActionOutcome> {
        let a = self.readable_article(actor, article_id)?;
        if !kb::can_record_use(&actor.user.roles) {
            return Err(Error::Forbidden(
                "您的角色不填写工单答复 (your roles do not write answers into tickets)".into(),
            ));
        }
        let t = ticket_number.trim();
        if t.is_empty() {
            return Err(Error::field(
                "ticket",
                "请填写工单编号 (the ticket number is required)",
            ));
        }
        if TicketNo::parse(t).is_none() {
            return Err(Error::field(
                "ticket",
                format!(
                    "工单编号格式应为 YYYYMMDD-NNNNNN (ticket numbers look like 20261122-000123): {t}"
                ),
            ));
        }
        let ticket = self.ticket(actor, t)?;
        let search = match search_id {
            Some(s)
                if self
                    .store
                    .kb_search(s)?
                    .is_some_and(|r| r.user == actor.user.id) =>
            {
                Some(s)
            }
            _ => None,
        };
        self.store.kb_record_use(&UseRecord {
            article: article_id,
            ticket: ticket.number.0,
            user: actor.user.id,
            at: self.now().as_second(),
            search,
        })?;
        Ok(ActionOutcome {
            article_id,
            version: a.version,
            recorded: true,
            state: a.state,
        })
    }

    /// Views, uses and the last uses of an article.
    pub fn kb_article_stats(&self, actor: &Actor, id: u64) -> Result<ArticleStats> {
        self.readable_article(actor, id)?;
        let s = self.store.kb_stats(id)?;
        let dir = self.dir();
        Ok(ArticleStats {
            article_id: id,
            views: s.views,
            uses: s.uses,
            recent_uses: self
                .store
                .kb_uses_of(id, 20)?
                .into_iter()
                .map(|u| UseView {
                    ticket: TicketNo(u.ticket).to_string(),
                    user: dir.user_name(u.user),
                    at: fmt_time(u.at, &dir),
                })
                .collect(),
        })
    }

    // -------------------------------------------------------- acks

    fn agents(&self) -> Result<Vec<crate::domain::org::User>> {
        Ok(self
            .store
            .users()?
            .into_iter()
            .filter(|u| u.enabled && kb::is_agent(&u.roles))
            .collect())
    }

    fn ack_status_of(
        &self,
        a: &Article,
        agents: &[crate::domain::org::User],
        dir: &Directory,
    ) -> Result<AckStatus> {
        let acks: HashMap<u32, i64> = self.store.kb_acks(a.id, a.version)?.into_iter().collect();
        let (mut acknowledged, mut missing) = (vec![], vec![]);
        for u in agents {
            let p = AckPerson {
                user_id: u.id,
                name: u.display_name.clone(),
                at: acks.get(&u.id).map(|t| fmt_time(*t, dir)),
            };
            if p.at.is_some() {
                acknowledged.push(p);
            } else {
                missing.push(p);
            }
        }
        Ok(AckStatus {
            article_id: a.id,
            title: a.content.title.clone(),
            version: a.version,
            acknowledged,
            missing,
        })
    }

    /// Who has (not) acknowledged the current version of a must-read
    /// article (team leads and administrators).
    pub fn kb_ack_status(&self, actor: &Actor, id: u64) -> Result<AckStatus> {
        let a = self.readable_article(actor, id)?;
        kb::check_editor(&who(actor)).map_err(refused)?;
        if !a.content.must_read {
            return Err(Error::Conflict(
                "这篇知识不是必读 (this article is not must-read)".into(),
            ));
        }
        self.ack_status_of(&a, &self.agents()?, &self.dir())
    }

    /// Every published must-read article valid today with its missing
    /// acknowledgements, most missing first.
    pub fn kb_ack_overview(&self, actor: &Actor) -> Result<Vec<AckStatus>> {
        self.require_reader(actor)?;
        kb::check_editor(&who(actor)).map_err(refused)?;
        let today = self.kb_today();
        let mut must = vec![];
        self.store.kb_for_each_article(|a| {
            if a.content.must_read && a.state == ArticleState::Published && a.valid_on(today) {
                must.push(a);
            }
        })?;
        let agents = self.agents()?;
        let dir = self.dir();
        let mut out: Vec<AckStatus> = must
            .iter()
            .map(|a| self.ack_status_of(a, &agents, &dir))
            .collect::<Result<_>>()?;
        out.sort_by(|a, b| {
            b.missing
                .len()
                .cmp(&a.missing.len())
                .then(a.article_id.cmp(&b.article_id))
        });
        Ok(out)
    }

    // -------------------------------------------------------- editors' lists

    /// Expired, not-yet-valid and archived articles (editors).
    pub fn kb_expired(&self, actor: &Actor) -> Result<ExpiredList> {
        self.require_reader(actor)?;
        kb::check_editor(&who(actor)).map_err(refused)?;
        let today = self.kb_today();
        let dir = self.dir();
        let (mut expired, mut future, mut archived) = (vec![], vec![], vec![]);
        self.store.kb_for_each_article(|a| {
            let s = summary(&a, today, &dir);
            if a.state == ArticleState::Archived {
                archived.push(s);
            } else {
                match s.validity {
                    Validity::Expired => expired.push(s),
                    Validity::Future => future.push(s),
                    Validity::Current => {}
                }
            }
        })?;
        expired.sort_by(|a, b| b.valid_to.cmp(&a.valid_to));
        future.sort_by(|a, b| a.valid_from.cmp(&b.valid_from));
        Ok(ExpiredList {
            today: today.to_string(),
            expired,
            future,
            archived,
        })
    }

    // -------------------------------------------------------- searches

    /// THE SEARCH SEAM: full-text search of the knowledge base. The search
    /// engine (src/search/, tantivy + jieba) implements this: run the
    /// query with `q`'s filters (non-editors: published and valid today
    /// only), log it with [`Services::record_search`], and answer hits with
    /// snippets. Until it is plugged in this answers 503.
    pub fn search_articles(&self, actor: &Actor, q: &KbSearchQuery) -> Result<KbSearchResults> {
        self.require_reader(actor)?;
        // Read your own writes: index what is pending (skipped while a
        // rebuild runs; the background task catches up within a second).
        if let Err(e) = self.search.sync(&self.store, false) {
            tracing::warn!(error = %e, "search sync failed");
        }
        if q.q.chars().count() > 1_000 {
            return Err(Error::field(
                "q",
                "检索词太长，请不超过1000个字 (the query is too long: at most 1,000 characters)",
            ));
        }
        let editor = kb::is_editor(&actor.user.roles);
        // Operators see only what is valid today; editors may ask for all.
        let valid_now = q.valid_now.unwrap_or(true) || !editor;
        let today = self.kb_today();
        let mut aq = crate::search::ArticleQuery::new(q.q.clone());
        aq.category = q.category.clone().filter(|c| !c.trim().is_empty());
        aq.department_id = q.department_id;
        aq.valid_on = valid_now.then_some(today);
        aq.limit = q.limit.unwrap_or(10).clamp(1, 50);
        let res = self
            .search
            .index
            .search_articles(&aq)
            .map_err(Error::internal)?;
        let dir = self.dir();
        let mut hits = Vec::with_capacity(res.hits.len());
        for h in res.hits {
            let Some(a) = self.store.kb_article(h.id)? else {
                continue;
            };
            if a.state != ArticleState::Published && !editor {
                continue;
            }
            hits.push(KbSearchHit {
                article: summary(&a, today, &dir),
                score: h.score,
                title_html: h.title_html,
                snippet: h.snippet_html,
                answer: a.content.body.clone(),
            });
        }
        let search_id = if q.q.trim().is_empty() {
            0
        } else {
            self.record_search(actor, &q.q, res.total.min(u32::MAX as usize) as u32)?
        };
        Ok(KbSearchResults {
            search_id,
            total: res.total,
            total_exact: res.total_exact,
            hits,
        })
    }

    /// Logs a search for the missing-knowledge report; returns its id.
    /// The search integration calls this once per search it answers.
    pub fn record_search(&self, actor: &Actor, query: &str, results: u32) -> Result<u64> {
        self.require_reader(actor)?;
        let query: String = query
            .chars()
            .filter(|c| !c.is_control())
            .take(kb::limits::QUERY)
            .collect();
        Ok(self.store.kb_record_search(&SearchRecord {
            at: self.now().as_second(),
            user: actor.user.id,
            normalized: kb::normalize_query(&query),
            query,
            results,
            opened: None,
            used: None,
        })?)
    }

    /// Notes that `article` was opened from search `search_id`'s results
    /// (only the searcher's own searches count).
    pub fn record_search_opened(&self, actor: &Actor, search_id: u64, article: u64) -> Result<()> {
        if self
            .store
            .kb_search(search_id)?
            .is_some_and(|r| r.user == actor.user.id)
        {
            self.store.kb_search_opened(search_id, article)?;
        }
        Ok(())
    }

    fn require_reports(&self, actor: &Actor) -> Result<()> {
        if kb::can_read_reports(&actor.user.roles) {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "只有班长、管理员、领导和质检员可以查看知识库报表 (only team leads, administrators, leaders and QA inspectors read knowledge-base reports)".into(),
            ))
        }
    }

    fn date_range(&self, from: Option<&str>, to: Option<&str>) -> Result<(Date, Date)> {
        let mut e = vec![];
        let today = self.kb_today();
        let to_d = kb::parse_date("to", to.unwrap_or(""), &mut e).unwrap_or(today);
        let from_d = kb::parse_date("from", from.unwrap_or(""), &mut e)
            .unwrap_or_else(|| to_d.checked_sub(jiff::Span::new().days(30)).unwrap_or(to_d));
        if e.is_empty() && from_d > to_d {
            e.push(FieldError::new(
                "from",
                "起始日期不能晚于截止日期 (from is after to)",
            ));
        }
        if e.is_empty() {
            Ok((from_d, to_d))
        } else {
            Err(validation(e))
        }
    }

    /// Searches in `[from, to]` (default: the last 30 days) that found
    /// nothing or led to no use, grouped by their normalised words, most
    /// frequent first.
    pub fn kb_missing_report(
        &self,
        actor: &Actor,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<MissingReport> {
        self.require_reports(actor)?;
        let (f, t) = self.date_range(from, to)?;
        let end = t.checked_add(jiff::Span::new().days(1)).unwrap_or(t);
        let searches = self
            .store
            .kb_searches_between(self.day_start(f), self.day_start(end))?;
        let dir = self.dir();
        let mut groups: BTreeMap<String, (u64, u64, i64, String)> = BTreeMap::new();
        for (_, s) in &searches {
            if s.normalized.is_empty() || s.used.is_some() {
                continue;
            }
            let g = groups
                .entry(s.normalized.clone())
                .or_insert((0, 0, 0, s.query.clone()));
            if s.results == 0 {
                g.0 += 1;
            } else {
                g.1 += 1;
            }
            if s.at >= g.2 {
                g.2 = s.at;
                g.3 = s.query.clone();
            }
        }
        let mut rows: Vec<MissingRow> = groups
            .into_iter()
            .map(|(words, (none, unused, last, example))| MissingRow {
                words,
                count: none + unused,
                no_results: none,
                no_use: unused,
                last_at: fmt_time(last, &dir),
                example,
            })
            .collect();
        rows.sort_by(|a, b| {
            b.no_results
                .cmp(&a.no_results)
                .then(b.count.cmp(&a.count))
                .then(a.words.cmp(&b.words))
        });
        Ok(MissingReport {
            from: f.to_string(),
            to: t.to_string(),
            searches: searches.len() as u64,
            rows,
        })
    }

    /// Articles added and changed in a month (`YYYY-MM`, default this one).
    pub fn kb_month_summary(&self, actor: &Actor, month: Option<&str>) -> Result<MonthSummary> {
        self.require_reports(actor)?;
        let today = self.kb_today();
        let m = month
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| format!("{:04}-{:02}", today.year(), today.month()));
        let (first, next) = month_bounds(&m).ok_or_else(|| {
            Error::field(
                "month",
                format!("月份格式应为 YYYY-MM (a month is YYYY-MM): {m}"),
            )
        })?;
        let list = self
            .store
            .kb_versions_between(self.day_start(first), self.day_start(next))?;
        let dir = self.dir();
        let mut by_article: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
        for (_, a, v) in &list {
            by_article.entry(*a).or_default().push(*v);
        }
        let (mut added, mut changed) = (vec![], vec![]);
        for (aid, versions) in by_article {
            let Some(a) = self.store.kb_article(aid)? else {
                continue;
            };
            let last = *versions.iter().max().unwrap_or(&1);
            let lv = self.store.kb_version(aid, last)?;
            let row = SummaryRow {
                article_id: aid,
                title: a.content.title.clone(),
                category: a.content.category.clone(),
                versions: versions.clone(),
                last_at: lv
                    .as_ref()
                    .map(|v| fmt_time(v.at, &dir))
                    .unwrap_or_default(),
                editor: lv
                    .as_ref()
                    .map(|v| dir.user_name(v.editor))
                    .unwrap_or_default(),
                note: lv.map(|v| v.note).unwrap_or_default(),
            };
            if versions.contains(&1) {
                added.push(row);
            } else {
                changed.push(row);
            }
        }
        Ok(MonthSummary {
            month: m,
            added,
            changed,
        })
    }

    // -------------------------------------------------------- synonyms

    /// The synonym groups (editors).
    pub fn kb_synonyms(&self, actor: &Actor) -> Result<Synonyms> {
        self.require_reader(actor)?;
        kb::check_editor(&who(actor)).map_err(refused)?;
        Ok(Synonyms {
            groups: self
                .store
                .kb_synonyms()?
                .into_iter()
                .map(|g| g.terms)
                .collect(),
        })
    }

    /// Every synonym group, for the search engine (no permission check:
    /// it is not a person).
    pub fn kb_synonym_groups(&self) -> Result<Vec<Vec<String>>> {
        Ok(self
            .store
            .kb_synonyms()?
            .into_iter()
            .map(|g| g.terms)
            .collect())
    }

    /// Replaces the synonym groups (editors); audited.
    pub fn kb_set_synonyms(&self, actor: &Actor, groups: Vec<Vec<String>>) -> Result<Synonyms> {
        self.require_reader(actor)?;
        kb::check_editor(&who(actor)).map_err(refused)?;
        let clean = check_synonyms(&groups).map_err(validation)?;
        let now = self.now().as_second();
        let recs: Vec<SynonymGroup> = clean
            .iter()
            .map(|t| SynonymGroup {
                terms: t.clone(),
                updated_at: now,
                updated_by: actor.user.id,
            })
            .collect();
        self.store.kb_replace_synonyms(&recs)?;
        self.search.index.set_synonyms(clean.clone());
        self.audit(
            actor.user.id,
            "kb.synonyms",
            "synonyms",
            &format!("{} groups", recs.len()),
        );
        Ok(Synonyms { groups: clean })
    }
}

/// Parses synonym groups typed one per line, terms separated by commas
/// (`,` `，` `、`).
pub fn parse_synonym_lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| {
            l.split([',', '，', '、'])
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|g| !g.is_empty())
        .collect()
}

/// Synonym groups: each 2–50 terms of 1–30 characters, no term in two
/// groups, at most 5,000 groups. Returns the trimmed groups.
pub fn check_synonyms(
    groups: &[Vec<String>],
) -> std::result::Result<Vec<Vec<String>>, Vec<FieldError>> {
    let mut e = vec![];
    if groups.len() > 5000 {
        e.push(FieldError::new(
            "groups",
            "最多5000组 (at most 5,000 groups)",
        ));
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = vec![];
    for (i, g) in groups.iter().enumerate() {
        let mut terms: Vec<String> = vec![];
        for t in g {
            let t = t.trim().to_string();
            if t.is_empty() || terms.contains(&t) {
                continue;
            }
            if t.chars().count() > 30 || t.chars().any(char::is_control) {
                e.push(FieldError::new(
                    "groups",
                    format!(
                        "第{}组：词“{}”过长或含控制字符 (group {}: term too long)",
                        i + 1,
                        t.chars().take(30).collect::<String>(),
                        i + 1
                    ),
                ));
                continue;
            }
            if !seen.insert(t.clone()) {
                e.push(FieldError::new(
                    "groups",
                    format!(
                        "第{}组：词“{t}”已在其他组中 (group {}: {t} is already in another group)",
                        i + 1,
                        i + 1
                    ),
                ));
                continue;
            }
            terms.push(t);
        }
        if terms.is_empty() {
            continue;
        }
        if terms.len() < 2 || terms.len() > 50 {
            e.push(FieldError::new(
                "groups",
                format!(
                    "第{}组须有2到50个词 (group {} needs 2 to 50 terms)",
                    i + 1,
                    i + 1
                ),
            ));
        }
        out.push(terms);
    }
    if e.is_empty() { Ok(out) } else { Err(e) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let k = ("社会保障/社保卡".to_string(), 42u64);
        assert_eq!(decode_cursor(&encode_cursor(&k)), Some(k));
        assert_eq!(decode_cursor("zz.1"), None);
        assert_eq!(decode_cursor("nodot"), None);
        assert_eq!(decode_cursor("61.x"), None);
    }

    #[test]
    fn months() {
        let (a, b) = month_bounds("2026-12").unwrap();
        assert_eq!(a, jiff::civil::date(2026, 12, 1));
        assert_eq!(b, jiff::civil::date(2027, 1, 1));
        assert!(month_bounds("2026-13").is_none());
        assert!(month_bounds("2026-1").is_none());
        assert!(month_bounds("x").is_none());
    }

    #[test]
    fn synonym_groups() {
        let g = parse_synonym_lines("社会保险,社保\n\n燃气，煤气、天然气\n");
        assert_eq!(g.len(), 2);
        assert_eq!(g[1], vec!["燃气", "煤气", "天然气"]);
        assert_eq!(check_synonyms(&g).unwrap(), g);
        assert!(check_synonyms(&[vec!["单独".into()]]).is_err());
        assert!(
            check_synonyms(&[vec!["a".into(), "b".into()], vec!["b".into(), "c".into()]]).is_err()
        );
        assert!(check_synonyms(&[vec!["a".into(), "x".repeat(31)]]).is_err());
        // Duplicates within a group and blanks are dropped.
        assert_eq!(
            check_synonyms(&[vec!["a".into(), "a".into(), " ".into(), "b".into()]]).unwrap(),
            vec![vec!["a".to_string(), "b".to_string()]]
        );
    }
}
