//! The audit log: who changed what outside tickets (tickets have their own
//! timelines), and every login attempt. Append-only.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::tables::{AUDIT, AUDIT_CHAIN};
use super::{Result, Store, codec};
use crate::domain::chain;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub at: i64,
    /// The acting user; 0 when unknown (a failed login) or the system.
    pub actor: u32,
    /// What happened, e.g. `user.create`, `login.failed`.
    pub action: String,
    /// What it happened to, e.g. a username or a unit id.
    pub target: String,
    /// Details, e.g. the changed fields or the client address.
    pub detail: String,
}

impl Store {
    pub fn append_audit(&self, rec: &AuditRecord) -> Result<u64> {
        let w = self.write_essential()?;
        let id = {
            let mut t = w.open_table(AUDIT)?;
            let mut chain_t = w.open_table(AUDIT_CHAIN)?;
            let id = t.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
            // Links to the newest stored link whatever happened before: a
            // broken chain must not stop the log from recording (the break
            // stays visible to `verify-audit`).
            let prev = match chain_t.last()? {
                Some((k, v)) => {
                    if k.value() + 1 != id {
                        tracing::warn!(
                            id,
                            "the audit hash chain does not end at the newest record"
                        );
                    }
                    v.value().try_into().unwrap_or(chain::GENESIS)
                }
                None => chain::GENESIS,
            };
            let bytes = codec::encode(rec);
            let link = chain::link(&prev, &chain::audit_key(id), &bytes);
            t.insert(id, bytes.as_slice())?;
            chain_t.insert(id, link.as_slice())?;
            id
        };
        w.commit()?;
        Ok(id)
    }

    /// Newest first, `limit` records with ids below `before`.
    pub fn audit(&self, before: Option<u64>, limit: usize) -> Result<Vec<(u64, AuditRecord)>> {
        let r = self.read()?;
        let t = r.open_table(AUDIT)?;
        let hi = before.unwrap_or(u64::MAX);
        t.range(..hi)?
            .rev()
            .take(limit)
            .map(|row| {
                let (k, v) = row?;
                Ok((k.value(), codec::decode("audit record", v.value())?))
            })
            .collect()
    }
}
