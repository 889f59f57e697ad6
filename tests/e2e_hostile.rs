//! Hostile text corpus (issue 12): XSS payloads written through the API
//! into every user-writable text field, then every page that shows them
//! opened in headless Chromium. A payload that runs either opens a dialog
//! (`alert`/`confirm`/`prompt`, which the driver reports) or bumps the
//! global counter `window.__xss`; after each page both must be nil.
//! A control page first proves that both detectors see an execution.
//!
//! Needs `chromium` and `chromedriver`, like the other e2e tests.

#[path = "support/browser.rs"]
mod browser;
use browser::*;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const PW: &str = "hostile-pass-1";
const WAIT: Duration = Duration::from_secs(20);
/// What a payload runs: bump the counter, then open a dialog.
const RUN: &str = "window.__xss=(window.__xss||0)+1";

/// The corpus: at least 50 payloads.
fn payloads() -> Vec<String> {
    let mut p: Vec<String> = vec![
        // script tags
        format!("<script>{RUN}</script>"),
        "<script>alert(1)</script>".into(),
        "<SCRIPT>confirm(1)</SCRIPT>".into(),
        "<script src=data:text/javascript,alert(1)></script>".into(),
        format!("</title><script>{RUN}</script>"),
        format!("</textarea><script>{RUN}</script>"),
        format!("</script><script>{RUN}</script>"),
        format!("<scr<script>ipt>{RUN}</scr</script>ipt>"),
        format!("<!--<script>{RUN}</script>-->"),
        format!("<![CDATA[<script>{RUN}</script>]]>"),
        // attribute breakouts
        format!("\"><img src=x onerror=\"{RUN}\">"),
        format!("'><img src=x onerror='{RUN}'>"),
        "\" onmouseover=\"alert(1)\" x=\"".into(),
        "' autofocus onfocus='alert(1)' x='".into(),
        format!("\" autofocus onfocus=\"{RUN}\" x=\""),
        format!("`><svg onload=`{RUN}`>"),
        "\"><input autofocus onfocus=prompt(1)>".into(),
        format!("x\" style=\"x:expression({RUN})"),
        // event handlers on many elements
        format!("<img src=x onerror={RUN}>"),
        format!("<body onload=\"{RUN}\">"),
        format!("<svg onload=\"{RUN}\">"),
        format!("<svg><script>{RUN}</script></svg>"),
        format!("<svg><animate onbegin=\"{RUN}\" attributeName=x dur=1s>"),
        format!("<details open ontoggle=\"{RUN}\">"),
        format!("<video><source onerror=\"{RUN}\"></video>"),
        format!("<audio src=x onerror=\"{RUN}\">"),
        format!("<iframe srcdoc=\"<script>parent.__xss=(parent.__xss||0)+1</script>\"></iframe>"),
        format!("<object data=\"javascript:{RUN}\"></object>"),
        format!("<embed src=\"javascript:{RUN}\">"),
        format!("<marquee onstart=\"{RUN}\">m</marquee>"),
        format!("<div onpointerover=\"{RUN}\">hover</div>"),
        format!("<math><mtext><table><mglyph><style><img src=x onerror=\"{RUN}\">"),
        format!("<noscript><p title=\"</noscript><img src=x onerror={RUN}>\">"),
        format!("<form><button formaction=javascript:{RUN}>x</button></form>"),
        format!("<meta http-equiv=\"refresh\" content=\"0;url=javascript:{RUN}\">"),
        format!("<link rel=import href=\"data:text/html,<script>{RUN}</script>\">"),
        format!("<base href=\"javascript:{RUN}//\">"),
        // javascript: URLs
        "javascript:alert(1)".into(),
        format!("javascript:{RUN}"),
        format!("<a href=\"javascript:{RUN}\">click</a>"),
        format!("<a href=\"jav&#x09;ascript:{RUN}\">click</a>"),
        format!("JaVaScRiPt:{RUN}"),
        format!("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
        // template injection
        "{{7*7}}{{constructor.constructor('alert(1)')()}}".into(),
        "${alert(1)}".into(),
        format!("{{{{ {RUN} }}}}"),
        "<%= 7*7 %>#{7*7}{% raw %}{{ 7*7 }}{% endraw %}".into(),
        format!("[[${{{RUN}}}]]"),
        format!("<div ng-app ng-csp>{{{{$on.constructor('{RUN}')()}}}}</div>"),
        // unicode tricks
        format!("＜script＞{RUN}＜/script＞"),
        format!("\u{202e}<script>{RUN}</script>"),
        format!("<scr\u{200b}ipt>{RUN}</scr\u{200b}ipt>"),
        format!("\u{FEFF}<img src=x onerror={RUN}>"),
        format!("<img src=x on\u{0000}error={RUN}>").replace('\u{0000}', ""),
        format!("%3Cscript%3E{RUN}%3C/script%3E"),
        format!("&lt;script&gt;{RUN}&lt;/script&gt;"),
        format!("\\u003cscript\\u003e{RUN}\\u003c/script\\u003e"),
        format!("<ſcript>{RUN}</ſcript>"),
        // JSON / JS-string breakouts for scripts that embed data
        format!("\";{RUN};//"),
        format!("';{RUN};//"),
        format!("</script><img src=x onerror={RUN}>"),
        format!("\\\";{RUN};//"),
    ];
    // very long strings
    p.push(format!("{}<img src=x onerror={RUN}>", "<".repeat(3000)));
    p.push(format!("{}\"><script>{RUN}</script>", "长".repeat(2000)));
    p
}

/// The corpus cut into pieces of at most `max` characters, several
/// payloads per piece.
fn chunks(ps: &[String], max: usize) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    for p in ps {
        let p: String = if p.chars().count() > max {
            p.chars().take(max).collect()
        } else {
            p.clone()
        };
        if !cur.is_empty() && cur.chars().count() + 1 + p.chars().count() > max {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&p);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

struct Srv {
    port: u16,
    admin: (String, String),
    op: (String, String),
    disp: (String, String),
}

impl Srv {
    fn call(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        self.call_as(&self.admin, method, path, body)
    }

    fn call_as(
        &self,
        who: &(String, String),
        method: &str,
        path: &str,
        body: &Value,
    ) -> (u16, Value) {
        let auth = [("Cookie", who.0.as_str()), ("X-CSRF-Token", who.1.as_str())];
        let b = body.to_string();
        let r = http(self.port, method, path, &auth, Some(&b))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        (
            r.status,
            serde_json::from_str(&r.body).unwrap_or(Value::Null),
        )
    }

    fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (s, v) = self.call(method, path, &body);
        assert!((200..300).contains(&s), "{method} {path} {body}: {s} {v}");
        v
    }
}

fn session(port: u16, user: &str) -> (String, String) {
    let body = json!({"username": user, "password": PW}).to_string();
    let r = http(port, "POST", "/api/v1/session", &[], Some(&body)).expect("login");
    assert_eq!(r.status, 200, "{user} login: {}", r.body);
    let cookie = r
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.split(';').next())
        .find(|c| c.starts_with("hotline_session="))
        .unwrap()
        .to_string();
    let csrf = serde_json::from_str::<Value>(&r.body).unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    (cookie, csrf)
}

/// Writes the corpus into every writable text field; returns the pages
/// that show them.
fn write_corpus(s: &Srv) -> Vec<String> {
    let ps = payloads();
    assert!(ps.len() >= 50, "{} payloads", ps.len());
    let mut pages: Vec<String> = vec![];
    let cats = s.ok("GET", "/api/v1/categories", json!(null));
    let cat = cats[0]["code"].as_str().unwrap().to_string();
    let units = s.ok("GET", "/api/v1/units", json!(null));
    let unit_id = units
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["level"] == 2)
        .unwrap()["id"]
        .as_u64()
        .unwrap();

    // Tickets: every text field of the intake, short fields in small
    // pieces, long ones with the whole corpus.
    let long = chunks(&ps, 4000);
    let short = chunks(&ps, 90);
    let mut numbers = vec![];
    for (i, body) in long.iter().enumerate() {
        let name = &short[i % short.len()];
        let (st, t) = s.call_as(
            &s.op,
            "POST",
            "/api/v1/tickets",
            &json!({
                "caller_phone": format!("1390000{:04}", i),
                "caller_name": name.chars().take(40).collect::<String>(),
                "channel": "phone", "appeal_type": "complaint", "category_code": cat,
                "district": short[(i + 1) % short.len()].chars().take(40).collect::<String>(),
                "street": short[(i + 2) % short.len()].chars().take(40).collect::<String>(),
                "community": short[(i + 3) % short.len()].chars().take(40).collect::<String>(),
                "address": short[(i + 4) % short.len()],
                "title": short[(i + 5) % short.len()].chars().take(60).collect::<String>(),
                "content": body,
            }),
        );
        // Free-text place fields may be checked against the district:
        // then the payloads go in the other fields only.
        let t = if (200..300).contains(&st) {
            t
        } else {
            let (st2, t2) = s.call_as(
                &s.op,
                "POST",
                "/api/v1/tickets",
                &json!({
                    "caller_phone": format!("1390000{:04}", i),
                    "caller_name": name.chars().take(40).collect::<String>(),
                    "channel": "phone", "appeal_type": "complaint", "category_code": cat,
                    "address": short[(i + 4) % short.len()],
                    "title": short[(i + 5) % short.len()].chars().take(60).collect::<String>(),
                    "content": body,
                }),
            );
            assert!((200..300).contains(&st2), "ticket: {st} {t} / {st2} {t2}");
            t2
        };
        let n = t["number"].as_str().unwrap().to_string();
        // Events: a dispatch with a note, then a return with a reason.
        let (st, v) = s.call_as(
            &s.disp,
            "POST",
            &format!("/api/v1/tickets/{n}/actions/dispatch"),
            &json!({"unit_id": unit_id, "reason": short[(i + 6) % short.len()], "comment": body}),
        );
        assert!((200..300).contains(&st), "dispatch: {st} {v}");
        numbers.push(n);
    }
    // A consultation answered at intake carries the corpus in `answer`.
    for (i, body) in long.iter().enumerate() {
        let (st, v) = s.call_as(
            &s.op,
            "POST",
            "/api/v1/tickets",
            &json!({
                "caller_phone": format!("1390001{:04}", i), "caller_name": "咨询人",
                "channel": "phone", "appeal_type": "consultation", "category_code": cat,
                "title": format!("咨询 {}", short[i % short.len()]).chars().take(60).collect::<String>(),
                "content": "问", "answer": body,
            }),
        );
        assert!((200..300).contains(&st), "consultation: {st} {v}");
    }
    for n in &numbers {
        pages.push(format!("/tickets/{n}"));
    }
    pages.push("/tickets".into());
    pages.push("/tickets?state=open".into());
    pages.push("/queues".into());
    pages.push("/tickets/new".into());

    // Knowledge base: published articles and a pending proposal.
    let arts = s.ok("GET", "/api/v1/kb/articles?limit=1", json!(null));
    let kb_cat = arts["items"][0]["category"].clone();
    for (i, body) in long.iter().enumerate() {
        let title = short[i % short.len()].chars().take(80).collect::<String>();
        let kw: Vec<String> = short
            .iter()
            .take(5)
            .map(|k| k.chars().take(30).collect())
            .collect();
        let (st, v) = s.call(
            "POST",
            "/api/v1/kb/articles",
            &json!({"kind": "faq", "title": title, "question": short[(i + 1) % short.len()],
                    "body": body, "category": kb_cat, "keywords": kw,
                    "note": short[(i + 2) % short.len()], "publish": true}),
        );
        assert!((200..300).contains(&st), "kb article: {st} {v}");
        if let Some(id) = v["article_id"].as_u64().or(v["published"]["id"].as_u64()) {
            pages.push(format!("/kb/{id}"));
        }
        if let Some(pid) = v["id"].as_u64() {
            pages.push(format!("/kb/proposals/{pid}"));
        }
    }
    let (st, v) = s.call(
        "POST",
        "/api/v1/kb/articles",
        &json!({"kind": "faq", "title": short[3].chars().take(80).collect::<String>(),
                "question": short[4], "body": long[0], "category": kb_cat, "note": short[5]}),
    );
    assert!((200..300).contains(&st), "kb proposal: {st} {v}");
    if let Some(pid) = v["id"].as_u64() {
        pages.push(format!("/kb/proposals/{pid}"));
    }
    pages.extend(
        [
            "/kb",
            "/kb/review",
            "/kb/unread",
            "/kb/summary",
            "/kb/expired",
            "/kb/acks",
            "/kb/missing",
            "/kb/synonyms",
        ]
        .map(String::from),
    );
    let words: Vec<String> = short
        .iter()
        .take(6)
        .map(|w| w.chars().take(20).collect())
        .collect();
    let (st, v) = s.call("PUT", "/api/v1/kb/synonyms", &json!({"groups": [words]}));
    assert!((200..300).contains(&st), "synonyms: {st} {v}");
    pages.push(format!(
        "/kb?q={}",
        urlencode(&short[0].chars().take(20).collect::<String>())
    ));

    // Units, categories, users, tokens.
    for (i, name) in short.iter().enumerate().take(12) {
        let name: String = name.chars().take(30).collect();
        let (st, v) = s.call(
            "POST",
            "/api/v1/units",
            &json!({"name": format!("{i}{name}")}),
        );
        assert!((200..300).contains(&st) || st == 422, "unit: {st} {v}");
        let (st, v) = s.call(
            "POST",
            "/api/v1/categories",
            &json!({"code": format!("{:02}", 80 + i), "name": format!("{i}{name}"), "default_unit_id": unit_id}),
        );
        assert!((200..300).contains(&st) || st == 422, "category: {st} {v}");
        let (st, v) = s.call(
            "POST",
            "/api/v1/users",
            &json!({"username": format!("xss{i}"), "password": PW, "display_name": format!("{i}{name}"),
                    "roles": ["operator"]}),
        );
        assert!((200..300).contains(&st) || st == 422, "user: {st} {v}");
        let admin_id = 1;
        let (st, v) = s.call(
            "POST",
            "/api/v1/tokens",
            &json!({"name": name, "user_id": admin_id}),
        );
        assert!((200..300).contains(&st) || st == 422, "token: {st} {v}");
    }
    pages.extend(
        [
            "/admin/units",
            "/admin/categories",
            "/admin/users",
            "/admin/tokens",
            "/admin/audit",
        ]
        .map(String::from),
    );

    // Settings and the calendar.
    let (st, v) = s.call(
        "PATCH",
        "/api/v1/settings",
        &json!({"center_name": short[0].chars().take(50).collect::<String>()}),
    );
    assert!((200..300).contains(&st), "settings: {st} {v}");
    let year = 2026;
    for (i, name) in short.iter().enumerate().take(6) {
        let (st, v) = s.call(
            "POST",
            &format!("/api/v1/calendar/{year}/days/{year}-03-{:02}", i + 2),
            &json!({"kind": "holiday", "name": name.chars().take(40).collect::<String>()}),
        );
        assert!((200..300).contains(&st) || st == 422, "calendar: {st} {v}");
    }
    pages.extend(["/admin/settings".into(), format!("/admin/calendar/{year}")]);

    // District boundaries whose names are payloads.
    let features: Vec<Value> = short
        .iter()
        .take(20)
        .enumerate()
        .map(|(i, n)| {
            let x = 120.0 + i as f64 * 0.01;
            json!({"type": "Feature", "properties": {"name": n.chars().take(60).collect::<String>()},
                   "geometry": {"type": "Polygon", "coordinates": [[[x, 36.0], [x + 0.01, 36.0], [x + 0.01, 36.01], [x, 36.01], [x, 36.0]]]}})
        })
        .collect();
    let (st, v) = s.call(
        "PUT",
        "/api/v1/reports/districts/map?name_property=name",
        &json!({"type": "FeatureCollection", "features": features}),
    );
    assert!((200..300).contains(&st), "map: {st} {v}");
    pages.extend(
        [
            "/reports/districts",
            "/dashboard",
            "/dashboard/wall",
            "/reports",
            "/reports/bulletins",
            "/sent-back",
        ]
        .map(String::from),
    );
    pages
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An execution on the current page: an open dialog, or the counter.
async fn executions(c: &Client) -> Result<i64, String> {
    if let Ok(text) = c.get_alert_text().await {
        let _ = c.dismiss_alert().await;
        return Ok(1000 + text.len() as i64);
    }
    match c.execute("return window.__xss || 0;", vec![]).await {
        Ok(v) => Ok(v.as_i64().unwrap_or(0)),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn hostile_text_never_runs_in_any_page() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let started = Instant::now();
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    fs::create_dir_all(&artifacts).unwrap();
    let data = TempDir::new("hostile-data");
    let profile = TempDir::new("hostile-chrome");
    let exe = env!("CARGO_BIN_EXE_hotline");
    let out = Command::new(exe)
        .args(["demo", "--tickets", "30", "--password", PW, "--data-dir"])
        .arg(&data.0)
        .env("HOTLINE_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "demo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let log = data.0.join("serve.log");
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
    let t0 = Instant::now();
    while http(port, "GET", "/healthz", &[], None)
        .map(|r| r.status)
        .ok()
        != Some(200)
    {
        server.check_alive();
        assert!(t0.elapsed() < WAIT, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let srv = Srv {
        port,
        admin: session(port, "admin"),
        op: session(port, "op1"),
        disp: session(port, "dispatcher"),
    };
    let pages = write_corpus(&srv);
    let npages = pages.len();
    eprintln!(
        "corpus written in {:?}; {} pages",
        started.elapsed(),
        pages.len()
    );

    let driver_port = free_port();
    let mut cmd = Command::new(&chromedriver);
    cmd.arg(format!("--port={driver_port}"));
    let dlog = data.0.join("chromedriver.log");
    let driver = ChildGuard::spawn("chromedriver", cmd, &dlog, true);
    let t0 = Instant::now();
    while !http(driver_port, "GET", "/status", &[], None)
        .map(|r| r.body.contains("\"ready\":true"))
        .unwrap_or(false)
    {
        driver.check_alive();
        assert!(t0.elapsed() < WAIT, "chromedriver not ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let shots = artifacts.clone();
    let found: Vec<String> = rt.block_on(async move {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                format!("--user-data-dir={}", profile.0.display()), "--window-size=1280,900"]}),
        );
        caps.insert("unhandledPromptBehavior".into(), json!("ignore"));
        let c = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .expect("chromium");
        // The detectors work: a page that runs a payload is caught.
        c.goto(&format!(
            "data:text/html,<img src=x onerror=\"{}\">",
            RUN.replace('+', "%2B")
        ))
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(executions(&c).await, Ok(1), "the counter detector");
        c.goto("data:text/html,<script>alert('x')</script>").await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(executions(&c).await.unwrap() >= 1000, "the dialog detector");

        // Log in through the login page, as a person would.
        c.goto(&format!("{base}/login")).await.unwrap();
        let u = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("input[name=username]"))
            .await
            .expect("login page");
        u.send_keys("admin").await.unwrap();
        let pw = c.find(Locator::Css("input[name=password]")).await.unwrap();
        pw.send_keys(&format!("{PW}\u{E007}")).await.unwrap();
        let deadline = Instant::now() + WAIT;
        while c.current_url().await.unwrap().path() == "/login" {
            assert!(Instant::now() < deadline, "still on /login");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut found = vec![];
        for p in &pages {
            // Leave the previous page first: its live-update stream
            // (EventSource) ends, so streams do not pile up against the
            // browser's six connections per host.
            let _ = c.execute("window.stop();", vec![]).await;
            let _ = c.goto("about:blank").await;
            let t0 = Instant::now();
            if let Err(e) = c.goto(&format!("{base}{p}")).await {
                // A dialog opened while loading is an execution too.
                found.push(format!("{p}: {e}"));
                let _ = c.dismiss_alert().await;
                continue;
            }
            let _ = c
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css("body"))
                .await;
            // Let late scripts (live updates, lazy lists) run.
            tokio::time::sleep(Duration::from_millis(300)).await;
            // Hover and focus everything a payload might wait for.
            let _ = c
                .execute(
                    "document.querySelectorAll('*').forEach(e=>{['mouseover','pointerover','focus','toggle'].forEach(t=>e.dispatchEvent(new Event(t)))});",
                    vec![],
                )
                .await;
            let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            assert!(!url.contains("/login"), "{p}: sent to the login page");
            if t0.elapsed() > Duration::from_secs(3) {
                eprintln!("slow page {p}: {:?}", t0.elapsed());
            }
            match executions(&c).await {
                Ok(0) => {}
                Ok(n) => found.push(format!("{p}: {n} execution(s)")),
                Err(e) => found.push(format!("{p}: {e}")),
            }
        }
        if c.goto(&format!("{base}{}", pages[0])).await.is_ok()
            && let Ok(bytes) = c.screenshot().await
        {
            let _ = fs::write(shots.join("hostile-ticket.png"), bytes);
        }
        let _ = c.close().await;
        found
    });
    drop(server);
    assert!(found.is_empty(), "payloads ran:\n{}", found.join("\n"));
    eprintln!(
        "hostile corpus: {} payloads, {} pages, 0 executions, {:?}",
        payloads().len(),
        npages,
        started.elapsed()
    );
}
