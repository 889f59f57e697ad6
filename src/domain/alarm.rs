//! Who is alarmed for an emergency that waits for sign-for (and who only
//! sees a quiet count): the one rule behind the live stream's filter
//! (`GET /events`), the page banner and beep, and the wallboard.
//!
//! - An alarm exists while an emergency (appeal type or urgency) waits for
//!   sign-for.
//! - It is **loud** (red banner, beep) where someone can act: department
//!   users of the responsible unit and of its parent unit (the level-2
//!   unit may sign for its sub-unit).
//! - It **escalates** once the sign-for stage's response time has passed
//!   without a sign-for: then it is loud for team leads too, and the
//!   wallboard marks it, until a team lead acknowledges it for the center.
//! - Everyone else who may see the ticket gets a **quiet** count (no
//!   sound); center staff stop counting it once a team lead acknowledged
//!   it. The responsible unit stays alarmed until it signs for.
//! - An acknowledgement holds for the current sign-for stage only: a new
//!   dispatch or hand-down starts a new alarm.

use serde::Serialize;

use super::permissions::{Scope, is_center_role};
use super::ticket::{Event, EventKind, Ticket};
use super::types::{AppealType, Role, State, Urgency};

/// What the rule needs to know about a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Facts {
    /// Emergency appeal type or emergency urgency.
    pub emergency: bool,
    pub awaiting_sign_for: bool,
    /// The unit that must sign for it.
    pub unit_id: Option<u32>,
    /// That unit's parent (`None` under the center).
    pub parent_unit: Option<u32>,
    /// When the sign-for stage is due (unix seconds): its response time.
    pub sign_for_due: Option<i64>,
    /// A team lead acknowledged the alarm during the current stage.
    pub acknowledged: bool,
    /// Units that may see the ticket.
    pub units_seen: Vec<u32>,
}

/// Who looks.
#[derive(Clone, Copy, Debug)]
pub struct Viewer<'a> {
    pub roles: &'a [Role],
    pub unit_id: Option<u32>,
    pub scope: &'a Scope,
}

/// How a viewer is told about an alarm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Not at all.
    None,
    /// A count in the menu bar, no sound.
    Quiet,
    /// The red banner and a beep.
    Loud,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Quiet => "quiet",
            Level::Loud => "loud",
        }
    }
}

impl Facts {
    /// The facts of a ticket; `parent` answers a unit's parent, `events`
    /// is the ticket's timeline (only read while an alarm exists).
    pub fn of(t: &Ticket, parent: impl Fn(u32) -> Option<u32>, events: &[Event]) -> Facts {
        let emergency = t.appeal_type == AppealType::Emergency || t.urgency == Urgency::Emergency;
        let awaiting = t.state == State::AwaitingSignFor;
        let stage = t.stage.filter(|_| awaiting);
        Facts {
            emergency,
            awaiting_sign_for: awaiting,
            unit_id: t.unit_id,
            parent_unit: t.unit_id.and_then(&parent),
            sign_for_due: stage.map(|s| s.due_at),
            acknowledged: stage.is_some_and(|s| acknowledged(events, s.started_at)),
            units_seen: t.units_seen.clone(),
        }
    }

    /// Whether there is an alarm at all.
    pub fn active(&self) -> bool {
        self.emergency && self.awaiting_sign_for
    }
}

/// Whether the timeline holds an acknowledgement made since `stage_started`.
pub fn acknowledged(events: &[Event], stage_started: i64) -> bool {
    events
        .iter()
        .any(|e| matches!(e.kind, EventKind::AlarmAcknowledged) && e.at >= stage_started)
}

/// Whether the response time passed without a sign-for (at `now`, unix
/// seconds): the alarm goes to the team leads and the wallboard.
pub fn escalated(f: &Facts, now: i64) -> bool {
    f.active() && f.sign_for_due.is_some_and(|due| now > due)
}

/// Whether the viewer's unit can sign for the ticket: the responsible unit
/// or its parent, as a department user.
pub fn can_sign_for(f: &Facts, v: &Viewer) -> bool {
    v.roles.contains(&Role::DepartmentHandler)
        && v.unit_id.is_some()
        && (v.unit_id == f.unit_id || v.unit_id == f.parent_unit)
}

/// How `v` is told about the alarm of a ticket at `now`.
pub fn level(f: &Facts, v: &Viewer, now: i64) -> Level {
    if !f.active() || !v.scope.sees(&f.units_seen) {
        return Level::None;
    }
    if can_sign_for(f, v) {
        return Level::Loud;
    }
    let center = v.roles.iter().copied().any(is_center_role);
    if center && f.acknowledged {
        return Level::None;
    }
    if v.roles.contains(&Role::TeamLead) && escalated(f, now) {
        return Level::Loud;
    }
    Level::Quiet
}

/// Who may acknowledge an alarm for the center: team leads.
pub fn may_acknowledge(roles: &[Role]) -> bool {
    roles.contains(&Role::TeamLead)
}

/// Why an acknowledgement is refused, if it is.
pub fn check_acknowledge(f: &Facts, roles: &[Role]) -> Result<(), AckRefusal> {
    if !may_acknowledge(roles) {
        return Err(AckRefusal::NotTeamLead);
    }
    if !f.active() {
        return Err(AckRefusal::NoAlarm);
    }
    if f.acknowledged {
        return Err(AckRefusal::Already);
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckRefusal {
    /// Only team leads acknowledge (403).
    NotTeamLead,
    /// Not an emergency waiting for sign-for (409).
    NoAlarm,
    /// Already acknowledged in this stage (409).
    Already,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use Level::{Loud, Quiet};
    use Role::*;

    const UNIT: u32 = 30;
    const PARENT: u32 = 20;
    const SIBLING: u32 = 31;
    const OTHER: u32 = 40;
    const DUE: i64 = 10_000;

    fn facts() -> Facts {
        Facts {
            emergency: true,
            awaiting_sign_for: true,
            unit_id: Some(UNIT),
            parent_unit: Some(PARENT),
            sign_for_due: Some(DUE),
            acknowledged: false,
            units_seen: vec![UNIT],
        }
    }

    /// A viewer's scope as `Scope::for_user` makes it: center roles see
    /// all, a department user its unit's subtree.
    fn scope(roles: &[Role], unit: Option<u32>) -> Scope {
        Scope::for_user(roles, || match unit {
            Some(PARENT) => HashSet::from([PARENT, UNIT, SIBLING]),
            Some(u) => HashSet::from([u]),
            None => HashSet::new(),
        })
    }

    fn lvl(f: &Facts, roles: &[Role], unit: Option<u32>, now: i64) -> Level {
        let s = scope(roles, unit);
        level(
            f,
            &Viewer {
                roles,
                unit_id: unit,
                scope: &s,
            },
            now,
        )
    }

    #[test]
    fn every_role_before_and_after_the_response_time() {
        let f = facts();
        let dept = |u| lvl(&f, &[DepartmentHandler], Some(u), DUE - 1);
        assert_eq!(dept(UNIT), Loud, "the responsible unit");
        assert_eq!(dept(PARENT), Loud, "its parent may sign for it");
        assert_eq!(dept(SIBLING), Level::None, "a sibling does not even see it");
        assert_eq!(dept(OTHER), Level::None);
        for now in [DUE - 1, DUE, DUE + 1, DUE + 86_400 * 35] {
            let late = now > DUE;
            for r in [
                Operator,
                Dispatcher,
                Reviewer,
                CallbackAgent,
                QaInspector,
                Leader,
                Admin,
            ] {
                assert_eq!(lvl(&f, &[r], None, now), Quiet, "{r:?} at {now}");
            }
            assert_eq!(
                lvl(&f, &[TeamLead], None, now),
                if late { Loud } else { Quiet },
                "team lead at {now}"
            );
            assert_eq!(escalated(&f, now), late);
            // The responsible unit stays loud whatever the time.
            assert_eq!(lvl(&f, &[DepartmentHandler], Some(UNIT), now), Loud);
        }
    }

    #[test]
    fn acknowledgement_silences_the_center_but_not_the_unit() {
        let f = Facts {
            acknowledged: true,
            ..facts()
        };
        let late = DUE + 60;
        assert_eq!(lvl(&f, &[TeamLead], None, late), Level::None);
        assert_eq!(lvl(&f, &[Operator], None, late), Level::None);
        assert_eq!(lvl(&f, &[Leader], None, late), Level::None);
        assert_eq!(lvl(&f, &[DepartmentHandler], Some(UNIT), late), Loud);
        assert_eq!(lvl(&f, &[DepartmentHandler], Some(PARENT), late), Loud);
        // Still escalated on the wallboard: nobody signed for it.
        assert!(escalated(&f, late));
    }

    #[test]
    fn no_alarm_without_an_emergency_waiting_for_sign_for() {
        let cases = [
            Facts {
                emergency: false,
                ..facts()
            },
            Facts {
                awaiting_sign_for: false,
                ..facts()
            },
        ];
        for f in &cases {
            assert!(!f.active());
            assert!(!escalated(f, DUE + 1));
            for (roles, unit) in [
                (&[DepartmentHandler][..], Some(UNIT)),
                (&[TeamLead][..], None),
                (&[Operator][..], None),
            ] {
                assert_eq!(lvl(f, roles, unit, DUE + 1), Level::None, "{roles:?}");
            }
        }
    }

    #[test]
    fn a_unit_under_the_center_has_no_parent_to_alarm() {
        let f = Facts {
            unit_id: Some(PARENT),
            parent_unit: Option::None,
            units_seen: vec![PARENT],
            ..facts()
        };
        assert_eq!(lvl(&f, &[DepartmentHandler], Some(PARENT), 0), Loud);
        assert_eq!(lvl(&f, &[DepartmentHandler], Some(UNIT), 0), Level::None);
        // A department user without a unit can sign for nothing.
        let s = Scope::All;
        let v = Viewer {
            roles: &[DepartmentHandler],
            unit_id: Option::None,
            scope: &s,
        };
        assert!(!can_sign_for(&f, &v));
    }

    #[test]
    fn mixed_roles() {
        let f = facts();
        // A handler who is also a team lead: loud as the unit.
        assert_eq!(lvl(&f, &[DepartmentHandler, TeamLead], Some(UNIT), 0), Loud);
        // Center roles with the unit set but no handler role cannot sign.
        assert_eq!(lvl(&f, &[Operator], Some(UNIT), 0), Quiet);
        // An acknowledged alarm is silent for a center handler elsewhere …
        let acked = Facts {
            acknowledged: true,
            ..facts()
        };
        assert_eq!(
            lvl(&acked, &[DepartmentHandler, Operator], Some(OTHER), 0),
            Level::None
        );
        // … and a department user above the parent (in scope, cannot sign)
        // keeps a quiet count.
        let s = Scope::Units(HashSet::from([1, PARENT, UNIT]));
        let v = Viewer {
            roles: &[DepartmentHandler],
            unit_id: Some(1),
            scope: &s,
        };
        assert_eq!(level(&acked, &v, 0), Quiet);
    }

    #[test]
    fn acknowledgement_holds_for_the_current_stage_only() {
        let ev = |at, kind| Event {
            at,
            actor: 1,
            kind,
            note: String::new(),
        };
        let events = vec![
            ev(100, EventKind::Created),
            ev(200, EventKind::AlarmAcknowledged),
            ev(300, EventKind::Note),
        ];
        assert!(acknowledged(&events, 150));
        assert!(acknowledged(&events, 200));
        assert!(
            !acknowledged(&events, 201),
            "a later stage starts unacknowledged"
        );
        assert!(!acknowledged(&[], 0));
    }

    #[test]
    fn who_may_acknowledge() {
        let f = facts();
        assert_eq!(check_acknowledge(&f, &[TeamLead]), Ok(()));
        for r in Role::ALL.iter().copied().filter(|r| *r != TeamLead) {
            assert_eq!(
                check_acknowledge(&f, &[r]),
                Err(AckRefusal::NotTeamLead),
                "{r:?}"
            );
        }
        let acked = Facts {
            acknowledged: true,
            ..facts()
        };
        assert_eq!(
            check_acknowledge(&acked, &[TeamLead]),
            Err(AckRefusal::Already)
        );
        let signed = Facts {
            awaiting_sign_for: false,
            ..facts()
        };
        assert_eq!(
            check_acknowledge(&signed, &[TeamLead]),
            Err(AckRefusal::NoAlarm)
        );
    }

    #[test]
    fn facts_from_a_ticket_through_the_workflow() {
        use crate::domain::testkit::*;
        let w = World::default();
        let no = crate::domain::ticket::TicketNo::parse("20260918-000001").unwrap();
        let start = sh_at("2026-09-18 10:00");
        let (mut t, mut tl) = new_ticket(no, start, OP_A, AppealType::Emergency, "01");
        let parent = |u| w.tree.parent(u);
        assert!(
            !Facts::of(&t, parent, &tl).active(),
            "pending dispatch: no alarm"
        );
        let d = crate::domain::workflow::Action::Dispatch {
            unit_id: L2,
            assisting: vec![],
        };
        tl.extend(w.apply(&mut t, start, &d, "", &DISPATCHER).unwrap());
        let f = Facts::of(&t, parent, &tl);
        assert!(f.active());
        assert_eq!(f.unit_id, Some(L2));
        assert_eq!(f.parent_unit, Option::None);
        // Response time: one hour by default.
        assert_eq!(f.sign_for_due, Some(start.as_second() + 3600));
        assert!(!escalated(&f, start.as_second() + 3600));
        assert!(escalated(&f, start.as_second() + 3601));
        // Acknowledged, then the stage ends (sign-for, hand-down): the
        // level-3 unit's new sign-for stage is a new, unacknowledged alarm.
        tl.push(Event {
            at: start.as_second() + 4000,
            actor: LEAD.id,
            kind: EventKind::AlarmAcknowledged,
            note: String::new(),
        });
        assert!(Facts::of(&t, parent, &tl).acknowledged);
        let later = sh_at("2026-09-18 11:30");
        tl.extend(
            w.apply(
                &mut t,
                later,
                &crate::domain::workflow::Action::SignFor,
                "",
                &H_L2,
            )
            .unwrap(),
        );
        assert!(!Facts::of(&t, parent, &tl).active(), "signed for");
        let down = crate::domain::workflow::Action::HandDown { unit_id: L3 };
        tl.extend(w.apply(&mut t, later, &down, "", &H_L2).unwrap());
        let f = Facts::of(&t, parent, &tl);
        assert!(f.active());
        assert_eq!((f.unit_id, f.parent_unit), (Some(L3), Some(L2)));
        assert!(!f.acknowledged);
        let s2 = Scope::Units(w.tree.subtree(L2));
        let v = Viewer {
            roles: &[DepartmentHandler],
            unit_id: Some(L2),
            scope: &s2,
        };
        assert_eq!(level(&f, &v, later.as_second()), Loud, "the parent unit");
        // An urgent-urgency non-emergency type alarms too.
        let (mut u, _) = new_ticket(no, start, OP_A, AppealType::Help, "01");
        u.urgency = Urgency::Emergency;
        u.state = State::AwaitingSignFor;
        assert!(Facts::of(&u, parent, &[]).active());
    }
}
