use wechat_sim::{Limits, SimConfig};

use crate::assert_wire_snapshot;
use crate::helpers::{Wx, errcode};

fn limits(f: impl FnOnce(&mut Limits)) -> SimConfig {
    let mut limits = Limits::default();
    f(&mut limits);
    SimConfig::default().with_limits(limits)
}

#[tokio::test]
async fn code2session_per_user_minute_limit_gives_45011_without_using_the_code() {
    let wx = Wx::with(limits(|l| l.code2session_per_user_per_minute = 2)).await;
    wx.at_quiet_hour().await;
    for _ in 0..2 {
        assert!(wx.code2session("dev:alice").await.get("openid").is_some());
    }
    let code = wx.sim.login_code("alice").await.code;
    let limited = wx.code2session(&code).await;
    assert_eq!(errcode(&limited), Some(45011));
    assert_wire_snapshot!("code2session_45011", limited);
    assert!(
        wx.code2session("dev:bob").await.get("openid").is_some(),
        "per user"
    );
    wx.sim.advance(60).await;
    assert!(
        wx.code2session(&code).await.get("openid").is_some(),
        "code kept, next minute"
    );
}

#[tokio::test]
async fn daily_quotas_give_45009() {
    let wx = Wx::with(limits(|l| {
        l.code2session_per_app_per_day = 1;
        l.token_per_day = 1;
    }))
    .await;
    wx.at_quiet_hour().await;
    assert!(wx.code2session("dev:alice").await.get("openid").is_some());
    assert_eq!(errcode(&wx.code2session("dev:bob").await), Some(45009));
    assert!(wx.token().await.get("access_token").is_some());
    let refused = wx.token().await;
    assert_eq!(errcode(&refused), Some(45009));
    wx.sim.advance(86_400).await;
    assert!(wx.token().await.get("access_token").is_some());
}

#[tokio::test]
async fn stable_token_minute_and_day_limits() {
    let wx = Wx::with(limits(|l| {
        l.stable_token_per_minute = 1;
        l.stable_token_per_day = 2;
    }))
    .await;
    wx.at_quiet_hour().await;
    assert!(wx.stable(false).await.get("access_token").is_some());
    assert_eq!(errcode(&wx.stable(false).await), Some(45011));
    wx.sim.advance(60).await;
    assert!(wx.stable(false).await.get("access_token").is_some());
    wx.sim.advance(60).await;
    assert_eq!(errcode(&wx.stable(false).await), Some(45009));
}
