//! Backups (`/admin/backup`) and restore instructions
//! (`/admin/backup/restore`). Administrators only; every form post checks
//! the CSRF field.
//!
//! Restoring replaces the whole data folder, so it is not offered as a
//! button of the running server: the restore page verifies a file, shows
//! what it holds, and gives the exact `hotline restore` command to run with
//! the server stopped.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::admin::parse_form;
use super::{Base, OrPage, PageResult, lang, render, see_other, urlencode};
use crate::backup::state::Schedule;
use crate::backup::{BackupStatus, Manifest};
use crate::domain::permissions::Permission;
use crate::domain::ticket::FieldError;
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::http::problem::status_of;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/backup", get(page).post(back_up_now))
        .route("/admin/backup/schedule", post(save_schedule))
        .route("/admin/backup/restore", get(restore_page))
        .route("/admin/backup/verify", post(verify_file))
}

fn form_get(f: &[(String, String)], k: &str) -> String {
    f.iter()
        .find(|(a, _)| a == k)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

fn check_post(auth: &PageAuth, f: &[(String, String)]) -> Result<(), Error> {
    auth.check_csrf(&form_get(f, "csrf"))?;
    auth.0.actor.require(Permission::Administer)
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.2} GB", bytes as f64 / 1e9)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

/// An RFC 3339 instant in the center's zone, to the minute.
fn local_time(app: &AppState, rfc: &str) -> String {
    let tz = app.svc.dir().settings.tz();
    rfc.parse::<jiff::Timestamp>()
        .map(|t| t.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| rfc.to_string())
}

struct DriveView {
    path: String,
    free: String,
}

struct FileView {
    name: String,
    path: String,
    size: String,
    modified: String,
}

struct LastOk {
    at: String,
    path: String,
    size: String,
    seconds: String,
    tickets: u64,
}

struct LastTry {
    at: String,
    ok: bool,
    error: String,
    trigger: String,
}

#[derive(Template)]
#[template(path = "admin_backup.html")]
struct BackupPage {
    base: Base,
    warning: Option<String>,
    message: String,
    error: String,
    running: bool,
    last_ok: Option<LastOk>,
    last_try: Option<LastTry>,
    drives: Vec<DriveView>,
    folder: String,
    schedule: Schedule,
    schedule_errors: Vec<FieldError>,
    dir: String,
    files: Vec<FileView>,
    files_error: String,
}

impl BackupPage {
    fn schedule_err(&self, field: &str) -> String {
        self.schedule_errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("；")
    }
}

fn files_of(
    app: &AppState,
    actor: &crate::service::Actor,
    dir: Option<&str>,
    l: &str,
) -> (String, Vec<FileView>, String) {
    match app.svc.backup_files(actor, dir) {
        Ok((dir, files)) => (
            dir,
            files
                .into_iter()
                .map(|f| FileView {
                    size: size_text(f.size),
                    modified: local_time(app, &f.modified),
                    name: f.file_name,
                    path: f.path,
                })
                .collect(),
            String::new(),
        ),
        Err(Error::Validation(_)) if dir.is_none() => (String::new(), vec![], String::new()),
        Err(e) => (
            dir.unwrap_or("").to_string(),
            vec![],
            crate::http::pages::error_text::detail(&e, l),
        ),
    }
}

/// The page with the current status; `f` adjusts it (messages, form values).
async fn build(
    app: &AppState,
    auth: &PageAuth,
    l: &str,
    dir: Option<String>,
    f: impl FnOnce(&mut BackupPage),
) -> Result<BackupPage, Error> {
    let actor = auth.0.actor.clone();
    let status: BackupStatus = app.run(move |s| s.backup_status(&actor)).await?;
    let (app2, actor, l2) = (app.clone(), auth.0.actor.clone(), l.to_string());
    let (dir, files, files_error) =
        tokio::task::spawn_blocking(move || files_of(&app2, &actor, dir.as_deref(), &l2))
            .await
            .map_err(Error::internal)?;
    let s = &status.state;
    let mut page = BackupPage {
        base: Base::new(l, "backup.title", Some(&auth.0), app),
        warning: status
            .warning
            .as_deref()
            .map(|w| super::error_text::in_lang(w, l)),
        message: String::new(),
        error: String::new(),
        running: status.running,
        last_ok: s.last_success.as_ref().map(|o| LastOk {
            at: local_time(app, &o.at),
            path: o.path.clone(),
            size: size_text(o.size),
            seconds: format!("{:.1}", o.seconds),
            tickets: o.tickets,
        }),
        last_try: s.last_attempt.as_ref().map(|a| LastTry {
            at: local_time(app, &a.at),
            ok: a.ok,
            error: a.error.clone(),
            trigger: match a.trigger.as_str() {
                "manual" => crate::http::i18n::t(l, "backup.trigger_manual").to_string(),
                "scheduled" => crate::http::i18n::t(l, "backup.trigger_scheduled").to_string(),
                other => other.to_string(),
            },
        }),
        drives: status
            .drives
            .iter()
            .map(|d| DriveView {
                path: d.path.clone(),
                free: d.free.map(size_text).unwrap_or_default(),
            })
            .collect(),
        folder: if s.last_target.is_empty() {
            s.schedule.target.clone()
        } else {
            s.last_target.clone()
        },
        schedule: s.schedule.clone(),
        schedule_errors: vec![],
        dir,
        files,
        files_error,
    };
    f(&mut page);
    Ok(page)
}

#[derive(Deserialize)]
pub struct PageQuery {
    done: Option<String>,
    saved: Option<String>,
    dir: Option<String>,
}

pub async fn page(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let l = lang(&headers);
    auth.0.actor.require(Permission::Administer).page(&l)?;
    let base_t = |k: &str| crate::http::i18n::t(&l, k);
    let message = if let Some(name) = &q.done {
        format!("{}：{name}", base_t("backup.done"))
    } else if q.saved.is_some() {
        base_t("backup.schedule_saved").to_string()
    } else {
        String::new()
    };
    let dir = q.dir.filter(|d| !d.trim().is_empty());
    let p = build(&app, &auth, &l, dir, |p| p.message = message)
        .await
        .page(&l)?;
    Ok(render(&p))
}

fn with_status(status: StatusCode, r: Response) -> Response {
    let mut r = r;
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

/// Backs up to the drive whose button was pressed, or to the typed folder.
pub async fn back_up_now(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = parse_form(&body);
    check_post(&auth, &f).page(&l)?;
    let drive = form_get(&f, "drive");
    let to = if drive.is_empty() {
        form_get(&f, "folder")
    } else {
        drive
    };
    let actor = auth.0.actor.clone();
    let to2 = to.clone();
    match app.run(move |s| s.backup_now(&actor, &to2)).await {
        Ok(done) => Ok(see_other(&format!(
            "/admin/backup?done={}",
            urlencode(&done.file_name)
        ))),
        Err(e) => {
            let status = status_of(&e);
            let msg = crate::http::pages::error_text::detail(&e, &l);
            let p = build(&app, &auth, &l, None, |p| {
                p.error = msg;
                p.folder = to;
            })
            .await
            .page(&l)?;
            Ok(with_status(status, render(&p)))
        }
    }
}

pub async fn save_schedule(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = parse_form(&body);
    check_post(&auth, &f).page(&l)?;
    let mut errors = vec![];
    let mut num = |k: &str| -> u32 {
        form_get(&f, k).parse().unwrap_or_else(|_| {
            errors.push(FieldError::new(k, "须填写整数 (enter a whole number)"));
            0
        })
    };
    let sch = Schedule {
        enabled: !form_get(&f, "enabled").is_empty(),
        time: form_get(&f, "time"),
        target: form_get(&f, "target"),
        keep: num("keep"),
        warn_after_days: num("warn_after_days"),
    };
    let result = if errors.is_empty() {
        let actor = auth.0.actor.clone();
        let s2 = sch.clone();
        app.run(move |s| s.set_backup_schedule(&actor, s2)).await
    } else {
        Err(Error::Validation(errors))
    };
    match result {
        Ok(_) => Ok(see_other("/admin/backup?saved=1")),
        Err(Error::Validation(errs)) => {
            let p = build(&app, &auth, &l, None, |p| {
                p.schedule = sch;
                p.schedule_errors = errs;
            })
            .await
            .page(&l)?;
            Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&p)))
        }
        Err(e) => Err(e).page(&l),
    }
}

// ----------------------------------------------------------------- restore

/// One line of what a verified backup holds.
struct Fact {
    key: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "admin_restore.html")]
struct RestorePage {
    base: Base,
    dir: String,
    files: Vec<FileView>,
    files_error: String,
    /// The file being checked.
    path: String,
    error: String,
    verified: Vec<Fact>,
    warnings: Vec<String>,
    data_dir: String,
    program: String,
    windows: bool,
}

fn facts(m: &Manifest, size: u64, app: &AppState) -> Vec<Fact> {
    let c = &m.counts;
    vec![
        Fact {
            key: "backup.center",
            value: m.center.clone(),
        },
        Fact {
            key: "backup.created",
            value: local_time(app, &m.created_at),
        },
        Fact {
            key: "backup.program",
            value: format!("{} (schema {})", m.program_version, m.schema_version),
        },
        Fact {
            key: "backup.tickets_events",
            value: format!("{} / {}", c.tickets, c.events),
        },
        Fact {
            key: "backup.users",
            value: c.users.to_string(),
        },
        Fact {
            key: "backup.units",
            value: c.units.to_string(),
        },
        Fact {
            key: "backup.categories",
            value: c.categories.to_string(),
        },
        Fact {
            key: "backup.articles",
            value: c.articles.to_string(),
        },
        Fact {
            key: "backup.attachments",
            value: c.attachments.to_string(),
        },
        Fact {
            key: "backup.size",
            value: size_text(size),
        },
    ]
}

fn restore_view(
    app: &AppState,
    auth: &PageAuth,
    l: &str,
    dir: Option<String>,
    path: String,
) -> RestorePage {
    let (dir, files, files_error) = files_of(app, &auth.0.actor, dir.as_deref(), l);
    let data_dir = &app.svc.paths.data_dir;
    let data_dir = data_dir
        .canonicalize()
        .unwrap_or_else(|_| data_dir.clone())
        .display()
        .to_string();
    let program = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "hotline".into());
    RestorePage {
        base: Base::new(l, "backup.restore_title", Some(&auth.0), app),
        dir,
        files,
        files_error,
        path,
        error: String::new(),
        verified: vec![],
        warnings: vec![],
        data_dir,
        program,
        windows: cfg!(windows),
    }
}

#[derive(Deserialize)]
pub struct RestoreQuery {
    dir: Option<String>,
}

pub async fn restore_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(q): Query<RestoreQuery>,
) -> PageResult {
    let l = lang(&headers);
    auth.0.actor.require(Permission::Administer).page(&l)?;
    let dir = q.dir.filter(|d| !d.trim().is_empty());
    let app2 = app.clone();
    let p = tokio::task::spawn_blocking(move || restore_view(&app2, &auth, &l, dir, String::new()))
        .await
        .map_err(Error::internal)
        .page(&lang(&headers))?;
    Ok(render(&p))
}

/// Verifies a file and shows what it holds, with the command to restore it.
pub async fn verify_file(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = parse_form(&body);
    check_post(&auth, &f).page(&l)?;
    let path = form_get(&f, "path");
    let dir = std::path::Path::new(&path)
        .parent()
        .map(|p| p.display().to_string())
        .filter(|d| !d.is_empty());
    let actor = auth.0.actor.clone();
    let p2 = path.clone();
    let result = app.run(move |s| s.verify_backup(&actor, &p2)).await;
    let app2 = app.clone();
    let l2 = l.clone();
    let mut page = tokio::task::spawn_blocking(move || restore_view(&app2, &auth, &l2, dir, path))
        .await
        .map_err(Error::internal)
        .page(&l)?;
    let status = match result {
        Ok(v) => {
            page.verified = facts(&v.manifest, v.size, &app);
            page.warnings = v.manifest.warnings;
            StatusCode::OK
        }
        Err(e) => {
            page.error = crate::http::pages::error_text::detail(&e, &l);
            status_of(&e)
        }
    };
    Ok(with_status(status, render(&page)))
}
