//! The knowledge-base page's search box in headless Chromium (issue 11,
//! Major 6): an operator of a demo district opens 知识库, types a caller's
//! words into the box and presses Enter; the hits come from the intake
//! page's engine with marked titles and snippets. Screenshot:
//! `target/screenshots/kb-search.png`. Without Chromium and chromedriver
//! the test warns and passes, unless `CI` is set (tests/support/browser.rs).

#[path = "support/browser.rs"]
mod browser;
use browser::*;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

const PASSWORD: &str = "demo-pass-1";
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn kb_page_search_box_finds_and_marks() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let shots = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("screenshots");
    fs::create_dir_all(&shots).unwrap();
    let data = TempDir::new("kbsearch-data");
    let profile = TempDir::new("kbsearch-chrome");
    let exe = env!("CARGO_BIN_EXE_hotline");
    let out = Command::new(exe)
        .args([
            "demo",
            "--tickets",
            "200",
            "--password",
            PASSWORD,
            "--data-dir",
        ])
        .arg(&data.0)
        .env("HOTLINE_LOG", "warn")
        .output()
        .expect("hotline demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
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
    let server = ChildGuard::spawn(
        "hotline serve",
        cmd,
        &shots.join("e2e-kb-server.log"),
        false,
    );
    let started = Instant::now();
    while !http(port, "GET", "/healthz", &[], None).is_ok_and(|r| r.status == 200) {
        server.check_alive();
        assert!(started.elapsed() < WAIT, "hotline serve did not answer");
        std::thread::sleep(Duration::from_millis(50));
    }
    let driver_port = free_port();
    let mut cmd = Command::new(&chromedriver);
    cmd.arg(format!("--port={driver_port}"));
    let driver = ChildGuard::spawn("chromedriver", cmd, &shots.join("e2e-kb-driver.log"), false);
    let started = Instant::now();
    while !http(driver_port, "GET", "/status", &[], None)
        .is_ok_and(|r| r.body.contains("\"ready\":true"))
    {
        assert!(started.elapsed() < WAIT, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let shot = shots.join("kb-search.png");
    rt.block_on(async move {
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
        c.goto(&format!("{base}/login")).await.unwrap();
        let u = c.wait().at_most(WAIT).for_element(Locator::Css("input[name=username]")).await.unwrap();
        u.send_keys("op1").await.unwrap();
        let p = c.find(Locator::Css("input[name=password]")).await.unwrap();
        p.send_keys(&format!("{PASSWORD}\u{E007}")).await.unwrap();
        let deadline = Instant::now() + WAIT;
        while c.current_url().await.unwrap().path() == "/login" {
            assert!(Instant::now() < deadline, "still on /login");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        c.goto(&format!("{base}/kb")).await.unwrap();
        let q = c.wait().at_most(WAIT).for_element(Locator::Id("kb-q")).await.expect("a search box on /kb");
        q.send_keys("我家小区停水两天了\u{E007}").await.unwrap();
        let hits = c.wait().at_most(WAIT).for_element(Locator::Id("kb-search-hits")).await.expect("search results");
        let first = hits.find(Locator::Css("li .kb-title")).await.unwrap();
        let title = first.text().await.unwrap();
        assert!(title.contains("停水"), "first hit: {title}");
        let marked = hits.find_all(Locator::Css(".kb-title mark")).await.unwrap();
        assert!(!marked.is_empty(), "titles are marked");
        let snippets = hits.find_all(Locator::Css(".kb-snippet")).await.unwrap();
        assert!(!snippets.is_empty(), "snippets shown");
        let all = hits.text().await.unwrap();
        assert!(!all.contains("停车位"), "no parking article for 停水: {all}");
        let url = c.current_url().await.unwrap();
        assert!(url.query().unwrap_or("").contains("q="), "{url}");
        let png = c.screenshot().await.unwrap();
        fs::write(&shot, png).unwrap();
        eprintln!("e2e[kb]: screenshot {}", shot.display());
        // The hit opens the article with the search's id.
        first.click().await.unwrap();
        let deadline = Instant::now() + WAIT;
        while !c.current_url().await.unwrap().as_str().contains("search_id=") {
            assert!(Instant::now() < deadline, "the hit did not open");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = c.close().await;
    });
    drop(driver);
    drop(server);
}
