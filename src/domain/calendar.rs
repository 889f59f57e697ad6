//! The working-day calendar and deadline arithmetic (PRODUCT.md §5).
//!
//! A working day is Monday–Friday, except public holidays, plus the weekend
//! days declared working days (调休上班). The calendar is data: a map of
//! overrides, edited by the administrator and imported from the State
//! Council's notice each year.
//!
//! A period of N working days that starts at an instant t ends at 23:59:59
//! local time on the N-th working day *after* the local date of t: the start
//! day is never counted, whether or not it is a working day.

use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// How a date deviates from the Monday–Friday rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off, including weekend days inside a holiday block.
    Holiday,
    /// A weekend day declared a working day.
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// One line of the calendar: a date that is not what its weekday says.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DayOverride {
    pub kind: DayKind,
    pub name: String,
}

/// The 2025 and 2026 calendars as published (shared/data/cn-holidays.csv).
pub const DEFAULT_CSV: &str = include_str!("cn-holidays.csv");

/// Working days longer than this are refused: no period is that long, and
/// the bound keeps every loop here finite even on a calendar of holidays.
pub const MAX_PERIOD_DAYS: u32 = 400;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Calendar {
    overrides: BTreeMap<Date, DayOverride>,
}

/// A CSV line that could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

impl Calendar {
    pub fn new(overrides: BTreeMap<Date, DayOverride>) -> Self {
        Calendar { overrides }
    }

    /// The shipped default: 2025 and 2026.
    pub fn default_cn() -> Self {
        Calendar::new(parse_csv(DEFAULT_CSV).expect("shipped calendar is valid"))
    }

    pub fn overrides(&self) -> &BTreeMap<Date, DayOverride> {
        &self.overrides
    }

    /// Overrides of one year.
    pub fn year(&self, year: i16) -> impl Iterator<Item = (&Date, &DayOverride)> {
        let start = Date::new(year, 1, 1).expect("valid year");
        let end = Date::new(year, 12, 31).expect("valid year");
        self.overrides.range(start..=end)
    }

    /// Replaces one year's overrides.
    pub fn replace_year(&mut self, year: i16, days: BTreeMap<Date, DayOverride>) {
        self.overrides.retain(|d, _| d.year() != year);
        self.overrides
            .extend(days.into_iter().filter(|(d, _)| d.year() == year));
    }

    /// Sets (or with `None` clears) the override of one date.
    pub fn set(&mut self, date: Date, day: Option<DayOverride>) {
        match day {
            Some(d) => {
                self.overrides.insert(date, d);
            }
            None => {
                self.overrides.remove(&date);
            }
        }
    }

    pub fn is_working_day(&self, date: Date) -> bool {
        match self.overrides.get(&date).map(|o| o.kind) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday),
        }
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: Date) -> Date {
        self.add_working_days(date, 1)
    }

    /// The N-th working day strictly after `date` (N = 0 gives `date`).
    pub fn add_working_days(&self, date: Date, n: u32) -> Date {
        let n = n.min(MAX_PERIOD_DAYS);
        let mut d = date;
        let mut left = n;
        // A year of holidays would still end: at most 366 non-working days in
        // a row can be declared per year, and the loop counts calendar days.
        let mut guard = 0u32;
        while left > 0 {
            d = d.tomorrow().expect("date in range");
            guard += 1;
            if self.is_working_day(d) {
                left -= 1;
            }
            if guard > 20_000 {
                break;
            }
        }
        d
    }

    /// Working days strictly after `from` up to and including `to`.
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = d.tomorrow().expect("date in range");
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }

    /// The deadline of a period of `days` working days started at `start`.
    pub fn deadline(&self, start: Timestamp, days: u32, tz: &TimeZone) -> Timestamp {
        let local = start.to_zoned(tz.clone()).date();
        end_of_day(self.add_working_days(local, days), tz)
    }
}

/// 23:59:59 local time of `date`, as an instant.
pub fn end_of_day(date: Date, tz: &TimeZone) -> Timestamp {
    date.at(23, 59, 59, 0)
        .to_zoned(tz.clone())
        .expect("local time exists")
        .timestamp()
}

/// A deadline counted in hours (emergency repairs).
pub fn deadline_hours(start: Timestamp, hours: u32) -> Timestamp {
    start
        .checked_add((hours as i64).hours())
        .expect("deadline in range")
}

/// Reads the CSV format of shared/data/cn-holidays.csv: a `date,kind,name`
/// header, then one line per date; `kind` is `holiday` or `workday`.
pub fn parse_csv(text: &str) -> Result<BTreeMap<Date, DayOverride>, CsvError> {
    let mut out = BTreeMap::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || (i == 0 && line.starts_with("date")) || line.starts_with('#') {
            continue;
        }
        let err = |message: String| CsvError {
            line: i + 1,
            message,
        };
        let mut parts = line.splitn(3, ',');
        let date = parts.next().unwrap_or("").trim();
        let kind = parts.next().unwrap_or("").trim();
        let name = parts.next().unwrap_or("").trim();
        let date: Date = date
            .parse()
            .map_err(|_| err(format!("“{date}” is not a date (YYYY-MM-DD)")))?;
        let kind = DayKind::parse(kind)
            .ok_or_else(|| err(format!("kind “{kind}” must be holiday or workday")))?;
        if name.chars().any(char::is_control) || name.chars().count() > 40 {
            return Err(err("name too long or has control characters".into()));
        }
        if out.contains_key(&date) {
            return Err(err(format!("{date} appears twice")));
        }
        out.insert(
            date,
            DayOverride {
                kind,
                name: name.to_string(),
            },
        );
    }
    Ok(out)
}

/// Writes overrides in the same CSV format.
pub fn to_csv<'a>(days: impl Iterator<Item = (&'a Date, &'a DayOverride)>) -> String {
    let mut s = String::from("date,kind,name\n");
    for (d, o) in days {
        s.push_str(&format!("{d},{},{}\n", o.kind.as_str(), o.name));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn sh() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn shipped_calendar_parses_both_years() {
        let c = Calendar::default_cn();
        assert!(c.year(2025).count() > 30);
        assert!(c.year(2026).count() > 30);
        assert!(!c.is_working_day(date(2026, 10, 1)));
        assert!(c.is_working_day(date(2026, 9, 20)), "Sunday make-up day");
        assert!(!c.is_working_day(date(2026, 9, 19)), "plain Saturday");
        assert!(c.is_working_day(date(2026, 9, 18)), "plain Friday");
    }

    #[test]
    fn worked_example_september_make_up_sunday() {
        // PRODUCT.md §5: Fri 2026-09-18 10:00, 3 days → Sun 20, Mon 21, Tue 22.
        let c = Calendar::default_cn();
        let due = c.deadline(at("2026-09-18T10:00:00+08:00"), 3, &sh());
        assert_eq!(due, at("2026-09-22T23:59:59+08:00"));
    }

    #[test]
    fn worked_example_spring_festival() {
        // Fri 2026-02-13 16:00, 3 days → Sat 14 (make-up), Tue 24, Wed 25.
        let c = Calendar::default_cn();
        assert!(c.is_working_day(date(2026, 2, 14)));
        for d in 15..=23 {
            assert!(!c.is_working_day(date(2026, 2, d)), "Feb {d} is off");
        }
        let due = c.deadline(at("2026-02-13T16:00:00+08:00"), 3, &sh());
        assert_eq!(due, at("2026-02-25T23:59:59+08:00"));
    }

    #[test]
    fn fifteen_days_across_national_day_2026() {
        let c = Calendar::default_cn();
        // Dispatched Mon 2026-09-28. National Day block 2026-10-01..07 is off;
        // Sat 2026-10-10 is a make-up working day.
        let start = at("2026-09-28T09:30:00+08:00");
        let due = c.deadline(start, 15, &sh());
        // Working days: Sep 29, 30 (2); Oct 8, 9, 10(Sat make-up) (5);
        // Oct 12–16 (10); Oct 19–23 (15) → Oct 23.
        let mut expected = date(2026, 9, 28);
        let mut n = 0;
        while n < 15 {
            expected = expected.tomorrow().unwrap();
            if c.is_working_day(expected) {
                n += 1;
            }
        }
        assert_eq!(due, end_of_day(expected, &sh()));
        assert!(due > at("2026-10-16T00:00:00+08:00"));
        for d in 1..=7 {
            assert!(!c.is_working_day(date(2026, 10, d)));
        }
    }

    #[test]
    fn start_day_is_not_counted_even_on_a_holiday() {
        let c = Calendar::default_cn();
        // Started on a holiday (2026-10-01): the first working day after it counts as 1.
        let due = c.deadline(at("2026-10-01T12:00:00+08:00"), 1, &sh());
        let first = c.next_working_day(date(2026, 10, 1));
        assert!(first > date(2026, 10, 7));
        assert_eq!(due, end_of_day(first, &sh()));
    }

    #[test]
    fn late_evening_utc_counts_in_local_date() {
        let c = Calendar::default_cn();
        // 2026-09-17T17:00Z is Fri 2026-09-18 01:00 in Shanghai.
        let due = c.deadline(at("2026-09-17T17:00:00Z"), 3, &sh());
        assert_eq!(due, at("2026-09-22T23:59:59+08:00"));
        // and in UTC the same instant is Thursday: Fri 18, Sun 20 (make-up), Mon 21.
        let due_utc = c.deadline(at("2026-09-17T17:00:00Z"), 3, &TimeZone::UTC);
        assert_eq!(due_utc, at("2026-09-21T23:59:59Z"));
    }

    #[test]
    fn zero_days_is_end_of_start_day() {
        let c = Calendar::default_cn();
        assert_eq!(
            c.deadline(at("2026-09-18T10:00:00+08:00"), 0, &sh()),
            at("2026-09-18T23:59:59+08:00")
        );
    }

    #[test]
    fn plain_weeks_without_overrides() {
        let c = Calendar::default();
        // Friday 2030-01-04 (no overrides) + 1 → Monday 7.
        assert_eq!(c.add_working_days(date(2030, 1, 4), 1), date(2030, 1, 7));
        assert_eq!(c.add_working_days(date(2030, 1, 4), 5), date(2030, 1, 11));
        assert_eq!(
            c.working_days_between(date(2030, 1, 4), date(2030, 1, 11)),
            5
        );
        assert_eq!(c.next_working_day(date(2030, 1, 5)), date(2030, 1, 7));
    }

    #[test]
    fn a_calendar_of_only_holidays_still_ends() {
        let mut all = BTreeMap::new();
        let mut d = date(2030, 1, 1);
        while d.year() == 2030 {
            all.insert(
                d,
                DayOverride {
                    kind: DayKind::Holiday,
                    name: "x".into(),
                },
            );
            d = d.tomorrow().unwrap();
        }
        let c = Calendar::new(all);
        let r = c.add_working_days(date(2029, 12, 31), 1);
        assert_eq!(r, date(2031, 1, 1));
    }

    #[test]
    fn csv_round_trip_and_errors() {
        let parsed = parse_csv(DEFAULT_CSV).unwrap();
        let again = parse_csv(&to_csv(parsed.iter())).unwrap();
        assert_eq!(parsed, again);
        assert!(parse_csv("\u{feff}date,kind,name\n2027-01-01,holiday,元旦\n").is_ok());
        let e = parse_csv("date,kind,name\n2027-13-01,holiday,x\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_csv("date,kind,name\n2027-01-01,party,x\n").unwrap_err();
        assert!(e.message.contains("holiday or workday"));
        let e = parse_csv("2027-01-01,holiday,a\n2027-01-01,holiday,b\n").unwrap_err();
        assert!(e.message.contains("twice"));
    }

    #[test]
    fn replace_year_keeps_other_years() {
        let mut c = Calendar::default_cn();
        let n2025 = c.year(2025).count();
        let mut new = BTreeMap::new();
        new.insert(
            date(2026, 3, 2),
            DayOverride {
                kind: DayKind::Holiday,
                name: "test".into(),
            },
        );
        c.replace_year(2026, new);
        assert_eq!(c.year(2026).count(), 1);
        assert_eq!(c.year(2025).count(), n2025);
        assert!(!c.is_working_day(date(2026, 3, 2)));
        c.set(date(2026, 3, 2), None);
        assert!(c.is_working_day(date(2026, 3, 2)));
    }

    #[test]
    fn hours_deadline() {
        assert_eq!(
            deadline_hours(at("2026-09-18T10:00:00Z"), 24),
            at("2026-09-19T10:00:00Z")
        );
    }
}
