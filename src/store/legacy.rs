//! Frozen record layouts of earlier schema versions, read only by
//! migrations. Never edit a struct here: add a new one.

use serde::{Deserialize, Serialize};

use crate::domain::ticket::{Attachment, Stage, Ticket, TicketNo};
use crate::domain::types::{AppealType, Channel, Satisfaction, State, Urgency};

/// The ticket record of schema v1, frozen: read only by the v1→v2 migration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TicketV1 {
    pub number: TicketNo,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: u32,
    pub channel: Channel,
    pub appeal_type: AppealType,
    pub category_code: String,
    pub caller_phone: String,
    pub caller_name: String,
    pub anonymous: bool,
    pub confidential: bool,
    pub district: String,
    pub street: String,
    pub community: String,
    pub address: String,
    pub coordinates: Option<(f64, f64)>,
    pub title: String,
    pub content: String,
    pub urgency: Urgency,
    /// The answer given at intake (consultations), or "".
    pub answer: String,
    pub attachments: Vec<Attachment>,
    pub state: State,
    /// The unit that holds the ticket now.
    pub unit_id: Option<u32>,
    /// Every unit the ticket has ever been assigned to (department scope).
    pub units_seen: Vec<u32>,
    pub stage: Option<Stage>,
    /// The deadline of the whole round (total period).
    pub due_at: Option<i64>,
    /// 1 for the first round; +1 for each reopening.
    pub round: u16,
    pub closed_at: Option<i64>,
    pub satisfaction: Option<Satisfaction>,
    /// Number of timeline events (the next event's sequence number).
    pub event_count: u32,
}

impl TicketV1 {
    /// The v2 record: new fields empty.
    pub fn upgrade(self) -> Ticket {
        Ticket {
            number: self.number,
            created_at: self.created_at,
            updated_at: self.updated_at,
            created_by: self.created_by,
            channel: self.channel,
            appeal_type: self.appeal_type,
            category_code: self.category_code,
            caller_phone: self.caller_phone,
            caller_name: self.caller_name,
            anonymous: self.anonymous,
            confidential: self.confidential,
            district: self.district,
            street: self.street,
            community: self.community,
            address: self.address,
            coordinates: self.coordinates,
            title: self.title,
            content: self.content,
            urgency: self.urgency,
            answer: self.answer,
            attachments: self.attachments,
            state: self.state,
            unit_id: self.unit_id,
            units_seen: self.units_seen,
            stage: self.stage,
            due_at: self.due_at,
            round: self.round,
            closed_at: self.closed_at,
            satisfaction: self.satisfaction,
            event_count: self.event_count,
            returned_ticket: false,
            assisting: vec![],
            handed_by: None,
            callback_attempts: 0,
            extension: None,
            master: None,
            merged: vec![],
            reply: String::new(),
            resolved: None,
        }
    }
}
