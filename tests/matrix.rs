//! The route × role matrix (issue 12): every route of the route table and
//! of the OpenAPI document, called by every demo role, anonymously and with
//! an API token, with real objects of a demo district in the path; the
//! expected outcome of every cell comes from [`TABLE`]. A route without a
//! row (or a row without a route) fails the test.
//!
//! Then the department scope: a department user asks every ticket-scoped
//! route about tickets outside its units, and every list, search,
//! similar-ticket, dashboard, report, bulletin and export; no answer may
//! name those tickets, show an unmasked phone number or a hidden caller.

#[path = "support/app.rs"]
mod app;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use app::{App, Resp, Who};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The columns of [`TABLE`], in order.
const COLUMNS: [&str; 10] = [
    "admin",
    "op1",
    "dispatcher",
    "reviewer",
    "callback",
    "lead",
    "water",
    "leader",
    "anon",
    "token",
];

/// Every route, with the outcome per column of [`COLUMNS`]:
/// `A` allowed (2xx, a redirect elsewhere than the login, or a refusal of
/// the probe's content after the permission check: 400/409/422),
/// `F` 403, `U` 401, `L` a redirect to `/login`, `N` 404, `?` another
/// 4xx (said in the row's comment).
/// Limitation: where the probe body is malformed for the route (a `{}`
/// where fields are required, a form where a file is expected) the
/// extractor refuses it (400) before the permission check, and the row
/// shows `A` for every role: such rows prove only that the route needs a
/// login. Rows with a shaped probe (see [`probe`]) test the permission.
/// The API token acts for the administrator; pages do not take tokens.
#[rustfmt::skip]
const TABLE: &[(&str, &str, &str)] = &[
    // method, path, "admin op1 dispatcher reviewer callback lead water leader | anon | token"
    ("DELETE", "/api/v1/reports/districts/map", "AFFFFFFF U A"),
    ("DELETE", "/api/v1/tokens/{id}", "AFFFFFFF U A"),
    ("GET", "/", "AAAAAAAA L A"),
    ("GET", "/account/password", "AAAAAAAA L A"),
    ("GET", "/admin/audit", "AFFFFFFF L A"),
    ("GET", "/admin/backup", "AFFFFFFF L A"),
    ("GET", "/admin/backup/restore", "AFFFFFFF L A"),
    ("GET", "/admin/calendar", "AFFFFFFF L A"),
    ("GET", "/admin/calendar/{year}", "AFFFFFFF L A"),
    ("GET", "/admin/categories", "AFFFFFFF L A"),
    ("GET", "/admin/categories/{code}/edit", "AFFFFFFF L A"),
    ("GET", "/admin/settings", "AFFFFFFF L A"),
    ("GET", "/admin/tokens", "AFFFFFFF L A"),
    ("GET", "/admin/units", "AFFFFFFF L A"),
    ("GET", "/admin/users", "AFFFFFFF L A"),
    ("GET", "/admin/users/{id}/edit", "AFFFFFFF L A"),
    ("GET", "/api/v1/admin/audit", "AFFFFFFF U A"),
    ("GET", "/api/v1/admin/backups", "?FFFFFFF U ?"), // `?`: the probe's folder does not exist (422 for the administrator)
    ("GET", "/api/v1/admin/backups/status", "AFFFFFFF U A"),
    ("GET", "/api/v1/calendar/{year}", "AAAAAAAA U A"),
    ("GET", "/api/v1/calendar/{year}/export", "AAAAAAAA U A"),
    ("GET", "/api/v1/categories", "AAAAAAAA U A"),
    ("GET", "/api/v1/inbox", "FFFFFFAF U F"),
    ("GET", "/api/v1/kb/acks", "AFFFFAFF U A"),
    ("GET", "/api/v1/kb/articles", "AAAAAAAA U A"),
    ("GET", "/api/v1/kb/articles/{id}", "AAAAAAAA U A"),
    ("GET", "/api/v1/kb/articles/{id}/acks", "AFFFFAFF U A"),
    ("GET", "/api/v1/kb/articles/{id}/diff", "AAAAAAAA U A"),
    ("GET", "/api/v1/kb/articles/{id}/stats", "AAAAAAAA U A"),
    ("GET", "/api/v1/kb/articles/{id}/versions", "AAAAAAAA U A"),
    ("GET", "/api/v1/kb/articles/{id}/versions/{version}", "AAAAAAAA U A"),
    ("GET", "/api/v1/kb/categories", "AAAAAAAA U A"),
    ("GET", "/api/v1/kb/expired", "AFFFFAFF U A"),
    ("GET", "/api/v1/kb/proposals", "AAAAAAAA U A"),
    ("GET", "/api/v1/kb/proposals/{id}", "AANNNANN U A"),
    ("GET", "/api/v1/kb/reports/missing", "AFFFFAFA U A"),
    ("GET", "/api/v1/kb/reports/summary", "AFFFFAFA U A"),
    ("GET", "/api/v1/kb/search", "AAAAAAAA U A"),
    ("GET", "/api/v1/kb/synonyms", "AFFFFAFF U A"),
    ("GET", "/api/v1/kb/unread", "AAAAAAAA U A"),
    ("GET", "/api/v1/openapi.json", "AAAAAAAA A A"),
    ("GET", "/api/v1/public/tickets/{number}", "NNNNNNNN N N"), // no phone suffix given: the same 404 as a wrong one
    ("GET", "/api/v1/queues", "AAAAAAFA U A"),
    ("GET", "/api/v1/reports/annual", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/bulletins", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/bulletins/schedule", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/bulletins/{kind}/{key}", "NFFFFNNN U N"),
    ("GET", "/api/v1/reports/daily", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/dashboard", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/districts", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/districts/map", "NFFFFNNN U N"),
    ("GET", "/api/v1/reports/kpis", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/monthly", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/quarterly", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/ranking", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/ranking/weights", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/spikes", "AFFFFAAA U A"),
    ("GET", "/api/v1/reports/weekly", "AFFFFAAA U A"),
    ("GET", "/api/v1/session", "AAAAAAAA U A"),
    ("GET", "/api/v1/settings", "AAAAAAAA U A"),
    ("GET", "/api/v1/tickets", "AAAAAAAA U A"),
    ("GET", "/api/v1/tickets/danger", "AAAAAAAA U A"),
    ("GET", "/api/v1/tickets/similar", "AAAAAAAA U A"),
    ("GET", "/api/v1/tickets/{number}", "AAAAAAAA U A"),
    ("GET", "/api/v1/tickets/{number}/attachments/{sha256}", "NNNNNNNN U N"),
    ("GET", "/api/v1/tickets/{number}/events", "AAAAAAAA U A"),
    ("GET", "/api/v1/tokens", "AFFFFFFF U A"),
    ("GET", "/api/v1/units", "AAAAAAAA U A"),
    ("GET", "/api/v1/users", "AFFFFFFF U A"),
    ("GET", "/dashboard", "AFFFFAAA L A"),
    ("GET", "/dashboard/wall", "AFFFFAAA L A"),
    ("GET", "/events", "AAAAAAAA L A"),
    ("GET", "/events/dashboard", "AFFFFAAA L A"),
    ("GET", "/favicon.ico", "AAAAAAAA A A"),
    ("GET", "/healthz", "AAAAAAAA A A"),
    ("GET", "/inbox", "FFFFFFAF L F"),
    ("GET", "/kb", "AAAAAAAA L A"),
    ("GET", "/kb/acks", "AFFFFAFF L A"),
    ("GET", "/kb/expired", "AFFFFAFF L A"),
    ("GET", "/kb/missing", "AFFFFAFA L A"),
    ("GET", "/kb/new", "AAAAAAAA L A"),
    ("GET", "/kb/proposals/{pid}", "AANNNANN L A"),
    ("GET", "/kb/proposals/{pid}/attachments/{sha}", "NNNNNNNN L N"),
    ("GET", "/kb/proposals/{pid}/edit", "AANNNANN L A"),
    ("GET", "/kb/review", "AAAAAAAA L A"),
    ("GET", "/kb/summary", "AFFFFAFA L A"),
    ("GET", "/kb/synonyms", "AFFFFAFF L A"),
    ("GET", "/kb/unread", "AAAAAAAA L A"),
    ("GET", "/kb/{id}", "AAAAAAAA L A"),
    ("GET", "/kb/{id}/attachments/{sha}", "NNNNNNNN L N"),
    ("GET", "/kb/{id}/diff", "AAAAAAAA L A"),
    ("GET", "/kb/{id}/edit", "AAAAAAAA L A"),
    ("GET", "/lang/{code}", "AAAAAAAA A A"),
    ("GET", "/login", "AAAAAAAA A A"),
    ("GET", "/public", "AAAAAAAA A A"),
    ("GET", "/public/lookup", "AAAAAAAA A A"),
    ("GET", "/queues", "AAAAAAFA L A"),
    ("GET", "/queues/{name}", "AAAAAAFA L A"),
    ("GET", "/reports", "AFFFFAAA L A"),
    ("GET", "/reports/bulletins", "AFFFFAAA L A"),
    ("GET", "/reports/bulletins/preview", "AFFFFAAA L A"),
    ("GET", "/reports/bulletins/{kind}/{key}", "NFFFFNNN L N"),
    ("GET", "/reports/districts", "AFFFFAAA L A"),
    ("GET", "/reports/ranking", "AFFFFAAA L A"),
    ("GET", "/reports/weights", "AFFFFFFF L A"),
    ("GET", "/sent-back", "AAAAAAAA L A"),
    ("GET", "/setup", "LLLLLLLL L L"), // set up already: the login page
    ("GET", "/static/{*path}", "AAAAAAAA A A"),
    ("GET", "/tickets", "AAAAAAAA L A"),
    ("GET", "/tickets/export", "AAAAAAAA L A"),
    ("GET", "/tickets/new", "AAAAAAAA L A"),
    ("GET", "/tickets/{number}", "AAAAAAAA L A"),
    ("GET", "/tickets/{number}/attachments/{sha}", "NNNNNNNN L N"),
    ("PATCH", "/api/v1/categories/{code}", "AFFFFFFF U A"),
    ("PATCH", "/api/v1/settings", "AFFFFFFF U A"),
    ("PATCH", "/api/v1/units/{id}", "AFFFFFFF U A"),
    ("PATCH", "/api/v1/users/{id}", "AFFFFFFF U A"),
    ("POST", "/account/password", "AAAAAAAA L A"),
    ("POST", "/admin/backup", "AFFFFFFF L A"),
    ("POST", "/admin/backup/schedule", "AFFFFFFF L A"),
    ("POST", "/admin/backup/verify", "AFFFFFFF L A"),
    ("POST", "/admin/calendar/{year}/days", "AFFFFFFF L A"),
    ("POST", "/admin/calendar/{year}/import", "AFFFFFFF L A"),
    ("POST", "/admin/categories", "AFFFFFFF L A"),
    ("POST", "/admin/categories/{code}", "AFFFFFFF L A"),
    ("POST", "/admin/settings", "AFFFFFFF L A"),
    ("POST", "/admin/tokens", "AFFFFFFF L A"),
    ("POST", "/admin/tokens/{id}/revoke", "AFFFFFFF L A"),
    ("POST", "/admin/units", "AFFFFFFF L A"),
    ("POST", "/admin/units/import", "AFFFFFFF L A"),
    ("POST", "/admin/units/{id}", "AFFFFFFF L A"),
    ("POST", "/admin/users", "AFFFFFFF L A"),
    ("POST", "/admin/users/{id}", "AFFFFFFF L A"),
    ("POST", "/api/v1/admin/backups", "AFFFFFFF U A"),
    ("POST", "/api/v1/admin/backups/verify", "AFFFFFFF U A"),
    ("POST", "/api/v1/attachments", "AAAAAAAA U A"),
    ("POST", "/api/v1/calendar/{year}/days/{date}", "AFFFFFFF U A"),
    ("POST", "/api/v1/calendar/{year}/import", "AFFFFFFF U A"),
    ("POST", "/api/v1/categories", "AFFFFFFF U A"),
    ("POST", "/api/v1/dev/clock", "NNNNNNNN U N"),
    ("POST", "/api/v1/kb/articles", "AAAAAAAA U A"),
    ("POST", "/api/v1/kb/articles/{id}/actions/{action}", "ANNNNANN U A"),
    ("POST", "/api/v1/kb/proposals/{id}/actions/{action}", "FAFFFFFF U F"),
    ("POST", "/api/v1/kb/unread/read-all", "AAAAAAAA U A"),
    ("POST", "/api/v1/public/tickets", "AAAAAAAA A A"),
    ("POST", "/api/v1/reports/bulletins/{kind}/{key}", "AFFFFAFF U A"),
    ("POST", "/api/v1/session/password", "AAAAAAAA U A"),
    ("POST", "/api/v1/setup", "AAAAAAAA A A"),
    ("POST", "/api/v1/tickets", "FAAFFAFF U F"), // the administrator role does not register tickets
    ("POST", "/api/v1/tickets/{number}/actions/{action}", "FFFFFFFF U F"), // `progress` by a unit that does not hold the ticket
    ("POST", "/api/v1/tokens", "AFFFFFFF U A"),
    ("POST", "/api/v1/units", "AFFFFFFF U A"),
    ("POST", "/api/v1/units/import", "AFFFFFFF U A"),
    ("POST", "/api/v1/users", "AFFFFFFF U A"),
    ("POST", "/kb/new", "AAAAAAAA L A"),
    ("POST", "/kb/proposals/{pid}/edit", "AAAAAAAA L A"),
    ("POST", "/kb/proposals/{pid}/{action}", "FAFFFFFF L F"),
    ("POST", "/kb/synonyms", "AFFFFAFF L A"),
    ("POST", "/kb/unread/read-all", "AAAAAAAA L A"),
    ("POST", "/kb/{id}/ack", "FNNNNANN L F"),
    ("POST", "/kb/{id}/edit", "ANNNNANN L A"),
    ("POST", "/kb/{id}/state", "AAAAAAAA L A"),
    ("POST", "/login", "AAAAAAAA A A"),
    ("POST", "/public", "AAAAAAAA A A"),
    ("POST", "/tickets/bulk-dispatch", "FFAFFAFF L F"), // Permission::Dispatch: dispatcher and team lead; the administrator (and its token) administers, it does not dispatch
    ("POST", "/public/lookup", "NNNNNNNN N N"), // no phone suffix given
    ("POST", "/reports/bulletins/issue", "NNNNNNNN L N"),
    ("POST", "/reports/districts/map", "AAAAAAAA L A"),
    ("POST", "/reports/districts/map/delete", "AFFFFFFF L A"),
    ("POST", "/reports/weights", "AFFFFFFF L A"),
    ("POST", "/setup", "AAAAAAAA A A"),
    ("POST", "/tickets/new", "AAAAAAAA L A"),
    ("POST", "/tickets/{number}/act/{action}", "FFFFFFFF L F"), // the same through the page
    ("PUT", "/api/v1/admin/backups/schedule", "AFFFFFFF U A"),
    ("PUT", "/api/v1/calendar/{year}", "AAAAAAAA U A"),
    ("PUT", "/api/v1/kb/articles/{id}", "ANNNNANN U A"),
    ("PUT", "/api/v1/kb/proposals/{id}", "AAAAAAAA U A"),
    ("PUT", "/api/v1/kb/synonyms", "AFFFFAFF U A"),
    ("PUT", "/api/v1/reports/bulletins/schedule", "AFFFFFFF U A"),
    ("PUT", "/api/v1/reports/districts/map", "AFFFFFFF U A"),
    ("PUT", "/api/v1/reports/ranking/weights", "AAAAAAAA U A"),
    ("DELETE", "/api/v1/session", "AAAAAAAA U A"),
    ("POST", "/api/v1/session", "AAAAAAAA A A"),
    ("POST", "/logout", "LLLLLLLL L L"), // logging out always ends on the login page
];

/// What a non-GET request sends: a body the extractor accepts but that
/// changes nothing or is refused by the service after its permission
/// check. Form posts get the session's CSRF token added.
fn probe(method: &str, path: &str) -> Probe {
    let form = |f: &[(&str, &str)]| {
        Probe::Form(
            f.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    let j = Probe::Json;
    match (method, path) {
        (_, p) if !p.starts_with("/api/") && method == "POST" => form(&[("name", "")]),
        ("POST", "/api/v1/session") => j(json!({"username": "op2", "password": app::PW})),
        ("POST", "/api/v1/setup") => {
            j(json!({"username": "x", "password": "x", "display_name": "x"}))
        }
        ("POST", "/api/v1/session/password") => {
            j(json!({"current": "wrong-password", "new": "short"}))
        }
        ("POST", "/api/v1/tickets") => j(json!({"content": ""})),
        ("POST", p) if p.contains("/actions/") => j(json!({})),
        // Valid in shape, refused by the service after its permission
        // check (an empty name, folder, path …).
        ("POST", "/api/v1/admin/backups") => j(json!({"to": ""})),
        ("POST", "/api/v1/admin/backups/verify") => j(json!({"path": ""})),
        ("POST", "/api/v1/categories") => j(json!({"code": "", "name": ""})),
        ("POST", "/api/v1/units") => j(json!({"name": ""})),
        ("POST", "/api/v1/units/import") => j(json!({"csv": ""})),
        ("POST", "/api/v1/users") => {
            j(json!({"username": "", "password": "", "display_name": "", "roles": []}))
        }
        ("POST", "/api/v1/tokens") => j(json!({"name": "", "user_id": 1})),
        ("POST", "/api/v1/kb/articles") => j(json!({"title": ""})),
        ("PUT", "/api/v1/kb/synonyms") => j(json!({"groups": [["矩阵", ""]]})),
        ("POST", "/api/v1/dev/clock") => j(json!({"now": "not a time"})),
        ("PATCH", _) => j(json!({})),
        ("PUT", "/api/v1/reports/districts/map") => Probe::Raw("{}".into()),
        ("POST", "/api/v1/attachments") | ("POST", "/api/v1/public/tickets") => {
            Probe::Raw(String::new())
        }
        ("DELETE", _) => Probe::None,
        _ => j(json!({})),
    }
}

/// Required query parameters of the GET routes that have them.
fn query_of(method: &str, path: &str) -> &'static str {
    match (method, path) {
        ("GET", "/api/v1/kb/search") => "?q=%E7%A4%BE%E4%BF%9D",
        ("GET", "/api/v1/tickets/similar") => "?q=%E5%81%9C%E6%B0%B4",
        ("GET", "/api/v1/tickets/danger") => "?q=%E7%87%83%E6%B0%94",
        ("GET", "/api/v1/reports/bulletins") => "?kind=daily",
        ("GET", "/api/v1/admin/backups") => "?dir=/nonexistent-matrix",
        _ => "",
    }
}

enum Probe {
    None,
    Json(Value),
    Raw(String),
    Form(Vec<(String, String)>),
}

/// The real objects substituted for path parameters.
struct Objects {
    vars: HashMap<&'static str, String>,
}

impl Objects {
    fn fill(&self, method: &str, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let j = rest[i..].find('}').unwrap() + i;
            let name = &rest[i + 1..j];
            out.push_str(&self.value(method, template, name));
            rest = &rest[j + 1..];
        }
        out.push_str(rest);
        out
    }

    fn value(&self, method: &str, template: &str, name: &str) -> String {
        let key: &str = match (name, template) {
            ("id", t) if t.starts_with("/api/v1/users") || t.starts_with("/admin/users") => "user",
            ("id", t) if t.starts_with("/api/v1/units") || t.starts_with("/admin/units") => "unit",
            ("id", t) if t.starts_with("/api/v1/tokens") => "token_api",
            ("id", t) if t.starts_with("/admin/tokens") => "token_page",
            ("id", t) if t.contains("/kb/proposals/") => "proposal",
            ("id", t) if t.contains("/kb/") => "article",
            ("pid", _) => "proposal",
            ("action", t) if t.contains("/tickets/") => "ticket_action",
            ("action", t) if t.contains("/proposals/") => "proposal_action",
            ("action", _) => "article_action",
            ("code", t) if t.starts_with("/lang") => "lang",
            ("code", _) => "category",
            ("sha", t) | ("sha256", t) if t.contains("/kb/") => "kb_sha",
            ("sha", _) | ("sha256", _) => "sha",
            ("*path", _) => "static",
            ("v", _) | ("version", _) => "version",
            ("name", t) if t.starts_with("/queues") => "queue",
            ("year", _) => "year",
            ("date", _) => "date",
            ("number", _) => "number",
            ("kind", _) => "bulletin_kind",
            ("key", _) => "bulletin_key",
            ("file", _) => "file",
            _ => panic!("no object for {{{name}}} in {method} {template}"),
        };
        self.vars
            .get(key)
            .unwrap_or_else(|| panic!("no value for {key}"))
            .clone()
    }
}

/// What to call each column with.
struct Caller {
    who: Who,
    bearer: Option<String>,
}

async fn send(app: &App, c: &Caller, method: &str, path: &str, p: &Probe) -> Resp {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(ck) = &c.who.cookie {
        b = b.header(header::COOKIE, ck);
    }
    if let Some(t) = &c.bearer {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(cs) = &c.who.csrf {
        b = b.header("x-csrf-token", cs);
    }
    let req = match p {
        Probe::None => b.body(Body::empty()).unwrap(),
        Probe::Json(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        Probe::Raw(s) => b
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(s.clone()))
            .unwrap(),
        Probe::Form(f) => {
            let mut body = format!("csrf={}", c.who.csrf.clone().unwrap_or_default());
            for (k, v) in f {
                body.push_str(&format!("&{k}={v}"));
            }
            b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap()
        }
    };
    send_req(app, req).await
}

/// Sends a request; an event stream's body is not read (it never ends).
async fn send_req(app: &App, mut req: Request<Body>) -> Resp {
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [10, 0, 0, 9],
            5555,
        ))));
    let r = app.router.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let stream = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/event-stream"));
    let body = if stream {
        vec![]
    } else {
        r.into_body().collect().await.unwrap().to_bytes().to_vec()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn outcome(method: &str, r: &Resp) -> char {
    let s = r.status;
    if s.is_server_error() {
        return 'E';
    }
    match s {
        StatusCode::UNAUTHORIZED => 'U',
        StatusCode::FORBIDDEN => 'F',
        StatusCode::NOT_FOUND => 'N',
        StatusCode::METHOD_NOT_ALLOWED => 'M',
        s if s.is_redirection() => {
            if r.header(header::LOCATION).starts_with("/login") {
                'L'
            } else {
                'A'
            }
        }
        s if s.is_success() => 'A',
        StatusCode::BAD_REQUEST | StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY
            if method != "GET" =>
        {
            'A'
        }
        _ => '?',
    }
}

/// The routes the program serves: the OpenAPI operations and every
/// `.route(` of the page and API source (the route table and the modules
/// it merges).
fn served_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in ["get", "put", "post", "delete", "patch"] {
            if item.get(m).is_some() {
                out.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = vec![format!("{root}/src/lib.rs")];
    fn walk(dir: &std::path::Path, files: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, files);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p.display().to_string());
            }
        }
    }
    walk(
        std::path::Path::new(&format!("{root}/src/http")),
        &mut files,
    );
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        for (i, _) in src.match_indices(".route(") {
            // The call's arguments, up to the matching parenthesis.
            let args = &src[i + 7..];
            let mut depth = 1;
            let mut end = 0;
            for (k, ch) in args.char_indices() {
                match ch {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = k;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let args = &args[..end];
            let Some(q) = args.find('"') else { continue };
            let path = &args[q + 1..];
            let path = &path[..path.find('"').unwrap()];
            let after = &args[q + path.len() + 2..];
            let mut any = false;
            for m in ["get", "post", "put", "delete", "patch"] {
                let needle = format!("{m}(");
                let found = after.match_indices(&needle).any(|(k, _)| {
                    k == 0
                        || !after.as_bytes()[k - 1].is_ascii_alphanumeric()
                            && after.as_bytes()[k - 1] != b'_'
                });
                if found {
                    out.insert((m.to_uppercase(), path.to_string()));
                    any = true;
                }
            }
            if !any && path == "/api/v1/openapi.json" {
                out.insert(("GET".into(), path.to_string()));
            }
        }
    }
    out
}

/// Every answer body of the department user is scanned for these.
struct Secrets {
    /// Ticket numbers outside the user's units.
    numbers: Vec<String>,
    /// Phone numbers (full digits) of every ticket.
    phones: Vec<String>,
    /// Names of callers the user may not see: of hidden tickets, and of
    /// tickets outside its units, less names it may legitimately see.
    names: Vec<String>,
}

impl Secrets {
    fn leaks(&self, body: &str) -> Vec<String> {
        self.leaks_except(body, "")
    }

    /// [`leaks`](Self::leaks), except the ticket number the request itself
    /// named (a 404 or a search form says what was asked for).
    fn leaks_except(&self, body: &str, asked: &str) -> Vec<String> {
        let mut out = vec![];
        for n in &self.numbers {
            if n != asked && body.contains(n.as_str()) {
                out.push(format!("ticket {n}"));
            }
        }
        for p in &self.phones {
            if body.contains(p.as_str()) {
                out.push(format!("phone {p}"));
            }
        }
        for n in &self.names {
            if body.contains(n.as_str()) {
                out.push(format!("caller {n}"));
            }
        }
        if let Some(d) = mobile_number(body) {
            out.push(format!("unmasked mobile number {d}"));
        }
        out
    }
}

/// An 11-digit mainland mobile number standing alone in the text.
fn mobile_number(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 11 && b[start] == b'1' && (b'3'..=b'9').contains(&b[start + 1]) {
                return Some(s[start..i].to_string());
            }
        } else {
            i += 1;
        }
    }
    None
}

async fn all_tickets(app: &App, who: &Who) -> Vec<Value> {
    let mut out = vec![];
    let mut cursor = String::new();
    loop {
        let r = app
            .get(who, &format!("/api/v1/tickets?limit=200&cursor={cursor}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        out.extend(v["items"].as_array().unwrap().iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_role_matrix_and_department_scope() {
    let started = std::time::Instant::now();
    let app = App::demo("matrix", 150);
    let doc = app
        .get(&Who::default(), "/api/v1/openapi.json")
        .await
        .json();

    // --- the callers
    let mut callers: BTreeMap<&str, Caller> = BTreeMap::new();
    for u in COLUMNS[..8].iter().copied() {
        callers.insert(
            u,
            Caller {
                who: app.login(u).await,
                bearer: None,
            },
        );
    }
    let admin = callers["admin"].who.clone();
    let users = app.get(&admin, "/api/v1/users").await.json();
    let uid = |name: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap_or_else(|| panic!("no user {name}"))["id"]
            .as_u64()
            .unwrap()
    };
    let mk_token = |name: &'static str| {
        let app = &app;
        let admin = admin.clone();
        let id = uid("admin");
        async move {
            let r = app
                .call(
                    &admin,
                    "POST",
                    "/api/v1/tokens",
                    Some(json!({"name": name, "user_id": id})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            r.json()
        }
    };
    let token = mk_token("matrix").await;
    callers.insert(
        "anon",
        Caller {
            who: Who::default(),
            bearer: None,
        },
    );
    callers.insert(
        "token",
        Caller {
            who: Who::default(),
            bearer: Some(token["token"].as_str().unwrap().to_string()),
        },
    );
    let token_api = mk_token("matrix-revoke-api").await;
    let token_page = mk_token("matrix-revoke-page").await;

    // --- the objects
    let water_unit = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "water")
        .unwrap()["unit_id"]
        .as_u64()
        .unwrap() as u32;
    let subtree = app.svc.dir().tree.subtree(water_unit);
    let tickets = all_tickets(&app, &admin).await;
    assert!(tickets.len() >= 100, "{} tickets", tickets.len());
    let record = |n: &str| {
        let no = hotline::domain::ticket::TicketNo::parse(n).unwrap();
        app.svc.store.ticket(no).unwrap().unwrap()
    };
    let (inside, outside): (Vec<&Value>, Vec<&Value>) = tickets.iter().partition(|t| {
        let r = record(t["number"].as_str().unwrap());
        r.units_seen.iter().any(|u| subtree.contains(u))
    });
    assert!(
        !inside.is_empty() && outside.len() > 20,
        "{} in, {} out",
        inside.len(),
        outside.len()
    );
    let number = inside[0]["number"].as_str().unwrap().to_string();
    let secrets = {
        let rec = |t: &&Value| record(t["number"].as_str().unwrap());
        let visible: BTreeSet<String> = inside
            .iter()
            .map(rec)
            .filter(|r| !r.identity_hidden_from_departments())
            .map(|r| r.caller_name.clone())
            .collect();
        let mut names = BTreeSet::new();
        for t in tickets.iter() {
            let r = record(t["number"].as_str().unwrap());
            let out = !r.units_seen.iter().any(|u| subtree.contains(u));
            if (out || r.identity_hidden_from_departments())
                && r.caller_name.chars().count() >= 2
                && !visible.contains(&r.caller_name)
            {
                names.insert(r.caller_name.clone());
            }
        }
        Secrets {
            numbers: outside
                .iter()
                .map(|t| t["number"].as_str().unwrap().to_string())
                .collect(),
            phones: tickets
                .iter()
                .map(|t| record(t["number"].as_str().unwrap()).caller_phone)
                .filter(|p| p.len() >= 7)
                .collect(),
            names: names.into_iter().collect(),
        }
    };
    assert!(
        !secrets.names.is_empty(),
        "the demo has hidden or outside callers"
    );
    let with_file = tickets
        .iter()
        .find(|t| t["attachments"].as_array().is_some_and(|a| !a.is_empty()));
    let sha = with_file
        .map(|t| t["attachments"][0]["sha256"].as_str().unwrap().to_string())
        .unwrap_or_else(|| "0".repeat(64));
    let units = app.get(&admin, "/api/v1/units").await.json();
    let unit = units[1]["id"].to_string();
    let cats = app.get(&admin, "/api/v1/categories").await.json();
    let category = cats[0]["code"].as_str().unwrap().to_string();
    let arts = app.get(&admin, "/api/v1/kb/articles?limit=5").await.json();
    let article = arts["items"][0]["id"].to_string();
    let prop = app
        .call(
            &callers["op1"].who,
            "POST",
            "/api/v1/kb/articles",
            Some(
                json!({"kind": "faq", "title": "矩阵测试提议", "question": "问", "body": "答",
                        "category": arts["items"][0]["category"], "note": "matrix"}),
            ),
        )
        .await;
    assert_eq!(prop.status, StatusCode::CREATED, "{}", prop.text());
    let proposal = prop.json()["id"].to_string();
    let today = app.today();
    let mut vars: HashMap<&'static str, String> = HashMap::new();
    vars.insert("user", uid("op2").to_string());
    vars.insert("unit", unit);
    vars.insert("queue", "dispatch".to_string());
    vars.insert("token_api", token_api["id"].to_string());
    vars.insert("token_page", token_page["id"].to_string());
    vars.insert("article", article);
    vars.insert("proposal", proposal);
    vars.insert("ticket_action", "progress".into());
    vars.insert("proposal_action", "withdraw".into());
    vars.insert("article_action", "archive".into());
    vars.insert("lang", "en".into());
    vars.insert("category", category);
    vars.insert("kb_sha", "0".repeat(64));
    vars.insert("sha", sha);
    vars.insert("static", "app.css".into());
    vars.insert("version", "1".into());
    vars.insert("year", today.year().to_string());
    vars.insert("date", format!("{}-10-01", today.year()));
    vars.insert("number", number.clone());
    vars.insert("bulletin_kind", "daily".into());
    vars.insert("bulletin_key", today.yesterday().unwrap().to_string());
    vars.insert("file", "holidays.csv".into());
    let objects = Objects { vars };

    // --- every route has a row, every row a route
    let served = served_routes(&doc);
    let rows: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = served.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&served).collect();

    // --- the cells. Logging out is last: it ends the session.
    let mut order: Vec<&(&str, &str, &str)> = TABLE.iter().collect();
    order.sort_by_key(|(m, p, _)| (*p == "/logout" || *p == "/api/v1/session") && *m != "GET");
    let mut wrong = vec![];
    let mut actual_rows = vec![];
    for (method, template, expect) in order {
        let path = objects.fill(method, template) + query_of(method, template);
        let p = probe(method, template);
        let mut got = String::new();
        for col in COLUMNS {
            let r = send(&app, &callers[col], method, &path, &p).await;
            got.push(outcome(method, &r));
            if col == "water" {
                let leaks = secrets.leaks(&r.text());
                if !leaks.is_empty() {
                    wrong.push(format!("{method} {path} as water: {leaks:?}"));
                }
            }
        }
        let want: String = expect.chars().filter(|c| !c.is_whitespace()).collect();
        if got != want {
            wrong.push(format!("{method} {template}: expected {want}, got {got}"));
        }
        actual_rows.push(format!("    (\"{method}\", \"{template}\", \"{got}\"),"));
    }
    if std::env::var("HOTLINE_MATRIX_PRINT").is_ok() {
        actual_rows.sort();
        let mut missing = missing.clone();
        missing.sort_by_key(|(m, p)| (p == "/logout" || p == "/api/v1/session") && m != "GET");
        for m in &missing {
            let path = objects.fill(&m.0, &m.1) + query_of(&m.0, &m.1);
            let p = probe(&m.0, &m.1);
            let mut got = String::new();
            for col in COLUMNS {
                let r = send(&app, &callers[col], &m.0, &path, &p).await;
                got.push(outcome(&m.0, &r));
            }
            actual_rows.push(format!("    (\"{}\", \"{}\", \"{got}\"), // new", m.0, m.1));
        }
        println!("{}", actual_rows.join("\n"));
    }
    assert!(
        missing.is_empty(),
        "routes without a row in TABLE: {missing:?}"
    );
    assert!(stale.is_empty(), "rows without a route: {stale:?}");
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // --- department scope: tickets outside the water unit's units
    let mut far: Vec<&Value> = outside
        .iter()
        .filter(|t| record(t["number"].as_str().unwrap()).identity_hidden_from_departments())
        .take(2)
        .copied()
        .collect();
    far.extend(outside.iter().take(3).copied());
    // The matrix logged everyone out at its end: a fresh session.
    let water = &Caller {
        who: app.login("water").await,
        bearer: None,
    };
    let mut scope_wrong = vec![];
    for t in &far {
        let n = t["number"].as_str().unwrap();
        // The citizens' lookup is public and answers the same for anyone.
        let scoped = TABLE
            .iter()
            .filter(|(_, p, _)| p.contains("{number}") && !p.starts_with("/api/v1/public/"));
        for (method, template, _) in scoped {
            let mut o = Objects {
                vars: objects.vars.clone(),
            };
            o.vars.insert("number", n.to_string());
            let path = o.fill(method, template);
            let r = send(&app, water, method, &path, &probe(method, template)).await;
            if !matches!(r.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN) {
                scope_wrong.push(format!(
                    "{method} {path}: {} for a ticket outside the unit",
                    r.status
                ));
            }
            let leaks = secrets.leaks_except(&r.text(), n);
            if !leaks.is_empty() {
                scope_wrong.push(format!("{method} {path}: {leaks:?}"));
            }
        }
    }
    let t = far[0];
    let rec = record(t["number"].as_str().unwrap());
    let word: String = rec.title.chars().take(4).collect();
    let enc = |s: &str| urlencode(s);
    let mut asks: Vec<String> = vec![
        format!("/api/v1/tickets?number={}", t["number"].as_str().unwrap()),
        format!("/api/v1/tickets?q={}", enc(&word)),
        format!("/api/v1/tickets?caller_name={}", enc(&rec.caller_name)),
        format!("/api/v1/tickets/similar?q={}&limit=20", enc(&rec.content)),
        format!("/api/v1/kb/search?q={}", enc(&word)),
        "/api/v1/reports/dashboard".into(),
        "/api/v1/reports/kpis".into(),
        "/api/v1/reports/kpis?format=csv".into(),
        "/api/v1/reports/districts".into(),
        "/api/v1/reports/districts?format=csv".into(),
        "/api/v1/reports/ranking".into(),
        "/api/v1/reports/ranking?format=csv".into(),
        "/api/v1/reports/bulletins?kind=daily".into(),
        format!(
            "/api/v1/reports/bulletins/daily/{}",
            objects.vars["bulletin_key"]
        ),
        format!(
            "/api/v1/reports/bulletins/daily/{}?format=csv",
            objects.vars["bulletin_key"]
        ),
        "/tickets".into(),
        format!("/tickets?q={}", enc(&word)),
        format!("/tickets?number={}", t["number"].as_str().unwrap()),
        "/inbox".into(),
        "/sent-back".into(),
        "/dashboard".into(),
        "/dashboard/wall".into(),
        "/reports".into(),
        "/reports/districts".into(),
        "/reports/ranking".into(),
        "/reports/bulletins".into(),
        format!("/reports/bulletins/daily/{}", objects.vars["bulletin_key"]),
    ];
    for tab in [
        "sign_for",
        "in_progress",
        "approval",
        "due_today",
        "overdue",
        "returned",
    ] {
        asks.push(format!("/api/v1/inbox?tab={tab}"));
        asks.push(format!("/inbox?tab={tab}"));
    }
    // Every page of the department's own list.
    let mut own = 0;
    for v in all_tickets(&app, &water.who).await {
        own += 1;
        let n = v["number"].as_str().unwrap();
        if secrets.numbers.iter().any(|x| x == n) {
            scope_wrong.push(format!("the list shows {n}, outside the unit"));
        }
        let leaks = secrets.leaks(&v.to_string());
        if !leaks.is_empty() {
            scope_wrong.push(format!("list item {n}: {leaks:?}"));
        }
    }
    assert!(own > 0, "the department sees its own tickets");
    for path in &asks {
        let r = send(&app, water, "GET", path, &Probe::None).await;
        if r.status.is_server_error() {
            scope_wrong.push(format!("GET {path}: {}", r.status));
        }
        let asked = t["number"].as_str().unwrap();
        let asked = if path.contains(asked) { asked } else { "" };
        let leaks = secrets.leaks_except(&r.text(), asked);
        if !leaks.is_empty() {
            scope_wrong.push(format!("GET {path}: {leaks:?}"));
        }
    }
    assert!(
        scope_wrong.is_empty(),
        "department scope:\n{}",
        scope_wrong.join("\n")
    );
    eprintln!(
        "matrix: {} rows × {} columns in {:?}",
        TABLE.len(),
        COLUMNS.len(),
        started.elapsed()
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
