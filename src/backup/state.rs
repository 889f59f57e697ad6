//! `<data dir>/backup-state.json`: the last target, the outcome of the last
//! backups, and the nightly schedule. A small file of this PC (not part of
//! the data: it is not in backups, and a restore keeps this PC's copy).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const STATE_FILE: &str = "backup-state.json";
/// Default age after which the last successful backup is too old.
pub const DEFAULT_WARN_DAYS: u32 = 2;

/// The nightly schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Schedule {
    pub enabled: bool,
    /// Local time of day in the center's zone, `HH:MM`.
    pub time: String,
    /// Folder to write to (must exist when the backup runs).
    pub target: String,
    /// How many of this center's backup files to keep in the folder (1–365).
    pub keep: u32,
    /// Warn when the last successful backup is older than this many days.
    pub warn_after_days: u32,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            enabled: false,
            time: "02:00".into(),
            target: String::new(),
            keep: 7,
            warn_after_days: DEFAULT_WARN_DAYS,
        }
    }
}

impl Schedule {
    /// Checks the fields; the messages name the field.
    pub fn validate(&self) -> Vec<crate::domain::ticket::FieldError> {
        use crate::domain::ticket::FieldError;
        let mut e = vec![];
        if parse_hhmm(&self.time).is_none() {
            e.push(FieldError::new(
                "time",
                "时间格式为 HH:MM，如 02:00 (use HH:MM, e.g. 02:00)",
            ));
        }
        if !(1..=365).contains(&self.keep) {
            e.push(FieldError::new(
                "keep",
                "保留份数须为 1–365 (keep 1–365 files)",
            ));
        }
        if !(1..=365).contains(&self.warn_after_days) {
            e.push(FieldError::new(
                "warn_after_days",
                "须为 1–365 天 (1–365 days)",
            ));
        }
        if self.enabled && self.target.trim().is_empty() {
            e.push(FieldError::new(
                "target",
                "启用定时备份须填写目标文件夹 (a nightly backup needs a target folder)",
            ));
        }
        e
    }
}

pub fn parse_hhmm(s: &str) -> Option<(i8, i8)> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m) && s.trim().len() == 5).then_some((h, m))
}

/// The last successful backup.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct LastSuccess {
    /// RFC 3339.
    pub at: String,
    pub path: String,
    pub size: u64,
    pub seconds: f64,
    pub tickets: u64,
}

/// The last attempt, successful or not.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct LastAttempt {
    /// RFC 3339.
    pub at: String,
    pub ok: bool,
    /// Why it failed.
    pub error: String,
    /// `manual` (page, API, command line) or `scheduled`.
    pub trigger: String,
    pub target: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct BackupState {
    /// The folder of the last successful backup made by hand (the form's
    /// default).
    pub last_target: String,
    pub last_success: Option<LastSuccess>,
    pub last_attempt: Option<LastAttempt>,
    pub schedule: Schedule,
    /// The center-local date (`YYYY-MM-DD`) of the last scheduled run.
    pub last_scheduled_day: String,
}

/// One lock for every read-modify-write of a state file in this process.
static LOCK: Mutex<()> = Mutex::new(());

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(STATE_FILE)
}

/// The state (defaults when the file is missing or unreadable).
pub fn load(data_dir: &Path) -> BackupState {
    std::fs::read(path(data_dir))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Changes the state file (written to a temporary name, then renamed).
pub fn update(data_dir: &Path, f: impl FnOnce(&mut BackupState)) -> std::io::Result<BackupState> {
    let _g = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let mut s = load(data_dir);
    f(&mut s);
    let tmp = data_dir.join(format!(".{STATE_FILE}.tmp"));
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&s).expect("state serialises"),
    )?;
    std::fs::rename(&tmp, path(data_dir))?;
    Ok(s)
}

/// Records the outcome of a backup.
pub fn record(
    data_dir: &Path,
    now: jiff::Timestamp,
    trigger: &str,
    target: &Path,
    outcome: &Result<super::BackupDone, super::BackupError>,
) {
    let r = update(data_dir, |s| {
        let at = now.to_string();
        // The form offers the folder of the last successful backup made by
        // hand (a mistyped folder does not replace it).
        if trigger == "manual" && outcome.is_ok() {
            s.last_target = target.display().to_string();
        }
        s.last_attempt = Some(LastAttempt {
            at: at.clone(),
            ok: outcome.is_ok(),
            error: match outcome {
                Ok(_) => String::new(),
                Err(e) => e.to_string(),
            },
            trigger: trigger.into(),
            target: target.display().to_string(),
        });
        if let Ok(d) = outcome {
            s.last_success = Some(LastSuccess {
                at,
                path: d.path.clone(),
                size: d.size,
                seconds: d.seconds,
                tickets: d.manifest.counts.tickets,
            });
        }
    });
    if let Err(e) = r {
        tracing::error!(error = %e, "cannot write {STATE_FILE}");
    }
}

/// The warning to show administrators, if any: the last attempt failed,
/// there never was a backup, or the last one is older than the threshold.
pub fn warning(s: &BackupState, now: jiff::Timestamp) -> Option<String> {
    warning_in(s, now, &jiff::tz::TimeZone::system())
}

/// [`warning`] with its times in the zone `tz` (the center's).
pub fn warning_in(
    s: &BackupState,
    now: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Option<String> {
    let short_time = |rfc: &str| short_time(rfc, tz);
    if let Some(a) = &s.last_attempt
        && !a.ok
    {
        return Some(format!(
            "上次备份失败（{}）：{} (the last backup failed)",
            short_time(&a.at),
            a.error
        ));
    }
    let days = s.schedule.warn_after_days.max(1);
    match &s.last_success {
        None => Some(
            "还没有做过备份，请立即备份到U盘 (there is no backup yet: back up to a USB drive now)"
                .into(),
        ),
        Some(l) => {
            let at: jiff::Timestamp = l.at.parse().ok()?;
            let age = now.duration_since(at).as_secs();
            (age > i64::from(days) * 86_400).then(|| {
                format!(
                    "最近一次成功备份已是 {} 天前（{}），请尽快备份 (the last successful backup is {} days old)",
                    age / 86_400,
                    short_time(&l.at),
                    age / 86_400
                )
            })
        }
    }
}

fn short_time(rfc: &str, tz: &jiff::tz::TimeZone) -> String {
    rfc.parse::<jiff::Timestamp>()
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| rfc.to_string())
}

/// The warning for a data dir (for the home page and dashboards).
pub fn warning_for(
    data_dir: &Path,
    now: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Option<String> {
    warning_in(&load(data_dir), now, tz)
}

/// Whether the scheduled backup should run now: enabled, the time of day
/// has come in the center's zone, and it has not run today.
pub fn due(s: &BackupState, now: &jiff::Zoned) -> bool {
    let sch = &s.schedule;
    if !sch.enabled || sch.target.trim().is_empty() {
        return false;
    }
    let Some((h, m)) = parse_hhmm(&sch.time) else {
        return false;
    };
    let today = now.date().to_string();
    s.last_scheduled_day != today && (now.hour(), now.minute()) >= (h, m)
}

/// Removes the oldest of this center's backup files in `dir` beyond `keep`
/// (only after a successful backup). Returns the removed names.
pub fn prune(dir: &Path, center_part: &str, keep: u32) -> Vec<String> {
    let prefix = format!("{}{center_part}-", super::FILE_PREFIX);
    let Ok(files) = super::list_backups(dir) else {
        return vec![];
    };
    files
        .into_iter()
        .filter(|f| {
            f.file_name.starts_with(&prefix)
                && f.file_name[prefix.len()..]
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_digit())
        })
        .skip(keep.max(1) as usize)
        .filter_map(|f| match std::fs::remove_file(&f.path) {
            Ok(()) => Some(f.file_name),
            Err(e) => {
                tracing::warn!(file = %f.path, error = %e, "cannot remove an old backup");
                None
            }
        })
        .collect()
}

/// A drive or mounted medium a backup could go to.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Drive {
    pub path: String,
    /// Free bytes, when known.
    pub free: Option<u64>,
}

/// Removable drives that are plugged in: on Linux the file systems mounted
/// under `/media` and `/run/media` (where desktops mount USB drives); on
/// Windows the drive letters D: to Z: that exist.
pub fn removable_drives() -> Vec<Drive> {
    let mut paths: Vec<PathBuf> = vec![];
    #[cfg(unix)]
    {
        let under = |p: &str| p.starts_with("/media/") || p.starts_with("/run/media/");
        match std::fs::read_to_string("/proc/self/mounts") {
            Ok(m) => {
                for line in m.lines() {
                    if let Some(mp) = line.split(' ').nth(1) {
                        let mp = mp.replace("\\040", " ");
                        if under(&mp) {
                            paths.push(PathBuf::from(mp));
                        }
                    }
                }
            }
            Err(_) => {
                // No /proc: the folders one and two levels down.
                for base in ["/media", "/run/media"] {
                    for d in std::fs::read_dir(base).into_iter().flatten().flatten() {
                        for s in std::fs::read_dir(d.path()).into_iter().flatten().flatten() {
                            if s.path().is_dir() {
                                paths.push(s.path());
                            }
                        }
                    }
                }
            }
        }
    }
    #[cfg(windows)]
    {
        for letter in b'D'..=b'Z' {
            let p = PathBuf::from(format!("{}:\\", letter as char));
            if std::fs::metadata(&p).is_ok() {
                paths.push(p);
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .map(|p| Drive {
            free: free_space(&p),
            path: p.display().to_string(),
        })
        .collect()
}

/// Free bytes on the file system holding `p` (Linux only for now).
pub fn free_space(p: &Path) -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(p.as_os_str().as_bytes()).ok()?;
        let mut s = std::mem::MaybeUninit::<libc::statvfs>::uninit();
        // SAFETY: `c` is a valid NUL-terminated path and `s` is a properly
        // sized out-parameter that statvfs fills when it returns 0.
        let r = unsafe { libc::statvfs(c.as_ptr(), s.as_mut_ptr()) };
        if r != 0 {
            return None;
        }
        // SAFETY: statvfs returned 0, so it initialised `s`.
        let s = unsafe { s.assume_init() };
        // The field types differ between targets (32 or 64 bits).
        #[allow(clippy::unnecessary_cast)]
        Some(s.f_bavail as u64 * s.f_frsize as u64)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = p;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_and_warning() {
        assert_eq!(parse_hhmm("02:30"), Some((2, 30)));
        assert_eq!(parse_hhmm("2:30"), None);
        assert_eq!(parse_hhmm("24:00"), None);
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        let mut s = BackupState::default();
        let now: jiff::Timestamp = "2026-11-22T18:30:00Z".parse().unwrap(); // 02:30 local
        assert!(!due(&s, &now.to_zoned(tz.clone())));
        s.schedule.enabled = true;
        s.schedule.target = "/x".into();
        assert!(due(&s, &now.to_zoned(tz.clone())));
        s.last_scheduled_day = "2026-11-23".into();
        assert!(!due(&s, &now.to_zoned(tz.clone())));
        s.schedule.time = "03:00".into();
        s.last_scheduled_day = "2026-11-22".into();
        assert!(!due(&s, &now.to_zoned(tz)));

        assert!(warning(&s, now).unwrap().contains("no backup yet"));
        s.last_success = Some(LastSuccess {
            at: "2026-11-21T18:30:00Z".into(),
            ..Default::default()
        });
        assert_eq!(warning(&s, now), None);
        s.last_success.as_mut().unwrap().at = "2026-11-19T18:00:00Z".into();
        assert!(warning(&s, now).unwrap().contains("3 days old"));
        s.last_attempt = Some(LastAttempt {
            at: now.to_string(),
            ok: false,
            error: "disk full".into(),
            ..Default::default()
        });
        assert!(warning(&s, now).unwrap().contains("disk full"));
    }
}
