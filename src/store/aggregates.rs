//! The per-day report aggregates (`domain::aggregate`): kept in the same
//! write transaction as every ticket change, rebuilt from the tickets on
//! demand, and read by the report service one cuboid at a time.
//!
//! Local days are counted in the center's time zone as stored in the
//! settings *of the same transaction*; after the administrator changes the
//! zone, `hotline rebuild-aggregates` recounts the past in the new zone.

use std::collections::{BTreeMap, HashMap};

use jiff::tz::TimeZone;
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};

use super::bulletins::{BulletinDelta, DiffTable, WordTable};
use super::tables::*;
use super::{Result, Store, StoreError, codec};
use crate::domain::aggregate::{Counters, Delta, Dim, RowKey};
use crate::domain::settings::Settings;
use crate::domain::ticket::{Event, Ticket, TicketNo};

type AggTable = TableDefinition<'static, (u8, u32, u32, u32), &'static [u8]>;

/// The center's zone as stored in the settings of this transaction.
fn tz_in(w: &WriteTransaction) -> Result<TimeZone> {
    let t = w.open_table(SETTINGS)?;
    let s: Settings = match t.get(super::settings::KEY)? {
        Some(v) => serde_json::from_slice(v.value())
            .map_err(|e| StoreError::Corrupt(format!("settings: {e}")))?,
        None => Settings::default(),
    };
    Ok(s.tz())
}

/// The first `upto` events of a ticket, from an open events table.
pub(crate) fn read_timeline<T: ReadableTable<(u64, u32), &'static [u8]>>(
    events: &T,
    no: TicketNo,
    upto: u32,
) -> Result<Vec<Event>> {
    if upto == 0 {
        return Ok(vec![]);
    }
    events
        .range((no.0, 0)..=(no.0, upto - 1))?
        .map(|row| codec::decode("event", row?.1.value()))
        .collect()
}

/// Collects the counter changes of one write transaction; `finish` writes
/// them before the commit.
pub(crate) struct AggWriter {
    tz: TimeZone,
    delta: Delta,
    /// Hot-word counts and difficult-case marks of the same changes.
    bulletin: BulletinDelta,
}

impl AggWriter {
    pub(crate) fn new(w: &WriteTransaction) -> Result<AggWriter> {
        Ok(AggWriter {
            tz: tz_in(w)?,
            delta: Delta::default(),
            bulletin: BulletinDelta::default(),
        })
    }

    /// Counts one ticket change (`old` = `None` for a new ticket, whose
    /// `appended` events are its whole timeline). `events` is the open
    /// events table, read only if a dimension of the ticket changed.
    pub(crate) fn change<T: ReadableTable<(u64, u32), &'static [u8]>>(
        &mut self,
        old: Option<&Ticket>,
        new: &Ticket,
        appended: &[Event],
        events: &T,
    ) -> Result<()> {
        self.bulletin.change(old, new, appended, &self.tz);
        self.delta.add_change(old, new, appended, &self.tz, || {
            let o = old.expect("old_timeline is only asked for with an old record");
            read_timeline(events, o.number, o.event_count)
        })
    }

    /// Writes the collected changes into the aggregates.
    pub(crate) fn finish(self, w: &WriteTransaction) -> Result<()> {
        if !self.bulletin.is_empty() {
            self.bulletin.write(w, Some(WORD_COUNTS), Some(DIFFICULT))?;
        }
        if self.delta.is_empty() {
            return Ok(());
        }
        let rows = project(w, &self.delta)?;
        add_rows(w, AGGREGATES, &rows)
    }
}

/// Projects a delta onto the cuboids, interning names in this transaction.
fn project(w: &WriteTransaction, delta: &Delta) -> Result<BTreeMap<RowKey, Counters>> {
    let mut names = w.open_table(AGG_NAMES)?;
    let mut ids = w.open_table(AGG_NAME_IDS)?;
    // Per interned dimension (category, place): name → id.
    let mut cache: [HashMap<String, u32>; 2] = Default::default();
    let slot = |dim: Dim| usize::from(dim == Dim::Place);
    delta.project(|dim, s| -> Result<u32> {
        if let Some(id) = cache[slot(dim)].get(s) {
            return Ok(*id);
        }
        let found = names.get((dim.code(), s))?.map(|v| v.value());
        let id = match found {
            Some(v) => v,
            None => {
                let next = ids
                    .range((dim.code(), 0)..=(dim.code(), u32::MAX))?
                    .next_back()
                    .transpose()?
                    .map(|(k, _)| k.value().1 + 1)
                    .unwrap_or(1);
                names.insert((dim.code(), s), next)?;
                ids.insert((dim.code(), next), s)?;
                next
            }
        };
        cache[slot(dim)].insert(s.to_string(), id);
        Ok(id)
    })
}

fn add_rows(w: &WriteTransaction, def: AggTable, rows: &BTreeMap<RowKey, Counters>) -> Result<()> {
    let mut t = w.open_table(def)?;
    for (k, d) in rows {
        let mut c = match t.get(*k)? {
            Some(v) => decode_counters(v.value())?,
            None => Counters::default(),
        };
        c.add(d);
        if c.0.iter().any(|v| *v < 0) {
            tracing::warn!(key = ?k, "an aggregate counter would fall below zero; run `hotline rebuild-aggregates`");
        }
        if c.is_zero() {
            t.remove(*k)?;
        } else {
            t.insert(*k, codec::encode(&c.to_sparse()).as_slice())?;
        }
    }
    Ok(())
}

fn decode_counters(bytes: &[u8]) -> Result<Counters> {
    let s: Vec<(u8, u32)> = codec::decode("aggregate row", bytes)?;
    Ok(Counters::from_sparse(&s))
}

/// How many tickets are counted between two writes of a rebuild (bounds
/// the memory of the rebuild).
const REBUILD_CHUNK: usize = 20_000;

/// Where a recount writes (each table emptied first); `None`: not
/// recounted.
#[derive(Clone, Copy, Default)]
pub(crate) struct Targets {
    pub agg: Option<AggTable>,
    pub words: Option<WordTable>,
    pub difficult: Option<DiffTable>,
}

impl Targets {
    /// The scratch tables of a rebuild or check.
    pub(crate) fn scratch() -> Targets {
        Targets {
            agg: Some(AGGREGATES_REBUILD),
            words: Some(WORD_COUNTS_REBUILD),
            difficult: Some(DIFFICULT_REBUILD),
        }
    }
}

/// Recounts every ticket into `targets` (emptied first), reporting
/// `progress(done, total)` every chunk. Returns the number of tickets
/// counted.
pub(crate) fn rebuild_into(
    w: &WriteTransaction,
    targets: Targets,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64> {
    let tz = tz_in(w)?;
    if let Some(t) = targets.agg {
        w.delete_table(t)?;
        w.open_table(t)?;
    }
    if let Some(t) = targets.words {
        w.delete_table(t)?;
        w.open_table(t)?;
    }
    if let Some(t) = targets.difficult {
        w.delete_table(t)?;
        w.open_table(t)?;
    }
    let flush = |delta: &Delta, bul: BulletinDelta| -> Result<()> {
        if let Some(t) = targets.agg {
            let rows = project(w, delta)?;
            add_rows(w, t, &rows)?;
        }
        bul.write(w, targets.words, targets.difficult)
    };
    let mut bul = BulletinDelta::default();
    let total = w.open_table(TICKETS)?.len()?;
    let tickets = w.open_table(TICKETS)?;
    let events = w.open_table(EVENTS)?;
    let mut ev_iter = events.iter()?;
    let mut pending: Option<(u64, Event)> = None;
    let mut delta = Delta::default();
    let mut in_chunk = 0usize;
    let mut counted = 0u64;
    for row in tickets.iter()? {
        let (k, v) = row?;
        let n = k.value();
        let t: Ticket = codec::decode(&format!("ticket {}", TicketNo(n)), v.value())?;
        let mut tl = Vec::with_capacity(t.event_count as usize);
        loop {
            if pending.is_none() {
                pending = match ev_iter.next() {
                    Some(r) => {
                        let (ek, ev) = r?;
                        Some((ek.value().0, codec::decode("event", ev.value())?))
                    }
                    None => None,
                };
            }
            match &pending {
                Some((en, _)) if *en < n => pending = None,
                Some((en, _)) if *en == n => {
                    if let Some((_, e)) = pending.take() {
                        tl.push(e);
                    }
                }
                _ => break,
            }
        }
        if targets.agg.is_some() {
            delta.add_ticket(&t, &tl, &tz, 1);
        }
        bul.add_ticket(
            &t,
            &tl,
            &tz,
            targets.words.is_some(),
            targets.difficult.is_some(),
        );
        counted += 1;
        in_chunk += 1;
        if in_chunk == REBUILD_CHUNK {
            flush(&delta, std::mem::take(&mut bul))?;
            delta = Delta::default();
            in_chunk = 0;
            progress(counted, total);
        }
    }
    flush(&delta, bul)?;
    progress(counted, total);
    Ok(counted)
}

/// Rows that differ between two aggregate tables (at most `limit` listed).
fn compare(
    w: &WriteTransaction,
    a: AggTable,
    b: AggTable,
    limit: usize,
) -> Result<(u64, Vec<String>)> {
    let ta = w.open_table(a)?;
    let tb = w.open_table(b)?;
    let mut ia = ta.iter()?;
    let mut ib = tb.iter()?;
    let next = |it: &mut redb::Range<'_, (u8, u32, u32, u32), &'static [u8]>| -> Result<Option<(RowKey, Counters)>> {
        match it.next() {
            Some(r) => {
                let (k, v) = r?;
                Ok(Some((k.value(), decode_counters(v.value())?)))
            }
            None => Ok(None),
        }
    };
    let (mut ra, mut rb) = (next(&mut ia)?, next(&mut ib)?);
    let mut diffs = 0u64;
    let mut list = Vec::new();
    let mut note = |m: String, list: &mut Vec<String>| {
        diffs += 1;
        if list.len() < limit {
            list.push(m);
        }
    };
    loop {
        match (&ra, &rb) {
            (None, None) => break,
            (Some((ka, ca)), Some((kb, cb))) if ka == kb => {
                if ca != cb {
                    note(
                        format!(
                            "row {ka:?}: kept {:?}, recounted {:?}",
                            ca.to_sparse(),
                            cb.to_sparse()
                        ),
                        &mut list,
                    );
                }
                ra = next(&mut ia)?;
                rb = next(&mut ib)?;
            }
            (Some((ka, ca)), Some((kb, _))) if ka < kb => {
                note(
                    format!("row {ka:?}: kept {:?}, recounted nothing", ca.to_sparse()),
                    &mut list,
                );
                ra = next(&mut ia)?;
            }
            (Some((ka, ca)), None) => {
                note(
                    format!("row {ka:?}: kept {:?}, recounted nothing", ca.to_sparse()),
                    &mut list,
                );
                ra = next(&mut ia)?;
            }
            (_, Some((kb, cb))) => {
                note(
                    format!("row {kb:?}: kept nothing, recounted {:?}", cb.to_sparse()),
                    &mut list,
                );
                rb = next(&mut ib)?;
            }
        }
    }
    Ok((diffs, list))
}

/// Recounts aggregates, word counts and difficult cases into the scratch
/// tables and compares them with the kept ones.
fn recount_and_compare(w: &WriteTransaction) -> Result<AggregateCheck> {
    let tickets = rebuild_into(w, Targets::scratch(), &mut |_, _| {})?;
    let (mut differences, mut examples) = compare(w, AGGREGATES, AGGREGATES_REBUILD, 20)?;
    let rows = w.open_table(AGGREGATES_REBUILD)?.len()?;
    let (d, bulletin_rows) = super::bulletins::compare_rebuild(w, 20, &mut examples)?;
    differences += d;
    Ok(AggregateCheck {
        tickets,
        rows,
        bulletin_rows,
        differences,
        examples,
    })
}

/// What a rebuild or check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AggregateCheck {
    /// Tickets counted.
    pub tickets: u64,
    /// Rows of the recounted aggregates.
    pub rows: u64,
    /// Rows of the recounted hot-word counts and difficult-case index.
    pub bulletin_rows: u64,
    /// Rows in which the kept aggregates differed from the recount.
    pub differences: u64,
    /// The first differences, described.
    pub examples: Vec<String>,
}

/// Size figures of the aggregates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AggregateStats {
    pub rows: u64,
    pub names: u64,
    /// Bytes of the stored keys and values (without the B-tree's overhead).
    pub stored_bytes: u64,
    /// Bytes of the table's B-tree pages (leaves and branches).
    pub page_bytes: u64,
}

impl Store {
    /// Recounts every ticket, compares with the aggregates kept so far and
    /// replaces them, in one transaction.
    pub fn rebuild_aggregates(&self) -> Result<AggregateCheck> {
        let w = self.write()?;
        let check = recount_and_compare(&w)?;
        w.delete_table(AGGREGATES)?;
        w.rename_table(AGGREGATES_REBUILD, AGGREGATES)?;
        w.delete_table(WORD_COUNTS)?;
        w.rename_table(WORD_COUNTS_REBUILD, WORD_COUNTS)?;
        w.delete_table(DIFFICULT)?;
        w.rename_table(DIFFICULT_REBUILD, DIFFICULT)?;
        w.commit()?;
        Ok(check)
    }

    /// Recounts every ticket and compares with the aggregates kept
    /// incrementally, changing nothing (the recount is thrown away).
    pub fn check_aggregates(&self) -> Result<AggregateCheck> {
        let w = self.write()?;
        let check = recount_and_compare(&w)?;
        w.abort()?;
        Ok(check)
    }

    /// Streams the rows of cuboid `kind` for local days `from..=to`
    /// (`YYYYMMDD`) to `f(day, a, b, counters)`. Returns the rows read.
    pub fn aggregate_rows(
        &self,
        kind: u8,
        from: u32,
        to: u32,
        mut f: impl FnMut(u32, u32, u32, &Counters),
    ) -> Result<u64> {
        let r = self.read()?;
        let Some(t) = super::missing_table_is_empty(r.open_table(AGGREGATES))? else {
            return Ok(0);
        };
        let mut n = 0;
        for row in t.range((kind, from, 0, 0)..=(kind, to, u32::MAX, u32::MAX))? {
            let (k, v) = row?;
            let (_, day, a, b) = k.value();
            f(day, a, b, &decode_counters(v.value())?);
            n += 1;
        }
        Ok(n)
    }

    /// The interned names of a dimension: id → name.
    pub fn aggregate_names(&self, dim: Dim) -> Result<HashMap<u32, String>> {
        let r = self.read()?;
        let Some(t) = super::missing_table_is_empty(r.open_table(AGG_NAME_IDS))? else {
            return Ok(HashMap::new());
        };
        let mut out = HashMap::new();
        for row in t.range((dim.code(), 0)..=(dim.code(), u32::MAX))? {
            let (k, v) = row?;
            out.insert(k.value().1, v.value().to_string());
        }
        Ok(out)
    }

    pub fn aggregate_stats(&self) -> Result<AggregateStats> {
        let r = self.read()?;
        let t = r.open_table(AGGREGATES)?;
        let mut stored_bytes = 0u64;
        for row in t.iter()? {
            let (_, v) = row?;
            stored_bytes += 13 + v.value().len() as u64;
        }
        let st = t.stats()?;
        Ok(AggregateStats {
            rows: t.len()?,
            names: r.open_table(AGG_NAME_IDS)?.len()?,
            stored_bytes,
            page_bytes: st.stored_bytes() + st.metadata_bytes() + st.fragmented_bytes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::aggregate::Counter;
    use crate::domain::testkit::*;
    use crate::domain::types::AppealType;
    use crate::domain::workflow::{
        Action, Correction, ReviewOutcome, Who, correct, merge, record_cards,
    };

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
            std::env::temp_dir().join(format!("hotline-agg-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = Store::open(&dir.join("hotline.redb")).unwrap();
        (TempDir(dir), s)
    }

    fn total(store: &Store, kind: u8, from: u32, to: u32) -> Counters {
        let mut c = Counters::default();
        store
            .aggregate_rows(kind, from, to, |_, _, _, v| c.add(v))
            .unwrap();
        c
    }

    fn act(store: &Store, w: &World, no: TicketNo, now: &str, a: Action, who: Who) {
        store
            .update_ticket(no, |t| -> Result<Vec<Event>> {
                Ok(w.apply(t, sh_at(now), &a, "原因", &who)
                    .unwrap_or_else(|e| panic!("{no} {a:?}: {e:?}")))
            })
            .unwrap();
    }

    #[test]
    fn every_write_path_keeps_the_aggregates_equal_to_a_recount() {
        let (_dir, store) = temp_store("paths");
        let store = Arc::new(store);
        // Group commit: four threads registering at once.
        let handles: Vec<_> = (0..4)
            .map(|k| {
                let store = store.clone();
                std::thread::spawn(move || {
                    (0..25)
                        .map(|i| {
                            let cat = ["0101", "0102", "0201"][(i + k) % 3];
                            let (t, tl) = new_ticket(
                                TicketNo(0),
                                sh_at("2026-09-01 09:00"),
                                if k % 2 == 0 { OP_A } else { OP_B },
                                AppealType::Complaint,
                                cat,
                            );
                            store.register_ticket(20260901, t, &tl).unwrap().number
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut nos: Vec<TicketNo> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        nos.sort();
        assert_eq!(nos.len(), 100);
        let c = total(&store, 0, 20260901, 20260901);
        assert_eq!(c.get(Counter::Intake), 100);
        assert_eq!(c.get(Counter::Cohort), 100);

        let w = World::default();
        // The loop on the first ten.
        for no in &nos[..10] {
            let d = Action::Dispatch {
                unit_id: L2,
                assisting: vec![],
            };
            act(&store, &w, *no, "2026-09-01 10:00", d, DISPATCHER);
            act(&store, &w, *no, "2026-09-01 11:00", Action::SignFor, H_L2);
            let r = Action::Reply {
                result: "已办".into(),
            };
            act(&store, &w, *no, "2026-09-02 10:00", r, H_L2);
            let p = Action::Review(ReviewOutcome::Pass);
            act(&store, &w, *no, "2026-09-03 10:00", p, REVIEWER);
        }
        // Dispatched and left alone: the card sweep (update_each) records
        // their cards.
        for no in &nos[10..20] {
            let d = Action::Dispatch {
                unit_id: OTHER,
                assisting: vec![],
            };
            act(&store, &w, *no, "2026-09-01 10:00", d, DISPATCHER);
        }
        let later = sh_at("2026-09-20 10:00");
        let swept = store
            .update_each(&nos[10..20], |t| record_cards(t, later, &w.cal, &w.tz))
            .unwrap();
        assert_eq!(swept, 10);
        // A correction moves a ticket's facts to its new category.
        let op = Who {
            id: OP_A,
            roles: &[crate::domain::types::Role::Operator],
            unit_id: None,
        };
        store
            .update_ticket(nos[20], |t| -> Result<Vec<Event>> {
                let c = Correction {
                    category_code: Some("0999".into()),
                    district: Some("市北区".into()),
                    ..Default::default()
                };
                Ok(correct(t, &c, "", &op, sh_at("2026-09-02 09:00")).unwrap())
            })
            .unwrap();
        // A merge (update_two).
        store
            .update_two(nos[21], nos[0], |c, m| -> Result<_> {
                Ok(merge(c, m, "同一事件", &DISPATCHER, sh_at("2026-09-02 09:00")).unwrap())
            })
            .unwrap();

        let check = store.check_aggregates().unwrap();
        assert_eq!(check.differences, 0, "{:?}", check.examples);
        assert_eq!(check.tickets, 100);
        assert!(check.rows > 100);
        // The check changed nothing.
        assert_eq!(store.check_aggregates().unwrap(), check);

        let sep = total(&store, 0, 20260901, 20260930);
        assert_eq!(sep.get(Counter::Intake), 100);
        assert_eq!(sep.get(Counter::Dispatches), 20);
        assert_eq!(sep.get(Counter::SignFors), 10);
        assert_eq!(sep.get(Counter::Replies), 10);
        assert_eq!(sep.get(Counter::CallbacksDue), 10);
        assert_eq!(sep.get(Counter::YellowCards), 10);
        assert_eq!(sep.get(Counter::RedCards), 10);
        assert_eq!(sep.get(Counter::Merged), 1);
        assert_eq!(sep.get(Counter::Cohort), 99);
        // Category cuboid: the corrected ticket counts under 0999 only.
        let names = store.aggregate_names(Dim::Category).unwrap();
        let id = |code: &str| *names.iter().find(|(_, c)| *c == code).unwrap().0;
        let mut by_cat: HashMap<u32, i64> = HashMap::new();
        store
            .aggregate_rows(3, 20260901, 20260930, |_, a, _, v| {
                *by_cat.entry(a).or_default() += v.get(Counter::Intake)
            })
            .unwrap();
        assert_eq!(by_cat[&id("0999")], 1);
        assert_eq!(by_cat.values().sum::<i64>(), 100);
        let places = store.aggregate_names(Dim::Place).unwrap();
        assert_eq!(places.len(), 2);

        // A rebuild finds nothing to change and keeps every row.
        let before = store.aggregate_stats().unwrap();
        let r = store.rebuild_aggregates().unwrap();
        assert_eq!((r.differences, r.rows), (0, before.rows));
        assert_eq!(store.aggregate_stats().unwrap(), before);
        assert_eq!(store.check_indexes().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_damaged_aggregate_is_found_and_repaired() {
        let (_dir, store) = temp_store("repair");
        let (t, tl) = new_ticket(
            TicketNo(0),
            sh_at("2026-09-01 09:00"),
            OP_A,
            AppealType::Help,
            "0101",
        );
        store.register_ticket(20260901, t, &tl).unwrap();
        {
            let w = store.write().unwrap();
            w.open_table(AGGREGATES)
                .unwrap()
                .insert(
                    (0, 20260901, 0, 0),
                    codec::encode(&vec![(0u8, 5u32)]).as_slice(),
                )
                .unwrap();
            w.commit().unwrap();
        }
        let c = store.check_aggregates().unwrap();
        assert_eq!(c.differences, 1);
        assert!(
            c.examples[0].contains("(0, 20260901, 0, 0)"),
            "{:?}",
            c.examples
        );
        assert_eq!(store.rebuild_aggregates().unwrap().differences, 1);
        assert_eq!(store.check_aggregates().unwrap().differences, 0);
        assert_eq!(total(&store, 0, 20260901, 20260901).get(Counter::Intake), 1);
        // Rows of other days and cuboids are not read.
        assert_eq!(total(&store, 0, 20260902, 20261231), Counters::default());
    }
}
