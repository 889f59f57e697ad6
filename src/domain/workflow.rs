//! The closed loop (PRODUCT.md §4): every workflow step as a pure function
//! of the ticket, the action, who acts and the instant.
//!
//! `apply` checks, in this order: the actor's roles (403), the ticket's
//! state (409), the actor's unit (403), the action's fields (422); only
//! then does it change the ticket and return the events to append. Before
//! any step, cards reached by the current stage are recorded (`record_cards`)
//! so that no card is lost when a stage ends between two sweeps.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::calendar::{Calendar, deadline_hours, end_of_day};
use super::org::OrgTree;
use super::permissions::{Permission, allowed};
use super::settings::Settings;
use super::supervision::{StageDeadline, thresholds};
use super::ticket::{
    Event, EventKind, ExtensionRequest, Stage, StageKind, Ticket, TicketNo, limits,
};
use super::types::{AppealType, Role, Satisfaction, State, Supervision};

/// The center's review of a department's reply.
#[derive(Clone, Debug, PartialEq)]
pub enum ReviewOutcome {
    Pass,
    /// Fail: a normal ticket at another unit, normal periods (rule 2).
    Transfer {
        unit_id: u32,
    },
    /// Fail: back to the same unit with a chosen total period (rule 3).
    Back {
        period_days: u32,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Dispatch {
        unit_id: u32,
        assisting: Vec<u32>,
    },
    SignFor,
    Return,
    HandDown {
        unit_id: u32,
    },
    Progress,
    RequestExtension {
        until: Date,
    },
    DecideExtension {
        approve: bool,
        until: Option<Date>,
    },
    Reply {
        result: String,
    },
    ApproveReply {
        approve: bool,
    },
    Review(ReviewOutcome),
    Callback {
        satisfaction: Satisfaction,
        resolved: bool,
    },
    Reopen {
        unit_id: u32,
    },
    Close,
    Void,
    /// The dispatcher sends a wrongly registered ticket back to the operator.
    SendBack,
    /// A unit above the holder urges it (催办).
    Urge,
    /// A unit above the holder takes the ticket back and handles it itself
    /// (收回).
    TakeBack,
    /// A unit above the holder signs for on behalf of its sub-unit (代签收);
    /// the sub-unit keeps the ticket.
    SignForSubUnit,
}

impl Action {
    /// The API name of the action.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Dispatch { .. } => "dispatch",
            Action::SignFor => "sign-for",
            Action::Return => "return",
            Action::HandDown { .. } => "hand-down",
            Action::Progress => "progress",
            Action::RequestExtension { .. } => "request-extension",
            Action::DecideExtension { .. } => "decide-extension",
            Action::Reply { .. } => "reply",
            Action::ApproveReply { .. } => "approve-reply",
            Action::Review(_) => "review",
            Action::Callback { .. } => "callback",
            Action::Reopen { .. } => "reopen",
            Action::Close => "close",
            Action::Void => "void",
            Action::SendBack => "send-back",
            Action::Urge => "urge",
            Action::TakeBack => "take-back",
            Action::SignForSubUnit => "sign-for-sub-unit",
        }
    }
}

/// Every step a person can be offered on a ticket, by API name: the
/// actions of [`apply`] plus `merge` and `correct` (their own functions).
pub const STEPS: &[&str] = &[
    "dispatch",
    "sign-for",
    "return",
    "hand-down",
    "progress",
    "request-extension",
    "decide-extension",
    "reply",
    "approve-reply",
    "review",
    "callback",
    "reopen",
    "close",
    "merge",
    "void",
    "send-back",
    "correct",
    "urge",
    "take-back",
    "sign-for-sub-unit",
];

/// Who acts.
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    pub id: u32,
    pub roles: &'a [Role],
    pub unit_id: Option<u32>,
}

/// What the rules need besides the ticket.
pub struct Env<'a> {
    pub now: Timestamp,
    pub calendar: &'a Calendar,
    pub settings: &'a Settings,
    pub tz: &'a TimeZone,
    pub tree: &'a OrgTree,
    /// Whether a unit exists and is enabled.
    pub unit_ok: &'a dyn Fn(u32) -> bool,
}

/// Why a step was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The actor's roles or unit do not allow it (403).
    Forbidden(String),
    /// The ticket's state does not allow it (409).
    Conflict(String),
    /// A field is wrong (422).
    Invalid {
        field: &'static str,
        message: String,
    },
}

fn forbidden(m: &str) -> Refusal {
    Refusal::Forbidden(m.to_string())
}

fn invalid(field: &'static str, m: impl Into<String>) -> Refusal {
    Refusal::Invalid {
        field,
        message: m.into(),
    }
}

fn wrong_state(t: &Ticket, action: &str) -> Refusal {
    Refusal::Conflict(format!(
        "工单 {} 当前为“{}”，不能执行“{action}” (ticket is {}; {action} is not possible)",
        t.number,
        t.state.label_zh(),
        t.state
    ))
}

fn need_role(who: &Who, p: Permission, what: &str) -> Result<(), Refusal> {
    if allowed(who.roles, p) {
        Ok(())
    } else {
        Err(forbidden(&format!(
            "您的角色不能{what} (your roles do not allow this)"
        )))
    }
}

fn need_state(t: &Ticket, states: &[State], action: &str) -> Result<(), Refusal> {
    if states.contains(&t.state) {
        Ok(())
    } else {
        Err(wrong_state(t, action))
    }
}

/// The department handler of the unit that holds the ticket.
fn need_holder(t: &Ticket, who: &Who) -> Result<(), Refusal> {
    if who.unit_id.is_some() && who.unit_id == t.unit_id {
        Ok(())
    } else {
        Err(forbidden(
            "只有当前承办单位可以办理 (only the unit that holds the ticket can do this)",
        ))
    }
}

fn need_text(field: &'static str, v: &str, max: usize) -> Result<String, Refusal> {
    let v = v.trim();
    if v.is_empty() {
        return Err(invalid(field, "必填 (required)"));
    }
    if v.chars().count() > max {
        return Err(invalid(
            field,
            format!("最多{max}个字符 (at most {max} characters)"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(invalid(
            field,
            "不能包含控制字符 (control characters are not allowed)",
        ));
    }
    Ok(v.replace("\r\n", "\n"))
}

fn ev(at: i64, who: &Who, kind: EventKind, note: &str) -> Event {
    Event {
        at,
        actor: who.id,
        kind,
        note: note.to_string(),
    }
}

/// Starts a (new) round at `unit`: sign-for and total periods from now;
/// `total_days` overrides the type's total period (review back).
fn start_round(
    t: &mut Ticket,
    unit: u32,
    env: &Env,
    total_days: Option<u32>,
    who: &Who,
    note: &str,
) -> Event {
    let now = env.now;
    let (stage_due, due, by_hours) =
        if t.appeal_type == AppealType::Emergency && total_days.is_none() {
            (
                deadline_hours(now, env.settings.emergency_response_hours),
                deadline_hours(now, env.settings.emergency_finish_hours),
                true,
            )
        } else {
            let p = env.settings.period(t.appeal_type);
            let total = total_days.unwrap_or(p.total_days);
            (
                env.calendar
                    .deadline(now, p.sign_for_days.min(total), env.tz),
                env.calendar.deadline(now, total, env.tz),
                false,
            )
        };
    let secs = now.as_second();
    t.state = State::AwaitingSignFor;
    t.unit_id = Some(unit);
    if !t.units_seen.contains(&unit) {
        t.units_seen.push(unit);
    }
    t.handed_by = None;
    t.extension = None;
    t.stage = Some(Stage {
        kind: StageKind::SignFor,
        started_at: secs,
        due_at: stage_due.as_second(),
        by_hours,
        card: None,
    });
    t.due_at = Some(due.as_second());
    t.closed_at = None;
    ev(
        secs,
        who,
        EventKind::Dispatched {
            unit_id: unit,
            stage_due: stage_due.as_second(),
            due: due.as_second(),
        },
        note,
    )
}

/// The handling stage: due at the round's total deadline.
fn handle_stage(t: &Ticket, now: i64) -> Stage {
    Stage {
        kind: StageKind::Handle,
        started_at: now,
        due_at: t.due_at.unwrap_or(now),
        by_hours: t.stage.is_some_and(|s| s.by_hours),
        card: None,
    }
}

fn check_unit(env: &Env, field: &'static str, unit: u32) -> Result<(), Refusal> {
    if (env.unit_ok)(unit) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("单位 {unit} 不存在或已停用 (unit {unit} does not exist or is disabled)"),
        ))
    }
}

/// Whether `who`'s unit is strictly above the unit holding `t` (a level-2
/// unit over the level-3 unit the ticket was dispatched or handed down to).
/// Such a unit sees the ticket and may urge, take back or sign for on
/// behalf of its sub-unit, nothing else.
pub fn above_holder(t: &Ticket, who: &Who, tree: &OrgTree) -> bool {
    match (who.unit_id, t.unit_id) {
        (Some(mine), Some(holder)) => mine != holder && tree.subtree(mine).contains(&holder),
        _ => false,
    }
}

fn need_above(t: &Ticket, who: &Who, tree: &OrgTree) -> Result<(), Refusal> {
    if above_holder(t, who, tree) {
        Ok(())
    } else {
        Err(forbidden(
            "只有承办单位的上级单位可以催办、收回或代签收 (only a unit above the holding unit can do this)",
        ))
    }
}

fn no_extension_pending() -> Refusal {
    Refusal::Conflict("没有待审批的延期申请 (no extension request is pending)".into())
}

/// The checks of a step that do not depend on what was typed: the actor's
/// roles (403), the ticket's state (409), the actor's unit (403) and the
/// ticket's own conditions (409: a returned ticket, a pending extension, a
/// passed deadline, no sub-unit). [`apply`], [`merge`] and [`correct`] run
/// it first; [`available`] asks it for every step, so that the case file
/// offers exactly the steps that would be accepted.
pub fn gate(t: &Ticket, name: &str, who: &Who, tree: &OrgTree, now: i64) -> Result<(), Refusal> {
    use Permission as P;
    use State as S;
    let dept = |what: &str, states: &[State]| -> Result<(), Refusal> {
        need_role(who, P::HandleAsDepartment, what)?;
        need_state(t, states, name)?;
        need_holder(t, who)
    };
    let parent = |what: &str, states: &[State]| -> Result<(), Refusal> {
        need_role(who, P::HandleAsDepartment, what)?;
        need_state(t, states, name)?;
        need_above(t, who, tree)
    };
    let center = |p: Permission, what: &str, states: &[State]| -> Result<(), Refusal> {
        need_role(who, p, what)?;
        need_state(t, states, name)
    };
    match name {
        "dispatch" => center(P::Dispatch, "派单", &[S::PendingDispatch]),
        "merge" => center(P::Dispatch, "并案", &[S::PendingDispatch]),
        "send-back" => center(P::Dispatch, "退回话务员", &[S::PendingDispatch]),
        "correct" => {
            if !(allowed(who.roles, P::RegisterTicket) || allowed(who.roles, P::Dispatch)) {
                return Err(forbidden(
                    "您的角色不能修改工单 (your roles do not allow correcting tickets)",
                ));
            }
            need_state(t, &[S::PendingDispatch], name)
        }
        "sign-for" => dept("签收", &[S::AwaitingSignFor]),
        "return" => {
            dept("退单", &[S::AwaitingSignFor])?;
            if t.returned_ticket {
                return Err(Refusal::Conflict(
                    "复核退回件不能再退单 (a ticket sent back by the review cannot be returned)"
                        .into(),
                ));
            }
            Ok(())
        }
        "hand-down" => {
            dept("下派", &[S::InProgress])?;
            if tree.children(t.unit_id.unwrap_or(0)).is_empty() {
                return Err(Refusal::Conflict(
                    "本单位没有下级单位 (your unit has no sub-units)".into(),
                ));
            }
            Ok(())
        }
        "progress" => dept("填写进展", &[S::InProgress, S::AwaitingSignFor]),
        "request-extension" => {
            dept("申请延期", &[S::InProgress, S::AwaitingSignFor])?;
            if t.extension.is_some() {
                return Err(Refusal::Conflict(
                    "已有待审批的延期申请 (an extension request is already pending)".into(),
                ));
            }
            let due = t.due_at.unwrap_or(now);
            if t.stage.is_some_and(|s| now > s.due_at) || now > due {
                return Err(Refusal::Conflict(
                    "已超过时限，不能再申请延期 (the deadline has passed)".into(),
                ));
            }
            Ok(())
        }
        "decide-extension" => {
            need_role(who, P::Decide, "审批延期")?;
            if t.extension.is_none() {
                return Err(no_extension_pending());
            }
            need_state(
                t,
                &[S::InProgress, S::AwaitingSignFor, S::AwaitingApproval],
                name,
            )
        }
        "reply" => dept("答复", &[S::InProgress]),
        "approve-reply" => {
            need_role(who, P::HandleAsDepartment, "审核下级答复")?;
            need_state(t, &[S::AwaitingApproval], name)?;
            if who.unit_id.is_none() || who.unit_id != t.handed_by {
                return Err(forbidden(
                    "只有下派的二级单位可以审核 (only the level-2 unit that handed it down can approve)",
                ));
            }
            Ok(())
        }
        "review" => center(P::Review, "复核", &[S::AwaitingReview]),
        "callback" => center(P::Callback, "回访", &[S::AwaitingCallback]),
        "reopen" => center(P::Decide, "重办", &[S::AwaitingDecision]),
        "close" => center(P::Decide, "结案", &[S::AwaitingDecision]),
        "void" => {
            need_role(who, P::Dispatch, "作废")?;
            if t.state.is_final() {
                return Err(wrong_state(t, name));
            }
            Ok(())
        }
        "urge" => parent("催办", &[S::AwaitingSignFor, S::InProgress]),
        "take-back" => parent("收回", &[S::AwaitingSignFor, S::InProgress]),
        "sign-for-sub-unit" => parent("代签收", &[S::AwaitingSignFor]),
        other => Err(Refusal::Conflict(format!(
            "未知的操作“{other}” (unknown step {other})"
        ))),
    }
}

/// The steps of [`STEPS`] that `who` may take on `t` now: the buttons of
/// the case file. The same [`gate`] decides them as the steps themselves.
pub fn available(t: &Ticket, who: &Who, tree: &OrgTree, now: i64) -> Vec<&'static str> {
    STEPS
        .iter()
        .copied()
        .filter(|s| gate(t, s, who, tree, now).is_ok())
        .collect()
}

/// Records the cards the current stage has reached by `now` and not yet
/// recorded, each at the instant it was reached.
pub fn record_cards(t: &mut Ticket, now: Timestamp, cal: &Calendar, tz: &TimeZone) -> Vec<Event> {
    let mut out = vec![];
    if !t.state.has_stage_deadline() {
        return out;
    }
    let Some(stage) = t.stage.as_mut() else {
        return out;
    };
    let (Ok(started_at), Ok(due_at)) = (
        Timestamp::from_second(stage.started_at),
        Timestamp::from_second(stage.due_at),
    ) else {
        return out;
    };
    let th = thresholds(
        &StageDeadline {
            started_at,
            due_at,
            by_hours: stage.by_hours,
        },
        cal,
        tz,
    );
    for (card, at) in [
        (Supervision::Yellow, th.yellow_at),
        (Supervision::Red, th.red_at),
    ] {
        if now >= at && stage.card.is_none_or(|c| c < card) {
            stage.card = Some(card);
            out.push(Event {
                at: at.as_second(),
                actor: 0,
                kind: EventKind::CardReached { card },
                note: String::new(),
            });
        }
    }
    out
}

/// Applies one step. `note` is the reason / comment the actor typed. A
/// refused step leaves the ticket exactly as it was.
pub fn apply(
    t: &mut Ticket,
    action: &Action,
    note: &str,
    who: &Who,
    env: &Env,
) -> Result<Vec<Event>, Refusal> {
    let mut next = t.clone();
    let events = apply_to(&mut next, action, note, who, env)?;
    *t = next;
    Ok(events)
}

fn apply_to(
    t: &mut Ticket,
    action: &Action,
    note: &str,
    who: &Who,
    env: &Env,
) -> Result<Vec<Event>, Refusal> {
    let mut events = record_cards(t, env.now, env.calendar, env.tz);
    let now = env.now.as_second();
    let note = note.trim();
    if note.chars().count() > limits::REASON * 5 {
        return Err(invalid("reason", "说明过长 (the text is too long)"));
    }
    let name = action.name();
    gate(t, name, who, env.tree, now)?;
    match action {
        Action::Dispatch { unit_id, assisting } => {
            check_unit(env, "unit_id", *unit_id)?;
            for a in assisting {
                check_unit(env, "assisting", *a)?;
                if a == unit_id {
                    return Err(invalid(
                        "assisting",
                        "协办单位不能是主办单位 (an assisting unit cannot be the lead unit)",
                    ));
                }
            }
            t.returned_ticket = false;
            events.push(start_round(t, *unit_id, env, None, who, note));
            t.assisting = assisting.clone();
            for a in assisting {
                if !t.units_seen.contains(a) {
                    t.units_seen.push(*a);
                }
            }
        }
        Action::SignFor | Action::SignForSubUnit => {
            let note = match (action, note) {
                (Action::SignFor, n) => n.to_string(),
                (_, "") => "代下级单位签收".to_string(),
                (_, n) => format!("代下级单位签收：{n}"),
            };
            let stage = handle_stage(t, now);
            t.stage = Some(stage);
            t.state = State::InProgress;
            events.push(ev(
                now,
                who,
                EventKind::SignedFor {
                    stage_due: stage.due_at,
                },
                &note,
            ));
        }
        Action::Urge => {
            let text = if note.is_empty() {
                "请尽快办理".to_string()
            } else {
                need_text("reason", note, limits::REASON)?
            };
            events.push(ev(
                now,
                who,
                EventKind::Urged {
                    unit_id: t.unit_id.unwrap_or(0),
                },
                &text,
            ));
        }
        Action::TakeBack => {
            let mine = who.unit_id.unwrap_or(0);
            t.unit_id = Some(mine);
            if !t.units_seen.contains(&mine) {
                t.units_seen.push(mine);
            }
            // Taken back from a unit it was handed down to: the parent had
            // signed for it already and handles it again (as after a
            // level-3 return). Otherwise the stage runs on at the parent.
            if t.handed_by.take().is_some() {
                t.state = State::InProgress;
                t.stage = Some(handle_stage(t, now));
            }
            events.push(ev(now, who, EventKind::TakenBack { unit_id: mine }, note));
        }
        Action::Return => {
            let reason = need_text("reason", note, limits::REASON)?;
            let from = t.unit_id.unwrap_or(0);
            match t.handed_by {
                Some(parent) => {
                    // A level-3 unit returns to the level-2 unit that handed it down.
                    t.unit_id = Some(parent);
                    t.handed_by = None;
                    t.state = State::InProgress;
                    t.stage = Some(handle_stage(t, now));
                }
                None => {
                    t.state = State::PendingDispatch;
                    t.unit_id = None;
                    t.stage = None;
                    t.due_at = None;
                    t.extension = None;
                }
            }
            events.push(ev(now, who, EventKind::Returned { unit_id: from }, &reason));
        }
        Action::HandDown { unit_id } => {
            let own = t.unit_id.unwrap_or(0);
            if !env.tree.children(own).contains(unit_id) {
                return Err(invalid(
                    "unit_id",
                    "只能下派给本单位的下级单位 (hand down only to one of your own sub-units)",
                ));
            }
            check_unit(env, "unit_id", *unit_id)?;
            let p = env.settings.period(t.appeal_type);
            let by_hours = t.stage.is_some_and(|s| s.by_hours);
            let sign_due = if by_hours {
                deadline_hours(env.now, env.settings.emergency_response_hours).as_second()
            } else {
                env.calendar
                    .deadline(env.now, p.sign_for_days, env.tz)
                    .as_second()
            };
            let stage_due = sign_due.min(t.due_at.unwrap_or(sign_due));
            t.handed_by = Some(own);
            t.unit_id = Some(*unit_id);
            if !t.units_seen.contains(unit_id) {
                t.units_seen.push(*unit_id);
            }
            t.state = State::AwaitingSignFor;
            t.stage = Some(Stage {
                kind: StageKind::SignFor,
                started_at: now,
                due_at: stage_due,
                by_hours,
                card: None,
            });
            events.push(ev(
                now,
                who,
                EventKind::HandedDown {
                    unit_id: *unit_id,
                    stage_due,
                },
                note,
            ));
        }
        Action::Progress => {
            let text = need_text("reason", note, limits::REASON)?;
            events.push(ev(now, who, EventKind::Progress, &text));
        }
        Action::RequestExtension { until } => {
            let due = t.due_at.unwrap_or(now);
            let until_ts = end_of_day(*until, env.tz).as_second();
            if until_ts <= due {
                return Err(invalid(
                    "until",
                    "延期日期须晚于当前办理时限 (the new date must be after the current deadline)",
                ));
            }
            if !env.calendar.is_working_day(*until) {
                return Err(invalid(
                    "until",
                    "延期日期须为工作日 (the new date must be a working day)",
                ));
            }
            let reason = need_text("reason", note, limits::REASON)?;
            t.extension = Some(ExtensionRequest {
                until: until_ts,
                requested_at: now,
                requested_by: who.id,
                reason: reason.clone(),
            });
            events.push(ev(
                now,
                who,
                EventKind::ExtensionRequested { until: until_ts },
                &reason,
            ));
        }
        Action::DecideExtension { approve, until } => {
            let req = t.extension.clone().ok_or_else(no_extension_pending)?;
            t.extension = None;
            if *approve {
                let new_due = match until {
                    Some(d) => end_of_day(*d, env.tz).as_second(),
                    None => req.until,
                };
                if new_due <= t.due_at.unwrap_or(0) {
                    return Err(invalid(
                        "until",
                        "新时限须晚于当前办理时限 (the new deadline must be later)",
                    ));
                }
                t.due_at = Some(new_due);
                if let Some(s) = t.stage.as_mut()
                    && s.kind == StageKind::Handle
                {
                    s.due_at = new_due;
                    s.card = None;
                }
                events.push(ev(
                    now,
                    who,
                    EventKind::ExtensionDecided {
                        approved: true,
                        until: Some(new_due),
                    },
                    note,
                ));
            } else {
                let reason = need_text("reason", note, limits::REASON)?;
                events.push(ev(
                    now,
                    who,
                    EventKind::ExtensionDecided {
                        approved: false,
                        until: None,
                    },
                    &reason,
                ));
            }
        }
        Action::Reply { result } => {
            let result = need_text("result", result, limits::ANSWER)?;
            t.reply = result.clone();
            t.extension = None;
            if t.handed_by.is_some() {
                t.state = State::AwaitingApproval;
            } else {
                t.state = State::AwaitingReview;
                t.stage = None;
            }
            events.push(ev(now, who, EventKind::Replied { result }, note));
        }
        Action::ApproveReply { approve } => {
            let parent = t.handed_by;
            if *approve {
                t.unit_id = parent;
                t.handed_by = None;
                t.state = State::AwaitingReview;
                t.stage = None;
                events.push(ev(
                    now,
                    who,
                    EventKind::ReplyApproved { approved: true },
                    note,
                ));
            } else {
                let reason = need_text("reason", note, limits::REASON)?;
                t.state = State::InProgress;
                events.push(ev(
                    now,
                    who,
                    EventKind::ReplyApproved { approved: false },
                    &reason,
                ));
            }
        }
        Action::Review(outcome) => match outcome {
            ReviewOutcome::Pass => {
                t.state = State::AwaitingCallback;
                t.stage = None;
                events.push(ev(
                    now,
                    who,
                    EventKind::Reviewed {
                        outcome: "pass".into(),
                        unit_id: None,
                        period_days: None,
                    },
                    note,
                ));
            }
            ReviewOutcome::Transfer { unit_id } => {
                check_unit(env, "unit_id", *unit_id)?;
                let reason = need_text("reason", note, limits::REASON)?;
                events.push(ev(
                    now,
                    who,
                    EventKind::Reviewed {
                        outcome: "transfer".into(),
                        unit_id: Some(*unit_id),
                        period_days: None,
                    },
                    &reason,
                ));
                t.returned_ticket = false;
                t.assisting.clear();
                events.push(start_round(t, *unit_id, env, None, who, ""));
            }
            ReviewOutcome::Back { period_days } => {
                if ![5, 15].contains(period_days) {
                    return Err(invalid(
                        "period_days",
                        "退回重办时限为5或15个工作日 (period_days must be 5 or 15)",
                    ));
                }
                let reason = need_text("reason", note, limits::REASON)?;
                let unit = t.unit_id.ok_or_else(|| {
                    Refusal::Conflict("工单没有承办单位 (the ticket has no unit)".into())
                })?;
                events.push(ev(
                    now,
                    who,
                    EventKind::Reviewed {
                        outcome: "back".into(),
                        unit_id: Some(unit),
                        period_days: Some(*period_days),
                    },
                    &reason,
                ));
                events.push(start_round(t, unit, env, Some(*period_days), who, ""));
                t.returned_ticket = true;
            }
        },
        Action::Callback {
            satisfaction,
            resolved,
        } => {
            let kind = EventKind::CallbackRecorded {
                satisfaction: *satisfaction,
                resolved: *resolved,
            };
            match satisfaction {
                Satisfaction::Satisfied | Satisfaction::BasicallySatisfied => {
                    t.satisfaction = Some(*satisfaction);
                    t.resolved = Some(*resolved);
                    t.state = State::Closed;
                    t.closed_at = Some(now);
                    events.push(ev(now, who, kind, note));
                    events.push(ev(now, who, EventKind::Closed, ""));
                }
                Satisfaction::Dissatisfied => {
                    t.satisfaction = Some(*satisfaction);
                    t.resolved = Some(*resolved);
                    t.state = State::AwaitingDecision;
                    events.push(ev(now, who, kind, note));
                }
                Satisfaction::Unreachable => {
                    t.callback_attempts = t.callback_attempts.saturating_add(1);
                    events.push(ev(now, who, kind, note));
                    if t.callback_attempts >= env.settings.callback_max_attempts.max(1) {
                        t.satisfaction = Some(Satisfaction::Unreachable);
                        t.state = State::Closed;
                        t.closed_at = Some(now);
                        events.push(ev(
                            now,
                            who,
                            EventKind::Closed,
                            "多次回访无法联系 (unreachable)",
                        ));
                    }
                }
            }
        }
        Action::Reopen { unit_id } => {
            check_unit(env, "unit_id", *unit_id)?;
            let reason = need_text("reason", note, limits::REASON)?;
            t.round = t.round.saturating_add(1);
            t.satisfaction = None;
            t.resolved = None;
            t.callback_attempts = 0;
            t.returned_ticket = false;
            events.push(ev(
                now,
                who,
                EventKind::Reopened {
                    unit_id: *unit_id,
                    round: t.round,
                },
                &reason,
            ));
            events.push(start_round(t, *unit_id, env, None, who, ""));
        }
        Action::Close => {
            let reason = need_text("reason", note, limits::REASON)?;
            t.state = State::Closed;
            t.closed_at = Some(now);
            t.stage = None;
            events.push(ev(now, who, EventKind::Closed, &reason));
        }
        Action::SendBack => {
            let reason = need_text("reason", note, limits::REASON)?;
            events.push(ev(now, who, EventKind::SentBackToOperator, &reason));
        }
        Action::Void => {
            let reason = need_text("reason", note, limits::REASON)?;
            t.state = State::Voided;
            t.stage = None;
            t.extension = None;
            t.closed_at = Some(now);
            events.push(ev(now, who, EventKind::Voided, &reason));
        }
    }
    t.updated_at = now;
    Ok(events)
}

/// Corrections to a ticket before it is dispatched (all already
/// validated by the caller; `None` leaves a field as it is).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Correction {
    pub appeal_type: Option<AppealType>,
    pub category_code: Option<String>,
    pub urgency: Option<super::types::Urgency>,
    pub title: Option<String>,
    pub content: Option<String>,
    pub district: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub address: Option<String>,
}

/// Corrects a ticket that waits for dispatch (operators and dispatchers).
/// Returns the event listing every change, or a refusal; no change at all
/// is refused too, so that the timeline never holds empty corrections.
pub fn correct(
    t: &mut Ticket,
    c: &Correction,
    note: &str,
    who: &Who,
    now: Timestamp,
) -> Result<Vec<Event>, Refusal> {
    gate(t, "correct", who, &OrgTree::default(), now.as_second())?;
    let mut changes: Vec<String> = vec![];
    macro_rules! field {
        ($f:ident, $label:literal) => {
            if let Some(v) = &c.$f {
                if &t.$f != v {
                    changes.push(format!("{}：{} → {}", $label, t.$f, v));
                    t.$f = v.clone();
                }
            }
        };
    }
    if let Some(a) = c.appeal_type {
        if a == AppealType::Emergency {
            return Err(invalid(
                "appeal_type",
                "不能改为抢险类 (a ticket cannot be changed into an emergency; register a new one)",
            ));
        }
        if t.appeal_type != a {
            changes.push(format!(
                "诉求类型：{} → {}",
                t.appeal_type.label_zh(),
                a.label_zh()
            ));
            t.appeal_type = a;
        }
    }
    if let Some(u) = c.urgency
        && t.urgency != u
    {
        changes.push(format!(
            "紧急程度：{} → {}",
            t.urgency.label_zh(),
            u.label_zh()
        ));
        t.urgency = u;
    }
    field!(category_code, "业务分类");
    field!(title, "标题");
    field!(district, "区");
    field!(street, "街道");
    field!(community, "社区");
    field!(address, "地址");
    if let Some(v) = &c.content
        && &t.content != v
    {
        changes.push("诉求内容已修改".to_string());
        t.content = v.clone();
    }
    if changes.is_empty() {
        return Err(invalid("changes", "没有修改任何内容 (nothing was changed)"));
    }
    let secs = now.as_second();
    t.updated_at = secs;
    Ok(vec![ev(
        secs,
        who,
        EventKind::Corrected {
            changes: changes.join("；"),
        },
        note,
    )])
}

/// Merges `child` (a call about the same event) under `master` (并案).
/// Returns the events of the child and of the master.
pub fn merge(
    child: &mut Ticket,
    master: &mut Ticket,
    note: &str,
    who: &Who,
    now: Timestamp,
) -> Result<(Vec<Event>, Vec<Event>), Refusal> {
    gate(child, "merge", who, &OrgTree::default(), now.as_second())?;
    if child.number == master.number {
        return Err(invalid(
            "master",
            "不能并入自身 (a ticket cannot be merged into itself)",
        ));
    }
    if master.state.is_final() {
        return Err(Refusal::Conflict(format!(
            "主工单 {} 已“{}”，不能并案 (the master ticket is {})",
            master.number,
            master.state.label_zh(),
            master.state
        )));
    }
    let secs = now.as_second();
    child.state = State::Merged;
    child.master = Some(master.number);
    child.closed_at = Some(secs);
    child.updated_at = secs;
    master.merged.push(child.number);
    master.updated_at = secs;
    Ok((
        vec![ev(
            secs,
            who,
            EventKind::Merged {
                master: master.number,
            },
            note,
        )],
        vec![ev(
            secs,
            who,
            EventKind::MergedIn {
                child: child.number,
            },
            note,
        )],
    ))
}

/// Whether a consultation answered at intake is sampled for a callback:
/// a stable choice from its number, so the same share is sampled whatever
/// the order of registration.
pub fn sampled_for_callback(n: TicketNo, percent: u8) -> bool {
    let h = n.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    (h % 100) < u64::from(percent.min(100))
}

#[cfg(test)]
#[path = "workflow_tests.rs"]
mod tests;
