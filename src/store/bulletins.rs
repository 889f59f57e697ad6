//! What the bulletins need besides the aggregates: per-day hot-word counts
//! and the difficult-case index (both kept in the same write transaction as
//! every ticket change, by [`super::aggregates::AggWriter`], and rebuilt
//! with the aggregates), and the archive of issued bulletins.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::tables::*;
use super::{Result, Store, codec};
use crate::domain::aggregate::Cursor;
use crate::domain::bulletin::{IssueRecord, difficult_marks, ticket_words};
use crate::domain::ticket::{Event, Ticket};

pub(crate) type WordTable = TableDefinition<'static, (u8, u32, u32), u32>;
pub(crate) type DiffTable = TableDefinition<'static, (u32, u64), &'static [u8]>;

/// The words of a ticket as counted (jieba, without stop words).
pub fn words_of(t: &Ticket) -> BTreeSet<String> {
    ticket_words(&t.title, &t.content, crate::search::tokenize::plain_words)
}

/// Word-count and difficult-case changes of one transaction (or one chunk
/// of a rebuild).
#[derive(Default)]
pub(crate) struct BulletinDelta {
    /// (creation day, word) → change in tickets.
    words: BTreeMap<(u32, String), i64>,
    /// (day, ticket) → marks to add (the index only grows: events are
    /// append-only).
    marks: BTreeMap<(u32, u64), BTreeSet<(u8, u32)>>,
}

impl BulletinDelta {
    fn add_words(&mut self, t: &Ticket, sign: i64) {
        let day = t.number.day();
        for w in words_of(t) {
            *self.words.entry((day, w)).or_default() += sign;
        }
    }

    fn add_marks(&mut self, t: &Ticket, cur: Cursor, events: &[Event], tz: &jiff::tz::TimeZone) {
        for (day, m) in difficult_marks(t, cur, events, tz) {
            self.marks.entry((day, t.number.0)).or_default().extend(m);
        }
    }

    /// Counts one ticket change (`old` = `None`: a new ticket whose
    /// `appended` events are its whole timeline).
    pub(crate) fn change(
        &mut self,
        old: Option<&Ticket>,
        new: &Ticket,
        appended: &[Event],
        tz: &jiff::tz::TimeZone,
    ) {
        match old {
            None => {
                self.add_words(new, 1);
                self.add_marks(new, Cursor::start(), appended, tz);
            }
            Some(o) => {
                if o.title != new.title || o.content != new.content {
                    self.add_words(o, -1);
                    self.add_words(new, 1);
                }
                self.add_marks(new, Cursor::of(o), appended, tz);
            }
        }
    }

    /// Counts a whole ticket (rebuild).
    pub(crate) fn add_ticket(
        &mut self,
        t: &Ticket,
        timeline: &[Event],
        tz: &jiff::tz::TimeZone,
        words: bool,
        marks: bool,
    ) {
        if words {
            self.add_words(t, 1);
        }
        if marks {
            self.add_marks(t, Cursor::start(), timeline, tz);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.words.values().all(|v| *v == 0) && self.marks.is_empty()
    }

    /// Writes the changes into the given tables.
    pub(crate) fn write(
        self,
        w: &WriteTransaction,
        words: Option<WordTable>,
        marks: Option<DiffTable>,
    ) -> Result<()> {
        if let Some(def) = words
            && self.words.values().any(|v| *v != 0)
        {
            let mut names = w.open_table(WORDS)?;
            let mut ids = w.open_table(WORD_IDS)?;
            let mut next = ids.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
            let mut cache: HashMap<String, u32> = HashMap::new();
            let mut rows: BTreeMap<(u8, u32, u32), i64> = BTreeMap::new();
            for ((day, word), d) in self.words {
                if d == 0 {
                    continue;
                }
                let id = match cache.get(&word) {
                    Some(id) => *id,
                    None => {
                        let found = names.get(word.as_str())?.map(|v| v.value());
                        let id = match found {
                            Some(id) => id,
                            None => {
                                let id = next;
                                next += 1;
                                names.insert(word.as_str(), id)?;
                                ids.insert(id, word.as_str())?;
                                id
                            }
                        };
                        cache.insert(word, id);
                        id
                    }
                };
                *rows.entry((0, day, id)).or_default() += d;
                *rows.entry((1, day / 100 * 100, id)).or_default() += d;
            }
            let mut t = w.open_table(def)?;
            for (k, d) in rows {
                if d == 0 {
                    continue;
                }
                let cur = t.get(k)?.map(|v| i64::from(v.value())).unwrap_or(0);
                let n = cur + d;
                if n < 0 {
                    tracing::warn!(key = ?k, "a word count would fall below zero; run `hotline rebuild-aggregates`");
                }
                if n <= 0 {
                    t.remove(k)?;
                } else {
                    t.insert(k, n.min(i64::from(u32::MAX)) as u32)?;
                }
            }
        }
        if let Some(def) = marks
            && !self.marks.is_empty()
        {
            let mut t = w.open_table(def)?;
            for (k, add) in self.marks {
                let mut set: BTreeSet<(u8, u32)> = match t.get(k)? {
                    Some(v) => codec::decode::<Vec<(u8, u32)>>("difficult case", v.value())?
                        .into_iter()
                        .collect(),
                    None => BTreeSet::new(),
                };
                let before = set.len();
                set.extend(add);
                if set.len() != before || before == 0 {
                    let v: Vec<(u8, u32)> = set.into_iter().collect();
                    t.insert(k, codec::encode(&v).as_slice())?;
                }
            }
        }
        Ok(())
    }
}

/// Walks two sorted streams of `(key, value)` and describes the rows that
/// differ (at most `limit` described). `what` names the table.
pub(crate) fn diff_sorted<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
    what: &str,
    mut a: impl Iterator<Item = Result<(K, V)>>,
    mut b: impl Iterator<Item = Result<(K, V)>>,
    limit: usize,
    list: &mut Vec<String>,
) -> Result<u64> {
    let mut diffs = 0u64;
    let mut note = |m: String, list: &mut Vec<String>| {
        diffs += 1;
        if list.len() < limit {
            list.push(format!("{what} {m}"));
        }
    };
    let (mut ra, mut rb) = (a.next().transpose()?, b.next().transpose()?);
    loop {
        match (&ra, &rb) {
            (None, None) => break,
            (Some((ka, va)), Some((kb, vb))) if ka == kb => {
                if va != vb {
                    note(format!("{ka:?}: kept {va:?}, recounted {vb:?}"), list);
                }
                ra = a.next().transpose()?;
                rb = b.next().transpose()?;
            }
            (Some((ka, va)), Some((kb, _))) if ka < kb => {
                note(format!("{ka:?}: kept {va:?}, recounted nothing"), list);
                ra = a.next().transpose()?;
            }
            (Some((ka, va)), None) => {
                note(format!("{ka:?}: kept {va:?}, recounted nothing"), list);
                ra = a.next().transpose()?;
            }
            (_, Some((kb, vb))) => {
                note(format!("{kb:?}: kept nothing, recounted {vb:?}"), list);
                rb = b.next().transpose()?;
            }
        }
    }
    Ok(diffs)
}

/// Compares the kept word counts and difficult-case index with their
/// recounts in the scratch tables. Returns (differences, rows recounted).
pub(crate) fn compare_rebuild(
    w: &WriteTransaction,
    limit: usize,
    list: &mut Vec<String>,
) -> Result<(u64, u64)> {
    use redb::ReadableTableMetadata;
    let (ka, kb) = (
        w.open_table(WORD_COUNTS)?,
        w.open_table(WORD_COUNTS_REBUILD)?,
    );
    let mut d = diff_sorted("word count", word_rows(&ka)?, word_rows(&kb)?, limit, list)?;
    let mut rows = kb.len()?;
    let (da, db) = (w.open_table(DIFFICULT)?, w.open_table(DIFFICULT_REBUILD)?);
    d += diff_sorted(
        "difficult case",
        mark_rows(&da)?,
        mark_rows(&db)?,
        limit,
        list,
    )?;
    rows += db.len()?;
    Ok((d, rows))
}

type WordRow = Result<((u8, u32, u32), u32)>;

fn word_rows<'a>(
    t: &'a redb::Table<'_, (u8, u32, u32), u32>,
) -> Result<impl Iterator<Item = WordRow> + 'a> {
    Ok(t.iter()?.map(|r| {
        r.map(|(k, v)| (k.value(), v.value()))
            .map_err(super::StoreError::from)
    }))
}

type MarkRow = Result<((u32, u64), Vec<u8>)>;

fn mark_rows<'a>(
    t: &'a redb::Table<'_, (u32, u64), &'static [u8]>,
) -> Result<impl Iterator<Item = MarkRow> + 'a> {
    Ok(t.iter()?.map(|r| {
        r.map(|(k, v)| (k.value(), v.value().to_vec()))
            .map_err(super::StoreError::from)
    }))
}

/// One row of the difficult-case index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DifficultRow {
    pub day: u32,
    pub ticket: u64,
    /// `(kind code, unit id)`.
    pub marks: Vec<(u8, u32)>,
}

impl Store {
    /// Hot-word counts by word id over local days `from..=to`
    /// (`YYYYMMDD`), read from the monthly rows for whole months and from
    /// the daily rows for the rest.
    pub fn word_counts(&self, from: u32, to: u32) -> Result<HashMap<u32, u64>> {
        let r = self.read()?;
        let mut out: HashMap<u32, u64> = HashMap::new();
        let Some(t) = super::missing_table_is_empty(r.open_table(WORD_COUNTS))? else {
            return Ok(out);
        };
        let mut month = from / 100 * 100;
        while month <= to / 100 * 100 {
            let (m_first, m_last) = (month + 1, month + 31);
            let (lo, hi) = (from.max(m_first), to.min(m_last));
            let mut add = |range: redb::Range<'_, (u8, u32, u32), u32>| -> Result<()> {
                for row in range {
                    let (k, v) = row?;
                    *out.entry(k.value().2).or_default() += u64::from(v.value());
                }
                Ok(())
            };
            if whole_month(month, lo, hi) {
                add(t.range((1, month, 0)..=(1, month, u32::MAX))?)?;
            } else if lo <= hi {
                add(t.range((0, lo, 0)..=(0, hi, u32::MAX))?)?;
            }
            // Next month.
            month = if month % 10000 / 100 == 12 {
                (month / 10000 + 1) * 10000 + 100
            } else {
                month + 100
            };
        }
        Ok(out)
    }

    /// The words of these ids.
    pub fn word_names(&self, ids: impl IntoIterator<Item = u32>) -> Result<HashMap<u32, String>> {
        let r = self.read()?;
        let mut out = HashMap::new();
        let Some(t) = super::missing_table_is_empty(r.open_table(WORD_IDS))? else {
            return Ok(out);
        };
        for id in ids {
            if let Some(v) = t.get(id)? {
                out.insert(id, v.value().to_string());
            }
        }
        Ok(out)
    }

    /// The difficult-case index over local days `from..=to`, by day and
    /// ticket.
    pub fn difficult_rows(&self, from: u32, to: u32) -> Result<Vec<DifficultRow>> {
        let r = self.read()?;
        let Some(t) = super::missing_table_is_empty(r.open_table(DIFFICULT))? else {
            return Ok(vec![]);
        };
        let mut out = vec![];
        for row in t.range((from, 0)..=(to, u64::MAX))? {
            let (k, v) = row?;
            let (day, ticket) = k.value();
            out.push(DifficultRow {
                day,
                ticket,
                marks: codec::decode("difficult case", v.value())?,
            });
        }
        Ok(out)
    }

    /// Archives an issued bulletin (replacing one of the same kind and
    /// period): its issue record and its frozen data, in one transaction.
    /// Returns the record as stored (`issues` counted up on a re-issue).
    pub fn put_bulletin(&self, mut rec: IssueRecord, data: &[u8]) -> Result<IssueRecord> {
        let w = self.write()?;
        {
            let key = (
                rec.kind.code(),
                crate::domain::ticket::TicketNo::day_of(rec.start),
            );
            let mut idx = w.open_table(BULLETIN_INDEX)?;
            let before: Option<IssueRecord> = match idx.get(key)? {
                Some(v) => Some(codec::decode("bulletin issue", v.value())?),
                None => None,
            };
            rec.issues = before.map(|b| b.issues + 1).unwrap_or(1);
            idx.insert(key, codec::encode(&rec).as_slice())?;
            w.open_table(BULLETINS)?.insert(key, data)?;
        }
        w.commit()?;
        Ok(rec)
    }

    /// An archived bulletin: its issue record and frozen data.
    pub fn bulletin(&self, kind: u8, start: u32) -> Result<Option<(IssueRecord, Vec<u8>)>> {
        let r = self.read()?;
        let Some(idx) = super::missing_table_is_empty(r.open_table(BULLETIN_INDEX))? else {
            return Ok(None);
        };
        let Some(v) = idx.get((kind, start))? else {
            return Ok(None);
        };
        let rec: IssueRecord = codec::decode("bulletin issue", v.value())?;
        let data = r
            .open_table(BULLETINS)?
            .get((kind, start))?
            .map(|v| v.value().to_vec())
            .unwrap_or_default();
        Ok(Some((rec, data)))
    }

    /// Issue records of one kind, newest period first.
    pub fn bulletin_issues(&self, kind: u8, limit: usize) -> Result<Vec<IssueRecord>> {
        let r = self.read()?;
        let Some(idx) = super::missing_table_is_empty(r.open_table(BULLETIN_INDEX))? else {
            return Ok(vec![]);
        };
        idx.range((kind, 0)..=(kind, u32::MAX))?
            .rev()
            .take(limit)
            .map(|row| codec::decode("bulletin issue", row?.1.value()))
            .collect()
    }

    /// The bulletin schedule's settings (JSON in the settings table under
    /// `key`), if set.
    pub fn bulletin_schedule_json(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let r = self.read()?;
        let Some(t) = super::missing_table_is_empty(r.open_table(SETTINGS))? else {
            return Ok(None);
        };
        Ok(t.get(key)?.map(|v| v.value().to_vec()))
    }

    pub fn save_bulletin_schedule_json(&self, key: &str, json: &[u8]) -> Result<()> {
        let w = self.write()?;
        w.open_table(SETTINGS)?.insert(key, json)?;
        w.commit()?;
        Ok(())
    }

    /// Whether a bulletin of this kind and period start is archived.
    pub fn has_bulletin(&self, kind: u8, start: u32) -> Result<bool> {
        let r = self.read()?;
        let Some(idx) = super::missing_table_is_empty(r.open_table(BULLETIN_INDEX))? else {
            return Ok(false);
        };
        Ok(idx.get((kind, start))?.is_some())
    }
}

/// Whether `lo..=hi` covers the whole month `month` (`YYYYMM00`).
fn whole_month(month: u32, lo: u32, hi: u32) -> bool {
    let (y, m) = ((month / 10000) as i16, (month / 100 % 100) as i8);
    match jiff::civil::Date::new(y, m, 1) {
        Ok(d) => {
            let last = d.last_of_month();
            lo == month + 1 && hi >= month + last.day() as u32
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::domain::testkit::*;
    use crate::domain::ticket::TicketNo;
    use crate::domain::types::{AppealType, Satisfaction};
    use crate::domain::workflow::{Action, Correction, ReviewOutcome, Who, correct};

    struct TempDir(std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    fn temp_store(tag: &str) -> (TempDir, Store) {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("hotline-bul-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = Store::open(&dir.join("hotline.redb")).unwrap();
        (TempDir(dir), s)
    }

    const PHRASES: &[&str] = &[
        "小区停水三天无人处理",
        "夜间施工噪音扰民",
        "物业不作为，电梯故障",
        "供暖温度不达标",
        "共享单车乱停放堵塞人行道",
        "市民来电反映路灯不亮",
        "咨询社保卡补办流程",
        "垃圾清运不及时，异味严重",
    ];

    /// Random registrations (batched imports and single ones), title
    /// corrections and dissatisfied callbacks keep the word counts and the
    /// difficult-case index equal to a recount, and whole months read from
    /// the monthly rows equal the sum of their days.
    #[test]
    fn word_counts_and_difficult_cases_equal_a_recount() {
        let (_dir, store) = temp_store("words");
        let w = World::default();
        let mut rng = StdRng::seed_from_u64(6);
        let mut nos = vec![];
        let pick = |rng: &mut StdRng| PHRASES[rng.random_range(0..PHRASES.len())];
        let make = |rng: &mut StdRng, day: u32| {
            let at = format!("2026-{:02}-{:02} 09:00", day / 100 % 100, day % 100);
            let (mut t, tl) =
                new_ticket(TicketNo(0), sh_at(&at), OP_A, AppealType::Complaint, "0101");
            t.title = pick(rng).to_string();
            t.content = format!("{}，{}", pick(rng), pick(rng));
            (t, tl)
        };
        // An import of 60 tickets over two months.
        let mut batch = vec![];
        for i in 0..60u32 {
            let day = if i % 2 == 0 {
                20260901 + i % 30
            } else {
                20261001 + i % 31
            };
            let (mut t, tl) = make(&mut rng, day);
            t.number = TicketNo::new(day, 1000 + i);
            nos.push(t.number);
            batch.push((t, tl));
        }
        store.import_tickets(batch).unwrap();
        for _ in 0..40 {
            let day = 20261001 + rng.random_range(0..31u32);
            let (t, tl) = make(&mut rng, day);
            nos.push(store.register_ticket(day, t, &tl).unwrap().number);
        }
        let op = Who {
            id: OP_A,
            roles: &[crate::domain::types::Role::Operator],
            unit_id: None,
        };
        for no in nos.iter().step_by(7) {
            let title = pick(&mut rng).to_string();
            store
                .update_ticket(*no, |t| -> Result<Vec<Event>> {
                    let c = Correction {
                        title: Some(format!("{title}（更正）")),
                        ..Default::default()
                    };
                    Ok(correct(t, &c, "", &op, sh_at("2026-11-01 09:00")).unwrap_or_default())
                })
                .unwrap();
        }
        // Five dissatisfied callbacks.
        for no in nos.iter().skip(3).step_by(11).take(5) {
            let act = |now: &str, a: Action, who: Who| {
                store
                    .update_ticket(*no, |t| -> Result<Vec<Event>> {
                        Ok(w.apply(t, sh_at(now), &a, "原因", &who).unwrap())
                    })
                    .unwrap();
            };
            let d = Action::Dispatch {
                unit_id: L2,
                assisting: vec![],
            };
            act("2026-11-02 10:00", d, DISPATCHER);
            act("2026-11-02 11:00", Action::SignFor, H_L2);
            act(
                "2026-11-03 10:00",
                Action::Reply {
                    result: "已办".into(),
                },
                H_L2,
            );
            act(
                "2026-11-04 10:00",
                Action::Review(ReviewOutcome::Pass),
                REVIEWER,
            );
            act(
                "2026-11-05 10:00",
                Action::Callback {
                    satisfaction: Satisfaction::Dissatisfied,
                    resolved: false,
                },
                CALLBACK,
            );
        }
        let check = store.check_aggregates().unwrap();
        assert_eq!(check.differences, 0, "{:?}", check.examples);
        assert!(check.bulletin_rows > 50, "{check:?}");
        let rows = store.difficult_rows(20261101, 20261130).unwrap();
        assert_eq!(rows.len(), 5);
        assert!(
            rows.iter()
                .all(|r| r.day == 20261105 && r.marks == vec![(2, L2)])
        );
        assert!(store.difficult_rows(20261106, 20261231).unwrap().is_empty());

        // A whole month (monthly rows) equals its days (daily rows).
        let month = store.word_counts(20261001, 20261031).unwrap();
        let mut days: HashMap<u32, u64> = HashMap::new();
        for d in 20261001..=20261031 {
            for (k, v) in store.word_counts(d, d).unwrap() {
                *days.entry(k).or_default() += v;
            }
        }
        assert_eq!(month, days);
        let both = store.word_counts(20260915, 20261031).unwrap();
        assert!(both.values().sum::<u64>() > month.values().sum::<u64>());
        // Stop words and boilerplate are not counted.
        let names = store.word_names(month.keys().copied()).unwrap();
        let words: Vec<&str> = names.values().map(String::as_str).collect();
        assert!(words.contains(&"停水"), "{words:?}");
        for stop in ["市民", "来电", "反映", "咨询"] {
            assert!(!words.contains(&stop), "{stop} in {words:?}");
        }
        // A rebuild replaces nothing and keeps the same rows.
        let r = store.rebuild_aggregates().unwrap();
        assert_eq!((r.differences, r.bulletin_rows), (0, check.bulletin_rows));
        assert_eq!(store.word_counts(20261001, 20261031).unwrap(), month);
    }

    #[test]
    fn the_archive_replaces_and_counts_issues() {
        let (_dir, store) = temp_store("archive");
        let kind = crate::domain::bulletin::BulletinKind::Weekly;
        let p = kind.parse_key("2026-W47").unwrap();
        let rec = IssueRecord {
            kind,
            key: "2026-W47".into(),
            start: p.start,
            end: p.end,
            issued_at: 1,
            issued_by: 0,
            issues: 0,
        };
        let start = TicketNo::day_of(p.start);
        assert!(!store.has_bulletin(kind.code(), start).unwrap());
        assert_eq!(store.put_bulletin(rec.clone(), b"one").unwrap().issues, 1);
        assert_eq!(store.put_bulletin(rec, b"two").unwrap().issues, 2);
        let (r, data) = store.bulletin(kind.code(), start).unwrap().unwrap();
        assert_eq!((r.issues, data.as_slice()), (2, b"two".as_slice()));
        assert_eq!(store.bulletin_issues(kind.code(), 10).unwrap().len(), 1);
        assert!(store.bulletin_issues(1, 10).unwrap().is_empty());
    }

    #[test]
    fn whole_months_are_recognised() {
        assert!(whole_month(20260200, 20260201, 20260228));
        assert!(!whole_month(20260200, 20260201, 20260227));
        assert!(!whole_month(20260200, 20260202, 20260228));
        assert!(whole_month(20240200, 20240201, 20240229));
        assert!(!whole_month(20240200, 20240201, 20240228));
        assert!(whole_month(20261200, 20261201, 20261231));
    }
}
