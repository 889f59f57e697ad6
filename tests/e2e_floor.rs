//! Headless Chromium walk of two floor points of issue 11 on a demo
//! district, at 1366×768 (an office monitor):
//!
//! - a level-2 unit opens a ticket its level-3 unit holds: the case file
//!   says 由下级单位办理 and offers 催办 / 收回 / 代签收; the urge is then
//!   on the level-3 unit's inbox;
//! - the dispatcher works through the dispatch queue: the queue list, a
//!   dispatch that says what happened and offers the next ticket, and the
//!   void button that asks first (web/static/confirm.js).
//!
//! Screenshots: `target/screenshots/floor-*.png`. Tool policy as
//! tests/e2e.rs (skips without chromium/chromedriver unless `CI` is set).

#[path = "support/browser.rs"]
mod browser;
use browser::*;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const PASSWORD: &str = "demo-pass-1";
const WAIT: Duration = Duration::from_secs(30);

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let target = if target.is_relative() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(target)
    } else {
        target
    };
    target.join("screenshots")
}

/// An API session for setting up data beside the browser.
struct Api {
    port: u16,
    cookie: String,
    csrf: String,
}

impl Api {
    fn login(port: u16, user: &str) -> Api {
        let body = json!({"username": user, "password": PASSWORD}).to_string();
        let r = http(port, "POST", "/api/v1/session", &[], Some(&body)).unwrap();
        assert_eq!(r.status, 200, "login {user}: {}", r.body);
        let cookie = r
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.split(';').next().unwrap().to_string())
            .unwrap();
        let v: Value = serde_json::from_str(&r.body).unwrap();
        Api {
            port,
            cookie,
            csrf: v["csrf_token"].as_str().unwrap().to_string(),
        }
    }
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let b = body.map(|v| v.to_string());
        let r = http(
            self.port,
            method,
            path,
            &[("Cookie", &self.cookie), ("x-csrf-token", &self.csrf)],
            b.as_deref(),
        )
        .unwrap();
        assert!(
            (200..300).contains(&r.status),
            "{method} {path}: {}",
            r.body
        );
        serde_json::from_str(&r.body).unwrap_or(Value::Null)
    }
    fn create(&self, title: &str) -> String {
        self.call(
            "POST",
            "/api/v1/tickets",
            Some(json!({"caller_phone":"13812345678","caller_name":"张三","channel":"phone",
                "appeal_type":"help","category_code":"0101","district":"市南区",
                "address":"香港中路18号","title":title,"content":"家里停水三天了","urgency":"normal"})),
        )["number"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[test]
fn parent_unit_case_file_and_queue_work_through_in_chromium() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).unwrap();
    let data = TempDir::new("floor-data");
    let profile = TempDir::new("floor-chrome");
    let exe = env!("CARGO_BIN_EXE_hotline");
    let out = Command::new(exe)
        .args(["demo", "--tickets", "120", "--password", PASSWORD])
        .arg("--data-dir")
        .arg(&data.0)
        .env("HOTLINE_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let mut cmd = Command::new(exe);
    cmd.args(["serve", "--no-browser", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(&data.0)
        .env("HOTLINE_LOG", "warn");
    let server = ChildGuard::spawn(
        "hotline serve",
        cmd,
        &shots.join("e2e-floor-server.log"),
        false,
    );
    wait_until(&server, || {
        http(port, "GET", "/healthz", &[], None).is_ok_and(|r| r.status == 200)
    });
    let driver_port = free_port();
    let mut cmd = Command::new(&chromedriver);
    cmd.arg(format!("--port={driver_port}"));
    let driver = ChildGuard::spawn(
        "chromedriver",
        cmd,
        &shots.join("e2e-floor-driver.log"),
        true,
    );
    wait_until(&driver, || {
        http(driver_port, "GET", "/status", &[], None)
            .is_ok_and(|r| r.body.contains("\"ready\":true"))
    });

    // Setup through the API: a ticket at the level-3 unit, two to dispatch.
    let admin = Api::login(port, "admin");
    let units = admin.call("GET", "/api/v1/units", None);
    let id_of = |name: &str| {
        units
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == name)
            .unwrap()["id"]
            .as_u64()
            .unwrap()
    };
    let (l2, l3) = (id_of("区水务集团"), id_of("八大关供水营业所"));
    let op = Api::login(port, "op1");
    let disp = Api::login(port, "dispatcher");
    let held = op.create("停水三天无人处理");
    disp.call(
        "POST",
        &format!("/api/v1/tickets/{held}/actions/dispatch"),
        Some(json!({"unit_id": l3})),
    );
    let first = op.create("路灯不亮");
    let _second = op.create("噪音扰民");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let outcome = rt.block_on(async move {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.0.display()), "--window-size=1366,768"],
            }),
        );
        let c = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .expect("Chromium through chromedriver");
        let s2 = shots.clone();
        let r = tokio::spawn(flow(c.clone(), base, s2, held, first, l2)).await;
        if r.is_err()
            && let Ok(png) = c.screenshot().await
        {
            let _ = std::fs::write(shots.join("floor-failure.png"), png);
        }
        let _ = c.close().await;
        r
    });
    drop(rt);
    drop(driver);
    drop(server);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn wait_until(child: &ChildGuard, ok: impl Fn() -> bool) {
    let started = Instant::now();
    while !ok() {
        child.check_alive();
        assert!(started.elapsed() < WAIT, "{} did not start", child.what);
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn login(c: &Client, base: &str, user: &str) {
    c.delete_all_cookies().await.unwrap();
    c.goto(&format!("{base}/login")).await.unwrap();
    let u = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input[name=username]"))
        .await
        .unwrap();
    u.send_keys(user).await.unwrap();
    c.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(&format!("{PASSWORD}\u{E007}"))
        .await
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while c.current_url().await.unwrap().path() == "/login" {
        assert!(Instant::now() < deadline, "{user} still on /login");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn shot(c: &Client, shots: &Path, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(shots.join(format!("floor-{name}.png")), png).unwrap();
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn flow(c: Client, base: String, shots: PathBuf, held: String, first: String, l2: u64) {
    // The level-2 unit on its sub-unit's ticket.
    login(&c, &base, "water").await;
    c.goto(&format!("{base}/tickets/{held}")).await.unwrap();
    let why = text_of(&c, "#sub-unit-holds").await;
    assert!(
        why.contains("由下级单位办理") && why.contains("八大关供水营业所"),
        "{why}"
    );
    for id in ["act-urge", "act-take-back", "act-sign-for-sub-unit"] {
        let b = c.find(Locator::Id(id)).await.unwrap();
        assert!(b.is_displayed().await.unwrap(), "{id} visible");
    }
    assert!(c.find(Locator::Id("act-sign-for")).await.is_err());
    c.execute(
        "document.getElementById('actions').scrollIntoView({block: 'center'})",
        vec![],
    )
    .await
    .unwrap();
    shot(&c, &shots, "parent-case-file").await;
    let form = c
        .find(Locator::Css("form[action$='/act/urge']"))
        .await
        .unwrap();
    form.find(Locator::Css("input[name=reason]"))
        .await
        .unwrap()
        .send_keys("请今天联系诉求人")
        .await
        .unwrap();
    c.find(Locator::Id("act-urge"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let done = text_of(&c, "#done").await;
    assert!(done.contains("已催办"), "{done}");
    shot(&c, &shots, "parent-urged").await;

    // The level-3 unit sees the urge in its inbox and on the case file.
    login(&c, &base, "water1").await;
    c.goto(&format!("{base}/inbox?tab=sign_for")).await.unwrap();
    let row = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(&format!(
            "//tr[.//a[contains(., '{held}')]]"
        )))
        .await
        .expect("the urged ticket in the sub-unit's inbox");
    let badge = row.find(Locator::Css(".urged-badge")).await.unwrap();
    assert_eq!(badge.text().await.unwrap(), "已催办");
    shot(&c, &shots, "subunit-inbox").await;
    c.goto(&format!("{base}/tickets/{held}")).await.unwrap();
    let urged = text_of(&c, "#urged").await;
    assert!(urged.contains("请今天联系诉求人"), "{urged}");

    // The dispatcher works through the dispatch queue.
    login(&c, &base, "dispatcher").await;
    c.goto(&format!("{base}/queues")).await.unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("q-dispatch"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let title = text_of(&c, "#queue-title").await;
    assert!(title.contains("待派单"), "{title}");
    shot(&c, &shots, "queue-dispatch").await;
    c.goto(&format!("{base}/tickets/{first}?queue=dispatch"))
        .await
        .unwrap();
    let sel = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("dispatch-unit"))
        .await
        .unwrap();
    sel.select_by_value(&l2.to_string()).await.unwrap();
    c.find(Locator::Id("act-dispatch"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let done = text_of(&c, "#done").await;
    assert!(done.contains("已派单至 区水务集团"), "{done}");
    let next = c.find(Locator::Id("next-in-queue")).await.unwrap();
    let href = next.attr("href").await.unwrap().unwrap();
    assert!(
        href.ends_with("?queue=dispatch") && !href.contains(&first),
        "{href}"
    );
    shot(&c, &shots, "work-through").await;
    next.click().await.unwrap();
    let deadline = Instant::now() + WAIT;
    while !c.current_url().await.unwrap().as_str().ends_with(&href) {
        assert!(Instant::now() < deadline, "the next ticket did not open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Void asks first; dismissing keeps the ticket as it was.
    let void = c.find(Locator::Id("form-void")).await.unwrap();
    void.find(Locator::Css("input[name=reason]"))
        .await
        .unwrap()
        .send_keys("重复来电")
        .await
        .unwrap();
    c.find(Locator::Id("act-void"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + WAIT;
    let alert = loop {
        if let Ok(t) = c.get_alert_text().await {
            break t;
        }
        assert!(Instant::now() < deadline, "no confirmation asked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(alert.contains("确定作废"), "{alert}");
    c.dismiss_alert().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        c.find(Locator::Id("done")).await.is_err(),
        "nothing was sent"
    );
    let state = text_of(&c, "#ticket-number .state").await;
    assert_eq!(state, "待派单");
}
