//! The KPI explorer's input and output: query parameters (period, preset,
//! one cut, a grouping) checked into `(Period, Cut, GroupBy)` with messages a
//! person can act on, and a [`KpiReport`] as [`Table`]s for the page and the
//! exports.

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::Services;
use super::reports::{Cut, GroupBy, KpiReport, KpiRow};
use super::table::{Cell, Column, Table};
use crate::domain::kpi::{Kpi, KpiValue, Period};
use crate::domain::types::{AppealType, Channel};
use crate::error::{Error, Result};

/// The query of `GET /api/v1/reports/kpis` and of the `/reports` page.
/// Every field is text so that a wrong value gets a message, not a
/// deserializer's error.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// First day, `YYYY-MM-DD` (with `to`; default: the month so far).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// Instead of from/to: `today`, `yesterday`, `this_week`, `last_week`,
    /// `this_month`, `last_month`, `this_quarter`, `this_year`, `custom`
    /// (= from/to). "This …" periods run to today.
    pub preset: Option<String>,
    /// Cut: one channel (`phone`, `web`, …).
    pub channel: Option<String>,
    /// Cut: one appeal type.
    pub appeal_type: Option<String>,
    /// Cut: a category code or the code of any ancestor (digits).
    pub category: Option<String>,
    /// Cut: a district (alone, or with `street`).
    pub district: Option<String>,
    /// Cut: a street of `district`.
    pub street: Option<String>,
    /// Cut: a unit with every unit below it.
    pub unit_id: Option<String>,
    /// Cut: the user who acted.
    pub agent_id: Option<String>,
    /// `channel`, `appeal_type`, `category`, `district`, `street`, `unit`,
    /// `unit_top` (rolled up to level-2 units), `agent`.
    pub group_by: Option<String>,
    /// With `group_by=category`: the level (1 = top, default 1; up to 6).
    pub depth: Option<String>,
    /// `json` (default), `xlsx`, `csv`.
    #[param(
        pattern = r"^\s*(?:[Jj][Ss][Oo][Nn]|[Xx][Ll][Ss][Xx]|[Ee][Xx][Cc][Ee][Ll]|[Cc][Ss][Vv]|[Hh][Tt][Mm][Ll])?\s*$"
    )]
    pub format: Option<String>,
}

/// The period presets the page offers, with their labels.
pub const PRESETS: &[(&str, &str)] = &[
    ("today", "今天"),
    ("yesterday", "昨天"),
    ("this_week", "本周"),
    ("last_week", "上周"),
    ("this_month", "本月"),
    ("last_month", "上月"),
    ("this_quarter", "本季度"),
    ("this_year", "本年"),
    ("custom", "自定义"),
];

/// The groupings the page offers, with their column labels.
pub const GROUPINGS: &[(&str, &str)] = &[
    ("channel", "来源渠道"),
    ("appeal_type", "诉求类型"),
    ("category", "业务分类"),
    ("district", "区"),
    ("street", "街道"),
    ("unit", "承办单位"),
    ("unit_top", "二级单位"),
    ("agent", "工作人员"),
];

/// The period of a preset relative to `today` (weeks start on Monday;
/// "this …" ends today); `None` for an unknown preset or `custom`.
pub fn preset_period(preset: &str, today: Date) -> Option<Period> {
    let p = |start: Date, end: Date| Some(Period { start, end });
    let monday = today
        .checked_sub(i64::from(today.weekday().to_monday_zero_offset()).days())
        .ok()?;
    let month_start = today.first_of_month();
    match preset {
        "today" => p(today, today),
        "yesterday" => {
            let y = today.yesterday().ok()?;
            p(y, y)
        }
        "this_week" => p(monday, today),
        "last_week" => {
            let start = monday.checked_sub(7.days()).ok()?;
            p(start, monday.yesterday().ok()?)
        }
        "this_month" => p(month_start, today),
        "last_month" => {
            let end = month_start.yesterday().ok()?;
            p(end.first_of_month(), end)
        }
        "this_quarter" => {
            let q = (today.month() - 1) / 3 * 3 + 1;
            p(Date::new(today.year(), q, 1).ok()?, today)
        }
        "this_year" => p(Date::new(today.year(), 1, 1).ok()?, today),
        _ => None,
    }
}

fn bad(msg: &str) -> Error {
    Error::BadRequest(msg.to_string())
}

fn date(field: &str, s: &str) -> Result<Date> {
    // The field by its name on the page, not its parameter name.
    let label = match field {
        "from" => "起始日期",
        "to" => "截止日期",
        f => f,
    };
    s.trim().parse::<Date>().map_err(|_| {
        Error::BadRequest(format!(
            "{label}须为 YYYY-MM-DD 格式，例如 2026-02-01 ({field} must be a date YYYY-MM-DD)"
        ))
    })
}

fn id(field: &str, s: &str) -> Result<u32> {
    s.trim().parse::<u32>().map_err(|_| {
        Error::BadRequest(format!(
            "{field} 须为数字编号 ({field} must be a numeric id)"
        ))
    })
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The checked query.
#[derive(Clone, Debug, PartialEq)]
pub struct KpiParams {
    pub period: Period,
    pub cut: Option<Cut>,
    pub group_by: Option<GroupBy>,
    /// The group-by as asked (`unit_top` stays `unit_top`).
    pub group_name: Option<String>,
}

impl KpiQuery {
    /// Checks the query: a period (preset or from/to; default the month so
    /// far), at most one cut, a known grouping. Every problem is a 400 with
    /// a message, an unknown unit or agent a 404.
    pub fn params(&self, svc: &Services) -> Result<KpiParams> {
        let dir = svc.dir();
        let today = svc.now().to_zoned(dir.settings.tz()).date();
        let preset = given(&self.preset).unwrap_or("custom");
        let period = match (preset, given(&self.from), given(&self.to)) {
            ("custom", Some(f), Some(t)) => {
                Period::new(date("from", f)?, date("to", t)?).map_err(Error::BadRequest)?
            }
            ("custom", None, None) => preset_period("this_month", today).expect("preset"),
            ("custom", _, _) => {
                return Err(bad(
                    "请同时给出开始日期 from 和结束日期 to (give both from and to)",
                ));
            }
            (p, _, _) => preset_period(p, today).ok_or_else(|| {
                bad("未知的统计区间 preset (unknown preset: today, yesterday, this_week, last_week, this_month, last_month, this_quarter, this_year, custom)")
            })?,
        };
        let mut cuts: Vec<Cut> = vec![];
        if let Some(c) = given(&self.channel) {
            cuts.push(Cut::Channel(
                Channel::parse(c).ok_or_else(|| bad("未知的来源渠道 channel (unknown channel)"))?,
            ));
        }
        if let Some(a) = given(&self.appeal_type) {
            cuts.push(Cut::AppealType(AppealType::parse(a).ok_or_else(|| {
                bad("未知的诉求类型 appeal_type (unknown appeal type)")
            })?));
        }
        if let Some(c) = given(&self.category) {
            if !c.bytes().all(|b| b.is_ascii_digit()) || c.len() > 12 {
                return Err(bad(
                    "业务分类 category 须为分类编码（数字），例如 01 或 0102 (category must be a code of digits)",
                ));
            }
            cuts.push(Cut::Category(c.to_string()));
        }
        match (given(&self.district), given(&self.street)) {
            (Some(d), Some(s)) => cuts.push(Cut::Street {
                district: d.to_string(),
                street: s.to_string(),
            }),
            (Some(d), None) => cuts.push(Cut::District(d.to_string())),
            (None, Some(_)) => {
                return Err(bad(
                    "按街道筛选时须同时给出所在区 district (a street needs its district)",
                ));
            }
            (None, None) => {}
        }
        if let Some(u) = given(&self.unit_id) {
            let u = id("unit_id", u)?;
            if dir.unit(u).is_none() {
                return Err(Error::NotFound(format!(
                    "单位 {u} 不存在 (unit {u} does not exist)"
                )));
            }
            cuts.push(Cut::Unit(u));
        }
        if let Some(a) = given(&self.agent_id) {
            let a = id("agent_id", a)?;
            if !dir.user_names.contains_key(&a) {
                return Err(Error::NotFound(format!(
                    "用户 {a} 不存在 (user {a} does not exist)"
                )));
            }
            cuts.push(Cut::Agent(a));
        }
        if cuts.len() > 1 {
            return Err(bad(
                "一次只能按一个维度筛选（渠道、类型、分类、区/街道、单位或人员），请去掉多余的筛选 (one cut at a time)",
            ));
        }
        let depth = match given(&self.depth) {
            None => 1,
            Some(d) => d
                .parse::<usize>()
                .ok()
                .filter(|d| (1..=6).contains(d))
                .ok_or_else(|| bad("分类层级 depth 须为1到6 (depth is 1 to 6)"))?,
        };
        let group_name = given(&self.group_by).map(str::to_string);
        let group_by = match group_name.as_deref() {
            None => None,
            Some("channel") => Some(GroupBy::Channel),
            Some("appeal_type") => Some(GroupBy::AppealType),
            Some("category") => Some(GroupBy::Category { depth }),
            Some("district") => Some(GroupBy::District),
            Some("street") => Some(GroupBy::Street),
            Some("unit") => Some(GroupBy::Unit { top_level: false }),
            Some("unit_top") => Some(GroupBy::Unit { top_level: true }),
            Some("agent") => Some(GroupBy::Agent),
            Some(_) => {
                return Err(bad(
                    "未知的分组 group_by (unknown group_by: channel, appeal_type, category, district, street, unit, unit_top, agent)",
                ));
            }
        };
        Ok(KpiParams {
            period,
            cut: cuts.pop(),
            group_by,
            group_name,
        })
    }
}

/// Current, previous and change of a figure as cells: counts as integers
/// with the relative change; rates as fractions with the change in
/// percentage points (as a fraction: +2.0 points = 0.02).
pub fn value_cells(v: &KpiValue) -> [Cell; 3] {
    if v.kpi.is_rate() {
        [
            Cell::Rate(v.current.value()),
            Cell::Rate(v.previous.value()),
            Cell::Points(v.change.delta.map(|d| d / 100.0)),
        ]
    } else {
        [
            Cell::Int(v.current.num),
            Cell::Int(v.previous.num),
            Cell::Change(v.change.percent.map(|p| p / 100.0)),
        ]
    }
}

/// The label of a grouping's column.
pub fn group_label(name: &str) -> &'static str {
    GROUPINGS
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, l)| *l)
        .unwrap_or("分组")
}

fn span(r: &KpiReport) -> String {
    format!("{}至{}", r.period.start, r.period.end)
}

/// Every figure of the total: one row per figure (指标, 本期, 上期, 变化).
pub fn summary_table(r: &KpiReport) -> Table {
    let mut t = Table::new(
        format!("指标汇总 {}", span(r)),
        vec![
            Column::new("kpi", "指标"),
            Column::new("current", format!("本期 {}", span(r))),
            Column::new(
                "previous",
                format!(
                    "{} {}至{}",
                    r.basis.label_zh(),
                    r.previous.start,
                    r.previous.end
                ),
            ),
            Column::new("change", "变化"),
        ],
    );
    for v in &r.total.kpis {
        let [c, p, ch] = value_cells(v);
        t.push(vec![Cell::Text(v.kpi.label_zh().into()), c, p, ch]);
    }
    t
}

fn row_cells(row: &KpiRow) -> Vec<Cell> {
    let mut cells = vec![Cell::Text(row.label.clone())];
    for v in &row.kpis {
        cells.extend(value_cells(v));
    }
    cells
}

/// The grouped rows: the group's label, then for each figure its current
/// value, previous value and change; the total last.
pub fn grouped_table(r: &KpiReport, group_name: &str) -> Table {
    let label = group_label(group_name);
    let mut cols = vec![Column::new("group", label)];
    for k in Kpi::ALL {
        let n = k.label_zh();
        cols.push(Column::new(k.as_str(), n));
        cols.push(Column::new(
            format!("{}_previous", k.as_str()),
            format!("{n}(上期)"),
        ));
        cols.push(Column::new(
            format!("{}_change", k.as_str()),
            format!("{n}(变化)"),
        ));
    }
    let mut t = Table::new(format!("按{label} {}", span(r)), cols);
    for row in &r.rows {
        t.push(row_cells(row));
    }
    t.push(row_cells(&r.total));
    t
}

/// What the page shows and the exports contain: the summary, and the
/// grouped rows when grouped.
pub fn kpi_tables(r: &KpiReport, group_name: Option<&str>) -> Vec<Table> {
    let mut v = vec![summary_table(r)];
    if let Some(g) = group_name {
        v.push(grouped_table(r, g));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::aggregate::{Counter, Counters};
    use crate::domain::kpi::compare;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn presets_by_hand() {
        // 2026-11-18 is a Wednesday.
        let today = d("2026-11-18");
        let got = |p: &str| {
            let x = preset_period(p, today).unwrap();
            (x.start.to_string(), x.end.to_string())
        };
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(got("today"), pair("2026-11-18", "2026-11-18"));
        assert_eq!(got("yesterday"), pair("2026-11-17", "2026-11-17"));
        assert_eq!(got("this_week"), pair("2026-11-16", "2026-11-18"));
        assert_eq!(got("last_week"), pair("2026-11-09", "2026-11-15"));
        assert_eq!(got("this_month"), pair("2026-11-01", "2026-11-18"));
        assert_eq!(got("last_month"), pair("2026-10-01", "2026-10-31"));
        assert_eq!(got("this_quarter"), pair("2026-10-01", "2026-11-18"));
        assert_eq!(got("this_year"), pair("2026-01-01", "2026-11-18"));
        assert_eq!(preset_period("custom", today), None);
        assert_eq!(preset_period("nope", today), None);
        // On a Monday this week is one day; January's last month is December.
        let jan = d("2029-01-01");
        assert_eq!(preset_period("this_week", jan).unwrap().start, jan);
        assert_eq!(
            preset_period("last_month", jan).unwrap(),
            Period {
                start: d("2028-12-01"),
                end: d("2028-12-31")
            }
        );
        assert_eq!(
            preset_period("last_week", jan).unwrap().end,
            d("2028-12-31")
        );
    }

    #[test]
    fn tables_of_a_report() {
        let mut cur = Counters::default();
        cur.bump(Counter::Intake, 120);
        cur.bump(Counter::SignFors, 10);
        cur.bump(Counter::SignForsOnTime, 9);
        let mut prev = Counters::default();
        prev.bump(Counter::Intake, 100);
        prev.bump(Counter::SignFors, 4);
        prev.bump(Counter::SignForsOnTime, 4);
        let kpis = compare(&cur, &prev);
        let row = |key: &str, label: &str| KpiRow {
            key: key.into(),
            label: label.into(),
            kpis: kpis.clone(),
        };
        let r = KpiReport {
            period: Period::month(2026, 2).unwrap(),
            previous: Period::month(2026, 1).unwrap(),
            basis: crate::domain::kpi::Basis::Previous,
            group_by: Some("unit"),
            total: row("", "合计"),
            rows: vec![row("1", "城管局"), row("2", "水务局")],
            rows_read: 0,
        };
        let ts = kpi_tables(&r, Some("unit_top"));
        assert_eq!(ts.len(), 2);
        let s = &ts[0];
        assert_eq!(s.rows.len(), Kpi::ALL.len());
        assert_eq!(s.rows[0][0], Cell::Text("受理量".into()));
        assert_eq!(s.rows[0][1], Cell::Int(120));
        assert_eq!(s.rows[0][2], Cell::Int(100));
        assert_eq!(s.rows[0][3].display(), "+20.0%");
        // On-time sign-for 90 % against 100 %: −10 points.
        let sf = s
            .rows
            .iter()
            .find(|r| r[0] == Cell::Text("按时签收率".into()))
            .unwrap();
        assert_eq!(sf[1], Cell::Rate(Some(0.9)));
        // A rate's change is in percentage points, not per cent.
        assert_eq!(sf[3].display(), "-10.0 个百分点");
        // Undefined rates stay undefined.
        let sat = s
            .rows
            .iter()
            .find(|r| r[0] == Cell::Text("满意率".into()))
            .unwrap();
        assert_eq!(sat[1], Cell::Rate(None));
        let g = &ts[1];
        assert_eq!(g.columns.len(), 1 + 3 * Kpi::ALL.len());
        assert_eq!(g.columns[0].label, "二级单位");
        assert_eq!(g.columns[2].label, "受理量(上期)");
        assert_eq!(g.rows.len(), 3);
        assert_eq!(g.rows[2][0], Cell::Text("合计".into()));
        assert!(g.rows.iter().all(|r| r.len() == g.columns.len()));
        assert_eq!(kpi_tables(&r, None).len(), 1);
        assert_eq!(Kpi::ReturnRate.higher_is_better(), Some(false));
        assert_eq!(Kpi::Intake.higher_is_better(), None);
    }
}
