//! Live notices in headless Chromium with the back/forward cache ON (the
//! default; nothing here passes `--disable-features=BackForwardCache`):
//!
//! - 40 navigations in a row across the ticket list, case files, inbox
//!   tabs, queues and the dashboard, with `history.back()` among them:
//!   each completes in under 2 s (pages kept in the cache used to keep
//!   their `/events` streams and exhaust Chromium's six connections per
//!   host), and the server holds at most one stream of each kind after;
//! - ten tabs at once share one `/events` connection and all receive a
//!   live event triggered through the API;
//! - on the intake page a ticket event leaves the knowledge-base answers
//!   and Alt+1 alone;
//! - emergency alarms (`domain::alarm`): the operator gets a quiet count
//!   and no beep, the parent unit the banner and beeps, the team lead the
//!   banner once the response time is over (dev clock), the wallboard
//!   shows the escalation, and the lead's acknowledgement is in the
//!   timeline and silences the center.
//!
//! The server's count of open streams comes from its log (target
//! `hotline::live`, debug). Screenshots go to `target/screenshots/`
//! (`live-*.png`), logs to `tests/e2e-artifacts/`. Needs `chromium` and
//! `chromedriver`; without them the tests print a warning and pass,
//! unless `CI` is set.

#[path = "support/browser.rs"]
mod browser;
use browser::*;
use std::fs;
use std::panic::resume_unwind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("admin", "admin-pass-1");
const PASSWORD: &str = "password-1";
const WAIT: Duration = Duration::from_secs(20);
/// The budget of one navigation.
const FAST: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------
// 1. Forty navigations with the back/forward cache on

#[test]
fn forty_navigations_with_the_back_forward_cache_stay_fast() {
    forty_navigations("live-nav", false);
}

/// The same where SharedWorker is missing: one hub per page, which must
/// let go of its stream before the page is frozen.
#[test]
fn forty_navigations_without_shared_worker_stay_fast() {
    forty_navigations("live-nav-page", true);
}

fn forty_navigations(name: &'static str, no_worker: bool) {
    let Some(env) = Env::start(name) else {
        return;
    };
    let log = env.log.clone();
    let d = env.data.clone();
    env.browse(move |c, base| async move {
        c.goto(&format!("{base}/login")).await.unwrap();
        if no_worker {
            c.execute("localStorage.setItem('hotline.live.noWorker', '1');", vec![])
                .await
                .unwrap();
        }
        login(&c, &base, "dept").await;
        let mode = c
            .execute("return document.body.dataset.liveMode;", vec![])
            .await
            .unwrap();
        assert_eq!(mode, if no_worker { "page" } else { "shared" });
        let t = |i: usize| format!("/tickets/{}", d.tickets[i]);
        let mut steps: Vec<Option<String>> = vec![];
        let mut add = |s: &[&str]| {
            for x in s {
                steps.push(if *x == "back" { None } else { Some(x.to_string()) });
            }
        };
        let (t0, t1, t2) = (t(0), t(1), t(2));
        add(&["/tickets", &t0, "back", "/inbox", "/inbox?tab=in_progress"]);
        add(&["/inbox?tab=approval", "/inbox?tab=due_today", "back"]);
        add(&["/inbox?tab=overdue", "/inbox?tab=returned", "/dashboard", "back"]);
        add(&[&t1, "/tickets", "back", "/dashboard", "/inbox", "back", "back", &t2]);
        let dept_steps = std::mem::take(&mut steps);
        let mut timings = vec![];
        let mut restored = 0;
        restored += walk(&c, &base, &dept_steps, &mut timings).await;

        // The team lead, in the same browser (the department user's pages
        // are still in the cache).
        c.delete_all_cookies().await.unwrap();
        login(&c, &base, "lead").await;
        let mut steps: Vec<Option<String>> = vec![];
        let mut add = |s: &[&str]| {
            for x in s {
                steps.push(if *x == "back" { None } else { Some(x.to_string()) });
            }
        };
        add(&["/queues", "/tickets", &t0, "back", "/dashboard", "back", "/queues"]);
        add(&[&t1, "back", "back", "/dashboard", "/tickets", "/queues", "back"]);
        add(&[&t2, "/dashboard", "back", "back", "/queues", "/tickets"]);
        restored += walk(&c, &base, &steps, &mut timings).await;

        assert_eq!(timings.len(), 40, "forty navigations");
        let slowest = timings.iter().max_by_key(|(_, d)| *d).unwrap().clone();
        let mut sorted: Vec<Duration> = timings.iter().map(|(_, d)| *d).collect();
        sorted.sort();
        eprintln!(
            "e2e[live]: 40 navigations, median {:?}, slowest {:?} ({}), {restored} restored from the back/forward cache",
            sorted[20], slowest.1, slowest.0
        );
        for (what, took) in &timings {
            assert!(*took < FAST, "{what} took {took:?} (budget {FAST:?})");
        }
        assert!(
            restored >= 3,
            "the back/forward cache is on: pages came back from it ({restored})"
        );
        // The server holds no stream of a page that left: at most the
        // current page's.
        let (events, dashboard) = settle(&log, |e, d| e <= 1 && d == 0).await;
        assert!(
            events <= 1 && dashboard == 0,
            "open streams after the walk: /events {events}, /events/dashboard {dashboard}"
        );
    });
}

/// Goes through `steps` (a path, or `None` for history.back()), timing
/// each; returns how many back navigations restored a page from the cache.
async fn walk(
    c: &Client,
    base: &str,
    steps: &[Option<String>],
    timings: &mut Vec<(String, Duration)>,
) -> usize {
    let mut restored = 0;
    for (i, step) in steps.iter().enumerate() {
        // A mark that survives only if the page itself is kept.
        c.execute("window.__e2eMark = arguments[0];", vec![json!(i)])
            .await
            .unwrap();
        let started = Instant::now();
        let what = match step {
            Some(p) => {
                c.goto(&format!("{base}{p}")).await.unwrap();
                p.clone()
            }
            None => {
                c.back().await.unwrap();
                "history.back()".to_string()
            }
        };
        wait_complete(c).await;
        let took = started.elapsed();
        let url = c.current_url().await.unwrap();
        let mark = c
            .execute(
                "return window.__e2eMark === undefined ? null : window.__e2eMark;",
                vec![],
            )
            .await
            .unwrap();
        if step.is_none() && !mark.is_null() {
            restored += 1;
        }
        // The page is a real page of the program, not an error.
        let title = c.title().await.unwrap_or_default();
        assert!(
            title.contains("12345") || title.contains("热线") || title.contains("Hotline"),
            "{what}: {url} shows {title:?}"
        );
        eprintln!("e2e[live]: {what} → {} in {took:?}", url.path());
        timings.push((format!("{what} ({})", url.path()), took));
    }
    restored
}

async fn wait_complete(c: &Client) {
    let deadline = Instant::now() + WAIT;
    loop {
        let s = c
            .execute("return document.readyState;", vec![])
            .await
            .unwrap();
        if s == "complete" {
            return;
        }
        assert!(Instant::now() < deadline, "page never completed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A browser that goes away without closing its stream (a killed tab):
/// the server releases the stream and its broadcast receiver promptly
/// (hyper sees the closed socket; a connection that vanishes without a
/// FIN fails at the next keep-alive comment, every 10 s).
#[test]
fn a_dropped_connection_is_released_promptly() {
    use std::io::{Read, Write};
    let Some(env) = Env::start("live-drop") else {
        return;
    };
    let who = session(env.port, "dept", PASSWORD);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", env.port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        s,
        "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {}\r\nAccept: text/event-stream\r\n\r\n",
        who.0
    )
    .unwrap();
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");
    let deadline = Instant::now() + WAIT;
    while open_streams(&env.log).0 != 1 {
        assert!(Instant::now() < deadline, "the stream never counted");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Gone without a word: shut the socket down (RST on close).
    let closed = Instant::now();
    s.shutdown(std::net::Shutdown::Both).unwrap();
    drop(s);
    while open_streams(&env.log).0 != 0 {
        assert!(
            closed.elapsed() < Duration::from_secs(13),
            "the server still holds the dropped stream after {:?}",
            closed.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "e2e[live]: a dropped /events connection was released after {:?}",
        closed.elapsed()
    );
}

// ---------------------------------------------------------------------------
// 2. Ten tabs, one stream

#[test]
fn ten_tabs_share_one_stream_and_all_receive_the_event() {
    let Some(env) = Env::start("live-tabs") else {
        return;
    };
    let log = env.log.clone();
    let d = env.data.clone();
    let port = env.port;
    env.browse(move |c, base| async move {
        login(&c, &base, "dept").await;
        let pages = [
            "/inbox".to_string(),
            "/tickets".to_string(),
            format!("/tickets/{}", d.tickets[0]),
            "/inbox?tab=in_progress".to_string(),
            "/dashboard".to_string(),
            "/tickets".to_string(),
            format!("/tickets/{}", d.tickets[1]),
            "/inbox?tab=overdue".to_string(),
            "/inbox".to_string(),
            "/tickets".to_string(),
        ];
        let mut handles = vec![c.window().await.unwrap()];
        c.goto(&format!("{base}{}", pages[0])).await.unwrap();
        for p in &pages[1..] {
            let w = c.new_window(true).await.unwrap();
            c.switch_to_window(w.handle.clone()).await.unwrap();
            c.goto(&format!("{base}{p}")).await.unwrap();
            handles.push(w.handle);
        }
        assert_eq!(c.windows().await.unwrap().len(), 10, "ten tabs open");
        for h in &handles {
            c.switch_to_window(h.clone()).await.unwrap();
            let mode = c
                .execute("return document.body.dataset.liveMode || '';", vec![])
                .await
                .unwrap();
            assert_eq!(mode, "shared", "every tab uses the shared worker");
        }
        let (events, dashboard) = settle(&log, |e, d| e == 1 && d == 1).await;
        eprintln!("e2e[live]: ten tabs: /events {events}, /events/dashboard {dashboard}");
        assert_eq!(events, 1, "ten tabs, one /events connection");
        assert_eq!(dashboard, 1, "one /events/dashboard for the dashboard tab");

        // A new ticket for the unit, through the API.
        let no = register(port, &d, "normal", "香港中路水管漏水");
        dispatch(port, &d, &no, d.unit_a);
        for (i, h) in handles.iter().enumerate() {
            c.switch_to_window(h.clone()).await.unwrap();
            let deadline = Instant::now() + WAIT;
            loop {
                let t = text_of(&c, "#live-banner").await.unwrap_or_default();
                if t.contains(&no) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "tab {i} ({}) never showed {no}: {t:?}",
                    pages[i]
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let (events, _) = open_streams(&log);
        assert_eq!(events, 1, "still one /events connection");
        c.switch_to_window(handles[0].clone()).await.unwrap();
        shot(&c, "live-ten-tabs").await;
    });
}

// ---------------------------------------------------------------------------
// 3. Intake: a ticket event leaves the knowledge-base answers alone

#[test]
fn intake_keeps_answers_and_alt_1_when_a_ticket_event_arrives() {
    let Some(env) = Env::start("live-intake") else {
        return;
    };
    let d = env.data.clone();
    let port = env.port;
    env.browse(move |c, base| async move {
        login(&c, &base, "op").await;
        c.goto(&format!("{base}/tickets/new")).await.unwrap();
        c.wait()
            .at_most(WAIT)
            .for_element(Locator::Id("content"))
            .await
            .expect("the intake form")
            .click()
            .await
            .unwrap();
        c.execute(
            "window.__e2eTickets = []; document.addEventListener('hotline:ticket', function (e) { window.__e2eTickets.push(e.detail.number); });",
            vec![],
        )
        .await
        .unwrap();
        typ(&c, "社保卡丢了怎么补办").await;
        let first = "#kb-suggest li[data-i='0'] .kb-title";
        let hit = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(first))
            .await
            .expect("an answer beside the form");
        assert_eq!(hit.text().await.unwrap(), "社会保障卡补办流程");

        // Another operator saves a ticket and a dispatcher dispatches an
        // emergency: live events reach this page.
        let no = register(port, &d, "normal", "小区停水");
        let em = register(port, &d, "emergency", "主水管爆裂");
        dispatch(port, &d, &em, d.unit_a3);
        let deadline = Instant::now() + WAIT;
        loop {
            let got = c
                .execute("return window.__e2eTickets;", vec![])
                .await
                .unwrap();
            let got: Vec<String> = serde_json::from_value(got).unwrap_or_default();
            if got.contains(&no) && got.contains(&em) {
                break;
            }
            assert!(Instant::now() < deadline, "the live events never arrived: {got:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let still = text_of(&c, first).await;
        assert_eq!(
            still.as_deref(),
            Some("社会保障卡补办流程"),
            "the answers are still there"
        );
        let kb = text_of(&c, "#kb-suggest").await.unwrap_or_default();
        assert!(!kb.contains("没有找到"), "not wiped: {kb:?}");
        typ(&c, &format!("{}1", &*Key::Alt)).await;
        let answer = c
            .execute("return document.getElementById('answer').value;", vec![])
            .await
            .unwrap();
        assert!(
            answer.as_str().unwrap_or("").starts_with("社会保障卡遗失的"),
            "Alt+1 still inserts: {answer:?}"
        );
        // The operator cannot sign for the emergency: a quiet count, no banner.
        let banner_hidden = c
            .execute("return document.getElementById('live-banner').hidden;", vec![])
            .await
            .unwrap();
        assert_eq!(banner_hidden, json!(true), "no red banner for the operator");
        let quiet = visible_text(&c, "#live-quiet").await;
        assert_eq!(quiet.as_deref(), Some("紧急待签收 1"), "the quiet count");
        shot(&c, "live-intake").await;
    });
}

// ---------------------------------------------------------------------------
// 4. Alarms only where someone can act; escalation; acknowledgement

#[test]
fn alarms_beep_where_someone_can_act_and_escalate_to_the_lead() {
    let Some(env) = Env::start("live-alarm") else {
        return;
    };
    let d = env.data.clone();
    let port = env.port;
    env.browse(move |c, base| async move {
        let em = register(port, &d, "emergency", "燃气管道泄漏");
        dispatch(port, &d, &em, d.unit_a3);

        // The operator: a quiet count, no banner, no beep.
        login(&c, &base, "op").await;
        c.goto(&format!("{base}/tickets")).await.unwrap();
        hook_audio(&c).await;
        wait_text(&c, "#live-quiet", "紧急待签收 1").await;
        assert!(banner_hidden(&c).await, "no banner for the operator");
        tokio::time::sleep(Duration::from_millis(5600)).await;
        assert_eq!(beeps(&c).await, 0, "the operator hears nothing");
        c.find(Locator::Id("live-quiet"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_text(&c, "#live-quiet-list", &em).await;
        shot(&c, "live-quiet-count").await;

        // The parent unit of the level-3 unit that must sign for it: the
        // banner and the beep.
        relogin(&c, &base, "dept").await;
        c.goto(&format!("{base}/inbox")).await.unwrap();
        hook_audio(&c).await;
        wait_text(&c, "#live-banner", &em).await;
        assert!(!banner_hidden(&c).await);
        let deadline = Instant::now() + Duration::from_secs(12);
        while beeps(&c).await == 0 {
            assert!(Instant::now() < deadline, "the unit's page never beeped");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        shot(&c, "live-banner-unit").await;
        // A unit elsewhere sees nothing at all.
        relogin(&c, &base, "deptb").await;
        c.goto(&format!("{base}/inbox")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(banner_hidden(&c).await, "another unit: no banner");
        assert_eq!(visible_text(&c, "#live-quiet").await, None, "and no count");

        // The team lead: quiet until the response time (1 h) is over …
        relogin(&c, &base, "lead").await;
        c.goto(&format!("{base}/tickets")).await.unwrap();
        hook_audio(&c).await;
        wait_text(&c, "#live-quiet", "紧急待签收 1").await;
        assert!(banner_hidden(&c).await, "not escalated yet");
        // … then the banner and the beep.
        let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2);
        call(
            port,
            &d.admin,
            "POST",
            "/api/v1/dev/clock",
            &json!({"now": later.to_string()}).to_string(),
            200,
        );
        wait_text(&c, "#live-banner", &em).await;
        wait_text(&c, "#live-banner", "已超时升级").await;
        let before = beeps(&c).await;
        let deadline = Instant::now() + Duration::from_secs(12);
        while beeps(&c).await == before {
            assert!(Instant::now() < deadline, "the lead's page never beeped");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        shot(&c, "live-banner-lead-escalated").await;

        // The leaders' wallboard marks it (at 1920×1080, like the TV).
        c.set_window_size(1920, 1080).await.unwrap();
        c.goto(&format!("{base}/dashboard/wall")).await.unwrap();
        wait_text(
            &c,
            "[data-rows='emergencies'] tr.escalated td.alarm",
            "已超时升级",
        )
        .await;
        shot(&c, "live-wall-escalated").await;
        c.set_window_size(1366, 768).await.unwrap();

        // The lead acknowledges it for the center: in the timeline.
        c.goto(&format!("{base}/tickets/{em}")).await.unwrap();
        c.find(Locator::Css("#form-ack-alarm input[name=reason]"))
            .await
            .expect("the acknowledge form")
            .send_keys("已电话联系城区供水所")
            .await
            .unwrap();
        c.find(Locator::Id("act-ack-alarm"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_text(&c, "body", "班长确认紧急告警").await;
        wait_text(&c, "body", "已电话联系城区供水所").await;
        assert!(
            c.find(Locator::Id("act-ack-alarm")).await.is_err(),
            "acknowledged once"
        );
        let deadline = Instant::now() + WAIT;
        while !banner_hidden(&c).await {
            assert!(Instant::now() < deadline, "the lead's banner stays");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        c.execute(
            "document.getElementById('timeline').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
        shot(&c, "live-timeline-ack").await;
        let audit = call(
            port,
            &d.admin,
            "GET",
            "/api/v1/admin/audit?limit=50",
            "",
            200,
        );
        assert!(
            audit.to_string().contains("alarm.acknowledge"),
            "the acknowledgement is audited: {audit}"
        );

        // The center no longer counts it; the unit is still alarmed.
        relogin(&c, &base, "op").await;
        c.goto(&format!("{base}/tickets")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(visible_text(&c, "#live-quiet").await, None, "acknowledged");
        relogin(&c, &base, "dept3").await;
        c.goto(&format!("{base}/inbox")).await.unwrap();
        wait_text(&c, "#live-banner", &em).await;
        c.goto(&format!("{base}/dashboard/wall")).await.ok();
    });
}

async fn hook_audio(c: &Client) {
    // Count oscillator starts (each beep starts one), then make the user
    // gesture that lets the page create its AudioContext.
    c.execute(
        "window.__e2eBeeps = 0; var s = OscillatorNode.prototype.start; \
         OscillatorNode.prototype.start = function () { window.__e2eBeeps++; return s.apply(this, arguments); };",
        vec![],
    )
    .await
    .unwrap();
    typ(c, "x").await;
}

async fn beeps(c: &Client) -> u64 {
    c.execute("return window.__e2eBeeps || 0;", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(0)
}

async fn banner_hidden(c: &Client) -> bool {
    c.execute(
        "return document.getElementById('live-banner').hidden;",
        vec![],
    )
    .await
    .unwrap()
    .as_bool()
    .unwrap_or(false)
}

async fn visible_text(c: &Client, css: &str) -> Option<String> {
    let v = c
        .execute(
            "var e = document.querySelector(arguments[0]); return e && !e.hidden ? e.textContent.replace(/\\s+/g, ' ').trim() : null;",
            vec![json!(css)],
        )
        .await
        .unwrap();
    v.as_str().map(String::from)
}

async fn wait_text(c: &Client, css: &str, want: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let t = visible_text(c, css).await.unwrap_or_default();
        if t.contains(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never showed {want:?}: {t:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------
// Helpers

async fn shot(c: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("screenshots");
    fs::create_dir_all(&dir).unwrap();
    let png = c.screenshot().await.expect("screenshot");
    let path = dir.join(format!("{name}.png"));
    fs::write(&path, png).unwrap();
    eprintln!("e2e[live]: screenshot {}", path.display());
}

async fn text_of(c: &Client, css: &str) -> Option<String> {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.ok(),
        Err(_) => None,
    }
}

async fn typ(c: &Client, keys: &str) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
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

async fn relogin(c: &Client, base: &str, user: &str) {
    c.delete_all_cookies().await.unwrap();
    login(c, base, user).await;
}

/// The open streams the server last logged: (`/events`, `/events/dashboard`).
fn open_streams(log: &Path) -> (usize, usize) {
    let raw = fs::read_to_string(log).unwrap_or_default();
    // Strip colour codes.
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(ch) = chars.next() {
        if ch == '\u{1b}' {
            for x in chars.by_ref() {
                if x.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            text.push(ch);
        }
    }
    let field = |line: &str, name: &str| -> Option<usize> {
        let i = line.find(&format!("{name}="))?;
        line[i + name.len() + 1..]
            .split(|ch: char| !ch.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    text.lines()
        .rev()
        .find(|l| l.contains("live stream"))
        .and_then(|l| Some((field(l, "events")?, field(l, "dashboard")?)))
        .unwrap_or((0, 0))
}

/// Waits (up to 15 s: a dropped connection is noticed at the next
/// keep-alive, every 10 s) until the counts satisfy `ok`; returns them.
async fn settle(log: &Path, ok: impl Fn(usize, usize) -> bool) -> (usize, usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (e, d) = open_streams(log);
        if ok(e, d) || Instant::now() > deadline {
            return (e, d);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------------------
// Data set up through the API

#[derive(Clone)]
struct Data {
    admin: (String, String),
    op: (String, String),
    disp: (String, String),
    /// 区水务局 (level 2) and its 城区供水所 (level 3), 区燃气公司.
    unit_a: u64,
    unit_a3: u64,
    tickets: Vec<String>,
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
    let body = (method != "GET").then_some(body);
    let r =
        http(port, method, path, &auth, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert_eq!(r.status, status, "{method} {path} {body:?}: {}", r.body);
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

fn register(port: u16, d: &Data, kind: &str, title: &str) -> String {
    let (appeal, urgency) = if kind == "emergency" {
        ("emergency", "emergency")
    } else {
        ("complaint", "normal")
    };
    let body = json!({"caller_phone":"13812345678","caller_name":"张三","channel":"phone","appeal_type":appeal,
        "category_code":"01","district":"市南区","street":"八大关街道","address":"某路1号",
        "title":title,"content":format!("{title}，请尽快处理。"),"urgency":urgency});
    call(
        port,
        &d.op,
        "POST",
        "/api/v1/tickets",
        &body.to_string(),
        201,
    )["number"]
        .as_str()
        .unwrap()
        .to_string()
}

fn dispatch(port: u16, d: &Data, no: &str, unit: u64) {
    call(
        port,
        &d.disp,
        "POST",
        &format!("/api/v1/tickets/{no}/actions/dispatch"),
        &json!({"unit_id": unit}).to_string(),
        200,
    );
}

fn setup_data(port: u16) -> Data {
    let admin = session(port, ADMIN.0, ADMIN.1);
    let unit = |name: &str, parent: Option<u64>| {
        call(
            port,
            &admin,
            "POST",
            "/api/v1/units",
            &json!({"name": name, "parent_id": parent}).to_string(),
            201,
        )["id"]
            .as_u64()
            .unwrap()
    };
    let a = unit("区水务局", None);
    let a3 = unit("城区供水所", Some(a));
    let b = unit("区燃气公司", None);
    call(
        port,
        &admin,
        "POST",
        "/api/v1/categories",
        &json!({"code":"01","name":"供水","parent_code":null,"default_unit_id":a}).to_string(),
        201,
    );
    for (u, roles, unit) in [
        ("op", json!(["operator"]), None),
        ("disp", json!(["dispatcher"]), None),
        ("lead", json!(["team_lead"]), None),
        ("leader", json!(["leader"]), None),
        ("dept", json!(["department_handler"]), Some(a)),
        ("dept3", json!(["department_handler"]), Some(a3)),
        ("deptb", json!(["department_handler"]), Some(b)),
    ] {
        call(port, &admin, "POST", "/api/v1/users",
            &json!({"username":u,"password":PASSWORD,"display_name":format!("用户{u}"),"roles":roles,"unit_id":unit}).to_string(), 201);
    }
    call(port, &admin, "POST", "/api/v1/kb/articles",
        &json!({"title": "社会保障卡补办流程", "category": "社会保障/社保卡",
                "body": "社会保障卡遗失的，先挂失，再持身份证到社保卡合作银行网点或区政务服务中心人社窗口补卡。",
                "keywords": ["社保卡", "补办", "补卡", "遗失"], "publish": true}).to_string(), 201);
    let mut d = Data {
        op: session(port, "op", PASSWORD),
        disp: session(port, "disp", PASSWORD),
        admin,
        unit_a: a,
        unit_a3: a3,
        tickets: vec![],
    };
    for title in ["香港中路停水两天", "小区供水压力不足", "自来水发黄"] {
        let no = register(port, &d, "normal", title);
        dispatch(port, &d, &no, a);
        d.tickets.push(no);
    }
    d
}

// ---------------------------------------------------------------------------
// The environment: server (with the dev clock), data, chromedriver, browser

struct Env {
    name: &'static str,
    artifacts: PathBuf,
    base: String,
    port: u16,
    data: Data,
    log: PathBuf,
    driver_port: u16,
    chromium: PathBuf,
    // Fields drop in declaration order: the driver first, then its
    // profile, then the server, then the data.
    _driver: ChildGuard,
    profile: TempDir,
    _server: ChildGuard,
    _dir: TempDir,
}

impl Env {
    fn start(name: &'static str) -> Option<Env> {
        let (chromium, chromedriver) = browser_tools()?;
        let artifacts = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("e2e-artifacts");
        fs::create_dir_all(&artifacts).expect("creating tests/e2e-artifacts");
        let dir = TempDir::new(&format!("{name}-data"));
        let profile = TempDir::new(&format!("{name}-chrome"));
        let exe = env!("CARGO_BIN_EXE_hotline");
        let out = Command::new(exe)
            .args(["create-admin", "--data-dir"])
            .arg(&dir.0)
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
            "--dev-clock",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&dir.0)
        .env("HOTLINE_LOG", "warn,hotline::live=debug");
        let server = ChildGuard::spawn("hotline serve", cmd, &log, false);
        server.wait_healthz(port, WAIT);
        let data = setup_data(port);
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
            data,
            log,
            driver_port,
            chromium,
            _driver: driver,
            profile,
            _server: server,
            _dir: dir,
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
            // The back/forward cache stays ON: no --disable-features here.
            caps.insert(
                "goog:chromeOptions".into(),
                json!({
                    "binary": self.chromium,
                    "args": [
                        "--headless=new",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--hide-scrollbars",
                        "--autoplay-policy=user-gesture-required",
                        format!("--user-data-dir={}", self.profile.0.display()),
                        "--window-size=1366,768",
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
