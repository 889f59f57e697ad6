//! The ticket query page: the multi-criteria form and a paged table.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;

use super::{Base, OrPage, PageResult, lang, render};
use crate::domain::org::{Category, Unit};
use crate::domain::types::{AppealType, Channel, Satisfaction, State as TState, Supervision};
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::service::tickets::{TicketPage, TicketQuery};

#[derive(Template)]
#[template(path = "list.html")]
pub struct Page {
    pub base: Base,
    pub q: TicketQuery,
    pub page: TicketPage,
    pub next_url: String,
    pub units: Vec<Unit>,
    pub categories: Vec<Category>,
    pub states: &'static [TState],
    pub appeal_types: &'static [AppealType],
    pub channels: &'static [Channel],
    pub supervisions: &'static [Supervision],
    pub satisfactions: &'static [Satisfaction],
    /// Whether the caller phone and name filters are offered
    /// (`permissions::may_query_caller`).
    pub caller_filters: bool,
}

impl Page {
    pub fn sel(&self, v: &Option<String>, x: &str) -> bool {
        v.as_deref() == Some(x)
    }
    /// `2026-11-22T10:31:05+08:00` → `2026-11-22 10:31`.
    pub fn short(&self, s: &str) -> String {
        s.get(..16).unwrap_or(s).replace('T', " ")
    }
    pub fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

fn query_string(q: &TicketQuery, cursor: &str) -> String {
    let mut v = serde_json::to_value(q).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("cursor".into(), cursor.into());
    }
    let pairs: Vec<String> = v
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    v.as_str()
                        .filter(|s| !s.is_empty())
                        .map(|s| format!("{k}={}", super::urlencode(s)))
                })
                .collect()
        })
        .unwrap_or_default();
    format!("/tickets?{}", pairs.join("&"))
}

pub async fn page(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(q): Query<TicketQuery>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let q2 = q.clone();
    let page = app
        .run(move |s| s.query_tickets(&actor, &q2))
        .await
        .page(&l)?;
    let next_url = page
        .next_cursor
        .as_deref()
        .map(|c| query_string(&q, c))
        .unwrap_or_default();
    let dir = app.svc.dir();
    Ok(render(&Page {
        base: Base::new(&l, "list.title", Some(&auth.0), &app),
        q,
        page,
        next_url,
        units: dir.units.clone(),
        categories: dir.categories.clone(),
        states: TState::ALL,
        appeal_types: AppealType::ALL,
        channels: Channel::ALL,
        supervisions: Supervision::ALL,
        satisfactions: Satisfaction::ALL,
        caller_filters: crate::domain::permissions::may_query_caller(&auth.0.actor.scope),
    }))
}
