//! Citizens (市民): submitting a request on the public web page and looking
//! up its progress by ticket number and the last four digits of the phone.
//!
//! No login. A citizen acts through a built-in actor ([`citizen`]: user id
//! 0, role operator, scope all), so a web request is registered by the same
//! [`Services::register`] as a call, with channel `web`; its creator shows
//! as "系统" in the staff views.
//!
//! What a citizen sees of a ticket is [`PublicTicket`]: number, state (in
//! public words), dates, appeal type, category, title, the unit handling it
//! (department names are public) and the public answer — never the caller's
//! name or phone, the content, internal notes, who acted, the supervision
//! status (the center's assessment of its departments) or anything of
//! another ticket. The answer is the intake answer of a consultation, or the
//! department's reply once the center's review has passed it (a reply that
//! the center may still send back is not shown). A merged ticket shows the
//! unit and the public answer of its master.
//!
//! A lookup that does not match — unknown number, malformed number, wrong
//! or malformed phone suffix — is one and the same "not found" ([`not_found`]),
//! so the answer never tells whether a number exists.
//!
//! Rate limits ([`limiter`]) are kept in memory, per client address (IPv6
//! by /64 prefix): 20 lookups per 10 minutes, 5 accepted submissions and 30
//! submission attempts per hour; and 10 failed lookups per hour per ticket
//! number, whatever the address, so that the 10,000 possible phone suffixes
//! of one number cannot be tried from many addresses. The state is a static
//! (process-wide, lost on restart — a restart only forgives), bounded to
//! [`MAX_KEYS`] keys: expired windows are dropped first, then the oldest.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::attachments::{Uploaded, clean_file_name};
use super::tickets::{AttachmentRef, NewTicket};
use super::views::fmt_time;
use super::{Actor, Directory, Services};
use crate::domain::org::{Category, User};
use crate::domain::permissions::Scope;
use crate::domain::ticket::{
    Event, EventKind, FieldError, Ticket, TicketNo, clean_line, clean_text, limits, normalize_phone,
};
use crate::domain::types::{AppealType, Channel, Role, State};
use crate::error::{Error, Result};

/// File types a citizen may attach: photos only.
pub const PHOTO_TYPES: &[&str] = &["jpg", "jpeg", "png", "gif", "webp"];
/// At most this many photos per request.
pub const MAX_PHOTOS: usize = 6;
/// Appeal types a citizen may choose on the web (emergencies: call).
pub const CITIZEN_APPEAL_TYPES: &[AppealType] = &[
    AppealType::Consultation,
    AppealType::Help,
    AppealType::Complaint,
    AppealType::Suggestion,
    AppealType::Praise,
    AppealType::Report,
];

/// The one answer for every lookup that does not match.
pub const NOT_FOUND: &str = "未找到匹配的工单，请核对工单编号和手机号后四位 (no ticket matches this number and phone suffix)";

pub fn not_found() -> Error {
    Error::NotFound(NOT_FOUND.into())
}

/// The built-in actor of web submissions.
pub fn citizen() -> Actor {
    Actor {
        user: User {
            id: 0,
            username: "citizen".into(),
            display_name: "市民（网站）".into(),
            password_hash: String::new(),
            roles: vec![Role::Operator],
            unit_id: None,
            enabled: true,
            created_at: 0,
            password_changed_at: 0,
        },
        scope: Scope::All,
    }
}

/// A request submitted by a citizen (`POST /api/v1/public/tickets`, JSON or
/// multipart with the same field names plus `files`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct PublicSubmission {
    /// Required; the last four digits are needed to look the ticket up.
    pub caller_phone: String,
    pub caller_name: String,
    /// Hide name and phone from the departments.
    pub confidential: bool,
    /// `consultation`, `help`, `complaint`, `suggestion`, `praise` or
    /// `report` (emergencies: call the hotline).
    pub appeal_type: String,
    /// Optional: without it the center classifies the request.
    pub category_code: Option<String>,
    pub district: String,
    pub street: String,
    pub address: String,
    /// Optional: the first line of the content when empty.
    pub title: String,
    pub content: String,
}

/// The answer to a submission.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Submitted {
    /// The ticket number (`YYYYMMDD-NNNNNN`); keep it to look up progress.
    pub number: String,
    /// The progress page of the ticket.
    pub lookup: String,
    pub created_at: String,
}

/// One public step of a ticket's progress.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PublicStep {
    pub at: String,
    /// `registered`, `answered`, `dispatched`, `signed_for`, `returned`,
    /// `progress`, `replied`, `review_passed`, `redo`, `called_back`,
    /// `reopened`, `closed`, `voided`, `merged`.
    pub step: String,
    /// In words (Chinese).
    pub summary: String,
    pub summary_en: String,
}

impl PublicStep {
    pub fn text(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.summary_en
        } else {
            &self.summary
        }
    }
}

/// What a citizen sees of a ticket.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PublicTicket {
    pub number: String,
    pub state: State,
    /// The state in public words (Chinese).
    pub state_label: String,
    pub state_label_en: String,
    pub appeal_type: AppealType,
    pub category_name: String,
    pub title: String,
    /// The unit handling (or that handled) it.
    pub unit_name: Option<String>,
    /// The public answer, once there is one.
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    pub created_at: String,
    /// When the current round is due, while the ticket is being handled.
    pub due_at: Option<String>,
    pub closed_at: Option<String>,
    /// Public steps, oldest first.
    pub steps: Vec<PublicStep>,
}

/// A state in the words a citizen understands (zh, en).
pub fn public_state(s: State) -> (&'static str, &'static str) {
    match s {
        State::PendingDispatch => ("已受理，待分派", "Received, being assigned"),
        State::AwaitingSignFor => ("已转交承办单位", "Sent to the department"),
        State::InProgress | State::AwaitingApproval => ("办理中", "Being handled"),
        State::AwaitingReview => ("承办单位已答复，审核中", "Answered, being checked"),
        State::AwaitingCallback => ("已答复，待回访", "Answered, callback pending"),
        State::AwaitingDecision => ("回访后处理中", "Being reconsidered after the callback"),
        State::Closed => ("已办结", "Closed"),
        State::Voided => ("已作废", "Voided"),
        State::Merged => ("已合并办理", "Handled together with related requests"),
    }
}

/// Whether the department's reply has passed the center's review.
fn reply_is_public(t: &Ticket) -> bool {
    !t.reply.is_empty()
        && matches!(
            t.state,
            State::AwaitingCallback | State::AwaitingDecision | State::Closed
        )
}

/// The public answer of a ticket and when it was given.
fn public_answer(
    t: &Ticket,
    events: &[Event],
    dir: &Directory,
) -> Option<(String, Option<String>)> {
    if t.state == State::Voided {
        return None;
    }
    if reply_is_public(t) {
        let at = events
            .iter()
            .rev()
            .find(|e| matches!(e.kind, EventKind::Replied { .. }))
            .map(|e| fmt_time(e.at, dir));
        return Some((t.reply.clone(), at));
    }
    if !t.answer.is_empty() {
        let at = events
            .iter()
            .find(|e| matches!(e.kind, EventKind::AnsweredAtIntake { .. }))
            .map(|e| fmt_time(e.at, dir));
        return Some((t.answer.clone(), at));
    }
    None
}

/// The public steps of a timeline: what happened, without notes, actors,
/// cards, internal approvals, extensions or other tickets' numbers.
pub fn public_steps(events: &[Event], dir: &Directory) -> Vec<PublicStep> {
    let mut out = vec![];
    for e in events {
        let (step, zh, en) = match &e.kind {
            EventKind::Created => (
                "registered",
                "已受理登记".to_string(),
                "Received and registered".to_string(),
            ),
            EventKind::AnsweredAtIntake { .. } => (
                "answered",
                "已直接答复并办结".to_string(),
                "Answered and closed".to_string(),
            ),
            EventKind::Dispatched { unit_id, .. } | EventKind::HandedDown { unit_id, .. } => {
                let u = dir.unit_name(*unit_id);
                (
                    "dispatched",
                    format!("已转交 {u} 办理"),
                    format!("Sent to {u}"),
                )
            }
            EventKind::SignedFor { .. } => (
                "signed_for",
                "承办单位已签收，正在办理".to_string(),
                "The department has taken it on".to_string(),
            ),
            EventKind::Returned { .. } => (
                "returned",
                "正在重新确定承办单位".to_string(),
                "Being assigned to another department".to_string(),
            ),
            EventKind::Progress => (
                "progress",
                "办理进展已更新".to_string(),
                "Progress was recorded".to_string(),
            ),
            EventKind::Replied { .. } => (
                "replied",
                "承办单位已答复".to_string(),
                "The department answered".to_string(),
            ),
            EventKind::Reviewed { outcome, .. } => {
                if outcome == "pass" {
                    (
                        "review_passed",
                        "答复已经热线中心审核".to_string(),
                        "The answer was checked by the center".to_string(),
                    )
                } else {
                    (
                        "redo",
                        "热线中心要求重新办理".to_string(),
                        "The center asked for it to be handled again".to_string(),
                    )
                }
            }
            EventKind::CallbackRecorded { .. } => (
                "called_back",
                "已回访".to_string(),
                "Callback made".to_string(),
            ),
            EventKind::Reopened { round, .. } => (
                "reopened",
                format!("根据回访意见重新办理（第{round}轮）"),
                format!("Reopened after the callback (round {round})"),
            ),
            EventKind::Closed => ("closed", "已办结".to_string(), "Closed".to_string()),
            EventKind::Voided => ("voided", "已作废".to_string(), "Voided".to_string()),
            EventKind::Merged { .. } => (
                "merged",
                "已与同一事件的其他诉求合并办理".to_string(),
                "Merged with other requests about the same event".to_string(),
            ),
            EventKind::CardReached { .. }
            | EventKind::Note
            | EventKind::ReplyApproved { .. }
            | EventKind::ExtensionRequested { .. }
            | EventKind::ExtensionDecided { .. }
            | EventKind::MergedIn { .. }
            | EventKind::SampledForCallback
            | EventKind::SentBackToOperator
            | EventKind::Corrected { .. }
            | EventKind::AlarmAcknowledged
            | EventKind::Urged { .. }
            | EventKind::TakenBack { .. } => continue,
        };
        out.push(PublicStep {
            at: fmt_time(e.at, dir),
            step: step.to_string(),
            summary: zh,
            summary_en: en,
        });
    }
    out
}

/// Whether `bytes` look like the image type of `ext` (by magic number).
fn looks_like(ext: &str, bytes: &[u8]) -> bool {
    match ext {
        "jpg" | "jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "png" => bytes.starts_with(b"\x89PNG"),
        "gif" => bytes.starts_with(b"GIF8"),
        "webp" => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        _ => false,
    }
}

/// Checks one photo of a citizen: type by name and content, size.
fn check_photo(name: &str, bytes: &[u8], max: u64) -> std::result::Result<(), String> {
    let name = clean_file_name(name);
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !PHOTO_TYPES.contains(&ext.as_str()) {
        return Err(format!(
            "“{name}”不是照片：只接受 jpg、png、gif、webp 图片 (only jpg, png, gif and webp photos)"
        ));
    }
    if bytes.is_empty() {
        return Err(format!("“{name}”是空文件 (the file is empty)"));
    }
    if bytes.len() as u64 > max {
        return Err(format!(
            "“{name}”超过 {} MB (photos are limited to {} MB)",
            max / 1024 / 1024,
            max / 1024 / 1024
        ));
    }
    if !looks_like(&ext, bytes) {
        return Err(format!(
            "“{name}”不是有效的图片文件 (not a valid image file)"
        ));
    }
    Ok(())
}

/// The category of a request whose citizen did not choose one: an enabled
/// top-level category named 其他/其它/待分类/综合 if there is one, else the
/// enabled top-level category whose code sorts first, else any enabled
/// category. The center reclassifies it at dispatch.
pub fn fallback_category(dir: &Directory) -> Option<String> {
    let top = || {
        dir.categories
            .iter()
            .filter(|c| c.enabled && c.parent_code.is_none())
    };
    top()
        .find(|c| {
            ["其他", "其它", "待分类", "综合"]
                .iter()
                .any(|w| c.name.contains(w))
        })
        .or_else(|| top().next())
        .or_else(|| dir.categories.iter().find(|c| c.enabled))
        .map(|c| c.code.clone())
}

impl Services {
    /// The categories a citizen may choose from: enabled top-level ones.
    pub fn public_categories(&self) -> Vec<Category> {
        self.dir()
            .categories
            .iter()
            .filter(|c| c.enabled && c.parent_code.is_none())
            .cloned()
            .collect()
    }

    /// Stores a citizen's photo (images only, size-limited). The citizen
    /// actor may register tickets, so the shared store is used.
    pub fn store_public_photo(&self, name: &str, bytes: &[u8]) -> Result<Uploaded> {
        check_photo(name, bytes, self.limits.max_attachment_bytes)
            .map_err(|m| Error::field("files", m))?;
        self.store_attachment(&citizen(), name, bytes)
    }

    /// Registers a citizen's request (channel `web`) with its photos.
    /// Every field and photo is checked before anything is stored.
    pub fn submit_public(
        &self,
        s: PublicSubmission,
        photos: Vec<(String, Vec<u8>)>,
    ) -> Result<Submitted> {
        let dir = self.dir();
        let mut errors: Vec<FieldError> = vec![];
        match normalize_phone(&s.caller_phone) {
            Ok(p) if p.is_empty() => errors.push(FieldError::new(
                "caller_phone",
                "请填写联系电话 (a phone number is required)",
            )),
            Ok(_) => {}
            Err(m) => errors.push(FieldError::new("caller_phone", m)),
        }
        match s.appeal_type.trim() {
            "" => errors.push(FieldError::new(
                "appeal_type",
                "请选择诉求类型 (choose an appeal type)",
            )),
            "emergency" => errors.push(FieldError::new(
                "appeal_type",
                "紧急情况请直接拨打热线电话或110/119/120，网上提交不能及时处理 (for emergencies, call the hotline or 110/119/120)",
            )),
            a => match AppealType::parse(a) {
                Some(t) if CITIZEN_APPEAL_TYPES.contains(&t) => {}
                _ => errors.push(FieldError::new(
                    "appeal_type",
                    format!("无效的诉求类型“{a}” (unknown appeal type)"),
                )),
            },
        }
        let chosen = s
            .category_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        let category = match chosen {
            Some(c) => match dir.category(&c) {
                Some(k) if k.enabled => Some(c),
                _ => {
                    errors.push(FieldError::new(
                        "category_code",
                        format!("无效的业务分类“{c}” (unknown category)"),
                    ));
                    None
                }
            },
            None => match fallback_category(&dir) {
                Some(c) => Some(c),
                None => {
                    errors.push(FieldError::new(
                        "category_code",
                        "暂不能在线提交，请拨打热线电话 (online requests are not available yet; please call)",
                    ));
                    None
                }
            },
        };
        clean_line("caller_name", &s.caller_name, limits::NAME, &mut errors);
        clean_line("district", &s.district, limits::PLACE, &mut errors);
        clean_line("street", &s.street, limits::PLACE, &mut errors);
        clean_line("address", &s.address, limits::ADDRESS, &mut errors);
        clean_line("title", &s.title, limits::TITLE, &mut errors);
        let content = clean_text("content", &s.content, limits::CONTENT, &mut errors);
        if content.is_empty() {
            errors.push(FieldError::new(
                "content",
                "请填写诉求内容 (please describe your request)",
            ));
        }
        if photos.len() > MAX_PHOTOS {
            errors.push(FieldError::new(
                "files",
                format!("最多上传{MAX_PHOTOS}张照片 (at most {MAX_PHOTOS} photos)"),
            ));
        }
        for (name, bytes) in &photos {
            if let Err(m) = check_photo(name, bytes, self.limits.max_attachment_bytes) {
                errors.push(FieldError::new("files", m));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let actor = citizen();
        let mut attachments = vec![];
        for (name, bytes) in &photos {
            let up = self.store_public_photo(name, bytes)?;
            attachments.push(AttachmentRef {
                sha256: up.sha256,
                name: up.name,
            });
        }
        let n = NewTicket {
            caller_phone: s.caller_phone,
            caller_name: s.caller_name,
            anonymous: false,
            confidential: s.confidential,
            channel: Some(Channel::Web.as_str().into()),
            appeal_type: s.appeal_type.trim().to_string(),
            category_code: category.unwrap_or_default(),
            district: s.district,
            street: s.street,
            community: String::new(),
            address: s.address,
            title: s.title,
            content: s.content,
            urgency: None,
            answer: None,
            attachments,
        };
        let v = self.register(&actor, n)?;
        Ok(Submitted {
            lookup: format!("/public/lookup?number={}", v.number),
            number: v.number,
            created_at: v.created_at,
        })
    }

    /// A ticket as a citizen may see it, given its number and the last four
    /// digits of the caller's phone; [`not_found`] for anything that does
    /// not match.
    pub fn public_lookup(&self, number: &str, phone_last4: &str) -> Result<PublicTicket> {
        let last4 = crate::domain::ticket::fold_digits(phone_last4).unwrap_or_default();
        if last4.len() != 4 {
            return Err(not_found());
        }
        let no = TicketNo::parse(number).ok_or_else(not_found)?;
        let t = self.store.ticket(no)?.ok_or_else(not_found)?;
        let phone = t.caller_phone.as_bytes();
        if phone.len() < 4 || !same_digits(&phone[phone.len() - 4..], last4.as_bytes()) {
            return Err(not_found());
        }
        let dir = self.dir();
        let events = self.store.events(t.number)?;
        // A merged ticket is handled through its master: show its unit and answer.
        let master = match t.master.filter(|_| t.state == State::Merged) {
            Some(m) => self.store.ticket(m)?,
            None => None,
        };
        let (holder, answer) = match &master {
            Some(m) => {
                let me = self.store.events(m.number)?;
                (m, public_answer(m, &me, &dir))
            }
            None => (&t, public_answer(&t, &events, &dir)),
        };
        let (zh, en) = public_state(t.state);
        Ok(PublicTicket {
            number: t.number.to_string(),
            state: t.state,
            state_label: zh.into(),
            state_label_en: en.into(),
            appeal_type: t.appeal_type,
            category_name: dir.category_path(&t.category_code),
            title: t.title.clone(),
            unit_name: holder.unit_id.map(|u| dir.unit_name(u)),
            answered_at: answer.as_ref().and_then(|a| a.1.clone()),
            answer: answer.map(|a| a.0),
            created_at: fmt_time(t.created_at, &dir),
            due_at: t
                .due_at
                .filter(|_| !t.state.is_final())
                .map(|d| fmt_time(d, &dir)),
            closed_at: t.closed_at.map(|c| fmt_time(c, &dir)),
            steps: public_steps(&events, &dir),
        })
    }

    /// A lookup under the rate limits: per address, then per number.
    pub fn public_lookup_limited(
        &self,
        addr: IpAddr,
        number: &str,
        phone_last4: &str,
    ) -> Result<PublicTicket> {
        let l = limiter();
        l.hit(Bucket::Lookup, &addr_key(addr))?;
        // Per store as well as per number: tests run several stores in one process.
        let number_key =
            TicketNo::parse(number).map(|n| format!("{n}@{}", self.paths.data_dir.display()));
        if let Some(k) = &number_key {
            l.check(Bucket::NumberFailure, k)?;
        }
        let r = self.public_lookup(number, phone_last4);
        if let (Err(Error::NotFound(_)), Some(k)) = (&r, &number_key) {
            l.add(Bucket::NumberFailure, k);
        }
        r
    }
}

/// Constant-time comparison of two digit strings.
fn same_digits(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---- rate limiting ----

/// What is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Lookups per address.
    Lookup,
    /// Submission requests per address (valid or not).
    SubmitAttempt,
    /// Accepted submissions per address.
    Submission,
    /// Failed lookups per ticket number (any address).
    NumberFailure,
}

impl Bucket {
    /// (most events, per window).
    pub fn limit(self) -> (u32, Duration) {
        match self {
            Bucket::Lookup => (20, Duration::from_secs(600)),
            Bucket::SubmitAttempt => (30, Duration::from_secs(3600)),
            Bucket::Submission => (5, Duration::from_secs(3600)),
            Bucket::NumberFailure => (10, Duration::from_secs(3600)),
        }
    }

    fn message(self, wait: u64) -> String {
        let m = wait.div_ceil(60).max(1);
        match self {
            Bucket::Lookup | Bucket::NumberFailure => format!(
                "查询过于频繁，请{m}分钟后再试 (too many lookups; try again in {m} minutes)"
            ),
            Bucket::SubmitAttempt | Bucket::Submission => format!(
                "提交过于频繁，请{m}分钟后再试，或拨打热线电话 (too many submissions; try again in {m} minutes or call)"
            ),
        }
    }
}

/// Most keys the limiter keeps.
pub const MAX_KEYS: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Window {
    start: Instant,
    count: u32,
}

/// Fixed-window counters per (bucket, key), in memory.
#[derive(Default)]
pub struct RateLimiter {
    map: Mutex<HashMap<(Bucket, String), Window>>,
}

/// The process-wide limiter of the public pages and API.
pub fn limiter() -> &'static RateLimiter {
    static L: OnceLock<RateLimiter> = OnceLock::new();
    L.get_or_init(RateLimiter::default)
}

/// The key of a client address: IPv4 as is, IPv6 by its /64 prefix (one
/// household or host gets a whole /64).
pub fn addr_key(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v) => v.to_string(),
        IpAddr::V6(v) => match v.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

impl RateLimiter {
    fn too_many(b: Bucket, w: &Window, now: Instant) -> Option<u64> {
        let (max, win) = b.limit();
        let end = w.start + win;
        (w.count >= max && now < end).then(|| end.duration_since(now).as_secs().max(1))
    }

    fn current<'a>(
        map: &'a mut HashMap<(Bucket, String), Window>,
        b: Bucket,
        key: &str,
        now: Instant,
    ) -> &'a mut Window {
        let k = (b, key.to_string());
        if !map.contains_key(&k) && map.len() >= MAX_KEYS {
            map.retain(|(b, _), w| now.duration_since(w.start) < b.limit().1);
            if map.len() >= MAX_KEYS {
                let mut starts: Vec<Instant> = map.values().map(|w| w.start).collect();
                starts.sort();
                let cut = starts[starts.len() / 2];
                map.retain(|_, w| w.start > cut);
            }
        }
        let w = map.entry(k).or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(w.start) >= b.limit().1 {
            *w = Window {
                start: now,
                count: 0,
            };
        }
        w
    }

    /// Counts one event; refuses (without counting) when over the limit.
    pub fn hit_at(&self, b: Bucket, key: &str, now: Instant) -> Result<()> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let w = Self::current(&mut map, b, key, now);
        if let Some(wait) = Self::too_many(b, w, now) {
            return Err(Error::TooManyRequests {
                message: b.message(wait),
                retry_after: wait,
            });
        }
        w.count += 1;
        Ok(())
    }

    /// Refuses when over the limit, without counting.
    pub fn check_at(&self, b: Bucket, key: &str, now: Instant) -> Result<()> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&(b, key.to_string())) {
            Some(w) => match Self::too_many(b, w, now) {
                Some(wait) => Err(Error::TooManyRequests {
                    message: b.message(wait),
                    retry_after: wait,
                }),
                None => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// Counts one event without checking.
    pub fn add_at(&self, b: Bucket, key: &str, now: Instant) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let w = Self::current(&mut map, b, key, now);
        w.count = w.count.saturating_add(1);
    }

    pub fn hit(&self, b: Bucket, key: &str) -> Result<()> {
        self.hit_at(b, key, Instant::now())
    }
    pub fn check(&self, b: Bucket, key: &str) -> Result<()> {
        self.check_at(b, key, Instant::now())
    }
    pub fn add(&self, b: Bucket, key: &str) {
        self.add_at(b, key, Instant::now())
    }

    /// Before reading a submission: counts the attempt and checks the
    /// budget of accepted submissions.
    pub fn begin_submission(&self, addr: IpAddr) -> Result<()> {
        let k = addr_key(addr);
        self.check(Bucket::Submission, &k)?;
        self.hit(Bucket::SubmitAttempt, &k)
    }

    /// After an accepted submission.
    pub fn submitted(&self, addr: IpAddr) {
        self.add(Bucket::Submission, &addr_key(addr));
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_refuse_then_forgive() {
        let l = RateLimiter::default();
        let t0 = Instant::now();
        for _ in 0..20 {
            l.hit_at(Bucket::Lookup, "1.2.3.4", t0).unwrap();
        }
        match l.hit_at(Bucket::Lookup, "1.2.3.4", t0 + Duration::from_secs(60)) {
            Err(Error::TooManyRequests { retry_after, .. }) => assert_eq!(retry_after, 540),
            other => panic!("{other:?}"),
        }
        l.hit_at(Bucket::Lookup, "1.2.3.5", t0).unwrap();
        l.hit_at(Bucket::Lookup, "1.2.3.4", t0 + Duration::from_secs(600))
            .unwrap();
        // check/add: counted only when added.
        for _ in 0..10 {
            l.check_at(Bucket::NumberFailure, "n", t0).unwrap();
            l.add_at(Bucket::NumberFailure, "n", t0);
        }
        assert!(l.check_at(Bucket::NumberFailure, "n", t0).is_err());
    }

    #[test]
    fn bounded() {
        let l = RateLimiter::default();
        let t0 = Instant::now();
        for i in 0..(MAX_KEYS + 10) {
            l.add_at(
                Bucket::Lookup,
                &i.to_string(),
                t0 + Duration::from_millis(i as u64),
            );
        }
        assert!(l.len() <= MAX_KEYS);
        assert!(l.len() > MAX_KEYS / 3);
    }

    #[test]
    fn keys_and_photos() {
        assert_eq!(addr_key("10.1.2.3".parse().unwrap()), "10.1.2.3");
        assert_eq!(
            addr_key("2001:db8:1:2:3:4:5:6".parse().unwrap()),
            addr_key("2001:db8:1:2:ffff::1".parse().unwrap())
        );
        assert_eq!(addr_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1");
        assert!(check_photo("a.PNG", b"\x89PNG....", 100).is_ok());
        assert!(check_photo("a.jpg", b"\xFF\xD8\xFF\xE0", 100).is_ok());
        assert!(check_photo("a.webp", b"RIFF\0\0\0\0WEBPVP8 ", 100).is_ok());
        assert!(check_photo("a.png", b"<svg>", 100).is_err());
        assert!(check_photo("a.pdf", b"%PDF", 100).is_err());
        assert!(check_photo("a.png", b"\x89PNG....", 4).is_err());
        assert!(check_photo("a.gif", b"", 100).is_err());
    }

    #[test]
    fn steps_hide_notes_and_actors() {
        let dir = Directory::default();
        let ev = |kind| Event {
            at: 0,
            actor: 7,
            kind,
            note: "内部备注".into(),
        };
        let steps = public_steps(
            &[
                ev(EventKind::Created),
                ev(EventKind::Note),
                ev(EventKind::Dispatched {
                    unit_id: 3,
                    stage_due: 0,
                    due: 0,
                }),
                ev(EventKind::Replied {
                    result: "未审核的答复".into(),
                }),
                ev(EventKind::MergedIn {
                    child: TicketNo::new(20260101, 1),
                }),
            ],
            &dir,
        );
        let all = serde_json::to_string(&steps).unwrap();
        assert_eq!(steps.len(), 3);
        assert!(!all.contains("内部备注") && !all.contains("未审核") && !all.contains("20260101"));
    }
}
