//! The closed loop as use cases: every workflow step through
//! `domain::workflow`, the card sweep, the department inbox, the center's
//! queues, and live notices for open screens.

use serde::Serialize;
use utoipa::ToSchema;

use super::views::{TicketView, supervision_of};
use super::{Actor, Services};
use crate::domain::permissions::{Permission, Scope};
use crate::domain::ticket::{FieldError, Ticket, TicketNo};
use crate::domain::types::{AppealType, State, Supervision, Urgency};
use crate::domain::workflow::{self, Action, Env, Refusal, Who};
use crate::error::{Error, Result};

/// Something that happened to a ticket, pushed to open screens (SSE).
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    /// `created`, `dispatched`, `signed_for`, …: the action's name.
    pub kind: String,
    pub number: String,
    pub title: String,
    pub state: State,
    pub unit_id: Option<u32>,
    /// Units that may see the ticket (for filtering per viewer).
    #[serde(skip)]
    pub units_seen: Vec<u32>,
    pub emergency: bool,
    /// What `domain::alarm` needs to decide who is alarmed.
    #[serde(skip)]
    pub alarm: crate::domain::alarm::Facts,
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Forbidden(m) => Error::Forbidden(m),
            Refusal::Conflict(m) => Error::Conflict(m),
            Refusal::Invalid { field, message } => {
                Error::Validation(vec![FieldError::new(field, message)])
            }
        }
    }
}

/// The department inbox: counts per tab and the tickets of one tab.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Inbox {
    pub tab: String,
    pub counts: InboxCounts,
    /// Red cards first, then yellow cards, then the nearest stage deadline.
    pub items: Vec<TicketView>,
    /// Numbers of the items a unit above urged (催办) since the ticket
    /// reached its current unit.
    pub urged: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, ToSchema)]
pub struct InboxCounts {
    pub sign_for: usize,
    pub in_progress: usize,
    pub approval: usize,
    pub due_today: usize,
    pub overdue: usize,
    pub returned: usize,
}

pub const INBOX_TABS: &[&str] = &[
    "sign_for",
    "in_progress",
    "approval",
    "due_today",
    "overdue",
    "returned",
];

/// The center's queues with their counts.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Queues {
    pub pending_dispatch: u64,
    /// Sent back to operators for correction.
    pub sent_back: usize,
    pub awaiting_review: u64,
    pub awaiting_callback: u64,
    pub awaiting_decision: u64,
    pub extension_requests: usize,
    pub overdue: usize,
    pub emergencies_unsigned: usize,
}

impl Services {
    pub(crate) fn notify(&self, t: &Ticket, kind: &str) {
        let _ = self.notices.send(self.notice(t, kind));
    }

    pub(crate) fn notice(&self, t: &Ticket, kind: &str) -> Notice {
        Notice {
            kind: kind.to_string(),
            number: t.number.to_string(),
            title: t.title.clone(),
            state: t.state,
            unit_id: t.unit_id,
            units_seen: t.units_seen.clone(),
            emergency: t.appeal_type == AppealType::Emergency || t.urgency == Urgency::Emergency,
            alarm: self.alarm_facts(t),
        }
    }

    /// Live receivers of notices (open `/events` and `/events/dashboard`
    /// streams): how the tests see that tabs share one stream.
    pub fn live_receivers(&self) -> usize {
        self.notices.receiver_count()
    }

    /// Corrects a ticket before dispatch, every field checked as at intake.
    pub fn correct(
        &self,
        actor: &Actor,
        number: &str,
        b: &ActionBody,
        note: &str,
    ) -> Result<TicketView> {
        use crate::domain::ticket::{clean_line, clean_text, limits};
        let t = self.ticket(actor, number)?;
        let dir = self.dir();
        let mut errors = vec![];
        fn text(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let appeal_type = text(&b.appeal_type).and_then(|a| {
            let r = AppealType::parse(a);
            if r.is_none() {
                errors.push(FieldError::new(
                    "appeal_type",
                    format!("无效的取值“{a}” (unknown value {a})"),
                ));
            }
            r
        });
        let urgency = text(&b.urgency).and_then(|u| {
            let r = Urgency::parse(u);
            if r.is_none() {
                errors.push(FieldError::new(
                    "urgency",
                    format!("无效的取值“{u}” (unknown value {u})"),
                ));
            }
            r
        });
        let category_code = text(&b.category_code).map(|c| {
            let code = c.split_whitespace().next().unwrap_or("").to_string();
            match dir.category(&code) {
                Some(k) if k.enabled => {}
                _ => errors.push(FieldError::new(
                    "category_code",
                    format!("分类 {code} 不存在或已停用 (unknown or disabled category {code})"),
                )),
            }
            code
        });
        let mut line = |f: &str, v: &Option<String>, max: usize| {
            v.as_ref().map(|s| clean_line(f, s, max, &mut errors))
        };
        let title = line("title", &b.title, limits::TITLE).filter(|s| !s.is_empty());
        let district = line("district", &b.district, limits::PLACE);
        let street = line("street", &b.street, limits::PLACE);
        let community = line("community", &b.community, limits::PLACE);
        let address = line("address", &b.address, limits::ADDRESS);
        let content = b
            .content
            .as_ref()
            .map(|s| clean_text("content", s, limits::CONTENT, &mut errors));
        if content.as_deref() == Some("") {
            errors.push(FieldError::new(
                "content",
                "诉求内容不能为空 (content cannot be empty)",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let fix = workflow::Correction {
            appeal_type,
            category_code,
            urgency,
            title,
            content,
            district,
            street,
            community,
            address,
        };
        let who = Who {
            id: actor.user.id,
            roles: &actor.user.roles,
            unit_id: actor.user.unit_id,
        };
        let now = self.now();
        let updated = self.store.update_ticket(t.number, |t| -> Result<_> {
            Ok(workflow::correct(t, &fix, note, &who, now)?)
        })?;
        Ok(TicketView::new(&updated, actor, &dir, now))
    }

    /// Tickets the dispatcher sent back to operators and nobody corrected
    /// yet (still pending dispatch, last step a send-back), oldest first.
    pub fn sent_back(&self, actor: &Actor) -> Result<Vec<TicketView>> {
        actor.require(Permission::ReadTickets)?;
        let q = crate::service::tickets::TicketQuery {
            state: Some("pending_dispatch".into()),
            sort: Some("oldest".into()),
            limit: Some("200".into()),
            ..Default::default()
        };
        let mut out = vec![];
        for v in self.query_tickets(actor, &q)?.items {
            let Some(no) = TicketNo::parse(&v.number) else {
                continue;
            };
            let events = self.store.events(no)?;
            if events.last().is_some_and(|e| {
                matches!(e.kind, crate::domain::ticket::EventKind::SentBackToOperator)
            }) {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Emergencies that still wait for sign-for and alarm the viewer
    /// (loud or quiet, `domain::alarm`): sent first to every newly opened
    /// stream, so the alarm survives navigation.
    pub fn pending_emergencies(&self, actor: &Actor) -> Result<Vec<Notice>> {
        let now = self.now().as_second();
        let v = super::alarm::viewer(actor);
        Ok(self
            .alarm_notices()?
            .into_iter()
            .filter(|n| {
                crate::domain::alarm::level(&n.alarm, &v, now) != crate::domain::alarm::Level::None
            })
            .collect())
    }

    /// Live notices (for server-sent events).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    /// Performs one workflow step on a ticket the actor can see.
    pub fn act(
        &self,
        actor: &Actor,
        number: &str,
        action: Action,
        note: &str,
    ) -> Result<TicketView> {
        actor.require(Permission::ReadTickets)?;
        let t = self.ticket(actor, number)?;
        let dir = self.dir();
        let now = self.now();
        let tz = dir.settings.tz();
        let unit_ok = |u: u32| dir.unit(u).is_some_and(|x| x.enabled);
        let env = Env {
            now,
            calendar: &dir.calendar,
            settings: &dir.settings,
            tz: &tz,
            tree: &dir.tree,
            unit_ok: &unit_ok,
        };
        let who = Who {
            id: actor.user.id,
            roles: &actor.user.roles,
            unit_id: actor.user.unit_id,
        };
        let name = action.name();
        let updated = self.store.update_ticket(t.number, |t| -> Result<_> {
            Ok(workflow::apply(t, &action, note, &who, &env)?)
        })?;
        self.notify(&updated, &name.replace('-', "_"));
        Ok(TicketView::new(&updated, actor, &dir, now))
    }

    /// Merges the ticket into `master` (并案), both in one transaction.
    pub fn merge(
        &self,
        actor: &Actor,
        number: &str,
        master: &str,
        note: &str,
    ) -> Result<TicketView> {
        let child = self.ticket(actor, number)?;
        let m = TicketNo::parse(master).ok_or_else(|| {
            Error::field(
                "master",
                "主工单编号格式为 YYYYMMDD-NNNNNN (master number looks like 20261122-000123)",
            )
        })?;
        self.ticket(actor, master).map_err(|_| {
            Error::field(
                "master",
                format!("主工单 {master} 不存在 (master ticket {master} not found)"),
            )
        })?;
        let who = Who {
            id: actor.user.id,
            roles: &actor.user.roles,
            unit_id: actor.user.unit_id,
        };
        let now = self.now();
        let (c, _) = self
            .store
            .update_two(child.number, m, |c, m| -> Result<_> {
                Ok(workflow::merge(c, m, note, &who, now)?)
            })?;
        Ok(TicketView::new(&c, actor, &self.dir(), now))
    }

    /// Records every card reached by now (at the instant it was reached).
    /// Runs at start, every minute, and after the dev clock moves.
    pub fn sweep_cards(&self) -> Result<usize> {
        let dir = self.dir();
        let now = self.now();
        let tz = dir.settings.tz();
        let stage_states = [
            State::AwaitingSignFor,
            State::InProgress,
            State::AwaitingApproval,
        ];
        // A stage can only have reached a card once it is overdue.
        let candidates = self
            .store
            .stages_due_before(&stage_states, now.as_second())?;
        let mut due = vec![];
        // An emergency still not signed for when its response time is over
        // escalates (`domain::alarm`): its first card is the moment.
        let mut escalated = vec![];
        for mut t in self.store.tickets(&candidates)? {
            if !workflow::record_cards(&mut t, now, &dir.calendar, &tz).is_empty() {
                due.push(t.number);
                if t.state == State::AwaitingSignFor {
                    escalated.push(t);
                }
            }
        }
        let changed = self
            .store
            .update_each(&due, |t| workflow::record_cards(t, now, &dir.calendar, &tz))?;
        for t in escalated.iter().filter(|t| self.alarm_facts(t).active()) {
            self.notify(t, "escalated");
        }
        if changed > 0 {
            tracing::info!(changed, "cards recorded");
        }
        Ok(changed)
    }

    /// A department user's inbox.
    pub fn inbox(&self, actor: &Actor, tab: &str) -> Result<Inbox> {
        actor.require(Permission::HandleAsDepartment)?;
        let Scope::Units(units) = &actor.scope else {
            return Err(Error::Forbidden(
                "收件箱仅供承办单位使用 (the inbox is for department users)".into(),
            ));
        };
        if !INBOX_TABS.contains(&tab) {
            return Err(Error::field(
                "tab",
                format!("未知的分类“{tab}” (unknown tab {tab})"),
            ));
        }
        let dir = self.dir();
        let now = self.now();
        let mut units: Vec<u32> = units.iter().copied().collect();
        units.sort();
        let open = [
            State::AwaitingSignFor,
            State::InProgress,
            State::AwaitingApproval,
        ];
        let nos = self.store.held_by(&units, &open)?;
        let mut counts = InboxCounts::default();
        let mut items: Vec<(u8, i64, Ticket)> = vec![];
        for n in nos {
            let Some(t) = self.store.ticket(n)? else {
                continue;
            };
            let sup = supervision_of(&t, now, &dir);
            let in_tab = [
                ("sign_for", t.state == State::AwaitingSignFor),
                ("in_progress", t.state == State::InProgress),
                ("approval", t.state == State::AwaitingApproval),
                ("due_today", sup == Some(Supervision::Warning)),
                (
                    "overdue",
                    matches!(sup, Some(Supervision::Yellow | Supervision::Red)),
                ),
                ("returned", t.returned_ticket),
            ];
            for (name, yes) in in_tab {
                if yes {
                    match name {
                        "sign_for" => counts.sign_for += 1,
                        "in_progress" => counts.in_progress += 1,
                        "approval" => counts.approval += 1,
                        "due_today" => counts.due_today += 1,
                        "overdue" => counts.overdue += 1,
                        _ => counts.returned += 1,
                    }
                    if name == tab {
                        let card = match sup {
                            Some(Supervision::Red) => 0,
                            Some(Supervision::Yellow) => 1,
                            _ => 2,
                        };
                        let due = t.stage.map(|s| s.due_at).unwrap_or(i64::MAX);
                        items.push((card, due, t.clone()));
                    }
                }
            }
        }
        items.sort_by_key(|(card, due, t)| (*card, *due, t.number));
        items.truncate(200);
        let mut urged = vec![];
        for (_, _, t) in &items {
            if urged_since_arrival(&self.store.events(t.number)?) {
                urged.push(t.number.to_string());
            }
        }
        Ok(Inbox {
            tab: tab.to_string(),
            counts,
            items: items
                .iter()
                .map(|(_, _, t)| TicketView::new(t, actor, &dir, now))
                .collect(),
            urged,
        })
    }

    /// The center's queues.
    pub fn queues(&self, actor: &Actor) -> Result<Queues> {
        actor.require(Permission::ReadTickets)?;
        if actor.scope.is_department() {
            return Err(Error::Forbidden(
                "队列仅供中心使用 (queues are for center staff)".into(),
            ));
        }
        let dir = self.dir();
        let now = self.now();
        let stage_states = [
            State::AwaitingSignFor,
            State::InProgress,
            State::AwaitingApproval,
        ];
        let mut overdue = 0;
        let mut emergencies_unsigned = 0;
        let mut extension_requests = 0;
        for s in stage_states {
            for n in self.store.stages_due_before(&[s], i64::MAX)? {
                let Some(t) = self.store.ticket(n)? else {
                    continue;
                };
                if matches!(
                    supervision_of(&t, now, &dir),
                    Some(Supervision::Yellow | Supervision::Red)
                ) {
                    overdue += 1;
                }
                if t.state == State::AwaitingSignFor
                    && (t.appeal_type == AppealType::Emergency || t.urgency == Urgency::Emergency)
                {
                    emergencies_unsigned += 1;
                }
                if t.extension.is_some() {
                    extension_requests += 1;
                }
            }
        }
        Ok(Queues {
            pending_dispatch: self.store.count_in_state(State::PendingDispatch)?,
            sent_back: self.sent_back(actor)?.len(),
            awaiting_review: self.store.count_in_state(State::AwaitingReview)?,
            awaiting_callback: self.store.count_in_state(State::AwaitingCallback)?,
            awaiting_decision: self.store.count_in_state(State::AwaitingDecision)?,
            extension_requests,
            overdue,
            emergencies_unsigned,
        })
    }
}

/// The body of `POST /api/v1/tickets/{number}/actions/{action}`. Which
/// fields matter depends on the action:
///
/// | action | fields |
/// |---|---|
/// | `dispatch` | `unit_id`, optional `assisting`, `reason` |
/// | `sign-for` | — |
/// | `return` | `reason` |
/// | `hand-down` | `unit_id` |
/// | `progress` | `reason` (the note) |
/// | `request-extension` | `until` (a working day, `YYYY-MM-DD`), `reason` |
/// | `decide-extension` | `approve`, optional `until`, `reason` when rejecting |
/// | `reply` | `result` |
/// | `approve-reply` | `approve`, `reason` when sending back |
/// | `review` | `outcome` (`pass`, `transfer` + `unit_id` + `reason`, `back` + `period_days` 5 or 15 + `reason`) |
/// | `callback` | `satisfaction`, `resolved`, `comment` |
/// | `reopen` | `unit_id`, `reason` |
/// | `close` | `reason` |
/// | `merge` | `master` (ticket number), optional `reason` |
/// | `void` | `reason` |
/// | `send-back` | `reason` (dispatcher → operator, before dispatch) |
/// | `urge` | optional `reason` (the message; a unit above the holder, 催办) |
/// | `take-back` | optional `reason` (a unit above the holder takes the ticket over, 收回) |
/// | `sign-for-sub-unit` | optional `reason` (a unit above the holder signs for its sub-unit, 代签收) |
/// | `correct` | any of `appeal_type`, `category_code`, `urgency`, `title`, `content`, `district`, `street`, `community`, `address`; optional `reason` (before dispatch) |
#[derive(Clone, Debug, Default, serde::Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ActionBody {
    pub unit_id: Option<u32>,
    pub assisting: Vec<u32>,
    pub reason: Option<String>,
    pub result: Option<String>,
    pub approve: Option<bool>,
    pub outcome: Option<String>,
    pub period_days: Option<u32>,
    pub satisfaction: Option<String>,
    pub resolved: Option<bool>,
    pub comment: Option<String>,
    pub until: Option<String>,
    pub master: Option<String>,
    /// `correct`: the fields to change (absent ones stay as they are).
    pub appeal_type: Option<String>,
    pub category_code: Option<String>,
    pub urgency: Option<String>,
    pub title: Option<String>,
    pub content: Option<String>,
    pub district: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub address: Option<String>,
}

/// Every action name of the API (the steps the domain knows).
pub const ACTIONS: &[&str] = workflow::STEPS;

/// Whether the timeline has an urge since the ticket reached its current
/// unit (the last dispatch, hand-down, take-back or return).
fn urged_since_arrival(events: &[crate::domain::ticket::Event]) -> bool {
    use crate::domain::ticket::EventKind as K;
    let mut urged = false;
    for e in events {
        match e.kind {
            K::Dispatched { .. }
            | K::HandedDown { .. }
            | K::TakenBack { .. }
            | K::Returned { .. } => urged = false,
            K::Urged { .. } => urged = true,
            _ => {}
        }
    }
    urged
}

fn need_unit(b: &ActionBody) -> Result<u32> {
    b.unit_id
        .ok_or_else(|| Error::field("unit_id", "请选择单位 (unit_id is required)"))
}

fn need_bool(v: Option<bool>, field: &str) -> Result<bool> {
    v.ok_or_else(|| {
        Error::field(
            field,
            format!("{field} 必填，true 或 false ({field} is required)"),
        )
    })
}

fn parse_date(field: &str, v: &Option<String>) -> Result<Option<jiff::civil::Date>> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| Error::field(field, "日期格式为 YYYY-MM-DD (use YYYY-MM-DD)")),
    }
}

impl Services {
    /// Runs the action `name` with `body` (API and pages share this).
    pub fn act_named(
        &self,
        actor: &Actor,
        number: &str,
        name: &str,
        b: ActionBody,
    ) -> Result<TicketView> {
        let reason = b.reason.clone().unwrap_or_default();
        let action = match name {
            "dispatch" => Action::Dispatch {
                unit_id: need_unit(&b)?,
                assisting: b.assisting.clone(),
            },
            "sign-for" => Action::SignFor,
            "return" => Action::Return,
            "hand-down" => Action::HandDown {
                unit_id: need_unit(&b)?,
            },
            "progress" => Action::Progress,
            "request-extension" => Action::RequestExtension {
                until: parse_date("until", &b.until)?
                    .ok_or_else(|| Error::field("until", "请填写延期至哪天 (until is required)"))?,
            },
            "decide-extension" => Action::DecideExtension {
                approve: need_bool(b.approve, "approve")?,
                until: parse_date("until", &b.until)?,
            },
            "reply" => Action::Reply {
                result: b.result.clone().unwrap_or_default(),
            },
            "approve-reply" => Action::ApproveReply {
                approve: need_bool(b.approve, "approve")?,
            },
            "review" => Action::Review(match b.outcome.as_deref() {
                Some("pass") => workflow::ReviewOutcome::Pass,
                Some("transfer") => workflow::ReviewOutcome::Transfer {
                    unit_id: need_unit(&b)?,
                },
                Some("back") => workflow::ReviewOutcome::Back {
                    period_days: b.period_days.ok_or_else(|| {
                        Error::field("period_days", "请选择5或15个工作日 (period_days: 5 or 15)")
                    })?,
                },
                _ => {
                    return Err(Error::field(
                        "outcome",
                        "outcome 为 pass、transfer 或 back (outcome must be pass, transfer or back)",
                    ));
                }
            }),
            "callback" => {
                let s = b.satisfaction.as_deref().and_then(crate::domain::types::Satisfaction::parse).ok_or_else(|| {
                    Error::field("satisfaction", "satisfaction 为 satisfied、basically_satisfied、dissatisfied 或 unreachable")
                })?;
                let comment = b.comment.clone().unwrap_or(reason);
                return self.act(
                    actor,
                    number,
                    Action::Callback {
                        satisfaction: s,
                        resolved: b.resolved.unwrap_or(false),
                    },
                    &comment,
                );
            }
            "reopen" => Action::Reopen {
                unit_id: need_unit(&b)?,
            },
            "close" => Action::Close,
            "void" => Action::Void,
            "send-back" => Action::SendBack,
            "urge" => Action::Urge,
            "take-back" => Action::TakeBack,
            "sign-for-sub-unit" => Action::SignForSubUnit,
            "correct" => return self.correct(actor, number, &b, &reason),
            "acknowledge-alarm" => return self.acknowledge_alarm(actor, number, &reason),
            "merge" => {
                let m = b.master.clone().unwrap_or_default();
                return self.merge(actor, number, m.trim(), &reason);
            }
            other => {
                return Err(Error::NotFound(format!(
                    "未知的操作“{other}” (unknown action {other})"
                )));
            }
        };
        self.act(actor, number, action, &reason)
    }
}
