//! Attachments: files stored once by the SHA-256 of their content under
//! `<data dir>/attachments/ab/abcdef…`, written to a temporary name, synced
//! and renamed, so a file that exists is always complete.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{Actor, Services};
use crate::domain::permissions::Permission;
use crate::domain::ticket::Attachment;
use crate::error::{Error, Result};

/// Who uploaded which file recently: an upload proves that the person
/// holds the content, so they may reference it by its SHA-256 later (the
/// API uploads first and references in a second request; a page form that
/// failed keeps its stored files in hidden fields). Kept in memory for
/// [`UPLOAD_GRANT_SECONDS`]: a reference after a restart needs the file
/// uploaded again.
#[derive(Default)]
pub struct Uploads(std::sync::Mutex<std::collections::HashMap<(u32, String), i64>>);

/// How long an upload lets its uploader reference the file.
pub const UPLOAD_GRANT_SECONDS: i64 = 24 * 3600;

impl Uploads {
    pub fn record(&self, user: u32, sha: &str) {
        let now = jiff::Timestamp::now().as_second();
        let mut m = self.0.lock().expect("uploads lock");
        if m.len() > 100_000 {
            m.retain(|_, at| now - *at < UPLOAD_GRANT_SECONDS);
        }
        m.insert((user, sha.to_string()), now);
    }

    pub fn uploaded_by(&self, user: u32, sha: &str) -> bool {
        let now = jiff::Timestamp::now().as_second();
        let m = self.0.lock().expect("uploads lock");
        m.get(&(user, sha.to_string()))
            .is_some_and(|at| now - *at < UPLOAD_GRANT_SECONDS)
    }
}

/// File types an attachment may have, by extension, with their MIME type.
pub const ALLOWED: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("wps", "application/vnd.ms-works"),
    ("mp3", "audio/mpeg"),
    ("wav", "audio/wav"),
    ("amr", "audio/amr"),
    ("m4a", "audio/mp4"),
];

pub fn content_type_for(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    ALLOWED.iter().find(|(e, _)| *e == ext).map(|(_, m)| *m)
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Uploaded {
    pub sha256: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

fn valid_sha(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// A display name: no path, no control characters, at most 100 chars.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(100).collect();
    if cleaned.trim().is_empty() {
        "file".into()
    } else {
        cleaned.trim().to_string()
    }
}

impl Services {
    pub(crate) fn attachment_path(&self, sha: &str) -> PathBuf {
        self.paths.attachments().join(&sha[..2]).join(sha)
    }

    /// Checks an upload's type, emptiness and size without storing it;
    /// answers its cleaned display name and content type.
    pub fn check_attachment(&self, name: &str, bytes: &[u8]) -> Result<(String, &'static str)> {
        let name = clean_file_name(name);
        let ct = content_type_for(&name).ok_or_else(|| {
            Error::field(
                "file",
                format!("不支持的文件类型“{name}”：只接受图片、PDF、Office文档、文本和录音 (unsupported file type)"),
            )
        })?;
        if bytes.is_empty() {
            return Err(Error::field(
                "file",
                format!("文件“{name}”是空的 (the file is empty)"),
            ));
        }
        if bytes.len() as u64 > self.limits.max_attachment_bytes {
            return Err(Error::PayloadTooLarge(format!(
                "文件“{name}”太大：附件不能超过 {} MB (attachments are limited to {} MB)",
                self.limits.max_attachment_bytes / 1024 / 1024,
                self.limits.max_attachment_bytes / 1024 / 1024
            )));
        }
        Ok((name, ct))
    }

    /// Stores an uploaded file; checks type and size first.
    pub fn store_attachment(&self, actor: &Actor, name: &str, bytes: &[u8]) -> Result<Uploaded> {
        // Tickets' intake and departments' replies, and knowledge-base
        // proposals (everyone on the floor).
        if !(actor.can(Permission::RegisterTicket)
            || actor.can(Permission::HandleAsDepartment)
            || crate::domain::kb::can_propose(&actor.user.roles))
        {
            actor.require(Permission::RegisterTicket)?;
        }
        let (name, ct) = self.check_attachment(name, bytes)?;
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.attachment_path(&sha);
        if !path.exists() {
            let dir = path.parent().expect("has parent");
            std::fs::create_dir_all(dir).map_err(Error::internal)?;
            let tmp = dir.join(format!(".{sha}.{}.tmp", super::auth::random_hex(4)));
            let write = || -> std::io::Result<()> {
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(bytes)?;
                f.sync_all()?;
                std::fs::rename(&tmp, &path)
            };
            // An attachment also leaves the reserve of the data disk free.
            crate::store::space::check(&path, crate::store::space::reserve() + bytes.len() as u64)
                .map_err(Error::from)?;
            if let Err(e) = write() {
                let _ = std::fs::remove_file(&tmp);
                return Err(match Error::from(e) {
                    Error::Internal(m) => {
                        Error::internal(format!("cannot store attachment {sha}: {m}"))
                    }
                    full => full,
                });
            }
        }
        self.uploads.record(actor.user.id, &sha);
        Ok(Uploaded {
            sha256: sha,
            name,
            content_type: ct.into(),
            size: bytes.len() as u64,
        })
    }

    /// The stored metadata of an uploaded file, for linking to a ticket.
    pub(crate) fn attachment_meta(
        &self,
        sha: &str,
        name: &str,
    ) -> std::result::Result<Attachment, String> {
        let sha = sha.trim().to_ascii_lowercase();
        if !valid_sha(&sha) {
            return Err("无效的附件标识 (invalid attachment id)".into());
        }
        let meta = std::fs::metadata(self.attachment_path(&sha))
            .map_err(|_| format!("附件 {sha} 未上传 (attachment {sha} was not uploaded)"))?;
        let name = clean_file_name(name);
        let ct = content_type_for(&name).unwrap_or("application/octet-stream");
        Ok(Attachment {
            sha256: sha,
            name,
            content_type: ct.into(),
            size: meta.len(),
        })
    }

    /// Opens an attachment of a ticket the actor may see.
    pub fn open_attachment(&self, actor: &Actor, sha: &str) -> Result<PathBuf> {
        actor.require(Permission::ReadTickets)?;
        if !valid_sha(sha) {
            return Err(Error::NotFound("附件不存在 (attachment not found)".into()));
        }
        // Department users may only fetch files of tickets they can see; the
        // center sees all. Finding the owning ticket needs an index that
        // department attachment access does not justify yet, so department
        // users get files only through `open_ticket_attachment`.
        if actor.scope.is_department() {
            return Err(Error::NotFound("附件不存在 (attachment not found)".into()));
        }
        let p = self.attachment_path(sha);
        if p.exists() {
            Ok(p)
        } else {
            Err(Error::NotFound("附件不存在 (attachment not found)".into()))
        }
    }

    /// Opens an attachment through the ticket that lists it.
    pub fn open_ticket_attachment(
        &self,
        actor: &Actor,
        number: &str,
        sha: &str,
    ) -> Result<(PathBuf, Attachment)> {
        let t = self.ticket(actor, number)?;
        let a = t
            .attachments
            .iter()
            .find(|a| a.sha256 == sha)
            .cloned()
            .ok_or_else(|| Error::NotFound("附件不存在 (attachment not found)".into()))?;
        Ok((self.attachment_path(sha), a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        assert_eq!(content_type_for("a.JPG"), Some("image/jpeg"));
        assert_eq!(content_type_for("a.exe"), None);
        assert_eq!(content_type_for("noext"), None);
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\x\\照片.png"), "照片.png");
        assert_eq!(clean_file_name("a\u{0}b.png"), "ab.png");
        assert_eq!(clean_file_name(""), "file");
        assert!(valid_sha(&"a".repeat(64)));
        assert!(!valid_sha(&"A".repeat(64)));
        assert!(!valid_sha("../x"));
    }
}
