//! What the leader dashboard reads besides the aggregates: open tickets by
//! state and unit, overdue stages, emergencies waiting for sign-for — all
//! from the index tables in one read transaction, without decoding tickets
//! (except the emergencies' candidates) — and named settings (JSON values
//! in `SETTINGS` beside the center settings, such as the district map).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::tables::*;
use super::{Result, Store, codec};
use crate::domain::ticket::Ticket;
use crate::domain::types::{AppealType, State, Urgency};

/// Open tickets as the indexes count them.
#[derive(Clone, Debug, Default)]
pub struct OpenCounts {
    /// Open tickets per state (state code → count).
    pub by_state: BTreeMap<u8, u64>,
    /// Tickets whose running stage is past its deadline, per unit holding
    /// them.
    pub overdue_by_unit: HashMap<u32, u64>,
    /// Emergencies (appeal type or urgency) waiting for sign-for.
    pub emergencies: Vec<Ticket>,
    /// Index entries read (for the benchmark).
    pub entries: u64,
}

/// States in which a ticket is still open.
pub const OPEN_STATES: &[State] = &[
    State::PendingDispatch,
    State::AwaitingSignFor,
    State::InProgress,
    State::AwaitingApproval,
    State::AwaitingReview,
    State::AwaitingCallback,
    State::AwaitingDecision,
];

impl Store {
    /// Counts the open tickets held by `units` (every ticket held by one of
    /// them, 0 = the center), and which of them are overdue at `now` (unix
    /// seconds): `idx_state_due` gives the overdue stages, `idx_unit_state`
    /// who holds them.
    pub fn open_counts(&self, units: &[u32], now: i64) -> Result<OpenCounts> {
        let r = self.read()?;
        let due = r.open_table(IDX_STATE_DUE)?;
        let held = r.open_table(IDX_UNIT_STATE)?;
        let mut out = OpenCounts::default();
        let mut overdue: HashSet<u64> = HashSet::new();
        for s in OPEN_STATES.iter().filter(|s| s.has_stage_deadline()) {
            for row in due.range((s.code(), i64::MIN, 0u64)..(s.code(), now, 0u64))? {
                overdue.insert(row?.0.value().2);
                out.entries += 1;
            }
        }
        let mut signing: Vec<u64> = Vec::new();
        for u in units {
            for s in OPEN_STATES {
                let deadline = s.has_stage_deadline();
                let mut n = 0u64;
                let mut late = 0u64;
                for row in held.range((*u, s.code(), 0u64)..=(*u, s.code(), u64::MAX))? {
                    let no = row?.0.value().2;
                    n += 1;
                    if deadline && overdue.contains(&no) {
                        late += 1;
                    }
                    if *s == State::AwaitingSignFor {
                        signing.push(no);
                    }
                }
                out.entries += n;
                if n > 0 {
                    *out.by_state.entry(s.code()).or_default() += n;
                }
                if late > 0 {
                    *out.overdue_by_unit.entry(*u).or_default() += late;
                }
            }
        }
        let tickets = r.open_table(TICKETS)?;
        for no in signing {
            if let Some(v) = tickets.get(no)? {
                let t: Ticket = codec::decode("ticket", v.value())?;
                if t.appeal_type == AppealType::Emergency || t.urgency == Urgency::Emergency {
                    out.emergencies.push(t);
                }
            }
        }
        Ok(out)
    }

    /// A named setting (a JSON document), if stored.
    pub fn named_setting(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let r = self.read()?;
        let t = r.open_table(SETTINGS)?;
        Ok(t.get(key)?.map(|v| v.value().to_vec()))
    }

    /// Stores (`Some`) or removes (`None`) a named setting.
    pub fn save_named_setting(&self, key: &str, value: Option<&[u8]>) -> Result<()> {
        let w = self.write()?;
        {
            let mut t = w.open_table(SETTINGS)?;
            match value {
                Some(v) => {
                    t.insert(key, v)?;
                }
                None => {
                    t.remove(key)?;
                }
            }
        }
        w.commit()?;
        Ok(())
    }
}
