//! What the leader dashboard reads besides the aggregates: open tickets by
//! state and unit, overdue stages, emergencies waiting for sign-for — all
//! from the index tables in one read transaction, without decoding tickets
//! (except the emergencies' candidates) — and named settings (JSON values
//! in `SETTINGS` beside the center settings, such as the district map).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use super::tables::*;
use super::{Result, Store, codec};
use crate::domain::ticket::{Ticket, TicketNo};
use crate::domain::types::{AppealType, Channel, State, Urgency};

/// The leading fields of a stored ticket record, borrowed: enough to tell
/// an emergency without decoding (and allocating) the whole record. Follows
/// the field order of [`Ticket`]; `head_matches_the_ticket_record` checks
/// it.
#[derive(Deserialize)]
#[allow(dead_code)]
struct TicketHead<'a> {
    number: TicketNo,
    created_at: i64,
    updated_at: i64,
    created_by: u32,
    channel: Channel,
    appeal_type: AppealType,
    category_code: &'a str,
    caller_phone: &'a str,
    caller_name: &'a str,
    anonymous: bool,
    confidential: bool,
    district: &'a str,
    street: &'a str,
    community: &'a str,
    address: &'a str,
    coordinates: Option<(f64, f64)>,
    title: &'a str,
    content: &'a str,
    urgency: Urgency,
}

/// Whether a stored ticket record is an emergency (appeal type 抢险 or
/// urgency 特急); `None` if the record cannot be read this way.
fn is_emergency(bytes: &[u8]) -> Option<bool> {
    let rest = bytes.strip_prefix(&[codec::FORMAT])?;
    let h: TicketHead = postcard::take_from_bytes(rest).ok()?.0;
    Some(h.appeal_type == AppealType::Emergency || h.urgency == Urgency::Emergency)
}

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
    /// Tickets decoded to find the emergencies (for the benchmark).
    pub decoded: u64,
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
        // Only the emergencies are decoded in full.
        let tickets = r.open_table(TICKETS)?;
        signing.sort_unstable();
        for no in signing {
            out.decoded += 1;
            if let Some(v) = tickets.get(no)? {
                if is_emergency(v.value()) == Some(false) {
                    continue;
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testkit::*;

    #[test]
    fn head_matches_the_ticket_record() {
        for (appeal, urgency, want) in [
            (AppealType::Complaint, Urgency::Normal, false),
            (AppealType::Emergency, Urgency::Emergency, true),
            (AppealType::Help, Urgency::Emergency, true),
            (AppealType::Emergency, Urgency::Urgent, true),
            (AppealType::Consultation, Urgency::Urgent, false),
        ] {
            let (mut t, _) = new_ticket(
                TicketNo(20260901000007),
                sh_at("2026-09-01 09:00"),
                OP_A,
                appeal,
                "0101",
            );
            t.urgency = urgency;
            t.coordinates = Some((120.3, 36.1));
            t.content = "长".repeat(3000);
            t.caller_name = "张三".into();
            let bytes = codec::encode(&t);
            assert_eq!(is_emergency(&bytes), Some(want), "{appeal:?} {urgency:?}");
            let h: TicketHead = postcard::take_from_bytes(&bytes[1..]).unwrap().0;
            assert_eq!(h.number, t.number);
            assert_eq!(h.created_by, t.created_by);
            assert_eq!(h.channel, t.channel);
            assert_eq!(h.address, t.address);
            assert_eq!(h.coordinates, t.coordinates);
            assert_eq!(h.title, t.title);
            assert_eq!(h.content, t.content);
            assert_eq!(h.urgency, t.urgency);
        }
        assert_eq!(is_emergency(&[9, 1, 2]), None);
        assert_eq!(is_emergency(&[codec::FORMAT, 200]), None);
    }
}
