//! Changing one's own password.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{Base, lang, render, see_other};
use crate::http::AppState;
use crate::http::auth::PageAuth;

#[derive(Template)]
#[template(path = "password.html")]
struct Page {
    base: Base,
    error: String,
}

pub async fn form(State(app): State<AppState>, headers: HeaderMap, auth: PageAuth) -> Response {
    let l = lang(&headers);
    render(&Page {
        base: Base::new(&l, "nav.password", Some(&auth.0), &app),
        error: String::new(),
    })
}

#[derive(Deserialize)]
pub struct PwForm {
    #[serde(default)]
    csrf: String,
    current_password: String,
    new_password: String,
}

pub async fn submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Form(f): Form<PwForm>,
) -> Response {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let r = match auth.check_csrf(&f.csrf) {
        Ok(()) => {
            app.run_hashing(move |s| {
                s.change_password(&actor, &f.current_password, &f.new_password)
            })
            .await
        }
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => see_other("/login"),
        Err(e) => {
            let mut resp = render(&Page {
                base: Base::new(&l, "nav.password", Some(&auth.0), &app),
                error: crate::http::pages::error_text::detail(&e, &l),
            });
            *resp.status_mut() = crate::http::problem::status_of(&e);
            resp
        }
    }
}
