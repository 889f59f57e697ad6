//! Login and logout.

use askama::Template;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Base, lang, render};
use crate::http::AppState;
use crate::http::auth::{PageAuth, clear_cookie, session_cookie};

#[derive(Template)]
#[template(path = "login.html")]
struct Page {
    base: Base,
    error: String,
    username: String,
    next: String,
}

#[derive(Deserialize, Default)]
pub struct Next {
    next: Option<String>,
}

fn safe_next(n: Option<String>) -> String {
    crate::http::redirect::safe_or(n.as_deref(), "/")
}

pub async fn form(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(n): Query<Next>,
) -> Response {
    if app.run(|s| s.needs_setup()).await.unwrap_or(false) {
        return Redirect::to("/setup").into_response();
    }
    let l = lang(&headers);
    render(&Page {
        base: Base::new(&l, "login.title", None, &app),
        error: String::new(),
        username: String::new(),
        next: safe_next(n.next),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    Form(f): Form<LoginForm>,
) -> Response {
    let l = lang(&headers);
    let (u, p) = (f.username.clone(), f.password.clone());
    let secure = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes() == b"https");
    match app.run_hashing(move |s| s.login(&u, &p, addr.ip())).await {
        Ok(li) => {
            let mut resp = Redirect::to(&safe_next(f.next)).into_response();
            if let Ok(v) = HeaderValue::from_str(&session_cookie(&li.token, secure)) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => {
            let mut resp = render(&Page {
                base: Base::new(&l, "login.title", None, &app),
                error: crate::http::pages::error_text::detail(&e, &l),
                username: f.username,
                next: safe_next(f.next),
            });
            *resp.status_mut() = crate::http::problem::status_of(&e);
            resp
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(app): State<AppState>,
    auth: PageAuth,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return super::error_page(e, None);
    }
    if let Some(t) = auth.0.session_token.clone() {
        let _ = app.run(move |s| s.logout(&t)).await;
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie()) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}
