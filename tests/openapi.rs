//! The OpenAPI document (issue 12, point 7), loaded in-process and checked
//! for structure: parameters where the route reads them, every error
//! answer `application/problem+json`, 401 on every route that needs a
//! login, 400 where input is taken, the enforced ranges, resolvable
//! references, unique schema names and operation ids.
use hotline::http::api::doc::{METHODS, is_error, needs_login};
use serde_json::{Value, json};

const PROBLEM: &str = "application/problem+json";

fn doc() -> Value {
    hotline::http::routes::api().1
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((path.clone(), m.to_string(), op.clone()));
            }
        }
    }
    out
}

fn template_params(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split('}').next())
        .map(str::to_string)
        .collect()
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let ptr = r.trim_start_matches('#');
            doc.pointer(ptr)
                .unwrap_or_else(|| panic!("unresolvable $ref {r}"))
        }
        None => v,
    }
}

#[test]
fn parameters_are_where_the_route_reads_them() {
    let doc = doc();
    let mut bad = vec![];
    for (path, m, op) in operations(&doc) {
        let tpl = template_params(&path);
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for p in &params {
            let p = resolve(&doc, p);
            let name = p["name"].as_str().unwrap().to_string();
            match p["in"].as_str().unwrap() {
                "path" if !tpl.contains(&name) => bad.push(format!(
                    "{m} {path}: `{name}` is in: path but not in the path"
                )),
                "path" if p["required"] != json!(true) => {
                    bad.push(format!("{m} {path}: path parameter `{name}` not required"))
                }
                "query" | "header" | "cookie" | "path" => {}
                other => bad.push(format!("{m} {path}: `{name}` in: {other}")),
            }
        }
        for t in &tpl {
            let declared = params.iter().any(|p| {
                let p = resolve(&doc, p);
                p["in"] == "path" && p["name"] == t.as_str()
            });
            if !declared {
                bad.push(format!("{m} {path}: path parameter `{t}` is not declared"));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &params {
            let p = resolve(&doc, p);
            let key = format!("{}:{}", p["in"], p["name"]);
            if !seen.insert(key.clone()) {
                bad.push(format!("{m} {path}: parameter {key} twice"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_query_parameters_issue_12_found_are_in_query() {
    let doc = doc();
    let cases = [
        ("/api/v1/admin/audit", "get", "before"),
        ("/api/v1/admin/audit", "get", "limit"),
        ("/api/v1/inbox", "get", "tab"),
        ("/api/v1/tickets/similar", "get", "q"),
        ("/api/v1/tickets/similar", "get", "limit"),
        ("/api/v1/reports/districts", "get", "from"),
        ("/api/v1/reports/districts", "get", "to"),
        ("/api/v1/reports/districts", "get", "format"),
        ("/api/v1/reports/districts/map", "put", "name_property"),
        ("/api/v1/reports/districts/map", "put", "level"),
    ];
    for (path, m, name) in cases {
        let params = doc["paths"][path][m]["parameters"].as_array().unwrap();
        let p = params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{m} {path} lacks {name}"));
        assert_eq!(p["in"], "query", "{m} {path} {name}");
    }
}

#[test]
fn every_error_is_problem_json_and_logins_document_401() {
    let doc = doc();
    let global = doc["security"].clone();
    assert!(
        needs_login(&json!({}), &global),
        "the API needs a login by default"
    );
    let mut bad = vec![];
    let mut public = vec![];
    for (path, m, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        for (status, r) in responses {
            let r = resolve(&doc, r);
            if is_error(status) {
                let content = r["content"].as_object().cloned().unwrap_or_default();
                let types: Vec<&String> = content.keys().collect();
                if types != [PROBLEM] {
                    bad.push(format!("{m} {path} {status}: content {types:?}"));
                }
                let schema = &content[PROBLEM]["schema"];
                if schema["$ref"] != "#/components/schemas/Problem" {
                    bad.push(format!("{m} {path} {status}: schema {schema}"));
                }
            }
        }
        let has_input = op.get("requestBody").is_some()
            || op["parameters"].as_array().is_some_and(|p| !p.is_empty());
        if has_input && !responses.contains_key("400") {
            bad.push(format!("{m} {path}: takes input but has no 400"));
        }
        if needs_login(&op, &global) {
            if !responses.contains_key("401") {
                bad.push(format!("{m} {path}: needs a login but has no 401"));
            }
        } else {
            public.push(format!("{m} {path}"));
        }
        if !responses.keys().any(|s| s.starts_with('2')) {
            bad.push(format!("{m} {path}: no success answer documented"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The routes without login are exactly those the route table names.
    public.sort();
    assert_eq!(
        public,
        [
            "get /api/v1/public/tickets/{number}",
            "get /healthz",
            "post /api/v1/public/tickets",
            "post /api/v1/session",
            "post /api/v1/setup",
        ]
    );
}

#[test]
fn enforced_ranges_are_in_the_schema() {
    let doc = doc();
    let cases = [
        ("/api/v1/tickets", "limit", 1, 200),
        ("/api/v1/tickets/similar", "limit", 1, 20),
        ("/api/v1/admin/audit", "limit", 1, 500),
        ("/api/v1/kb/articles", "limit", 1, 200),
        ("/api/v1/kb/proposals", "limit", 1, 200),
        ("/api/v1/kb/search", "limit", 1, 50),
        ("/api/v1/reports/bulletins", "limit", 1, 1000),
    ];
    for (path, name, lo, hi) in cases {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let p = params.iter().find(|p| p["name"] == name).unwrap();
        let s = &p["schema"];
        assert_eq!(s["minimum"], json!(lo), "{path} {name}: {s}");
        assert_eq!(s["maximum"], json!(hi), "{path} {name}: {s}");
        let ty = s["type"].to_string();
        assert!(ty.contains("integer"), "{path} {name}: {s}");
    }
}

#[test]
fn every_ref_resolves_and_schema_names_are_not_shared() {
    let doc = doc();
    fn walk(doc: &Value, v: &Value, bad: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(Value::as_str)
                    && doc.pointer(r.trim_start_matches('#')).is_none()
                {
                    bad.push(r.to_string());
                }
                o.values().for_each(|x| walk(doc, x, bad));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(doc, x, bad)),
            _ => {}
        }
    }
    let mut bad = vec![];
    walk(&doc, &doc, &mut bad);
    assert!(bad.is_empty(), "unresolvable: {bad:?}");
    // Two Rust types with one schema name overwrite each other: the
    // KB's must not replace the tickets' action body or attachments.
    let s = &doc["components"]["schemas"];
    assert!(s["ActionBody"]["properties"].get("unit_id").is_some());
    assert!(s["KbActionBody"].is_object());
    assert!(s["AttachmentView"]["properties"].get("url").is_some());
    assert!(s["KbAttachmentView"]["properties"].get("url").is_some());
    assert!(
        s["KbAttachmentView"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("url"))
    );
}

#[test]
fn operation_ids_are_unique() {
    let doc = doc();
    let mut seen = std::collections::BTreeMap::new();
    for (path, m, op) in operations(&doc) {
        if let Some(id) = op["operationId"].as_str()
            && let Some(prev) = seen.insert(id.to_string(), format!("{m} {path}"))
        {
            panic!("operationId {id} on {prev} and {m} {path}");
        }
    }
}

#[path = "support/app.rs"]
mod app;

/// A path segment that is not what the route expects answers 400
/// problem+json on the API and the HTML error page on pages — never
/// axum's plain text.
#[tokio::test]
async fn a_bad_path_segment_is_problem_json() {
    let app = app::App::empty("openapi-path", false);
    let r = app
        .call(
            &app::Who::default(),
            "POST",
            "/api/v1/setup",
            Some(json!({"username": "admin", "password": "admin-pass-1", "display_name": "A"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let admin = app.login_with("admin", "admin-pass-1").await;
    for (m, p) in [
        ("PATCH", "/api/v1/users/abc"),
        ("PATCH", "/api/v1/units/-1"),
        ("DELETE", "/api/v1/tokens/99999999999"),
        ("GET", "/api/v1/kb/articles/x1"),
        ("GET", "/api/v1/kb/articles/1/versions/v"),
    ] {
        let body = (m == "PATCH").then(|| json!({}));
        let r = app.call(&admin, m, p, body).await;
        assert_eq!(r.status, 400, "{m} {p}: {}", r.text());
        assert_eq!(r.ctype(), PROBLEM, "{m} {p}");
        assert_eq!(r.json()["status"], 400, "{m} {p}: {}", r.text());
        assert!(
            r.json()["detail"]
                .as_str()
                .unwrap()
                .contains("invalid path segment")
        );
    }
    let r = app
        .form(&admin, "/admin/users/abc", &[("display_name", "x")])
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.ctype().starts_with("text/html"), "{}", r.ctype());
    // Ranges the document states are enforced, not clamped.
    for p in [
        "/api/v1/admin/audit?limit=0",
        "/api/v1/admin/audit?limit=501",
        "/api/v1/tickets/similar?q=x&limit=21",
        "/api/v1/kb/articles?limit=201",
        "/api/v1/kb/proposals?limit=0",
        "/api/v1/kb/search?q=x&limit=51",
        "/api/v1/reports/bulletins?kind=daily&limit=1001",
    ] {
        let r = app.get(&admin, p).await;
        assert_eq!(r.status, 400, "{p}: {}", r.text());
        assert_eq!(r.ctype(), PROBLEM, "{p}");
    }
}
