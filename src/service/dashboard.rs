//! The leader dashboard and the wallboard (issue 6): today's intake by
//! channel and appeal type, open tickets by state, emergencies waiting for
//! sign-for, overdue tickets and cards by unit, this month's satisfaction,
//! on-time completion and completion against last month, the backup
//! warning and the spikes of the day.
//!
//! Sources (nothing scans tickets): the per-day aggregates for the figures
//! of today and of the month (`total`, `channel`, `appeal`, `unit` cuboids,
//! or `unit × channel/appeal` for a department), the state indexes for open
//! and overdue tickets (`Store::open_counts`), the backup state file.
//!
//! Who sees what: like [`Services::kpis`]: people who may read reports see
//! everything; a department user sees the units of their own subtree (their
//! "intake" is what was dispatched to them: tickets are registered at the
//! center, with no unit); everybody else is refused.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

pub(crate) use super::reports::report_scope;
use super::{Actor, Services};
use crate::domain::aggregate::{Counter, Counters};
use crate::domain::kpi::yyyymmdd;
use crate::domain::kpi::{Change, Kpi, KpiValue, Period};
use crate::domain::types::{AppealType, Channel, State};
use crate::error::Result;

/// A labelled count.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Count {
    /// API name (channel, appeal type, state).
    pub key: String,
    pub label: String,
    pub count: i64,
}

/// An emergency waiting for sign-for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Emergency {
    pub number: String,
    pub title: String,
    pub unit: String,
    /// Local time of the dispatch (`YYYY-MM-DD HH:MM`).
    pub dispatched_at: String,
    /// Minutes since the dispatch.
    pub minutes: i64,
    /// Not signed for within its response time (`domain::alarm`): the
    /// team leads are alarmed.
    pub escalated: bool,
    /// A team lead acknowledged the alarm for the center.
    pub acknowledged: bool,
}

/// Overdue tickets and this month's cards of a unit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitLine {
    pub unit_id: u32,
    pub unit: String,
    /// Open tickets held now whose running stage is past its deadline.
    pub overdue: i64,
    /// Yellow and red cards reached this month.
    pub yellow: i64,
    pub red: i64,
}

/// A street × category far above its own baseline today (from
/// `Services::spikes`; see [`Services::dashboard_spikes`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpikeAlert {
    pub district: String,
    pub street: String,
    pub category: String,
    pub count: i64,
    pub baseline: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dashboard {
    /// Local time the figures were read (`YYYY-MM-DD HH:MM:SS`).
    pub generated_at: String,
    pub today: String,
    /// `None` for the whole center; a department's own unit otherwise.
    pub unit: Option<String>,
    /// `intake` (the center: tickets registered) or `dispatches` (a
    /// department: tickets dispatched to it).
    pub intake_measure: &'static str,
    pub intake_today: i64,
    /// Same measure yesterday (whole day).
    pub intake_yesterday: i64,
    pub intake_by_channel: Vec<Count>,
    pub intake_by_appeal: Vec<Count>,
    pub open_total: i64,
    pub open_by_state: Vec<Count>,
    /// Oldest dispatch first.
    pub emergencies: Vec<Emergency>,
    pub overdue_total: i64,
    pub yellow_month: i64,
    pub red_month: i64,
    /// Units with something overdue or a card this month, worst first.
    pub units: Vec<UnitLine>,
    /// This month so far.
    pub month: Period,
    /// The same days of the previous month (`Period::compared_with`, the
    /// rule of /reports too).
    pub previous_month: Period,
    /// How `month` is compared: always the same days of the previous month.
    pub basis: crate::domain::kpi::Basis,
    /// This month so far against the same days of the previous month:
    /// intake, satisfaction, on-time completion, completion, yellow and
    /// red cards.
    pub kpis: Vec<KpiValue>,
    pub backup_warning: Option<String>,
    pub spikes: Vec<SpikeAlert>,
}

impl Dashboard {
    pub fn kpi(&self, k: Kpi) -> Option<&KpiValue> {
        self.kpis.iter().find(|v| v.kpi == k)
    }
}

fn sum_days(days: &BTreeMap<u32, Counters>, p: &Period) -> Counters {
    let (a, b) = p.day_range();
    let mut c = Counters::default();
    for (_, v) in days.range(a..=b) {
        c.add(v);
    }
    c
}

fn value(kpi: Kpi, cur: &Counters, prev: &Counters) -> KpiValue {
    let (c, p) = (kpi.figure(cur), kpi.figure(prev));
    KpiValue {
        kpi,
        current: c,
        previous: p,
        change: Change::between(&c, &p),
    }
}

impl Services {
    /// The dashboard at `now` as `actor` may see it.
    pub fn dashboard(&self, actor: &Actor, now: jiff::Timestamp) -> Result<Dashboard> {
        let scope = report_scope(actor)?;
        let dir = self.dir();
        let tz = dir.settings.tz();
        let local = now.to_zoned(tz);
        let today = local.date();
        let day = yyyymmdd(today);
        let yesterday = today.yesterday().unwrap_or(today);
        let month = Period::month_to_date(today);
        let (previous_month, basis) = month.compared_with(today);
        let in_scope = |u: u32| scope.as_ref().is_none_or(|s| s.contains(&u));
        let measure = if scope.is_some() {
            Counter::Dispatches
        } else {
            Counter::Intake
        };

        // Per day (previous month start … today) and per unit (this month):
        // one scan of the unit cuboid (every fact has exactly one unit, 0
        // for the center, so its rows add up to the total).
        let mut days: BTreeMap<u32, Counters> = BTreeMap::new();
        let mut cards: HashMap<u32, (i64, i64)> = HashMap::new();
        let (from, _) = previous_month.day_range();
        let (month_from, _) = month.day_range();
        self.store.aggregate_rows(5, from, day, |d, unit, _, c| {
            if !in_scope(unit) {
                return;
            }
            days.entry(d).or_default().add(c);
            if d >= month_from {
                let (y, r) = (c.get(Counter::YellowCards), c.get(Counter::RedCards));
                if y != 0 || r != 0 {
                    let e = cards.entry(unit).or_default();
                    e.0 += y;
                    e.1 += r;
                }
            }
        })?;
        let cur = sum_days(&days, &month);
        let prev = sum_days(&days, &previous_month);
        let mut kpis = vec![];
        let mut intake = value(Kpi::Intake, &cur, &prev);
        if measure == Counter::Dispatches {
            intake.current.num = cur.get(Counter::Dispatches);
            intake.previous.num = prev.get(Counter::Dispatches);
            intake.change = Change::between(&intake.current, &intake.previous);
        }
        kpis.push(intake);
        for k in [
            Kpi::Satisfaction,
            Kpi::OnTimeCompletion,
            Kpi::Completion,
            Kpi::YellowCards,
            Kpi::RedCards,
        ] {
            kpis.push(value(k, &cur, &prev));
        }
        let on = |d: u32| days.get(&d).map(|c| c.get(measure)).unwrap_or(0);
        let intake_today = on(day);
        let intake_yesterday = on(yyyymmdd(yesterday));

        // Today by channel and by appeal type.
        let by = |kind_all: u8, kind_unit: u8| -> Result<HashMap<u32, i64>> {
            let mut m: HashMap<u32, i64> = HashMap::new();
            match &scope {
                None => self
                    .store
                    .aggregate_rows(kind_all, day, day, |_, a, _, c| {
                        *m.entry(a).or_default() += c.get(measure)
                    })?,
                Some(units) => self
                    .store
                    .aggregate_rows(kind_unit, day, day, |_, u, b, c| {
                        if units.contains(&u) {
                            *m.entry(b).or_default() += c.get(measure)
                        }
                    })?,
            };
            Ok(m)
        };
        let ch = by(1, 7)?;
        let ap = by(2, 8)?;
        let intake_by_channel = Channel::ALL
            .iter()
            .map(|c| Count {
                key: c.as_str().into(),
                label: c.label_zh().into(),
                count: ch.get(&u32::from(c.code())).copied().unwrap_or(0),
            })
            .collect();
        let intake_by_appeal = AppealType::ALL
            .iter()
            .map(|c| Count {
                key: c.as_str().into(),
                label: c.label_zh().into(),
                count: ap.get(&u32::from(c.code())).copied().unwrap_or(0),
            })
            .collect();

        // Open and overdue tickets, emergencies, from the indexes.
        let units: Vec<u32> = match &scope {
            None => std::iter::once(0)
                .chain(dir.units.iter().map(|u| u.id))
                .collect(),
            Some(s) => {
                let mut v: Vec<u32> = s.iter().copied().collect();
                v.sort_unstable();
                v
            }
        };
        let open = self.store.open_counts(&units, now.as_second())?;
        let open_by_state: Vec<Count> = crate::store::dashboard::OPEN_STATES
            .iter()
            .map(|s: &State| Count {
                key: s.as_str().into(),
                label: s.label_zh().into(),
                count: open.by_state.get(&s.code()).copied().unwrap_or(0) as i64,
            })
            .collect();
        let mut emergencies: Vec<Emergency> = open
            .emergencies
            .iter()
            .map(|t| {
                let since = t.stage.map(|s| s.started_at).unwrap_or(t.created_at);
                let facts = self.alarm_facts(t);
                Emergency {
                    escalated: crate::domain::alarm::escalated(&facts, now.as_second()),
                    acknowledged: facts.acknowledged,
                    number: t.number.to_string(),
                    title: t.title.clone(),
                    unit: t
                        .unit_id
                        .map(|u| dir.unit_name(u))
                        .unwrap_or_else(|| "—".into()),
                    dispatched_at: jiff::Timestamp::from_second(since)
                        .map(|ts| {
                            ts.to_zoned(dir.settings.tz())
                                .strftime("%Y-%m-%d %H:%M")
                                .to_string()
                        })
                        .unwrap_or_default(),
                    minutes: ((now.as_second() - since) / 60).max(0),
                }
            })
            .collect();
        emergencies.sort_by_key(|e| std::cmp::Reverse(e.minutes));

        let mut lines: HashMap<u32, UnitLine> = HashMap::new();
        let line = |u: u32| UnitLine {
            unit_id: u,
            unit: if u == 0 {
                "中心 (无承办单位)".into()
            } else {
                dir.unit_name(u)
            },
            overdue: 0,
            yellow: 0,
            red: 0,
        };
        for (u, n) in &open.overdue_by_unit {
            lines.entry(*u).or_insert_with(|| line(*u)).overdue += *n as i64;
        }
        for (u, (y, r)) in &cards {
            let l = lines.entry(*u).or_insert_with(|| line(*u));
            l.yellow += y;
            l.red += r;
        }
        let mut units: Vec<UnitLine> = lines.into_values().collect();
        units.sort_by(|a, b| {
            (b.red, b.overdue, b.yellow)
                .cmp(&(a.red, a.overdue, a.yellow))
                .then_with(|| a.unit.cmp(&b.unit))
        });

        let backup_warning = if scope.is_none() {
            self.backup_warning()
        } else {
            None
        };
        let spikes = self.dashboard_spikes(actor, today);
        Ok(Dashboard {
            generated_at: local.strftime("%Y-%m-%d %H:%M:%S").to_string(),
            today: today.to_string(),
            unit: actor
                .user
                .unit_id
                .filter(|_| scope.is_some())
                .map(|u| dir.unit_name(u)),
            intake_measure: if scope.is_some() {
                "dispatches"
            } else {
                "intake"
            },
            intake_today,
            intake_yesterday,
            intake_by_channel,
            intake_by_appeal,
            open_total: open_by_state.iter().map(|c| c.count).sum(),
            open_by_state,
            emergencies,
            overdue_total: open.overdue_by_unit.values().sum::<u64>() as i64,
            yellow_month: cur.get(Counter::YellowCards),
            red_month: cur.get(Counter::RedCards),
            units,
            month,
            previous_month,
            basis,
            kpis,
            backup_warning,
            spikes,
        })
    }

    /// The spikes of `day` for the dashboard's alert (`Services::spikes`:
    /// a street × top-level category far above its own 28-day level).
    /// A failure to read them must not take the dashboard down: it is
    /// logged and the alert stays empty.
    pub fn dashboard_spikes(&self, actor: &Actor, day: jiff::civil::Date) -> Vec<SpikeAlert> {
        match self.spikes(actor, day) {
            Ok(v) => v
                .into_iter()
                .map(|s| SpikeAlert {
                    district: s.district,
                    street: s.street,
                    category: if s.category_name.is_empty() {
                        s.category
                    } else {
                        s.category_name
                    },
                    count: s.count as i64,
                    baseline: s.baseline,
                })
                .collect(),
            Err(e) => {
                tracing::warn!("dashboard spikes: {e}");
                Vec::new()
            }
        }
    }
}
