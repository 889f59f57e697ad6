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
    /// The dispatcher's checkboxes and bulk dispatch form.
    pub can_dispatch: bool,
    /// The same query as `.xlsx`.
    pub export_url: String,
    /// How many of the filters under "more" are set (the panel opens then).
    pub more_set: usize,
    pub more_open: bool,
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
    /// "共 123 件", "200000+ 件" beyond the scan budget, "此后共 …" on a
    /// later page.
    pub fn total_text(&self) -> String {
        let n = if self.page.total_capped {
            format!("{}+", self.page.total)
        } else {
            self.page.total.to_string()
        };
        let key = if self.q.cursor.as_deref().is_some_and(|c| !c.is_empty()) {
            "list.total_from_here"
        } else {
            "list.total"
        };
        super::super::i18n::t(&self.base.lang, key).replace("{n}", &n)
    }
}

/// The filters inside the "more" panel that are set.
fn more_set(q: &TicketQuery) -> usize {
    [
        &q.caller_phone,
        &q.caller_name,
        &q.district,
        &q.street,
        &q.address,
        &q.appeal_type,
        &q.channel,
        &q.category,
        &q.unit_id,
        &q.supervision,
        &q.callback,
        &q.urgency,
    ]
    .iter()
    .filter(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()))
    .count()
}

fn query_string(q: &TicketQuery, cursor: &str) -> String {
    query_path("/tickets", q, cursor)
}

fn query_path(path: &str, q: &TicketQuery, cursor: &str) -> String {
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
    format!("{path}?{}", pairs.join("&"))
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
    let more = more_set(&q);
    let mut eq = q.clone();
    eq.cursor = None;
    let export_url = format!("{}&format=xlsx", query_path("/tickets/export", &eq, ""));
    Ok(render(&Page {
        base: Base::new(&l, "list.title", Some(&auth.0), &app),
        can_dispatch: auth
            .0
            .actor
            .can(crate::domain::permissions::Permission::Dispatch),
        export_url,
        more_set: more,
        more_open: more > 0,
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

#[derive(serde::Deserialize)]
pub struct ExportFormat {
    format: Option<String>,
}

/// `GET /tickets/export?…&format=xlsx|csv`: the list's result (every page,
/// up to `service::bulk::EXPORT_MAX` rows) as a spreadsheet.
pub async fn export(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(q): Query<TicketQuery>,
    Query(f): Query<ExportFormat>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let l = lang(&headers);
    let format =
        match crate::http::export::format_of(f.format.as_deref().or(Some("xlsx")), &headers) {
            Ok(f) => f,
            Err(e) => return super::error_page(e, Some(&l)),
        };
    let actor = auth.0.actor.clone();
    match app.run(move |s| s.ticket_table(&actor, &q)).await {
        Ok(t) => {
            let stem = format!(
                "工单查询-{}",
                app.svc.now().to_zoned(app.svc.dir().settings.tz()).date()
            );
            crate::http::export::download(&[t], format, &stem).into_response()
        }
        Err(e) => super::error_page(e, Some(&l)),
    }
}

#[derive(Template)]
#[template(path = "bulk_result.html")]
struct BulkPage {
    base: Base,
    unit: String,
    /// (number, refusal in words; empty when dispatched)
    rows: Vec<(String, String)>,
    ok: usize,
}

impl BulkPage {
    fn summary(&self) -> String {
        super::super::i18n::t(&self.base.lang, "list.bulk_summary")
            .replace("{ok}", &self.ok.to_string())
            .replace("{unit}", &self.unit)
            .replace("{refused}", &(self.rows.len() - self.ok).to_string())
    }
}

/// `POST /tickets/bulk-dispatch`: the ticked tickets dispatched to one
/// unit, each through the ordinary dispatch; the outcome per ticket.
pub async fn bulk_dispatch(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: axum::body::Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = super::admin::parse_form(&body);
    let get = |k: &str| {
        f.iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    auth.check_csrf(&get("csrf")).page(&l)?;
    let numbers: Vec<String> = f
        .iter()
        .filter(|(k, _)| k == "numbers")
        .map(|(_, v)| v.clone())
        .collect();
    let unit: Option<u32> = get("unit_id").parse().ok();
    let actor = auth.0.actor.clone();
    let (unit, out) = app
        .run(move |s| s.bulk_dispatch(&actor, &numbers, unit, vec![]))
        .await
        .page(&l)?;
    let rows: Vec<(String, String)> = out
        .into_iter()
        .map(|(n, r)| {
            (
                n,
                r.err()
                    .map(|e| super::error_text::detail(&e, &l))
                    .unwrap_or_default(),
            )
        })
        .collect();
    Ok(render(&BulkPage {
        base: Base::new(&l, "list.bulk_title", Some(&auth.0), &app),
        unit: app.svc.dir().unit_name(unit),
        ok: rows.iter().filter(|r| r.1.is_empty()).count(),
        rows,
    }))
}
