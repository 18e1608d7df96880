//! Framework-level errors leave in the same envelope as business errors.

use serde_json::json;

use futures::StreamExt;

use crate::helpers::{assert_response_snapshot, snapshot, spawn_app, spawn_app_with};

#[tokio::test]
async fn unknown_path_is_404_in_the_envelope() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_response_snapshot!(snapshot(response).await);
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let app = spawn_app().await;
    let response = app
        .client
        .delete(app.url("/api/wechat/login"))
        .send()
        .await
        .unwrap();
    assert_response_snapshot!(snapshot(response).await);
    let health = app
        .client
        .put(app.url("/api/system/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.headers()["allow"], "GET, POST");
}

/// Paths with parameters (the PocketBase SDK's routes) name their methods too: schemathesis'
/// ST204 found a bare 405 there.
#[tokio::test]
async fn wrong_method_on_a_path_with_parameters_is_405_with_allow() {
    let app = spawn_app().await;
    for (path, allowed) in [
        ("/api/collections/tbl_auth_users/auth-refresh", "POST"),
        (
            "/api/collections/tbl_auth_users/records/abc123def456ghi",
            "GET",
        ),
    ] {
        let response = app
            .client
            .request(reqwest::Method::TRACE, app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{path}");
        assert_eq!(response.headers()["allow"], allowed, "{path}");
    }
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/wechat/login"))
        .header("content-type", "application/json")
        .body("{\"users_wx_code\":")
        .send()
        .await
        .unwrap();
    assert_response_snapshot!(snapshot(response).await);
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_400() {
    let app = spawn_app().await;
    let response = app
        .post_json("/api/wechat/login", &json!(["users_wx_code"]))
        .await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], 400);
}

#[tokio::test]
async fn text_plain_body_is_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/wechat/login"))
        .header("content-type", "text/plain")
        .body("users_wx_code=abc")
        .send()
        .await
        .unwrap();
    assert_response_snapshot!(snapshot(response).await);
}

#[tokio::test]
async fn missing_content_type_is_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/wechat/login"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], 415);
}

#[tokio::test]
async fn json_with_a_charset_parameter_is_accepted() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/wechat/login"))
        .header("content-type", "application/json; charset=utf-8")
        .body("{\"users_wx_code\": \"\"}")
        .send()
        .await
        .unwrap();
    // Past the content-type check: the empty code is the complaint now.
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn json_media_type_is_matched_without_regard_to_case_or_parameters() {
    let app = spawn_app().await;
    for (i, content_type) in [
        "Application/JSON",
        "APPLICATION/JSON; CHARSET=UTF-8",
        "application/json;charset=utf-8; boundary=x",
    ]
    .into_iter()
    .enumerate()
    {
        let response = app
            .client
            .post(app.url("/api/wechat/login"))
            .header("content-type", content_type)
            .body(format!("{{\"users_wx_code\": \"dev:case{i}\"}}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{content_type}");
    }
}

#[tokio::test]
async fn body_over_64_kib_is_413() {
    let app = spawn_app().await;
    let big = json!({ "users_wx_code": "a".repeat(70 * 1024) });
    let response = app.post_json("/api/wechat/login", &big).await;
    assert_response_snapshot!(snapshot(response).await);
}

#[tokio::test]
async fn chunked_body_over_64_kib_is_413_too() {
    let app = spawn_app().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..80).map(|_| Ok(vec![b' '; 1024])).collect();
    let response = app
        .client
        .post(app.url("/api/wechat/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn missing_token_is_401_in_the_envelope() {
    let app = spawn_app().await;
    let response = app.refresh(None).await;
    assert_response_snapshot!(snapshot(response).await);
}

#[tokio::test]
async fn a_client_that_stalls_its_body_is_cut_off_with_408() {
    let app = spawn_app_with(|s| s.request_timeout_ms = 300).await;
    let stalled =
        futures::stream::once(async { Ok::<_, std::io::Error>(b"{\"users_wx_code\":".to_vec()) })
            .chain(futures::stream::pending());
    let response = app
        .client
        .post(app.url("/api/wechat/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stalled))
        .send()
        .await
        .unwrap();
    assert_response_snapshot!(snapshot(response).await);
}

#[tokio::test]
async fn deeply_nested_json_is_400_not_a_crash() {
    let app = spawn_app().await;
    let depth = 100_000;
    let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let response = app
        .client
        .post(app.url("/api/wechat/login"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        413,
        "100 KB of brackets is over the body limit"
    );
    let nested = format!(
        "{{\"users_wx_code\": {}1{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let response = app
        .client
        .post(app.url("/api/wechat/login"))
        .header("content-type", "application/json")
        .body(nested)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        400,
        "serde_json's recursion limit turns deep nesting into a parse error"
    );
    assert_eq!(app.post("/api/system/health").await.status(), 200);
}
