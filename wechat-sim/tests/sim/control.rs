use reqwest::Method;
use serde_json::json;
use wechat_sim::{FixedLoginCode, FixedPhoneCode, SimConfig};

use crate::assert_wire_snapshot;
use crate::helpers::{Wx, errcode};

#[tokio::test]
async fn unknown_and_wrong_case_paths_give_40066_with_200() {
    let wx = Wx::start().await;
    for path in [
        "/sns/jsCode2Session",
        "/",
        "/cgi-bin/nothing",
        "/__simulator",
    ] {
        let raw = wx.get(path, &[]).await;
        assert_eq!(raw.status, 200, "{path}");
        assert_eq!(errcode(&raw.json()), Some(40066), "{path}");
    }
    assert_wire_snapshot!(
        "unknown_path_40066",
        wx.get("/sns/jsCode2Session", &[]).await.json()
    );
}

#[tokio::test]
async fn health_openapi_and_docs_are_served() {
    let wx = Wx::start().await;
    let health = wx.control(Method::GET, "/health", None).await.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["default_appid"], wechat_sim::DEFAULT_APPID);
    let spec = wx.control(Method::GET, "/openapi.json", None).await.json();
    assert_eq!(spec["openapi"], "3.0.0");
    let paths: Vec<_> = spec["paths"].as_object().unwrap().keys().cloned().collect();
    insta::assert_debug_snapshot!("control_api_paths", paths);
    let docs = wx.control(Method::GET, "/docs", None).await;
    assert_eq!(docs.status, 200);
    assert!(docs.text.contains("swagger"));
    assert_eq!(wx.control(Method::GET, "/nope", None).await.status, 404);
}

#[tokio::test]
async fn wechat_api_openapi_document() {
    let wx = Wx::start().await;
    let spec = wx
        .control(Method::GET, "/wechat-openapi.json", None)
        .await
        .json();
    assert_eq!(spec["servers"][0]["url"], "/");
    let paths: Vec<_> = spec["paths"].as_object().unwrap().keys().cloned().collect();
    insta::assert_debug_snapshot!("wechat_api_paths", paths);
    let png = &spec["paths"]["/wxa/getwxacodeunlimit"]["post"]["responses"]["200"]["content"];
    assert!(png.get("image/png").is_some(), "{png}");
}

#[tokio::test]
async fn reset_returns_to_the_start_state() {
    let wx = Wx::start().await;
    let code = wx.sim.login_code("alice").await.code;
    let token = wx.access_token().await;
    wx.sim.inject(wechat_sim::Fault::errcode("*", -1)).await;
    wx.sim.advance(100).await;
    let reset = wx.control(Method::POST, "/reset", None).await;
    assert_eq!(reset.json(), json!({"status": "ok"}));
    assert!(wx.sim.faults().await.is_empty());
    assert!(wx.sim.requests().await.is_empty());
    let clock = wx.control(Method::GET, "/clock", None).await.json();
    assert_eq!(clock["offset_ms"], 0);
    assert_eq!(errcode(&wx.code2session(&code).await), Some(40029));
    assert_eq!(errcode(&wx.phone(&token, "dev-phone:1").await), Some(40001));
}

#[tokio::test]
async fn clock_advances_over_http() {
    let wx = Wx::start().await;
    let code = wx.sim.login_code("alice").await.code;
    let clock = wx
        .control(
            Method::POST,
            "/clock/advance",
            Some(json!({"seconds": 300})),
        )
        .await
        .json();
    assert_eq!(clock["offset_ms"], 300_000);
    assert_eq!(errcode(&wx.code2session(&code).await), Some(40029));
}

#[tokio::test]
async fn apps_and_users_are_managed_over_http() {
    let wx = Wx::start().await;
    let app = json!({"appid": "wx00000000000000b2", "secret": "s2", "open_platform": "op"});
    assert_eq!(
        wx.control(Method::POST, "/apps", Some(app)).await.status,
        200
    );
    let apps = wx.control(Method::GET, "/apps", None).await.json();
    assert_eq!(apps.as_array().unwrap().len(), 2);
    let minted = wx
        .control(
            Method::POST,
            "/login-codes",
            Some(json!({"user": "alice", "appid": "wx00000000000000b2"})),
        )
        .await
        .json();
    assert!(minted["unionid"].is_string());
    let identity = wx
        .raw(
            wx.http
                .get(wx.url("/__sim/users/alice/identity"))
                .query(&[("appid", "wx00000000000000b2")]),
        )
        .await
        .json();
    assert_eq!(identity["openid"], minted["openid"]);
    let login = wx
        .get(
            "/sns/jscode2session",
            &[
                ("appid", "wx00000000000000b2"),
                ("secret", "s2"),
                ("js_code", minted["code"].as_str().unwrap()),
            ],
        )
        .await
        .json();
    assert_eq!(login["unionid"], minted["unionid"]);

    let blocked = json!({"name": "mallory", "blocked": true, "phone": "13900000000"});
    assert_eq!(
        wx.control(Method::POST, "/users", Some(blocked))
            .await
            .status,
        200
    );
    assert_eq!(errcode(&wx.code2session("dev:mallory").await), Some(40226));
    // A phone code without a number uses the user's own.
    let code = wx
        .control(
            Method::POST,
            "/phone-codes",
            Some(json!({"user": "mallory"})),
        )
        .await
        .json();
    let token = wx.access_token().await;
    let phone = wx.phone(&token, code["code"].as_str().unwrap()).await;
    assert_eq!(phone["phone_info"]["purePhoneNumber"], "13900000000");
    let no_phone = wx
        .control(
            Method::POST,
            "/phone-codes",
            Some(json!({"user": "nobody"})),
        )
        .await;
    assert_eq!(no_phone.status, 400);
    let unknown_app = wx
        .control(
            Method::POST,
            "/login-codes",
            Some(json!({"user": "a", "appid": "wx9"})),
        )
        .await;
    assert_eq!(unknown_app.status, 400);
}

#[tokio::test]
async fn users_with_settings_are_listed_by_name() {
    let wx = Wx::start().await;
    assert_eq!(
        wx.control(Method::GET, "/users", None).await.json(),
        json!([])
    );
    for user in [
        json!({"name": "zoe", "blocked": true}),
        json!({"name": "anna", "phone": "13900000000"}),
    ] {
        assert_eq!(
            wx.control(Method::POST, "/users", Some(user)).await.status,
            200
        );
    }
    assert_eq!(
        wx.control(Method::GET, "/users", None).await.json(),
        json!([
            {"name": "anna", "phone": "13900000000", "blocked": false},
            {"name": "zoe", "blocked": true},
        ])
    );
}

#[tokio::test]
async fn seeded_fixed_codes_are_reusable() {
    let config = SimConfig {
        login_codes: vec![FixedLoginCode {
            code: "fixed-login-alice".into(),
            user: "alice".into(),
            appid: None,
        }],
        phone_codes: vec![FixedPhoneCode {
            code: "fixed-phone-alice".into(),
            user: "alice".into(),
            phone: "13800138000".into(),
            country_code: None,
            appid: None,
        }],
        ..SimConfig::default()
    }
    .strict(true);
    let wx = Wx::with(config).await;
    for _ in 0..2 {
        let body = wx.code2session("fixed-login-alice").await;
        assert_eq!(body["openid"], wx.sim.openid_for("alice").as_str());
    }
    wx.sim.advance(3600).await;
    let token = wx.access_token().await;
    for _ in 0..2 {
        assert_eq!(wx.phone(&token, "fixed-phone-alice").await["errcode"], 0);
    }
}

#[tokio::test]
async fn simulators_shut_down_and_release_their_port() {
    let sim = wechat_sim::Simulator::start().await;
    let addr = sim.addr();
    sim.shutdown().await;
    let again = wechat_sim::Simulator::bind(&addr.to_string(), SimConfig::default())
        .await
        .expect("port released");
    assert_eq!(again.addr(), addr);
}

#[tokio::test(flavor = "current_thread")]
async fn works_on_a_current_thread_runtime() {
    let wx = Wx::start().await;
    assert!(wx.code2session("dev:alice").await.get("openid").is_some());
}
