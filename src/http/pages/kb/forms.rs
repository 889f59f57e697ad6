//! Proposing and reviewing: `/kb/new`, `/kb/{id}/edit` (propose a
//! correction, also from the intake page with `?ticket=`), `/kb/review`
//! (editors' queue, or one's own proposals), `/kb/proposals/{pid}` with
//! edit, publish, reject and withdraw.

use std::collections::BTreeMap;

use crate::http::extract::PagePath;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::Deserialize;

use super::browse::parse_id;
use super::{Form, field_key, short};
use crate::domain::org::Unit;
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::http::pages::{Base, OrPage, PageResult, lang, render, see_other, urlencode};
use crate::service::kb::{
    ArticleInput, AttachTarget, AttachmentRef, AttachmentView, ContentView, ProposalList,
    ProposalView,
};

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
    publish: bool,
    /// The attachments the saved content will have (less those ticked in
    /// `removed`).
    attachments: Vec<AttachmentView>,
    /// Hashes of the attachments ticked "remove".
    removed: Vec<String>,
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
            attachments: c.attachments.clone(),
            ..Default::default()
        }
    }

    /// What a posted form said (to show it again after an error).
    fn posted(app: &AppState, f: &Form, kept: &[AttachmentRef]) -> Values {
        Values {
            kind: f.get("kind"),
            title: f.get("title"),
            question: f.get("question"),
            body: f.get("body"),
            category: f.get("category"),
            department_id: f.get("department_id").parse().unwrap_or(0),
            department_name: f.get("department_name"),
            keywords: f.get("keywords"),
            valid_from: f.get("valid_from"),
            valid_to: f.get("valid_to"),
            must_read: f.has("must_read"),
            note: f.get("note"),
            ticket: f.get("ticket"),
            publish: f.get("publish") == "true",
            attachments: kept
                .iter()
                .map(|a| match app.svc.attachment_meta(&a.sha256, &a.name) {
                    Ok(m) => AttachmentView {
                        sha256: m.sha256,
                        name: m.name,
                        content_type: m.content_type,
                        size: m.size,
                        url: String::new(),
                    },
                    Err(_) => AttachmentView {
                        sha256: a.sha256.clone(),
                        name: a.name.clone(),
                        content_type: String::new(),
                        size: 0,
                        url: String::new(),
                    },
                })
                .collect(),
            removed: f.all("remove"),
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
    /// What was wrong with the last submission (empty on a fresh form).
    error: String,
    /// Field → message.
    errors: BTreeMap<String, String>,
    /// File types the file input offers.
    accept: String,
    max_mb: u64,
}

impl FormPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }
    fn removed(&self, sha: &str) -> bool {
        self.v.removed.iter().any(|r| r == sha)
    }
    fn size(&self, bytes: &u64) -> String {
        human_size(*bytes)
    }
}

/// `1536` → `1.5 KB`.
pub(crate) fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / 1024.0 / 1024.0),
    }
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
    Ok(render(&form_template(
        app, auth, l, heading, intro, action, v,
    )))
}

fn form_template(
    app: &AppState,
    auth: &PageAuth,
    l: &str,
    heading: &'static str,
    intro: &'static str,
    action: String,
    v: Values,
) -> FormPage {
    FormPage {
        base: Base::new(l, heading, Some(&auth.0), app),
        heading,
        intro,
        action,
        v,
        units: units_for(app, auth),
        categories: category_paths(app),
        error: String::new(),
        errors: BTreeMap::new(),
        accept: crate::service::attachments::ALLOWED
            .iter()
            .map(|(e, _)| format!(".{e}"))
            .collect::<Vec<_>>()
            .join(","),
        max_mb: app.svc.limits.max_attachment_bytes / 1024 / 1024,
    }
}

/// The typed fields as service input: every field is sent by the form.
/// Attachments stay as they are unless the form lists them (`att_form`).
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
    req: Request,
) -> PageResult {
    save(app, headers, auth, Saving::New, req).await
}

/// Which form is being saved.
#[derive(Clone, Copy, Debug)]
enum Saving {
    New,
    /// A correction to an article.
    Article(u64),
    /// An edit of a pending proposal.
    Proposal(u64),
}

impl Saving {
    fn heading(self) -> (&'static str, &'static str) {
        match self {
            Saving::New => ("kb.new", "kb.new_hint"),
            Saving::Article(_) => ("kb.propose_correction", "kb.correction_hint"),
            Saving::Proposal(_) => ("kb.edit_proposal", ""),
        }
    }
    fn action(self) -> String {
        match self {
            Saving::New => "/kb/new".into(),
            Saving::Article(id) => format!("/kb/{id}/edit"),
            Saving::Proposal(pid) => format!("/kb/proposals/{pid}/edit"),
        }
    }
    fn target(self, department: Option<u32>) -> AttachTarget {
        match self {
            Saving::New => AttachTarget::New { department },
            Saving::Article(id) => AttachTarget::Article { id, department },
            Saving::Proposal(id) => AttachTarget::Proposal { id, department },
        }
    }
}

/// A posted article form: text fields and the files chosen.
struct Posted {
    form: Form,
    files: Vec<(String, Vec<u8>)>,
    /// Reading the upload failed part way (too large, malformed); the
    /// fields read until then are kept to show the form again.
    failure: Option<Error>,
}

/// Most file parts read from one form (more is refused as too many).
const MAX_FILE_PARTS: usize = 100;

/// Reads the form: `multipart/form-data` (what the page sends, with
/// files in `files`) or urlencoded (older pages, scripts).
async fn read_posted(app: &AppState, req: Request) -> Posted {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let mut p = Posted {
        form: Form(vec![]),
        files: vec![],
        failure: None,
    };
    if !multipart {
        match axum::body::to_bytes(req.into_body(), crate::http::routes::JSON_LIMIT).await {
            Ok(b) => p.form = Form::parse(&b),
            Err(_) => {
                p.failure = Some(Error::PayloadTooLarge(
                    "表单内容过大 (the form is too large)".into(),
                ))
            }
        }
        return p;
    }
    let mut mp = match Multipart::from_request(req, app).await {
        Ok(m) => m,
        Err(e) => {
            p.failure = Some(Error::BadRequest(format!(
                "上传格式有误 (bad upload): {}",
                e.body_text()
            )));
            return p;
        }
    };
    let bad = crate::http::api::tickets::multipart_error;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                if name == "files" {
                    let fname = field.file_name().unwrap_or("").to_string();
                    match field.bytes().await {
                        // A file input left empty.
                        Ok(b) if b.is_empty() && fname.is_empty() => {}
                        Ok(_) if p.files.len() >= MAX_FILE_PARTS => {
                            p.failure = Some(Error::field(
                                "files",
                                format!(
                                    "一次选择的文件太多：每条知识最多{}个附件 (too many files)",
                                    crate::domain::kb::limits::ATTACHMENTS
                                ),
                            ));
                            break;
                        }
                        Ok(b) => p.files.push((fname, b.to_vec())),
                        Err(e) => {
                            p.failure = Some(bad(e));
                            break;
                        }
                    }
                } else {
                    match field.text().await {
                        Ok(t) if p.form.0.len() < 500 => p.form.0.push((name, t)),
                        Ok(_) => {}
                        Err(e) => {
                            p.failure = Some(bad(e));
                            break;
                        }
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                p.failure = Some(bad(e));
                break;
            }
        }
    }
    p
}

/// The attachments a posted form lists (`att` = `sha256:name`), in order,
/// without duplicates.
fn listed(f: &Form) -> Vec<AttachmentRef> {
    let mut out: Vec<AttachmentRef> = vec![];
    for v in f.all("att") {
        if let Some((sha, name)) = v.split_once(':')
            && !out.iter().any(|a| a.sha256 == sha)
        {
            out.push(AttachmentRef {
                sha256: sha.to_string(),
                name: name.to_string(),
            });
        }
    }
    out
}

/// Errors a person fixes in the form: shown in the form again.
fn fixable(e: &Error) -> bool {
    matches!(
        e,
        Error::Validation(_) | Error::PayloadTooLarge(_) | Error::BadRequest(_)
    )
}

/// The form again with what was typed, the attachments listed (and those
/// uploaded with this submission) and what is wrong.
fn show_again(
    app: &AppState,
    auth: &PageAuth,
    l: &str,
    what: Saving,
    f: &Form,
    attachments: &[AttachmentRef],
    e: Error,
) -> Response {
    let (heading, intro) = what.heading();
    let v = Values::posted(app, f, attachments);
    let mut page = form_template(app, auth, l, heading, intro, what.action(), v);
    match &e {
        Error::Validation(errs) => {
            page.error =
                "输入有误，请修改后重新提交 (please correct the form and submit again)".into();
            for fe in errs {
                let key = match fe.field.as_str() {
                    "file" | "attachments" => "files",
                    "kind" | "department" => "department_id",
                    other => other,
                };
                page.errors
                    .entry(key.to_string())
                    .and_modify(|m| {
                        m.push('；');
                        m.push_str(&fe.message)
                    })
                    .or_insert_with(|| fe.message.clone());
            }
        }
        other => {
            page.error = crate::http::pages::error_text::detail(other, l);
            if matches!(other, Error::PayloadTooLarge(_)) {
                page.errors.insert(
                    "files".into(),
                    format!(
                        "{}；所选文件未保存，请重新选择 (the files were not saved: choose them again)",
                        crate::http::pages::error_text::detail(other, l)
                    ),
                );
            }
        }
    }
    let mut r = render(&page);
    *r.status_mut() = crate::http::problem::status_of(&e);
    r
}

/// Saves a posted article form: stores the files chosen (after the same
/// permission check as the save), then proposes or updates. Fixable errors
/// show the form again with everything typed and every file already
/// stored; refusals show the error page.
async fn save(
    app: AppState,
    headers: HeaderMap,
    auth: PageAuth,
    what: Saving,
    req: Request,
) -> PageResult {
    let l = lang(&headers);
    let Posted {
        form,
        files,
        failure,
    } = read_posted(&app, req).await;
    let all = listed(&form);
    if let Some(e) = failure {
        return Ok(show_again(&app, &auth, &l, what, &form, &all, e));
    }
    auth.check_csrf(&form.get("csrf")).page(&l)?;
    let removed = form.all("remove");
    let kept: Vec<AttachmentRef> = all
        .iter()
        .filter(|a| !removed.contains(&a.sha256))
        .cloned()
        .collect();
    let mut input = input_of(&form);
    if form.has("att_form") {
        input.attachments = Some(kept.clone());
    } else if !files.is_empty() {
        let e = Error::field(
            "files",
            "表单缺少附件清单，请刷新页面后重新提交 (the form lacks its attachment list: reload the page)",
        );
        return Ok(show_again(&app, &auth, &l, what, &form, &all, e));
    }
    let department = form
        .get("department_id")
        .parse::<u32>()
        .ok()
        .filter(|d| *d != 0);
    let actor = auth.0.actor.clone();
    let keeping = kept.len();
    let (outcome, added) = app
        .run(move |s| {
            let mut input = input;
            let mut added = vec![];
            if !files.is_empty() {
                match s.kb_store_files(&actor, what.target(department), &files, keeping) {
                    Ok(refs) => added = refs,
                    Err(e) => return Ok((Err(e), added)),
                }
                input
                    .attachments
                    .get_or_insert_with(Vec::new)
                    .extend(added.iter().cloned());
            }
            let r = match what {
                Saving::New => s.kb_propose_new(&actor, input),
                Saving::Article(id) => s.kb_propose_change(&actor, id, input),
                Saving::Proposal(pid) => s.kb_update_proposal(&actor, pid, input),
            };
            Ok((r, added))
        })
        .await
        .page(&l)?;
    match outcome {
        Ok(p) => Ok(see_other(&after(&p))),
        Err(e) if fixable(&e) => {
            let mut shown = all;
            for a in added {
                if !shown.iter().any(|x| x.sha256 == a.sha256) {
                    shown.push(a);
                }
            }
            Ok(show_again(&app, &auth, &l, what, &form, &shown, e))
        }
        Err(e) => Err(crate::http::pages::PageError(e, l)),
    }
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
    PagePath(id): PagePath<String>,
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
    PagePath(id): PagePath<String>,
    req: Request,
) -> PageResult {
    let l = lang(&headers);
    let id = parse_id(&id).page(&l)?;
    save(app, headers, auth, Saving::Article(id), req).await
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
    fn size(&self, bytes: &u64) -> String {
        human_size(*bytes)
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
    PagePath(pid): PagePath<String>,
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
    PagePath(pid): PagePath<String>,
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
    PagePath(pid): PagePath<String>,
    req: Request,
) -> PageResult {
    let l = lang(&headers);
    let pid = parse_pid(&pid).page(&l)?;
    save(app, headers, auth, Saving::Proposal(pid), req).await
}

pub async fn proposal_action(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath((pid, action)): PagePath<(String, String)>,
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
