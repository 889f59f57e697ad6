//! The aggregates kept incrementally equal the aggregates recomputed from
//! the timelines, after random workflow sequences (a seeded property test),
//! and the attribution rules hold on small cases.

use std::collections::{BTreeMap, HashMap};

use jiff::{Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::domain::testkit::*;
use crate::domain::ticket::TicketNo;
use crate::domain::types::{AppealType, Channel, State};
use crate::domain::workflow::{Action, Correction, ReviewOutcome, Who, correct, merge};

struct Names(HashMap<(Dim, String), u32>);

impl Names {
    fn project(&mut self, d: &Delta) -> BTreeMap<RowKey, Counters> {
        d.project(|dim, s| -> Result<u32, ()> {
            let n = self.0.len() as u32 + 1;
            Ok(*self.0.entry((dim, s.to_string())).or_insert(n))
        })
        .unwrap()
    }
}

/// Sums `b` into `a` row by row, dropping rows that become zero.
fn merge_rows(a: &mut BTreeMap<RowKey, Counters>, b: &BTreeMap<RowKey, Counters>) {
    for (k, v) in b {
        a.entry(*k).or_default().add(v);
    }
    a.retain(|_, c| !c.is_zero());
}

/// The cursor after replaying the whole timeline, without the marks
/// (which `Cursor::of` cannot read from a record: `add_change` replays the
/// timeline when it needs them, and the recount comparison checks that).
fn replayed(t: &Ticket, tl: &[Event]) -> Cursor {
    let mut c = Cursor::start();
    event_facts(t, &mut c, tl, &sh());
    c.last_unreachable = false;
    c.dispatch = None;
    c.callback = None;
    c
}

/// Every rate of every stored row, and of every cuboid's sum over the
/// whole run, is within 0–100 %: numerators count subsets of their
/// denominators' facts on the same day, unit and agent.
fn assert_rates_within_bounds(rows: &BTreeMap<RowKey, Counters>, what: &str) {
    let check = |c: &Counters, key: &dyn std::fmt::Debug| {
        for k in crate::domain::kpi::Kpi::ALL {
            let f = k.figure(c);
            assert!(f.num >= 0, "{what}: {k:?} below 0 in {key:?}: {f:?}");
            if let Some(den) = f.den {
                assert!(
                    f.num <= den,
                    "{what}: {k:?} above 100 % in {key:?}: {} / {den}",
                    f.num
                );
            }
        }
    };
    let mut sums: BTreeMap<(u8, u32, u32), Counters> = BTreeMap::new();
    for (key, c) in rows {
        check(c, key);
        sums.entry((key.0, key.2, key.3)).or_default().add(c);
    }
    for (key, c) in &sums {
        check(c, key);
    }
}

const CATEGORIES: &[&str] = &["0101", "0102", "0201", "020101"];
const DISTRICTS: &[&str] = &["市南区", "市北区"];

fn handler_of(unit: Option<u32>) -> Who<'static> {
    match unit {
        Some(L3) => H_L3,
        Some(OTHER) => H_OTHER,
        _ => H_L2,
    }
}

fn random_action(rng: &mut StdRng, t: &Ticket, now: Timestamp) -> (Action, Who<'static>) {
    let units = [L2, L3, OTHER];
    let u = units[rng.random_range(0..3)];
    let sats = [
        Satisfaction::Satisfied,
        Satisfaction::BasicallySatisfied,
        Satisfaction::Dissatisfied,
        Satisfaction::Unreachable,
    ];
    let holder = handler_of(t.unit_id);
    // Mostly the step the state calls for, so that runs go round the loop;
    // otherwise anything (most of which is refused).
    let natural = rng.random_bool(0.8);
    let pick = match t.state {
        _ if !natural => rng.random_range(0..19),
        State::PendingDispatch => [0, 0, 0, 0, 14, 15][rng.random_range(0..6)],
        State::AwaitingSignFor => [1, 1, 1, 2, 4, 5, 6, 16, 17, 18][rng.random_range(0..10)],
        State::InProgress => [7, 7, 7, 3, 4, 5, 6, 16, 17][rng.random_range(0..9)],
        State::AwaitingApproval => [8, 6][rng.random_range(0..2)],
        State::AwaitingReview => 9,
        State::AwaitingCallback => 10,
        State::AwaitingDecision => [12, 13, 14][rng.random_range(0..3)],
        _ => rng.random_range(0..16),
    };
    match pick {
        0 => (
            Action::Dispatch {
                unit_id: u,
                assisting: vec![],
            },
            DISPATCHER,
        ),
        1 => (Action::SignFor, holder),
        2 => (Action::Return, holder),
        3 => (Action::HandDown { unit_id: L3 }, holder),
        4 => (Action::Progress, holder),
        5 => {
            let until = now.to_zoned(sh()).date().checked_add(20.days()).unwrap();
            (Action::RequestExtension { until }, holder)
        }
        6 => (
            Action::DecideExtension {
                approve: rng.random_bool(0.7),
                until: None,
            },
            LEAD,
        ),
        7 => (
            Action::Reply {
                result: "已办".into(),
            },
            holder,
        ),
        8 => (
            Action::ApproveReply {
                approve: rng.random_bool(0.7),
            },
            handler_of(t.handed_by),
        ),
        9 => {
            let o = match rng.random_range(0..4) {
                0 => ReviewOutcome::Transfer { unit_id: u },
                1 => ReviewOutcome::Back {
                    period_days: [5, 15][rng.random_range(0..2)],
                },
                _ => ReviewOutcome::Pass,
            };
            (Action::Review(o), REVIEWER)
        }
        10 | 11 => (
            Action::Callback {
                satisfaction: sats[rng.random_range(0..4)],
                resolved: rng.random_bool(0.5),
            },
            CALLBACK,
        ),
        12 => (Action::Reopen { unit_id: u }, LEAD),
        13 => (Action::Close, LEAD),
        14 => (Action::Void, DISPATCHER),
        // The level-2 unit over the level-3 unit that holds it.
        16 => (Action::Urge, H_L2),
        17 => (Action::TakeBack, H_L2),
        18 => (Action::SignForSubUnit, H_L2),
        _ => (Action::SendBack, DISPATCHER),
    }
}

struct Sim {
    w: World,
    rng: StdRng,
    now: Timestamp,
    tickets: Vec<(Ticket, Vec<Event>)>,
    inc: BTreeMap<RowKey, Counters>,
    names: Names,
    changes: usize,
}

impl Sim {
    fn new(seed: u64) -> Sim {
        Sim {
            w: World::default(),
            rng: StdRng::seed_from_u64(seed),
            now: sh_at("2026-08-25 08:00"),
            tickets: vec![],
            inc: BTreeMap::new(),
            names: Names(HashMap::new()),
            changes: 0,
        }
    }

    /// Records one change the way the store does: the delta of (old, new,
    /// appended) projected and added to the running rows.
    fn record(&mut self, i: usize, old: &Ticket, events: Vec<Event>) {
        let old_tl = self.tickets[i].1.clone();
        let new = &mut self.tickets[i].0;
        new.event_count = old.event_count + events.len() as u32;
        let mut d = Delta::default();
        d.add_change(Some(old), new, &events, &sh(), || Ok::<_, ()>(old_tl))
            .unwrap();
        self.tickets[i].1.extend(events);
        let rows = self.names.project(&d);
        merge_rows(&mut self.inc, &rows);
        let (t, tl) = &self.tickets[i];
        assert_eq!(Cursor::of(t), replayed(t, tl), "cursor of {}", t.number);
        self.changes += 1;
    }

    fn register(&mut self) {
        let rng = &mut self.rng;
        let day = local_day(self.now.as_second(), &sh());
        let seq = self
            .tickets
            .iter()
            .filter(|(t, _)| t.number.day() == day)
            .count() as u32
            + 1;
        let appeal = AppealType::ALL[rng.random_range(0..AppealType::ALL.len())];
        let cat = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
        let by = [OP_A, OP_B][rng.random_range(0..2)];
        let (mut t, mut tl) = new_ticket(TicketNo::new(day, seq), self.now, by, appeal, cat);
        t.channel = Channel::ALL[rng.random_range(0..Channel::ALL.len())];
        t.district = DISTRICTS[rng.random_range(0..2)].into();
        if appeal == AppealType::Consultation && rng.random_bool(0.4) {
            answer_at_intake(&mut t, &mut tl, rng.random_bool(0.5));
        }
        let mut d = Delta::default();
        d.add_change(None, &t, &tl, &sh(), || Ok::<_, ()>(vec![]))
            .unwrap();
        let rows = self.names.project(&d);
        merge_rows(&mut self.inc, &rows);
        assert_eq!(Cursor::of(&t), replayed(&t, &tl));
        self.tickets.push((t, tl));
    }

    fn step(&mut self) {
        let mins: i64 = match self.rng.random_range(0..10) {
            0 => self.rng.random_range(600..4000),
            1..=3 => self.rng.random_range(60..600),
            _ => self.rng.random_range(1..60),
        };
        self.now = self.now.checked_add(mins.minutes()).unwrap();
        let roll = self.rng.random_range(0..100);
        if self.tickets.is_empty() || roll < 18 {
            self.register();
            return;
        }
        let i = self.rng.random_range(0..self.tickets.len());
        let old = self.tickets[i].0.clone();
        if roll < 23 {
            // A correction before dispatch (moves the ticket's facts).
            let c = Correction {
                category_code: Some(CATEGORIES[self.rng.random_range(0..4)].into()),
                district: Some(DISTRICTS[self.rng.random_range(0..2)].into()),
                ..Default::default()
            };
            let who = Who {
                id: OP_A,
                roles: &[crate::domain::types::Role::Operator],
                unit_id: None,
            };
            if let Ok(ev) = correct(&mut self.tickets[i].0, &c, "", &who, self.now) {
                self.record(i, &old, ev);
            }
        } else if roll < 26 {
            // A merge of two tickets.
            let j = self.rng.random_range(0..self.tickets.len());
            if i == j {
                return;
            }
            let old_j = self.tickets[j].0.clone();
            let (mut a, mut b) = (old.clone(), old_j.clone());
            if let Ok((ea, eb)) = merge(&mut a, &mut b, "并案", &DISPATCHER, self.now) {
                self.tickets[i].0 = a;
                self.tickets[j].0 = b;
                self.record(i, &old, ea);
                self.record(j, &old_j, eb);
            }
        } else if roll < 30 {
            // The card sweep over every ticket.
            for k in 0..self.tickets.len() {
                let old = self.tickets[k].0.clone();
                let ev = crate::domain::workflow::record_cards(
                    &mut self.tickets[k].0,
                    self.now,
                    &self.w.cal,
                    &sh(),
                );
                if !ev.is_empty() {
                    self.record(k, &old, ev);
                }
            }
        } else {
            let (a, who) = random_action(&mut self.rng, &old, self.now);
            let now = self.now;
            if let Ok(ev) = self.w.apply(&mut self.tickets[i].0, now, &a, "原因", &who) {
                self.record(i, &old, ev);
            }
        }
    }

    fn recomputed(&mut self) -> BTreeMap<RowKey, Counters> {
        let mut d = Delta::default();
        for (t, tl) in &self.tickets {
            assert_eq!(t.event_count as usize, tl.len());
            d.add_ticket(t, tl, &sh(), 1);
        }
        self.names.project(&d)
    }
}

#[test]
fn incremental_equals_recomputed_after_random_workflows() {
    let mut total_changes = 0;
    let mut kinds = std::collections::HashSet::new();
    for seed in 0..12u64 {
        let mut sim = Sim::new(seed);
        for n in 0..700 {
            sim.step();
            if n % 175 == 174 {
                let full = sim.recomputed();
                assert_eq!(sim.inc, full, "seed {seed}, step {n}");
                assert_rates_within_bounds(&full, &format!("seed {seed}, step {n}"));
            }
        }
        for (_, tl) in &sim.tickets {
            for e in tl {
                kinds.insert(std::mem::discriminant(&e.kind));
            }
        }
        total_changes += sim.changes;
        // Each counter of the whole run is reached by the fixture or here.
        let full = sim.recomputed();
        assert!(!full.is_empty());
    }
    // The runs went through the loop, not just registrations.
    assert!(total_changes > 2000, "{total_changes} changes");
    assert!(
        kinds.len() >= 20,
        "only {} event kinds reached",
        kinds.len()
    );
}

#[test]
fn a_run_reaches_every_counter() {
    let mut sim = Sim::new(99);
    for _ in 0..3000 {
        sim.step();
    }
    let full = sim.recomputed();
    let mut total = Counters::default();
    for ((kind, ..), c) in &full {
        if *kind == 0 {
            total.add(c);
        }
    }
    for c in Counter::ALL {
        assert!(total.get(*c) > 0, "{c:?} never counted");
    }
    assert_eq!(sim.inc, full);
    assert_rates_within_bounds(&full, "seed 99");
}

#[test]
fn every_fact_lands_in_every_cuboid_once() {
    let w = World::default();
    let (mut t, mut tl) = new_ticket(
        TicketNo::new(20260901, 1),
        sh_at("2026-09-01 09:00"),
        OP_A,
        AppealType::Complaint,
        "0101",
    );
    let ev = w
        .apply(
            &mut t,
            sh_at("2026-09-01 10:00"),
            &Action::Dispatch {
                unit_id: L2,
                assisting: vec![],
            },
            "",
            &DISPATCHER,
        )
        .unwrap();
    tl.extend(ev);
    let mut d = Delta::default();
    d.add_ticket(&t, &tl, &sh(), 1);
    let mut names = Names(HashMap::new());
    let rows = names.project(&d);
    // Two fine keys (intake + cohort for unit 0 / OP_A; the dispatch for
    // L2 / the dispatcher) → every cuboid sums to intake 1, cohort 1,
    // dispatch 1.
    for cb in CUBOIDS {
        let mut sum = Counters::default();
        for ((k, day, ..), c) in &rows {
            if *k == cb.kind {
                assert_eq!(*day, 20260901);
                sum.add(c);
            }
        }
        assert_eq!(sum.get(Counter::Intake), 1, "{cb:?}");
        assert_eq!(sum.get(Counter::Cohort), 1);
        assert_eq!(sum.get(Counter::Dispatches), 1);
    }
    // The unit cuboid splits them: the center (0) and L2.
    let unit_rows: Vec<_> = rows.keys().filter(|k| k.0 == 5).collect();
    assert_eq!(unit_rows, vec![&(5, 20260901, 0, 0), &(5, 20260901, L2, 0)]);
}

#[test]
fn cuboid_lookup() {
    assert_eq!(cuboid_for(&[]).unwrap().0.kind, 0);
    assert_eq!(cuboid_for(&[Dim::Unit]).unwrap(), (CUBOIDS[5], false));
    assert_eq!(cuboid_for(&[Dim::Unit, Dim::Unit]).unwrap().0.kind, 5);
    // (unit, category) is stored as a = unit, b = category.
    assert_eq!(
        cuboid_for(&[Dim::Unit, Dim::Category]).unwrap(),
        (CUBOIDS[9], false)
    );
    assert_eq!(
        cuboid_for(&[Dim::Category, Dim::Unit]).unwrap(),
        (CUBOIDS[9], true)
    );
    // Not stored: agent with anything but the unit; three dimensions.
    assert!(cuboid_for(&[Dim::Agent, Dim::Category]).is_none());
    assert!(cuboid_for(&[Dim::Unit, Dim::Channel, Dim::Appeal]).is_none());
    for (i, c) in CUBOIDS.iter().enumerate() {
        assert_eq!(c.kind as usize, i);
    }
}

#[test]
fn counters_round_trip_sparse() {
    let mut c = Counters::default();
    c.bump(Counter::Intake, 3);
    c.bump(Counter::CohortClosed, 70000);
    let s = c.to_sparse();
    assert_eq!(s, vec![(0, 3), (27, 70000)]);
    assert_eq!(Counters::from_sparse(&s), c);
    // A counter from a newer program is ignored, not a crash.
    assert_eq!(
        Counters::from_sparse(&[(0, 1), (200, 5)]).get(Counter::Intake),
        1
    );
    for (i, c) in Counter::ALL.iter().enumerate() {
        assert_eq!(c.index(), i);
        assert_eq!(Counter::from_index(i), Some(*c));
    }
    assert_eq!(Counter::ALL.len(), N);
}

#[test]
fn places_and_days() {
    let k = place_key("市南区", "八大关街道");
    assert_eq!(split_place(&k), ("市南区", "八大关街道"));
    assert_eq!(split_place("x"), ("x", ""));
    // 2026-09-01 23:30 in Shanghai is 15:30 UTC: still the 1st locally.
    assert_eq!(
        local_day(sh_at("2026-09-01 23:30").as_second(), &sh()),
        20260901
    );
    assert_eq!(
        local_day(sh_at("2026-09-02 00:10").as_second(), &sh()),
        20260902
    );
}
