//! First-run page: creates the administrator, then logs in.

use askama::Template;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Base, lang, render};
use crate::http::AppState;
use crate::http::auth::session_cookie;

#[derive(Template)]
#[template(path = "setup.html")]
struct Page {
    base: Base,
    error: String,
    username: String,
    display_name: String,
}

pub async fn form(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if !app.run(|s| s.needs_setup()).await.unwrap_or(false) {
        return Redirect::to("/login").into_response();
    }
    let l = lang(&headers);
    render(&Page {
        base: Base::new(&l, "setup.title", None, &app),
        error: String::new(),
        username: "admin".into(),
        display_name: String::new(),
    })
}

#[derive(Deserialize)]
pub struct SetupForm {
    username: String,
    password: String,
    #[serde(default)]
    display_name: String,
}

pub async fn submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    Form(f): Form<SetupForm>,
) -> Response {
    let l = lang(&headers);
    let (u, p, d) = (
        f.username.clone(),
        f.password.clone(),
        f.display_name.clone(),
    );
    let r = app
        .run_hashing(move |s| {
            s.setup(&u, &p, &d)?;
            s.login(&u, &p, addr.ip())
        })
        .await;
    match r {
        Ok(li) => {
            let mut resp = Redirect::to("/admin/units").into_response();
            if let Ok(v) = HeaderValue::from_str(&session_cookie(&li.token, false)) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => {
            let mut resp = render(&Page {
                base: Base::new(&l, "setup.title", None, &app),
                error: crate::http::pages::error_text::detail(&e, &l),
                username: f.username,
                display_name: f.display_name,
            });
            *resp.status_mut() = crate::http::problem::status_of(&e);
            resp
        }
    }
}
