//! The Content-Security-Policy holds in a real browser (issue 12.6): a
//! demo district served by `hotline serve`, headless Chromium opens the
//! main pages as an administrator, a team lead (intake) and a department
//! user, and the anonymous pages; no page may report a violation.
//!
//! Violations are caught twice: the policy's `report-uri` makes Chromium
//! post every violation to `/csp-report`, which the server logs (the log
//! is read at the end), and a `securitypolicyviolation` listener in each
//! page collects those that happen after load (scripts that change the
//! page). Besides, each page is checked for attributes the policy blocks.
//!
//! Needs `chromium` and `chromedriver`; without them the test prints a
//! warning and passes, unless `CI` is set (see tests/e2e.rs).

#[path = "support/browser.rs"]
mod browser;
use browser::*;
use std::fs;
use std::panic::resume_unwind;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use serde_json::{Value, json};

const PASSWORD: &str = "csp-pass-1";
/// Pages whose look the moved styles decide: saved to
/// `target/screenshots/csp-*.png` to be looked at.
const SHOTS: &[&str] = &[
    "/public",
    "/admin/calendar",
    "/admin/settings",
    "/dashboard/wall",
    "/tickets/20000101-000001",
];
const WAIT: Duration = Duration::from_secs(20);

const COLLECT: &str = r#"
window.__csp = window.__csp || [];
if (!window.__cspHooked) {
  window.__cspHooked = true;
  document.addEventListener("securitypolicyviolation", function (e) {
    window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
  });
}
return true;
"#;

/// Checks the page as the server sent it (scripts may set styles through
/// the CSSOM, which the policy allows, so the live DOM is not the measure).
const CHECK: &str = r#"
var bad = [];
var x = new XMLHttpRequest();
x.open("GET", location.href, false);
x.send();
var document = new DOMParser().parseFromString(x.responseText, "text/html");
document.querySelectorAll("[style]").forEach(function (e) { bad.push("style= on " + e.tagName); });
document.querySelectorAll("script:not([src])").forEach(function () { bad.push("inline script"); });
document.querySelectorAll("style").forEach(function () { bad.push("<style> element"); });
document.querySelectorAll("a[href^='javascript:']").forEach(function () { bad.push("javascript: link"); });
document.querySelectorAll("*").forEach(function (e) {
  for (var i = 0; i < e.attributes.length; i++) {
    if (/^on/.test(e.attributes[i].name)) bad.push(e.attributes[i].name + " on " + e.tagName);
  }
});
return bad.concat(window.__csp || []);
"#;

#[test]
fn main_pages_report_no_csp_violation() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("e2e-artifacts");
    fs::create_dir_all(&artifacts).unwrap();
    let data = TempDir::new("csp-data");
    let profile = TempDir::new("csp-chrome");
    let exe = env!("CARGO_BIN_EXE_hotline");
    let out = Command::new(exe)
        .args([
            "demo",
            "--tickets",
            "300",
            "--password",
            PASSWORD,
            "--data-dir",
        ])
        .arg(&data.0)
        .env("HOTLINE_LOG", "warn")
        .output()
        .expect("hotline demo");
    assert!(out.status.success(), "hotline demo: {out:?}");
    let port = free_port();
    let log = artifacts.join("csp-server.log");
    let mut cmd = Command::new(exe);
    cmd.args([
        "serve",
        "--no-browser",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
    ])
    .arg(&data.0)
    .env("HOTLINE_LOG", "warn");
    let server = ChildGuard::spawn("hotline serve", cmd, &log, false);
    server.wait_healthz(port, WAIT);
    // A probe report: proves that reports reach the log at this level.
    let probe = json!({"csp-report": {"document-uri": "csp-probe", "violated-directive": "probe"}});
    let r = http(port, "POST", "/csp-report", &[], Some(&probe.to_string())).unwrap();
    assert_eq!(r.status, 204);
    // A ticket and an article to open.
    let admin = session(port, "admin");
    let auth = [("Cookie", admin.as_str())];
    let tickets: Value = serde_json::from_str(
        &http(port, "GET", "/api/v1/tickets?limit=1", &auth, None)
            .unwrap()
            .body,
    )
    .unwrap();
    let ticket = tickets["items"][0]["number"].as_str().unwrap().to_string();
    let kb: Value = serde_json::from_str(
        &http(port, "GET", "/api/v1/kb/articles?limit=1", &auth, None)
            .unwrap()
            .body,
    )
    .unwrap();
    let article = kb["items"][0]["id"].as_u64().unwrap_or(1);

    let driver_port = free_port();
    let mut cmd = Command::new(&chromedriver);
    cmd.arg(format!("--port={driver_port}"));
    let _driver = ChildGuard::spawn(
        "chromedriver",
        cmd,
        &artifacts.join("csp-chromedriver.log"),
        true,
    );
    _driver.wait_driver(driver_port, WAIT);
    let base = format!("http://127.0.0.1:{port}");
    let pages: Vec<(&str, Vec<String>)> = vec![
        (
            "",
            vec!["/login".into(), "/public".into(), "/public/lookup".into()],
        ),
        (
            "admin",
            [
                "/tickets",
                &format!("/tickets/{ticket}"),
                "/dashboard",
                "/dashboard/wall",
                "/reports",
                "/reports/ranking",
                "/reports/weights",
                "/reports/bulletins",
                "/reports/districts",
                "/kb",
                &format!("/kb/{article}"),
                "/kb/new",
                "/admin/users",
                "/admin/units",
                "/admin/categories",
                "/admin/tokens",
                "/admin/settings",
                "/admin/calendar",
                "/admin/audit",
                "/admin/backup",
                "/admin/backup/restore",
                "/account/password",
                "/tickets/20000101-000001",
                "/no/such/page",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
        (
            "lead",
            vec![
                "/tickets/new".into(),
                "/queues".into(),
                format!("/tickets/{ticket}"),
            ],
        ),
        (
            "water",
            vec!["/inbox".into(), "/tickets".into(), "/kb".into()],
        ),
    ];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let profile_dir = profile.0.display().to_string();
    let outcome = rt.block_on(async move {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                format!("--user-data-dir={profile_dir}"), "--window-size=1400,1000"]}),
        );
        let c = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .expect("Chromium through chromedriver");
        let flow = tokio::spawn({
            let c = c.clone();
            async move {
                let mut found = vec![];
                for (user, paths) in pages {
                    c.delete_all_cookies().await.ok();
                    if !user.is_empty() {
                        c.goto(&format!("{base}/login")).await.unwrap();
                        let u = c
                            .wait()
                            .at_most(WAIT)
                            .for_element(Locator::Css("input[name=username]"))
                            .await
                            .unwrap();
                        u.send_keys(user).await.unwrap();
                        let p = c.find(Locator::Css("input[name=password]")).await.unwrap();
                        p.send_keys(&format!("{PASSWORD}\u{E007}")).await.unwrap();
                        let deadline = Instant::now() + WAIT;
                        while c.current_url().await.unwrap().path() == "/login" {
                            assert!(Instant::now() < deadline, "{user} still on /login");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                    for path in paths {
                        c.goto(&format!("{base}{path}")).await.unwrap();
                        c.execute(COLLECT, vec![]).await.unwrap();
                        // Scripts that fill the page (charts, live counts) run now.
                        tokio::time::sleep(Duration::from_millis(700)).await;
                        if SHOTS.contains(&path.as_str()) {
                            let name = path.trim_matches('/').replace('/', "-");
                            let dir =
                                Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
                            fs::create_dir_all(&dir).ok();
                            if let Ok(png) = c.screenshot().await {
                                fs::write(dir.join(format!("csp-{name}.png")), png).ok();
                            }
                        }
                        let bad = c.execute(CHECK, vec![]).await.unwrap();
                        for b in bad.as_array().cloned().unwrap_or_default() {
                            found.push(format!("{user} {path}: {}", b.as_str().unwrap_or("")));
                        }
                    }
                }
                found
            }
        });
        let r = flow.await;
        let _ = c.close().await;
        r
    });
    drop(rt);
    let found = match outcome {
        Ok(f) => f,
        Err(e) if e.is_panic() => resume_unwind(e.into_panic()),
        Err(e) => panic!("cancelled: {e}"),
    };
    // Reports travel on their own; give the last ones a moment.
    std::thread::sleep(Duration::from_millis(500));
    let server_log = fs::read_to_string(&log).unwrap_or_default();
    let reported: Vec<&str> = server_log
        .lines()
        .filter(|l| l.contains("content security policy violation"))
        .collect();
    assert_eq!(
        reported.iter().filter(|l| l.contains("csp-probe")).count(),
        1,
        "the probe report is logged: {server_log}"
    );
    let reported: Vec<&str> = reported
        .into_iter()
        .filter(|l| !l.contains("csp-probe"))
        .collect();
    drop(server);
    assert!(
        found.is_empty() && reported.is_empty(),
        "CSP violations in the pages:\n{}\nreported to the server:\n{}",
        found.join("\n"),
        reported.join("\n")
    );
    drop(data);
}

fn session(port: u16, user: &str) -> String {
    let body = json!({"username": user, "password": PASSWORD}).to_string();
    let r = http(port, "POST", "/api/v1/session", &[], Some(&body)).unwrap();
    assert_eq!(r.status, 200, "{user}: {}", r.body);
    r.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.split(';').next())
        .find(|c| c.starts_with("hotline_session="))
        .unwrap()
        .to_string()
}
