//! The redb store: the single source of truth.
//!
//! A use-case API (`store.register_ticket(…)`, `store.dispatch(…)`), never
//! generic get/put; redb types stay inside this module. Every change is one
//! write transaction, so a crash leaves either all of it or none.

pub mod aggregates;
pub mod audit;
pub mod bulletins;
pub mod chain;
pub mod codec;
pub mod dashboard;
pub mod kb;
pub mod legacy;
pub mod migrate;
pub mod org;
pub mod sessions;
pub mod settings;
pub mod space;
pub mod tables;
pub mod tickets;

use std::path::{Path, PathBuf};

use redb::{Database, ReadTransaction, ReadableDatabase, WriteTransaction};

pub use aggregates::{AggregateCheck, AggregateStats};
pub use tickets::{ScanSource, TicketCounts};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The request conflicts with what is stored (duplicate name, …).
    #[error("{0}")]
    Conflict(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A record could not be decoded.
    #[error("store: corrupt data: {0}")]
    Corrupt(String),
    /// The file was written by a newer program.
    #[error(
        "store: the data file has schema version {found}, newer than this program supports ({supported}); install the newer program or restore a backup"
    )]
    NewerSchema { found: u32, supported: u32 },
    #[error("store: {0}")]
    Db(String),
    /// The disk of the data file is (nearly) full: nothing was written.
    #[error("{0}")]
    DiskFull(String),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                let s = e.to_string();
                if space::is_disk_full_text(&s) {
                    StoreError::DiskFull(space::disk_full(0, space::reserve()).to_string())
                } else {
                    StoreError::Db(s)
                }
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::CompactionError
);

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    db: Database,
    path: PathBuf,
    group: tickets::GroupCommit,
}

impl Store {
    /// Opens (or creates) the data file and brings its schema up to date,
    /// copying the file aside first when an existing file must be migrated.
    pub fn open(path: &Path) -> Result<Store> {
        // Read the version before opening for writing: a newer file is
        // refused untouched, an older one is copied aside before redb
        // writes to it. A file that was not closed cleanly cannot be opened
        // read-only; redb repairs it on a writable open, then we look again.
        let mut needs_migration = false;
        if path.exists() {
            let found = match redb::ReadOnlyDatabase::open(path) {
                Ok(ro) => migrate::version_in(&ro)?,
                Err(_) => {
                    let rw = Database::create(path)?;
                    migrate::version_in(&rw)?
                }
            };
            if found > migrate::CURRENT {
                return Err(StoreError::NewerSchema {
                    found,
                    supported: migrate::CURRENT,
                });
            }
            if found > 0 && found < migrate::CURRENT {
                migrate::backup_before(path, found)?;
                needs_migration = true;
            }
        }
        let db = Database::builder()
            .set_cache_size(128 * 1024 * 1024)
            .create(path)?;
        let store = Store {
            db,
            path: path.to_path_buf(),
            group: Default::default(),
        };
        migrate::run(&store)?;
        let mut store = store;
        if needs_migration {
            // Rewritten records leave their old pages free: give them back.
            store.compact()?;
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn read(&self) -> Result<ReadTransaction> {
        Ok(self.db.begin_read()?)
    }

    /// A write transaction, refused with `DiskFull` while less than the
    /// reserve is free (`space.rs`).
    pub(crate) fn write(&self) -> Result<WriteTransaction> {
        space::check(&self.path, space::reserve())?;
        Ok(self.db.begin_write()?)
    }

    /// A write transaction for sessions and audit records, which may use
    /// the last three quarters of the reserve: logging in to read still
    /// works while ordinary changes are refused.
    pub(crate) fn write_essential(&self) -> Result<WriteTransaction> {
        space::check(&self.path, space::reserve() / 4)?;
        Ok(self.db.begin_write()?)
    }

    /// Size of the data file in bytes.
    pub fn file_size(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }

    /// Reclaims free space (after bulk loads).
    pub fn compact(&mut self) -> Result<bool> {
        Ok(self.db.compact()?)
    }
}

/// Reads one value from an optional table, treating a missing table as empty.
pub(crate) fn missing_table_is_empty<T>(
    r: std::result::Result<T, redb::TableError>,
) -> Result<Option<T>> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
