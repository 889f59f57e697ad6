//! End-to-end tests in headless Chromium (fantoccini + chromedriver).
//!
//! Each test starts its own `hotline serve` on a fresh data directory and its
//! own chromedriver, sets up categories and an operator through the JSON API,
//! then drives the pages with the keyboard the way a hotline operator would.
//!
//! Screenshots and logs go to `tests/e2e-artifacts/` (not committed).
//!
//! Needs `chromium` and `chromedriver` (Debian packages of the same names).
//! Without them the tests print a warning and pass, unless `CI` is set, in
//! which case they fail. `HOTLINE_E2E_CHROMIUM` / `HOTLINE_E2E_CHROMEDRIVER`
//! override where they are looked for.

#[path = "support/browser.rs"]
mod browser;
use browser::*;
use std::fs;
use std::panic::resume_unwind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("admin", "admin-pass-1");
const OPERATOR: (&str, &str) = ("op1", "op-pass-123");
const PHONE: &str = "13912345678";
/// How long to wait for a page, a server or a driver.
const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// The tests

/// Logs in as an operator, registers a complaint on the intake page with the
/// keyboard (Tab between fields, Ctrl+Enter to save), finds it in the list by
/// its words and opens it.
#[test]
fn intake_by_keyboard_then_found_in_list() {
    let Some(env) = Env::start("intake") else {
        return;
    };
    let suffix = unique_suffix();
    let title = format!("香港中路18号停水两天 K{suffix}");
    let content = format!("端到端测试：香港中路18号停水两天，至今未恢复供水。K{suffix}");
    let words = format!("停水两天 K{suffix}");
    let art = env.artifacts.clone();
    env.browse(move |c, base| async move {
        login(&c, &base, OPERATOR.0, OPERATOR.1).await;

        // `/` sends operators to the intake page; the phone field has focus.
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Id("intake-form"))
            .await
            .expect("intake page after login");
        assert_eq!(
            c.current_url().await.unwrap().path(),
            "/tickets/new",
            "operators land on the intake page"
        );
        assert_eq!(
            focused(&c).await,
            "caller_phone",
            "the caller phone field has focus on load"
        );
        typ(&c, PHONE).await;
        tab_to(&c, "caller_name").await;
        typ(&c, "王先生").await;
        // A complaint: third entry of the appeal type list, chosen with the arrow keys.
        tab_to(&c, "appeal_type").await;
        typ(&c, &format!("{}{}", &*Key::Down, &*Key::Down)).await;
        assert_eq!(
            value_of(&c, "appeal_type").await,
            "complaint",
            "two arrow-downs on the appeal type choose 投诉"
        );
        tab_to(&c, "category").await;
        typ(&c, "0101").await;
        tab_to(&c, "district").await;
        typ(&c, "市南区").await;
        tab_to(&c, "street").await;
        typ(&c, "香港中路街道").await;
        tab_to(&c, "address").await;
        typ(&c, "香港中路18号").await;
        tab_to(&c, "title").await;
        typ(&c, &title).await;
        tab_to(&c, "content").await;
        typ(&c, &content).await;
        assert_eq!(value_of(&c, "caller_phone").await, PHONE);
        assert!(
            value_of(&c, "category").await.starts_with("0101"),
            "category typed"
        );
        shot(&c, &art, "intake-filled").await;

        // Ctrl+Enter in the content box saves (web/static/app.js).
        typ(&c, &format!("{}{}", &*Key::Control, &*Key::Enter)).await;
        let saved = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#saved a"))
            .await;
        let saved = match saved {
            Ok(s) => s,
            Err(e) => panic!(
                "no #saved after Ctrl+Enter ({e}); form error: {:?}",
                text_of(&c, "#form-error").await
            ),
        };
        let number = saved.text().await.unwrap().trim().to_string();
        assert!(
            is_ticket_number(&number),
            "saved ticket number looks like YYYYMMDD-NNNNNN: {number:?}"
        );
        let url = c.current_url().await.unwrap();
        assert_eq!(url.path(), "/tickets/new");
        assert_eq!(url.query(), Some(format!("saved={number}").as_str()));
        assert_eq!(
            focused(&c).await,
            "caller_phone",
            "after saving, the phone field has focus for the next call"
        );

        // The list: search by words, Enter submits the filter form.
        c.goto(&format!("{base}/tickets")).await.unwrap();
        let w = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Id("words"))
            .await
            .expect("list page");
        w.send_keys(&format!("{words}{}", &*Key::Enter))
            .await
            .unwrap();
        // The old list (all tickets) is still there until the search lands.
        wait_until_url(&c, |u| u.contains("?q=") || u.contains("&q=")).await;
        let table = match c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Id("results"))
            .await
        {
            Ok(t) => t,
            Err(_) => panic!(
                "no #results for {words:?}; page says {:?}",
                text_of(&c, "main").await
            ),
        };
        let url = c.current_url().await.unwrap();
        assert!(
            url.query_pairs()
                .any(|(k, v)| k == "q" && v == words.as_str()),
            "the search went through the q filter: {url}"
        );
        let rows = table.find_all(Locator::Css("tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 1, "exactly the new ticket matches {words:?}");
        let cells = cell_texts(&rows[0]).await;
        assert_eq!(cells[0], number, "row number");
        assert_eq!(
            rows[0]
                .find(Locator::Css("td.title"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            title,
            "row title"
        );
        assert!(
            cells.iter().any(|t| t == "投诉"),
            "row shows the appeal type 投诉: {cells:?}"
        );
        assert!(
            cells[4].ends_with("停水"),
            "row shows the category 停水: {cells:?}"
        );
        shot(&c, &art, "list-result").await;

        // The ticket page, through the link in the list.
        let link = rows[0].find(Locator::Css("td a")).await.unwrap();
        link.click().await.unwrap();
        let h = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Id("ticket-number"))
            .await
            .expect("ticket page");
        assert_eq!(
            c.current_url().await.unwrap().path(),
            format!("/tickets/{number}")
        );
        assert!(
            h.text().await.unwrap().contains(&number),
            "#ticket-number shows the number"
        );
        assert_eq!(
            text_of(&c, ".ttitle").await.as_deref(),
            Some(title.as_str())
        );
        assert_eq!(
            text_of(&c, "p.content").await.as_deref(),
            Some(content.as_str())
        );
        let events = c.find_all(Locator::Css("#timeline li")).await.unwrap();
        assert!(!events.is_empty(), "the timeline has the registration");
        let fields = text_of(&c, "dl.fields").await.unwrap_or_default();
        for expected in [
            "0101 ",
            "停水",
            "投诉",
            "王先生",
            PHONE,
            "市南区 香港中路街道 香港中路18号",
        ] {
            assert!(
                fields.contains(expected),
                "{expected:?} on the ticket page: {fields}"
            );
        }
        shot(&c, &art, "ticket").await;
    });
}

/// A title that looks like a script is shown as text on the ticket page and in
/// the list, and nothing runs. This time the form is saved with Enter on the
/// save button.
#[test]
fn script_in_title_is_shown_escaped() {
    let Some(env) = Env::start("escape") else {
        return;
    };
    let suffix = unique_suffix();
    let evil = "<script>alert(1)</script>";
    let content = format!("端到端测试：标题转义 K{suffix}");
    let art = env.artifacts.clone();
    env.browse(move |c, base| async move {
        login(&c, &base, OPERATOR.0, OPERATOR.1).await;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Id("intake-form"))
            .await
            .expect("intake page after login");
        assert_eq!(focused(&c).await, "caller_phone");
        typ(&c, PHONE).await;
        tab_to(&c, "category").await;
        typ(&c, "0101 停水").await;
        tab_to(&c, "title").await;
        typ(&c, evil).await;
        tab_to(&c, "content").await;
        typ(&c, &content).await;
        tab_to(&c, "save").await;
        typ(&c, &Key::Enter).await;
        let saved = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#saved a"))
            .await;
        let saved = match saved {
            Ok(s) => s,
            Err(e) => panic!(
                "no #saved after Enter on save ({e}); form error: {:?}",
                text_of(&c, "#form-error").await
            ),
        };
        let number = saved.text().await.unwrap().trim().to_string();
        assert!(is_ticket_number(&number), "{number:?}");

        c.goto(&format!("{base}/tickets/{number}")).await.unwrap();
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Id("ticket-number"))
            .await
            .expect("ticket page");
        assert_no_alert(&c).await;
        let t = c.find(Locator::Css(".ttitle")).await.unwrap();
        assert_eq!(
            t.text().await.unwrap(),
            evil,
            "the title is shown literally"
        );
        assert!(
            t.find_all(Locator::Css("script")).await.unwrap().is_empty(),
            "no script element inside the title"
        );
        assert!(
            t.html(true).await.unwrap().contains("&lt;script&gt;"),
            "the title is escaped in the HTML"
        );
        shot(&c, &art, "ticket-escaped").await;

        c.goto(&format!("{base}/tickets?q=K{suffix}"))
            .await
            .unwrap();
        let table = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Id("results"))
            .await
            .expect("list with the ticket");
        assert_no_alert(&c).await;
        let cell = table.find(Locator::Css("tbody tr td.title")).await.unwrap();
        assert_eq!(
            cell.text().await.unwrap(),
            evil,
            "the title is shown literally in the list"
        );

        // The caller history on the intake page is built by app.js from JSON.
        c.goto(&format!("{base}/tickets/new")).await.unwrap();
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Id("intake-form"))
            .await
            .unwrap();
        typ(&c, PHONE).await;
        let item = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#history .history-item"))
            .await
            .expect("caller history");
        assert!(
            item.text().await.unwrap().contains(evil),
            "history shows the title literally"
        );
        assert!(
            item.find_all(Locator::Css("script"))
                .await
                .unwrap()
                .is_empty()
        );
        assert_no_alert(&c).await;
        shot(&c, &art, "intake-history-escaped").await;
    });
}

// ---------------------------------------------------------------------------
// Browser helpers (all input goes through WebDriver key events)

/// Presses keys on the keyboard (WebDriver key actions, so they go to
/// whatever has focus, like a person typing). Each character is pressed and
/// released; modifier keys (`Key::Control`…) stay down until the end.
async fn typ(c: &Client, keys: &str) {
    let modifiers = [Key::Shift, Key::Control, Key::Alt, Key::Meta].map(char::from);
    let mut actions = KeyActions::new("keyboard".into());
    let mut held = vec![];
    for ch in keys.chars() {
        actions = actions.then(KeyAction::Down { value: ch });
        if modifiers.contains(&ch) {
            held.push(ch);
        } else {
            actions = actions.then(KeyAction::Up { value: ch });
        }
    }
    for ch in held.into_iter().rev() {
        actions = actions.then(KeyAction::Up { value: ch });
    }
    c.perform_actions(actions).await.expect("typing");
}

/// The id (or else the name) of the focused element.
async fn focused(c: &Client) -> String {
    let el = c.active_element().await.expect("a focused element");
    match el.attr("id").await.unwrap() {
        Some(id) if !id.is_empty() => id,
        _ => el.attr("name").await.unwrap().unwrap_or_default(),
    }
}

/// Presses Tab until the element with this id or name has focus.
async fn tab_to(c: &Client, target: &str) {
    let mut seen = vec![];
    for _ in 0..8 {
        typ(c, &Key::Tab).await;
        let el = c.active_element().await.unwrap();
        let id = el.attr("id").await.unwrap().unwrap_or_default();
        let name = el.attr("name").await.unwrap().unwrap_or_default();
        if id == target || name == target {
            return;
        }
        seen.push(if id.is_empty() {
            name
        } else {
            format!("#{id}")
        });
    }
    panic!("Tab never reached {target:?}; focus went through {seen:?}");
}

async fn value_of(c: &Client, id: &str) -> String {
    let v = c
        .execute(
            "return document.getElementById(arguments[0]).value",
            vec![json!(id)],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_string()
}

async fn text_of(c: &Client, css: &str) -> Option<String> {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.ok(),
        Err(_) => None,
    }
}

async fn cell_texts(row: &Element) -> Vec<String> {
    let mut out = vec![];
    for td in row.find_all(Locator::Css("td")).await.unwrap() {
        out.push(td.text().await.unwrap().trim().to_string());
    }
    out
}

async fn assert_no_alert(c: &Client) {
    match c.get_alert_text().await {
        Err(e) if e.is_no_such_alert() => {}
        Ok(text) => panic!("an alert dialog is open: {text:?}"),
        Err(e) => panic!("checking for an alert: {e}"),
    }
}

/// Waits until the current URL satisfies `ok` (after a navigation).
async fn wait_until_url<F: Fn(&str) -> bool>(c: &Client, ok: F) {
    let deadline = Instant::now() + WAIT;
    loop {
        let u = c.current_url().await.unwrap();
        if ok(u.as_str()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no navigation in {WAIT:?}; still at {u}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn login(c: &Client, base: &str, user: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input[name=username]"))
        .await
        .expect("login page");
    assert_eq!(
        focused(c).await,
        "username",
        "the user name field has focus on load"
    );
    typ(c, user).await;
    tab_to(c, "password").await;
    typ(c, &format!("{password}{}", &*Key::Enter)).await;
    // Wait until the login form is gone (a wrong password shows it again).
    let deadline = Instant::now() + WAIT;
    while c.current_url().await.unwrap().path() == "/login" {
        if Instant::now() > deadline {
            panic!(
                "still on /login after Enter: {:?}",
                text_of(c, "main").await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn shot(c: &Client, dir: &Path, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    let path = dir.join(format!("{name}.png"));
    fs::write(&path, png).expect("writing the screenshot");
    eprintln!("e2e: screenshot {}", path.display());
}

fn is_ticket_number(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 15
        && b[8] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_digit())
}

fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{:06}", (nanos / 1000 + std::process::id()) % 1_000_000)
}

// ---------------------------------------------------------------------------
// The environment: server, data, chromedriver, browser

struct Env {
    name: &'static str,
    artifacts: PathBuf,
    base: String,
    driver_port: u16,
    chromium: PathBuf,
    // Fields drop in declaration order: the driver (and any browser left
    // behind) first, then its profile, then the server, then the data.
    _driver: ChildGuard,
    profile: TempDir,
    _server: ChildGuard,
    _data: TempDir,
}

impl Env {
    /// Starts everything, or returns `None` (skip) when there is no browser.
    fn start(name: &'static str) -> Option<Env> {
        let (chromium, chromedriver) = browser_tools()?;
        let artifacts = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("e2e-artifacts");
        fs::create_dir_all(&artifacts).expect("creating tests/e2e-artifacts");
        for ext in ["png", "html"] {
            let _ = fs::remove_file(artifacts.join(format!("{name}-failure.{ext}")));
        }
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
        assert!(
            out.status.success(),
            "hotline create-admin failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );

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
        server.wait_healthz(port, WAIT);
        eprintln!(
            "e2e[{name}]: server up on port {port} in {:?}",
            started.elapsed()
        );
        setup_data(port);

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
            driver_port,
            chromium,
            _driver: driver,
            profile,
            _server: server,
            _data: data,
        })
    }

    /// Opens a browser session, runs `flow`, and closes the session whatever
    /// happens. A failing flow leaves a screenshot and the page's HTML.
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
        let started = Instant::now();
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
                        format!("--user-data-dir={}", self.profile.0.display()),
                        "--window-size=1400,1000",
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
                eprintln!(
                    "e2e[{}]: failed at {:?}; see {}",
                    self.name,
                    client.current_url().await.ok(),
                    self.artifacts.display()
                );
            }
            if let Err(e) = client.close().await {
                eprintln!("e2e[{}]: closing the browser: {e}", self.name);
            }
            outcome
        });
        drop(rt);
        eprintln!(
            "e2e[{}]: browser part took {:?}",
            self.name,
            started.elapsed()
        );
        match outcome {
            Ok(()) => {}
            Err(e) if e.is_panic() => resume_unwind(e.into_panic()),
            Err(e) => panic!("the browser flow was cancelled: {e}"),
        }
    }
}

/// Creates the categories 01 供水 / 0101 停水 and the operator op1.
fn setup_data(port: u16) {
    let body = json!({"username": ADMIN.0, "password": ADMIN.1}).to_string();
    let r = http(port, "POST", "/api/v1/session", &[], Some(&body)).expect("POST /api/v1/session");
    assert_eq!(r.status, 200, "admin login: {}", r.body);
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
    let auth = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    for (path, body) in [
        (
            "/api/v1/categories",
            json!({"code": "01", "name": "供水", "parent_code": null, "default_unit_id": null}),
        ),
        (
            "/api/v1/categories",
            json!({"code": "0101", "name": "停水", "parent_code": "01"}),
        ),
        (
            "/api/v1/users",
            json!({"username": OPERATOR.0, "password": OPERATOR.1, "display_name": "话务员 王芳", "roles": ["operator"]}),
        ),
        (
            "/api/v1/kb/articles",
            json!({"title": "社会保障卡补办流程", "category": "社会保障/社保卡",
                   "body": "社会保障卡遗失的，先挂失，再持身份证到社保卡合作银行网点或区政务服务中心人社窗口补卡。",
                   "keywords": ["社保卡", "补办", "补卡", "遗失"], "publish": true}),
        ),
        (
            "/api/v1/kb/articles",
            json!({"title": "燃气泄漏应急处置", "category": "公用事业/燃气",
                   "body": "闻到燃气味请立即关闭燃气阀门、开窗通风，不要开关电器，到户外拨打燃气抢修电话。",
                   "keywords": ["燃气", "煤气", "泄漏"], "publish": true}),
        ),
    ] {
        let r = http(port, "POST", path, &auth, Some(&body.to_string()))
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        assert_eq!(r.status, 201, "POST {path} {body}: {}", r.body);
    }
}

/// The operator types the caller's question into the content field: the
/// matching article appears beside the form while the focus stays in the
/// content field, and Alt+1 puts its answer into the answer field.
#[test]
fn intake_shows_the_answer_and_inserts_it_with_one_key() {
    let Some(env) = Env::start("kb-intake") else {
        return;
    };
    let art = env.artifacts.clone();
    env.browse(move |c, base| async move {
        login(&c, &base, OPERATOR.0, OPERATOR.1).await;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Id("intake-form"))
            .await
            .expect("intake page after login");
        c.find(Locator::Id("content"))
            .await
            .expect("the content field")
            .click()
            .await
            .expect("clicking the content field");
        typ(&c, "社保卡丢了怎么补办").await;
        let hit = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("#kb-suggest li[data-i='0'] .kb-title"))
            .await
            .expect("an article beside the form");
        let title = hit.text().await.unwrap();
        assert_eq!(title, "社会保障卡补办流程", "the best match comes first");
        let marked = c
            .find_all(Locator::Css("#kb-suggest li[data-i='0'] mark"))
            .await
            .unwrap();
        assert!(!marked.is_empty(), "the matched words are highlighted");
        assert_eq!(
            focused(&c).await,
            "content",
            "the focus stays in the content field"
        );
        assert_eq!(value_of(&c, "answer").await, "", "nothing inserted yet");
        typ(&c, &format!("{}1", &*Key::Alt)).await;
        let answer = value_of(&c, "answer").await;
        assert!(
            answer.starts_with("社会保障卡遗失的，先挂失"),
            "Alt+1 inserts the first answer: {answer:?}"
        );
        assert_eq!(focused(&c).await, "content", "still typing the content");
        assert_eq!(
            value_of(&c, "content").await,
            "社保卡丢了怎么补办",
            "the key did not type into the content"
        );
        shot(&c, &art, "kb-intake").await;

        // Saving the ticket counts the article as used.
        let href = hit.attr("href").await.unwrap().expect("the article link");
        let article = href
            .trim_start_matches("/kb/")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        for (id, text) in [("caller_phone", PHONE), ("category", "0101")] {
            c.find(Locator::Id(id))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            typ(&c, text).await;
        }
        typ(&c, &format!("{}{}", &*Key::Control, &*Key::Enter)).await;
        wait_until_url(&c, |u| u.contains("saved=")).await;
        assert_no_alert(&c).await;
        c.goto(&format!("{base}/kb/{article}")).await.unwrap();
        let uses = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(
                "//dt[text()='引用次数']/following-sibling::dd[1]",
            ))
            .await
            .expect("the article's use count")
            .text()
            .await
            .unwrap();
        assert_eq!(uses, "1", "the inserted answer counts as one use");
    });
}
