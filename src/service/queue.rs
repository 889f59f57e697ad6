//! The center's queues as lists (`/queues/{name}`), and the work-through:
//! after a step on a ticket opened from a queue, the next ticket of the
//! same queue (as Zammad's "next in overview" and osTicket's "next ticket").
//!
//! A queue is a fixed selection, oldest first: pending dispatch, sent back
//! to the operator, awaiting review, callback or the team lead's decision,
//! pending extension requests, overdue stages (yellow or red), and
//! emergencies waiting for sign-for.

use serde::Serialize;

use super::views::{TicketView, fmt_time, supervision_of};
use super::{Actor, Services};
use crate::domain::permissions::Permission;
use crate::domain::types::{AppealType, State, Supervision, Urgency};
use crate::error::{Error, Result};

/// Every queue by name (the URL segment), with the step it waits for.
pub const QUEUES: &[&str] = &[
    "dispatch",
    "sent-back",
    "review",
    "callback",
    "decision",
    "extension",
    "overdue",
    "emergency",
];

/// Longest list shown.
pub const QUEUE_LIMIT: usize = 200;

/// One ticket of a queue; `extension` is the pending request (until, why).
#[derive(Clone, Debug, Serialize)]
pub struct QueueItem {
    pub ticket: TicketView,
    pub extension: Option<(String, String)>,
}

impl Services {
    /// The tickets of queue `name`, oldest first, at most `limit`.
    pub fn queue(&self, actor: &Actor, name: &str, limit: usize) -> Result<Vec<QueueItem>> {
        actor.require(Permission::ReadTickets)?;
        if actor.scope.is_department() {
            return Err(Error::Forbidden(
                "队列仅供中心使用 (queues are for center staff)".into(),
            ));
        }
        let dir = self.dir();
        let now = self.now();
        let by_state = |state: &str| -> Result<Vec<QueueItem>> {
            let q = crate::service::tickets::TicketQuery {
                state: Some(state.into()),
                sort: Some("oldest".into()),
                limit: Some(limit.clamp(1, QUEUE_LIMIT).to_string()),
                ..Default::default()
            };
            Ok(self
                .query_tickets(actor, &q)?
                .items
                .into_iter()
                .map(|ticket| QueueItem {
                    ticket,
                    extension: None,
                })
                .collect())
        };
        let items = match name {
            "dispatch" => by_state("pending_dispatch")?,
            "review" => by_state("awaiting_review")?,
            "callback" => by_state("awaiting_callback")?,
            "decision" => by_state("awaiting_decision")?,
            "sent-back" => self
                .sent_back(actor)?
                .into_iter()
                .take(limit)
                .map(|ticket| QueueItem {
                    ticket,
                    extension: None,
                })
                .collect(),
            "extension" | "overdue" | "emergency" => {
                let states = [
                    State::AwaitingSignFor,
                    State::InProgress,
                    State::AwaitingApproval,
                ];
                let mut nos = self.store.stages_due_before(&states, i64::MAX)?;
                nos.sort();
                let mut out = vec![];
                for t in self.store.tickets(&nos)? {
                    if !actor.scope.sees(&t.units_seen) {
                        continue;
                    }
                    let keep = match name {
                        "extension" => t.extension.is_some(),
                        "overdue" => matches!(
                            supervision_of(&t, now, &dir),
                            Some(Supervision::Yellow | Supervision::Red)
                        ),
                        _ => {
                            t.state == State::AwaitingSignFor
                                && (t.appeal_type == AppealType::Emergency
                                    || t.urgency == Urgency::Emergency)
                        }
                    };
                    if keep {
                        out.push(QueueItem {
                            extension: t
                                .extension
                                .as_ref()
                                .map(|e| (fmt_time(e.until, &dir), e.reason.clone())),
                            ticket: TicketView::new(&t, actor, &dir, now),
                        });
                        if out.len() >= limit {
                            break;
                        }
                    }
                }
                out
            }
            other => {
                return Err(Error::NotFound(format!(
                    "未知的队列“{other}” (unknown queue {other})"
                )));
            }
        };
        Ok(items)
    }

    /// The next ticket of queue `name` after working on `current` (the
    /// oldest one still waiting that is not `current`), if any.
    pub fn next_in_queue(
        &self,
        actor: &Actor,
        name: &str,
        current: &str,
    ) -> Result<Option<TicketView>> {
        Ok(self
            .queue(actor, name, 2)?
            .into_iter()
            .map(|i| i.ticket)
            .find(|t| t.number != current))
    }
}
