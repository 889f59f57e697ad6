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
const STEPS: &[Step] = &[v1_initial];

/// The schema version this program writes.
pub const CURRENT: u32 = STEPS.len() as u32;

pub fn stored_version(store: &Store) -> Result<u32> {
    let r = store.db.begin_read()?;
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

pub fn run(store: &Store) -> Result<()> {
    let found = stored_version(store)?;
    if found > CURRENT {
        return Err(StoreError::NewerSchema {
            found,
            supported: CURRENT,
        });
    }
    if found > 0 && found < CURRENT {
        let now = jiff::Timestamp::now().as_second();
        let mut bak = store.path.clone().into_os_string();
        bak.push(format!(".pre-v{}-{now}.bak", CURRENT));
        std::fs::copy(&store.path, &bak).map_err(|e| {
            StoreError::Db(format!(
                "cannot back up {} before migrating: {e}",
                store.path.display()
            ))
        })?;
        tracing::info!(from = found, to = CURRENT, backup = ?bak, "migrating data file");
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
