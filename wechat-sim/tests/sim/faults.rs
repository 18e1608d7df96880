use wechat_sim::Fault;

use crate::helpers::Wx;

const LOGIN: &str = "/sns/jscode2session";

#[tokio::test]
async fn drop_connection_is_a_transport_error_for_reqwest() {
    let wx = Wx::start().await;
    wx.sim.inject(Fault::drop_connection(LOGIN)).await;
    let url = wx.url(&format!(
        "{LOGIN}?appid={}&secret={}&js_code=dev:alice",
        wx.sim.appid(),
        wx.sim.secret()
    ));
    let error = wx
        .http
        .get(&url)
        .send()
        .await
        .expect_err("connection dropped");
    // send() itself fails: hyper reports the connection closed before a response arrived.
    assert!(error.is_request(), "{error:?}");
    assert!(
        format!("{error:?}").contains("IncompleteMessage"),
        "{error:?}"
    );
    // Only once by default: the next call is answered.
    assert!(wx.code2session("dev:alice").await.get("openid").is_some());
}
