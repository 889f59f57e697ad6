//! Supervision status (监察状态) and yellow / red cards (PRODUCT.md §5).
//!
//! For a stage due on the working day D (deadline 23:59:59 of D):
//! `normal` before D, `warning` on D, `yellow` after D until the end of the
//! first working day after D, `red` from then on. A stage counted in hours
//! (emergency repair) is in `warning` for the last quarter of its length,
//! `yellow` once overdue and `red` once overdue by its own length again.
//!
//! Every threshold is an instant, so a card reached while the server was off
//! can be recorded later with the instant it was reached.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::calendar::{Calendar, end_of_day};
use super::types::Supervision;

/// The deadline of the current stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageDeadline {
    pub started_at: Timestamp,
    pub due_at: Timestamp,
    /// Counted in hours (emergency) rather than working days.
    pub by_hours: bool,
}

/// The instants at which the stage turns warning, yellow and red.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    pub warning_at: Timestamp,
    pub yellow_at: Timestamp,
    pub red_at: Timestamp,
}

pub fn thresholds(stage: &StageDeadline, cal: &Calendar, tz: &TimeZone) -> Thresholds {
    let second = jiff::SignedDuration::from_secs(1);
    if stage.by_hours {
        let len = stage.due_at.duration_since(stage.started_at).max(second);
        let quarter = len / 4;
        Thresholds {
            warning_at: stage.due_at - quarter,
            yellow_at: stage.due_at + second,
            red_at: stage.due_at + len,
        }
    } else {
        let d = stage.due_at.to_zoned(tz.clone()).date();
        let start_of_d = d
            .to_zoned(tz.clone())
            .expect("local midnight exists")
            .timestamp();
        let next = cal.next_working_day(d);
        Thresholds {
            warning_at: start_of_d,
            yellow_at: stage.due_at + second,
            red_at: end_of_day(next, tz) + second,
        }
    }
}

/// The status of a stage at `now`.
pub fn status(stage: &StageDeadline, now: Timestamp, cal: &Calendar, tz: &TimeZone) -> Supervision {
    let t = thresholds(stage, cal, tz);
    if now >= t.red_at {
        Supervision::Red
    } else if now >= t.yellow_at {
        Supervision::Yellow
    } else if now >= t.warning_at {
        Supervision::Warning
    } else {
        Supervision::Normal
    }
}

/// A range of due instants (unix seconds, inclusive) that contains every
/// stage with status `s` at `now` — a superset, for index range scans; the
/// exact status is then checked per ticket. `max_hours` is the longest
/// period counted in hours.
pub fn due_window(s: Supervision, now: Timestamp, tz: &TimeZone, max_hours: u32) -> (i64, i64) {
    let now_s = now.as_second();
    let today = now.to_zoned(tz.clone()).date();
    let start_today = today
        .to_zoned(tz.clone())
        .expect("local midnight exists")
        .timestamp()
        .as_second();
    let end_today = end_of_day(today, tz).as_second();
    match s {
        Supervision::Red | Supervision::Yellow => (i64::MIN, now_s),
        Supervision::Warning => (
            start_today.min(now_s),
            end_today.max(now_s + i64::from(max_hours) * 3600 / 4 + 1),
        ),
        Supervision::Normal => (start_today.min(now_s), i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }
    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }
    fn day_stage(start: &str, days: u32) -> StageDeadline {
        let cal = Calendar::default_cn();
        let started_at = at(start);
        StageDeadline {
            started_at,
            due_at: cal.deadline(started_at, days, &sh()),
            by_hours: false,
        }
    }

    #[test]
    fn each_status_on_the_worked_example() {
        let cal = Calendar::default_cn();
        // Due Tue 2026-09-22 23:59:59; first working day after is Wed 23.
        let st = day_stage("2026-09-18T10:00:00+08:00", 3);
        let s = |t: &str| status(&st, at(t), &cal, &sh());
        assert_eq!(s("2026-09-18T10:00:00+08:00"), Supervision::Normal);
        assert_eq!(s("2026-09-21T23:59:59+08:00"), Supervision::Normal);
        assert_eq!(s("2026-09-22T00:00:00+08:00"), Supervision::Warning);
        assert_eq!(s("2026-09-22T23:59:59+08:00"), Supervision::Warning);
        assert_eq!(s("2026-09-23T00:00:00+08:00"), Supervision::Yellow);
        assert_eq!(s("2026-09-23T23:59:59+08:00"), Supervision::Yellow);
        assert_eq!(s("2026-09-24T00:00:00+08:00"), Supervision::Red);
        assert_eq!(s("2027-01-01T00:00:00+08:00"), Supervision::Red);
    }

    #[test]
    fn yellow_lasts_over_a_holiday_until_the_next_working_day_ends() {
        let cal = Calendar::default_cn();
        // Due Wed 2026-09-30 (last day before National Day): the first
        // working day after it is Thu 2026-10-08.
        let st = StageDeadline {
            started_at: at("2026-09-25T00:00:00+08:00"),
            due_at: at("2026-09-30T23:59:59+08:00"),
            by_hours: false,
        };
        let s = |t: &str| status(&st, at(t), &cal, &sh());
        assert_eq!(s("2026-10-01T00:00:00+08:00"), Supervision::Yellow);
        assert_eq!(s("2026-10-07T12:00:00+08:00"), Supervision::Yellow);
        assert_eq!(s("2026-10-08T23:59:59+08:00"), Supervision::Yellow);
        assert_eq!(s("2026-10-09T00:00:00+08:00"), Supervision::Red);
        let t = thresholds(&st, &cal, &sh());
        assert_eq!(t.red_at, at("2026-10-09T00:00:00+08:00"));
        assert_eq!(t.yellow_at, at("2026-10-01T00:00:00+08:00"));
    }

    #[test]
    fn hour_stages() {
        let cal = Calendar::default_cn();
        let st = StageDeadline {
            started_at: at("2026-09-19T10:00:00+08:00"),
            due_at: at("2026-09-19T11:00:00+08:00"),
            by_hours: true,
        };
        let s = |t: &str| status(&st, at(t), &cal, &sh());
        assert_eq!(s("2026-09-19T10:30:00+08:00"), Supervision::Normal);
        assert_eq!(s("2026-09-19T10:45:00+08:00"), Supervision::Warning);
        assert_eq!(s("2026-09-19T11:00:00+08:00"), Supervision::Warning);
        assert_eq!(s("2026-09-19T11:00:01+08:00"), Supervision::Yellow);
        assert_eq!(s("2026-09-19T11:59:59+08:00"), Supervision::Yellow);
        assert_eq!(s("2026-09-19T12:00:00+08:00"), Supervision::Red);
    }

    #[test]
    fn windows_contain_every_matching_stage() {
        let cal = Calendar::default_cn();
        let tz = sh();
        let starts = [
            "2026-09-01T09:00:00+08:00",
            "2026-09-10T15:00:00+08:00",
            "2026-09-18T10:00:00+08:00",
            "2026-09-21T10:00:00+08:00",
            "2026-09-29T10:00:00+08:00",
            "2026-10-09T08:00:00+08:00",
        ];
        let nows = [
            "2026-09-22T12:00:00+08:00",
            "2026-09-23T08:00:00+08:00",
            "2026-10-03T08:00:00+08:00",
            "2026-10-12T20:00:00+08:00",
        ];
        for s in starts {
            for days in [1, 3, 5, 15] {
                let st = day_stage(s, days);
                for n in nows {
                    let now = at(n);
                    let got = status(&st, now, &cal, &tz);
                    let (lo, hi) = due_window(got, now, &tz, 24);
                    let due = st.due_at.as_second();
                    assert!(lo <= due && due <= hi, "{s} +{days} at {n}: {got:?}");
                }
            }
            let hs = StageDeadline {
                started_at: at(s),
                due_at: at(s) + jiff::SignedDuration::from_hours(24),
                by_hours: true,
            };
            for n in nows {
                let now = at(n);
                let got = status(&hs, now, &cal, &tz);
                let (lo, hi) = due_window(got, now, &tz, 24);
                let due = hs.due_at.as_second();
                assert!(lo <= due && due <= hi, "hours {s} at {n}: {got:?}");
            }
        }
    }
}
