//! Login abuse: the per-client rate limit (`BAI_RATE_LIMIT_PER_MIN`, `BAI_RATE_LIMIT_BURST`,
//! `BAI_TRUSTED_PROXIES`), the ceiling on WeChat calls (`BAI_WECHAT_MAX_RPS`), and the purge
//! that keeps `request_guards` bounded.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, e2e_test, spawn_app_with};

const CODE2SESSION: &str = "/sns/jscode2session";
const PHONE: &str = "/wxa/business/getuserphonenumber";

/// Asserts a 429 envelope with a `Retry-After` of at least a second and at most `max_secs`.
async fn assert_429(response: reqwest::Response, msg: &str, max_secs: u64) {
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=max_secs).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"code": 429, "msg": msg, "data": {}}));
}

/// A client whose connections come from `ip` (any 127.0.0.0/8 address works on loopback).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login_with(app: &TestApp, client: &reqwest::Client, code: &str) -> reqwest::Response {
    client
        .post(app.url("/api/wechat/login"))
        .json(&json!({ "users_wx_code": code }))
        .send()
        .await
        .unwrap()
}

/// An empty code: 400 when the limit lets the request through, 429 when it does not; no
/// WeChat call either way.
async fn probe(app: &TestApp, headers: &[(&str, &str)]) -> u16 {
    let mut request = app
        .client
        .post(app.url("/api/wechat/login"))
        .json(&json!({ "users_wx_code": "" }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

e2e_test! {
    async fn a_burst_from_one_client_gets_429_before_wechat_or_the_database_and_others_are_unaffected() {
        let app = spawn_app_with(|s| {
            s.rate_limit_per_min = 1;
            s.rate_limit_burst = 3;
        })
        .await;
        let users = ["u0", "u1", "u2", "u3", "u4"];
        let mut statuses = Vec::new();
        for user in &users[..3] {
            let code = app.sim.login_code(user).await.code;
            statuses.push(app.login(&code).await.status().as_u16());
        }
        assert_eq!(statuses, [200, 200, 200]);
        for user in &users[3..] {
            let code = app.sim.login_code(user).await.code;
            assert_429(app.login(&code).await, "请求过于频繁，请稍后再试", 60).await;
        }
        assert_eq!(app.sim.requests_to(CODE2SESSION).await.len(), 3, "no WeChat call for a 429");
        for user in &users[3..] {
            assert!(app.stored_user(user).await.is_none(), "{user} was stored");
        }
        assert_eq!(app.count_sql("SELECT COUNT(*) FROM request_guards").await, 3, "no guard row for a 429");

        // Another client address has its own allowance.
        let code = app.sim.login_code("u3").await.code;
        let other = login_with(&app, &client_from("127.0.0.2"), &code).await;
        assert_eq!(other.status(), 200);
        assert!(app.stored_user("u3").await.is_some());
    }
}

e2e_test! {
    async fn profile_updates_are_limited_per_client_before_the_phone_number_call() {
        let app = spawn_app_with(|s| {
            s.rate_limit_per_min = 1;
            s.rate_limit_burst = 2;
        })
        .await;
        let token = app.token_for("alice").await;
        let body = app.profile_body("alice", "13800138000").await;
        assert_eq!(app.profile(&token, &body).await.status(), 200);
        let body = app.profile_body("alice", "13900139000").await;
        assert_429(app.profile(&token, &body).await, "请求过于频繁，请稍后再试", 60).await;
        assert_eq!(app.sim.requests_to(PHONE).await.len(), 1);
        let stored = app.stored_user("alice").await.unwrap();
        assert_eq!(stored.users_phone, "13800138000");
    }
}

#[tokio::test]
async fn forwarded_headers_of_an_untrusted_peer_do_not_buy_a_new_allowance() {
    let app = spawn_app_with(|s| {
        s.rate_limit_per_min = 1;
        s.rate_limit_burst = 1;
    })
    .await;
    assert_eq!(probe(&app, &[("x-forwarded-for", "1.1.1.1")]).await, 400);
    assert_eq!(probe(&app, &[("x-forwarded-for", "2.2.2.2")]).await, 429);
    assert_eq!(probe(&app, &[("x-real-ip", "3.3.3.3")]).await, 429);
}

#[tokio::test]
async fn a_trusted_proxy_is_believed_about_the_client() {
    let app = spawn_app_with(|s| {
        s.rate_limit_per_min = 1;
        s.rate_limit_burst = 1;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    assert_eq!(probe(&app, &[("x-forwarded-for", "1.1.1.1")]).await, 400);
    assert_eq!(probe(&app, &[("x-forwarded-for", "1.1.1.1")]).await, 429);
    // A spoofed hop to the left of the real client changes nothing.
    assert_eq!(
        probe(&app, &[("x-forwarded-for", "9.9.9.9, 1.1.1.1")]).await,
        429
    );
    assert_eq!(probe(&app, &[("x-forwarded-for", "2.2.2.2")]).await, 400);
    assert_eq!(probe(&app, &[("x-real-ip", "3.3.3.3")]).await, 400);
    // The proxy's own requests are keyed by its address.
    assert_eq!(probe(&app, &[]).await, 400);
    assert_eq!(probe(&app, &[]).await, 429);
}

e2e_test! {
    async fn over_the_wechat_ceiling_a_login_gets_429_without_a_wechat_call() {
        let app = spawn_app_with(|s| s.wechat_max_rps = 1).await;
        let mut codes = Vec::new();
        for i in 0..10 {
            codes.push((format!("c{i}"), app.sim.login_code(&format!("c{i}")).await.code));
        }
        let responses =
            futures::future::join_all(codes.iter().map(|(_, code)| app.login(code))).await;
        let mut ok = 0;
        let mut limited = 0;
        for ((user, _), response) in codes.iter().zip(responses) {
            match response.status().as_u16() {
                200 => ok += 1,
                429 => {
                    limited += 1;
                    assert!(app.stored_user(user).await.is_none(), "{user} was stored");
                    assert_429(response, "当前请求人数过多，请稍后再试", 1).await;
                }
                other => panic!("unexpected {other}"),
            }
        }
        assert!(ok >= 1 && limited >= 1, "{ok} answered 200, {limited} 429");
        assert_eq!(app.sim.requests_to(CODE2SESSION).await.len(), ok, "a WeChat call per 200 only");
        assert_eq!(app.count_sql("SELECT COUNT(*) FROM request_guards").await, ok as i64, "a guard row per 200 only");
    }
}

e2e_test! {
    async fn expired_guard_rows_are_purged_without_a_request() {
        let app = spawn_app_with(|s| {
            s.guard_ttl_secs = 1;
            s.guard_purge_interval_secs = 1;
        })
        .await;
        // A code WeChat rejects for good keeps its claim until the claim expires.
        assert_eq!(app.login("never-minted").await.status(), 400);
        assert_eq!(app.count_sql("SELECT COUNT(*) FROM request_guards").await, 1);
        let mut left = 1;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            left = app.count_sql("SELECT COUNT(*) FROM request_guards").await;
            if left == 0 {
                break;
            }
        }
        assert_eq!(left, 0, "the expired claim is still there");
    }
}
