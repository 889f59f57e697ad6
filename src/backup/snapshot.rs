//! A consistent copy of the live database, taken while it keeps working.
//!
//! One redb read transaction sees the data as of one commit; writers go on
//! committing beside it (redb keeps the pages the reader needs). Every table
//! of `store/tables.rs` is read from that transaction into a temporary spool
//! file in the data dir, and the transaction ends as soon as that is done:
//! while a reader is open redb cannot reuse the pages users' commits free,
//! so the file grows and the first commit after the reader ends frees them
//! all at once — the shorter the read, the smaller both. Another thread, at
//! a lower priority than users' requests, builds the copy from the spool
//! behind the reader, row by row into a fresh redb file, a hundred thousand
//! rows per commit so that the copy's memory stays bounded. The copy is a
//! complete, cleanly closed data file of the same schema version.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

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

        fn dump_every_table(r: &ReadTransaction, out: &mut SpoolWriter) -> Result<()> {
            $(dump_table(r, $t, out)?;)*
            Ok(())
        }

        fn load_every_table(input: &mut SpoolReader, dst: &Database) -> Result<()> {
            $(load_table(input, dst, $t)?;)*
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
    WORD_COUNTS,
    // Never committed (a rebuild's scratch table): copies nothing.
    WORD_COUNTS_REBUILD,
    WORDS,
    WORD_IDS,
    DIFFICULT,
    // Never committed (a rebuild's scratch table): copies nothing.
    DIFFICULT_REBUILD,
    BULLETIN_INDEX,
    BULLETINS,
    AUDIT_CHAIN,
    EVENT_CHAIN,
);

/// Bytes the reading thread gathers before appending them to the spool.
const SPOOL_CHUNK: usize = 1 << 20;
/// Row length that marks the end of a table in the spool.
const END_OF_TABLE: u32 = u32::MAX;
/// Name prefix of spool files in the data dir.
const SPOOL_PREFIX: &str = ".backup-spool-";

/// What the spool's two ends share.
#[derive(Default)]
struct SpoolState {
    /// Bytes appended to the file so far.
    written: u64,
    /// The reading side has written everything (or failed: `error`).
    done: bool,
    error: Option<String>,
    /// The loading side gave up: the reading side stops.
    cancelled: bool,
}

#[derive(Default)]
struct SpoolShared {
    state: Mutex<SpoolState>,
    changed: Condvar,
}

impl SpoolShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, SpoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The reading end: rows of every table, appended to a temporary file as
/// fast as the snapshot can be read, so that the read transaction — which
/// keeps redb from reusing the pages users' commits free — ends long
/// before the copy is built.
struct SpoolWriter {
    file: File,
    shared: Arc<SpoolShared>,
    buf: Vec<u8>,
    at: u64,
}

impl SpoolWriter {
    fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn put_u32(&mut self, n: u32) {
        self.buf.extend_from_slice(&n.to_le_bytes());
    }

    fn row(&mut self, k: &[u8], v: &[u8]) -> Result<()> {
        let len = |b: &[u8]| {
            u32::try_from(b.len())
                .ok()
                .filter(|&n| n != END_OF_TABLE)
                .ok_or_else(|| StoreError::Db("a row of over 4 GB".into()))
        };
        let (kl, vl) = (len(k)?, len(v)?);
        self.put_u32(kl);
        self.put_u32(vl);
        self.put(k);
        self.put(v);
        if self.buf.len() >= SPOOL_CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    /// Appends the gathered bytes and tells the loading side.
    fn flush(&mut self) -> Result<()> {
        if self.shared.lock().cancelled {
            return Err(StoreError::Db("backup cancelled".into()));
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        write_all_at(&self.file, &self.buf, self.at)
            .map_err(|e| {
                StoreError::Db(format!(
                    "写入备份中转文件失败（数据所在磁盘需临时空出约与数据库文件一样大的空间） writing the backup's spool file in the data folder: {e}"
                ))
            })?;
        self.at += self.buf.len() as u64;
        self.buf.clear();
        self.shared.lock().written = self.at;
        self.shared.changed.notify_all();
        Ok(())
    }

    fn finish(mut self, result: Result<()>) {
        let result = result.and_then(|()| self.flush());
        let mut st = self.shared.lock();
        st.done = true;
        if let Err(e) = result {
            st.error = Some(e.to_string());
        }
        drop(st);
        self.shared.changed.notify_all();
    }
}

/// The loading end: reads the spool behind the writer, waiting for it when
/// it catches up.
struct SpoolReader {
    file: File,
    shared: Arc<SpoolShared>,
    buf: Vec<u8>,
    /// Unread bytes are `buf[start..end]`; `buf[end]` is file offset `at`.
    start: usize,
    end: usize,
    at: u64,
}

impl Drop for SpoolReader {
    fn drop(&mut self) {
        self.shared.lock().cancelled = true;
        self.shared.changed.notify_all();
    }
}

impl SpoolReader {
    /// Makes at least `need` unread bytes available.
    fn fill(&mut self, need: usize) -> Result<()> {
        while self.end - self.start < need {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() < need.max(SPOOL_CHUNK) {
                self.buf.resize(need.max(SPOOL_CHUNK), 0);
            }
            let written = {
                let mut st = self.shared.lock();
                loop {
                    if st.written > self.at {
                        break st.written;
                    }
                    if let Some(e) = &st.error {
                        return Err(StoreError::Db(e.clone()));
                    }
                    if st.done {
                        return Err(StoreError::Corrupt(
                            "the backup's spool file ended early".into(),
                        ));
                    }
                    st = self
                        .shared
                        .changed
                        .wait(st)
                        .unwrap_or_else(|p| p.into_inner());
                }
            };
            let n = ((written - self.at) as usize).min(self.buf.len() - self.end);
            read_exact_at(&self.file, &mut self.buf[self.end..self.end + n], self.at)
                .map_err(|e| StoreError::Db(format!("reading the backup's spool file: {e}")))?;
            self.end += n;
            self.at += n as u64;
        }
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<std::ops::Range<usize>> {
        self.fill(n)?;
        let r = self.start..self.start + n;
        self.start += n;
        Ok(r)
    }

    fn u32(&mut self) -> Result<u32> {
        let r = self.take(4)?;
        Ok(u32::from_le_bytes(
            self.buf[r].try_into().unwrap_or_default(),
        ))
    }

    /// Whether the next table exists in the snapshot.
    fn table_present(&mut self) -> Result<bool> {
        let r = self.take(1)?;
        Ok(self.buf[r.start] == 1)
    }

    /// The next row of the current table; `None` at its end.
    fn next_row(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        let kl = self.u32()?;
        if kl == END_OF_TABLE {
            return Ok(None);
        }
        let vl = self.u32()? as usize;
        let kl = kl as usize;
        self.fill(kl + vl)?;
        let (k0, v0) = (self.start, self.start + kl);
        self.start += kl + vl;
        Ok(Some((&self.buf[k0..v0], &self.buf[v0..v0 + vl])))
    }
}

/// The two ends of a spool file in `dir`, removed from the directory at
/// once where the system allows (Unix: the open handles keep it),
/// otherwise when the returned guard drops.
fn spool(dir: &Path) -> Result<(SpoolWriter, SpoolReader, SpoolGuard)> {
    // Left over by a crash (Windows keeps open files listed).
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(SPOOL_PREFIX) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let path = dir.join(format!("{SPOOL_PREFIX}{}-{nanos}.tmp", std::process::id()));
    let err = |e: io::Error| {
        StoreError::Db(format!(
            "creating the backup's spool file {}: {e}",
            path.display()
        ))
    };
    let w = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(err)?;
    let r = w.try_clone().map_err(err)?;
    let guard = SpoolGuard(path);
    #[cfg(unix)]
    let _ = std::fs::remove_file(&guard.0);
    let shared = Arc::new(SpoolShared::default());
    let writer = SpoolWriter {
        file: w,
        shared: shared.clone(),
        buf: Vec::with_capacity(SPOOL_CHUNK + 4096),
        at: 0,
    };
    let reader = SpoolReader {
        file: r,
        shared,
        buf: vec![],
        start: 0,
        end: 0,
        at: 0,
    };
    Ok((writer, reader, guard))
}

struct SpoolGuard(PathBuf);

impl Drop for SpoolGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Appends one table's rows to the spool: a presence byte, the rows, the
/// end mark.
fn dump_table<K: Key + 'static, V: Value + 'static>(
    r: &ReadTransaction,
    def: TableDefinition<K, V>,
    out: &mut SpoolWriter,
) -> Result<()> {
    let src = match r.open_table(def) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => {
            out.put(&[0]);
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    out.put(&[1]);
    for row in src.iter()? {
        let (k, v) = row?;
        out.row(
            K::as_bytes(&k.value()).as_ref(),
            V::as_bytes(&v.value()).as_ref(),
        )?;
    }
    out.put_u32(END_OF_TABLE);
    // Small tables at once: the loading side need not wait for more.
    out.flush()
}

/// Builds one table of the copy from the spool, committing every
/// [`ROWS_PER_COMMIT`] rows.
fn load_table<K: Key + 'static, V: Value + 'static>(
    input: &mut SpoolReader,
    dst: &Database,
    def: TableDefinition<K, V>,
) -> Result<u64> {
    if !input.table_present()? {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let mut n = 0u64;
    loop {
        let mut w = dst.begin_write()?;
        // The copy needs no durability of its own: it is read back into
        // the archive, which is flushed and verified as a whole.
        w.set_durability(Durability::None).map_err(db_err)?;
        let mut in_commit = 0u64;
        let mut end = false;
        {
            let mut t = w.open_table(def)?;
            loop {
                match input.next_row()? {
                    None => {
                        end = true;
                        break;
                    }
                    Some((k, v)) => {
                        t.insert(K::from_bytes(k), V::from_bytes(v))?;
                        in_commit += 1;
                        if in_commit == ROWS_PER_COMMIT {
                            break;
                        }
                    }
                }
            }
        }
        w.commit()?;
        n += in_commit;
        if end {
            tracing::debug!(
                table = def.name(),
                rows = n,
                ms = started.elapsed().as_millis() as u64,
                "table copied"
            );
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
        let dir = self.path().parent().unwrap_or(Path::new("."));
        let (mut writer, mut reader, _guard) = spool(dir)?;
        std::thread::scope(|scope| {
            // Reads the snapshot into the spool, then ends the read
            // transaction: from then on users' commits free pages again.
            // At normal priority, so that it ends as soon as it can.
            scope.spawn(move || {
                let started = std::time::Instant::now();
                let result = dump_every_table(&r, &mut writer);
                drop(r);
                tracing::info!(
                    ms = started.elapsed().as_millis() as u64,
                    bytes = writer.at + writer.buf.len() as u64,
                    "backup: snapshot read, read transaction ended"
                );
                writer.finish(result);
            });
            // Builds the copy behind it, giving way to users' requests.
            let dst = &dst;
            scope
                .spawn(move || {
                    lower_priority();
                    let loaded = load_every_table(&mut reader, dst);
                    // Stops the reading side too when loading failed.
                    drop(reader);
                    loaded
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(StoreError::Db(
                        "the backup's copying thread panicked".into(),
                    ))
                })
        })?;
        dst.close()?;
        Ok(facts)
    }
}

/// Where the copy of the database goes: a region of the backup file that
/// starts at `base`, so that the database is written once, in place, and
/// never staged on the data disk. It never flushes (the whole archive is
/// flushed and verified at the end) but keeps the disk's queue short with
/// [`write_behind`].
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
            write_behind(&self.file);
        }
        Ok(())
    }
}

/// Bytes written between two calls of [`write_behind`].
pub const WRITEBACK_EVERY: u64 = 8 << 20;

/// Keeps a long write from flooding the disk (Linux): waits until the
/// file's pages sent to the disk last time are written, then sends the
/// ones written since, without waiting for them. So at most about
/// [`WRITEBACK_EVERY`] bytes of the backup are ever queued at the disk, and
/// users' commits — whose fsync queues behind them when the target is on
/// the same disk — wait tens of milliseconds at worst, not seconds. The
/// backup itself rarely waits: the previous batch has long been written
/// by the time the next is due. Elsewhere nothing.
pub fn write_behind(file: &File) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: sync_file_range only waits for and starts writeback of
        // an open descriptor that this function borrows; it touches no
        // memory.
        unsafe {
            libc::sync_file_range(
                file.as_raw_fd(),
                0,
                0,
                libc::SYNC_FILE_RANGE_WAIT_BEFORE | libc::SYNC_FILE_RANGE_WRITE,
            );
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

/// Opens the database member of a backup file read-only, counts it and
/// checks its hash chains (timelines and audit log).
pub fn facts_in_slice(slice: Slice) -> Result<(DbFacts, crate::store::chain::ChainReport)> {
    let db = redb::Builder::new()
        .set_cache_size(16 << 20)
        .open_read_only_with_backend(slice)?;
    let r = db.begin_read()?;
    Ok((facts_in(&r)?, crate::store::chain::verify_in(&r)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of any size come out of the spool as they went in, table by
    /// table, while the writing side is still going; an absent table stays
    /// absent; nothing is left in the folder.
    #[test]
    fn spool_hands_over_rows_while_being_written() {
        let dir = std::env::temp_dir().join(format!("hotline-spool-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (mut w, mut r, guard) = spool(&dir).unwrap();
        let big = vec![7u8; 3 * SPOOL_CHUNK + 5];
        let rows: Vec<(Vec<u8>, Vec<u8>)> = (0..20_000u32)
            .map(|i| {
                (
                    i.to_be_bytes().to_vec(),
                    vec![(i % 251) as u8; (i % 97) as usize],
                )
            })
            .chain([(b"big".to_vec(), big.clone()), (vec![], vec![])])
            .collect();
        std::thread::scope(|s| {
            let rows = &rows;
            s.spawn(move || {
                w.put(&[1]);
                for (k, v) in rows {
                    w.row(k, v).unwrap();
                    // Makes the reader wait for the writer now and then.
                    if k.first() == Some(&0) && k.last() == Some(&0) {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                }
                w.put_u32(END_OF_TABLE);
                w.put(&[0]);
                w.finish(Ok(()));
            });
            assert!(r.table_present().unwrap());
            let mut got = vec![];
            while let Some((k, v)) = r.next_row().unwrap() {
                got.push((k.to_vec(), v.to_vec()));
            }
            assert_eq!(&got, rows);
            assert!(!r.table_present().unwrap());
            // Past the end: an error, never a hang.
            assert!(r.table_present().is_err());
        });
        drop(guard);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// When the loading side gives up, the reading side stops at its next
    /// flush; when the reading side fails, the loading side gets its error.
    #[test]
    fn either_side_failing_stops_the_other() {
        let dir = std::env::temp_dir().join(format!("hotline-spool-fail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (mut w, r, _g) = spool(&dir).unwrap();
        drop(r);
        w.row(b"k", b"v").unwrap();
        assert!(w.flush().is_err());
        let (w, mut r, _g2) = spool(&dir).unwrap();
        w.finish(Err(StoreError::Db("disk read failed".into())));
        let e = r.table_present().unwrap_err().to_string();
        assert!(e.contains("disk read failed"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
