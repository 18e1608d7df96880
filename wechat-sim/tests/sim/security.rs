//! `POST /wxa/msg_sec_check`: version 2 verdicts from the content rules, version 1's 87014,
//! and each errcode.

use reqwest::Method;
use serde_json::{Value, json};
use wechat_sim::{ContentRule, Fault, SimConfig};

use crate::helpers::{Wx, errcode};

/// A token and the openid of a user who has logged in (WeChat only checks recent users).
async fn logged_in(wx: &Wx, user: &str) -> (String, String) {
    let code = wx.sim.login_code(user).await.code;
    let session = wx.code2session(&code).await;
    (
        wx.access_token().await,
        session["openid"].as_str().unwrap().to_owned(),
    )
}

async fn check(wx: &Wx, token: &str, body: Value) -> Value {
    wx.post("/wxa/msg_sec_check", &[("access_token", token)], body)
        .await
        .json()
}

fn v2(openid: &str, content: &str) -> Value {
    json!({"version": 2, "scene": 2, "openid": openid, "content": content})
}

#[tokio::test]
async fn everything_passes_by_default() {
    let wx = Wx::start().await;
    let (token, openid) = logged_in(&wx, "alice").await;
    let raw = wx
        .post(
            "/wxa/msg_sec_check",
            &[("access_token", &token)],
            v2(&openid, "你好，世界"),
        )
        .await;
    assert_eq!(raw.content_type, "application/json; charset=UTF-8");
    let answer = raw.json();
    assert_eq!(answer["errcode"], 0);
    assert_eq!(answer["errmsg"], "ok");
    assert_eq!(answer["result"], json!({"suggest": "pass", "label": 100}));
    assert_eq!(answer["detail"][0]["strategy"], "content_model");
    assert_eq!(answer["detail"].as_array().unwrap().len(), 1);
    assert_eq!(answer["trace_id"].as_str().unwrap().len(), 26);
    assert_eq!(
        wx.sim.requests_to("/wxa/msg_sec_check").await[0].errcode,
        Some(0)
    );
}

#[tokio::test]
async fn rules_set_over_http_make_content_risky() {
    let wx = Wx::start().await;
    let (token, openid) = logged_in(&wx, "alice").await;
    let added = wx
        .control(
            Method::POST,
            "/content-rules",
            Some(json!({"pattern": "Casino", "label": 20006})),
        )
        .await;
    assert_eq!(added.status, 200);
    assert_eq!(added.json()["suggest"], "risky");
    let answer = check(&wx, &token, v2(&openid, "best casino in town")).await;
    assert_eq!(
        answer["result"],
        json!({"suggest": "risky", "label": 20006})
    );
    assert_eq!(answer["detail"][1]["strategy"], "keyword");
    assert_eq!(answer["detail"][1]["keyword"], "Casino");
    let listed = wx.control(Method::GET, "/content-rules", None).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    wx.control(Method::DELETE, "/content-rules", None).await;
    let answer = check(&wx, &token, v2(&openid, "best casino in town")).await;
    assert_eq!(answer["result"]["suggest"], "pass");
    let empty = wx
        .control(
            Method::POST,
            "/content-rules",
            Some(json!({"pattern": "", "label": 1})),
        )
        .await;
    assert_eq!(empty.status, 400);
}

#[tokio::test]
async fn rules_from_the_library_and_the_seed() {
    let config = SimConfig {
        content_rules: vec![ContentRule::new("spam", 10001)],
        ..SimConfig::default()
    };
    let wx = Wx::with(config).await;
    wx.sim
        .add_content_rule(ContentRule::new("gossip", 20012).review())
        .await;
    let (token, openid) = logged_in(&wx, "alice").await;
    let seeded = check(&wx, &token, v2(&openid, "buy SPAM now")).await;
    assert_eq!(
        seeded["result"],
        json!({"suggest": "risky", "label": 10001})
    );
    let review = check(&wx, &token, v2(&openid, "some gossip")).await;
    assert_eq!(
        review["result"],
        json!({"suggest": "review", "label": 20012})
    );
    // reset keeps the seed's rules and drops the added ones
    wx.sim.reset().await;
    let (token, openid) = logged_in(&wx, "alice").await;
    assert_eq!(
        check(&wx, &token, v2(&openid, "some gossip")).await["result"]["suggest"],
        "pass"
    );
    assert_eq!(
        check(&wx, &token, v2(&openid, "spam")).await["result"]["suggest"],
        "risky"
    );
}

#[tokio::test]
async fn version_1_answers_87014_for_risky_content() {
    let wx = Wx::start().await;
    wx.sim
        .add_content_rule(ContentRule::new("casino", 20006))
        .await;
    let token = wx.access_token().await;
    let ok = check(&wx, &token, json!({"content": "hello"})).await;
    assert_eq!(ok, json!({"errcode": 0, "errmsg": "ok"}));
    let risky = check(&wx, &token, json!({"content": "casino", "version": 1})).await;
    assert_eq!(errcode(&risky), Some(87014));
}

#[tokio::test]
async fn each_errcode() {
    let wx = Wx::start().await;
    let (token, openid) = logged_in(&wx, "alice").await;
    let stranger = wx.sim.openid_for("never-logged-in");
    wx.control(Method::GET, "/users/never-logged-in/identity", None)
        .await;
    let cases = [
        (v2(&openid, ""), 44004),
        (v2(&openid, &"字".repeat(2501)), 47001),
        (
            json!({"version": 2, "scene": 5, "openid": openid, "content": "x"}),
            40129,
        ),
        (
            json!({"version": 2, "openid": openid, "content": "x"}),
            40129,
        ),
        (json!({"version": 2, "scene": 1, "content": "x"}), 41009),
        (v2("oUnknownOpenid000000000000000", "x"), 40003),
        (v2(&stranger, "x"), 61010),
        (json!({"version": 3, "content": "x"}), 47001),
    ];
    for (body, expected) in cases {
        let answer = check(&wx, &token, body.clone()).await;
        assert_eq!(errcode(&answer), Some(expected), "{body}");
    }
    let no_token = wx
        .post("/wxa/msg_sec_check", &[], v2(&openid, "x"))
        .await
        .json();
    assert_eq!(errcode(&no_token), Some(41001));
    let bad_token = check(&wx, "81_nope", v2(&openid, "x")).await;
    assert_eq!(errcode(&bad_token), Some(40001));
    let get = wx
        .get("/wxa/msg_sec_check", &[("access_token", &token)])
        .await
        .json();
    assert_eq!(errcode(&get), Some(43002));
}

#[tokio::test]
async fn faults_apply() {
    let wx = Wx::start().await;
    let (token, openid) = logged_in(&wx, "alice").await;
    wx.sim
        .inject(Fault::errcode("/wxa/msg_sec_check", -1))
        .await;
    assert_eq!(
        errcode(&check(&wx, &token, v2(&openid, "x")).await),
        Some(-1)
    );
    assert_eq!(check(&wx, &token, v2(&openid, "x")).await["errcode"], 0);
}

#[tokio::test]
async fn per_minute_quota_45011() {
    let config = SimConfig::default().with_limits(wechat_sim::Limits {
        msg_sec_check_per_minute: 2,
        ..wechat_sim::Limits::default()
    });
    let wx = Wx::with(config).await;
    wx.at_quiet_hour().await;
    let (token, openid) = logged_in(&wx, "alice").await;
    for _ in 0..2 {
        assert_eq!(check(&wx, &token, v2(&openid, "x")).await["errcode"], 0);
    }
    assert_eq!(
        errcode(&check(&wx, &token, v2(&openid, "x")).await),
        Some(45011)
    );
    wx.sim.advance(60).await;
    assert_eq!(check(&wx, &token, v2(&openid, "x")).await["errcode"], 0);
}
