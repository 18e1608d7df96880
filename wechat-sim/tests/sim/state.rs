//! `GET/PUT /__sim/state` and `export_state`/`import_state`: a developer's simulator survives
//! a restart.

use reqwest::Method;
use serde_json::json;
use wechat_sim::{ContentRule, TemplateSpec};

use crate::helpers::{Wx, errcode};

#[tokio::test]
async fn state_moves_to_a_new_simulator_over_http() {
    let old = Wx::start().await;
    let code = old.sim.login_code("alice").await.code;
    let session = old.code2session(&code).await;
    let key = session["session_key"].as_str().unwrap().to_owned();
    old.sim
        .add_content_rule(ContentRule::new("casino", 20006))
        .await;
    old.sim
        .add_template(TemplateSpec::new("tmpl-1", &["thing1"]))
        .await;
    old.control(
        Method::POST,
        "/subscriptions",
        Some(json!({"user": "alice", "template_id": "tmpl-1", "times": 2})),
    )
    .await;
    let token = old.access_token().await;
    let openid = old.sim.openid_for("alice");
    let sent = old
        .post(
            "/cgi-bin/message/subscribe/send",
            &[("access_token", &token)],
            json!({"touser": openid, "template_id": "tmpl-1", "data": {"thing1": {"value": "hi"}}}),
        )
        .await
        .json();
    assert_eq!(sent["errcode"], 0);
    let exported = old.control(Method::GET, "/state", None).await.json();
    assert_eq!(exported["identities"][0]["session_key"], key);
    assert_eq!(exported["subscriptions"][0]["remaining"], 1);
    assert_eq!(exported["messages"].as_array().unwrap().len(), 1);
    drop(old);

    let new = Wx::start().await;
    let put = new
        .control(Method::PUT, "/state", Some(exported.clone()))
        .await;
    assert_eq!(put.status, 200);
    assert_eq!(
        new.control(Method::GET, "/state", None).await.json(),
        exported
    );

    // The session key from before the restart still signs checksession.
    let token = new.access_token().await;
    let signature = wechat_sim::session_signature(&key);
    assert_eq!(
        new.checksession(&token, &openid, &signature).await["errcode"],
        0
    );
    // The rule, the template and the remaining acceptance are back; one send, then 43101.
    let risky = new
        .post(
            "/wxa/msg_sec_check",
            &[("access_token", &token)],
            json!({"version": 2, "scene": 1, "openid": openid, "content": "casino"}),
        )
        .await
        .json();
    assert_eq!(risky["result"]["label"], 20006);
    let body =
        json!({"touser": openid, "template_id": "tmpl-1", "data": {"thing1": {"value": "again"}}});
    let again = new
        .post(
            "/cgi-bin/message/subscribe/send",
            &[("access_token", &token)],
            body.clone(),
        )
        .await
        .json();
    assert_eq!(again["errcode"], 0);
    assert!(again["msgid"].as_u64() > sent["msgid"].as_u64());
    let third = new
        .post(
            "/cgi-bin/message/subscribe/send",
            &[("access_token", &token)],
            body,
        )
        .await
        .json();
    assert_eq!(errcode(&third), Some(43101));
    assert_eq!(new.sim.messages_to("alice").await.len(), 2);
}

#[tokio::test]
async fn through_the_library_and_codes_do_not_survive() {
    let old = Wx::start().await;
    let code = old.sim.login_code("bob").await.code;
    let state = old.sim.export_state().await;
    assert!(
        state
            .identities
            .iter()
            .any(|k| k.user == "bob" && k.session_key.is_none())
    );

    let new = Wx::start().await;
    new.sim.import_state(&state).await;
    assert_eq!(new.sim.export_state().await, state);
    // Login codes are short-lived and not part of the state.
    assert_eq!(errcode(&new.code2session(&code).await), Some(40029));
    let bad = new
        .control(Method::PUT, "/state", Some(json!({"apps": "nope"})))
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn importing_a_state_with_an_unknown_key_is_refused() {
    let wx = Wx::start().await;
    let mut state = wx.control(Method::GET, "/state", None).await.json();
    state["identities"] = json!([{"appid": "wx1", "user": "a", "sessionkey": "k"}]);
    let answer = wx.control(Method::PUT, "/state", Some(state)).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.text.contains("unknown field `sessionkey`"),
        "{}",
        answer.text
    );
}
