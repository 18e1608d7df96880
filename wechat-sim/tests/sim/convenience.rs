use wechat_sim::SimConfig;

use crate::assert_wire_snapshot;
use crate::helpers::{Wx, errcode, errmsg};

#[tokio::test]
async fn dev_code_logs_in_as_that_user_every_time() {
    let wx = Wx::start().await;
    for _ in 0..3 {
        let body = wx.code2session("dev:alice").await;
        assert_eq!(body["openid"], wx.sim.openid_for("alice").as_str());
    }
    assert_eq!(errcode(&wx.code2session("dev:").await), Some(40029));
}

#[tokio::test]
async fn err_codes_answer_that_errcode_with_the_real_errmsg() {
    let wx = Wx::start().await;
    for (code, expected, msg) in [
        ("err:40029", 40029, "invalid code"),
        ("err:-1", -1, "system error"),
        (
            "err:45011",
            45011,
            "api minute-quota reach limit, must slower, retry next minute",
        ),
        ("err:40226", 40226, "code blocked"),
        ("err:40163", 40163, "code been used"),
    ] {
        let body = wx.code2session(code).await;
        assert_eq!(errcode(&body), Some(expected));
        assert_eq!(errmsg(&body), msg);
    }
    assert_eq!(errcode(&wx.code2session("err:nonsense").await), Some(40029));
    let token = wx.access_token().await;
    let phone = wx.phone(&token, "err:48001").await;
    assert_eq!(errcode(&phone), Some(48001));
    assert_wire_snapshot!("phone_err_48001", phone);
}

#[tokio::test]
async fn dev_phone_code_answers_that_number() {
    let wx = Wx::start().await;
    let token = wx.access_token().await;
    let body = wx.phone(&token, "dev-phone:13800138000").await;
    assert_eq!(body["phone_info"]["phoneNumber"], "13800138000");
    assert_eq!(body["phone_info"]["countryCode"], "86");
    let again = wx.phone(&token, "dev-phone:13800138000").await;
    assert_eq!(again["errcode"], 0, "reusable");
    assert_eq!(
        errcode(&wx.phone(&token, "dev-phone:12ab").await),
        Some(40029)
    );
}

#[tokio::test]
async fn strict_mode_turns_every_convenience_code_off() {
    let wx = Wx::with(SimConfig::default().strict(true)).await;
    assert_eq!(errcode(&wx.code2session("dev:alice").await), Some(40029));
    assert_eq!(errcode(&wx.code2session("err:-1").await), Some(40029));
    let token = wx.access_token().await;
    assert_eq!(
        errcode(&wx.phone(&token, "dev-phone:13800138000").await),
        Some(40029)
    );
    assert_eq!(errcode(&wx.phone(&token, "err:-1").await), Some(40029));
    let minted = wx.sim.login_code("alice").await.code;
    assert!(wx.code2session(&minted).await.get("openid").is_some());
}
