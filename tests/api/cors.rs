//! CORS (`BAI_CORS_ORIGINS`): preflights answer 204 as PocketBase's do, answers carry
//! `Access-Control-Allow-Origin`, an `OPTIONS` that is no preflight keeps its 405 with `Allow`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const SWAGGER_ORIGIN: &str = "http://127.0.0.1:38090";

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,authorization",
        )
        .send()
        .await
        .unwrap()
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_preflight_from_any_origin_is_204_with_the_cors_headers() {
    let app = spawn_app().await;
    for path in ["/api/wechat/login", "/api/wechat/profile", "/openapi.json"] {
        let response = preflight(&app, path, SWAGGER_ORIGIN).await;
        assert_eq!(response.status(), 204, "{path}");
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            SWAGGER_ORIGIN
        );
        let methods = header(&response, "access-control-allow-methods");
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
        assert_eq!(
            header(&response, "access-control-allow-headers"),
            "content-type,authorization"
        );
        assert!(response.headers().contains_key("x-request-id"));
        assert!(response.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn answers_to_a_browser_carry_allow_origin_errors_too() {
    let app = spawn_app().await;
    let ok = app
        .client
        .post(app.url("/api/wechat/login"))
        .header("origin", SWAGGER_ORIGIN)
        .json(&json!({ "users_wx_code": "dev:alice" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(header(&ok, "access-control-allow-origin"), SWAGGER_ORIGIN);
    let exposed = header(&ok, "access-control-expose-headers").to_ascii_lowercase();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("retry-after"),
        "{exposed}"
    );

    // An error is still the envelope, with the CORS headers so the page can read it.
    let refused = app
        .client
        .post(app.url("/api/wechat/refresh-token"))
        .header("origin", SWAGGER_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        header(&refused, "access-control-allow-origin"),
        SWAGGER_ORIGIN
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], 401);
    let missing = app
        .client
        .get(app.url("/nope"))
        .header("origin", SWAGGER_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        header(&missing, "access-control-allow-origin"),
        SWAGGER_ORIGIN
    );
    assert_eq!(missing.json::<Value>().await.unwrap()["code"], 404);
}

#[tokio::test]
async fn an_options_that_is_no_preflight_is_still_405_with_allow() {
    let app = spawn_app().await;
    for origin in [None, Some(SWAGGER_ORIGIN)] {
        let mut request = app
            .client
            .request(Method::OPTIONS, app.url("/api/wechat/login"));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 405, "origin {origin:?}");
        assert_eq!(header(&response, "allow"), "POST");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], 405);
    }
}

#[tokio::test]
async fn a_list_of_origins_admits_those_and_refuses_others_with_403() {
    let app = spawn_app_with(|s| {
        s.cors_origins = "https://admin.example.com, http://127.0.0.1:38090".into();
    })
    .await;
    assert_eq!(
        preflight(&app, "/api/wechat/login", SWAGGER_ORIGIN)
            .await
            .status(),
        204
    );
    let other = preflight(&app, "/api/wechat/login", "https://evil.example").await;
    assert_eq!(other.status(), 403);
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    let body: Value = other.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "code": 403, "msg": "跨域请求不被允许", "data": {} })
    );
    // Without an Origin (the mini-program, curl) CORS does not apply.
    let login = app.login("dev:bob").await;
    assert_eq!(login.status(), 200);
}

#[tokio::test]
async fn an_invalid_origin_list_stops_the_start() {
    let settings = {
        let mut s = bai_service::config::Settings::defaults();
        s.addr = "127.0.0.1:0".into();
        s.cors_origins = "admin.example.com".into();
        s
    };
    let err = bai_service::Application::build(settings)
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("BAI_CORS_ORIGINS"), "{err}");
}
