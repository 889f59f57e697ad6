//! The hash chains of the timelines and the audit log (`domain::chain`):
//! checking them (`hotline verify-audit`, every backup's verification) and
//! computing them for records stored before schema v7 (the migration).

use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata, WriteTransaction};

use super::tables::{AUDIT, AUDIT_CHAIN, EVENT_CHAIN, EVENTS, TICKETS};
use super::{Result, Store, codec, missing_table_is_empty};
use crate::domain::chain::{self, Broken, Entry, Walker};
use crate::domain::ticket::{Ticket, TicketNo};

/// At most this many broken chains are listed.
const MAX_BROKEN: usize = 20;

/// What a check of the chains found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainReport {
    /// False for a file older than schema v7 (no chains to check).
    pub present: bool,
    pub tickets: u64,
    pub events: u64,
    pub audit: u64,
    /// The link of the newest audit record (hex), the anchor to note down.
    pub audit_head: String,
    /// The first broken link of each broken chain (at most 20), in words.
    pub broken: Vec<String>,
}

impl ChainReport {
    pub fn ok(&self) -> bool {
        self.broken.is_empty()
    }
}

/// Notes a broken chain (at most [`MAX_BROKEN`]).
fn broken(s: String, rep: &mut ChainReport) {
    if rep.broken.len() < MAX_BROKEN {
        rep.broken.push(s);
    }
}

fn why(b: &Broken) -> &'static str {
    match b {
        Broken::Mismatch => {
            "内容与哈希链不符：此条或之前的记录被修改、删除或插入 (does not match its hash link: this record or the one before it was changed, removed or inserted)"
        }
        Broken::MissingLink => "缺少哈希链接 (has no hash link)",
        Broken::BadLink => "哈希链接格式错误 (its hash link is malformed)",
    }
}

/// Checks every ticket's timeline chain and the audit chain in one read
/// transaction.
pub fn verify_in(r: &ReadTransaction) -> Result<ChainReport> {
    let mut rep = ChainReport::default();
    let (Some(ev_chain), Some(audit_chain)) = (
        missing_table_is_empty(r.open_table(EVENT_CHAIN))?,
        missing_table_is_empty(r.open_table(AUDIT_CHAIN))?,
    ) else {
        return Ok(rep);
    };
    rep.present = true;
    if let (Some(tickets), Some(events)) = (
        missing_table_is_empty(r.open_table(TICKETS))?,
        missing_table_is_empty(r.open_table(EVENTS))?,
    ) {
        for row in tickets.iter()? {
            let (k, v) = row?;
            let n = k.value();
            let no = TicketNo(n);
            let t: Ticket = codec::decode(&format!("ticket {no}"), v.value())?;
            rep.tickets += 1;
            let mut w = Walker::new();
            let links = ev_chain
                .range((n, 0)..=(n, u32::MAX))?
                .map(|l| l.map(|(k, v)| (k.value().1, v.value().to_vec())))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let mut li = 0;
            let mut seen = 0u32;
            let mut bad = false;
            for e in events.range((n, 0)..=(n, u32::MAX))? {
                let (ek, ev) = e?;
                let seq = ek.value().1;
                seen += 1;
                rep.events += 1;
                if bad {
                    continue;
                }
                if let Some((orphan, _)) = links.get(li).filter(|(s, _)| *s < seq) {
                    broken(
                        format!(
                            "工单 {no} 第 {orphan} 条记录缺失，只剩哈希链接 (ticket {no} event {orphan}: the record is gone, its hash link is still there)"
                        ),
                        &mut rep,
                    );
                    bad = true;
                    continue;
                }
                let stored = match links.get(li) {
                    Some((s, l)) if *s == seq => {
                        li += 1;
                        Some(l.as_slice())
                    }
                    _ => None,
                };
                let key = chain::event_key(n, seq);
                let entry = Entry {
                    key: &key,
                    record: ev.value(),
                    stored,
                };
                if let Err(b) = w.step(&entry) {
                    broken(
                        format!(
                            "工单 {no} 第 {seq} 条记录 (ticket {no} event {seq}): {}",
                            why(&b)
                        ),
                        &mut rep,
                    );
                    bad = true;
                }
            }
            if !bad && seen != t.event_count {
                broken(
                    format!(
                        "工单 {no} 有 {seen} 条记录，工单记载 {} 条：末尾的记录被删除或插入 (ticket {no} has {seen} events, its record says {}: events at the end were removed or added)",
                        t.event_count, t.event_count
                    ),
                    &mut rep,
                );
            } else if !bad && li < links.len() {
                broken(
                    format!(
                        "工单 {no} 的哈希链接多于记录 (ticket {no} has more hash links than events)"
                    ),
                    &mut rep,
                );
            }
        }
        let (n_events, n_links) = (events.len()?, ev_chain.len()?);
        if n_events != rep.events || n_links > rep.events {
            broken(
                format!(
                    "{} 条记录、{} 个哈希链接不属于任何工单 ({} events and {} hash links belong to no ticket)",
                    n_events.saturating_sub(rep.events),
                    n_links.saturating_sub(rep.events),
                    n_events.saturating_sub(rep.events),
                    n_links.saturating_sub(rep.events),
                ),
                &mut rep,
            );
        }
    }
    if let Some(audit) = missing_table_is_empty(r.open_table(AUDIT))? {
        let mut w = Walker::new();
        let mut bad = false;
        for row in audit.iter()? {
            let (k, v) = row?;
            let id = k.value();
            rep.audit += 1;
            if bad {
                continue;
            }
            let stored = audit_chain.get(id)?.map(|l| l.value().to_vec());
            let key = chain::audit_key(id);
            let entry = Entry {
                key: &key,
                record: v.value(),
                stored: stored.as_deref(),
            };
            if let Err(b) = w.step(&entry) {
                broken(
                    format!("审计日志第 {id} 条 (audit record {id}): {}", why(&b)),
                    &mut rep,
                );
                bad = true;
            }
        }
        let links = audit_chain.len()?;
        if !bad && links != rep.audit {
            broken(
                format!(
                    "审计日志有 {} 条，哈希链接 {links} 个 (the audit log holds {} records and {links} hash links)",
                    rep.audit, rep.audit
                ),
                &mut rep,
            );
        }
        // The stored link of the newest record: the anchor to note down.
        rep.audit_head = match audit_chain.last()? {
            Some((_, l)) => hex::encode(l.value()),
            None => hex::encode(w.head()),
        };
    }
    Ok(rep)
}

/// Computes the chains of every stored event and audit record (the v7
/// migration: records older than the chains). Returns (events, audit
/// records) linked.
pub fn fill_in(txn: &WriteTransaction) -> Result<(u64, u64)> {
    let events = txn.open_table(EVENTS)?;
    let mut ev_chain = txn.open_table(EVENT_CHAIN)?;
    let mut n_events = 0u64;
    let mut prev = chain::GENESIS;
    let mut current = None;
    for row in events.iter()? {
        let (k, v) = row?;
        let (n, seq) = k.value();
        if current != Some(n) {
            current = Some(n);
            prev = chain::GENESIS;
        }
        prev = chain::link(&prev, &chain::event_key(n, seq), v.value());
        ev_chain.insert((n, seq), prev.as_slice())?;
        n_events += 1;
    }
    let audit = txn.open_table(AUDIT)?;
    let mut audit_chain = txn.open_table(AUDIT_CHAIN)?;
    let mut n_audit = 0u64;
    let mut prev = chain::GENESIS;
    for row in audit.iter()? {
        let (k, v) = row?;
        let id = k.value();
        prev = chain::link(&prev, &chain::audit_key(id), v.value());
        audit_chain.insert(id, prev.as_slice())?;
        n_audit += 1;
    }
    Ok((n_events, n_audit))
}

impl Store {
    /// Checks the hash chains of every timeline and of the audit log.
    pub fn verify_chains(&self) -> Result<ChainReport> {
        verify_in(&self.read()?)
    }
}
