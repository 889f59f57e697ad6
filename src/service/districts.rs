//! District analysis (issue 6): tickets per district and street for a
//! period, their share, the change against the previous period and the top
//! category, from the `place` and `category × place` cuboids; and the
//! district boundaries for the choropleth map, uploaded once by the
//! administrator as GeoJSON and kept in the settings table
//! (`SETTINGS["district_map"]`, JSON of `domain::geo::Boundaries`).
//!
//! A department user reads the tickets dispatched to their units per place
//! (the `unit × place` cuboid; no top category: that would need three
//! dimensions).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::dashboard::report_scope;
use super::table::{Cell, Column, Table};
use super::{Actor, Services};
use crate::domain::aggregate::{Counter, Dim, split_place};
use crate::domain::geo::{self, Boundaries, Level, Matching};
use crate::domain::kpi::{Change, Figure, Period};
use crate::domain::permissions::Permission;
use crate::error::{Error, Result};

/// The settings key of the district boundaries.
pub const MAP_KEY: &str = "district_map";

/// The most frequent category of a place.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopCategory {
    /// Category code at the second level (or the leaf if shorter).
    pub code: String,
    pub label: String,
    pub count: i64,
}

/// A district or a street.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlaceRow {
    pub name: String,
    pub count: i64,
    pub previous: i64,
    /// Share of the period's total (fraction), `None` if the total is 0.
    pub share: Option<f64>,
    pub change: Change,
    pub top_category: Option<TopCategory>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DistrictRow {
    #[serde(flatten)]
    pub place: PlaceRow,
    pub streets: Vec<PlaceRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DistrictReport {
    pub period: Period,
    pub previous: Period,
    /// `intake` or `dispatches` (a department).
    pub measure: &'static str,
    pub total: i64,
    pub previous_total: i64,
    /// Most tickets first.
    pub districts: Vec<DistrictRow>,
    /// Whether boundaries were uploaded.
    pub has_map: bool,
    /// Aggregate rows read.
    pub rows_read: u64,
}

/// What an upload stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapSummary {
    pub level: Level,
    pub name_property: String,
    pub regions: usize,
    pub points: usize,
    #[serde(flatten)]
    pub matching: Matching,
}

#[derive(Default)]
struct Acc {
    cur: i64,
    prev: i64,
    cats: HashMap<String, i64>,
}

fn row(name: &str, a: &Acc, total: i64, label: &dyn Fn(&str) -> String) -> PlaceRow {
    let top = a
        .cats
        .iter()
        .max_by(|x, y| x.1.cmp(y.1).then_with(|| y.0.cmp(x.0)))
        .filter(|(_, n)| **n > 0)
        .map(|(code, n)| TopCategory {
            code: code.clone(),
            label: label(code),
            count: *n,
        });
    let (c, p) = (
        Figure {
            num: a.cur,
            den: None,
        },
        Figure {
            num: a.prev,
            den: None,
        },
    );
    PlaceRow {
        name: name.to_string(),
        count: a.cur,
        previous: a.prev,
        share: (total > 0).then(|| a.cur as f64 / total as f64),
        change: Change::between(&c, &p),
        top_category: top,
    }
}

/// A district or street as people read it: tickets registered without one
/// are counted under "未填写" (not given), never as an unlabelled row.
pub fn place_label(name: &str) -> &str {
    if name.trim().is_empty() {
        "未填写"
    } else {
        name
    }
}

impl Services {
    /// Tickets per district and street in `period` against the previous
    /// period, as `actor` may see them.
    pub fn district_report(&self, actor: &Actor, period: Period) -> Result<DistrictReport> {
        let scope = report_scope(actor)?;
        let dir = self.dir();
        let names = self.store.aggregate_names(Dim::Place)?;
        let today = self.now().to_zoned(dir.settings.tz()).date();
        let (previous, _) = period.compared_with(today);
        let (from, _) = previous.day_range();
        let (cur_from, to) = period.day_range();
        let mut places: HashMap<u32, Acc> = HashMap::new();
        let mut rows_read = 0;
        let measure = if scope.is_some() {
            Counter::Dispatches
        } else {
            Counter::Intake
        };
        match &scope {
            None => {
                rows_read += self.store.aggregate_rows(4, from, to, |d, p, _, c| {
                    let a = places.entry(p).or_default();
                    if period.contains_day(d) {
                        a.cur += c.get(measure);
                    } else if previous.contains_day(d) {
                        a.prev += c.get(measure);
                    }
                })?;
                let cats = self.store.aggregate_names(Dim::Category)?;
                let mut cat_key: HashMap<u32, String> = HashMap::new();
                rows_read += self
                    .store
                    .aggregate_rows(14, cur_from, to, |_, cat, p, c| {
                        let n = c.get(measure);
                        if n == 0 {
                            return;
                        }
                        let key = cat_key
                            .entry(cat)
                            .or_insert_with(|| {
                                let code = cats.get(&cat).cloned().unwrap_or_default();
                                code.get(..4).unwrap_or(&code).to_string()
                            })
                            .clone();
                        *places.entry(p).or_default().cats.entry(key).or_default() += n;
                    })?;
            }
            Some(units) => {
                rows_read += self.store.aggregate_rows(10, from, to, |d, u, p, c| {
                    if !units.contains(&u) {
                        return;
                    }
                    let a = places.entry(p).or_default();
                    if period.contains_day(d) {
                        a.cur += c.get(measure);
                    } else if previous.contains_day(d) {
                        a.prev += c.get(measure);
                    }
                })?;
            }
        }
        // Roll streets up to districts.
        let mut districts: BTreeMap<String, (Acc, Vec<(String, Acc)>)> = BTreeMap::new();
        for (id, a) in places {
            if a.cur == 0 && a.prev == 0 {
                continue;
            }
            let key = names.get(&id).cloned().unwrap_or_default();
            let (d, s) = split_place(&key);
            let e = districts.entry(d.to_string()).or_default();
            e.0.cur += a.cur;
            e.0.prev += a.prev;
            for (k, n) in &a.cats {
                *e.0.cats.entry(k.clone()).or_default() += n;
            }
            e.1.push((s.to_string(), a));
        }
        let total: i64 = districts.values().map(|(a, _)| a.cur).sum();
        let previous_total: i64 = districts.values().map(|(a, _)| a.prev).sum();
        let label = |code: &str| format!("{code} {}", dir.category_path(code));
        let mut out: Vec<DistrictRow> = districts
            .into_iter()
            .map(|(name, (acc, streets))| {
                let mut streets: Vec<PlaceRow> = streets
                    .iter()
                    .map(|(s, a)| row(s, a, total, &label))
                    .collect();
                streets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
                DistrictRow {
                    place: row(&name, &acc, total, &label),
                    streets,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.place
                .count
                .cmp(&a.place.count)
                .then_with(|| a.place.name.cmp(&b.place.name))
        });
        Ok(DistrictReport {
            period,
            previous,
            measure: if scope.is_some() {
                "dispatches"
            } else {
                "intake"
            },
            total,
            previous_total,
            districts: out,
            has_map: self.store.named_setting(MAP_KEY)?.is_some(),
            rows_read,
        })
    }

    /// The stored district boundaries, if any (every reader of reports).
    pub fn district_map(&self, actor: &Actor) -> Result<Option<Boundaries>> {
        report_scope(actor)?;
        match self.store.named_setting(MAP_KEY)? {
            None => Ok(None),
            Some(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| Error::internal(format!("stored district map: {e}"))),
        }
    }

    /// Names of the districts (or streets) in the aggregates.
    fn place_names(&self, level: Level) -> Result<HashSet<String>> {
        Ok(self
            .store
            .aggregate_names(Dim::Place)?
            .values()
            .map(|p| {
                let (d, s) = split_place(p);
                match level {
                    Level::District => d.to_string(),
                    Level::Street => s.to_string(),
                }
            })
            .filter(|n| !n.is_empty())
            .collect())
    }

    /// Validates and stores the district boundaries (administrators),
    /// replacing earlier ones. Bad files are refused with the reason (400).
    pub fn save_district_map(
        &self,
        actor: &Actor,
        geojson: &[u8],
        name_property: Option<&str>,
        level: Level,
    ) -> Result<MapSummary> {
        actor.require(Permission::Administer)?;
        let known = self.place_names(level)?;
        let b = geo::parse(geojson, name_property, level, &known).map_err(Error::BadRequest)?;
        let matching = geo::matching(&b, &known);
        let json = serde_json::to_vec(&b).map_err(Error::internal)?;
        self.store.save_named_setting(MAP_KEY, Some(&json))?;
        self.audit(
            actor.user.id,
            "district_map.upload",
            level.as_str(),
            &format!(
                "{} regions, {} points, property {:?}, unmatched: {}",
                b.regions.len(),
                b.points,
                b.name_property,
                matching.unmatched.join("、")
            ),
        );
        Ok(MapSummary {
            level: b.level,
            name_property: b.name_property,
            regions: b.regions.len(),
            points: b.points,
            matching,
        })
    }

    /// Removes the district boundaries (administrators).
    pub fn delete_district_map(&self, actor: &Actor) -> Result<()> {
        actor.require(Permission::Administer)?;
        self.store.save_named_setting(MAP_KEY, None)?;
        self.audit(actor.user.id, "district_map.delete", "", "");
        Ok(())
    }

    /// How the stored map's names meet the data (for the page).
    pub fn district_map_matching(&self, b: &Boundaries) -> Result<Matching> {
        Ok(geo::matching(b, &self.place_names(b.level)?))
    }
}

/// The report as tables for the page and the export: districts, then every
/// street with its district.
pub fn district_tables(r: &DistrictReport) -> Vec<Table> {
    let what = if r.measure == "dispatches" {
        "派单量"
    } else {
        "受理量"
    };
    let cols = |first: Vec<Column>| {
        let mut c = first;
        c.extend([
            Column::new("count", what),
            Column::new("share", "占比"),
            Column::new("previous", "上期"),
            Column::new("change", "环比"),
            Column::new("top_category", "最多的分类"),
        ]);
        c
    };
    let cells = |p: &PlaceRow| {
        vec![
            Cell::Int(p.count),
            Cell::Rate(p.share),
            Cell::Int(p.previous),
            Cell::Change(p.change.percent.map(|v| v / 100.0)),
            Cell::Text(
                p.top_category
                    .as_ref()
                    .map(|t| format!("{}（{}）", t.label, t.count))
                    .unwrap_or_default(),
            ),
        ]
    };
    let period = format!("{} 至 {}", r.period.start, r.period.end);
    let mut d = Table::new(
        format!("区县{what} {period}"),
        cols(vec![Column::new("district", "区县")]),
    );
    let mut s = Table::new(
        format!("街道{what} {period}"),
        cols(vec![
            Column::new("district", "区县"),
            Column::new("street", "街道"),
        ]),
    );
    for row in &r.districts {
        let name = place_label(&row.place.name).to_string();
        let mut c = vec![Cell::Text(name.clone())];
        c.extend(cells(&row.place));
        d.push(c);
        for st in &row.streets {
            let mut c = vec![
                Cell::Text(name.clone()),
                Cell::Text(place_label(&st.name).to_string()),
            ];
            c.extend(cells(st));
            s.push(c);
        }
    }
    let mut c = vec![Cell::Text("合计".into())];
    let total = Change::between(
        &Figure {
            num: r.total,
            den: None,
        },
        &Figure {
            num: r.previous_total,
            den: None,
        },
    );
    c.extend([
        Cell::Int(r.total),
        Cell::Rate((r.total > 0).then_some(1.0)),
        Cell::Int(r.previous_total),
        Cell::Change(total.percent.map(|v| v / 100.0)),
        Cell::Text(String::new()),
    ]);
    d.push(c);
    vec![d, s]
}

impl Services {
    /// The period of `from`/`to` (`YYYY-MM-DD`, both optional): by default
    /// this month up to today.
    pub fn report_period(&self, from: Option<&str>, to: Option<&str>) -> Result<Period> {
        let today = self.now().to_zoned(self.dir().settings.tz()).date();
        let date = |field: &str, v: Option<&str>| -> Result<Option<jiff::civil::Date>> {
            match v.map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => s.parse::<jiff::civil::Date>().map(Some).map_err(|_| {
                    Error::field(
                        field,
                        format!("日期应为 YYYY-MM-DD：{s} (a date is YYYY-MM-DD)"),
                    )
                }),
            }
        };
        let to_d = date("to", to)?.unwrap_or(today);
        let from_d = date("from", from)?.unwrap_or_else(|| to_d.first_of_month());
        Period::new(from_d, to_d).map_err(|m| Error::field("from", m))
    }
}
