//! The intake page: keyboard-first registration on a live call.
//!
//! The caller's phone comes first; their earlier tickets appear beside the
//! form (fetched from the API as the number is typed). A consultation can be
//! answered and closed right here. After saving, the form is empty again for
//! the next call, with a link to the ticket just saved.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{Base, lang, render, see_other};
use crate::domain::org::Category;
use crate::domain::types::{AppealType, Channel, Urgency};
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::service::tickets::{AttachmentRef, NewTicket};

#[derive(Template)]
#[template(path = "intake.html")]
struct Page {
    base: Base,
    v: HashMap<String, String>,
    errors: HashMap<String, String>,
    error: String,
    saved: String,
    /// The catalog key of the saved message (closed / sent to dispatch).
    saved_outcome: &'static str,
    categories: Vec<Category>,
    channels: &'static [Channel],
    appeal_types: &'static [AppealType],
    urgencies: &'static [Urgency],
}

impl Page {
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

#[derive(Deserialize)]
pub struct Saved {
    saved: Option<String>,
}

fn page(app: &AppState, auth: &PageAuth, l: &str, v: HashMap<String, String>) -> Page {
    let dir = app.svc.dir();
    Page {
        base: Base::new(l, "intake.title", Some(&auth.0), app),
        v,
        errors: HashMap::new(),
        error: String::new(),
        saved: String::new(),
        saved_outcome: "intake.saved",
        categories: dir
            .categories
            .iter()
            .filter(|c| c.enabled)
            .cloned()
            .collect(),
        channels: Channel::ALL,
        appeal_types: AppealType::ALL,
        urgencies: Urgency::ALL,
    }
}

pub async fn form(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(s): Query<Saved>,
) -> Response {
    let l = lang(&headers);
    let mut p = page(&app, &auth, &l, HashMap::new());
    p.saved = s
        .saved
        .filter(|n| crate::domain::ticket::TicketNo::parse(n).is_some())
        .unwrap_or_default();
    if !p.saved.is_empty() {
        // Say where the ticket went: closed at intake, or to dispatch.
        let (actor, no) = (auth.0.actor.clone(), p.saved.clone());
        if let Ok(t) = app.run(move |s| s.ticket_view(&actor, &no)).await {
            p.saved_outcome = if t.state.is_final() {
                "intake.saved_closed"
            } else if t.state == crate::domain::types::State::PendingDispatch {
                "intake.saved_dispatch"
            } else if t.state == crate::domain::types::State::AwaitingCallback {
                // Answered at intake and drawn for a callback.
                "intake.saved_callback"
            } else {
                "intake.saved"
            };
        }
    }
    render(&p)
}

/// The category as typed ("0101 供水", "0101" or a unique name such as
/// "停水"); the service resolves it (`domain::org::resolve_category`).
fn category_code(s: &str) -> String {
    s.trim().to_string()
}

pub async fn submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    mut mp: Multipart,
) -> Response {
    let l = lang(&headers);
    let mut v: HashMap<String, String> = HashMap::new();
    let mut files: Vec<(String, Vec<u8>)> = vec![];
    let mut failure: Option<Error> = None;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                if name == "files" {
                    let fname = field.file_name().unwrap_or("").to_string();
                    match field.bytes().await {
                        Ok(b) if !b.is_empty() => files.push((fname, b.to_vec())),
                        Ok(_) => {}
                        Err(e) => {
                            failure = Some(crate::http::api::tickets::multipart_error(e));
                            break;
                        }
                    }
                } else {
                    match field.text().await {
                        Ok(t) => {
                            v.insert(name, t);
                        }
                        Err(e) => {
                            failure = Some(crate::http::api::tickets::multipart_error(e));
                            break;
                        }
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                failure = Some(crate::http::api::tickets::multipart_error(e));
                break;
            }
        }
    }
    let result = match failure {
        Some(e) => Err(e),
        None => match auth.check_csrf(v.get("csrf").map(String::as_str).unwrap_or("")) {
            Err(e) => Err(e),
            Ok(()) => {
                let actor = auth.0.actor.clone();
                let g = |k: &str| v.get(k).cloned().unwrap_or_default();
                let n = NewTicket {
                    caller_phone: g("caller_phone"),
                    caller_name: g("caller_name"),
                    anonymous: !g("anonymous").is_empty(),
                    confidential: !g("confidential").is_empty(),
                    channel: Some(g("channel")),
                    appeal_type: g("appeal_type"),
                    category_code: category_code(&g("category")),
                    district: g("district"),
                    street: g("street"),
                    community: g("community"),
                    address: g("address"),
                    title: g("title"),
                    content: g("content"),
                    urgency: Some(g("urgency")),
                    answer: Some(g("answer")),
                    attachments: vec![],
                };
                let (kb_used, kb_search) = (g("kb_used"), g("kb_search"));
                app.run(move |s| {
                    let mut n = n;
                    for (name, bytes) in &files {
                        let up = s.store_attachment(&actor, name, bytes)?;
                        n.attachments.push(AttachmentRef {
                            sha256: up.sha256,
                            name: up.name,
                        });
                    }
                    let t = s.register(&actor, n)?;
                    // Articles whose answer went into the ticket count as
                    // used (views/uses and the missing-knowledge report).
                    let search = kb_search.trim().parse::<u64>().ok().filter(|n| *n > 0);
                    for id in kb_used.split(',').filter_map(|x| x.trim().parse::<u64>().ok()) {
                        if let Err(e) = s.record_use(&actor, id, &t.number, search) {
                            tracing::warn!(article = id, error = %e, "recording a knowledge-base use failed");
                        }
                    }
                    Ok(t)
                })
                .await
            }
        },
    };
    match result {
        Ok(t) => see_other(&format!("/tickets/new?saved={}", t.number)),
        Err(e) => {
            let status = crate::http::problem::status_of(&e);
            let mut p = page(&app, &auth, &l, v);
            match &e {
                Error::Validation(errs) => {
                    for f in errs {
                        let key = if f.field == "category_code" {
                            "category".to_string()
                        } else {
                            f.field.clone()
                        };
                        p.errors
                            .insert(key, super::error_text::in_lang(&f.message, &l));
                    }
                    p.error = super::error_text::detail(&e, &l);
                }
                _ => p.error = super::error_text::detail(&e, &l),
            }
            let mut r = render(&p);
            *r.status_mut() = status;
            r
        }
    }
}
