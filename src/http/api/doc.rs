//! The finishing pass over the generated OpenAPI document: what is true of
//! every operation is written once here instead of in each annotation.
//!
//! - Every error answer (status ≥ 400) is `application/problem+json` with
//!   the `Problem` schema (RFC 9457), whatever the annotation said.
//! - Every operation that needs a login documents 401.
//! - Every operation that takes parameters or a body documents 400 (the
//!   extractors in `http::extract` answer 400 for a malformed one).
//! - Every operation with a path parameter documents 404.
//!
//! `tests/openapi.rs` loads the finished document and checks its
//! structure, so that a new route cannot reintroduce what issue 12 found.

use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

const PROBLEM: &str = "application/problem+json";

fn problem_content() -> Value {
    json!({ PROBLEM: { "schema": { "$ref": "#/components/schemas/Problem" } } })
}

/// Whether an operation needs a login: its own `security`, or the
/// document's when it has none; `[{}]` (or `[]`) means public.
pub fn needs_login(op: &Value, global: &Value) -> bool {
    let sec = op.get("security").unwrap_or(global);
    match sec.as_array() {
        None => false,
        Some(reqs) => {
            !reqs.is_empty()
                && reqs
                    .iter()
                    .all(|r| r.as_object().is_some_and(|o| !o.is_empty()))
        }
    }
}

/// `4xx`/`5xx` answers (not `default` or `2xx`).
pub fn is_error(status: &str) -> bool {
    status.starts_with('4') || status.starts_with('5')
}

pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn finish_value(doc: &mut Value) {
    let global = doc.get("security").cloned().unwrap_or(Value::Null);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let has_path_param = path.contains('{');
        for m in METHODS {
            let Some(op) = item.get_mut(m) else { continue };
            let login = needs_login(op, &global);
            let has_input = op.get("requestBody").is_some()
                || op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .is_some_and(|p| !p.is_empty());
            let responses = op
                .as_object_mut()
                .unwrap()
                .entry("responses")
                .or_insert_with(|| json!({}));
            let Some(responses) = responses.as_object_mut() else {
                continue;
            };
            for (status, resp) in responses.iter_mut() {
                if is_error(status) {
                    resp["content"] = problem_content();
                }
            }
            let mut add = |status: &str, description: &str| {
                responses.entry(status).or_insert_with(
                    || json!({ "description": description, "content": problem_content() }),
                );
            };
            if has_input {
                add(
                    "400",
                    "a malformed parameter or body (the reason is in `detail`)",
                );
            }
            if login {
                add(
                    "401",
                    "not logged in: no session cookie or bearer token, or it is invalid, expired or revoked",
                );
            }
            if has_path_param {
                add("404", "no such object (or one the caller may not see)");
            }
        }
    }
}

/// Applies the finishing pass; the answer is what `/api/v1/openapi.json`
/// serves.
pub fn finish(doc: OpenApi) -> Value {
    let mut v = serde_json::to_value(&doc).expect("the OpenAPI document serializes");
    finish_value(&mut v);
    v
}
