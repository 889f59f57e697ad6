//! Backups (administrators only).
//!
//! - `POST /api/v1/admin/backups` `{"to": "<folder>"}`: make a backup now;
//!   answers with the file and its manifest once it was written, read back
//!   and verified
//! - `GET /api/v1/admin/backups?dir=`: backup files in a folder
//! - `GET /api/v1/admin/backups/status`: last backups, schedule, warning,
//!   removable drives
//! - `PUT /api/v1/admin/backups/schedule`: the nightly schedule
//! - `POST /api/v1/admin/backups/verify` `{"path": "<file>"}`: check a file
//!
//! Restoring needs the server stopped: `hotline restore FILE --data-dir DIR`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::backup::state::Schedule;
use crate::backup::{BackupDone, BackupFile, BackupStatus, Verified};
use crate::http::AppState;
use crate::http::auth::ApiAuth;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::problem::{ApiResult, Problem};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_backup, list_backups))
        .routes(routes!(backup_status))
        .routes(routes!(set_schedule))
        .routes(routes!(verify_backup))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupIn {
    /// An existing folder on the server's PC, e.g. a USB drive from
    /// `GET /api/v1/admin/backups/status` (`drives`). Not inside the data
    /// folder.
    pub to: String,
}

/// Makes a backup now: a consistent snapshot of the database, the
/// attachments and `hotline.toml`, taken while users go on working, written
/// as `hotline-backup-<center>-<YYYYMMDD-HHMMSS>.hlbk` into `to`, flushed,
/// read back and verified before this answers. A target that does not
/// exist, cannot be written or fills up answers 422 with the reason, and no
/// partial file is left behind; 409 while another backup runs.
#[utoipa::path(post, path = "/api/v1/admin/backups", tag = "admin", request_body = BackupIn,
    responses((status = 201, body = BackupDone), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_backup(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<BackupIn>,
) -> ApiResult<(StatusCode, Json<BackupDone>)> {
    let done = app.run(move |s| s.backup_now(&a.actor, &b.to)).await?;
    Ok((StatusCode::CREATED, Json(done)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The folder; default: the folder of the last successful backup made
    /// by hand (else the nightly backup's folder).
    pub dir: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BackupList {
    pub dir: String,
    /// Newest first.
    pub files: Vec<BackupFile>,
}

/// Backup files (`hotline-backup-*.hlbk`) in a folder, newest first.
#[utoipa::path(get, path = "/api/v1/admin/backups", tag = "admin", params(ListQuery),
    responses((status = 200, body = BackupList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_backups(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<BackupList>> {
    let (dir, files) = app
        .run(move |s| s.backup_files(&a.actor, q.dir.as_deref()))
        .await?;
    Ok(Json(BackupList { dir, files }))
}

/// The last backup and the last attempt, the nightly schedule, the warning
/// administrators see (last attempt failed, no backup yet, or the last
/// successful one older than `warn_after_days`), and the removable drives
/// plugged in now.
#[utoipa::path(get, path = "/api/v1/admin/backups/status", tag = "admin",
    responses((status = 200, body = BackupStatus), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn backup_status(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<BackupStatus>> {
    Ok(Json(app.run(move |s| s.backup_status(&a.actor)).await?))
}

/// Sets the nightly backup: time of day (`HH:MM`, the center's zone),
/// target folder, how many files to keep there, and after how many days
/// without a successful backup administrators are warned.
#[utoipa::path(put, path = "/api/v1/admin/backups/schedule", tag = "admin", request_body = Schedule,
    responses((status = 200, body = Schedule), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_schedule(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<Schedule>,
) -> ApiResult<Json<Schedule>> {
    Ok(Json(
        app.run(move |s| s.set_backup_schedule(&a.actor, b)).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyIn {
    /// A backup file on the server's PC.
    pub path: String,
}

/// Checks a backup file completely without restoring it: structure, every
/// member's size and SHA-256, versions, and that the database opens and
/// holds what the manifest counts. A bad file answers 422 with the reason.
#[utoipa::path(post, path = "/api/v1/admin/backups/verify", tag = "admin", request_body = VerifyIn,
    responses((status = 200, body = Verified), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn verify_backup(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<VerifyIn>,
) -> ApiResult<Json<Verified>> {
    Ok(Json(
        app.run(move |s| s.verify_backup(&a.actor, &b.path)).await?,
    ))
}
