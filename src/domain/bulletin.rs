//! Bulletins (issue 6, PRODUCT.md §7): their kinds and periods, the issue
//! schedule, hot words, spikes and difficult cases — the pure rules; the
//! store keeps the per-day word counts and the difficult-case index, the
//! service assembles a bulletin from them and the aggregates.
//!
//! # Periods
//!
//! | kind | period | key | issued (schedule) |
//! |---|---|---|---|
//! | daily 日报 | one day | `2026-11-20` | the next day |
//! | weekly 周报 | ISO week, Monday–Sunday | `2026-W47` | the Monday after |
//! | monthly 月度分析 | a calendar month | `2026-11` | the 1st of the next month |
//! | quarterly 季度报告 | a calendar quarter | `2026-Q4` | the 1st of the next quarter |
//! | annual 年度报告 | a calendar year | `2026` | January 1st |
//!
//! # Hot words
//!
//! A ticket's words are the jieba words of its title and content (the
//! caller's text), each counted **once per ticket**, without stop words
//! ([`is_countable`]): an embedded list (`stopwords.txt`: function words and
//! hotline boilerplate such as 来电/反映/市民/要求/问题/咨询), single
//! characters and anything with a digit. They count on the ticket's creation
//! day. [`hot_words`] ranks a period's words against the previous period.
//!
//! # Spikes
//!
//! A spike is a street × top-level category whose count on one day is far
//! above its own baseline, the mean of the [`SpikeRule::baseline_days`] days
//! before (days without tickets count as 0). The threshold is
//!
//! `count ≥ max(min_count, mean + k·√mean + c)`
//!
//! — a Poisson-style bound (the standard deviation of a count is about the
//! square root of its mean) that stays robust for rare pairs: a street with
//! no history at all (mean 0) needs `max(min_count, c)` tickets on the day.
//! Defaults: 28 days, `min_count` 5, `k` 3, `c` 2. See [`find_spikes`].
//!
//! # Difficult cases
//!
//! A ticket is a difficult case on a day when that day it was reopened after
//! a dissatisfied callback, a callback recorded *dissatisfied*, or a red
//! card was reached ([`DifficultKind`]). The marks come from the same
//! timeline events as the aggregate counters `Reopens`, `Dissatisfied` and
//! `RedCards`, on the same days and units ([`difficult_marks`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use jiff::ToSpan;
use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::aggregate::{Counter, Cursor, event_facts};
use super::kpi::Period;
use super::ticket::{Event, Ticket};

// ---------------------------------------------------------------- kinds

/// The kind of a bulletin. The code is persisted in archive keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulletinKind {
    Daily = 1,
    Weekly = 2,
    Monthly = 3,
    Quarterly = 4,
    Annual = 5,
}

impl BulletinKind {
    pub const ALL: &'static [BulletinKind] = &[
        BulletinKind::Daily,
        BulletinKind::Weekly,
        BulletinKind::Monthly,
        BulletinKind::Quarterly,
        BulletinKind::Annual,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(c: u8) -> Option<BulletinKind> {
        Self::ALL.iter().copied().find(|k| k.code() == c)
    }

    /// The API name (`/api/v1/reports/{kind}`).
    pub fn as_str(self) -> &'static str {
        match self {
            BulletinKind::Daily => "daily",
            BulletinKind::Weekly => "weekly",
            BulletinKind::Monthly => "monthly",
            BulletinKind::Quarterly => "quarterly",
            BulletinKind::Annual => "annual",
        }
    }

    pub fn parse(s: &str) -> Option<BulletinKind> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            BulletinKind::Daily => "日报",
            BulletinKind::Weekly => "周报",
            BulletinKind::Monthly => "月度分析",
            BulletinKind::Quarterly => "季度报告",
            BulletinKind::Annual => "年度报告",
        }
    }

    /// The period of this kind that contains `d`.
    pub fn period_containing(self, d: Date) -> Period {
        let p = |start: Date, end: Date| Period { start, end };
        match self {
            BulletinKind::Daily => Period::day(d),
            BulletinKind::Weekly => {
                let back = i64::from(d.weekday().to_monday_zero_offset());
                let start = d.checked_sub(back.days()).unwrap_or(d);
                p(start, start.checked_add(6.days()).unwrap_or(start))
            }
            BulletinKind::Monthly => p(d.first_of_month(), d.last_of_month()),
            BulletinKind::Quarterly => {
                let m = (d.month() - 1) / 3 * 3 + 1;
                let start = Date::new(d.year(), m, 1).unwrap_or(d);
                let end = Date::new(d.year(), m + 2, 1)
                    .map(|x| x.last_of_month())
                    .unwrap_or(d);
                p(start, end)
            }
            BulletinKind::Annual => p(d.first_of_year(), d.last_of_year()),
        }
    }

    /// The period before `p` (of the same kind).
    pub fn before(self, p: Period) -> Period {
        let d = p.start.yesterday().unwrap_or(p.start);
        self.period_containing(d)
    }

    /// The last complete period on `today` (yesterday's day, last week …).
    pub fn last_complete(self, today: Date) -> Period {
        self.before(self.period_containing(today))
    }

    /// The key people and URLs use: `2026-11-20`, `2026-W47`, `2026-11`,
    /// `2026-Q4`, `2026`.
    pub fn key(self, p: Period) -> String {
        let d = p.start;
        match self {
            BulletinKind::Daily => d.to_string(),
            BulletinKind::Weekly => {
                let w = d.iso_week_date();
                format!("{}-W{:02}", w.year(), w.week())
            }
            BulletinKind::Monthly => format!("{}-{:02}", d.year(), d.month()),
            BulletinKind::Quarterly => format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1),
            BulletinKind::Annual => d.year().to_string(),
        }
    }

    /// The period of a key (the inverse of [`BulletinKind::key`]); a
    /// Chinese message for anything else.
    pub fn parse_key(self, s: &str) -> Result<Period, String> {
        let bad = || {
            format!(
                "无法识别的{}期号“{}”(应为 {}) (bad period key)",
                self.label_zh(),
                s.chars().take(20).collect::<String>(),
                self.key_example()
            )
        };
        let num = |x: &str| -> Result<i32, String> {
            if x.is_empty() || x.len() > 4 || !x.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            x.parse().map_err(|_| bad())
        };
        let year = |x: &str| -> Result<i16, String> {
            let y = num(x)?;
            if x.len() != 4 || !(1900..=9998).contains(&y) {
                return Err(bad());
            }
            Ok(y as i16)
        };
        let s = s.trim();
        match self {
            BulletinKind::Daily => {
                let d: Date = s.parse().map_err(|_| bad())?;
                if s.len() != 10 || !(1900..=9998).contains(&d.year()) {
                    return Err(bad());
                }
                Ok(Period::day(d))
            }
            BulletinKind::Weekly => {
                let (y, w) = s.split_once("-W").ok_or_else(bad)?;
                let w = num(w)?;
                let d = ISOWeekDate::new(year(y)?, w as i8, Weekday::Monday)
                    .map_err(|_| bad())?
                    .date();
                Ok(self.period_containing(d))
            }
            BulletinKind::Monthly => {
                let (y, m) = s.split_once('-').ok_or_else(bad)?;
                if m.len() != 2 {
                    return Err(bad());
                }
                Period::month(year(y)?, num(m)? as i8).map_err(|_| bad())
            }
            BulletinKind::Quarterly => {
                let (y, q) = s.split_once("-Q").ok_or_else(bad)?;
                let q = num(q)?;
                if !(1..=4).contains(&q) {
                    return Err(bad());
                }
                let d = Date::new(year(y)?, (q as i8 - 1) * 3 + 1, 1).map_err(|_| bad())?;
                Ok(self.period_containing(d))
            }
            BulletinKind::Annual => Period::year(year(s)?).map_err(|_| bad()),
        }
    }

    fn key_example(self) -> &'static str {
        match self {
            BulletinKind::Daily => "2026-11-20",
            BulletinKind::Weekly => "2026-W47",
            BulletinKind::Monthly => "2026-11",
            BulletinKind::Quarterly => "2026-Q4",
            BulletinKind::Annual => "2026",
        }
    }

    /// How far back the schedule catches up periods missed while the
    /// server was off (counted in periods before the last complete one).
    pub fn catch_up(self) -> usize {
        match self {
            BulletinKind::Daily => 7,
            BulletinKind::Weekly => 2,
            BulletinKind::Monthly => 2,
            BulletinKind::Quarterly => 1,
            BulletinKind::Annual => 1,
        }
    }

    /// The trend of a bulletin is per day, except the annual one's (per
    /// month).
    pub fn trend_by_month(self) -> bool {
        self == BulletinKind::Annual
    }
}

/// The bulletins the schedule should have issued by `today` at local time
/// `time_now`, given the configured issue time `at`: for each kind, the last
/// complete period and up to [`BulletinKind::catch_up`] periods before it,
/// oldest first. The last complete period is only due once `at` has passed
/// on the day after it ended (which is always today for it, so: once `at`
/// has passed today). The caller skips the ones already archived.
pub fn due_bulletins(
    today: Date,
    time_now: jiff::civil::Time,
    at: jiff::civil::Time,
) -> Vec<(BulletinKind, Period)> {
    let mut out = Vec::new();
    for k in BulletinKind::ALL {
        let last = k.last_complete(today);
        let mut ps = vec![];
        // The last complete period ended yesterday only if today starts a
        // new period; otherwise it ended earlier and is due regardless of
        // the time of day.
        let ended_yesterday = k.period_containing(today).start == today;
        if !ended_yesterday || time_now >= at {
            ps.push(last);
        }
        let mut p = last;
        for _ in 0..k.catch_up() {
            p = k.before(p);
            ps.push(p);
        }
        ps.reverse();
        out.extend(ps.into_iter().map(|p| (*k, p)));
    }
    out
}

// ---------------------------------------------------------------- hot words

const STOP_LIST: &str = include_str!("stopwords.txt");

fn stop_words() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        STOP_LIST
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Whether a word (jieba output, lowercased) counts as a hot word: at least
/// two characters, no digit (numbers, house numbers, dates), at least one
/// letter or ideograph, not a stop word.
pub fn is_countable(word: &str) -> bool {
    let n = word.chars().count();
    if !(2..=12).contains(&n) {
        return false;
    }
    if word.chars().any(|c| c.is_numeric()) {
        return false;
    }
    // Chinese numerals alone (一二三, 十五) are numbers too.
    if word
        .chars()
        .all(|c| "零〇一二三四五六七八九十百千万亿两几".contains(c))
    {
        return false;
    }
    if !word.chars().all(char::is_alphanumeric) {
        return false;
    }
    !stop_words().contains(word)
}

const FILLER_LIST: &str = include_str!("hotword_filler.txt");

fn filler_words() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        FILLER_LIST
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Endings of road and estate names. A word that is one of them (花园,
/// 小区), or one of them after a direction or size (东路, 中路, 大街), or
/// a longer word ending in a road or estate name (延安路, 海景花园) is a
/// piece of an address, not a subject.
const PLACE_SUFFIXES: &[&str] = &[
    "路", "街", "道", "巷", "弄", "胡同", "号", "号楼", "栋", "单元", "花园", "小区", "苑", "公寓",
    "大厦", "广场", "家园", "新村", "山庄", "名苑", "雅苑", "华庭", "府", "社区", "街道", "村",
];
/// Endings that are also the end of ordinary words (通道, 人行道, 信号,
/// 农村, 政府): only right after a direction or size (大道, 东村).
const AMBIGUOUS_SUFFIXES: &[&str] = &["道", "号", "府", "村", "栋"];
const DIRECTIONS: &str = "东西南北中大小新老前后上下内外一二三四五六七八九十";

/// Whether `word` is a fragment of an address: a name the center knows
/// (`places`: its districts, streets and communities, see
/// [`place_words`]) or a road/estate name by its ending.
pub fn is_place_fragment(word: &str, places: &HashSet<String>) -> bool {
    if places.contains(word) {
        return true;
    }
    let n = word.chars().count();
    for suf in PLACE_SUFFIXES {
        let Some(stem) = word.strip_suffix(suf) else {
            continue;
        };
        let stem_n = stem.chars().count();
        if stem_n == 0 {
            return !AMBIGUOUS_SUFFIXES.contains(suf);
        }
        if stem_n == 1 && DIRECTIONS.contains(stem) {
            return true;
        }
        if stem_n >= 2 && n >= 3 && !AMBIGUOUS_SUFFIXES.contains(suf) {
            return true;
        }
    }
    false
}

/// The words of the center's place names (district, street, community and
/// unit names, segmented by `segment`), without the generic parts
/// (街道, 办事处, 委员会, …) that are also ordinary words.
pub fn place_words<'a>(
    names: impl IntoIterator<Item = &'a str>,
    segment: impl Fn(&str) -> Vec<String>,
) -> HashSet<String> {
    const GENERIC: &[&str] = &[
        "办事处",
        "委员会",
        "居委会",
        "居民",
        "管理",
        "服务",
        "中心",
        "人民政府",
        "政府",
        "分局",
        "局",
        "所",
        "站",
        "公司",
        "有限公司",
        "集团",
        "办公室",
        "部门",
    ];
    let mut out = HashSet::new();
    for name in names {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        if is_place_name(name) {
            out.insert(name.to_string());
        }
        for w in segment(name) {
            if w.chars().count() >= 2
                && !GENERIC.contains(&w.as_str())
                && !stop_words().contains(w.as_str())
                && is_place_name(name)
            {
                out.insert(w);
            }
        }
    }
    out
}

/// A name that denotes a place (a district, street, community or estate)
/// rather than an office: its words are address fragments.
fn is_place_name(name: &str) -> bool {
    [
        "区", "街道", "社区", "镇", "乡", "村", "路", "街", "小区", "花园",
    ]
    .iter()
    .any(|s| name.ends_with(s) || name.contains(&format!("{s}办事处")))
}

/// Whether a counted word is shown as a hot word: countable
/// ([`is_countable`], the stored counts' rule), not a filler word of any
/// call (`hotword_filler.txt`: 孩子, 帮忙, 突然, 晚上) and not a fragment of
/// an address ([`is_place_fragment`]). Applied when the hot words are
/// read, so changing it needs no recount.
pub fn is_hot_word(word: &str, places: &HashSet<String>) -> bool {
    is_countable(word) && !filler_words().contains(word) && !is_place_fragment(word, places)
}

/// The distinct countable words of a ticket, from its title and content
/// segmented by `segment` (the store passes jieba).
pub fn ticket_words(
    title: &str,
    content: &str,
    segment: impl Fn(&str) -> Vec<String>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for text in [title, content] {
        for w in segment(text) {
            if is_countable(&w) {
                out.insert(w);
            }
        }
    }
    out
}

/// A word of a period with its count in the previous period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HotWord {
    pub word: String,
    /// Tickets of the period with the word.
    pub count: u64,
    /// Tickets of the previous period with the word.
    pub previous: u64,
    /// `count / previous - 1`; `None` when the previous count is 0 (new).
    pub change: Option<f64>,
}

fn hot(word: &str, count: u64, previous: u64) -> HotWord {
    HotWord {
        word: word.to_string(),
        count,
        previous,
        change: (previous > 0).then(|| count as f64 / previous as f64 - 1.0),
    }
}

/// The `n` most frequent words of the current period, most frequent first
/// (ties: the word), each with its previous count and change.
pub fn hot_words(
    current: &HashMap<String, u64>,
    previous: &HashMap<String, u64>,
    n: usize,
) -> Vec<HotWord> {
    let mut v: Vec<(&String, &u64)> = current.iter().filter(|(_, c)| **c > 0).collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.into_iter()
        .take(n)
        .map(|(w, c)| hot(w, *c, previous.get(w).copied().unwrap_or(0)))
        .collect()
}

/// Words that rose most against the previous period: at least `min_count`
/// tickets now and more than before, ranked by the increase in tickets
/// (ties: the larger relative change, then the word).
pub fn rising_words(
    current: &HashMap<String, u64>,
    previous: &HashMap<String, u64>,
    min_count: u64,
    n: usize,
) -> Vec<HotWord> {
    let mut v: Vec<HotWord> = current
        .iter()
        .filter(|(_, c)| **c >= min_count.max(1))
        .map(|(w, c)| hot(w, *c, previous.get(w).copied().unwrap_or(0)))
        .filter(|h| h.count > h.previous)
        .collect();
    let rel = |h: &HotWord| h.change.unwrap_or(f64::INFINITY);
    v.sort_by(|a, b| {
        (b.count - b.previous)
            .cmp(&(a.count - a.previous))
            .then(rel(b).total_cmp(&rel(a)))
            .then(a.word.cmp(&b.word))
    });
    v.truncate(n);
    v
}

// ---------------------------------------------------------------- spikes

/// The spike threshold's parameters (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpikeRule {
    pub baseline_days: u32,
    pub min_count: u64,
    pub k: f64,
    pub c: f64,
}

impl Default for SpikeRule {
    fn default() -> Self {
        SpikeRule {
            baseline_days: 28,
            min_count: 5,
            k: 3.0,
            c: 2.0,
        }
    }
}

impl SpikeRule {
    /// The smallest count that is a spike over a baseline mean.
    pub fn threshold(&self, mean: f64) -> f64 {
        (self.min_count as f64).max(mean + self.k * mean.max(0.0).sqrt() + self.c)
    }
}

/// One pair far above its baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct SpikeHit<K> {
    pub key: K,
    pub count: u64,
    /// Mean per day over the baseline days.
    pub baseline: f64,
    pub threshold: f64,
}

/// The pairs whose `day` count reaches the threshold over their baseline
/// (`baseline_total`: the pair's tickets over the `rule.baseline_days` days
/// before; a missing pair has none). Largest excess first (count over
/// threshold), then the key.
pub fn find_spikes<K: Ord + Clone + std::hash::Hash>(
    day: &HashMap<K, u64>,
    baseline_total: &HashMap<K, u64>,
    rule: &SpikeRule,
) -> Vec<SpikeHit<K>> {
    let days = f64::from(rule.baseline_days.max(1));
    let mut out: Vec<SpikeHit<K>> = day
        .iter()
        .filter_map(|(k, c)| {
            let mean = baseline_total.get(k).copied().unwrap_or(0) as f64 / days;
            let threshold = rule.threshold(mean);
            (*c as f64 >= threshold).then(|| SpikeHit {
                key: k.clone(),
                count: *c,
                baseline: mean,
                threshold,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (b.count as f64 / b.threshold)
            .total_cmp(&(a.count as f64 / a.threshold))
            .then(a.key.cmp(&b.key))
    });
    out
}

// ---------------------------------------------------------------- difficult cases

/// What made a ticket a difficult case on a day. The code is persisted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifficultKind {
    /// Reopened (重办) after a dissatisfied callback.
    Reopened = 1,
    /// A callback answered "dissatisfied".
    Dissatisfied = 2,
    /// A red card was reached.
    RedCard = 3,
}

impl DifficultKind {
    pub const ALL: &'static [DifficultKind] = &[
        DifficultKind::Reopened,
        DifficultKind::Dissatisfied,
        DifficultKind::RedCard,
    ];
    pub fn code(self) -> u8 {
        self as u8
    }
    pub fn from_code(c: u8) -> Option<DifficultKind> {
        Self::ALL.iter().copied().find(|k| k.code() == c)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            DifficultKind::Reopened => "重办",
            DifficultKind::Dissatisfied => "回访不满意",
            DifficultKind::RedCard => "红牌",
        }
    }
    fn of(c: Counter) -> Option<DifficultKind> {
        match c {
            Counter::Reopens => Some(DifficultKind::Reopened),
            Counter::Dissatisfied => Some(DifficultKind::Dissatisfied),
            Counter::RedCards => Some(DifficultKind::RedCard),
            _ => None,
        }
    }
}

/// The difficult-case marks of `events` folded from `cur` (a new ticket:
/// [`Cursor::start`]; a change: [`Cursor::of`] the old record): per local
/// day, the set of `(kind, unit)` — the unit being the one the aggregate
/// counter is attributed to.
pub fn difficult_marks(
    t: &Ticket,
    cur: Cursor,
    events: &[Event],
    tz: &TimeZone,
) -> BTreeMap<u32, BTreeSet<(u8, u32)>> {
    let mut cur = cur;
    let mut out: BTreeMap<u32, BTreeSet<(u8, u32)>> = BTreeMap::new();
    for f in event_facts(t, &mut cur, events, tz) {
        if let Some(k) = DifficultKind::of(f.counter) {
            out.entry(f.day).or_default().insert((k.code(), f.unit));
        }
    }
    out
}

/// Who issued an archived bulletin, and when (the archive's index row).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRecord {
    pub kind: BulletinKind,
    /// The period key ([`BulletinKind::key`]).
    pub key: String,
    pub start: Date,
    pub end: Date,
    /// Unix seconds.
    pub issued_at: i64,
    /// The user who issued it by hand; 0: the schedule.
    pub issued_by: u32,
    /// How many times it was issued (1, +1 per re-issue).
    pub issues: u32,
}

/// A period key in Chinese words: `2026-W48` → `2026年第48周`, `2026-11` →
/// `2026年11月`, `2026-Q4` → `2026年第4季度`, a day, a year; anything else
/// as it is.
pub fn period_name_zh(key: &str) -> String {
    let num = |s: &str| s.parse::<u32>().ok();
    let parts: Vec<&str> = key.split('-').collect();
    match parts.as_slice() {
        [y, w] if w.starts_with('W') => match (num(y), num(&w[1..])) {
            (Some(y), Some(w)) => format!("{y}年第{w}周"),
            _ => key.to_string(),
        },
        [y, q] if q.starts_with('Q') => match (num(y), num(&q[1..])) {
            (Some(y), Some(q)) => format!("{y}年第{q}季度"),
            _ => key.to_string(),
        },
        [y, m] => match (num(y), num(m)) {
            (Some(y), Some(m)) => format!("{y}年{m}月"),
            _ => key.to_string(),
        },
        [y, m, d] => match (num(y), num(m), num(d)) {
            (Some(y), Some(m), Some(d)) => format!("{y}年{m}月{d}日"),
            _ => key.to_string(),
        },
        [y] => match num(y) {
            Some(y) => format!("{y}年"),
            None => key.to_string(),
        },
        _ => key.to_string(),
    }
}

#[cfg(test)]
#[path = "bulletin_tests.rs"]
mod tests;
