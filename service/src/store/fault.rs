//! What a database failure means for the client: the storage is unavailable (disk full, I/O,
//! read-only, locked, unreachable, a failed commit: answer 503 and let them retry), or our own
//! bug (a decode or type error, a constraint we should have handled: answer 500).

use sqlx::error::DatabaseError;
use sqlx::postgres::{PgDatabaseError, PgSeverity};

use super::StoreError;

/// Why the storage could not serve a request; logged as the cause class (never the data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// SQLITE_FULL, PostgreSQL 53100, or little room left (health).
    DiskFull,
    /// SQLITE_IOERR, PostgreSQL class 58, a lost connection mid-statement.
    Io,
    /// SQLITE_READONLY, PostgreSQL 25006 (e.g. a primary that became a standby).
    ReadOnly,
    /// SQLITE_BUSY/LOCKED past the busy timeout, PostgreSQL 55P03.
    Locked,
    /// PostgreSQL 40001/40P01: the transaction lost to a concurrent one.
    Conflict,
    /// No pooled connection within the acquire timeout.
    PoolTimeout,
    /// The pool is shut down.
    PoolClosed,
    /// Connection refused, reset or ended by the server (class 08, 57P0x, a FATAL error).
    Connection,
    /// The server is short of resources (class 53 other than disk full).
    Resources,
    /// The statement completed but its commit failed: nothing was stored.
    Commit,
    /// The database file is damaged or not a database.
    Corrupt,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::DiskFull => "disk_full",
            Cause::Io => "io",
            Cause::ReadOnly => "read_only",
            Cause::Locked => "locked",
            Cause::Conflict => "conflict",
            Cause::PoolTimeout => "pool_timeout",
            Cause::PoolClosed => "pool_closed",
            Cause::Connection => "connection",
            Cause::Resources => "resources",
            Cause::Commit => "commit_failed",
            Cause::Corrupt => "corrupt",
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the HTTP layer should treat a `StoreError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The storage failed; a retry later may succeed (503).
    Unavailable(Cause),
    /// A defect on our side (500).
    Bug,
}

impl StoreError {
    pub fn kind(&self) -> FaultKind {
        match self {
            StoreError::Sqlx(err) | StoreError::Write(err) => classify(err),
            StoreError::Commit(_) => FaultKind::Unavailable(Cause::Commit),
            StoreError::Full(cause) => FaultKind::Unavailable(*cause),
            StoreError::Io(_) => FaultKind::Unavailable(Cause::Io),
            StoreError::Unreachable(_) => FaultKind::Unavailable(Cause::Connection),
            StoreError::Migrate(_) | StoreError::UniqueViolation => FaultKind::Bug,
        }
    }

    /// Whether this failed a write (as opposed to a read).
    pub fn is_write(&self) -> bool {
        matches!(self, StoreError::Write(_) | StoreError::Commit(_))
    }
}

pub(crate) fn classify(err: &sqlx::Error) -> FaultKind {
    use FaultKind::{Bug, Unavailable};
    match err {
        sqlx::Error::Database(db) => classify_database(db.as_ref()),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => Unavailable(Cause::Connection),
        sqlx::Error::PoolTimedOut => Unavailable(Cause::PoolTimeout),
        sqlx::Error::PoolClosed => Unavailable(Cause::PoolClosed),
        // SQLite's connection thread died: the connection is gone, like a dropped socket.
        sqlx::Error::WorkerCrashed => Unavailable(Cause::Connection),
        _ => Bug,
    }
}

fn classify_database(err: &dyn DatabaseError) -> FaultKind {
    if let Some(pg) = err.try_downcast_ref::<PgDatabaseError>() {
        return classify_postgres(pg.code(), pg.severity());
    }
    match err.code().and_then(|code| code.parse::<i32>().ok()) {
        Some(code) => classify_sqlite(code),
        None => FaultKind::Bug,
    }
}

/// By the primary result code (the low byte of the extended one).
fn classify_sqlite(extended: i32) -> FaultKind {
    use libsqlite3_sys as ffi;
    let cause = match extended & 0xff {
        ffi::SQLITE_FULL => Cause::DiskFull,
        ffi::SQLITE_IOERR | ffi::SQLITE_CANTOPEN | ffi::SQLITE_NOMEM => Cause::Io,
        ffi::SQLITE_READONLY => Cause::ReadOnly,
        ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED | ffi::SQLITE_PROTOCOL => Cause::Locked,
        ffi::SQLITE_CORRUPT | ffi::SQLITE_NOTADB => Cause::Corrupt,
        _ => return FaultKind::Bug,
    };
    FaultKind::Unavailable(cause)
}

fn classify_postgres(sqlstate: &str, severity: PgSeverity) -> FaultKind {
    let cause = match sqlstate {
        "53100" => Cause::DiskFull,
        "25006" => Cause::ReadOnly,
        "55P03" => Cause::Locked,
        "40001" | "40P01" => Cause::Conflict,
        s if s.starts_with("08") || s.starts_with("57P") => Cause::Connection,
        s if s.starts_with("53") => Cause::Resources,
        s if s.starts_with("58") => Cause::Io,
        // A FATAL or PANIC error ends the session (e.g. "database is not currently accepting
        // connections", 55000, on connect): whatever its code, the connection is gone.
        _ if matches!(severity, PgSeverity::Fatal | PgSeverity::Panic) => Cause::Connection,
        _ => return FaultKind::Bug,
    };
    FaultKind::Unavailable(cause)
}

#[cfg(test)]
mod tests {
    use super::{Cause, FaultKind, classify_postgres, classify_sqlite};
    use sqlx::postgres::PgSeverity;

    #[test]
    fn lost_connections_and_pool_failures_are_unavailable() {
        use super::classify;
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(classify(&io), FaultKind::Unavailable(Cause::Connection));
        assert_eq!(
            classify(&sqlx::Error::WorkerCrashed),
            FaultKind::Unavailable(Cause::Connection)
        );
        assert_eq!(
            classify(&sqlx::Error::PoolTimedOut),
            FaultKind::Unavailable(Cause::PoolTimeout)
        );
        assert_eq!(
            classify(&sqlx::Error::PoolClosed),
            FaultKind::Unavailable(Cause::PoolClosed)
        );
        assert_eq!(classify(&sqlx::Error::RowNotFound), FaultKind::Bug);
    }

    #[test]
    fn only_failed_statements_and_commits_count_as_failed_writes() {
        use crate::store::StoreError;
        let write = StoreError::Write(sqlx::Error::PoolTimedOut);
        let commit = StoreError::Commit(sqlx::Error::PoolTimedOut);
        let read = StoreError::Sqlx(sqlx::Error::PoolTimedOut);
        assert!(write.is_write() && commit.is_write());
        assert!(!read.is_write());
        assert!(!StoreError::Full(Cause::DiskFull).is_write());
    }

    #[test]
    fn sqlite_storage_codes_are_unavailable_and_constraints_are_bugs() {
        assert_eq!(classify_sqlite(13), FaultKind::Unavailable(Cause::DiskFull));
        // SQLITE_IOERR_WRITE, SQLITE_BUSY_TIMEOUT, SQLITE_READONLY_DBMOVED
        assert_eq!(classify_sqlite(778), FaultKind::Unavailable(Cause::Io));
        assert_eq!(classify_sqlite(773), FaultKind::Unavailable(Cause::Locked));
        assert_eq!(
            classify_sqlite(1032),
            FaultKind::Unavailable(Cause::ReadOnly)
        );
        // SQLITE_CANTOPEN, SQLITE_NOMEM, SQLITE_LOCKED, SQLITE_PROTOCOL, SQLITE_CORRUPT, SQLITE_NOTADB
        for (code, cause) in [
            (14, Cause::Io),
            (7, Cause::Io),
            (6, Cause::Locked),
            (15, Cause::Locked),
            (11, Cause::Corrupt),
            (26, Cause::Corrupt),
        ] {
            assert_eq!(
                classify_sqlite(code),
                FaultKind::Unavailable(cause),
                "{code}"
            );
        }
        // SQLITE_CONSTRAINT_UNIQUE, SQLITE_MISMATCH
        assert_eq!(classify_sqlite(2067), FaultKind::Bug);
        assert_eq!(classify_sqlite(20), FaultKind::Bug);
    }

    #[test]
    fn postgres_sqlstates_are_classified_by_class() {
        let error = PgSeverity::Error;
        for (code, cause) in [
            ("53100", Cause::DiskFull),
            ("53300", Cause::Resources),
            ("08006", Cause::Connection),
            ("57P01", Cause::Connection),
            ("57P03", Cause::Connection),
            ("58030", Cause::Io),
            ("25006", Cause::ReadOnly),
            ("55P03", Cause::Locked),
            ("40001", Cause::Conflict),
            ("40P01", Cause::Conflict),
        ] {
            assert_eq!(
                classify_postgres(code, error),
                FaultKind::Unavailable(cause),
                "{code}"
            );
        }
        assert_eq!(
            classify_postgres("55000", PgSeverity::Fatal),
            FaultKind::Unavailable(Cause::Connection)
        );
        assert_eq!(classify_postgres("55000", error), FaultKind::Bug);
        assert_eq!(classify_postgres("23505", error), FaultKind::Bug);
        assert_eq!(classify_postgres("42P01", error), FaultKind::Bug);
    }
}
