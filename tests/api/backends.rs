//! Both storage backends: migrations kept in step, and PostgreSQL outages survived.

use std::collections::BTreeSet;
use std::time::Duration;

use sqlx::Connection;

use crate::helpers::{BACKEND, Backend, postgres_admin_url, spawn_app_with};

fn versions(dir: &str) -> BTreeSet<String> {
    let path = format!("{}/../migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect()
}

#[test]
fn sqlite_and_postgres_migrations_have_the_same_versions_and_names() {
    let (sqlite, postgres) = (versions("sqlite"), versions("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must change in step"
    );
}

#[test]
fn the_run_says_which_backends_ran() {
    match postgres_admin_url() {
        Some(_) => eprintln!("e2e backends: sqlite, postgres"),
        None => eprintln!(
            "e2e backends: sqlite (postgres skipped: set BAI_TEST_POSTGRES_URL to run it too)"
        ),
    }
}

/// Makes the test's database refuse connections and drops the ones it has, as an outage
/// would, then lets it come back.
async fn set_database_reachable(database_url: &str, reachable: bool) {
    let admin_url = postgres_admin_url().unwrap();
    let name = database_url.rsplit('/').next().unwrap();
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let alter = format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {reachable}");
    sqlx::query(sqlx::AssertSqlSafe(alter))
        .execute(&mut admin)
        .await
        .unwrap();
    if !reachable {
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(name)
            .execute(&mut admin)
            .await
            .unwrap();
    }
}

#[tokio::test]
#[cfg_attr(not(bai_test_postgres), ignore = "BAI_TEST_POSTGRES_URL is not set")]
async fn requests_and_health_are_503_while_postgres_is_down_and_recover_by_themselves() {
    let database_url = crate::pg_fixture::fresh_database().await;
    let app = BACKEND
        .scope(
            Backend::Postgres,
            spawn_app_with(move |s| {
                s.database_url = database_url;
                s.db_acquire_timeout_ms = 500;
            }),
        )
        .await;
    let health = || async { app.post("/api/system/health").await.status() };
    assert_eq!(health().await, 200);
    let token = app.token_for("alice").await;

    set_database_reachable(&app.settings.database_url, false).await;
    assert_eq!(health().await, 503);
    // Login, and the bearer-token check that runs before refresh's handler.
    for response in [
        app.login("dev:alice").await,
        app.refresh(Some(&token)).await,
    ] {
        assert_eq!(
            response.status(),
            503,
            "a database outage is a 503 the client may retry"
        );
        assert_eq!(response.headers()["retry-after"], "5");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], 503);
    }

    set_database_reachable(&app.settings.database_url, true).await;
    let mut status = health().await;
    for _ in 0..100 {
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = health().await;
    }
    assert_eq!(status, 200, "the pool reconnects without a restart");
    assert_eq!(app.login("dev:alice").await.status(), 200);
    crate::pg_fixture::drop_created().await;
}
