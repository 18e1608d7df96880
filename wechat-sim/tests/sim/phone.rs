use serde_json::json;
use wechat_sim::{AppSpec, SimConfig};

use crate::assert_wire_snapshot;
use crate::helpers::{Wx, errcode, errmsg};

const PATH: &str = "/wxa/business/getuserphonenumber";

#[tokio::test]
async fn phone_code_gives_phone_info_with_string_country_code() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let code = wx.sim.phone_code("alice", "13800138000").await;
    assert_eq!(code.len(), 64);
    assert!(code.chars().all(|c| c.is_ascii_hexdigit()));
    let raw = wx
        .post(PATH, &[("access_token", &token)], json!({ "code": code }))
        .await;
    assert!(raw.content_type.starts_with("application/json"));
    let body = raw.json();
    assert_eq!(body["errcode"], 0);
    assert_eq!(body["errmsg"], "ok");
    assert_eq!(body["phone_info"]["countryCode"], "86");
    assert_eq!(body["phone_info"]["purePhoneNumber"], "13800138000");
    assert_eq!(body["phone_info"]["watermark"]["appid"], wx.sim.appid());
    assert_wire_snapshot!("phone_success", body);
}

#[tokio::test]
async fn phone_code_is_single_use_and_expires_both_with_40029() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let code = wx.sim.phone_code("alice", "13800138000").await;
    assert_eq!(wx.phone(&token, &code).await["errcode"], 0);
    let reused = wx.phone(&token, &code).await;
    assert_eq!(errcode(&reused), Some(40029), "never 40163 for phone codes");
    assert_wire_snapshot!("phone_40029", reused);

    let late = wx.sim.phone_code("alice", "13800138000").await;
    wx.sim.advance(300).await;
    let token = wx.access_token().await;
    assert_eq!(errcode(&wx.phone(&token, &late).await), Some(40029));
}

/// Minting sweeps out expired codes only: a user who taps the button twice within five minutes
/// holds two live codes.
#[tokio::test]
async fn minting_a_phone_code_keeps_the_earlier_live_ones() {
    let wx = Wx::start().await;
    let first = wx.sim.phone_code("alice", "13800138000").await;
    wx.sim.advance(60).await;
    let second = wx.sim.phone_code("bob", "13900139000").await;
    let token = wx.access_token().await;
    let body = wx.phone(&token, &first).await;
    assert_eq!(body["errcode"], 0);
    assert_eq!(body["phone_info"]["purePhoneNumber"], "13800138000");
    assert_eq!(wx.phone(&token, &second).await["errcode"], 0);
}

#[tokio::test]
async fn token_and_body_errors() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let code = wx.sim.phone_code("alice", "13800138000").await;
    let missing = wx.post(PATH, &[], json!({ "code": code })).await.json();
    assert_eq!(errcode(&missing), Some(41001));
    assert_eq!(errmsg(&missing), "access_token missing");
    let bogus = wx.phone("81_bogus", &code).await;
    assert_eq!(errcode(&bogus), Some(40001));
    let get = wx.get(PATH, &[("access_token", &token)]).await.json();
    assert_eq!(errcode(&get), Some(43002));
    let url = wx.url(&format!("{PATH}?access_token={token}"));
    let empty = wx.raw(wx.http.post(&url)).await.json();
    assert_eq!(errcode(&empty), Some(44002));
    let bad = wx.raw(wx.http.post(&url).body("code=abc")).await.json();
    assert_eq!(errcode(&bad), Some(47001));
    let no_code = wx
        .post(PATH, &[("access_token", &token)], json!({}))
        .await
        .json();
    assert_eq!(errcode(&no_code), Some(41008));
    // None of the failures used the code up.
    assert_eq!(wx.phone(&token, &code).await["errcode"], 0);
}

#[tokio::test]
async fn another_apps_code_gives_40013() {
    let config = SimConfig::default().with_app(AppSpec::new("wx0000000000000002", "s2"));
    let wx = Wx::with(config).await;
    let token = wx.access_token().await;
    let code = {
        let raw = wx
            .control(
                reqwest::Method::POST,
                "/phone-codes",
                Some(
                    json!({"user": "alice", "phone": "13800138000", "appid": "wx0000000000000002"}),
                ),
            )
            .await;
        raw.json()["code"].as_str().unwrap().to_owned()
    };
    assert_eq!(errcode(&wx.phone(&token, &code).await), Some(40013));
}

#[tokio::test]
async fn openid_must_match_the_user_who_tapped() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let code = wx.sim.phone_code("alice", "13800138000").await;
    let wrong = wx
        .post(
            PATH,
            &[("access_token", &token)],
            json!({ "code": code, "openid": wx.sim.openid_for("bob") }),
        )
        .await
        .json();
    assert_eq!(errcode(&wrong), Some(40029));
    let right = wx
        .post(
            PATH,
            &[("access_token", &token)],
            json!({ "code": code, "openid": wx.sim.openid_for("alice") }),
        )
        .await
        .json();
    assert_eq!(right["errcode"], 0);
}

#[tokio::test]
async fn a_mismatched_openid_does_not_spend_the_code_and_no_openid_checks_nothing() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let code = wx.sim.phone_code("alice", "13800138000").await;
    let wrong = wx
        .post(
            PATH,
            &[("access_token", &token)],
            json!({ "code": code, "openid": wx.sim.openid_for("bob") }),
        )
        .await
        .json();
    assert_eq!(errcode(&wrong), Some(40029));
    // Without an openid there is no binding to check, as before.
    let body = wx.phone(&token, &code).await;
    assert_eq!(body["phone_info"]["purePhoneNumber"], "13800138000");
}

#[tokio::test]
async fn a_dev_phone_code_belongs_to_nobody_so_any_openid_passes() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let body = wx
        .post(
            PATH,
            &[("access_token", &token)],
            json!({ "code": "dev-phone:13800138000", "openid": wx.sim.openid_for("bob") }),
        )
        .await
        .json();
    assert_eq!(body["phone_info"]["purePhoneNumber"], "13800138000");
}

#[tokio::test]
async fn foreign_numbers_carry_the_country_prefix() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let minted = wx
        .control(
            reqwest::Method::POST,
            "/phone-codes",
            Some(json!({"user": "dave", "phone": "4155552671", "country_code": "1"})),
        )
        .await
        .json();
    let body = wx.phone(&token, minted["code"].as_str().unwrap()).await;
    assert_eq!(body["phone_info"]["phoneNumber"], "+14155552671");
    assert_eq!(body["phone_info"]["purePhoneNumber"], "4155552671");
    assert_eq!(body["phone_info"]["countryCode"], "1");

    let typed = wx
        .sim
        .phone_code_in_country("erin", "852", "61234567")
        .await;
    let body = wx.phone(&token, &typed).await;
    assert_eq!(body["phone_info"]["phoneNumber"], "+85261234567");
    assert_eq!(body["phone_info"]["countryCode"], "852");
}
