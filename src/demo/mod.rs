//! `hotline demo`: fills an empty data dir with a living city district.
//!
//! Everything comes from a seed, so the same options give the same district:
//! the unit tree and category taxonomy of [`data`], a set of demo accounts
//! sharing one password, and months of tickets whose timelines follow the
//! workflow of PRODUCT.md §4. Each ticket is simulated from its creation
//! with realistic delays (departments act in office hours, the center from
//! morning to evening) and stops where `now` finds it: old tickets are
//! mostly closed, recent ones are spread over the open states, and the slow
//! ones carry the yellow and red cards they reached (PRODUCT.md §5).
//!
//! Tickets are generated day by day and written 2,000 to a transaction, so
//! memory stays bounded for a million tickets.

mod data;
pub mod kb;

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::calendar::{Calendar, deadline_hours};
use crate::domain::org::{Category, Unit, User, check_password, check_username};
use crate::domain::settings::Settings;
use crate::domain::supervision::{StageDeadline, thresholds};
use crate::domain::ticket::{Event, EventKind, SEQ_PER_DAY, Stage, StageKind, Ticket, TicketNo};
use crate::domain::types::{AppealType, Channel, Role, Satisfaction, State, Supervision, Urgency};
use crate::error::Error;
use crate::store::Store;

use data::{StreetSpec, TicketTemplate};

/// What `hotline demo` generates.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// How many tickets.
    pub tickets: u64,
    /// The password of every demo account (at least 8 characters).
    pub password: String,
    /// The seed of the generator: the same seed gives the same district.
    pub seed: u64,
    /// Tickets are spread over this many months before now.
    pub months: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            tickets: 20_000,
            password: "hotline-demo".into(),
            seed: 12345,
            months: 6,
        }
    }
}

/// A demo account, for the summary printed after generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoAccount {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The unit's name, for department handlers.
    pub unit: Option<String>,
}

/// What was generated.
#[derive(Clone, Debug)]
pub struct DemoSummary {
    pub units: usize,
    pub categories: usize,
    pub accounts: Vec<DemoAccount>,
    pub tickets: u64,
    /// Knowledge-base articles loaded from the fixture.
    pub articles: usize,
}

/// Tickets per store transaction.
const BATCH: usize = 2_000;

const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

struct AccountSpec {
    username: &'static str,
    display_name: &'static str,
    roles: &'static [Role],
    unit: Option<&'static str>,
}

const fn center(
    username: &'static str,
    display_name: &'static str,
    roles: &'static [Role],
) -> AccountSpec {
    AccountSpec {
        username,
        display_name,
        roles,
        unit: None,
    }
}

const fn handler(
    username: &'static str,
    display_name: &'static str,
    unit: &'static str,
) -> AccountSpec {
    AccountSpec {
        username,
        display_name,
        roles: &[Role::DepartmentHandler],
        unit: Some(unit),
    }
}

/// The demo accounts. Unit names are names from [`data::UNITS`]; the first
/// department handler also acts for units that have no handler of their own.
const ACCOUNTS: &[AccountSpec] = &[
    center("admin", "管理员 张伟", &[Role::Admin]),
    center("op1", "话务员 王芳", &[Role::Operator]),
    center("op2", "话务员 李娜", &[Role::Operator]),
    center("op3", "话务员 刘洋", &[Role::Operator]),
    center("op4", "话务员 陈静", &[Role::Operator]),
    center("dispatcher", "派单员 杨磊", &[Role::Dispatcher]),
    center("reviewer", "复核员 赵敏", &[Role::Reviewer]),
    center("callback", "回访员 孙丽", &[Role::CallbackAgent]),
    center("lead", "班长 周强", &[Role::TeamLead, Role::Operator]),
    center("leader", "中心主任 吴建国", &[Role::Leader]),
    center("qa", "质检员 郑秀英", &[Role::QaInspector]),
    handler("water", "承办人 徐海波", "区水务集团"),
    handler("water1", "承办人 马晓东", "八大关供水营业所"),
    handler("gas", "承办人 胡志刚", "区燃气公司"),
    handler("power", "承办人 郭立新", "区供电公司"),
    handler("housing", "承办人 林春梅", "区住房和城乡建设局"),
    handler("city", "承办人 何振华", "区城市管理局"),
    handler("hrss", "承办人 高玉兰", "区人力资源和社会保障局"),
    handler("market", "承办人 罗文静", "区市场监督管理局"),
];

/// Relative call volume per local hour (0–23).
const HOUR_PROFILE: [f64; 24] = [
    0.6, 0.4, 0.3, 0.25, 0.25, 0.4, 1.0, 2.5, 5.5, 8.0, 8.5, 7.5, 5.0, 6.0, 8.0, 8.0, 7.5, 6.0,
    4.5, 4.0, 3.5, 3.0, 2.0, 1.2,
];

/// Values of the `{time}` placeholder.
const TIME_PHRASES: &[&str] = &[
    "今天早上",
    "今天上午",
    "今天凌晨",
    "今天中午",
    "昨天晚上",
    "昨天下午",
    "昨天上午",
    "前天",
    "上周末",
    "三天前",
    "本周一",
    "前几天",
];

const PROGRESS_NOTES: &[&str] = &[
    "已电话联系诉求人，约定上门核实时间。",
    "已安排工作人员到现场查看，正在制定处理方案。",
    "现场已核实情况属实，正在协调相关单位处理。",
    "已联系物业共同处理，预计近日完成。",
    "维修材料已到位，正在组织施工。",
    "已约谈相关责任方，责令限期整改。",
    "正在调取相关资料核查，待核查完毕后答复。",
];

const VOID_REASONS: &[&str] = &[
    "重复来电，已有在办工单。",
    "测试来电。",
    "无效来电，来电人未说明诉求即挂断。",
    "骚扰电话。",
    "重复来电，诉求已于前一工单中答复。",
];

const LEAD_CLOSE_REASONS: &[&str] = &[
    "经核实，承办单位已按政策规定答复，诉求人要求超出政策范围，予以办结。",
    "承办单位已两次上门处理，问题已解决，诉求人仍不满意但无新的事实和理由，予以办结。",
    "诉求涉及民事纠纷，已告知诉求人通过司法途径解决，予以办结。",
    "经班长复核，办理过程规范、答复合理，予以办结。",
];

const UNREACHABLE_NOTE: &str = "多次回访均无法联系诉求人，按规定办结。";

/// Mobile number prefixes of the three carriers.
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182",
    "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
];

/// Rough (latitude, longitude) of each district's center, in [`data::DISTRICTS`] order.
const DISTRICT_CENTERS: &[(f64, f64)] = &[
    (36.066, 120.383),
    (36.087, 120.375),
    (36.145, 120.433),
    (36.107, 120.469),
];

/// Open states that every demo of a reasonable size shows: when a state has
/// not appeared yet, the first ticket of the given age window (seconds
/// before now) is steered into it.
const ENSURE: &[(State, i64, i64)] = &[
    (State::AwaitingDecision, 3 * DAY, 16 * DAY),
    (State::AwaitingCallback, 2 * DAY, 12 * DAY),
    (State::AwaitingReview, DAY, 10 * DAY),
    (State::AwaitingApproval, DAY, 10 * DAY),
    (State::InProgress, 6 * HOUR, 10 * DAY),
    (State::AwaitingSignFor, HOUR, 5 * DAY),
    (State::PendingDispatch, 0, DAY),
];

/// Fills an EMPTY store (refuse with an error if any user exists) with the demo district.
/// `now` is the current instant; tickets are spread over the `months` before it.
/// `progress(done, total)` is called every ~1% of tickets (for a terminal progress bar).
pub fn generate(
    store: &Store,
    opts: &DemoOptions,
    now: Timestamp,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<DemoSummary, Error> {
    if store.user_count()? > 0 {
        return Err(Error::Conflict(
            "数据目录不是空的：已有用户，演示数据只能写入新的数据目录 (the store already has users: demo data only goes into an empty data dir)".into(),
        ));
    }
    if !store.units()?.is_empty() || store.counts()?.tickets > 0 {
        return Err(Error::Conflict(
            "数据目录不是空的：已有单位或工单 (the store already has units or tickets: demo data only goes into an empty data dir)".into(),
        ));
    }
    check_password(&opts.password).map_err(|m| Error::field("password", m))?;
    debug_assert!(
        data::APPEAL_TYPES
            .iter()
            .all(|a| AppealType::parse(a).is_some())
    );

    let settings = Settings::default();
    let tz = settings.tz();
    let cal = Calendar::default_cn();
    let months = opts.months.clamp(1, 120);
    let now_s = now.as_second();
    let start = now
        .to_zoned(tz.clone())
        .checked_sub(Span::new().months(i64::from(months)))
        .map_err(Error::internal)?
        .timestamp()
        .as_second();
    let setup_at = start - 7 * DAY;

    let places = places();
    let mut org = create_org(store, &places, setup_at)?;
    let password_hash = crate::service::auth::hash_password(&opts.password)?;
    let (accounts, staff) = create_accounts(store, &mut org, &password_hash, setup_at)?;
    let admin = store
        .user_by_name("admin")?
        .map(|u| u.id)
        .ok_or_else(|| Error::internal("demo account admin missing"))?;
    let articles = kb::load(store, admin, setup_at)?;

    let mut rng = StdRng::seed_from_u64(opts.seed);
    let ctx = Ctx {
        now: now_s,
        tz,
        cal,
        settings,
        org,
        staff,
        places,
        phone_pool: (opts.tickets * 3 / 5).max(1),
        seed: opts.seed,
    };

    let total = opts.tickets;
    let days = plan_days(&ctx, start, total, &mut rng)?;
    let every = (total / 100).max(1);
    let mut done = 0u64;
    let mut seen = [false; 16];
    let mut batch = Vec::with_capacity(BATCH);
    progress(0, total);
    for day in &days {
        if day.count == 0 {
            continue;
        }
        let mut times: Vec<i64> = (0..day.count).map(|_| day.sample(&mut rng)).collect();
        times.sort_unstable();
        for (i, created) in times.into_iter().enumerate() {
            let no = TicketNo::new(day.ymd, i as u32 + 1);
            let (t, events) = make_ticket(&ctx, &mut rng, no, created, &seen);
            seen[usize::from(t.state.code())] = true;
            batch.push((t, events));
            if batch.len() == BATCH {
                store.import_tickets(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))?;
            }
            done += 1;
            if done.is_multiple_of(every) || done == total {
                progress(done, total);
            }
        }
    }
    if !batch.is_empty() {
        store.import_tickets(batch)?;
    }
    store.sync()?;
    Ok(DemoSummary {
        units: ctx.org.units.len(),
        categories: ctx.org.categories,
        accounts,
        tickets: done,
        articles,
    })
}

// ------------------------------------------------------------------ setup

/// A street with its district, for addresses.
struct Place {
    district: usize,
    street: &'static StreetSpec,
}

fn places() -> Vec<Place> {
    data::DISTRICTS
        .iter()
        .enumerate()
        .flat_map(|(district, d)| {
            d.streets
                .iter()
                .map(move |street| Place { district, street })
        })
        .collect()
}

struct UnitInfo {
    id: u32,
    parent: Option<u32>,
    children: Vec<u32>,
    /// Streets (indices into the places) a unit named after a street serves.
    streets: Vec<usize>,
}

struct Org {
    units: Vec<UnitInfo>,
    by_id: HashMap<u32, usize>,
    by_name: HashMap<&'static str, u32>,
    level2: Vec<u32>,
    /// Category code → default unit.
    cat_unit: HashMap<&'static str, u32>,
    categories: usize,
    /// Unit → the account that acts for it.
    handler: HashMap<u32, u32>,
}

impl Org {
    fn info(&self, id: u32) -> &UnitInfo {
        &self.units[self.by_id[&id]]
    }

    /// The level-3 unit a level-2 unit hands a ticket down to.
    fn child_for(
        &self,
        unit: u32,
        prefer: Option<u32>,
        street: usize,
        rng: &mut StdRng,
    ) -> Option<u32> {
        let children = &self.info(unit).children;
        if children.is_empty() {
            return None;
        }
        if let Some(p) = prefer.filter(|p| children.contains(p)) {
            return Some(p);
        }
        let local: Vec<u32> = children
            .iter()
            .copied()
            .filter(|c| self.info(*c).streets.contains(&street))
            .collect();
        if local.is_empty() {
            Some(pick(rng, children))
        } else {
            Some(pick(rng, &local))
        }
    }

    /// Where a ticket returned by `unit` is dispatched next.
    fn redispatch_target(&self, unit: u32, rng: &mut StdRng) -> u32 {
        if let Some(p) = self.info(unit).parent {
            return p;
        }
        loop {
            let u = pick(rng, &self.level2);
            if u != unit || self.level2.len() == 1 {
                return u;
            }
        }
    }
}

fn create_org(store: &Store, places: &[Place], at: i64) -> Result<Org, Error> {
    let mut org = Org {
        units: vec![],
        by_id: HashMap::new(),
        by_name: HashMap::new(),
        level2: vec![],
        cat_unit: HashMap::new(),
        categories: 0,
        handler: HashMap::new(),
    };
    let streets_of = |name: &str| -> Vec<usize> {
        places
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                let prefix = p.street.name.strip_suffix("街道").unwrap_or(p.street.name);
                prefix.chars().count() >= 2 && name.starts_with(prefix)
            })
            .map(|(i, _)| i)
            .collect()
    };
    let add = |org: &mut Org, name: &'static str, parent: Option<u32>| -> Result<u32, Error> {
        let u = store.create_unit(Unit {
            id: 0,
            name: name.to_string(),
            parent_id: parent,
            enabled: true,
            created_at: at,
        })?;
        org.by_id.insert(u.id, org.units.len());
        org.by_name.insert(name, u.id);
        org.units.push(UnitInfo {
            id: u.id,
            parent,
            children: vec![],
            streets: streets_of(name),
        });
        Ok(u.id)
    };
    for spec in data::UNITS {
        let id = add(&mut org, spec.name, None)?;
        org.level2.push(id);
        for child in spec.children {
            let c = add(&mut org, child, Some(id))?;
            let i = org.by_id[&id];
            org.units[i].children.push(c);
        }
    }
    for c in data::CATEGORIES {
        let unit = *org.by_name.get(c.unit).ok_or_else(|| {
            Error::internal(format!(
                "demo category {} names unknown unit {}",
                c.code, c.unit
            ))
        })?;
        store.create_category(&Category {
            code: c.code.to_string(),
            name: c.name.to_string(),
            parent_code: c.parent.map(str::to_string),
            default_unit_id: Some(unit),
            enabled: true,
        })?;
        org.cat_unit.insert(c.code, unit);
        org.categories += 1;
    }
    Ok(org)
}

/// The center accounts that act in the timelines.
struct Staff {
    operators: Vec<u32>,
    dispatcher: u32,
    reviewer: u32,
    callback: u32,
    lead: u32,
}

fn create_accounts(
    store: &Store,
    org: &mut Org,
    hash: &str,
    at: i64,
) -> Result<(Vec<DemoAccount>, Staff), Error> {
    let mut accounts = vec![];
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let mut own_handler: HashMap<u32, u32> = HashMap::new();
    let mut first_handler = None;
    for a in ACCOUNTS {
        check_username(a.username).map_err(Error::internal)?;
        let unit_id = match a.unit {
            None => None,
            Some(n) => Some(*org.by_name.get(n).ok_or_else(|| {
                Error::internal(format!(
                    "demo account {} names unknown unit {n}",
                    a.username
                ))
            })?),
        };
        let u = store.create_user(User {
            id: 0,
            username: a.username.to_string(),
            display_name: a.display_name.to_string(),
            password_hash: hash.to_string(),
            roles: a.roles.to_vec(),
            unit_id,
            enabled: true,
            created_at: at,
            password_changed_at: at,
        })?;
        ids.insert(a.username, u.id);
        if let Some(unit) = unit_id {
            own_handler.entry(unit).or_insert(u.id);
            first_handler.get_or_insert(u.id);
        }
        accounts.push(DemoAccount {
            username: u.username,
            display_name: u.display_name,
            roles: u.roles,
            unit: a.unit.map(str::to_string),
        });
    }
    let id = |name: &str| -> Result<u32, Error> {
        ids.get(name)
            .copied()
            .ok_or_else(|| Error::internal(format!("demo account {name} missing")))
    };
    let fallback = first_handler.ok_or_else(|| Error::internal("no demo department handler"))?;
    for u in &org.units {
        let h = own_handler
            .get(&u.id)
            .or_else(|| u.parent.and_then(|p| own_handler.get(&p)))
            .copied()
            .unwrap_or(fallback);
        org.handler.insert(u.id, h);
    }
    let staff = Staff {
        operators: vec![id("op1")?, id("op2")?, id("op3")?, id("op4")?],
        dispatcher: id("dispatcher")?,
        reviewer: id("reviewer")?,
        callback: id("callback")?,
        lead: id("lead")?,
    };
    Ok((accounts, staff))
}

// ------------------------------------------------------------------ time

/// Everything a ticket is generated from.
struct Ctx {
    now: i64,
    tz: TimeZone,
    cal: Calendar,
    settings: Settings,
    org: Org,
    staff: Staff,
    places: Vec<Place>,
    phone_pool: u64,
    seed: u64,
}

impl Ctx {
    fn ts(&self, s: i64) -> Timestamp {
        Timestamp::from_second(s).expect("demo instant in range")
    }

    fn zoned(&self, s: i64) -> Zoned {
        self.ts(s).to_zoned(self.tz.clone())
    }

    fn local(&self, d: Date, hour: i8, minute: i8) -> i64 {
        d.at(hour, minute, 0, 0)
            .to_zoned(self.tz.clone())
            .expect("local time exists")
            .timestamp()
            .as_second()
    }

    /// `s`, or the start of the next office hours (8:30–17:30 on working days).
    fn office(&self, s: i64, rng: &mut StdRng) -> i64 {
        let z = self.zoned(s);
        let d = z.date();
        let mins = i32::from(z.hour()) * 60 + i32::from(z.minute());
        let working = self.cal.is_working_day(d);
        if working && (510..1050).contains(&mins) {
            return s;
        }
        let day = if working && mins < 510 {
            d
        } else {
            self.cal.next_working_day(d)
        };
        self.local(day, 8, 30) + between(rng, 0, 90 * MINUTE)
    }

    /// `s`, or the next morning: the center reviews and calls back 8:00–20:00, every day.
    fn center_hours(&self, s: i64, rng: &mut StdRng) -> i64 {
        let z = self.zoned(s);
        let h = z.hour();
        if (8..20).contains(&h) {
            return s;
        }
        let d = z.date();
        let day = if h < 8 {
            d
        } else {
            d.tomorrow().expect("date in range")
        };
        self.local(day, 8, 0) + between(rng, 0, 2 * HOUR)
    }

    /// (stage due, total due, counted in hours) of a dispatch at `at`.
    fn periods(&self, appeal: AppealType, at: i64) -> (i64, i64, bool) {
        let ts = self.ts(at);
        if appeal == AppealType::Emergency {
            (
                deadline_hours(ts, self.settings.emergency_response_hours).as_second(),
                deadline_hours(ts, self.settings.emergency_finish_hours).as_second(),
                true,
            )
        } else {
            let p = self.settings.period(appeal);
            (
                self.cal.deadline(ts, p.sign_for_days, &self.tz).as_second(),
                self.cal.deadline(ts, p.total_days, &self.tz).as_second(),
                false,
            )
        }
    }

    fn handler(&self, unit: u32) -> u32 {
        self.org.handler[&unit]
    }
}

/// One local day of the period and how many tickets it gets.
struct DayPlan {
    ymd: u32,
    /// Per local hour: the part of the hour inside the period, and its weight.
    hours: [(i64, i64, f64); 24],
    weight: f64,
    count: u64,
}

impl DayPlan {
    fn sample(&self, rng: &mut StdRng) -> i64 {
        let sum: f64 = self.hours.iter().map(|h| h.2).sum();
        let mut r = rng.random::<f64>() * sum;
        let mut last = None;
        for &(a, b, w) in &self.hours {
            if w <= 0.0 || b <= a {
                continue;
            }
            last = Some((a, b));
            if r < w {
                return between(rng, a, b);
            }
            r -= w;
        }
        let (a, b) = last.expect("a day with tickets has hours");
        between(rng, a, b)
    }
}

/// The days from `start` to now, with `total` tickets shared out: fewer on
/// weekends and holidays, a little noise from day to day.
fn plan_days(c: &Ctx, start: i64, total: u64, rng: &mut StdRng) -> Result<Vec<DayPlan>, Error> {
    let mut days = vec![];
    let mut d = c.zoned(start).date();
    let last = c.zoned(c.now).date();
    while d <= last {
        let next = d.tomorrow().map_err(Error::internal)?;
        let ds = d
            .to_zoned(c.tz.clone())
            .map_err(Error::internal)?
            .timestamp()
            .as_second();
        let ns = next
            .to_zoned(c.tz.clone())
            .map_err(Error::internal)?
            .timestamp()
            .as_second();
        let mut hours = [(0i64, 0i64, 0f64); 24];
        let mut sum = 0.0;
        for (h, slot) in hours.iter_mut().enumerate() {
            let a = (ds + h as i64 * HOUR).max(start);
            let b = if h == 23 {
                ns
            } else {
                ds + (h as i64 + 1) * HOUR
            }
            .min(c.now);
            if b > a {
                let w = HOUR_PROFILE[h] * (b - a) as f64 / HOUR as f64;
                *slot = (a, b, w);
                sum += w;
            }
        }
        let factor = if c.cal.is_working_day(d) { 1.0 } else { 0.55 };
        let noise = rng.random_range(0.85..1.15);
        days.push(DayPlan {
            ymd: TicketNo::day_of(d),
            hours,
            weight: sum * factor * noise,
            count: 0,
        });
        d = next;
    }
    let sum: f64 = days.iter().map(|d| d.weight).sum();
    if sum <= 0.0 {
        return Err(Error::BadRequest(
            "演示数据的时间范围为空 (the demo period is empty)".into(),
        ));
    }
    let mut cum = 0.0;
    let mut assigned = 0u64;
    for day in &mut days {
        cum += day.weight;
        let upto = ((cum / sum) * total as f64).round().min(total as f64) as u64;
        day.count = upto.saturating_sub(assigned);
        assigned += day.count;
    }
    if let Some(day) = days.iter_mut().rev().find(|d| d.weight > 0.0) {
        day.count += total - assigned;
    }
    if days.iter().any(|d| d.count >= SEQ_PER_DAY) {
        return Err(Error::BadRequest(
            "每天最多999999张工单，请减少工单数或增加月数 (at most 999,999 tickets a day: fewer tickets or more months)".into(),
        ));
    }
    Ok(days)
}

// ------------------------------------------------------------------ tickets

fn between(rng: &mut StdRng, lo: i64, hi: i64) -> i64 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..hi)
    }
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut r = rng.random_range(0..total.max(1));
    for &(v, w) in items {
        if r < w {
            return v;
        }
        r -= w;
    }
    items[items.len() - 1].0
}

/// splitmix64: derives per-caller data from the seed without storing it.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A caller of the pool: phone number and the name they give (maybe none).
fn caller(c: &Ctx, rng: &mut StdRng) -> (String, String) {
    // A few frequent callers, and a pool of ~60% of the ticket count.
    let idx = if rng.random_bool(0.03) {
        c.phone_pool + rng.random_range(0..40)
    } else {
        rng.random_range(0..c.phone_pool)
    };
    let h = mix(c.seed ^ mix(idx + 1));
    let prefix = MOBILE_PREFIXES[(h % MOBILE_PREFIXES.len() as u64) as usize];
    let phone = format!("{prefix}{:08}", (h >> 20) % 100_000_000);
    let h2 = mix(h);
    let surname = data::SURNAMES[(h2 % data::SURNAMES.len() as u64) as usize];
    let given = data::GIVEN_NAMES[((h2 >> 16) % data::GIVEN_NAMES.len() as u64) as usize];
    let name = match (h2 >> 40) % 10 {
        0..=5 => format!("{surname}{given}"),
        6 | 7 => format!("{surname}先生"),
        8 => format!("{surname}女士"),
        _ => String::new(),
    };
    (phone, name)
}

fn template(c: &Ctx, rng: &mut StdRng, created: i64) -> &'static TicketTemplate {
    let t = &data::TICKET_TEMPLATES[rng.random_range(0..data::TICKET_TEMPLATES.len())];
    // Heating is a winter topic: most heating tickets outside the season are redrawn.
    let month = c.zoned(created).month();
    if t.category.starts_with("0103") && (4..=10).contains(&month) && rng.random_bool(0.85) {
        return &data::TICKET_TEMPLATES[rng.random_range(0..data::TICKET_TEMPLATES.len())];
    }
    t
}

fn channel(rng: &mut StdRng, appeal: AppealType) -> Channel {
    if appeal == AppealType::Emergency {
        return if rng.random_bool(0.15) {
            Channel::Transfer110
        } else {
            Channel::Phone
        };
    }
    weighted(
        rng,
        &[
            (Channel::Phone, 70),
            (Channel::Wechat, 12),
            (Channel::Web, 8),
            (Channel::Transfer110, 5),
            (Channel::Email, 2),
            (Channel::WalkIn, 2),
            (Channel::Letter, 1),
        ],
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pace {
    Fast,
    Prompt,
    Slow,
    /// Misses a deadline (cards).
    Late,
}

/// The decisions taken for a ticket before its timeline is simulated.
struct Plan {
    unit: u32,
    /// The level-3 unit to hand down to, if the category names one.
    prefer_child: Option<u32>,
    hand_down: bool,
    pace: Pace,
    void: bool,
    returned: bool,
    /// Force a dissatisfied first callback.
    dissatisfied: bool,
}

fn make_ticket(
    c: &Ctx,
    rng: &mut StdRng,
    no: TicketNo,
    created: i64,
    seen: &[bool; 16],
) -> (Ticket, Vec<Event>) {
    let age = c.now - created;
    let ensure = ENSURE
        .iter()
        .find(|(s, lo, hi)| !seen[usize::from(s.code())] && (*lo..=*hi).contains(&age))
        .map(|e| e.0);
    let tpl = template(c, rng, created);
    let appeal = AppealType::parse(tpl.appeal_type).unwrap_or(AppealType::Help);
    let em = appeal == AppealType::Emergency;

    // The responsible unit, and whether it hands the ticket down.
    let default = c.org.cat_unit[tpl.category];
    let info = c.org.info(default);
    let (unit, prefer_child, hand_down) = match info.parent {
        Some(p) if ensure == Some(State::AwaitingApproval) || rng.random_bool(0.10) => {
            (p, Some(default), true)
        }
        Some(_) => (default, None, false),
        None => {
            let down = !info.children.is_empty()
                && (ensure == Some(State::AwaitingApproval) || rng.random_bool(0.30));
            (default, None, down)
        }
    };

    // Where: streets named in the unit's name go with that unit.
    let local = &c.org.info(prefer_child.unwrap_or(default)).streets;
    let street_idx = if local.is_empty() {
        rng.random_range(0..c.places.len())
    } else {
        pick(rng, local)
    };
    let place = &c.places[street_idx];
    let district = &data::DISTRICTS[place.district];
    let community = pick(rng, place.street.communities);
    let road = pick(rng, data::ROAD_NAMES);
    let address = if rng.random_bool(0.8) {
        let estate = pick(rng, data::ESTATE_NAMES);
        format!(
            "{road}{}号{estate}{}号楼",
            rng.random_range(1..300),
            rng.random_range(1..30)
        )
    } else {
        format!("{road}{}号", rng.random_range(1..300))
    };
    let content = if tpl.content.contains('{') {
        tpl.content
            .replace("{addr}", &address)
            .replace("{community}", community)
            .replace("{street}", place.street.name)
            .replace("{days}", &rng.random_range(2..11).to_string())
            .replace("{time}", pick(rng, TIME_PHRASES))
    } else {
        tpl.content.to_string()
    };
    let coordinates = rng.random_bool(0.6).then(|| {
        let (lat, lon) = DISTRICT_CENTERS
            .get(place.district)
            .copied()
            .unwrap_or(DISTRICT_CENTERS[0]);
        (
            lat + rng.random_range(-0.015..0.015),
            lon + rng.random_range(-0.02..0.02),
        )
    });

    let (caller_phone, mut caller_name) = caller(c, rng);
    let anonymous = rng.random_bool(0.03);
    if anonymous {
        caller_name.clear();
    }
    let confidential = if appeal == AppealType::Report {
        rng.random_bool(0.85)
    } else {
        rng.random_bool(0.04)
    };
    let urgency = if em {
        Urgency::Emergency
    } else if rng.random_bool(0.04) {
        Urgency::Urgent
    } else {
        Urgency::Normal
    };
    let operator = if rng.random_bool(0.05) {
        c.staff.lead
    } else {
        pick(rng, &c.staff.operators)
    };

    let t = Ticket {
        number: no,
        created_at: created,
        updated_at: created,
        created_by: operator,
        channel: channel(rng, appeal),
        appeal_type: appeal,
        category_code: tpl.category.to_string(),
        caller_phone,
        caller_name,
        anonymous,
        confidential,
        district: district.name.to_string(),
        street: place.street.name.to_string(),
        community: community.to_string(),
        address,
        coordinates,
        title: tpl.title.to_string(),
        content,
        urgency,
        answer: String::new(),
        attachments: vec![],
        state: State::PendingDispatch,
        unit_id: None,
        units_seen: vec![],
        stage: None,
        due_at: None,
        round: 1,
        closed_at: None,
        satisfaction: None,
        event_count: 0,
        returned_ticket: false,
        assisting: vec![],
        handed_by: None,
        callback_attempts: 0,
        extension: None,
        master: None,
        merged: vec![],
        reply: String::new(),
        resolved: None,
    };

    // Tickets of the last weeks sometimes stall somewhere (nobody acts
    // until now): that is what fills the supervision view.
    let stall = if ensure.is_some() {
        ensure
    } else if age < DAY && rng.random_bool(0.08) {
        Some(State::PendingDispatch)
    } else if age < 45 * DAY && rng.random_bool(0.035) {
        let center = if age < 10 * DAY { 4 } else { 0 };
        Some(weighted(
            rng,
            &[
                (State::AwaitingSignFor, 35),
                (State::InProgress, 45),
                (State::AwaitingApproval, 10),
                (State::AwaitingReview, center),
                (State::AwaitingCallback, center),
                (State::AwaitingDecision, center / 2),
            ],
        ))
    } else {
        None
    };

    let mut sim = Sim {
        c,
        t,
        events: Vec::with_capacity(12),
        cur: created,
        cards: vec![],
        stall,
        street: street_idx,
    };
    sim.push(created, operator, EventKind::Created, "");

    let answer_now = appeal == AppealType::Consultation
        && ensure.is_none()
        && created + 5 * MINUTE <= c.now
        && rng.random_bool(0.4);
    if answer_now {
        let at = created + between(rng, MINUTE, 5 * MINUTE);
        sim.t.answer = tpl.answer.to_string();
        sim.push(
            at,
            operator,
            EventKind::AnsweredAtIntake {
                answer: tpl.answer.to_string(),
            },
            "",
        );
        sim.close(at);
    } else {
        let pace = if ensure.is_some() {
            Pace::Fast
        } else if em {
            weighted(
                rng,
                &[
                    (Pace::Fast, 30),
                    (Pace::Prompt, 55),
                    (Pace::Slow, 10),
                    (Pace::Late, 5),
                ],
            )
        } else {
            weighted(
                rng,
                &[
                    (Pace::Fast, 15),
                    (Pace::Prompt, 55),
                    (Pace::Slow, 20),
                    (Pace::Late, 10),
                ],
            )
        };
        let plan = Plan {
            unit,
            prefer_child,
            hand_down,
            pace,
            void: ensure.is_none() && rng.random_bool(0.01),
            returned: ensure.is_none() && !em && rng.random_bool(0.03),
            dissatisfied: ensure == Some(State::AwaitingDecision),
        };
        sim.run(rng, &plan, tpl);
    }
    sim.finish()
}

/// One ticket's timeline, built step by step until `now` stops it.
struct Sim<'c> {
    c: &'c Ctx,
    t: Ticket,
    events: Vec<Event>,
    /// The time of the last event.
    cur: i64,
    /// Card thresholds of the running stage not recorded yet.
    cards: Vec<(i64, Supervision)>,
    /// The state in which nothing more happens.
    stall: Option<State>,
    street: usize,
}

impl Sim<'_> {
    fn push(&mut self, at: i64, actor: u32, kind: EventKind, note: &str) {
        debug_assert!(
            self.events.is_empty() || at > self.cur,
            "event times increase"
        );
        debug_assert!(at <= self.c.now, "no event after now");
        self.events.push(Event {
            at,
            actor,
            kind,
            note: note.to_string(),
        });
        self.cur = at;
    }

    /// The time of the next action, at least a minute after the last event;
    /// `None` if it would be after now. Records the cards reached before it.
    fn step(&mut self, at: i64) -> Option<i64> {
        let at = at.max(self.cur + MINUTE);
        if at > self.c.now {
            return None;
        }
        self.record_cards(at);
        Some(at)
    }

    /// Records the cards of the running stage reached before `before`.
    fn record_cards(&mut self, before: i64) {
        while let Some(&(threshold, card)) = self.cards.first() {
            let at = threshold.max(self.cur + 1);
            if threshold >= before || at >= before || at > self.c.now {
                break;
            }
            self.cards.remove(0);
            self.push(at, 0, EventKind::CardReached { card }, "");
            if let Some(st) = &mut self.t.stage {
                st.card = Some(card);
            }
        }
    }

    fn set_stage(&mut self, kind: StageKind, started_at: i64, due_at: i64, by_hours: bool) {
        self.t.stage = Some(Stage {
            kind,
            started_at,
            due_at,
            by_hours,
            card: None,
        });
        let th = thresholds(
            &StageDeadline {
                started_at: self.c.ts(started_at),
                due_at: self.c.ts(due_at),
                by_hours,
            },
            &self.c.cal,
            &self.c.tz,
        );
        self.cards = vec![
            (th.yellow_at.as_second(), Supervision::Yellow),
            (th.red_at.as_second(), Supervision::Red),
        ];
    }

    fn clear_stage(&mut self) {
        self.t.stage = None;
        self.cards.clear();
    }

    /// Enters a state; false if the ticket stalls there.
    fn enter(&mut self, s: State) -> bool {
        self.t.state = s;
        self.stall != Some(s)
    }

    fn assign(&mut self, unit: u32) {
        self.t.unit_id = Some(unit);
        if !self.t.units_seen.contains(&unit) {
            self.t.units_seen.push(unit);
        }
    }

    fn close(&mut self, at: i64) {
        self.clear_stage();
        self.t.state = State::Closed;
        self.t.closed_at = Some(at);
    }

    /// Dispatches (or reopens) to `unit` at `at`: the periods start afresh.
    fn dispatch(
        &mut self,
        at: i64,
        unit: u32,
        kind: impl FnOnce(i64, i64) -> EventKind,
        actor: u32,
        note: &str,
    ) {
        let (stage_due, due, by_hours) = self.c.periods(self.t.appeal_type, at);
        self.push(at, actor, kind(stage_due, due), note);
        self.assign(unit);
        self.t.due_at = Some(due);
        self.set_stage(StageKind::SignFor, at, stage_due, by_hours);
        self.t.state = State::AwaitingSignFor;
    }

    fn finish(mut self) -> (Ticket, Vec<Event>) {
        if self.t.state.has_stage_deadline() {
            self.record_cards(self.c.now + 1);
        }
        self.t.updated_at = self.cur;
        self.t.event_count = 0;
        (self.t, self.events)
    }

    fn dispatch_delay(&self, rng: &mut StdRng, em: bool) -> i64 {
        if em {
            return between(rng, MINUTE, 10 * MINUTE);
        }
        let r: f64 = rng.random();
        let d = if r < 0.7 {
            between(rng, 3 * MINUTE, 30 * MINUTE)
        } else if r < 0.95 {
            between(rng, 30 * MINUTE, 4 * HOUR)
        } else {
            between(rng, 4 * HOUR, 16 * HOUR)
        };
        let h = self.c.zoned(self.cur).hour();
        if !(7..22).contains(&h) { d * 2 } else { d }
    }

    fn sign_time(&self, rng: &mut StdRng, pace: Pace, em: bool) -> i64 {
        let (s, due) = self
            .t
            .stage
            .map(|st| (st.started_at, st.due_at))
            .unwrap_or((self.cur, self.cur));
        if em {
            return match pace {
                Pace::Late => due + between(rng, 5 * MINUTE, 3 * HOUR),
                Pace::Slow => s + between(rng, 20 * MINUTE, 55 * MINUTE),
                _ => s + between(rng, 2 * MINUTE, 25 * MINUTE),
            };
        }
        let t = match pace {
            Pace::Fast => s + between(rng, 5 * MINUTE, 2 * HOUR),
            Pace::Prompt => s + between(rng, 10 * MINUTE, 8 * HOUR),
            Pace::Slow => s + between(rng, 8 * HOUR, (due - s) * 9 / 10),
            // Late, but not past the total deadline: the handling stage
            // should not start overdue.
            Pace::Late if rng.random_bool(0.4) => {
                let total = self.t.due_at.unwrap_or(due);
                (due + between(rng, HOUR, 4 * DAY))
                    .min(total - 6 * HOUR)
                    .max(due + HOUR)
            }
            Pace::Late => s + between(rng, 10 * MINUTE, 30 * HOUR),
        };
        self.c.office(t, rng)
    }

    fn reply_time(&self, rng: &mut StdRng, pace: Pace, due: i64, em: bool) -> i64 {
        let s = self.cur;
        let span = (due - s).max(HOUR);
        let part =
            |rng: &mut StdRng, a: f64, b: f64| s + (span as f64 * rng.random_range(a..b)) as i64;
        if em {
            return match pace {
                Pace::Late => due + between(rng, HOUR, 30 * HOUR),
                Pace::Slow => part(rng, 0.5, 0.95),
                _ => s + between(rng, 20 * MINUTE, span / 2),
            };
        }
        let t = match pace {
            Pace::Fast => s + between(rng, 2 * HOUR, 2 * DAY),
            Pace::Prompt => part(rng, 0.05, 0.6),
            Pace::Slow => part(rng, 0.6, 0.97),
            Pace::Late => due + between(rng, 2 * HOUR, 6 * DAY),
        };
        self.c.office(t, rng)
    }

    fn satisfaction(&self, rng: &mut StdRng, p: &Plan, pace: Pace) -> Satisfaction {
        if p.dissatisfied && self.t.round == 1 {
            return Satisfaction::Dissatisfied;
        }
        let bad = match pace {
            Pace::Late => 0.22,
            Pace::Slow => 0.10,
            _ => 0.06,
        };
        let r: f64 = rng.random();
        if r < bad {
            Satisfaction::Dissatisfied
        } else if r < bad + 0.04 {
            Satisfaction::Unreachable
        } else if r < bad + 0.38 {
            Satisfaction::BasicallySatisfied
        } else {
            Satisfaction::Satisfied
        }
    }

    /// Everything after intake, until closed or stopped by now.
    fn run(&mut self, rng: &mut StdRng, p: &Plan, tpl: &TicketTemplate) {
        let c = self.c;
        let em = self.t.appeal_type == AppealType::Emergency;
        if !self.enter(State::PendingDispatch) {
            return;
        }
        if p.void {
            let Some(at) = self.step(self.cur + between(rng, 2 * MINUTE, 6 * HOUR)) else {
                return;
            };
            let actor = if rng.random_bool(0.7) {
                c.staff.dispatcher
            } else {
                c.staff.lead
            };
            self.push(at, actor, EventKind::Voided, pick(rng, VOID_REASONS));
            self.t.state = State::Voided;
            return;
        }
        let mut unit = p.unit;
        let Some(at) = self.step(self.cur + self.dispatch_delay(rng, em)) else {
            return;
        };
        let note = match self.t.urgency {
            Urgency::Emergency => "抢险工单，请立即响应！",
            Urgency::Urgent => "紧急诉求，请优先办理。",
            Urgency::Normal => "",
        };
        let dispatched = |unit_id| {
            move |stage_due, due| EventKind::Dispatched {
                unit_id,
                stage_due,
                due,
            }
        };
        self.dispatch(at, unit, dispatched(unit), c.staff.dispatcher, note);
        if !self.enter(State::AwaitingSignFor) {
            return;
        }
        if p.returned {
            let t = c.office(self.cur + between(rng, 30 * MINUTE, 30 * HOUR), rng);
            let Some(at) = self.step(t) else { return };
            self.push(
                at,
                c.handler(unit),
                EventKind::Returned { unit_id: unit },
                pick(rng, data::RETURN_REASONS),
            );
            self.t.unit_id = None;
            self.t.due_at = None;
            self.clear_stage();
            if !self.enter(State::PendingDispatch) {
                return;
            }
            unit = c.org.redispatch_target(unit, rng);
            let Some(at) = self.step(self.cur + between(rng, 10 * MINUTE, 3 * HOUR)) else {
                return;
            };
            self.dispatch(
                at,
                unit,
                dispatched(unit),
                c.staff.dispatcher,
                "原承办单位退回，经核实改派。",
            );
            if !self.enter(State::AwaitingSignFor) {
                return;
            }
        }
        let mut pace = p.pace;
        loop {
            // Sign for; the handling stage runs to the total deadline.
            let due = self.t.due_at.unwrap_or(self.cur);
            let Some(at) = self.step(self.sign_time(rng, pace, em)) else {
                return;
            };
            self.push(
                at,
                c.handler(unit),
                EventKind::SignedFor { stage_due: due },
                "",
            );
            self.set_stage(StageKind::Handle, at, due, em);
            if !self.enter(State::InProgress) {
                return;
            }
            let mut acting = unit;
            if p.hand_down
                && let Some(child) = c.org.child_for(unit, p.prefer_child, self.street, rng)
            {
                let t = if em {
                    self.cur + between(rng, 5 * MINUTE, 30 * MINUTE)
                } else {
                    c.office(self.cur + between(rng, 10 * MINUTE, 4 * HOUR), rng)
                };
                let Some(at) = self.step(t) else { return };
                self.push(
                    at,
                    c.handler(unit),
                    EventKind::HandedDown {
                        unit_id: child,
                        stage_due: due,
                    },
                    "请按职责核实办理，按时回复。",
                );
                self.assign(child);
                self.set_stage(StageKind::Handle, at, due, em);
                acting = child;
            }
            let reply_at = self.reply_time(rng, pace, due, em);
            if rng.random_bool(0.35) && reply_at - self.cur > 4 * HOUR {
                let t =
                    self.cur + ((reply_at - self.cur) as f64 * rng.random_range(0.2..0.7)) as i64;
                let t = if em { t } else { c.office(t, rng) };
                if t + MINUTE < reply_at {
                    let Some(at) = self.step(t) else { return };
                    self.push(
                        at,
                        c.handler(acting),
                        EventKind::Progress,
                        pick(rng, PROGRESS_NOTES),
                    );
                }
            }
            let Some(at) = self.step(reply_at) else {
                return;
            };
            self.push(
                at,
                c.handler(acting),
                EventKind::Replied {
                    result: tpl.reply.to_string(),
                },
                "",
            );

            // A level-3 unit's reply goes to its level-2 unit for approval.
            if acting != unit {
                self.assign(unit);
                let approval_due = if em {
                    at + 2 * HOUR
                } else {
                    c.cal.deadline(c.ts(at), 1, &c.tz).as_second()
                };
                self.set_stage(StageKind::Handle, at, approval_due, em);
                if !self.enter(State::AwaitingApproval) {
                    return;
                }
                let t = match (em, pace) {
                    (true, _) => self.cur + between(rng, 10 * MINUTE, 90 * MINUTE),
                    (false, Pace::Late) => {
                        c.office(approval_due + between(rng, HOUR, 2 * DAY), rng)
                    }
                    (false, _) => c.office(self.cur + between(rng, 30 * MINUTE, 30 * HOUR), rng),
                };
                let Some(at) = self.step(t) else { return };
                self.push(
                    at,
                    c.handler(unit),
                    EventKind::ReplyApproved { approved: true },
                    "办理结果属实，同意报中心复核。",
                );
            }
            self.clear_stage();

            if !self.enter(State::AwaitingReview) {
                return;
            }
            let t = if em {
                self.cur + between(rng, 5 * MINUTE, HOUR)
            } else {
                c.center_hours(self.cur + between(rng, 20 * MINUTE, 20 * HOUR), rng)
            };
            let Some(at) = self.step(t) else { return };
            self.push(
                at,
                c.staff.reviewer,
                EventKind::Reviewed {
                    outcome: "pass".into(),
                    unit_id: None,
                    period_days: None,
                },
                "",
            );

            if !self.enter(State::AwaitingCallback) {
                return;
            }
            let wait = if em {
                between(rng, 30 * MINUTE, 6 * HOUR)
            } else {
                between(rng, HOUR, 48 * HOUR)
            };
            let t = c.center_hours(self.cur + wait, rng).max(self.cur + MINUTE);
            // A satisfied callback is closed at once: both happen, or neither.
            if t + 5 * MINUTE > c.now {
                return;
            }
            let Some(at) = self.step(t) else { return };
            let sat = self.satisfaction(rng, p, pace);
            let (resolved, comment) = match sat {
                Satisfaction::Satisfied => (true, pick(rng, data::CALLBACK_COMMENTS_GOOD)),
                Satisfaction::BasicallySatisfied => (
                    rng.random_bool(0.85),
                    pick(rng, data::CALLBACK_COMMENTS_GOOD),
                ),
                Satisfaction::Dissatisfied => (
                    rng.random_bool(0.15),
                    pick(rng, data::CALLBACK_COMMENTS_BAD),
                ),
                Satisfaction::Unreachable => (false, ""),
            };
            self.push(
                at,
                c.staff.callback,
                EventKind::CallbackRecorded {
                    satisfaction: sat,
                    resolved,
                },
                comment,
            );
            self.t.satisfaction = Some(sat);
            if sat != Satisfaction::Dissatisfied {
                let at = self.cur + between(rng, MINUTE, 5 * MINUTE);
                let note = if sat == Satisfaction::Unreachable {
                    UNREACHABLE_NOTE
                } else {
                    ""
                };
                self.push(at, c.staff.callback, EventKind::Closed, note);
                self.close(at);
                return;
            }

            // Dissatisfied: the team lead reopens (once) or closes with a reason.
            if !self.enter(State::AwaitingDecision) {
                return;
            }
            let Some(at) = self.step(c.office(self.cur + between(rng, 2 * HOUR, 3 * DAY), rng))
            else {
                return;
            };
            if self.t.round == 1 && rng.random_bool(0.55) {
                self.t.round = 2;
                self.t.satisfaction = None;
                let reopened = |unit_id| move |_, _| EventKind::Reopened { unit_id, round: 2 };
                self.dispatch(
                    at,
                    unit,
                    reopened(unit),
                    c.staff.lead,
                    "市民对办理结果不满意，重新交办，请认真核实后再次答复。",
                );
                if !self.enter(State::AwaitingSignFor) {
                    return;
                }
                if pace == Pace::Late {
                    pace = Pace::Prompt;
                }
                continue;
            }
            self.push(
                at,
                c.staff.lead,
                EventKind::Closed,
                pick(rng, LEAD_CLOSE_REASONS),
            );
            self.close(at);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};
    use std::ops::ControlFlow;
    use std::path::PathBuf;

    use super::*;
    use crate::store::ScanSource;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let dir = std::env::temp_dir()
                .join(format!("hotline-demo-{tag}-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
        fn store(&self) -> Store {
            Store::open(&self.0.join("hotline.redb")).unwrap()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn now() -> Timestamp {
        "2026-03-18T15:20:00+08:00".parse().unwrap()
    }

    fn all_tickets(store: &Store) -> Vec<Ticket> {
        let mut out = vec![];
        store
            .scan(
                &ScanSource::All,
                TicketNo(0),
                TicketNo(u64::MAX),
                false,
                |t| {
                    out.push(t);
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        out
    }

    #[test]
    fn generates_a_consistent_district() {
        let dir = TempDir::new("main");
        let store = dir.store();
        let opts = DemoOptions {
            tickets: 2_000,
            password: "demo-pass-1".into(),
            seed: 7,
            months: 6,
        };
        let now = now();
        let mut calls = vec![];
        let summary = generate(&store, &opts, now, &mut |done, total| {
            calls.push((done, total))
        })
        .unwrap();

        // Counts.
        assert_eq!(summary.tickets, 2_000);
        assert_eq!(store.counts().unwrap().tickets, 2_000);
        assert_eq!(summary.units, store.units().unwrap().len());
        assert_eq!(
            summary.units,
            data::UNITS
                .iter()
                .map(|u| 1 + u.children.len())
                .sum::<usize>()
        );
        assert_eq!(summary.categories, store.categories().unwrap().len());
        assert_eq!(summary.categories, data::CATEGORIES.len());
        let users = store.users().unwrap();
        assert_eq!(summary.accounts.len(), users.len());
        assert_eq!(calls.last(), Some(&(2_000, 2_000)));
        assert!(calls.len() >= 100 && calls.windows(2).all(|w| w[0].0 <= w[1].0));
        for u in &users {
            assert!(check_username(&u.username).is_ok());
            assert_eq!(
                u.unit_id.is_some(),
                u.has(Role::DepartmentHandler),
                "{}",
                u.username
            );
        }
        let admin = store.user_by_name("admin").unwrap().unwrap();
        assert!(crate::service::auth::verify_password(
            "demo-pass-1",
            &admin.password_hash
        ));
        for c in store.categories().unwrap() {
            assert!(c.default_unit_id.is_some());
        }

        assert_eq!(store.check_indexes().unwrap(), Vec::<String>::new());
        // The report aggregates counted while importing equal a recount.
        let agg = store.check_aggregates().unwrap();
        assert_eq!(agg.differences, 0, "{:?}", agg.examples);
        assert_eq!(agg.tickets, 2_000);

        let places: HashSet<(&str, &str, &str)> = data::DISTRICTS
            .iter()
            .flat_map(|d| {
                d.streets
                    .iter()
                    .flat_map(move |s| s.communities.iter().map(move |c| (d.name, s.name, *c)))
            })
            .collect();
        let unit_ids: HashSet<u32> = store.units().unwrap().iter().map(|u| u.id).collect();
        let tickets = all_tickets(&store);
        assert_eq!(tickets.len(), 2_000);
        let now_s = now.as_second();
        let start = now_s - 190 * DAY;
        let mut states: BTreeMap<State, usize> = BTreeMap::new();
        let mut cards = 0;
        let mut phones: HashMap<&str, usize> = HashMap::new();
        let mut last_no = TicketNo(0);
        let mut last_created = 0;
        for t in &tickets {
            *states.entry(t.state).or_default() += 1;
            *phones.entry(t.caller_phone.as_str()).or_default() += 1;
            assert!(t.number > last_no);
            assert!(
                t.created_at >= last_created,
                "numbers follow creation times"
            );
            last_no = t.number;
            last_created = t.created_at;
            assert!(t.created_at >= start && t.created_at < now_s);
            let local = Timestamp::from_second(t.created_at)
                .unwrap()
                .to_zoned(Settings::default().tz());
            assert_eq!(
                t.number.day(),
                TicketNo::day_of(local.date()),
                "{}",
                t.number
            );

            let events = store.events(t.number).unwrap();
            assert_eq!(events.len() as u32, t.event_count);
            assert_eq!(events[0].kind, EventKind::Created);
            assert_eq!(events[0].at, t.created_at);
            assert!(
                events.windows(2).all(|w| w[0].at < w[1].at),
                "{}: times increase",
                t.number
            );
            assert_eq!(events.last().unwrap().at, t.updated_at, "{}", t.number);
            assert!(t.updated_at <= now_s);
            cards += events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::CardReached { .. }))
                .count();

            assert!(places.contains(&(
                t.district.as_str(),
                t.street.as_str(),
                t.community.as_str()
            )));
            assert!(!t.content.contains('{'), "{}", t.content);
            assert!(t.caller_phone.len() == 11 && t.caller_phone.starts_with('1'));
            assert!(crate::domain::ticket::normalize_phone(&t.caller_phone).is_ok());
            assert_eq!(
                t.state == State::Closed,
                t.closed_at.is_some(),
                "{}",
                t.number
            );
            if t.state.has_stage_deadline() {
                let st = t.stage.expect("stage");
                assert!(st.started_at <= st.due_at);
                assert!(t.unit_id.is_some() && t.due_at.is_some());
            } else {
                assert!(t.stage.is_none(), "{} {:?}", t.number, t.state);
            }
            if let Some(u) = t.unit_id {
                assert!(t.units_seen.contains(&u));
            }
            assert!(t.units_seen.iter().all(|u| unit_ids.contains(u)));
            for e in &events {
                match &e.kind {
                    EventKind::Dispatched {
                        unit_id,
                        stage_due,
                        due,
                    } => {
                        assert!(t.units_seen.contains(unit_id));
                        assert!(stage_due <= due && *stage_due > e.at);
                    }
                    EventKind::HandedDown { unit_id, .. } | EventKind::Reopened { unit_id, .. } => {
                        assert!(t.units_seen.contains(unit_id));
                    }
                    _ => {}
                }
                if !matches!(e.kind, EventKind::CardReached { .. }) {
                    assert_ne!(e.actor, 0);
                }
            }
            match t.state {
                State::AwaitingDecision => {
                    assert_eq!(t.satisfaction, Some(Satisfaction::Dissatisfied))
                }
                State::PendingDispatch => assert!(t.stage.is_none() && t.unit_id.is_none()),
                State::Closed if t.answer.is_empty() => {
                    assert!(t.satisfaction.is_some(), "{}", t.number)
                }
                _ => {}
            }
        }
        eprintln!("states: {states:?}; card events: {cards}");
        for s in State::ALL.iter().filter(|s| !s.is_final()) {
            assert!(
                states.get(s).copied().unwrap_or(0) > 0,
                "no ticket in {s:?}: {states:?}"
            );
        }
        assert!(states[&State::Closed] > 1_000, "{states:?}");
        assert!(states.get(&State::Voided).copied().unwrap_or(0) > 0);
        assert!(cards > 0);
        assert!(phones.values().any(|n| *n > 1), "some callers call again");

        // Not again, not into a store with users.
        let again = generate(&store, &opts, now, &mut |_, _| {});
        assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
        assert_eq!(store.counts().unwrap().tickets, 2_000);
    }

    #[test]
    fn same_seed_same_district_and_small_runs_work() {
        let opts = DemoOptions {
            tickets: 300,
            password: "demo-pass-2".into(),
            seed: 42,
            months: 1,
        };
        let a = TempDir::new("a");
        let b = TempDir::new("b");
        let (sa, sb) = (a.store(), b.store());
        generate(&sa, &opts, now(), &mut |_, _| {}).unwrap();
        generate(&sb, &opts, now(), &mut |_, _| {}).unwrap();
        let (ta, tb) = (all_tickets(&sa), all_tickets(&sb));
        assert_eq!(ta.len(), 300);
        assert_eq!(ta, tb);
        assert_eq!(
            sa.events(ta[17].number).unwrap(),
            sb.events(tb[17].number).unwrap()
        );

        let c = TempDir::new("c");
        let sc = c.store();
        let none = DemoOptions {
            tickets: 0,
            ..opts.clone()
        };
        let s = generate(&sc, &none, now(), &mut |_, _| {}).unwrap();
        assert_eq!(s.tickets, 0);
        assert_eq!(sc.counts().unwrap().tickets, 0);

        let d = TempDir::new("d");
        let short = DemoOptions {
            password: "short".into(),
            ..opts
        };
        assert!(generate(&d.store(), &short, now(), &mut |_, _| {}).is_err());
    }

    /// `cargo test --release --lib demo::tests::timing -- --ignored --nocapture`
    /// (HOTLINE_DEMO_TICKETS=1000000 for the big run).
    #[test]
    #[ignore]
    fn timing() {
        let n: u64 = std::env::var("HOTLINE_DEMO_TICKETS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200_000);
        let dir = TempDir::new("timing");
        let store = dir.store();
        let opts = DemoOptions {
            tickets: n,
            ..DemoOptions::default()
        };
        let now = Timestamp::now();
        let t0 = std::time::Instant::now();
        generate(&store, &opts, now, &mut |_, _| {}).unwrap();
        eprintln!(
            "{n} tickets in {:.1?}, {} events, {} MB",
            t0.elapsed(),
            store.counts().unwrap().events,
            store.file_size() / 1_000_000
        );
        // The shape of what was generated.
        let (cal, tz) = (Calendar::default_cn(), Settings::default().tz());
        let mut states: BTreeMap<State, usize> = BTreeMap::new();
        let mut sup: BTreeMap<Supervision, usize> = BTreeMap::new();
        let mut sat: BTreeMap<Satisfaction, usize> = BTreeMap::new();
        store
            .scan(
                &ScanSource::All,
                TicketNo(0),
                TicketNo(u64::MAX),
                false,
                |t| {
                    *states.entry(t.state).or_default() += 1;
                    if let Some(s) = t.satisfaction {
                        *sat.entry(s).or_default() += 1;
                    }
                    if let Some(st) = t.stage.filter(|_| t.state.has_stage_deadline()) {
                        let d = StageDeadline {
                            started_at: Timestamp::from_second(st.started_at).unwrap(),
                            due_at: Timestamp::from_second(st.due_at).unwrap(),
                            by_hours: st.by_hours,
                        };
                        *sup.entry(crate::domain::supervision::status(&d, now, &cal, &tz))
                            .or_default() += 1;
                    }
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        eprintln!("states {states:?}\nsupervision {sup:?}\nsatisfaction {sat:?}");
    }
}
