//! Emergency alarms as use cases: the facts of a ticket for
//! `domain::alarm`, what a viewer is told (live stream, page banner,
//! wallboard), and a team lead's acknowledgement for the center.

use serde::Serialize;

use super::views::TicketView;
use super::workflow::Notice;
use super::{Actor, Services};
use crate::domain::alarm::{self, AckRefusal, Facts, Level, Viewer};
use crate::domain::ticket::{Event, EventKind, Ticket};
use crate::domain::types::State;
use crate::error::{Error, Result};

/// A notice as one viewer receives it (`event: ticket` of `GET /events`).
#[derive(Clone, Debug, Serialize)]
pub struct LiveNotice<'a> {
    #[serde(flatten)]
    pub notice: &'a Notice,
    /// `loud` (banner and beep), `quiet` (a count) or `none`.
    pub alarm: Level,
    /// The response time passed without a sign-for.
    pub escalated: bool,
    /// A new ticket the viewer's unit has to sign for (not an emergency).
    pub for_me: bool,
}

/// The domain's view of who looks.
pub fn viewer(actor: &Actor) -> Viewer<'_> {
    Viewer {
        roles: &actor.user.roles,
        unit_id: actor.user.unit_id,
        scope: &actor.scope,
    }
}

/// What `actor` is told about `n` at `now` (unix seconds); `None` if the
/// viewer may not see the ticket at all.
pub fn for_viewer<'a>(n: &'a Notice, actor: &Actor, now: i64) -> Option<LiveNotice<'a>> {
    if !actor.scope.sees(&n.units_seen) {
        return None;
    }
    let v = viewer(actor);
    let f = &n.alarm;
    Some(LiveNotice {
        notice: n,
        alarm: alarm::level(f, &v, now),
        escalated: alarm::escalated(f, now),
        for_me: !f.emergency && n.state == State::AwaitingSignFor && alarm::can_sign_for(f, &v),
    })
}

impl Services {
    /// The alarm facts of a ticket (its timeline is read only while an
    /// emergency waits for sign-for).
    pub fn alarm_facts(&self, t: &Ticket) -> Facts {
        let dir = self.dir();
        let parent = |u| dir.tree.parent(u);
        let mut f = Facts::of(t, parent, &[]);
        if f.active()
            && let Some(stage) = t.stage
        {
            let events = self.store.events(t.number).unwrap_or_default();
            f.acknowledged = alarm::acknowledged(&events, stage.started_at);
        }
        f
    }

    /// Every emergency waiting for sign-for, as notices (with their facts).
    pub fn alarm_notices(&self) -> Result<Vec<Notice>> {
        let nos = self
            .store
            .stages_due_before(&[State::AwaitingSignFor], i64::MAX)?;
        Ok(self
            .store
            .tickets(&nos)?
            .into_iter()
            .filter_map(|t| {
                let f = Facts::of(&t, |_| None, &[]);
                f.active().then(|| self.notice(&t, "pending"))
            })
            .collect())
    }

    /// A team lead acknowledges the alarm of an emergency for the center:
    /// an `AlarmAcknowledged` event in the timeline, audited; center
    /// staff stop counting it, the responsible unit stays alarmed.
    pub fn acknowledge_alarm(&self, actor: &Actor, number: &str, note: &str) -> Result<TicketView> {
        let t = self.ticket(actor, number)?;
        let note = note.trim();
        if note.chars().count() > 500 {
            return Err(Error::field("note", "说明过长 (the text is too long)"));
        }
        let facts = self.alarm_facts(&t);
        check(&facts, &actor.user.roles)?;
        let now = self.now().as_second();
        let who = actor.user.id;
        let updated = self
            .store
            .update_ticket(t.number, |cur| -> Result<Vec<Event>> {
                // Checked again inside the transaction: the unit may have signed
                // for it meanwhile.
                let mut f = self.alarm_facts_uncommitted(cur);
                f.acknowledged = facts.acknowledged;
                check(&f, &actor.user.roles)?;
                cur.updated_at = now;
                Ok(vec![Event {
                    at: now,
                    actor: who,
                    kind: EventKind::AlarmAcknowledged,
                    note: note.to_string(),
                }])
            })?;
        self.audit(who, "alarm.acknowledge", &t.number.to_string(), note);
        self.notify(&updated, "alarm_acknowledged");
        Ok(TicketView::new(&updated, actor, &self.dir(), self.now()))
    }

    fn alarm_facts_uncommitted(&self, t: &Ticket) -> Facts {
        let dir = self.dir();
        Facts::of(t, |u| dir.tree.parent(u), &[])
    }
}

fn check(f: &Facts, roles: &[crate::domain::types::Role]) -> Result<()> {
    match alarm::check_acknowledge(f, roles) {
        Ok(()) => Ok(()),
        Err(AckRefusal::NotTeamLead) => Err(Error::Forbidden(
            "只有班长可以确认紧急告警 (only a team lead acknowledges alarms)".into(),
        )),
        Err(AckRefusal::NoAlarm) => Err(Error::Conflict(
            "该工单没有待签收的紧急告警 (no emergency waiting for sign-for)".into(),
        )),
        Err(AckRefusal::Already) => Err(Error::Conflict(
            "该告警已确认 (the alarm is already acknowledged)".into(),
        )),
    }
}
