//! In-process HTTP tests of every route, through the real router
//! (`build_app`), including the permission matrix and bad input.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct App {
    router: axum::Router,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(tag: &str) -> TempDir {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let p = std::env::temp_dir().join(format!(
        "hotline-test-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    TempDir(p)
}

fn app_with(dev_clock: bool) -> App {
    let dir = temp_dir("api");
    let cfg =
        hotline::config::Config::resolve(Some(dir.0.clone()), None, dev_clock, false).unwrap();
    let svc = hotline::open_services(&cfg).unwrap();
    let router = hotline::build_app(hotline::http::AppState::new(svc, dev_clock));
    App { router, _dir: dir }
}

#[derive(Clone, Default)]
struct Who {
    cookie: Option<String>,
    csrf: Option<String>,
    bearer: Option<String>,
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
}

impl App {
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
        if let Some(t) = &who.bearer {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
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
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let kv = cookie.split(';').next().unwrap().to_string();
        Who {
            cookie: Some(kv),
            csrf: Some(r.json()["csrf_token"].as_str().unwrap().to_string()),
            bearer: None,
        }
    }
}

/// An app with an administrator, units A (with A1) and B, categories, and
/// users of several roles.
struct World {
    app: App,
    admin: Who,
    op: Who,
    disp: Who,
    dept_a: Who,
    dept_a1: Who,
    dept_b: Who,
    unit_a: u64,
    unit_a1: u64,
    unit_b: u64,
}

async fn world() -> World {
    let app = app_with(false);
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
    // Deterministic intake: no random callback sampling (tested on its own).
    let r = app
        .call(
            &admin,
            "PATCH",
            "/api/v1/settings",
            Some(json!({"callback_sample_percent": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mk_unit = |name: &str, parent: Option<u64>| json!({"name": name, "parent_id": parent});
    let a = app
        .call(
            &admin,
            "POST",
            "/api/v1/units",
            Some(mk_unit("区水务局", None)),
        )
        .await
        .json()["id"]
        .as_u64()
        .unwrap();
    let a1 = app
        .call(
            &admin,
            "POST",
            "/api/v1/units",
            Some(mk_unit("供水营业所", Some(a))),
        )
        .await
        .json()["id"]
        .as_u64()
        .unwrap();
    let b = app
        .call(
            &admin,
            "POST",
            "/api/v1/units",
            Some(mk_unit("区燃气公司", None)),
        )
        .await
        .json()["id"]
        .as_u64()
        .unwrap();
    for (code, name, parent, unit) in [
        ("01", "水电气", None, None),
        ("0101", "停水", Some("01"), Some(a)),
        ("0102", "燃气", Some("01"), Some(b)),
    ] {
        let r = app
            .call(
                &admin,
                "POST",
                "/api/v1/categories",
                Some(json!({"code":code,"name":name,"parent_code":parent,"default_unit_id":unit})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    for (u, roles, unit) in [
        ("op", json!(["operator"]), None),
        ("disp", json!(["dispatcher"]), None),
        ("depta", json!(["department_handler"]), Some(a)),
        ("depta1", json!(["department_handler"]), Some(a1)),
        ("deptb", json!(["department_handler"]), Some(b)),
    ] {
        let r = app
            .call(&admin, "POST", "/api/v1/users", Some(json!({"username":u,"password":"password-1","display_name":u,"roles":roles,"unit_id":unit})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    World {
        op: app.login("op", "password-1").await,
        disp: app.login("disp", "password-1").await,
        dept_a: app.login("depta", "password-1").await,
        dept_a1: app.login("depta1", "password-1").await,
        dept_b: app.login("deptb", "password-1").await,
        app,
        admin,
        unit_a: a,
        unit_a1: a1,
        unit_b: b,
    }
}

fn ticket(appeal: &str, content: &str) -> Value {
    json!({"caller_phone":"138 1234 5678","caller_name":"张三","channel":"phone","appeal_type":appeal,
           "category_code":"0101","district":"市南区","street":"八大关街道","address":"香港中路18号",
           "title":"","content":content,"urgency":"normal"})
}

#[tokio::test]
async fn health_and_openapi() {
    let app = app_with(false);
    let r = app.call(&Who::default(), "GET", "/healthz", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    let r = app
        .call(&Who::default(), "GET", "/api/v1/openapi.json", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/healthz",
        "/api/v1/setup",
        "/api/v1/session",
        "/api/v1/session/password",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/units",
        "/api/v1/units/{id}",
        "/api/v1/units/import",
        "/api/v1/categories",
        "/api/v1/categories/{code}",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
        "/api/v1/calendar/{year}",
        "/api/v1/tickets",
        "/api/v1/tickets/{number}",
        "/api/v1/tickets/{number}/events",
        "/api/v1/tickets/{number}/actions/{action}",
        "/api/v1/attachments",
        "/api/v1/tickets/{number}/attachments/{sha256}",
        "/api/v1/dev/clock",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["schemas"]["NewTicket"].is_object());
}

#[tokio::test]
async fn setup_once_then_login_and_csrf() {
    let app = app_with(false);
    let anon = Who::default();
    // Before setup, pages lead to setup.
    let r = app.call(&anon, "GET", "/", None).await;
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/setup");
    let r = app
        .call(
            &anon,
            "POST",
            "/api/v1/setup",
            Some(json!({"username":"admin","password":"short"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.ctype(), "application/problem+json");
    assert_eq!(r.json()["errors"][0]["field"], "password");
    let r = app
        .call(
            &anon,
            "POST",
            "/api/v1/setup",
            Some(json!({"username":"admin","password":"admin-pass-1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .call(
            &anon,
            "POST",
            "/api/v1/setup",
            Some(json!({"username":"evil","password":"admin-pass-1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Unauthenticated API → 401 problem; page → redirect to login.
    let r = app.call(&anon, "GET", "/api/v1/tickets", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.ctype(), "application/problem+json");
    let r = app.call(&anon, "GET", "/tickets", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers
            .get(header::LOCATION)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let admin = app.login("admin", "admin-pass-1").await;
    let r = app.call(&admin, "GET", "/api/v1/session", None).await;
    assert_eq!(r.json()["user"]["username"], "admin");
    assert_eq!(r.json()["csrf_token"], admin.csrf.clone().unwrap().as_str());
    // A change without the CSRF header is refused.
    let no_csrf = Who {
        csrf: None,
        ..admin.clone()
    };
    let r = app
        .call(&no_csrf, "POST", "/api/v1/units", Some(json!({"name":"x"})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let bad_csrf = Who {
        csrf: Some("nope".into()),
        ..admin.clone()
    };
    let r = app
        .call(
            &bad_csrf,
            "POST",
            "/api/v1/units",
            Some(json!({"name":"x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Logout ends the session.
    let r = app.call(&admin, "DELETE", "/api/v1/session", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.call(&admin, "GET", "/api/v1/session", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_throttling_and_password_change() {
    let w = world().await;
    let anon = Who::default();
    for _ in 0..5 {
        let r = w
            .app
            .call(
                &anon,
                "POST",
                "/api/v1/session",
                Some(json!({"username":"op","password":"wrong-pass"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = w
        .app
        .call(
            &anon,
            "POST",
            "/api/v1/session",
            Some(json!({"username":"op","password":"password-1"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "locked even with the right password"
    );
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    // Unknown users answer like wrong passwords.
    let r = w
        .app
        .call(
            &anon,
            "POST",
            "/api/v1/session",
            Some(json!({"username":"ghost","password":"x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Password change: wrong current refused; right one ends sessions.
    let r = w
        .app
        .call(
            &w.disp,
            "POST",
            "/api/v1/session/password",
            Some(json!({"current_password":"bad","new_password":"new-password-2"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = w
        .app
        .call(
            &w.disp,
            "POST",
            "/api/v1/session/password",
            Some(json!({"current_password":"password-1","new_password":"new-password-2"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = w.app.call(&w.disp, "GET", "/api/v1/session", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    w.app.login("disp", "new-password-2").await;
}

#[tokio::test]
async fn permission_matrix_for_administration() {
    let w = world().await;
    for who in [&w.op, &w.disp, &w.dept_a] {
        assert_eq!(
            w.app.call(who, "GET", "/api/v1/users", None).await.status,
            StatusCode::FORBIDDEN
        );
        let r = w
            .app
            .call(
                who,
                "POST",
                "/api/v1/users",
                Some(json!({"username":"x1","password":"password-1","roles":["admin"]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            w.app
                .call(who, "POST", "/api/v1/units", Some(json!({"name":"x"})))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            w.app
                .call(
                    who,
                    "POST",
                    "/api/v1/categories",
                    Some(json!({"code":"09","name":"x"}))
                )
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            w.app.call(who, "GET", "/api/v1/tokens", None).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            w.app.call(who, "GET", "/admin/users", None).await.status,
            StatusCode::FORBIDDEN
        );
    }
    // Everyone logged in may read the org tree and categories.
    assert_eq!(
        w.app
            .call(&w.op, "GET", "/api/v1/units", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        w.app
            .call(&w.op, "GET", "/api/v1/categories", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Admin pages render for the administrator.
    for p in [
        "/admin/users",
        "/admin/units",
        "/admin/categories",
        "/admin/tokens",
    ] {
        let r = w.app.call(&w.admin, "GET", p, None).await;
        assert_eq!(r.status, StatusCode::OK, "{p}");
        assert!(r.text().contains("区水务局") || p != "/admin/units");
    }
}

#[tokio::test]
async fn org_rules_and_no_deletion() {
    let w = world().await;
    let a = &w.admin;
    // Units are two levels deep at most; names are unique.
    let r = w
        .app
        .call(
            a,
            "POST",
            "/api/v1/units",
            Some(json!({"name":"三级下","parent_id":w.unit_a1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = w
        .app
        .call(a, "POST", "/api/v1/units", Some(json!({"name":"区水务局"})))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = w
        .app
        .call(
            a,
            "POST",
            "/api/v1/units",
            Some(json!({"name":"x","parent_id":999})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Disable, not delete.
    let r = w
        .app
        .call(
            a,
            "PATCH",
            &format!("/api/v1/units/{}", w.unit_b),
            Some(json!({"enabled":false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["enabled"], false);
    assert_eq!(
        w.app
            .call(a, "DELETE", &format!("/api/v1/units/{}", w.unit_b), None)
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    // CSV import: all or nothing.
    let r = w
        .app
        .call(
            a,
            "POST",
            "/api/v1/units/import",
            Some(json!({"csv":"name,parent\n区住建局,\n物业科,区住建局\n坏行,不存在的单位\n"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        w.app
            .call(a, "GET", "/api/v1/units", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let r = w
        .app
        .call(
            a,
            "POST",
            "/api/v1/units/import",
            Some(json!({"csv":"区住建局,\n物业科,区住建局\n区水务局,\n"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["created"], 2);
    assert_eq!(r.json()["skipped"], 1);
    // Categories: code rules.
    let r = w
        .app
        .call(
            a,
            "POST",
            "/api/v1/categories",
            Some(json!({"code":"0201","name":"x","parent_code":"01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = w
        .app
        .call(
            a,
            "POST",
            "/api/v1/categories",
            Some(json!({"code":"0101","name":"dup","parent_code":"01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = w
        .app
        .call(
            a,
            "PATCH",
            "/api/v1/categories/0102",
            Some(json!({"enabled":false})),
        )
        .await;
    assert_eq!(r.json()["enabled"], false);
    let mut t = ticket("complaint", "燃气");
    t["category_code"] = json!("0102");
    let r = w.app.call(&w.op, "POST", "/api/v1/tickets", Some(t)).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "disabled category refused"
    );
    // Users: a department handler needs a unit; one cannot disable oneself.
    let r = w
        .app
        .call(
            a,
            "POST",
            "/api/v1/users",
            Some(json!({"username":"h2","password":"password-1","roles":["department_handler"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let me = w.app.call(a, "GET", "/api/v1/session", None).await.json()["user"]["id"]
        .as_u64()
        .unwrap();
    let r = w
        .app
        .call(
            a,
            "PATCH",
            &format!("/api/v1/users/{me}"),
            Some(json!({"enabled":false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = w
        .app
        .call(
            a,
            "POST",
            "/api/v1/users",
            Some(json!({"username":"OP","password":"password-1","roles":["operator"]})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "usernames are case-insensitive"
    );
}

#[tokio::test]
async fn intake_query_and_department_scope() {
    let w = world().await;
    let app = &w.app;
    // Registration.
    let r = app
        .call(
            &w.op,
            "POST",
            "/api/v1/tickets",
            Some(ticket("complaint", "小区停水两天了")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let t1 = r.json();
    let n1 = t1["number"].as_str().unwrap().to_string();
    assert_eq!(t1["state"], "pending_dispatch");
    assert_eq!(t1["caller_phone"], "13812345678");
    assert_eq!(t1["title"], "小区停水两天了");
    assert!(n1.len() == 15 && n1.as_bytes()[8] == b'-');
    let mut rep = ticket("report", "举报无证黑作坊");
    rep["caller_phone"] = json!("13900001111");
    rep["caller_name"] = json!("李四");
    let n2 = app
        .call(&w.op, "POST", "/api/v1/tickets", Some(rep))
        .await
        .json()["number"]
        .as_str()
        .unwrap()
        .to_string();
    let mut cons = ticket("consultation", "社保卡怎么补办");
    cons["answer"] = json!("携带身份证到社保中心办理");
    let r = app.call(&w.op, "POST", "/api/v1/tickets", Some(cons)).await;
    assert_eq!(r.json()["state"], "closed");
    let n3 = r.json()["number"].as_str().unwrap().to_string();
    assert!(n2 > n1 && n3 > n2, "numbers sort by creation");
    // Answer only on consultations.
    let mut bad = ticket("complaint", "x");
    bad["answer"] = json!("y");
    assert_eq!(
        app.call(&w.op, "POST", "/api/v1/tickets", Some(bad))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Department users cannot register or dispatch.
    assert_eq!(
        app.call(
            &w.dept_a,
            "POST",
            "/api/v1/tickets",
            Some(ticket("help", "x"))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .call(
            &w.op,
            "POST",
            &format!("/api/v1/tickets/{n1}/actions/dispatch"),
            Some(json!({"unit_id": w.unit_a1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "operators do not dispatch");
    // Dispatch n1 to A1 (below A), n2 to A.
    let r = app
        .call(
            &w.disp,
            "POST",
            &format!("/api/v1/tickets/{n1}/actions/dispatch"),
            Some(json!({"unit_id": w.unit_a1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let d = r.json();
    assert_eq!(d["state"], "awaiting_sign_for");
    assert_eq!(d["supervision"], "normal");
    assert!(
        d["stage_due_at"]
            .as_str()
            .unwrap()
            .ends_with("23:59:59+08:00")
    );
    assert!(d["due_at"].is_string());
    let r = app
        .call(
            &w.disp,
            "POST",
            &format!("/api/v1/tickets/{n1}/actions/dispatch"),
            Some(json!({"unit_id": w.unit_a})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "already dispatched");
    assert_eq!(
        app.call(
            &w.disp,
            "POST",
            &format!("/api/v1/tickets/{n2}/actions/dispatch"),
            Some(json!({"unit_id": 999}))
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.call(
            &w.disp,
            "POST",
            &format!("/api/v1/tickets/{n2}/actions/dispatch"),
            Some(json!({"unit_id": w.unit_a}))
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(
            &w.disp,
            "POST",
            &format!("/api/v1/tickets/{n2}/actions/fly"),
            Some(json!({}))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // Center staff see everything, unmasked.
    let all = app.call(&w.op, "GET", "/api/v1/tickets", None).await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    // Department A sees n1 (its sub-unit) and n2, masked; the reporter hidden.
    let a = app
        .call(&w.dept_a, "GET", "/api/v1/tickets", None)
        .await
        .json();
    let items = a["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let get = |n: &str| items.iter().find(|i| i["number"] == n).unwrap().clone();
    assert_eq!(get(&n1)["caller_phone"], "138****5678");
    assert_eq!(get(&n1)["caller_name"], "张三");
    assert_eq!(get(&n2)["caller_phone"], "（保密）");
    assert_eq!(get(&n2)["caller_name"], "（保密）");
    let one = app
        .call(&w.dept_a, "GET", &format!("/api/v1/tickets/{n2}"), None)
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(!one.text().contains("13900001111") && !one.text().contains("李四"));
    // ...and cannot search by phone or name at all (issue 12.2: such a
    // filter is refused, see tests/security.rs).
    for q in ["caller_phone=13900001111", "caller_name=%E6%9D%8E%E5%9B%9B"] {
        let r = app
            .call(&w.dept_a, "GET", &format!("/api/v1/tickets?{q}"), None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{q}");
        assert!(!r.text().contains("13900001111") && !r.text().contains(&n2));
    }
    // A1 sees only n1; B sees nothing and gets 404 for both, API and page.
    let r = app
        .call(&w.dept_a1, "GET", "/api/v1/tickets", None)
        .await
        .json();
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    let r = app
        .call(&w.dept_b, "GET", "/api/v1/tickets", None)
        .await
        .json();
    assert_eq!(r["items"].as_array().unwrap().len(), 0);
    for n in [&n1, &n2, &n3] {
        assert_eq!(
            app.call(&w.dept_b, "GET", &format!("/api/v1/tickets/{n}"), None)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.call(
                &w.dept_b,
                "GET",
                &format!("/api/v1/tickets/{n}/events"),
                None
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.call(&w.dept_b, "GET", &format!("/tickets/{n}"), None)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let r = app
            .call(
                &w.dept_b,
                "GET",
                &format!("/api/v1/tickets?number={n}"),
                None,
            )
            .await
            .json();
        assert_eq!(r["items"].as_array().unwrap().len(), 0);
    }
    let page = app
        .call(&w.dept_a, "GET", &format!("/tickets/{n2}"), None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains("13900001111") && !page.text().contains("李四"));
    let list = app.call(&w.dept_a, "GET", "/tickets", None).await.text();
    assert!(list.contains("138****5678") && !list.contains("13812345678"));

    // The timeline.
    let ev = app
        .call(&w.op, "GET", &format!("/api/v1/tickets/{n1}/events"), None)
        .await
        .json();
    let actions: Vec<&str> = ev
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "dispatched"]);
    assert_eq!(ev[1]["actor"], "disp");
    let ev = app
        .call(&w.op, "GET", &format!("/api/v1/tickets/{n3}/events"), None)
        .await
        .json();
    assert_eq!(ev[1]["action"], "answered_at_intake");

    // The query.
    let q = |s: &str| format!("/api/v1/tickets?{s}");
    let count = |v: Value| v["items"].as_array().unwrap().len();
    assert_eq!(
        count(
            app.call(&w.op, "GET", &q("caller_phone=138-1234-5678"), None)
                .await
                .json()
        ),
        2
    );
    assert_eq!(
        count(
            app.call(&w.op, "GET", &q("state=closed"), None)
                .await
                .json()
        ),
        1
    );
    assert_eq!(
        count(app.call(&w.op, "GET", &q("state=open"), None).await.json()),
        2
    );
    assert_eq!(
        count(
            app.call(&w.op, "GET", &q("appeal_type=report"), None)
                .await
                .json()
        ),
        1
    );
    assert_eq!(
        count(app.call(&w.op, "GET", &q("category=01"), None).await.json()),
        3
    );
    assert_eq!(
        count(
            app.call(&w.op, "GET", &q(&format!("unit_id={}", w.unit_a)), None)
                .await
                .json()
        ),
        2
    );
    assert_eq!(
        count(
            app.call(&w.op, "GET", &q(&format!("unit_id={}", w.unit_b)), None)
                .await
                .json()
        ),
        0
    );
    assert_eq!(
        count(
            app.call(&w.op, "GET", &q("supervision=normal"), None)
                .await
                .json()
        ),
        2
    );
    assert_eq!(
        count(
            app.call(&w.op, "GET", &q("supervision=red"), None)
                .await
                .json()
        ),
        0
    );
    assert_eq!(
        count(
            app.call(&w.op, "GET", &q("q=%E5%81%9C%E6%B0%B4"), None)
                .await
                .json()
        ),
        1
    );
    assert_eq!(count(app.call(&w.op, "GET", &q("district=%E5%B8%82%E5%8D%97%E5%8C%BA&street=%E5%85%AB%E5%A4%A7%E5%85%B3%E8%A1%97%E9%81%93"), None).await.json()), 3);
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    assert_eq!(
        count(
            app.call(&w.op, "GET", &q(&format!("from={today}&to={today}")), None)
                .await
                .json()
        ),
        3
    );
    let tomorrow = today.tomorrow().unwrap();
    assert_eq!(
        count(
            app.call(&w.op, "GET", &q(&format!("from={tomorrow}")), None)
                .await
                .json()
        ),
        0
    );
    // Paging: 1 per page walks all three, newest first, then oldest first.
    let mut seen = vec![];
    let mut cursor = String::new();
    loop {
        let r = app
            .call(&w.op, "GET", &q(&format!("limit=1&cursor={cursor}")), None)
            .await
            .json();
        seen.push(r["items"][0]["number"].as_str().unwrap().to_string());
        match r["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, [n3.clone(), n2.clone(), n1.clone()]);
    let r = app
        .call(&w.op, "GET", &q("sort=oldest&limit=1"), None)
        .await
        .json();
    assert_eq!(r["items"][0]["number"], n1.as_str());
    // Bad query values: clear 4xx.
    for bad in [
        "state=flying",
        "limit=0",
        "limit=abc",
        "from=2026-13-01",
        "cursor=zz",
        "sort=up",
        "unit_id=999",
        "category=99",
        "caller_phone=abc",
        "number=12ab",
    ] {
        let r = app.call(&w.op, "GET", &q(bad), None).await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.status);
        assert_eq!(r.ctype(), "application/problem+json", "{bad}");
    }
    // The list and ticket pages render for center staff.
    let r = app.call(&w.op, "GET", "/tickets?state=open", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains(&n1));
    let r = app
        .call(&w.op, "GET", &format!("/tickets/{n1}"), None)
        .await;
    assert!(r.text().contains("13812345678") && r.text().contains("供水营业所"));
    // Dispatch form on the ticket page for the dispatcher only.
    assert!(
        app.call(&w.disp, "GET", &format!("/tickets/{n3}"), None)
            .await
            .text()
            .find("dispatch-unit")
            .is_none()
    );
}

#[tokio::test]
async fn bad_input_is_refused_cleanly() {
    let w = world().await;
    let app = &w.app;
    let op = &w.op;
    let before = app.call(op, "GET", "/api/v1/tickets", None).await.json()["items"]
        .as_array()
        .unwrap()
        .len();
    // Invalid JSON, wrong content type.
    let mut req = Request::builder()
        .method("POST")
        .uri("/api/v1/tickets")
        .header(header::CONTENT_TYPE, "application/json");
    req = req
        .header(header::COOKIE, op.cookie.clone().unwrap())
        .header("x-csrf-token", op.csrf.clone().unwrap());
    let r = app.send(req.body(Body::from("{not json")).unwrap()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.ctype(), "application/problem+json");
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/tickets")
        .header(header::COOKIE, op.cookie.clone().unwrap())
        .header("x-csrf-token", op.csrf.clone().unwrap());
    let r = app.send(req.body(Body::from("a=b")).unwrap()).await;
    assert!(r.status.is_client_error());
    // Oversized body.
    let huge = json!({"content": "x".repeat(2 * 1024 * 1024)});
    let r = app.call(op, "POST", "/api/v1/tickets", Some(huge)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Field errors, several at once.
    let mut t = ticket("complaint", "");
    t["caller_phone"] = json!("12345");
    t["category_code"] = json!("9999");
    t["caller_name"] = json!("a\u{0007}b");
    t["channel"] = json!("pigeon");
    let r = app.call(op, "POST", "/api/v1/tickets", Some(t)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    for f in ["content", "category_code", "caller_name", "channel"] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
    let mut t = ticket("complaint", "x");
    t["caller_phone"] = json!("12012345678");
    assert_eq!(
        app.call(op, "POST", "/api/v1/tickets", Some(t))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mut t = ticket("complaint", "x");
    t["title"] = json!("标".repeat(101));
    assert_eq!(
        app.call(op, "POST", "/api/v1/tickets", Some(t))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mut t = ticket("complaint", "x");
    t["attachments"] = json!([{"sha256": "0".repeat(64), "name": "a.png"}]);
    assert_eq!(
        app.call(op, "POST", "/api/v1/tickets", Some(t))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Nothing half-written.
    let after = app.call(op, "GET", "/api/v1/tickets", None).await.json()["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
    // HTML in every text field is stored as text and shown escaped.
    let x = "<script>alert(1)</script>";
    let mut t = ticket("complaint", x);
    for f in ["caller_name", "district", "street", "address", "title"] {
        t[f] = json!(x);
    }
    let r = app.call(op, "POST", "/api/v1/tickets", Some(t)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let n = r.json()["number"].as_str().unwrap().to_string();
    assert_eq!(r.json()["title"], x);
    for page in [format!("/tickets/{n}"), "/tickets".to_string()] {
        let html = app.call(op, "GET", &page, None).await.text();
        assert!(!html.contains(x), "{page} shows raw script");
        assert!(
            html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"),
            "{page}"
        );
    }
    // Unknown API path: problem+json 404.
    let r = app.call(op, "GET", "/api/v1/nothing", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.ctype(), "application/problem+json");
}

fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut b = vec![];
    for (name, file, data) in parts {
        b.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => b.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes()),
            None => b.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    b
}

#[tokio::test]
async fn attachments_upload_link_download() {
    let w = world().await;
    let app = &w.app;
    let op = &w.op;
    let up = |name: &'static str, data: Vec<u8>| {
        let body = multipart("XyZ", &[("file", Some(name), &data)]);
        Request::builder()
            .method("POST")
            .uri("/api/v1/attachments")
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
            .header(header::COOKIE, op.cookie.clone().unwrap())
            .header("x-csrf-token", op.csrf.clone().unwrap())
            .body(Body::from(body))
            .unwrap()
    };
    let r = app
        .send(up("照片.png", b"\x89PNG fake image".to_vec()))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let sha = r.json()["sha256"].as_str().unwrap().to_string();
    assert_eq!(r.json()["content_type"], "image/png");
    let r = app.send(up("evil.exe", b"MZ".to_vec())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.send(up("big.pdf", vec![b'x'; 21 * 1024 * 1024])).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let mut t = ticket("help", "附件测试");
    t["attachments"] = json!([{"sha256": sha, "name": "照片.png"}]);
    let r = app.call(op, "POST", "/api/v1/tickets", Some(t)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let n = r.json()["number"].as_str().unwrap().to_string();
    assert_eq!(r.json()["attachments"][0]["size"], 15);
    let r = app
        .call(
            op,
            "GET",
            &format!("/api/v1/tickets/{n}/attachments/{sha}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, b"\x89PNG fake image");
    assert_eq!(r.ctype(), "image/png");
    let r = app
        .call(op, "GET", &format!("/tickets/{n}/attachments/{sha}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Department B cannot fetch it.
    let r = app
        .call(
            &w.dept_b,
            "GET",
            &format!("/api/v1/tickets/{n}/attachments/{sha}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let _ = (w.unit_a, w.unit_b);
}

#[tokio::test]
async fn api_tokens_act_as_their_user() {
    let w = world().await;
    let app = &w.app;
    let users = app
        .call(&w.admin, "GET", "/api/v1/users", None)
        .await
        .json();
    let op_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "op")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let r = app
        .call(
            &w.admin,
            "POST",
            "/api/v1/tokens",
            Some(json!({"name":"PBX","user_id":op_id})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let secret = r.json()["token"].as_str().unwrap().to_string();
    let id = r.json()["id"].as_u64().unwrap();
    let listed = app
        .call(&w.admin, "GET", "/api/v1/tokens", None)
        .await
        .json();
    assert!(listed[0].get("token").is_none(), "the secret is shown once");
    let bearer = Who {
        bearer: Some(secret.clone()),
        ..Default::default()
    };
    // No CSRF needed with a token.
    let r = app
        .call(
            &bearer,
            "POST",
            "/api/v1/tickets",
            Some(ticket("help", "来自PBX")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        app.call(&bearer, "GET", "/api/v1/users", None).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .call(&w.admin, "DELETE", &format!("/api/v1/tokens/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(&bearer, "GET", "/api/v1/tickets", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let junk = Who {
        bearer: Some("hlt_junk".into()),
        ..Default::default()
    };
    assert_eq!(
        app.call(&junk, "GET", "/api/v1/tickets", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn calendar_and_dev_clock() {
    let w = world().await;
    let r = w
        .app
        .call(&w.op, "GET", "/api/v1/calendar/2026", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let days = r.json()["days"].as_array().unwrap().clone();
    assert!(
        days.iter()
            .any(|d| d["date"] == "2026-09-20" && d["kind"] == "workday")
    );
    assert!(r.json()["working_days"].as_u64().unwrap() > 240);
    assert_eq!(
        w.app
            .call(&w.op, "GET", "/api/v1/calendar/abc", None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // Without --dev-clock the route does not exist.
    let r = w
        .app
        .call(
            &w.admin,
            "POST",
            "/api/v1/dev/clock",
            Some(json!({"now":"2030-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // With it, administrators move time; others may not.
    let app = app_with(true);
    app.call(
        &Who::default(),
        "POST",
        "/api/v1/setup",
        Some(json!({"username":"admin","password":"admin-pass-1"})),
    )
    .await;
    let admin = app.login("admin", "admin-pass-1").await;
    let r = app
        .call(
            &admin,
            "POST",
            "/api/v1/dev/clock",
            Some(json!({"now":"2030-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["now"].as_str().unwrap().starts_with("2030-01-01"));
    let r = app
        .call(
            &admin,
            "POST",
            "/api/v1/dev/clock",
            Some(json!({"now":"yesterday"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn pages_render_and_forms_need_csrf() {
    let w = world().await;
    let app = &w.app;
    let anon = Who::default();
    assert_eq!(
        app.call(&anon, "GET", "/login", None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(&anon, "GET", "/setup", None).await.status,
        StatusCode::SEE_OTHER,
        "setup is closed"
    );
    let r = app.call(&w.op, "GET", "/", None).await;
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/tickets/new");
    let r = app.call(&w.dept_a, "GET", "/", None).await;
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/inbox");
    let r = app.call(&w.disp, "GET", "/", None).await;
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/queues");
    let r = app.call(&w.op, "GET", "/tickets/new", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(
        html.contains("caller_phone")
            && html.contains("0101 停水")
            && html.contains(w.op.csrf.as_deref().unwrap())
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing loaded from outside"
    );
    // Page form posts without the token are refused.
    let form = |who: &Who, path: &str, body: &str| {
        let mut b = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = &who.cookie {
            b = b.header(header::COOKIE, c);
        }
        b.body(Body::from(body.to_string())).unwrap()
    };
    for (path, body) in [
        ("/admin/units", "name=x"),
        (
            "/admin/users",
            "username=zz&password=password-1&roles=operator",
        ),
        ("/admin/categories", "code=05&name=x"),
        ("/logout", ""),
        ("/account/password", "current_password=a&new_password=b"),
    ] {
        let r = app.send(form(&w.admin, path, body)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    let csrf = w.admin.csrf.clone().unwrap();
    let r = app
        .send(form(
            &w.admin,
            "/admin/units",
            &format!("csrf={csrf}&name=%E6%96%B0%E5%8D%95%E4%BD%8D"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.call(&w.admin, "GET", "/admin/units", None)
            .await
            .text()
            .contains("新单位")
    );
    // Intake through the page (multipart).
    let csrf = w.op.csrf.clone().unwrap();
    let body = multipart(
        "B0",
        &[
            ("csrf", None, csrf.as_bytes()),
            ("caller_phone", None, b"13800000000"),
            ("appeal_type", None, b"help"),
            ("category", None, "0101 停水".as_bytes()),
            ("content", None, "页面登记".as_bytes()),
            ("channel", None, b"phone"),
            ("urgency", None, b"normal"),
        ],
    );
    let req = Request::builder()
        .method("POST")
        .uri("/tickets/new")
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B0")
        .header(header::COOKIE, w.op.cookie.clone().unwrap())
        .body(Body::from(body))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let loc = r
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(loc.starts_with("/tickets/new?saved="));
    let n = loc.split('=').nth(1).unwrap();
    assert!(app.call(&w.op, "GET", &loc, None).await.text().contains(n));
    // An intake error keeps what was typed.
    let body = multipart(
        "B1",
        &[
            ("csrf", None, csrf.as_bytes()),
            ("caller_phone", None, b"abc"),
            ("appeal_type", None, b"help"),
            ("category", None, b"0101"),
            ("content", None, "保留我".as_bytes()),
        ],
    );
    let req = Request::builder()
        .method("POST")
        .uri("/tickets/new")
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B1")
        .header(header::COOKIE, w.op.cookie.clone().unwrap())
        .body(Body::from(body))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("保留我"));
    // Dispatch through the ticket page.
    let disp_csrf = w.disp.csrf.clone().unwrap();
    let r = app
        .send(form(
            &w.disp,
            &format!("/tickets/{n}/act/dispatch"),
            &format!("csrf={disp_csrf}&unit_id={}", w.unit_a),
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        app.call(&w.disp, "GET", &format!("/tickets/{n}"), None)
            .await
            .text()
            .contains("待签收")
    );
    // English.
    let r = app
        .send(
            Request::builder()
                .uri("/login")
                .header(header::COOKIE, "lang=en")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(r.text().contains("Log in"));
    // Static assets are embedded and cacheable.
    let r = app.call(&anon, "GET", "/static/app.css", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.get(header::ETAG).is_some());
    assert_eq!(
        app.call(&anon, "GET", "/static/nope.css", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Password change page, then login page form.
    assert_eq!(
        app.call(&w.op, "GET", "/account/password", None)
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .send(form(
            &anon,
            "/login",
            "username=op&password=password-1&next=//evil.example",
        ))
        .await;
    assert_eq!(
        r.headers.get(header::LOCATION).unwrap(),
        "/",
        "no open redirect"
    );
    let _ = w.unit_a1;
}

#[tokio::test]
async fn inbox_queues_and_live_events_pages() {
    let w = world().await;
    let app = &w.app;
    let n = app
        .call(
            &w.op,
            "POST",
            "/api/v1/tickets",
            Some(ticket("help", "收件箱测试")),
        )
        .await
        .json()["number"]
        .as_str()
        .unwrap()
        .to_string();
    app.call(
        &w.disp,
        "POST",
        &format!("/api/v1/tickets/{n}/actions/dispatch"),
        Some(json!({"unit_id": w.unit_a})),
    )
    .await;
    let r = app.call(&w.dept_a, "GET", "/inbox", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains(&n) && r.text().contains("tab-sign_for"));
    let r = app.call(&w.dept_a, "GET", "/inbox?tab=overdue", None).await;
    assert!(!r.text().contains(&n));
    assert_eq!(
        app.call(&w.dept_a, "GET", "/inbox?tab=nope", None)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.call(&w.op, "GET", "/inbox", None).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app.call(&w.disp, "GET", "/queues", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("q-dispatch"));
    assert_eq!(
        app.call(&w.dept_a, "GET", "/queues", None).await.status,
        StatusCode::FORBIDDEN
    );
    // The inbox API for the department, refused to the center.
    let v = app
        .call(&w.dept_a, "GET", "/api/v1/inbox", None)
        .await
        .json();
    assert_eq!(v["counts"]["sign_for"], 1);
    assert_eq!(
        app.call(&w.disp, "GET", "/api/v1/inbox", None).await.status,
        StatusCode::FORBIDDEN
    );
    // Live events are a server-sent event stream, for logged-in users only.
    let r = app
        .router
        .clone()
        .oneshot({
            let mut req = Request::builder()
                .uri("/events")
                .header(header::COOKIE, w.dept_a.cookie.clone().unwrap())
                .body(Body::empty())
                .unwrap();
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 5555))));
            req
        })
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(
        app.call(&Who::default(), "GET", "/events", None)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The ticket page offers the department exactly its steps.
    let html = app
        .call(&w.dept_a, "GET", &format!("/tickets/{n}"), None)
        .await
        .text();
    assert!(
        html.contains("act-sign-for")
            && html.contains("act-return")
            && !html.contains("act-review")
    );
    let html = app
        .call(&w.dept_b, "GET", &format!("/tickets/{n}"), None)
        .await;
    assert_eq!(html.status, StatusCode::NOT_FOUND);
    // A step through the page form.
    let csrf = w.dept_a.csrf.clone().unwrap();
    let req = Request::builder()
        .method("POST")
        .uri(format!("/tickets/{n}/act/sign-for"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, w.dept_a.cookie.clone().unwrap())
        .body(Body::from(format!("csrf={csrf}")))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::SEE_OTHER);
    let req = Request::builder()
        .method("POST")
        .uri(format!("/tickets/{n}/act/reply"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, w.dept_a.cookie.clone().unwrap())
        .body(Body::from("result=x"))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN, "no csrf");
    let html = app
        .call(&w.dept_a, "GET", &format!("/tickets/{n}"), None)
        .await
        .text();
    assert!(html.contains("办理中") && html.contains("form-reply"));
}

#[tokio::test]
async fn administrative_changes_and_logins_are_audited() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .call(
            &Who::default(),
            "POST",
            "/api/v1/session",
            Some(json!({"username":"op","password":"nope-nope"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    app.call(
        &w.admin,
        "PATCH",
        &format!("/api/v1/units/{}", w.unit_b),
        Some(json!({"enabled": false})),
    )
    .await;
    let log = app
        .call(&w.admin, "GET", "/api/v1/admin/audit", None)
        .await
        .json();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "unit.update", "newest first");
    assert_eq!(actions[1], "login.failed");
    assert!(actions.contains(&"settings.update"));
    for a in [
        "setup",
        "login",
        "unit.create",
        "category.create",
        "user.create",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert_eq!(log[0]["actor"], "管理员");
    assert_eq!(log[1]["target"], "op");
    // Paging and permissions.
    let first = log[0]["id"].as_u64().unwrap();
    let older = app
        .call(
            &w.admin,
            "GET",
            &format!("/api/v1/admin/audit?before={first}&limit=2"),
            None,
        )
        .await
        .json();
    assert_eq!(older.as_array().unwrap().len(), 2);
    assert!(older[0]["id"].as_u64().unwrap() < first);
    assert_eq!(
        app.call(&w.op, "GET", "/api/v1/admin/audit", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let page = app.call(&w.admin, "GET", "/admin/audit", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("login.failed"));
    assert_eq!(
        app.call(&w.op, "GET", "/admin/audit", None).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn answered_consultations_are_sampled_for_callback() {
    let w = world().await;
    let app = &w.app;
    app.call(
        &w.admin,
        "PATCH",
        "/api/v1/settings",
        Some(json!({"callback_sample_percent": 100})),
    )
    .await;
    let mut cons = ticket("consultation", "公积金怎么提取");
    cons["answer"] = json!("携带身份证到公积金中心办理");
    let r = app
        .call(&w.op, "POST", "/api/v1/tickets", Some(cons))
        .await
        .json();
    assert_eq!(r["state"], "awaiting_callback");
    assert!(r["closed_at"].is_null());
    let n = r["number"].as_str().unwrap();
    let ev = app
        .call(&w.op, "GET", &format!("/api/v1/tickets/{n}/events"), None)
        .await
        .json();
    let actions: Vec<&str> = ev
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["created", "answered_at_intake", "sampled_for_callback"]
    );
}
