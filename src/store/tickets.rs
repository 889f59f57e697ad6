//! Tickets, their timelines and their secondary indexes.
//!
//! Invariant: a ticket record and its index entries are always written in
//! the same transaction, by `put_indexes` / `drop_indexes`, so the indexes
//! never disagree with the records.

use std::ops::ControlFlow;

use redb::{ReadableTable, ReadableTableMetadata, Table, WriteTransaction};

use super::aggregates::AggWriter;
use super::tables::*;
use super::{Result, Store, StoreError, codec};
use crate::domain::ticket::{Event, Ticket, TicketNo};
use crate::domain::types::State;

/// Where a ticket scan takes its candidates from; the caller checks every
/// candidate against the full filter anyway.
#[derive(Clone, Debug)]
pub enum ScanSource {
    /// Every ticket (number order).
    All,
    /// A caller's tickets.
    Phone(String),
    /// Tickets whose category is one of these codes.
    Categories(Vec<String>),
    District(String),
    States(Vec<State>),
    /// Tickets currently held by one of these units, in these states.
    CurrentUnits {
        units: Vec<u32>,
        states: Vec<State>,
    },
    /// Tickets ever assigned to one of these units.
    SeenUnits(Vec<u32>),
    /// Open stages in these states with a due instant in `[lo, hi]`.
    StateDue {
        states: Vec<State>,
        lo: i64,
        hi: i64,
    },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TicketCounts {
    pub tickets: u64,
    pub events: u64,
}

struct IndexKeys<'a> {
    phone: &'a str,
    category: &'a str,
    district: &'a str,
    state: u8,
    unit: u32,
    due: Option<i64>,
}

fn keys(t: &Ticket) -> IndexKeys<'_> {
    IndexKeys {
        phone: &t.caller_phone,
        category: &t.category_code,
        district: &t.district,
        state: t.state.code(),
        unit: t.unit_id.unwrap_or(0),
        due: t
            .stage
            .filter(|_| t.state.has_stage_deadline())
            .map(|s| s.due_at),
    }
}

/// Tells the search index (through the outbox, in the same transaction)
/// that a ticket's searchable text is new or changed.
fn outbox_ticket(w: &WriteTransaction, t: &Ticket, old: Option<&Ticket>) -> Result<()> {
    let changed = match old {
        None => true,
        Some(o) => {
            o.title != t.title
                || o.content != t.content
                || o.answer != t.answer
                || o.reply != t.reply
                || o.address != t.address
        }
    };
    if changed {
        super::kb::push_outbox(
            w,
            super::kb::OutboxEntry {
                kind: super::kb::OutboxKind::Ticket,
                id: t.number.0,
            },
        )?;
    }
    Ok(())
}

fn put_indexes(w: &WriteTransaction, t: &Ticket, old: Option<&Ticket>) -> Result<()> {
    let n = t.number.0;
    let new = keys(t);
    let old_k = old.map(keys);
    let changed = |f: &dyn Fn(&IndexKeys) -> bool| old_k.as_ref().is_none_or(|o| !f(o));
    if changed(&|o| o.phone == new.phone) {
        let mut ix = w.open_table(IDX_PHONE)?;
        if let Some(o) = &old_k
            && !o.phone.is_empty()
        {
            {
                ix.remove((o.phone, n))?;
            }
        }
        if !new.phone.is_empty() {
            ix.insert((new.phone, n), ())?;
        }
    }
    if changed(&|o| o.category == new.category) {
        let mut ix = w.open_table(IDX_CATEGORY)?;
        if let Some(o) = &old_k {
            ix.remove((o.category, n))?;
        }
        ix.insert((new.category, n), ())?;
    }
    if changed(&|o| o.district == new.district) {
        let mut ix = w.open_table(IDX_DISTRICT)?;
        if let Some(o) = &old_k {
            ix.remove((o.district, n))?;
        }
        ix.insert((new.district, n), ())?;
    }
    if changed(&|o| o.state == new.state) {
        let mut ix = w.open_table(IDX_STATE)?;
        if let Some(o) = &old_k {
            ix.remove((o.state, n))?;
        }
        ix.insert((new.state, n), ())?;
    }
    if changed(&|o| o.state == new.state && o.unit == new.unit) {
        let mut ix = w.open_table(IDX_UNIT_STATE)?;
        if let Some(o) = &old_k {
            ix.remove((o.unit, o.state, n))?;
        }
        ix.insert((new.unit, new.state, n), ())?;
    }
    if changed(&|o| o.state == new.state && o.due == new.due) {
        let mut ix = w.open_table(IDX_STATE_DUE)?;
        if let Some(o) = &old_k
            && let Some(d) = o.due
        {
            {
                ix.remove((o.state, d, n))?;
            }
        }
        if let Some(d) = new.due {
            ix.insert((new.state, d, n), ())?;
        }
    }
    let seen_before = old.map(|o| o.units_seen.as_slice()).unwrap_or(&[]);
    let added: Vec<u32> = t
        .units_seen
        .iter()
        .copied()
        .filter(|u| !seen_before.contains(u))
        .collect();
    if !added.is_empty() {
        let mut ix = w.open_table(IDX_UNIT_SEEN)?;
        for u in added {
            ix.insert((u, n), ())?;
        }
    }
    Ok(())
}

/// Appends `events` to the ticket's timeline, each with its link of the
/// ticket's hash chain (`domain::chain`) in `event_chain`.
fn append_events(
    events_t: &mut Table<(u64, u32), &[u8]>,
    chain_t: &mut Table<(u64, u32), &[u8]>,
    t: &mut Ticket,
    events: &[Event],
) -> Result<()> {
    use crate::domain::chain;
    let no = t.number.0;
    // A missing or malformed link (a tampered file) does not stop the
    // ticket's work: the new events link from genesis and the break stays
    // visible to `verify-audit`.
    let mut prev = match t.event_count.checked_sub(1) {
        None => chain::GENESIS,
        Some(last) => match chain_t.get((no, last))? {
            Some(l) => l.value().try_into().unwrap_or(chain::GENESIS),
            None => {
                tracing::warn!(ticket = %t.number, "the timeline's hash chain has no link for its last event");
                chain::GENESIS
            }
        },
    };
    for e in events {
        let bytes = codec::encode(e);
        let seq = t.event_count;
        prev = chain::link(&prev, &chain::event_key(no, seq), &bytes);
        events_t.insert((no, seq), bytes.as_slice())?;
        chain_t.insert((no, seq), prev.as_slice())?;
        t.event_count += 1;
    }
    Ok(())
}

fn get_ticket<T: ReadableTable<u64, &'static [u8]>>(t: &T, no: TicketNo) -> Result<Option<Ticket>> {
    t.get(no.0)?
        .map(|v| codec::decode(&format!("ticket {no}"), v.value()))
        .transpose()
}

impl Store {
    /// Registers a new ticket on local day `day` (`YYYYMMDD`): assigns the
    /// next number of that day, stores the record, its first events and its
    /// index entries — durably, before returning.
    ///
    /// Group commit: registrations that arrive while another commit is
    /// running wait and are then written together in one transaction (one
    /// fsync for all), so that many operators registering at once do not
    /// queue behind each other's disk flushes.
    pub fn register_ticket(&self, day: u32, t: Ticket, events: &[Event]) -> Result<Ticket> {
        let mut g = self.group.state.lock().expect("group lock");
        let id = g.next;
        g.next += 1;
        g.pending.push((id, day, t, events.to_vec()));
        loop {
            if let Some(r) = g.done.remove(&id) {
                return r;
            }
            if !g.busy {
                g.busy = true;
                let batch = std::mem::take(&mut g.pending);
                drop(g);
                let results = {
                    let _guard = BusyGuard(&self.group);
                    self.register_batch(batch)
                };
                g = self.group.state.lock().expect("group lock");
                g.done.extend(results);
                self.group.cv.notify_all();
                continue;
            }
            g = self.group.cv.wait(g).expect("group lock");
        }
    }

    /// Writes a batch of registrations in one transaction; each gets its
    /// own result (a failed commit fails them all).
    fn register_batch(
        &self,
        batch: Vec<(u64, u32, Ticket, Vec<Event>)>,
    ) -> Vec<(u64, Result<Ticket>)> {
        let ids: Vec<u64> = batch.iter().map(|b| b.0).collect();
        let run = || -> Result<Vec<(u64, Result<Ticket>)>> {
            let w = self.write()?;
            let mut agg = AggWriter::new(&w)?;
            let mut out = Vec::with_capacity(batch.len());
            for (id, day, mut t, events) in batch {
                {
                    let mut tickets = w.open_table(TICKETS)?;
                    let lo = TicketNo::day_start(day).0;
                    let hi = TicketNo::day_start(day + 1).0;
                    let last = tickets
                        .range(lo..hi)?
                        .next_back()
                        .transpose()?
                        .map(|(k, _)| k.value());
                    let seq = last.map(|k| TicketNo(k).seq() + 1).unwrap_or(1);
                    if u64::from(seq) >= crate::domain::ticket::SEQ_PER_DAY {
                        out.push((
                            id,
                            Err(StoreError::Conflict(format!(
                                "day {day} has no ticket numbers left"
                            ))),
                        ));
                        continue;
                    }
                    t.number = TicketNo::new(day, seq);
                    t.event_count = 0;
                    let mut ev = w.open_table(EVENTS)?;
                    let mut ch = w.open_table(EVENT_CHAIN)?;
                    append_events(&mut ev, &mut ch, &mut t, &events)?;
                    tickets.insert(t.number.0, codec::encode(&t).as_slice())?;
                    agg.change(None, &t, &events, &ev)?;
                }
                put_indexes(&w, &t, None)?;
                outbox_ticket(&w, &t, None)?;
                out.push((id, Ok(t)));
            }
            agg.finish(&w)?;
            w.commit()?;
            Ok(out)
        };
        match run() {
            Ok(v) => v,
            Err(e) => {
                let full = matches!(e, StoreError::DiskFull(_));
                let msg = e.to_string();
                let err = |m: String| {
                    if full {
                        StoreError::DiskFull(m)
                    } else {
                        StoreError::Db(m)
                    }
                };
                ids.into_iter()
                    .map(|id| (id, Err(err(msg.clone()))))
                    .collect()
            }
        }
    }

    /// Stores tickets whose numbers are already set (demo data, imports),
    /// many to a transaction. Existing numbers are refused. No search
    /// outbox rows: an import fills a new data dir, whose missing search
    /// index is rebuilt from the tickets at the next start.
    pub fn import_tickets(&self, batch: Vec<(Ticket, Vec<Event>)>) -> Result<()> {
        let mut w = self.write()?;
        w.set_durability(redb::Durability::None)
            .map_err(|e| StoreError::Db(e.to_string()))?;
        let mut agg = AggWriter::new(&w)?;
        for (mut t, events) in batch {
            {
                let mut tickets = w.open_table(TICKETS)?;
                if tickets.get(t.number.0)?.is_some() {
                    return Err(StoreError::Conflict(format!("ticket {} exists", t.number)));
                }
                t.event_count = 0;
                let mut ev = w.open_table(EVENTS)?;
                let mut ch = w.open_table(EVENT_CHAIN)?;
                append_events(&mut ev, &mut ch, &mut t, &events)?;
                tickets.insert(t.number.0, codec::encode(&t).as_slice())?;
                agg.change(None, &t, &events, &ev)?;
            }
            put_indexes(&w, &t, None)?;
        }
        agg.finish(&w)?;
        w.commit()?;
        Ok(())
    }

    /// Makes every earlier `Durability::None` commit durable.
    pub fn sync(&self) -> Result<()> {
        let w = self.write()?;
        w.commit()?;
        Ok(())
    }

    /// Reads, changes and writes back one ticket in one transaction: `f`
    /// gets the current record and returns the events to append (or an
    /// error, which changes nothing).
    pub fn update_ticket<E: From<StoreError>>(
        &self,
        no: TicketNo,
        f: impl FnOnce(&mut Ticket) -> std::result::Result<Vec<Event>, E>,
    ) -> std::result::Result<Ticket, E> {
        let w = self.write()?;
        let mut agg = AggWriter::new(&w)?;
        let new = {
            let mut tickets = w.open_table(TICKETS).map_err(StoreError::from)?;
            let old = get_ticket(&tickets, no)?
                .ok_or_else(|| StoreError::NotFound(format!("ticket {no} not found")))?;
            let mut new = old.clone();
            let events = f(&mut new)?;
            new.number = old.number;
            new.event_count = old.event_count;
            let mut ev = w.open_table(EVENTS).map_err(StoreError::from)?;
            let mut ch = w.open_table(EVENT_CHAIN).map_err(StoreError::from)?;
            append_events(&mut ev, &mut ch, &mut new, &events)?;
            tickets
                .insert(no.0, codec::encode(&new).as_slice())
                .map_err(StoreError::from)?;
            agg.change(Some(&old), &new, &events, &ev)?;
            drop(tickets);
            drop(ev);
            drop(ch);
            put_indexes(&w, &new, Some(&old))?;
            outbox_ticket(&w, &new, Some(&old))?;
            new
        };
        agg.finish(&w)?;
        w.commit().map_err(StoreError::from)?;
        Ok(new)
    }

    /// Changes two tickets in one transaction (merging): `f` gets both.
    pub fn update_two<E: From<StoreError>>(
        &self,
        a: TicketNo,
        b: TicketNo,
        f: impl FnOnce(&mut Ticket, &mut Ticket) -> std::result::Result<(Vec<Event>, Vec<Event>), E>,
    ) -> std::result::Result<(Ticket, Ticket), E> {
        let w = self.write()?;
        let mut agg = AggWriter::new(&w)?;
        let (na, nb) = {
            let mut tickets = w.open_table(TICKETS).map_err(StoreError::from)?;
            let missing = |n: TicketNo| {
                StoreError::NotFound(format!("工单 {n} 不存在 (ticket {n} not found)"))
            };
            let oa = get_ticket(&tickets, a)?.ok_or_else(|| missing(a))?;
            let ob = get_ticket(&tickets, b)?.ok_or_else(|| missing(b))?;
            let (mut na, mut nb) = (oa.clone(), ob.clone());
            let (ea, eb) = f(&mut na, &mut nb)?;
            na.number = oa.number;
            nb.number = ob.number;
            na.event_count = oa.event_count;
            nb.event_count = ob.event_count;
            let mut ev = w.open_table(EVENTS).map_err(StoreError::from)?;
            let mut ch = w.open_table(EVENT_CHAIN).map_err(StoreError::from)?;
            append_events(&mut ev, &mut ch, &mut na, &ea)?;
            append_events(&mut ev, &mut ch, &mut nb, &eb)?;
            agg.change(Some(&oa), &na, &ea, &ev)?;
            agg.change(Some(&ob), &nb, &eb, &ev)?;
            tickets
                .insert(a.0, codec::encode(&na).as_slice())
                .map_err(StoreError::from)?;
            tickets
                .insert(b.0, codec::encode(&nb).as_slice())
                .map_err(StoreError::from)?;
            drop(tickets);
            drop(ev);
            drop(ch);
            put_indexes(&w, &na, Some(&oa))?;
            put_indexes(&w, &nb, Some(&ob))?;
            outbox_ticket(&w, &na, Some(&oa))?;
            outbox_ticket(&w, &nb, Some(&ob))?;
            (na, nb)
        };
        agg.finish(&w)?;
        w.commit().map_err(StoreError::from)?;
        Ok((na, nb))
    }

    /// Applies `f` to each of `nos` in one transaction; tickets for which
    /// `f` returns no events are left as they were. Returns how many changed.
    pub fn update_each(
        &self,
        nos: &[TicketNo],
        mut f: impl FnMut(&mut Ticket) -> Vec<Event>,
    ) -> Result<usize> {
        if nos.is_empty() {
            return Ok(0);
        }
        let w = self.write()?;
        let mut agg = AggWriter::new(&w)?;
        let mut changed = 0;
        {
            let mut tickets = w.open_table(TICKETS)?;
            let mut ev = w.open_table(EVENTS)?;
            let mut ch = w.open_table(EVENT_CHAIN)?;
            for no in nos {
                let Some(old) = get_ticket(&tickets, *no)? else {
                    continue;
                };
                let mut new = old.clone();
                let events = f(&mut new);
                if events.is_empty() {
                    continue;
                }
                new.number = old.number;
                new.event_count = old.event_count;
                append_events(&mut ev, &mut ch, &mut new, &events)?;
                tickets.insert(no.0, codec::encode(&new).as_slice())?;
                agg.change(Some(&old), &new, &events, &ev)?;
                put_indexes(&w, &new, Some(&old))?;
                outbox_ticket(&w, &new, Some(&old))?;
                changed += 1;
            }
        }
        agg.finish(&w)?;
        w.commit()?;
        Ok(changed)
    }

    /// Tickets whose current stage (in one of `states`) is due at or before
    /// `until` (unix seconds): the candidates of the card sweep.
    pub fn stages_due_before(&self, states: &[State], until: i64) -> Result<Vec<TicketNo>> {
        let r = self.read()?;
        let ix = r.open_table(IDX_STATE_DUE)?;
        let mut out = vec![];
        for s in states {
            for row in ix.range((s.code(), i64::MIN, 0u64)..=(s.code(), until, u64::MAX))? {
                out.push(TicketNo(row?.0.value().2));
            }
        }
        Ok(out)
    }

    /// Ticket numbers currently held by `units` in `states`, newest first.
    pub fn held_by(&self, units: &[u32], states: &[State]) -> Result<Vec<TicketNo>> {
        let r = self.read()?;
        let ix = r.open_table(IDX_UNIT_STATE)?;
        let mut out = vec![];
        for u in units {
            for s in states {
                for row in ix.range((*u, s.code(), 0u64)..=(*u, s.code(), u64::MAX))? {
                    out.push(TicketNo(row?.0.value().2));
                }
            }
        }
        out.sort_unstable_by(|a, b| b.cmp(a));
        Ok(out)
    }

    /// How many tickets are in each state (open states only are cheap).
    pub fn count_in_state(&self, s: State) -> Result<u64> {
        let r = self.read()?;
        let ix = r.open_table(IDX_STATE)?;
        Ok(ix.range((s.code(), 0u64)..=(s.code(), u64::MAX))?.count() as u64)
    }

    /// Several tickets in one read transaction (missing ones are skipped).
    pub fn tickets(&self, nos: &[TicketNo]) -> Result<Vec<Ticket>> {
        let r = self.read()?;
        let t = r.open_table(TICKETS)?;
        let mut out = Vec::with_capacity(nos.len());
        for n in nos {
            if let Some(x) = get_ticket(&t, *n)? {
                out.push(x);
            }
        }
        Ok(out)
    }

    /// Up to `limit` tickets with numbers above `after`, in number order
    /// (rebuilding the search index).
    pub fn tickets_after(&self, after: u64, limit: usize) -> Result<Vec<Ticket>> {
        let r = self.read()?;
        let t = r.open_table(TICKETS)?;
        let mut out = Vec::with_capacity(limit.min(10_000));
        for row in t.range((after.saturating_add(1))..)?.take(limit) {
            let (k, v) = row?;
            out.push(codec::decode(&format!("ticket {}", k.value()), v.value())?);
        }
        Ok(out)
    }

    pub fn ticket(&self, no: TicketNo) -> Result<Option<Ticket>> {
        let r = self.read()?;
        get_ticket(&r.open_table(TICKETS)?, no)
    }

    /// The whole timeline of a ticket, oldest first.
    pub fn events(&self, no: TicketNo) -> Result<Vec<Event>> {
        let r = self.read()?;
        let t = r.open_table(EVENTS)?;
        t.range((no.0, 0)..=(no.0, u32::MAX))?
            .map(|row| {
                let (_, v) = row?;
                codec::decode("event", v.value())
            })
            .collect()
    }

    pub fn counts(&self) -> Result<TicketCounts> {
        let r = self.read()?;
        Ok(TicketCounts {
            tickets: r.open_table(TICKETS)?.len()?,
            events: r.open_table(EVENTS)?.len()?,
        })
    }

    /// Streams tickets with numbers in `[lo, hi]` from `source`, newest
    /// first if `desc`, to `f` until it breaks or the source ends. Returns
    /// how many candidates were read.
    pub fn scan(
        &self,
        source: &ScanSource,
        lo: TicketNo,
        hi: TicketNo,
        desc: bool,
        mut f: impl FnMut(Ticket) -> ControlFlow<()>,
    ) -> Result<u64> {
        if lo > hi {
            return Ok(0);
        }
        let r = self.read()?;
        let tickets = r.open_table(TICKETS)?;
        let (lo, hi) = (lo.0, hi.0);
        let mut streams: Vec<Box<dyn Iterator<Item = Result<u64>>>> = Vec::new();
        macro_rules! idx {
            ($table:expr, $a:expr, $b:expr) => {{
                let it = r.open_table($table)?.range($a..=$b)?;
                let it: Box<dyn Iterator<Item = Result<u64>>> = if desc {
                    Box::new(it.rev().map(|row| Ok(row?.0.value().1)))
                } else {
                    Box::new(it.map(|row| Ok(row?.0.value().1)))
                };
                streams.push(it);
            }};
        }
        let mut collected: Option<Vec<u64>> = None;
        match source {
            ScanSource::All => {
                let it = tickets.range(lo..=hi)?;
                let mut seen = 0;
                let iter: Box<dyn Iterator<Item = _>> = if desc {
                    Box::new(it.rev())
                } else {
                    Box::new(it)
                };
                for row in iter {
                    let (k, v) = row?;
                    seen += 1;
                    let t = codec::decode(&format!("ticket {}", TicketNo(k.value())), v.value())?;
                    if f(t).is_break() {
                        break;
                    }
                }
                return Ok(seen);
            }
            ScanSource::Phone(p) => idx!(IDX_PHONE, (p.as_str(), lo), (p.as_str(), hi)),
            ScanSource::Categories(codes) => {
                for c in codes {
                    idx!(IDX_CATEGORY, (c.as_str(), lo), (c.as_str(), hi));
                }
            }
            ScanSource::District(d) => idx!(IDX_DISTRICT, (d.as_str(), lo), (d.as_str(), hi)),
            ScanSource::States(states) => {
                for s in states {
                    idx!(IDX_STATE, (s.code(), lo), (s.code(), hi));
                }
            }
            ScanSource::SeenUnits(units) => {
                for u in units {
                    idx!(IDX_UNIT_SEEN, (*u, lo), (*u, hi));
                }
            }
            ScanSource::CurrentUnits { units, states } => {
                let ix = r.open_table(IDX_UNIT_STATE)?;
                for u in units {
                    for s in states {
                        let it = ix.range((*u, s.code(), lo)..=(*u, s.code(), hi))?;
                        let it: Box<dyn Iterator<Item = Result<u64>>> = if desc {
                            Box::new(it.rev().map(|row| Ok(row?.0.value().2)))
                        } else {
                            Box::new(it.map(|row| Ok(row?.0.value().2)))
                        };
                        streams.push(it);
                    }
                }
            }
            ScanSource::StateDue {
                states,
                lo: dlo,
                hi: dhi,
            } => {
                let ix = r.open_table(IDX_STATE_DUE)?;
                let mut all = Vec::new();
                for s in states {
                    for row in ix.range((s.code(), *dlo, 0u64)..=(s.code(), *dhi, u64::MAX))? {
                        let n = row?.0.value().2;
                        if (lo..=hi).contains(&n) {
                            all.push(n);
                        }
                    }
                }
                all.sort_unstable();
                all.dedup();
                if desc {
                    all.reverse();
                }
                collected = Some(all);
            }
        }
        let numbers: Box<dyn Iterator<Item = Result<u64>>> = match collected {
            Some(v) => Box::new(v.into_iter().map(Ok)),
            None => Box::new(Merge::new(streams, desc)),
        };
        let mut seen = 0;
        for n in numbers {
            let n = n?;
            seen += 1;
            let Some(t) = get_ticket(&tickets, TicketNo(n))? else {
                return Err(StoreError::Corrupt(format!(
                    "index names ticket {} which does not exist",
                    TicketNo(n)
                )));
            };
            if f(t).is_break() {
                break;
            }
        }
        Ok(seen)
    }

    /// Every ticket number of every index, checked against the records: the
    /// list of disagreements (empty when consistent). For tests and `check`.
    pub fn check_indexes(&self) -> Result<Vec<String>> {
        let r = self.read()?;
        let tickets = r.open_table(TICKETS)?;
        let mut problems = Vec::new();
        let mut expected = 0u64;
        for row in tickets.iter()? {
            let (k, v) = row?;
            let t: Ticket = codec::decode("ticket", v.value())?;
            let n = k.value();
            if t.number.0 != n {
                problems.push(format!("ticket key {n} holds number {}", t.number));
            }
            let k = keys(&t);
            let has = |ok: bool, what: &str| {
                if !ok {
                    Some(format!("ticket {} missing from {what}", t.number))
                } else {
                    None
                }
            };
            problems.extend(has(
                r.open_table(IDX_STATE)?.get((k.state, n))?.is_some(),
                "idx_state",
            ));
            problems.extend(has(
                r.open_table(IDX_CATEGORY)?.get((k.category, n))?.is_some(),
                "idx_category",
            ));
            problems.extend(has(
                r.open_table(IDX_DISTRICT)?.get((k.district, n))?.is_some(),
                "idx_district",
            ));
            problems.extend(has(
                r.open_table(IDX_UNIT_STATE)?
                    .get((k.unit, k.state, n))?
                    .is_some(),
                "idx_unit_state",
            ));
            if !k.phone.is_empty() {
                problems.extend(has(
                    r.open_table(IDX_PHONE)?.get((k.phone, n))?.is_some(),
                    "idx_phone",
                ));
            }
            if let Some(d) = k.due {
                problems.extend(has(
                    r.open_table(IDX_STATE_DUE)?.get((k.state, d, n))?.is_some(),
                    "idx_state_due",
                ));
            }
            let ev = r.open_table(EVENTS)?;
            let count = ev.range((n, 0)..=(n, u32::MAX))?.count() as u32;
            if count != t.event_count {
                problems.push(format!(
                    "ticket {} has {count} events, record says {}",
                    t.number, t.event_count
                ));
            }
            expected += 1;
        }
        for (name, len) in [
            ("idx_state", r.open_table(IDX_STATE)?.len()?),
            ("idx_category", r.open_table(IDX_CATEGORY)?.len()?),
            ("idx_district", r.open_table(IDX_DISTRICT)?.len()?),
            ("idx_unit_state", r.open_table(IDX_UNIT_STATE)?.len()?),
        ] {
            if len != expected {
                problems.push(format!("{name} has {len} entries for {expected} tickets"));
            }
        }
        Ok(problems)
    }
}

/// K-way merge of number-ordered streams, without duplicates.
struct Merge {
    streams: Vec<Box<dyn Iterator<Item = Result<u64>>>>,
    heads: Vec<Option<u64>>,
    desc: bool,
    started: bool,
    last: Option<u64>,
}

impl Merge {
    fn new(streams: Vec<Box<dyn Iterator<Item = Result<u64>>>>, desc: bool) -> Self {
        let n = streams.len();
        Merge {
            streams,
            heads: vec![None; n],
            desc,
            started: false,
            last: None,
        }
    }

    fn advance(&mut self, i: usize) -> Result<()> {
        self.heads[i] = self.streams[i].next().transpose()?;
        Ok(())
    }
}

impl Iterator for Merge {
    type Item = Result<u64>;

    fn next(&mut self) -> Option<Result<u64>> {
        if !self.started {
            self.started = true;
            for i in 0..self.streams.len() {
                if let Err(e) = self.advance(i) {
                    return Some(Err(e));
                }
            }
        }
        loop {
            let best = self
                .heads
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.map(|v| (i, v)))
                .reduce(|a, b| {
                    let better = if self.desc { b.1 > a.1 } else { b.1 < a.1 };
                    if better { b } else { a }
                })?;
            if let Err(e) = self.advance(best.0) {
                return Some(Err(e));
            }
            if self.last == Some(best.1) {
                continue;
            }
            self.last = Some(best.1);
            return Some(Ok(best.1));
        }
    }
}

/// Registrations waiting for the next group commit.
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: std::sync::Mutex<GroupState>,
    cv: std::sync::Condvar,
}

#[derive(Default)]
struct GroupState {
    pending: Vec<(u64, u32, Ticket, Vec<Event>)>,
    done: std::collections::HashMap<u64, Result<Ticket>>,
    busy: bool,
    next: u64,
}

/// Clears `busy` even if the committing thread panics, so that the others
/// do not wait forever.
struct BusyGuard<'a>(&'a GroupCommit);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut g) = self.0.state.lock() {
            g.busy = false;
        }
        self.0.cv.notify_all();
    }
}
