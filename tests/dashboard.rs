//! In-process HTTP tests of the leader dashboard, the wallboard and the
//! district analysis (issue 6): figures against the tickets registered,
//! department scope, permissions, the live event stream (debounce and
//! shutdown), every page, and the GeoJSON upload (good and bad files).
//!
//! `bench_dashboard_1m` (ignored) measures a copy of the 1M-ticket data dir:
//! `HOTLINE_BENCH_DIR=/tmp/copy-of-bench1m cargo test --release --test dashboard -- --ignored --nocapture`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use hotline::service::Services;

#[path = "support/app.rs"]
mod app;
use app::{App, Resp, Who};

impl App {
    /// An empty data dir with the test clock.
    fn new() -> App {
        App::empty("dash", true)
    }

    async fn ok(&self, who: &Who, method: &str, path: &str, body: Option<Value>) -> Value {
        let r = self.call(who, method, path, body).await;
        assert!(
            r.status.is_success(),
            "{method} {path}: {} {}",
            r.status,
            r.text()
        );
        r.json()
    }

    async fn put_raw(&self, who: &Who, path: &str, body: Vec<u8>) -> Resp {
        let req = self
            .request(who, "PUT", path)
            .header(header::CONTENT_TYPE, "application/geo+json")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// A multipart form post (the page's upload form).
    async fn multipart(&self, who: &Who, path: &str, fields: &[(&str, &str)], file: &[u8]) -> Resp {
        let boundary = "XdashboardBoundaryX";
        let mut body = Vec::new();
        let mut part = |name: &str, extra: &str, data: &[u8]| {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        };
        part("csrf", "", who.csrf.clone().unwrap_or_default().as_bytes());
        for (k, v) in fields {
            part(k, "", v.as_bytes());
        }
        part("file", "; filename=\"districts.geojson\"", file);
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
}

fn assert_problem(r: &Resp, status: StatusCode) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.ctype(), "application/problem+json", "{}", r.text());
    let detail = r.json()["detail"].as_str().unwrap_or("").to_string();
    assert!(
        detail
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "a Chinese message: {detail}"
    );
}

/// Administrator, operator, dispatcher, leader; units A (with A1) and B
/// with a department user each; the dev clock on Tue 2026-09-15 09:00.
struct World {
    app: App,
    admin: Who,
    op: Who,
    disp: Who,
    leader: Who,
    dept_a: Who,
    dept_b: Who,
    unit_a: u64,
    unit_b: u64,
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
    let admin = app.login_with("admin", "admin-pass-1").await;
    app.ok(
        &admin,
        "POST",
        "/api/v1/dev/clock",
        Some(json!({"now": "2026-09-15T09:00:00+08:00"})),
    )
    .await;
    let unit = |name: &str, parent: Option<u64>| json!({"name": name, "parent_id": parent});
    let mut ids = vec![];
    for (n, p) in [
        ("区水务局", None),
        ("供水营业所", Some(0)),
        ("区燃气公司", None),
    ] {
        let parent = p.map(|i: usize| ids[i]);
        let v = app
            .ok(&admin, "POST", "/api/v1/units", Some(unit(n, parent)))
            .await;
        ids.push(v["id"].as_u64().unwrap());
    }
    let (a, b) = (ids[0], ids[2]);
    for (code, name, u) in [("01", "供水", a), ("02", "燃气", b)] {
        app.ok(
            &admin,
            "POST",
            "/api/v1/categories",
            Some(json!({"code":code,"name":name,"parent_code":null,"default_unit_id":u})),
        )
        .await;
    }
    for (u, roles, unit) in [
        ("op", json!(["operator"]), None),
        ("disp", json!(["dispatcher"]), None),
        ("leader", json!(["leader"]), None),
        ("depta", json!(["department_handler"]), Some(a)),
        ("deptb", json!(["department_handler"]), Some(b)),
    ] {
        app.ok(&admin, "POST", "/api/v1/users", Some(json!({"username":u,"password":"password-1","display_name":format!("用户{u}"),"roles":roles,"unit_id":unit}))).await;
    }
    World {
        op: app.login_with("op", "password-1").await,
        disp: app.login_with("disp", "password-1").await,
        leader: app.login_with("leader", "password-1").await,
        dept_a: app.login_with("depta", "password-1").await,
        dept_b: app.login_with("deptb", "password-1").await,
        app,
        admin,
        unit_a: a,
        unit_b: b,
    }
}

impl World {
    async fn ticket(
        &self,
        channel: &str,
        appeal: &str,
        cat: &str,
        district: &str,
        street: &str,
    ) -> String {
        let urgency = if appeal == "emergency" {
            "emergency"
        } else {
            "normal"
        };
        let v = self
            .app
            .ok(
                &self.op,
                "POST",
                "/api/v1/tickets",
                Some(json!({"caller_phone":"13812345678","caller_name":"张三","channel":channel,"appeal_type":appeal,
                       "category_code":cat,"district":district,"street":street,"address":"香港中路18号",
                       "title":format!("{district}{street}的诉求 <b>"),"content":"家里停水了","urgency":urgency})),
            )
            .await;
        v["number"].as_str().unwrap().to_string()
    }

    async fn dispatch(&self, number: &str, unit: u64) {
        self.app
            .ok(
                &self.disp,
                "POST",
                &format!("/api/v1/tickets/{number}/actions/dispatch"),
                Some(json!({"unit_id": unit})),
            )
            .await;
    }

    /// Five tickets: four in 市南区 (one an emergency), one in 市北区;
    /// the emergency and one complaint dispatched to A, the help to B.
    async fn seed(&self) -> String {
        let c1 = self
            .ticket("phone", "complaint", "01", "市南区", "八大关街道")
            .await;
        self.ticket("phone", "complaint", "01", "市南区", "八大关街道")
            .await;
        self.ticket("phone", "complaint", "01", "市南区", "湛山街道")
            .await;
        let help = self.ticket("web", "help", "02", "市北区", "台东街道").await;
        let em = self
            .ticket("phone", "emergency", "01", "市南区", "八大关街道")
            .await;
        self.dispatch(&em, self.unit_a).await;
        self.dispatch(&c1, self.unit_a).await;
        self.dispatch(&help, self.unit_b).await;
        em
    }
}

fn count(list: &Value, key: &str) -> i64 {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == key)
        .unwrap_or_else(|| panic!("{key} in {list}"))["count"]
        .as_i64()
        .unwrap()
}

fn kpi<'a>(d: &'a Value, k: &str) -> &'a Value {
    d["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["kpi"] == k)
        .unwrap_or_else(|| panic!("{k} in {d}"))
}

#[tokio::test]
async fn dashboard_figures_scope_and_permissions() {
    let w = world().await;
    let app = &w.app;
    let em = w.seed().await;

    // The leader: the whole center.
    let d = app
        .ok(&w.leader, "GET", "/api/v1/reports/dashboard", None)
        .await;
    assert_eq!(d["today"], "2026-09-15");
    assert_eq!(d["unit"], Value::Null);
    assert_eq!(d["intake_measure"], "intake");
    assert_eq!(d["intake_today"], 5);
    assert_eq!(d["intake_yesterday"], 0);
    assert_eq!(count(&d["intake_by_channel"], "phone"), 4);
    assert_eq!(count(&d["intake_by_channel"], "web"), 1);
    assert_eq!(count(&d["intake_by_appeal"], "complaint"), 3);
    assert_eq!(count(&d["intake_by_appeal"], "emergency"), 1);
    assert_eq!(count(&d["open_by_state"], "pending_dispatch"), 2);
    assert_eq!(count(&d["open_by_state"], "awaiting_sign_for"), 3);
    assert_eq!(d["open_total"], 5);
    assert_eq!(d["overdue_total"], 0);
    let ems = d["emergencies"].as_array().unwrap();
    assert_eq!(ems.len(), 1, "{d}");
    assert_eq!(ems[0]["number"], em.as_str());
    assert_eq!(ems[0]["unit"], "区水务局");
    assert_eq!(ems[0]["minutes"], 0);
    assert_eq!(kpi(&d, "intake")["current"]["num"], 5);
    assert!(kpi(&d, "satisfaction")["current"]["den"] == 0);
    // The month so far against the same days of the previous month
    // (issue 11: not the whole previous month).
    assert_eq!(d["month"]["start"], "2026-09-01");
    assert_eq!(d["month"]["end"], "2026-09-15");
    assert_eq!(d["previous_month"]["start"], "2026-08-01");
    assert_eq!(d["previous_month"]["end"], "2026-08-15");
    assert_eq!(d["basis"], "same_days_last_month");
    assert_eq!(d["spikes"], json!([]));

    // Department A: its own unit; what was dispatched to it.
    let a = app
        .ok(&w.dept_a, "GET", "/api/v1/reports/dashboard", None)
        .await;
    assert_eq!(a["unit"], "区水务局");
    assert_eq!(a["intake_measure"], "dispatches");
    assert_eq!(a["intake_today"], 2);
    assert_eq!(count(&a["open_by_state"], "awaiting_sign_for"), 2);
    assert_eq!(count(&a["open_by_state"], "pending_dispatch"), 0);
    assert_eq!(a["emergencies"].as_array().unwrap().len(), 1);
    assert_eq!(a["backup_warning"], Value::Null);
    // Department B sees neither A's emergency nor A's tickets.
    let b = app
        .ok(&w.dept_b, "GET", "/api/v1/reports/dashboard", None)
        .await;
    assert_eq!(b["intake_today"], 1);
    assert_eq!(b["emergencies"], json!([]));
    assert_eq!(b["open_total"], 1);
    // An operator reads no reports; neither does anyone logged out.
    let r = app.get(&w.op, "/api/v1/reports/dashboard").await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    let r = app.get(&Who::default(), "/api/v1/reports/dashboard").await;
    assert_problem(&r, StatusCode::UNAUTHORIZED);

    // Ten days later: every stage is overdue, the sweep recorded cards.
    app.ok(
        &w.admin,
        "POST",
        "/api/v1/dev/clock",
        Some(json!({"now": "2026-09-25T09:00:00+08:00"})),
    )
    .await;
    let d = app
        .ok(&w.leader, "GET", "/api/v1/reports/dashboard", None)
        .await;
    assert_eq!(d["intake_today"], 0);
    assert_eq!(d["overdue_total"], 3);
    // (the dev clock runs on from where it was set)
    let m = d["emergencies"][0]["minutes"].as_i64().unwrap();
    assert!((10 * 1440 - 2..=10 * 1440).contains(&m), "{m}");
    let units = d["units"].as_array().unwrap();
    let ua = units.iter().find(|u| u["unit"] == "区水务局").unwrap();
    assert_eq!(ua["overdue"], 2);
    assert!(ua["red"].as_i64().unwrap() >= 1, "{ua}");
    let ub = units.iter().find(|u| u["unit"] == "区燃气公司").unwrap();
    assert_eq!(ub["overdue"], 1);
    assert_eq!(
        d["yellow_month"].as_i64().unwrap(),
        units
            .iter()
            .map(|u| u["yellow"].as_i64().unwrap())
            .sum::<i64>()
    );
    assert!(d["red_month"].as_i64().unwrap() >= 2);
    assert_eq!(kpi(&d, "red_cards")["current"]["num"], d["red_month"]);
    // The dashboard and /reports (本月) give the same figures, previous
    // values and changes: one comparison rule.
    let r = app
        .ok(
            &w.leader,
            "GET",
            "/api/v1/reports/kpis?preset=this_month",
            None,
        )
        .await;
    assert_eq!(r["period"], d["month"], "{r}");
    assert_eq!(r["previous"], d["previous_month"]);
    assert_eq!(r["basis"], "same_days_last_month");
    for v in d["kpis"].as_array().unwrap() {
        let k = v["kpi"].as_str().unwrap();
        let got = r["total"]["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["kpi"] == k)
            .unwrap();
        assert_eq!(got["current"], v["current"], "{k}");
        assert_eq!(got["previous"], v["previous"], "{k}");
        assert_eq!(got["change"], v["change"], "{k}");
    }
    let a = app
        .ok(&w.dept_a, "GET", "/api/v1/reports/dashboard", None)
        .await;
    assert_eq!(a["overdue_total"], 2);
    assert_eq!(a["units"].as_array().unwrap().len(), 1, "{a}");

    // Signing for the emergency takes it off the list.
    app.ok(
        &w.dept_a,
        "POST",
        &format!("/api/v1/tickets/{em}/actions/sign-for"),
        Some(json!({})),
    )
    .await;
    let d = app
        .ok(&w.leader, "GET", "/api/v1/reports/dashboard", None)
        .await;
    assert_eq!(d["emergencies"], json!([]));
    assert_eq!(count(&d["open_by_state"], "in_progress"), 1);
    // Signed for late: its handling stage is past the round's deadline too.
    assert_eq!(d["overdue_total"], 3);
    // The aggregates the figures come from still equal a recount.
    let c = app.svc.store.check_aggregates().unwrap();
    assert_eq!(c.differences, 0, "{:?}", c.examples);
}

#[tokio::test]
async fn dashboard_and_wallboard_pages() {
    let w = world().await;
    let app = &w.app;
    w.seed().await;
    let r = app.get(&w.leader, "/dashboard").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"nav-dashboard\""), "the nav link");
    assert!(html.contains("领导看板"));
    assert!(html.contains("id=\"intake-today\">5<"), "{html}");
    assert!(html.contains("/static/dashboard"), "page script");
    assert!(html.contains("data-kpi=\"satisfaction\""));
    assert_eq!(
        html.matches("<svg class=\"chart\"").count(),
        4,
        "four charts"
    );
    assert!(html.contains("今日受理（按渠道）"));
    assert!(html.contains("区水务局"), "emergency unit listed");
    assert!(
        html.contains("市南区八大关街道的诉求 &#60;b&#62;") && !html.contains("诉求 <b>"),
        "titles escaped: {html}"
    );
    // The wallboard: no navigation, the clock, big numbers.
    let r = app.get(&w.leader, "/dashboard/wall").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let wall = r.text();
    assert!(wall.contains("class=\"wall\""));
    assert!(!wall.contains("<nav"), "no navigation on the wall");
    assert!(wall.contains("id=\"clock\""));
    assert!(wall.contains("id=\"intake-today\">5<"));
    assert!(wall.contains("data-events=\"/events/dashboard\""));
    assert!(!wall.contains("市南区八大关街道的诉求 <b>"));
    // A department user sees their own view.
    let r = app.get(&w.dept_a, "/dashboard").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("本单位视图"));
    assert!(!r.text().contains("id=\"nav-dashboard\""));
    // Operators: refused, and no link.
    let r = app.get(&w.op, "/dashboard").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.get(&w.op, "/dashboard/wall").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.get(&w.op, "/tickets").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text().contains("nav-dashboard"));
    let r = app.get(&w.op, "/events/dashboard").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Logged out: to the login page.
    let r = app.get(&Who::default(), "/dashboard").await;
    assert!(r.status.is_redirection(), "{}", r.status);
    // The script is served.
    let js = html
        .split("src=\"")
        .find_map(|s| s.split('"').next().filter(|p| p.contains("dashboard")))
        .unwrap()
        .to_string();
    let r = app.get(&Who::default(), &js).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("requestFullscreen"));
}

/// Reads the SSE body until `needle` appears or `wait` passes; returns
/// what was read.
async fn read_until(body: &mut Body, needle: &str, wait: Duration) -> String {
    let mut seen = String::new();
    let end = tokio::time::Instant::now() + wait;
    while !seen.contains(needle) {
        match tokio::time::timeout_at(end, body.frame()).await {
            Ok(Some(Ok(f))) => {
                if let Ok(d) = f.into_data() {
                    seen.push_str(&String::from_utf8_lossy(&d));
                }
            }
            _ => break,
        }
    }
    seen
}

#[tokio::test]
async fn the_event_stream_debounces_and_ends_on_shutdown() {
    let w = world().await;
    let app = &w.app;
    let mut req = app
        .request(&w.leader, "GET", "/events/dashboard")
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 5555))));
    let r = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = r.into_body();
    // A ticket registered: one "changed" event.
    w.ticket("phone", "complaint", "01", "市南区", "八大关街道")
        .await;
    let first = read_until(&mut body, "event: changed", Duration::from_secs(5)).await;
    assert!(first.contains("event: changed"), "{first:?}");
    assert!(first.contains("data: created"), "{first:?}");
    let t0 = Instant::now();
    // Three more at once: folded into one event, not sooner than 2 s
    // after the first.
    for _ in 0..3 {
        w.ticket("web", "help", "02", "市北区", "台东街道").await;
    }
    let second = read_until(&mut body, "event: changed", Duration::from_secs(6)).await;
    assert!(second.contains("event: changed"), "{second:?}");
    let gap = t0.elapsed();
    assert!(gap >= Duration::from_millis(1800), "debounced: {gap:?}");
    assert_eq!(second.matches("event: changed").count(), 1, "{second:?}");
    let quiet = read_until(&mut body, "event: changed", Duration::from_millis(2500)).await;
    assert!(!quiet.contains("event: changed"), "folded: {quiet:?}");
    // A department user's stream stays quiet for other units' tickets.
    let mut req = app
        .request(&w.dept_b, "GET", "/events/dashboard")
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 5555))));
    let mut dept_body = app.router.clone().oneshot(req).await.unwrap().into_body();
    let n = w
        .ticket("phone", "complaint", "01", "市南区", "八大关街道")
        .await;
    w.dispatch(&n, w.unit_a).await;
    let other = read_until(&mut dept_body, "event: changed", Duration::from_secs(1)).await;
    assert!(!other.contains("event: changed"), "{other:?}");
    // Shutdown ends both streams.
    app.state.begin_shutdown();
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(f) = body.frame().await {
            if f.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the stream ended on shutdown");
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(f) = dept_body.frame().await {
            if f.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the department stream ended on shutdown");
}

#[tokio::test]
async fn district_report_and_page() {
    let w = world().await;
    let app = &w.app;
    w.seed().await;
    let r = app
        .ok(
            &w.leader,
            "GET",
            "/api/v1/reports/districts?from=2026-09-01&to=2026-09-30",
            None,
        )
        .await;
    assert_eq!(r["total"], 5);
    assert_eq!(r["previous_total"], 0);
    assert_eq!(r["previous"]["start"], "2026-08-01");
    assert_eq!(r["measure"], "intake");
    assert_eq!(r["has_map"], false);
    let d0 = &r["districts"][0];
    assert_eq!(d0["name"], "市南区");
    assert_eq!(d0["count"], 4);
    assert_eq!(d0["share"], 0.8);
    assert_eq!(d0["top_category"]["code"], "01");
    assert!(
        d0["top_category"]["label"]
            .as_str()
            .unwrap()
            .contains("供水")
    );
    assert_eq!(d0["streets"][0]["name"], "八大关街道");
    assert_eq!(d0["streets"][0]["count"], 3);
    assert_eq!(d0["streets"][1]["name"], "湛山街道");
    assert_eq!(r["districts"][1]["name"], "市北区");
    assert_eq!(r["districts"][1]["top_category"]["code"], "02");
    // Default period: this month up to today.
    let r2 = app
        .ok(&w.leader, "GET", "/api/v1/reports/districts", None)
        .await;
    assert_eq!(r2["period"]["start"], "2026-09-01");
    assert_eq!(r2["period"]["end"], "2026-09-15");
    assert_eq!(r2["total"], 5);
    // The previous period holds the tickets when reading October.
    let oct = app
        .ok(
            &w.leader,
            "GET",
            "/api/v1/reports/districts?from=2026-10-01&to=2026-10-31",
            None,
        )
        .await;
    assert_eq!(oct["total"], 0);
    assert_eq!(oct["previous_total"], 5);
    assert_eq!(oct["districts"][0]["change"]["percent"], -100.0);
    // A department: what was dispatched to it, no top category.
    let a = app
        .ok(&w.dept_a, "GET", "/api/v1/reports/districts", None)
        .await;
    assert_eq!(a["measure"], "dispatches");
    assert_eq!(a["total"], 2);
    assert_eq!(a["districts"][0]["top_category"], Value::Null);
    // Bad input, no permission.
    for q in [
        "from=2026-13-01",
        "to=yesterday",
        "from=2026-09-30&to=2026-09-01",
    ] {
        let r = app
            .get(&w.leader, &format!("/api/v1/reports/districts?{q}"))
            .await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = app.get(&w.op, "/api/v1/reports/districts").await;
    assert_problem(&r, StatusCode::FORBIDDEN);

    // The page: table, no map, a hint for the administrator.
    let r = app
        .get(
            &w.leader,
            "/reports/districts?from=2026-09-01&to=2026-09-30",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"district-table-1\""));
    assert!(
        html.contains("<td>市南区</td><td class=\"num\">4</td><td class=\"num\">80.0%</td>"),
        "{html}"
    );
    assert!(html.contains("id=\"no-map\""));
    assert!(html.contains("请联系管理员"));
    assert!(
        html.contains("id=\"district-bars\"><svg class=\"chart\""),
        "the bar chart"
    );
    assert!(!html.contains("id=\"map-upload\""), "leaders cannot upload");
    let r = app.get(&w.admin, "/reports/districts").await;
    assert!(r.text().contains("id=\"map-upload\""));
    assert!(r.text().contains("管理员可在本页下方上传"));
    let r = app.get(&w.op, "/reports/districts").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get(&w.leader, "/reports/districts?from=2026-02-30")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // What the page shows exports: CSV with a BOM holding the same row,
    // and the API's workbook.
    assert!(html.contains("id=\"export-xlsx\""));
    let r = app
        .get(
            &w.leader,
            "/reports/districts?from=2026-09-01&to=2026-09-30&format=csv",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with(b"\xEF\xBB\xBF"));
    let csv = String::from_utf8_lossy(&r.body[3..]).into_owned();
    assert!(csv.contains("市南区,4,"), "{csv}");
    let r = app
        .get(
            &w.leader,
            "/api/v1/reports/districts?from=2026-09-01&to=2026-09-30&format=xlsx",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with(b"PK"), "a zip (xlsx) file");
    let r = app.get(&w.leader, "/reports/districts?format=pdf").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

const FIXTURE: &str = include_str!("fixtures/districts.geojson");

#[tokio::test]
async fn geojson_upload_good_and_bad() {
    let w = world().await;
    let app = &w.app;
    w.seed().await;
    let put = "/api/v1/reports/districts/map";
    // Nothing uploaded yet.
    let r = app.get(&w.leader, put).await;
    assert_problem(&r, StatusCode::NOT_FOUND);
    // Leaders read, never change; operators not even read.
    let r = app.put_raw(&w.leader, put, FIXTURE.into()).await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    let r = app.put_raw(&w.op, put, FIXTURE.into()).await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    // Bad files: clear 4xx, never 500.
    let bad: &[(&str, Vec<u8>)] = &[
        ("不是有效的 GeoJSON", b"garbage \x00\xff".to_vec()),
        ("FeatureCollection", r#"{"type":"Feature","geometry":null}"#.as_bytes().to_vec()),
        ("没有要素", r#"{"type":"FeatureCollection","features":[]}"#.as_bytes().to_vec()),
        (
            "Polygon 和 MultiPolygon",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"市南区"},"geometry":{"type":"LineString","coordinates":[[120,36],[121,37]]}}]}"#.as_bytes().to_vec(),
        ),
        (
            "名称属性",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[120,36],[121,36],[121,37],[120,36]]]}}]}"#.as_bytes().to_vec(),
        ),
        (
            "超出范围",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"市南区"},"geometry":{"type":"Polygon","coordinates":[[[120,36],[121,36],[121,97],[120,36]]]}}]}"#.as_bytes().to_vec(),
        ),
    ];
    for (msg, body) in bad {
        let r = app.put_raw(&w.admin, put, body.clone()).await;
        assert_problem(&r, StatusCode::BAD_REQUEST);
        assert!(
            r.json()["detail"].as_str().unwrap().contains(msg),
            "{msg}: {}",
            r.text()
        );
    }
    let r = app
        .put_raw(
            &w.admin,
            &format!("{put}?name_property=NAME"),
            FIXTURE.into(),
        )
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    let r = app
        .put_raw(&w.admin, &format!("{put}?level=city"), FIXTURE.into())
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    let mut huge = FIXTURE.as_bytes().to_vec();
    huge.resize(9 * 1024 * 1024, b' ');
    let r = app.put_raw(&w.admin, put, huge).await;
    assert_problem(&r, StatusCode::PAYLOAD_TOO_LARGE);
    // Still nothing stored.
    assert_eq!(app.get(&w.leader, put).await.status, StatusCode::NOT_FOUND);

    // The fixture: four made-up districts; the name property is detected.
    let r = app.put_raw(&w.admin, put, FIXTURE.into()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let s = r.json();
    assert_eq!(s["name_property"], "name");
    assert_eq!(s["regions"], 4);
    assert_eq!(s["level"], "district");
    assert_eq!(s["matched"], json!(["市南区", "市北区"]));
    assert_eq!(s["unmatched"], json!(["李沧区", "崂山区"]));
    assert_eq!(s["missing"], json!([]));
    let r = app.get(&w.leader, put).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["regions"], 4);
    // The page draws the map with a title per region.
    let r = app.get(&w.leader, "/reports/districts").await;
    let html = r.text();
    assert!(html.contains("<svg class=\"chart map\""), "{html}");
    assert_eq!(html.matches("<path class=\"region\"").count(), 4);
    assert!(html.contains("<title>市南区：4 件</title>"));
    assert!(html.contains("<title>崂山区：无数据</title>"));
    assert!(html.contains("边界中有、数据中没有的名称"));
    assert!(!html.contains("id=\"no-map\""));
    let api = app
        .ok(&w.leader, "GET", "/api/v1/reports/districts", None)
        .await;
    assert_eq!(api["has_map"], true);
    // The upload is in the audit log.
    let audit = app.ok(&w.admin, "GET", "/api/v1/admin/audit", None).await;
    assert!(audit.to_string().contains("district_map.upload"), "{audit}");

    // The page's upload form: multipart with the CSRF field.
    let r = app
        .multipart(
            &w.admin,
            "/reports/districts/map",
            &[
                ("name_property", "adcode"),
                ("level", "district"),
                ("back_query", ""),
            ],
            FIXTURE.as_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        app.get(&w.leader, put).await.json()["name_property"],
        "adcode"
    );
    let r = app
        .multipart(&w.admin, "/reports/districts/map", &[], b"{not json")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("不是有效的 GeoJSON"));
    let r = app
        .multipart(&w.leader, "/reports/districts/map", &[], FIXTURE.as_bytes())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut no_csrf = w.admin.clone();
    no_csrf.csrf = Some("wrong".into());
    let r = app
        .multipart(&no_csrf, "/reports/districts/map", &[], FIXTURE.as_bytes())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Removing: leaders may not, administrators may.
    let r = app.call(&w.leader, "DELETE", put, None).await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    let r = app.call(&w.admin, "DELETE", put, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&w.leader, put).await.status, StatusCode::NOT_FOUND);
    assert!(
        app.get(&w.leader, "/reports/districts")
            .await
            .text()
            .contains("id=\"no-map\"")
    );
}

/// The dashboard and the district report on a large data dir (a COPY of
/// the 1M-ticket bench data: the store may migrate it). Prints Markdown
/// for BENCHMARKS.md.
#[test]
#[ignore]
fn bench_dashboard_1m() {
    use hotline::domain::kpi::Period;
    use hotline::domain::types::Role;
    use hotline::service::Actor;
    let Some(dir) = std::env::var_os("HOTLINE_BENCH_DIR").map(std::path::PathBuf::from) else {
        eprintln!("set HOTLINE_BENCH_DIR to a copy of a large data dir");
        return;
    };
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let t = Instant::now();
    let store = hotline::store::Store::open(&dir.join("hotline.redb")).unwrap();
    let svc = Services::new(
        store,
        Arc::new(hotline::clock::SystemClock),
        hotline::service::Paths {
            data_dir: dir.clone(),
        },
        Default::default(),
    )
    .unwrap();
    eprintln!("opened in {:?}", t.elapsed());
    let counts = svc.store.counts().unwrap();
    let dirx = svc.dir();
    let tz = dirx.settings.tz();
    // "Now": 16:00 on the day of the newest ticket (a busy afternoon).
    let mut last = 0u32;
    svc.store
        .scan(
            &hotline::store::ScanSource::All,
            hotline::domain::ticket::TicketNo(0),
            hotline::domain::ticket::TicketNo(u64::MAX),
            true,
            |t| {
                last = t.number.day();
                std::ops::ControlFlow::Break(())
            },
        )
        .unwrap();
    let day = jiff::civil::Date::new(
        (last / 10000) as i16,
        (last / 100 % 100) as i8,
        (last % 100) as i8,
    )
    .unwrap();
    let now = day.at(16, 0, 0, 0).to_zoned(tz).unwrap().timestamp();
    let users = svc.store.users().unwrap();
    let leader = users.iter().find(|u| u.has(Role::Leader)).unwrap().clone();
    let leader = Actor::new(leader, &dirx);
    // The department user of the unit holding the most open tickets.
    let open_of = |u: u32| {
        svc.store
            .open_counts(&[u], now.as_second())
            .unwrap()
            .entries
    };
    let dept = users
        .iter()
        .filter(|u| u.roles == vec![Role::DepartmentHandler] && u.unit_id.is_some())
        .max_by_key(|u| open_of(u.unit_id.unwrap()))
        .unwrap()
        .clone();
    let dept = Actor::new(dept, &dirx);

    let time_n = |n: usize, f: &mut dyn FnMut()| -> (f64, f64, f64) {
        for _ in 0..3 {
            f();
        }
        let mut ms: Vec<f64> = (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((n as f64 * q).ceil() as usize).clamp(1, n) - 1];
        (at(0.5), at(0.99), ms[n - 1])
    };
    let time = |f: &mut dyn FnMut()| time_n(100, f);
    let load_before = load();
    let d = svc.dashboard(&leader, now).unwrap();
    let units: Vec<u32> = std::iter::once(0)
        .chain(dirx.units.iter().map(|u| u.id))
        .collect();
    let oc = svc.store.open_counts(&units, now.as_second()).unwrap();
    let lead_t = time(&mut || {
        svc.dashboard(&leader, now).unwrap();
    });
    let open_t = time(&mut || {
        svc.store.open_counts(&units, now.as_second()).unwrap();
    });
    let dd = svc.dashboard(&dept, now).unwrap();
    let dept_t = time(&mut || {
        svc.dashboard(&dept, now).unwrap();
    });
    let first = day.first_of_month();
    let prev = first.yesterday().unwrap();
    let month = Period::month(prev.year(), prev.month()).unwrap();
    let r = svc.district_report(&leader, month).unwrap();
    let dist_t = time(&mut || {
        svc.district_report(&leader, month).unwrap();
    });
    let year = Period::new(day.checked_sub(jiff::Span::new().days(364)).unwrap(), day).unwrap();
    let ry = svc.district_report(&leader, year).unwrap();
    let disty_t = time_n(20, &mut || {
        svc.district_report(&leader, year).unwrap();
    });
    let load_after = load();
    println!(
        "\n{} tickets, {} events; \"now\" = {} 16:00 local; load before {}, after {}\n",
        counts.tickets,
        counts.events,
        day,
        load_before.trim(),
        load_after.trim()
    );
    println!("| what | median ms | p99 ms | max ms | size |\n|---|---:|---:|---:|---|");
    println!(
        "| dashboard, leader (whole center) | {:.1} | {:.1} | {:.1} | intake today {}, open {}, overdue {}, emergencies waiting {}, units listed {}, index entries read {} |",
        lead_t.0,
        lead_t.1,
        lead_t.2,
        d.intake_today,
        d.open_total,
        d.overdue_total,
        d.emergencies.len(),
        d.units.len(),
        oc.entries
    );
    println!(
        "| — of which open/overdue/emergencies from the indexes | {:.1} | {:.1} | {:.1} | {} units; {} records awaiting sign-for checked for emergencies |",
        open_t.0,
        open_t.1,
        open_t.2,
        units.len(),
        oc.decoded
    );
    println!(
        "| dashboard, department user ({}) | {:.1} | {:.1} | {:.1} | open {}, overdue {} |",
        dd.unit.clone().unwrap_or_default(),
        dept_t.0,
        dept_t.1,
        dept_t.2,
        dd.open_total,
        dd.overdue_total
    );
    println!(
        "| district report, month {} – {} | {:.1} | {:.1} | {:.1} | {} districts, {} aggregate rows |",
        month.start,
        month.end,
        dist_t.0,
        dist_t.1,
        dist_t.2,
        r.districts.len(),
        r.rows_read
    );
    println!(
        "| district report, year {} – {} | {:.1} | {:.1} | {:.1} | {} districts, {} aggregate rows |",
        year.start,
        year.end,
        disty_t.0,
        disty_t.1,
        disty_t.2,
        ry.districts.len(),
        ry.rows_read
    );
    assert!(d.intake_today > 0, "a busy day");
}
