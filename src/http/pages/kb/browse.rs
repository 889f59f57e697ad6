//! `/kb` (category tree, filters, list), `/kb/{id}` (read, acknowledge,
//! history), `/kb/{id}/diff`, attachments, archive/restore.

use crate::http::extract::PagePath;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;

use super::{Form, field_key, short};
use crate::domain::kb::{self, ArticleState};
use crate::domain::org::Unit;
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::http::pages::{Base, OrPage, PageResult, lang, render, see_other, urlencode};
use crate::service::kb::{
    ArticlePage, ArticleQuery, ArticleView, CategoryNode, DiffView, KbSearchQuery, KbSearchResults,
    VersionView,
};

#[derive(Template)]
#[template(path = "kb.html")]
struct ListPage {
    base: Base,
    q: ArticleQuery,
    tree: Vec<CategoryNode>,
    page: ArticlePage,
    /// The words typed in the search box (`?q=`), trimmed.
    text: String,
    /// Full-text results for `text` (the intake page's engine), when given.
    found: Option<KbSearchResults>,
    next_url: String,
    units: Vec<Unit>,
    validities: &'static [(&'static str, &'static str)],
    states: &'static [(&'static str, &'static str)],
}

impl ListPage {
    fn sel(&self, v: &Option<String>, x: &str) -> bool {
        v.as_deref().unwrap_or("") == x || (v.is_none() && (x == "current" || x == "published"))
    }
    fn cat_is(&self, p: &str) -> bool {
        self.q.category.as_deref() == Some(p)
    }
    fn enc(&self, s: &str) -> String {
        urlencode(s)
    }
    fn short(&self, s: &str) -> String {
        short(s)
    }
    /// This page's filters without the search words.
    fn clear_url(&self) -> String {
        match &self.q.category {
            Some(c) => format!("/kb?category={}", urlencode(c)),
            None => "/kb".into(),
        }
    }
}

const VALIDITIES: &[(&str, &str)] = &[
    ("current", "kb.v_current"),
    ("expired", "kb.v_expired"),
    ("future", "kb.v_future"),
    ("all", "kb.v_all"),
];
const STATES: &[(&str, &str)] = &[
    ("published", "kb.published"),
    ("archived", "kb.archived"),
    ("all", "kb.v_all"),
];

fn next_url(q: &ArticleQuery, cursor: &str) -> String {
    let mut parts = vec![];
    let mut push = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", urlencode(&v)));
        }
    };
    push("category", q.category.clone());
    push("department_id", q.department_id.map(|d| d.to_string()));
    push("validity", q.validity.clone());
    push("state", q.state.clone());
    push("must_read", q.must_read.map(|m| m.to_string()));
    push("cursor", Some(cursor.to_string()));
    format!("/kb?{}", parts.join("&"))
}

#[derive(Deserialize)]
pub struct ListParams {
    /// Full-text search words.
    q: Option<String>,
    category: Option<String>,
    department_id: Option<String>,
    validity: Option<String>,
    state: Option<String>,
    must_read: Option<String>,
    cursor: Option<String>,
}

pub async fn list(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(p): Query<ListParams>,
) -> PageResult {
    let l = lang(&headers);
    let q = ArticleQuery {
        category: p.category.filter(|c| !c.trim().is_empty()),
        department_id: p.department_id.and_then(|d| d.parse().ok()),
        validity: p.validity.filter(|v| !v.is_empty()),
        state: p.state.filter(|v| !v.is_empty()),
        must_read: p.must_read.map(|m| m == "true"),
        cursor: p.cursor,
        limit: Some(50),
    };
    let actor = auth.0.actor.clone();
    let q2 = q.clone();
    let text = p.q.unwrap_or_default().trim().to_string();
    // The search box: the same engine, filters and log as the intake page.
    let sq = (!text.is_empty()).then(|| KbSearchQuery {
        q: text.clone(),
        category: q.category.clone(),
        department_id: q.department_id,
        valid_now: Some(!matches!(
            q.validity.as_deref(),
            Some("all" | "expired" | "future")
        )),
        limit: Some(30),
    });
    let (tree, page, found) = app
        .run(move |s| {
            let found = sq.map(|sq| s.search_articles(&actor, &sq)).transpose()?;
            Ok((s.kb_tree(&actor)?, s.kb_list(&actor, &q2)?, found))
        })
        .await
        .page(&l)?;
    let next = page
        .next_cursor
        .as_deref()
        .map(|c| next_url(&q, c))
        .unwrap_or_default();
    Ok(render(&ListPage {
        base: Base::new(&l, "kb.title", Some(&auth.0), &app),
        q,
        tree,
        page,
        text,
        found,
        next_url: next,
        units: app.svc.dir().units.clone(),
        validities: VALIDITIES,
        states: STATES,
    }))
}

#[derive(Template)]
#[template(path = "kb_article.html")]
struct ArticlePageT {
    base: Base,
    a: ArticleView,
    versions: Vec<VersionView>,
    can_propose: bool,
}

impl ArticlePageT {
    fn short(&self, s: &str) -> String {
        short(s)
    }
    fn size(&self, bytes: &u64) -> String {
        super::forms::human_size(*bytes)
    }
    fn validity_key(&self) -> &'static str {
        match self.a.validity.as_str() {
            "expired" => "kb.v_expired",
            "future" => "kb.v_future",
            _ => "kb.v_current",
        }
    }
}

#[derive(Deserialize)]
pub struct ReadParams {
    search_id: Option<u64>,
}

pub async fn article(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(id): PagePath<String>,
    Query(p): Query<ReadParams>,
) -> PageResult {
    let l = lang(&headers);
    let id = parse_id(&id).page(&l)?;
    let actor = auth.0.actor.clone();
    let (a, versions) = app
        .run(move |s| {
            Ok((
                s.kb_read(&actor, id, p.search_id)?,
                s.kb_versions(&actor, id)?,
            ))
        })
        .await
        .page(&l)?;
    // The header's badge counts after this read.
    Ok(render(&ArticlePageT {
        base: Base::new(&l, "kb.title", Some(&auth.0), &app),
        can_propose: kb::can_propose(&auth.0.actor.user.roles),
        a,
        versions,
    }))
}

/// Article ids in paths: a number, else 404 (never a 400 page for a typo).
pub(crate) fn parse_id(s: &str) -> crate::error::Result<u64> {
    s.parse::<u64>().map_err(|_| {
        crate::error::Error::NotFound(format!("知识 {s} 不存在 (article {s} not found)"))
    })
}

#[derive(Template)]
#[template(path = "kb_diff.html")]
struct DiffPage {
    base: Base,
    title: String,
    diff: DiffView,
}

impl DiffPage {
    fn field_key(&self, f: &str) -> &'static str {
        field_key(f)
    }
}

#[derive(Deserialize)]
pub struct DiffParams {
    from: Option<String>,
    to: Option<String>,
}

pub async fn diff(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(id): PagePath<String>,
    Query(p): Query<DiffParams>,
) -> PageResult {
    let l = lang(&headers);
    let id = parse_id(&id).page(&l)?;
    let num = |v: Option<String>| -> crate::error::Result<Option<u32>> {
        match v.filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                crate::error::Error::field(
                    "version",
                    format!("版本号应为数字 (a version is a number): {v}"),
                )
            }),
        }
    };
    let (from, to) = (num(p.from).page(&l)?, num(p.to).page(&l)?);
    let actor = auth.0.actor.clone();
    let (title, diff) = app
        .run(move |s| {
            let a = s.kb_article(&actor, id)?;
            Ok((a.content.title, s.kb_diff(&actor, id, from, to)?))
        })
        .await
        .page(&l)?;
    Ok(render(&DiffPage {
        base: Base::new(&l, "kb.diff", Some(&auth.0), &app),
        title,
        diff,
    }))
}

pub async fn acknowledge(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(id): PagePath<String>,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let id = parse_id(&id).page(&l)?;
    let f = Form::parse(&body);
    auth.check_csrf(&f.get("csrf")).page(&l)?;
    let version = f.get("version").parse().ok();
    let actor = auth.0.actor.clone();
    app.run(move |s| s.kb_acknowledge(&actor, id, version))
        .await
        .page(&l)?;
    Ok(see_other(&format!("/kb/{id}")))
}

pub async fn set_state(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(id): PagePath<String>,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let id = parse_id(&id).page(&l)?;
    let f = Form::parse(&body);
    auth.check_csrf(&f.get("csrf")).page(&l)?;
    let state = ArticleState::parse(&f.get("state"))
        .ok_or_else(|| crate::error::Error::field("state", "应为 published 或 archived"))
        .page(&l)?;
    let actor = auth.0.actor.clone();
    app.run(move |s| s.kb_set_state(&actor, id, state))
        .await
        .page(&l)?;
    Ok(see_other(&format!("/kb/{id}")))
}

pub async fn attachment(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath((id, sha)): PagePath<(String, String)>,
) -> PageResult {
    let l = lang(&headers);
    let id = parse_id(&id).page(&l)?;
    let actor = auth.0.actor.clone();
    let (path, meta) = app
        .run(move |s| s.kb_attachment(&actor, id, &sha))
        .await
        .page(&l)?;
    crate::http::api::tickets::file_response(&path, &meta.name, &meta.content_type)
        .await
        .page(&l)
}

/// A file of a proposal (reviewers open it before publishing).
pub async fn proposal_attachment(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath((pid, sha)): PagePath<(String, String)>,
) -> PageResult {
    let l = lang(&headers);
    let pid = pid.parse::<u64>().map_err(|_| {
        crate::error::Error::NotFound(format!("提议 {pid} 不存在 (proposal {pid} not found)"))
    });
    let pid = pid.page(&l)?;
    let actor = auth.0.actor.clone();
    let (path, meta) = app
        .run(move |s| s.kb_proposal_attachment(&actor, pid, &sha))
        .await
        .page(&l)?;
    crate::http::api::tickets::file_response(&path, &meta.name, &meta.content_type)
        .await
        .page(&l)
}
