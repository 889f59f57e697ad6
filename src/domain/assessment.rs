//! Department assessment (部门考核): a score per level-2 unit from its
//! figures of a period, and the ranking (PRODUCT.md §7, "department score").
//!
//! # The score
//!
//! Five rates, each made "higher is better" (`s`):
//!
//! | component | rate | `s` |
//! |---|---|---|
//! | on-time sign-for 按时签收率 | [`Kpi::OnTimeSignFor`] | the rate |
//! | on-time completion 按时办结率 | [`Kpi::OnTimeCompletion`] | the rate |
//! | satisfaction 满意率 | [`Kpi::Satisfaction`] | the rate |
//! | resolution 解决率 | [`Kpi::Resolution`] | the rate |
//! | return rate 退单率 | [`Kpi::ReturnRate`] | 1 − the rate (lower is better) |
//!
//! With the administrator's weights `w` (whole points, 0–100 each; they
//! need not add up to 100) and `D` the components *with data* (a rate whose
//! denominator is not 0):
//!
//! ```text
//! base      = 100 × Σ_{k∈D} w_k·s_k / Σ_{k∈D} w_k
//! deduction = yellow cards × yellow_points + red cards × red_points
//! score     = max(0, base − deduction)
//! ```
//!
//! - A component without data (no sign-fors, no replies, no callback with an
//!   answer, no dispatch) is left out and its weight goes to the others: a
//!   unit is not rewarded or punished for what did not happen. A component
//!   whose weight is 0 counts for nothing.
//! - A unit for which no component with a weight has data has **no score**
//!   (shown "无数据"), is not ranked and is listed after the ranked units —
//!   even if it has cards (they are listed with it).
//! - Ranks are "1, 2, 2, 4": units whose scores are equal to 0.01 share a
//!   rank, and the next rank skips.
//!
//! Defaults ([`Weights::default`]): sign-for 20, completion 25, satisfaction
//! 25, resolution 20, return rate 10 (100 together), and 1 point per yellow
//! card, 3 per red card — a red card (the total period overrun) weighs three
//! yellow ones (the sign-for / warning overruns), as in the usual 12345
//! assessment rules, and a handful of cards moves a unit a few places
//! without wiping out its rates.

use serde::{Deserialize, Serialize};

use super::kpi::{Figure, Kpi};

/// Largest weight of a component.
pub const MAX_WEIGHT: u32 = 100;
/// Largest deduction per card.
pub const MAX_CARD_POINTS: f64 = 20.0;

/// The administrator's weights and deductions.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Weights {
    pub on_time_sign_for: u32,
    pub on_time_completion: u32,
    pub satisfaction: u32,
    pub resolution: u32,
    /// Weight of (1 − return rate).
    pub return_rate: u32,
    /// Points deducted per yellow card.
    pub yellow_card_points: f64,
    /// Points deducted per red card.
    pub red_card_points: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            on_time_sign_for: 20,
            on_time_completion: 25,
            satisfaction: 25,
            resolution: 20,
            return_rate: 10,
            yellow_card_points: 1.0,
            red_card_points: 3.0,
        }
    }
}

/// The components of the score, in display order.
pub const COMPONENTS: [Kpi; 5] = [
    Kpi::OnTimeSignFor,
    Kpi::OnTimeCompletion,
    Kpi::Satisfaction,
    Kpi::Resolution,
    Kpi::ReturnRate,
];

impl Weights {
    /// The weight of a component (0 for a figure that is not one).
    pub fn of(&self, k: Kpi) -> u32 {
        match k {
            Kpi::OnTimeSignFor => self.on_time_sign_for,
            Kpi::OnTimeCompletion => self.on_time_completion,
            Kpi::Satisfaction => self.satisfaction,
            Kpi::Resolution => self.resolution,
            Kpi::ReturnRate => self.return_rate,
            _ => 0,
        }
    }

    /// Every problem with the weights as `(field, message)`: each weight
    /// 0–100, at least one above 0, deductions 0–20 points.
    pub fn check(&self) -> Vec<(&'static str, String)> {
        let mut errs = vec![];
        let fields = [
            ("on_time_sign_for", self.on_time_sign_for),
            ("on_time_completion", self.on_time_completion),
            ("satisfaction", self.satisfaction),
            ("resolution", self.resolution),
            ("return_rate", self.return_rate),
        ];
        for (f, w) in fields {
            if w > MAX_WEIGHT {
                errs.push((
                    f,
                    format!("权重须为0–{MAX_WEIGHT} (a weight is 0–{MAX_WEIGHT})"),
                ));
            }
        }
        if fields.iter().all(|(_, w)| *w == 0) {
            errs.push((
                "on_time_sign_for",
                "至少一项权重须大于0 (at least one weight must be above 0)".to_string(),
            ));
        }
        for (f, p) in [
            ("yellow_card_points", self.yellow_card_points),
            ("red_card_points", self.red_card_points),
        ] {
            if !p.is_finite() || !(0.0..=MAX_CARD_POINTS).contains(&p) {
                errs.push((
                    f,
                    format!(
                        "扣分须为0–{MAX_CARD_POINTS}分 (points per card are 0–{MAX_CARD_POINTS})"
                    ),
                ));
            }
        }
        errs
    }
}

/// A unit's figures of the period (what its score is made of).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UnitFigures {
    pub unit_id: u32,
    pub name: String,
    #[schema(value_type = Object)]
    pub on_time_sign_for: Figure,
    #[schema(value_type = Object)]
    pub on_time_completion: Figure,
    #[schema(value_type = Object)]
    pub satisfaction: Figure,
    #[schema(value_type = Object)]
    pub resolution: Figure,
    #[schema(value_type = Object)]
    pub return_rate: Figure,
    pub yellow_cards: i64,
    pub red_cards: i64,
}

impl UnitFigures {
    /// A unit with no figures at all.
    pub fn empty(unit_id: u32, name: impl Into<String>) -> UnitFigures {
        let z = Figure {
            num: 0,
            den: Some(0),
        };
        UnitFigures {
            unit_id,
            name: name.into(),
            on_time_sign_for: z,
            on_time_completion: z,
            satisfaction: z,
            resolution: z,
            return_rate: z,
            yellow_cards: 0,
            red_cards: 0,
        }
    }

    pub fn figure(&self, k: Kpi) -> Option<Figure> {
        Some(match k {
            Kpi::OnTimeSignFor => self.on_time_sign_for,
            Kpi::OnTimeCompletion => self.on_time_completion,
            Kpi::Satisfaction => self.satisfaction,
            Kpi::Resolution => self.resolution,
            Kpi::ReturnRate => self.return_rate,
            _ => return None,
        })
    }
}

/// One component of a unit's score: what it contributed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Part {
    #[schema(value_type = String)]
    pub kpi: Kpi,
    pub weight: u32,
    /// The rate made "higher is better" (0–1); `None` without data.
    pub value: Option<f64>,
    /// Points of the base this component gives: `100 × w·s / Σw` (0 without
    /// data).
    pub points: f64,
}

/// A unit's score.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Score {
    pub parts: Vec<Part>,
    /// `None`: no component with a weight has data.
    pub base: Option<f64>,
    pub deduction: f64,
    /// `max(0, base − deduction)`; `None` with `base`.
    pub score: Option<f64>,
}

/// The score of one unit (see the module documentation).
pub fn score(w: &Weights, f: &UnitFigures) -> Score {
    let values: Vec<(Kpi, u32, Option<f64>)> = COMPONENTS
        .iter()
        .map(|k| {
            let v = f.figure(*k).and_then(|fig| fig.value());
            let v = if *k == Kpi::ReturnRate {
                v.map(|r| 1.0 - r)
            } else {
                v
            };
            (*k, w.of(*k), v)
        })
        .collect();
    let total_w: u32 = values
        .iter()
        .filter(|(_, _, v)| v.is_some())
        .map(|(_, w, _)| *w)
        .sum();
    let parts: Vec<Part> = values
        .iter()
        .map(|(k, wk, v)| Part {
            kpi: *k,
            weight: *wk,
            value: *v,
            points: match v {
                Some(s) if total_w > 0 => 100.0 * f64::from(*wk) * s / f64::from(total_w),
                _ => 0.0,
            },
        })
        .collect();
    let deduction =
        f.yellow_cards as f64 * w.yellow_card_points + f.red_cards as f64 * w.red_card_points;
    let base = (total_w > 0).then(|| parts.iter().map(|p| p.points).sum::<f64>());
    Score {
        parts,
        base,
        deduction,
        score: base.map(|b| (b - deduction).max(0.0)),
    }
}

/// One line of the ranking.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Ranked {
    /// 1 = best; `None` for a unit without a score.
    pub rank: Option<u32>,
    pub figures: UnitFigures,
    pub score: Score,
}

/// Scores rounded to 0.01 compare equal (so float noise never splits a tie).
fn cents(s: f64) -> i64 {
    (s * 100.0).round() as i64
}

/// Every unit scored and ranked: best first, equal scores sharing a rank
/// ("1, 2, 2, 4") and ordered by name; units without a score last, by name.
pub fn rank(w: &Weights, units: Vec<UnitFigures>) -> Vec<Ranked> {
    let mut out: Vec<Ranked> = units
        .into_iter()
        .map(|f| Ranked {
            rank: None,
            score: score(w, &f),
            figures: f,
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |r: &Ranked| r.score.score.map(cents);
        match (key(a), key(b)) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
        .then_with(|| a.figures.name.cmp(&b.figures.name))
        .then_with(|| a.figures.unit_id.cmp(&b.figures.unit_id))
    });
    let mut prev: Option<(i64, u32)> = None;
    for (i, r) in out.iter_mut().enumerate() {
        let Some(s) = r.score.score.map(cents) else {
            continue;
        };
        let rank = match prev {
            Some((p, k)) if p == s => k,
            _ => i as u32 + 1,
        };
        r.rank = Some(rank);
        prev = Some((s, rank));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(num: i64, den: i64) -> Figure {
        Figure {
            num,
            den: Some(den),
        }
    }

    fn unit(id: u32, name: &str, rates: [(i64, i64); 5], y: i64, r: i64) -> UnitFigures {
        UnitFigures {
            unit_id: id,
            name: name.into(),
            on_time_sign_for: rate(rates[0].0, rates[0].1),
            on_time_completion: rate(rates[1].0, rates[1].1),
            satisfaction: rate(rates[2].0, rates[2].1),
            resolution: rate(rates[3].0, rates[3].1),
            return_rate: rate(rates[4].0, rates[4].1),
            yellow_cards: y,
            red_cards: r,
        }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn defaults_add_up_to_100_and_are_valid() {
        let w = Weights::default();
        let sum: u32 = COMPONENTS.iter().map(|k| w.of(*k)).sum();
        assert_eq!(sum, 100);
        assert!(w.check().is_empty());
        assert_eq!(w.of(Kpi::Intake), 0);
    }

    #[test]
    fn weights_are_checked() {
        let mut w = Weights {
            on_time_sign_for: 101,
            ..Weights::default()
        };
        assert_eq!(w.check()[0].0, "on_time_sign_for");
        w = Weights {
            on_time_sign_for: 0,
            on_time_completion: 0,
            satisfaction: 0,
            resolution: 0,
            return_rate: 0,
            ..Weights::default()
        };
        assert_eq!(w.check().len(), 1);
        w = Weights {
            yellow_card_points: -1.0,
            red_card_points: f64::NAN,
            ..Weights::default()
        };
        let fields: Vec<_> = w.check().into_iter().map(|e| e.0).collect();
        assert_eq!(fields, vec!["yellow_card_points", "red_card_points"]);
        w.yellow_card_points = 20.0;
        w.red_card_points = 20.5;
        assert_eq!(w.check().len(), 1);
    }

    #[test]
    fn a_score_by_hand() {
        // sign-for 90/100 = 0.9, completion 40/50 = 0.8, satisfaction
        // 19/20 = 0.95, resolution 15/20 = 0.75, returns 5/100 → 0.95.
        // base = 0.20·90 + 0.25·80 + 0.25·95 + 0.20·75 + 0.10·95
        //      = 18 + 20 + 23.75 + 15 + 9.5 = 86.25
        // deduction = 2 yellow × 1 + 1 red × 3 = 5 → 81.25
        let f = unit(
            1,
            "城管局",
            [(90, 100), (40, 50), (19, 20), (15, 20), (5, 100)],
            2,
            1,
        );
        let s = score(&Weights::default(), &f);
        close(s.base.unwrap(), 86.25);
        close(s.deduction, 5.0);
        close(s.score.unwrap(), 81.25);
        let points: Vec<f64> = s.parts.iter().map(|p| p.points).collect();
        for (p, want) in points.iter().zip([18.0, 20.0, 23.75, 15.0, 9.5]) {
            close(*p, want);
        }
        assert_eq!(s.parts[4].kpi, Kpi::ReturnRate);
        close(s.parts[4].value.unwrap(), 0.95);
    }

    #[test]
    fn components_without_data_give_their_weight_to_the_others() {
        // No callbacks (satisfaction and resolution 0/0): the remaining
        // weights 20 + 25 + 10 = 55.
        // base = 100 × (20·1.0 + 25·0.5 + 10·(1 − 0.2)) / 55
        //      = 100 × (20 + 12.5 + 8) / 55 = 4050 / 55 = 73.6363…
        let f = unit(
            2,
            "水务局",
            [(10, 10), (1, 2), (0, 0), (0, 0), (1, 5)],
            0,
            0,
        );
        let s = score(&Weights::default(), &f);
        close(s.base.unwrap(), 4050.0 / 55.0);
        assert_eq!(s.parts[2].value, None);
        close(s.parts[2].points, 0.0);
        // A weight of 0 counts for nothing, data or not.
        let w = Weights {
            return_rate: 0,
            ..Weights::default()
        };
        // base = 100 × (20 + 12.5) / 45 = 72.2…
        close(score(&w, &f).base.unwrap(), 3250.0 / 45.0);
    }

    #[test]
    fn no_data_means_no_score_even_with_cards() {
        let f = UnitFigures {
            yellow_cards: 3,
            ..UnitFigures::empty(3, "空单位")
        };
        let s = score(&Weights::default(), &f);
        assert_eq!(s.base, None);
        assert_eq!(s.score, None);
        close(s.deduction, 3.0);
        // Data only in a component whose weight is 0: no score either.
        let w = Weights {
            on_time_sign_for: 0,
            ..Weights::default()
        };
        let f = UnitFigures {
            on_time_sign_for: rate(1, 1),
            ..UnitFigures::empty(4, "x")
        };
        assert_eq!(score(&w, &f).score, None);
    }

    #[test]
    fn the_score_never_goes_below_zero() {
        // base 100 (everything perfect), 40 red cards × 3 = 120 → 0.
        let f = unit(5, "x", [(1, 1), (1, 1), (1, 1), (1, 1), (0, 1)], 0, 40);
        let s = score(&Weights::default(), &f);
        close(s.base.unwrap(), 100.0);
        close(s.deduction, 120.0);
        close(s.score.unwrap(), 0.0);
    }

    #[test]
    fn ranks_share_ties_and_put_units_without_data_last() {
        let perfect = [(1, 1), (1, 1), (1, 1), (1, 1), (0, 1)];
        let units = vec![
            // 100 − 1 = 99
            unit(1, "乙", perfect, 1, 0),
            // 100
            unit(2, "丙", perfect, 0, 0),
            // no data
            UnitFigures::empty(3, "甲"),
            // 100 − 1 = 99 (ties with 乙; 丁 sorts after 乙 by name)
            unit(4, "丁", perfect, 1, 0),
            // 100 − 3 = 97
            unit(5, "戊", perfect, 0, 1),
            UnitFigures::empty(6, "庚"),
        ];
        let r = rank(&Weights::default(), units);
        let got: Vec<(u32, Option<u32>)> = r.iter().map(|x| (x.figures.unit_id, x.rank)).collect();
        // "丁" (U+4E01) sorts before "乙" (U+4E59) by code point.
        assert_eq!(
            got,
            vec![
                (2, Some(1)),
                (4, Some(2)),
                (1, Some(2)),
                (5, Some(4)),
                (6, None),
                (3, None),
            ]
        );
    }

    #[test]
    fn scores_equal_to_a_cent_tie() {
        // 1/3 and 0.3333333 both give 33.33: the same rank.
        let w = Weights {
            on_time_sign_for: 100,
            on_time_completion: 0,
            satisfaction: 0,
            resolution: 0,
            return_rate: 0,
            yellow_card_points: 0.0,
            red_card_points: 0.0,
        };
        let a = UnitFigures {
            on_time_sign_for: rate(1, 3),
            ..UnitFigures::empty(1, "a")
        };
        let b = UnitFigures {
            on_time_sign_for: rate(3_333_333, 10_000_000),
            ..UnitFigures::empty(2, "b")
        };
        let c = UnitFigures {
            on_time_sign_for: rate(1, 4),
            ..UnitFigures::empty(3, "c")
        };
        let r = rank(&w, vec![c, b, a]);
        let ranks: Vec<_> = r.iter().map(|x| (x.figures.unit_id, x.rank)).collect();
        assert_eq!(ranks, vec![(1, Some(1)), (2, Some(1)), (3, Some(3))]);
        assert!(rank(&w, vec![]).is_empty());
    }
}
