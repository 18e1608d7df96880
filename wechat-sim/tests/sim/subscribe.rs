//! `POST /cgi-bin/message/subscribe/send`: one send per acceptance, every errcode, the
//! delivered messages through the control API and the library.

use reqwest::Method;
use serde_json::{Value, json};
use wechat_sim::{Fault, SimConfig, TemplateSpec};

use crate::helpers::{Wx, errcode};

const TEMPLATE: &str = "tmpl-order-shipped";

async fn with_template() -> Wx {
    let config = SimConfig {
        templates: vec![TemplateSpec::new(TEMPLATE, &["thing1", "time2", "number3"])],
        ..SimConfig::default()
    };
    Wx::with(config).await
}

fn message(touser: &str) -> Value {
    json!({
        "touser": touser,
        "template_id": TEMPLATE,
        "page": "pages/order/index?id=7",
        "miniprogram_state": "trial",
        "lang": "zh_CN",
        "data": {
            "thing1": {"value": "您的订单已发货"},
            "time2": {"value": "2026-11-29 10:00"},
            "number3": {"value": "7"}
        }
    })
}

async fn send(wx: &Wx, token: &str, body: Value) -> Value {
    wx.post(
        "/cgi-bin/message/subscribe/send",
        &[("access_token", token)],
        body,
    )
    .await
    .json()
}

#[tokio::test]
async fn one_acceptance_allows_one_send() {
    let wx = with_template().await;
    let token = wx.access_token().await;
    let granted = wx.sim.subscribe("alice", TEMPLATE).await;
    assert_eq!(granted.remaining, 1);
    let openid = wx.sim.openid_for("alice");

    let raw = wx
        .post(
            "/cgi-bin/message/subscribe/send",
            &[("access_token", &token)],
            message(&openid),
        )
        .await;
    assert_eq!(raw.content_type, "application/json; encoding=utf-8");
    let sent = raw.json();
    assert_eq!(sent["errcode"], 0);
    assert_eq!(sent["errmsg"], "ok");
    assert!(sent["msgid"].as_u64().unwrap() > 0);

    let delivered = wx.sim.messages_to("alice").await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].msgid, sent["msgid"].as_u64().unwrap());
    assert_eq!(delivered[0].touser, openid);
    assert_eq!(delivered[0].page.as_deref(), Some("pages/order/index?id=7"));
    assert_eq!(delivered[0].miniprogram_state, "trial");
    assert_eq!(delivered[0].data["thing1"]["value"], "您的订单已发货");

    assert_eq!(
        errcode(&send(&wx, &token, message(&openid)).await),
        Some(43101)
    );
    assert_eq!(wx.sim.messages().await.len(), 1);
}

#[tokio::test]
async fn over_http_templates_grants_and_messages() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let added = wx
        .control(
            Method::POST,
            "/templates",
            Some(json!({"template_id": TEMPLATE, "keywords": ["thing1", "time2", "number3"]})),
        )
        .await;
    assert_eq!(added.status, 200);
    assert_eq!(added.json()["appid"], wx.sim.appid());
    let granted = wx
        .control(
            Method::POST,
            "/subscriptions",
            Some(json!({"user": "bob", "template_id": TEMPLATE, "times": 2})),
        )
        .await
        .json();
    assert_eq!(granted["remaining"], 2);
    let unknown = wx
        .control(
            Method::POST,
            "/subscriptions",
            Some(json!({"user": "bob", "template_id": "nope"})),
        )
        .await;
    assert_eq!(unknown.status, 400);

    let openid = wx.sim.openid_for("bob");
    assert_eq!(send(&wx, &token, message(&openid)).await["errcode"], 0);
    assert_eq!(send(&wx, &token, message(&openid)).await["errcode"], 0);
    assert_eq!(
        errcode(&send(&wx, &token, message(&openid)).await),
        Some(43101)
    );

    let listed = wx
        .control(Method::GET, "/messages?user=bob", None)
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["template_id"], TEMPLATE);
    let subs = wx.control(Method::GET, "/subscriptions", None).await.json();
    assert_eq!(subs[0]["remaining"], 0);
    wx.control(Method::DELETE, "/messages", None).await;
    assert!(wx.sim.messages().await.is_empty());
}

#[tokio::test]
async fn each_errcode_and_failed_sends_keep_the_acceptance() {
    let wx = with_template().await;
    let token = wx.access_token().await;
    wx.sim.subscribe("alice", TEMPLATE).await;
    let openid = wx.sim.openid_for("alice");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = message(&openid);
        change(&mut body);
        body
    };
    let cases = [
        (
            with(&|b| b["touser"] = json!("oUnknownOpenid000000000000000")),
            40003,
        ),
        (with(&|b| b["template_id"] = json!("tmpl-unknown")), 40037),
        (
            with(&|b| b["data"]["thing9"] = json!({"value": "x"})),
            47003,
        ),
        (
            with(&|b| b["data"]["thing1"] = json!({"value": "字".repeat(21)})),
            47003,
        ),
        (
            with(&|b| b["data"]["number3"] = json!({"value": "seven"})),
            47003,
        ),
        (
            with(&|b| b["data"]["time2"] = json!("no value object")),
            47003,
        ),
        (with(&|b| b["data"] = json!({})), 47003),
        (with(&|b| b["miniprogram_state"] = json!("beta")), 47003),
    ];
    for (body, expected) in cases {
        assert_eq!(
            errcode(&send(&wx, &token, body.clone()).await),
            Some(expected),
            "{body}"
        );
    }
    // bob never accepted
    let bob = wx.sim.openid_for("bob");
    wx.control(Method::GET, "/users/bob/identity", None).await;
    assert_eq!(
        errcode(&send(&wx, &token, message(&bob)).await),
        Some(43101)
    );
    let no_token = wx
        .post("/cgi-bin/message/subscribe/send", &[], message(&openid))
        .await
        .json();
    assert_eq!(errcode(&no_token), Some(41001));
    assert_eq!(
        errcode(&send(&wx, "81_nope", message(&openid)).await),
        Some(40001)
    );
    let get = wx
        .get(
            "/cgi-bin/message/subscribe/send",
            &[("access_token", &token)],
        )
        .await
        .json();
    assert_eq!(errcode(&get), Some(43002));
    wx.sim
        .inject(Fault::errcode("/cgi-bin/message/subscribe/send", 45009))
        .await;
    assert_eq!(
        errcode(&send(&wx, &token, message(&openid)).await),
        Some(45009)
    );
    // none of the failures used alice's acceptance
    assert_eq!(send(&wx, &token, message(&openid)).await["errcode"], 0);
    assert_eq!(
        wx.sim
            .requests_to("/cgi-bin/message/subscribe/send")
            .await
            .len(),
        14
    );
}
