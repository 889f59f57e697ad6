//! End-to-end test of the leader dashboard, the wallboard and the district
//! map in headless Chromium (fantoccini + chromedriver), at 1920×1080 like
//! the TV across the room.
//!
//! It starts its own `hotline serve` on a fresh data directory, creates
//! units, users and tickets through the JSON API, uploads the made-up
//! district boundaries of `tests/fixtures/districts.geojson`, then opens
//! the wallboard as a leader, registers a ticket meanwhile and waits for
//! the intake number to change live (server-sent events). Screenshots go
//! to `target/screenshots/` (`wallboard.png`, `dashboard.png`,
//! `districts.png`), logs to `tests/e2e-artifacts/`.
//!
//! Needs `chromium` and `chromedriver`; without them the test prints a
//! warning and passes, unless `CI` is set (see tests/e2e.rs).

#[path = "support/browser.rs"]
mod browser;
use browser::*;
use std::fs;
use std::panic::resume_unwind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("admin", "admin-pass-1");
const PASSWORD: &str = "password-1";
/// How long to wait for a page, a server or a driver.
const WAIT: Duration = Duration::from_secs(20);

#[test]
fn wallboard_updates_live_and_pages_render_at_1920x1080() {
    let Some(env) = Env::start("dashboard") else {
        return;
    };
    let shots = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("screenshots");
    fs::create_dir_all(&shots).expect("creating target/screenshots");
    let port = env.port;
    let api = env.api.clone();
    env.browse(move |c, base| async move {
        // A 1920×1080 viewport, like the TV.
        let chrome = c
            .execute("return window.outerHeight - window.innerHeight;", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(0) as u32;
        c.set_window_size(1920, 1080 + chrome).await.unwrap();
        login(&c, &base, "leader").await;

        // The wallboard: every number is there.
        c.goto(&format!("{base}/dashboard/wall")).await.unwrap();
        let intake = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Id("intake-today"))
            .await
            .expect("the wallboard");
        let before: i64 = intake.text().await.unwrap().trim().parse().expect("a number");
        assert_eq!(before, 6, "six tickets registered today");
        for id in ["open-total", "overdue-total", "emergency-count"] {
            let t = text_of(&c, &format!("#{id}")).await.unwrap_or_default();
            assert!(t.trim().parse::<i64>().is_ok(), "#{id} shows a number: {t:?}");
        }
        let rate = text_of(&c, "[data-kpi='satisfaction'] .v").await.unwrap();
        assert!(rate == "—" || rate.ends_with('%'), "{rate:?}");
        let emergency = text_of(&c, "[data-rows='emergencies'] tbody").await.unwrap();
        assert!(emergency.contains("区水务局"), "the emergency is listed: {emergency:?}");
        // The clock runs.
        let t1 = text_of(&c, "#clock").await.unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let t2 = text_of(&c, "#clock").await.unwrap();
        assert_ne!(t1, t2, "the clock ticks");
        // 1920×1080 without scrolling.
        let size = c
            .execute(
                "return [window.innerWidth, window.innerHeight, document.documentElement.scrollWidth, document.documentElement.scrollHeight];",
                vec![],
            )
            .await
            .unwrap();
        let v: Vec<i64> = size.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        eprintln!("e2e[dashboard]: viewport {}×{}, content {}×{}", v[0], v[1], v[2], v[3]);
        assert_eq!((v[0], v[1]), (1920, 1080), "the TV's viewport");
        assert!(v[2] <= v[0] && v[3] <= v[1], "the wallboard fits without scrolling: {v:?}");
        // Wait for the event stream to be open before registering.
        let deadline = Instant::now() + WAIT;
        loop {
            let s = c
                .execute("return document.querySelector('[data-live-status]').className", vec![])
                .await
                .unwrap();
            if !s.as_str().unwrap_or("").contains("off") {
                break;
            }
            assert!(Instant::now() < deadline, "the event stream never opened");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;

        // A ticket registered meanwhile changes the number live.
        let registered = Instant::now();
        register(port, &api, "phone", "complaint", "市北区", "台东街道", "下水道堵塞");
        let deadline = Instant::now() + WAIT;
        loop {
            let now: i64 = text_of(&c, "#intake-today")
                .await
                .unwrap_or_default()
                .trim()
                .parse()
                .unwrap_or(-1);
            if now == before + 1 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the intake number did not change live (still {now})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("e2e[dashboard]: live update after {:?}", registered.elapsed());
        tokio::time::sleep(Duration::from_millis(1600)).await; // the highlight fades
        let png = c.screenshot().await.expect("screenshot");
        fs::write(shots.join("wallboard.png"), png).unwrap();

        // The leader dashboard with its charts.
        c.goto(&format!("{base}/dashboard")).await.unwrap();
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css(".dash-charts svg.chart"))
            .await
            .expect("the dashboard charts");
        let n = c.find_all(Locator::Css(".dash-charts svg.chart")).await.unwrap().len();
        assert_eq!(n, 4, "four charts");
        assert_eq!(text_of(&c, "#intake-today").await.unwrap().trim(), "7");
        full_page_shot(&c, &shots.join("dashboard.png")).await;

        // The district page with the uploaded boundaries.
        c.goto(&format!("{base}/reports/districts")).await.unwrap();
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#district-map svg"))
            .await
            .expect("the district map");
        let regions = c.find_all(Locator::Css("#district-map path.region")).await.unwrap();
        assert_eq!(regions.len(), 4, "four districts drawn");
        let title = text_of(&c, "#district-map path.region[data-name='市南区'] title").await;
        eprintln!("e2e[dashboard]: 市南区 title {title:?}");
        full_page_shot(&c, &shots.join("districts.png")).await;
    });
}

/// A screenshot of the whole page (the window grown to the content).
async fn full_page_shot(c: &Client, path: &Path) {
    let h = c
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(1080)
        .clamp(600, 4000) as u32;
    c.set_window_size(1920, h + 140).await.ok();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = c.screenshot().await.expect("screenshot");
    fs::write(path, png).unwrap();
    eprintln!("e2e[dashboard]: screenshot {}", path.display());
}

async fn text_of(c: &Client, css: &str) -> Option<String> {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.ok(),
        Err(_) => None,
    }
}

async fn login(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    let u = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input[name=username]"))
        .await
        .expect("login page");
    u.send_keys(user).await.unwrap();
    let p = c.find(Locator::Css("input[name=password]")).await.unwrap();
    p.send_keys(&format!("{PASSWORD}\u{E007}")).await.unwrap();
    let deadline = Instant::now() + WAIT;
    while c.current_url().await.unwrap().path() == "/login" {
        assert!(Instant::now() < deadline, "still on /login");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Session cookies and CSRF tokens of the users the setup made.
#[derive(Clone)]
struct Api {
    admin: (String, String),
    op: (String, String),
    disp: (String, String),
    unit_a: u64,
    unit_b: u64,
}

fn session(port: u16, user: &str, password: &str) -> (String, String) {
    let body = json!({"username": user, "password": password}).to_string();
    let r = http(port, "POST", "/api/v1/session", &[], Some(&body)).expect("POST /api/v1/session");
    assert_eq!(r.status, 200, "{user} login: {}", r.body);
    let cookie = r
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.split(';').next())
        .find(|c| c.starts_with("hotline_session="))
        .expect("a hotline_session cookie")
        .to_string();
    let csrf = serde_json::from_str::<Value>(&r.body).unwrap()["csrf_token"]
        .as_str()
        .expect("csrf_token")
        .to_string();
    (cookie, csrf)
}

fn call(
    port: u16,
    who: &(String, String),
    method: &str,
    path: &str,
    body: &str,
    status: u16,
) -> Value {
    let auth = [("Cookie", who.0.as_str()), ("X-CSRF-Token", who.1.as_str())];
    let r = http(port, method, path, &auth, Some(body))
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert_eq!(r.status, status, "{method} {path} {body}: {}", r.body);
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

fn register(
    port: u16,
    api: &Api,
    channel: &str,
    appeal: &str,
    district: &str,
    street: &str,
    title: &str,
) -> String {
    let urgency = if appeal == "emergency" {
        "emergency"
    } else {
        "normal"
    };
    let body = json!({"caller_phone":"13812345678","caller_name":"张三","channel":channel,"appeal_type":appeal,
        "category_code":"01","district":district,"street":street,"address":"某路1号",
        "title":title,"content":format!("{title}，请尽快处理。"),"urgency":urgency});
    call(
        port,
        &api.op,
        "POST",
        "/api/v1/tickets",
        &body.to_string(),
        201,
    )["number"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Units, users, six tickets today (an emergency among them, three
/// dispatched) and the district boundaries.
fn setup_data(port: u16) -> Api {
    let admin = session(port, ADMIN.0, ADMIN.1);
    let mut units = vec![];
    for name in ["区水务局", "区燃气公司"] {
        let v = call(
            port,
            &admin,
            "POST",
            "/api/v1/units",
            &json!({"name": name, "parent_id": null}).to_string(),
            201,
        );
        units.push(v["id"].as_u64().unwrap());
    }
    call(
        port,
        &admin,
        "POST",
        "/api/v1/categories",
        &json!({"code":"01","name":"供水","parent_code":null,"default_unit_id":units[0]})
            .to_string(),
        201,
    );
    for (u, role) in [
        ("op", "operator"),
        ("disp", "dispatcher"),
        ("leader", "leader"),
    ] {
        call(port, &admin, "POST", "/api/v1/users",
            &json!({"username":u,"password":PASSWORD,"display_name":format!("用户{u}"),"roles":[role]}).to_string(), 201);
    }
    let api = Api {
        op: session(port, "op", PASSWORD),
        disp: session(port, "disp", PASSWORD),
        admin,
        unit_a: units[0],
        unit_b: units[1],
    };
    let tickets = [
        (
            "phone",
            "complaint",
            "市南区",
            "八大关街道",
            "香港中路停水两天",
        ),
        ("phone", "help", "市南区", "湛山街道", "小区供水压力不足"),
        ("web", "complaint", "市北区", "台东街道", "自来水发黄"),
        (
            "wechat",
            "consultation",
            "李沧区",
            "李村街道",
            "水费缴纳方式",
        ),
        ("phone", "emergency", "市南区", "八大关街道", "主水管爆裂"),
        (
            "phone",
            "suggestion",
            "市北区",
            "台东街道",
            "建议增设公共饮水点",
        ),
    ];
    let mut nos = vec![];
    for (ch, ap, d, s, t) in tickets {
        nos.push(register(port, &api, ch, ap, d, s, t));
    }
    for (no, unit) in [
        (&nos[4], api.unit_a),
        (&nos[0], api.unit_a),
        (&nos[2], api.unit_b),
    ] {
        call(
            port,
            &api.disp,
            "POST",
            &format!("/api/v1/tickets/{no}/actions/dispatch"),
            &json!({"unit_id": unit}).to_string(),
            200,
        );
    }
    let geo = include_str!("fixtures/districts.geojson");
    let auth = [
        ("Cookie", api.admin.0.as_str()),
        ("X-CSRF-Token", api.admin.1.as_str()),
    ];
    let r = http(
        port,
        "PUT",
        "/api/v1/reports/districts/map",
        &auth,
        Some(geo),
    )
    .expect("PUT map");
    assert_eq!(r.status, 200, "map upload: {}", r.body);
    api
}

// ---------------------------------------------------------------------------
// The environment: server, data, chromedriver, browser (as in tests/e2e.rs)

struct Env {
    name: &'static str,
    artifacts: PathBuf,
    base: String,
    port: u16,
    api: Api,
    driver_port: u16,
    chromium: PathBuf,
    // Fields drop in declaration order: the driver first, then its
    // profile, then the server, then the data.
    _driver: ChildGuard,
    profile: TempDir,
    _server: ChildGuard,
    _data: TempDir,
}

impl Env {
    fn start(name: &'static str) -> Option<Env> {
        let (chromium, chromedriver) = browser_tools()?;
        let artifacts = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("e2e-artifacts");
        fs::create_dir_all(&artifacts).expect("creating tests/e2e-artifacts");
        let data = TempDir::new(&format!("{name}-data"));
        let profile = TempDir::new(&format!("{name}-chrome"));
        let exe = env!("CARGO_BIN_EXE_hotline");
        let out = Command::new(exe)
            .args(["create-admin", "--data-dir"])
            .arg(&data.0)
            .args(["--username", ADMIN.0, "--password", ADMIN.1])
            .env("HOTLINE_LOG", "warn")
            .output()
            .expect("running hotline create-admin");
        assert!(out.status.success(), "hotline create-admin failed");
        let port = free_port();
        let log = artifacts.join(format!("{name}-server.log"));
        let mut cmd = Command::new(exe);
        cmd.args([
            "serve",
            "--no-browser",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&data.0);
        let server = ChildGuard::spawn("hotline serve", cmd, &log, false);
        server.wait_healthz(port, WAIT);
        let api = setup_data(port);
        let driver_port = free_port();
        let dlog = artifacts.join(format!("{name}-chromedriver.log"));
        let mut cmd = Command::new(&chromedriver);
        cmd.arg(format!("--port={driver_port}"));
        let driver = ChildGuard::spawn("chromedriver", cmd, &dlog, true);
        driver.wait_driver(driver_port, WAIT);
        Some(Env {
            name,
            artifacts,
            base: format!("http://127.0.0.1:{port}"),
            port,
            api,
            driver_port,
            chromium,
            _driver: driver,
            profile,
            _server: server,
            _data: data,
        })
    }

    fn browse<F, Fut>(self, flow: F)
    where
        F: FnOnce(Client, String) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let outcome = rt.block_on(async {
            let mut caps = serde_json::Map::new();
            caps.insert(
                "goog:chromeOptions".into(),
                json!({
                    "binary": self.chromium,
                    "args": [
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--disable-quic",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--hide-scrollbars",
                        format!("--user-data-dir={}", self.profile.0.display()),
                        "--window-size=1920,1080",
                    ],
                }),
            );
            let client = ClientBuilder::native()
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{}", self.driver_port))
                .await
                .unwrap_or_else(|e| panic!("starting Chromium through chromedriver failed: {e}"));
            let run = tokio::spawn(flow(client.clone(), self.base.clone()));
            let outcome = run.await;
            if outcome.is_err() {
                let failed = format!("{}-failure", self.name);
                if let Ok(png) = client.screenshot().await {
                    let _ = fs::write(self.artifacts.join(format!("{failed}.png")), png);
                }
                if let Ok(html) = client.source().await {
                    let _ = fs::write(self.artifacts.join(format!("{failed}.html")), html);
                }
            }
            let _ = client.close().await;
            outcome
        });
        drop(rt);
        match outcome {
            Ok(()) => {}
            Err(e) if e.is_panic() => resume_unwind(e.into_panic()),
            Err(e) => panic!("the browser flow was cancelled: {e}"),
        }
    }
}
