//! Every figure of §7 against a fixture of tickets whose timelines were
//! driven through the workflow, with the expected values worked out by hand
//! in the comments.

use std::collections::{BTreeMap, HashMap};

use super::*;
use crate::domain::aggregate::{Counters, Delta, Dim, RowKey};
use crate::domain::testkit::*;
use crate::domain::ticket::{Event, Ticket, TicketNo};
use crate::domain::types::{AppealType, Channel, Satisfaction};
use crate::domain::workflow::{Action, ReviewOutcome, Who, merge};
use jiff::civil::date;

struct Case {
    t: Ticket,
    tl: Vec<Event>,
}

impl Case {
    fn new(day: u32, seq: u32, created: &str, by: u32, appeal: AppealType, cat: &str) -> Case {
        let (t, tl) = new_ticket(TicketNo::new(day, seq), sh_at(created), by, appeal, cat);
        Case { t, tl }
    }
    fn act(&mut self, w: &World, now: &str, a: Action, who: Who) -> &mut Self {
        let ev = w
            .apply(&mut self.t, sh_at(now), &a, "原因", &who)
            .unwrap_or_else(|e| panic!("{} {a:?} at {now}: {e:?}", self.t.number));
        self.t.event_count += ev.len() as u32;
        self.tl.extend(ev);
        self
    }
}

fn dispatch(u: u32) -> Action {
    Action::Dispatch {
        unit_id: u,
        assisting: vec![],
    }
}
fn reply() -> Action {
    Action::Reply {
        result: "已处理".into(),
    }
}
fn pass() -> Action {
    Action::Review(ReviewOutcome::Pass)
}
fn callback(s: Satisfaction, resolved: bool) -> Action {
    Action::Callback {
        satisfaction: s,
        resolved,
    }
}

/// The fixture: nine tickets in September 2026, three in August.
fn fixture() -> Vec<Case> {
    use AppealType::*;
    use Satisfaction::*;
    let w = World::default();
    let mut out = vec![];

    // T1 complaint: dispatched, signed for and replied on time, passed,
    // satisfied + resolved.
    let mut c = Case::new(20260901, 1, "2026-09-01 09:00", OP_A, Complaint, "0101");
    c.act(&w, "2026-09-01 10:00", dispatch(L2), DISPATCHER)
        .act(&w, "2026-09-01 14:00", Action::SignFor, H_L2)
        .act(&w, "2026-09-02 10:00", reply(), H_L2)
        .act(&w, "2026-09-03 10:00", pass(), REVIEWER)
        .act(&w, "2026-09-04 10:00", callback(Satisfied, true), CALLBACK);
    out.push(c);

    // T2 consultation answered on the spot.
    let mut c = Case::new(20260902, 1, "2026-09-02 09:30", OP_A, Consultation, "0101");
    answer_at_intake(&mut c.t, &mut c.tl, false);
    out.push(c);

    // T3 consultation answered on the spot (web), sampled for a callback,
    // unreachable three times: closed as unreachable.
    let mut c = Case::new(20260902, 2, "2026-09-02 10:00", OP_B, Consultation, "0102");
    c.t.channel = Channel::Web;
    answer_at_intake(&mut c.t, &mut c.tl, true);
    c.act(
        &w,
        "2026-09-03 10:00",
        callback(Unreachable, false),
        CALLBACK,
    )
    .act(
        &w,
        "2026-09-03 15:00",
        callback(Unreachable, false),
        CALLBACK,
    )
    .act(
        &w,
        "2026-09-04 10:00",
        callback(Unreachable, false),
        CALLBACK,
    );
    assert_eq!(c.t.state, crate::domain::types::State::Closed);
    out.push(c);

    // T4 emergency (hours): dispatched Sat 09-05 10:05, sign-for due 11:05,
    // total due 09-06 10:05. Signed for at 12:30: late, and the sign-for
    // stage reached yellow (11:05:01) and red (12:05). The handling stage
    // (due 09-06 10:05) reaches yellow at 10:05:01; the reply at 11:00 is
    // late. Review sends it back (5 working days): signed and replied on
    // time, passed, dissatisfied, closed by the team lead.
    let mut c = Case::new(20260905, 1, "2026-09-05 10:00", OP_B, Emergency, "0102");
    c.act(&w, "2026-09-05 10:05", dispatch(L2), DISPATCHER)
        .act(&w, "2026-09-05 12:30", Action::SignFor, H_L2)
        .act(&w, "2026-09-06 11:00", reply(), H_L2)
        .act(
            &w,
            "2026-09-07 10:00",
            Action::Review(ReviewOutcome::Back { period_days: 5 }),
            REVIEWER,
        )
        .act(&w, "2026-09-07 15:00", Action::SignFor, H_L2)
        .act(&w, "2026-09-08 10:00", reply(), H_L2)
        .act(&w, "2026-09-08 17:00", pass(), REVIEWER)
        .act(
            &w,
            "2026-09-09 10:00",
            callback(Dissatisfied, false),
            CALLBACK,
        )
        .act(&w, "2026-09-10 10:00", Action::Close, LEAD);
    out.push(c);

    // T5 complaint: L2 signs, hands down to L3, L3 replies, L2 approves
    // (the reply reaches the center as L2's), passed, dissatisfied,
    // reopened to OTHER, which signs and replies; passed; basically
    // satisfied + resolved.
    let mut c = Case::new(20260910, 1, "2026-09-10 09:00", OP_A, Complaint, "0201");
    c.act(&w, "2026-09-10 09:30", dispatch(L2), DISPATCHER)
        .act(&w, "2026-09-10 11:00", Action::SignFor, H_L2)
        .act(
            &w,
            "2026-09-11 09:00",
            Action::HandDown { unit_id: L3 },
            H_L2,
        )
        .act(&w, "2026-09-11 10:00", Action::SignFor, H_L3)
        .act(&w, "2026-09-14 10:00", reply(), H_L3)
        .act(
            &w,
            "2026-09-14 14:00",
            Action::ApproveReply { approve: true },
            H_L2,
        )
        .act(&w, "2026-09-15 10:00", pass(), REVIEWER)
        .act(
            &w,
            "2026-09-16 10:00",
            callback(Dissatisfied, false),
            CALLBACK,
        )
        .act(
            &w,
            "2026-09-17 10:00",
            Action::Reopen { unit_id: OTHER },
            LEAD,
        )
        .act(&w, "2026-09-17 11:00", Action::SignFor, H_OTHER)
        .act(&w, "2026-09-18 10:00", reply(), H_OTHER)
        .act(&w, "2026-09-21 10:00", pass(), REVIEWER)
        .act(
            &w,
            "2026-09-22 10:00",
            callback(BasicallySatisfied, true),
            CALLBACK,
        );
    out.push(c);

    // T6 suggestion, voided (a prank).
    let mut c = Case::new(20260920, 1, "2026-09-20 09:00", OP_A, Suggestion, "0101");
    c.act(&w, "2026-09-20 10:00", Action::Void, DISPATCHER);
    out.push(c);

    // T7 complaint: OTHER returns it at sign-for, dispatched again to L2,
    // still waiting for sign-for at the end of September.
    let mut c = Case::new(20260928, 1, "2026-09-28 09:00", OP_B, Complaint, "0101");
    c.act(&w, "2026-09-28 10:00", dispatch(OTHER), DISPATCHER)
        .act(&w, "2026-09-28 15:00", Action::Return, H_OTHER)
        .act(&w, "2026-09-29 09:00", dispatch(L2), DISPATCHER);
    let t7 = out.len();
    out.push(c);

    // T8 help: L2 replies, the review transfers it to OTHER (waiting).
    let mut c = Case::new(20260915, 1, "2026-09-15 09:00", OP_A, Help, "0202");
    c.act(&w, "2026-09-15 10:00", dispatch(L2), DISPATCHER)
        .act(&w, "2026-09-15 11:00", Action::SignFor, H_L2)
        .act(&w, "2026-09-16 10:00", reply(), H_L2)
        .act(
            &w,
            "2026-09-16 15:00",
            Action::Review(ReviewOutcome::Transfer { unit_id: OTHER }),
            REVIEWER,
        );
    out.push(c);

    // T9 complaint, merged into T7.
    let mut c = Case::new(20260929, 1, "2026-09-29 10:00", OP_A, Complaint, "0101");
    {
        let m = &mut out[t7];
        let (ec, em) = merge(
            &mut c.t,
            &mut m.t,
            "同一事件",
            &DISPATCHER,
            sh_at("2026-09-29 11:00"),
        )
        .unwrap();
        c.t.event_count += ec.len() as u32;
        m.t.event_count += em.len() as u32;
        c.tl.extend(ec);
        m.tl.extend(em);
    }
    out.push(c);

    // August. P1 complaint: all on time, satisfied + resolved.
    let mut c = Case::new(20260810, 1, "2026-08-10 09:00", OP_A, Complaint, "0101");
    c.act(&w, "2026-08-10 10:00", dispatch(L2), DISPATCHER)
        .act(&w, "2026-08-10 11:00", Action::SignFor, H_L2)
        .act(&w, "2026-08-11 10:00", reply(), H_L2)
        .act(&w, "2026-08-12 10:00", pass(), REVIEWER)
        .act(&w, "2026-08-13 10:00", callback(Satisfied, true), CALLBACK);
    out.push(c);
    // P2 consultation answered on the spot.
    let mut c = Case::new(20260820, 1, "2026-08-20 09:00", OP_B, Consultation, "0101");
    answer_at_intake(&mut c.t, &mut c.tl, false);
    out.push(c);
    // P3 complaint dispatched Mon 08-24: sign-for due Thu 08-27 23:59:59,
    // yellow from 08-28 00:00:00, red from 08-29 00:00:00 (end of Fri 28).
    // Signed for on 08-31: late, with both cards.
    let mut c = Case::new(20260824, 1, "2026-08-24 09:00", OP_B, Complaint, "0101");
    c.act(&w, "2026-08-24 10:00", dispatch(L2), DISPATCHER).act(
        &w,
        "2026-08-31 10:00",
        Action::SignFor,
        H_L2,
    );
    out.push(c);
    out
}

struct Agg {
    rows: BTreeMap<RowKey, Counters>,
    names: HashMap<(Dim, String), u32>,
}

fn aggregate(cases: &[Case]) -> Agg {
    let mut d = Delta::default();
    for c in cases {
        assert_eq!(c.t.event_count as usize, c.tl.len());
        d.add_ticket(&c.t, &c.tl, &sh(), 1);
    }
    let mut names: HashMap<(Dim, String), u32> = HashMap::new();
    let rows = d
        .project(|dim, s| -> Result<u32, ()> {
            let n = names.len() as u32 + 1;
            Ok(*names.entry((dim, s.to_string())).or_insert(n))
        })
        .unwrap();
    Agg { rows, names }
}

impl Agg {
    /// Sums the rows of one cuboid kind over `p` whose `a` passes `keep`.
    fn sum(&self, kind: u8, p: &Period, keep: impl Fn(u32) -> bool) -> Counters {
        let mut c = Counters::default();
        for ((k, day, a, _), v) in &self.rows {
            if *k == kind && p.contains_day(*day) && keep(*a) {
                c.add(v);
            }
        }
        c
    }
    fn total(&self, p: &Period) -> Counters {
        self.sum(0, p, |_| true)
    }
}

fn fig(c: &Counters, k: Kpi) -> (i64, Option<i64>) {
    let f = k.figure(c);
    (f.num, f.den)
}

#[test]
fn every_figure_of_september_by_hand() {
    let agg = aggregate(&fixture());
    let sep = Period::month(2026, 9).unwrap();
    let c = agg.total(&sep);
    // Intake: T1–T9 were created in September (voided T6 and merged T9
    // included: the calls were taken) = 9.
    assert_eq!(fig(&c, Kpi::Intake), (9, None));
    // Answered on the spot: T2, T3 = 2 of 9.
    assert_eq!(fig(&c, Kpi::AnsweredOnSpot), (2, Some(9)));
    // Sign-fors: T1, T4 (late, 12:30 > 11:05), T4 after review back, T5 by
    // L2, T5 by L3, T5 by OTHER, T8 = 7, of which 6 on time.
    assert_eq!(fig(&c, Kpi::OnTimeSignFor), (6, Some(7)));
    // Replies reaching the center: T1, T4 (late: 09-06 11:00 > 10:05), T4
    // again, T5 approved by L2 (L3's own reply does not count), T5 by
    // OTHER, T8 = 6, of which 5 on time.
    assert_eq!(fig(&c, Kpi::OnTimeCompletion), (5, Some(6)));
    // Cohort: created in September, not voided (T6) or merged (T9): T1, T2,
    // T3, T4, T5, T7, T8 = 7; closed now: T1, T2, T3 (unreachable), T4
    // (closed by the team lead), T5 = 5.
    assert_eq!(fig(&c, Kpi::Completion), (5, Some(7)));
    // Callbacks with an answer: T1 satisfied, T4 dissatisfied, T5
    // dissatisfied, T5 basically satisfied = 4; satisfied + basically = 2.
    assert_eq!(fig(&c, Kpi::Satisfaction), (2, Some(4)));
    // Resolved: T1 and T5's second callback = 2 of 4.
    assert_eq!(fig(&c, Kpi::Resolution), (2, Some(4)));
    // Due for callback: passes of T1, T4, T5, T5 + T3 sampled = 5.
    // Concluded: T1, T3 (third unreachable attempt closes it), T4, T5, T5 = 5.
    assert_eq!(fig(&c, Kpi::CallbackRate), (5, Some(5)));
    // Reviews: T1, T4 back, T4, T5, T5, T8 transfer = 6; redone: T4's
    // review back + T5's reopening = 2.
    assert_eq!(fig(&c, Kpi::ReopenRate), (2, Some(6)));
    // Dispatches: T1, T4 ×2 (dispatch, back), T5 ×2 (dispatch, reopen),
    // T7 ×2, T8 ×2 (dispatch, transfer) = 9; returns: T7 by OTHER = 1.
    assert_eq!(fig(&c, Kpi::ReturnRate), (1, Some(9)));
    // Cards: T4's sign-for stage yellow + red (09-05), its handling stage
    // yellow (09-06).
    assert_eq!(fig(&c, Kpi::YellowCards), (2, None));
    assert_eq!(fig(&c, Kpi::RedCards), (1, None));
    // The supporting counters.
    use crate::domain::aggregate::Counter as C;
    assert_eq!(c.get(C::CallbackAttempts), 7); // T1 1, T3 3, T4 1, T5 2
    assert_eq!(c.get(C::ClosedDissatisfied), 1); // T4
    assert_eq!(c.get(C::Voided), 1);
    assert_eq!(c.get(C::Merged), 1);
    assert_eq!(c.get(C::HandedDown), 1);
    assert_eq!(c.get(C::Dissatisfied), 2);
}

#[test]
fn august_and_the_change() {
    let agg = aggregate(&fixture());
    let sep = Period::month(2026, 9).unwrap();
    let aug = sep.previous();
    assert_eq!(aug, Period::month(2026, 8).unwrap());
    let (c, p) = (agg.total(&sep), agg.total(&aug));
    // August: P1, P2, P3 = 3; P2 answered on the spot.
    assert_eq!(fig(&p, Kpi::Intake), (3, None));
    assert_eq!(fig(&p, Kpi::AnsweredOnSpot), (1, Some(3)));
    // P1 on time, P3 late (08-31 > 08-27 23:59:59).
    assert_eq!(fig(&p, Kpi::OnTimeSignFor), (1, Some(2)));
    assert_eq!(fig(&p, Kpi::OnTimeCompletion), (1, Some(1)));
    // Cohort P1, P2, P3; closed P1, P2.
    assert_eq!(fig(&p, Kpi::Completion), (2, Some(3)));
    assert_eq!(fig(&p, Kpi::Satisfaction), (1, Some(1)));
    assert_eq!(fig(&p, Kpi::Resolution), (1, Some(1)));
    assert_eq!(fig(&p, Kpi::CallbackRate), (1, Some(1)));
    assert_eq!(fig(&p, Kpi::ReopenRate), (0, Some(1)));
    assert_eq!(fig(&p, Kpi::ReturnRate), (0, Some(2)));
    // P3's cards: yellow on 08-28, red on 08-29 (recorded at the sign-for).
    assert_eq!(fig(&p, Kpi::YellowCards), (1, None));
    assert_eq!(fig(&p, Kpi::RedCards), (1, None));

    let v = compare(&c, &p);
    let get = |k: Kpi| v.iter().find(|x| x.kpi == k).unwrap().change;
    // Intake 3 → 9: +6, +200 %.
    assert_eq!(get(Kpi::Intake).delta, Some(6.0));
    assert_eq!(get(Kpi::Intake).percent, Some(200.0));
    // Satisfaction 100 % → 50 %: −50 points.
    assert_eq!(get(Kpi::Satisfaction).delta, Some(-50.0));
    assert_eq!(get(Kpi::Satisfaction).percent, None);
    // On-time sign-for 50 % → 6/7 = 85.714… %: +35.714… points.
    let d = get(Kpi::OnTimeSignFor).delta.unwrap();
    assert!((d - (600.0 / 7.0 - 50.0)).abs() < 1e-9, "{d}");
    // Red cards 1 → 1: 0, 0 %.
    assert_eq!(get(Kpi::RedCards).delta, Some(0.0));
    assert_eq!(get(Kpi::RedCards).percent, Some(0.0));
}

#[test]
fn cut_by_a_unit_with_its_sub_units() {
    let agg = aggregate(&fixture());
    let sep = Period::month(2026, 9).unwrap();
    // Cuboid 5: unit alone. L2 with its sub-unit L3.
    let c = agg.sum(5, &sep, |u| u == L2 || u == L3);
    // Intake is the center's (unit 0): none for a unit.
    assert_eq!(fig(&c, Kpi::Intake), (0, None));
    // Dispatches to L2: T1, T4 ×2, T5, T7 (second), T8 = 6; no returns.
    assert_eq!(fig(&c, Kpi::ReturnRate), (0, Some(6)));
    // Sign-fors by L2/L3: T1, T4 (late), T4, T5 L2, T5 L3, T8 = 6, 5 on time.
    assert_eq!(fig(&c, Kpi::OnTimeSignFor), (5, Some(6)));
    // Replies of L2: T1, T4 (late), T4, T5 (approved), T8 = 5, 4 on time.
    assert_eq!(fig(&c, Kpi::OnTimeCompletion), (4, Some(5)));
    // Reviews of L2's replies: T1, T4 back, T4, T5, T8 = 5; redone: T4
    // back + T5 reopened (the round at L2 was reopened) = 2.
    assert_eq!(fig(&c, Kpi::ReopenRate), (2, Some(5)));
    // Callbacks on L2's rounds: T1 satisfied, T4 and T5 dissatisfied.
    assert_eq!(fig(&c, Kpi::Satisfaction), (1, Some(3)));
    assert_eq!(fig(&c, Kpi::Resolution), (1, Some(3)));
    assert_eq!(fig(&c, Kpi::CallbackRate), (3, Some(3)));
    // Cohort by the unit holding it now: T1, T4 (closed), T7 (open) = 3.
    assert_eq!(fig(&c, Kpi::Completion), (2, Some(3)));
    assert_eq!(fig(&c, Kpi::YellowCards), (2, None));
    assert_eq!(fig(&c, Kpi::RedCards), (1, None));
    // L3 alone: one sign-for (on time), no reply to the center.
    let l3 = agg.sum(5, &sep, |u| u == L3);
    assert_eq!(fig(&l3, Kpi::OnTimeSignFor), (1, Some(1)));
    assert_eq!(fig(&l3, Kpi::OnTimeCompletion), (0, Some(0)));
    assert_eq!(Kpi::OnTimeCompletion.figure(&l3).value(), None);
    // OTHER: T7 returned (1 of 3 dispatches: T5 reopen, T7, T8 transfer).
    let o = agg.sum(5, &sep, |u| u == OTHER);
    assert_eq!(fig(&o, Kpi::ReturnRate), (1, Some(3)));
    assert_eq!(fig(&o, Kpi::Satisfaction), (1, Some(1)));
}

#[test]
fn cut_by_category_prefix_channel_and_agent() {
    let agg = aggregate(&fixture());
    let sep = Period::month(2026, 9).unwrap();
    let ids_with_prefix = |p: &str| -> Vec<u32> {
        agg.names
            .iter()
            .filter(|((d, s), _)| *d == Dim::Category && s.starts_with(p))
            .map(|(_, id)| *id)
            .collect()
    };
    // Category 02xx: T5 (0201), T8 (0202).
    let ids = ids_with_prefix("02");
    let c = agg.sum(3, &sep, |a| ids.contains(&a));
    assert_eq!(fig(&c, Kpi::Intake), (2, None));
    // T5's two callbacks: dissatisfied, basically satisfied.
    assert_eq!(fig(&c, Kpi::Satisfaction), (1, Some(2)));
    // Category 01xx: the other seven.
    let ids = ids_with_prefix("01");
    assert_eq!(
        agg.sum(3, &sep, |a| ids.contains(&a)).get(Counter::Intake),
        7
    );
    // Channel (cuboid 1): T3 came by web.
    let web = agg.sum(1, &sep, |a| a == u32::from(Channel::Web.code()));
    assert_eq!(fig(&web, Kpi::Intake), (1, None));
    assert_eq!(fig(&web, Kpi::CallbackRate), (1, Some(1)));
    // Agent (cuboid 6): OP_A registered T1, T2, T5, T6, T8, T9; OP_B T3, T4, T7.
    assert_eq!(agg.sum(6, &sep, |a| a == OP_A).get(Counter::Intake), 6);
    assert_eq!(agg.sum(6, &sep, |a| a == OP_B).get(Counter::Intake), 3);
    // The callback agent made all 7 attempts.
    assert_eq!(
        agg.sum(6, &sep, |a| a == CALLBACK.id)
            .get(Counter::CallbackAttempts),
        7
    );
    // Pair cuboid 9 (unit × category): L2 and category 02xx: T5's first
    // round and T8's dispatch.
    let ids = ids_with_prefix("02");
    let mut c = Counters::default();
    for ((k, day, a, b), v) in &agg.rows {
        if *k == 9 && sep.contains_day(*day) && *a == L2 && ids.contains(b) {
            c.add(v);
        }
    }
    assert_eq!(c.get(Counter::Dispatches), 2);
    assert_eq!(c.get(Counter::Reviews), 2); // T5 pass, T8 transfer
}

#[test]
fn single_days_and_sums_of_days() {
    let agg = aggregate(&fixture());
    // 09-05: T4 created, dispatched, signed for late, two cards.
    let d = agg.total(&Period::day(date(2026, 9, 5)));
    assert_eq!(d.get(Counter::Intake), 1);
    assert_eq!(d.get(Counter::SignFors), 1);
    assert_eq!(d.get(Counter::SignForsOnTime), 0);
    assert_eq!(d.get(Counter::YellowCards), 1);
    assert_eq!(d.get(Counter::RedCards), 1);
    // The sum over every day of September equals the month.
    let sep = Period::month(2026, 9).unwrap();
    let mut sum = Counters::default();
    let mut day = sep.start;
    while day <= sep.end {
        sum.add(&agg.total(&Period::day(day)));
        day = day.tomorrow().unwrap();
    }
    assert_eq!(sum, agg.total(&sep));
}

#[test]
fn rates_without_a_denominator_have_no_value() {
    let c = Counters::default();
    assert_eq!(Kpi::Satisfaction.figure(&c).value(), None);
    assert_eq!(Kpi::Intake.figure(&c).value(), Some(0.0));
    let ch = Change::between(&Kpi::Satisfaction.figure(&c), &Kpi::Satisfaction.figure(&c));
    assert_eq!(ch.delta, None);
    // A count from 0: a difference but no percentage.
    let mut one = Counters::default();
    one.bump(Counter::Intake, 1);
    let ch = Change::between(&Kpi::Intake.figure(&one), &Kpi::Intake.figure(&c));
    assert_eq!((ch.delta, ch.percent), (Some(1.0), None));
    assert!(Kpi::Satisfaction.is_rate() && !Kpi::RedCards.is_rate());
    assert_eq!(Kpi::ALL.len(), 12);
}

#[test]
fn periods_and_their_previous_periods() {
    // A month → the previous calendar month, whatever its length.
    let mar = Period::month(2026, 3).unwrap();
    assert_eq!(mar.previous(), Period::month(2026, 2).unwrap());
    assert_eq!(mar.previous().days(), 28);
    let jan = Period::month(2026, 1).unwrap();
    assert_eq!(jan.previous(), Period::month(2025, 12).unwrap());
    // A quarter → the previous quarter; a year → the previous year.
    let q2 = Period::new(date(2026, 4, 1), date(2026, 6, 30)).unwrap();
    assert_eq!(
        q2.previous(),
        Period::new(date(2026, 1, 1), date(2026, 3, 31)).unwrap()
    );
    assert_eq!(
        Period::year(2026).unwrap().previous(),
        Period::year(2025).unwrap()
    );
    assert_eq!(Period::year(2024).unwrap().days(), 366);
    // Any other range → the same number of days just before.
    let week = Period::new(date(2026, 9, 14), date(2026, 9, 20)).unwrap();
    assert_eq!(
        week.previous(),
        Period::new(date(2026, 9, 7), date(2026, 9, 13)).unwrap()
    );
    let odd = Period::new(date(2026, 3, 1), date(2026, 3, 15)).unwrap();
    assert_eq!(
        odd.previous(),
        Period::new(date(2026, 2, 14), date(2026, 2, 28)).unwrap()
    );
    let day = Period::day(date(2026, 3, 1));
    assert_eq!(day.previous(), Period::day(date(2026, 2, 28)));
    assert_eq!(day.day_range(), (20260301, 20260301));
    // Refusals.
    assert!(Period::new(date(2026, 3, 2), date(2026, 3, 1)).is_err());
    assert!(Period::new(date(2020, 1, 1), date(2026, 1, 1)).is_err());
    assert!(Period::month(2026, 13).is_err());
}

/// Three tickets of 31 August whose callback, return and reopening fall in
/// September: every rate counts them on the day their cohort began, so no
/// period has more done than became due (回访率 of 105 % was this).
fn across_months() -> Vec<Case> {
    use AppealType::*;
    use Satisfaction::*;
    let w = World::default();
    let mut a = Case::new(20260831, 1, "2026-08-31 09:00", OP_A, Complaint, "0101");
    a.act(&w, "2026-08-31 09:30", dispatch(L2), DISPATCHER)
        .act(&w, "2026-08-31 10:00", Action::SignFor, H_L2)
        .act(&w, "2026-08-31 11:00", reply(), H_L2)
        .act(&w, "2026-08-31 15:00", pass(), REVIEWER)
        .act(&w, "2026-09-01 10:00", callback(Satisfied, true), CALLBACK);
    let mut b = Case::new(20260831, 2, "2026-08-31 09:05", OP_A, Complaint, "0101");
    b.act(&w, "2026-08-31 09:40", dispatch(L2), DISPATCHER).act(
        &w,
        "2026-09-01 09:00",
        Action::Return,
        H_L2,
    );
    let mut c = Case::new(20260831, 3, "2026-08-31 09:10", OP_A, Complaint, "0101");
    c.act(&w, "2026-08-31 09:50", dispatch(L2), DISPATCHER)
        .act(&w, "2026-08-31 10:10", Action::SignFor, H_L2)
        .act(&w, "2026-08-31 12:00", reply(), H_L2)
        .act(&w, "2026-08-31 16:00", pass(), REVIEWER)
        .act(
            &w,
            "2026-09-01 11:00",
            callback(Dissatisfied, false),
            CALLBACK,
        )
        .act(&w, "2026-09-02 10:00", Action::Reopen { unit_id: L2 }, LEAD);
    vec![a, b, c]
}

#[test]
fn rates_count_their_cohort_on_the_day_it_began() {
    let agg = aggregate(&across_months());
    let (aug, sep) = (
        Period::month(2026, 8).unwrap(),
        Period::month(2026, 9).unwrap(),
    );
    let (p, c) = (agg.total(&aug), agg.total(&sep));
    // 回访率: A and C became due on 08-31 and were both called back (on
    // 09-01): August 2 of 2; September has none due and counts none.
    assert_eq!(fig(&p, Kpi::CallbackRate), (2, Some(2)));
    assert_eq!(fig(&c, Kpi::CallbackRate), (0, Some(0)));
    // The callbacks themselves (satisfaction) happened in September.
    assert_eq!(fig(&c, Kpi::Satisfaction), (1, Some(2)));
    assert_eq!(fig(&p, Kpi::Satisfaction), (0, Some(0)));
    // 重办率: August reviewed A and C; C was reopened on 09-02 = 1 of 2.
    assert_eq!(fig(&p, Kpi::ReopenRate), (1, Some(2)));
    assert_eq!(fig(&c, Kpi::ReopenRate), (0, Some(0)));
    // 退单率: August dispatched A, B, C; B came back on 09-01 = 1 of 3.
    // September's one dispatch is C's reopening, not returned = 0 of 1.
    assert_eq!(fig(&p, Kpi::ReturnRate), (1, Some(3)));
    assert_eq!(fig(&c, Kpi::ReturnRate), (0, Some(1)));
    // The plain counts stay on the day things happened.
    use crate::domain::aggregate::Counter as C;
    assert_eq!(c.get(C::Returns), 1);
    assert_eq!(c.get(C::Reopens), 1);
    assert_eq!(c.get(C::CallbacksMade), 2);
    assert_eq!(p.get(C::CallbacksMade), 0);
    // One day alone: 31 August is the whole cohort.
    let d = agg.total(&Period::day(date(2026, 8, 31)));
    assert_eq!(fig(&d, Kpi::CallbackRate), (2, Some(2)));
}

#[test]
fn month_to_date_is_compared_with_the_same_days_of_last_month() {
    let p = |a: (i16, i8, i8), b: (i16, i8, i8)| Period {
        start: date(a.0, a.1, a.2),
        end: date(b.0, b.1, b.2),
    };
    // The month so far on 5 December: 1–5 November, "较上月同期".
    let today = date(2026, 12, 5);
    let mtd = Period::month_to_date(today);
    assert_eq!(mtd, p((2026, 12, 1), (2026, 12, 5)));
    assert_eq!(
        mtd.compared_with(today),
        (p((2026, 11, 1), (2026, 11, 5)), Basis::SameDaysLastMonth)
    );
    assert_eq!(Basis::SameDaysLastMonth.label_zh(), "较上月同期");
    // 30 March: February has 28 days.
    let today = date(2026, 3, 30);
    assert_eq!(
        Period::month_to_date(today).compared_with(today).0,
        p((2026, 2, 1), (2026, 2, 28))
    );
    // 1 January: 1 December of the year before.
    let today = date(2027, 1, 1);
    assert_eq!(
        Period::month_to_date(today).compared_with(today).0,
        p((2026, 12, 1), (2026, 12, 1))
    );
    // Not the month so far: the period before. A whole month, a day, a
    // week starting on the 1st (it is not "to date" unless it ends today).
    let today = date(2026, 12, 5);
    assert_eq!(
        Period::month(2026, 11).unwrap().compared_with(today),
        (Period::month(2026, 10).unwrap(), Basis::Previous)
    );
    assert_eq!(
        Period::day(date(2026, 12, 1)).compared_with(today).0,
        Period::day(date(2026, 11, 30))
    );
    assert_eq!(
        p((2026, 12, 1), (2026, 12, 4)).compared_with(today).0,
        p((2026, 11, 27), (2026, 11, 30))
    );
}

#[test]
fn a_change_is_good_or_bad_by_the_figure_not_by_its_direction() {
    // The bulletin showed 满意率 +0.5 red and 办结率 −22.7 green.
    assert_eq!(Kpi::Satisfaction.tone(0.5), Tone::Good);
    assert_eq!(Kpi::Completion.tone(-22.7), Tone::Bad);
    assert_eq!(Kpi::ReturnRate.tone(1.0), Tone::Bad);
    assert_eq!(Kpi::RedCards.tone(-2.0), Tone::Good);
    assert_eq!(Kpi::Intake.tone(10.0), Tone::Neutral);
    assert_eq!(Kpi::Satisfaction.tone(0.0), Tone::Neutral);
    // What shows as 0.0 (one decimal) is not coloured.
    assert_eq!(Kpi::Satisfaction.tone(-0.0004), Tone::Neutral);
    assert_eq!(Kpi::Satisfaction.tone(-0.0006), Tone::Bad);
    for k in Kpi::ALL {
        assert_eq!(Kpi::from_label_zh(k.label_zh()), Some(*k));
        assert!(!k.definition_zh().is_empty());
        if k.is_rate() {
            assert!(k.higher_is_better().is_some(), "{k:?}");
        }
    }
    assert!(Kpi::CallbackRate.definition_zh().contains("同一批工单"));
}
