//! The department inbox, the center's queues, and live notices
//! (server-sent events) for open screens.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Deserialize;

use super::{Base, OrPage, PageResult, lang, render};
use crate::domain::permissions::Scope;
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

/// `GET /events`: notices about tickets the viewer may see, as
/// server-sent events (`event: ticket`, JSON data).
pub async fn events(
    State(app): State<AppState>,
    auth: PageAuth,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe first, then read what is pending, so that nothing falls
    // between the two.
    let rx = app.svc.subscribe();
    let actor = auth.0.actor.clone();
    let pending = app
        .run(move |s| s.pending_emergencies(&actor))
        .await
        .unwrap_or_default();
    let initial = futures_util::stream::iter(pending.into_iter().map(|n| {
        Ok(Event::default()
            .event("ticket")
            .data(serde_json::to_string(&n).unwrap_or_default()))
    }));
    let scope = auth.0.actor.scope.clone();
    let live = futures_util::stream::unfold((rx, scope), |(mut rx, scope)| async move {
        loop {
            match rx.recv().await {
                Ok(n) => {
                    let visible = match &scope {
                        Scope::All => true,
                        Scope::Units(units) => n.units_seen.iter().any(|u| units.contains(u)),
                    };
                    if visible {
                        let data = serde_json::to_string(&n).unwrap_or_default();
                        return Some((
                            Ok(Event::default().event("ticket").data(data)),
                            (rx, scope),
                        ));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    // The stream ends when the server stops, so that a graceful shutdown
    // does not wait for every open tab.
    let stream = futures_util::StreamExt::take_until(
        futures_util::StreamExt::chain(initial, live),
        app.shutting_down(),
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
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
