//! Proposing and reviewing: `/kb/new`, `/kb/{id}/edit` (propose a
//! correction, also from the intake page with `?ticket=`), `/kb/review`
//! (editors' queue, or one's own proposals), `/kb/proposals/{pid}` with
//! edit, publish, reject and withdraw.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;

use super::browse::parse_id;
use super::{Form, field_key, short};
use crate::domain::org::Unit;
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::http::pages::{Base, OrPage, PageResult, lang, render, see_other, urlencode};
use crate::service::kb::{ArticleInput, ContentView, ProposalList, ProposalView};

/// The form's values as shown.
#[derive(Default)]
struct Values {
    kind: String,
    title: String,
    question: String,
    body: String,
    category: String,
    department_id: u32,
    department_name: String,
    keywords: String,
    valid_from: String,
    valid_to: String,
    must_read: bool,
    note: String,
    ticket: String,
}

impl Values {
    fn of(c: &ContentView) -> Values {
        Values {
            kind: c.kind.as_str().into(),
            title: c.title.clone(),
            question: c.question.clone(),
            body: c.body.clone(),
            category: c.category.clone(),
            department_id: c.department_id.unwrap_or(0),
            department_name: if c.department_id.is_some() {
                String::new()
            } else {
                c.department.clone()
            },
            keywords: c.keywords.join("，"),
            valid_from: c.valid_from.clone().unwrap_or_default(),
            valid_to: c.valid_to.clone().unwrap_or_default(),
            must_read: c.must_read,
            ..Default::default()
        }
    }
}

#[derive(Template)]
#[template(path = "kb_form.html")]
struct FormPage {
    base: Base,
    heading: &'static str,
    intro: &'static str,
    action: String,
    v: Values,
    units: Vec<Unit>,
    categories: Vec<String>,
}

/// Units offered: department users only their own subtree.
fn units_for(app: &AppState, auth: &PageAuth) -> Vec<Unit> {
    let dir = app.svc.dir();
    match &auth.0.actor.scope {
        crate::domain::permissions::Scope::All => dir.units.clone(),
        crate::domain::permissions::Scope::Units(set) => dir
            .units
            .iter()
            .filter(|u| set.contains(&u.id))
            .cloned()
            .collect(),
    }
}

fn category_paths(app: &AppState) -> Vec<String> {
    app.svc
        .store
        .kb_category_counts()
        .map(|v| v.into_iter().map(|(c, _)| c).collect())
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    app: &AppState,
    auth: &PageAuth,
    l: &str,
    heading: &'static str,
    intro: &'static str,
    action: String,
    v: Values,
) -> PageResult {
    Ok(render(&FormPage {
        base: Base::new(l, heading, Some(&auth.0), app),
        heading,
        intro,
        action,
        v,
        units: units_for(app, auth),
        categories: category_paths(app),
    }))
}

/// The typed fields as service input: every field is sent by the form.
fn input_of(f: &Form) -> ArticleInput {
    ArticleInput {
        kind: Some(f.get("kind")),
        title: Some(f.get("title")),
        question: Some(f.get("question")),
        body: Some(f.get("body")),
        category: Some(f.get("category")),
        department_id: Some(f.get("department_id").parse().unwrap_or(0)),
        department_name: Some(f.get("department_name")),
        keywords: Some(vec![f.get("keywords")]),
        valid_from: Some(f.get("valid_from")),
        valid_to: Some(f.get("valid_to")),
        must_read: Some(f.has("must_read")),
        attachments: None,
        note: Some(f.get("note")),
        ticket: Some(f.get("ticket")),
        publish: f.get("publish") == "true",
    }
}

#[derive(Deserialize)]
pub struct NewParams {
    ticket: Option<String>,
    category: Option<String>,
}

pub async fn new_form(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(p): Query<NewParams>,
) -> PageResult {
    let l = lang(&headers);
    let v = Values {
        ticket: p.ticket.unwrap_or_default(),
        category: p.category.unwrap_or_default(),
        ..Default::default()
    };
    form_page(
        &app,
        &auth,
        &l,
        "kb.new",
        "kb.new_hint",
        "/kb/new".into(),
        v,
    )
}

/// Where to go after a proposal: the article once published, else the
/// proposal.
fn after(p: &ProposalView) -> String {
    match (p.state.as_str(), p.article_id) {
        ("published", Some(id)) => format!("/kb/{id}"),
        _ => format!("/kb/proposals/{}", p.id),
    }
}

pub async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = Form::parse(&body);
    auth.check_csrf(&f.get("csrf")).page(&l)?;
    let input = input_of(&f);
    let actor = auth.0.actor.clone();
    let p = app
        .run(move |s| s.kb_propose_new(&actor, input))
        .await
        .page(&l)?;
    Ok(see_other(&after(&p)))
}

#[derive(Deserialize)]
pub struct EditParams {
    ticket: Option<String>,
    note: Option<String>,
}

pub async fn edit_form(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path(id): Path<String>,
    Query(p): Query<EditParams>,
) -> PageResult {
    let l = lang(&headers);
    let id = parse_id(&id).page(&l)?;
    let actor = auth.0.actor.clone();
    let a = app.run(move |s| s.kb_article(&actor, id)).await.page(&l)?;
    let mut v = Values::of(&a.content);
    v.ticket = p.ticket.unwrap_or_default();
    v.note = p.note.unwrap_or_default();
    form_page(
        &app,
        &auth,
        &l,
        "kb.propose_correction",
        "kb.correction_hint",
        format!("/kb/{id}/edit"),
        v,
    )
}

pub async fn propose(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let id = parse_id(&id).page(&l)?;
    let f = Form::parse(&body);
    auth.check_csrf(&f.get("csrf")).page(&l)?;
    let input = input_of(&f);
    let actor = auth.0.actor.clone();
    let p = app
        .run(move |s| s.kb_propose_change(&actor, id, input))
        .await
        .page(&l)?;
    Ok(see_other(&after(&p)))
}

#[derive(Template)]
#[template(path = "kb_review.html")]
struct ReviewPage {
    base: Base,
    state: String,
    states: &'static [(&'static str, &'static str)],
    list: ProposalList,
    next_url: String,
}

impl ReviewPage {
    fn short(&self, s: &str) -> String {
        short(s)
    }
}

const PROPOSAL_STATES: &[(&str, &str)] = &[
    ("pending", "kb.p_pending"),
    ("published", "kb.p_published"),
    ("rejected", "kb.p_rejected"),
    ("withdrawn", "kb.p_withdrawn"),
    ("all", "kb.v_all"),
];

#[derive(Deserialize)]
pub struct ReviewParams {
    state: Option<String>,
    cursor: Option<String>,
}

pub async fn review(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(p): Query<ReviewParams>,
) -> PageResult {
    let l = lang(&headers);
    let editor = crate::domain::kb::is_editor(&auth.0.actor.user.roles);
    let state = p
        .state
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| if editor { "pending" } else { "all" }.into());
    let actor = auth.0.actor.clone();
    let (st, cur) = (state.clone(), p.cursor.clone());
    let list = app
        .run(move |s| s.kb_proposals(&actor, Some(&st), cur.as_deref(), Some(50)))
        .await
        .page(&l)?;
    let next_url = list
        .next_cursor
        .as_deref()
        .map(|c| {
            format!(
                "/kb/review?state={}&cursor={}",
                urlencode(&state),
                urlencode(c)
            )
        })
        .unwrap_or_default();
    Ok(render(&ReviewPage {
        base: Base::new(&l, "kb.review", Some(&auth.0), &app),
        state,
        states: PROPOSAL_STATES,
        list,
        next_url,
    }))
}

#[derive(Template)]
#[template(path = "kb_proposal.html")]
struct ProposalPage {
    base: Base,
    p: ProposalView,
}

impl ProposalPage {
    fn short(&self, s: &str) -> String {
        short(s)
    }
    fn field_key(&self, f: &str) -> &'static str {
        field_key(f)
    }
}

fn parse_pid(s: &str) -> crate::error::Result<u64> {
    s.parse::<u64>()
        .map_err(|_| Error::NotFound(format!("提议 {s} 不存在 (proposal {s} not found)")))
}

pub async fn proposal(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path(pid): Path<String>,
) -> PageResult {
    let l = lang(&headers);
    let pid = parse_pid(&pid).page(&l)?;
    let actor = auth.0.actor.clone();
    let p = app
        .run(move |s| s.kb_proposal(&actor, pid))
        .await
        .page(&l)?;
    Ok(render(&ProposalPage {
        base: Base::new(&l, "kb.proposal", Some(&auth.0), &app),
        p,
    }))
}

pub async fn edit_proposal_form(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path(pid): Path<String>,
) -> PageResult {
    let l = lang(&headers);
    let pid = parse_pid(&pid).page(&l)?;
    let actor = auth.0.actor.clone();
    let p = app
        .run(move |s| s.kb_proposal(&actor, pid))
        .await
        .page(&l)?;
    if !p.can_edit {
        return Err(crate::http::pages::PageError(
            Error::Forbidden(
                "只能修改自己提交且尚未审核的提议 (you can only edit your own proposals that are not yet reviewed)".into(),
            ),
            l,
        ));
    }
    let mut v = Values::of(&p.content);
    v.note = p.note.clone();
    v.ticket = p.ticket.clone().unwrap_or_default();
    form_page(
        &app,
        &auth,
        &l,
        "kb.edit_proposal",
        "",
        format!("/kb/proposals/{pid}/edit"),
        v,
    )
}

pub async fn edit_proposal(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path(pid): Path<String>,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let pid = parse_pid(&pid).page(&l)?;
    let f = Form::parse(&body);
    auth.check_csrf(&f.get("csrf")).page(&l)?;
    let input = input_of(&f);
    let actor = auth.0.actor.clone();
    let p = app
        .run(move |s| s.kb_update_proposal(&actor, pid, input))
        .await
        .page(&l)?;
    Ok(see_other(&after(&p)))
}

pub async fn proposal_action(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path((pid, action)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let pid = parse_pid(&pid).page(&l)?;
    let f = Form::parse(&body);
    auth.check_csrf(&f.get("csrf")).page(&l)?;
    let actor = auth.0.actor.clone();
    let (note, reason) = (f.get("note"), f.get("reason"));
    let to = app
        .run(move |s| match action.as_str() {
            "publish" => {
                let a = s.kb_publish(&actor, pid, Some(note))?;
                Ok(format!("/kb/{}", a.id))
            }
            "reject" => s
                .kb_reject(&actor, pid, &reason)
                .map(|_| format!("/kb/proposals/{pid}")),
            "withdraw" => s
                .kb_withdraw(&actor, pid)
                .map(|_| format!("/kb/proposals/{pid}")),
            other => Err(Error::NotFound(format!(
                "没有这个操作 (no such action): {other}"
            ))),
        })
        .await
        .page(&l)?;
    Ok(see_other(&to))
}
