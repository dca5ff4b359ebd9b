//! The embedded database: one SQLite file, `PROXLB_WEB_DATA/proxlb-web.sqlite3`.
//!
//! SQLite is compiled in (rusqlite's `bundled` feature), so a static build still links. The file
//! is created on first start with mode 0600 (its WAL and shared-memory files inherit the mode),
//! opened in WAL mode with a busy timeout and foreign keys on, and brought to the newest schema by
//! the ordered migrations in [`migrations`]. Every table has a retention rule, enforced by
//! [`retention::prune`], so the file cannot grow without bound.
//!
//! rusqlite is blocking: [`Store`] holds the one connection behind a mutex and runs each
//! [`Store::call`] on tokio's blocking pool, so async code never blocks a runtime thread.

pub mod migrations;
pub mod private_file;
pub mod retention;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// rusqlite, re-exported so code adding tables (and tests) uses the same version as the store.
pub use rusqlite;
use rusqlite::Connection;

pub use migrations::{Migration, MIGRATIONS};
pub use retention::{run_pruner, PruneReport, Retention, PRUNE_INTERVAL, RETENTION_RULES};

/// Name of the database file inside the data directory.
pub const FILE_NAME: &str = "proxlb-web.sqlite3";

/// How long a statement waits for a lock held by another connection (e.g. an operator's
/// `sqlite3` shell) before failing with "database is locked".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What can go wrong with the store. Messages may hold paths: for the log, never for browsers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file or directory of the store could not be used.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The file was written by a newer ProxLB Web (its schema is newer than this build knows).
    #[error(
        "database schema version {found} is newer than this build knows ({known}); \
         refusing to downgrade it"
    )]
    TooNew {
        /// Version found in the file.
        found: u32,
        /// Newest version this build knows.
        known: u32,
    },
    /// A row holds a value this build cannot read.
    #[error("database holds an unreadable value: {0}")]
    Corrupt(String),
    /// The blocking task running the query panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
}

impl From<StoreError> for crate::Error {
    fn from(err: StoreError) -> Self {
        crate::Error::Internal(err.to_string())
    }
}

/// The open database. Cheap to clone (one shared connection).
#[derive(Clone, Debug)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl Store {
    /// Opens (creating on first start) `data_dir/proxlb-web.sqlite3` and migrates it to the
    /// newest schema, on the blocking pool. Creates `data_dir` (mode 0700) if it is missing.
    pub async fn open(data_dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let data_dir = data_dir.into();
        tokio::task::spawn_blocking(move || Self::open_blocking(&data_dir))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// [`Store::open`] for synchronous callers (startup code, tests).
    pub fn open_blocking(data_dir: &Path) -> Result<Self, StoreError> {
        private_file::ensure_private_dir(data_dir)?;
        Self::open_file(&data_dir.join(FILE_NAME))
    }

    /// Opens the database at exactly `path` (its directory must exist) and migrates it.
    pub fn open_file(path: &Path) -> Result<Self, StoreError> {
        private_file::ensure_private_file(path)?;
        let mut conn = Connection::open(path)?;
        configure(&mut conn)?;
        migrations::migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path.to_owned()),
        })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the connection on tokio's blocking pool and returns its result.
    ///
    /// Calls are serialised (one connection). Keep `f` short: no network, no password hashing.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic inside an earlier call poisons the mutex; the connection itself is still
            // consistent (an unfinished transaction rolls back when dropped), so carry on.
            let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` with the connection on the current thread (startup code and tests only: it
    /// blocks).
    pub fn call_blocking<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Deletes what the retention rules say has expired (see [`retention`]).
    pub async fn prune(
        &self,
        now: SystemTime,
        retention: Retention,
    ) -> Result<PruneReport, StoreError> {
        self.call(move |conn| retention::prune(conn, now, &retention))
            .await
    }

    /// The schema version of the open file.
    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        self.call(|conn| migrations::current_version(conn)).await
    }
}

/// Connection settings applied on every open.
fn configure(conn: &mut Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Only takes effect on a file without tables, i.e. the first start: freed pages can then be
    // handed back to the file system after pruning (`PRAGMA incremental_vacuum`).
    if migrations::current_version(conn)? == 0 {
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    }
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "journal_mode stayed {mode:?} instead of WAL"
        )));
    }
    // NORMAL is durable in WAL mode except for the last transactions before a power cut.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Seconds since the Unix epoch, as stored in every time column (negative before 1970).
pub fn to_unix(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// The inverse of [`to_unix`].
pub fn from_unix(secs: i64) -> SystemTime {
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_round_trip() {
        for secs in [0, 1, 1_795_365_000, -86_400] {
            assert_eq!(to_unix(from_unix(secs)), secs);
        }
        let t = UNIX_EPOCH + Duration::from_millis(1_500);
        assert_eq!(to_unix(t), 1);
    }

    #[test]
    fn open_configures_wal_busy_timeout_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_blocking(dir.path()).unwrap();
        let (mode, fk, busy, vacuum): (String, i64, i64, i64) = store
            .call_blocking(|c| {
                let mode = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let fk = c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
                let busy = c.query_row("PRAGMA busy_timeout", [], |r| r.get(0))?;
                let vacuum = c.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
                Ok((mode, fk, busy, vacuum))
            })
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(fk, 1);
        assert_eq!(busy, 5_000);
        assert_eq!(vacuum, 2, "incremental auto-vacuum on a fresh file");
        assert_eq!(store.path(), dir.path().join(FILE_NAME));
    }

    #[tokio::test]
    async fn a_panicking_call_does_not_break_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let failed = store
            .call(|_| -> Result<(), StoreError> { panic!("boom") })
            .await;
        assert!(matches!(failed, Err(StoreError::Task(_))));
        assert_eq!(
            store.schema_version().await.unwrap(),
            migrations::latest_version()
        );
    }
}
