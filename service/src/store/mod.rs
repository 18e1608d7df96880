//! Persistence: the only module with SQL. One `Db` enum over concrete pools (not `sqlx::Any`,
//! which cannot decode every Postgres type), the same SQL for both backends where they agree.

mod guards;
mod settings;
mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use guards::Claim;
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
}

/// Pool settings, from `Settings`.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever concrete pool `$db` holds.
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
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
            Db::Postgres(pool)
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
            Db::Sqlite(pool)
        };
        db.migrate().await?;
        Ok(db)
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await?,
        }
        Ok(())
    }

    /// A round trip to the database, for the health check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        const SQL: &str = "SELECT 1";
        with_pool!(self, |pool| sqlx::query(SQL)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
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
