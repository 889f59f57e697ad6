//! `/kb/unread`, `/kb/acks` (who has not acknowledged), `/kb/expired`,
//! `/kb/missing` (missing knowledge), `/kb/summary` (monthly added and
//! changed), `/kb/synonyms`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;

use super::{Form, short};
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::http::pages::{Base, OrPage, PageResult, lang, render, see_other};
use crate::service::kb::{
    AckStatus, ArticleSummary, MissingReport, MonthSummary, NoticeView, SummaryRow,
    parse_synonym_lines,
};

#[derive(Template)]
#[template(path = "kb_unread.html")]
struct UnreadPage {
    base: Base,
    notices: Vec<NoticeView>,
}

impl UnreadPage {
    fn short(&self, s: &str) -> String {
        short(s)
    }
}

pub async fn unread(State(app): State<AppState>, headers: HeaderMap, auth: PageAuth) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let notices = app.run(move |s| s.kb_unread(&actor)).await.page(&l)?;
    Ok(render(&UnreadPage {
        base: Base::new(&l, "kb.unread", Some(&auth.0), &app),
        notices,
    }))
}

pub async fn read_all(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = Form::parse(&body);
    auth.check_csrf(&f.get("csrf")).page(&l)?;
    let actor = auth.0.actor.clone();
    app.run(move |s| s.kb_mark_all_read(&actor))
        .await
        .page(&l)?;
    Ok(see_other("/kb/unread"))
}

#[derive(Template)]
#[template(path = "kb_acks.html")]
struct AcksPage {
    base: Base,
    list: Vec<AckStatus>,
}

pub async fn acks(State(app): State<AppState>, headers: HeaderMap, auth: PageAuth) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let list = app.run(move |s| s.kb_ack_overview(&actor)).await.page(&l)?;
    Ok(render(&AcksPage {
        base: Base::new(&l, "kb.acks", Some(&auth.0), &app),
        list,
    }))
}

#[derive(Template)]
#[template(path = "kb_expired.html")]
struct ExpiredPage {
    base: Base,
    groups: Vec<(&'static str, Vec<ArticleSummary>)>,
}

pub async fn expired(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let e = app.run(move |s| s.kb_expired(&actor)).await.page(&l)?;
    Ok(render(&ExpiredPage {
        base: Base::new(&l, "kb.expired", Some(&auth.0), &app),
        groups: vec![
            ("kb.v_expired", e.expired),
            ("kb.v_future", e.future),
            ("kb.archived", e.archived),
        ],
    }))
}

#[derive(Template)]
#[template(path = "kb_missing.html")]
struct MissingPage {
    base: Base,
    r: MissingReport,
}

impl MissingPage {
    fn short(&self, s: &str) -> String {
        short(s)
    }
}

#[derive(Deserialize)]
pub struct RangeParams {
    from: Option<String>,
    to: Option<String>,
}

pub async fn missing(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(p): Query<RangeParams>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let r = app
        .run(move |s| s.kb_missing_report(&actor, p.from.as_deref(), p.to.as_deref()))
        .await
        .page(&l)?;
    Ok(render(&MissingPage {
        base: Base::new(&l, "kb.missing", Some(&auth.0), &app),
        r,
    }))
}

#[derive(Template)]
#[template(path = "kb_summary.html")]
struct SummaryPage {
    base: Base,
    s: MonthSummary,
    groups: Vec<(&'static str, Vec<SummaryRow>)>,
}

impl SummaryPage {
    fn short(&self, s: &str) -> String {
        short(s)
    }
    fn versions(&self, v: &[u32]) -> String {
        v.iter()
            .map(|n| format!("v{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Deserialize)]
pub struct MonthParams {
    month: Option<String>,
}

pub async fn summary(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(p): Query<MonthParams>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let s = app
        .run(move |s| s.kb_month_summary(&actor, p.month.as_deref()))
        .await
        .page(&l)?;
    let groups = vec![
        ("kb.added", s.added.clone()),
        ("kb.changed", s.changed.clone()),
    ];
    Ok(render(&SummaryPage {
        base: Base::new(&l, "kb.summary", Some(&auth.0), &app),
        s,
        groups,
    }))
}

#[derive(Template)]
#[template(path = "kb_synonyms.html")]
struct SynonymsPage {
    base: Base,
    text: String,
    count: usize,
}

pub async fn synonyms(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let s = app.run(move |s| s.kb_synonyms(&actor)).await.page(&l)?;
    Ok(render(&SynonymsPage {
        base: Base::new(&l, "kb.synonyms", Some(&auth.0), &app),
        count: s.groups.len(),
        text: s
            .groups
            .iter()
            .map(|g| g.join(","))
            .collect::<Vec<_>>()
            .join("\n"),
    }))
}

pub async fn save_synonyms(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = Form::parse(&body);
    auth.check_csrf(&f.get("csrf")).page(&l)?;
    let groups = parse_synonym_lines(&f.get("groups"));
    let actor = auth.0.actor.clone();
    app.run(move |s| s.kb_set_synonyms(&actor, groups))
        .await
        .page(&l)?;
    Ok(see_other("/kb/synonyms"))
}
