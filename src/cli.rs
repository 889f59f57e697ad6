//! The command line (shared/API.md): serve, demo, healthcheck, backup,
//! verify, restore and recovery.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::http::AppState;

#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    about = "热线工单系统 Hotline — a public-service hotline in one program"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(clap::Args, Clone)]
struct DataDir {
    /// Data directory (default ./hotline-data; on Windows %ProgramData%\Hotline
    /// when installed, else hotline-data beside hotline.exe).
    #[arg(long, env = "HOTLINE_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the web UI and the API.
    Serve {
        #[command(flatten)]
        dir: DataDir,
        /// Address to listen on (default 0.0.0.0:8080).
        #[arg(long, env = "HOTLINE_LISTEN")]
        listen: Option<String>,
        /// Add POST /api/v1/dev/clock for deadline tests (never in production).
        #[arg(long)]
        dev_clock: bool,
        /// Do not open a browser.
        #[arg(long)]
        no_browser: bool,
        /// Print the resolved configuration and exit.
        #[arg(long)]
        print_config: bool,
    },
    /// Fill an empty data dir with the demo district.
    Demo {
        #[command(flatten)]
        dir: DataDir,
        /// Number of tickets (six months of them).
        #[arg(long, default_value_t = 20_000)]
        tickets: u64,
        /// Password of every demo account.
        #[arg(long, default_value = "hotline-demo")]
        password: String,
        #[arg(long, default_value_t = 12345)]
        seed: u64,
    },
    /// Exit 0 when the server answers /healthz.
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
    /// Create an administrator (recovery).
    CreateAdmin {
        #[command(flatten)]
        dir: DataDir,
        #[arg(long, default_value = "admin")]
        username: String,
        /// The password (read from standard input if absent).
        #[arg(long)]
        password: Option<String>,
    },
    /// Measure the server over HTTP with N tickets (creates them if DIR is empty).
    Bench {
        #[command(flatten)]
        dir: DataDir,
        #[arg(long, default_value_t = 1_000_000)]
        tickets: u64,
        #[arg(long, default_value_t = 50)]
        clients: usize,
        #[arg(long, default_value_t = 5_000)]
        registrations: usize,
        #[arg(long, default_value_t = 300)]
        queries: usize,
        /// Instead: SECS seconds of sustained mixed load by --clients
        /// clients on an existing data dir (registration, lists, search as
        /// you type, dispatch, dashboard).
        #[arg(long, value_name = "SECS")]
        sustained: Option<u64>,
        /// Fill the knowledge base with synthetic articles up to this many
        /// (search as you type with 100,000 articles: --articles 100000).
        #[arg(long, default_value_t = 0)]
        articles: usize,
    },
    /// Write a verified backup file of the data dir into folder TO; prints its path.
    Backup {
        #[command(flatten)]
        dir: DataDir,
        /// Folder to write the backup file to (must exist, e.g. a USB drive).
        #[arg(long)]
        to: PathBuf,
    },
    /// Check a backup file; exit non-zero with the reason if it is bad.
    Verify {
        /// The backup file (hotline-backup-….hlbk).
        file: PathBuf,
    },
    /// Verify a backup file, then restore it into the data dir (the current
    /// data is moved aside to DIR.before-restore-<time>, never deleted).
    /// The server must be stopped.
    Restore {
        /// The backup file (hotline-backup-….hlbk).
        file: PathBuf,
        #[command(flatten)]
        dir: DataDir,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Recount the report aggregates from the tickets (after a change of
    /// the time zone, or if a check finds a difference); prints how many
    /// rows the kept aggregates differed in. The server must be stopped.
    RebuildAggregates {
        #[command(flatten)]
        dir: DataDir,
        /// Only compare the kept aggregates with a recount; change nothing.
        #[arg(long)]
        check: bool,
    },
    /// Check the hash chains of every ticket timeline and of the audit log;
    /// exit non-zero naming the first broken link of each broken chain.
    VerifyAudit {
        #[command(flatten)]
        dir: DataDir,
    },
    /// Time the KPI reports over the data dir (month and year, with and
    /// without grouping) and print Markdown for BENCHMARKS.md.
    #[command(hide = true)]
    ReportTiming {
        #[command(flatten)]
        dir: DataDir,
        /// The last day of the year measured (default: the newest ticket's day).
        #[arg(long)]
        until: Option<String>,
    },
    /// Rebuild the search index (articles and tickets) from the database.
    /// The server must be stopped.
    Reindex {
        #[command(flatten)]
        dir: DataDir,
    },
    /// Set a user's password (recovery).
    ResetPassword {
        #[command(flatten)]
        dir: DataDir,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: Option<String>,
    },
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let cmd = cli.cmd.unwrap_or(Cmd::Serve {
        dir: DataDir {
            data_dir: std::env::var_os("HOTLINE_DATA_DIR").map(PathBuf::from),
        },
        listen: std::env::var("HOTLINE_LISTEN").ok(),
        dev_clock: false,
        no_browser: false,
        print_config: false,
    });
    let r = match cmd {
        Cmd::Serve {
            dir,
            listen,
            dev_clock,
            no_browser,
            print_config,
        } => serve(dir.data_dir, listen, dev_clock, !no_browser, print_config),
        Cmd::Demo {
            dir,
            tickets,
            password,
            seed,
        } => demo(dir.data_dir, tickets, password, seed),
        Cmd::Healthcheck { url } => healthcheck(&url),
        Cmd::Bench {
            dir,
            tickets,
            clients,
            registrations,
            queries,
            sustained,
            articles,
        } => {
            let data_dir = dir
                .data_dir
                .unwrap_or_else(|| PathBuf::from("./bench-data"));
            if let Some(secs) = sustained {
                crate::bench_sustained::run(&data_dir, secs, clients).map(|md| println!("{md}"))
            } else {
                let o = crate::bench::BenchOptions {
                    data_dir,
                    tickets,
                    clients,
                    registrations,
                    queries,
                    articles,
                };
                crate::bench::run(&o).map(|report| println!("{report}"))
            }
        }
        Cmd::CreateAdmin {
            dir,
            username,
            password,
        } => with_services(dir.data_dir, |s| {
            let pw = password_arg(password)?;
            let u = s
                .create_admin_cli(&username, &pw)
                .map_err(|e| crate::http::problem::detail_of(&e))?;
            println!("created administrator {} (id {})", u.username, u.id);
            Ok(())
        }),
        Cmd::Backup { dir, to } => backup(dir.data_dir, &to),
        Cmd::Reindex { dir } => reindex(dir.data_dir),
        Cmd::Verify { file } => crate::backup::verify(&file)
            .map(|v| {
                println!("ok: {} verifies ({} bytes)", v.path, v.size);
                println!("{}", v.manifest.summary());
            })
            .map_err(|e| e.to_string()),
        Cmd::Restore { file, dir, yes } => {
            // Not through Config::resolve: a damaged hotline.toml must not
            // stand in the way of a restore.
            let data_dir = dir.data_dir.unwrap_or_else(crate::config::default_data_dir);
            crate::backup::restore::restore_cli(&file, &data_dir, yes)
        }
        Cmd::RebuildAggregates { dir, check } => with_services(dir.data_dir, |s| {
            let started = Instant::now();
            let r = if check {
                s.store.check_aggregates()
            } else {
                s.store.rebuild_aggregates()
            }
            .map_err(|e| e.to_string())?;
            println!(
                "{} tickets recounted into {} aggregate rows and {} hot-word / difficult-case rows in {:.1} s; the kept aggregates differed in {} rows{}",
                r.tickets,
                r.rows,
                r.bulletin_rows,
                started.elapsed().as_secs_f64(),
                r.differences,
                if check { "" } else { " (now replaced)" }
            );
            for e in &r.examples {
                println!("  {e}");
            }
            if check && r.differences > 0 {
                return Err(
                    "the aggregates differ from a recount; run `hotline rebuild-aggregates`".into(),
                );
            }
            Ok(())
        }),
        Cmd::VerifyAudit { dir } => (|| -> Result<(), String> {
            // The store alone: no search index, no sweep writing events.
            let cfg = Config::resolve(dir.data_dir, None, false, false)?;
            let store = crate::store::Store::open(&cfg.db_path()).map_err(|e| e.to_string())?;
            let r = store.verify_chains().map_err(|e| e.to_string())?;
            println!(
                "{} tickets, {} events, {} audit records checked; audit chain head {}",
                r.tickets, r.events, r.audit, r.audit_head
            );
            if r.ok() {
                println!("哈希链完整 (every hash chain is intact)");
                return Ok(());
            }
            for b in &r.broken {
                println!("  {b}");
            }
            Err(format!(
                "哈希链断裂：{} 条链被改动 (broken hash chains: {} chains were tampered with)",
                r.broken.len(),
                r.broken.len()
            ))
        })(),
        Cmd::ReportTiming { dir, until } => with_services(dir.data_dir, |s| {
            crate::service::reports::timing(s, until.as_deref()).map(|md| println!("{md}"))
        }),
        Cmd::ResetPassword {
            dir,
            username,
            password,
        } => with_services(dir.data_dir, |s| {
            let pw = password_arg(password)?;
            s.reset_password_cli(&username, &pw)
                .map_err(|e| crate::http::problem::detail_of(&e))?;
            println!("password of {username} changed; their sessions ended");
            Ok(())
        }),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline: {e}");
            // Started by a double-click on Windows: the console window
            // would close before anyone could read why.
            if cfg!(windows) && std::env::args_os().len() <= 1 {
                eprintln!("按回车键关闭窗口 (press Enter to close)");
                let mut s = String::new();
                let _ = std::io::stdin().read_line(&mut s);
            }
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOTLINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Windows consoles show escape codes as text unless asked otherwise.
        .with_ansi(!cfg!(windows))
        .try_init();
}

fn password_arg(p: Option<String>) -> Result<String, String> {
    match p {
        Some(p) => Ok(p),
        None => {
            eprint!("password: ");
            let _ = std::io::stderr().flush();
            let mut s = String::new();
            std::io::stdin()
                .read_line(&mut s)
                .map_err(|e| e.to_string())?;
            Ok(s.trim_end_matches(['\r', '\n']).to_string())
        }
    }
}

fn with_services(
    dir: Option<PathBuf>,
    f: impl FnOnce(&crate::service::Services) -> Result<(), String>,
) -> Result<(), String> {
    let cfg = Config::resolve(dir, None, false, false)?;
    let svc = crate::open_services(&cfg)?;
    f(&svc)
}

fn serve(
    dir: Option<PathBuf>,
    listen: Option<String>,
    dev_clock: bool,
    open_browser: bool,
    print_config: bool,
) -> Result<(), String> {
    let started = Instant::now();
    let cfg = Config::resolve(dir, listen, dev_clock, open_browser)?;
    if print_config {
        println!("{}", toml::to_string(&cfg).map_err(|e| e.to_string())?);
        return Ok(());
    }
    // The port first: a second start (double-click while it runs) finds
    // the first one and just opens the browser on it.
    let std_listener = match std::net::TcpListener::bind(cfg.listen) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let local = format!("http://127.0.0.1:{}/", cfg.listen.port());
            if probe_health(&local).is_ok() {
                println!("Hotline 已在运行 (already running): {local}");
                if cfg.open_browser && has_desktop() {
                    let _ = open::that_detached(&local);
                }
                return Ok(());
            }
            return Err(format!(
                "端口 {} 已被其他程序占用 (port in use by another program): {e}; \
                 use --listen 0.0.0.0:PORT or `listen` in hotline.toml",
                cfg.listen.port()
            ));
        }
        Err(e) => return Err(format!("cannot listen on {}: {e}", cfg.listen)),
    };
    std_listener
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    let svc = crate::open_services(&cfg).map_err(|e| {
        if e.contains("already open") {
            format!(
                "{e}: 数据目录 {} 正被另一个 Hotline 使用 (another Hotline uses this data folder)",
                cfg.data_dir.display()
            )
        } else {
            e
        }
    })?;
    // Cards reached while the server was off are recorded before serving.
    svc.sweep_cards().map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let listener =
            tokio::net::TcpListener::from_std(std_listener).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let state = AppState::new(svc, cfg.dev_clock);
        crate::http::spawn_sweeper(state.clone());
        crate::http::spawn_search(state.clone());
        crate::backup::spawn_scheduler(state.clone());
        crate::http::pages::bulletins::spawn_scheduler(state.clone());
        let app = crate::build_app(state.clone());
        let local = format!("http://127.0.0.1:{}/", addr.port());
        println!(
            "Hotline {} serving data in {}",
            crate::http::VERSION,
            cfg.data_dir.display()
        );
        println!("  on this PC:      {local}");
        if let (true, Ok(ip)) = (addr.ip().is_unspecified(), local_ip_address::local_ip()) {
            println!("  on the LAN:      http://{ip}:{}/", addr.port());
        }
        if cfg.dev_clock {
            println!("  DEV CLOCK ON: POST /api/v1/dev/clock moves time (never use in production)");
        }
        println!("  按 Ctrl+C 停止 (Ctrl+C stops the server)");
        tracing::info!(ms = started.elapsed().as_millis() as u64, "ready");
        if cfg.open_browser && has_desktop() {
            let _ = open::that_detached(&local);
        }
        let stopping = state.clone();
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("stopping: finishing the requests under way");
            stopping.begin_shutdown();
        });
        // A request that does not finish within 10 s of Ctrl+C does not
        // keep the program from stopping (every change is already committed
        // or not at all).
        let deadline = async move {
            state.shutting_down().await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        };
        tokio::select! {
            r = server => r.map_err(|e| e.to_string()),
            () = deadline => {
                tracing::warn!("requests still open 10 s after Ctrl+C; stopping anyway");
                Ok(())
            }
        }
    })
}

/// Whether a browser can be opened here (a desktop session).
fn has_desktop() -> bool {
    cfg!(windows)
        || std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

fn demo(dir: Option<PathBuf>, tickets: u64, password: String, seed: u64) -> Result<(), String> {
    let cfg = Config::resolve(dir, None, false, false)?;
    let svc = crate::open_services(&cfg)?;
    let opts = crate::demo::DemoOptions {
        tickets,
        password: password.clone(),
        seed,
        months: 6,
    };
    let started = Instant::now();
    let mut last = Instant::now() - Duration::from_secs(1);
    let mut progress = |done: u64, total: u64| {
        if last.elapsed() >= Duration::from_millis(200) || done == total {
            last = Instant::now();
            let pct = (done * 100).checked_div(total).unwrap_or(100);
            let bar = "#".repeat((pct / 4) as usize);
            eprint!("\r生成工单 tickets [{bar:<25}] {pct:>3}% {done}/{total}");
            let _ = std::io::stderr().flush();
        }
    };
    let summary = crate::demo::generate(&svc.store, &opts, svc.now(), &mut progress)
        .map_err(|e| crate::http::problem::detail_of(&e))?;
    eprintln!();
    println!(
        "demo district ready in {:.1}s: {} units, {} categories, {} tickets, {} knowledge articles in {}",
        started.elapsed().as_secs_f64(),
        summary.units,
        summary.categories,
        summary.tickets,
        summary.articles,
        cfg.data_dir.display()
    );
    println!("accounts (password: {password}):");
    for a in &summary.accounts {
        let roles: Vec<&str> = a.roles.iter().map(|r| r.as_str()).collect();
        println!(
            "  {:<12} {:<16} {:<28} {}",
            a.username,
            a.display_name,
            roles.join(","),
            a.unit.clone().unwrap_or_default()
        );
    }
    Ok(())
}

/// `hotline backup`: the server must not hold the data file (use the
/// administration page or the API while it runs).
fn backup(dir: Option<PathBuf>, to: &std::path::Path) -> Result<(), String> {
    let cfg = Config::resolve(dir, None, false, false)?;
    if crate::backup::restore::data_in_use(&cfg.data_dir) {
        return Err(format!(
            "热线服务正在运行并使用 {}：请在“系统管理 → 数据备份”页面备份，或调用 POST /api/v1/admin/backups (the server is running on this data folder: back up from the administration page /admin/backup or with POST /api/v1/admin/backups)",
            cfg.data_dir.display()
        ));
    }
    if !cfg.db_path().exists() {
        return Err(format!(
            "{} 中没有数据 (there is no data in this folder)",
            cfg.data_dir.display()
        ));
    }
    let svc = crate::open_services(&cfg)?;
    eprintln!(
        "backing up {} to {} …",
        cfg.data_dir.display(),
        to.display()
    );
    let done = std::thread::scope(|sc| {
        let job = sc.spawn(|| svc.run_backup(to, "manual"));
        while !job.is_finished() {
            if let Some(p) = svc.backup_progress() {
                let bar = "#".repeat(p.percent as usize / 4);
                eprint!(
                    "\r  [{bar:<25}] {:>3}%  {:<6} {:>6.0} / {:.0} MB ",
                    p.percent,
                    p.phase_zh,
                    p.done_bytes as f64 / 1e6,
                    p.total_bytes as f64 / 1e6
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!();
        job.join()
            .map_err(|_| "the backup thread panicked".to_string())?
            .map_err(|e| e.to_string())
    })?;
    eprintln!(
        "written and verified in {:.1}s, {:.1} MB:",
        done.seconds,
        done.size as f64 / 1e6
    );
    eprintln!("{}", done.manifest.summary());
    println!("{}", done.path);
    Ok(())
}

fn reindex(dir: Option<PathBuf>) -> Result<(), String> {
    let cfg = Config::resolve(dir, None, false, false)?;
    if crate::backup::restore::data_in_use(&cfg.data_dir) {
        return Err(format!(
            "热线服务正在使用 {}，请先停止服务 (the server is running on this data folder: stop it first; it rebuilds a damaged index by itself)",
            cfg.data_dir.display()
        ));
    }
    let started = Instant::now();
    let svc = crate::open_services(&cfg)?;
    crate::search::warm();
    let articles = svc
        .search
        .rebuild_articles(&svc.store)
        .map_err(|e| e.to_string())?;
    eprintln!("articles: {articles}");
    let mut last = Instant::now() - Duration::from_secs(1);
    let tickets = svc
        .search
        .rebuild_tickets(&svc.store, &mut |done, total| {
            if last.elapsed() >= Duration::from_millis(200) || done == total {
                last = Instant::now();
                let pct = (done * 100).checked_div(total).unwrap_or(100);
                let bar = "#".repeat((pct / 4) as usize);
                eprint!("\r  tickets [{bar:<25}] {pct:>3}%  {done}/{total}");
            }
        })
        .map_err(|e| e.to_string())?;
    eprintln!();
    svc.search
        .sync(&svc.store, true)
        .map_err(|e| e.to_string())?;
    println!(
        "search index rebuilt: {articles} articles, {tickets} tickets in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn healthcheck(url: &str) -> Result<(), String> {
    probe_health(url)?;
    println!("ok");
    Ok(())
}

/// Ok when a Hotline answers `GET /healthz` at `url` (http:// only).
fn probe_health(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let host = rest.split('/').next().unwrap_or(rest);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(host)
        .map_err(|e| format!("{host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}: no address"))?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .map_err(|e| format!("{url}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut buf = String::new();
    std::io::Read::read_to_string(&mut s, &mut buf).map_err(|e| e.to_string())?;
    if buf.starts_with("HTTP/1.1 200") && buf.contains("\"status\":\"ok\"") {
        Ok(())
    } else {
        Err(format!(
            "{url}/healthz did not answer ok: {}",
            buf.lines().next().unwrap_or("")
        ))
    }
}
