use insta::assert_json_snapshot;

use crate::helpers::{e2e_test, snapshot, spawn_app};

e2e_test! {
    async fn health_answers_healthy_with_the_database_up() {
        let app = spawn_app().await;
        let response = app.post("/api/system/health").await;
        assert_json_snapshot!(snapshot(response).await);
    }
}

e2e_test! {
    async fn health_has_a_get_alias_for_load_balancers() {
        let app = spawn_app().await;
        let response = app
            .client
            .get(app.url("/api/system/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["data"]["status"], "healthy");
    }
}

e2e_test! {
    async fn health_answers_503_unhealthy_when_the_database_is_gone() {
        let app = spawn_app().await;
        app.db().close().await;
        let response = app.post("/api/system/health").await;
        assert_json_snapshot!(snapshot(response).await);
    }
}

#[tokio::test]
async fn helloworld_answers_with_its_build_time() {
    let app = spawn_app().await;
    let response = app.post("/api/system/test-helloworld").await;
    assert_json_snapshot!(snapshot(response).await);
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app().await;
    let echoed = app
        .client
        .post(app.url("/api/system/health"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-123");
    let generated = app.client.get(app.url("/nope")).send().await.unwrap();
    assert!(!generated.headers()["x-request-id"].is_empty());
}

#[tokio::test]
async fn swagger_ui_and_the_raw_spec_are_served() {
    let app = spawn_app().await;
    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let json: serde_json::Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(json["paths"]["/api/wechat/login"]["post"].is_object());
    let yaml = app
        .client
        .get(app.url("/openapi.yaml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(yaml, bai_service::api_service().spec_yaml());
}
