//! What a person is shown of a ticket: the record, masked for department
//! users (PRODUCT.md §3), with names resolved and deadlines evaluated.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Actor, Directory};
use crate::domain::permissions::mask_phone;
use crate::domain::supervision::{self, StageDeadline};
use crate::domain::ticket::{Attachment, Event, EventKind, StageKind, Ticket};
use crate::domain::types::{AppealType, Channel, Satisfaction, State, Supervision, Urgency};

/// Shown instead of a hidden caller's name and number.
pub const HIDDEN: &str = "（保密）";

/// `2026-11-22 10:31` in the center's zone, for sentences.
pub fn fmt_short(secs: i64, dir: &Directory) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| {
            t.to_zoned(dir.settings.tz())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

pub fn fmt_time(secs: i64, dir: &Directory) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| {
            t.to_zoned(dir.settings.tz())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub sha256: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// Where to download it (with a session or token).
    pub url: String,
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        AttachmentView {
            sha256: a.sha256.clone(),
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            url: String::new(),
        }
    }
}

/// A ticket as the acting person may see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TicketView {
    /// `YYYYMMDD-NNNNNN`.
    pub number: String,
    pub created_at: String,
    pub updated_at: String,
    pub created_by: String,
    pub channel: Channel,
    pub appeal_type: AppealType,
    pub category_code: String,
    pub category_name: String,
    /// Masked (`138****1234`) for department users; `（保密）` when hidden.
    pub caller_phone: String,
    pub caller_name: String,
    /// The caller's identity is hidden from the viewer.
    pub caller_hidden: bool,
    pub anonymous: bool,
    pub confidential: bool,
    pub district: String,
    pub street: String,
    pub community: String,
    pub address: String,
    pub coordinates: Option<(f64, f64)>,
    pub title: String,
    pub content: String,
    pub urgency: Urgency,
    pub answer: String,
    pub attachments: Vec<AttachmentView>,
    pub state: State,
    pub unit_id: Option<u32>,
    pub unit_name: Option<String>,
    /// `sign_for` or `handle` while a department stage runs.
    pub stage: Option<String>,
    /// Deadline of the current stage.
    pub stage_due_at: Option<String>,
    /// Deadline of the whole round.
    pub due_at: Option<String>,
    /// Supervision status of the current stage; `null` when none runs.
    pub supervision: Option<Supervision>,
    pub round: u16,
    pub closed_at: Option<String>,
    pub satisfaction: Option<Satisfaction>,
    /// Whether the citizen said the problem was resolved.
    pub resolved: Option<bool>,
    /// The department's latest reply.
    pub reply: String,
    /// Sent back by the review to the same unit (cannot be returned).
    pub returned_ticket: bool,
    /// Assisting units (names).
    pub assisting: Vec<String>,
    /// The level-2 unit that handed the ticket down.
    pub handed_by: Option<u32>,
    /// A pending extension request: the deadline asked for.
    pub extension_until: Option<String>,
    /// The master ticket this one was merged into.
    pub master: Option<String>,
    /// Tickets merged into this one.
    pub merged: Vec<String>,
    pub callback_attempts: u8,
}

pub fn supervision_of(t: &Ticket, now: jiff::Timestamp, dir: &Directory) -> Option<Supervision> {
    let st = t.stage.filter(|_| t.state.has_stage_deadline())?;
    let stage = StageDeadline {
        started_at: jiff::Timestamp::from_second(st.started_at).ok()?,
        due_at: jiff::Timestamp::from_second(st.due_at).ok()?,
        by_hours: st.by_hours,
    };
    Some(supervision::status(
        &stage,
        now,
        &dir.calendar,
        &dir.settings.tz(),
    ))
}

impl TicketView {
    pub fn new(t: &Ticket, actor: &Actor, dir: &Directory, now: jiff::Timestamp) -> Self {
        let dept = actor.scope.is_department();
        let hidden = dept && t.identity_hidden_from_departments();
        let (phone, name) = if hidden {
            (HIDDEN.to_string(), HIDDEN.to_string())
        } else if dept {
            (mask_phone(&t.caller_phone), t.caller_name.clone())
        } else {
            (t.caller_phone.clone(), t.caller_name.clone())
        };
        let running = t.stage.filter(|_| t.state.has_stage_deadline());
        TicketView {
            number: t.number.to_string(),
            created_at: fmt_time(t.created_at, dir),
            updated_at: fmt_time(t.updated_at, dir),
            created_by: dir.user_name(t.created_by),
            channel: t.channel,
            appeal_type: t.appeal_type,
            category_code: t.category_code.clone(),
            category_name: dir.category_path(&t.category_code),
            caller_phone: phone,
            caller_name: name,
            caller_hidden: hidden,
            anonymous: t.anonymous,
            confidential: t.confidential,
            district: t.district.clone(),
            street: t.street.clone(),
            community: t.community.clone(),
            address: t.address.clone(),
            coordinates: t.coordinates,
            title: t.title.clone(),
            content: t.content.clone(),
            urgency: t.urgency,
            answer: t.answer.clone(),
            attachments: t.attachments.iter().map(AttachmentView::from).collect(),
            state: t.state,
            unit_id: t.unit_id,
            unit_name: t.unit_id.map(|u| dir.unit_name(u)),
            stage: running.map(|s| match s.kind {
                StageKind::SignFor => "sign_for".to_string(),
                StageKind::Handle => "handle".to_string(),
            }),
            stage_due_at: running.map(|s| fmt_time(s.due_at, dir)),
            due_at: t.due_at.map(|d| fmt_time(d, dir)),
            supervision: supervision_of(t, now, dir),
            round: t.round,
            closed_at: t.closed_at.map(|d| fmt_time(d, dir)),
            satisfaction: t.satisfaction,
            resolved: t.resolved,
            reply: t.reply.clone(),
            returned_ticket: t.returned_ticket,
            assisting: t.assisting.iter().map(|u| dir.unit_name(*u)).collect(),
            handed_by: t.handed_by,
            extension_until: t.extension.as_ref().map(|e| fmt_time(e.until, dir)),
            master: t.master.map(|m| m.to_string()),
            merged: t.merged.iter().map(|m| m.to_string()).collect(),
            callback_attempts: t.callback_attempts,
        }
    }
}

/// One line of the timeline.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventView {
    pub seq: u32,
    pub at: String,
    pub actor: String,
    /// Machine name of what happened (`created`, `dispatched`, …).
    pub action: String,
    /// What happened, in words (Chinese).
    pub summary: String,
    /// Why, in the actor's words.
    pub note: String,
}

impl EventView {
    pub fn new(seq: u32, e: &Event, dir: &Directory) -> Self {
        let (action, summary) = match &e.kind {
            EventKind::Created => ("created", "登记工单".to_string()),
            EventKind::AnsweredAtIntake { answer } => {
                ("answered_at_intake", format!("直接答复并办结：{answer}"))
            }
            EventKind::Dispatched {
                unit_id,
                stage_due,
                due,
            } => (
                "dispatched",
                format!(
                    "派单至 {}；签收时限 {}，办理时限 {}",
                    dir.unit_name(*unit_id),
                    fmt_short(*stage_due, dir),
                    fmt_short(*due, dir)
                ),
            ),
            EventKind::CardReached { card } => {
                ("card_reached", format!("监察状态：{}", card.label_zh()))
            }
            EventKind::Note => ("note", "备注".to_string()),
            EventKind::SignedFor { stage_due } => (
                "signed_for",
                format!("签收；办理时限 {}", fmt_short(*stage_due, dir)),
            ),
            EventKind::Returned { unit_id } => {
                ("returned", format!("{} 退单", dir.unit_name(*unit_id)))
            }
            EventKind::HandedDown { unit_id, stage_due } => (
                "handed_down",
                format!(
                    "下派至 {}；时限 {}",
                    dir.unit_name(*unit_id),
                    fmt_short(*stage_due, dir)
                ),
            ),
            EventKind::Progress => ("progress", "办理进展".to_string()),
            EventKind::Replied { result } => ("replied", format!("答复：{result}")),
            EventKind::ReplyApproved { approved } => (
                "reply_approved",
                if *approved {
                    "二级单位审核通过".to_string()
                } else {
                    "二级单位退回重办".to_string()
                },
            ),
            EventKind::Reviewed {
                outcome,
                unit_id,
                period_days,
            } => (
                "reviewed",
                match (outcome.as_str(), unit_id, period_days) {
                    ("pass", _, _) => "复核通过".to_string(),
                    ("transfer", Some(u), _) => format!("复核不通过，转办至 {}", dir.unit_name(*u)),
                    (_, _, Some(d)) => format!("复核不通过，退回原单位重办（{d}个工作日）"),
                    _ => format!("复核：{outcome}"),
                },
            ),
            EventKind::CallbackRecorded {
                satisfaction,
                resolved,
            } => (
                "callback",
                format!(
                    "回访：{}，{}",
                    satisfaction.label_zh(),
                    if *resolved { "已解决" } else { "未解决" }
                ),
            ),
            EventKind::Reopened { unit_id, round } => (
                "reopened",
                format!("重办（第{round}轮）至 {}", dir.unit_name(*unit_id)),
            ),
            EventKind::Closed => ("closed", "办结归档".to_string()),
            EventKind::Voided => ("voided", "作废".to_string()),
            EventKind::Merged { master } => ("merged", format!("并入主工单 {master}")),
            EventKind::ExtensionRequested { until } => (
                "extension_requested",
                format!("申请延期至 {}", fmt_short(*until, dir)),
            ),
            EventKind::MergedIn { child } => ("merged_in", format!("并入工单 {child}")),
            EventKind::SampledForCallback => ("sampled_for_callback", "抽中回访".to_string()),
            EventKind::SentBackToOperator => ("sent_back", "退回话务员修改".to_string()),
            EventKind::Corrected { changes } => ("corrected", format!("修改工单：{changes}")),
            EventKind::AlarmAcknowledged => (
                "alarm_acknowledged",
                "班长确认紧急告警（中心已知悉，等待承办单位签收）".to_string(),
            ),
            EventKind::Urged { unit_id } => ("urged", format!("催办 {}", dir.unit_name(*unit_id))),
            EventKind::TakenBack { unit_id } => (
                "taken_back",
                format!("收回，由 {} 自行办理", dir.unit_name(*unit_id)),
            ),
            EventKind::ExtensionDecided { approved, until } => (
                "extension_decided",
                match (approved, until) {
                    (true, Some(u)) => format!("同意延期至 {}", fmt_short(*u, dir)),
                    _ => "不同意延期".to_string(),
                },
            ),
        };
        EventView {
            seq,
            at: fmt_time(e.at, dir),
            actor: dir.user_name(e.actor),
            action: action.to_string(),
            summary,
            note: e.note.clone(),
        }
    }
}
