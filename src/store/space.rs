//! The free-space guard: a write transaction starts only while the disk of
//! the data file has more than a reserve free.
//!
//! redb treats a failed write as fatal for the open database (every later
//! read and write answers "previous I/O error" until it is reopened), so a
//! full disk must never reach it. Refusing before the transaction begins
//! means a refused change writes nothing at all, reads keep working, and
//! writing resumes by itself once space is freed. Sessions and audit
//! records (logins) may use the last three quarters of the reserve, so
//! people can still log in to read while ordinary changes are refused.
//!
//! The reserve is 32 MB, or `HOTLINE_MIN_FREE_MB`. Checked with `statvfs`
//! on Unix; elsewhere (Windows) there is no guard and a full disk surfaces
//! as the mapped I/O error of the failed transaction.

use std::path::Path;
use std::sync::OnceLock;

use super::{Result, StoreError};

/// The reserve in bytes.
pub fn reserve() -> u64 {
    static R: OnceLock<u64> = OnceLock::new();
    *R.get_or_init(|| {
        std::env::var("HOTLINE_MIN_FREE_MB")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(32)
            << 20
    })
}

/// Bytes available to this process on the file system holding `path`.
#[cfg(unix)]
pub fn available(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a writable struct.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some((s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
}

#[cfg(not(unix))]
pub fn available(_path: &Path) -> Option<u64> {
    None
}

/// The disk-full error with the numbers.
pub fn disk_full(free: u64, needed: u64) -> StoreError {
    let (f, n) = (free >> 20, needed >> 20);
    StoreError::DiskFull(format!(
        "磁盘空间不足：数据所在磁盘只剩 {f} MB，至少需要保留 {n} MB。本次修改没有保存，已保存的数据不受影响；请清理磁盘后重试 (the disk holding the data is full: {f} MB free, {n} MB must stay free. This change was not saved; everything saved before is safe. Free some space and try again)"
    ))
}

/// Refuses when less than `needed` bytes are free beside `file`.
pub fn check(file: &Path, needed: u64) -> Result<()> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    match available(dir.unwrap_or(Path::new("."))) {
        Some(free) if free < needed => Err(disk_full(free, needed)),
        _ => Ok(()),
    }
}

/// Whether an error's text is the operating system's "disk full".
pub fn is_disk_full_text(s: &str) -> bool {
    // ENOSPC on Linux ("No space left on device (os error 28)"), EDQUOT,
    // and Windows' ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL.
    s.contains("(os error 28)")
        || s.contains("(os error 122)")
        || (cfg!(windows) && (s.contains("(os error 112)") || s.contains("(os error 39)")))
}
