//! End-to-end tests in headless Chromium of the handling loop: a department
//! signs for and replies, the center reviews and calls back, and open
//! department screens hear about emergencies without reloading.
//!
//! Same harness as `tests/e2e.rs` (copied: integration test files cannot
//! share code): each test starts its own `hotline serve` on a fresh data
//! directory and its own chromedriver; setup (units, categories, users,
//! registering and dispatching tickets) goes through the JSON API, the steps
//! under test through the pages.
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
/// (user name, password, display name, role)
const HANDLER: (&str, &str, &str, &str) =
    ("hand", "hand-pass-123", "承办人 李明", "department_handler");
const REVIEWER: (&str, &str, &str, &str) = ("rev", "rev-pass-123", "复核员 赵丽", "reviewer");
const CALLBACK: (&str, &str, &str, &str) = ("cb", "cb-pass-123", "回访员 孙强", "callback_agent");
const DISPATCHER: (&str, &str, &str, &str) = ("disp", "disp-pass-123", "派单员 周杰", "dispatcher");
const OPERATOR: (&str, &str, &str, &str) = ("op", "op-pass-123", "话务员 王芳", "operator");
const UNIT: &str = "市水务集团";
const PHONE: &str = "13912345678";
/// How long to wait for a page, a server or a driver.
const WAIT: Duration = Duration::from_secs(20);
/// How soon an emergency must show on an open department page.
const LIVE_WAIT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------
// The tests

/// A complaint registered and dispatched through the API goes round the
/// whole loop in the browser: the department handler finds it in the inbox,
/// signs for it with Alt+Q and replies; the reviewer passes the reply; the
/// callback agent records 满意; the ticket is closed and its timeline shows
/// every step, each by the right person.
#[test]
fn department_reviewer_and_callback_close_a_ticket_in_the_browser() {
    let Some(env) = Env::start("loop") else {
        return;
    };
    let port = env.port;
    let unit_id = setup_data(port);
    let suffix = unique_suffix();
    let title = format!("福州路小区自来水发黄 K{suffix}");
    let number = register_and_dispatch(port, unit_id, "complaint", &title);
    let reply = format!("已派员检修福州路小区二次供水水箱并完成清洗，水质检测合格。K{suffix}");
    let art = env.artifacts.clone();
    env.browse(move |c, base| async move {
        let t0 = Instant::now();
        // The department handler lands on the inbox, sign-for tab.
        login(&c, &base, HANDLER.0, HANDLER.1).await;
        wait_until_path(&c, "/inbox").await;
        let tab = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Id("tab-sign_for"))
            .await
            .expect("the inbox tabs");
        assert!(
            tab.attr("class")
                .await
                .unwrap()
                .unwrap_or_default()
                .contains("on"),
            "the sign-for tab is the open one"
        );
        assert_eq!(
            text_of(&c, "#tab-sign_for .count").await.as_deref(),
            Some("1"),
            "one ticket to sign for"
        );
        let link = c
            .find(Locator::XPath(&format!(
                "//table[@id='results']//a[normalize-space(.)='{number}']"
            )))
            .await
            .unwrap_or_else(|_| panic!("{number} in the sign-for tab of the inbox"));
        shot(&c, &art, "loop-1-inbox").await;
        link.click().await.unwrap();
        wait_until_path(&c, &format!("/tickets/{number}")).await;
        wait_for_state(&c, "待签收").await;
        let sign = c
            .find(Locator::Id("act-sign-for"))
            .await
            .expect("a sign-for button for the holder");
        assert!(
            sign.text().await.unwrap().starts_with("签收"),
            "the button says 签收"
        );
        assert!(
            c.find(Locator::Id("form-reply")).await.is_err(),
            "no reply form before signing for"
        );
        scroll_to(&c, "#actions").await;
        shot(&c, &art, "loop-2-dept-sign-for").await;

        // Alt+Q signs for the ticket (web/static/app.js).
        typ(&c, &format!("{}q", &*Key::Alt)).await;
        wait_for_state(&c, "办理中").await;
        let reply_box = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Id("reply-result"))
            .await
            .expect("the reply form once signed for");
        assert!(
            c.find(Locator::Id("act-sign-for")).await.is_err(),
            "no sign-for button once signed for"
        );
        reply_box.click().await.unwrap();
        assert_eq!(focused(&c).await, "reply-result");
        typ(&c, &reply).await;
        assert_eq!(value_of(&c, "reply-result").await, reply);
        scroll_to(&c, "#form-reply").await;
        shot(&c, &art, "loop-3-dept-reply").await;
        c.find(Locator::Id("act-reply"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_state(&c, "待复核").await;
        assert_eq!(text_of(&c, "#reply").await.as_deref(), Some(reply.as_str()));
        assert!(
            c.find(Locator::Id("actions")).await.is_err(),
            "nothing more for the department to do while the reply is reviewed"
        );
        eprintln!("e2e[loop]: department part took {:?}", t0.elapsed());

        // The reviewer passes the reply (pass is the default outcome).
        logout(&c).await;
        login(&c, &base, REVIEWER.0, REVIEWER.1).await;
        c.goto(&format!("{base}/tickets/{number}")).await.unwrap();
        wait_for_state(&c, "待复核").await;
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Id("form-review"))
            .await
            .expect("the review form for the reviewer");
        assert_eq!(value_of(&c, "review-outcome").await, "pass");
        assert!(
            text_of(&c, "#form-review")
                .await
                .unwrap_or_default()
                .contains(&reply),
            "the review form shows the reply"
        );
        scroll_to(&c, "#form-review").await;
        shot(&c, &art, "loop-4-review").await;
        c.find(Locator::Id("act-review"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_state(&c, "待回访").await;
        assert!(c.find(Locator::Id("form-review")).await.is_err());

        // The callback agent records 满意: the ticket closes.
        logout(&c).await;
        login(&c, &base, CALLBACK.0, CALLBACK.1).await;
        c.goto(&format!("{base}/tickets/{number}")).await.unwrap();
        wait_for_state(&c, "待回访").await;
        let sat = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Id("callback-satisfaction"))
            .await
            .expect("the callback form for the callback agent");
        let form = text_of(&c, "#form-callback").await.unwrap_or_default();
        assert!(
            form.contains(PHONE),
            "the callback form shows the caller's phone: {form}"
        );
        assert!(
            form.contains(&reply),
            "the callback form shows the reply: {form}"
        );
        sat.select_by_label("满意").await.unwrap();
        assert_eq!(value_of(&c, "callback-satisfaction").await, "satisfied");
        scroll_to(&c, "#form-callback").await;
        shot(&c, &art, "loop-5-callback").await;
        c.find(Locator::Id("act-callback"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_state(&c, "已办结").await;
        assert!(
            c.find(Locator::Id("actions")).await.is_err(),
            "no actions on a closed ticket"
        );

        // The timeline: every step, in order, by the right person.
        let entries = timeline(&c).await;
        let pos = |action: &str| {
            entries
                .iter()
                .position(|(a, _, _)| a == action)
                .unwrap_or_else(|| panic!("no ev-{action} in the timeline: {entries:#?}"))
        };
        let steps = [
            ("dispatched", DISPATCHER.2),
            ("signed_for", HANDLER.2),
            ("replied", HANDLER.2),
            ("reviewed", REVIEWER.2),
            ("callback", CALLBACK.2),
            ("closed", CALLBACK.2),
        ];
        let mut last = None;
        for (action, actor) in steps {
            let i = pos(action);
            assert!(
                last.is_none_or(|l| l < i),
                "ev-{action} comes after the step before it: {entries:#?}"
            );
            last = Some(i);
            assert_eq!(
                entries[i].1, actor,
                "ev-{action} is by {actor}: {entries:#?}"
            );
        }
        let replied = &entries[pos("replied")].2;
        assert!(
            replied.contains(&reply),
            "the reply is in the timeline: {replied}"
        );
        scroll_to(&c, "#timeline").await;
        shot(&c, &art, "loop-6-timeline").await;
        eprintln!(
            "e2e[loop]: whole loop in the browser took {:?}",
            t0.elapsed()
        );
    });
}

/// A department handler has the inbox open; an emergency dispatched to the
/// unit shows in the live banner within seconds, without a reload. The link
/// in the banner opens the ticket, where the handler signs for it; a second
/// open inbox (another tab) drops the alarm once it is signed for.
#[test]
fn emergency_appears_on_an_open_department_page_without_reload() {
    let Some(env) = Env::start("emergency") else {
        return;
    };
    let port = env.port;
    let unit_id = setup_data(port);
    let suffix = unique_suffix();
    let title = format!("南京路主水管爆裂 K{suffix}");
    let art = env.artifacts.clone();
    env.browse(move |c, base| async move {
        login(&c, &base, HANDLER.0, HANDLER.1).await;
        wait_until_path(&c, "/inbox").await;
        let first = c.window().await.unwrap();
        // A second tab with the inbox, to see the alarm go away later.
        let second = c.new_window(true).await.unwrap().handle;
        c.switch_to_window(second.clone()).await.unwrap();
        c.goto(&format!("{base}/inbox")).await.unwrap();
        wait_until_path(&c, "/inbox").await;
        live_ready(&c).await;
        c.switch_to_window(first.clone()).await.unwrap();
        live_ready(&c).await;
        let banner = c.find(Locator::Id("live-banner")).await.unwrap();
        assert!(!banner.is_displayed().await.unwrap(), "no banner at first");

        let t = Instant::now();
        let number = tokio::task::spawn_blocking({
            let title = title.clone();
            move || register_and_dispatch(port, unit_id, "emergency", &title)
        })
        .await
        .unwrap();
        let dispatched_at = epoch_ms();
        let setup_took = t.elapsed();
        let item = wait_for_live_item(&c, &number).await;
        // When the page itself showed the banner (recorded by live_ready's
        // observer), against when the dispatch answered; same clock.
        let shown_at = c.execute("return window.__bannerAt", vec![]).await.unwrap();
        eprintln!(
            "e2e[emergency]: banner shown {} ms after the dispatch answered \
             (register + dispatch through the API took {setup_took:?})",
            shown_at.as_f64().unwrap_or(f64::NAN) - dispatched_at
        );
        assert!(banner.is_displayed().await.unwrap(), "the banner is shown");
        assert!(
            banner
                .attr("class")
                .await
                .unwrap()
                .unwrap_or_default()
                .contains("alarm"),
            "the banner is in alarm style"
        );
        let text = item.text().await.unwrap();
        assert!(
            text.contains("紧急"),
            "the banner says it is an emergency: {text:?}"
        );
        assert!(
            text.contains(&title),
            "the banner shows the title: {text:?}"
        );
        assert_not_reloaded(&c, "/inbox").await;
        shot(&c, &art, "emergency-1-banner").await;

        // The other tab heard it too.
        c.switch_to_window(second.clone()).await.unwrap();
        wait_for_live_item(&c, &number).await;
        assert_not_reloaded(&c, "/inbox").await;
        c.switch_to_window(first.clone()).await.unwrap();

        // The link in the banner opens the ticket; sign for it there.
        item.find(Locator::Css("a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_until_path(&c, &format!("/tickets/{number}")).await;
        wait_for_state(&c, "待签收").await;
        let appeal = text_of(&c, "dl.fields").await.unwrap_or_default();
        assert!(
            appeal.contains("抢险"),
            "the ticket is an emergency repair: {appeal}"
        );
        shot(&c, &art, "emergency-2-ticket-top").await;
        scroll_to(&c, "#actions").await;
        shot(&c, &art, "emergency-3-ticket-actions").await;
        c.find(Locator::Id("act-sign-for"))
            .await
            .expect("a sign-for button")
            .click()
            .await
            .unwrap();
        wait_for_state(&c, "办理中").await;

        // The inbox left open in the other tab drops the alarm by itself.
        c.switch_to_window(second).await.unwrap();
        let deadline = Instant::now() + LIVE_WAIT;
        loop {
            let shown = c
                .find(Locator::Id("live-banner"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap();
            if !shown {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the alarm is still up in the other tab {LIVE_WAIT:?} after signing for: {:?}",
                text_of(&c, "#live-banner").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_not_reloaded(&c, "/inbox").await;
        shot(&c, &art, "emergency-4-other-tab-cleared").await;
    });
}

// ---------------------------------------------------------------------------
// Helpers for these tests

/// Waits until the page's heading shows the ticket in `label` (待签收…),
/// which also waits out the navigation after a form post.
async fn wait_for_state(c: &Client, label: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(s) = text_of(c, "#ticket-number .state").await
            && s.trim() == label
        {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "the ticket never showed state {label:?}; at {:?}, the page says {:?}",
                c.current_url().await.map(|u| u.to_string()),
                text_of(c, "main").await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_until_path(c: &Client, path: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let u = c.current_url().await.unwrap();
        if u.path() == path {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never got to {path} in {WAIT:?}; still at {u}: {:?}",
            text_of(c, "main").await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logs out with the button in the page header.
async fn logout(c: &Client) {
    c.find(Locator::Css("header form[action='/logout'] button"))
        .await
        .expect("a log-out button in the header")
        .click()
        .await
        .unwrap();
    wait_until_path(c, "/login").await;
}

async fn scroll_to(c: &Client, css: &str) {
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'start'})",
        vec![json!(css)],
    )
    .await
    .unwrap();
}

/// The timeline as (action from the `ev-<action>` class, actor, text).
async fn timeline(c: &Client) -> Vec<(String, String, String)> {
    let mut out = vec![];
    for li in c.find_all(Locator::Css("#timeline li")).await.unwrap() {
        let ev = li.find(Locator::Css("span.ev")).await.unwrap();
        let class = ev.attr("class").await.unwrap().unwrap_or_default();
        let action = class
            .split_whitespace()
            .find_map(|c| c.strip_prefix("ev-"))
            .unwrap_or_default()
            .to_string();
        let actor = li
            .find(Locator::Css("b"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        out.push((action, actor, li.text().await.unwrap()));
    }
    out
}

/// Marks the page (to tell later that it was not reloaded), notes in
/// `window.__bannerAt` when the live banner first shows, and waits until
/// its live connection is up: a probe EventSource to /events opens after the
/// page's own, which app.js starts on DOMContentLoaded.
async fn live_ready(c: &Client) {
    c.execute(
        r#"window.__marker = 1;
           const b = document.getElementById("live-banner");
           new MutationObserver(() => {
             if (!b.hidden && !window.__bannerAt) window.__bannerAt = Date.now();
           }).observe(b, {attributes: true, childList: true});"#,
        vec![],
    )
    .await
    .unwrap();
    let r = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const until = () => document.readyState === "complete"
                 ? (() => { const es = new EventSource("/events");
                            es.onopen = () => { es.close(); done("open"); };
                            es.onerror = () => { es.close(); done("error"); }; })()
                 : setTimeout(until, 20);
               until();"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(r, json!("open"), "/events opens for the department user");
}

async fn assert_not_reloaded(c: &Client, path: &str) {
    assert_eq!(c.current_url().await.unwrap().path(), path);
    let marker = c.execute("return window.__marker", vec![]).await.unwrap();
    assert_eq!(marker, json!(1), "the page was not reloaded");
}

/// Waits (at most `LIVE_WAIT`) for the emergency item about `number` in the
/// live banner.
async fn wait_for_live_item(c: &Client, number: &str) -> Element {
    let deadline = Instant::now() + LIVE_WAIT;
    loop {
        for item in c
            .find_all(Locator::Css("#live-banner .live-item.emergency"))
            .await
            .unwrap()
        {
            if item.text().await.unwrap_or_default().contains(number)
                && item.is_displayed().await.unwrap_or(false)
            {
                return item;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no emergency about {number} in the live banner within {LIVE_WAIT:?}; banner: {:?}",
            c.find(Locator::Id("live-banner"))
                .await
                .unwrap()
                .html(false)
                .await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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

/// Milliseconds since the epoch, comparable with `Date.now()` in the page.
fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
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
    /// The server's port, for setup through the API.
    port: u16,
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

// ---------------------------------------------------------------------------
// Setup through the JSON API

/// A logged-in API session (cookie and CSRF token).
struct Api {
    port: u16,
    cookie: String,
    csrf: String,
}

impl Api {
    fn login(port: u16, user: &str, password: &str) -> Api {
        let body = json!({"username": user, "password": password}).to_string();
        let r =
            http(port, "POST", "/api/v1/session", &[], Some(&body)).expect("POST /api/v1/session");
        assert_eq!(r.status, 200, "login as {user}: {}", r.body);
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
        Api { port, cookie, csrf }
    }

    /// POSTs JSON and returns the answer, which must be a success.
    fn post(&self, path: &str, body: Value) -> Value {
        let auth = [
            ("Cookie", self.cookie.as_str()),
            ("X-CSRF-Token", self.csrf.as_str()),
        ];
        let r = http(self.port, "POST", path, &auth, Some(&body.to_string()))
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        assert!(
            (200..300).contains(&r.status),
            "POST {path} {body}: {} {}",
            r.status,
            r.body
        );
        serde_json::from_str(&r.body).unwrap_or(Value::Null)
    }
}

/// Creates the unit 市水务集团, the categories 01 供水 / 0101 停水 (default
/// unit 市水务集团) and the users; returns the unit's id.
fn setup_data(port: u16) -> u64 {
    let admin = Api::login(port, ADMIN.0, ADMIN.1);
    let unit = admin.post("/api/v1/units", json!({"name": UNIT, "parent_id": null}));
    let unit_id = unit["id"].as_u64().expect("the new unit's id");
    admin.post(
        "/api/v1/categories",
        json!({"code": "01", "name": "供水", "default_unit_id": unit_id}),
    );
    admin.post(
        "/api/v1/categories",
        json!({"code": "0101", "name": "停水", "parent_code": "01", "default_unit_id": unit_id}),
    );
    for (user, password, name, role) in [HANDLER, REVIEWER, CALLBACK, DISPATCHER, OPERATOR] {
        let unit = (role == "department_handler").then_some(unit_id);
        admin.post(
            "/api/v1/users",
            json!({"username": user, "password": password, "display_name": name,
                   "roles": [role], "unit_id": unit}),
        );
    }
    unit_id
}

/// Registers a ticket as the operator and dispatches it to the unit as the
/// dispatcher; returns its number.
fn register_and_dispatch(port: u16, unit_id: u64, appeal_type: &str, title: &str) -> String {
    let op = Api::login(port, OPERATOR.0, OPERATOR.1);
    let t = op.post(
        "/api/v1/tickets",
        json!({
            "caller_phone": PHONE,
            "caller_name": "王先生",
            "appeal_type": appeal_type,
            "category_code": "0101",
            "district": "市南区",
            "address": "福州路12号",
            "title": title,
            "content": format!("端到端测试：{title}。"),
        }),
    );
    let number = t["number"]
        .as_str()
        .expect("the new ticket's number")
        .to_string();
    assert!(is_ticket_number(&number), "{number:?}");
    assert_eq!(t["state"], "pending_dispatch", "{t}");
    let disp = Api::login(port, DISPATCHER.0, DISPATCHER.1);
    let t = disp.post(
        &format!("/api/v1/tickets/{number}/actions/dispatch"),
        json!({"unit_id": unit_id}),
    );
    assert_eq!(t["state"], "awaiting_sign_for", "{t}");
    number
}
