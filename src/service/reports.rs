//! Reports and KPIs (issue 6, PRODUCT.md §7) from the per-day aggregates:
//! every figure for a period, its previous period and the change, optionally
//! cut by one dimension and grouped by another.
//!
//! Who reads what: people with `Permission::ReadReports` (leaders, team
//! leads, administrators, QA inspectors) read every figure; a department
//! user reads the figures of their own unit and the units below it (an
//! implicit cut by unit); everybody else is refused.
//!
//! A report reads the rows of one stored cuboid (`domain::aggregate::CUBOIDS`)
//! over the previous and the current period in one range scan. Categories
//! are cut by code prefix (any level of the taxonomy) and grouped at a
//! chosen depth; units are cut with their sub-units and grouped either as
//! themselves or rolled up to their level-2 unit. Combinations that need
//! three dimensions at once (say, a department user's category × street)
//! are refused with a clear message rather than computed slowly.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::{Actor, Directory, Services};
use crate::domain::aggregate::{Counters, Dim, PLACE_SEP, cuboid_for, split_place};
use crate::domain::kpi::{KpiValue, Period, compare};
use crate::domain::permissions::{Permission, Scope};
use crate::domain::types::{AppealType, Channel};
use crate::error::{Error, Result};

/// Whose figures `actor` may read: `None` for everything (readers of
/// reports), or their own units with sub-units (department users);
/// anybody else is refused.
pub(crate) fn report_scope(actor: &Actor) -> Result<Option<HashSet<u32>>> {
    if actor.can(Permission::ReadReports) {
        return Ok(None);
    }
    match (&actor.scope, actor.user.unit_id) {
        (Scope::Units(units), Some(_)) => Ok(Some(units.clone())),
        _ => Err(Error::Forbidden(
            "您无权查看统计报表 (you may not read reports)".into(),
        )),
    }
}

/// One filter of a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cut {
    Channel(Channel),
    AppealType(AppealType),
    /// A category code or the code of any of its ancestors (prefix).
    Category(String),
    District(String),
    Street {
        district: String,
        street: String,
    },
    /// A unit and every unit below it.
    Unit(u32),
    /// The user who acted (registered, dispatched, signed for, called back…).
    Agent(u32),
}

/// How a report's rows are grouped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Channel,
    AppealType,
    /// By category at a taxonomy depth: 1 = top level (2-digit codes),
    /// 2 = 4-digit codes, …
    Category {
        depth: usize,
    },
    District,
    Street,
    /// By unit: each unit on its own, or rolled up to its level-2 unit.
    Unit {
        top_level: bool,
    },
    Agent,
}

impl GroupBy {
    fn dim(&self) -> Dim {
        match self {
            GroupBy::Channel => Dim::Channel,
            GroupBy::AppealType => Dim::Appeal,
            GroupBy::Category { .. } => Dim::Category,
            GroupBy::District | GroupBy::Street => Dim::Place,
            GroupBy::Unit { .. } => Dim::Unit,
            GroupBy::Agent => Dim::Agent,
        }
    }
    fn name(&self) -> &'static str {
        match self {
            GroupBy::Channel => "channel",
            GroupBy::AppealType => "appeal_type",
            GroupBy::Category { .. } => "category",
            GroupBy::District => "district",
            GroupBy::Street => "street",
            GroupBy::Unit { .. } => "unit",
            GroupBy::Agent => "agent",
        }
    }
}

/// One row of a report: a group (or the total) with every figure.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KpiRow {
    /// The group's key: a code, an id, a category code prefix, a place; ""
    /// for the total.
    pub key: String,
    /// What people read: a name or label.
    pub label: String,
    pub kpis: Vec<KpiValue>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KpiReport {
    pub period: Period,
    /// What `period` is compared with (`Period::compared_with`).
    pub previous: Period,
    pub basis: crate::domain::kpi::Basis,
    pub group_by: Option<&'static str>,
    /// Every group together (with the cuts applied).
    pub total: KpiRow,
    /// One row per group, by key.
    pub rows: Vec<KpiRow>,
    /// Aggregate rows read (for the benchmark).
    pub rows_read: u64,
}

/// The values a row must have in one dimension.
struct Filter {
    dim: Dim,
    values: HashSet<u32>,
}

fn unsupported() -> Error {
    Error::BadRequest(
        "不支持这一筛选与分组的组合：请减少一个维度 (this combination of cut and grouping is not supported: use one dimension less)"
            .into(),
    )
}

impl Services {
    /// Every figure of §7 for `period` against its previous period, with an
    /// optional cut and grouping, as `actor` may see them.
    pub fn kpis(
        &self,
        actor: &Actor,
        period: Period,
        cut: Option<&Cut>,
        group_by: Option<&GroupBy>,
    ) -> Result<KpiReport> {
        // Who may read what: everything, or the own unit with sub-units.
        self.kpis_within(report_scope(actor)?, period, cut, group_by)
    }

    /// [`Services::kpis`] limited to the units of `scope` (`None`: all)
    /// with no check of who asks: for figures that everybody may read (the
    /// department ranking of `service::ranking`).
    pub(crate) fn kpis_within(
        &self,
        scope: Option<HashSet<u32>>,
        period: Period,
        cut: Option<&Cut>,
        group_by: Option<&GroupBy>,
    ) -> Result<KpiReport> {
        let dir = self.dir();
        let mut filters: Vec<Filter> = Vec::new();
        if let Some(units) = &scope {
            filters.push(Filter {
                dim: Dim::Unit,
                values: units.clone(),
            });
        }
        if let Some(c) = cut {
            let f = self.cut_filter(&dir, c)?;
            if f.dim == Dim::Unit
                && let Some(units) = &scope
                && !f.values.is_subset(units)
            {
                return Err(Error::Forbidden(
                    "只能查看本单位及下级单位的统计 (you may only read the figures of your own unit and its sub-units)"
                        .into(),
                ));
            }
            filters.push(f);
        }
        // Two filters on the unit: their intersection.
        if filters.len() == 2 && filters[0].dim == filters[1].dim {
            let b = filters.pop().expect("two filters");
            filters[0].values.retain(|v| b.values.contains(v));
        }
        let mut dims: Vec<Dim> = filters.iter().map(|f| f.dim).collect();
        if let Some(g) = group_by {
            dims.push(g.dim());
        }
        let (cuboid, _) = cuboid_for(&dims).ok_or_else(unsupported)?;
        let slot = |d: Dim| -> usize { if cuboid.a == Some(d) { 0 } else { 1 } };
        let filters: Vec<(usize, HashSet<u32>)> = filters
            .into_iter()
            .map(|f| (slot(f.dim), f.values))
            .collect();
        let group_slot = group_by.map(|g| slot(g.dim()));

        let today = self.now().to_zoned(dir.settings.tz()).date();
        let (previous, basis) = period.compared_with(today);
        let (from, _) = previous.day_range();
        let (_, to) = period.day_range();
        let grouper = Grouper::new(self, &dir, group_by)?;
        let mut groups: BTreeMap<String, (Counters, Counters)> = BTreeMap::new();
        let mut total = (Counters::default(), Counters::default());
        let mut cache: HashMap<u32, String> = HashMap::new();
        let rows_read = self
            .store
            .aggregate_rows(cuboid.kind, from, to, |day, a, b, c| {
                let v = [a, b];
                if !filters.iter().all(|(s, set)| set.contains(&v[*s])) {
                    return;
                }
                // The same days of the previous month leave a gap before
                // the period: days in neither are not counted.
                let current = period.contains_day(day);
                if !current && !previous.contains_day(day) {
                    return;
                }
                let side = |pair: &mut (Counters, Counters)| {
                    if current {
                        pair.0.add(c)
                    } else {
                        pair.1.add(c)
                    }
                };
                side(&mut total);
                if let Some(s) = group_slot {
                    let key = cache
                        .entry(v[s])
                        .or_insert_with(|| grouper.key(v[s]))
                        .clone();
                    side(groups.entry(key).or_default());
                }
            })?;
        let rows = groups
            .into_iter()
            .map(|(key, (c, p))| KpiRow {
                label: grouper.label(&key),
                key: key.replace(PLACE_SEP, "/"),
                kpis: compare(&c, &p),
            })
            .collect();
        Ok(KpiReport {
            period,
            previous,
            basis,
            group_by: group_by.map(GroupBy::name),
            total: KpiRow {
                key: String::new(),
                label: "合计".into(),
                kpis: compare(&total.0, &total.1),
            },
            rows,
            rows_read,
        })
    }

    fn cut_filter(&self, dir: &Directory, c: &Cut) -> Result<Filter> {
        let one = |dim, v: u32| Filter {
            dim,
            values: HashSet::from([v]),
        };
        Ok(match c {
            Cut::Channel(ch) => one(Dim::Channel, u32::from(ch.code())),
            Cut::AppealType(a) => one(Dim::Appeal, u32::from(a.code())),
            Cut::Agent(id) => one(Dim::Agent, *id),
            Cut::Unit(u) => {
                if dir.unit(*u).is_none() {
                    return Err(Error::field(
                        "unit_id",
                        format!("单位 {u} 不存在 (unit {u} does not exist)"),
                    ));
                }
                Filter {
                    dim: Dim::Unit,
                    values: dir.tree.subtree(*u),
                }
            }
            Cut::Category(prefix) => {
                if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Error::field(
                        "category",
                        "分类编码应为数字 (a category code is digits)",
                    ));
                }
                let names = self.store.aggregate_names(Dim::Category)?;
                Filter {
                    dim: Dim::Category,
                    values: names
                        .into_iter()
                        .filter(|(_, code)| code.starts_with(prefix.as_str()))
                        .map(|(id, _)| id)
                        .collect(),
                }
            }
            Cut::District(d) => {
                let names = self.store.aggregate_names(Dim::Place)?;
                Filter {
                    dim: Dim::Place,
                    values: names
                        .into_iter()
                        .filter(|(_, p)| split_place(p).0 == d)
                        .map(|(id, _)| id)
                        .collect(),
                }
            }
            Cut::Street { district, street } => {
                let names = self.store.aggregate_names(Dim::Place)?;
                Filter {
                    dim: Dim::Place,
                    values: names
                        .into_iter()
                        .filter(|(_, p)| split_place(p) == (district.as_str(), street.as_str()))
                        .map(|(id, _)| id)
                        .collect(),
                }
            }
        })
    }
}

/// Maps a stored dimension value to its group key, and a key to its label.
struct Grouper<'a> {
    dir: &'a Directory,
    by: Option<GroupBy>,
    names: HashMap<u32, String>,
}

impl<'a> Grouper<'a> {
    fn new(svc: &Services, dir: &'a Directory, by: Option<&GroupBy>) -> Result<Grouper<'a>> {
        let names = match by {
            Some(GroupBy::Category { .. }) => svc.store.aggregate_names(Dim::Category)?,
            Some(GroupBy::District | GroupBy::Street) => svc.store.aggregate_names(Dim::Place)?,
            _ => HashMap::new(),
        };
        if let Some(GroupBy::Category { depth }) = by
            && !(1..=6).contains(depth)
        {
            return Err(Error::field(
                "depth",
                "分类层级应为1到6 (the category depth is 1 to 6)",
            ));
        }
        Ok(Grouper {
            dir,
            by: by.cloned(),
            names,
        })
    }

    fn key(&self, v: u32) -> String {
        let name = || self.names.get(&v).cloned().unwrap_or_default();
        match &self.by {
            None => String::new(),
            Some(GroupBy::Channel) => Channel::from_code(v as u8)
                .map(|c| c.as_str().to_string())
                .unwrap_or_else(|| v.to_string()),
            Some(GroupBy::AppealType) => AppealType::from_code(v as u8)
                .map(|c| c.as_str().to_string())
                .unwrap_or_else(|| v.to_string()),
            Some(GroupBy::Category { depth }) => {
                let code = name();
                code.get(..depth * 2).unwrap_or(&code).to_string()
            }
            Some(GroupBy::District) => split_place(&name()).0.to_string(),
            Some(GroupBy::Street) => name(),
            Some(GroupBy::Unit { top_level }) => {
                let mut id = v;
                if *top_level {
                    while let Some(p) = self.dir.unit(id).and_then(|u| u.parent_id) {
                        id = p;
                    }
                }
                id.to_string()
            }
            Some(GroupBy::Agent) => v.to_string(),
        }
    }

    fn label(&self, key: &str) -> String {
        let id = || key.parse::<u32>().unwrap_or(0);
        match &self.by {
            None => String::new(),
            Some(GroupBy::Channel) => Channel::parse(key)
                .map(|c| c.label_zh().to_string())
                .unwrap_or_else(|| key.to_string()),
            Some(GroupBy::AppealType) => AppealType::parse(key)
                .map(|c| c.label_zh().to_string())
                .unwrap_or_else(|| key.to_string()),
            Some(GroupBy::Category { .. }) => {
                format!("{key} {}", self.dir.category_path(key))
            }
            Some(GroupBy::District) => key.to_string(),
            Some(GroupBy::Street) => {
                let (d, s) = split_place(key);
                format!("{d} {s}").trim().to_string()
            }
            Some(GroupBy::Unit { .. }) => match id() {
                0 => "中心 (无承办单位)".to_string(),
                u => self.dir.unit_name(u),
            },
            Some(GroupBy::Agent) => self.dir.user_name(id()),
        }
    }
}

/// `hotline report-timing`: times the KPI reports over the data dir as a
/// leader reads them and returns Markdown lines for BENCHMARKS.md.
pub fn timing(svc: &Services, until: Option<&str>) -> std::result::Result<String, String> {
    use crate::domain::org::User;
    use crate::domain::types::Role;
    use std::time::Instant;
    let dir = svc.dir();
    let end = match until {
        Some(s) => s
            .parse::<jiff::civil::Date>()
            .map_err(|e| format!("--until: {e}"))?,
        None => {
            let mut last = None;
            svc.store
                .scan(
                    &crate::store::ScanSource::All,
                    crate::domain::ticket::TicketNo(0),
                    crate::domain::ticket::TicketNo(u64::MAX),
                    true,
                    |t| {
                        last = Some(t.number.day());
                        std::ops::ControlFlow::Break(())
                    },
                )
                .map_err(|e| e.to_string())?;
            let d = last.ok_or("no tickets")?;
            jiff::civil::Date::new((d / 10000) as i16, (d / 100 % 100) as i8, (d % 100) as i8)
                .map_err(|e| e.to_string())?
        }
    };
    let leader = Actor {
        user: User {
            id: 0,
            username: "timing".into(),
            display_name: "timing".into(),
            password_hash: String::new(),
            roles: vec![Role::Leader],
            unit_id: None,
            enabled: true,
            created_at: 0,
            password_changed_at: 0,
        },
        scope: Scope::All,
    };
    // The last whole month before `end`'s month (complete data), and the
    // year up to `end`.
    let first = end.first_of_month();
    let prev = first.yesterday().map_err(|e| e.to_string())?;
    let month = Period::month(prev.year(), prev.month())?;
    let year_start = end
        .checked_sub(jiff::Span::new().days(364))
        .map_err(|e| e.to_string())?;
    let year = Period::new(year_start, end)?;
    let top_unit = dir
        .units
        .iter()
        .find(|u| u.parent_id.is_none() && !dir.tree.children(u.id).is_empty())
        .map(|u| u.id);
    let mut cases: Vec<(String, Period, Option<Cut>, Option<GroupBy>)> = vec![];
    for (name, p) in [("month", month), ("year", year)] {
        cases.push((format!("{name}, total"), p, None, None));
        cases.push((
            format!("{name}, by category (level 1)"),
            p,
            None,
            Some(GroupBy::Category { depth: 1 }),
        ));
        cases.push((
            format!("{name}, by category (leaf)"),
            p,
            None,
            Some(GroupBy::Category { depth: 6 }),
        ));
        cases.push((
            format!("{name}, by unit"),
            p,
            None,
            Some(GroupBy::Unit { top_level: false }),
        ));
        cases.push((format!("{name}, by street"), p, None, Some(GroupBy::Street)));
        cases.push((format!("{name}, by agent"), p, None, Some(GroupBy::Agent)));
        if let Some(u) = top_unit {
            cases.push((
                format!("{name}, one unit with sub-units, by category"),
                p,
                Some(Cut::Unit(u)),
                Some(GroupBy::Category { depth: 2 }),
            ));
        }
        cases.push((
            format!("{name}, category 01, by street"),
            p,
            Some(Cut::Category("01".into())),
            Some(GroupBy::Street),
        ));
    }
    let mut out = format!(
        "KPI reports (all figures + previous period + change), month {} – {}, year {} – {}:\n\n| report | rows read | groups | p50 ms | max ms |\n|---|---:|---:|---:|---:|\n",
        month.start, month.end, year.start, year.end
    );
    for (name, p, cut, group) in cases {
        let mut times = vec![];
        let mut last = None;
        for _ in 0..7 {
            let t = Instant::now();
            let r = svc
                .kpis(&leader, p, cut.as_ref(), group.as_ref())
                .map_err(|e| e.to_string())?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            last = Some(r);
        }
        times.sort_by(f64::total_cmp);
        let r = last.expect("ran");
        out.push_str(&format!(
            "| {name} | {} | {} | {:.1} | {:.1} |\n",
            r.rows_read,
            r.rows.len(),
            times[times.len() / 2],
            times[times.len() - 1]
        ));
    }
    let st = svc.store.aggregate_stats().map_err(|e| e.to_string())?;
    out.push_str(&format!(
        "\naggregates: {} rows, {} interned names, {:.1} MB of keys and values in {:.1} MB of B-tree pages; data file {:.1} MB\n",
        st.rows,
        st.names,
        st.stored_bytes as f64 / 1e6,
        st.page_bytes as f64 / 1e6,
        svc.store.file_size() as f64 / 1e6
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;
    use std::sync::Arc;

    use super::*;
    use crate::domain::kpi::Kpi;
    use crate::domain::ticket::TicketNo;
    use crate::store::{ScanSource, Store};

    struct TempDir(std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A demo district of 3,000 tickets over six months before 2026-03-18.
    fn services() -> (TempDir, Services) {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("hotline-reports-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir.join("hotline.redb")).unwrap();
        let opts = crate::demo::DemoOptions {
            tickets: 3_000,
            password: "demo-pass-1".into(),
            seed: 3,
            months: 6,
        };
        let now: jiff::Timestamp = "2026-03-18T15:20:00+08:00".parse().unwrap();
        crate::demo::generate(&store, &opts, now, &mut |_, _| {}).unwrap();
        let svc = Services::new(
            store,
            Arc::new(crate::clock::SystemClock),
            super::super::Paths {
                data_dir: dir.clone(),
            },
            Default::default(),
        )
        .unwrap();
        (TempDir(dir), svc)
    }

    fn actor(svc: &Services, username: &str) -> Actor {
        let u = svc.store.user_by_name(username).unwrap().unwrap();
        Actor::new(u, &svc.dir())
    }

    fn leader(svc: &Services) -> Actor {
        let u = svc
            .store
            .users()
            .unwrap()
            .into_iter()
            .find(|u| u.has(crate::domain::types::Role::Leader))
            .unwrap();
        Actor::new(u, &svc.dir())
    }

    fn fig(r: &KpiRow, k: Kpi) -> (i64, Option<i64>) {
        let v = r.kpis.iter().find(|v| v.kpi == k).unwrap();
        (v.current.num, v.current.den)
    }

    fn prev(r: &KpiRow, k: Kpi) -> i64 {
        r.kpis.iter().find(|v| v.kpi == k).unwrap().previous.num
    }

    /// Tickets created in `p` whose category starts with `prefix`, by scan.
    fn scanned(svc: &Services, p: &Period, prefix: &str) -> i64 {
        let (a, b) = p.day_range();
        let mut n = 0;
        svc.store
            .scan(
                &ScanSource::All,
                TicketNo::day_start(a),
                TicketNo::day_start(b + 1),
                false,
                |t| {
                    if t.category_code.starts_with(prefix) {
                        n += 1;
                    }
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        n
    }

    #[test]
    fn cuts_and_groupings_add_up_and_match_the_tickets() {
        let (_dir, svc) = services();
        let lead = leader(&svc);
        let feb = Period::month(2026, 2).unwrap();
        let all = svc.kpis(&lead, feb, None, None).unwrap();
        assert_eq!(all.previous, Period::month(2026, 1).unwrap());
        assert!(all.rows.is_empty());
        let intake = fig(&all.total, Kpi::Intake).0;
        assert!(intake > 100, "{intake}");
        assert_eq!(intake, scanned(&svc, &feb, ""));
        assert_eq!(
            prev(&all.total, Kpi::Intake),
            scanned(&svc, &all.previous, "")
        );

        // By top-level category: keys are 2-digit codes; the rows add up to
        // the total; a cut by one of them equals its row and the tickets.
        let by_cat = svc
            .kpis(&lead, feb, None, Some(&GroupBy::Category { depth: 1 }))
            .unwrap();
        assert!(by_cat.rows.len() > 1);
        assert!(by_cat.rows.iter().all(|r| r.key.len() == 2));
        assert!(by_cat.rows[0].label.starts_with(&by_cat.rows[0].key));
        let sum: i64 = by_cat.rows.iter().map(|r| fig(r, Kpi::Intake).0).sum();
        assert_eq!(sum, intake);
        assert_eq!(by_cat.total, all.total);
        let first = &by_cat.rows[0];
        let cut = svc
            .kpis(&lead, feb, Some(&Cut::Category(first.key.clone())), None)
            .unwrap();
        assert_eq!(cut.total.kpis, first.kpis);
        assert_eq!(
            fig(&cut.total, Kpi::Intake).0,
            scanned(&svc, &feb, &first.key)
        );

        // Units rolled up to level 2: a cut by a level-2 unit (with its
        // sub-units) equals its row.
        let by_top = svc
            .kpis(&lead, feb, None, Some(&GroupBy::Unit { top_level: true }))
            .unwrap();
        let dir = svc.dir();
        for r in &by_top.rows {
            let id: u32 = r.key.parse().unwrap();
            assert!(id == 0 || dir.unit(id).unwrap().parent_id.is_none());
        }
        let sum: i64 = by_top
            .rows
            .iter()
            .map(|r| fig(r, Kpi::OnTimeSignFor).1.unwrap())
            .sum();
        assert_eq!(Some(sum), fig(&all.total, Kpi::OnTimeSignFor).1);
        let row = by_top
            .rows
            .iter()
            .find(|r| r.key != "0" && fig(r, Kpi::Satisfaction).1 > Some(0))
            .unwrap();
        let u: u32 = row.key.parse().unwrap();
        let cut = svc.kpis(&lead, feb, Some(&Cut::Unit(u)), None).unwrap();
        assert_eq!(cut.total.kpis, row.kpis);

        // A department handler of that unit reads exactly those figures,
        // grouped by category too (the unit × category cuboid)…
        let handler = svc
            .store
            .users()
            .unwrap()
            .into_iter()
            .find(|x| x.unit_id == Some(u))
            .unwrap();
        let own = svc
            .kpis(&actor(&svc, &handler.username), feb, None, None)
            .unwrap();
        assert_eq!(own.total.kpis, row.kpis);
        let own_cat = svc
            .kpis(
                &actor(&svc, &handler.username),
                feb,
                None,
                Some(&GroupBy::Category { depth: 1 }),
            )
            .unwrap();
        assert_eq!(own_cat.total.kpis, row.kpis);
        // …but not another unit's, nor three dimensions at once.
        let other = by_top
            .rows
            .iter()
            .find(|r| r.key != "0" && r.key != row.key)
            .unwrap();
        let err = svc
            .kpis(
                &actor(&svc, &handler.username),
                feb,
                Some(&Cut::Unit(other.key.parse().unwrap())),
                None,
            )
            .unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
        let err = svc
            .kpis(
                &actor(&svc, &handler.username),
                feb,
                Some(&Cut::Category("01".into())),
                Some(&GroupBy::Street),
            )
            .unwrap_err();
        assert!(matches!(err, Error::BadRequest(_)), "{err:?}");
        // An operator reads no reports.
        let op = svc
            .store
            .users()
            .unwrap()
            .into_iter()
            .find(|x| x.roles == vec![crate::domain::types::Role::Operator])
            .unwrap();
        let err = svc
            .kpis(&actor(&svc, &op.username), feb, None, None)
            .unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)));

        // Districts and streets add up; a district cut equals its row.
        let by_d = svc
            .kpis(&lead, feb, None, Some(&GroupBy::District))
            .unwrap();
        let sum: i64 = by_d.rows.iter().map(|r| fig(r, Kpi::Intake).0).sum();
        assert_eq!(sum, intake);
        let d = &by_d.rows[0];
        let cut = svc
            .kpis(&lead, feb, Some(&Cut::District(d.key.clone())), None)
            .unwrap();
        assert_eq!(cut.total.kpis, d.kpis);
        let by_s = svc.kpis(&lead, feb, None, Some(&GroupBy::Street)).unwrap();
        assert!(by_s.rows.len() >= by_d.rows.len());
        assert!(by_s.rows.iter().all(|r| r.key.contains('/')));
        // Channel × appeal type, agent alone.
        let web = svc
            .kpis(
                &lead,
                feb,
                Some(&Cut::Channel(Channel::Web)),
                Some(&GroupBy::AppealType),
            )
            .unwrap();
        let sum: i64 = web.rows.iter().map(|r| fig(r, Kpi::Intake).0).sum();
        assert_eq!(sum, fig(&web.total, Kpi::Intake).0);
        let by_agent = svc.kpis(&lead, feb, None, Some(&GroupBy::Agent)).unwrap();
        assert!(by_agent.rows.iter().any(|r| r.label != r.key));
        // Bad input.
        assert!(
            svc.kpis(&lead, feb, Some(&Cut::Category("0x".into())), None)
                .is_err()
        );
        assert!(
            svc.kpis(&lead, feb, None, Some(&GroupBy::Category { depth: 0 }))
                .is_err()
        );
        assert!(
            svc.kpis(&lead, feb, Some(&Cut::Unit(99_999)), None)
                .is_err()
        );
    }
}
