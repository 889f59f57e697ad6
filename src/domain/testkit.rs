//! Shared fixtures of the domain tests: a small org tree, the actors, and a
//! ticket with its timeline driven through `workflow::apply`.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::calendar::Calendar;
use super::org::{OrgTree, Unit};
use super::settings::Settings;
use super::ticket::{Event, EventKind, Ticket, TicketNo};
use super::types::{AppealType, Channel, Role, State, Urgency};
use super::workflow::{Action, Env, Refusal, Who, apply};

pub const L2: u32 = 1; // level-2 unit with a child
pub const L3: u32 = 2; // its level-3 unit
pub const OTHER: u32 = 3; // another level-2 unit

pub fn tree() -> OrgTree {
    let u = |id, parent| Unit {
        id,
        name: format!("u{id}"),
        parent_id: parent,
        enabled: true,
        created_at: 0,
    };
    OrgTree::new(&[u(L2, None), u(L3, Some(L2)), u(OTHER, None)])
}

pub fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// `"2026-09-01 10:00"` in Shanghai time → unix seconds.
pub fn sh_at(s: &str) -> Timestamp {
    at(&format!("{}:00+08:00", s.replace(' ', "T")))
}

pub fn sh() -> TimeZone {
    TimeZone::get("Asia/Shanghai").unwrap()
}

pub const OP_A: u32 = 14;
pub const OP_B: u32 = 15;
pub const DISPATCHER: Who = Who {
    id: 10,
    roles: &[Role::Dispatcher],
    unit_id: None,
};
pub const REVIEWER: Who = Who {
    id: 11,
    roles: &[Role::Reviewer],
    unit_id: None,
};
pub const CALLBACK: Who = Who {
    id: 12,
    roles: &[Role::CallbackAgent],
    unit_id: None,
};
pub const LEAD: Who = Who {
    id: 13,
    roles: &[Role::TeamLead],
    unit_id: None,
};
pub const H_L2: Who = Who {
    id: 20,
    roles: &[Role::DepartmentHandler],
    unit_id: Some(L2),
};
pub const H_L3: Who = Who {
    id: 21,
    roles: &[Role::DepartmentHandler],
    unit_id: Some(L3),
};
pub const H_OTHER: Who = Who {
    id: 22,
    roles: &[Role::DepartmentHandler],
    unit_id: Some(OTHER),
};

pub struct World {
    pub cal: Calendar,
    pub settings: Settings,
    pub tz: TimeZone,
    pub tree: OrgTree,
}

impl Default for World {
    fn default() -> Self {
        World {
            cal: Calendar::default_cn(),
            settings: Settings::default(),
            tz: sh(),
            tree: tree(),
        }
    }
}

impl World {
    pub fn apply(
        &self,
        t: &mut Ticket,
        now: Timestamp,
        a: &Action,
        note: &str,
        who: &Who,
    ) -> Result<Vec<Event>, Refusal> {
        let ok = |u: u32| [L2, L3, OTHER].contains(&u);
        let env = Env {
            now,
            calendar: &self.cal,
            settings: &self.settings,
            tz: &self.tz,
            tree: &self.tree,
            unit_ok: &ok,
        };
        apply(t, a, note, who, &env)
    }
}

/// A fresh ticket registered at `created` by `by` (events: `Created`).
pub fn new_ticket(
    no: TicketNo,
    created: Timestamp,
    by: u32,
    appeal: AppealType,
    category: &str,
) -> (Ticket, Vec<Event>) {
    let secs = created.as_second();
    let t = Ticket {
        number: no,
        created_at: secs,
        updated_at: secs,
        created_by: by,
        channel: Channel::Phone,
        appeal_type: appeal,
        category_code: category.into(),
        caller_phone: "13812345678".into(),
        caller_name: "张三".into(),
        anonymous: false,
        confidential: false,
        district: "市南区".into(),
        street: "八大关街道".into(),
        community: String::new(),
        address: String::new(),
        coordinates: None,
        title: "t".into(),
        content: "c".into(),
        urgency: Urgency::Normal,
        answer: String::new(),
        attachments: vec![],
        state: State::PendingDispatch,
        unit_id: None,
        units_seen: vec![],
        stage: None,
        due_at: None,
        round: 1,
        closed_at: None,
        satisfaction: None,
        event_count: 1,
        returned_ticket: false,
        assisting: vec![],
        handed_by: None,
        callback_attempts: 0,
        extension: None,
        master: None,
        merged: vec![],
        reply: String::new(),
        resolved: None,
    };
    let e = Event {
        at: secs,
        actor: by,
        kind: EventKind::Created,
        note: String::new(),
    };
    (t, vec![e])
}

/// Turns a fresh consultation into one answered at intake (and, if
/// `sampled`, waiting for a callback), as the intake service does.
pub fn answer_at_intake(t: &mut Ticket, tl: &mut Vec<Event>, sampled: bool) {
    let at = t.created_at;
    t.answer = "答复".into();
    t.state = State::Closed;
    t.closed_at = Some(at);
    tl.push(Event {
        at,
        actor: t.created_by,
        kind: EventKind::AnsweredAtIntake {
            answer: "答复".into(),
        },
        note: String::new(),
    });
    if sampled {
        t.state = State::AwaitingCallback;
        t.closed_at = None;
        tl.push(Event {
            at,
            actor: 0,
            kind: EventKind::SampledForCallback,
            note: String::new(),
        });
    }
    t.event_count = tl.len() as u32;
}
