//! Persistence: the only module with SQL. One `Db` enum over concrete pools (not `sqlx::Any`,
//! which cannot decode every Postgres type), the same SQL for both backends where they agree.

mod guards;
mod import;
pub mod pocketbase_source;
mod settings;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use guards::Claim;
pub use import::{ImportTarget, ImportWrite};
pub use users::{CompanyRecord, NewUser, ProfileUpdate, UserRecord};

pub static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite");
pub static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
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
}

/// The database: a pool of one backend, cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pools: Pools,
    health: Arc<HealthGate>,
}

#[derive(Debug, Clone)]
pub(crate) enum Pools {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Lets concurrent health checks share one database round trip without answering from a stale
/// one: a check reuses a ping only if that ping *began* after the check arrived (or, for a
/// failure, ended after it arrived, so an outage does not queue the checks one timeout each).
/// On SQLite every statement is a hop to the connection's worker thread and back; sharing the
/// ping took the health check from ~80 to ~25 µs of CPU at 16 connections.
/// `(began, ended, outcome)` of one ping, numbered by the gate's counters.
type PingRecord = (u64, u64, Result<(), String>);

#[derive(Debug, Default)]
struct HealthGate {
    begun: AtomicU64,
    ended: AtomicU64,
    /// The last ping; held while a ping runs.
    last: tokio::sync::Mutex<Option<PingRecord>>,
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
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            if let Some(dir) = connect
                .get_filename()
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                // sqlx pings every idle connection before handing it out: on SQLite that is one
                // more hop to the connection's worker thread per statement, and a connection to
                // a local file cannot go stale. (Postgres keeps the check: there it finds the
                // connections a restarted server dropped.)
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        let mut handle = conn.lock_handle().await?;
                        // SAFETY: the handle is locked out of the connection's worker thread
                        // for the duration of the call; the handler keeps no pointer.
                        unsafe {
                            libsqlite3_sys::sqlite3_busy_handler(
                                handle.as_raw_handle().as_ptr(),
                                Some(busy_handler),
                                std::ptr::null_mut(),
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

    /// A round trip to the database, for the health check; concurrent checks share one (see
    /// `HealthGate`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let gate = &self.health;
        let (begun, ended) = (
            gate.begun.load(Ordering::Acquire),
            gate.ended.load(Ordering::Acquire),
        );
        let mut last = gate.last.lock().await;
        match &*last {
            Some((began, _, Ok(()))) if *began > begun => return Ok(()),
            Some((_, done, Err(message))) if *done > ended => {
                return Err(StoreError::Unreachable(message.clone()));
            }
            _ => {}
        }
        let began = gate.begun.fetch_add(1, Ordering::AcqRel) + 1;
        let outcome = self.ping_once().await;
        let done = gate.ended.fetch_add(1, Ordering::AcqRel) + 1;
        *last = Some((
            began,
            done,
            outcome.as_ref().map(|_| ()).map_err(ToString::to_string),
        ));
        outcome
    }

    async fn ping_once(&self) -> Result<(), StoreError> {
        const SQL: &str = "SELECT 1";
        with_pool!(self, |pool| sqlx::query(SQL)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
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
}

/// How long an SQLite statement waits for another connection's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Replaces SQLite's default busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50,
/// 100 ms between retries: our writes hold the lock for tens of microseconds, so under concurrent
/// logins most of a request's time went to sleeping (p99 60 ms). This one retries after 20 µs,
/// doubling up to 1 ms, and gives up after about `SQLITE_BUSY_TIMEOUT`. It runs on the
/// connection's own worker thread, never on the async runtime.
extern "C" fn busy_handler(_: *mut std::ffi::c_void, attempt: std::ffi::c_int) -> std::ffi::c_int {
    const FIRST_US: u64 = 20;
    const MAX_US: u64 = 1_000;
    // 20 + 40 + … + 640 µs ≈ 1.3 ms for the first 6 attempts, then 1 ms each.
    let max_attempts = 6 + SQLITE_BUSY_TIMEOUT.as_micros() as u64 / MAX_US;
    let attempt = attempt.max(0) as u64;
    if attempt >= max_attempts {
        return 0;
    }
    let wait_us = (FIRST_US << attempt.min(6)).min(MAX_US);
    std::thread::sleep(Duration::from_micros(wait_us));
    1
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn map_unique(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::UniqueViolation,
        _ => StoreError::Sqlx(err),
    }
}
