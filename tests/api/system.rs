use crate::helpers::{assert_response_snapshot, e2e_test, snapshot, spawn_app};

e2e_test! {
    async fn health_answers_healthy_with_the_database_up() {
        let app = spawn_app().await;
        let response = app.post("/api/system/health").await;
        assert_response_snapshot!(snapshot(response).await);
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
        assert_response_snapshot!(snapshot(response).await);
    }
}

#[tokio::test]
async fn helloworld_answers_with_its_build_time() {
    let app = spawn_app().await;
    let response = app.post("/api/system/test-helloworld").await;
    assert_response_snapshot!(snapshot(response).await);
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
    let page = docs.text().await.unwrap();
    assert!(page.contains("swagger"));
    // The page's document calls the host it was loaded from, whatever the address.
    assert!(page.contains(&bai_service::api::document::live_json()));
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
    assert_eq!(json["servers"][0]["url"], "/");
    assert_eq!(json["servers"].as_array().unwrap().len(), 1);
    let yaml = app
        .client
        .get(app.url("/openapi.yaml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(yaml, bai_service::api::document::live_yaml());
    assert!(yaml.contains("- url: /\n"), "{yaml}");
}

/// Swagger UI pre-fills request bodies with the schemas' examples: they must work as they are.
#[tokio::test]
async fn the_specs_request_examples_work_in_zero_config_mode() {
    let app = spawn_app().await;
    let spec: serde_json::Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let example = |name: &str| spec["components"]["schemas"][name]["example"].clone();
    let login = app
        .post_json("/api/wechat/login", &example("WechatLoginRequest"))
        .await;
    assert_eq!(login.status(), 200);
    let token = login.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let profile = app.profile(&token, &example("WechatProfileRequest")).await;
    assert_eq!(profile.status(), 200);
    let body: serde_json::Value = profile.json().await.unwrap();
    assert_eq!(body["data"]["user"]["users_type"], "注册用户");
}
