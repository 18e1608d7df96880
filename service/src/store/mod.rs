//! Persistence: the only module with SQL. One `Db` enum over concrete pools (not `sqlx::Any`,
//! which cannot decode every Postgres type), the same SQL for both backends where they agree.

mod fault;
mod files;
mod guards;
mod health;
mod import;
pub mod pocketbase_source;
mod settings;
mod users;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sqlx::Either;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use fault::{Cause, FaultKind};
pub use guards::GuardClaim;
use health::HealthGate;
pub use import::{ImportTarget, ImportWrite};
pub use users::{CompanyRecord, NewUser, ProfileUpdate, UserRecord};

pub static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite");
pub static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// A write statement failed; nothing it did is stored.
    #[error("database write failed: {0}")]
    Write(#[source] sqlx::Error),
    /// The statement ran but its commit failed; nothing it did is stored.
    #[error("database commit failed: {0}")]
    Commit(#[source] sqlx::Error),
    /// The database has no room left to grow (health's check, before any write fails).
    #[error("database storage is full ({0})")]
    Full(Cause),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("could not prepare the database directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("unique constraint violated")]
    UniqueViolation,
    /// A concurrent health check's ping failed while this one waited for it.
    #[error("database unreachable: {0}")]
    Unreachable(String),
}

/// Pool settings, from `Settings`.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// How long an SQLite statement waits for another connection's write lock.
    pub busy_timeout: Duration,
    /// SQLite: whether a commit waits for the WAL to reach the disk (`BAI_SQLITE_SYNCHRONOUS`).
    pub sqlite_sync_commits: bool,
}

/// The database: a pool of one backend, cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pools: Pools,
    health: Arc<HealthGate>,
    /// Where an SQLite database lives, for health's free-space check.
    sqlite_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub(crate) enum Pools {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever concrete pool `$db` holds.
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match &$db.pools {
            $crate::store::Pools::Sqlite($pool) => $body,
            $crate::store::Pools::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

impl Db {
    /// Connects (creating an SQLite file and its directory when missing) and runs the migrations.
    pub async fn connect(options: &DbOptions) -> Result<Self, StoreError> {
        let mut sqlite_dir = None;
        let db = if is_postgres_url(&options.url) {
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect(&options.url)
                .await?;
            Pools::Postgres(pool)
        } else {
            let connect = SqliteConnectOptions::from_str(&options.url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL (the default): a commit returns only once the WAL is on disk, so a 200
                // survives a power cut or a kernel crash, as PostgreSQL's default
                // `synchronous_commit = on` does. NORMAL survives a crash of this process only
                // (crash_safety.rs) and may lose the last commits to an OS crash.
                .synchronous(if options.sqlite_sync_commits {
                    SqliteSynchronous::Full
                } else {
                    SqliteSynchronous::Normal
                })
                .busy_timeout(options.busy_timeout)
                .foreign_keys(true);
            if !files::is_in_memory(&options.url) {
                files::prepare_sqlite_file(connect.get_filename())?;
                sqlite_dir = connect.get_filename().parent().map(|d| {
                    if d.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        d
                    }
                    .to_owned()
                });
            }
            let max_busy_attempts = busy_attempts(options.busy_timeout);
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                // sqlx pings every idle connection before handing it out: on SQLite that is one
                // more hop to the connection's worker thread per statement, and a connection to
                // a local file cannot go stale. (Postgres keeps the check: there it finds the
                // connections a restarted server dropped.)
                .test_before_acquire(false)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        let mut handle = conn.lock_handle().await?;
                        // SAFETY: the handle is locked out of the connection's worker thread
                        // for the duration of the call; the handler's argument is a number,
                        // never dereferenced.
                        unsafe {
                            libsqlite3_sys::sqlite3_busy_handler(
                                handle.as_raw_handle().as_ptr(),
                                Some(busy_handler),
                                // The handler's one argument: how many retries it allows.
                                max_busy_attempts as *mut std::ffi::c_void,
                            );
                        }
                        Ok(())
                    })
                })
                .connect_with(connect)
                .await?;
            Pools::Sqlite(pool)
        };
        let db = Db {
            pools: db,
            health: Arc::default(),
            sqlite_dir,
        };
        db.migrate().await?;
        Ok(db)
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await?,
            Pools::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> &'static str {
        match &self.pools {
            Pools::Sqlite(_) => "sqlite",
            Pools::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }

    /// The pool's connections now, for the metrics scrape.
    pub fn pool_stats(&self) -> PoolStats {
        with_pool!(self, |pool| PoolStats {
            size: pool.size(),
            idle: pool.num_idle() as u32,
            max: pool.options().get_max_connections(),
        })
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Replaces SQLite's default busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50,
/// 100 ms between retries: our writes hold the lock for tens of microseconds, so under concurrent
/// logins most of a request's time went to sleeping (p99 60 ms). This one retries after 20 µs,
/// doubling up to 1 ms, and gives up after the attempts `busy_attempts` allows (its argument).
/// It runs on the connection's own worker thread, never on the async runtime.
extern "C" fn busy_handler(
    max_attempts: *mut std::ffi::c_void,
    attempt: std::ffi::c_int,
) -> std::ffi::c_int {
    let max_attempts = max_attempts as usize as u64;
    let attempt = attempt.max(0) as u64;
    if attempt >= max_attempts {
        return 0;
    }
    std::thread::sleep(busy_wait(attempt));
    1
}

/// The sleep before retry `attempt` (from 0).
fn busy_wait(attempt: u64) -> Duration {
    Duration::from_micros((BUSY_FIRST_WAIT_US << attempt.min(6)).min(BUSY_MAX_WAIT_US))
}

const BUSY_FIRST_WAIT_US: u64 = 20;
const BUSY_MAX_WAIT_US: u64 = 1_000;

/// Retries that add up to about `timeout`: 20 + 40 + … + 640 µs ≈ 1.3 ms for the first 6
/// attempts, then 1 ms each.
fn busy_attempts(timeout: Duration) -> usize {
    6 + (timeout.as_micros() as u64 / BUSY_MAX_WAIT_US) as usize
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A unique-constraint clash as its own variant (the caller retries with new ids).
fn map_unique(err: StoreError) -> StoreError {
    match &err {
        StoreError::Write(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            StoreError::UniqueViolation
        }
        _ => err,
    }
}

impl Db {
    /// Runs one write statement (`pool.fetch_many(query)`) to its end and returns its rows.
    ///
    /// Why not `fetch_optional`: on SQLite it stops stepping the statement after the first
    /// row and resets it, and the reset is where an autocommit statement commits; sqlx
    /// discards the reset's result (sqlx-sqlite 0.9 `connection/worker.rs`, `limit: Some(1)`
    /// drops the iterator; `connection/execute.rs`, `Drop for ExecuteIter` calls
    /// `reset().ok()`). A commit that failed (disk full writing the WAL, a deferred
    /// constraint) was a row returned and nothing stored. Reading the stream to its end makes
    /// SQLite step to `SQLITE_DONE`, which returns the commit's outcome, and makes PostgreSQL's
    /// reply run to `ReadyForQuery`, which carries the implicit commit's error. An error after
    /// the statement reported completion is the commit failing.
    async fn run_write<Done, Row>(
        &self,
        mut stream: BoxStream<'_, Result<Either<Done, Row>, sqlx::Error>>,
    ) -> Result<Vec<Row>, StoreError> {
        let mut rows = Vec::new();
        let mut completed = false;
        let outcome = loop {
            match stream.next().await {
                None => break Ok(rows),
                Some(Ok(Either::Right(row))) => rows.push(row),
                Some(Ok(Either::Left(_))) => completed = true,
                Some(Err(err)) if completed => break Err(StoreError::Commit(err)),
                Some(Err(err)) => break Err(StoreError::Write(err)),
            }
        };
        drop(stream);
        self.health.record_write(&outcome);
        outcome
    }

    /// Fault injection for tests: caps the SQLite database at its current size (`Some(0)`)
    /// or `extra` pages more, or lifts the cap (`None`), on one pooled connection (start the
    /// app with one connection). Returns the cap in force. Writes that need a new page then
    /// fail with `SQLITE_FULL`, as on a full disk.
    #[doc(hidden)]
    pub async fn cap_sqlite_pages_for_tests(&self, extra: Option<u32>) -> Result<i64, StoreError> {
        let Pools::Sqlite(pool) = &self.pools else {
            return Ok(0);
        };
        let mut conn = pool.acquire().await?;
        let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
            .fetch_one(&mut *conn)
            .await?;
        // SQLite's default ceiling, which the pragma cannot exceed anyway.
        let cap = extra.map_or(4_294_967_294, |extra| pages + i64::from(extra));
        let (cap,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "PRAGMA max_page_count = {cap}"
        )))
        .fetch_one(&mut *conn)
        .await?;
        Ok(cap)
    }
}

/// Decodes the rows a write returned.
fn decode<T, R>(rows: &[R]) -> Result<Vec<T>, StoreError>
where
    R: sqlx::Row,
    T: for<'r> sqlx::FromRow<'r, R>,
{
    rows.iter()
        .map(|row| T::from_row(row).map_err(StoreError::Sqlx))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{busy_attempts, busy_handler, busy_wait, is_postgres_url};

    #[test]
    fn both_postgres_schemes_select_postgres() {
        assert!(is_postgres_url("postgres://u@h/db"));
        assert!(is_postgres_url("postgresql://u@h/db"));
        assert!(!is_postgres_url("sqlite://data/bai.db"));
        assert!(!is_postgres_url("sqlite://postgres://"));
    }

    /// The busy handler's waits add up to the configured busy timeout (give or take the
    /// first, shorter ones), so a locked database fails after `BAI_DB_BUSY_TIMEOUT_MS`.
    #[test]
    fn the_retries_wait_about_the_busy_timeout_in_all() {
        for timeout_ms in [0, 5, 250, 5_000] {
            let timeout = Duration::from_millis(timeout_ms);
            let attempts = busy_attempts(timeout) as u64;
            let waited: Duration = (0..attempts).map(busy_wait).sum();
            assert!(
                waited >= timeout && waited <= timeout + Duration::from_micros(1_300),
                "{timeout:?}: {attempts} attempts wait {waited:?}"
            );
        }
        assert_eq!(busy_wait(0), Duration::from_micros(20));
        assert_eq!(busy_wait(100), Duration::from_millis(1));
    }

    #[test]
    fn the_handler_gives_up_after_the_attempts_it_allows() {
        let allowed = 3usize as *mut std::ffi::c_void;
        assert_eq!(busy_handler(allowed, 2), 1);
        assert_eq!(busy_handler(allowed, 3), 0);
        assert_eq!(busy_handler(allowed, -1), 1);
    }
}
