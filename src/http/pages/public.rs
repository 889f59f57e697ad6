//! The citizens' pages (no login, phone-sized): `GET /public` (submission
//! form), `POST /public` (multipart, photos in `files`) → a page with the
//! ticket number, and `GET|POST /public/lookup` (number + last four digits
//! of the phone) → state, dates, the public answer and the public steps.
//! What a citizen may see, and the rate limits, are in `service::public`;
//! the pages share the API's limits.
//!
//! Forgery protection without a session: a signed double-submit token.
//! `GET /public` sets the cookie `hotline_public_form` (HttpOnly,
//! SameSite=Strict, path `/public`, two hours) and puts the same value in a
//! hidden field; `POST /public` accepts only when both are present, equal,
//! and carry a valid signature (a key made at start-up). Another site
//! cannot read the cookie, and a cross-site post does not send it, so a
//! malicious page cannot make its visitors' browsers file requests (which
//! would also spread its spam over many addresses and past the per-address
//! limit); the signature stops a cookie planted from a sibling host. An
//! Origin/Referer check was not chosen: proxies rewrite hosts and privacy
//! settings strip the Referer. The cookie is cleared after an accepted
//! submission, so reloading the answer page does not file the request
//! twice. The lookup form posts (no token: it changes nothing) so that the
//! phone digits stay out of URLs and logs; `GET /public/lookup?number=&
//! phone_last4=` also works, for links.
//!
//! The pages send a Content-Security-Policy that allows only this server
//! (inline styles of the layout included) and no framing.

use std::collections::HashMap;
use std::sync::OnceLock;

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Form, Multipart, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{Base, lang};
use crate::domain::org::Category;
use crate::domain::types::AppealType;
use crate::error::Error;
use crate::http::AppState;
use crate::http::api::public::{ClientIp, read_form};
use crate::http::auth::same_token;
use crate::http::problem::status_of;
use crate::service::auth::{random_hex, sha256_hex};
use crate::service::public::{CITIZEN_APPEAL_TYPES, PublicTicket, limiter};

const FORM_COOKIE: &str = "hotline_public_form";
const FORM_SECONDS: u32 = 2 * 3600;

fn form_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| random_hex(32))
}

fn sign(nonce: &str) -> String {
    sha256_hex(&format!("{}|public-form|{nonce}", form_key()))[..32].to_string()
}

fn new_token() -> String {
    let n = random_hex(16);
    format!("{n}.{}", sign(&n))
}

fn valid_token(t: &str) -> bool {
    match t.split_once('.') {
        Some((n, s)) => n.len() == 32 && same_token(s, &sign(n)),
        None => false,
    }
}

fn form_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == FORM_COOKIE && valid_token(v))
        .map(|(_, v)| v.to_string())
}

fn is_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes() == b"https")
}

fn set_form_cookie(r: &mut Response, token: Option<&str>, headers: &HeaderMap) {
    let v = match token {
        Some(t) => format!(
            "{FORM_COOKIE}={t}; Path=/public; HttpOnly; SameSite=Strict; Max-Age={FORM_SECONDS}{}",
            if is_tls(headers) { "; Secure" } else { "" }
        ),
        None => format!("{FORM_COOKIE}=; Path=/public; HttpOnly; SameSite=Strict; Max-Age=0"),
    };
    if let Ok(v) = HeaderValue::from_str(&v) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Renders with the public pages' headers, the status and, for a rate
/// limit, `Retry-After`.
fn respond(t: &impl Template, status: StatusCode, err: Option<&Error>) -> Response {
    let mut r = super::render(t);
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(Error::TooManyRequests { retry_after, .. }) = err {
        h.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
    }
    r
}

// ---- submission ----

#[derive(Template)]
#[template(path = "public_form.html")]
struct FormPage {
    base: Base,
    back: &'static str,
    token: String,
    v: HashMap<String, String>,
    errors: HashMap<String, String>,
    error: String,
    categories: Vec<Category>,
    appeal_types: &'static [AppealType],
}

impl FormPage {
    fn get(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
    fn err(&self, k: &str) -> &str {
        self.errors.get(k).map(String::as_str).unwrap_or("")
    }
    fn checked(&self, k: &str) -> bool {
        !self.get(k).is_empty()
    }
}

fn form_page(app: &AppState, l: &str, token: String, v: HashMap<String, String>) -> FormPage {
    FormPage {
        base: Base::new(l, "pub.title_submit", None, app),
        back: "/public",
        token,
        v,
        errors: HashMap::new(),
        error: String::new(),
        categories: app.svc.public_categories(),
        appeal_types: CITIZEN_APPEAL_TYPES,
    }
}

/// `GET /public`: the submission form.
pub async fn form(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let l = lang(&headers);
    let token = form_cookie(&headers).unwrap_or_else(new_token);
    let p = form_page(&app, &l, token.clone(), HashMap::new());
    let mut r = respond(&p, StatusCode::OK, None);
    set_form_cookie(&mut r, Some(&token), &headers);
    r
}

#[derive(Template)]
#[template(path = "public_done.html")]
struct DonePage {
    base: Base,
    back: &'static str,
    number: String,
}

/// The form again, with what was typed, a fresh token and the error.
fn form_error(
    app: &AppState,
    l: &str,
    headers: &HeaderMap,
    v: HashMap<String, String>,
    e: Error,
) -> Response {
    let token = form_cookie(headers).unwrap_or_else(new_token);
    let mut p = form_page(app, l, token.clone(), v);
    if let Error::Validation(errs) = &e {
        for f in errs {
            p.errors
                .entry(f.field.clone())
                .and_modify(|m| {
                    m.push('；');
                    m.push_str(&f.message)
                })
                .or_insert_with(|| f.message.clone());
        }
    }
    p.error = super::error_text::detail(&e, l);
    crate::http::problem::log_internal(&e);
    let mut r = respond(&p, status_of(&e), Some(&e));
    set_form_cookie(&mut r, Some(&token), headers);
    r
}

/// `POST /public`: registers the request and shows its number.
pub async fn submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let l = lang(&headers);
    if let Err(e) = limiter().begin_submission(ip) {
        return form_error(&app, &l, &headers, HashMap::new(), e);
    }
    let form = match mp {
        Ok(mp) => read_form(mp).await,
        Err(e) => Err(Error::BadRequest(format!(
            "请通过页面上的表单提交 (submit the form on the page): {}",
            e.body_text()
        ))),
    };
    let form = match form {
        Ok(f) => f,
        Err(e) => return form_error(&app, &l, &headers, HashMap::new(), e),
    };
    let sent = form.get("token");
    let cookie = form_cookie(&headers);
    if !(valid_token(&sent) && cookie.as_deref().is_some_and(|c| same_token(c, &sent))) {
        let e = Error::Forbidden(
            "页面已过期，请再次提交（照片需要重新选择） (the form expired; submit it again and choose the photos again)"
                .into(),
        );
        return form_error(&app, &l, &headers, form.fields, e);
    }
    let sub = form.submission();
    let fields = form.fields;
    let photos = form.files;
    match app.run(move |s| s.submit_public(sub, photos)).await {
        Ok(done) => {
            limiter().submitted(ip);
            let p = DonePage {
                base: Base::new(&l, "pub.title_done", None, &app),
                back: "/public",
                number: done.number,
            };
            let mut r = respond(&p, StatusCode::OK, None);
            set_form_cookie(&mut r, None, &headers);
            r
        }
        Err(e) => form_error(&app, &l, &headers, fields, e),
    }
}

// ---- lookup ----

#[derive(Template)]
#[template(path = "public_lookup.html")]
struct LookupPage {
    base: Base,
    back: &'static str,
    number: String,
    error: String,
    result: Option<PublicTicket>,
}

impl LookupPage {
    /// `2026-11-22T10:31:05+08:00` → `2026-11-22 10:31`.
    fn short(&self, s: &str) -> String {
        s.get(..16).unwrap_or(s).replace('T', " ")
    }
    /// `2026-11-22T23:59:59+08:00` → `2026-11-22`.
    fn day(&self, s: &str) -> String {
        s.get(..10).unwrap_or(s).to_string()
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct LookupParams {
    number: Option<String>,
    phone_last4: Option<String>,
}

fn clip(s: &str) -> String {
    s.trim().chars().take(32).collect()
}

async fn lookup_page(
    app: AppState,
    headers: HeaderMap,
    ip: std::net::IpAddr,
    p: LookupParams,
    search: bool,
) -> Response {
    let l = lang(&headers);
    let number = clip(p.number.as_deref().unwrap_or(""));
    let mut page = LookupPage {
        base: Base::new(&l, "pub.title_lookup", None, &app),
        back: "/public/lookup",
        number: number.clone(),
        error: String::new(),
        result: None,
    };
    if !search {
        return respond(&page, StatusCode::OK, None);
    }
    let last4 = clip(p.phone_last4.as_deref().unwrap_or(""));
    match app
        .run(move |s| s.public_lookup_limited(ip, &number, &last4))
        .await
    {
        Ok(t) => {
            page.result = Some(t);
            respond(&page, StatusCode::OK, None)
        }
        Err(e) => {
            crate::http::problem::log_internal(&e);
            page.error = super::error_text::detail(&e, &l);
            respond(&page, status_of(&e), Some(&e))
        }
    }
}

/// `GET /public/lookup`: the form (`?number=` fills it in); with both
/// `number` and `phone_last4`, the result.
pub async fn lookup_get(
    State(app): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    q: Result<Query<LookupParams>, QueryRejection>,
) -> Response {
    let p = q.map(|q| q.0).unwrap_or_default();
    let search = p
        .phone_last4
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
        && p.number.as_deref().is_some_and(|s| !s.trim().is_empty());
    lookup_page(app, headers, ip, p, search).await
}

/// `POST /public/lookup`: the result.
pub async fn lookup_post(
    State(app): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    f: Result<Form<LookupParams>, FormRejection>,
) -> Response {
    let p = f.map(|f| f.0).unwrap_or_default();
    lookup_page(app, headers, ip, p, true).await
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/public",
            get(form)
                .post(submit)
                .layer(DefaultBodyLimit::max(crate::http::routes::UPLOAD_LIMIT)),
        )
        .route("/public/lookup", get(lookup_get).post(lookup_post))
}
