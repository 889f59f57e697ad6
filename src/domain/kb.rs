//! The knowledge base (知识库, PRODUCT.md §6): articles and FAQ pairs in a
//! category tree, their immutable published versions, proposals and their
//! review, validity dates, readable diffs, and who may do what.
//!
//! An article exists once its first version is published; until then it is
//! a proposal. Every publish makes a new immutable [`Version`] (author,
//! editor, time, note); the article record carries the current content.
//!
//! Who may do what (pure functions, tested as a matrix below):
//! - everyone logged in reads published articles that are valid today;
//!   editors (`team_lead`, `admin`) also list expired and future ones;
//! - anyone on the floor (every role but `leader`) proposes a new article
//!   or a correction; a department user (`department_handler` only) does so
//!   only for articles whose responsible department is their unit or a unit
//!   below it;
//! - the author edits or withdraws their own pending proposal; editors edit,
//!   publish or reject (with a reason) any pending proposal;
//! - `leader` reads only.
//!
//! Records are persisted with postcard: enum variants are only appended.

use std::collections::HashSet;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::ticket::{Attachment, FieldError, clean_line, clean_text};
use super::types::Role;

/// Limits of article fields, in characters.
pub mod limits {
    pub const TITLE: usize = 200;
    pub const QUESTION: usize = 1000;
    pub const BODY: usize = 20_000;
    pub const CATEGORY_SEGMENT: usize = 30;
    pub const CATEGORY_DEPTH: usize = 4;
    pub const KEYWORD: usize = 30;
    pub const KEYWORDS: usize = 30;
    pub const DEPARTMENT_NAME: usize = 100;
    pub const NOTE: usize = 1000;
    pub const ATTACHMENTS: usize = 20;
    pub const CODE: usize = 40;
    pub const QUERY: usize = 200;
}

/// An article or a question with its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Article,
    Faq,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Article => "article",
            Kind::Faq => "faq",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "article" => Some(Kind::Article),
            "faq" => Some(Kind::Faq),
            _ => None,
        }
    }
}

/// Whether an article is in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleState {
    /// Readable (within its validity dates).
    Published,
    /// Withdrawn by an editor: listed for editors only.
    Archived,
}

impl ArticleState {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleState::Published => "published",
            ArticleState::Archived => "archived",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "published" => Some(ArticleState::Published),
            "archived" => Some(ArticleState::Archived),
            _ => None,
        }
    }
}

/// Where a date stands against an article's validity window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    /// `valid_from` is after the date.
    Future,
    Current,
    /// `valid_to` is before the date.
    Expired,
}

impl Validity {
    pub fn as_str(self) -> &'static str {
        match self {
            Validity::Future => "future",
            Validity::Current => "current",
            Validity::Expired => "expired",
        }
    }
}

/// The versioned content of an article: what a version records and what a
/// proposal proposes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    pub kind: Kind,
    pub title: String,
    /// The caller's question (FAQ); empty for an article.
    pub question: String,
    /// The answer read to the caller (FAQ) or the article's text.
    pub body: String,
    /// A path in the category tree, segments joined by `/`, e.g.
    /// `社会保障/社保卡`.
    pub category: String,
    /// The responsible unit.
    pub department: Option<u32>,
    /// The responsible body by name when it is not a unit of the org tree
    /// (e.g. a city-level office); empty otherwise.
    pub department_name: String,
    pub keywords: Vec<String>,
    /// First day of validity; `None`: always valid from the start.
    pub valid_from: Option<Date>,
    /// Last day of validity; `None`: open-ended.
    pub valid_to: Option<Date>,
    /// Every agent must acknowledge each published version.
    pub must_read: bool,
    pub attachments: Vec<Attachment>,
}

impl Content {
    /// Whether the content is valid on `date` (both ends inclusive).
    pub fn valid_on(&self, date: Date) -> bool {
        self.validity_on(date) == Validity::Current
    }

    pub fn validity_on(&self, date: Date) -> Validity {
        if self.valid_from.is_some_and(|f| date < f) {
            Validity::Future
        } else if self.valid_to.is_some_and(|t| date > t) {
            Validity::Expired
        } else {
            Validity::Current
        }
    }
}

/// An article as it stands: its current content and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub id: u64,
    /// An external stable code (the fixture's `kb-0001`), or empty.
    pub code: String,
    pub content: Content,
    pub state: ArticleState,
    /// The current version number (1 for the first publish).
    pub version: u32,
    pub created_at: i64,
    pub created_by: u32,
    /// When and by whom the current version was published.
    pub updated_at: i64,
    pub updated_by: u32,
}

impl Article {
    pub fn valid_on(&self, date: Date) -> bool {
        self.content.valid_on(date)
    }
}

/// One published version: immutable once written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub article: u64,
    pub version: u32,
    pub content: Content,
    /// Who wrote the change (the proposal's author).
    pub author: u32,
    /// Who published it.
    pub editor: u32,
    pub at: i64,
    /// What changed and why.
    pub note: String,
    /// The proposal it came from.
    pub proposal: Option<u64>,
}

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    /// Waiting for an editor.
    Pending,
    Published,
    Rejected,
    /// Taken back by its author.
    Withdrawn,
}

impl ProposalState {
    pub const ALL: &'static [ProposalState] = &[
        ProposalState::Pending,
        ProposalState::Published,
        ProposalState::Rejected,
        ProposalState::Withdrawn,
    ];
    pub fn code(self) -> u8 {
        match self {
            ProposalState::Pending => 1,
            ProposalState::Published => 2,
            ProposalState::Rejected => 3,
            ProposalState::Withdrawn => 4,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalState::Pending => "pending",
            ProposalState::Published => "published",
            ProposalState::Rejected => "rejected",
            ProposalState::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ProposalState::Pending => "待审核",
            ProposalState::Published => "已发布",
            ProposalState::Rejected => "已退回",
            ProposalState::Withdrawn => "已撤回",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            ProposalState::Pending => "Pending review",
            ProposalState::Published => "Published",
            ProposalState::Rejected => "Rejected",
            ProposalState::Withdrawn => "Withdrawn",
        }
    }
    pub fn label(self, lang: &str) -> &'static str {
        if lang == "en" {
            self.label_en()
        } else {
            self.label_zh()
        }
    }
}

/// A proposed new article (`article: None`) or a correction to one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub id: u64,
    pub article: Option<u64>,
    /// The article version the correction was written against (0: new).
    pub base_version: u32,
    /// The proposed content (for a correction that only says what is
    /// wrong, the base version's content).
    pub content: Content,
    /// Why, e.g. "这个答复已经过时".
    pub note: String,
    /// The ticket that showed the need (`YYYYMMDDNNNNNN`).
    pub ticket: Option<u64>,
    pub author: u32,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: u32,
    pub state: ProposalState,
    /// The editor who published or rejected it (0 while pending).
    pub decided_by: u32,
    pub decided_at: i64,
    /// The rejection reason, or the publish note.
    pub reason: String,
    /// The version it became, once published.
    pub published_version: u32,
}

// ------------------------------------------------------------ validation

/// What a person typed for an article, before validation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Draft {
    pub kind: String,
    pub title: String,
    pub question: String,
    pub body: String,
    pub category: String,
    pub department: Option<u32>,
    pub department_name: String,
    pub keywords: Vec<String>,
    pub valid_from: String,
    pub valid_to: String,
    pub must_read: bool,
}

/// Parses `YYYY-MM-DD` (empty: `None`).
pub fn parse_date(field: &str, s: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match s.parse::<Date>() {
        Ok(d) if s.len() == 10 => Some(d),
        _ => {
            errors.push(FieldError::new(
                field,
                format!("日期应为 YYYY-MM-DD 格式 (a date is YYYY-MM-DD): {s}"),
            ));
            None
        }
    }
}

/// Normalises a category path: segments trimmed, empty segments dropped,
/// `/` (also full-width `／` and `\`) as the separator.
pub fn clean_category(raw: &str, errors: &mut Vec<FieldError>) -> String {
    let segs: Vec<String> = raw
        .split(['/', '／', '\\'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if segs.is_empty() {
        errors.push(FieldError::new(
            "category",
            "请填写分类，如“社会保障/社保卡” (a category is required, e.g. 社会保障/社保卡)",
        ));
    } else if segs.len() > limits::CATEGORY_DEPTH {
        errors.push(FieldError::new(
            "category",
            format!(
                "分类最多{}级 (at most {} levels)",
                limits::CATEGORY_DEPTH,
                limits::CATEGORY_DEPTH
            ),
        ));
    } else if segs
        .iter()
        .any(|s| s.chars().count() > limits::CATEGORY_SEGMENT || s.chars().any(char::is_control))
    {
        errors.push(FieldError::new(
            "category",
            format!(
                "每级分类最多{}个字符，不含控制字符 (each level at most {} characters)",
                limits::CATEGORY_SEGMENT,
                limits::CATEGORY_SEGMENT
            ),
        ));
    }
    segs.join("/")
}

/// Keywords: trimmed, de-duplicated, empty ones dropped; also splits
/// entries on commas (`,` `，` `、`) so a typed list works.
pub fn clean_keywords(raw: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for k in raw
        .iter()
        .flat_map(|k| k.split([',', '，', '、', ';', '；']))
    {
        let k = k.trim();
        if k.is_empty() || out.iter().any(|o| o == k) {
            continue;
        }
        if k.chars().count() > limits::KEYWORD || k.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "keywords",
                format!(
                    "关键词最多{}个字符 (a keyword has at most {} characters): {}",
                    limits::KEYWORD,
                    limits::KEYWORD,
                    k.chars().take(40).collect::<String>()
                ),
            ));
            continue;
        }
        out.push(k.to_string());
    }
    if out.len() > limits::KEYWORDS {
        errors.push(FieldError::new(
            "keywords",
            format!(
                "最多{}个关键词 (at most {} keywords)",
                limits::KEYWORDS,
                limits::KEYWORDS
            ),
        ));
    }
    out
}

/// Checks a draft and turns it into content (without attachments).
pub fn validate(d: &Draft) -> Result<Content, Vec<FieldError>> {
    let mut e = vec![];
    let kind = match d.kind.trim() {
        "" | "article" => Kind::Article,
        "faq" => Kind::Faq,
        other => {
            e.push(FieldError::new(
                "kind",
                format!("类型应为 article 或 faq (kind is article or faq): {other}"),
            ));
            Kind::Article
        }
    };
    let title = clean_line("title", &d.title, limits::TITLE, &mut e);
    if title.is_empty() {
        e.push(FieldError::new("title", "请填写标题 (a title is required)"));
    }
    let question = clean_text("question", &d.question, limits::QUESTION, &mut e);
    if kind == Kind::Faq && question.is_empty() {
        e.push(FieldError::new(
            "question",
            "问答须填写问题 (a FAQ needs its question)",
        ));
    }
    let body = clean_text("body", &d.body, limits::BODY, &mut e);
    if body.is_empty() {
        e.push(FieldError::new(
            "body",
            "请填写正文或答复 (the text or answer is required)",
        ));
    }
    let category = clean_category(&d.category, &mut e);
    let department_name = clean_line(
        "department_name",
        &d.department_name,
        limits::DEPARTMENT_NAME,
        &mut e,
    );
    let keywords = clean_keywords(&d.keywords, &mut e);
    let valid_from = parse_date("valid_from", &d.valid_from, &mut e);
    let valid_to = parse_date("valid_to", &d.valid_to, &mut e);
    if let (Some(f), Some(t)) = (valid_from, valid_to)
        && t < f
    {
        e.push(FieldError::new(
            "valid_to",
            "有效期截止日不能早于起始日 (valid_to is before valid_from)",
        ));
    }
    if !e.is_empty() {
        return Err(e);
    }
    Ok(Content {
        kind,
        title,
        question: if kind == Kind::Faq {
            question
        } else {
            String::new()
        },
        body,
        category,
        department: d.department,
        department_name,
        keywords,
        valid_from,
        valid_to,
        must_read: d.must_read,
        attachments: vec![],
    })
}

/// A note or reason: trimmed, at most [`limits::NOTE`] characters.
pub fn clean_note(field: &str, s: &str, required: bool) -> Result<String, Vec<FieldError>> {
    let mut e = vec![];
    let v = clean_text(field, s, limits::NOTE, &mut e);
    if required && v.is_empty() {
        e.push(FieldError::new(field, "请填写原因 (a reason is required)"));
    }
    if e.is_empty() { Ok(v) } else { Err(e) }
}

/// A correction written against `base` brought up to `current`: every
/// field the proposal changed from `base` takes the proposal's value, every
/// other field keeps `current`'s (a field-wise three-way merge; where both
/// changed a field, the proposal wins and the editor sees it in the diff).
pub fn rebase(base: &Content, proposed: &Content, current: &Content) -> Content {
    fn pick<T: Clone + PartialEq>(b: &T, p: &T, c: &T) -> T {
        if p != b { p.clone() } else { c.clone() }
    }
    Content {
        kind: pick(&base.kind, &proposed.kind, &current.kind),
        title: pick(&base.title, &proposed.title, &current.title),
        question: pick(&base.question, &proposed.question, &current.question),
        body: pick(&base.body, &proposed.body, &current.body),
        category: pick(&base.category, &proposed.category, &current.category),
        department: pick(&base.department, &proposed.department, &current.department),
        department_name: pick(
            &base.department_name,
            &proposed.department_name,
            &current.department_name,
        ),
        keywords: pick(&base.keywords, &proposed.keywords, &current.keywords),
        valid_from: pick(&base.valid_from, &proposed.valid_from, &current.valid_from),
        valid_to: pick(&base.valid_to, &proposed.valid_to, &current.valid_to),
        must_read: pick(&base.must_read, &proposed.must_read, &current.must_read),
        attachments: pick(
            &base.attachments,
            &proposed.attachments,
            &current.attachments,
        ),
    }
}

/// Whether `cat` is `prefix` or lies below it in the tree.
pub fn in_category(cat: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || cat == prefix
        || (cat.len() > prefix.len()
            && cat.starts_with(prefix)
            && cat.as_bytes()[prefix.len()] == b'/')
}

/// A node of the category tree with the number of articles at or below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeNode {
    /// The full path, e.g. `社会保障/社保卡`.
    pub path: String,
    /// The last segment.
    pub name: String,
    /// 0 for a top-level node.
    pub depth: usize,
    pub count: u64,
}

/// The category tree in display order (depth first, by path) from
/// `(category path, count)` pairs.
pub fn category_tree(paths: &[(String, u64)]) -> Vec<TreeNode> {
    let mut nodes: std::collections::BTreeMap<String, u64> = Default::default();
    for (p, n) in paths {
        let segs: Vec<&str> = p.split('/').collect();
        for i in 1..=segs.len() {
            *nodes.entry(segs[..i].join("/")).or_default() += n;
        }
    }
    // Sort so that a parent comes right before its children: compare by
    // segments, not by the raw string ('/' sorts before most characters
    // but after some, e.g. '-').
    let mut v: Vec<(Vec<String>, u64)> = nodes
        .into_iter()
        .map(|(p, n)| (p.split('/').map(str::to_string).collect(), n))
        .collect();
    v.sort();
    v.into_iter()
        .map(|(segs, count)| TreeNode {
            path: segs.join("/"),
            name: segs.last().cloned().unwrap_or_default(),
            depth: segs.len() - 1,
            count,
        })
        .collect()
}

// ------------------------------------------------------------ permissions

/// Who is acting, as far as knowledge-base rules care.
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    pub user: u32,
    pub roles: &'a [Role],
    /// `Some(units)` for a department user: their unit and every unit below.
    pub units: Option<&'a HashSet<u32>>,
}

/// Why something is refused: `Forbidden` (403) or `Conflict` (409, the
/// proposal's state does not allow it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Forbidden(String),
    Conflict(String),
}

pub type Check = Result<(), Refusal>;

fn forbid(m: &str) -> Check {
    Err(Refusal::Forbidden(m.to_string()))
}

/// Editors review and publish: team leads and administrators.
pub fn is_editor(roles: &[Role]) -> bool {
    roles.contains(&Role::TeamLead) || roles.contains(&Role::Admin)
}

/// Agents answer callers and are told of every publish; each must
/// acknowledge must-read articles.
pub fn is_agent(roles: &[Role]) -> bool {
    roles.iter().any(|r| {
        matches!(
            r,
            Role::Operator
                | Role::Dispatcher
                | Role::Reviewer
                | Role::CallbackAgent
                | Role::QaInspector
                | Role::TeamLead
        )
    })
}

/// Everyone with a role reads the knowledge base.
pub fn can_read(roles: &[Role]) -> bool {
    !roles.is_empty()
}

/// Editors also list expired, future and archived articles.
pub fn sees_all_validity(roles: &[Role]) -> bool {
    is_editor(roles)
}

/// Anyone on the floor proposes: every role but `leader`.
pub fn can_propose(roles: &[Role]) -> bool {
    roles.iter().any(|r| *r != Role::Leader)
}

/// Reads the reports (missing knowledge, monthly summary, views and uses).
pub fn can_read_reports(roles: &[Role]) -> bool {
    is_editor(roles) || roles.contains(&Role::Leader) || roles.contains(&Role::QaInspector)
}

/// Records that an article's answer went into a ticket: people who write
/// answers into tickets.
pub fn can_record_use(roles: &[Role]) -> bool {
    roles.iter().any(|r| {
        matches!(
            r,
            Role::Operator
                | Role::Dispatcher
                | Role::TeamLead
                | Role::Reviewer
                | Role::CallbackAgent
                | Role::DepartmentHandler
        )
    })
}

const LEADER_READS: &str = "领导角色只能阅读知识库 (leaders read the knowledge base only)";
const NOT_EDITOR: &str =
    "只有班长和管理员可以审核、发布或退回 (only team leads and administrators review and publish)";

fn own_department(who: &Who, department: Option<u32>) -> Check {
    match who.units {
        None => Ok(()),
        Some(units) => match department {
            Some(d) if units.contains(&d) => Ok(()),
            Some(_) => forbid(
                "部门用户只能提交本单位（及下级单位）负责的知识 (department users submit only for their own unit's policies)",
            ),
            None => forbid(
                "部门用户提交的知识须指定本单位为负责部门 (department users must name their own unit as the responsible department)",
            ),
        },
    }
}

/// Proposing a new article responsible to `department`.
pub fn check_propose_new(who: &Who, department: Option<u32>) -> Check {
    if !can_propose(who.roles) {
        return forbid(LEADER_READS);
    }
    own_department(who, department)
}

/// Proposing a correction to `article`, the proposal naming `department`.
pub fn check_propose_change(who: &Who, article: &Article, department: Option<u32>) -> Check {
    if !can_propose(who.roles) {
        return forbid(LEADER_READS);
    }
    own_department(who, article.content.department)?;
    own_department(who, department)
}

/// Editing a proposal (its content or note) so that it names `department`.
pub fn check_edit_proposal(who: &Who, p: &Proposal, department: Option<u32>) -> Check {
    if p.state != ProposalState::Pending {
        return Err(Refusal::Conflict(format!(
            "提议已{}，不能再修改 (the proposal is {} and can no longer be changed)",
            p.state.label_zh(),
            p.state.as_str()
        )));
    }
    if is_editor(who.roles) {
        return Ok(());
    }
    if !can_propose(who.roles) {
        return forbid(LEADER_READS);
    }
    if p.author != who.user {
        return forbid(
            "只能修改自己提交且尚未审核的提议 (you can only edit your own proposals that are not yet reviewed)",
        );
    }
    own_department(who, department)
}

/// Publishing or rejecting a proposal.
pub fn check_review(who: &Who, p: &Proposal) -> Check {
    if !is_editor(who.roles) {
        return forbid(NOT_EDITOR);
    }
    if p.state != ProposalState::Pending {
        return Err(Refusal::Conflict(format!(
            "提议已{}，不能再审核 (the proposal is already {})",
            p.state.label_zh(),
            p.state.as_str()
        )));
    }
    Ok(())
}

/// Withdrawing a proposal: its author, while it is pending.
pub fn check_withdraw(who: &Who, p: &Proposal) -> Check {
    if p.author != who.user {
        return forbid("只能撤回自己的提议 (you can only withdraw your own proposals)");
    }
    if p.state != ProposalState::Pending {
        return Err(Refusal::Conflict(format!(
            "提议已{}，不能撤回 (the proposal is already {})",
            p.state.label_zh(),
            p.state.as_str()
        )));
    }
    Ok(())
}

/// Whether a person may read a proposal: editors all, others their own.
pub fn can_see_proposal(who: &Who, p: &Proposal) -> bool {
    is_editor(who.roles) || p.author == who.user
}

/// Archiving or restoring an article, and managing synonyms.
pub fn check_editor(who: &Who) -> Check {
    if is_editor(who.roles) {
        Ok(())
    } else {
        forbid(NOT_EDITOR)
    }
}

/// Acknowledging a must-read article.
pub fn check_acknowledge(who: &Who, a: &Article) -> Check {
    if !a.content.must_read {
        return Err(Refusal::Conflict(
            "这篇知识不是必读，无需确认 (this article is not must-read)".into(),
        ));
    }
    if !is_agent(who.roles) {
        return forbid("必读确认只针对话务坐席人员 (only agents acknowledge must-read articles)");
    }
    Ok(())
}

// ------------------------------------------------------------ diff

/// A piece of a field's diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiffOp {
    Equal,
    Insert,
    Delete,
}

impl DiffOp {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffOp::Equal => "equal",
            DiffOp::Insert => "insert",
            DiffOp::Delete => "delete",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DiffSegment {
    pub op: DiffOp,
    pub text: String,
}

/// The differences of one field between two versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldDiff {
    /// `title`, `question`, `body`, `category`, `department`, `keywords`,
    /// `valid_from`, `valid_to`, `must_read`, `kind`, `attachments`.
    pub field: String,
    pub segments: Vec<DiffSegment>,
}

/// A character-level diff of two texts (Chinese has no spaces to split
/// words on), merged into runs.
pub fn diff_text(old: &str, new: &str) -> Vec<DiffSegment> {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::configure()
        .timeout(std::time::Duration::from_millis(300))
        .diff_chars(old, new);
    let mut out: Vec<DiffSegment> = vec![];
    for ch in diff.iter_all_changes() {
        let op = match ch.tag() {
            ChangeTag::Equal => DiffOp::Equal,
            ChangeTag::Insert => DiffOp::Insert,
            ChangeTag::Delete => DiffOp::Delete,
        };
        match out.last_mut() {
            Some(last) if last.op == op => last.text.push_str(ch.value()),
            _ => out.push(DiffSegment {
                op,
                text: ch.value().to_string(),
            }),
        }
    }
    out
}

fn fmt_date(d: Option<Date>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// Every field that differs between `old` and `new`, in display order.
/// `department` names the responsible department for display.
pub fn diff_content(
    old: &Content,
    new: &Content,
    department: impl Fn(&Content) -> String,
) -> Vec<FieldDiff> {
    let pairs: [(&str, String, String); 11] = [
        ("kind", old.kind.as_str().into(), new.kind.as_str().into()),
        ("title", old.title.clone(), new.title.clone()),
        ("question", old.question.clone(), new.question.clone()),
        ("body", old.body.clone(), new.body.clone()),
        ("category", old.category.clone(), new.category.clone()),
        ("department", department(old), department(new)),
        ("keywords", old.keywords.join("、"), new.keywords.join("、")),
        (
            "valid_from",
            fmt_date(old.valid_from),
            fmt_date(new.valid_from),
        ),
        ("valid_to", fmt_date(old.valid_to), fmt_date(new.valid_to)),
        (
            "must_read",
            old.must_read.to_string(),
            new.must_read.to_string(),
        ),
        (
            "attachments",
            old.attachments
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            new.attachments
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
        ),
    ];
    pairs
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .map(|(field, a, b)| FieldDiff {
            field: field.into(),
            segments: if matches!(field, "title" | "question" | "body" | "keywords") {
                diff_text(&a, &b)
            } else {
                let mut s = vec![];
                if !a.is_empty() {
                    s.push(DiffSegment {
                        op: DiffOp::Delete,
                        text: a,
                    });
                }
                if !b.is_empty() {
                    s.push(DiffSegment {
                        op: DiffOp::Insert,
                        text: b,
                    });
                }
                s
            },
        })
        .collect()
}

// ------------------------------------------------------------ searches

/// The words of a search as the missing-knowledge report groups them:
/// full-width ASCII folded to half-width, lower case, punctuation and
/// symbols dropped, spaces kept only between two non-CJK words (a space
/// between Chinese characters carries no meaning: 垃圾分类 怎么分 =
/// 垃圾分类怎么分), trimmed, at most [`limits::QUERY`] characters.
pub fn normalize_query(q: &str) -> String {
    let mut out = String::with_capacity(q.len());
    let mut gap = false;
    for c in q.chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
            _ => c,
        };
        if c.is_whitespace() || c.is_ascii_punctuation() || is_cjk_punct(c) {
            gap = true;
            continue;
        }
        if c.is_control() {
            continue;
        }
        if gap
            && let Some(prev) = out.chars().last()
            && !is_cjk(prev)
            && !is_cjk(c)
        {
            out.push(' ');
        }
        gap = false;
        out.extend(c.to_lowercase());
    }
    out.chars().take(limits::QUERY).collect()
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FFFF}')
}

fn is_cjk_punct(c: char) -> bool {
    matches!(c, '\u{3001}'..='\u{303F}' | '\u{FF01}'..='\u{FF0F}' | '\u{2018}'..='\u{201F}' | '…' | '·' | '—')
}

#[cfg(test)]
#[path = "kb_tests.rs"]
mod tests;
