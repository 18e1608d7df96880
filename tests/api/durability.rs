//! An answer of 200 means the data is stored: storage faults answer 503 with `Retry-After`,
//! store nothing, show in health, and pass without a restart. The faults are in `faults.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};

use crate::faults::{Side, Table, fail_user_commits, fill_disk, free_disk};
use crate::helpers::{
    Backend, TestApp, assert_response_snapshot, e2e_test, snapshot, spawn_app, spawn_app_with,
};

async fn health(app: &TestApp) -> u16 {
    app.post("/api/system/health").await.status().as_u16()
}

/// Health is 200 again within a few probe periods (the probe's outcome is kept for 1 s).
async fn assert_health_recovers(app: &TestApp) {
    for _ in 0..30 {
        if health(app).await == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("health did not recover");
}

async fn assert_unavailable(response: reqwest::Response) {
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "code": 503, "msg": "服务暂不可用，请稍后再试", "data": {} })
    );
}

/// A profile body whose picture URL makes the row grow by far more than a filled page has
/// left, so the update needs a new page.
async fn growing_profile(app: &TestApp, user: &str) -> Value {
    let mut body = app.profile_body(user, "13800138000").await;
    body["users_picture"] = json!(format!("https://example.com/{}.png", "a".repeat(400)));
    body
}

e2e_test! {
    async fn a_full_disk_answers_503_stores_nothing_and_recovers_without_a_restart() {
        // One pooled connection: SQLite's page cap is per connection.
        let app = spawn_app_with(|s| s.db_max_connections = 1).await;
        let alice = app.token_for("alice").await;
        let mut side = Side::open(&app).await;

        // No room for users: a registration and a profile update fail.
        fill_disk(&app, &mut side, Table::Users).await;
        let bob_code = app.sim.login_code("bob").await.code;
        assert_response_snapshot!(snapshot(app.login(&bob_code).await).await);
        assert!(app.stored_user("bob").await.is_none());
        let profile = growing_profile(&app, "alice").await;
        assert_unavailable(app.profile(&alice, &profile).await).await;
        assert_eq!(app.stored_user("alice").await.unwrap().users_name, "");
        assert_eq!(health(&app).await, 503, "health must not say healthy while writes fail");

        // No room for the 429 guard's claims either: the claim fails before WeChat is asked.
        fill_disk(&app, &mut side, Table::Guards).await;
        let carol_code = app.sim.login_code("carol").await.code;
        assert_unavailable(app.login(&carol_code).await).await;
        assert!(app.stored_user("carol").await.is_none());
        assert_eq!(health(&app).await, 503);

        free_disk(&app, &mut side).await;
        // The very same code: no claim was left behind (that would answer 429).
        assert_eq!(app.login(&carol_code).await.status(), 200);
        assert!(app.stored_user("carol").await.is_some());
        let bob = app.login_as("bob").await;
        assert_eq!(bob["meta"]["data"]["status"], "register_success");
        assert!(app.stored_user("bob").await.is_some());
        let profile = growing_profile(&app, "alice").await;
        assert_eq!(app.profile(&alice, &profile).await.status(), 200);
        assert_eq!(app.stored_user("alice").await.unwrap().users_name, "张三");
        assert_health_recovers(&app).await;
    }
}

e2e_test! {
    async fn a_registration_whose_commit_fails_is_neither_acknowledged_nor_stored() {
        let app = spawn_app().await;
        let mut side = Side::open(&app).await;
        fail_user_commits(&mut side).await;
        let code = app.sim.login_code("bob").await.code;
        let response = app.login(&code).await;
        assert_ne!(response.status(), 200, "acknowledged a registration that was rolled back");
        assert!(app.stored_user("bob").await.is_none());
        match app.backend {
            // PostgreSQL reports the failure after the statement completed: a failed commit.
            Backend::Postgres => assert_unavailable(response).await,
            // SQLite reports a deferred foreign-key violation as the statement's own
            // constraint error, which is a bug's 500, not the storage's 503.
            Backend::Sqlite => assert_eq!(response.status(), 500),
        }
    }
}

e2e_test! {
    async fn during_a_fault_every_acknowledged_login_is_stored_and_no_other_is() {
        const LOGINS: usize = 40;
        const BEFORE_FAULT: usize = 15;
        let app = spawn_app().await;
        let mut side = Side::open(&app).await;
        let answered = AtomicUsize::new(0);
        let progress = Notify::new();
        // A few at a time, so that the fault lands while logins are in flight.
        const IN_FLIGHT: usize = 4;
        let in_flight = Semaphore::new(IN_FLIGHT);
        // The logins that cannot have started before the fault lands wait for it, so that it
        // hits some on a loaded machine too (else all could be answered while it is installed).
        let (fault_installed, fault_seen) = tokio::sync::watch::channel(false);
        let login = |i: usize| {
            let (app, answered, progress, in_flight) = (&app, &answered, &progress, &in_flight);
            let mut fault_seen = fault_seen.clone();
            async move {
                if i >= BEFORE_FAULT + IN_FLIGHT {
                    fault_seen.wait_for(|&installed| installed).await.unwrap();
                }
                let _permit = in_flight.acquire().await.unwrap();
                let user = format!("user{i}");
                let code = app.sim.login_code(&user).await.code;
                let response = app.login(&code).await;
                let status = response.status().as_u16();
                let retry_after = response.headers().get("retry-after").cloned();
                let body: Value = response.json().await.unwrap();
                answered.fetch_add(1, Ordering::SeqCst);
                progress.notify_one();
                (user, status, retry_after, body)
            }
        };
        let inject = async {
            while answered.load(Ordering::SeqCst) < BEFORE_FAULT {
                progress.notified().await;
            }
            fail_user_commits(&mut side).await;
            fault_installed.send_replace(true);
        };
        let (results, ()) = tokio::join!(futures::future::join_all((0..LOGINS).map(login)), inject);

        let mut acknowledged = 0;
        for (user, status, retry_after, body) in results {
            let stored = app.stored_user(&user).await;
            if status == 200 {
                acknowledged += 1;
                assert!(stored.is_some(), "{user}: 200 but no row");
                let token = body["token"].as_str().unwrap();
                assert_eq!(app.refresh(Some(token)).await.status(), 200, "{user}'s token");
            } else {
                assert!(stored.is_none(), "{user}: {status} but a row");
                if app.backend == Backend::Postgres {
                    assert_eq!(status, 503, "{user}: {body}");
                    assert!(retry_after.is_some());
                } else {
                    assert_eq!(status, 500, "{user}: {body}");
                }
            }
        }
        assert!(acknowledged >= BEFORE_FAULT, "{acknowledged} acknowledged");
        assert!(acknowledged < LOGINS, "the fault never hit a login");
    }
}

#[tokio::test]
async fn a_locked_sqlite_database_answers_503_then_recovers_without_a_restart() {
    let app = spawn_app_with(|s| {
        s.db_busy_timeout_ms = 200;
        s.metrics_addr = Some("127.0.0.1:0".into());
    })
    .await;
    let alice = app.token_for("alice").await;
    let mut side = Side::open(&app).await;
    let locked_writes = crate::metrics::Series::watch(
        &app,
        "bai_db_query_errors_total",
        &[("cause", "locked"), ("operation", "write")],
    )
    .await;
    // Another process holds the write lock longer than the busy timeout.
    side.run("BEGIN EXCLUSIVE").await;
    let code = app.sim.login_code("bob").await.code;
    assert_unavailable(app.login(&code).await).await;
    // Counted under its cause class, for the operator's alert (docs/operations.md).
    assert!(locked_writes.growth(&app).await >= 1.0);
    let profile = app.profile_body("alice", "13800138000").await;
    assert_unavailable(app.profile(&alice, &profile).await).await;
    assert_eq!(health(&app).await, 503);
    // Reads go on under WAL.
    assert_eq!(app.refresh(Some(&alice)).await.status(), 200);

    side.run("COMMIT").await;
    assert_eq!(app.login(&code).await.status(), 200, "the same code works");
    assert!(app.stored_user("bob").await.is_some());
    assert_health_recovers(&app).await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_directory_and_files_are_private_to_the_service_user() {
    use std::os::unix::fs::PermissionsExt;

    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let url = format!("sqlite://{}/bai.db", data.display());
    let app = spawn_app_with(move |s| {
        s.database_url = url;
        s.auth_secret = None;
    })
    .await;
    app.login_as("alice").await;

    let mode = |path: std::path::PathBuf| {
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        meta.permissions().mode() & 0o777
    };
    assert_eq!(mode(data.clone()), 0o700, "data/");
    for file in ["bai.db", "bai.db-wal", "bai.db-shm"] {
        assert_eq!(mode(data.join(file)), 0o600, "{file}");
    }
}
