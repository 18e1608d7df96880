//! The health gate's unit tests: room, shared pings, the write probe's lifetime.

use std::time::Duration;

use super::short_of_room;
use crate::store::fault::Cause;
use crate::store::{Db, DbOptions, Pools, StoreError};

fn sqlite_pool(db: &Db) -> &sqlx::SqlitePool {
    let Pools::Sqlite(pool) = &db.pools else {
        unreachable!("in_memory_db is SQLite")
    };
    pool
}

async fn in_memory_db() -> Db {
    Db::connect(&DbOptions {
        url: "sqlite::memory:".to_owned(),
        max_connections: 1,
        acquire_timeout: Duration::from_millis(200),
        busy_timeout: Duration::from_secs(1),
        sqlite_sync_commits: true,
    })
    .await
    .unwrap()
}

#[test]
fn sixteen_pages_and_a_mebibyte_are_the_least_room_that_is_healthy() {
    const MIB: u64 = 1024 * 1024;
    assert!(!short_of_room(16, Some(MIB)));
    assert!(
        !short_of_room(16, None),
        "a file system that cannot be asked"
    );
    assert!(short_of_room(15, Some(u64::MAX)));
    assert!(short_of_room(i64::MAX, Some(MIB - 1)));
}

/// A check must not be answered by a ping that began before it arrived: that ping may
/// predate an outage.
#[tokio::test]
async fn a_check_after_the_database_went_away_does_not_reuse_the_last_ping() {
    let db = in_memory_db().await;
    assert!(db.ping().await.is_ok());
    db.close().await;
    assert!(db.ping().await.is_err());
}

/// Nor by a failed ping that ended before it arrived: the database may be back.
#[tokio::test]
async fn a_check_after_the_database_came_back_does_not_reuse_the_failure() {
    let db = in_memory_db().await;
    let pool = sqlite_pool(&db);
    // The pool's one connection, taken: the ping times out waiting for it.
    let taken = pool.acquire().await.unwrap();
    assert!(db.ping().await.is_err());
    drop(taken);
    assert!(db.ping().await.is_ok());
}

/// The write probe's success answers for `WRITE_PROBE_TTL`, no longer: a database that
/// fills up while no request writes is unhealthy after that.
#[tokio::test]
async fn a_database_that_fills_up_unseen_is_unhealthy_once_the_probe_expires() {
    let db = in_memory_db().await;
    assert!(db.ping().await.is_ok());
    db.cap_sqlite_pages_for_tests(Some(0)).await.unwrap();
    tokio::time::sleep(super::WRITE_PROBE_TTL + Duration::from_millis(50)).await;
    assert!(matches!(
        db.ping().await,
        Err(StoreError::Unreachable(message)) if message.ends_with("full (disk_full)")
    ));
}

#[cfg(unix)]
#[test]
fn free_bytes_asks_the_file_system_and_says_when_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    assert!(super::free_bytes(dir.path()).is_some_and(|free| free > 0));
    assert_eq!(super::free_bytes(&dir.path().join("missing")), None);
}

/// Room to grow is counted in pages: those `max_page_count` still allows, plus free ones.
#[tokio::test]
async fn sixteen_pages_of_room_are_healthy_and_fifteen_are_not() {
    let roomy = in_memory_db().await;
    roomy.cap_sqlite_pages_for_tests(Some(16)).await.unwrap();
    assert!(roomy.ping().await.is_ok());
    let cramped = in_memory_db().await;
    cramped.cap_sqlite_pages_for_tests(Some(15)).await.unwrap();
    assert!(cramped.ping().await.is_err());
}

#[tokio::test]
async fn pages_freed_by_a_delete_count_as_room() {
    let db = in_memory_db().await;
    let pool = sqlite_pool(&db);
    for key in 0..20 {
        sqlx::query("INSERT INTO app_settings (key, value) VALUES ($1, $2)")
            .bind(format!("filler-{key}"))
            .bind("x".repeat(8 * 1024))
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM app_settings WHERE key LIKE 'filler-%'")
        .execute(pool)
        .await
        .unwrap();
    db.cap_sqlite_pages_for_tests(Some(0)).await.unwrap();
    assert!(db.ping().await.is_ok());
}

fn pings_begun(db: &Db) -> u64 {
    db.health.begun.load(std::sync::atomic::Ordering::Acquire)
}

/// Checks that arrive while a ping is in flight share the next one: ten concurrent checks
/// cost two round trips, not ten.
#[tokio::test]
async fn concurrent_checks_share_a_ping_that_began_after_they_arrived() {
    let db = in_memory_db().await;
    let checks = futures_util::future::join_all((0..10).map(|_| db.ping())).await;
    assert!(checks.iter().all(Result::is_ok));
    assert_eq!(pings_begun(&db), 2);
}

/// During an outage, checks queued behind a failing ping take its failure instead of
/// each waiting out its own timeout.
#[tokio::test]
async fn concurrent_checks_during_an_outage_share_the_failure() {
    let db = in_memory_db().await;
    let pool = sqlite_pool(&db);
    let taken = pool.acquire().await.unwrap();
    let checks = futures_util::future::join_all((0..10).map(|_| db.ping())).await;
    assert!(checks.iter().all(Result::is_err));
    assert_eq!(pings_begun(&db), 1);
    drop(taken);
}

#[tokio::test]
async fn a_failed_request_write_makes_health_fail_until_a_write_succeeds() {
    let db = in_memory_db().await;
    assert!(db.ping().await.is_ok());
    // The probe that just passed is still fresh; the failure after it must still count.
    db.health
        .record_write::<()>(&Err(StoreError::Full(Cause::DiskFull)));
    assert!(db.ping().await.is_err());
    // A bug's failure says nothing about storage.
    db.health.record_write::<()>(&Ok(()));
    db.health
        .record_write::<()>(&Err(StoreError::UniqueViolation));
    assert!(db.ping().await.is_ok());
}
