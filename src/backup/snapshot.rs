//! A consistent copy of the live database, taken while it keeps working.
//!
//! One redb read transaction sees the data as of one commit; writers go on
//! committing beside it (redb keeps the pages the reader needs). Every table
//! of `store/tables.rs` is copied row by row from that transaction into a
//! fresh redb file (read on one thread, written on another), a hundred
//! thousand rows per commit so that the copy's memory stays bounded. The
//! copy is a complete, cleanly closed data file of the same schema version.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use redb::{
    Database, Durability, Key, MultimapTableHandle, ReadTransaction, ReadableDatabase,
    ReadableTable, ReadableTableMetadata, StorageBackend, TableDefinition, TableError, TableHandle,
    Value,
};

use crate::store::tables::*;
use crate::store::{Store, StoreError};

/// Rows per commit while copying: bounds the dirty pages held in memory.
const ROWS_PER_COMMIT: u64 = 100_000;
/// Page cache of the copy (the live store has its own).
const COPY_CACHE: usize = 64 << 20;

type Result<T> = std::result::Result<T, StoreError>;

/// What a data file holds, as the manifest counts it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbFacts {
    pub schema_version: u32,
    pub tickets: u64,
    pub events: u64,
    pub users: u64,
    pub units: u64,
    pub categories: u64,
    /// Knowledge-base articles (rows of `kb_articles`; 0 before schema v4).
    pub articles: u64,
    pub center: String,
    pub timezone: String,
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(e.to_string())
}

macro_rules! every_table {
    ($($t:ident),* $(,)?) => {
        /// The name of every table a backup copies (all of `tables.rs`).
        pub fn table_names() -> Vec<&'static str> {
            vec![$($t.name()),*]
        }

        fn copy_every_table(r: &ReadTransaction, dst: &Database) -> Result<()> {
            $(copy_table(r, dst, $t)?;)*
            Ok(())
        }
    };
}

every_table!(
    META,
    SETTINGS,
    CALENDAR,
    USERS,
    USERNAMES,
    UNITS,
    CATEGORIES,
    SESSIONS,
    API_TOKENS,
    TICKETS,
    EVENTS,
    IDX_PHONE,
    IDX_CATEGORY,
    IDX_DISTRICT,
    IDX_STATE,
    IDX_UNIT_STATE,
    IDX_UNIT_SEEN,
    IDX_STATE_DUE,
    AUDIT,
    KB_ARTICLES,
    KB_CODES,
    KB_IDX_CATEGORY,
    KB_VERSIONS,
    KB_VERSIONS_BY_TIME,
    KB_PROPOSALS,
    KB_IDX_PROPOSAL_STATE,
    KB_NOTICES,
    KB_UNREAD,
    KB_ACKS,
    KB_STATS,
    KB_USES,
    KB_SEARCHES,
    KB_SYNONYMS,
    SEARCH_OUTBOX,
    AGGREGATES,
    // Never committed (a rebuild's scratch table): copies nothing.
    AGGREGATES_REBUILD,
    AGG_NAMES,
    AGG_NAME_IDS,
);

/// Rows per batch handed from the reading thread to the writing one.
const ROWS_PER_BATCH: usize = 4096;

/// Rows of one table as raw key and value bytes, read on one thread and
/// inserted on another.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    /// (key start, value start, value end) in `bytes`.
    rows: Vec<(usize, usize, usize)>,
}

/// Copies one table: a second thread reads the rows from the snapshot
/// while this one inserts them into the copy, so that reading and writing
/// overlap on the two cores of a small office PC. The reading thread runs
/// at a lower priority so that users' requests come first.
fn copy_table<K: Key + Send + Sync + 'static, V: Value + Send + Sync + 'static>(
    r: &ReadTransaction,
    dst: &Database,
    def: TableDefinition<K, V>,
) -> Result<u64> {
    match r.open_table(def) {
        Ok(_) => {}
        Err(TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(e.into()),
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Batch>>(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            lower_priority();
            let read = || -> Result<()> {
                let src = r.open_table(def)?;
                let mut batch = Batch::default();
                for row in src.iter()? {
                    let (k, v) = row?;
                    let ks = batch.bytes.len();
                    batch
                        .bytes
                        .extend_from_slice(K::as_bytes(&k.value()).as_ref());
                    let vs = batch.bytes.len();
                    batch
                        .bytes
                        .extend_from_slice(V::as_bytes(&v.value()).as_ref());
                    batch.rows.push((ks, vs, batch.bytes.len()));
                    if batch.rows.len() == ROWS_PER_BATCH
                        && tx.send(Ok(std::mem::take(&mut batch))).is_err()
                    {
                        return Ok(());
                    }
                }
                if !batch.rows.is_empty() {
                    let _ = tx.send(Ok(batch));
                }
                Ok(())
            };
            if let Err(e) = read() {
                let _ = tx.send(Err(e));
            }
        });
        write_rows(dst, def, rx)
    })
}

/// Inserts the batches of `rx` into the copy, committing every
/// [`ROWS_PER_COMMIT`] rows.
fn write_rows<K: Key + 'static, V: Value + 'static>(
    dst: &Database,
    def: TableDefinition<K, V>,
    rx: std::sync::mpsc::Receiver<Result<Batch>>,
) -> Result<u64> {
    let mut n = 0u64;
    let mut batches = rx.into_iter();
    loop {
        let mut w = dst.begin_write()?;
        // The copy needs no durability of its own: it is read back into
        // the archive, which is flushed and verified as a whole.
        w.set_durability(Durability::None).map_err(db_err)?;
        let mut in_commit = 0u64;
        let mut more = false;
        {
            let mut t = w.open_table(def)?;
            for batch in batches.by_ref() {
                let batch = batch?;
                for &(ks, vs, ve) in &batch.rows {
                    t.insert(
                        K::from_bytes(&batch.bytes[ks..vs]),
                        V::from_bytes(&batch.bytes[vs..ve]),
                    )?;
                }
                in_commit += batch.rows.len() as u64;
                if in_commit >= ROWS_PER_COMMIT {
                    more = true;
                    break;
                }
            }
        }
        w.commit()?;
        n += in_commit;
        if !more {
            return Ok(n);
        }
    }
}

/// Lowers the calling thread's scheduling priority (Linux: nice 10 for
/// this thread only); elsewhere nothing.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's own id only changes its
    // scheduling priority.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

fn len_of<K: Key + 'static, V: Value + 'static>(
    r: &ReadTransaction,
    def: TableDefinition<K, V>,
) -> Result<u64> {
    match r.open_table(def) {
        Ok(t) => Ok(t.len()?),
        Err(TableError::TableDoesNotExist(_)) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// Counts, schema version and center name as one read transaction sees them.
pub fn facts_in(r: &ReadTransaction) -> Result<DbFacts> {
    let mut f = DbFacts {
        tickets: len_of(r, TICKETS)?,
        events: len_of(r, EVENTS)?,
        users: len_of(r, USERS)?,
        units: len_of(r, UNITS)?,
        categories: len_of(r, CATEGORIES)?,
        articles: len_of(r, KB_ARTICLES)?,
        ..Default::default()
    };
    match r.open_table(META) {
        Ok(meta) => {
            if let Some(v) = meta.get("schema_version")? {
                let b: [u8; 4] = v
                    .value()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("schema_version is not 4 bytes".into()))?;
                f.schema_version = u32::from_le_bytes(b);
            }
        }
        Err(TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(e.into()),
    }
    // Read leniently: a file of another schema version may hold other
    // settings; only the name and the zone are needed here.
    match r.open_table(SETTINGS) {
        Ok(t) => {
            if let Some(v) = t.get(crate::store::settings::KEY)? {
                let j: serde_json::Value = serde_json::from_slice(v.value()).unwrap_or_default();
                f.center = j["center_name"].as_str().unwrap_or("").to_string();
                f.timezone = j["timezone"].as_str().unwrap_or("").to_string();
            }
        }
        Err(TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(f)
}

/// Facts of a database opened any way.
pub fn facts_of(db: &impl ReadableDatabase) -> Result<DbFacts> {
    facts_in(&db.begin_read()?)
}

/// Refuses a file holding a table this module does not know: a backup
/// must never silently leave data out.
fn check_known_tables(r: &ReadTransaction) -> Result<()> {
    let known = table_names();
    for t in r.list_tables()? {
        if !known.contains(&t.name()) {
            return Err(StoreError::Db(format!(
                "table {:?} is not known to the backup module (src/backup/snapshot.rs): refusing to make an incomplete backup",
                t.name()
            )));
        }
    }
    if let Some(t) = r.list_multimap_tables()?.next() {
        return Err(StoreError::Db(format!(
            "multimap table {:?} is not known to the backup module",
            t.name()
        )));
    }
    Ok(())
}

impl Store {
    /// Writes a consistent copy of the whole database into `backend` (new,
    /// empty storage) while writers go on; returns what the copy holds.
    pub(crate) fn snapshot_into(&self, backend: impl StorageBackend) -> Result<DbFacts> {
        let r = self.read()?;
        check_known_tables(&r)?;
        let facts = facts_in(&r)?;
        let dst = Database::builder()
            .set_cache_size(COPY_CACHE)
            .create_with_backend(backend)?;
        copy_every_table(&r, &dst)?;
        drop(r);
        dst.close()?;
        Ok(facts)
    }
}

/// Where the copy of the database goes: a region of the backup file that
/// starts at `base`, so that the database is written once, in place, and
/// never staged on the data disk. It never flushes (the whole archive is
/// flushed and verified at the end) but starts writeback every 32 MiB so
/// that dirty pages do not pile up into one long flush.
#[derive(Debug)]
pub struct InArchive {
    pub file: File,
    pub base: u64,
    /// The database's length (shared: redb owns the backend).
    pub len: Arc<AtomicU64>,
    /// No byte at or past this file offset may be written (simulates a
    /// full target).
    pub limit: Option<u64>,
    /// The kind of the first write error, to report it in words.
    pub error: Arc<Mutex<Option<io::ErrorKind>>>,
    pub unflushed: AtomicU64,
}

impl InArchive {
    fn fail(&self, e: io::Error) -> io::Error {
        let mut g = self.error.lock().unwrap_or_else(|p| p.into_inner());
        g.get_or_insert(e.kind());
        e
    }

    fn check_limit(&self, end: u64) -> io::Result<()> {
        match self.limit {
            Some(l) if self.base + end > l => Err(self.fail(io::Error::new(
                io::ErrorKind::StorageFull,
                "No space left on device (simulated)",
            ))),
            _ => Ok(()),
        }
    }
}

impl StorageBackend for InArchive {
    fn len(&self) -> io::Result<u64> {
        Ok(self.len.load(Ordering::SeqCst))
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        read_exact_at(&self.file, out, self.base + offset)
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.check_limit(len)?;
        self.file
            .set_len(self.base + len)
            .map_err(|e| self.fail(e))?;
        self.len.store(len, Ordering::SeqCst);
        Ok(())
    }
    fn sync_data(&self) -> io::Result<()> {
        Ok(())
    }
    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.check_limit(offset + data.len() as u64)?;
        write_all_at(&self.file, data, self.base + offset).map_err(|e| self.fail(e))?;
        let n = self
            .unflushed
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        if n >= WRITEBACK_EVERY {
            self.unflushed.store(0, Ordering::Relaxed);
            start_writeback(&self.file);
        }
        Ok(())
    }
}

/// Bytes written between two starts of writeback.
pub const WRITEBACK_EVERY: u64 = 32 << 20;

/// Asks the kernel to start writing a file's dirty pages now, without
/// waiting for them (Linux); elsewhere nothing.
pub fn start_writeback(file: &File) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: sync_file_range only starts writeback of an open
        // descriptor that this function borrows; it touches no memory.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = file;
}

/// Writes all of `data` at `offset` of `file`.
pub fn write_all_at(file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, data, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < data.len() {
            let n = std::os::windows::fs::FileExt::seek_write(
                file,
                &data[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "failed to write whole buffer",
                ));
            }
            done += n;
        }
        Ok(())
    }
}

/// Reads `out.len()` bytes at `offset` of `file`.
pub fn read_exact_at(file: &File, out: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, out, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < out.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut out[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "failed to fill whole buffer",
                ));
            }
            done += n;
        }
        Ok(())
    }
}

/// A read-only window on a database stored inside a backup file, so that
/// a backup's database is opened where it lies, without extracting it.
#[derive(Debug)]
pub struct Slice {
    pub file: File,
    pub offset: u64,
    pub len: u64,
}

fn read_only() -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        "a database inside a backup file is read-only",
    )
}

impl StorageBackend for Slice {
    fn len(&self) -> io::Result<u64> {
        Ok(self.len)
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        if offset.saturating_add(out.len() as u64) > self.len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of the database member",
            ));
        }
        read_exact_at(&self.file, out, self.offset + offset)
    }
    fn set_len(&self, _: u64) -> io::Result<()> {
        Err(read_only())
    }
    fn sync_data(&self) -> io::Result<()> {
        Ok(())
    }
    fn write(&self, _: u64, _: &[u8]) -> io::Result<()> {
        Err(read_only())
    }
}

/// Opens the database member of a backup file read-only and counts it.
pub fn facts_in_slice(slice: Slice) -> Result<DbFacts> {
    let db = redb::Builder::new()
        .set_cache_size(16 << 20)
        .open_read_only_with_backend(slice)?;
    facts_of(&db)
}

#[cfg(test)]
mod tests {
    /// Every table declared in `store/tables.rs` is copied.
    #[test]
    fn every_declared_table_is_copied() {
        let src = include_str!("../store/tables.rs");
        let declared: Vec<&str> = src
            .split("TableDefinition::new(\"")
            .skip(1)
            .map(|p| &p[..p.find('"').unwrap()])
            .collect();
        let mut copied = super::table_names();
        let mut declared_sorted = declared.clone();
        copied.sort();
        declared_sorted.sort();
        assert_eq!(copied, declared_sorted);
    }
}
