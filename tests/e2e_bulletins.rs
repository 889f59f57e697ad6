//! End-to-end test of the bulletins in headless Chromium (fantoccini +
//! chromedriver): a leader opens the monthly analysis (月度分析) of a demo
//! district, every section and chart is there, and the page is saved as a
//! full-page screenshot and as the PDF Chromium prints (A4):
//!
//! - `target/screenshots/monthly-analysis.png`
//! - `target/screenshots/monthly-analysis.pdf`
//!
//! (`$CARGO_TARGET_DIR/screenshots` when that is set). Same tool policy as
//! tests/e2e.rs: without `chromium` and `chromedriver` the test prints a
//! warning and passes, unless `CI` is set. `HOTLINE_E2E_CHROMIUM` /
//! `HOTLINE_E2E_CHROMEDRIVER` override where they are looked for.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::wd::PrintConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const PASSWORD: &str = "demo-pass-1";
const WAIT: Duration = Duration::from_secs(30);
/// The sections of a bulletin page, in order (`pages::bulletins::view`).
const SECTIONS: [&str; 8] = [
    "headline",
    "trend",
    "channels",
    "categories",
    "words",
    "spikes",
    "difficult",
    "units",
];

#[test]
fn monthly_analysis_renders_with_charts_and_prints() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let shots = screenshot_dir();
    fs::create_dir_all(&shots).expect("creating the screenshot folder");
    let data = TempDir::new("data");
    let profile = TempDir::new("chrome");
    let exe = env!("CARGO_BIN_EXE_hotline");

    // A demo district: 600 tickets over the six months before now, so the
    // last complete month and the one before it both have tickets.
    let started = Instant::now();
    let out = Command::new(exe)
        .args(["demo", "--tickets", "600", "--password", PASSWORD])
        .arg("--data-dir")
        .arg(&data.0)
        .env("HOTLINE_LOG", "warn")
        .output()
        .expect("running hotline demo");
    assert!(
        out.status.success(),
        "hotline demo failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("e2e[bulletins]: demo data in {:?}", started.elapsed());

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
        &shots.join("e2e-bulletins-server.log"),
    );
    wait_for(&server, port, "/healthz", "\"ok\"");

    let driver_port = free_port();
    let mut cmd = Command::new(&chromedriver);
    cmd.arg(format!("--port={driver_port}"));
    let driver = ChildGuard::spawn(
        "chromedriver",
        cmd,
        &shots.join("e2e-bulletins-chromedriver.log"),
    );
    wait_for(&driver, driver_port, "/status", "\"ready\":true");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let shots2 = shots.clone();
    let outcome = rt.block_on(async move {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.0.display()),
                    "--window-size=1280,1000",
                ],
            }),
        );
        let c = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .unwrap_or_else(|e| panic!("starting Chromium through chromedriver failed: {e}"));
        let flow = tokio::spawn(flow(c.clone(), base, shots2));
        let outcome = flow.await;
        if outcome.is_err() {
            if let Ok(png) = c.screenshot().await {
                let _ = fs::write(shots.join("monthly-analysis-failure.png"), png);
            }
            if let Ok(html) = c.source().await {
                let _ = fs::write(shots.join("monthly-analysis-failure.html"), html);
            }
        }
        let _ = c.close().await;
        outcome
    });
    drop(rt);
    drop(driver);
    drop(server);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn flow(c: Client, base: String, shots: PathBuf) {
    // Log in as the center's leader (reads every report).
    c.goto(&format!("{base}/login")).await.unwrap();
    let user = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input[name=username]"))
        .await
        .expect("login page");
    user.send_keys("leader").await.unwrap();
    let pw = c.find(Locator::Css("input[name=password]")).await.unwrap();
    pw.send_keys(&format!("{PASSWORD}\u{E007}")).await.unwrap();
    let deadline = Instant::now() + WAIT;
    while c.current_url().await.unwrap().path() == "/login" {
        assert!(Instant::now() < deadline, "still on /login after Enter");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The bulletins through the navigation, then the monthly tab and its
    // live preview of the last complete month.
    c.find(Locator::Id("nav-bulletins"))
        .await
        .expect("a 简报 link in the navigation")
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("preview-form"))
        .await
        .expect("the bulletin archive page");
    c.find(Locator::Css(".bulletin-tabs a[href$='kind=monthly']"))
        .await
        .expect("a 月度分析 tab")
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while !c.current_url().await.unwrap().as_str().contains("monthly") {
        assert!(Instant::now() < deadline, "the monthly tab did not open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#preview-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let article = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("bulletin"))
        .await
        .expect("the monthly analysis page");
    let h1 = article
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(h1.contains("月度分析"), "title: {h1:?}");
    let range = article
        .find(Locator::Css(".bulletin-head p"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        range.contains("统计区间") && range.contains("对比"),
        "the period and the previous period: {range:?}"
    );

    // Every section, in order, with a heading and some content.
    let ids: Vec<String> = c
        .execute(
            "return [...document.querySelectorAll('#bulletin > section')].map(s => s.id)",
            vec![],
        )
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(ids, SECTIONS, "the sections of the monthly analysis");
    for id in SECTIONS {
        let s = c.find(Locator::Id(id)).await.unwrap();
        let h2 = s
            .find(Locator::Css("h2"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let text = s.text().await.unwrap();
        assert!(
            !h2.is_empty() && text.len() > h2.len(),
            "section #{id} has a heading and content: {text:?}"
        );
    }

    // The charts: trend (lines over a month), channels (donut), top
    // categories and hot words (bars), each a drawn SVG of a real size.
    for (id, what) in [
        ("trend", "polyline, path"),
        ("channels", "path, circle"),
        ("categories", "rect"),
        ("words", "rect"),
    ] {
        let svg = c
            .find(Locator::Css(&format!("#{id} svg.chart")))
            .await
            .unwrap_or_else(|_| panic!("a chart in #{id}"));
        let drawn = svg.find_all(Locator::Css(what)).await.unwrap().len();
        assert!(drawn > 0, "the chart in #{id} draws something ({what})");
        let size = c
            .execute(
                "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]",
                vec![serde_json::to_value(&svg).unwrap()],
            )
            .await
            .unwrap();
        let (w, h) = (size[0].as_f64().unwrap(), size[1].as_f64().unwrap());
        assert!(
            w >= 300.0 && h >= 100.0,
            "the chart in #{id} is legible: {w}×{h}"
        );
    }
    // Demo data has tickets in both months: figures and their change.
    let headline = c
        .find(Locator::Css("#headline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        headline.contains("受理量") && headline.contains("满意率"),
        "the headline figures: {headline:?}"
    );
    let hot = c
        .find_all(Locator::Css("#words table tbody tr"))
        .await
        .unwrap()
        .len();
    let none = c
        .find_all(Locator::Css("#words td.empty"))
        .await
        .unwrap()
        .len();
    assert!(hot >= 10 && none == 0, "hot words are listed: {hot} rows");
    // An empty table says so ("无"), it is never a bare dash.
    let empty: Vec<String> = c
        .execute(
            "return [...document.querySelectorAll('#bulletin td.empty')].map(td => td.textContent.trim())",
            vec![],
        )
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        empty.iter().all(|t| t.starts_with('无')),
        "empty tables say 无: {empty:?}"
    );
    // No horizontal overflow: nothing sticks out of the page.
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(overflow <= 0.0, "the page scrolls sideways by {overflow}px");
    // Printing hides the navigation and the buttons.
    let hidden: bool = c
        .execute(
            "for (const sheet of document.styleSheets) for (const r of sheet.cssRules) \
             if (r.media && r.media.mediaText.includes('print')) for (const x of r.cssRules) \
             if (x.selectorText && x.selectorText.includes('.no-print') && x.style.display === 'none') return true; \
             return false",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(hidden, "a print rule hides .no-print");
    for css in [".bulletin-tabs", ".bulletin-head .row"] {
        let cls = c
            .find(Locator::Css(css))
            .await
            .unwrap()
            .attr("class")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(cls.contains("no-print"), "{css} does not print: {cls:?}");
    }

    // The whole page: a window as tall as the document, then a screenshot.
    let height = c
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    c.set_window_size(1280, height.ceil() as u32 + 140)
        .await
        .unwrap();
    let png = c.screenshot().await.expect("screenshot");
    assert_eq!(&png[1..4], b"PNG");
    let path = shots.join("monthly-analysis.png");
    fs::write(&path, png).unwrap();
    eprintln!("e2e[bulletins]: screenshot {}", path.display());

    // Chromium's print (A4 portrait) as a PDF, for the print look.
    let pdf = c
        .print(PrintConfiguration::builder().build().unwrap())
        .await
        .expect("printing to PDF");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    let path = shots.join("monthly-analysis.pdf");
    fs::write(&path, pdf).unwrap();
    eprintln!("e2e[bulletins]: print {}", path.display());
}

/// `target/screenshots` (or `$CARGO_TARGET_DIR/screenshots`).
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

/// Waits until `GET path` on `port` answers 200 with `needle` in the body.
fn wait_for(child: &ChildGuard, port: u16, path: &str, needle: &str) {
    let started = Instant::now();
    loop {
        if get(port, path).is_some_and(|b| b.contains(needle)) {
            return;
        }
        child.check_alive();
        assert!(
            started.elapsed() < WAIT,
            "{} did not answer {path} in {WAIT:?}; see {}",
            child.what,
            child.log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The body of a `200` answer to `GET path` (enough for readiness checks).
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = vec![];
    let mut buf = [0u8; 4096];
    // chromedriver may keep the connection open: stop once the body is in.
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw);
        if text.contains("\r\n\r\n") && text.trim_end().ends_with('}') {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    text.starts_with("HTTP/1.1 200").then_some(text)
}

/// Finds chromium and chromedriver; `None` means skip (outside CI).
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
            eprintln!("\n!!! SKIPPED: {msg}\n");
            None
        }
    }
}

/// A child process killed (with its process group: chromedriver and the
/// browser it starts) when dropped.
struct ChildGuard {
    what: &'static str,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    fn spawn(what: &'static str, mut cmd: Command, log: &Path) -> ChildGuard {
        use std::os::unix::process::CommandExt;
        let out = File::create(log).expect("creating a log file");
        let err = out.try_clone().unwrap();
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {what}: {e}"));
        ChildGuard {
            what,
            child,
            log: log.to_path_buf(),
        }
    }

    fn check_alive(&self) {
        let stat =
            fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or("X");
        if state == "Z" || state == "X" {
            let log = fs::read_to_string(&self.log).unwrap_or_default();
            panic!("{} exited early; its output:\n{log}", self.what);
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
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
        let p = std::env::temp_dir().join(format!(
            "hotline-e2e-bul-{}-{nanos}-{tag}",
            std::process::id()
        ));
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
