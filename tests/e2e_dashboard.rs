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

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::resume_unwind;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
        let started = Instant::now();
        loop {
            if let Ok(r) = http(port, "GET", "/healthz", &[], None)
                && r.status == 200
            {
                break;
            }
            server.check_alive();
            assert!(
                started.elapsed() < WAIT,
                "hotline serve did not answer; see {}",
                log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let api = setup_data(port);
        let driver_port = free_port();
        let dlog = artifacts.join(format!("{name}-chromedriver.log"));
        let mut cmd = Command::new(&chromedriver);
        cmd.arg(format!("--port={driver_port}"));
        let driver = ChildGuard::spawn("chromedriver", cmd, &dlog, true);
        let started = Instant::now();
        loop {
            if let Ok(r) = http(driver_port, "GET", "/status", &[], None)
                && r.status == 200
                && r.body.contains("\"ready\":true")
            {
                break;
            }
            driver.check_alive();
            assert!(
                started.elapsed() < WAIT,
                "chromedriver not ready; see {}",
                dlog.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
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

fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let find = |var: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(p) = std::env::var_os(var) {
            return Some(PathBuf::from(p)).filter(|p| p.is_file());
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
        dirs.push(PathBuf::from("/usr/bin"));
        names
            .iter()
            .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
            .find(|p| p.is_file())
    };
    let chromium = find(
        "HOTLINE_E2E_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let driver = find("HOTLINE_E2E_CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        (c, d) => {
            let msg = format!(
                "end-to-end browser tests need Chromium and chromedriver (Debian: apt-get install chromium chromium-driver); \
                 chromium: {c:?}, chromedriver: {d:?}"
            );
            if std::env::var_os("CI").is_some() {
                panic!("{msg} (CI is set, so this is a failure)");
            }
            eprintln!("\n!!!!!!!!!!\n!!! SKIPPED: {msg}\n!!!!!!!!!!\n");
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Processes and directories that clean up after themselves

struct ChildGuard {
    what: &'static str,
    child: Child,
    /// Started in its own process group, killed as a group (chromedriver
    /// and the browser it starts).
    group: bool,
    log: PathBuf,
}

impl ChildGuard {
    fn spawn(what: &'static str, mut cmd: Command, log: &Path, group: bool) -> ChildGuard {
        let out = File::create(log).expect("creating a log file");
        let err = out.try_clone().unwrap();
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        if group {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {what}: {e}"));
        ChildGuard {
            what,
            child,
            group,
            log: log.to_path_buf(),
        }
    }

    fn check_alive(&self) {
        // `try_wait` needs `&mut`; peek through /proc instead to keep `&self`.
        let stat =
            fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or("X");
        if state == "Z" || state == "X" {
            let log = fs::read_to_string(&self.log).unwrap_or_default();
            panic!(
                "{} exited early; its output ({}):\n{log}",
                self.what,
                self.log.display()
            );
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.group {
            // The whole group we created: the driver and the browser it started.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("hotline-e2e-{}-{nanos}-{tag}", std::process::id()));
        fs::create_dir_all(&p).expect("creating a temporary directory");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

// ---------------------------------------------------------------------------
// A tiny HTTP/1.1 client for setup and readiness checks

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    s.write_all(req.as_bytes())?;
    // Read until the response is complete: some servers (chromedriver) keep
    // the connection open despite `Connection: close`.
    let mut raw = vec![];
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf)?;
        raw.extend_from_slice(&buf[..n]);
        if let Some(r) = parse_response(&raw, n == 0) {
            return Ok(r);
        }
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "incomplete HTTP response",
            ));
        }
    }
}

/// The response in `raw`, once it is all there (`eof`: nothing more comes).
fn parse_response(raw: &[u8], eof: bool) -> Option<Resp> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let rest = &raw[split + 4..];
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        rest.get(..len)?.to_vec()
    } else if eof {
        rest.to_vec()
    } else {
        return None;
    };
    Some(Resp {
        status,
        body: String::from_utf8_lossy(&body).to_string(),
        headers,
    })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![];
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_line = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}
