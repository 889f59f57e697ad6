//! `/queues/{name}`: one queue of the center as a list, oldest first; each
//! ticket opens with `?queue=` so that the case file offers the next one of
//! the same queue after a step (work-through).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;

use super::{Base, OrPage, PageResult, lang, render};
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::service::queue::{QUEUE_LIMIT, QueueItem};

pub fn routes() -> Router<AppState> {
    Router::new().route("/queues/{name}", get(page))
}

#[derive(Template)]
#[template(path = "queue.html")]
struct Page {
    base: Base,
    name: String,
    items: Vec<QueueItem>,
}

impl Page {
    fn short(&self, s: &str) -> String {
        s.get(..16).unwrap_or(s).replace('T', " ")
    }
}

pub async fn page(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Path(name): Path<String>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let n = name.clone();
    let items = app
        .run(move |s| s.queue(&actor, &n, QUEUE_LIMIT))
        .await
        .page(&l)?;
    let mut base = Base::new(&l, "queues.title", Some(&auth.0), &app);
    base.title = crate::http::i18n::t(&l, &format!("queue.{name}")).to_string();
    Ok(render(&Page { base, name, items }))
}
