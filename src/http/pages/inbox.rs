//! The department inbox and the center's queues (live notices:
//! `pages::live`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;

use super::{Base, OrPage, PageResult, lang, render};
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::service::workflow::{INBOX_TABS, Inbox, Queues};

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    base: Base,
    inbox: Inbox,
    tabs: &'static [&'static str],
}

impl InboxPage {
    fn count(&self, tab: &str) -> usize {
        let c = &self.inbox.counts;
        match tab {
            "sign_for" => c.sign_for,
            "in_progress" => c.in_progress,
            "approval" => c.approval,
            "due_today" => c.due_today,
            "overdue" => c.overdue,
            _ => c.returned,
        }
    }
    fn short(&self, s: &str) -> String {
        s.get(..16).unwrap_or(s).replace('T', " ")
    }
}

#[derive(Deserialize, Default)]
pub struct Tab {
    tab: Option<String>,
}

pub async fn inbox(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(q): Query<Tab>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let tab = q.tab.unwrap_or_else(|| "sign_for".into());
    let inbox = app.run(move |s| s.inbox(&actor, &tab)).await.page(&l)?;
    Ok(render(&InboxPage {
        base: Base::new(&l, "inbox.title", Some(&auth.0), &app),
        inbox,
        tabs: INBOX_TABS,
    }))
}

#[derive(Template)]
#[template(path = "queues.html")]
struct QueuesPage {
    base: Base,
    q: Queues,
}

pub async fn queues(State(app): State<AppState>, headers: HeaderMap, auth: PageAuth) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let q = app.run(move |s| s.queues(&actor)).await.page(&l)?;
    Ok(render(&QueuesPage {
        base: Base::new(&l, "queues.title", Some(&auth.0), &app),
        q,
    }))
}

#[derive(Template)]
#[template(path = "sent_back.html")]
struct SentBackPage {
    base: Base,
    items: Vec<crate::service::views::TicketView>,
}

/// Tickets the dispatcher sent back to operators, waiting for correction.
pub async fn sent_back(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let items = app.run(move |s| s.sent_back(&actor)).await.page(&l)?;
    Ok(render(&SentBackPage {
        base: Base::new(&l, "sent_back.title", Some(&auth.0), &app),
        items,
    }))
}
