//! The case file (一事一档): every field, attachments, the timeline, and
//! the dispatch form while the ticket waits for dispatch.

use crate::http::extract::PagePath;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;

use super::{Base, OrPage, PageResult, lang, render, see_other};
use crate::domain::org::Unit;
use crate::domain::workflow::{self, Who};
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
    /// The viewer's unit is above the unit holding the ticket.
    sub_unit_holds: bool,
    /// The holder's view: the latest urge of its parent unit (when, what).
    urged: Option<(String, String)>,
    /// The pending extension's requested date (`YYYY-MM-DD`): the
    /// decision form's default.
    extension_date: String,
    /// What the step just taken did (after a redirect), or empty.
    done: String,
    /// The queue the ticket was opened from (work-through), or empty.
    queue: String,
    /// The next ticket of that queue.
    next: Option<String>,
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

fn who(actor: &Actor) -> Who<'_> {
    Who {
        id: actor.user.id,
        roles: &actor.user.roles,
        unit_id: actor.user.unit_id,
    }
}

/// `?queue=` (work-through) and `?done=` (the step just taken).
#[derive(serde::Deserialize, Default)]
pub struct Opened {
    queue: Option<String>,
    done: Option<String>,
}

/// A queue name as given, if it is one.
fn known_queue(q: Option<&str>) -> Option<&'static str> {
    let q = q?.trim();
    crate::service::queue::QUEUES
        .iter()
        .copied()
        .find(|n| *n == q)
}

/// The latest urge since the ticket reached its current unit.
fn latest_urge(events: &[EventView]) -> Option<(String, String)> {
    let mut last = None;
    for e in events {
        match e.action.as_str() {
            "dispatched" | "handed_down" | "taken_back" | "returned" => last = None,
            "urged" => last = Some((e.at.clone(), e.note.clone())),
            _ => {}
        }
    }
    last
}

pub async fn page(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(n): PagePath<String>,
    Query(opened): Query<Opened>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let queue = known_queue(opened.queue.as_deref());
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
    let me = who(&auth.0.actor);
    let now = app.svc.now().as_second();
    let mut actions = workflow::available(&raw, &me, &dir.tree, now);
    if crate::domain::alarm::may_acknowledge(&auth.0.actor.user.roles) {
        let f = app.svc.alarm_facts(&raw);
        if f.active() && !f.acknowledged {
            actions.push("acknowledge-alarm");
        }
    }
    let sub_unit_holds = workflow::above_holder(&raw, &me, &dir.tree);
    let urged = (me.unit_id.is_some() && me.unit_id == raw.unit_id)
        .then(|| latest_urge(&events))
        .flatten();
    let next = match queue {
        Some(q) => {
            let actor = auth.0.actor.clone();
            let current = t.number.clone();
            app.run(move |s| s.next_in_queue(&actor, q, &current))
                .await
                .page(&l)?
                .map(|v| v.number)
        }
        None => None,
    };
    let tr = |k: &str| crate::http::i18n::t(&l, k).to_string();
    let now_state = t.state.label(&l);
    let done = match opened.done.as_deref() {
        None | Some("") => String::new(),
        Some("dispatch") => format!(
            "{} {}",
            tr("done.dispatch"),
            t.unit_name.as_deref().unwrap_or("—")
        ),
        Some("void") => tr("done.void"),
        Some("urge") => tr("done.urge"),
        Some("take-back") => tr("done.take_back"),
        Some("reply") => format!("{}{}", tr("done.reply"), now_state),
        Some("review") => format!("{}{}", tr("done.review"), now_state),
        Some("callback") => format!("{}{}", tr("done.callback"), now_state),
        Some(_) => format!("{}{}", tr("done.other"), now_state),
    };
    let proposed_unit = dir
        .category(&t.category_code)
        .and_then(|c| c.default_unit_id);
    let extension = raw
        .extension
        .as_ref()
        .map(|e| (fmt_time(e.until, &dir), e.reason.clone()));
    let extension_date = extension
        .as_ref()
        .and_then(|(u, _)| u.get(..10))
        .unwrap_or("")
        .to_string();
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
        extension_date,
        sub_unit_holds,
        urged,
        done,
        queue: queue.unwrap_or("").to_string(),
        next,
    }))
}

/// One form post per workflow step: `/tickets/{number}/act/{action}`.
pub async fn act(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath((n, action)): PagePath<(String, String)>,
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
    let queue = known_queue(get("queue").as_deref());
    let done = super::urlencode(&action);
    app.run(move |s| s.act_named(&actor, &n2, &action, b))
        .await
        .page(&l)?;
    // Back to the case file, saying what happened; from a queue, with the
    // next ticket of the same queue on offer (work-through).
    Ok(see_other(&match queue {
        Some(q) => format!("/tickets/{n}?done={done}&queue={q}"),
        None => format!("/tickets/{n}?done={done}"),
    }))
}

pub async fn attachment(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath((n, sha)): PagePath<(String, String)>,
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
