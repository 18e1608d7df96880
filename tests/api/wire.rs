//! WeChat wire quirks the simulator does not produce, served by wiremock.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{e2e_test, spawn_app_with};

async fn app_against(server: &MockServer) -> crate::helpers::TestApp {
    let uri = server.uri();
    spawn_app_with(move |s| s.wechat_api_base = Some(uri)).await
}

/// A WeChat that answers every code2session with `body`, as `text/plain` (as WeChat labels it).
async fn wechat_answering_login(body: impl Into<String>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/sns/jscode2session"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.into(), "text/plain"))
        .mount(&server)
        .await;
    server
}

e2e_test! {
    async fn a_string_errcode_in_a_text_plain_body_is_understood() {
        let server = wechat_answering_login(r#"{"errcode":"40029","errmsg":"invalid code"}"#).await;
        let app = app_against(&server).await;
        let response = app.login("abc").await;
        assert_eq!(response.status(), 400);
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
}

e2e_test! {
    async fn a_success_without_openid_or_session_key_is_502() {
        for body in [
            r#"{"session_key":"abc=="}"#,
            r#"{"openid":"","session_key":"abc=="}"#,
            r#"{"openid":"oAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
        ] {
            let server = wechat_answering_login(body).await;
            let app = app_against(&server).await;
            assert_eq!(app.login("abc").await.status(), 502, "{body}");
        }
    }
}

e2e_test! {
    async fn a_numeric_country_code_and_legacy_errcode_zero_are_accepted() {
        let server = wechat_answering_login(
            r#"{"errcode":0,"openid":"oAAAAAAAAAAAAAAAAAAAAAAAAAAA","session_key":"abc==","expires_in":7200}"#,
        )
        .await;
        Mock::given(method("POST"))
            .and(path("/cgi-bin/stable_token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": "75_abc", "expires_in": 7200})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/wxa/business/getuserphonenumber"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "errcode": 0, "errmsg": "ok",
                "phone_info": {"phoneNumber": "13800138000", "purePhoneNumber": "13800138000", "countryCode": 86,
                               "watermark": {"timestamp": 1_657_521_830, "appid": "wx0000000000000001"}}
            })))
            .expect(1)
            .mount(&server)
            .await;
        let app = app_against(&server).await;
        let login: Value = app.login("abc").await.json().await.unwrap();
        let token = login["token"].as_str().unwrap();
        let body = json!({ "users_name": "张三", "users_phone_code": "p", "users_picture": "https://e.com/a.png" });
        let response = app.profile(token, &body).await;
        assert_eq!(response.status(), 200);
        let profile: Value = response.json().await.unwrap();
        assert_eq!(profile["data"]["user"]["users_phone_masked"], "138****8000");
    }
}

/// A WeChat whose code2session and token calls succeed, and whose phone answer is `phone_info`.
async fn wechat_answering_phone_info(phone_info: Value) -> MockServer {
    let server = wechat_answering_login(
        r#"{"openid":"oAAAAAAAAAAAAAAAAAAAAAAAAAAA","session_key":"abc=="}"#,
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "75_abc", "expires_in": 7200})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/wxa/business/getuserphonenumber"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "errcode": 0, "errmsg": "ok", "phone_info": phone_info })),
        )
        .expect(1)
        .mount(&server)
        .await;
    server
}

e2e_test! {
    async fn an_empty_phone_number_beside_a_pure_one_keeps_the_number_and_registers() {
        for (country, pure, stored) in [("86", "13800138000", "13800138000"), ("1", "4155552671", "+14155552671")] {
            let server = wechat_answering_phone_info(json!({
                "phoneNumber": "", "purePhoneNumber": pure, "countryCode": country
            }))
            .await;
            let app = app_against(&server).await;
            let login: Value = app.login("abc").await.json().await.unwrap();
            let token = login["token"].as_str().unwrap();
            let body = json!({ "users_name": "张三", "users_phone_code": "p", "users_picture": "https://e.com/a.png" });
            let response = app.profile(token, &body).await;
            assert_eq!(response.status(), 200);
            let profile: Value = response.json().await.unwrap();
            let user = &profile["data"]["user"];
            assert_eq!(user["users_phone"], stored, "{profile}");
            assert_eq!(user["users_type"], "注册用户", "a complete profile, phone included");
        }
    }
}

e2e_test! {
    async fn a_phone_answer_without_a_pure_number_is_502_and_saves_nothing() {
        for phone_info in [
            json!({ "phoneNumber": "13800138000", "purePhoneNumber": "", "countryCode": "86" }),
            json!({ "phoneNumber": "13800138000", "countryCode": "86" }),
        ] {
            let server = wechat_answering_phone_info(phone_info.clone()).await;
            let app = app_against(&server).await;
            let login: Value = app.login("abc").await.json().await.unwrap();
            let token = login["token"].as_str().unwrap();
            let body = json!({ "users_name": "张三", "users_phone_code": "p", "users_picture": "https://e.com/a.png" });
            let response = app.profile(token, &body).await;
            assert_eq!(response.status(), 502, "{phone_info}");
            let user = app
                .db()
                .find_user_by_openid("oAAAAAAAAAAAAAAAAAAAAAAAAAAA")
                .await
                .unwrap()
                .unwrap();
            assert_eq!((user.users_name.as_str(), user.users_phone.as_str()), ("", ""), "{phone_info}");
        }
    }
}

/// A WeChat that starts every answer and hangs up halfway through its body.
async fn wechat_cutting_answers_short() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"openid\":\"o")
                    .await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn an_answer_cut_off_mid_body_is_502_counted_as_malformed() {
    let wechat = wechat_cutting_answers_short().await;
    let app = spawn_app_with(move |s| {
        s.wechat_api_base = Some(wechat);
        s.metrics_addr = Some("127.0.0.1:0".into());
    })
    .await;
    let malformed = crate::metrics::Series::watch(
        &app,
        "bai_wechat_calls_total",
        &[("api", "code2session"), ("outcome", "malformed")],
    )
    .await;
    assert_eq!(app.login("abc").await.status(), 502);
    assert!(malformed.growth(&app).await >= 1.0);
}

e2e_test! {
    async fn answers_up_to_64_kib_are_read_and_larger_ones_refused() {
        const LIMIT: usize = 64 * 1024;
        let answer = |len: usize| {
            let bare = r#"{"openid":"oAAAAAAAAAAAAAAAAAAAAAAAAAAA","session_key":"abc==","padding":""}"#;
            let padding = "x".repeat(len - bare.len());
            bare.replace(r#""padding":"""#, &format!(r#""padding":"{padding}""#))
        };
        for (len, status) in [(LIMIT, 200), (LIMIT + 1, 502)] {
            let body = answer(len);
            assert_eq!(body.len(), len);
            let server = wechat_answering_login(body).await;
            let app = app_against(&server).await;
            assert_eq!(app.login("abc").await.status(), status, "an answer of {len} bytes");
        }
    }
}
