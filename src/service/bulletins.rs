//! Bulletins (issue 6): daily, weekly, monthly, quarterly and annual
//! reports assembled from the aggregates, the hot-word counts and the
//! difficult-case index; spikes; the archive of issued bulletins and the
//! schedule that issues them.
//!
//! Who does what:
//! - **read** a bulletin (live preview or issued), the spikes: people with
//!   `Permission::ReadReports` (leaders, team leads, administrators, QA
//!   inspectors) and department users. A bulletin is a center publication:
//!   its figures are center-wide. Department users see, among the
//!   difficult cases, only tickets of their units (`Scope::sees`); the
//!   frozen list of an issued bulletin is filtered the same way when read.
//! - **issue** one by hand (or re-issue it, which replaces the archived one
//!   and is audited): `Permission::IssueBulletins` — team leads and
//!   administrators. Leaders read only. Only complete periods (ended before
//!   today) can be issued.
//! - the **schedule** (`run_bulletin_schedule`, driven by the server every
//!   30 seconds) issues yesterday's daily at the configured time (default
//!   07:00), last week's on Monday, last month's on the 1st, last quarter's
//!   and last year's, and catches up missed ones (7 days, 2 weeks, 2 months,
//!   1 quarter, 1 year back) that are not archived yet.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::reports::{GroupBy, KpiReport};
use super::table::{Cell, Column, Table};
use super::{Actor, Services};
use crate::domain::aggregate::{Counter, Dim, split_place};
use crate::domain::bulletin::{
    BulletinKind, DifficultKind, IssueRecord, SpikeRule, due_bulletins, find_spikes, hot_words,
    rising_words,
};
use crate::domain::kpi::{Kpi, KpiValue, Period};
use crate::domain::org::User;
use crate::domain::permissions::{Permission, Scope};
use crate::domain::ticket::TicketNo;
use crate::domain::types::Role;
use crate::error::{Error, Result};

/// The version of the archived JSON; readers accept this and older ones.
pub const FORMAT: u32 = 1;

/// Difficult cases listed in a bulletin (the summary counts them all).
pub const MAX_DIFFICULT: usize = 100;
/// Hot words listed.
pub const HOT_WORDS: usize = 20;

/// A street × top-level category far above its own baseline on a day
/// (see `domain::bulletin` for the rule).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Spike {
    /// `YYYY-MM-DD`.
    #[schema(value_type = String)]
    pub day: Date,
    pub district: String,
    pub street: String,
    /// The top-level category code (2 digits).
    pub category: String,
    pub category_name: String,
    /// Tickets of the street and category on the day.
    pub count: u64,
    /// Mean tickets per day over the 28 days before.
    pub baseline: f64,
    /// The count that makes a spike on this baseline.
    pub threshold: f64,
}

/// One difficult case of a bulletin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DifficultCase {
    /// `YYYY-MM-DD` of what happened.
    #[schema(value_type = String)]
    pub day: Date,
    pub number: String,
    pub title: String,
    /// The unit(s) it happened at.
    pub unit: String,
    /// What happened (重办 / 回访不满意 / 红牌), joined.
    pub what: String,
    /// Units the ticket was ever assigned to (visibility; not shown).
    pub units_seen: Vec<u32>,
}

/// A bulletin: every figure and table of one period, as issued (frozen in
/// the archive as JSON) or previewed. Every table is a [`Table`] (export).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Bulletin {
    /// [`FORMAT`] of the data.
    pub format: u32,
    #[schema(value_type = String)]
    pub kind: BulletinKind,
    /// The period key (`2026-W47` …).
    pub key: String,
    pub title: String,
    pub center: String,
    #[schema(value_type = String)]
    pub start: Date,
    #[schema(value_type = String)]
    pub end: Date,
    #[schema(value_type = String)]
    pub previous_start: Date,
    #[schema(value_type = String)]
    pub previous_end: Date,
    /// When the data was computed (unix seconds).
    pub generated_at: i64,
    /// Headline figures: KPI, this period, the previous one, the change.
    #[schema(value_type = Object)]
    pub headline: Table,
    /// Intake per day (per month for the annual report) with the previous
    /// period's same day (month) alongside.
    #[schema(value_type = Object)]
    pub trend: Table,
    #[schema(value_type = Object)]
    pub channels: Table,
    #[schema(value_type = Object)]
    pub appeal_types: Table,
    /// Top-level categories by intake with the change.
    #[schema(value_type = Object)]
    pub categories: Table,
    /// Second-level categories (top 15) by intake with the change.
    #[schema(value_type = Object)]
    pub subcategories: Table,
    #[schema(value_type = Object)]
    pub hot_words: Table,
    #[schema(value_type = Object)]
    pub rising_words: Table,
    pub spikes: Vec<Spike>,
    /// Difficult cases counted by kind (every one of the period).
    #[schema(value_type = Object)]
    pub difficult_summary: Table,
    /// At most [`MAX_DIFFICULT`] cases, most recent first.
    pub difficult: Vec<DifficultCase>,
    /// KPIs by level-2 unit (with sub-units).
    #[schema(value_type = Object)]
    pub units: Table,
    /// The department assessment ranking (filled by the assessment when it
    /// exists; `None` until then).
    #[schema(value_type = Option<Object>)]
    pub ranking: Option<Table>,
}

impl Bulletin {
    /// Every table, in page order (what the export writes).
    pub fn tables(&self) -> Vec<Table> {
        let mut v = vec![
            self.headline.clone(),
            self.trend.clone(),
            self.channels.clone(),
            self.appeal_types.clone(),
            self.categories.clone(),
            self.subcategories.clone(),
            self.hot_words.clone(),
            self.rising_words.clone(),
            spikes_table(&self.spikes),
            self.difficult_summary.clone(),
            difficult_table(&self.difficult),
            self.units.clone(),
        ];
        if let Some(r) = &self.ranking {
            v.push(r.clone());
        }
        v
    }

    /// The bulletin as `actor` may read it: difficult cases of other units
    /// removed for department users.
    fn for_reader(mut self, actor: &Actor) -> Bulletin {
        self.difficult.retain(|c| actor.scope.sees(&c.units_seen));
        self
    }
}

pub fn spikes_table(spikes: &[Spike]) -> Table {
    let mut t = Table::new(
        "异常聚集（街道 × 分类）",
        vec![
            Column::new("day", "日期"),
            Column::new("district", "区"),
            Column::new("street", "街道"),
            Column::new("category", "分类"),
            Column::new("count", "当日工单"),
            Column::new("baseline", "前28日日均"),
            Column::new("threshold", "阈值"),
        ],
    );
    for s in spikes {
        t.push(vec![
            Cell::Text(s.day.to_string()),
            Cell::Text(s.district.clone()),
            Cell::Text(s.street.clone()),
            Cell::Text(format!("{} {}", s.category, s.category_name)),
            Cell::Int(s.count as i64),
            Cell::Number {
                value: Some(s.baseline),
                decimals: 1,
            },
            Cell::Number {
                value: Some(s.threshold),
                decimals: 1,
            },
        ]);
    }
    t
}

pub fn difficult_table(cases: &[DifficultCase]) -> Table {
    let mut t = Table::new(
        "疑难工单",
        vec![
            Column::new("day", "日期"),
            Column::new("number", "工单编号"),
            Column::new("title", "标题"),
            Column::new("unit", "承办单位"),
            Column::new("what", "情况"),
        ],
    );
    for c in cases {
        t.push(vec![
            Cell::Text(c.day.to_string()),
            Cell::Text(c.number.clone()),
            Cell::Text(c.title.clone()),
            Cell::Text(c.unit.clone()),
            Cell::Text(c.what.clone()),
        ]);
    }
    t
}

/// An issued bulletin as read back from the archive.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Issued {
    /// `YYYY-MM-DD HH:MM` in the center's zone.
    pub issued_at: String,
    /// Who issued it ("定时发布" for the schedule).
    pub issued_by: String,
    /// How many times it was issued.
    pub issues: u32,
    pub bulletin: Bulletin,
}

/// One line of the archive list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IssuedItem {
    #[schema(value_type = String)]
    pub kind: BulletinKind,
    pub key: String,
    #[schema(value_type = String)]
    pub start: Date,
    #[schema(value_type = String)]
    pub end: Date,
    pub issued_at: String,
    pub issued_by: String,
    pub issues: u32,
}

/// The schedule's settings (stored in the settings table as JSON under
/// [`SCHEDULE_KEY`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct BulletinSchedule {
    pub enabled: bool,
    /// Local time of day `HH:MM` at which due bulletins are issued.
    pub time: String,
}

impl Default for BulletinSchedule {
    fn default() -> Self {
        BulletinSchedule {
            enabled: true,
            time: "07:00".into(),
        }
    }
}

impl BulletinSchedule {
    fn at(&self) -> Time {
        parse_time(&self.time).unwrap_or(Time::constant(7, 0, 0, 0))
    }
}

fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() > 2 || m.len() != 2 {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

pub const SCHEDULE_KEY: &str = "bulletin_schedule";

/// The reader of the center's figures when a bulletin is computed.
fn center_reader() -> Actor {
    Actor {
        user: User {
            id: 0,
            username: "bulletin".into(),
            display_name: "定时发布".into(),
            password_hash: String::new(),
            roles: vec![Role::Leader],
            unit_id: None,
            enabled: true,
            created_at: 0,
            password_changed_at: 0,
        },
        scope: Scope::All,
    }
}

fn ymd(d: u32) -> Option<Date> {
    Date::new((d / 10000) as i16, (d / 100 % 100) as i8, (d % 100) as i8).ok()
}

fn int_of(v: &[KpiValue], k: Kpi) -> (i64, i64) {
    v.iter()
        .find(|x| x.kpi == k)
        .map(|x| (x.current.num, x.previous.num))
        .unwrap_or((0, 0))
}

fn rel_change(cur: i64, prev: i64) -> Option<f64> {
    (prev > 0).then(|| cur as f64 / prev as f64 - 1.0)
}

impl Services {
    /// Whether `actor` may read bulletins and spikes.
    fn may_read_bulletins(&self, actor: &Actor) -> Result<()> {
        if actor.can(Permission::ReadReports)
            || (actor.scope.is_department() && actor.user.unit_id.is_some())
        {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "您无权查看简报 (you may not read bulletins)".into(),
            ))
        }
    }

    /// The spikes of one local day: every street × top-level category whose
    /// count that day reaches `max(5, mean + 3·√mean + 2)` over its mean of
    /// the 28 days before (see `domain::bulletin`), largest excess first.
    /// Readers: as bulletins (ReadReports, department users). Reads the
    /// stored cuboid Category × Place over 29 days.
    pub fn spikes(&self, actor: &Actor, day: Date) -> Result<Vec<Spike>> {
        self.may_read_bulletins(actor)?;
        self.spikes_in(Period::day(day))
    }

    /// Spikes on every day of `period`.
    fn spikes_in(&self, period: Period) -> Result<Vec<Spike>> {
        let rule = SpikeRule::default();
        let dir = self.dir();
        let first = period
            .start
            .checked_sub(jiff::Span::new().days(i64::from(rule.baseline_days)))
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        let days = (period.end - first).get_days() as usize + 1;
        let cats = self.store.aggregate_names(Dim::Category)?;
        // Category id → top-level code index; place id → index.
        let mut top_codes: Vec<String> = vec![];
        let mut top_of: HashMap<u32, usize> = HashMap::new();
        for (id, code) in &cats {
            let top = code.get(..2).unwrap_or(code).to_string();
            let i = match top_codes.iter().position(|c| *c == top) {
                Some(i) => i,
                None => {
                    top_codes.push(top);
                    top_codes.len() - 1
                }
            };
            top_of.insert(*id, i);
        }
        // (place id, top index) → intake per day of [first, end].
        let mut series: HashMap<(u32, usize), Vec<u32>> = HashMap::new();
        let (from, _) = Period::day(first).day_range();
        let (_, to) = period.day_range();
        let mut day_index: HashMap<u32, usize> = HashMap::new();
        self.store
            .aggregate_rows(14, from, to, |d, cat, place, c| {
                let n = c.get(Counter::Intake);
                if n <= 0 {
                    return;
                }
                let Some(top) = top_of.get(&cat) else { return };
                let i = *day_index.entry(d).or_insert_with(|| {
                    ymd(d)
                        .map(|x| (x - first).get_days() as usize)
                        .unwrap_or(usize::MAX)
                });
                if i >= days {
                    return;
                }
                series.entry((place, *top)).or_insert_with(|| vec![0; days])[i] += n as u32;
            })?;
        let places = self.store.aggregate_names(Dim::Place)?;
        let base_n = rule.baseline_days as usize;
        let mut out = vec![];
        for i in base_n..days {
            let mut today: HashMap<(u32, usize), u64> = HashMap::new();
            let mut base: HashMap<(u32, usize), u64> = HashMap::new();
            for (k, s) in &series {
                if s[i] == 0 {
                    continue;
                }
                today.insert(*k, u64::from(s[i]));
                base.insert(*k, s[i - base_n..i].iter().map(|v| u64::from(*v)).sum());
            }
            let day = first
                .checked_add(jiff::Span::new().days(i as i64))
                .map_err(|e| Error::BadRequest(e.to_string()))?;
            for h in find_spikes(&today, &base, &rule) {
                let (place, top) = h.key;
                let name = places.get(&place).cloned().unwrap_or_default();
                let (district, street) = split_place(&name);
                let code = top_codes[top].clone();
                out.push(Spike {
                    day,
                    district: district.to_string(),
                    street: street.to_string(),
                    category_name: dir
                        .category(&code)
                        .map(|c| c.name.clone())
                        .unwrap_or_default(),
                    category: code,
                    count: h.count,
                    baseline: h.baseline,
                    threshold: h.threshold,
                });
            }
        }
        Ok(out)
    }

    /// The live bulletin of `kind` for `period` (a whole period of the kind)
    /// as `actor` may read it.
    pub fn bulletin(&self, actor: &Actor, kind: BulletinKind, period: Period) -> Result<Bulletin> {
        self.may_read_bulletins(actor)?;
        if kind.period_containing(period.start) != period {
            return Err(Error::field(
                "from",
                format!(
                    "{}的统计区间应为完整的{} (the period must be one whole {} period)",
                    kind.label_zh(),
                    kind.label_zh(),
                    kind.as_str()
                ),
            ));
        }
        let b = self.compute_bulletin(kind, period, Some(actor))?;
        Ok(b.for_reader(actor))
    }

    /// Computes a bulletin with center-wide figures. `reader`: the
    /// difficult cases are chosen among the tickets `reader` sees (None:
    /// all, for the archive).
    fn compute_bulletin(
        &self,
        kind: BulletinKind,
        period: Period,
        reader: Option<&Actor>,
    ) -> Result<Bulletin> {
        let center = center_reader();
        let dir = self.dir();
        let today = self.now().to_zoned(dir.settings.tz()).date();
        let (prev, _) = period.compared_with(today);
        let total = self.kpis(&center, period, None, None)?;
        let headline = headline_table(&total);
        let trend = self.trend_table(kind, period, prev)?;
        let by = |g: GroupBy| self.kpis(&center, period, None, Some(&g));
        let channels = intake_table("受理渠道", "channel", &by(GroupBy::Channel)?, usize::MAX);
        let appeal_types = intake_table(
            "诉求类型",
            "appeal_type",
            &by(GroupBy::AppealType)?,
            usize::MAX,
        );
        let categories = intake_table(
            "一级分类",
            "category",
            &by(GroupBy::Category { depth: 1 })?,
            usize::MAX,
        );
        let subcategories = intake_table(
            "二级分类（前15）",
            "category",
            &by(GroupBy::Category { depth: 2 })?,
            15,
        );
        let (hot_words, rising_words) = self.word_tables(period, prev)?;
        let spikes = self.spikes_in(period)?;
        let (difficult_summary, difficult) = self.difficult_cases(period, reader)?;
        let units = units_table(&by(GroupBy::Unit { top_level: true })?);
        // The department assessment over the same period (center-wide:
        // a ranking is names and scores, never tickets).
        let ranking = Some(super::ranking::ranking_table(
            &self.ranking(&center, period)?,
        ));
        let key = kind.key(period);
        Ok(Bulletin {
            format: FORMAT,
            kind,
            title: format!(
                "{}{}（{}）",
                dir.settings.center_name,
                kind.label_zh(),
                crate::domain::bulletin::period_name_zh(&key)
            ),
            key,
            center: dir.settings.center_name.clone(),
            start: period.start,
            end: period.end,
            previous_start: prev.start,
            previous_end: prev.end,
            generated_at: self.now().as_second(),
            headline,
            trend,
            channels,
            appeal_types,
            categories,
            subcategories,
            hot_words,
            rising_words,
            spikes,
            difficult_summary,
            difficult,
            units,
            ranking,
        })
    }

    fn trend_table(&self, kind: BulletinKind, period: Period, prev: Period) -> Result<Table> {
        let mut per_day: BTreeMap<u32, i64> = BTreeMap::new();
        let (from, _) = prev.day_range();
        let (_, to) = period.day_range();
        self.store.aggregate_rows(0, from, to, |d, _, _, c| {
            *per_day.entry(d).or_default() += c.get(Counter::Intake);
        })?;
        let by_month = kind.trend_by_month();
        // Buckets of a period: (label, [first, last]) day ranges.
        let buckets = |p: Period| -> Vec<(String, u32, u32)> {
            let mut v = vec![];
            let mut d = p.start;
            while d <= p.end {
                if by_month {
                    let end = d.last_of_month().min(p.end);
                    v.push((
                        format!("{}月", d.month()),
                        TicketNo::day_of(d),
                        TicketNo::day_of(end),
                    ));
                    d = match end.tomorrow() {
                        Ok(x) => x,
                        Err(_) => break,
                    };
                } else {
                    let label = if kind == BulletinKind::Daily {
                        d.to_string()
                    } else {
                        format!("{}/{}", d.month(), d.day())
                    };
                    v.push((label, TicketNo::day_of(d), TicketNo::day_of(d)));
                    d = match d.tomorrow() {
                        Ok(x) => x,
                        Err(_) => break,
                    };
                }
            }
            v
        };
        let sum = |a: u32, b: u32| -> i64 { per_day.range(a..=b).map(|(_, v)| *v).sum() };
        let cur = buckets(period);
        let old = buckets(prev);
        let mut t = Table::new(
            if by_month {
                "受理量趋势（按月）"
            } else {
                "受理量趋势（按日）"
            },
            vec![
                Column::new("label", if by_month { "月份" } else { "日期" }),
                Column::new("intake", "本期受理"),
                Column::new("previous", "上期同期"),
            ],
        );
        for (i, (label, a, b)) in cur.iter().enumerate() {
            let p = old.get(i).map(|(_, a, b)| sum(*a, *b));
            t.push(vec![
                Cell::Text(label.clone()),
                Cell::Int(sum(*a, *b)),
                p.map(Cell::Int).unwrap_or(Cell::Text(String::new())),
            ]);
        }
        Ok(t)
    }

    /// The words of the place names the center knows (its units: district,
    /// streets, communities), for [`crate::domain::bulletin::is_hot_word`].
    fn hot_word_places(&self) -> std::collections::HashSet<String> {
        let dir = self.dir();
        crate::domain::bulletin::place_words(
            dir.units.iter().map(|u| u.name.as_str()),
            crate::search::tokenize::plain_words,
        )
    }

    fn word_tables(&self, period: Period, prev: Period) -> Result<(Table, Table)> {
        let (a, b) = period.day_range();
        let (pa, pb) = prev.day_range();
        let cur = self.store.word_counts(a, b)?;
        let old = self.store.word_counts(pa, pb)?;
        // Names only for the 300 most frequent words of the period (the
        // hot and the rising words are among them in practice).
        let mut ids: Vec<(u32, u64)> = cur.iter().map(|(k, v)| (*k, *v)).collect();
        ids.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        // More than are shown: filler and place names are dropped below.
        ids.truncate(600);
        let places = self.hot_word_places();
        let names = self.store.word_names(ids.iter().map(|(k, _)| *k))?;
        let mut c: HashMap<String, u64> = HashMap::new();
        let mut p: HashMap<String, u64> = HashMap::new();
        for (id, n) in &ids {
            // Counted under an older stop list, a filler word or a piece
            // of an address: not a hot word.
            if let Some(w) = names.get(id)
                && crate::domain::bulletin::is_hot_word(w, &places)
            {
                c.insert(w.clone(), *n);
                p.insert(w.clone(), old.get(id).copied().unwrap_or(0));
            }
        }
        let cols = || {
            vec![
                Column::new("word", "热词"),
                Column::new("count", "本期工单"),
                Column::new("previous", "上期工单"),
                Column::new("change", "变化"),
            ]
        };
        let fill = |title: &str, words: Vec<crate::domain::bulletin::HotWord>| {
            let mut t = Table::new(title, cols());
            for w in words {
                t.push(vec![
                    Cell::Text(w.word),
                    Cell::Int(w.count as i64),
                    Cell::Int(w.previous as i64),
                    Cell::Change(w.change),
                ]);
            }
            t
        };
        Ok((
            fill("热词", hot_words(&c, &p, HOT_WORDS)),
            fill("上升最快的词", rising_words(&c, &p, 3, 10)),
        ))
    }

    /// The difficult-case summary of a period and up to [`MAX_DIFFICULT`]
    /// cases, most recent first — among the tickets `reader` sees.
    fn difficult_cases(
        &self,
        period: Period,
        reader: Option<&Actor>,
    ) -> Result<(Table, Vec<DifficultCase>)> {
        let dir = self.dir();
        let (a, b) = period.day_range();
        let rows = self.store.difficult_rows(a, b)?;
        let mut counts: BTreeMap<u8, (HashSet<u64>, u64)> = BTreeMap::new();
        for r in &rows {
            for (k, _) in &r.marks {
                let e = counts.entry(*k).or_default();
                e.0.insert(r.ticket);
                e.1 += 1;
            }
        }
        let mut summary = Table::new(
            "疑难工单统计",
            vec![
                Column::new("kind", "情况"),
                Column::new("tickets", "工单数"),
                Column::new("times", "次数"),
            ],
        );
        for k in DifficultKind::ALL {
            let (t, n) = counts
                .get(&k.code())
                .map(|(s, n)| (s.len() as i64, *n as i64))
                .unwrap_or((0, 0));
            summary.push(vec![
                Cell::Text(k.label_zh().into()),
                Cell::Int(t),
                Cell::Int(n),
            ]);
        }
        // Department readers: only marks at their units are candidates
        // (then the ticket's own visibility decides).
        let units: Option<&HashSet<u32>> = match reader.map(|r| &r.scope) {
            Some(Scope::Units(u)) => Some(u),
            _ => None,
        };
        let mut out = vec![];
        let mut seen: HashSet<u64> = HashSet::new();
        for r in rows.iter().rev() {
            if out.len() >= MAX_DIFFICULT {
                break;
            }
            if let Some(u) = units
                && !r.marks.iter().any(|(_, unit)| u.contains(unit))
            {
                continue;
            }
            let Some(t) = self.store.ticket(TicketNo(r.ticket))? else {
                continue;
            };
            if let Some(rd) = reader
                && !rd.scope.sees(&t.units_seen)
            {
                continue;
            }
            // One line per ticket and day; a ticket recurs on other days.
            if !seen.insert(r.ticket ^ (u64::from(r.day) << 40)) {
                continue;
            }
            let mut what: Vec<&str> = r
                .marks
                .iter()
                .filter_map(|(k, _)| DifficultKind::from_code(*k).map(|k| k.label_zh()))
                .collect();
            what.dedup();
            let mut unit_ids: Vec<u32> = r.marks.iter().map(|(_, u)| *u).collect();
            unit_ids.sort();
            unit_ids.dedup();
            let unit = unit_ids
                .iter()
                .map(|u| match u {
                    0 => "中心".to_string(),
                    u => dir.unit_name(*u),
                })
                .collect::<Vec<_>>()
                .join("、");
            out.push(DifficultCase {
                day: ymd(r.day).unwrap_or(period.start),
                number: t.number.to_string(),
                title: t.title.clone(),
                unit,
                what: what.join("、"),
                units_seen: t.units_seen.clone(),
            });
        }
        Ok((summary, out))
    }

    // ---- the archive ----

    /// Issues the bulletin of `kind` for the period with key `key` by hand
    /// (team leads and administrators), replacing an issued one; audited.
    pub fn issue_bulletin(
        &self,
        actor: &Actor,
        kind: BulletinKind,
        key: &str,
    ) -> Result<IssuedItem> {
        actor.require(Permission::IssueBulletins)?;
        let period = kind.parse_key(key).map_err(|m| Error::field("key", m))?;
        let today = self.now().to_zoned(self.dir().settings.tz()).date();
        if period.end >= today {
            return Err(Error::field(
                "key",
                "只能发布已结束的统计期 (only a period that has ended can be issued)",
            ));
        }
        let rec = self.issue(kind, period, actor.user.id)?;
        let action = if rec.issues > 1 {
            "bulletin.reissue"
        } else {
            "bulletin.issue"
        };
        self.audit(
            actor.user.id,
            action,
            &format!("{}/{}", kind.as_str(), rec.key),
            &format!("第{}次发布 (issue {})", rec.issues, rec.issues),
        );
        Ok(self.item(rec))
    }

    fn issue(&self, kind: BulletinKind, period: Period, by: u32) -> Result<IssueRecord> {
        let b = self.compute_bulletin(kind, period, None)?;
        let data = serde_json::to_vec(&b).map_err(|e| Error::Internal(e.to_string()))?;
        let rec = IssueRecord {
            kind,
            key: b.key.clone(),
            start: period.start,
            end: period.end,
            issued_at: self.now().as_second(),
            issued_by: by,
            issues: 0,
        };
        Ok(self.store.put_bulletin(rec, &data)?)
    }

    fn item(&self, r: IssueRecord) -> IssuedItem {
        let dir = self.dir();
        IssuedItem {
            kind: r.kind,
            key: r.key,
            start: r.start,
            end: r.end,
            issued_at: super::views::fmt_time(r.issued_at, &dir),
            issued_by: if r.issued_by == 0 {
                "定时发布".into()
            } else {
                dir.user_name(r.issued_by)
            },
            issues: r.issues,
        }
    }

    /// Issued bulletins of one kind, newest first.
    pub fn issued_bulletins(
        &self,
        actor: &Actor,
        kind: BulletinKind,
        limit: usize,
    ) -> Result<Vec<IssuedItem>> {
        self.may_read_bulletins(actor)?;
        Ok(self
            .store
            .bulletin_issues(kind.code(), limit.clamp(1, 1000))?
            .into_iter()
            .map(|r| self.item(r))
            .collect())
    }

    /// An issued bulletin exactly as it was frozen (difficult cases
    /// filtered for department readers).
    pub fn issued_bulletin(&self, actor: &Actor, kind: BulletinKind, key: &str) -> Result<Issued> {
        self.may_read_bulletins(actor)?;
        let period = kind.parse_key(key).map_err(|m| Error::field("key", m))?;
        let not_found = || {
            Error::NotFound(format!(
                "{}（{}）尚未发布 (this bulletin has not been issued)",
                kind.label_zh(),
                kind.key(period)
            ))
        };
        let (rec, data) = self
            .store
            .bulletin(kind.code(), TicketNo::day_of(period.start))?
            .ok_or_else(not_found)?;
        let b: Bulletin = serde_json::from_slice(&data)
            .map_err(|e| Error::Internal(format!("archived bulletin {}: {e}", rec.key)))?;
        if b.format > FORMAT {
            return Err(Error::Internal(format!(
                "archived bulletin {} has format {}, newer than this program",
                rec.key, b.format
            )));
        }
        let item = self.item(rec);
        Ok(Issued {
            issued_at: item.issued_at,
            issued_by: item.issued_by,
            issues: item.issues,
            bulletin: b.for_reader(actor),
        })
    }

    // ---- the schedule ----

    pub fn bulletin_schedule(&self) -> BulletinSchedule {
        self.store
            .bulletin_schedule_json(SCHEDULE_KEY)
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_slice(&v).ok())
            .unwrap_or_default()
    }

    /// Changes the schedule (administrators); audited.
    pub fn set_bulletin_schedule(&self, actor: &Actor, s: BulletinSchedule) -> Result<()> {
        actor.require(Permission::Administer)?;
        let t = parse_time(&s.time).ok_or_else(|| {
            Error::field("time", "发布时间应为 HH:MM，如 07:00 (the time is HH:MM)")
        })?;
        let s = BulletinSchedule {
            enabled: s.enabled,
            time: format!("{:02}:{:02}", t.hour(), t.minute()),
        };
        let v = serde_json::to_vec(&s).map_err(|e| Error::Internal(e.to_string()))?;
        self.store.save_bulletin_schedule_json(SCHEDULE_KEY, &v)?;
        self.audit(
            actor.user.id,
            "bulletin.schedule",
            SCHEDULE_KEY,
            &format!("enabled={} time={}", s.enabled, s.time),
        );
        Ok(())
    }

    /// Issues every bulletin due at `now` that is not archived yet (see
    /// `domain::bulletin::due_bulletins`), skipping periods that ended
    /// before the first ticket. Returns what it issued. The server calls it
    /// every 30 seconds with its clock; tests call it with any instant.
    pub fn run_bulletin_schedule(&self, now: jiff::Timestamp) -> Result<Vec<IssuedItem>> {
        let s = self.bulletin_schedule();
        if !s.enabled {
            return Ok(vec![]);
        }
        let local = now.to_zoned(self.dir().settings.tz());
        let Some(first) = self
            .store
            .tickets_after(0, 1)?
            .first()
            .map(|t| t.number.day())
        else {
            return Ok(vec![]);
        };
        let mut out = vec![];
        for (kind, p) in due_bulletins(local.date(), local.time(), s.at()) {
            if TicketNo::day_of(p.end) < first
                || self
                    .store
                    .has_bulletin(kind.code(), TicketNo::day_of(p.start))?
            {
                continue;
            }
            let rec = self.issue(kind, p, 0)?;
            tracing::info!(kind = kind.as_str(), key = %rec.key, "bulletin issued by the schedule");
            out.push(self.item(rec));
        }
        Ok(out)
    }
}

fn headline_table(r: &KpiReport) -> Table {
    let mut t = Table::new(
        "主要指标",
        vec![
            Column::new("kpi", "指标"),
            Column::new("current", "本期"),
            Column::new("previous", "上期"),
            Column::new("change", "变化"),
        ],
    );
    for v in &r.total.kpis {
        let cell = |f: &crate::domain::kpi::Figure| {
            if v.kpi.is_rate() {
                Cell::Rate(f.value())
            } else {
                Cell::Int(f.num)
            }
        };
        // Rates change in percentage points (个百分点), counts relatively
        // (both as fractions in a cell).
        let change = if v.kpi.is_rate() {
            Cell::Points(v.change.delta.map(|x| x / 100.0))
        } else {
            Cell::Change(v.change.percent.map(|x| x / 100.0))
        };
        t.push(vec![
            Cell::Text(v.kpi.label_zh().into()),
            cell(&v.current),
            cell(&v.previous),
            change,
        ]);
    }
    t
}

/// Intake by group with the previous period, share and change; largest
/// first, at most `top` rows.
fn intake_table(title: &str, key: &str, r: &KpiReport, top: usize) -> Table {
    let mut t = Table::new(
        title,
        vec![
            Column::new(key, "名称"),
            Column::new("intake", "本期受理"),
            Column::new("previous", "上期受理"),
            Column::new("change", "变化"),
            Column::new("share", "占比"),
        ],
    );
    let total = int_of(&r.total.kpis, Kpi::Intake).0;
    let mut rows: Vec<(&str, i64, i64)> = r
        .rows
        .iter()
        .map(|row| {
            let (c, p) = int_of(&row.kpis, Kpi::Intake);
            (row.label.as_str(), c, p)
        })
        .filter(|(_, c, p)| *c > 0 || *p > 0)
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
    for (label, c, p) in rows.into_iter().take(top) {
        t.push(vec![
            Cell::Text(label.to_string()),
            Cell::Int(c),
            Cell::Int(p),
            Cell::Change(rel_change(c, p)),
            Cell::Rate((total > 0).then(|| c as f64 / total as f64)),
        ]);
    }
    t
}

/// KPIs by level-2 unit (the units the center dispatches to).
fn units_table(r: &KpiReport) -> Table {
    let kpis = [
        Kpi::OnTimeSignFor,
        Kpi::OnTimeCompletion,
        Kpi::Completion,
        Kpi::Satisfaction,
        Kpi::Resolution,
        Kpi::ReturnRate,
    ];
    let mut cols = vec![
        Column::new("unit", "承办单位"),
        Column::new("dispatches", "派单"),
    ];
    for k in kpis {
        cols.push(Column::new(k.as_str(), k.label_zh()));
    }
    cols.push(Column::new("yellow_cards", "黄牌"));
    cols.push(Column::new("red_cards", "红牌"));
    let mut t = Table::new("承办单位指标", cols);
    let mut rows: Vec<_> = r.rows.iter().filter(|row| row.key != "0").collect();
    let dispatches = |row: &&super::reports::KpiRow| {
        row.kpis
            .iter()
            .find(|v| v.kpi == Kpi::ReturnRate)
            .and_then(|v| v.current.den)
            .unwrap_or(0)
    };
    rows.sort_by(|a, b| {
        dispatches(b)
            .cmp(&dispatches(a))
            .then(a.label.cmp(&b.label))
    });
    for row in rows {
        let mut cells = vec![Cell::Text(row.label.clone()), Cell::Int(dispatches(&row))];
        for k in kpis {
            let v = row.kpis.iter().find(|v| v.kpi == k);
            cells.push(Cell::Rate(v.and_then(|v| v.current.value())));
        }
        cells.push(Cell::Int(int_of(&row.kpis, Kpi::YellowCards).0));
        cells.push(Cell::Int(int_of(&row.kpis, Kpi::RedCards).0));
        t.push(cells);
    }
    t
}
