//! Backups: one verified file holding everything a center needs to start
//! again on another PC, made while the server keeps working; verification;
//! restore; nightly schedule.
//!
//! # The backup file (`hotline-backup-<center>-<YYYYMMDD-HHMMSS>.hlbk`)
//!
//! A plain POSIX tar archive (ustar), so that any tar tool or 7-Zip can
//! open it even without this program. Members, in this order:
//!
//! | member | what |
//! |---|---|
//! | `HOTLINE-BACKUP.txt` | always first: says what the file is and how to restore it (the file's "magic") |
//! | `hotline.redb` | the database: a consistent copy of every table as of one instant |
//! | `hotline.toml` | the configuration file, when the data dir has one |
//! | `attachments/ab/<sha256>` | every attachment file, named by the SHA-256 of its content |
//! | `manifest.json` | format and program version, schema version, creation time, center, counts, and every member above with its size and SHA-256 |
//! | `SHA256SUMS` | the SHA-256 of every member including `manifest.json`, in `sha256sum -c` form |
//!
//! then the two zero blocks that end a tar archive, and nothing else. The
//! search index is not included (it is rebuilt from the database).
//! `docs/BACKUP-FORMAT.md` describes the format for people.
//!
//! # Writing
//!
//! The database is copied from one redb read transaction ([`snapshot`])
//! while users go on working: row by row into a new redb database that
//! lives directly inside the archive file (the `hotline.redb` member is
//! written in place, never staged on the data disk). Attachments are
//! immutable and content-addressed, and are listed after the snapshot
//! began, so every file its tickets name is there. The archive is written
//! under a hidden temporary name in the target folder, flushed to the
//! device, its cached pages dropped (Linux), read back and verified in
//! full, and only then renamed to its final name. Any failure removes the
//! temporary file: the target never holds a partial backup under a
//! backup's name.

pub mod restore;
pub mod service;
pub mod snapshot;
pub mod state;
pub mod tar;

pub use service::{BackupStatus, spawn_scheduler};

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::store::Store;
use snapshot::{DbFacts, Slice};

/// `format` in the manifest.
pub const FORMAT: &str = "hotline-backup";
/// The archive layout version this program writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The extension of backup files.
pub const EXTENSION: &str = "hlbk";
pub const README_NAME: &str = "HOTLINE-BACKUP.txt";
pub const DB_NAME: &str = "hotline.redb";
pub const CONFIG_NAME: &str = crate::config::CONFIG_FILE;
pub const MANIFEST_NAME: &str = "manifest.json";
pub const SUMS_NAME: &str = "SHA256SUMS";
/// Prefix of backup file names.
pub const FILE_PREFIX: &str = "hotline-backup-";

const README: &str = "Hotline backup, format 1\n\
\n\
This file is a backup of a Hotline (热线工单系统) data folder. It is a\n\
standard tar archive; manifest.json lists every member with its size and\n\
SHA-256, and SHA256SUMS can be checked with `sha256sum -c SHA256SUMS`.\n\
\n\
Check it:    hotline verify <this file>\n\
Restore it:  hotline restore <this file> --data-dir <data folder>\n\
             (stop the Hotline server first; the current data is moved aside, never deleted)\n\
\n\
本文件是热线工单系统的数据备份。检查：hotline verify <文件>；\n\
恢复：先停止热线服务，再运行 hotline restore <文件> --data-dir <数据文件夹>。\n";

const COPY_BUF: usize = 1 << 20;

/// Why a backup, a verification or a restore did not happen. Every message
/// says what to do (Chinese first, English in parentheses).
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target folder or the data dir cannot be used as asked.
    #[error("{0}")]
    Target(String),
    /// The file is not an acceptable backup (foreign, truncated, damaged,
    /// newer); nothing was changed.
    #[error("{0}")]
    Refused(String),
    /// Another backup or the server is using the data.
    #[error("{0}")]
    Busy(String),
    /// Anything else (details for the log and the console).
    #[error("{0}")]
    Internal(String),
}

impl From<BackupError> for crate::error::Error {
    fn from(e: BackupError) -> Self {
        use crate::error::Error;
        match e {
            BackupError::Target(m) => Error::field("to", m),
            BackupError::Refused(m) => Error::field("file", m),
            BackupError::Busy(m) => Error::Conflict(m),
            BackupError::Internal(m) => Error::Internal(m),
        }
    }
}

type Result<T> = std::result::Result<T, BackupError>;

fn internal(e: impl std::fmt::Display) -> BackupError {
    BackupError::Internal(e.to_string())
}

/// What the database member holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    pub tickets: u64,
    /// Timeline events of all tickets.
    pub events: u64,
    pub users: u64,
    pub units: u64,
    pub categories: u64,
    /// Knowledge-base articles (each counted once, whatever its number of
    /// versions). Absent in manifests written before the knowledge base.
    #[serde(default)]
    pub articles: u64,
    /// Attachment files in the backup.
    pub attachments: u64,
}

/// One member of the archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub name: String,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Manifest {
    /// Always `hotline-backup`.
    pub format: String,
    /// Archive layout version (1).
    pub format_version: u32,
    /// Version of the program that made the backup.
    pub program_version: String,
    /// Schema version of the database member.
    pub schema_version: u32,
    /// RFC 3339 with the center's offset.
    pub created_at: String,
    pub center: String,
    pub counts: Counts,
    /// Every member but `manifest.json` and `SHA256SUMS`, in archive order.
    pub members: Vec<Member>,
    /// Problems found while backing up that did not stop it (e.g. an
    /// attachment whose content no longer matches its name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Manifest {
    /// Total bytes of the members.
    pub fn bytes(&self) -> u64 {
        self.members.iter().map(|m| m.size).sum()
    }

    /// A few lines a person can read before restoring.
    pub fn summary(&self) -> String {
        let c = &self.counts;
        format!(
            "center 中心:        {}\n\
             created 备份时间:   {}\n\
             program 程序版本:   {} (data schema {})\n\
             tickets 工单:       {} (timeline events 办理记录 {})\n\
             users 用户:         {}\n\
             units 单位:         {}\n\
             categories 分类:    {}\n\
             articles 知识:      {}\n\
             attachments 附件:   {}\n\
             size 数据量:        {:.1} MB",
            self.center,
            self.created_at,
            self.program_version,
            self.schema_version,
            c.tickets,
            c.events,
            c.users,
            c.units,
            c.categories,
            c.articles,
            c.attachments,
            self.bytes() as f64 / 1e6
        )
    }
}

/// A backup that was written and verified.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BackupDone {
    /// Full path of the backup file.
    pub path: String,
    pub file_name: String,
    /// Bytes.
    pub size: u64,
    /// Wall time of the whole backup, verification included.
    pub seconds: f64,
    pub manifest: Manifest,
}

/// Knobs of [`pack`].
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Fail with "disk full" once the file would grow past this many bytes
    /// (simulates a full target).
    pub write_limit: Option<u64>,
    /// Where the page and the terminal read how far the backup is.
    pub progress: Option<Arc<Progress>>,
}

/// How far a backup is: the phase and the bytes written of an estimate
/// (the database file's size plus the attachments'). Shared between the
/// backup and whoever shows it.
#[derive(Debug, Default)]
pub struct Progress {
    phase: std::sync::atomic::AtomicU8,
    done: AtomicU64,
    total: AtomicU64,
}

/// A reading of [`Progress`] for people.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProgressView {
    /// `starting`, `database`, `attachments`, `verifying`.
    pub phase: String,
    /// The phase in Chinese, for the page.
    pub phase_zh: String,
    pub done_bytes: u64,
    pub total_bytes: u64,
    /// 0–90 while it runs; the read-back verification is the last step.
    pub percent: u8,
}

impl Progress {
    const PHASES: [(&str, &str); 4] = [
        ("starting", "准备"),
        ("database", "复制数据库"),
        ("attachments", "复制附件"),
        ("verifying", "读回校验"),
    ];

    fn set_phase(&self, phase: u8) {
        self.phase.store(phase, Ordering::Relaxed);
    }

    pub fn view(&self) -> ProgressView {
        let phase = (self.phase.load(Ordering::Relaxed) as usize).min(Self::PHASES.len() - 1);
        let done = self.done.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed).max(1);
        // Verification reads the whole file back: the last 10 %.
        let share = if phase == 3 {
            90
        } else {
            (done.saturating_mul(90) / total).min(89)
        };
        ProgressView {
            phase: Self::PHASES[phase].0.into(),
            phase_zh: Self::PHASES[phase].1.into(),
            done_bytes: done,
            total_bytes: total,
            percent: share as u8,
        }
    }
}

/// Where the database member comes from.
pub enum DbSource<'a> {
    /// The running store: a consistent copy is taken from one read
    /// transaction and written straight into the archive.
    Live(&'a Store),
    /// A closed data file, copied as it is (any schema version).
    File(&'a Path),
}

/// What goes into an archive.
pub struct PackInput<'a> {
    pub db: DbSource<'a>,
    /// `hotline.toml`, when there is one.
    pub config: Option<&'a Path>,
    /// The `attachments` folder, when there is one.
    pub attachments: Option<&'a Path>,
    pub now: jiff::Timestamp,
}

/// Makes a backup of a running store into the existing folder `to`
/// (outside the data dir): snapshot, archive, verification.
pub fn back_up(
    store: &Store,
    data_dir: &Path,
    to: &Path,
    now: jiff::Timestamp,
    opts: &Options,
) -> Result<BackupDone> {
    let started = Instant::now();
    check_target(to, data_dir)?;
    let config = data_dir.join(CONFIG_NAME);
    let attachments = data_dir.join("attachments");
    let mut done = pack(
        &PackInput {
            db: DbSource::Live(store),
            config: config.is_file().then_some(config.as_path()),
            attachments: attachments.is_dir().then_some(attachments.as_path()),
            now,
        },
        to,
        opts,
    )?;
    done.seconds = started.elapsed().as_secs_f64();
    tracing::info!(path = %done.path, size = done.size, seconds = done.seconds, "backup written and verified");
    Ok(done)
}

/// The target must exist (a missing USB drive must not turn into a folder
/// on the system disk), lie outside the data dir, and take new files.
pub fn check_target(to: &Path, data_dir: &Path) -> Result<()> {
    if to.as_os_str().is_empty() {
        return Err(BackupError::Target(
            "请填写备份目标文件夹 (give the folder to back up to)".into(),
        ));
    }
    match std::fs::metadata(to) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(BackupError::Target(format!(
                "{} 不是文件夹 (is not a folder)",
                to.display()
            )));
        }
        Err(e) => {
            return Err(BackupError::Target(format!(
                "目标文件夹 {} 不存在或无法访问：{e}。请插入U盘或先建立该文件夹 (the target folder does not exist or cannot be reached: plug in the drive or create the folder)",
                to.display()
            )));
        }
    }
    if let (Ok(t), Ok(d)) = (to.canonicalize(), data_dir.canonicalize())
        && t.starts_with(&d)
    {
        return Err(BackupError::Target(format!(
            "备份不能放在数据文件夹 {} 之内：请选择U盘或其他磁盘 (a backup inside the data folder does not protect it: choose a USB drive or another disk)",
            d.display()
        )));
    }
    // Find out now, not after copying the database, that files cannot be
    // written there.
    let probe = to.join(format!(".hotline-write-test-{}", random_hex()));
    match File::options().write(true).create_new(true).open(&probe) {
        Ok(f) => {
            drop(f);
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(write_error(to, &e)),
    }
}

fn random_hex() -> String {
    hex::encode(rand::random::<[u8; 4]>())
}

/// A file name part from the center's name (no characters that Windows or
/// FAT refuse).
pub fn name_part(center: &str) -> String {
    let s: String = center
        .chars()
        .map(|c| {
            if c.is_control() || c.is_whitespace() || "<>:\"/\\|?*".contains(c) {
                '-'
            } else {
                c
            }
        })
        .take(40)
        .collect();
    let s = s.trim_matches(['-', '.']).to_string();
    if s.is_empty() { "hotline".into() } else { s }
}

fn zone(tz_name: &str) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(tz_name).unwrap_or_else(|_| {
        jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC)
    })
}

/// `hotline-backup-<center>-<YYYYMMDD-HHMMSS>.hlbk`.
pub fn file_name(center: &str, now: jiff::Timestamp, tz_name: &str) -> String {
    let z = now.to_zoned(zone(tz_name));
    format!(
        "{FILE_PREFIX}{}-{}.{EXTENSION}",
        name_part(center),
        z.strftime("%Y%m%d-%H%M%S")
    )
}

fn is_attachment_name(dir: &str, file: &str) -> bool {
    dir.len() == 2
        && file.len() == 64
        && file.starts_with(dir)
        && file
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Every attachment file: (member name, path), in name order.
fn list_attachments(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = vec![];
    let rd =
        std::fs::read_dir(dir).map_err(|e| internal(format!("listing {}: {e}", dir.display())))?;
    for sub in rd {
        let sub = sub.map_err(internal)?;
        let sname = sub.file_name().to_string_lossy().into_owned();
        if !sub.file_type().map_err(internal)?.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(sub.path()).map_err(internal)? {
            let f = f.map_err(internal)?;
            let fname = f.file_name().to_string_lossy().into_owned();
            // Temporary files of uploads in progress are skipped.
            if is_attachment_name(&sname, &fname) && f.file_type().map_err(internal)?.is_file() {
                out.push((format!("attachments/{sname}/{fname}"), f.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// An error while writing the backup file, in words about the target.
fn write_error(target: &Path, e: &io::Error) -> BackupError {
    write_error_kind(target, e.kind(), &e.to_string())
}

fn write_error_kind(target: &Path, kind: io::ErrorKind, e: &str) -> BackupError {
    use io::ErrorKind as K;
    let t = target.display();
    BackupError::Target(match kind {
        K::StorageFull | K::QuotaExceeded => format!(
            "目标磁盘已满，备份未完成，已删除未写完的文件 (the target drive {t} is full; the incomplete file was removed)"
        ),
        K::FileTooLarge => format!(
            "文件超过目标磁盘允许的大小（FAT32 格式的U盘单个文件不能超过 4 GB），请把U盘格式化为 exFAT 或 NTFS (the file is too large for {t}: FAT32 drives allow at most 4 GB per file; use exFAT or NTFS)"
        ),
        K::PermissionDenied | K::ReadOnlyFilesystem => format!(
            "无法写入目标文件夹 {t}：没有写权限或磁盘只读 (cannot write to the target folder: no permission or read-only): {e}"
        ),
        K::NotFound | K::NotADirectory => format!(
            "目标文件夹 {t} 不存在或已被拔出 (the target folder does not exist or was unplugged): {e}"
        ),
        _ => format!("写入目标文件夹 {t} 失败 (writing to the target folder failed): {e}"),
    })
}

/// A writer that counts bytes (its position in the file) and can pretend
/// the disk is full; keeps the disk queue short (`snapshot::write_behind`).
struct Counted {
    inner: BufWriter<File>,
    written: u64,
    limit: Option<u64>,
    unflushed: u64,
    progress: Option<Arc<Progress>>,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(l) = self.limit
            && self.written + buf.len() as u64 > l
        {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "No space left on device (simulated)",
            ));
        }
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        self.unflushed += n as u64;
        if let Some(p) = &self.progress {
            p.done.store(self.written, Ordering::Relaxed);
        }
        if self.unflushed >= snapshot::WRITEBACK_EVERY {
            self.unflushed = 0;
            self.inner.flush()?;
            snapshot::write_behind(self.inner.get_ref());
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Removes the temporary file unless disarmed.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Writes the archive for `input` into folder `to` (see the module doc):
/// temporary name, flush, read back, verify, rename. [`back_up`] uses it
/// with the live store; tests and tools with any closed data file.
pub fn pack(input: &PackInput, to: &Path, opts: &Options) -> Result<BackupDone> {
    let started = Instant::now();
    remove_stale_partials(to);
    let tmp_path = to.join(format!(".{FILE_PREFIX}{}.partial", random_hex()));
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&tmp_path)
        .map_err(|e| write_error(to, &e))?;
    let mut guard = TempFile(Some(tmp_path.clone()));
    let mtime = input.now.as_second().max(0) as u64;
    let mut w = Counted {
        inner: BufWriter::with_capacity(COPY_BUF, file),
        written: 0,
        limit: opts.write_limit,
        unflushed: 0,
        progress: opts.progress.clone(),
    };
    let phase = |n: u8| {
        if let Some(p) = &opts.progress {
            p.set_phase(n);
        }
    };
    let attachments = match input.attachments {
        Some(dir) => list_attachments(dir)?,
        None => vec![],
    };
    if let Some(p) = &opts.progress {
        let db = match &input.db {
            DbSource::File(f) => std::fs::metadata(f).map(|m| m.len()).unwrap_or(0),
            DbSource::Live(store) => store.file_size(),
        };
        let files: u64 = attachments
            .iter()
            .filter_map(|(_, path)| std::fs::metadata(path).ok())
            .map(|m| m.len())
            .sum();
        p.total.store(db + files, Ordering::Relaxed);
    }
    phase(1);
    let mut buf = vec![0u8; COPY_BUF];
    let mut members = vec![];
    let put = |w: &mut Counted, name: &str, r: &mut dyn Read, size: u64, buf: &mut [u8]| {
        write_member(w, name, r, size, mtime, buf).map_err(|e| member_error(to, name, e))
    };

    // 1. What the file is.
    members.push(put(
        &mut w,
        README_NAME,
        &mut README.as_bytes(),
        README.len() as u64,
        &mut buf,
    )?);

    // 2. The database.
    let facts = match &input.db {
        DbSource::File(p) => {
            let facts = {
                let db = redb::ReadOnlyDatabase::open(p)
                    .map_err(|e| internal(format!("cannot open {} read-only: {e}", p.display())))?;
                snapshot::facts_of(&db).map_err(internal)?
            };
            let f = File::open(p).map_err(|e| internal(format!("{}: {e}", p.display())))?;
            let size = f.metadata().map_err(internal)?.len();
            members.push(put(
                &mut w,
                DB_NAME,
                &mut BufReader::with_capacity(COPY_BUF, f),
                size,
                &mut buf,
            )?);
            facts
        }
        DbSource::Live(store) => {
            let (facts, member) = copy_live(store, &mut w, to, mtime, &mut buf)?;
            members.push(member);
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                tickets = facts.tickets,
                "backup: database copied"
            );
            facts
        }
    };

    // 3. Configuration and attachments (listed again now that the
    //    database's snapshot is taken: every file its tickets name exists).
    phase(2);
    if let Some(c) = input.config {
        let f = File::open(c).map_err(|e| internal(format!("{}: {e}", c.display())))?;
        let size = f.metadata().map_err(internal)?.len();
        members.push(put(
            &mut w,
            CONFIG_NAME,
            &mut BufReader::new(f),
            size,
            &mut buf,
        )?);
    }
    let attachments = match input.attachments {
        Some(dir) => list_attachments(dir)?,
        None => vec![],
    };
    let mut warnings = vec![];
    for (name, path) in &attachments {
        let f = File::open(path).map_err(|e| internal(format!("{}: {e}", path.display())))?;
        let size = f.metadata().map_err(internal)?.len();
        let m = put(
            &mut w,
            name,
            &mut BufReader::with_capacity(COPY_BUF, f),
            size,
            &mut buf,
        )?;
        let sha = &name["attachments/ab/".len()..];
        if sha != m.sha256 {
            let warning = format!(
                "附件 {sha} 的内容与其名称不符，已按原样备份 (attachment {sha} is damaged on disk: its content does not match its name; it was backed up as it is)"
            );
            tracing::warn!("{warning}");
            warnings.push(warning);
        }
        members.push(m);
    }

    // 4. Manifest, checksum list, end of archive; flush to the device.
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        program_version: crate::http::VERSION.into(),
        schema_version: facts.schema_version,
        created_at: rfc3339(
            jiff::Timestamp::from_second(input.now.as_second()).unwrap_or(input.now),
            &facts.timezone,
        ),
        center: facts.center.clone(),
        counts: Counts {
            tickets: facts.tickets,
            events: facts.events,
            users: facts.users,
            units: facts.units,
            categories: facts.categories,
            articles: facts.articles,
            attachments: attachments.len() as u64,
        },
        members,
        warnings,
    };
    let mjson = serde_json::to_vec_pretty(&manifest).map_err(internal)?;
    let msha = hex::encode(Sha256::digest(&mjson));
    put(
        &mut w,
        MANIFEST_NAME,
        &mut &mjson[..],
        mjson.len() as u64,
        &mut buf,
    )?;
    let sums = sums_text(&manifest, &msha);
    put(
        &mut w,
        SUMS_NAME,
        &mut sums.as_bytes(),
        sums.len() as u64,
        &mut buf,
    )?;
    w.write_all(&[0u8; 1024]).map_err(|e| write_error(to, &e))?;
    let file = w
        .inner
        .into_inner()
        .map_err(|e| write_error(to, e.error()))?;
    file.sync_all().map_err(|e| write_error(to, &e))?;
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        "backup: archive written and flushed"
    );
    drop_cached_pages(&file);
    drop(file);

    // 5. Read it back from the device and check everything before the file
    //    gets its name.
    phase(3);
    let written = started.elapsed();
    let verified = verify_gently(&tmp_path).map_err(|e| {
        BackupError::Target(format!(
            "写入后读回校验失败，目标磁盘可能有问题，备份未保存 (the file read back from {} does not verify; the drive may be faulty; nothing was kept): {e}",
            to.display()
        ))
    })?;
    tracing::info!(
        ms = (started.elapsed() - written).as_millis() as u64,
        "backup: read back and verified"
    );
    let final_name = unique_name(to, &file_name(&facts.center, input.now, &facts.timezone));
    let final_path = to.join(&final_name);
    std::fs::rename(&tmp_path, &final_path).map_err(|e| write_error(to, &e))?;
    guard.0 = None;
    sync_dir(to);
    Ok(BackupDone {
        path: final_path.display().to_string(),
        file_name: final_name,
        size: verified.size,
        seconds: started.elapsed().as_secs_f64(),
        manifest: verified.manifest,
    })
}

/// Copies the live database into the archive at the writer's position:
/// a header slot, the database written in place by redb, then its header
/// (size and checksum are known only at the end).
fn copy_live(
    store: &Store,
    w: &mut Counted,
    to: &Path,
    mtime: u64,
    buf: &mut [u8],
) -> Result<(DbFacts, Member)> {
    w.flush().map_err(|e| write_error(to, &e))?;
    let header_at = w.written;
    let base = header_at + tar::BLOCK;
    let file = w.inner.get_ref().try_clone().map_err(internal)?;
    let len = Arc::new(AtomicU64::new(0));
    let error = Arc::new(Mutex::new(None));
    let backend = snapshot::InArchive {
        file: file.try_clone().map_err(internal)?,
        base,
        len: len.clone(),
        limit: w.limit,
        error: error.clone(),
        unflushed: AtomicU64::new(0),
    };
    let facts = store.snapshot_into(backend).map_err(|e| {
        match *error.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(kind) => write_error_kind(to, kind, &e.to_string()),
            None => internal(format!("copying the database: {e}")),
        }
    })?;
    let size = len.load(Ordering::SeqCst);
    // Its checksum, read back (from the cache, mostly).
    let mut h = Sha256::new();
    let mut at = 0u64;
    while at < size {
        let n = (buf.len() as u64).min(size - at) as usize;
        snapshot::read_exact_at(&file, &mut buf[..n], base + at).map_err(internal)?;
        h.update(&buf[..n]);
        at += n as u64;
    }
    let header = tar::header(DB_NAME, size, mtime).map_err(internal)?;
    snapshot::write_all_at(&file, &header, header_at).map_err(|e| write_error(to, &e))?;
    w.inner
        .seek(SeekFrom::Start(base + size))
        .map_err(|e| write_error(to, &e))?;
    w.written = base + size;
    let pad = tar::padding(size) as usize;
    w.write_all(&[0u8; 512][..pad])
        .map_err(|e| write_error(to, &e))?;
    Ok((
        facts,
        Member {
            name: DB_NAME.into(),
            size,
            sha256: hex::encode(h.finalize()),
        },
    ))
}

fn member_error(to: &Path, name: &str, e: MemberError) -> BackupError {
    match e {
        MemberError::Write(e) => write_error(to, &e),
        MemberError::Read(e) => internal(format!("reading {name} for the backup: {e}")),
    }
}

enum MemberError {
    Read(io::Error),
    Write(io::Error),
}

/// Header, data (hashed on the way), padding.
fn write_member(
    w: &mut impl Write,
    name: &str,
    r: &mut dyn Read,
    size: u64,
    mtime: u64,
    buf: &mut [u8],
) -> std::result::Result<Member, MemberError> {
    let h = tar::header(name, size, mtime).map_err(MemberError::Read)?;
    w.write_all(&h).map_err(MemberError::Write)?;
    let mut hasher = Sha256::new();
    let mut left = size;
    while left > 0 {
        let n = (buf.len() as u64).min(left) as usize;
        let got = r.read(&mut buf[..n]).map_err(MemberError::Read)?;
        if got == 0 {
            return Err(MemberError::Read(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file became shorter while it was being copied",
            )));
        }
        hasher.update(&buf[..got]);
        w.write_all(&buf[..got]).map_err(MemberError::Write)?;
        left -= got as u64;
    }
    let pad = tar::padding(size) as usize;
    w.write_all(&[0u8; 512][..pad])
        .map_err(MemberError::Write)?;
    Ok(Member {
        name: name.to_string(),
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// `SHA256SUMS`: every member and the manifest, `sha256sum` style.
fn sums_text(m: &Manifest, manifest_sha: &str) -> String {
    let mut s = String::new();
    for mem in &m.members {
        s.push_str(&format!("{}  {}\n", mem.sha256, mem.name));
    }
    s.push_str(&format!("{manifest_sha}  {MANIFEST_NAME}\n"));
    s
}

fn rfc3339(now: jiff::Timestamp, tz_name: &str) -> String {
    let z = now.to_zoned(zone(tz_name));
    z.timestamp().display_with_offset(z.offset()).to_string()
}

/// `name`, or `name` with `-2`, `-3` … before the extension when taken.
fn unique_name(dir: &Path, name: &str) -> String {
    if !dir.join(name).exists() {
        return name.to_string();
    }
    let stem = name.trim_end_matches(&format!(".{EXTENSION}"));
    (2..)
        .map(|i| format!("{stem}-{i}.{EXTENSION}"))
        .find(|n| !dir.join(n).exists())
        .expect("some name is free")
}

/// Temporary files of backups that a crash interrupted over an hour ago.
fn remove_stale_partials(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(&format!(".{FILE_PREFIX}"))
            && n.ends_with(".partial")
            && e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600)
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Flushes a directory entry (a rename) to the device where that is possible.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Turns off the kernel's read-ahead for `file` (Linux); elsewhere nothing.
fn no_read_ahead(file: &File) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    advise(file, libc::POSIX_FADV_RANDOM);
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = file;
}

/// Drops a flushed file's pages from the cache, so that reading it back
/// reads the device (a fake-capacity USB stick shows up here).
fn drop_cached_pages(file: &File) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    advise(file, libc::POSIX_FADV_DONTNEED);
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = file;
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn advise(file: &File, advice: libc::c_int) {
    use std::os::fd::AsRawFd;
    // SAFETY: posix_fadvise only gives the kernel a hint about an open
    // descriptor that this function borrows; it touches no memory.
    unsafe {
        libc::posix_fadvise(file.as_raw_fd(), 0, 0, advice);
    }
}

// ------------------------------------------------------------------ verify

/// A backup file that passed every check.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Verified {
    pub path: String,
    /// Bytes.
    pub size: u64,
    pub manifest: Manifest,
}

fn refused(m: impl Into<String>) -> BackupError {
    BackupError::Refused(m.into())
}

fn truncated(at: u64, inside: &str) -> BackupError {
    refused(format!(
        "备份文件不完整（被截断），请使用另一份备份 (the backup file is incomplete: it was cut off at byte {at}, {inside}; use another backup)"
    ))
}

fn damaged(what: &str) -> BackupError {
    refused(format!(
        "备份文件已损坏，请使用另一份备份 (the backup file is damaged: {what}; use another backup)"
    ))
}

/// Where the database member lies in the file.
struct DbMember {
    offset: u64,
    size: u64,
}

/// Checks a backup file completely: the tar structure and every header
/// checksum, every member's size and SHA-256 against the manifest and
/// `SHA256SUMS`, the format and schema versions (not newer than this
/// program), and that the database opens and holds what the manifest
/// counts. Reads the file once.
pub fn verify(path: &Path) -> Result<Verified> {
    verify_file(path, false)
}

/// [`verify`] without read-ahead (Linux): one read of `COPY_BUF` at a time
/// reaches the disk, so that users' commits on the same disk are not
/// queued behind megabytes of read-ahead (the deadline scheduler serves
/// reads first). For the read-back of a backup made while the server runs.
fn verify_gently(path: &Path) -> Result<Verified> {
    verify_file(path, true)
}

/// What an administrator typed as a backup file, checked before it is
/// opened: empty, missing, unreadable, a folder or a device each get their
/// own answer (a 4xx with the reason, never a 500; issue 12.4).
pub fn check_backup_path(path: &Path) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Err(refused(
            "请填写备份文件的完整路径 (give the full path of the backup file)",
        ));
    }
    let meta = std::fs::metadata(path).map_err(|e| {
        refused(match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "备份文件 {} 不存在：请检查路径或插入U盘 (there is no such file: check the path or plug in the drive)",
                path.display()
            ),
            std::io::ErrorKind::PermissionDenied => format!(
                "无权读取 {}：请检查文件权限 (the file cannot be read: permission denied)",
                path.display()
            ),
            _ => format!(
                "无法访问 {} (cannot reach the file): {e}",
                path.display()
            ),
        })
    })?;
    if meta.is_dir() {
        return Err(refused(format!(
            "{} 是文件夹，请选择其中的备份文件 (.hlbk) (is a folder: choose a backup file in it)",
            path.display()
        )));
    }
    if !meta.is_file() {
        return Err(refused(format!(
            "{} 不是普通文件，不是热线系统的备份文件 (is not a regular file, so not a Hotline backup file)",
            path.display()
        )));
    }
    Ok(())
}

fn verify_file(path: &Path, gently: bool) -> Result<Verified> {
    check_backup_path(path)?;
    let file = File::open(path).map_err(|e| {
        refused(format!(
            "无法打开备份文件 {} (cannot open the backup file): {e}",
            path.display()
        ))
    })?;
    if gently {
        no_read_ahead(&file);
    }
    let len = file.metadata().map_err(internal)?.len();
    let mut r = BufReader::with_capacity(COPY_BUF, file.try_clone().map_err(internal)?);
    let mut pos = 0u64;
    let mut block = [0u8; 512];
    let mut members: Vec<Member> = vec![];
    let mut manifest_bytes: Option<Vec<u8>> = None;
    let mut sums_bytes: Option<Vec<u8>> = None;
    let mut db: Option<DbMember> = None;
    let mut buf = vec![0u8; COPY_BUF];
    let foreign = || {
        refused(format!(
            "{} 不是热线系统的备份文件 (is not a Hotline backup file)",
            path.display()
        ))
    };
    // What kind of file is it?
    let head_len = len.min(512) as usize;
    r.read_exact(&mut block[..head_len]).map_err(|e| {
        refused(format!(
            "无法读取 {} (cannot read the file): {e}",
            path.display()
        ))
    })?;
    if block[..head_len].starts_with(b"PK\x03\x04") || block[..head_len].starts_with(b"PK\x05\x06")
    {
        return Err(refused(format!(
            "{} 是 ZIP 压缩文件，不是热线系统的备份文件 (is a ZIP file, not a Hotline backup)",
            path.display()
        )));
    }
    if len < 512 {
        let ours = format!("{README_NAME}\0");
        return if len == 0
            || ours
                .as_bytes()
                .starts_with(&block[..head_len.min(ours.len())])
            || block[..head_len].starts_with(ours.as_bytes())
        {
            Err(truncated(len, "in its first block"))
        } else {
            Err(foreign())
        };
    }
    loop {
        if pos > 0 {
            if pos + 512 > len {
                return Err(truncated(len, "before the end of the archive"));
            }
            r.read_exact(&mut block).map_err(internal)?;
        }
        if block.iter().all(|b| *b == 0) {
            if pos == 0 {
                return Err(foreign());
            }
            // End of archive: a second zero block, then nothing.
            if pos + 1024 > len {
                return Err(truncated(len, "in the end marker"));
            }
            r.read_exact(&mut block).map_err(internal)?;
            if block.iter().any(|b| *b != 0) {
                return Err(damaged("the end marker is not zeros"));
            }
            if pos + 1024 != len {
                return Err(damaged(&format!(
                    "{} unexpected bytes after the end of the archive",
                    len - pos - 1024
                )));
            }
            break;
        }
        let entry = match tar::parse_header(&block) {
            Ok(e) => e,
            Err(_) if pos == 0 => return Err(foreign()),
            Err(m) => return Err(damaged(&format!("{m} (at byte {pos})"))),
        };
        if pos == 0 && entry.name != README_NAME {
            return Err(foreign());
        }
        let data_at = pos + 512;
        let end = data_at + entry.size + tar::padding(entry.size);
        if end > len {
            return Err(truncated(len, &format!("inside {}", entry.name)));
        }
        let sha = if entry.name == MANIFEST_NAME || entry.name == SUMS_NAME {
            if entry.size > 256 << 20 {
                return Err(damaged(&format!("{} is implausibly large", entry.name)));
            }
            let mut v = vec![0u8; entry.size as usize];
            r.read_exact(&mut v).map_err(internal)?;
            let sha: [u8; 32] = Sha256::digest(&v).into();
            if entry.name == MANIFEST_NAME {
                manifest_bytes = Some(v);
            } else {
                sums_bytes = Some(v);
            }
            sha
        } else {
            if entry.name == DB_NAME {
                db = Some(DbMember {
                    offset: data_at,
                    size: entry.size,
                });
            }
            tar::copy_hashing(&mut r, None, entry.size, &mut buf).map_err(internal)?
        };
        let pad = tar::padding(entry.size) as usize;
        r.read_exact(&mut block[..pad]).map_err(internal)?;
        if block[..pad].iter().any(|b| *b != 0) {
            return Err(damaged(&format!(
                "the padding after {} is not zeros",
                entry.name
            )));
        }
        members.push(Member {
            name: entry.name,
            size: entry.size,
            sha256: hex::encode(sha),
        });
        pos = end;
    }

    // The manifest and the checksum list come last.
    let n = members.len();
    if n < 4 || members[n - 2].name != MANIFEST_NAME || members[n - 1].name != SUMS_NAME {
        return Err(damaged("manifest.json and SHA256SUMS are not at the end"));
    }
    let manifest_sha = members[n - 2].sha256.clone();
    let value: serde_json::Value = serde_json::from_slice(manifest_bytes.as_deref().unwrap_or(&[]))
        .map_err(|e| damaged(&format!("manifest.json is not valid JSON ({e})")))?;
    if value["format"] != FORMAT {
        return Err(foreign());
    }
    let fv = value["format_version"].as_u64().unwrap_or(0);
    if fv > FORMAT_VERSION as u64 {
        return Err(refused(format!(
            "此备份由更新版本的热线程序（{}）制作，备份格式 {fv}，本程序只支持到 {FORMAT_VERSION}。请先安装新版本 (this backup was made by a newer Hotline ({}) in backup format {fv}; this program reads up to format {FORMAT_VERSION}: install the newer program first)",
            value["program_version"].as_str().unwrap_or("?"),
            value["program_version"].as_str().unwrap_or("?"),
        )));
    }
    let manifest: Manifest = serde_json::from_value(value)
        .map_err(|e| damaged(&format!("manifest.json is incomplete ({e})")))?;
    if sums_bytes.as_deref() != Some(sums_text(&manifest, &manifest_sha).as_bytes()) {
        return Err(damaged("SHA256SUMS does not match manifest.json"));
    }
    let read = &members[..n - 2];
    if read.len() != manifest.members.len() {
        return Err(damaged(&format!(
            "the manifest lists {} members, the file holds {}",
            manifest.members.len(),
            read.len()
        )));
    }
    for (got, want) in read.iter().zip(&manifest.members) {
        if got.name != want.name {
            return Err(damaged(&format!(
                "member {} where the manifest lists {}",
                got.name, want.name
            )));
        }
        if got.size != want.size || got.sha256 != want.sha256 {
            return Err(damaged(&format!(
                "the checksum of {} does not match",
                got.name
            )));
        }
    }
    let supported = crate::store::migrate::CURRENT;
    if manifest.schema_version > supported {
        return Err(refused(format!(
            "此备份由更新版本的热线程序（{}）制作，数据版本 {}，本程序只支持到 {supported}。请先安装新版本再恢复 (this backup was made by a newer Hotline ({}) with data schema {}; this program supports up to {supported}: install the newer program first)",
            manifest.program_version,
            manifest.schema_version,
            manifest.program_version,
            manifest.schema_version
        )));
    }
    let db = db.ok_or_else(|| damaged("there is no hotline.redb"))?;
    let (facts, chains) = snapshot::facts_in_slice(Slice {
        file,
        offset: db.offset,
        len: db.size,
    })
    .map_err(|e| damaged(&format!("the database does not open ({e})")))?;
    if let Some(first) = chains.broken.first() {
        return Err(damaged(&format!(
            "哈希链断裂，记录被改动 (a hash chain is broken, records were tampered with): {first}"
        )));
    }
    let c = &manifest.counts;
    let attachments = read
        .iter()
        .filter(|m| m.name.starts_with("attachments/"))
        .count() as u64;
    let got = (
        facts.schema_version,
        facts.tickets,
        facts.events,
        facts.users,
        facts.units,
        facts.categories,
        facts.articles,
        attachments,
    );
    let want = (
        manifest.schema_version,
        c.tickets,
        c.events,
        c.users,
        c.units,
        c.categories,
        c.articles,
        c.attachments,
    );
    if got != want {
        return Err(damaged(&format!(
            "the database holds (schema, tickets, events, users, units, categories, articles, attachments) = {got:?}, the manifest says {want:?}"
        )));
    }
    Ok(Verified {
        path: path.display().to_string(),
        size: len,
        manifest,
    })
}

/// Where each member lies in a verified file (for restore).
pub(crate) fn member_offsets(path: &Path) -> Result<Vec<(String, u64, u64)>> {
    let file = File::open(path).map_err(internal)?;
    let len = file.metadata().map_err(internal)?.len();
    let mut out = vec![];
    let mut pos = 0u64;
    let mut block = [0u8; 512];
    while pos + 512 <= len {
        snapshot::read_exact_at(&file, &mut block, pos).map_err(internal)?;
        if block.iter().all(|b| *b == 0) {
            break;
        }
        let e = tar::parse_header(&block).map_err(|m| damaged(&m))?;
        out.push((e.name, pos + 512, e.size));
        pos += 512 + e.size + tar::padding(e.size);
    }
    Ok(out)
}

/// Backup files in a folder, newest first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BackupFile {
    pub file_name: String,
    pub path: String,
    pub size: u64,
    /// Last modification, RFC 3339 (UTC).
    pub modified: String,
}

pub fn list_backups(dir: &Path) -> std::io::Result<Vec<BackupFile>> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(FILE_PREFIX) && name.ends_with(&format!(".{EXTENSION}"))) {
            continue;
        }
        let Ok(m) = e.metadata() else { continue };
        if !m.is_file() {
            continue;
        }
        let modified = m
            .modified()
            .ok()
            .and_then(|t| jiff::Timestamp::try_from(t).ok())
            .map(|t| t.to_string())
            .unwrap_or_default();
        out.push(BackupFile {
            file_name: name,
            path: e.path().display().to_string(),
            size: m.len(),
            modified,
        });
    }
    // The names end in the creation time; same-center files sort by it.
    out.sort_by(|a, b| {
        stamp_of(&b.file_name)
            .cmp(stamp_of(&a.file_name))
            .then(b.file_name.cmp(&a.file_name))
    });
    Ok(out)
}

/// The `YYYYMMDD-HHMMSS[-n]` part of a backup file name.
fn stamp_of(name: &str) -> &str {
    let stem = name.trim_end_matches(&format!(".{EXTENSION}"));
    // …-YYYYMMDD-HHMMSS or …-YYYYMMDD-HHMMSS-n
    let bytes = stem.as_bytes();
    let mut i = stem.len();
    // Skip a -n suffix.
    if let Some(p) = stem.rfind('-')
        && stem[p + 1..].len() < 6
        && stem[p + 1..].bytes().all(|b| b.is_ascii_digit())
    {
        i = p;
    }
    if i >= 15
        && bytes[i - 15..i]
            .iter()
            .filter(|b| b.is_ascii_digit())
            .count()
            == 14
    {
        &stem[i - 15..]
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name_part("12345 热线/中心?"), "12345-热线-中心");
        assert_eq!(name_part("  "), "hotline");
        let t: jiff::Timestamp = "2026-11-22T18:00:05Z".parse().unwrap();
        assert_eq!(
            file_name("市南区12345", t, "Asia/Shanghai"),
            "hotline-backup-市南区12345-20261123-020005.hlbk"
        );
        assert_eq!(rfc3339(t, "Asia/Shanghai"), "2026-11-23T02:00:05+08:00");
        assert_eq!(
            stamp_of("hotline-backup-x-20261123-020005-2.hlbk"),
            "20261123-020005-2"
        );
        assert_eq!(
            stamp_of("hotline-backup-x-20261123-020005.hlbk"),
            "20261123-020005"
        );
        assert!(is_attachment_name("ab", &format!("ab{}", "0".repeat(62))));
        assert!(!is_attachment_name(
            "ab",
            &format!(".ab{}.tmp", "0".repeat(62))
        ));
    }
}
