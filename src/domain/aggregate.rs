//! Per-day aggregate counters of the tickets (issue 6): what a ticket's
//! timeline counts for, and on which day, for which unit and agent.
//!
//! # The model
//!
//! A ticket contributes **facts**. A fact is one counter ([`Counter`]) + 1,
//! attributed to a local date (the center's time zone), a unit and an agent,
//! and to the ticket's *static dimensions* ([`TicketDims`]: channel, appeal
//! type, category code, district + street). There are two kinds:
//!
//! - **event facts** come from timeline events, each on the local date of
//!   its event (a card on the date it was *reached*, which the sweep may
//!   record later). Their unit is the unit that held the ticket when the
//!   event happened (0 for "no unit": intake at the center), their agent
//!   the user who acted (0 for the system). See [`event_facts`] for every
//!   rule.
//! - **state facts** describe the ticket as it is now, on its creation date:
//!   the completion cohort ([`Counter::Cohort`], [`Counter::CohortClosed`]),
//!   attributed to the unit that holds it now and to the agent who
//!   registered it. See [`state_facts`].
//!
//! The static dimensions are the ticket's *current* values for every fact
//! of the ticket: a category corrected before dispatch moves all of the
//! ticket's facts to the corrected category (the center wants the corrected
//! figures, not the operator's first guess).
//!
//! # Incremental = recomputed
//!
//! [`Delta::add_ticket`] counts a ticket from its whole timeline (the
//! rebuild). [`Delta::add_change`] counts one change from the record before
//! it and the events it appended: a [`Cursor`] taken from the old record
//! replaces the replay of the old timeline, the new events are folded from
//! there, and the state facts of the old record are subtracted and those of
//! the new one added. Only when a static dimension changed does it read the
//! old timeline (to move its facts). The property test in this module
//! checks that the sum of incremental deltas equals the rebuild after
//! random workflow sequences.
//!
//! # Storage layout (chosen for reports over 1,000,000 tickets a year)
//!
//! A fully dimensioned cube (day × channel × type × category × street ×
//! unit × agent) has about as many cells as facts, so reading it is no
//! faster than reading the tickets. Instead each fact is projected onto a
//! fixed set of **cuboids** ([`CUBOIDS`]): the total, each dimension alone,
//! and the pairs a report needs (a unit with each other dimension, category
//! × channel / type / street, street × channel / type, channel × type).
//! A row is `(cuboid, day YYYYMMDD, a, b) → counters` with `a`/`b` the
//! dimension values as `u32` (codes, unit and user ids; category codes and
//! places are interned to ids by the store). A report with one cut and one
//! group-by reads the rows of one cuboid over the period only; a year of a
//! city line is a few hundred thousand rows at most. Categories and units
//! are kept at the finest level (leaf code, the unit itself) and rolled up
//! at query time with the category and org trees.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;

use super::ticket::{Event, EventKind, StageKind, Ticket};
use super::types::{Satisfaction, State, Supervision};

macro_rules! counters {
    ($($variant:ident = $idx:literal, $doc:literal;)*) => {
        /// One counter of the per-day vector. The index is persisted:
        /// counters are only ever appended.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Counter { $(#[doc = $doc] $variant = $idx,)* }

        impl Counter {
            pub const ALL: &'static [Counter] = &[$(Counter::$variant,)*];
            pub fn index(self) -> usize { self as usize }
            pub fn from_index(i: usize) -> Option<Counter> {
                match i { $($idx => Some(Counter::$variant),)* _ => None }
            }
        }
    };
}

counters! {
    Intake = 0, "A ticket was created (day: its number's date, the local creation date).";
    AnsweredOnSpot = 1, "Answered and closed at intake (`AnsweredAtIntake`).";
    Dispatches = 2, "A round started at a unit (`Dispatched`: dispatch, review transfer or back, reopen); unit: the receiving unit.";
    Returns = 3, "Returned at sign-for to the center (not a level-3 unit's return to its level-2 unit); unit: the returning unit.";
    SignFors = 4, "Signed for; unit: the signing unit.";
    SignForsOnTime = 5, "Signed for at or before the sign-for stage's deadline.";
    Replies = 6, "A reply reached the center: a `Replied` of a unit that was not handed the ticket down, or the level-2 unit's approval of its level-3 unit's reply; unit: the unit answering to the center.";
    RepliesOnTime = 7, "A reply reached the center at or before the round's (possibly extended) total deadline.";
    Reviews = 8, "The center reviewed a reply (any outcome); unit: the unit whose reply it was.";
    ReviewBacks = 9, "A review sent the ticket back to the same unit (退回重办).";
    ReviewTransfers = 10, "A review transferred the ticket to another unit.";
    CallbacksDue = 11, "The ticket became due for a callback: review passed, or sampled after an answer at intake.";
    CallbacksMade = 12, "A callback concluded: an answer (satisfied, basically satisfied, dissatisfied), or the last unreachable attempt that closes the ticket.";
    CallbackAttempts = 13, "Every callback attempt recorded, reached or not.";
    Answered = 14, "A callback with an answer (satisfied, basically satisfied or dissatisfied).";
    Satisfied = 15, "A callback answered: satisfied.";
    BasicallySatisfied = 16, "A callback answered: basically satisfied.";
    Dissatisfied = 17, "A callback answered: dissatisfied.";
    Resolved = 18, "A callback with an answer in which the citizen said the problem was resolved.";
    Reopens = 19, "Reopened (重办) after a dissatisfied callback; unit: the unit of the round that was reopened.";
    ClosedDissatisfied = 20, "Closed by the team lead after a dissatisfied callback (not reopened).";
    YellowCards = 21, "A yellow card reached (day: when it was reached); unit: the unit holding the stage.";
    RedCards = 22, "A red card reached.";
    Voided = 23, "Voided (作废).";
    Merged = 24, "Merged under a master ticket (并案).";
    HandedDown = 25, "Handed down to a level-3 unit; unit: the receiving level-3 unit.";
    Cohort = 26, "State fact: a ticket of the creation-date cohort that is neither voided nor merged; unit: the unit holding it now (0: none).";
    CohortClosed = 27, "State fact: such a ticket that is closed now.";
    CallbacksMadeOfDue = 28, "A callback concluded (as `CallbacksMade`), counted on the day, unit and agent of the ticket becoming due for it (`CallbacksDue`): the numerator of 回访率 on the same tickets as its denominator.";
    ReopensOfReviewed = 29, "A reopening after a dissatisfied callback on a reply the center had passed, counted on the day, unit and agent of that review: with `ReviewBacks` the numerator of 重办率 on the same reviews as `Reviews`.";
    ReturnsOfDispatched = 30, "A return at sign-for to the center (as `Returns`), counted on the day, unit and agent of the dispatch it returns: the numerator of 退单率 on the same dispatches as `Dispatches`.";
}

/// How many counters a row holds.
pub const N: usize = 31;

/// A vector of counters (signed, so that it can hold a delta).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counters(pub [i64; N]);

impl Default for Counters {
    fn default() -> Self {
        Counters([0; N])
    }
}

impl Counters {
    pub fn get(&self, c: Counter) -> i64 {
        self.0[c.index()]
    }
    pub fn bump(&mut self, c: Counter, by: i64) {
        self.0[c.index()] += by;
    }
    pub fn add(&mut self, o: &Counters) {
        for (a, b) in self.0.iter_mut().zip(o.0.iter()) {
            *a += b;
        }
    }
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|v| *v == 0)
    }
    /// The non-zero counters as `(index, value)`: the stored form (rows are
    /// sparse; a value below zero is stored as 0 — the check reports it).
    pub fn to_sparse(&self) -> Vec<(u8, u32)> {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0)
            .map(|(i, v)| (i as u8, (*v).clamp(0, i64::from(u32::MAX)) as u32))
            .collect()
    }
    /// Reads the stored form; unknown (newer) counters are ignored.
    pub fn from_sparse(s: &[(u8, u32)]) -> Counters {
        let mut c = Counters::default();
        for (i, v) in s {
            if let Some(slot) = c.0.get_mut(*i as usize) {
                *slot += i64::from(*v);
            }
        }
        c
    }
}

/// A dimension of the reports. The code is persisted in cuboid keys and the
/// name dictionary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    /// [`super::types::Channel`] code.
    Channel = 1,
    /// [`super::types::AppealType`] code.
    Appeal = 2,
    /// Category code (leaf as recorded on the ticket), interned.
    Category = 3,
    /// District + street ([`place_key`]), interned.
    Place = 4,
    /// Unit id (0: no unit, the center).
    Unit = 5,
    /// User id (0: the system).
    Agent = 6,
}

impl Dim {
    pub const ALL: &'static [Dim] = &[
        Dim::Channel,
        Dim::Appeal,
        Dim::Category,
        Dim::Place,
        Dim::Unit,
        Dim::Agent,
    ];
    pub fn code(self) -> u8 {
        self as u8
    }
    /// Whether values of this dimension are interned strings.
    pub fn interned(self) -> bool {
        matches!(self, Dim::Category | Dim::Place)
    }
}

/// A stored projection: rows of `kind` hold the dimensions `a` and `b`
/// (`None`: summed over).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cuboid {
    pub kind: u8,
    pub a: Option<Dim>,
    pub b: Option<Dim>,
}

const fn cub(kind: u8, a: Option<Dim>, b: Option<Dim>) -> Cuboid {
    Cuboid { kind, a, b }
}

/// Every stored cuboid. Kinds are persisted; add new ones at the end (and
/// rebuild the aggregates).
pub const CUBOIDS: &[Cuboid] = {
    use Dim::*;
    &[
        cub(0, None, None),
        cub(1, Some(Channel), None),
        cub(2, Some(Appeal), None),
        cub(3, Some(Category), None),
        cub(4, Some(Place), None),
        cub(5, Some(Unit), None),
        cub(6, Some(Agent), None),
        cub(7, Some(Unit), Some(Channel)),
        cub(8, Some(Unit), Some(Appeal)),
        cub(9, Some(Unit), Some(Category)),
        cub(10, Some(Unit), Some(Place)),
        cub(11, Some(Unit), Some(Agent)),
        cub(12, Some(Category), Some(Channel)),
        cub(13, Some(Category), Some(Appeal)),
        cub(14, Some(Category), Some(Place)),
        cub(15, Some(Place), Some(Channel)),
        cub(16, Some(Place), Some(Appeal)),
        cub(17, Some(Channel), Some(Appeal)),
    ]
};

/// The cuboid holding exactly the dimensions `dims` (0, 1 or 2 distinct
/// ones), and whether its `a`/`b` are in the opposite order of `dims`.
pub fn cuboid_for(dims: &[Dim]) -> Option<(Cuboid, bool)> {
    let mut d: Vec<Dim> = dims.to_vec();
    d.sort();
    d.dedup();
    match d.as_slice() {
        [] => Some((CUBOIDS[0], false)),
        [x] => CUBOIDS
            .iter()
            .find(|c| c.a == Some(*x) && c.b.is_none())
            .map(|c| (*c, false)),
        [x, y] => CUBOIDS.iter().find_map(|c| {
            if c.a == Some(*x) && c.b == Some(*y) {
                Some((*c, dims.first() != Some(x)))
            } else if c.a == Some(*y) && c.b == Some(*x) {
                Some((*c, dims.first() != Some(y)))
            } else {
                None
            }
        }),
        _ => None,
    }
}

/// Separates district and street in a place key (never typed: intake
/// refuses control characters).
pub const PLACE_SEP: char = '\u{1f}';

/// The place key of a district and street.
pub fn place_key(district: &str, street: &str) -> String {
    format!("{district}{PLACE_SEP}{street}")
}

/// District and street of a place key.
pub fn split_place(key: &str) -> (&str, &str) {
    key.split_once(PLACE_SEP).unwrap_or((key, ""))
}

/// The dimensions a ticket carries into every one of its facts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketDims {
    pub channel: u8,
    pub appeal: u8,
    pub category: String,
    pub place: String,
}

impl TicketDims {
    pub fn of(t: &Ticket) -> TicketDims {
        TicketDims {
            channel: t.channel.code(),
            appeal: t.appeal_type.code(),
            category: t.category_code.clone(),
            place: place_key(&t.district, &t.street),
        }
    }
}

/// One counter + 1 on a day, for a unit and an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fact {
    pub day: u32,
    pub unit: u32,
    pub agent: u32,
    pub counter: Counter,
}

/// `YYYYMMDD` of an instant in the center's zone.
pub fn local_day(at: i64, tz: &TimeZone) -> u32 {
    let d = jiff::Timestamp::from_second(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone())
        .date();
    d.year() as u32 * 10000 + d.month() as u32 * 100 + d.day() as u32
}

/// Where a cohort fact goes: the day, unit and agent of the event that
/// opened it (a dispatch, a passed review, a sampling for callback).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    pub day: u32,
    pub unit: u32,
    pub agent: u32,
    /// Callback marks: opened by a review (not by a sampling at intake).
    pub reviewed: bool,
    /// Callback marks: the callback concluded already.
    pub called: bool,
}

/// What the fold over a timeline needs to know about the ticket between
/// two events. [`Cursor::of`] reads it from a ticket record, which is the
/// same as replaying the record's whole timeline from [`Cursor::start`] —
/// except for the marks, which only the timeline holds: a change that
/// needs them ([`Cursor::needs_marks`]) replays the old timeline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The dispatch of the running round (for returns).
    pub dispatch: Option<Mark>,
    /// The event that made the ticket due for a callback.
    pub callback: Option<Mark>,
    /// The unit holding the ticket.
    pub unit: Option<u32>,
    /// The level-2 unit that handed it down.
    pub handed_by: Option<u32>,
    /// The deadline of the running sign-for stage.
    pub sign_due: Option<i64>,
    /// The round's total deadline.
    pub due: Option<i64>,
    /// Waiting for the team lead after a dissatisfied callback.
    pub awaiting_decision: bool,
    /// The previous event was an unreachable callback attempt.
    pub last_unreachable: bool,
}

impl Cursor {
    /// Before the first event.
    pub fn start() -> Cursor {
        Cursor::default()
    }

    /// After the last event of `t`'s timeline.
    pub fn of(t: &Ticket) -> Cursor {
        Cursor {
            unit: t.unit_id,
            handed_by: t.handed_by,
            sign_due: t
                .stage
                .filter(|s| s.kind == StageKind::SignFor && t.state == State::AwaitingSignFor)
                .map(|s| s.due_at),
            due: t.due_at,
            awaiting_decision: t.state == State::AwaitingDecision,
            last_unreachable: false,
            dispatch: None,
            callback: None,
        }
    }

    /// Whether counting `appended` needs the marks of the timeline before
    /// it: a return, a callback, a reopening or a closing.
    pub fn needs_marks(appended: &[Event]) -> bool {
        appended.iter().any(|e| {
            matches!(
                e.kind,
                EventKind::Returned { .. }
                    | EventKind::CallbackRecorded { .. }
                    | EventKind::Reopened { .. }
                    | EventKind::Closed
            )
        })
    }
}

/// Folds `events` from `cur`, returning their facts (see [`Counter`] for
/// what each counts and to which unit).
///
/// Day: the local date of the event (`at`); for `Created` the ticket
/// number's date, which is the same local creation date. Agent: the event's
/// actor. Unit: the unit holding the ticket before the event, except for
/// `Dispatched` / `HandedDown` (the receiving unit) and an approved
/// level-3 reply (the level-2 unit that answers to the center).
pub fn event_facts(t: &Ticket, cur: &mut Cursor, events: &[Event], tz: &TimeZone) -> Vec<Fact> {
    let mut out = Vec::new();
    for e in events {
        let day = if matches!(e.kind, EventKind::Created) {
            t.number.day()
        } else {
            local_day(e.at, tz)
        };
        let held = cur.unit.unwrap_or(0);
        let mut fact = |unit: u32, counter: Counter| {
            out.push(Fact {
                day,
                unit,
                agent: e.actor,
                counter,
            })
        };
        let was_unreachable = std::mem::take(&mut cur.last_unreachable);
        let here = Mark {
            day,
            unit: held,
            agent: e.actor,
            reviewed: false,
            called: false,
        };
        let mut marked: Option<(Mark, Counter)> = None;
        match &e.kind {
            EventKind::Created => fact(0, Counter::Intake),
            EventKind::AnsweredAtIntake { .. } => fact(held, Counter::AnsweredOnSpot),
            EventKind::Dispatched {
                unit_id,
                stage_due,
                due,
            } => {
                fact(*unit_id, Counter::Dispatches);
                cur.dispatch = Some(Mark {
                    unit: *unit_id,
                    ..here
                });
                cur.callback = None;
                cur.unit = Some(*unit_id);
                cur.handed_by = None;
                cur.sign_due = Some(*stage_due);
                cur.due = Some(*due);
            }
            EventKind::CardReached { card } => match card {
                Supervision::Yellow => fact(held, Counter::YellowCards),
                Supervision::Red => fact(held, Counter::RedCards),
                Supervision::Normal | Supervision::Warning => {}
            },
            EventKind::SignedFor { .. } => {
                fact(held, Counter::SignFors);
                if cur.sign_due.is_some_and(|d| e.at <= d) {
                    fact(held, Counter::SignForsOnTime);
                }
                cur.sign_due = None;
            }
            EventKind::Returned { .. } => {
                cur.sign_due = None;
                match cur.handed_by.take() {
                    Some(parent) => cur.unit = Some(parent),
                    None => {
                        fact(held, Counter::Returns);
                        if let Some(m) = cur.dispatch.take() {
                            marked = Some((m, Counter::ReturnsOfDispatched));
                        }
                        cur.unit = None;
                        cur.due = None;
                    }
                }
            }
            EventKind::HandedDown { unit_id, stage_due } => {
                fact(*unit_id, Counter::HandedDown);
                cur.handed_by = cur.unit;
                cur.unit = Some(*unit_id);
                cur.sign_due = Some(*stage_due);
            }
            EventKind::Replied { .. } => {
                if cur.handed_by.is_none() {
                    fact(held, Counter::Replies);
                    if cur.due.is_some_and(|d| e.at <= d) {
                        fact(held, Counter::RepliesOnTime);
                    }
                }
            }
            EventKind::ReplyApproved { approved } => {
                if *approved && let Some(parent) = cur.handed_by.take() {
                    cur.unit = Some(parent);
                    fact(parent, Counter::Replies);
                    if cur.due.is_some_and(|d| e.at <= d) {
                        fact(parent, Counter::RepliesOnTime);
                    }
                }
            }
            EventKind::Reviewed { outcome, .. } => {
                fact(held, Counter::Reviews);
                match outcome.as_str() {
                    "pass" => {
                        fact(held, Counter::CallbacksDue);
                        cur.callback = Some(Mark {
                            reviewed: true,
                            ..here
                        });
                    }
                    "back" => fact(held, Counter::ReviewBacks),
                    "transfer" => fact(held, Counter::ReviewTransfers),
                    _ => {}
                }
            }
            EventKind::SampledForCallback => {
                fact(held, Counter::CallbacksDue);
                cur.callback = Some(here);
            }
            EventKind::CallbackRecorded {
                satisfaction,
                resolved,
            } => {
                fact(held, Counter::CallbackAttempts);
                if satisfaction != &Satisfaction::Unreachable
                    && let Some(m) = cur.callback.as_mut().filter(|m| !m.called)
                {
                    m.called = true;
                    marked = Some((*m, Counter::CallbacksMadeOfDue));
                }
                let answered = |c: Counter, fact: &mut dyn FnMut(u32, Counter)| {
                    fact(held, Counter::CallbacksMade);
                    fact(held, Counter::Answered);
                    fact(held, c);
                    if *resolved {
                        fact(held, Counter::Resolved);
                    }
                };
                match satisfaction {
                    Satisfaction::Satisfied => answered(Counter::Satisfied, &mut fact),
                    Satisfaction::BasicallySatisfied => {
                        answered(Counter::BasicallySatisfied, &mut fact)
                    }
                    Satisfaction::Dissatisfied => {
                        answered(Counter::Dissatisfied, &mut fact);
                        cur.awaiting_decision = true;
                    }
                    Satisfaction::Unreachable => cur.last_unreachable = true,
                }
            }
            EventKind::Reopened { .. } => {
                fact(held, Counter::Reopens);
                if let Some(m) = cur.callback.take().filter(|m| m.reviewed) {
                    marked = Some((m, Counter::ReopensOfReviewed));
                }
                cur.awaiting_decision = false;
            }
            EventKind::Closed => {
                if was_unreachable {
                    fact(held, Counter::CallbacksMade);
                }
                if let Some(m) = cur.callback.take()
                    && was_unreachable
                    && !m.called
                {
                    marked = Some((m, Counter::CallbacksMadeOfDue));
                }
                if std::mem::take(&mut cur.awaiting_decision) {
                    fact(held, Counter::ClosedDissatisfied);
                }
                cur.sign_due = None;
            }
            EventKind::Voided => {
                fact(held, Counter::Voided);
                cur.callback = None;
                cur.dispatch = None;
                cur.sign_due = None;
                cur.awaiting_decision = false;
            }
            EventKind::Merged { .. } => {
                fact(held, Counter::Merged);
                cur.sign_due = None;
            }
            EventKind::ExtensionDecided {
                approved: true,
                until: Some(until),
            } => cur.due = Some(*until),
            EventKind::TakenBack { unit_id } => {
                if cur.handed_by.take().is_some() {
                    cur.sign_due = None;
                }
                cur.unit = Some(*unit_id);
            }
            EventKind::Note
            | EventKind::Progress
            | EventKind::ExtensionRequested { .. }
            | EventKind::ExtensionDecided { .. }
            | EventKind::MergedIn { .. }
            | EventKind::SentBackToOperator
            | EventKind::Corrected { .. }
            | EventKind::AlarmAcknowledged
            | EventKind::Urged { .. } => {}
        }
        if let Some((m, counter)) = marked {
            out.push(Fact {
                day: m.day,
                unit: m.unit,
                agent: m.agent,
                counter,
            });
        }
    }
    out
}

/// The state facts of a ticket as it is now: the completion cohort of its
/// creation date (its number's date). Voided and merged tickets are not in
/// the cohort (a prank call or a duplicate is not a case to complete; the
/// master ticket carries the merged ones). Unit: the unit holding it now
/// (0: none); agent: who registered it.
pub fn state_facts(t: &Ticket) -> Vec<Fact> {
    if matches!(t.state, State::Voided | State::Merged) {
        return vec![];
    }
    let f = |counter| Fact {
        day: t.number.day(),
        unit: t.unit_id.unwrap_or(0),
        agent: t.created_by,
        counter,
    };
    let mut out = vec![f(Counter::Cohort)];
    if t.state == State::Closed {
        out.push(f(Counter::CohortClosed));
    }
    out
}

/// The finest key within one set of static dimensions: day, unit, agent.
pub type FineKey = (u32, u32, u32);

/// A stored row key: `(cuboid kind, day YYYYMMDD, a, b)`.
pub type RowKey = (u8, u32, u32, u32);

/// Counter changes, at the finest level, before projection onto cuboids:
/// per set of static dimensions, per (day, unit, agent).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Delta {
    pub rows: BTreeMap<TicketDims, BTreeMap<FineKey, Counters>>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.rows
            .values()
            .all(|m| m.values().all(Counters::is_zero))
    }

    /// Adds `sign` × each fact.
    pub fn add_facts(&mut self, dims: &TicketDims, facts: &[Fact], sign: i64) {
        if facts.is_empty() {
            return;
        }
        let m = match self.rows.get_mut(dims) {
            Some(m) => m,
            None => self.rows.entry(dims.clone()).or_default(),
        };
        for f in facts {
            m.entry((f.day, f.unit, f.agent))
                .or_default()
                .bump(f.counter, sign);
        }
    }

    /// Counts (`sign` = 1) or uncounts (-1) a whole ticket from its timeline.
    pub fn add_ticket(&mut self, t: &Ticket, timeline: &[Event], tz: &TimeZone, sign: i64) {
        let dims = TicketDims::of(t);
        let mut cur = Cursor::start();
        self.add_facts(&dims, &event_facts(t, &mut cur, timeline, tz), sign);
        self.add_facts(&dims, &state_facts(t), sign);
    }

    /// Counts one change: `old` is the record before it (`None` for a new
    /// ticket, whose `appended` events are its whole timeline), `new` the
    /// record after it. `old_timeline` is called only when a static
    /// dimension changed.
    pub fn add_change<E>(
        &mut self,
        old: Option<&Ticket>,
        new: &Ticket,
        appended: &[Event],
        tz: &TimeZone,
        old_timeline: impl FnOnce() -> Result<Vec<Event>, E>,
    ) -> Result<(), E> {
        let Some(old) = old else {
            self.add_ticket(new, appended, tz, 1);
            return Ok(());
        };
        let (od, nd) = (TicketDims::of(old), TicketDims::of(new));
        if od != nd {
            let mut tl = old_timeline()?;
            self.add_ticket(old, &tl, tz, -1);
            tl.extend_from_slice(appended);
            self.add_ticket(new, &tl, tz, 1);
            return Ok(());
        }
        let mut cur = if Cursor::needs_marks(appended) {
            let mut c = Cursor::start();
            event_facts(old, &mut c, &old_timeline()?, tz);
            c
        } else {
            Cursor::of(old)
        };
        self.add_facts(&nd, &event_facts(new, &mut cur, appended, tz), 1);
        let (so, sn) = (state_facts(old), state_facts(new));
        if so != sn {
            self.add_facts(&nd, &so, -1);
            self.add_facts(&nd, &sn, 1);
        }
        Ok(())
    }

    /// Projects onto every cuboid; `intern` gives the id of a category code
    /// or place key. Rows that sum to zero are left out.
    pub fn project<E>(
        &self,
        mut intern: impl FnMut(Dim, &str) -> Result<u32, E>,
    ) -> Result<BTreeMap<RowKey, Counters>, E> {
        let mut out: BTreeMap<RowKey, Counters> = BTreeMap::new();
        for (dims, m) in &self.rows {
            if m.values().all(Counters::is_zero) {
                continue;
            }
            let cat = intern(Dim::Category, &dims.category)?;
            let place = intern(Dim::Place, &dims.place)?;
            for ((day, unit, agent), c) in m {
                if c.is_zero() {
                    continue;
                }
                let val = |d: Option<Dim>| match d {
                    None => 0,
                    Some(Dim::Channel) => u32::from(dims.channel),
                    Some(Dim::Appeal) => u32::from(dims.appeal),
                    Some(Dim::Category) => cat,
                    Some(Dim::Place) => place,
                    Some(Dim::Unit) => *unit,
                    Some(Dim::Agent) => *agent,
                };
                for cb in CUBOIDS {
                    out.entry((cb.kind, *day, val(cb.a), val(cb.b)))
                        .or_default()
                        .add(c);
                }
            }
        }
        out.retain(|_, c| !c.is_zero());
        Ok(out)
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
