use std::collections::HashMap;

use jiff::civil::{Time, date};

use super::*;
use crate::domain::testkit::*;
use crate::domain::types::{AppealType, Satisfaction};
use crate::domain::workflow::{Action, ReviewOutcome, record_cards};

fn per(kind: BulletinKind, key: &str) -> Period {
    kind.parse_key(key).unwrap_or_else(|e| panic!("{key}: {e}"))
}

#[test]
fn periods_of_each_kind() {
    use BulletinKind::*;
    let d = date(2026, 11, 20); // a Friday
    assert_eq!(Daily.period_containing(d), Period::day(d));
    let w = Weekly.period_containing(d);
    assert_eq!((w.start, w.end), (date(2026, 11, 16), date(2026, 11, 22)));
    assert_eq!(Weekly.key(w), "2026-W47");
    assert_eq!(per(Weekly, "2026-W47"), w);
    // ISO week 1 of 2027 starts on Monday 2027-01-04; 2026-12-31 is in W53.
    assert_eq!(
        Weekly.key(Weekly.period_containing(date(2026, 12, 31))),
        "2026-W53"
    );
    assert_eq!(per(Weekly, "2027-W01").start, date(2027, 1, 4));
    let m = Monthly.period_containing(d);
    assert_eq!((m.start, m.end), (date(2026, 11, 1), date(2026, 11, 30)));
    assert_eq!(Monthly.key(m), "2026-11");
    let q = Quarterly.period_containing(d);
    assert_eq!((q.start, q.end), (date(2026, 10, 1), date(2026, 12, 31)));
    assert_eq!(Quarterly.key(q), "2026-Q4");
    assert_eq!(per(Quarterly, "2026-Q1").end, date(2026, 3, 31));
    let y = Annual.period_containing(d);
    assert_eq!(Annual.key(y), "2026");
    assert_eq!(y.days(), 365);
    for k in BulletinKind::ALL {
        let p = k.period_containing(d);
        assert_eq!(k.parse_key(&k.key(p)).unwrap(), p, "{k:?}");
        assert_eq!(BulletinKind::parse(k.as_str()), Some(*k));
        assert_eq!(BulletinKind::from_code(k.code()), Some(*k));
        // The period before ends the day before.
        let b = k.before(p);
        assert_eq!(b.end.tomorrow().unwrap(), p.start, "{k:?}");
    }
    assert_eq!(Daily.last_complete(d), Period::day(date(2026, 11, 19)));
    assert_eq!(Weekly.key(Weekly.last_complete(d)), "2026-W46");
    assert_eq!(Monthly.key(Monthly.last_complete(d)), "2026-10");
    assert_eq!(Quarterly.key(Quarterly.last_complete(d)), "2026-Q3");
    assert_eq!(Annual.key(Annual.last_complete(d)), "2025");
}

#[test]
fn bad_keys_are_refused_with_a_message() {
    use BulletinKind::*;
    for (k, s) in [
        (Daily, "2026-13-01"),
        (Daily, "20261101"),
        (Daily, ""),
        (Weekly, "2026-W54"),
        (Weekly, "2026-47"),
        (Weekly, "2026-W0"),
        (Monthly, "2026-13"),
        (Monthly, "2026-1"),
        (Monthly, "abcd-01"),
        (Quarterly, "2026-Q5"),
        (Quarterly, "2026-Q0"),
        (Annual, "26"),
        (Annual, "99999"),
        (Annual, "-2026"),
    ] {
        let e = k.parse_key(s).unwrap_err();
        assert!(e.contains("期号"), "{k:?} {s}: {e}");
    }
}

#[test]
fn the_schedule_issues_after_the_time_and_catches_up() {
    use BulletinKind::*;
    let at = Time::constant(7, 0, 0, 0);
    // Monday 2026-11-23 at 06:59: yesterday's daily and last week's weekly
    // are not due yet; the catch-up ones are.
    let due = due_bulletins(date(2026, 11, 23), Time::constant(6, 59, 0, 0), at);
    let keys = |k: BulletinKind| -> Vec<String> {
        due.iter()
            .filter(|(x, _)| *x == k)
            .map(|(_, p)| k.key(*p))
            .collect()
    };
    assert!(!keys(Daily).contains(&"2026-11-22".to_string()));
    assert_eq!(keys(Daily).len(), 7);
    assert_eq!(keys(Daily)[0], "2026-11-15");
    assert_eq!(keys(Weekly), vec!["2026-W45", "2026-W46"]);
    // The monthly of October ended long ago: due at any hour.
    assert_eq!(keys(Monthly), vec!["2026-08", "2026-09", "2026-10"]);
    assert_eq!(keys(Quarterly), vec!["2026-Q2", "2026-Q3"]);
    assert_eq!(keys(Annual), vec!["2024", "2025"]);
    // At 07:00 they are.
    let due = due_bulletins(date(2026, 11, 23), at, at);
    assert!(due.contains(&(Daily, per(Daily, "2026-11-22"))));
    assert!(due.contains(&(Weekly, per(Weekly, "2026-W47"))));
    // December 1st: November's monthly only after 07:00.
    let early = due_bulletins(date(2026, 12, 1), Time::constant(0, 5, 0, 0), at);
    assert!(!early.contains(&(Monthly, per(Monthly, "2026-11"))));
    let late = due_bulletins(date(2026, 12, 1), Time::constant(7, 30, 0, 0), at);
    assert!(late.contains(&(Monthly, per(Monthly, "2026-11"))));
}

fn seg(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_string).collect()
}

#[test]
fn stop_words_numbers_and_single_characters_are_not_counted() {
    for w in [
        "来电", "反映", "市民", "要求", "问题", "咨询", "我们", "的话", "路", "3号楼", "2026",
        "十五", "一二", "", "a", "x-1",
    ] {
        assert!(!is_countable(w), "{w}");
    }
    for w in ["停水", "噪音", "物业", "供暖", "wifi", "共享单车"] {
        assert!(is_countable(w), "{w}");
    }
    // Once per ticket, title and content together.
    let words = ticket_words("小区 停水 停水", "市民 来电 反映 停水 三天 3号楼 物业", seg);
    assert_eq!(
        words.into_iter().collect::<Vec<_>>(),
        vec!["三天", "停水", "小区", "物业"]
    );
}

fn counts(v: &[(&str, u64)]) -> HashMap<String, u64> {
    v.iter().map(|(w, c)| (w.to_string(), *c)).collect()
}

#[test]
fn hot_words_against_the_previous_period() {
    let cur = counts(&[
        ("停水", 40),
        ("噪音", 25),
        ("供暖", 25),
        ("物业", 5),
        ("零", 0),
    ]);
    let prev = counts(&[("停水", 20), ("噪音", 50), ("物业", 5)]);
    let h = hot_words(&cur, &prev, 3);
    assert_eq!(
        h.iter().map(|w| w.word.as_str()).collect::<Vec<_>>(),
        vec!["停水", "供暖", "噪音"]
    );
    assert_eq!((h[0].count, h[0].previous), (40, 20));
    assert_eq!(h[0].change, Some(1.0));
    assert_eq!(h[1].change, None, "new word: no relative change");
    assert_eq!(h[2].change, Some(-0.5));
    let r = rising_words(&cur, &prev, 10, 10);
    // 供暖 +25 (new), 停水 +20; 噪音 fell, 物业 is below the minimum.
    assert_eq!(
        r.iter().map(|w| w.word.as_str()).collect::<Vec<_>>(),
        vec!["供暖", "停水"]
    );
    assert!(hot_words(&HashMap::new(), &prev, 5).is_empty());
}

#[test]
fn spikes_are_far_above_their_own_baseline() {
    let rule = SpikeRule::default();
    // mean 0 → max(5, 2) = 5; mean 1 → 1 + 3 + 2 = 6; mean 4 → 4+6+2 = 12.
    assert_eq!(rule.threshold(0.0), 5.0);
    assert_eq!(rule.threshold(1.0), 6.0);
    assert_eq!(rule.threshold(4.0), 12.0);
    let day: HashMap<&str, u64> = [
        ("new street", 5), // no baseline: 5 ≥ 5 → spike
        ("new quiet", 4),  // no baseline: 4 < 5
        ("usual", 11),     // mean 4: 11 < 12
        ("busy", 12),      // mean 4: 12 ≥ 12 → spike
        ("steady", 6),     // mean 1: 6 ≥ 6 → spike
        ("big", 130),      // mean 100: 100+30+2 = 132 → no
    ]
    .into_iter()
    .collect();
    let base: HashMap<&str, u64> = [("usual", 112), ("busy", 112), ("steady", 28), ("big", 2800)]
        .into_iter()
        .collect();
    let s = find_spikes(&day, &base, &rule);
    let keys: Vec<&str> = s.iter().map(|h| h.key).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.contains(&"new street") && keys.contains(&"busy") && keys.contains(&"steady"));
    let busy = s.iter().find(|h| h.key == "busy").unwrap();
    assert_eq!((busy.count, busy.baseline, busy.threshold), (12, 4.0, 12.0));
    // Ranked by count over threshold.
    assert!(
        s.windows(2)
            .all(|w| { w[0].count as f64 / w[0].threshold >= w[1].count as f64 / w[1].threshold })
    );
}

#[test]
fn difficult_marks_follow_the_counters() {
    let w = World::default();
    let (mut t, tl) = new_ticket(
        crate::domain::ticket::TicketNo::new(20260901, 1),
        sh_at("2026-09-01 09:00"),
        OP_A,
        AppealType::Complaint,
        "0101",
    );
    assert!(difficult_marks(&t, Cursor::start(), &tl, &w.tz).is_empty());
    let mut all = tl.clone();
    let mut step = |t: &mut Ticket, at: &str, a: Action, who| {
        let ev = w.apply(t, sh_at(at), &a, "原因", &who).unwrap();
        all.extend(ev.clone());
        ev
    };
    step(
        &mut t,
        "2026-09-01 10:00",
        Action::Dispatch {
            unit_id: L2,
            assisting: vec![],
        },
        DISPATCHER,
    );
    step(&mut t, "2026-09-01 11:00", Action::SignFor, H_L2);
    step(
        &mut t,
        "2026-09-02 10:00",
        Action::Reply {
            result: "已办".into(),
        },
        H_L2,
    );
    step(
        &mut t,
        "2026-09-03 10:00",
        Action::Review(ReviewOutcome::Pass),
        REVIEWER,
    );
    let old = t.clone();
    let ev = step(
        &mut t,
        "2026-09-04 10:00",
        Action::Callback {
            satisfaction: Satisfaction::Dissatisfied,
            resolved: false,
        },
        CALLBACK,
    );
    // Incremental (from the old record) == from the whole timeline.
    let inc = difficult_marks(&t, Cursor::of(&old), &ev, &w.tz);
    assert_eq!(inc.len(), 1);
    assert_eq!(inc[&20260904], [(2u8, L2)].into_iter().collect());
    let old = t.clone();
    let ev = step(
        &mut t,
        "2026-09-05 10:00",
        Action::Reopen { unit_id: L2 },
        LEAD,
    );
    let inc = difficult_marks(&t, Cursor::of(&old), &ev, &w.tz);
    assert_eq!(inc[&20260905], [(1u8, L2)].into_iter().collect());
    // Left alone: the sweep reaches the cards.
    let old = t.clone();
    let ev = record_cards(&mut t, sh_at("2026-10-30 10:00"), &w.cal, &w.tz);
    all.extend(ev.clone());
    let inc = difficult_marks(&t, Cursor::of(&old), &ev, &w.tz);
    assert!(inc.values().flatten().any(|(k, _)| *k == 3), "{inc:?}");
    let whole = difficult_marks(&t, Cursor::start(), &all, &w.tz);
    assert_eq!(whole.len(), 3, "{whole:?}");
}

#[test]
fn hot_words_leave_out_filler_and_address_fragments() {
    let seg = |s: &str| crate::search::tokenize::plain_words(s);
    let places = place_words(
        [
            "市南区",
            "八大关街道办事处",
            "金门路社区居委会",
            "区水务局",
            "区市场监督管理局",
        ],
        seg,
    );
    assert!(places.contains("八大关"), "{places:?}");
    // Offices are not places: their words stay subjects.
    assert!(
        !places.contains("水务局") && !places.contains("市场监督"),
        "{places:?}"
    );
    for w in [
        "孩子",
        "帮忙",
        "特别",
        "突然",
        "晚上",
        "东路",
        "中路",
        "花园",
        "小区",
        "大厦",
        "延安路",
        "海景花园",
        "八大关",
        "大道",
        "公寓",
    ] {
        assert!(!is_hot_word(w, &places), "{w} must not be a hot word");
    }
    for w in [
        "停水",
        "噪音",
        "道路",
        "线路",
        "通道",
        "人行道",
        "信号",
        "农村",
        "政府",
        "物业",
        "停车",
        "装修",
        "盲道",
    ] {
        assert!(is_hot_word(w, &places), "{w} is a subject");
    }
    // The stored counts keep their rule: a filler word is still counted,
    // so changing the filter needs no recount (rebuild-aggregates).
    assert!(is_countable("孩子") && is_countable("东路"));
}
