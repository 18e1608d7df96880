//! `/livez` and `/readyz`: what an orchestrator and a load balancer poll.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{TestApp, e2e_test, spawn_app, spawn_app_with};

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

e2e_test! {
    async fn livez_and_readyz_answer_200_when_ready() {
        let app = spawn_app().await;
        let (status, body) = get(&app, "/livez").await;
        assert_eq!((status, &body["code"], &body["msg"]), (200, &200.into(), &"操作成功".into()));
        assert_eq!(body["data"]["status"], "alive");
        let (status, body) = get(&app, "/readyz").await;
        assert_eq!((status, &body["code"]), (200, &200.into()));
        assert_eq!(body["data"]["status"], "ready");
    }
}

e2e_test! {
    async fn readyz_answers_503_when_the_database_is_gone_and_livez_stays_200() {
        let app = spawn_app().await;
        app.db().close().await;
        let (status, body) = get(&app, "/readyz").await;
        assert_eq!((status, &body["code"]), (503, &503.into()));
        assert_eq!(body["msg"], "服务不可用：数据库无法访问");
        assert_eq!(body["data"]["status"], "database_unavailable");
        assert_eq!(get(&app, "/livez").await.0, 200);
    }
}

e2e_test! {
    async fn readyz_answers_503_when_a_migration_is_missing() {
        let app = spawn_app().await;
        app.execute_sql(
            "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
        )
        .await;
        let (status, body) = get(&app, "/readyz").await;
        assert_eq!(status, 503);
        assert_eq!(body["msg"], "服务不可用：数据库结构版本不符");
        assert_eq!(body["data"]["status"], "schema_outdated");
    }
}

#[tokio::test]
async fn readyz_answers_503_while_a_shutdown_drains_and_requests_are_still_served() {
    let app = spawn_app_with(|s| s.shutdown_drain_ms = 3_000).await;
    assert_eq!(get(&app, "/readyz").await.0, 200);
    app.shut_down();
    let mut answer = get(&app, "/readyz").await;
    for _ in 0..50 {
        if answer.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        answer = get(&app, "/readyz").await;
    }
    assert_eq!(answer.0, 503);
    assert_eq!(answer.1["msg"], "服务正在停止");
    assert_eq!(answer.1["data"]["status"], "draining");
    assert_eq!(get(&app, "/livez").await.0, 200);
    let health = app.post("/api/system/health").await;
    assert_eq!(health.status(), 200);
}
