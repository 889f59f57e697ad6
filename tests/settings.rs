//! Settings and the working-day calendar, through the real router: periods
//! apply to new deadlines only, validation, permissions, CSV import, day
//! toggles, time zone, and the administration pages.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

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
        "hotline-test-settings-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    TempDir(p)
}

struct App {
    router: axum::Router,
    _dir: TempDir,
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
    fn header(&self, h: header::HeaderName) -> String {
        self.headers
            .get(h)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

impl App {
    fn new() -> App {
        let dir = temp_dir();
        let cfg = hotline::config::Config::resolve(Some(dir.0.clone()), None, true, false).unwrap();
        let svc = hotline::open_services(&cfg).unwrap();
        let router = hotline::build_app(hotline::http::AppState::new(svc, true));
        App { router, _dir: dir }
    }

    async fn send(&self, mut req: Request<Body>) -> Resp {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 7], 4444))));
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

    fn request(who: &Who, method: &str, path: &str, csrf: bool) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(c) = &who.cookie {
            b = b.header(header::COOKIE, c);
        }
        if csrf && let Some(c) = &who.csrf {
            b = b.header("x-csrf-token", c);
        }
        b
    }

    async fn call(&self, who: &Who, method: &str, path: &str, body: Option<Value>) -> Resp {
        let b = Self::request(who, method, path, true);
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    /// A raw body with a content type (API, with the CSRF header).
    async fn raw(&self, who: &Who, method: &str, path: &str, ctype: &str, body: &str) -> Resp {
        let req = Self::request(who, method, path, true)
            .header(header::CONTENT_TYPE, ctype)
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    /// A page form post (no CSRF header: pages carry it as a field).
    async fn form(&self, who: &Who, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = Self::request(who, "POST", path, false)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
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
        let cookie = r.header(header::SET_COOKIE);
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

/// An administrator, one unit, one category, an operator and a dispatcher.
struct World {
    app: App,
    admin: Who,
    op: Who,
    disp: Who,
    unit: u64,
}

async fn world() -> World {
    let app = App::new();
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
    let r = app
        .call(
            &admin,
            "POST",
            "/api/v1/units",
            Some(json!({"name":"区市场监管局","parent_id":null})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let unit = r.json()["id"].as_u64().unwrap();
    for (code, name, parent, u) in [
        ("03", "市场", None, None),
        ("0301", "消费投诉", Some("03"), Some(unit)),
    ] {
        let r = app
            .call(
                &admin,
                "POST",
                "/api/v1/categories",
                Some(json!({"code":code,"name":name,"parent_code":parent,"default_unit_id":u})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    for (u, role) in [("op", "operator"), ("disp", "dispatcher")] {
        let r = app
            .call(
                &admin,
                "POST",
                "/api/v1/users",
                Some(json!({"username":u,"password":"password-1","display_name":u,"roles":[role]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    World {
        op: app.login("op", "password-1").await,
        disp: app.login("disp", "password-1").await,
        app,
        admin,
        unit,
    }
}

impl World {
    async fn set_clock(&self, now: &str) {
        let r = self
            .app
            .call(
                &self.admin,
                "POST",
                "/api/v1/dev/clock",
                Some(json!({ "now": now })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }

    /// Registers a complaint and dispatches it; the dispatch answer.
    async fn complaint_dispatched(&self) -> Value {
        let r = self
            .app
            .call(
                &self.op,
                "POST",
                "/api/v1/tickets",
                Some(
                    json!({"caller_phone":"13812345678","caller_name":"李四","channel":"phone",
                    "appeal_type":"complaint","category_code":"0301","district":"市南区",
                    "address":"中山路1号","title":"","content":"商家拒不退款","urgency":"normal"}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let n = r.json()["number"].as_str().unwrap().to_string();
        let r = self
            .app
            .call(
                &self.disp,
                "POST",
                &format!("/api/v1/tickets/{n}/actions/dispatch"),
                Some(json!({"unit_id": self.unit})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let t = self
            .app
            .call(&self.op, "GET", &format!("/api/v1/tickets/{n}"), None)
            .await;
        assert_eq!(t.status, StatusCode::OK);
        t.json()
    }

    async fn settings(&self) -> Value {
        let r = self
            .app
            .call(&self.op, "GET", "/api/v1/settings", None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    }

    async fn calendar(&self, year: i32) -> Value {
        let r = self
            .app
            .call(&self.op, "GET", &format!("/api/v1/calendar/{year}"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    }
}

fn period(settings: &Value, t: &str) -> (u64, u64) {
    let p = settings["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["appeal_type"] == t)
        .unwrap();
    (
        p["total_days"].as_u64().unwrap(),
        p["sign_for_days"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn periods_calendar_and_zone_apply_to_new_deadlines_only() {
    let w = world().await;
    // Friday 2026-09-18 10:00 in Shanghai; Sunday 20 is a make-up working day.
    w.set_clock("2026-09-18T10:00:00+08:00").await;
    let before = w.complaint_dispatched().await;
    assert_eq!(before["appeal_type"], "complaint");
    assert_eq!(before["stage_due_at"], "2026-09-22T23:59:59+08:00");
    let old_due = before["due_at"].as_str().unwrap().to_string();
    assert!(
        old_due.as_str() > "2026-10-01",
        "15 working days: {old_due}"
    );

    let r = w
        .app
        .call(
            &w.admin,
            "PATCH",
            "/api/v1/settings",
            Some(json!({"periods":[{"appeal_type":"complaint","total_days":5,"sign_for_days":2}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(period(&r.json(), "complaint"), (5, 2));
    assert_eq!(
        period(&r.json(), "report"),
        (30, 3),
        "other types unchanged"
    );
    assert_eq!(period(&w.settings().await, "complaint"), (5, 2));

    // A new dispatch uses the new periods: Sun 20, Mon 21 | Tue 22, Wed 23, Thu 24.
    let after = w.complaint_dispatched().await;
    assert_eq!(after["stage_due_at"], "2026-09-21T23:59:59+08:00");
    assert_eq!(after["due_at"], "2026-09-24T23:59:59+08:00");
    // The earlier ticket keeps its deadline.
    let n = before["number"].as_str().unwrap();
    let again = w
        .app
        .call(&w.op, "GET", &format!("/api/v1/tickets/{n}"), None)
        .await
        .json();
    assert_eq!(again["due_at"].as_str().unwrap(), old_due);

    // Making Tuesday 22 a holiday moves the next deadline past the
    // Mid-Autumn holiday (25–27) to Monday 28.
    let r = w
        .app
        .call(
            &w.admin,
            "POST",
            "/api/v1/calendar/2026/days/2026-09-22",
            Some(json!({"kind":"holiday","name":"测试假日"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let moved = w.complaint_dispatched().await;
    assert_eq!(moved["due_at"], "2026-09-28T23:59:59+08:00");
    assert_eq!(after["due_at"], "2026-09-24T23:59:59+08:00");

    // Emergency hours.
    let r = w
        .app
        .call(
            &w.admin,
            "PATCH",
            "/api/v1/settings",
            Some(json!({"emergency_response_hours":2,"emergency_finish_hours":48})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["emergency_finish_hours"], 48);

    // Time zone: times are shown in the new zone.
    let created = moved["created_at"].as_str().unwrap().to_string();
    assert!(created.ends_with("+08:00"), "{created}");
    let r = w
        .app
        .call(
            &w.admin,
            "PATCH",
            "/api/v1/settings",
            Some(json!({"timezone":"UTC"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["timezone"], "UTC");
    let n = moved["number"].as_str().unwrap();
    let t = w
        .app
        .call(&w.op, "GET", &format!("/api/v1/tickets/{n}"), None)
        .await
        .json();
    assert_eq!(t["created_at"], "2026-09-18T02:00:00+00:00");
    assert_eq!(
        t["due_at"], "2026-09-28T15:59:59+00:00",
        "same instant, new zone"
    );
}

#[tokio::test]
async fn invalid_settings_are_refused_and_nothing_is_saved() {
    let w = world().await;
    let original = w.settings().await;
    assert_eq!(original["timezone"], "Asia/Shanghai");
    assert_eq!(period(&original, "consultation"), (5, 3));

    let r = w
        .app
        .call(
            &w.admin,
            "PATCH",
            "/api/v1/settings",
            Some(json!({
                "center_name": "新名称",
                "timezone": "Mars/Olympus",
                "periods": [{"appeal_type":"help","total_days":0},
                            {"appeal_type":"complaint","total_days":2,"sign_for_days":5},
                            {"appeal_type":"report","sign_for_days":61}],
                "emergency_response_hours": 30,
                "emergency_finish_hours": 24,
                "callback_max_attempts": 0,
                "callback_sample_percent": 101
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.header(header::CONTENT_TYPE)
            .starts_with("application/problem+json")
    );
    let p = r.json();
    assert_eq!(p["status"], 422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "timezone",
        "periods.help.total_days",
        "periods.complaint.sign_for_days",
        "periods.report.sign_for_days",
        "emergency_response_hours",
        "callback_max_attempts",
        "callback_sample_percent",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    assert!(!fields.contains(&"center_name"), "{fields:?}");
    assert!(
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["message"].as_str().unwrap().contains('('))
    );
    assert_eq!(w.settings().await, original, "nothing saved");

    // Other bad input.
    for (body, status) in [
        (json!({"center_name": ""}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"center_name": "名".repeat(51)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"timezone": ""}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"periods":[{"appeal_type":"emergency","total_days":1}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"periods":[{"appeal_type":"suggestion","total_days":2}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"callback_sample_percent": -1}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"periods":[{"appeal_type":"nonsense","total_days":2}]}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"time_zone": "UTC"}), StatusCode::BAD_REQUEST),
        (
            json!({"callback_max_attempts": "three"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = w
            .app
            .call(&w.admin, "PATCH", "/api/v1/settings", Some(body.clone()))
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.text());
        assert!(
            r.header(header::CONTENT_TYPE)
                .starts_with("application/problem+json")
        );
    }
    assert_eq!(w.settings().await, original, "nothing saved");

    // Non-administrators may read but not change.
    for who in [&w.op, &w.disp] {
        let r = w
            .app
            .call(
                who,
                "PATCH",
                "/api/v1/settings",
                Some(json!({"center_name":"x"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }
    let r = w
        .app
        .call(&Who::default(), "GET", "/api/v1/settings", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Cookie requests that change need the CSRF header.
    let no_csrf = Who {
        cookie: w.admin.cookie.clone(),
        csrf: None,
    };
    let r = w
        .app
        .call(
            &no_csrf,
            "PATCH",
            "/api/v1/settings",
            Some(json!({"center_name":"x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The whole settings document is a valid patch (a no-op), and a valid
    // change is kept across a restart of the directory.
    let r = w
        .app
        .call(
            &w.admin,
            "PATCH",
            "/api/v1/settings",
            Some(original.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), original);
    let r = w
        .app
        .call(
            &w.admin,
            "PATCH",
            "/api/v1/settings",
            Some(json!({"center_name":" 市南区12345热线 ","callback_max_attempts":5,"callback_sample_percent":0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let s = w.settings().await;
    assert_eq!(s["center_name"], "市南区12345热线");
    assert_eq!(s["callback_max_attempts"], 5);
    assert_eq!(s["callback_sample_percent"], 0);
}

const CSV_2027: &str = "date,kind,name\n\
2027-01-01,holiday,元旦\n\
2027-02-06,holiday,春节\n\
2027-02-07,holiday,春节\n\
2027-02-08,holiday,春节\n\
2027-02-20,workday,春节调休上班\n";

#[tokio::test]
async fn calendar_import_replace_toggle_and_export() {
    let w = world().await;
    let empty = w.calendar(2027).await;
    assert_eq!(empty["days"].as_array().unwrap().len(), 0);
    let plain = empty["working_days"].as_u64().unwrap();
    assert_eq!(plain, 261, "2027 has 261 weekdays");

    // Import as JSON {"csv"}.
    let r = w
        .app
        .call(
            &w.admin,
            "POST",
            "/api/v1/calendar/2027/import",
            Some(json!({ "csv": CSV_2027 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let c = w.calendar(2027).await;
    let days = c["days"].as_array().unwrap();
    assert_eq!(days.len(), 5);
    assert!(
        days.iter()
            .any(|d| d["date"] == "2027-01-01" && d["kind"] == "holiday" && d["name"] == "元旦")
    );
    assert!(
        days.iter()
            .any(|d| d["date"] == "2027-02-20" && d["kind"] == "workday")
    );
    // Jan 1 and Feb 8 are weekdays off (Feb 6–7 are a weekend); Sat Feb 20 works.
    assert_eq!(c["working_days"].as_u64().unwrap(), plain - 2 + 1);
    // 2026 is untouched.
    let y2026 = w.calendar(2026).await;
    assert!(y2026["days"].as_array().unwrap().len() > 30);

    // As text/csv, replacing the year.
    let r = w
        .app
        .raw(
            &w.admin,
            "POST",
            "/api/v1/calendar/2027/import",
            "text/csv",
            "date,kind,name\n2027-10-01,holiday,国庆节\n",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["days"].as_array().unwrap().len(), 1);
    assert_eq!(w.calendar(2027).await["days"].as_array().unwrap().len(), 1);

    // A bad line: 422 naming the line, nothing changed.
    for (csv, line) in [
        (
            "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,春节\n",
            "line 3",
        ),
        ("date,kind,name\n2027-01-01,party,元旦\n", "line 2"),
        (
            "date,kind,name\n2027-01-01,holiday,元旦\n\n2028-01-01,holiday,元旦\n",
            "line 4",
        ),
        ("2027-01-01,holiday,a\n2027-01-01,holiday,b\n", "line 2"),
    ] {
        let r = w
            .app
            .call(
                &w.admin,
                "POST",
                "/api/v1/calendar/2027/import",
                Some(json!({ "csv": csv })),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{csv}: {}",
            r.text()
        );
        assert!(
            r.header(header::CONTENT_TYPE)
                .starts_with("application/problem+json")
        );
        let detail = r.json()["detail"].as_str().unwrap().to_string();
        assert!(detail.contains(line), "{line}: {detail}");
        assert_eq!(r.json()["errors"][0]["field"], "csv");
    }
    assert_eq!(w.calendar(2027).await["days"].as_array().unwrap().len(), 1);
    // Wrong bodies and years.
    let r = w
        .app
        .raw(
            &w.admin,
            "POST",
            "/api/v1/calendar/2027/import",
            "application/xml",
            "<x/>",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = w
        .app
        .call(
            &w.admin,
            "POST",
            "/api/v1/calendar/1999/import",
            Some(json!({"csv":""})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Not for non-administrators.
    let r = w
        .app
        .call(
            &w.op,
            "POST",
            "/api/v1/calendar/2027/import",
            Some(json!({ "csv": CSV_2027 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = w
        .app
        .call(
            &w.disp,
            "POST",
            "/api/v1/calendar/2027/days/2027-03-01",
            Some(json!({"kind":"holiday"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = w
        .app
        .call(
            &w.op,
            "PUT",
            "/api/v1/calendar/2027",
            Some(json!({"days":[]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Toggling a day: holiday → workday → default.
    let base = w.calendar(2027).await["working_days"].as_u64().unwrap();
    let path = "/api/v1/calendar/2027/days/2027-03-01"; // a Monday
    let r = w
        .app
        .call(
            &w.admin,
            "POST",
            path,
            Some(json!({"kind":"holiday","name":"临时假日"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["working_days"].as_u64().unwrap(), base - 1);
    assert_eq!(
        w.calendar(2027).await["working_days"].as_u64().unwrap(),
        base - 1
    );
    let sat = "/api/v1/calendar/2027/days/2027-03-06";
    let r = w
        .app
        .call(
            &w.admin,
            "POST",
            sat,
            Some(json!({"kind":"workday","name":"调休上班"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["working_days"].as_u64().unwrap(), base);
    let r = w
        .app
        .call(&w.admin, "POST", path, Some(json!({"kind":null})))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["working_days"].as_u64().unwrap(), base + 1);
    assert!(
        !r.json()["days"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["date"] == "2027-03-01")
    );
    for (p, body, status) in [
        (
            "/api/v1/calendar/2027/days/2028-03-01",
            json!({"kind":"holiday"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/calendar/2027/days/2027-3-1x",
            json!({"kind":"holiday"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/calendar/2027/days/2027-03-01",
            json!({"kind":"party"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/calendar/2027/days/2027-03-01",
            json!({"kind":"holiday","name":"x".repeat(41)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = w.app.call(&w.admin, "POST", p, Some(body)).await;
        assert_eq!(r.status, status, "{p}: {}", r.text());
    }

    // Replace a year with a JSON list.
    let r = w
        .app
        .call(
            &w.admin,
            "PUT",
            "/api/v1/calendar/2027",
            Some(
                json!({"days":[{"date":"2027-05-03","kind":"holiday","name":"劳动节"},
                                {"date":"2027-04-25","kind":"workday","name":"劳动节调休上班"}]}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["days"].as_array().unwrap().len(), 2);
    let r = w
        .app
        .call(
            &w.admin,
            "PUT",
            "/api/v1/calendar/2027",
            Some(json!({"days":[{"date":"2026-05-03","kind":"holiday"},{"date":"2027-05-04","kind":"x"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, vec!["days[0].date", "days[1].kind"]);
    assert_eq!(w.calendar(2027).await["days"].as_array().unwrap().len(), 2);

    // Export round-trips through import.
    let r = w
        .app
        .call(&w.op, "GET", "/api/v1/calendar/2027/export", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header(header::CONTENT_TYPE).starts_with("text/csv"));
    assert_eq!(
        r.text(),
        "date,kind,name\n2027-04-25,workday,劳动节调休上班\n2027-05-03,holiday,劳动节\n"
    );
    let r = w
        .app
        .call(&w.admin, "GET", "/api/v1/calendar/2026/export", None)
        .await;
    let exported = r.text();
    let r = w
        .app
        .call(
            &w.admin,
            "POST",
            "/api/v1/calendar/2026/import",
            Some(json!({ "csv": exported })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        y2026,
        "the shipped 2026 calendar survives a round trip"
    );
}

#[tokio::test]
async fn openapi_documents_the_settings_routes() {
    let w = world().await;
    let r = w
        .app
        .call(&Who::default(), "GET", "/api/v1/openapi.json", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    let paths = &doc["paths"];
    assert!(paths["/api/v1/settings"]["get"].is_object());
    assert!(paths["/api/v1/settings"]["patch"]["requestBody"].is_object());
    assert!(
        paths["/api/v1/calendar/{year}"]["get"].is_object(),
        "GET kept"
    );
    assert!(paths["/api/v1/calendar/{year}"]["put"].is_object());
    let import = &paths["/api/v1/calendar/{year}/import"]["post"]["requestBody"]["content"];
    assert!(import["application/json"].is_object() && import["text/csv"].is_object());
    assert!(paths["/api/v1/calendar/{year}/days/{date}"]["post"].is_object());
    assert!(paths["/api/v1/calendar/{year}/export"]["get"].is_object());
    for s in [
        "SettingsPatch",
        "PeriodPatch",
        "Settings",
        "CalendarImport",
        "DaySet",
        "CalendarReplace",
    ] {
        assert!(doc["components"]["schemas"][s].is_object(), "{s}");
    }
}

#[tokio::test]
async fn pages_render_check_admin_and_csrf() {
    let w = world().await;
    let app = &w.app;
    let csrf = w.admin.csrf.clone().unwrap();

    let r = app.call(&w.admin, "GET", "/admin/settings", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("periods.complaint.total_days") && html.contains("Asia/Shanghai"));
    assert!(html.contains(&csrf));
    assert!(
        html.contains("已有工单的时限保持不变"),
        "the page says existing deadlines are kept"
    );
    let r = app
        .call(&w.admin, "GET", "/admin/calendar?year=2026", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(
        html.contains("国庆节") && html.contains("value=\"2026-09-20:default\""),
        "make-up day cycles to default"
    );
    assert!(
        html.contains("value=\"2026-10-01:workday\"")
            && html.contains("value=\"2026-03-02:holiday\"")
    );
    assert!(html.contains("/admin/calendar/2026.csv"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert_eq!(
        app.call(&w.admin, "GET", "/admin/calendar", None)
            .await
            .status,
        StatusCode::OK,
        "default year"
    );
    assert_eq!(
        app.call(&w.admin, "GET", "/admin/calendar?year=abc", None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let r = app
        .call(&w.admin, "GET", "/admin/calendar/2026.csv", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header(header::CONTENT_TYPE).starts_with("text/csv"));
    assert!(
        r.text()
            .starts_with("date,kind,name\n2026-01-01,holiday,元旦")
    );
    // English UI.
    let en = Who {
        cookie: Some(format!("{}; lang=en", w.admin.cookie.clone().unwrap())),
        csrf: w.admin.csrf.clone(),
    };
    let r = app
        .call(&en, "GET", "/admin/calendar?year=2026", None)
        .await;
    assert!(r.text().contains("Make-up working day"));

    // Not administrators: 403 pages; no login: to the login page.
    for p in [
        "/admin/settings",
        "/admin/calendar?year=2026",
        "/admin/calendar/2026.csv",
    ] {
        let r = app.call(&w.op, "GET", p, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{p}");
        assert!(r.header(header::CONTENT_TYPE).starts_with("text/html"));
        let r = app.call(&Who::default(), "GET", p, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{p}");
    }
    let op_csrf = w.op.csrf.clone().unwrap();
    let r = app
        .form(
            &w.op,
            "/admin/calendar/2026/days",
            &[("csrf", &op_csrf), ("day", "2026-03-02:holiday")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Posts without the CSRF field are refused.
    for (path, fields) in [
        ("/admin/settings", vec![("center_name", "x")]),
        (
            "/admin/calendar/2026/days",
            vec![("day", "2026-03-02:holiday")],
        ),
        (
            "/admin/calendar/2026/import",
            vec![("csv", "date,kind,name\n")],
        ),
    ] {
        let r = app.form(&w.admin, path, &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert!(
        !w.calendar(2026).await["days"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["date"] == "2026-03-02"),
        "nothing changed"
    );
    assert_ne!(w.settings().await["center_name"], "x");

    // The settings form: a wrong value is shown back with its message.
    let mut fields: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.clone()),
        ("center_name".into(), "市南区热线".into()),
        ("timezone".into(), "Asia/Shanghai".into()),
        ("emergency_response_hours".into(), "1".into()),
        ("emergency_finish_hours".into(), "24".into()),
        ("callback_max_attempts".into(), "3".into()),
        ("callback_sample_percent".into(), "20".into()),
    ];
    for (t, total) in [
        ("consultation", "5"),
        ("help", "15"),
        ("complaint", "10"),
        ("suggestion", "15"),
        ("praise", "15"),
        ("report", "30"),
    ] {
        fields.push((format!("periods.{t}.total_days"), total.into()));
        fields.push((format!("periods.{t}.sign_for_days"), "3".into()));
    }
    let as_refs = |f: &[(String, String)]| -> Vec<(String, String)> { f.to_vec() };
    let mut bad = as_refs(&fields);
    bad.iter_mut()
        .find(|(k, _)| k == "periods.help.total_days")
        .unwrap()
        .1 = "99".into();
    bad.iter_mut()
        .find(|(k, _)| k == "callback_max_attempts")
        .unwrap()
        .1 = "abc".into();
    let refs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.form(&w.admin, "/admin/settings", &refs).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("value=\"99\"") && html.contains("value=\"abc\""),
        "typed values kept"
    );
    assert!(html.contains("1–60") && html.contains("whole number"));
    assert_eq!(
        period(&w.settings().await, "complaint"),
        (15, 3),
        "nothing saved"
    );
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = app.form(&w.admin, "/admin/settings", &refs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header(header::LOCATION), "/admin/settings?saved=1");
    let s = w.settings().await;
    assert_eq!(period(&s, "complaint"), (10, 3));
    assert_eq!(s["center_name"], "市南区热线");
    let r = app
        .call(&w.admin, "GET", "/admin/settings?saved=1", None)
        .await;
    assert!(r.text().contains("设置已保存"));

    // A click on a day sets what its button says.
    let before = w.calendar(2026).await["working_days"].as_u64().unwrap();
    let r = app
        .form(
            &w.admin,
            "/admin/calendar/2026/days",
            &[("csrf", &csrf), ("day", "2026-03-02:holiday")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        r.header(header::LOCATION)
            .starts_with("/admin/calendar?year=2026")
    );
    assert_eq!(
        w.calendar(2026).await["working_days"].as_u64().unwrap(),
        before - 1
    );
    let html = app
        .call(&w.admin, "GET", "/admin/calendar?year=2026", None)
        .await
        .text();
    assert!(
        html.contains("value=\"2026-03-02:workday\""),
        "next click makes it a workday"
    );
    let r = app
        .form(
            &w.admin,
            "/admin/calendar/2026/days",
            &[("csrf", &csrf), ("day", "2026-03-02:default")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        w.calendar(2026).await["working_days"].as_u64().unwrap(),
        before
    );
    // The one-day form, with a name.
    let r = app
        .form(
            &w.admin,
            "/admin/calendar/2026/days",
            &[
                ("csrf", &csrf),
                ("date", "2026-03-07"),
                ("kind", "workday"),
                ("name", "特别调休"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        w.calendar(2026).await["days"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["date"] == "2026-03-07" && d["name"] == "特别调休")
    );
    let r = app
        .form(
            &w.admin,
            "/admin/calendar/2026/days",
            &[("csrf", &csrf), ("date", "2027-03-07"), ("kind", "holiday")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // CSV import through the page: an error keeps the text; a good one replaces the year.
    let r = app
        .form(
            &w.admin,
            "/admin/calendar/2027/import",
            &[
                ("csrf", &csrf),
                (
                    "csv",
                    "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,nope,x\n",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("line 3") && html.contains("2027-01-02,nope,x"),
        "{html}"
    );
    let r = app
        .form(
            &w.admin,
            "/admin/calendar/2027/import",
            &[("csrf", &csrf), ("csv", CSV_2027)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        r.header(header::LOCATION),
        "/admin/calendar?year=2027&imported=5"
    );
    assert_eq!(w.calendar(2027).await["days"].as_array().unwrap().len(), 5);
    // … and as a file upload (multipart).
    let body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
--B\r\nContent-Disposition: form-data; name=\"csv\"\r\n\r\n\r\n\
--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"2028.csv\"\r\nContent-Type: text/csv\r\n\r\n\u{feff}date,kind,name\r\n2028-01-01,holiday,元旦\r\n\r\n--B--\r\n"
    );
    let mp = |body: String| {
        Request::builder()
            .method("POST")
            .uri("/admin/calendar/2028/import")
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B")
            .header(header::COOKIE, w.admin.cookie.clone().unwrap())
            .body(Body::from(body))
            .unwrap()
    };
    let r = app.send(mp(body.clone())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let c = w.calendar(2028).await;
    assert_eq!(c["days"][0]["date"], "2028-01-01");
    let r = app.send(mp(body.replace(&csrf, "wrong"))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
