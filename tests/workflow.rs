//! The closed loop through the API alone, with the dev clock: dispatch,
//! return, re-dispatch, sign-for, hand-down, level-3 reply, approval, review
//! back to the same unit with 5 days, reply, pass, dissatisfied callback,
//! reopen, reply, pass, satisfied callback, closed — checking deadlines and
//! every card state on the way.

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

struct App {
    router: axum::Router,
    svc: std::sync::Arc<hotline::service::Services>,
    _dir: TempDir,
}

#[derive(Clone, Default)]
struct Who {
    cookie: String,
    csrf: String,
}

impl App {
    fn new() -> App {
        let p = std::env::temp_dir().join(format!(
            "hotline-loop-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&p).unwrap();
        let cfg = hotline::config::Config::resolve(Some(p.clone()), None, true, false).unwrap();
        let svc = hotline::open_services(&cfg).unwrap();
        let state = hotline::http::AppState::new(svc, true);
        App {
            svc: state.svc.clone(),
            router: hotline::build_app(state),
            _dir: TempDir(p),
        }
    }

    /// The report aggregates kept with every change equal a recount.
    fn aggregates_agree(&self) {
        let c = self.svc.store.check_aggregates().unwrap();
        assert_eq!(c.differences, 0, "{:?}", c.examples);
        assert!(c.tickets > 0 && c.rows > 0);
    }

    fn actor(&self, username: &str) -> hotline::service::Actor {
        let u = self.svc.store.user_by_name(username).unwrap().unwrap();
        hotline::service::Actor::new(u, &self.svc.dir())
    }

    async fn call(
        &self,
        who: &Who,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(path);
        if !who.cookie.is_empty() {
            b = b
                .header(header::COOKIE, &who.cookie)
                .header("x-csrf-token", &who.csrf);
        }
        let mut req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 1))));
        let r = self.router.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let cookie = r
            .headers()
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        let mut v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if let Some(c) = cookie {
            v["_cookie"] = json!(c);
        }
        (status, v)
    }

    async fn ok(&self, who: &Who, method: &str, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.call(who, method, path, body).await;
        assert!(s.is_success(), "{method} {path}: {s} {v}");
        v
    }

    async fn login(&self, u: &str) -> Who {
        let v = self
            .ok(
                &Who::default(),
                "POST",
                "/api/v1/session",
                Some(json!({"username": u, "password": "password-1"})),
            )
            .await;
        Who {
            cookie: v["_cookie"].as_str().unwrap().to_string(),
            csrf: v["csrf_token"].as_str().unwrap().to_string(),
        }
    }

    async fn clock(&self, admin: &Who, now: &str) {
        self.ok(
            admin,
            "POST",
            "/api/v1/dev/clock",
            Some(json!({ "now": now })),
        )
        .await;
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[tokio::test]
async fn the_whole_loop_through_the_api_with_the_dev_clock() {
    let app = App::new();
    app.ok(
        &Who::default(),
        "POST",
        "/api/v1/setup",
        Some(json!({"username":"admin","password":"password-1"})),
    )
    .await;
    let admin = app.login("admin").await;
    app.clock(&admin, "2026-09-18T10:00:00+08:00").await;
    let unit = |name: &str, parent: Option<u64>| json!({"name": name, "parent_id": parent});
    let l2 = app
        .ok(
            &admin,
            "POST",
            "/api/v1/units",
            Some(unit("区水务局", None)),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    let l3 = app
        .ok(
            &admin,
            "POST",
            "/api/v1/units",
            Some(unit("供水所", Some(l2))),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    let other = app
        .ok(
            &admin,
            "POST",
            "/api/v1/units",
            Some(unit("区燃气公司", None)),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    app.ok(
        &admin,
        "POST",
        "/api/v1/categories",
        Some(json!({"code":"01","name":"供水","default_unit_id": l2})),
    )
    .await;
    for (u, role, unit) in [
        ("op", "operator", None),
        ("disp", "dispatcher", None),
        ("rev", "reviewer", None),
        ("cb", "callback_agent", None),
        ("lead", "team_lead", None),
        ("hl2", "department_handler", Some(l2)),
        ("hl3", "department_handler", Some(l3)),
        ("hother", "department_handler", Some(other)),
    ] {
        app.ok(
            &admin,
            "POST",
            "/api/v1/users",
            Some(json!({"username":u,"password":"password-1","roles":[role],"unit_id":unit})),
        )
        .await;
    }
    let (op, disp, rev, cb, lead) = (
        app.login("op").await,
        app.login("disp").await,
        app.login("rev").await,
        app.login("cb").await,
        app.login("lead").await,
    );
    let (hl2, hl3, hother) = (
        app.login("hl2").await,
        app.login("hl3").await,
        app.login("hother").await,
    );

    let t = app
        .ok(&op, "POST", "/api/v1/tickets", Some(json!({"caller_phone":"13812345678","caller_name":"张三","appeal_type":"complaint","category_code":"01","content":"小区停水三天"})))
        .await;
    let n = t["number"].as_str().unwrap().to_string();
    assert!(
        n.starts_with("20260918-"),
        "numbered on the dev clock's day: {n}"
    );
    let act = |name: &str| format!("/api/v1/tickets/{n}/actions/{name}");
    let get = || format!("/api/v1/tickets/{n}");

    // Dispatch Fri 18 Sept 10:00 → sign-for due Tue 22 (Sun 20 is a make-up day).
    let v = app
        .ok(
            &disp,
            "POST",
            &act("dispatch"),
            Some(json!({"unit_id": other})),
        )
        .await;
    assert_eq!(v["stage_due_at"], "2026-09-22T23:59:59+08:00");
    // Wrong role → 403, wrong unit → 403, wrong state → 409.
    assert_eq!(
        app.call(&op, "POST", &act("sign-for"), Some(json!({})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(&hl2, "POST", &act("sign-for"), Some(json!({})))
            .await
            .0,
        StatusCode::NOT_FOUND,
        "not its ticket"
    );
    assert_eq!(
        app.call(
            &rev,
            "POST",
            &act("review"),
            Some(json!({"outcome":"pass"}))
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    let (s, v) = app
        .call(&hother, "POST", &act("return"), Some(json!({})))
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a return needs a reason: {v}"
    );
    let v = app
        .ok(
            &hother,
            "POST",
            &act("return"),
            Some(json!({"reason":"非本单位职责"})),
        )
        .await;
    assert_eq!(v["state"], "pending_dispatch");
    assert!(v["due_at"].is_null());

    // Re-dispatch Mon 21 Sept 09:00 → periods afresh: sign-for Thu 24.
    app.clock(&admin, "2026-09-21T09:00:00+08:00").await;
    let v = app
        .ok(
            &disp,
            "POST",
            &act("dispatch"),
            Some(json!({"unit_id": l2})),
        )
        .await;
    assert_eq!(v["stage_due_at"], "2026-09-24T23:59:59+08:00");
    assert_eq!(v["supervision"], "normal");
    let total = v["due_at"].as_str().unwrap().to_string();
    // Every card state: warning on the due date; yellow after it — 25–27 are
    // the Mid-Autumn holiday, so yellow lasts until the end of Mon 28; red from 29.
    for (now, sup) in [
        ("2026-09-23T23:59:59+08:00", "normal"),
        ("2026-09-24T00:00:00+08:00", "warning"),
        ("2026-09-25T08:00:00+08:00", "yellow"),
        ("2026-09-28T23:59:00+08:00", "yellow"),
        ("2026-09-29T00:00:01+08:00", "red"),
    ] {
        app.clock(&admin, now).await;
        assert_eq!(
            app.ok(&hl2, "GET", &get(), None).await["supervision"],
            sup,
            "at {now}"
        );
    }
    // The inbox shows it as overdue; the center sees it in the red list.
    let inbox = app.ok(&hl2, "GET", "/api/v1/inbox?tab=overdue", None).await;
    assert_eq!(inbox["counts"]["overdue"], 1);
    assert_eq!(inbox["items"][0]["number"], n.as_str());
    let red = app
        .ok(&disp, "GET", "/api/v1/tickets?supervision=red", None)
        .await;
    assert_eq!(red["items"].as_array().unwrap().len(), 1);
    assert!(
        app.ok(&lead, "GET", "/api/v1/queues", None).await["overdue"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // Sign for (late), hand down, level-3 signs and replies, level-2 approves.
    let v = app
        .ok(&hl2, "POST", &act("sign-for"), Some(json!({})))
        .await;
    assert_eq!(
        (v["state"].as_str(), v["stage_due_at"].as_str()),
        (Some("in_progress"), Some(total.as_str()))
    );
    assert_eq!(v["supervision"], "normal");
    app.ok(
        &hl2,
        "POST",
        &act("hand-down"),
        Some(json!({"unit_id": l3})),
    )
    .await;
    // The unit that returned it still sees it (one case, one file) but cannot act.
    assert_eq!(
        app.call(&hother, "POST", &act("sign-for"), Some(json!({})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    app.ok(&hl3, "POST", &act("sign-for"), Some(json!({})))
        .await;
    let v = app
        .ok(
            &hl3,
            "POST",
            &act("reply"),
            Some(json!({"result":"已更换阀门"})),
        )
        .await;
    assert_eq!(v["state"], "awaiting_approval");
    assert_eq!(
        app.call(
            &hl3,
            "POST",
            &act("approve-reply"),
            Some(json!({"approve": true}))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let v = app
        .ok(
            &hl2,
            "POST",
            &act("approve-reply"),
            Some(json!({"approve": true})),
        )
        .await;
    assert_eq!(v["state"], "awaiting_review");
    // Review: back to the same unit with 5 working days (from Tue 29 Sept:
    // 30 Sept, then 8, 9, 10 (Sat make-up), 12 Oct).
    let (s, _) = app
        .call(
            &rev,
            "POST",
            &act("review"),
            Some(json!({"outcome":"back","period_days":7,"reason":"x"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let v = app
        .ok(
            &rev,
            "POST",
            &act("review"),
            Some(json!({"outcome":"back","period_days":5,"reason":"答复不具体"})),
        )
        .await;
    assert_eq!(
        (
            v["state"].as_str(),
            v["unit_id"].as_u64(),
            v["returned_ticket"].as_bool()
        ),
        (Some("awaiting_sign_for"), Some(l2), Some(true))
    );
    assert_eq!(v["due_at"], "2026-10-12T23:59:59+08:00");
    assert_eq!(
        app.call(
            &hl2,
            "POST",
            &act("return"),
            Some(json!({"reason":"不归我们"}))
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.ok(&hl2, "GET", "/api/v1/inbox?tab=returned", None)
            .await["counts"]["returned"],
        1
    );
    app.ok(&hl2, "POST", &act("sign-for"), Some(json!({})))
        .await;
    app.ok(
        &hl2,
        "POST",
        &act("reply"),
        Some(json!({"result":"已更换阀门并恢复供水"})),
    )
    .await;
    app.ok(
        &rev,
        "POST",
        &act("review"),
        Some(json!({"outcome":"pass"})),
    )
    .await;
    // Dissatisfied → the team lead reopens: round 2.
    let v = app
        .ok(
            &cb,
            "POST",
            &act("callback"),
            Some(json!({"satisfaction":"dissatisfied","resolved":false,"comment":"水压还是很低"})),
        )
        .await;
    assert_eq!(v["state"], "awaiting_decision");
    assert_eq!(
        app.call(
            &cb,
            "POST",
            &act("reopen"),
            Some(json!({"unit_id": l2, "reason":"x"}))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let v = app
        .ok(
            &lead,
            "POST",
            &act("reopen"),
            Some(json!({"unit_id": l2, "reason":"市民不满意，重办"})),
        )
        .await;
    assert_eq!(
        (v["state"].as_str(), v["round"].as_u64()),
        (Some("awaiting_sign_for"), Some(2))
    );
    app.ok(&hl2, "POST", &act("sign-for"), Some(json!({})))
        .await;
    app.ok(
        &hl2,
        "POST",
        &act("reply"),
        Some(json!({"result":"加装增压泵"})),
    )
    .await;
    app.ok(
        &rev,
        "POST",
        &act("review"),
        Some(json!({"outcome":"pass"})),
    )
    .await;
    let v = app
        .ok(
            &cb,
            "POST",
            &act("callback"),
            Some(json!({"satisfaction":"satisfied","resolved":true})),
        )
        .await;
    assert_eq!(
        (v["state"].as_str(), v["satisfaction"].as_str()),
        (Some("closed"), Some("satisfied"))
    );
    assert_eq!(
        app.call(&hl2, "POST", &act("sign-for"), Some(json!({})))
            .await
            .0,
        StatusCode::CONFLICT
    );

    // The case file has every step, in order, and both cards once.
    let ev = app
        .ok(&admin, "GET", &format!("/api/v1/tickets/{n}/events"), None)
        .await;
    let actions: Vec<&str> = ev
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "created",
            "dispatched",
            "returned",
            "dispatched",
            "card_reached",
            "card_reached",
            "signed_for",
            "handed_down",
            "signed_for",
            "replied",
            "reply_approved",
            "reviewed",
            "dispatched",
            "signed_for",
            "replied",
            "reviewed",
            "callback",
            "reopened",
            "dispatched",
            "signed_for",
            "replied",
            "reviewed",
            "callback",
            "closed"
        ]
    );
    let cards: Vec<(&str, &str)> = ev
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "card_reached")
        .map(|e| (e["at"].as_str().unwrap(), e["summary"].as_str().unwrap()))
        .collect();
    assert_eq!(
        cards,
        [
            ("2026-09-25T00:00:00+08:00", "监察状态：黄牌"),
            ("2026-09-29T00:00:00+08:00", "监察状态：红牌")
        ]
    );
    // The department never saw the caller's number in full.
    let v = app.ok(&hl2, "GET", &get(), None).await;
    assert_eq!(v["caller_phone"], "138****5678");
    // The ticket page shows the timeline and no action buttons when closed.
    let _ = (rev, other);

    // Reports: the aggregates kept with every step equal a recount, and
    // the figures of the loop, as each person may read them.
    app.aggregates_agree();
    use hotline::domain::kpi::{Kpi, Period};
    use hotline::service::reports::{Cut, GroupBy};
    let period = Period::new(
        jiff::civil::date(2026, 9, 1),
        jiff::civil::date(2026, 12, 31),
    )
    .unwrap();
    let fig = |r: &hotline::service::reports::KpiRow, k: Kpi| {
        let v = r.kpis.iter().find(|v| v.kpi == k).unwrap().current;
        (v.num, v.den)
    };
    let r = app
        .svc
        .kpis(&app.actor("lead"), period, None, None)
        .unwrap();
    assert_eq!(fig(&r.total, Kpi::Intake), (1, None));
    // Closed after a satisfied callback.
    assert_eq!(fig(&r.total, Kpi::Completion), (1, Some(1)));
    // Dissatisfied, then satisfied after the reopening.
    assert_eq!(fig(&r.total, Kpi::Satisfaction), (1, Some(2)));
    // One return (by the gas company) of the dispatches.
    let returns = fig(&r.total, Kpi::ReturnRate);
    assert_eq!(returns.0, 1);
    // The gas company's handler sees its return; the water bureau's none.
    let mine = app
        .svc
        .kpis(&app.actor("hother"), period, None, None)
        .unwrap();
    assert_eq!(fig(&mine.total, Kpi::ReturnRate), (1, Some(1)));
    let l2_view = app
        .svc
        .kpis(
            &app.actor("hl2"),
            period,
            None,
            Some(&GroupBy::Unit { top_level: false }),
        )
        .unwrap();
    assert_eq!(fig(&l2_view.total, Kpi::ReturnRate).0, 0);
    let l2_units: Vec<u64> = l2_view
        .rows
        .iter()
        .map(|r| r.key.parse().unwrap())
        .collect();
    assert!(
        l2_units.iter().all(|u| *u == l2 || *u == l3),
        "{l2_units:?}"
    );
    // …and may not cut by another unit; an operator reads no reports.
    assert!(
        app.svc
            .kpis(
                &app.actor("hl2"),
                period,
                Some(&Cut::Unit(other as u32)),
                None
            )
            .is_err()
    );
    assert!(app.svc.kpis(&app.actor("op"), period, None, None).is_err());
}

#[tokio::test]
async fn extension_merge_void_and_sampling() {
    let app = App::new();
    app.ok(
        &Who::default(),
        "POST",
        "/api/v1/setup",
        Some(json!({"username":"admin","password":"password-1"})),
    )
    .await;
    let admin = app.login("admin").await;
    app.clock(&admin, "2026-11-02T09:00:00+08:00").await;
    let l2 = app
        .ok(
            &admin,
            "POST",
            "/api/v1/units",
            Some(json!({"name":"区住建局"})),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    app.ok(
        &admin,
        "POST",
        "/api/v1/categories",
        Some(json!({"code":"02","name":"物业"})),
    )
    .await;
    for (u, role, unit) in [
        ("disp", "dispatcher", None),
        ("lead", "team_lead", None),
        ("hh", "department_handler", Some(l2)),
    ] {
        app.ok(
            &admin,
            "POST",
            "/api/v1/users",
            Some(json!({"username":u,"password":"password-1","roles":[role],"unit_id":unit})),
        )
        .await;
    }
    let (disp, lead, h) = (
        app.login("disp").await,
        app.login("lead").await,
        app.login("hh").await,
    );
    let new = |content: &str| json!({"caller_phone":"13900000000","appeal_type":"help","category_code":"02","content":content});
    let a = app
        .ok(&lead, "POST", "/api/v1/tickets", Some(new("电梯坏了")))
        .await["number"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app
        .ok(
            &lead,
            "POST",
            "/api/v1/tickets",
            Some(new("同一部电梯坏了")),
        )
        .await["number"]
        .as_str()
        .unwrap()
        .to_string();
    let c = app
        .ok(&lead, "POST", "/api/v1/tickets", Some(new("测试来电")))
        .await["number"]
        .as_str()
        .unwrap()
        .to_string();
    let act = |n: &str, name: &str| format!("/api/v1/tickets/{n}/actions/{name}");
    // Merge b under a; void c.
    let v = app
        .ok(
            &disp,
            "POST",
            &act(&b, "merge"),
            Some(json!({"master": a, "reason":"同一事件"})),
        )
        .await;
    assert_eq!(
        (v["state"].as_str(), v["master"].as_str()),
        (Some("merged"), Some(a.as_str()))
    );
    assert_eq!(
        app.ok(&disp, "GET", &format!("/api/v1/tickets/{a}"), None)
            .await["merged"][0],
        b.as_str()
    );
    assert_eq!(
        app.call(&disp, "POST", &act(&c, "merge"), Some(json!({"master": c})))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.call(&disp, "POST", &act(&c, "void"), Some(json!({})))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.ok(
            &disp,
            "POST",
            &act(&c, "void"),
            Some(json!({"reason":"测试电话"}))
        )
        .await["state"],
        "voided"
    );
    assert_eq!(
        app.call(
            &disp,
            "POST",
            &act(&c, "void"),
            Some(json!({"reason":"again"}))
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    // Extension: requested by the unit, approved by the team lead.
    app.ok(
        &disp,
        "POST",
        &act(&a, "dispatch"),
        Some(json!({"unit_id": l2})),
    )
    .await;
    app.ok(&h, "POST", &act(&a, "sign-for"), Some(json!({})))
        .await;
    let (s, _) = app
        .call(
            &h,
            "POST",
            &act(&a, "request-extension"),
            Some(json!({"until":"2026-12-31","reason":"等待配件"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        app.ok(&lead, "GET", "/api/v1/queues", None).await["extension_requests"],
        1
    );
    let v = app
        .ok(
            &lead,
            "POST",
            &act(&a, "decide-extension"),
            Some(json!({"approve": true})),
        )
        .await;
    assert_eq!(
        (v["due_at"].as_str(), v["stage_due_at"].as_str()),
        (
            Some("2026-12-31T23:59:59+08:00"),
            Some("2026-12-31T23:59:59+08:00")
        )
    );
    assert_eq!(
        app.call(
            &lead,
            "POST",
            &act(&a, "decide-extension"),
            Some(json!({"approve": true}))
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.call(&h, "POST", &act(&a, "fly"), Some(json!({})))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Merges, voids, extensions and sampling kept the aggregates right.
    app.aggregates_agree();
}

#[tokio::test]
async fn dispatcher_sends_back_and_operator_corrects() {
    let app = App::new();
    app.ok(
        &Who::default(),
        "POST",
        "/api/v1/setup",
        Some(json!({"username":"admin","password":"password-1"})),
    )
    .await;
    let admin = app.login("admin").await;
    let u = app
        .ok(
            &admin,
            "POST",
            "/api/v1/units",
            Some(json!({"name":"区燃气公司"})),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    app.ok(
        &admin,
        "POST",
        "/api/v1/categories",
        Some(json!({"code":"01","name":"供水"})),
    )
    .await;
    app.ok(
        &admin,
        "POST",
        "/api/v1/categories",
        Some(json!({"code":"02","name":"燃气","default_unit_id": u})),
    )
    .await;
    for (name, role) in [("op", "operator"), ("disp", "dispatcher")] {
        app.ok(
            &admin,
            "POST",
            "/api/v1/users",
            Some(json!({"username":name,"password":"password-1","roles":[role]})),
        )
        .await;
    }
    let (op, disp) = (app.login("op").await, app.login("disp").await);
    let n = app
        .ok(&op, "POST", "/api/v1/tickets", Some(json!({"caller_phone":"13800000001","appeal_type":"help","category_code":"01","content":"闻到煤气味"})))
        .await["number"]
        .as_str()
        .unwrap()
        .to_string();
    let act = |name: &str| format!("/api/v1/tickets/{n}/actions/{name}");
    assert_eq!(
        app.call(&op, "POST", &act("send-back"), Some(json!({"reason":"x"})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    app.ok(
        &disp,
        "POST",
        &act("send-back"),
        Some(json!({"reason":"分类应为燃气"})),
    )
    .await;
    let q = app.ok(&op, "GET", "/api/v1/queues", None).await;
    assert_eq!(q["sent_back"], 1);
    // Bad corrections are refused whole.
    let (s, v) = app
        .call(
            &op,
            "POST",
            &act("correct"),
            Some(json!({"category_code":"99","urgency":"soon"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"].as_array().unwrap().len(), 2);
    let v = app
        .ok(
            &op,
            "POST",
            &act("correct"),
            Some(json!({"category_code":"02","appeal_type":"complaint","reason":"已更正"})),
        )
        .await;
    assert_eq!(
        (v["category_code"].as_str(), v["appeal_type"].as_str()),
        (Some("02"), Some("complaint"))
    );
    assert_eq!(
        app.ok(&op, "GET", "/api/v1/queues", None).await["sent_back"],
        0
    );
    let ev = app
        .ok(&op, "GET", &format!("/api/v1/tickets/{n}/events"), None)
        .await;
    let last = &ev.as_array().unwrap()[2];
    assert_eq!(last["action"], "corrected");
    assert!(last["summary"].as_str().unwrap().contains("01 → 02"));
    // After dispatch, corrections are refused.
    app.ok(&disp, "POST", &act("dispatch"), Some(json!({"unit_id": u})))
        .await;
    assert_eq!(
        app.call(
            &op,
            "POST",
            &act("correct"),
            Some(json!({"title":"新标题"}))
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    // The correction moved the ticket's figures to the new category.
    app.aggregates_agree();
}
