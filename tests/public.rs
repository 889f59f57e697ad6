//! The citizens' pages and API (no login): submission, progress lookup,
//! uniform "not found", rate limits, escaping, and that a web request
//! reaches the staff with channel `web`.
//!
//! The rate limiter is process-wide, so every test sends from its own
//! client addresses (`10.7.<test>.<n>`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use hotline::domain::ticket::{Event, EventKind, TicketNo};
use hotline::domain::types::State;
use hotline::service::Services;

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
    fn header(&self, h: header::HeaderName) -> String {
        self.headers
            .get(h)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

#[derive(Clone, Default)]
struct Who {
    cookie: Option<String>,
    csrf: Option<String>,
}

/// An app with an administrator, two units, categories (01 水电气 with
/// 0101 停水, 99 其他, 98 disabled) and a dispatcher.
struct World {
    router: axum::Router,
    svc: Arc<Services>,
    admin: Who,
    disp: Who,
    unit: u64,
    _dir: TempDir,
}

fn ip(test: u8, n: u8) -> [u8; 4] {
    [10, 7, test, n]
}

impl World {
    async fn send(&self, from: [u8; 4], mut req: Request<Body>) -> Resp {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((from, 5555))));
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

    async fn call(
        &self,
        from: [u8; 4],
        who: &Who,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Resp {
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
        self.send(from, req).await
    }

    async fn login(&self, user: &str, pw: &str) -> Who {
        let r = self
            .call(
                [127, 0, 0, 1],
                &Who::default(),
                "POST",
                "/api/v1/session",
                Some(json!({"username": user, "password": pw})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {user}: {}", r.text());
        let cookie = r.header(header::SET_COOKIE);
        Who {
            cookie: Some(cookie.split(';').next().unwrap().to_string()),
            csrf: Some(r.json()["csrf_token"].as_str().unwrap().to_string()),
        }
    }

    /// Staff call from the staff network.
    async fn staff(&self, who: &Who, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.call([127, 0, 0, 1], who, method, path, body).await
    }

    async fn submit(&self, from: [u8; 4], body: Value) -> Resp {
        self.call(
            from,
            &Who::default(),
            "POST",
            "/api/v1/public/tickets",
            Some(body),
        )
        .await
    }

    async fn lookup(&self, from: [u8; 4], number: &str, last4: &str) -> Resp {
        self.call(
            from,
            &Who::default(),
            "GET",
            &format!("/api/v1/public/tickets/{number}?phone_last4={last4}"),
            None,
        )
        .await
    }
}

async fn world() -> World {
    let dir = temp_dir("public");
    let cfg = hotline::config::Config::resolve(Some(dir.0.clone()), None, false, false).unwrap();
    let svc = hotline::open_services(&cfg).unwrap();
    let state = hotline::http::AppState::new(svc, false);
    let svc = state.svc.clone();
    let router = hotline::build_app(state);
    let mut w = World {
        router,
        svc,
        admin: Who::default(),
        disp: Who::default(),
        unit: 0,
        _dir: dir,
    };
    let r = w
        .staff(
            &Who::default(),
            "POST",
            "/api/v1/setup",
            Some(json!({"username":"admin","password":"admin-pass-1","display_name":"管理员"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    w.admin = w.login("admin", "admin-pass-1").await;
    let r = w
        .staff(
            &w.admin,
            "POST",
            "/api/v1/units",
            Some(json!({"name":"区水务局","parent_id":null})),
        )
        .await;
    w.unit = r.json()["id"].as_u64().unwrap();
    for (code, name, parent) in [
        ("01", "水电气", None),
        ("0101", "停水", Some("01")),
        ("98", "已停用分类", None),
        ("99", "其他", None),
    ] {
        let r = w
            .staff(
                &w.admin,
                "POST",
                "/api/v1/categories",
                Some(
                    json!({"code":code,"name":name,"parent_code":parent,"default_unit_id":w.unit}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let r = w
        .staff(
            &w.admin,
            "PATCH",
            "/api/v1/categories/98",
            Some(json!({"enabled": false})),
        )
        .await;
    assert!(r.status.is_success(), "disable category: {}", r.text());
    let r = w
        .staff(&w.admin, "POST", "/api/v1/users", Some(json!({"username":"disp","password":"password-1","display_name":"派单员王五","roles":["dispatcher"],"unit_id":null})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    w.disp = w.login("disp", "password-1").await;
    w
}

fn request(content: &str) -> Value {
    json!({"caller_phone":"138 1234 5678","caller_name":"李四","appeal_type":"complaint",
           "category_code":"0101","district":"市南区","street":"八大关街道","address":"香港中路18号",
           "content":content})
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

fn multipart_req(path: &str, cookie: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut b = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=PUB");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(body)).unwrap()
}

fn form_req(path: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Text between `start` and the next `end`.
fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in page"))
        + start.len();
    &s[i..i + s[i..].find(end).unwrap()]
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n fake photo";

#[tokio::test]
async fn api_submit_and_lookup_show_public_fields_only() {
    let w = world().await;
    let from = ip(1, 1);
    let r = w.submit(from, request("小区停水三天了")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let n = r.json()["number"].as_str().unwrap().to_string();
    assert!(TicketNo::parse(&n).is_some(), "{n}");
    assert_eq!(r.json()["lookup"], format!("/public/lookup?number={n}"));

    let r = w.lookup(from, &n, "5678").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["number"], n);
    assert_eq!(v["state"], "pending_dispatch");
    assert_eq!(v["state_label"], "已受理，待分派");
    assert_eq!(v["appeal_type"], "complaint");
    assert_eq!(v["category_name"], "水电气 / 停水");
    assert_eq!(v["title"], "小区停水三天了");
    assert!(v["answer"].is_null() && v["unit_name"].is_null());
    assert_eq!(v["steps"][0]["step"], "registered");
    let body = r.text();
    for secret in ["李四", "13812345678", "1234", "caller", "香港中路", "系统"] {
        assert!(!body.contains(secret), "{secret} leaked: {body}");
    }

    // The staff see it with channel web, created by the system.
    let r = w
        .staff(&w.admin, "GET", &format!("/api/v1/tickets/{n}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["channel"], "web");
    assert_eq!(r.json()["caller_name"], "李四");
    assert_eq!(r.json()["caller_phone"], "13812345678");
    assert_eq!(r.json()["urgency"], "normal");
    let r = w
        .staff(&w.admin, "GET", "/api/v1/tickets?channel=web", None)
        .await;
    assert!(
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["number"] == n.as_str())
    );

    // Dispatched, with an internal note: the unit shows, the note does not.
    let r = w
        .staff(
            &w.disp,
            "POST",
            &format!("/api/v1/tickets/{n}/actions/dispatch"),
            Some(json!({"unit_id": w.unit, "reason": "内部备注：老问题"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = w.lookup(from, &n, "5678").await;
    let v = r.json();
    assert_eq!(v["state"], "awaiting_sign_for");
    assert_eq!(v["unit_name"], "区水务局");
    assert!(v["due_at"].is_string());
    assert_eq!(v["steps"][1]["step"], "dispatched");
    assert_eq!(v["steps"][1]["summary"], "已转交 区水务局 办理");
    let body = r.text();
    for secret in ["内部备注", "派单员王五", "actor", "note", "supervision"] {
        assert!(!body.contains(secret), "{secret} leaked: {body}");
    }

    // A reply waiting for the center's review is not public yet …
    let no = TicketNo::parse(&n).unwrap();
    w.svc
        .store
        .update_ticket(no, |t| -> Result<Vec<Event>, hotline::error::Error> {
            t.state = State::AwaitingReview;
            t.stage = None;
            t.reply = "管道已抢修完毕".into();
            Ok(vec![
                Event {
                    at: t.updated_at,
                    actor: 1,
                    kind: EventKind::Progress,
                    note: "进展备注：施工队已到场".into(),
                },
                Event {
                    at: t.updated_at,
                    actor: 1,
                    kind: EventKind::Replied {
                        result: "管道已抢修完毕".into(),
                    },
                    note: String::new(),
                },
            ])
        })
        .unwrap();
    let r = w.lookup(from, &n, "5678").await;
    assert!(r.json()["answer"].is_null(), "{}", r.text());
    assert!(!r.text().contains("管道已抢修") && !r.text().contains("施工队"));
    assert_eq!(r.json()["state_label"], "承办单位已答复，审核中");
    // … once the review passed, it is.
    w.svc
        .store
        .update_ticket(no, |t| -> Result<Vec<Event>, hotline::error::Error> {
            t.state = State::AwaitingCallback;
            Ok(vec![Event {
                at: t.updated_at,
                actor: 1,
                kind: EventKind::Reviewed {
                    outcome: "pass".into(),
                    unit_id: None,
                    period_days: None,
                },
                note: "复核意见：答复偏简单".into(),
            }])
        })
        .unwrap();
    let r = w.lookup(from, &n, "5678").await;
    let v = r.json();
    assert_eq!(v["answer"], "管道已抢修完毕");
    assert!(v["answered_at"].is_string());
    let steps: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "registered",
            "dispatched",
            "progress",
            "replied",
            "review_passed"
        ]
    );
    assert!(!r.text().contains("复核意见") && !r.text().contains("施工队"));
}

#[tokio::test]
async fn a_miss_reveals_nothing() {
    let w = world().await;
    let from = ip(2, 1);
    let r = w.submit(from, request("路灯不亮")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let n = r.json()["number"].as_str().unwrap().to_string();
    let day = &n[..8];
    let wrong = w.lookup(from, &n, "0000").await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert_eq!(wrong.ctype(), "application/problem+json");
    assert!(wrong.json()["detail"].as_str().unwrap().contains("未找到"));
    for (number, last4) in [
        (format!("{day}-999999"), "5678"),
        ("20200101-000001".to_string(), "5678"),
        ("abc".to_string(), "5678"),
        ("20261399-000001".to_string(), "5678"),
        ("%FF%FE".to_string(), "5678"),
        (n.clone(), "12"),
        (n.clone(), "abcd"),
        (n.clone(), "%FF"),
        (n.clone(), "15678"),
    ] {
        let r = w.lookup(from, &number, last4).await;
        assert_eq!(r.status, wrong.status, "{number} {last4}");
        assert_eq!(r.body, wrong.body, "{number} {last4}");
        assert_eq!(r.ctype(), wrong.ctype());
    }
    let r = w
        .call(
            from,
            &Who::default(),
            "GET",
            &format!("/api/v1/public/tickets/{n}"),
            None,
        )
        .await;
    assert_eq!(r.body, wrong.body, "no suffix at all");
    // The right suffix still works.
    assert_eq!(w.lookup(from, &n, "5678").await.status, StatusCode::OK);
}

#[tokio::test]
async fn lookups_are_rate_limited() {
    let w = world().await;
    let from = ip(3, 1);
    for i in 1..=20 {
        let r = w.lookup(from, &format!("20260101-{i:06}"), "1234").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "lookup {i}");
    }
    let r = w.lookup(from, "20260101-000021", "1234").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert_eq!(r.ctype(), "application/problem+json");
    let wait: u64 = r.header(header::RETRY_AFTER).parse().unwrap();
    assert!(wait > 0 && wait <= 600, "{wait}");
    // The page shares the limit.
    let r = w
        .send(
            from,
            form_req("/public/lookup", "number=20260101-000001&phone_last4=1234"),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!r.header(header::RETRY_AFTER).is_empty());
    assert!(r.text().contains("查询过于频繁"));
    // Another address is not limited.
    let r = w.lookup(ip(3, 2), "20260101-000001", "1234").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Guessing the suffix of one number from many addresses stops too.
    let r = w.submit(ip(3, 3), request("噪音扰民")).await;
    let n = r.json()["number"].as_str().unwrap().to_string();
    for k in 0..10u8 {
        let r = w.lookup(ip(3, 10 + k), &n, &format!("{:04}", k)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let r = w.lookup(ip(3, 30), &n, "5678").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
}

#[tokio::test]
async fn submissions_are_checked_and_limited() {
    let w = world().await;
    let from = ip(4, 1);
    let r = w.submit(from, json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.ctype(), "application/problem+json");
    let fields: Vec<String> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    for f in ["caller_phone", "appeal_type", "content"] {
        assert!(fields.contains(&f.to_string()), "{f}: {fields:?}");
    }
    let bad = |k: &str, v: Value| {
        let mut b = request("内容");
        b[k] = v;
        b
    };
    for (k, v, field) in [
        ("appeal_type", json!("emergency"), "appeal_type"),
        ("appeal_type", json!("nonsense"), "appeal_type"),
        ("caller_phone", json!("abc"), "caller_phone"),
        ("caller_phone", json!(""), "caller_phone"),
        ("category_code", json!("9999"), "category_code"),
        ("category_code", json!("98"), "category_code"),
        ("caller_name", json!("x".repeat(51)), "caller_name"),
        ("content", json!("  "), "content"),
    ] {
        let r = w.submit(from, bad(k, v.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{k}={v}");
        assert_eq!(r.json()["errors"][0]["field"], field, "{k}={v}");
    }
    let r = w
        .submit(ip(4, 1), bad("appeal_type", json!("emergency")))
        .await;
    assert!(r.text().contains("110"), "tells citizens to call");
    // Not JSON at all.
    let r = w
        .send(
            from,
            Request::builder()
                .method("POST")
                .uri("/api/v1/public/tickets")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.ctype(), "application/problem+json");

    // Without a category the request goes to the "其他" category.
    let mut b = request("不知道归哪个部门管");
    b.as_object_mut().unwrap().remove("category_code");
    let r = w.submit(ip(4, 2), b).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let n = r.json()["number"].as_str().unwrap().to_string();
    let t = w
        .staff(&w.admin, "GET", &format!("/api/v1/tickets/{n}"), None)
        .await
        .json();
    assert_eq!(t["category_code"], "99");

    // Multipart with photos; documents are refused, and so are fake images.
    let mp = |files: &[(&str, &[u8])]| {
        let mut parts: Vec<(&str, Option<&str>, &[u8])> = vec![
            ("caller_phone", None, b"13900001111"),
            ("appeal_type", None, b"help"),
            ("content", None, "井盖丢了".as_bytes()),
        ];
        for (name, data) in files {
            parts.push(("files", Some(name), data));
        }
        multipart("PUB", &parts)
    };
    let r = w
        .send(
            ip(4, 2),
            multipart_req("/api/v1/public/tickets", None, mp(&[("井盖.png", PNG)])),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let n = r.json()["number"].as_str().unwrap().to_string();
    let t = w
        .staff(&w.admin, "GET", &format!("/api/v1/tickets/{n}"), None)
        .await
        .json();
    assert_eq!(t["attachments"][0]["content_type"], "image/png");
    assert_eq!(t["attachments"][0]["name"], "井盖.png");
    for (name, data) in [
        ("a.pdf", b"%PDF-1.4".as_slice()),
        ("a.png", b"<svg onload=alert(1)>".as_slice()),
        ("a.html", b"<html>".as_slice()),
    ] {
        let r = w
            .send(
                ip(4, 2),
                multipart_req("/api/v1/public/tickets", None, mp(&[(name, data)])),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert_eq!(r.json()["errors"][0]["field"], "files");
    }
    let seven: Vec<(&str, &[u8])> = (0..7).map(|_| ("p.png", PNG)).collect();
    let r = w
        .send(
            ip(4, 2),
            multipart_req("/api/v1/public/tickets", None, mp(&seven)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Five accepted submissions per hour per address.
    let from = ip(4, 3);
    for i in 0..5 {
        let r = w.submit(from, request(&format!("第{i}件"))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{i}: {}", r.text());
    }
    let r = w.submit(from, request("第六件")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!r.header(header::RETRY_AFTER).is_empty());
}

#[tokio::test]
async fn pages_submit_and_look_up() {
    let w = world().await;
    let from = ip(5, 1);
    let r = w
        .send(
            from,
            Request::builder()
                .uri("/public")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("name=\"caller_phone\"") && html.contains("name=\"files\""));
    assert!(html.contains(">水电气<") && html.contains(">其他<"));
    assert!(
        !html.contains("value=\"0101\""),
        "top-level categories only"
    );
    assert!(!html.contains("value=\"98\""), "no disabled categories");
    assert!(!html.contains("value=\"emergency\""));
    assert!(html.contains("110"), "emergencies: call");
    assert!(html.contains("width=device-width"));
    assert!(!html.contains("/logout") && !html.contains("/tickets/new"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(
        r.header(header::CONTENT_SECURITY_POLICY)
            .contains("frame-ancestors 'none'")
    );
    let set = r.header(header::SET_COOKIE);
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    let cookie = set.split(';').next().unwrap().to_string();
    let token = between(&html, "name=\"token\" value=\"", "\"").to_string();
    assert_eq!(cookie.split_once('=').unwrap().1, token);

    let fields = |token: &str, content: &str| {
        multipart(
            "PUB",
            &[
                ("token", None, token.as_bytes()),
                ("caller_phone", None, b"139 0000 1111"),
                ("caller_name", None, "王小明".as_bytes()),
                ("appeal_type", None, b"help"),
                ("category_code", None, b"01"),
                ("district", None, "市南区".as_bytes()),
                ("address", None, "延安路1号".as_bytes()),
                ("content", None, content.as_bytes()),
                ("files", Some("路灯.png"), PNG),
                ("files", Some(""), b""),
            ],
        )
    };
    let evil = "<script>alert(1)</script>路灯坏了";
    // Without the cookie (a cross-site post): refused, what was typed kept.
    let r = w
        .send(from, multipart_req("/public", None, fields(&token, evil)))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("页面已过期") && r.text().contains("延安路1号"));
    // A forged token is refused too.
    let r = w
        .send(
            from,
            multipart_req(
                "/public",
                Some("hotline_public_form=abc.def"),
                fields("abc.def", evil),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Validation errors keep the input.
    let r = w
        .send(
            from,
            multipart_req("/public", Some(&cookie), fields(&token, "")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("请填写诉求内容") && r.text().contains("延安路1号"));
    // Accepted.
    let r = w
        .send(
            from,
            multipart_req("/public", Some(&cookie), fields(&token, evil)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    let n = between(&html, "id=\"ticket-number\">", "<").to_string();
    assert!(TicketNo::parse(&n).is_some(), "{n}");
    assert!(html.contains(&format!("/public/lookup?number={n}")));
    assert!(
        r.header(header::SET_COOKIE).contains("Max-Age=0"),
        "token used up"
    );

    // Lookup: the form, then the result.
    let r = w
        .send(
            from,
            Request::builder()
                .uri(format!("/public/lookup?number={n}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains(&format!("value=\"{n}\"")));
    assert!(!r.text().contains("lookup-result"));
    let r = w
        .send(
            from,
            form_req("/public/lookup", &format!("number={n}&phone_last4=1111")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("已受理，待分派") && html.contains("已受理登记"));
    assert!(html.contains("水电气"));
    assert!(html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"));
    assert!(!html.contains("<script>alert"));
    for secret in ["王小明", "13900001111", "延安路"] {
        assert!(!html.contains(secret), "{secret} leaked");
    }
    // GET with both fields works as well (links).
    let r = w
        .send(
            from,
            Request::builder()
                .uri(format!("/public/lookup?number={n}&phone_last4=1111"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(r.text().contains("lookup-result"));
    // A wrong suffix and a missing ticket: the same message, 404.
    for body in [
        format!("number={n}&phone_last4=2222"),
        "number=20200101-000001&phone_last4=1111".to_string(),
        "number=%3Cb%3E&phone_last4=1".to_string(),
        "garbage".to_string(),
    ] {
        let r = w.send(from, form_req("/public/lookup", &body)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{body}");
        assert!(r.text().contains("未找到匹配的工单"), "{body}");
        assert!(!r.text().contains("lookup-result"));
        assert!(!r.text().contains("<b>"), "escaped");
    }

    // The staff see it in the list with channel web and the photo.
    let r = w
        .staff(&w.admin, "GET", "/api/v1/tickets?channel=web", None)
        .await;
    let items = r.json()["items"].as_array().unwrap().clone();
    let t = items.iter().find(|t| t["number"] == n.as_str()).unwrap();
    assert_eq!(t["channel"], "web");
    assert_eq!(t["caller_name"], "王小明");
    assert_eq!(t["category_code"], "01");
    assert_eq!(t["attachments"].as_array().unwrap().len(), 1);
    let r = w.staff(&w.admin, "GET", "/tickets?channel=web", None).await;
    assert!(r.text().contains(&n));

    // English.
    let r = w
        .send(
            from,
            Request::builder()
                .uri("/public")
                .header(header::COOKIE, "lang=en")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(r.text().contains("Submit a request"));
}

#[tokio::test]
async fn openapi_documents_the_public_routes() {
    let w = world().await;
    let r = w
        .staff(&Who::default(), "GET", "/api/v1/openapi.json", None)
        .await;
    let doc = r.json();
    let post = &doc["paths"]["/api/v1/public/tickets"]["post"];
    assert!(post.is_object());
    assert_eq!(post["security"], json!([{}]));
    assert!(post["requestBody"]["content"]["multipart/form-data"].is_object());
    let get = &doc["paths"]["/api/v1/public/tickets/{number}"]["get"];
    assert_eq!(get["security"], json!([{}]));
    assert!(get["responses"]["429"].is_object());
    assert!(doc["components"]["schemas"]["PublicTicket"].is_object());
}

/// `s` percent-encoded for a form body.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Issue 11: a number typed on a phone keyboard is found in every form —
/// without the hyphen, with a full-width or other dash, with spaces, in
/// full-width digits (the page's form and the API), and the page offers a
/// text field (no `inputmode=numeric`, which hides the hyphen on iPhones).
#[tokio::test]
async fn lookup_accepts_the_number_as_typed_on_a_phone() {
    let w = world().await;
    let r = w.submit(ip(40, 1), request("小区停水三天了")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let n = r.json()["number"].as_str().unwrap().to_string();
    let (day, seq) = n.split_once('-').unwrap();
    let full_width = |s: &str| -> String {
        s.chars()
            .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap())
            .collect()
    };
    let forms = [
        format!("{day}{seq}"),
        format!("{day}－{seq}"),
        format!("{day}—{seq}"),
        format!("{day}–{seq}"),
        format!("{day} {seq}"),
        format!(" {day}\u{3000}{seq} "),
        format!("{}－{}", full_width(day), full_width(seq)),
        format!("{}{}", full_width(day), full_width(seq)),
    ];
    for (k, typed) in forms.iter().enumerate() {
        let from = ip(40, 10 + k as u8);
        let body = format!("number={}&phone_last4=5678", form_encode(typed));
        let r = w.send(from, form_req("/public/lookup", &body)).await;
        assert_eq!(r.status, StatusCode::OK, "{typed:?}: {}", r.text());
        assert!(r.text().contains("id=\"lookup-result\""), "{typed:?}");
        assert!(
            r.text().contains(&n),
            "{typed:?} shows the canonical number"
        );
        let r = w.lookup(from, &form_encode(typed), "5678").await;
        assert_eq!(r.status, StatusCode::OK, "API {typed:?}: {}", r.text());
        assert_eq!(r.json()["number"], n.as_str());
    }
    // The last four digits in full-width digits (a Chinese keyboard).
    let body = format!("number={n}&phone_last4={}", form_encode("５６７８"));
    let r = w.send(ip(40, 30), form_req("/public/lookup", &body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Still exact: another sequence or a digit short is not found.
    for wrong in [format!("{day}{}", "000999"), format!("{day}{}", &seq[1..])] {
        let body = format!("number={wrong}&phone_last4=5678");
        let r = w.send(ip(40, 31), form_req("/public/lookup", &body)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{wrong}");
    }
    // The form: a text field that takes every form.
    let r = w
        .send(
            ip(40, 32),
            Request::builder()
                .uri("/public/lookup")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let html = r.text();
    let field = between(&html, "name=\"number\"", ">");
    assert!(!field.contains("inputmode"), "{field}");
    assert!(!field.contains("pattern"), "{field}");
    assert!(html.contains("可带或不带短横线"));
}
