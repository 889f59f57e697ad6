//! Append-only schema migrations with a stored version.
//!
//! `STEPS[i]` brings a file from version `i` to `i + 1`, each in its own
//! transaction. A file newer than `STEPS.len()` is refused. Before migrating
//! an existing (non-empty) file, it is copied to
//! `<file>.pre-v<N>-<unix time>.bak` beside itself.

use redb::{ReadableDatabase, WriteTransaction};

use super::tables::*;
use super::{Result, Store, StoreError, codec, settings};
use crate::domain::calendar;

type Step = fn(&WriteTransaction) -> Result<()>;

/// The migration steps; append only.
const STEPS: &[Step] = &[
    v1_initial,
    v2_workflow_fields,
    v3_audit,
    v4_knowledge_base,
    v5_aggregates,
    v6_bulletins,
    v7_hash_chains,
    v8_cohort_rates,
];

/// The schema version this program writes.
pub const CURRENT: u32 = STEPS.len() as u32;

pub fn stored_version(store: &Store) -> Result<u32> {
    version_in(&store.db)
}

/// The schema version stored in an open database (0 for a new file).
pub fn version_in(db: &impl ReadableDatabase) -> Result<u32> {
    let r = db.begin_read()?;
    let Some(meta) = super::missing_table_is_empty(r.open_table(META))? else {
        return Ok(0);
    };
    Ok(match meta.get("schema_version")? {
        Some(v) => {
            let b = v.value();
            u32::from_le_bytes(
                b.try_into()
                    .map_err(|_| StoreError::Corrupt("schema_version is not 4 bytes".into()))?,
            )
        }
        None => 0,
    })
}

/// Copies the data file to `<file>.pre-v<CURRENT>-<unix time>.bak` before
/// a migration from version `found`.
pub fn backup_before(path: &std::path::Path, found: u32) -> Result<std::path::PathBuf> {
    let now = jiff::Timestamp::now().as_second();
    let mut bak = path.to_path_buf().into_os_string();
    bak.push(format!(".pre-v{CURRENT}-{now}.bak"));
    let bak = std::path::PathBuf::from(bak);
    std::fs::copy(path, &bak).map_err(|e| {
        StoreError::Db(format!(
            "cannot back up {} before migrating: {e}",
            path.display()
        ))
    })?;
    tracing::info!(from = found, to = CURRENT, backup = %bak.display(), "migrating data file; a copy of the old file was kept");
    Ok(bak)
}

pub fn run(store: &Store) -> Result<()> {
    let found = stored_version(store)?;
    if found > CURRENT {
        return Err(StoreError::NewerSchema {
            found,
            supported: CURRENT,
        });
    }
    for (i, step) in STEPS.iter().enumerate().skip(found as usize) {
        let txn = store.db.begin_write()?;
        step(&txn)?;
        {
            let mut meta = txn.open_table(META)?;
            meta.insert("schema_version", (i as u32 + 1).to_le_bytes().as_slice())?;
        }
        txn.commit()?;
    }
    Ok(())
}

/// Version 1: every table of `tables.rs`, the shipped holiday calendar and
/// the default settings.
fn v1_initial(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(META)?;
    txn.open_table(USERS)?;
    txn.open_table(USERNAMES)?;
    txn.open_table(UNITS)?;
    txn.open_table(CATEGORIES)?;
    txn.open_table(SESSIONS)?;
    txn.open_table(API_TOKENS)?;
    txn.open_table(TICKETS)?;
    txn.open_table(EVENTS)?;
    txn.open_table(IDX_PHONE)?;
    txn.open_table(IDX_CATEGORY)?;
    txn.open_table(IDX_DISTRICT)?;
    txn.open_table(IDX_STATE)?;
    txn.open_table(IDX_UNIT_STATE)?;
    txn.open_table(IDX_UNIT_SEEN)?;
    txn.open_table(IDX_STATE_DUE)?;
    {
        let mut cal = txn.open_table(CALENDAR)?;
        for (d, o) in calendar::Calendar::default_cn().overrides() {
            let key = crate::domain::ticket::TicketNo::day_of(*d);
            cal.insert(key, codec::encode(o).as_slice())?;
        }
    }
    {
        let mut s = txn.open_table(SETTINGS)?;
        let defaults = settings::Settings::default();
        s.insert(
            settings::KEY,
            serde_json::to_vec(&defaults)
                .expect("settings serialise")
                .as_slice(),
        )?;
    }
    Ok(())
}

/// Version 2: ticket records gain the closed-loop fields (returned ticket,
/// assisting units, hand-down, callback attempts, extension, merge, reply,
/// resolved). Every v1 record is rewritten with them empty; the timeline,
/// indexes and everything else stay as they are.
fn v2_workflow_fields(txn: &WriteTransaction) -> Result<()> {
    use redb::ReadableTable;
    let mut t = txn.open_table(TICKETS)?;
    let mut batch: Vec<(u64, Vec<u8>)> = Vec::with_capacity(10_000);
    let mut next = 0u64;
    loop {
        batch.clear();
        for row in t.range(next..)?.take(10_000) {
            let (k, v) = row?;
            let old: super::legacy::TicketV1 = codec::decode("v1 ticket", v.value())?;
            batch.push((k.value(), codec::encode(&old.upgrade())));
        }
        let Some(last) = batch.last().map(|(k, _)| *k) else {
            break;
        };
        for (k, v) in &batch {
            t.insert(*k, v.as_slice())?;
        }
        next = last + 1;
    }
    Ok(())
}

/// Version 3: the audit log of administrative and security events.
fn v3_audit(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(AUDIT)?;
    Ok(())
}

/// Version 4: the knowledge base (articles, versions, proposals, notices,
/// acknowledgements, stats, search log, synonyms) and the search outbox.
/// New tables only; nothing existing changes.
fn v4_knowledge_base(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(KB_ARTICLES)?;
    txn.open_table(KB_CODES)?;
    txn.open_table(KB_IDX_CATEGORY)?;
    txn.open_table(KB_VERSIONS)?;
    txn.open_table(KB_VERSIONS_BY_TIME)?;
    txn.open_table(KB_PROPOSALS)?;
    txn.open_table(KB_IDX_PROPOSAL_STATE)?;
    txn.open_table(KB_NOTICES)?;
    txn.open_table(KB_UNREAD)?;
    txn.open_table(KB_ACKS)?;
    txn.open_table(KB_STATS)?;
    txn.open_table(KB_USES)?;
    txn.open_table(KB_SEARCHES)?;
    txn.open_table(KB_SYNONYMS)?;
    txn.open_table(SEARCH_OUTBOX)?;
    Ok(())
}

/// Version 5: the per-day report aggregates and their name dictionary,
/// counted from every ticket already stored (in the center's time zone as
/// stored in the settings). Reads only tickets, events and settings, so it
/// does not depend on any other step after v3.
fn v5_aggregates(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(AGGREGATES)?;
    txn.open_table(AGG_NAMES)?;
    txn.open_table(AGG_NAME_IDS)?;
    let targets = super::aggregates::Targets {
        agg: Some(AGGREGATES),
        ..Default::default()
    };
    let counted = super::aggregates::rebuild_into(txn, targets, &mut |_, _| {})?;
    tracing::info!(tickets = counted, "report aggregates counted");
    Ok(())
}

/// Version 6: the bulletins — hot-word counts and their dictionary, the
/// difficult-case index (both counted from every ticket already stored, in
/// the center's zone, with progress in the log), and the archive of issued
/// bulletins. Reads only tickets, events and settings.
fn v6_bulletins(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(WORD_COUNTS)?;
    txn.open_table(WORDS)?;
    txn.open_table(WORD_IDS)?;
    txn.open_table(DIFFICULT)?;
    txn.open_table(BULLETIN_INDEX)?;
    txn.open_table(BULLETINS)?;
    let targets = super::aggregates::Targets {
        words: Some(WORD_COUNTS),
        difficult: Some(DIFFICULT),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let mut last_log = std::time::Instant::now();
    let counted = super::aggregates::rebuild_into(txn, targets, &mut |done, total| {
        if last_log.elapsed().as_secs() >= 5 {
            last_log = std::time::Instant::now();
            tracing::info!(done, total, "counting hot words and difficult cases");
            eprintln!(
                "  数据升级：统计热词与疑难工单 {done}/{total} (migrating: hot words and difficult cases)"
            );
        }
    })?;
    tracing::info!(
        tickets = counted,
        seconds = started.elapsed().as_secs_f64(),
        "hot words and difficult cases counted"
    );
    Ok(())
}

/// Version 7: the hash chains of the timelines and the audit log
/// (`event_chain`, `audit_chain`; `domain::chain`), computed for every
/// event and audit record already stored. Records stay as they are. A later
/// step that rewrites an event or audit record must recompute its chain.
fn v7_hash_chains(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(AUDIT)?;
    txn.open_table(EVENTS)?;
    let (events, audit) = super::chain::fill_in(txn)?;
    tracing::info!(events, audit, "hash chains computed");
    Ok(())
}

/// Version 8: the rates count their numerator on the day of their cohort
/// (回访率, 重办率, 退单率: counters `CallbacksMadeOfDue`,
/// `ReopensOfReviewed`, `ReturnsOfDispatched`, see `domain::kpi`), so the
/// report aggregates are recounted from every stored ticket. Reads only
/// tickets, events and settings.
fn v8_cohort_rates(txn: &WriteTransaction) -> Result<()> {
    let targets = super::aggregates::Targets {
        agg: Some(AGGREGATES),
        ..Default::default()
    };
    let mut last_log = std::time::Instant::now();
    let counted = super::aggregates::rebuild_into(txn, targets, &mut |done, total| {
        if last_log.elapsed().as_secs() >= 5 {
            last_log = std::time::Instant::now();
            eprintln!(
                "  数据升级：重新统计报表 {done}/{total} (migrating: recounting the reports)"
            );
        }
    })?;
    tracing::info!(tickets = counted, "report aggregates recounted");
    Ok(())
}
