//! Recording and reading the audit log.

use serde::Serialize;
use utoipa::ToSchema;

use super::views::fmt_time;
use super::{Actor, Services};
use crate::domain::permissions::Permission;
use crate::error::Result;
use crate::store::audit::AuditRecord;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: u64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

impl Services {
    /// Records an event; a failure to record is logged, never shown to the
    /// user whose change already succeeded.
    pub fn audit(&self, actor: u32, action: &str, target: &str, detail: &str) {
        let rec = AuditRecord {
            at: jiff::Timestamp::now().as_second(),
            actor,
            action: action.into(),
            target: target.chars().take(200).collect(),
            detail: detail.chars().take(1000).collect(),
        };
        if let Err(e) = self.store.append_audit(&rec) {
            tracing::error!(error = %e, action, "cannot write the audit log");
        }
    }

    /// The audit log, newest first (administrators).
    pub fn audit_log(
        &self,
        actor: &Actor,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        actor.require(Permission::Administer)?;
        let dir = self.dir();
        Ok(self
            .store
            .audit(before, limit.clamp(1, 500))?
            .into_iter()
            .map(|(id, r)| AuditEntry {
                id,
                at: fmt_time(r.at, &dir),
                actor: dir.user_name(r.actor),
                action: r.action,
                target: r.target,
                detail: r.detail,
            })
            .collect())
    }
}
