//! The case file (一事一档): every field, attachments, the timeline, and
//! the dispatch form while the ticket waits for dispatch.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;

use super::{Base, OrPage, PageResult, lang, render, see_other};
use crate::domain::org::Unit;
use crate::domain::permissions::Permission;
use crate::domain::ticket::Ticket;
use crate::domain::types::State as TState;
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::service::Actor;
use crate::service::views::{EventView, TicketView, fmt_time};
use crate::service::workflow::ActionBody;

#[derive(Template)]
#[template(path = "ticket.html")]
struct Page {
    base: Base,
    t: TicketView,
    events: Vec<EventView>,
    /// Workflow steps this person may take now.
    actions: Vec<&'static str>,
    units: Vec<Unit>,
    /// Sub-units of the holder (hand-down targets).
    children: Vec<Unit>,
    proposed_unit: Option<u32>,
    extension: Option<(String, String)>,
    returned_ticket: bool,
    appeal_types: &'static [crate::domain::types::AppealType],
    categories: Vec<crate::domain::org::Category>,
}

impl Page {
    /// The units in tree order with their depth (0 = level 2): the
    /// assisting-unit picker (filter box + checkboxes).
    fn unit_tree(&self) -> Vec<(&Unit, usize)> {
        fn walk<'a>(
            all: &'a [Unit],
            parent: Option<u32>,
            depth: usize,
            out: &mut Vec<(&'a Unit, usize)>,
        ) {
            let mut kids: Vec<&Unit> = all.iter().filter(|u| u.parent_id == parent).collect();
            kids.sort_by(|a, b| a.name.cmp(&b.name));
            for u in kids {
                out.push((u, depth));
                if depth < 8 {
                    walk(all, Some(u.id), depth + 1, out);
                }
            }
        }
        let mut out = vec![];
        walk(&self.units, None, 0, &mut out);
        // Units whose parent is disabled (not in the list) still show.
        for u in &self.units {
            if !out.iter().any(|(x, _)| x.id == u.id) {
                out.push((u, 0));
            }
        }
        out
    }
    /// `2026-11-22T10:31:05+08:00` → `2026-11-22 10:31:05`.
    fn short(&self, s: &str) -> String {
        s.get(..19).unwrap_or(s).replace('T', " ")
    }
    fn has(&self, a: &str) -> bool {
        self.actions.contains(&a)
    }
}

/// The steps `actor` may take on `t` now (the domain refuses anything else).
fn available(t: &Ticket, actor: &Actor, has_children: bool) -> Vec<&'static str> {
    let can = |p| actor.can(p);
    let holder = can(Permission::HandleAsDepartment)
        && actor.user.unit_id.is_some()
        && actor.user.unit_id == t.unit_id;
    let mut v = vec![];
    match t.state {
        TState::PendingDispatch if can(Permission::Dispatch) => {
            v.extend(["dispatch", "merge", "send-back", "correct"])
        }
        TState::PendingDispatch if can(Permission::RegisterTicket) => v.push("correct"),
        TState::AwaitingSignFor if holder => {
            v.push("sign-for");
            if !t.returned_ticket {
                v.push("return");
            }
            v.extend(["progress", "request-extension"]);
        }
        TState::InProgress if holder => {
            v.push("reply");
            if has_children {
                v.push("hand-down");
            }
            v.extend(["progress", "request-extension"]);
        }
        TState::AwaitingApproval
            if can(Permission::HandleAsDepartment)
                && actor.user.unit_id.is_some()
                && actor.user.unit_id == t.handed_by =>
        {
            v.push("approve-reply")
        }
        TState::AwaitingReview if can(Permission::Review) => v.push("review"),
        TState::AwaitingCallback if can(Permission::Callback) => v.push("callback"),
        TState::AwaitingDecision if can(Permission::Decide) => v.extend(["reopen", "close"]),
        _ => {}
    }
    if t.extension.is_some() && can(Permission::Decide) {
        v.push("decide-extension");
    }
    if !t.state.is_final() && can(Permission::Dispatch) {
        v.push("void");
    }
    v
}

pub async fn page(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path(n): Path<String>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let (raw, t, events) = app
        .run(move |s| {
            Ok((
                s.ticket(&actor, &n)?,
                s.ticket_view(&actor, &n)?,
                s.ticket_events(&actor, &n)?,
            ))
        })
        .await
        .page(&l)?;
    let dir = app.svc.dir();
    let children: Vec<Unit> = raw
        .unit_id
        .map(|u| {
            dir.units
                .iter()
                .filter(|c| c.parent_id == Some(u) && c.enabled)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let actions = available(&raw, &auth.0.actor, !children.is_empty());
    let proposed_unit = dir
        .category(&t.category_code)
        .and_then(|c| c.default_unit_id);
    let extension = raw
        .extension
        .as_ref()
        .map(|e| (fmt_time(e.until, &dir), e.reason.clone()));
    Ok(render(&Page {
        base: Base::new(&l, "nav.tickets", Some(&auth.0), &app),
        t,
        events,
        actions,
        units: dir.units.iter().filter(|u| u.enabled).cloned().collect(),
        children,
        proposed_unit,
        extension,
        returned_ticket: raw.returned_ticket,
        appeal_types: &crate::domain::types::AppealType::ALL[..6],
        categories: dir
            .categories
            .iter()
            .filter(|c| c.enabled)
            .cloned()
            .collect(),
    }))
}

/// One form post per workflow step: `/tickets/{number}/act/{action}`.
pub async fn act(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path((n, action)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = crate::http::pages::admin::parse_form(&body);
    let get = |k: &str| {
        f.iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    auth.check_csrf(&get("csrf").unwrap_or_default()).page(&l)?;
    let parse_u32 = |k: &str| get(k).and_then(|v| v.parse::<u32>().ok());
    let b = ActionBody {
        unit_id: parse_u32("unit_id"),
        assisting: f
            .iter()
            .filter(|(k, _)| k == "assisting")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        reason: get("reason"),
        result: get("result"),
        approve: get("approve").map(|v| v == "true"),
        outcome: get("outcome"),
        period_days: parse_u32("period_days"),
        satisfaction: get("satisfaction"),
        resolved: Some(get("resolved").is_some()),
        comment: get("comment"),
        until: get("until"),
        master: get("master"),
        appeal_type: get("appeal_type"),
        category_code: get("category_code"),
        urgency: get("urgency"),
        title: get("title"),
        content: get("content"),
        district: get("district"),
        street: get("street"),
        community: get("community"),
        address: get("address"),
    };
    let actor = auth.0.actor.clone();
    let n2 = n.clone();
    app.run(move |s| s.act_named(&actor, &n2, &action, b))
        .await
        .page(&l)?;
    Ok(see_other(&format!("/tickets/{n}")))
}

pub async fn attachment(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path((n, sha)): Path<(String, String)>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let (path, meta) = app
        .run(move |s| s.open_ticket_attachment(&actor, &n, &sha))
        .await
        .page(&l)?;
    crate::http::api::tickets::file_response(&path, &meta.name, &meta.content_type)
        .await
        .page(&l)
}
