//! Backups as use cases of the running server (administrators only), and
//! the nightly scheduler.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use super::state::{self, BackupState, Drive, Schedule};
use super::{BackupDone, BackupError, BackupFile, Options, Progress, ProgressView, Verified};
use crate::domain::permissions::Permission;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::service::{Actor, Services};

/// Data dirs with a backup in progress (one at a time per data dir), with
/// how far each is.
static RUNNING: Mutex<Vec<(PathBuf, Arc<Progress>)>> = Mutex::new(Vec::new());

struct Running(PathBuf, Arc<Progress>);

impl Running {
    fn take(data_dir: &Path) -> std::result::Result<Running, BackupError> {
        let mut r = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
        if r.iter().any(|(p, _)| p == data_dir) {
            return Err(BackupError::Busy(
                "已有一个备份正在进行，请稍候 (a backup is already running; wait for it to finish)"
                    .into(),
            ));
        }
        let progress = Arc::new(Progress::default());
        r.push((data_dir.to_path_buf(), progress.clone()));
        Ok(Running(data_dir.to_path_buf(), progress))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut r = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
        r.retain(|(p, _)| p != &self.0);
    }
}

/// How far the backup of `data_dir` is, when one is running.
fn running(data_dir: &Path) -> Option<ProgressView> {
    RUNNING
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|(p, _)| p == data_dir)
        .map(|(_, progress)| progress.view())
}

/// What the backup page and `GET /api/v1/admin/backups/status` show.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BackupStatus {
    pub state: BackupState,
    /// Shown to administrators: the last attempt failed, there is no backup
    /// yet, or the last one is too old.
    pub warning: Option<String>,
    /// Removable drives plugged in now.
    pub drives: Vec<Drive>,
    /// A backup is being written now.
    pub running: bool,
    /// How far it is, while one runs.
    pub progress: Option<ProgressView>,
    pub data_dir: String,
}

impl Services {
    /// Makes a backup now into folder `to` (administrators).
    pub fn backup_now(&self, actor: &Actor, to: &str) -> Result<BackupDone> {
        actor.require(Permission::Administer)?;
        Ok(self.run_backup_as(actor.user.id, Path::new(to.trim()), "manual")?)
    }

    /// Makes a backup and records the outcome in `backup-state.json` and
    /// the audit log (as the system).
    pub fn run_backup(
        &self,
        to: &Path,
        trigger: &str,
    ) -> std::result::Result<BackupDone, BackupError> {
        self.run_backup_as(0, to, trigger)
    }

    fn run_backup_as(
        &self,
        user_id: u32,
        to: &Path,
        trigger: &str,
    ) -> std::result::Result<BackupDone, BackupError> {
        let data_dir = &self.paths.data_dir;
        let running = Running::take(data_dir)?;
        let now = jiff::Timestamp::now();
        let opts = Options {
            progress: Some(running.1.clone()),
            ..Options::default()
        };
        let r = super::back_up(&self.store, data_dir, to, now, &opts);
        drop(running);
        if let Err(e) = &r {
            tracing::error!(error = %e, target = %to.display(), trigger, "backup failed");
        }
        state::record(data_dir, now, trigger, to, &r);
        match &r {
            Ok(d) => self.audit(
                user_id,
                "backup.create",
                &d.path,
                &format!(
                    "{trigger}; {} tickets, {} bytes",
                    d.manifest.counts.tickets, d.size
                ),
            ),
            Err(e) => self.audit(
                user_id,
                "backup.failed",
                &to.display().to_string(),
                &format!("{trigger}; {e}"),
            ),
        }
        r
    }

    /// How far the backup of this data dir is, while one runs (the
    /// terminal's progress bar; the page reads it from `backup_status`).
    pub fn backup_progress(&self) -> Option<ProgressView> {
        running(&self.paths.data_dir)
    }

    pub fn backup_status(&self, actor: &Actor) -> Result<BackupStatus> {
        actor.require(Permission::Administer)?;
        let data_dir = &self.paths.data_dir;
        let s = state::load(data_dir);
        let progress = running(data_dir);
        Ok(BackupStatus {
            warning: state::warning_in(&s, jiff::Timestamp::now(), &self.dir().settings.tz()),
            state: s,
            drives: state::removable_drives(),
            running: progress.is_some(),
            progress,
            data_dir: data_dir.display().to_string(),
        })
    }

    /// The warning for administrators (no permission check: callers show it
    /// only to administrators).
    pub fn backup_warning(&self) -> Option<String> {
        state::warning_for(
            &self.paths.data_dir,
            jiff::Timestamp::now(),
            &self.dir().settings.tz(),
        )
    }

    /// Backup files in `dir` (default: the last target), newest first.
    pub fn backup_files(
        &self,
        actor: &Actor,
        dir: Option<&str>,
    ) -> Result<(String, Vec<BackupFile>)> {
        actor.require(Permission::Administer)?;
        let dir = match dir.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => d.to_string(),
            None => {
                let s = state::load(&self.paths.data_dir);
                if s.last_target.is_empty() {
                    s.schedule.target
                } else {
                    s.last_target
                }
            }
        };
        if dir.is_empty() {
            return Err(Error::field(
                "dir",
                "请指定文件夹 (give the folder to list)",
            ));
        }
        let files = super::list_backups(Path::new(&dir)).map_err(|e| {
            Error::field(
                "dir",
                format!("无法读取文件夹 {dir} (cannot read the folder): {e}"),
            )
        })?;
        Ok((dir, files))
    }

    /// Changes the nightly schedule.
    pub fn set_backup_schedule(&self, actor: &Actor, sch: Schedule) -> Result<Schedule> {
        actor.require(Permission::Administer)?;
        let mut sch = sch;
        sch.time = sch.time.trim().to_string();
        sch.target = sch.target.trim().to_string();
        let errors = sch.validate();
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if sch.enabled {
            super::check_target(Path::new(&sch.target), &self.paths.data_dir)
                .map_err(|e| Error::field("target", e.to_string()))?;
        }
        let detail = format!(
            "enabled={} time={} keep={} warn_after_days={}",
            sch.enabled, sch.time, sch.keep, sch.warn_after_days
        );
        let target = sch.target.clone();
        let s =
            state::update(&self.paths.data_dir, |s| s.schedule = sch).map_err(Error::internal)?;
        self.audit(actor.user.id, "backup.schedule", &target, &detail);
        Ok(s.schedule)
    }

    /// Verifies a backup file (without restoring it).
    pub fn verify_backup(&self, actor: &Actor, path: &str) -> Result<Verified> {
        actor.require(Permission::Administer)?;
        super::verify(Path::new(path.trim())).map_err(|e| match e {
            BackupError::Refused(m) | BackupError::Target(m) => Error::field("path", m),
            other => other.into(),
        })
    }

    /// Runs the nightly backup if it is due at `now` (wall clock): records
    /// the day first, so that a failure is reported once, not retried all
    /// day. Returns the outcome when it ran.
    pub fn run_scheduled_backup_if_due(
        &self,
        now: jiff::Timestamp,
    ) -> Option<std::result::Result<BackupDone, BackupError>> {
        let data_dir = &self.paths.data_dir;
        let local = now.to_zoned(self.dir().settings.tz());
        let s = state::load(data_dir);
        if !state::due(&s, &local) || running(data_dir).is_some() {
            return None;
        }
        let today = local.date().to_string();
        if let Err(e) = state::update(data_dir, |s| s.last_scheduled_day = today) {
            tracing::error!(error = %e, "cannot write {}", state::STATE_FILE);
            return None;
        }
        let target = PathBuf::from(&s.schedule.target);
        tracing::info!(target = %target.display(), "nightly backup starting");
        let r = self.run_backup(&target, "scheduled");
        if let Ok(done) = &r {
            let removed = state::prune(
                &target,
                &super::name_part(&done.manifest.center),
                s.schedule.keep,
            );
            if !removed.is_empty() {
                tracing::info!(
                    ?removed,
                    "old backups removed (keeping {})",
                    s.schedule.keep
                );
            }
        }
        Some(r)
    }
}

/// Starts the nightly backup task (call once from `serve`, next to
/// `spawn_sweeper`). It looks every 30 seconds whether the scheduled time
/// has come; a backup missed while the server was off runs at the next
/// start on the same day or later.
pub fn spawn_scheduler(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(30));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let svc = state.svc.clone();
            let r = tokio::task::spawn_blocking(move || {
                svc.run_scheduled_backup_if_due(jiff::Timestamp::now())
            })
            .await;
            match r {
                Ok(Some(Ok(done))) => {
                    tracing::info!(path = %done.path, "nightly backup done")
                }
                Ok(Some(Err(e))) => tracing::error!(error = %e, "nightly backup failed"),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "nightly backup task failed"),
            }
        }
    });
}
