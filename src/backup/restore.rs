//! Restore: verify the whole file, extract it into a new folder beside the
//! data dir, open (and migrate) it there, then move the current data dir
//! aside to `<dir>.before-restore-<time>` (kept, never deleted) and the new
//! folder into its place.
//!
//! Nothing in the data dir is touched until the backup has been verified,
//! extracted, checked again while extracting and opened by the store; a
//! refused file leaves the live data exactly as it was. The server must not
//! be running on the data dir (its database is locked; this is detected).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{BackupError, CONFIG_NAME, DB_NAME, Manifest, Result, internal, sync_dir, tar};
use crate::store::Store;

/// Files of the data dir that belong to this PC rather than to the data,
/// carried over from the old data dir into the restored one.
const LOCAL_FILES: &[&str] = &[super::state::STATE_FILE];

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// Where the previous data now is (`None` when there was none).
    pub moved_aside: Option<PathBuf>,
    /// The schema version the backup had, when the store migrated it.
    pub migrated_from: Option<u32>,
}

/// Whether a program (the server) has the data file open.
pub fn data_in_use(data_dir: &Path) -> bool {
    let db = data_dir.join(DB_NAME);
    db.exists()
        && matches!(
            redb::ReadOnlyDatabase::open(&db),
            Err(redb::DatabaseError::DatabaseAlreadyOpen)
        )
}

fn local_stamp() -> String {
    jiff::Zoned::now().strftime("%Y%m%d-%H%M%S").to_string()
}

/// A path beside `dir` named `<dir name><suffix>`, not yet taken.
fn beside(dir: &Path, suffix: &str) -> Result<PathBuf> {
    let name = dir
        .file_name()
        .ok_or_else(|| {
            BackupError::Target(format!(
                "数据文件夹 {} 须有名称 (the data folder needs a name)",
                dir.display()
            ))
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut p = parent.join(format!("{name}{suffix}"));
    let mut i = 2;
    while p.exists() {
        p = parent.join(format!("{name}{suffix}-{i}"));
        i += 1;
    }
    Ok(p)
}

/// Removes the folder being built unless disarmed.
struct Building(Option<PathBuf>);

impl Drop for Building {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

/// Restores `file` into `data_dir`; `say` gets progress lines for a person.
/// `confirm` is asked once the file is verified and summarised; `false`
/// stops without changing anything.
pub fn restore(
    file: &Path,
    data_dir: &Path,
    say: &mut dyn FnMut(&str),
    confirm: &mut dyn FnMut(&Manifest) -> bool,
) -> Result<Restored> {
    say(&format!("正在校验 verifying {} …", file.display()));
    let verified = super::verify(file)?;
    let manifest = verified.manifest;
    say("校验通过 the backup verifies. It holds:");
    say(&manifest.summary());
    if data_in_use(data_dir) {
        return Err(in_use(data_dir));
    }
    if !confirm(&manifest) {
        return Err(BackupError::Busy(
            "已取消，未做任何更改 (cancelled; nothing was changed)".into(),
        ));
    }

    // 1. Extract beside the data dir (same file system: the final rename is
    //    atomic), checking every member's checksum again on the way.
    let building = beside(data_dir, &format!(".restoring-{}", local_stamp()))?;
    std::fs::create_dir_all(&building).map_err(|e| {
        BackupError::Target(format!(
            "无法建立文件夹 {} (cannot create the folder): {e}",
            building.display()
        ))
    })?;
    let mut guard = Building(Some(building.clone()));
    say(&format!(
        "正在解出 extracting into {} …",
        building.display()
    ));
    extract(file, &building, &manifest)?;
    if data_dir.is_dir() {
        for name in LOCAL_FILES {
            let from = data_dir.join(name);
            if from.is_file() {
                std::fs::copy(&from, building.join(name)).map_err(internal)?;
            }
        }
    }

    // 2. Open it where it is: an older schema is migrated now (the store
    //    keeps a copy of the file as it was), so that a failure here still
    //    leaves the live data alone.
    let migrated_from = (manifest.schema_version < crate::store::migrate::CURRENT)
        .then_some(manifest.schema_version);
    if migrated_from.is_some() {
        say(&format!(
            "备份的数据版本为 {}，正在升级到 {} (migrating the data from schema {} to {}) …",
            manifest.schema_version,
            crate::store::migrate::CURRENT,
            manifest.schema_version,
            crate::store::migrate::CURRENT
        ));
    }
    {
        let store = Store::open(&building.join(DB_NAME)).map_err(|e| {
            BackupError::Internal(format!("the restored database does not open: {e}"))
        })?;
        let counts = store.counts().map_err(internal)?;
        if counts.tickets != manifest.counts.tickets || counts.events != manifest.counts.events {
            return Err(BackupError::Internal(format!(
                "the restored database holds {} tickets and {} events, the manifest {} and {}",
                counts.tickets, counts.events, manifest.counts.tickets, manifest.counts.events
            )));
        }
    }
    copy_ownership(data_dir, &building);
    sync_dir(&building);

    // 3. Swap: the current data aside (kept), the restored folder in.
    if data_in_use(data_dir) {
        return Err(in_use(data_dir));
    }
    let mut moved_aside = None;
    if data_dir.exists() {
        let empty = std::fs::read_dir(data_dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if empty {
            std::fs::remove_dir(data_dir).map_err(|e| move_error(data_dir, e))?;
        } else {
            let aside = beside(data_dir, &format!(".before-restore-{}", local_stamp()))?;
            std::fs::rename(data_dir, &aside).map_err(|e| move_error(data_dir, e))?;
            say(&format!(
                "原有数据已移至 the current data was moved to {}",
                aside.display()
            ));
            moved_aside = Some(aside);
        }
    }
    if let Err(e) = std::fs::rename(&building, data_dir) {
        // Put the old data back where it was.
        if let Some(a) = &moved_aside {
            let _ = std::fs::rename(a, data_dir);
        }
        return Err(move_error(data_dir, e));
    }
    guard.0 = None;
    if let Some(p) = data_dir.parent() {
        sync_dir(if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        });
    }
    Ok(Restored {
        manifest,
        moved_aside,
        migrated_from,
    })
}

fn in_use(data_dir: &Path) -> BackupError {
    BackupError::Busy(format!(
        "热线服务正在使用数据文件夹 {}，请先停止服务（Linux：sudo systemctl stop hotline；Windows：关闭热线窗口或在“服务”中停止 Hotline）再恢复，未做任何更改 (the Hotline server is running on this data folder: stop it first; nothing was changed)",
        data_dir.display()
    ))
}

fn move_error(data_dir: &Path, e: io::Error) -> BackupError {
    BackupError::Target(format!(
        "无法移动数据文件夹 {}（可能有程序正在使用其中的文件）(cannot move the data folder; a program may be using files in it): {e}",
        data_dir.display()
    ))
}

/// Writes every member except the README, manifest and checksum list into
/// `dir`, hashing each again against the manifest.
fn extract(file: &Path, dir: &Path, manifest: &Manifest) -> Result<()> {
    let offsets = super::member_offsets(file)?;
    let mut src = File::open(file).map_err(internal)?;
    let mut buf = vec![0u8; super::COPY_BUF];
    for want in &manifest.members {
        if want.name == super::README_NAME {
            continue;
        }
        let (_, offset, size) = offsets
            .iter()
            .find(|(n, _, _)| *n == want.name)
            .ok_or_else(|| internal(format!("{} vanished from the file", want.name)))?;
        let rel = safe_relative(&want.name)?;
        let out_path = dir.join(&rel);
        if let Some(p) = out_path.parent() {
            std::fs::create_dir_all(p).map_err(|e| extract_error(&out_path, e))?;
        }
        src.seek(SeekFrom::Start(*offset)).map_err(internal)?;
        let out = File::create(&out_path).map_err(|e| extract_error(&out_path, e))?;
        let mut w = BufWriter::with_capacity(super::COPY_BUF, out);
        let sha = tar::copy_hashing(
            &mut BufReader::with_capacity(super::COPY_BUF, (&mut src).take(*size)),
            Some(&mut w),
            *size,
            &mut buf,
        )
        .map_err(|e| extract_error(&out_path, e))?;
        if hex::encode(sha) != want.sha256 {
            return Err(BackupError::Refused(format!(
                "备份文件在恢复过程中发生变化或读取出错：{} 的校验和不符，未做任何更改 (the backup file changed or could not be read reliably while restoring: the checksum of {} does not match; nothing was changed)",
                want.name, want.name
            )));
        }
        let out = w
            .into_inner()
            .map_err(|e| extract_error(&out_path, io::Error::other(e.to_string())))?;
        out.sync_all().map_err(|e| extract_error(&out_path, e))?;
    }
    for d in [dir.join("attachments")] {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                sync_dir(&e.path());
            }
            sync_dir(&d);
        }
    }
    Ok(())
}

/// A member name as a relative path: `hotline.redb`, `hotline.toml` or
/// `attachments/ab/<sha>`; anything else is refused.
fn safe_relative(name: &str) -> Result<PathBuf> {
    let ok = name == DB_NAME
        || name == CONFIG_NAME
        || name
            .strip_prefix("attachments/")
            .and_then(|r| r.split_once('/'))
            .is_some_and(|(d, f)| super::is_attachment_name(d, f));
    if ok {
        Ok(name.split('/').collect())
    } else {
        Err(BackupError::Refused(format!(
            "备份中有未知的成员 {name} (the backup holds an unexpected member {name})"
        )))
    }
}

fn extract_error(p: &Path, e: io::Error) -> BackupError {
    BackupError::Target(match e.kind() {
        io::ErrorKind::StorageFull => format!(
            "磁盘空间不足，无法恢复到 {} (not enough disk space to restore): {e}",
            p.display()
        ),
        _ => format!("无法写入 {} (cannot write): {e}", p.display()),
    })
}

/// Gives the restored folder the owner and mode of the data dir it
/// replaces, so that a service running as its own user can use it after
/// `sudo hotline restore`.
fn copy_ownership(old: &Path, new: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(m) = std::fs::metadata(old) else {
            return;
        };
        let (uid, gid) = (m.uid(), m.gid());
        let _ = std::fs::set_permissions(new, m.permissions());
        fn walk(p: &Path, uid: u32, gid: u32) {
            let _ = std::os::unix::fs::chown(p, Some(uid), Some(gid));
            if p.is_dir()
                && let Ok(rd) = std::fs::read_dir(p)
            {
                for e in rd.flatten() {
                    walk(&e.path(), uid, gid);
                }
            }
        }
        if std::fs::metadata(new).map(|n| (n.uid(), n.gid())).ok() != Some((uid, gid)) {
            walk(new, uid, gid);
        }
    }
    #[cfg(not(unix))]
    let _ = (old, new);
}

/// Restores a backup through the console: shows the summary and asks for
/// confirmation when a person is at the keyboard (unless `yes`).
pub fn restore_cli(file: &Path, data_dir: &Path, yes: bool) -> std::result::Result<(), String> {
    use std::io::IsTerminal;
    let interactive = !yes && std::io::stdin().is_terminal();
    let mut say = |s: &str| println!("{s}");
    let mut confirm = |_: &Manifest| {
        if !interactive {
            return true;
        }
        print!(
            "恢复此备份到 {}？当前数据将被移到旁边保留 (restore this backup into {}? the current data is moved aside and kept) [y/N] ",
            data_dir.display(),
            data_dir.display()
        );
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        matches!(line.trim(), "y" | "Y" | "yes" | "是")
    };
    let r = restore(file, data_dir, &mut say, &mut confirm).map_err(|e| e.to_string())?;
    if let Some(v) = r.migrated_from {
        println!(
            "数据已从版本 {v} 升级 (the data was migrated from schema {v}; a copy of the file as restored is kept beside it)"
        );
    }
    println!(
        "恢复完成 restored into {}: {} tickets. 现在可以启动热线服务 (start the Hotline server now).",
        data_dir.display(),
        r.manifest.counts.tickets
    );
    if let Some(a) = r.moved_aside {
        println!(
            "原有数据保留在 the previous data is kept in {}",
            a.display()
        );
    }
    Ok(())
}
