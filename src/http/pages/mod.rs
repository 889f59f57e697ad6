//! Server-rendered pages (askama templates in web/templates), one file per
//! page or form. Chinese first; `?lang` via `/lang/en` sets a cookie.

pub mod account;
pub mod admin;
pub mod audit_text;
pub mod backup;
pub mod bulletins;
pub mod dashboard;
pub mod error_text;
pub mod inbox;
pub mod intake;
pub mod kb;
pub mod list;
pub mod live;
pub mod login;
pub mod period_text;
pub mod public;
pub mod queue;
pub mod reports;
pub mod settings;
pub mod setup;
pub mod ticket;

use crate::http::extract::PagePath;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::{self, Auth};
use crate::domain::permissions::Permission;
use crate::domain::types::Role;
use crate::error::Error;

/// What every page's layout needs.
pub struct Base {
    pub lang: String,
    pub title: String,
    pub user: Option<String>,
    pub csrf: String,
    pub center: String,
    pub can_register: bool,
    pub can_admin: bool,
    pub is_department: bool,
    pub is_center: bool,
    pub flash: String,
    /// Unread knowledge-base notices (the header's badge).
    pub kb_unread: u64,
    /// Proposals waiting for review (editors only; 0 otherwise).
    pub kb_pending: u64,
    /// Team lead or administrator: reviews and publishes knowledge.
    pub kb_editor: bool,
    /// Reads the knowledge-base reports.
    pub kb_reports: bool,
    /// Reads the statistics reports (all, or a department its own unit).
    pub reports: bool,
    /// Reads reports and the leader dashboard (`Permission::ReadReports`).
    pub can_reports: bool,
}

impl Base {
    pub fn new(lang: &str, title_key: &str, auth: Option<&Auth>, app: &AppState) -> Base {
        let dir = app.svc.dir();
        Base {
            lang: lang.to_string(),
            title: super::i18n::t(lang, title_key).to_string(),
            user: auth.map(|a| a.actor.user.display_name.clone()),
            csrf: auth.and_then(|a| a.csrf.clone()).unwrap_or_default(),
            center: dir.settings.center_name.clone(),
            can_register: auth.is_some_and(|a| a.actor.can(Permission::RegisterTicket)),
            can_admin: auth.is_some_and(|a| a.actor.can(Permission::Administer)),
            is_department: auth.is_some_and(|a| a.actor.scope.is_department()),
            is_center: auth.is_some_and(|a| !a.actor.scope.is_department()),
            flash: String::new(),
            kb_unread: auth
                .map(|a| app.svc.kb_unread_count(a.actor.user.id))
                .unwrap_or(0),
            kb_pending: auth
                .map(|a| app.svc.kb_pending_count(&a.actor))
                .unwrap_or(0),
            kb_editor: auth.is_some_and(|a| crate::domain::kb::is_editor(&a.actor.user.roles)),
            kb_reports: auth
                .is_some_and(|a| crate::domain::kb::can_read_reports(&a.actor.user.roles)),
            reports: auth.is_some_and(|a| {
                a.actor.can(Permission::ReadReports) || a.actor.scope.is_department()
            }),
            can_reports: auth.is_some_and(|a| a.actor.can(Permission::ReadReports)),
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        super::i18n::t(&self.lang, key)
    }

    pub fn asset(&self, name: &str) -> String {
        super::assets::url(name)
    }

    pub fn is_en(&self) -> bool {
        self.lang == "en"
    }
}

/// The UI language from the `lang` cookie (default zh-CN).
pub fn lang(headers: &HeaderMap) -> String {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "lang")
        .map(|(_, v)| if v == "en" { "en" } else { "zh-CN" })
        .unwrap_or("zh-CN")
        .to_string()
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Renders a template, or an error page if rendering fails.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(Error::internal(format!("template: {e}")), None),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    base: Base,
    status: u16,
    detail: String,
    /// `redirect::back_for` the request.
    back: String,
}

/// An error as a page, with the same status the API would give.
pub fn error_page(e: Error, lang: Option<&str>) -> Response {
    super::problem::log_internal(&e);
    let status = super::problem::status_of(&e);
    let lang = lang.unwrap_or("zh-CN");
    // The menu bar of the person and a real "back" link (issue 11): both
    // from the request's context, which the security layer keeps.
    let ctx = super::security::context();
    let back = ctx
        .as_ref()
        .map(|c| c.back.clone())
        .unwrap_or_else(|| "/".into());
    let auth = ctx
        .as_ref()
        .and_then(|c| c.auth.lock().ok().and_then(|a| a.clone()));
    let base = match (&ctx, &auth) {
        (Some(c), Some(a)) => {
            let mut b = Base::new(lang, "common.error", Some(a), &c.app);
            b.title = super::i18n::t(lang, "common.error").into();
            b
        }
        _ => Base {
            lang: lang.into(),
            title: super::i18n::t(lang, "common.error").into(),
            user: None,
            csrf: String::new(),
            center: String::new(),
            can_register: false,
            can_admin: false,
            is_department: false,
            is_center: false,
            flash: String::new(),
            kb_unread: 0,
            kb_pending: 0,
            kb_editor: false,
            kb_reports: false,
            reports: false,
            can_reports: false,
        },
    };
    let page = ErrorPage {
        base,
        status: status.as_u16(),
        detail: error_text::detail(&e, lang),
        back,
    };
    let body = page.render().unwrap_or_else(|_| "error".into());
    (status, Html(body)).into_response()
}

/// A page handler's result: errors render as pages.
pub struct PageError(pub Error, pub String);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(self.0, Some(&self.1))
    }
}

pub type PageResult = Result<Response, PageError>;

pub trait OrPage<T> {
    fn page(self, lang: &str) -> Result<T, PageError>;
}

impl<T> OrPage<T> for Result<T, Error> {
    fn page(self, lang: &str) -> Result<T, PageError> {
        self.map_err(|e| PageError(e, lang.to_string()))
    }
}

/// `/`: setup on first run, else the intake page for those who register
/// tickets and the ticket list for everyone else.
pub async fn home(State(app): State<AppState>, req: axum::extract::Request) -> Response {
    let needs = app.run(|s| s.needs_setup()).await.unwrap_or(false);
    if needs {
        return Redirect::to("/setup").into_response();
    }
    let (mut parts, _) = req.into_parts();
    match <auth::PageAuth as axum::extract::FromRequestParts<AppState>>::from_request_parts(
        &mut parts, &app,
    )
    .await
    {
        Ok(a) if a.0.actor.user.has(Role::Operator) => Redirect::to("/tickets/new").into_response(),
        Ok(a) if a.0.actor.scope.is_department() => Redirect::to("/inbox").into_response(),
        Ok(a)
            if a.0.actor.can(Permission::Dispatch)
                || a.0.actor.can(Permission::Review)
                || a.0.actor.can(Permission::Callback) =>
        {
            Redirect::to("/queues").into_response()
        }
        Ok(_) => Redirect::to("/tickets").into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// Switches the UI language (cookie) and goes back.
pub async fn set_lang(PagePath(code): PagePath<String>, Query(b): Query<Back>) -> Response {
    let code = if code == "en" { "en" } else { "zh-CN" };
    let back = crate::http::redirect::safe_or(b.back.as_deref(), "/");
    let mut r = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "lang={code}; Path=/; Max-Age=31536000; SameSite=Lax"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// A 303 to `to` (after a successful form post).
pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}
