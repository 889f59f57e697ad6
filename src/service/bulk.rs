//! The ticket list's bulk actions (issue 11): dispatching several tickets
//! at once and exporting the query's result as a table.
//!
//! A bulk dispatch is one ordinary dispatch per ticket, through the same
//! workflow step as the case file (`act_named` → `domain::workflow`),
//! each with its own timeline event; one that is refused (another
//! dispatcher was quicker, the ticket is no longer waiting) is reported
//! with its reason and does not stop the others. The batch is written to
//! the audit log as well.

use super::table::{Cell, Column, Table};
use super::tickets::TicketQuery;
use super::workflow::ActionBody;
use super::{Actor, Services};
use crate::domain::permissions::Permission;
use crate::error::{Error, Result};

/// At most this many tickets per bulk dispatch.
pub const BULK_MAX: usize = 200;
/// At most this many rows in an export of the ticket list.
pub const EXPORT_MAX: usize = 10_000;

/// What happened to one ticket of a bulk dispatch: its number and the
/// refusal, if any (the pages and the API word it).
pub type BulkOutcome = (String, std::result::Result<(), Error>);

impl Services {
    /// Dispatches each of `numbers` to `unit_id` (with `assisting` units);
    /// the outcome per ticket, in the order given.
    pub fn bulk_dispatch(
        &self,
        actor: &Actor,
        numbers: &[String],
        unit_id: Option<u32>,
        assisting: Vec<u32>,
    ) -> Result<(u32, Vec<BulkOutcome>)> {
        // The permission first, then what was typed: a person who may not
        // dispatch learns nothing from the form's checks.
        actor.require(Permission::Dispatch)?;
        let Some(unit_id) = unit_id else {
            return Err(Error::field("unit_id", "请选择承办单位 (choose the unit)"));
        };
        let mut seen = std::collections::HashSet::new();
        let numbers: Vec<&String> = numbers
            .iter()
            .filter(|n| !n.trim().is_empty() && seen.insert(n.trim().to_string()))
            .collect();
        if numbers.is_empty() {
            return Err(Error::field(
                "numbers",
                "请至少选择一件工单 (choose at least one ticket)",
            ));
        }
        if numbers.len() > BULK_MAX {
            return Err(Error::field(
                "numbers",
                format!("一次最多派发 {BULK_MAX} 件 (at most {BULK_MAX} tickets at once)"),
            ));
        }
        let mut out = vec![];
        for n in numbers {
            let body = ActionBody {
                unit_id: Some(unit_id),
                assisting: assisting.clone(),
                ..ActionBody::default()
            };
            let r = self.act_named(actor, n.trim(), "dispatch", body);
            out.push((n.trim().to_string(), r.map(|_| ())));
        }
        let ok = out.iter().filter(|o| o.1.is_ok()).count();
        self.audit(
            actor.user.id,
            "ticket.bulk_dispatch",
            &self.dir().unit_name(unit_id),
            &format!("{ok} dispatched, {} refused", out.len() - ok),
        );
        Ok((unit_id, out))
    }

    /// The tickets of a list query (every page, up to [`EXPORT_MAX`]) as a
    /// table for `.xlsx` / CSV, with the viewer's masking.
    pub fn ticket_table(&self, actor: &Actor, q: &TicketQuery) -> Result<Table> {
        let mut q = q.clone();
        q.limit = Some("100".into());
        q.cursor = None;
        let lang = "zh-CN";
        let mut t = Table::new(
            "工单查询结果",
            [
                ("number", "工单编号"),
                ("created_at", "登记时间"),
                ("channel", "来源渠道"),
                ("appeal_type", "诉求类型"),
                ("urgency", "紧急程度"),
                ("category", "业务分类"),
                ("title", "标题"),
                ("district", "区"),
                ("street", "街道"),
                ("address", "详细地址"),
                ("caller_phone", "来电号码"),
                ("state", "状态"),
                ("unit", "承办单位"),
                ("due_at", "办理时限"),
                ("closed_at", "办结时间"),
            ]
            .iter()
            .map(|(k, l)| Column::new(*k, *l))
            .collect(),
        );
        let time = |s: &str| s.get(..16).unwrap_or(s).replace('T', " ");
        loop {
            let page = self.query_tickets(actor, &q)?;
            for v in &page.items {
                if t.rows.len() >= EXPORT_MAX {
                    return Ok(t);
                }
                t.push(vec![
                    Cell::Text(v.number.clone()),
                    Cell::Text(time(&v.created_at)),
                    Cell::Text(v.channel.label(lang).into()),
                    Cell::Text(v.appeal_type.label(lang).into()),
                    Cell::Text(v.urgency.label(lang).into()),
                    Cell::Text(v.category_name.clone()),
                    Cell::Text(v.title.clone()),
                    Cell::Text(v.district.clone()),
                    Cell::Text(v.street.clone()),
                    Cell::Text(v.address.clone()),
                    Cell::Text(v.caller_phone.clone()),
                    Cell::Text(v.state.label(lang).into()),
                    Cell::Text(v.unit_name.clone().unwrap_or_default()),
                    Cell::Text(v.due_at.as_deref().map(time).unwrap_or_default()),
                    Cell::Text(v.closed_at.as_deref().map(time).unwrap_or_default()),
                ]);
            }
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => return Ok(t),
            }
        }
    }
}
