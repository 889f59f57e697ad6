//! The figures of PRODUCT.md §7 as numerators and denominators over the
//! per-day counters of [`super::aggregate`], the report period and its
//! previous period, and the change between the two.
//!
//! Every figure of a period is the sum of the counters of the days in the
//! period (local dates in the center's zone), so the attribution of a fact
//! to a day decides the figure. The rules, in one place:
//!
//! | figure | numerator | denominator | a fact counts on |
//! |---|---|---|---|
//! | intake 受理量 | tickets created (voided and merged ones included: the call was taken) | — | the creation date |
//! | answered on the spot 直接办结率 | tickets answered and closed at intake | intake | the creation date |
//! | on-time sign-for 按时签收率 | sign-fors at or before the sign-for stage's deadline | sign-fors | the day of the sign-for |
//! | on-time completion 按时办结率 | replies reaching the center at or before the round's total deadline (extensions included) | replies reaching the center | the day the reply reached the center |
//! | completion 办结率 | tickets of the cohort closed now | tickets of the cohort: created in the period, neither voided nor merged | the creation date |
//! | satisfaction 满意率 | satisfied + basically satisfied | callbacks with an answer (satisfied, basically satisfied, dissatisfied; unreachable excluded) | the day of the callback |
//! | resolution 解决率 | callbacks with an answer saying "resolved" | callbacks with an answer | the day of the callback |
//! | callback rate 回访率 | of those tickets, the ones whose callback concluded (an answer, or the last unreachable attempt), whenever it happened | tickets that became due for callback (review passed, or sampled after an answer at intake) | the day the ticket became due, both |
//! | reopen rate 重办率 | of those reviews, the ones sent back to the same unit + the passed ones reopened after a dissatisfied callback, whenever that happened | reviews | the day of the review, both |
//! | return rate 退单率 | of those dispatches, the ones returned at sign-for to the center, whenever that happened | dispatches (rounds started at a unit) | the day of the dispatch, both |
//! | yellow / red cards 黄牌 / 红牌 | cards reached | — | the day the card was reached |
//!
//! Every rate's numerator counts a subset of its denominator's facts, on
//! the same day, unit and agent (a cohort: a callback made in December for
//! a ticket that became due in November counts for November), so every
//! rate stays within 0–100 % for any period and cut; `kpi_tests.rs`
//! asserts it over random workflows.
//!
//! Cut by unit: a fact counts for the unit that held the ticket when it
//! happened (see [`super::aggregate::Counter`]); the completion cohort
//! counts for the unit holding the ticket now.

use jiff::civil::Date;
use jiff::{Span, ToSpan};
use serde::Serialize;

use super::aggregate::{Counter, Counters};

/// A report period: local dates `start..=end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: Date,
    pub end: Date,
}

/// The longest period a report covers (about three years).
pub const MAX_DAYS: i32 = 1100;

/// A local date as the `YYYYMMDD` day key of the aggregates.
pub fn yyyymmdd(d: Date) -> u32 {
    d.year() as u32 * 10000 + d.month() as u32 * 100 + d.day() as u32
}

impl Period {
    /// `start..=end`; refused if `end` is before `start` or the period is
    /// longer than [`MAX_DAYS`].
    pub fn new(start: Date, end: Date) -> Result<Period, String> {
        if end < start {
            return Err("结束日期不能早于开始日期 (the end date is before the start date)".into());
        }
        let p = Period { start, end };
        if p.days() > MAX_DAYS {
            return Err(format!(
                "统计区间最长{MAX_DAYS}天 (a period is at most {MAX_DAYS} days)"
            ));
        }
        Ok(p)
    }

    /// One day.
    pub fn day(d: Date) -> Period {
        Period { start: d, end: d }
    }

    /// A calendar month.
    pub fn month(year: i16, month: i8) -> Result<Period, String> {
        let start = Date::new(year, month, 1).map_err(|e| e.to_string())?;
        Ok(Period {
            start,
            end: start.last_of_month(),
        })
    }

    /// A calendar year.
    pub fn year(year: i16) -> Result<Period, String> {
        let start = Date::new(year, 1, 1).map_err(|e| e.to_string())?;
        Ok(Period {
            start,
            end: start.last_of_year(),
        })
    }

    /// Days in the period, both ends included.
    pub fn days(&self) -> i32 {
        (self.end - self.start).get_days() + 1
    }

    /// Whether the period is whole calendar months (`start` on the 1st,
    /// `end` on a month's last day): then its previous period is the same
    /// number of calendar months before (a month → the previous month, a
    /// quarter → the previous quarter, a year → the previous year).
    fn whole_months(&self) -> Option<i32> {
        if self.start.day() != 1 || self.end != self.end.last_of_month() {
            return None;
        }
        let months = (i32::from(self.end.year()) - i32::from(self.start.year())) * 12
            + i32::from(self.end.month())
            - i32::from(self.start.month())
            + 1;
        Some(months)
    }

    /// The period a report compares with: the same number of calendar
    /// months before for whole months (February after March, whatever their
    /// lengths), otherwise the same number of days immediately before.
    pub fn previous(&self) -> Period {
        let back = |d: Date, s: Span| d.checked_sub(s).unwrap_or(d);
        match self.whole_months() {
            Some(m) => {
                let start = back(self.start, m.months());
                let end = back(self.start, 1.day());
                Period { start, end }
            }
            None => {
                let n = self.days();
                Period {
                    start: back(self.start, n.days()),
                    end: back(self.start, 1.day()),
                }
            }
        }
    }

    /// The month so far on `today`: its 1st to `today`.
    pub fn month_to_date(today: Date) -> Period {
        Period {
            start: today.first_of_month(),
            end: today,
        }
    }

    /// Whether this is the month so far on `today` (the dashboard's month,
    /// /reports' 本月, or the same range typed by hand).
    pub fn is_month_to_date(&self, today: Date) -> bool {
        *self == Period::month_to_date(today)
    }

    /// The same days of the previous month: its 1st to the same day of
    /// the month as `end` (the previous month's last day if it is shorter):
    /// 1–5 December → 1–5 November, 1–30 March → 1–28 February.
    pub fn same_days_previous_month(&self) -> Period {
        let prev_start = self
            .start
            .first_of_month()
            .checked_sub(1.month())
            .unwrap_or(self.start);
        let end = prev_start
            .checked_add((i32::from(self.end.day()) - 1).days())
            .unwrap_or(prev_start)
            .min(prev_start.last_of_month());
        Period {
            start: prev_start,
            end,
        }
    }

    /// THE comparison rule of every report, the dashboard and the
    /// bulletins: the month so far against the same days of the previous
    /// month ("较上月同期"); any other period against [`Period::previous`].
    pub fn compared_with(&self, today: Date) -> (Period, Basis) {
        if self.is_month_to_date(today) {
            (self.same_days_previous_month(), Basis::SameDaysLastMonth)
        } else {
            (self.previous(), Basis::Previous)
        }
    }

    /// `(first, last)` day as `YYYYMMDD` (the aggregate key form).
    pub fn day_range(&self) -> (u32, u32) {
        (yyyymmdd(self.start), yyyymmdd(self.end))
    }

    pub fn contains_day(&self, yyyymmdd_day: u32) -> bool {
        let (a, b) = self.day_range();
        (a..=b).contains(&yyyymmdd_day)
    }
}

/// What a period is compared with (see [`Period::compared_with`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The month so far against the same days of the previous month.
    SameDaysLastMonth,
    /// The period before (the same months or days immediately before).
    Previous,
}

impl Basis {
    /// The catalog key of the label ("较上月同期", "较上期").
    pub fn key(self) -> &'static str {
        match self {
            Basis::SameDaysLastMonth => "cmp.same_days_last_month",
            Basis::Previous => "cmp.previous",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Basis::SameDaysLastMonth => "较上月同期",
            Basis::Previous => "较上期",
        }
    }
}

/// Whether a change is good news, bad news or neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    /// No change, or a figure that is neither good nor bad when higher
    /// (intake).
    Neutral,
}

impl Tone {
    /// The CSS class: `good`, `bad` or ``.
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Bad => "bad",
            Tone::Neutral => "",
        }
    }
}

/// Every figure of §7 (the department score, a weighted combination set by
/// the administrator, is computed from these by the assessment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    Intake,
    AnsweredOnSpot,
    OnTimeSignFor,
    OnTimeCompletion,
    Completion,
    Satisfaction,
    Resolution,
    CallbackRate,
    ReopenRate,
    ReturnRate,
    YellowCards,
    RedCards,
}

impl Kpi {
    pub const ALL: &'static [Kpi] = &[
        Kpi::Intake,
        Kpi::AnsweredOnSpot,
        Kpi::OnTimeSignFor,
        Kpi::OnTimeCompletion,
        Kpi::Completion,
        Kpi::Satisfaction,
        Kpi::Resolution,
        Kpi::CallbackRate,
        Kpi::ReopenRate,
        Kpi::ReturnRate,
        Kpi::YellowCards,
        Kpi::RedCards,
    ];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kpi::Intake => "intake",
            Kpi::AnsweredOnSpot => "answered_on_spot",
            Kpi::OnTimeSignFor => "on_time_sign_for",
            Kpi::OnTimeCompletion => "on_time_completion",
            Kpi::Completion => "completion",
            Kpi::Satisfaction => "satisfaction",
            Kpi::Resolution => "resolution",
            Kpi::CallbackRate => "callback_rate",
            Kpi::ReopenRate => "reopen_rate",
            Kpi::ReturnRate => "return_rate",
            Kpi::YellowCards => "yellow_cards",
            Kpi::RedCards => "red_cards",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Kpi::Intake => "受理量",
            Kpi::AnsweredOnSpot => "直接办结率",
            Kpi::OnTimeSignFor => "按时签收率",
            Kpi::OnTimeCompletion => "按时办结率",
            Kpi::Completion => "办结率",
            Kpi::Satisfaction => "满意率",
            Kpi::Resolution => "解决率",
            Kpi::CallbackRate => "回访率",
            Kpi::ReopenRate => "重办率",
            Kpi::ReturnRate => "退单率",
            Kpi::YellowCards => "黄牌",
            Kpi::RedCards => "红牌",
        }
    }

    /// Whether a rising figure is good news (`None`: neither, e.g. intake).
    /// Decided here once for reports, bulletins and the dashboard.
    pub fn higher_is_better(self) -> Option<bool> {
        match self {
            Kpi::Intake => None,
            Kpi::ReopenRate | Kpi::ReturnRate | Kpi::YellowCards | Kpi::RedCards => Some(false),
            Kpi::AnsweredOnSpot
            | Kpi::OnTimeSignFor
            | Kpi::OnTimeCompletion
            | Kpi::Completion
            | Kpi::Satisfaction
            | Kpi::Resolution
            | Kpi::CallbackRate => Some(true),
        }
    }

    /// Whether a change by `delta` (a fraction: 0.01 is one percent or one
    /// percentage point; only its sign counts) is good. A change under
    /// 0.0005 is shown as 0.0 (one decimal) and is neutral: no colour for
    /// a figure that reads as unchanged.
    pub fn tone(self, delta: f64) -> Tone {
        if delta.abs() < 0.0005 {
            return Tone::Neutral;
        }
        match self.higher_is_better() {
            Some(up_good) if up_good == (delta > 0.0) => Tone::Good,
            Some(_) => Tone::Bad,
            None => Tone::Neutral,
        }
    }

    /// The figure whose Chinese label is `s` (tables carry labels).
    pub fn from_label_zh(s: &str) -> Option<Kpi> {
        Kpi::ALL.iter().copied().find(|k| k.label_zh() == s.trim())
    }

    /// What the figure counts, in Chinese (the reports' definitions).
    pub fn definition_zh(self) -> &'static str {
        match self {
            Kpi::Intake => "期间内登记的工单数（含作废、并案：电话已受理）。",
            Kpi::AnsweredOnSpot => "登记时直接答复并办结的工单 ÷ 受理量，按登记日统计。",
            Kpi::OnTimeSignFor => "在签收时限内的签收 ÷ 签收次数，按签收日统计。",
            Kpi::OnTimeCompletion => {
                "在办理时限（含延期）内送达中心的答复 ÷ 送达中心的答复，按答复日统计。"
            }
            Kpi::Completion => {
                "期间内登记（不含作废、并案）的工单中现已办结的 ÷ 这些工单，按登记日统计。"
            }
            Kpi::Satisfaction => "满意 + 基本满意 ÷ 有答复的回访（无法联系不计），按回访日统计。",
            Kpi::Resolution => "回访中表示问题已解决的 ÷ 有答复的回访，按回访日统计。",
            Kpi::CallbackRate => {
                "期间内转为待回访的工单（复核通过，或直接答复后抽中回访）中已完成回访（有答复，或多次无法联系后结案）的 ÷ 这些工单；分子分母是同一批工单，按转为待回访之日统计，不会超过100%。"
            }
            Kpi::ReopenRate => {
                "期间内的复核中，退回原单位重办的，加上复核通过后因不满意而重办的 ÷ 这些复核，按复核日统计。"
            }
            Kpi::ReturnRate => "期间内的派单中，在签收环节被退回中心的 ÷ 这些派单，按派单日统计。",
            Kpi::YellowCards => "期间内达到黄牌的环节数，按达到之时统计。",
            Kpi::RedCards => "期间内达到红牌的环节数，按达到之时统计。",
        }
    }

    /// Whether the figure is a rate (numerator / denominator) or a count.
    pub fn is_rate(self) -> bool {
        !matches!(self, Kpi::Intake | Kpi::YellowCards | Kpi::RedCards)
    }

    /// The figure from summed counters.
    pub fn figure(self, c: &Counters) -> Figure {
        use Counter as C;
        let g = |x: C| c.get(x);
        let rate = |num: i64, den: i64| Figure {
            num,
            den: Some(den),
        };
        let count = |num: i64| Figure { num, den: None };
        match self {
            Kpi::Intake => count(g(C::Intake)),
            Kpi::AnsweredOnSpot => rate(g(C::AnsweredOnSpot), g(C::Intake)),
            Kpi::OnTimeSignFor => rate(g(C::SignForsOnTime), g(C::SignFors)),
            Kpi::OnTimeCompletion => rate(g(C::RepliesOnTime), g(C::Replies)),
            Kpi::Completion => rate(g(C::CohortClosed), g(C::Cohort)),
            Kpi::Satisfaction => rate(g(C::Satisfied) + g(C::BasicallySatisfied), g(C::Answered)),
            Kpi::Resolution => rate(g(C::Resolved), g(C::Answered)),
            Kpi::CallbackRate => rate(g(C::CallbacksMadeOfDue), g(C::CallbacksDue)),
            Kpi::ReopenRate => rate(g(C::ReviewBacks) + g(C::ReopensOfReviewed), g(C::Reviews)),
            Kpi::ReturnRate => rate(g(C::ReturnsOfDispatched), g(C::Dispatches)),
            Kpi::YellowCards => count(g(C::YellowCards)),
            Kpi::RedCards => count(g(C::RedCards)),
        }
    }
}

/// A count (`den: None`) or a rate `num / den`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Figure {
    pub num: i64,
    pub den: Option<i64>,
}

impl Figure {
    /// The count, or the rate as a fraction (0–1); `None` for a rate with
    /// nothing to divide by (shown as "—", never as 0 % or 100 %).
    pub fn value(&self) -> Option<f64> {
        match self.den {
            None => Some(self.num as f64),
            Some(0) => None,
            Some(d) => Some(self.num as f64 / d as f64),
        }
    }
}

/// A figure against the previous period.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Change {
    /// Counts: current − previous. Rates: the difference in percentage
    /// points (0.95 → 0.97 is +2.0). `None` if either side has no value.
    pub delta: Option<f64>,
    /// Counts only: the relative change in percent (`None` if the previous
    /// count is 0, or for rates).
    pub percent: Option<f64>,
}

impl Change {
    pub fn between(current: &Figure, previous: &Figure) -> Change {
        match (current.value(), previous.value()) {
            (Some(c), Some(p)) if current.den.is_some() => Change {
                delta: Some((c - p) * 100.0),
                percent: None,
            },
            (Some(c), Some(p)) => Change {
                delta: Some(c - p),
                percent: (p != 0.0).then(|| (c - p) / p * 100.0),
            },
            _ => Change {
                delta: None,
                percent: None,
            },
        }
    }
}

/// One figure of a report row: current period, previous period, change.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct KpiValue {
    pub kpi: Kpi,
    pub current: Figure,
    pub previous: Figure,
    pub change: Change,
}

impl KpiValue {
    /// Whether the change is good news for this figure.
    pub fn tone(&self) -> Tone {
        self.change
            .delta
            .map(|d| self.kpi.tone(d))
            .unwrap_or(Tone::Neutral)
    }
}

/// Every figure of §7 for the counters of a period and of its previous one.
pub fn compare(current: &Counters, previous: &Counters) -> Vec<KpiValue> {
    Kpi::ALL
        .iter()
        .map(|k| {
            let (c, p) = (k.figure(current), k.figure(previous));
            KpiValue {
                kpi: *k,
                current: c,
                previous: p,
                change: Change::between(&c, &p),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "kpi_tests.rs"]
mod tests;
