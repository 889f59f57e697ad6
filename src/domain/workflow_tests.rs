//! Table-driven tests of every transition and refusal of the closed loop.

use super::*;
use crate::domain::org::Unit;
use crate::domain::types::{Channel, Urgency};

const CENTER: u32 = 0;
const L2: u32 = 1; // level-2 unit with a child
const L3: u32 = 2; // its level-3 unit
const OTHER: u32 = 3; // another level-2 unit

fn tree() -> OrgTree {
    let u = |id, parent| Unit {
        id,
        name: format!("u{id}"),
        parent_id: parent,
        enabled: true,
        created_at: 0,
    };
    OrgTree::new(&[u(L2, None), u(L3, Some(L2)), u(OTHER, None)])
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn sh() -> TimeZone {
    TimeZone::get("Asia/Shanghai").unwrap()
}

fn ticket(appeal: AppealType) -> Ticket {
    Ticket {
        number: TicketNo::new(20260918, 1),
        created_at: at("2026-09-18T09:00:00+08:00").as_second(),
        updated_at: 0,
        created_by: 1,
        channel: Channel::Phone,
        appeal_type: appeal,
        category_code: "0101".into(),
        caller_phone: "13812345678".into(),
        caller_name: "张三".into(),
        anonymous: false,
        confidential: false,
        district: String::new(),
        street: String::new(),
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
        event_count: 0,
        returned_ticket: false,
        assisting: vec![],
        handed_by: None,
        callback_attempts: 0,
        extension: None,
        master: None,
        merged: vec![],
        reply: String::new(),
        resolved: None,
    }
}

struct World {
    cal: Calendar,
    settings: Settings,
    tz: TimeZone,
    tree: OrgTree,
}

impl World {
    fn new() -> Self {
        World {
            cal: Calendar::default_cn(),
            settings: Settings::default(),
            tz: sh(),
            tree: tree(),
        }
    }
    fn step(
        &self,
        t: &mut Ticket,
        now: &str,
        a: Action,
        note: &str,
        who: Who,
    ) -> Result<Vec<Event>, Refusal> {
        let ok = |u: u32| [L2, L3, OTHER].contains(&u);
        let env = Env {
            now: at(now),
            calendar: &self.cal,
            settings: &self.settings,
            tz: &self.tz,
            tree: &self.tree,
            unit_ok: &ok,
        };
        apply(t, &a, note, &who, &env)
    }
}

const DISPATCHER: Who = Who {
    id: 10,
    roles: &[Role::Dispatcher],
    unit_id: None,
};
const REVIEWER: Who = Who {
    id: 11,
    roles: &[Role::Reviewer],
    unit_id: None,
};
const CALLBACK: Who = Who {
    id: 12,
    roles: &[Role::CallbackAgent],
    unit_id: None,
};
const LEAD: Who = Who {
    id: 13,
    roles: &[Role::TeamLead],
    unit_id: None,
};
const OPERATOR: Who = Who {
    id: 14,
    roles: &[Role::Operator],
    unit_id: None,
};
const H_L2: Who = Who {
    id: 20,
    roles: &[Role::DepartmentHandler],
    unit_id: Some(L2),
};
const H_L3: Who = Who {
    id: 21,
    roles: &[Role::DepartmentHandler],
    unit_id: Some(L3),
};
const H_OTHER: Who = Who {
    id: 22,
    roles: &[Role::DepartmentHandler],
    unit_id: Some(OTHER),
};

fn kinds(ev: &[Event]) -> Vec<&'static str> {
    ev.iter()
        .map(|e| match e.kind {
            EventKind::Dispatched { .. } => "dispatched",
            EventKind::SignedFor { .. } => "signed_for",
            EventKind::Returned { .. } => "returned",
            EventKind::HandedDown { .. } => "handed_down",
            EventKind::Replied { .. } => "replied",
            EventKind::ReplyApproved { .. } => "reply_approved",
            EventKind::Reviewed { .. } => "reviewed",
            EventKind::CallbackRecorded { .. } => "callback",
            EventKind::Reopened { .. } => "reopened",
            EventKind::Closed => "closed",
            EventKind::CardReached {
                card: Supervision::Yellow,
            } => "yellow",
            EventKind::CardReached {
                card: Supervision::Red,
            } => "red",
            EventKind::Progress => "progress",
            EventKind::ExtensionRequested { .. } => "ext_req",
            EventKind::ExtensionDecided { .. } => "ext_dec",
            EventKind::Voided => "voided",
            _ => "other",
        })
        .collect()
}

fn due(t: &Ticket) -> Timestamp {
    Timestamp::from_second(t.stage.unwrap().due_at).unwrap()
}

#[test]
fn the_whole_loop_with_hand_down_back_and_reopen() {
    let w = World::new();
    let mut t = ticket(AppealType::Complaint);
    // Dispatch Fri 2026-09-18 10:00: sign-for due Tue 22 (Sun 20 is a make-up day).
    let e = w
        .step(
            &mut t,
            "2026-09-18T10:00:00+08:00",
            Action::Dispatch {
                unit_id: OTHER,
                assisting: vec![],
            },
            "",
            DISPATCHER,
        )
        .unwrap();
    assert_eq!(kinds(&e), ["dispatched"]);
    assert_eq!(t.state, State::AwaitingSignFor);
    assert_eq!(due(&t), at("2026-09-22T23:59:59+08:00"));
    // Return at sign-for → pending dispatch, periods gone.
    w.step(
        &mut t,
        "2026-09-18T11:00:00+08:00",
        Action::Return,
        "非本单位职责",
        H_OTHER,
    )
    .unwrap();
    assert_eq!(
        (t.state, t.unit_id, t.stage, t.due_at),
        (State::PendingDispatch, None, None, None)
    );
    assert_eq!(
        t.units_seen,
        [OTHER],
        "the unit keeps seeing what it returned"
    );
    // Re-dispatch Mon 21: periods counted afresh.
    w.step(
        &mut t,
        "2026-09-21T09:00:00+08:00",
        Action::Dispatch {
            unit_id: L2,
            assisting: vec![],
        },
        "",
        DISPATCHER,
    )
    .unwrap();
    assert_eq!(due(&t), at("2026-09-24T23:59:59+08:00"));
    let total = t.due_at.unwrap();
    w.step(
        &mut t,
        "2026-09-21T10:00:00+08:00",
        Action::SignFor,
        "",
        H_L2,
    )
    .unwrap();
    assert_eq!(
        (t.state, t.stage.unwrap().kind, t.stage.unwrap().due_at),
        (State::InProgress, StageKind::Handle, total)
    );
    // Hand down to the level-3 unit; it signs and replies; L2 approves.
    w.step(
        &mut t,
        "2026-09-21T11:00:00+08:00",
        Action::HandDown { unit_id: L3 },
        "",
        H_L2,
    )
    .unwrap();
    assert_eq!(
        (t.state, t.unit_id, t.handed_by),
        (State::AwaitingSignFor, Some(L3), Some(L2))
    );
    assert!(t.units_seen.contains(&L3));
    w.step(
        &mut t,
        "2026-09-21T12:00:00+08:00",
        Action::SignFor,
        "",
        H_L3,
    )
    .unwrap();
    w.step(
        &mut t,
        "2026-09-22T12:00:00+08:00",
        Action::Reply {
            result: "已修复".into(),
        },
        "",
        H_L3,
    )
    .unwrap();
    assert_eq!(t.state, State::AwaitingApproval);
    assert_eq!(
        w.step(
            &mut t,
            "2026-09-22T12:30:00+08:00",
            Action::ApproveReply { approve: true },
            "",
            H_L3
        ),
        Err(forbidden(
            "只有下派的二级单位可以审核 (only the level-2 unit that handed it down can approve)"
        ))
    );
    w.step(
        &mut t,
        "2026-09-22T13:00:00+08:00",
        Action::ApproveReply { approve: true },
        "",
        H_L2,
    )
    .unwrap();
    assert_eq!(
        (t.state, t.unit_id, t.handed_by, t.stage),
        (State::AwaitingReview, Some(L2), None, None)
    );
    // Review: back to the same unit with 5 days.
    let e = w
        .step(
            &mut t,
            "2026-09-22T14:00:00+08:00",
            Action::Review(ReviewOutcome::Back { period_days: 5 }),
            "答复不完整",
            REVIEWER,
        )
        .unwrap();
    assert_eq!(kinds(&e), ["reviewed", "dispatched"]);
    assert!(t.returned_ticket);
    assert_eq!(t.state, State::AwaitingSignFor);
    // Mid-Autumn Festival: Fri 25 – Sun 27 are off.
    assert_eq!(
        due(&t),
        at("2026-09-28T23:59:59+08:00"),
        "sign-for 3 days: 23, 24, 28"
    );
    // 5 working days from Tue 22: 23, 24, 28, 29, 30.
    assert_eq!(
        t.due_at.unwrap(),
        at("2026-09-30T23:59:59+08:00").as_second()
    );
    assert!(matches!(
        w.step(
            &mut t,
            "2026-09-22T15:00:00+08:00",
            Action::Return,
            "不是我们的",
            H_L2
        ),
        Err(Refusal::Conflict(_))
    ));
    w.step(
        &mut t,
        "2026-09-22T15:00:00+08:00",
        Action::SignFor,
        "",
        H_L2,
    )
    .unwrap();
    w.step(
        &mut t,
        "2026-09-23T09:00:00+08:00",
        Action::Reply {
            result: "已修复并回复".into(),
        },
        "",
        H_L2,
    )
    .unwrap();
    assert_eq!(t.state, State::AwaitingReview);
    w.step(
        &mut t,
        "2026-09-23T10:00:00+08:00",
        Action::Review(ReviewOutcome::Pass),
        "",
        REVIEWER,
    )
    .unwrap();
    assert_eq!(t.state, State::AwaitingCallback);
    // Dissatisfied → decision → reopen (round 2).
    w.step(
        &mut t,
        "2026-09-23T11:00:00+08:00",
        Action::Callback {
            satisfaction: Satisfaction::Dissatisfied,
            resolved: false,
        },
        "还是没水",
        CALLBACK,
    )
    .unwrap();
    assert_eq!(t.state, State::AwaitingDecision);
    let e = w
        .step(
            &mut t,
            "2026-09-23T12:00:00+08:00",
            Action::Reopen { unit_id: L2 },
            "市民仍不满意",
            LEAD,
        )
        .unwrap();
    assert_eq!(kinds(&e), ["reopened", "dispatched"]);
    assert_eq!(
        (t.round, t.state, t.satisfaction, t.returned_ticket),
        (2, State::AwaitingSignFor, None, false)
    );
    w.step(
        &mut t,
        "2026-09-23T13:00:00+08:00",
        Action::SignFor,
        "",
        H_L2,
    )
    .unwrap();
    w.step(
        &mut t,
        "2026-09-24T13:00:00+08:00",
        Action::Reply {
            result: "更换管道".into(),
        },
        "",
        H_L2,
    )
    .unwrap();
    w.step(
        &mut t,
        "2026-09-24T14:00:00+08:00",
        Action::Review(ReviewOutcome::Pass),
        "",
        REVIEWER,
    )
    .unwrap();
    let e = w
        .step(
            &mut t,
            "2026-09-24T15:00:00+08:00",
            Action::Callback {
                satisfaction: Satisfaction::Satisfied,
                resolved: true,
            },
            "",
            CALLBACK,
        )
        .unwrap();
    assert_eq!(kinds(&e), ["callback", "closed"]);
    assert_eq!(
        (t.state, t.satisfaction, t.resolved),
        (State::Closed, Some(Satisfaction::Satisfied), Some(true))
    );
    assert!(t.closed_at.is_some());
    assert_eq!(t.reply, "更换管道");
}

/// A ticket in `s`, held by L2 (handed down to L3 where that matters).
fn in_state(s: State) -> Ticket {
    let mut t = ticket(AppealType::Help);
    t.state = s;
    if !matches!(s, State::PendingDispatch) {
        t.unit_id = Some(L2);
        t.units_seen = vec![L2];
        t.due_at = Some(at("2026-10-30T23:59:59+08:00").as_second());
        t.stage = Some(Stage {
            kind: StageKind::Handle,
            started_at: 0,
            due_at: t.due_at.unwrap(),
            by_hours: false,
            card: None,
        });
    }
    if s == State::AwaitingApproval {
        t.unit_id = Some(L3);
        t.handed_by = Some(L2);
    }
    t
}

#[test]
fn every_action_is_refused_in_every_other_state() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let until = jiff::civil::date(2026, 11, 2);
    let cases: Vec<(Action, &str, Who, &[State])> = vec![
        (
            Action::Dispatch {
                unit_id: OTHER,
                assisting: vec![],
            },
            "",
            DISPATCHER,
            &[State::PendingDispatch],
        ),
        (Action::SignFor, "", H_L2, &[State::AwaitingSignFor]),
        (Action::Return, "理由", H_L2, &[State::AwaitingSignFor]),
        (
            Action::HandDown { unit_id: L3 },
            "",
            H_L2,
            &[State::InProgress],
        ),
        (
            Action::Progress,
            "进展",
            H_L2,
            &[State::InProgress, State::AwaitingSignFor],
        ),
        (
            Action::RequestExtension { until },
            "理由",
            H_L2,
            &[State::InProgress, State::AwaitingSignFor],
        ),
        (
            Action::Reply { result: "r".into() },
            "",
            H_L2,
            &[State::InProgress],
        ),
        (
            Action::ApproveReply { approve: true },
            "",
            H_L2,
            &[State::AwaitingApproval],
        ),
        (
            Action::Review(ReviewOutcome::Pass),
            "",
            REVIEWER,
            &[State::AwaitingReview],
        ),
        (
            Action::Callback {
                satisfaction: Satisfaction::Satisfied,
                resolved: true,
            },
            "",
            CALLBACK,
            &[State::AwaitingCallback],
        ),
        (
            Action::Reopen { unit_id: OTHER },
            "理由",
            LEAD,
            &[State::AwaitingDecision],
        ),
        (Action::Close, "理由", LEAD, &[State::AwaitingDecision]),
        (
            Action::Void,
            "重复",
            DISPATCHER,
            &[
                State::PendingDispatch,
                State::AwaitingSignFor,
                State::InProgress,
                State::AwaitingApproval,
                State::AwaitingReview,
                State::AwaitingCallback,
                State::AwaitingDecision,
            ],
        ),
    ];
    for (action, note, who, ok_states) in &cases {
        for s in State::ALL {
            let mut t = in_state(*s);
            let r = w.step(&mut t, now, action.clone(), note, *who);
            if ok_states.contains(s) {
                assert!(r.is_ok(), "{} in {s}: {r:?}", action.name());
            } else {
                assert!(
                    matches!(r, Err(Refusal::Conflict(_))),
                    "{} in {s} should be 409: {r:?}",
                    action.name()
                );
                assert_eq!(t.state, *s, "a refused step changes nothing");
            }
        }
    }
    assert_eq!(
        cases.len() + 1,
        14,
        "every action but decide-extension (tested below) is in the table"
    );
}

#[test]
fn every_action_is_refused_to_the_wrong_roles() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let all: [Who; 8] = [
        DISPATCHER, REVIEWER, CALLBACK, LEAD, OPERATOR, H_L2, H_L3, H_OTHER,
    ];
    let cases: Vec<(Action, &str, State, &[u32])> = vec![
        // (action, note, state, ids of who may do it)
        (
            Action::Dispatch {
                unit_id: OTHER,
                assisting: vec![],
            },
            "",
            State::PendingDispatch,
            &[10, 13],
        ),
        (Action::SignFor, "", State::AwaitingSignFor, &[20]),
        (Action::Return, "理由", State::AwaitingSignFor, &[20]),
        (
            Action::HandDown { unit_id: L3 },
            "",
            State::InProgress,
            &[20],
        ),
        (
            Action::Reply { result: "r".into() },
            "",
            State::InProgress,
            &[20],
        ),
        (
            Action::ApproveReply { approve: true },
            "",
            State::AwaitingApproval,
            &[20],
        ),
        (
            Action::Review(ReviewOutcome::Pass),
            "",
            State::AwaitingReview,
            &[11, 13],
        ),
        (
            Action::Callback {
                satisfaction: Satisfaction::Satisfied,
                resolved: true,
            },
            "",
            State::AwaitingCallback,
            &[12, 13],
        ),
        (
            Action::Reopen { unit_id: OTHER },
            "理由",
            State::AwaitingDecision,
            &[13],
        ),
        (Action::Close, "理由", State::AwaitingDecision, &[13]),
        (Action::Void, "重复", State::PendingDispatch, &[10, 13]),
    ];
    for (action, note, state, may) in &cases {
        for who in all {
            let mut t = in_state(*state);
            let r = w.step(&mut t, now, action.clone(), note, who);
            if may.contains(&who.id) {
                assert!(r.is_ok(), "{} by {}: {r:?}", action.name(), who.id);
            } else {
                assert!(
                    matches!(r, Err(Refusal::Forbidden(_))),
                    "{} by {} should be 403: {r:?}",
                    action.name(),
                    who.id
                );
            }
        }
    }
}

#[test]
fn hand_down_only_to_own_children_and_level3_returns_to_level2() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let mut t = in_state(State::InProgress);
    assert!(matches!(
        w.step(&mut t, now, Action::HandDown { unit_id: OTHER }, "", H_L2),
        Err(Refusal::Invalid { .. })
    ));
    w.step(&mut t, now, Action::HandDown { unit_id: L3 }, "", H_L2)
        .unwrap();
    // The stage of the level-3 unit never ends after the round's deadline.
    assert!(t.stage.unwrap().due_at <= t.due_at.unwrap());
    assert!(
        matches!(
            w.step(&mut t, now, Action::Return, "", H_L3),
            Err(Refusal::Invalid { .. })
        ),
        "a reason is required"
    );
    w.step(&mut t, now, Action::Return, "不属于本所", H_L3)
        .unwrap();
    assert_eq!(
        (t.state, t.unit_id, t.handed_by),
        (State::InProgress, Some(L2), None)
    );
    // Sent back by the level-2 unit: the level-3 unit handles it again.
    let mut t = in_state(State::AwaitingApproval);
    w.step(
        &mut t,
        now,
        Action::ApproveReply { approve: false },
        "补充照片",
        H_L2,
    )
    .unwrap();
    assert_eq!((t.state, t.unit_id), (State::InProgress, Some(L3)));
}

#[test]
fn review_transfer_and_period_choices() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let mut t = in_state(State::AwaitingReview);
    assert!(matches!(
        w.step(
            &mut t,
            now,
            Action::Review(ReviewOutcome::Back { period_days: 7 }),
            "x",
            REVIEWER
        ),
        Err(Refusal::Invalid {
            field: "period_days",
            ..
        })
    ));
    assert!(matches!(
        w.step(
            &mut t,
            now,
            Action::Review(ReviewOutcome::Transfer { unit_id: OTHER }),
            "",
            REVIEWER
        ),
        Err(Refusal::Invalid {
            field: "reason",
            ..
        })
    ));
    w.step(
        &mut t,
        now,
        Action::Review(ReviewOutcome::Transfer { unit_id: OTHER }),
        "应由燃气公司办理",
        REVIEWER,
    )
    .unwrap();
    assert_eq!(
        (t.state, t.unit_id, t.returned_ticket),
        (State::AwaitingSignFor, Some(OTHER), false)
    );
    // Normal periods of a help request: 15 working days from Mon 21 Sept.
    assert_eq!(
        t.due_at.unwrap(),
        w.cal.deadline(at(now), 15, &sh()).as_second()
    );
    let mut t = in_state(State::AwaitingReview);
    w.step(
        &mut t,
        now,
        Action::Review(ReviewOutcome::Back { period_days: 15 }),
        "重办",
        REVIEWER,
    )
    .unwrap();
    assert_eq!(
        t.due_at.unwrap(),
        w.cal.deadline(at(now), 15, &sh()).as_second()
    );
    assert_eq!(
        t.stage.unwrap().due_at,
        w.cal.deadline(at(now), 3, &sh()).as_second()
    );
}

#[test]
fn extensions_move_the_deadline() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let mut t = in_state(State::InProgress);
    let old = t.due_at.unwrap();
    // Not a working day / not later / no reason.
    assert!(matches!(
        w.step(
            &mut t,
            now,
            Action::RequestExtension {
                until: jiff::civil::date(2026, 11, 1)
            },
            "x",
            H_L2
        ),
        Err(Refusal::Invalid { .. })
    ));
    assert!(matches!(
        w.step(
            &mut t,
            now,
            Action::RequestExtension {
                until: jiff::civil::date(2026, 10, 9)
            },
            "x",
            H_L2
        ),
        Err(Refusal::Invalid { .. })
    ));
    assert!(matches!(
        w.step(
            &mut t,
            now,
            Action::DecideExtension {
                approve: true,
                until: None
            },
            "",
            LEAD
        ),
        Err(Refusal::Conflict(_))
    ));
    w.step(
        &mut t,
        now,
        Action::RequestExtension {
            until: jiff::civil::date(2026, 11, 6),
        },
        "需要采购配件",
        H_L2,
    )
    .unwrap();
    assert!(matches!(
        w.step(
            &mut t,
            now,
            Action::RequestExtension {
                until: jiff::civil::date(2026, 11, 9)
            },
            "again",
            H_L2
        ),
        Err(Refusal::Conflict(_))
    ));
    assert!(matches!(
        w.step(
            &mut t,
            now,
            Action::DecideExtension {
                approve: true,
                until: None
            },
            "",
            H_L2
        ),
        Err(Refusal::Forbidden(_))
    ));
    let e = w
        .step(
            &mut t,
            now,
            Action::DecideExtension {
                approve: true,
                until: None,
            },
            "同意",
            LEAD,
        )
        .unwrap();
    assert_eq!(kinds(&e), ["ext_dec"]);
    let new = at("2026-11-06T23:59:59+08:00").as_second();
    assert_eq!(
        (t.due_at, t.stage.unwrap().due_at, t.extension.is_none()),
        (Some(new), new, true)
    );
    assert!(new > old);
    // A rejection needs a reason and leaves the deadline.
    w.step(
        &mut t,
        now,
        Action::RequestExtension {
            until: jiff::civil::date(2026, 11, 13),
        },
        "再延",
        H_L2,
    )
    .unwrap();
    assert!(matches!(
        w.step(
            &mut t,
            now,
            Action::DecideExtension {
                approve: false,
                until: None
            },
            "",
            LEAD
        ),
        Err(Refusal::Invalid { .. })
    ));
    w.step(
        &mut t,
        now,
        Action::DecideExtension {
            approve: false,
            until: None,
        },
        "不同意",
        LEAD,
    )
    .unwrap();
    assert_eq!(t.due_at, Some(new));
    // After the deadline no request is possible.
    assert!(matches!(
        w.step(
            &mut t,
            "2026-11-09T10:00:00+08:00",
            Action::RequestExtension {
                until: jiff::civil::date(2026, 11, 20)
            },
            "晚了",
            H_L2
        ),
        Err(Refusal::Conflict(_))
    ));
}

#[test]
fn callbacks_unreachable_then_closed_and_lead_closes_dissatisfied() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let mut t = in_state(State::AwaitingCallback);
    let cb = Action::Callback {
        satisfaction: Satisfaction::Unreachable,
        resolved: false,
    };
    w.step(&mut t, now, cb.clone(), "无人接听", CALLBACK)
        .unwrap();
    w.step(&mut t, now, cb.clone(), "关机", CALLBACK).unwrap();
    assert_eq!((t.state, t.callback_attempts), (State::AwaitingCallback, 2));
    let e = w.step(&mut t, now, cb, "空号", CALLBACK).unwrap();
    assert_eq!(kinds(&e), ["callback", "closed"]);
    assert_eq!(
        (t.state, t.satisfaction),
        (State::Closed, Some(Satisfaction::Unreachable))
    );
    let mut t = in_state(State::AwaitingCallback);
    w.step(
        &mut t,
        now,
        Action::Callback {
            satisfaction: Satisfaction::BasicallySatisfied,
            resolved: true,
        },
        "",
        CALLBACK,
    )
    .unwrap();
    assert_eq!(t.state, State::Closed);
    let mut t = in_state(State::AwaitingDecision);
    assert!(matches!(
        w.step(&mut t, now, Action::Close, "", LEAD),
        Err(Refusal::Invalid { .. })
    ));
    w.step(&mut t, now, Action::Close, "诉求不合理，已解释", LEAD)
        .unwrap();
    assert_eq!(t.state, State::Closed);
}

#[test]
fn cards_are_recorded_once_at_the_instant_reached() {
    let w = World::new();
    let mut t = ticket(AppealType::Complaint);
    w.step(
        &mut t,
        "2026-09-18T10:00:00+08:00",
        Action::Dispatch {
            unit_id: L2,
            assisting: vec![],
        },
        "",
        DISPATCHER,
    )
    .unwrap();
    // Due Tue 22; yellow from Wed 23 00:00; red from Thu 24 00:00.
    let mut sweep = |now: &str| record_cards(&mut t, at(now), &w.cal, &w.tz);
    assert!(sweep("2026-09-22T12:00:00+08:00").is_empty());
    let e = sweep("2026-09-23T08:00:00+08:00");
    assert_eq!(kinds(&e), ["yellow"]);
    assert_eq!(e[0].at, at("2026-09-23T00:00:00+08:00").as_second());
    assert!(
        sweep("2026-09-23T09:00:00+08:00").is_empty(),
        "recorded once"
    );
    let e = sweep("2026-09-24T00:00:00+08:00");
    assert_eq!(kinds(&e), ["red"]);
    assert!(sweep("2026-09-30T00:00:00+08:00").is_empty());
    // Both cards reached while the server was off: both recorded, with their instants.
    let mut t = ticket(AppealType::Complaint);
    w.step(
        &mut t,
        "2026-09-18T10:00:00+08:00",
        Action::Dispatch {
            unit_id: L2,
            assisting: vec![],
        },
        "",
        DISPATCHER,
    )
    .unwrap();
    let e = record_cards(&mut t, at("2026-10-01T00:00:00+08:00"), &w.cal, &w.tz);
    assert_eq!(kinds(&e), ["yellow", "red"]);
    assert_eq!(e[1].at, at("2026-09-24T00:00:00+08:00").as_second());
    // A step after an unswept deadline records the card first.
    let mut t = ticket(AppealType::Complaint);
    w.step(
        &mut t,
        "2026-09-18T10:00:00+08:00",
        Action::Dispatch {
            unit_id: L2,
            assisting: vec![],
        },
        "",
        DISPATCHER,
    )
    .unwrap();
    let e = w
        .step(
            &mut t,
            "2026-09-23T10:00:00+08:00",
            Action::SignFor,
            "",
            H_L2,
        )
        .unwrap();
    assert_eq!(kinds(&e), ["yellow", "signed_for"]);
    // No stage, no cards.
    let mut t = in_state(State::AwaitingCallback);
    assert!(record_cards(&mut t, at("2030-01-01T00:00:00Z"), &w.cal, &w.tz).is_empty());
}

#[test]
fn emergencies_count_in_hours() {
    let w = World::new();
    let mut t = ticket(AppealType::Emergency);
    w.step(
        &mut t,
        "2026-09-19T22:00:00+08:00",
        Action::Dispatch {
            unit_id: L2,
            assisting: vec![],
        },
        "",
        DISPATCHER,
    )
    .unwrap();
    assert_eq!(due(&t), at("2026-09-19T23:00:00+08:00"));
    assert_eq!(
        t.due_at.unwrap(),
        at("2026-09-20T22:00:00+08:00").as_second()
    );
    assert!(t.stage.unwrap().by_hours);
    let e = record_cards(&mut t, at("2026-09-20T00:30:00+08:00"), &w.cal, &w.tz);
    assert_eq!(kinds(&e), ["yellow", "red"]);
}

#[test]
fn dispatch_checks_units_and_assisting() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let mut t = ticket(AppealType::Help);
    assert!(matches!(
        w.step(
            &mut t,
            now,
            Action::Dispatch {
                unit_id: 99,
                assisting: vec![]
            },
            "",
            DISPATCHER
        ),
        Err(Refusal::Invalid { .. })
    ));
    assert!(matches!(
        w.step(
            &mut t,
            now,
            Action::Dispatch {
                unit_id: L2,
                assisting: vec![L2]
            },
            "",
            DISPATCHER
        ),
        Err(Refusal::Invalid { .. })
    ));
    w.step(
        &mut t,
        now,
        Action::Dispatch {
            unit_id: L2,
            assisting: vec![OTHER],
        },
        "",
        DISPATCHER,
    )
    .unwrap();
    assert_eq!(t.assisting, [OTHER]);
    assert!(
        t.units_seen.contains(&OTHER),
        "assisting units see the ticket"
    );
    assert_eq!(CENTER, 0);
}

#[test]
fn merging() {
    let now = at("2026-09-21T10:00:00+08:00");
    let mut child = ticket(AppealType::Help);
    child.number = TicketNo::new(20260921, 2);
    let mut master = in_state(State::InProgress);
    let (ce, me) = merge(&mut child, &mut master, "同一爆管", &DISPATCHER, now).unwrap();
    assert_eq!(
        (child.state, child.master),
        (State::Merged, Some(master.number))
    );
    assert_eq!(master.merged, [child.number]);
    assert_eq!((ce.len(), me.len()), (1, 1));
    let mut again = ticket(AppealType::Help);
    assert!(matches!(
        merge(&mut again, &mut master.clone(), "", &OPERATOR, now),
        Err(Refusal::Forbidden(_))
    ));
    let mut self_ = ticket(AppealType::Help);
    let mut same = self_.clone();
    assert!(matches!(
        merge(&mut self_, &mut same, "", &DISPATCHER, now),
        Err(Refusal::Invalid { .. })
    ));
    let mut closed = in_state(State::Closed);
    let mut c2 = ticket(AppealType::Help);
    c2.number = TicketNo::new(20260921, 3);
    assert!(matches!(
        merge(&mut c2, &mut closed, "", &DISPATCHER, now),
        Err(Refusal::Conflict(_))
    ));
}

#[test]
fn callback_sampling_is_stable_and_near_the_rate() {
    let n = (1..=10_000)
        .filter(|i| sampled_for_callback(TicketNo::new(20261122, *i), 20))
        .count();
    assert!((1_700..2_300).contains(&n), "{n}");
    assert!(!(1..=1000).any(|i| sampled_for_callback(TicketNo::new(20261122, i), 0)));
    assert!((1..=1000).all(|i| sampled_for_callback(TicketNo::new(20261122, i), 100)));
    assert_eq!(
        sampled_for_callback(TicketNo::new(20261122, 7), 20),
        sampled_for_callback(TicketNo::new(20261122, 7), 20)
    );
}

#[test]
fn send_back_and_correct_before_dispatch() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let mut t = ticket(AppealType::Help);
    assert!(matches!(
        w.step(&mut t, now, Action::SendBack, "分类错误", OPERATOR),
        Err(Refusal::Forbidden(_))
    ));
    assert!(matches!(
        w.step(&mut t, now, Action::SendBack, "", DISPATCHER),
        Err(Refusal::Invalid { .. })
    ));
    let e = w
        .step(
            &mut t,
            now,
            Action::SendBack,
            "分类错误，应为燃气",
            DISPATCHER,
        )
        .unwrap();
    assert!(matches!(e[0].kind, EventKind::SentBackToOperator));
    assert_eq!(t.state, State::PendingDispatch);
    let fix = Correction {
        category_code: Some("0102".into()),
        appeal_type: Some(AppealType::Complaint),
        ..Default::default()
    };
    let e = correct(&mut t, &fix, "", &OPERATOR, at(now)).unwrap();
    let EventKind::Corrected { changes } = &e[0].kind else {
        panic!()
    };
    assert!(
        changes.contains("0101 → 0102") && changes.contains("求助 → 投诉"),
        "{changes}"
    );
    assert_eq!(
        (t.category_code.as_str(), t.appeal_type),
        ("0102", AppealType::Complaint)
    );
    assert!(
        matches!(
            correct(&mut t, &fix, "", &OPERATOR, at(now)),
            Err(Refusal::Invalid { .. })
        ),
        "no change"
    );
    assert!(matches!(
        correct(&mut t, &fix, "", &H_L2, at(now)),
        Err(Refusal::Forbidden(_))
    ));
    let em = Correction {
        appeal_type: Some(AppealType::Emergency),
        ..Default::default()
    };
    assert!(matches!(
        correct(&mut t, &em, "", &OPERATOR, at(now)),
        Err(Refusal::Invalid { .. })
    ));
    let mut d = in_state(State::AwaitingSignFor);
    assert!(matches!(
        correct(&mut d, &fix, "", &DISPATCHER, at(now)),
        Err(Refusal::Conflict(_))
    ));
    assert!(matches!(
        w.step(&mut d, now, Action::SendBack, "x", DISPATCHER),
        Err(Refusal::Conflict(_))
    ));
}

/// A ticket dispatched straight to the level-3 unit (a category whose
/// default unit is level 3): its level-2 parent sees it but does not hold it.
fn at_sub_unit(w: &World, now: &str) -> Ticket {
    let mut t = ticket(AppealType::Help);
    w.step(
        &mut t,
        now,
        Action::Dispatch {
            unit_id: L3,
            assisting: vec![],
        },
        "",
        DISPATCHER,
    )
    .unwrap();
    t
}

fn offered(w: &World, t: &Ticket, who: Who, now: &str) -> Vec<&'static str> {
    available(t, &who, &w.tree, at(now).as_second())
}

#[test]
fn parent_unit_urges_signs_for_and_takes_back() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let mut t = at_sub_unit(&w, now);
    assert_eq!((t.state, t.unit_id), (State::AwaitingSignFor, Some(L3)));
    assert!(above_holder(&t, &H_L2, &w.tree));
    assert!(!above_holder(&t, &H_L3, &w.tree));
    assert!(!above_holder(&t, &H_OTHER, &w.tree));
    assert!(!above_holder(&t, &DISPATCHER, &w.tree));
    // What each one is offered: the parent only its three steps.
    assert_eq!(
        offered(&w, &t, H_L2, now),
        vec!["urge", "take-back", "sign-for-sub-unit"]
    );
    assert_eq!(
        offered(&w, &t, H_L3, now),
        vec!["sign-for", "return", "progress", "request-extension"]
    );
    assert!(offered(&w, &t, H_OTHER, now).is_empty());
    assert_eq!(offered(&w, &t, DISPATCHER, now), vec!["void"]);

    // 催办: recorded for the sub-unit, nothing else changes.
    let before = t.clone();
    let ev = w.step(&mut t, now, Action::Urge, "", H_L2).unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, EventKind::Urged { unit_id: L3 });
    assert_eq!(ev[0].note, "请尽快办理", "a default message");
    assert_eq!(ev[0].actor, H_L2.id);
    assert_eq!(
        (t.state, t.unit_id, t.stage),
        (before.state, before.unit_id, before.stage)
    );
    let ev = w
        .step(&mut t, now, Action::Urge, "今天必须签收", H_L2)
        .unwrap();
    assert_eq!(ev[0].note, "今天必须签收");
    for who in [H_L3, H_OTHER, DISPATCHER, LEAD, REVIEWER] {
        assert!(
            matches!(
                w.step(&mut t, now, Action::Urge, "", who),
                Err(Refusal::Forbidden(_))
            ),
            "urge by {}",
            who.id
        );
    }

    // 代签收: the sub-unit keeps the ticket and handles it.
    let ev = w
        .step(&mut t, now, Action::SignForSubUnit, "", H_L2)
        .unwrap();
    assert_eq!(kinds(&ev), vec!["signed_for"]);
    assert_eq!(ev[0].note, "代下级单位签收");
    assert_eq!(ev[0].actor, H_L2.id);
    assert_eq!((t.state, t.unit_id), (State::InProgress, Some(L3)));
    assert_eq!(t.stage.unwrap().kind, StageKind::Handle);
    assert!(matches!(
        w.step(&mut t, now, Action::SignForSubUnit, "", H_L2),
        Err(Refusal::Conflict(_))
    ));
    assert_eq!(offered(&w, &t, H_L2, now), vec!["urge", "take-back"]);
    assert_eq!(
        offered(&w, &t, H_L3, now),
        vec!["progress", "request-extension", "reply"],
        "no hand-down: the level-3 unit has no sub-units"
    );

    // 收回: the parent handles it itself; the sub-unit is out.
    let due = t.due_at;
    let ev = w
        .step(&mut t, now, Action::TakeBack, "本局直接办理", H_L2)
        .unwrap();
    assert_eq!(ev[0].kind, EventKind::TakenBack { unit_id: L2 });
    assert_eq!(ev[0].note, "本局直接办理");
    assert_eq!(
        (t.state, t.unit_id, t.handed_by, t.due_at),
        (State::InProgress, Some(L2), None, due)
    );
    assert!(t.units_seen.contains(&L2) && t.units_seen.contains(&L3));
    assert_eq!(
        offered(&w, &t, H_L2, now),
        vec!["hand-down", "progress", "request-extension", "reply"]
    );
    assert!(offered(&w, &t, H_L3, now).is_empty());
    assert!(matches!(
        w.step(&mut t, now, Action::Urge, "", H_L2),
        Err(Refusal::Forbidden(_))
    ));
    assert!(matches!(
        w.step(&mut t, now, Action::Reply { result: "r".into() }, "", H_L3),
        Err(Refusal::Forbidden(_))
    ));
    w.step(
        &mut t,
        now,
        Action::Reply {
            result: "已办".into(),
        },
        "",
        H_L2,
    )
    .unwrap();
    assert_eq!(t.state, State::AwaitingReview);
}

#[test]
fn take_back_keeps_a_running_sign_for_stage_and_ends_a_hand_down() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    // Straight at the level-3 unit, not signed for: the stage runs on at
    // the parent, which then signs for itself.
    let mut t = at_sub_unit(&w, now);
    let stage = t.stage;
    w.step(&mut t, now, Action::TakeBack, "", H_L2).unwrap();
    assert_eq!(
        (t.state, t.unit_id, t.stage),
        (State::AwaitingSignFor, Some(L2), stage)
    );
    assert!(offered(&w, &t, H_L2, now).contains(&"sign-for"));
    w.step(&mut t, now, Action::SignFor, "", H_L2).unwrap();
    assert_eq!(t.state, State::InProgress);

    // Handed down by the parent: taken back, the parent handles it again
    // (it had signed for it before), until the round's deadline.
    let mut t = in_state(State::InProgress);
    w.step(&mut t, now, Action::HandDown { unit_id: L3 }, "", H_L2)
        .unwrap();
    assert_eq!((t.state, t.handed_by), (State::AwaitingSignFor, Some(L2)));
    assert_eq!(
        offered(&w, &t, H_L2, now),
        vec!["urge", "take-back", "sign-for-sub-unit"]
    );
    w.step(
        &mut t,
        "2026-09-22T09:00:00+08:00",
        Action::TakeBack,
        "",
        H_L2,
    )
    .unwrap();
    assert_eq!(
        (t.state, t.unit_id, t.handed_by),
        (State::InProgress, Some(L2), None)
    );
    let s = t.stage.unwrap();
    assert_eq!((s.kind, s.due_at), (StageKind::Handle, t.due_at.unwrap()));
    // Signed for by the parent on behalf, then replied by the sub-unit:
    // the reply still goes to the parent for approval.
    let mut t = in_state(State::InProgress);
    w.step(&mut t, now, Action::HandDown { unit_id: L3 }, "", H_L2)
        .unwrap();
    w.step(&mut t, now, Action::SignForSubUnit, "已电话通知", H_L2)
        .unwrap();
    w.step(
        &mut t,
        now,
        Action::Reply {
            result: "已修复".into(),
        },
        "",
        H_L3,
    )
    .unwrap();
    assert_eq!(t.state, State::AwaitingApproval);
    assert!(offered(&w, &t, H_L2, now).contains(&"approve-reply"));
    assert!(!offered(&w, &t, H_L2, now).contains(&"urge"));
}

#[test]
fn parent_steps_only_in_their_states_and_never_for_the_holder() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let steps: [(Action, &[State]); 3] = [
        (Action::Urge, &[State::AwaitingSignFor, State::InProgress]),
        (
            Action::TakeBack,
            &[State::AwaitingSignFor, State::InProgress],
        ),
        (Action::SignForSubUnit, &[State::AwaitingSignFor]),
    ];
    for (a, ok_states) in &steps {
        for s in State::ALL {
            // Held by the level-3 unit in every state.
            let mut t = in_state(*s);
            if *s != State::PendingDispatch {
                t.unit_id = Some(L3);
            }
            let r = w.step(&mut t.clone(), now, a.clone(), "", H_L2);
            if ok_states.contains(s) {
                assert!(r.is_ok(), "{} in {s}: {r:?}", a.name());
            } else {
                assert!(
                    matches!(r, Err(Refusal::Conflict(_))),
                    "{} in {s} should be 409: {r:?}",
                    a.name()
                );
            }
            // The holder itself, another unit and the center may not.
            for who in [H_L3, H_OTHER, DISPATCHER, LEAD, CALLBACK] {
                let r = w.step(&mut t.clone(), now, a.clone(), "", who);
                assert!(
                    matches!(r, Err(Refusal::Forbidden(_) | Refusal::Conflict(_))),
                    "{} by {} in {s}: {r:?}",
                    a.name(),
                    who.id
                );
                if ok_states.contains(s) {
                    assert!(matches!(r, Err(Refusal::Forbidden(_))), "{r:?}");
                }
            }
        }
    }
}

/// One valid action per step name (for the availability check).
fn sample_action(name: &str) -> Option<Action> {
    Some(match name {
        "dispatch" => Action::Dispatch {
            unit_id: OTHER,
            assisting: vec![],
        },
        "sign-for" => Action::SignFor,
        "return" => Action::Return,
        "hand-down" => Action::HandDown { unit_id: L3 },
        "progress" => Action::Progress,
        "request-extension" => Action::RequestExtension {
            until: jiff::civil::date(2026, 11, 2),
        },
        "decide-extension" => Action::DecideExtension {
            approve: true,
            until: Some(jiff::civil::date(2026, 11, 30)),
        },
        "reply" => Action::Reply { result: "r".into() },
        "approve-reply" => Action::ApproveReply { approve: true },
        "review" => Action::Review(ReviewOutcome::Pass),
        "callback" => Action::Callback {
            satisfaction: Satisfaction::Satisfied,
            resolved: true,
        },
        "reopen" => Action::Reopen { unit_id: OTHER },
        "close" => Action::Close,
        "void" => Action::Void,
        "send-back" => Action::SendBack,
        "urge" => Action::Urge,
        "take-back" => Action::TakeBack,
        "sign-for-sub-unit" => Action::SignForSubUnit,
        _ => return None,
    })
}

#[test]
fn the_case_file_offers_exactly_what_apply_accepts() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let all: [Who; 8] = [
        DISPATCHER, REVIEWER, CALLBACK, LEAD, OPERATOR, H_L2, H_L3, H_OTHER,
    ];
    let mut checked = 0;
    for s in State::ALL {
        for holder in [L2, L3] {
            for ext in [false, true] {
                let mut t = in_state(*s);
                if *s != State::PendingDispatch && *s != State::AwaitingApproval {
                    t.unit_id = Some(holder);
                }
                if ext && t.due_at.is_some() {
                    t.extension = Some(ExtensionRequest {
                        until: at("2026-11-02T23:59:59+08:00").as_second(),
                        requested_at: 0,
                        requested_by: 21,
                        reason: "r".into(),
                    });
                }
                for who in all {
                    let got = offered(&w, &t, who, now);
                    for name in STEPS {
                        let Some(a) = sample_action(name) else {
                            // merge and correct: their own functions.
                            continue;
                        };
                        let r = w.step(&mut t.clone(), now, a, "理由", who);
                        let accepted =
                            !matches!(r, Err(Refusal::Forbidden(_) | Refusal::Conflict(_)));
                        assert_eq!(
                            got.contains(name),
                            accepted,
                            "{name} by {} in {s} at {holder} (extension {ext}): {r:?}",
                            who.id
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 2000, "{checked}");
    // merge and correct follow the same gate.
    let t = in_state(State::PendingDispatch);
    assert_eq!(
        offered(&w, &t, DISPATCHER, now),
        vec!["dispatch", "merge", "void", "send-back", "correct"]
    );
    assert_eq!(offered(&w, &t, OPERATOR, now), vec!["correct"]);
}

#[test]
fn a_pending_extension_is_not_requested_again_until_decided() {
    let w = World::new();
    let now = "2026-09-21T10:00:00+08:00";
    let mut t = in_state(State::InProgress);
    assert!(offered(&w, &t, H_L2, now).contains(&"request-extension"));
    assert!(!offered(&w, &t, LEAD, now).contains(&"decide-extension"));
    w.step(
        &mut t,
        now,
        Action::RequestExtension {
            until: jiff::civil::date(2026, 11, 2),
        },
        "需协调",
        H_L2,
    )
    .unwrap();
    assert!(!offered(&w, &t, H_L2, now).contains(&"request-extension"));
    assert!(offered(&w, &t, LEAD, now).contains(&"decide-extension"));
    w.step(
        &mut t,
        now,
        Action::DecideExtension {
            approve: true,
            until: None,
        },
        "",
        LEAD,
    )
    .unwrap();
    assert!(offered(&w, &t, H_L2, now).contains(&"request-extension"));
    assert!(!offered(&w, &t, LEAD, now).contains(&"decide-extension"));
}
