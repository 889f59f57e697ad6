//! `hotline bench`: measures the server as users meet it — over HTTP on
//! loopback, against a separate `hotline serve` process — and prints a
//! Markdown report for BENCHMARKS.md.
//!
//! Not a timed test: it reports what it measures, target met or not.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A keep-alive HTTP/1.1 connection (enough for our own server).
pub struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
    host: String,
    pub cookie: String,
    pub csrf: String,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Conn {
    pub fn open(addr: &str) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            r: BufReader::new(s.try_clone()?),
            w: s,
            host: addr.to_string(),
            cookie: String::new(),
            csrf: String::new(),
        })
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        json: Option<&str>,
    ) -> std::io::Result<Reply> {
        let body = json.unwrap_or("");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        if json.is_some() {
            req.push_str("Content-Type: application/json\r\n");
        }
        if !self.cookie.is_empty() {
            req.push_str(&format!(
                "Cookie: {}\r\nX-CSRF-Token: {}\r\n",
                self.cookie, self.csrf
            ));
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.w.write_all(req.as_bytes())?;
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut headers = vec![];
        let mut len = 0usize;
        let mut chunked = false;
        loop {
            let mut h = String::new();
            self.r.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                if k == "content-length" {
                    len = v.parse().unwrap_or(0);
                }
                if k == "transfer-encoding" && v.contains("chunked") {
                    chunked = true;
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![];
        if chunked {
            loop {
                let mut sz = String::new();
                self.r.read_line(&mut sz)?;
                let n = usize::from_str_radix(sz.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                self.r.read_exact(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else {
            body.resize(len, 0);
            self.r.read_exact(&mut body)?;
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub fn login(&mut self, user: &str, pw: &str) -> Result<(), String> {
        let r = self
            .request(
                "POST",
                "/api/v1/session",
                Some(&serde_json::json!({"username": user, "password": pw}).to_string()),
            )
            .map_err(|e| e.to_string())?;
        if r.status != 200 {
            return Err(format!("login {user}: HTTP {}", r.status));
        }
        let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
        self.csrf = v["csrf_token"].as_str().unwrap_or("").to_string();
        self.cookie = r
            .headers
            .iter()
            .find(|(k, _)| k == "set-cookie")
            .and_then(|(_, v)| v.split(';').next())
            .unwrap_or("")
            .to_string();
        Ok(())
    }
}

/// Median and 99th percentile of durations, in milliseconds.
pub fn percentiles(mut v: Vec<Duration>) -> (f64, f64, usize) {
    if v.is_empty() {
        return (0.0, 0.0, 0);
    }
    v.sort();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.99), v.len())
}

pub(crate) fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

pub(crate) struct Server(pub(crate) Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18080)
}

pub(crate) fn start(data_dir: &Path, port: u16) -> Result<(Server, Duration), String> {
    let t0 = Instant::now();
    let child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args([
            "serve",
            "--no-browser",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .env("HOTLINE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| e.to_string())?;
    let server = Server(child);
    let addr = format!("127.0.0.1:{port}");
    loop {
        if let Ok(mut c) = Conn::open(&addr)
            && c.request("GET", "/healthz", None)
                .map(|r| r.status == 200)
                .unwrap_or(false)
        {
            return Ok((server, t0.elapsed()));
        }
        if t0.elapsed() > Duration::from_secs(60) {
            return Err("server did not start in 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub struct BenchOptions {
    pub data_dir: PathBuf,
    pub tickets: u64,
    pub clients: usize,
    pub registrations: usize,
    pub queries: usize,
    /// Fill the knowledge base with synthetic articles up to this many
    /// (0: keep what is there, the 331 demo articles in a demo dir).
    pub articles: usize,
}

pub fn run(o: &BenchOptions) -> Result<String, String> {
    let mut out = String::new();
    let cfg = crate::config::Config::resolve(Some(o.data_dir.clone()), None, false, false)?;
    let fresh = !cfg.db_path().exists();
    if fresh {
        let svc = crate::open_services(&cfg)?;
        let t = Instant::now();
        let opts = crate::demo::DemoOptions {
            tickets: o.tickets,
            password: "hotline-demo".into(),
            seed: 7,
            months: 12,
        };
        let mut last = Instant::now();
        let mut progress = |d: u64, n: u64| {
            if last.elapsed() > Duration::from_secs(2) || d == n {
                last = Instant::now();
                eprintln!("  demo: {d}/{n}");
            }
        };
        crate::demo::generate(&svc.store, &opts, svc.now(), &mut progress)
            .map_err(|e| e.to_string())?;
        let secs = t.elapsed().as_secs_f64();
        out.push_str(&format!(
            "- demo generation of {} tickets: {:.1} s ({:.0} tickets/s)\n",
            o.tickets,
            secs,
            o.tickets as f64 / secs
        ));
    }
    let (tickets, db_bytes) = {
        use crate::domain::types::State;
        let svc = crate::open_services(&cfg)?;
        // A dir made before the knowledge base existed: give it the demo
        // articles, so that search as you type has something to find.
        if svc
            .store
            .kb_articles_after(0, 1)
            .map_err(|e| e.to_string())?
            .is_empty()
            && let Some(admin) = svc.store.user_by_name("admin").map_err(|e| e.to_string())?
        {
            let n = crate::demo::kb::load(&svc.store, admin.id, svc.now().as_second())
                .map_err(|e| e.to_string())?;
            out.push_str(&format!(
                "- knowledge base was empty: loaded the {n} demo articles\n"
            ));
        }
        if let Some(admin) = svc.store.user_by_name("admin").map_err(|e| e.to_string())? {
            let t = Instant::now();
            let added = fill_articles(&svc, admin.id, o.articles)?;
            if added > 0 {
                let indexed = svc
                    .search
                    .sync(&svc.store, true)
                    .map_err(|e| e.to_string())?;
                out.push_str(&format!(
                    "- knowledge base filled to {} articles: {added} synthetic articles stored and {indexed} indexed in {:.1} s\n",
                    o.articles,
                    t.elapsed().as_secs_f64()
                ));
            }
        }
        // The server would refill a missing ticket index in the background,
        // under the measurements: do it here first.
        if !svc.search.tickets_ready() {
            let t = Instant::now();
            let mut last = Instant::now();
            let n = svc
                .search
                .rebuild_tickets(&svc.store, &mut |d, n| {
                    if last.elapsed() > Duration::from_secs(2) || d == n {
                        last = Instant::now();
                        eprintln!("  ticket search index: {d}/{n}");
                    }
                })
                .map_err(|e| e.to_string())?;
            out.push_str(&format!(
                "- ticket search index was missing or incomplete: {n} tickets indexed in {:.1} s\n",
                t.elapsed().as_secs_f64()
            ));
        }
        let count = |s: &State| svc.store.count_in_state(*s).unwrap_or(0);
        let open: u64 = State::ALL.iter().filter(|s| !s.is_final()).map(count).sum();
        let staged: u64 = [
            State::AwaitingSignFor,
            State::InProgress,
            State::AwaitingApproval,
        ]
        .iter()
        .map(count)
        .sum();
        let t = Instant::now();
        let first = svc.sweep_cards().map_err(|e| e.to_string())?;
        let first_ms = t.elapsed().as_secs_f64() * 1000.0;
        let mut steady = vec![];
        for _ in 0..20 {
            let t = Instant::now();
            svc.sweep_cards().map_err(|e| e.to_string())?;
            steady.push(t.elapsed());
        }
        let (p50, p99, _) = percentiles(steady);
        out.push_str(&format!(
            "- open tickets: {open} ({staged} with a running department deadline)\n- card sweep: first run {first_ms:.0} ms (recorded the cards of {first} tickets); steady state p50 {p50:.1} ms, p99 {p99:.1} ms\n"
        ));
        (
            svc.store.counts().map_err(|e| e.to_string())?.tickets,
            svc.store.file_size(),
        )
    };
    out.push_str(&format!(
        "- data: {tickets} tickets, data file {:.1} MB, {:.0} bytes per ticket (indexes and timelines included)\n",
        db_bytes as f64 / 1e6,
        db_bytes as f64 / tickets.max(1) as f64
    ));
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let (server, started) = start(&o.data_dir, port)?;
    std::thread::sleep(Duration::from_millis(500));
    let idle = rss_kib(server.0.id());
    out.push_str(&format!(
        "- server start to first /healthz answer: {:.0} ms\n",
        started.as_secs_f64() * 1000.0
    ));
    out.push_str(&format!(
        "- resident memory idle after start: {:.1} MB\n",
        idle as f64 / 1024.0
    ));

    // Sample values for the filters from the data.
    let mut admin = Conn::open(&addr).map_err(|e| e.to_string())?;
    admin.login("admin", "hotline-demo")?;
    let units: serde_json::Value = serde_json::from_slice(
        &admin
            .request("GET", "/api/v1/units", None)
            .map_err(|e| e.to_string())?
            .body,
    )
    .map_err(|e| e.to_string())?;
    let unit = units[0]["id"].as_u64().unwrap_or(1);
    let recent: serde_json::Value = serde_json::from_slice(
        &admin
            .request("GET", "/api/v1/tickets?limit=200", None)
            .map_err(|e| e.to_string())?
            .body,
    )
    .map_err(|e| e.to_string())?;
    let items = recent["items"].as_array().cloned().unwrap_or_default();
    let phones: Vec<String> = items
        .iter()
        .filter_map(|t| t["caller_phone"].as_str().map(str::to_string))
        .filter(|p| !p.is_empty())
        .collect();
    let cats: Vec<String> = items
        .iter()
        .filter_map(|t| t["category_code"].as_str().map(str::to_string))
        .collect();
    let numbers: Vec<String> = items
        .iter()
        .filter_map(|t| t["number"].as_str().map(str::to_string))
        .collect();
    let now = jiff::Timestamp::now();
    let day_ago = (now - jiff::SignedDuration::from_hours(24)).to_string();
    let today = now
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").map_err(|e| e.to_string())?)
        .date();
    let month_ago = today
        .checked_sub(jiff::Span::new().days(30))
        .map_err(|e| e.to_string())?;
    let enc = crate::http::pages::urlencode;
    type UrlFor = Box<dyn Fn(usize) -> String>;
    let filters: Vec<(&str, UrlFor)> = vec![
        (
            "a unit's open tickets",
            Box::new(move |_| format!("/api/v1/tickets?unit_id={unit}&state=open")),
        ),
        (
            "a caller's history",
            Box::new(move |i| {
                format!(
                    "/api/v1/tickets?caller_phone={}",
                    phones[i % phones.len().max(1)]
                )
            }),
        ),
        (
            "last 24 h by category",
            Box::new(move |i| {
                format!(
                    "/api/v1/tickets?category={}&from={}",
                    cats[i % cats.len().max(1)],
                    enc(&day_ago)
                )
            }),
        ),
        (
            "a district and a date range",
            Box::new(move |_| {
                format!(
                    "/api/v1/tickets?district={}&from={month_ago}&to={today}",
                    enc("市南区")
                )
            }),
        ),
        (
            "state + supervision",
            Box::new(|i| {
                format!(
                    "/api/v1/tickets?state={}&supervision=red",
                    ["in_progress", "awaiting_sign_for"][i % 2]
                )
            }),
        ),
        (
            "one ticket by number",
            Box::new(move |i| format!("/api/v1/tickets/{}", numbers[i % numbers.len().max(1)])),
        ),
    ];
    out.push_str(&format!("\n| list query (page of 50, {} requests each, one client) | p50 ms | p99 ms |\n|---|---|---|\n", o.queries));
    for (name, url) in &filters {
        let mut lat = vec![];
        for i in 0..o.queries {
            let u = url(i);
            let t = Instant::now();
            let r = admin.request("GET", &u, None).map_err(|e| e.to_string())?;
            lat.push(t.elapsed());
            if r.status != 200 {
                return Err(format!(
                    "{u}: HTTP {} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                ));
            }
        }
        let (p50, p99, _) = percentiles(lat);
        out.push_str(&format!("| {name} | {p50:.2} | {p99:.2} |\n"));
    }

    // The department inbox and the overdue list.
    let mut dept = Conn::open(&addr).map_err(|e| e.to_string())?;
    dept.login("water", "hotline-demo")?;
    let inbox_urls: Vec<(&str, &str, bool)> = vec![
        (
            "department inbox (awaiting sign-for tab, with all tab counts)",
            "/api/v1/inbox?tab=sign_for",
            true,
        ),
        (
            "department inbox, overdue tab",
            "/api/v1/inbox?tab=overdue",
            true,
        ),
        (
            "center overdue list (red cards, page of 50)",
            "/api/v1/tickets?supervision=red",
            false,
        ),
        (
            "center overdue list (yellow cards, page of 50)",
            "/api/v1/tickets?supervision=yellow",
            false,
        ),
    ];
    out.push_str(&format!(
        "\n| inbox and overdue ({} requests each) | p50 ms | p99 ms |\n|---|---|---|\n",
        o.queries
    ));
    for (name, url, as_dept) in inbox_urls {
        let conn = if as_dept { &mut dept } else { &mut admin };
        let mut lat = vec![];
        for _ in 0..o.queries {
            let t = Instant::now();
            let r = conn.request("GET", url, None).map_err(|e| e.to_string())?;
            lat.push(t.elapsed());
            if r.status != 200 {
                return Err(format!("{url}: HTTP {}", r.status));
            }
        }
        let (p50, p99, _) = percentiles(lat);
        out.push_str(&format!("| {name} | {p50:.2} | {p99:.2} |\n"));
    }
    // One workflow step: dispatch of a fresh ticket (one client).
    let mut disp = Conn::open(&addr).map_err(|e| e.to_string())?;
    disp.login("dispatcher", "hotline-demo")?;
    let mut lat = vec![];
    for i in 0..o.queries.min(200) {
        let body = serde_json::json!({"caller_phone": format!("1370000{:04}", i), "appeal_type": "help", "category_code": "0101", "content": "派单测试"}).to_string();
        let r = disp
            .request("POST", "/api/v1/tickets", Some(&body))
            .map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
        let n = v["number"].as_str().unwrap_or("").to_string();
        let t = Instant::now();
        let r = disp
            .request(
                "POST",
                &format!("/api/v1/tickets/{n}/actions/dispatch"),
                Some(&format!("{{\"unit_id\":{unit}}}")),
            )
            .map_err(|e| e.to_string())?;
        lat.push(t.elapsed());
        if r.status != 200 {
            return Err(format!(
                "dispatch {n}: HTTP {} {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            ));
        }
    }
    let (p50, p99, n) = percentiles(lat);
    out.push_str(&format!(
        "\n- one workflow action (dispatch), {n} in a row: p50 {p50:.2} ms, p99 {p99:.2} ms\n"
    ));

    out.push_str(&search_as_you_type(&addr, o.queries)?);

    // Registration: N clients at once.
    let per = o.registrations / o.clients.max(1);
    let t_all = Instant::now();
    let handles: Vec<_> = (0..o.clients)
        .map(|c| {
            let addr = addr.clone();
            std::thread::spawn(move || -> Result<Vec<Duration>, String> {
                let mut conn = Conn::open(&addr).map_err(|e| e.to_string())?;
                conn.login(&format!("op{}", c % 4 + 1), "hotline-demo")?;
                let mut lat = vec![];
                for i in 0..per {
                    let body = serde_json::json!({"caller_phone": format!("139{:04}{:04}", c, i), "appeal_type": "help",
                        "category_code": "0101", "district": "市南区", "street": "八大关街道", "address": "香港中路18号",
                        "content": format!("压测工单 {c}-{i}：小区停水，请尽快处理")}).to_string();
                    let t = Instant::now();
                    let r = conn.request("POST", "/api/v1/tickets", Some(&body)).map_err(|e| e.to_string())?;
                    lat.push(t.elapsed());
                    if r.status != 201 {
                        return Err(format!("register: HTTP {} {}", r.status, String::from_utf8_lossy(&r.body)));
                    }
                }
                Ok(lat)
            })
        })
        .collect();
    let mut lat = vec![];
    for h in handles {
        lat.extend(h.join().map_err(|_| "client thread panicked")??);
    }
    let wall = t_all.elapsed().as_secs_f64();
    let (p50, p99, n) = percentiles(lat);
    out.push_str(&format!(
        "\n- registration, {} concurrent clients, {n} tickets: p50 {p50:.2} ms, p99 {p99:.2} ms ({:.0} tickets/s)\n",
        o.clients,
        n as f64 / wall
    ));
    let loaded = rss_kib(server.0.id());
    out.push_str(&format!(
        "- resident memory after the load: {:.1} MB\n",
        loaded as f64 / 1024.0
    ));
    drop(server);
    Ok(out)
}

/// Adds synthetic articles (the demo fixture varied:
/// `search::bench::synthetic_articles`, another district in the title and
/// a sentence of another article in the answer) until the knowledge base
/// holds `n`; returns how many were added.
fn fill_articles(svc: &crate::service::Services, by: u32, n: usize) -> Result<usize, String> {
    use crate::domain::kb::{Article, ArticleState, Content, Kind, Version};
    let have = svc.store.kb_article_count().map_err(|e| e.to_string())? as usize;
    if have >= n {
        return Ok(0);
    }
    let docs = crate::search::bench::synthetic_articles(n);
    let at = svc.now().as_second();
    let mut added = 0;
    for chunk in docs[have..].chunks(5_000) {
        let items = chunk
            .iter()
            .map(|d| {
                let content = Content {
                    kind: match d.kind {
                        crate::search::ArticleKind::Faq => Kind::Faq,
                        crate::search::ArticleKind::Article => Kind::Article,
                    },
                    title: d.title.clone(),
                    question: d.question.clone(),
                    body: d.answer.clone(),
                    category: d.category.clone(),
                    department: None,
                    department_name: d.department_name.clone(),
                    keywords: d.keywords.clone(),
                    valid_from: d.valid_from,
                    valid_to: d.valid_to,
                    must_read: false,
                    attachments: vec![],
                };
                let article = Article {
                    id: 0,
                    code: format!("bench-{:06}", d.id),
                    content: content.clone(),
                    state: ArticleState::Published,
                    version: 1,
                    created_at: at,
                    created_by: by,
                    updated_at: at,
                    updated_by: by,
                };
                let version = Version {
                    article: 0,
                    version: 1,
                    content,
                    author: by,
                    editor: by,
                    at,
                    note: "基准测试文章 (benchmark article)".into(),
                    proposal: None,
                };
                (article, version)
            })
            .collect();
        added += svc.store.kb_import(items).map_err(|e| e.to_string())?.len();
        eprintln!("  knowledge base: {}/{n}", have + added);
    }
    Ok(added)
}

/// Search while typing, as the intake page does it: for each keystroke
/// (after its 200 ms pause) the page asks for the top five articles and
/// the three most similar past tickets at once. Each question of the
/// relevance suite is typed a character at a time (prefixes of two or more
/// characters); a keystroke's round trip lasts until both answers are in.
fn search_as_you_type(addr: &str, max_keystrokes: usize) -> Result<String, String> {
    let questions: Vec<serde_json::Value> =
        serde_json::from_str(crate::demo::kb::QUERIES_JSON).map_err(|e| e.to_string())?;
    let mut prefixes = vec![];
    for q in questions.iter().filter_map(|q| q["q"].as_str()) {
        let chars: Vec<char> = q.chars().collect();
        prefixes.extend((2..=chars.len()).map(|n| chars[..n].iter().collect::<String>()));
    }
    prefixes.truncate(max_keystrokes.max(1));
    let login = || -> Result<Conn, String> {
        let mut c = Conn::open(addr).map_err(|e| e.to_string())?;
        c.login("op1", "hotline-demo")?;
        Ok(c)
    };
    let (mut kb, mut similar) = (login()?, login()?);
    let enc = crate::http::pages::urlencode;
    let ask = |conn: &mut Conn, url: &str| -> Result<Duration, String> {
        let t = Instant::now();
        let r = conn.request("GET", url, None).map_err(|e| e.to_string())?;
        if r.status != 200 {
            return Err(format!("{url}: HTTP {}", r.status));
        }
        Ok(t.elapsed())
    };
    let (mut both, mut kb_lat, mut sim_lat) = (vec![], vec![], vec![]);
    for p in &prefixes {
        let kb_url = format!("/api/v1/kb/search?limit=5&q={}", enc(p));
        let sim_url = format!("/api/v1/tickets/similar?limit=3&q={}", enc(p));
        let t = Instant::now();
        let (a, b) = std::thread::scope(|s| {
            let h = s.spawn(|| ask(&mut similar, &sim_url));
            let a = ask(&mut kb, &kb_url);
            (
                a,
                h.join().unwrap_or_else(|_| Err("thread panicked".into())),
            )
        });
        both.push(t.elapsed());
        kb_lat.push(a?);
        sim_lat.push(b?);
    }
    let (p50, p99, n) = percentiles(both);
    let (k50, k99, _) = percentiles(kb_lat);
    let (s50, s99, _) = percentiles(sim_lat);
    Ok(format!(
        "\n| search as you type ({n} keystrokes of {} questions, both requests at once) | p50 ms | p99 ms |\n|---|---|---|\n\
         | keystroke → both answers in | {p50:.2} | {p99:.2} |\n\
         | `GET /api/v1/kb/search?limit=5` | {k50:.2} | {k99:.2} |\n\
         | `GET /api/v1/tickets/similar?limit=3` | {s50:.2} | {s99:.2} |\n",
        questions.len()
    ))
}
