//! Knowledge-base pages (知识库): browsing, reading, proposing and
//! reviewing, notices, acknowledgements, reports and synonyms. Every page
//! calls `service::kb`; forms post back and redirect, or show the error.

pub mod browse;
pub mod forms;
pub mod reports;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::http::AppState;
use crate::http::routes::UPLOAD_LIMIT;

pub fn routes() -> Router<AppState> {
    // The article forms carry files: the upload limit, not the form limit.
    let uploads = Router::new()
        .route("/kb/new", get(forms::new_form).post(forms::create))
        .route(
            "/kb/proposals/{pid}/edit",
            get(forms::edit_proposal_form).post(forms::edit_proposal),
        )
        .route("/kb/{id}/edit", get(forms::edit_form).post(forms::propose))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT));
    Router::new()
        .route("/kb", get(browse::list))
        .route("/kb/review", get(forms::review))
        .route("/kb/unread", get(reports::unread))
        .route("/kb/unread/read-all", post(reports::read_all))
        .route("/kb/acks", get(reports::acks))
        .route("/kb/expired", get(reports::expired))
        .route("/kb/missing", get(reports::missing))
        .route("/kb/summary", get(reports::summary))
        .route(
            "/kb/synonyms",
            get(reports::synonyms).post(reports::save_synonyms),
        )
        .route("/kb/proposals/{pid}", get(forms::proposal))
        .route(
            "/kb/proposals/{pid}/attachments/{sha}",
            get(browse::proposal_attachment),
        )
        .route("/kb/proposals/{pid}/{action}", post(forms::proposal_action))
        .route("/kb/{id}", get(browse::article))
        .route("/kb/{id}/diff", get(browse::diff))
        .route("/kb/{id}/ack", post(browse::acknowledge))
        .route("/kb/{id}/state", post(browse::set_state))
        .route("/kb/{id}/attachments/{sha}", get(browse::attachment))
        .merge(uploads)
}

/// A posted form's fields.
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(body: &[u8]) -> Form {
        Form(crate::http::pages::admin::parse_form(body))
    }
    pub(crate) fn get(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }
    /// Every value of a repeated field (checkboxes, hidden lists).
    pub(crate) fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
    pub(crate) fn has(&self, k: &str) -> bool {
        self.0.iter().any(|(a, _)| a == k)
    }
}

/// `2026-11-22T10:31:05+08:00` → `2026-11-22 10:31`.
pub(crate) fn short(s: &str) -> String {
    s.get(..16).unwrap_or(s).replace('T', " ")
}

/// The message key of a diff field name.
pub(crate) fn field_key(f: &str) -> &'static str {
    match f {
        "kind" => "kb.kind",
        "title" => "field.title",
        "question" => "kb.question",
        "body" => "kb.body",
        "category" => "field.category",
        "department" => "kb.department",
        "keywords" => "kb.keywords",
        "valid_from" => "kb.valid_from",
        "valid_to" => "kb.valid_to",
        "must_read" => "kb.must_read",
        _ => "field.attachments",
    }
}
