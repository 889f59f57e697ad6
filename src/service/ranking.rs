//! Department assessment (部门考核): the ranking of level-2 units by the
//! weighted score of `domain::assessment`, and the administrator's weights.
//!
//! Who reads what: people with `Permission::ReadReports` read the ranking;
//! a department user reads it too — unit names, figures and scores, which
//! are aggregates, never another unit's tickets — with their own level-2
//! unit marked. Only administrators change the weights (audited).

use std::collections::HashMap;

use serde::Serialize;

use super::reports::GroupBy;
use super::table::{Cell, Column, Table};
use super::{Actor, Services};
use crate::domain::assessment::{self, COMPONENTS, Ranked, UnitFigures, Weights};
use crate::domain::kpi::{Kpi, Period};
use crate::domain::permissions::{Permission, Scope};
use crate::error::{Error, Result};

/// The key of the weights in the settings table.
pub const WEIGHTS_KEY: &str = "assessment_weights";

/// The ranking of a period.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Ranking {
    #[schema(value_type = Object)]
    pub period: Period,
    pub weights: Weights,
    /// Ranked units first (best first), then units without data.
    pub rows: Vec<Ranked>,
    /// The reader's own level-2 unit (department users).
    pub own_unit_id: Option<u32>,
}

impl Ranking {
    pub fn own(&self) -> Option<&Ranked> {
        let id = self.own_unit_id?;
        self.rows.iter().find(|r| r.figures.unit_id == id)
    }
}

fn figure_of(kpis: &[crate::domain::kpi::KpiValue], k: Kpi) -> crate::domain::kpi::Figure {
    kpis.iter()
        .find(|v| v.kpi == k)
        .map(|v| v.current)
        .unwrap_or(crate::domain::kpi::Figure {
            num: 0,
            den: if k.is_rate() { Some(0) } else { None },
        })
}

impl Services {
    /// The assessment weights (the defaults until an administrator saves
    /// others).
    pub fn assessment_weights(&self) -> Result<Weights> {
        Ok(self.store.setting_json(WEIGHTS_KEY)?.unwrap_or_default())
    }

    /// Saves new weights (administrators); every wrong field is listed.
    pub fn set_assessment_weights(&self, actor: &Actor, w: Weights) -> Result<Weights> {
        actor.require(Permission::Administer)?;
        let errs = w.check();
        if !errs.is_empty() {
            return Err(Error::Validation(
                errs.into_iter()
                    .map(|(f, m)| crate::domain::ticket::FieldError::new(f, m))
                    .collect(),
            ));
        }
        let before = self.assessment_weights()?;
        self.store.save_setting_json(WEIGHTS_KEY, &w)?;
        self.audit(
            actor.user.id,
            "settings.assessment_weights",
            WEIGHTS_KEY,
            &format!(
                "{} → {}",
                serde_json::to_string(&before).unwrap_or_default(),
                serde_json::to_string(&w).unwrap_or_default()
            ),
        );
        Ok(w)
    }

    /// The level-2 units of the org tree ranked for `period`.
    pub fn ranking(&self, actor: &Actor, period: Period) -> Result<Ranking> {
        let dir = self.dir();
        let own_unit_id = match (&actor.scope, actor.user.unit_id) {
            _ if actor.can(Permission::ReadReports) => None,
            (Scope::Units(_), Some(u)) => {
                let mut id = u;
                while let Some(p) = dir.unit(id).and_then(|x| x.parent_id) {
                    id = p;
                }
                Some(id)
            }
            _ => {
                return Err(Error::Forbidden(
                    "您无权查看考核排名 (you may not read the department ranking)".into(),
                ));
            }
        };
        let weights = self.assessment_weights()?;
        let report =
            self.kpis_within(None, period, None, Some(&GroupBy::Unit { top_level: true }))?;
        let by_id: HashMap<u32, &[crate::domain::kpi::KpiValue]> = report
            .rows
            .iter()
            .filter_map(|r| Some((r.key.parse::<u32>().ok()?, r.kpis.as_slice())))
            .collect();
        // Every enabled level-2 unit, and any other with figures.
        let units: Vec<UnitFigures> = dir
            .units
            .iter()
            .filter(|u| u.parent_id.is_none() && (u.enabled || by_id.contains_key(&u.id)))
            .map(|u| match by_id.get(&u.id) {
                Some(k) => UnitFigures {
                    unit_id: u.id,
                    name: u.name.clone(),
                    on_time_sign_for: figure_of(k, Kpi::OnTimeSignFor),
                    on_time_completion: figure_of(k, Kpi::OnTimeCompletion),
                    satisfaction: figure_of(k, Kpi::Satisfaction),
                    resolution: figure_of(k, Kpi::Resolution),
                    return_rate: figure_of(k, Kpi::ReturnRate),
                    yellow_cards: figure_of(k, Kpi::YellowCards).num,
                    red_cards: figure_of(k, Kpi::RedCards).num,
                },
                None => UnitFigures::empty(u.id, u.name.clone()),
            })
            .collect();
        Ok(Ranking {
            period,
            weights,
            rows: assessment::rank(&weights, units),
            own_unit_id,
        })
    }
}

fn pct(f: &crate::domain::kpi::Figure) -> Cell {
    Cell::Rate(f.value())
}

/// The ranking as a table: rank, unit, the five rates, cards, base,
/// deduction, score.
pub fn ranking_table(r: &Ranking) -> Table {
    let mut cols = vec![Column::new("rank", "排名"), Column::new("unit", "单位")];
    for k in COMPONENTS {
        cols.push(Column::new(k.as_str(), k.label_zh()));
    }
    cols.extend([
        Column::new("yellow_cards", "黄牌"),
        Column::new("red_cards", "红牌"),
        Column::new("base", "基础分"),
        Column::new("deduction", "扣分"),
        Column::new("score", "考核得分"),
    ]);
    let mut t = Table::new(
        format!("部门考核排名 {}至{}", r.period.start, r.period.end),
        cols,
    );
    for x in &r.rows {
        let f = &x.figures;
        let mut row = vec![
            match x.rank {
                Some(n) => Cell::Int(i64::from(n)),
                None => Cell::Text("无数据".into()),
            },
            Cell::Text(f.name.clone()),
        ];
        for k in COMPONENTS {
            row.push(f.figure(k).map(|v| pct(&v)).unwrap_or(Cell::Rate(None)));
        }
        let num = |v: Option<f64>| Cell::Number {
            value: v,
            decimals: 2,
        };
        row.extend([
            Cell::Int(f.yellow_cards),
            Cell::Int(f.red_cards),
            num(x.score.base),
            num(Some(x.score.deduction)),
            num(x.score.score),
        ]);
        t.push(row);
    }
    t
}

/// The figures behind one unit's score: each component with its
/// numerator / denominator, weight and points; the cards and deduction.
pub fn breakdown_table(r: &Ranked, w: &Weights) -> Table {
    let mut t = Table::new(
        format!("{} 得分构成", r.figures.name),
        vec![
            Column::new("item", "项目"),
            Column::new("figure", "计算"),
            Column::new("value", "数值"),
            Column::new("weight", "权重/每张扣分"),
            Column::new("points", "得分"),
        ],
    );
    for p in &r.score.parts {
        let f = r.figures.figure(p.kpi).expect("a component");
        let calc = match f.den {
            Some(d) => format!("{}/{}", f.num, d),
            None => f.num.to_string(),
        };
        let label = if p.kpi == Kpi::ReturnRate {
            "1 − 退单率".to_string()
        } else {
            p.kpi.label_zh().to_string()
        };
        t.push(vec![
            Cell::Text(label),
            Cell::Text(calc),
            Cell::Rate(p.value),
            Cell::Int(i64::from(p.weight)),
            Cell::Number {
                value: p.value.map(|_| p.points),
                decimals: 2,
            },
        ]);
    }
    t.push(vec![
        Cell::Text("黄牌".into()),
        Cell::Text(r.figures.yellow_cards.to_string()),
        Cell::Int(r.figures.yellow_cards),
        Cell::Number {
            value: Some(w.yellow_card_points),
            decimals: 1,
        },
        Cell::Number {
            value: Some(-(r.figures.yellow_cards as f64) * w.yellow_card_points),
            decimals: 2,
        },
    ]);
    t.push(vec![
        Cell::Text("红牌".into()),
        Cell::Text(r.figures.red_cards.to_string()),
        Cell::Int(r.figures.red_cards),
        Cell::Number {
            value: Some(w.red_card_points),
            decimals: 1,
        },
        Cell::Number {
            value: Some(-(r.figures.red_cards as f64) * w.red_card_points),
            decimals: 2,
        },
    ]);
    t.push(vec![
        Cell::Text("考核得分".into()),
        Cell::Text(String::new()),
        Cell::Rate(None),
        Cell::Number {
            value: None,
            decimals: 0,
        },
        Cell::Number {
            value: r.score.score,
            decimals: 2,
        },
    ]);
    t
}
