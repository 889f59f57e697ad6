//! The case file (一事一档): every field, attachments, the timeline, and
//! the dispatch form while the ticket waits for dispatch.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;

use super::{Base, OrPage, PageResult, lang, render, see_other};
use crate::domain::org::Unit;
use crate::domain::permissions::Permission;
use crate::domain::types::State as TState;
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::service::views::{EventView, TicketView};

#[derive(Template)]
#[template(path = "ticket.html")]
struct Page {
    base: Base,
    t: TicketView,
    events: Vec<EventView>,
    can_dispatch: bool,
    units: Vec<Unit>,
    proposed_unit: Option<u32>,
}

impl Page {
    /// `2026-11-22T10:31:05+08:00` → `2026-11-22 10:31:05`.
    fn short(&self, s: &str) -> String {
        s.get(..19).unwrap_or(s).replace('T', " ")
    }
}

pub async fn page(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path(n): Path<String>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let (t, events) = app
        .run(move |s| Ok((s.ticket_view(&actor, &n)?, s.ticket_events(&actor, &n)?)))
        .await
        .page(&l)?;
    let dir = app.svc.dir();
    let can_dispatch = t.state == TState::PendingDispatch && auth.0.actor.can(Permission::Dispatch);
    let proposed_unit = dir
        .category(&t.category_code)
        .and_then(|c| c.default_unit_id);
    Ok(render(&Page {
        base: Base::new(&l, "nav.tickets", Some(&auth.0), &app),
        t,
        events,
        can_dispatch,
        units: dir.units.iter().filter(|u| u.enabled).cloned().collect(),
        proposed_unit,
    }))
}

#[derive(Deserialize)]
pub struct DispatchForm {
    #[serde(default)]
    csrf: String,
    unit_id: String,
    #[serde(default)]
    reason: String,
}

pub async fn dispatch(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path(n): Path<String>,
    Form(f): Form<DispatchForm>,
) -> PageResult {
    let l = lang(&headers);
    auth.check_csrf(&f.csrf).page(&l)?;
    let unit: u32 = f
        .unit_id
        .parse()
        .map_err(|_| crate::error::Error::field("unit_id", "请选择承办单位 (choose a unit)"))
        .page(&l)?;
    let actor = auth.0.actor.clone();
    let n2 = n.clone();
    app.run(move |s| s.dispatch(&actor, &n2, unit, &f.reason))
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
