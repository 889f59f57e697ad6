//! In-process HTTP tests of the knowledge base (issue 4, without the
//! full-text engine): review workflow, notices and acknowledgements,
//! validity dates, permissions, the search outbox, reports, synonyms, bad
//! input, and every KB route (API and pages).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use hotline::service::Services;
use hotline::store::kb::OutboxKind;

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> TempDir {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let p = std::env::temp_dir().join(format!(
        "hotline-test-kb-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    TempDir(p)
}

#[derive(Clone, Default)]
struct Who {
    cookie: Option<String>,
    csrf: Option<String>,
}

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn ctype(&self) -> String {
        self.headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
    fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

struct App {
    router: axum::Router,
    svc: Arc<Services>,
    _dir: TempDir,
}

impl App {
    fn new() -> App {
        App::with_max_attachment_mb(20)
    }

    fn with_max_attachment_mb(mb: u64) -> App {
        let dir = temp_dir();
        let mut cfg =
            hotline::config::Config::resolve(Some(dir.0.clone()), None, false, false).unwrap();
        cfg.max_attachment_mb = mb;
        let svc = hotline::open_services(&cfg).unwrap();
        let state = hotline::http::AppState::new(svc, false);
        let svc = state.svc.clone();
        App {
            router: hotline::build_app(state),
            svc,
            _dir: dir,
        }
    }

    async fn send(&self, mut req: Request<Body>) -> Resp {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 5555))));
        let r = self.router.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    async fn call(&self, who: &Who, method: &str, path: &str, body: Option<Value>) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(c) = &who.cookie {
            b = b.header(header::COOKIE, c);
        }
        if let Some(c) = &who.csrf {
            b = b.header("x-csrf-token", c);
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    async fn raw(&self, who: &Who, method: &str, path: &str, body: &str) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(c) = &who.cookie {
            b = b.header(header::COOKIE, c);
        }
        if let Some(c) = &who.csrf {
            b = b.header("x-csrf-token", c);
        }
        self.send(
            b.header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn get(&self, who: &Who, path: &str) -> Resp {
        self.call(who, "GET", path, None).await
    }

    /// A page form post with the session's CSRF field.
    async fn form(&self, who: &Who, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut body = format!("csrf={}", who.csrf.clone().unwrap_or_default());
        for (k, v) in fields {
            body.push_str(&format!("&{k}={}", enc(v)));
        }
        let mut b = Request::builder().method("POST").uri(path);
        if let Some(c) = &who.cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(
            b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// A page form post as the browser sends it: `multipart/form-data`,
    /// the session's CSRF field first, then `fields`, then `files`
    /// (name, bytes) in the `files` input.
    async fn multipart(
        &self,
        who: &Who,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> Resp {
        let boundary = "----hotlineTestBoundary7MA4YWxkTrZu0gW";
        let mut body: Vec<u8> = vec![];
        let csrf = who.csrf.clone().unwrap_or_default();
        let text = |body: &mut Vec<u8>, k: &str, v: &str| {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        };
        text(&mut body, "csrf", &csrf);
        for (k, v) in fields {
            text(&mut body, k, v);
        }
        for (name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut b = Request::builder().method("POST").uri(path);
        if let Some(c) = &who.cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(
            b.header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap(),
        )
        .await
    }

    /// Files under the attachments directory.
    fn stored_files(&self) -> usize {
        fn count(p: &std::path::Path) -> usize {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| {
                            if e.path().is_dir() {
                                count(&e.path())
                            } else {
                                1
                            }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        count(&self.svc.paths.attachments())
    }

    async fn login(&self, user: &str, pw: &str) -> Who {
        let r = self
            .call(
                &Who::default(),
                "POST",
                "/api/v1/session",
                Some(json!({"username": user, "password": pw})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {user}: {}", r.text());
        let cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        Who {
            cookie: Some(cookie.split(';').next().unwrap().to_string()),
            csrf: Some(r.json()["csrf_token"].as_str().unwrap().to_string()),
        }
    }
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Administrator, team lead (editor), two operators, a leader, a
/// dispatcher, department users of unit A (and its child A1) and of B.
struct World {
    app: App,
    admin: Who,
    lead: Who,
    op: Who,
    op2: Who,
    leader: Who,
    dept_a: Who,
    dept_b: Who,
    unit_a: u64,
    unit_a1: u64,
    unit_b: u64,
    op_id: u64,
    op2_id: u64,
}

async fn world() -> World {
    world_on(App::new()).await
}

async fn world_on(app: App) -> World {
    let r = app
        .call(
            &Who::default(),
            "POST",
            "/api/v1/setup",
            Some(json!({"username":"admin","password":"admin-pass-1","display_name":"管理员"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let admin = app.login("admin", "admin-pass-1").await;
    let unit = |name: &str, parent: Option<u64>| json!({"name": name, "parent_id": parent});
    let mut ids = vec![];
    for (n, p) in [
        ("区水务局", None),
        ("供水营业所", Some(0)),
        ("区燃气公司", None),
    ] {
        let parent = p.map(|i: usize| ids[i]);
        let r = app
            .call(&admin, "POST", "/api/v1/units", Some(unit(n, parent)))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        ids.push(r.json()["id"].as_u64().unwrap());
    }
    let (a, a1, b) = (ids[0], ids[1], ids[2]);
    let r = app
        .call(
            &admin,
            "POST",
            "/api/v1/categories",
            Some(json!({"code":"01","name":"供水","parent_code":null,"default_unit_id":a})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let mut user_ids = std::collections::HashMap::new();
    for (u, roles, unit) in [
        ("lead", json!(["team_lead"]), None),
        ("op", json!(["operator"]), None),
        ("op2", json!(["operator"]), None),
        ("leader", json!(["leader"]), None),
        ("disp", json!(["dispatcher"]), None),
        ("depta", json!(["department_handler"]), Some(a)),
        ("deptb", json!(["department_handler"]), Some(b)),
    ] {
        let r = app
            .call(&admin, "POST", "/api/v1/users", Some(json!({"username":u,"password":"password-1","display_name":format!("用户{u}"),"roles":roles,"unit_id":unit})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        user_ids.insert(u, r.json()["id"].as_u64().unwrap());
    }
    World {
        lead: app.login("lead", "password-1").await,
        op: app.login("op", "password-1").await,
        op2: app.login("op2", "password-1").await,
        leader: app.login("leader", "password-1").await,
        dept_a: app.login("depta", "password-1").await,
        dept_b: app.login("deptb", "password-1").await,
        app,
        admin,
        unit_a: a,
        unit_a1: a1,
        unit_b: b,
        op_id: user_ids["op"],
        op2_id: user_ids["op2"],
    }
}

fn article(title: &str, unit: u64) -> Value {
    json!({"kind":"faq","title":title,"question":"家里停水了怎么办？","body":"请拨打供水服务热线 0532-80000000，抢修人员2小时内到场。",
           "category":"水电气热/供水","department_id":unit,"keywords":["停水","没水"],"valid_from":"2020-01-01"})
}

impl World {
    /// The lead publishes an article at once; returns its id.
    async fn published(&self, body: Value) -> u64 {
        let mut b = body;
        b["publish"] = json!(true);
        let r = self
            .app
            .call(&self.lead, "POST", "/api/v1/kb/articles", Some(b))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json()["state"], "published");
        r.json()["article_id"].as_u64().unwrap()
    }

    async fn ticket(&self) -> String {
        let r = self
            .app
            .call(
                &self.op,
                "POST",
                "/api/v1/tickets",
                Some(json!({"caller_phone":"13812345678","caller_name":"张三","channel":"phone","appeal_type":"consultation",
                       "category_code":"01","district":"市南区","street":"八大关街道","address":"香港中路18号",
                       "title":"","content":"家里停水了","urgency":"normal"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["number"].as_str().unwrap().to_string()
    }
}

fn assert_problem(r: &Resp, status: StatusCode) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.ctype(), "application/problem+json", "{}", r.text());
    assert!(!r.json()["detail"].as_str().unwrap_or("").is_empty());
}

#[tokio::test]
async fn review_workflow_propose_edit_publish_correct_reject() {
    let w = world().await;
    let app = &w.app;
    // An operator proposes a new article: it waits for review.
    let r = app
        .call(
            &w.op,
            "POST",
            "/api/v1/kb/articles",
            Some(article("停水怎么办", w.unit_a)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let p = r.json();
    let pid = p["id"].as_u64().unwrap();
    assert_eq!(p["state"], "pending");
    assert_eq!(p["article_id"], Value::Null);
    assert_eq!(p["can_review"], false);
    assert_eq!(p["can_edit"], true);
    // Operators cannot publish: 403 with the reason.
    let r = app
        .call(
            &w.op,
            "POST",
            &format!("/api/v1/kb/proposals/{pid}/actions/publish"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    assert!(r.json()["detail"].as_str().unwrap().contains("班长"));
    // …nor publish at once.
    let mut b = article("直接发布", w.unit_a);
    b["publish"] = json!(true);
    let r = app
        .call(&w.op, "POST", "/api/v1/kb/articles", Some(b))
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    // Nothing is readable yet.
    let r = app.get(&w.op, "/api/v1/kb/articles").await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);
    // The lead sees it in the queue, edits and publishes it.
    let r = app.get(&w.lead, "/api/v1/kb/proposals").await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], pid);
    let r = app
        .call(
            &w.lead,
            "PUT",
            &format!("/api/v1/kb/proposals/{pid}"),
            Some(json!({"title":"家中停水处理办法"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["content"]["title"], "家中停水处理办法");
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/proposals/{pid}/actions/publish"),
            Some(json!({"note":"首次发布"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "published");
    assert_eq!(r.json()["published_version"], 1);
    let id = r.json()["article_id"].as_u64().unwrap();
    // Published twice? 409.
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/proposals/{pid}/actions/publish"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    let r = app.get(&w.op, &format!("/api/v1/kb/articles/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    let a = r.json();
    assert_eq!(a["version"], 1);
    assert_eq!(a["title"], "家中停水处理办法");
    assert_eq!(a["kind"], "faq");
    assert_eq!(a["department_id"], w.unit_a);
    assert_eq!(a["department"], "区水务局");
    assert_eq!(a["validity"], "current");
    // The operator says the answer is out of date, from a ticket.
    let ticket = w.ticket().await;
    let r = app
        .call(
            &w.op,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({"note":"这个答复已经过时，热线号码变了","ticket":ticket})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let p2 = r.json();
    let pid2 = p2["id"].as_u64().unwrap();
    assert_eq!(p2["article_id"], id);
    assert_eq!(p2["base_version"], 1);
    assert_eq!(p2["ticket"], ticket.as_str());
    assert_eq!(p2["changes"].as_array().unwrap().len(), 0);
    // The lead corrects the text and publishes version 2.
    let r = app
        .call(
            &w.lead,
            "PUT",
            &format!("/api/v1/kb/proposals/{pid2}"),
            Some(json!({"body":"请拨打供水服务热线 0532-81111111，抢修人员2小时内到场。"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["changes"][0]["field"], "body");
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/proposals/{pid2}/actions/publish"),
            Some(json!({"note":"更新热线号码"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["published_version"], 2);
    let r = app
        .get(&w.op, &format!("/api/v1/kb/articles/{id}/versions"))
        .await;
    let vs = r.json();
    assert_eq!(vs.as_array().unwrap().len(), 2);
    assert_eq!(vs[0]["version"], 2);
    assert_eq!(vs[0]["author"], "用户op");
    assert_eq!(vs[0]["editor"], "用户lead");
    assert_eq!(vs[0]["note"], "更新热线号码");
    assert_eq!(
        vs[1]["content"]["body"],
        "请拨打供水服务热线 0532-80000000，抢修人员2小时内到场。"
    );
    let r = app
        .get(&w.op, &format!("/api/v1/kb/articles/{id}/versions/1"))
        .await;
    assert_eq!(r.json()["version"], 1);
    // A readable diff between the versions.
    let r = app
        .get(&w.op, &format!("/api/v1/kb/articles/{id}/diff?from=1&to=2"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let d = r.json();
    assert_eq!(d["fields"][0]["field"], "body");
    let segs = d["fields"][0]["segments"].as_array().unwrap();
    let text_of = |op: &str| -> String {
        segs.iter()
            .filter(|s| s["op"] == op)
            .map(|s| s["text"].as_str().unwrap())
            .collect()
    };
    assert_eq!(text_of("delete"), "0000000");
    assert_eq!(text_of("insert"), "1111111");
    assert_eq!(
        text_of("equal"),
        "请拨打供水服务热线 0532-8，抢修人员2小时内到场。"
    );
    // Reject needs a reason; then the proposal is closed for edits.
    let r = app
        .call(
            &w.op,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({"title":"瞎改"})),
        )
        .await;
    let pid3 = r.json()["id"].as_u64().unwrap();
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/proposals/{pid3}/actions/reject"),
            Some(json!({})),
        )
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "reason");
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/proposals/{pid3}/actions/reject"),
            Some(json!({"reason":"标题不规范"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "rejected");
    assert_eq!(r.json()["reason"], "标题不规范");
    let r = app
        .call(
            &w.op,
            "PUT",
            &format!("/api/v1/kb/proposals/{pid3}"),
            Some(json!({"title":"再改"})),
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    // The author sees their own proposals, with the reason.
    let r = app.get(&w.op, "/api/v1/kb/proposals?state=rejected").await;
    assert_eq!(r.json()["items"][0]["reason"], "标题不规范");
    // Withdraw: only the author, only pending.
    let r = app
        .call(
            &w.op,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({"note":"再看看"})),
        )
        .await;
    let pid4 = r.json()["id"].as_u64().unwrap();
    let r = app
        .call(
            &w.op2,
            "POST",
            &format!("/api/v1/kb/proposals/{pid4}/actions/withdraw"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    let r = app
        .call(
            &w.op,
            "POST",
            &format!("/api/v1/kb/proposals/{pid4}/actions/withdraw"),
            None,
        )
        .await;
    assert_eq!(r.json()["state"], "withdrawn");
    // A correction written against an older version cannot be published
    // blindly: the editor saves it first (rebasing), then publishes.
    let r = app
        .call(
            &w.op,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({"keywords":["停水","断水"]})),
        )
        .await;
    let old = r.json()["id"].as_u64().unwrap();
    let r = app
        .call(
            &w.lead,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({"must_read":true,"publish":true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/proposals/{old}/actions/publish"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    let r = app
        .call(
            &w.lead,
            "PUT",
            &format!("/api/v1/kb/proposals/{old}"),
            Some(json!({"publish":true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["published_version"], 4);
    let r = app.get(&w.op, &format!("/api/v1/kb/articles/{id}")).await;
    assert_eq!(r.json()["keywords"], json!(["停水", "断水"]));
    assert_eq!(r.json()["must_read"], true);
    // Unknown actions are 404; publishes and rejections are in the audit log.
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/proposals/{old}/actions/bless"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND);
    let r = app.get(&w.admin, "/api/v1/admin/audit?limit=50").await;
    let log = r.text();
    assert!(
        log.contains("kb.publish") && log.contains("kb.reject"),
        "{log}"
    );
}

#[tokio::test]
async fn publishing_notifies_everyone_and_must_read_needs_acks() {
    let w = world().await;
    let app = &w.app;
    let mut b = article("停水必读", w.unit_a);
    b["must_read"] = json!(true);
    let id = w.published(b).await;
    // Every agent has one unread notice; the header shows it.
    for who in [&w.op, &w.op2] {
        let r = app.get(who, "/api/v1/kb/unread").await;
        let n = r.json();
        assert_eq!(n.as_array().unwrap().len(), 1, "{n}");
        assert_eq!(n[0]["article_id"], id);
        assert_eq!(n[0]["must_read"], true);
    }
    let r = app.get(&w.op, "/tickets").await;
    assert!(r.text().contains("id=\"kb-unread-badge\""), "no badge");
    // Leaders and department users are not agents: nothing unread.
    let r = app.get(&w.leader, "/api/v1/kb/unread").await;
    assert_eq!(r.json().as_array().unwrap().len(), 0);
    // The lead sees who has not acknowledged.
    let r = app
        .get(&w.lead, &format!("/api/v1/kb/articles/{id}/acks"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let missing: Vec<u64> = r.json()["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_id"].as_u64().unwrap())
        .collect();
    assert!(missing.contains(&w.op_id) && missing.contains(&w.op2_id));
    // Reading marks read; acknowledging records this version.
    let r = app.get(&w.op, &format!("/api/v1/kb/articles/{id}")).await;
    assert_eq!(r.json()["acknowledged"], false);
    let r = app.get(&w.op, "/api/v1/kb/unread").await;
    assert_eq!(r.json().as_array().unwrap().len(), 0);
    let r = app.get(&w.op, "/tickets").await;
    assert!(!r.text().contains("id=\"kb-unread-badge\""));
    let r = app
        .call(
            &w.op,
            "POST",
            &format!("/api/v1/kb/articles/{id}/actions/acknowledge"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["recorded"], true);
    let r = app
        .call(
            &w.op,
            "POST",
            &format!("/api/v1/kb/articles/{id}/actions/acknowledge"),
            None,
        )
        .await;
    assert_eq!(r.json()["recorded"], false);
    let r = app.get(&w.op, &format!("/api/v1/kb/articles/{id}")).await;
    assert_eq!(r.json()["acknowledged"], true);
    let r = app.get(&w.lead, "/api/v1/kb/acks").await;
    assert_eq!(r.status, StatusCode::OK);
    let s = &r.json()[0];
    assert_eq!(s["article_id"], id);
    let names = |k: &str| -> Vec<u64> {
        s[k].as_array()
            .unwrap()
            .iter()
            .map(|p| p["user_id"].as_u64().unwrap())
            .collect()
    };
    assert!(names("acknowledged").contains(&w.op_id));
    assert!(names("missing").contains(&w.op2_id));
    assert!(!names("missing").contains(&w.op_id));
    // Leaders read only; operators do not see the ack status.
    let r = app
        .call(
            &w.leader,
            "POST",
            &format!("/api/v1/kb/articles/{id}/actions/acknowledge"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    let r = app.get(&w.op, "/api/v1/kb/acks").await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    // A new version needs a new acknowledgement (and is unread again).
    let r = app
        .call(
            &w.lead,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({"body":"新的答复口径。","publish":true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .get(&w.lead, &format!("/api/v1/kb/articles/{id}/acks"))
        .await;
    assert_eq!(r.json()["version"], 2);
    assert!(
        r.json()["missing"]
            .to_string()
            .contains(&format!("\"user_id\":{}", w.op_id))
    );
    let r = app.get(&w.op, "/api/v1/kb/unread").await;
    assert_eq!(r.json()[0]["version"], 2);
    // Acknowledging an old version is refused.
    let r = app
        .call(
            &w.op,
            "POST",
            &format!("/api/v1/kb/articles/{id}/actions/acknowledge"),
            Some(json!({"version":1})),
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    // Not must-read: nothing to acknowledge.
    let plain = w.published(article("普通知识", w.unit_a)).await;
    let r = app
        .call(
            &w.op,
            "POST",
            &format!("/api/v1/kb/articles/{plain}/actions/acknowledge"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    let r = app
        .get(&w.lead, &format!("/api/v1/kb/articles/{plain}/acks"))
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    // Mark all read.
    let r = app
        .call(&w.op2, "POST", "/api/v1/kb/unread/read-all", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["marked"].as_u64().unwrap() >= 2);
    assert_eq!(app.get(&w.op2, "/api/v1/kb/unread").await.json(), json!([]));
}

#[tokio::test]
async fn validity_dates_hide_expired_from_operators_and_list_them_for_editors() {
    let w = world().await;
    let app = &w.app;
    let mut old = article("旧政策", w.unit_a);
    old["valid_from"] = json!("2020-01-01");
    old["valid_to"] = json!("2021-12-31");
    let old_id = w.published(old).await;
    let mut future = article("明年新政", w.unit_a);
    future["valid_from"] = json!("2999-01-01");
    let future_id = w.published(future).await;
    let current_id = w.published(article("现行政策", w.unit_a)).await;
    let ids = |r: &Resp| -> Vec<u64> {
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_u64().unwrap())
            .collect()
    };
    let r = app.get(&w.op, "/api/v1/kb/articles").await;
    assert_eq!(ids(&r), vec![current_id]);
    // Operators cannot ask for expired ones in the list.
    let r = app.get(&w.op, "/api/v1/kb/articles?validity=expired").await;
    assert_eq!(ids(&r), vec![current_id]);
    let r = app
        .get(&w.lead, "/api/v1/kb/articles?validity=expired")
        .await;
    assert_eq!(ids(&r), vec![old_id]);
    let r = app.get(&w.lead, "/api/v1/kb/articles?validity=all").await;
    assert_eq!(ids(&r).len(), 3);
    let r = app.get(&w.lead, "/api/v1/kb/expired").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["expired"][0]["id"], old_id);
    assert_eq!(r.json()["future"][0]["id"], future_id);
    let r = app.get(&w.op, "/api/v1/kb/expired").await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    // Opening an expired article by its id works and says so.
    let r = app
        .get(&w.op, &format!("/api/v1/kb/articles/{old_id}"))
        .await;
    assert_eq!(r.json()["validity"], "expired");
    // Archived articles disappear for everyone but editors.
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/articles/{current_id}/actions/archive"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "archived");
    assert_problem(
        &app.get(&w.op, &format!("/api/v1/kb/articles/{current_id}"))
            .await,
        StatusCode::NOT_FOUND,
    );
    assert_eq!(
        ids(&app.get(&w.op, "/api/v1/kb/articles").await),
        Vec::<u64>::new()
    );
    let r = app.get(&w.lead, "/api/v1/kb/articles?state=archived").await;
    assert_eq!(ids(&r), vec![current_id]);
    let r = app
        .call(
            &w.op,
            "POST",
            &format!("/api/v1/kb/articles/{current_id}/actions/restore"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND);
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/articles/{current_id}/actions/restore"),
            None,
        )
        .await;
    assert_eq!(r.json()["state"], "published");
    // Pages: operators' list hides, editors' expired page lists.
    let r = app.get(&w.op, "/kb").await;
    assert!(r.text().contains("现行政策") && !r.text().contains("旧政策"));
    let r = app.get(&w.lead, "/kb/expired").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("旧政策") && r.text().contains("明年新政"));
    let r = app.get(&w.op, "/kb/expired").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn permissions_departments_operators_leaders() {
    let w = world().await;
    let app = &w.app;
    // A department user submits for their own unit (and units below)...
    let r = app
        .call(
            &w.dept_a,
            "POST",
            "/api/v1/kb/articles",
            Some(article("水务局政策", w.unit_a)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let own = r.json()["id"].as_u64().unwrap();
    let r = app
        .call(
            &w.dept_a,
            "POST",
            "/api/v1/kb/articles",
            Some(article("营业所政策", w.unit_a1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // ...never for another unit, nor without a unit: 403 with the reason.
    let r = app
        .call(
            &w.dept_a,
            "POST",
            "/api/v1/kb/articles",
            Some(article("燃气政策", w.unit_b)),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    assert!(r.json()["detail"].as_str().unwrap().contains("本单位"));
    let mut none = article("无部门", w.unit_a);
    none["department_id"] = json!(0);
    let r = app
        .call(&w.dept_a, "POST", "/api/v1/kb/articles", Some(none))
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    // They edit their own pending submission, not someone else's, and
    // cannot move it to another unit.
    let r = app
        .call(
            &w.dept_a,
            "PUT",
            &format!("/api/v1/kb/proposals/{own}"),
            Some(json!({"title":"水务局政策（修订）"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .call(
            &w.dept_a,
            "PUT",
            &format!("/api/v1/kb/proposals/{own}"),
            Some(json!({"department_id": w.unit_b})),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    let r = app
        .call(
            &w.dept_b,
            "PUT",
            &format!("/api/v1/kb/proposals/{own}"),
            Some(json!({"title":"x"})),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    let r = app
        .call(
            &w.op,
            "PUT",
            &format!("/api/v1/kb/proposals/{own}"),
            Some(json!({"title":"x"})),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    // Others' proposals are not even visible to them.
    assert_problem(
        &app.get(&w.dept_b, &format!("/api/v1/kb/proposals/{own}"))
            .await,
        StatusCode::NOT_FOUND,
    );
    let r = app.get(&w.dept_b, "/api/v1/kb/proposals").await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);
    // Departments cannot publish; once reviewed, they cannot edit.
    let r = app
        .call(
            &w.dept_a,
            "POST",
            &format!("/api/v1/kb/proposals/{own}/actions/publish"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/proposals/{own}/actions/publish"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let art = r.json()["article_id"].as_u64().unwrap();
    let r = app
        .call(
            &w.dept_a,
            "PUT",
            &format!("/api/v1/kb/proposals/{own}"),
            Some(json!({"title":"晚了"})),
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    // Corrections: their own unit's articles only.
    let r = app
        .call(
            &w.dept_a,
            "PUT",
            &format!("/api/v1/kb/articles/{art}"),
            Some(json!({"note":"收费标准已调整"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .call(
            &w.dept_b,
            "PUT",
            &format!("/api/v1/kb/articles/{art}"),
            Some(json!({"note":"不是我们的"})),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    // Everyone reads it, department users included.
    assert_eq!(
        app.get(&w.dept_b, &format!("/api/v1/kb/articles/{art}"))
            .await
            .status,
        StatusCode::OK
    );
    // Leaders read only.
    assert_eq!(
        app.get(&w.leader, &format!("/api/v1/kb/articles/{art}"))
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .call(
            &w.leader,
            "POST",
            "/api/v1/kb/articles",
            Some(article("领导提议", w.unit_a)),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    assert!(r.json()["detail"].as_str().unwrap().contains("领导"));
    let r = app
        .call(
            &w.leader,
            "PUT",
            &format!("/api/v1/kb/articles/{art}"),
            Some(json!({"note":"x"})),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    // Operators cannot archive; the admin can (an editor).
    let r = app
        .call(
            &w.op,
            "POST",
            &format!("/api/v1/kb/articles/{art}/actions/archive"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    let r = app
        .call(
            &w.admin,
            "POST",
            &format!("/api/v1/kb/articles/{art}/actions/archive"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Synonyms: editors only.
    assert_problem(
        &app.get(&w.op, "/api/v1/kb/synonyms").await,
        StatusCode::FORBIDDEN,
    );
    let r = app
        .call(
            &w.op,
            "PUT",
            "/api/v1/kb/synonyms",
            Some(json!({"groups":[["a","b"]]})),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    // Reports: not for operators; leaders read them.
    assert_problem(
        &app.get(&w.op, "/api/v1/kb/reports/missing").await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(
        app.get(&w.leader, "/api/v1/kb/reports/missing")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&w.leader, "/api/v1/kb/reports/summary")
            .await
            .status,
        StatusCode::OK
    );
    // Without a login: 401 problem; pages redirect to the login.
    assert_problem(
        &app.get(&Who::default(), "/api/v1/kb/articles").await,
        StatusCode::UNAUTHORIZED,
    );
    let r = app.get(&Who::default(), "/kb").await;
    assert!(r.location().starts_with("/login"), "{}", r.location());
    // A cookie request that changes something needs the CSRF header.
    let no_csrf = Who {
        cookie: w.op.cookie.clone(),
        csrf: None,
    };
    let r = app
        .call(
            &no_csrf,
            "POST",
            "/api/v1/kb/articles",
            Some(article("x", w.unit_a)),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn outbox_rows_are_written_with_every_article_change_and_only_then() {
    let w = world().await;
    let app = &w.app;
    let store = &app.svc.store;
    assert!(store.search_outbox_pending(100).unwrap().is_empty());
    // A proposal changes no article: no outbox row.
    let r = app
        .call(
            &w.op,
            "POST",
            "/api/v1/kb/articles",
            Some(article("停水", w.unit_a)),
        )
        .await;
    let pid = r.json()["id"].as_u64().unwrap();
    assert!(store.search_outbox_pending(100).unwrap().is_empty());
    // Publishing writes exactly one, naming the article.
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/proposals/{pid}/actions/publish"),
            None,
        )
        .await;
    let id = r.json()["article_id"].as_u64().unwrap();
    let rows = store.search_outbox_pending(100).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1.kind, OutboxKind::Article);
    assert_eq!(rows[0].1.id, id);
    // A refused publish (stale proposal) writes nothing: the article, its
    // version and the outbox row are one transaction.
    let r = app
        .call(
            &w.op,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({"title":"改一"})),
        )
        .await;
    let stale = r.json()["id"].as_u64().unwrap();
    let r = app
        .call(
            &w.lead,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({"title":"改二","publish":true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(store.search_outbox_pending(100).unwrap().len(), 2);
    let r = app
        .call(
            &w.lead,
            "POST",
            &format!("/api/v1/kb/proposals/{stale}/actions/publish"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT);
    assert_eq!(store.search_outbox_pending(100).unwrap().len(), 2);
    assert_eq!(store.kb_versions(id).unwrap().len(), 2);
    // Rejections and reads write nothing; archiving writes one.
    app.call(
        &w.lead,
        "POST",
        &format!("/api/v1/kb/proposals/{stale}/actions/reject"),
        Some(json!({"reason":"过时"})),
    )
    .await;
    app.get(&w.op, &format!("/api/v1/kb/articles/{id}")).await;
    assert_eq!(store.search_outbox_pending(100).unwrap().len(), 2);
    app.call(
        &w.lead,
        "POST",
        &format!("/api/v1/kb/articles/{id}/actions/archive"),
        None,
    )
    .await;
    let rows = store.search_outbox_pending(100).unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|(_, e)| e.id == id && e.kind == OutboxKind::Article)
    );
    assert!(rows.windows(2).all(|p| p[0].0 < p[1].0));
    // Draining up to a sequence removes exactly those.
    assert_eq!(store.search_outbox_delete_through(rows[1].0).unwrap(), 2);
    let left = store.search_outbox_pending(100).unwrap();
    assert_eq!(left, vec![rows[2]]);
    assert_eq!(store.search_outbox_delete_through(u64::MAX).unwrap(), 1);
    assert!(store.search_outbox_pending(100).unwrap().is_empty());
    // A failing store publish (article changed meanwhile) leaves no row.
    let a = store.kb_article(id).unwrap().unwrap();
    let v = store.kb_version(id, a.version).unwrap().unwrap();
    let err = store.kb_publish(hotline::store::kb::Publish {
        article: a.clone(), // same version: not the next one
        version: v,
        proposal: None,
        notice_recipients: vec![1],
    });
    assert!(err.is_err());
    assert!(store.search_outbox_pending(100).unwrap().is_empty());
    assert_eq!(store.kb_unread_count(1).unwrap(), 0);
}

#[tokio::test]
async fn uses_views_searches_missing_report_and_monthly_summary() {
    let w = world().await;
    let app = &w.app;
    let id = w.published(article("停水怎么办", w.unit_a)).await;
    let ticket = w.ticket().await;
    let r = app.get(&w.op, "/api/v1/kb/search").await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    // The search integration logs searches through the service.
    let user = app.svc.store.user_by_name("op").unwrap().unwrap();
    let op = hotline::service::Actor::new(user, &app.svc.dir());
    let s1 = app.svc.record_search(&op, "家里没水了", 1).unwrap();
    let s2 = app.svc.record_search(&op, "垃圾分类怎么分？", 0).unwrap();
    let _s3 = app.svc.record_search(&op, "垃圾分类 怎么分", 0).unwrap();
    let _s4 = app.svc.record_search(&op, "停车收费", 3).unwrap();
    assert!(s2 > s1);
    // Opening from a search, then using the answer in a ticket.
    let r = app
        .get(&w.op, &format!("/api/v1/kb/articles/{id}?search_id={s1}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .call(
            &w.op,
            "POST",
            &format!("/api/v1/kb/articles/{id}/actions/use"),
            Some(json!({"ticket": ticket, "search_id": s1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.get(&w.op, &format!("/api/v1/kb/articles/{id}")).await;
    assert_eq!(r.json()["uses"], 1);
    assert_eq!(r.json()["views"], 2);
    let r = app
        .get(&w.op, &format!("/api/v1/kb/articles/{id}/stats"))
        .await;
    assert_eq!(r.json()["recent_uses"][0]["ticket"], ticket.as_str());
    // Bad uses: no ticket, malformed, unknown ticket, leader.
    for (body, status) in [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"ticket":"abc"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"ticket":"20200101-000001"}), StatusCode::NOT_FOUND),
    ] {
        let r = app
            .call(
                &w.op,
                "POST",
                &format!("/api/v1/kb/articles/{id}/actions/use"),
                Some(body),
            )
            .await;
        assert_problem(&r, status);
    }
    let r = app
        .call(
            &w.leader,
            "POST",
            &format!("/api/v1/kb/articles/{id}/actions/use"),
            Some(json!({"ticket": ticket})),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    // Missing knowledge: grouped by normalised words; used searches drop out.
    let r = app.get(&w.lead, "/api/v1/kb/reports/missing").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rep = r.json();
    assert_eq!(rep["searches"], 4);
    let rows = rep["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rep}");
    assert_eq!(rows[0]["words"], "垃圾分类怎么分");
    assert_eq!(rows[0]["count"], 2);
    assert_eq!(rows[0]["no_results"], 2);
    assert_eq!(rows[1]["words"], "停车收费");
    assert_eq!(rows[1]["no_use"], 1);
    assert!(!rep.to_string().contains("家里没水了"));
    let r = app.get(&w.lead, "/kb/missing").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("垃圾分类怎么分"));
    let r = app
        .get(&w.lead, "/api/v1/kb/reports/missing?from=2026-13-01")
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .get(
            &w.lead,
            "/api/v1/kb/reports/missing?from=2030-01-02&to=2030-01-01",
        )
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    // Monthly summary: this month one article added, then changed.
    app.call(
        &w.lead,
        "PUT",
        &format!("/api/v1/kb/articles/{id}"),
        Some(json!({"title":"停水处理","publish":true})),
    )
    .await;
    let r = app.get(&w.lead, "/api/v1/kb/reports/summary").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let s = r.json();
    assert_eq!(s["added"][0]["article_id"], id);
    assert_eq!(s["added"][0]["versions"], json!([1, 2]));
    assert_eq!(s["changed"].as_array().unwrap().len(), 0);
    let r = app
        .get(&w.lead, "/api/v1/kb/reports/summary?month=2001-01")
        .await;
    assert_eq!(r.json()["added"], json!([]));
    let r = app
        .get(&w.lead, "/api/v1/kb/reports/summary?month=13")
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get(&w.lead, "/kb/summary").await;
    assert!(r.text().contains("停水处理"));
    // Full-text search answers and logs the search (after the report
    // above, whose counts it would change).
    let r = app.get(&w.op, "/api/v1/kb/search?q=停水").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["hits"].is_array(), "{}", r.text());
    assert!(r.json()["search_id"].as_u64().unwrap() > 0, "{}", r.text());
}

#[tokio::test]
async fn synonyms_are_replaced_and_checked() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .call(
            &w.lead,
            "PUT",
            "/api/v1/kb/synonyms",
            Some(json!({"groups":[["社会保险","社保"],["燃气"," 煤气 ","天然气"]]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.get(&w.admin, "/api/v1/kb/synonyms").await;
    assert_eq!(r.json()["groups"][1], json!(["燃气", "煤气", "天然气"]));
    assert_eq!(app.svc.kb_synonym_groups().unwrap().len(), 2);
    for bad in [
        json!({"groups":[["单独"]]}),
        json!({"groups":[["a","b"],["b","c"]]}),
    ] {
        let r = app
            .call(&w.lead, "PUT", "/api/v1/kb/synonyms", Some(bad))
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // The page: one group per line.
    let r = app.get(&w.lead, "/kb/synonyms").await;
    assert!(r.text().contains("社会保险,社保"));
    let r = app
        .form(
            &w.lead,
            "/kb/synonyms",
            &[("groups", "停水,没水,断水\n停电，没电")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app.get(&w.lead, "/api/v1/kb/synonyms").await;
    assert_eq!(
        r.json()["groups"],
        json!([["停水", "没水", "断水"], ["停电", "没电"]])
    );
    assert_eq!(
        app.get(&w.op, "/kb/synonyms").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx_never_a_500() {
    let w = world().await;
    let app = &w.app;
    let post = |b: Value| app.call(&w.op, "POST", "/api/v1/kb/articles", Some(b));
    let field_of = |r: &Resp| {
        r.json()["errors"][0]["field"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let mut b = article("", w.unit_a);
    let r = post(b.clone()).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(&r), "title");
    b["title"] = json!("正常标题");
    b["body"] = json!("字".repeat(20_001));
    let r = post(b.clone()).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(&r), "body");
    b["body"] = json!("x".repeat(1_100_000));
    let r = post(b.clone()).await;
    assert_problem(&r, StatusCode::PAYLOAD_TOO_LARGE);
    b["body"] = json!("正文");
    for (k, v, field) in [
        ("valid_from", json!("2026-02-30"), "valid_from"),
        ("valid_from", json!("tomorrow"), "valid_from"),
        ("valid_to", json!("2019-01-01"), "valid_to"),
        ("category", json!(""), "category"),
        ("kind", json!("poem"), "kind"),
        ("department_id", json!(999), "department_id"),
        ("ticket", json!("nope"), "ticket"),
        ("ticket", json!("20200101-000001"), "ticket"),
        (
            "attachments",
            json!([{"sha256":"../x","name":"a.png"}]),
            "attachments",
        ),
        (
            "attachments",
            json!([{"sha256":"a".repeat(64),"name":"a.png"}]),
            "attachments",
        ),
    ] {
        let mut x = b.clone();
        x[k] = v;
        let r = post(x).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_of(&r), field, "{k}");
    }
    // Wrong JSON: 400 problems.
    let r = app
        .raw(&w.op, "POST", "/api/v1/kb/articles", "{\"title\":")
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    let r = app
        .raw(&w.op, "POST", "/api/v1/kb/articles", "{\"titel\":\"x\"}")
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    let r = app
        .raw(
            &w.op,
            "POST",
            "/api/v1/kb/articles",
            "{\"department_id\":-1}",
        )
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    // Script tags are stored as typed and shown escaped.
    let mut s = article("<script>alert(1)</script>标题", w.unit_a);
    s["body"] = json!("<img src=x onerror=alert(2)>正文");
    let id = w.published(s).await;
    let r = app.get(&w.op, &format!("/api/v1/kb/articles/{id}")).await;
    assert_eq!(r.json()["title"], "<script>alert(1)</script>标题");
    let page = app.get(&w.op, &format!("/kb/{id}")).await.text();
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;标题"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)") && !page.contains("<img src=x"));
    let list = app.get(&w.op, "/kb").await.text();
    assert!(!list.contains("<script>alert(1)"));
    // Unknown ids: 404 everywhere.
    for p in [
        "/api/v1/kb/articles/999",
        "/api/v1/kb/articles/999/versions",
        "/api/v1/kb/articles/999/versions/1",
        "/api/v1/kb/articles/999/diff",
        "/api/v1/kb/articles/999/stats",
        "/api/v1/kb/articles/999/acks",
        "/api/v1/kb/proposals/999",
    ] {
        assert_problem(&app.get(&w.lead, p).await, StatusCode::NOT_FOUND);
    }
    assert_problem(
        &app.get(&w.op, &format!("/api/v1/kb/articles/{id}/versions/9"))
            .await,
        StatusCode::NOT_FOUND,
    );
    assert_problem(
        &app.get(&w.op, &format!("/api/v1/kb/articles/{id}/diff?from=1&to=7"))
            .await,
        StatusCode::NOT_FOUND,
    );
    let r = app
        .call(
            &w.op,
            "PUT",
            "/api/v1/kb/articles/999",
            Some(json!({"note":"x"})),
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND);
    let r = app
        .call(
            &w.op,
            "POST",
            "/api/v1/kb/articles/999/actions/acknowledge",
            None,
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND);
    let r = app
        .call(
            &w.op,
            "POST",
            &format!("/api/v1/kb/articles/{id}/actions/fly"),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND);
    for p in [
        "/kb/999",
        "/kb/abc",
        "/kb/999/diff",
        "/kb/999/edit",
        "/kb/proposals/999",
        "/kb/proposals/x",
    ] {
        let r = app.get(&w.op, p).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{p}");
        assert!(r.ctype().starts_with("text/html"), "{p}");
    }
    // A correction that changes nothing and says nothing.
    let r = app
        .call(
            &w.op,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({})),
        )
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    // Bad list parameters.
    for q in [
        "?cursor=zz",
        "?validity=old",
        "?state=gone",
        "?category=a/b/c/d/e",
    ] {
        let r = app.get(&w.lead, &format!("/api/v1/kb/articles{q}")).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = app.get(&w.lead, "/api/v1/kb/articles?limit=x").await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    let r = app.get(&w.lead, "/api/v1/kb/proposals?state=x").await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get(&w.lead, "/api/v1/kb/proposals?cursor=x").await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .get(&w.op, &format!("/api/v1/kb/articles/{id}/diff?from=x"))
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    // Page forms with bad input show the error page with its status.
    let r = app
        .form(
            &w.op,
            "/kb/new",
            &[("title", ""), ("body", "x"), ("category", "a")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("title"));
    let r = app
        .form(
            &Who {
                cookie: w.op.cookie.clone(),
                csrf: Some("bad".into()),
            },
            "/kb/new",
            &[("title", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn browsing_tree_filters_and_paging() {
    let w = world().await;
    let app = &w.app;
    for i in 0..5 {
        let mut a = article(&format!("供水{i}"), w.unit_a);
        a["category"] = json!("水电气热/供水");
        w.published(a).await;
    }
    let mut g = article("燃气泄漏", w.unit_b);
    g["category"] = json!("水电气热 / 燃气");
    g["must_read"] = json!(true);
    let gas = w.published(g).await;
    let mut s = article("社保卡补办", w.unit_a);
    s["category"] = json!("社会保障/社保卡");
    w.published(s).await;
    let r = app.get(&w.op, "/api/v1/kb/categories").await;
    let tree = r.json();
    let paths: Vec<&str> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec![
            "水电气热",
            "水电气热/供水",
            "水电气热/燃气",
            "社会保障",
            "社会保障/社保卡"
        ]
    );
    assert_eq!(tree[0]["count"], 6);
    // A category and everything below it; paging by cursor.
    let mut seen = vec![];
    let mut url = "/api/v1/kb/articles?category=水电气热&limit=4".to_string();
    loop {
        let r = app.get(&w.op, &url).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let p = r.json();
        for a in p["items"].as_array().unwrap() {
            seen.push(a["id"].as_u64().unwrap());
        }
        match p["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/kb/articles?category=水电气热&limit=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), 6);
    let r = app
        .get(
            &w.op,
            &format!("/api/v1/kb/articles?department_id={}", w.unit_b),
        )
        .await;
    assert_eq!(r.json()["items"][0]["id"], gas);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    let r = app.get(&w.op, "/api/v1/kb/articles?must_read=true").await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    let r = app.get(&w.op, "/api/v1/kb/articles?category=水电").await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);
    // The page shows the tree and the list; next-page link works.
    let r = app
        .get(&w.op, "/kb?category=%E6%B0%B4%E7%94%B5%E6%B0%94%E7%83%AD")
        .await;
    let html = r.text();
    assert!(
        html.contains("id=\"kb-tree\"")
            && html.contains("燃气泄漏")
            && !html.contains("社保卡补办</a>")
    );
    // The navigation has the knowledge-base link.
    assert!(html.contains("href=\"/kb\""));
}

#[tokio::test]
async fn every_page_and_form_works() {
    let w = world().await;
    let app = &w.app;
    let mut m = article("必读：停水抢修时限", w.unit_a);
    m["must_read"] = json!(true);
    let id = w.published(m).await;
    let ok = |r: &Resp, what: &str| {
        assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.text());
        assert!(r.ctype().starts_with("text/html"), "{what}");
    };
    // Read: acknowledge button, history, propose link.
    let r = app.get(&w.op, &format!("/kb/{id}")).await;
    ok(&r, "article");
    let html = r.text();
    assert!(
        html.contains("id=\"ack-form\"")
            && html.contains("id=\"kb-history\"")
            && html.contains(&format!("/kb/{id}/edit"))
    );
    let r = app
        .form(&w.op, &format!("/kb/{id}/ack"), &[("version", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        app.get(&w.op, &format!("/kb/{id}"))
            .await
            .text()
            .contains("id=\"acked\"")
    );
    // New article form and submit → the proposal page.
    ok(
        &app.get(&w.op, "/kb/new?ticket=20260101-000001").await,
        "new form",
    );
    let r = app
        .form(
            &w.op,
            "/kb/new",
            &[
                ("kind", "faq"),
                ("title", "燃气费怎么交"),
                ("question", "燃气费在哪交？"),
                ("body", "可在燃气营业厅或网上缴纳。"),
                ("category", "水电气热/燃气"),
                ("department_id", &w.unit_b.to_string()),
                ("keywords", "燃气费，缴费"),
                ("valid_from", "2020-01-01"),
                ("valid_to", ""),
                ("note", "新增常见问题"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let ploc = r.location();
    assert!(ploc.starts_with("/kb/proposals/"), "{ploc}");
    let pid: u64 = ploc.rsplit('/').next().unwrap().parse().unwrap();
    let r = app.get(&w.op, &ploc).await;
    ok(&r, "proposal");
    assert!(r.text().contains("燃气费怎么交") && r.text().contains("id=\"withdraw\""));
    // The author edits it through the form.
    ok(
        &app.get(&w.op, &format!("/kb/proposals/{pid}/edit")).await,
        "edit proposal form",
    );
    let r = app
        .form(
            &w.op,
            &format!("/kb/proposals/{pid}/edit"),
            &[
                ("kind", "faq"),
                ("title", "燃气费缴纳方式"),
                ("question", "燃气费在哪交？"),
                ("body", "可在燃气营业厅或网上缴纳。"),
                ("category", "水电气热/燃气"),
                ("department_id", &w.unit_b.to_string()),
                ("note", "新增常见问题"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // Another operator cannot open its edit form.
    assert_eq!(
        app.get(&w.op2, &format!("/kb/proposals/{pid}/edit"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The review queue and publishing from the page.
    let r = app.get(&w.lead, "/kb/review").await;
    ok(&r, "review");
    assert!(r.text().contains("燃气费缴纳方式"));
    ok(&app.get(&w.op, "/kb/review").await, "my proposals");
    let r = app.get(&w.lead, &format!("/kb/proposals/{pid}")).await;
    assert!(r.text().contains("id=\"publish\"") && r.text().contains("id=\"reject\""));
    let r = app
        .form(
            &w.lead,
            &format!("/kb/proposals/{pid}/publish"),
            &[("note", "审核通过")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let aloc = r.location();
    assert!(aloc.starts_with("/kb/"));
    let gas: u64 = aloc.rsplit('/').next().unwrap().parse().unwrap();
    // Propose a correction from the page (as from the intake page).
    let r = app
        .get(
            &w.op,
            &format!("/kb/{gas}/edit?ticket=20260101-000001&note=%E8%BF%87%E6%97%B6"),
        )
        .await;
    ok(&r, "correction form");
    assert!(r.text().contains("20260101-000001") && r.text().contains("燃气费缴纳方式"));
    let r = app
        .form(
            &w.op,
            &format!("/kb/{gas}/edit"),
            &[
                ("kind", "faq"),
                ("title", "燃气费缴纳方式"),
                ("question", "燃气费在哪交？"),
                ("body", "可在燃气营业厅、银行或网上缴纳。"),
                ("category", "水电气热/燃气"),
                ("department_id", &w.unit_b.to_string()),
                ("valid_from", "2020-01-01"),
                ("note", "增加银行渠道"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let pid2: u64 = r.location().rsplit('/').next().unwrap().parse().unwrap();
    let r = app.get(&w.lead, &format!("/kb/proposals/{pid2}")).await;
    assert!(r.text().contains("<ins>、银行</ins>"), "{}", r.text());
    let r = app
        .form(
            &w.lead,
            &format!("/kb/proposals/{pid2}/reject"),
            &[("reason", "银行已不代收")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(&w.op, &format!("/kb/proposals/{pid2}"))
            .await
            .text()
            .contains("银行已不代收")
    );
    // Withdraw from the page.
    let r = app
        .call(
            &w.op,
            "PUT",
            &format!("/api/v1/kb/articles/{gas}"),
            Some(json!({"note":"再议"})),
        )
        .await;
    let pid3 = r.json()["id"].as_u64().unwrap();
    let r = app
        .form(&w.op, &format!("/kb/proposals/{pid3}/withdraw"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .form(&w.op, &format!("/kb/proposals/{pid3}/fly"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Editor publishes directly from the new-article form.
    let r = app
        .form(
            &w.lead,
            "/kb/new",
            &[
                ("kind", "article"),
                ("title", "供暖期说明"),
                ("body", "每年11月15日至次年3月15日。"),
                ("category", "水电气热/供热"),
                ("department_id", "0"),
                ("department_name", "市供热办"),
                ("publish", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let heat: u64 = r.location().rsplit('/').next().unwrap().parse().unwrap();
    let r = app.get(&w.op, &format!("/kb/{heat}")).await;
    assert!(r.text().contains("市供热办"));
    // History and diff page.
    app.call(
        &w.lead,
        "PUT",
        &format!("/api/v1/kb/articles/{heat}"),
        Some(json!({"body":"每年11月15日至次年3月31日。","publish":true})),
    )
    .await;
    let r = app
        .get(&w.op, &format!("/kb/{heat}/diff?from=1&to=2"))
        .await;
    ok(&r, "diff");
    assert!(
        r.text().contains("<ins>3</ins>") && r.text().contains("<del>5</del>"),
        "{}",
        r.text()
    );
    ok(
        &app.get(&w.op, &format!("/kb/{heat}/diff")).await,
        "diff default",
    );
    assert_eq!(
        app.get(&w.op, &format!("/kb/{heat}/diff?from=x"))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Unread list (the correction above notified op2) and read-all.
    let r = app.get(&w.op2, "/kb/unread").await;
    ok(&r, "unread");
    assert!(r.text().contains("供暖期说明"));
    let r = app.form(&w.op2, "/kb/unread/read-all", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(&w.op2, "/kb/unread")
            .await
            .text()
            .contains("id=\"empty\"")
    );
    // Who has not acknowledged.
    let r = app.get(&w.lead, "/kb/acks").await;
    ok(&r, "acks");
    assert!(r.text().contains("用户op2") && r.text().contains(&format!("id=\"a{id}\"")));
    assert_eq!(
        app.get(&w.op, "/kb/acks").await.status,
        StatusCode::FORBIDDEN
    );
    // Archive and restore from the page.
    let r = app
        .form(
            &w.lead,
            &format!("/kb/{heat}/state"),
            &[("state", "archived")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&w.op, &format!("/kb/{heat}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .form(
            &w.lead,
            &format!("/kb/{heat}/state"),
            &[("state", "published")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.form(
            &w.op,
            &format!("/kb/{heat}/state"),
            &[("state", "archived")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.form(&w.lead, &format!("/kb/{heat}/state"), &[("state", "x")])
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Reports and lists render, in English too.
    for p in [
        "/kb",
        "/kb/expired",
        "/kb/missing",
        "/kb/summary",
        "/kb/summary?month=2026-01",
        "/kb/synonyms",
        "/kb/review?state=all",
    ] {
        ok(&app.get(&w.lead, p).await, p);
    }
    let en = Who {
        cookie: Some(format!("{}; lang=en", w.lead.cookie.clone().unwrap())),
        csrf: w.lead.csrf.clone(),
    };
    let r = app.get(&en, "/kb").await;
    assert!(r.text().contains("Knowledge base") && !r.text().contains("??"));
    assert_eq!(
        app.get(&w.lead, "/kb/missing?from=bad").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Department users see only their units in the form.
    let r = app.get(&w.dept_a, "/kb/new").await;
    ok(&r, "dept new form");
    assert!(r.text().contains("区水务局") && !r.text().contains("区燃气公司"));
    // Attachments: uploaded like ticket files, listed and downloaded.
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"说明.txt\"\r\nContent-Type: text/plain\r\n\r\n停水说明\r\n--{boundary}--\r\n"
    );
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/attachments")
        .header(header::COOKIE, w.lead.cookie.clone().unwrap())
        .header("x-csrf-token", w.lead.csrf.clone().unwrap())
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let up = r.json();
    let sha = up["sha256"].as_str().unwrap().to_string();
    let r = app
        .call(
            &w.lead,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({"attachments":[{"sha256":sha,"name":"说明.txt"}],"publish":true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app.get(&w.op, &format!("/kb/{id}")).await;
    assert!(r.text().contains(&format!("/kb/{id}/attachments/{sha}")));
    let r = app.get(&w.op, &format!("/kb/{id}/attachments/{sha}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "停水说明");
    assert_eq!(
        app.get(&w.op, &format!("/kb/{id}/attachments/{}", "b".repeat(64)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn openapi_documents_every_kb_route() {
    let app = App::new();
    let r = app.get(&Who::default(), "/api/v1/openapi.json").await;
    let doc = r.json();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/kb/articles",
        "/api/v1/kb/articles/{id}",
        "/api/v1/kb/articles/{id}/versions",
        "/api/v1/kb/articles/{id}/versions/{version}",
        "/api/v1/kb/articles/{id}/diff",
        "/api/v1/kb/articles/{id}/actions/{action}",
        "/api/v1/kb/articles/{id}/acks",
        "/api/v1/kb/articles/{id}/stats",
        "/api/v1/kb/categories",
        "/api/v1/kb/proposals",
        "/api/v1/kb/proposals/{id}",
        "/api/v1/kb/proposals/{id}/actions/{action}",
        "/api/v1/kb/unread",
        "/api/v1/kb/unread/read-all",
        "/api/v1/kb/acks",
        "/api/v1/kb/expired",
        "/api/v1/kb/reports/missing",
        "/api/v1/kb/reports/summary",
        "/api/v1/kb/synonyms",
        "/api/v1/kb/search",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
    for s in [
        "ArticleInput",
        "ArticleView",
        "ProposalView",
        "DiffView",
        "AckStatus",
    ] {
        assert!(doc["components"]["schemas"][s].is_object(), "schema {s}");
    }
}

#[tokio::test]
async fn demo_loads_the_fixture_and_backup_counts_articles() {
    let dir = temp_dir();
    let store = hotline::store::Store::open(&dir.0.join("hotline.redb")).unwrap();
    let opts = hotline::demo::DemoOptions {
        tickets: 50,
        ..Default::default()
    };
    let s = hotline::demo::generate(&store, &opts, jiff::Timestamp::now(), &mut |_, _| {}).unwrap();
    assert_eq!(s.articles, 331);
    assert_eq!(store.kb_article_count().unwrap(), 331);
    let a = store.kb_article_by_code("kb-0001").unwrap().unwrap();
    assert_eq!(a.content.title, "社会保障卡补办流程");
    assert!(a.content.must_read);
    assert_eq!(a.version, 1);
    // 区人力资源和社会保障局 is a demo unit; 区医疗保障局 is not (kept as text).
    let unit = store
        .units()
        .unwrap()
        .into_iter()
        .find(|u| Some(u.id) == a.content.department)
        .unwrap();
    assert_eq!(unit.name, "区人力资源和社会保障局");
    let mut by_text = 0;
    let mut expired = 0;
    let today = jiff::Zoned::now().date();
    store
        .kb_for_each_article(|a| {
            if a.content.department.is_none() {
                assert!(!a.content.department_name.is_empty(), "{}", a.code);
                by_text += 1;
            }
            if !a.valid_on(today) {
                expired += 1;
            }
        })
        .unwrap();
    assert!(by_text > 0 && by_text < 331);
    assert!(expired >= 4, "{expired}");
    assert_eq!(store.kb_synonyms().unwrap().len(), 73);
    // Every demo article is waiting in the search outbox.
    assert_eq!(store.search_outbox_pending(1000).unwrap().len(), 331);
    // The backup manifest counts articles (rows of kb_articles), not
    // versions or proposals; verification compares it with the database.
    let a2 = store.kb_article(1).unwrap().unwrap();
    let v2 = store.kb_version(1, 1).unwrap().unwrap();
    store
        .kb_publish(hotline::store::kb::Publish {
            article: hotline::domain::kb::Article { version: 2, ..a2 },
            version: v2,
            proposal: None,
            notice_recipients: vec![],
        })
        .unwrap();
    assert_eq!(store.kb_versions(1).unwrap().len(), 2);
    let to = temp_dir();
    let done = hotline::backup::back_up(
        &store,
        &dir.0,
        &to.0,
        jiff::Timestamp::now(),
        &hotline::backup::Options::default(),
    )
    .unwrap();
    assert_eq!(done.manifest.counts.articles, 331);
    assert!(done.manifest.summary().contains("331"));
    let v = hotline::backup::verify(std::path::Path::new(&done.path)).unwrap();
    assert_eq!(v.manifest.counts.articles, 331);
}

/// Any text in the search box gives results or a clear message, never a
/// 500: empty, huge, query syntax, unbalanced quotes, emoji, mixed scripts.
#[tokio::test]
async fn search_takes_any_input() {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    let w = world().await;
    let app = &w.app;
    let long = "社保".repeat(400);
    let huge = "停水".repeat(600);
    let inputs = [
        "",
        "   ",
        long.as_str(),
        "AND OR NOT ( ) \" : * ~ ^ [ ] { } \\ / + - ! ?",
        "\"社保卡",
        "社保卡\" OR \"",
        "title:社保 AND answer:*",
        "😀🔥 社保卡 😀",
        "shebaoka 社保 card ШКОЛА ١٢٣",
        "\u{0}\u{7}控制字符",
        "%%%",
        "sbk",
    ];
    for q in inputs {
        let r = app
            .get(&w.op, &format!("/api/v1/kb/search?q={}", enc(q)))
            .await;
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::BAD_REQUEST,
            "{q:?}: {} {}",
            r.status,
            r.text()
        );
        if r.status == StatusCode::OK {
            assert!(r.json()["hits"].is_array(), "{q:?}: {}", r.text());
        } else {
            assert_problem(&r, r.status);
        }
    }
    let r = app
        .get(&w.op, &format!("/api/v1/kb/search?q={}", enc(&huge)))
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("太长"), "{}", r.text());
}

/// Similar past tickets for the intake page: found by meaning of the
/// words, only tickets the caller may see, bad input refused cleanly.
#[tokio::test]
async fn similar_past_tickets() {
    let w = world().await;
    let app = &w.app;
    let number = w.ticket().await;
    let r = app
        .get(
            &w.op,
            "/api/v1/tickets/similar?q=%E5%81%9C%E6%B0%B4%E4%BA%86%E6%80%8E%E4%B9%88%E5%8A%9E",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let list = r.json();
    assert_eq!(list[0]["number"], number.as_str(), "{list}");
    // A department user sees none of another unit's (undispatched) tickets.
    let r = app
        .get(&w.dept_b, "/api/v1/tickets/similar?q=%E5%81%9C%E6%B0%B4")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json().as_array().unwrap().len(), 0, "{}", r.text());
    // Empty text: nothing; too long: a clear 422; no text at all: 400.
    let r = app.get(&w.op, "/api/v1/tickets/similar?q=").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json().as_array().unwrap().len(), 0);
    let long = "%E6%B0%B4".repeat(2_100);
    let r = app
        .get(&w.op, &format!("/api/v1/tickets/similar?q={long}"))
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.get(&w.op, "/api/v1/tickets/similar").await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// The fields of the article form with the attachment list marker.
fn kb_fields<'a>(title: &'a str, unit: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("att_form", "1"),
        ("kind", "article"),
        ("title", title),
        ("question", ""),
        ("body", "停水期间可到小区门口的临时供水点取水。"),
        ("category", "水电气热/供水"),
        ("department_id", unit),
        ("department_name", ""),
        ("keywords", "停水，临时供水"),
        ("valid_from", "2020-01-01"),
        ("valid_to", ""),
        ("note", "附上通知原件"),
        ("ticket", ""),
    ]
}

#[tokio::test]
async fn page_forms_add_list_and_remove_attachments() {
    // 2 MB per file: a 1.5 MB file passes (above the 1 MB form limit, so
    // the upload limit applies), 2.5 MB does not.
    let w = world_on(App::with_max_attachment_mb(2)).await;
    let app = &w.app;
    let unit_a = w.unit_a.to_string();
    let pdf: Vec<u8> = (0..1_500_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let png: Vec<u8> = [0x89u8, b'P', b'N', b'G', 0, 0, 0xFF, 0xFE, b'\r', b'\n']
        .into_iter()
        .cycle()
        .take(3000)
        .collect();
    let (pdf_sha, png_sha) = (sha256_hex(&pdf), sha256_hex(&png));

    // The form is multipart with a file input and the list marker.
    let r = app.get(&w.dept_a, "/kb/new").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    assert!(html.contains("name=\"files\"") && html.contains("name=\"att_form\""));

    // A department user proposes a new article for their unit with two files.
    let r = app
        .multipart(
            &w.dept_a,
            "/kb/new",
            &kb_fields("临时供水点通知", &unit_a),
            &[("供水通知.pdf", &pdf), ("现场照片.png", &png)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let ploc = r.location();
    let pid: u64 = ploc.rsplit('/').next().unwrap().parse().unwrap();
    // The reviewer sees the files on the proposal and can open them.
    let r = app.get(&w.lead, &ploc).await;
    let html = r.text();
    assert!(
        html.contains("供水通知.pdf") && html.contains("现场照片.png"),
        "{html}"
    );
    let plink = format!("/kb/proposals/{pid}/attachments/{pdf_sha}");
    assert!(html.contains(&plink), "{html}");
    let r = app.get(&w.lead, &plink).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body == pdf, "proposal download differs");
    // Someone who may not see the proposal cannot fetch its files.
    assert_eq!(app.get(&w.op2, &plink).await.status, StatusCode::NOT_FOUND);
    let r = app
        .form(
            &w.lead,
            &format!("/kb/proposals/{pid}/publish"),
            &[("note", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let id: u64 = r.location().rsplit('/').next().unwrap().parse().unwrap();

    // The article page lists them with download links; downloads are
    // byte-identical.
    let r = app.get(&w.op, &format!("/kb/{id}")).await;
    let html = r.text();
    for (name, sha, bytes) in [
        ("供水通知.pdf", &pdf_sha, &pdf),
        ("现场照片.png", &png_sha, &png),
    ] {
        let link = format!("/kb/{id}/attachments/{sha}");
        assert!(html.contains(&link) && html.contains(name), "{html}");
        let r = app.get(&w.op, &link).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(&r.body == bytes, "{name} differs");
    }
    assert!(html.contains("1.4 MB"), "human size: {html}");

    // The correction form lists them with a remove checkbox.
    let r = app.get(&w.dept_a, &format!("/kb/{id}/edit")).await;
    let html = r.text();
    assert!(
        html.contains(&format!("name=\"remove\" value=\"{pdf_sha}\""))
            && html.contains(&format!("name=\"att\" value=\"{png_sha}:现场照片.png\"")),
        "{html}"
    );

    // An editor removes the PDF, adds a text file and publishes at once.
    let txt = "补充说明：临时供水点每天7:00-21:00开放。"
        .as_bytes()
        .to_vec();
    let txt_sha = sha256_hex(&txt);
    let mut f = kb_fields("临时供水点通知", &unit_a);
    let (att_pdf, att_png) = (
        format!("{pdf_sha}:供水通知.pdf"),
        format!("{png_sha}:现场照片.png"),
    );
    f.extend([
        ("att", att_pdf.as_str()),
        ("att", att_png.as_str()),
        ("remove", pdf_sha.as_str()),
        ("publish", "true"),
    ]);
    let r = app
        .multipart(
            &w.lead,
            &format!("/kb/{id}/edit"),
            &f,
            &[("补充说明.txt", &txt)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), format!("/kb/{id}"));
    let a = app
        .get(&w.op, &format!("/api/v1/kb/articles/{id}"))
        .await
        .json();
    let names: Vec<&str> = a["attachments"]
        .as_array()
        .unwrap_or_else(|| panic!("{a}"))
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["现场照片.png", "补充说明.txt"], "{a}");
    let r = app
        .get(&w.op, &format!("/kb/{id}/attachments/{txt_sha}"))
        .await;
    assert_eq!(r.body, txt);
    // The removed file is no longer served through the article.
    assert_eq!(
        app.get(&w.op, &format!("/kb/{id}/attachments/{pdf_sha}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Version history: v1 had the PDF, v2 has the text file; the diff says so.
    let v = app
        .get(&w.op, &format!("/api/v1/kb/articles/{id}/versions"))
        .await
        .json();
    let v = v.as_array().unwrap();
    let files_of = |ver: u64| -> Vec<String> {
        v.iter().find(|x| x["version"] == ver).unwrap()["content"]["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(files_of(1), ["供水通知.pdf", "现场照片.png"]);
    assert_eq!(files_of(2), ["现场照片.png", "补充说明.txt"]);
    let r = app
        .get(&w.op, &format!("/kb/{id}/diff?from=1&to=2"))
        .await
        .text();
    assert!(r.contains("附件") && r.contains("补充说明.txt"), "{r}");

    // Bad files: the form again (422) with a Chinese message, everything
    // typed still there, and nothing stored.
    let before = app.stored_files();
    let typed = kb_fields("我写的标题不能丢", &unit_a);
    let big = vec![7u8; 2_500_000];
    let many: Vec<(String, Vec<u8>)> = (0..19)
        .map(|i| (format!("第{i}页.txt"), format!("第{i}页").into_bytes()))
        .collect();
    let many: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    type Files<'a> = Vec<(&'a str, &'a [u8])>;
    let cases: Vec<(&str, Files, &str)> = vec![
        ("type", vec![("工具.exe", b"MZ")], "不支持的文件类型"),
        ("size", vec![("大文件.pdf", &big)], "太大"),
        ("empty", vec![("空.txt", b"")], "是空的"),
        ("count", many, "最多20个附件"),
    ];
    for (what, files, msg) in cases {
        // The count case corrects an article that already has two files.
        let mut f = typed.clone();
        let path = if what == "count" {
            f.extend([("att", att_png.as_str()), ("att", att_pdf.as_str())]);
            format!("/kb/{id}/edit")
        } else {
            "/kb/new".to_string()
        };
        let r = app.multipart(&w.dept_a, &path, &f, &files).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            r.text()
        );
        let html = r.text();
        assert!(r.ctype().starts_with("text/html"), "{what}");
        assert!(
            html.contains("id=\"form-error\"") && html.contains(msg),
            "{what}: {html}"
        );
        assert!(
            html.contains("value=\"我写的标题不能丢\""),
            "{what}: {html}"
        );
        assert!(
            html.contains("停水期间可到小区门口的临时供水点取水。"),
            "{what}"
        );
        assert!(
            html.contains("附上通知原件") && html.contains("停水，临时供水"),
            "{what}"
        );
        assert_eq!(app.stored_files(), before, "{what}: nothing stored");
    }
    assert!(
        !app.svc
            .paths
            .attachments()
            .join(&sha256_hex(b"MZ")[..2])
            .join(sha256_hex(b"MZ"))
            .exists()
    );

    // Another field wrong, the file fine: the form again with the file
    // already kept in its list, so the corrected submission carries it.
    let mut f = kb_fields("", &unit_a);
    f.retain(|(k, _)| *k != "title");
    f.push(("title", ""));
    let note = "会议纪要".as_bytes();
    let r = app
        .multipart(&w.dept_a, "/kb/new", &f, &[("会议纪要.docx", note)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    let kept = format!("{}:会议纪要.docx", sha256_hex(note));
    assert!(
        html.contains(&format!("name=\"att\" value=\"{kept}\"")),
        "{html}"
    );
    let mut f = kb_fields("会议纪要要点", &unit_a);
    f.push(("att", kept.as_str()));
    let r = app.multipart(&w.dept_a, "/kb/new", &f, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let p = app
        .get(
            &w.dept_a,
            &format!(
                "/api/v1/kb/proposals/{}",
                r.location().rsplit('/').next().unwrap()
            ),
        )
        .await
        .json();
    assert_eq!(
        p["content"]["attachments"][0]["name"], "会议纪要.docx",
        "{p}"
    );

    // A department user may not attach to another department's article
    // (nor name another department in a new one): refused, nothing stored.
    let before = app.stored_files();
    let other = "另一个部门的文件".as_bytes();
    let mut f = kb_fields("临时供水点通知", &unit_a);
    f.push(("att", att_png.as_str()));
    let r = app
        .multipart(
            &w.dept_b,
            &format!("/kb/{id}/edit"),
            &f,
            &[("燃气.txt", other)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = app
        .multipart(
            &w.dept_b,
            "/kb/new",
            &kb_fields("燃气说明", &unit_a),
            &[("燃气.txt", other)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(app.stored_files(), before);
    // A wrong CSRF field: refused before anything is stored.
    let bad = Who {
        cookie: w.dept_a.cookie.clone(),
        csrf: Some("bad".into()),
    };
    let r = app
        .multipart(
            &bad,
            "/kb/new",
            &kb_fields("x", &unit_a),
            &[("燃气.txt", other)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.stored_files(), before);
    // The article kept its attachments through all this.
    let a = app
        .get(&w.op, &format!("/api/v1/kb/articles/{id}"))
        .await
        .json();
    assert_eq!(a["attachments"].as_array().unwrap().len(), 2, "{a}");
}
