use reqwest::Method;
use serde_json::json;
use wechat_sim::Fault;

use crate::helpers::Wx;

#[tokio::test]
async fn journal_records_calls_with_secrets_masked() {
    let wx = Wx::start().await;
    let code = wx.sim.login_code("alice").await.code;
    wx.code2session(&code).await;
    wx.code2session(&code).await;
    let token = wx.access_token().await;
    wx.phone(&token, "dev-phone:13800138000").await;

    let entries = wx.sim.requests().await;
    assert_eq!(entries.len(), 4);
    let login = &entries[0];
    assert_eq!(login.endpoint, "/sns/jscode2session");
    assert_eq!(login.method, "GET");
    assert_eq!(login.query["secret"], "***");
    assert_eq!(login.query["appid"], wx.sim.appid());
    assert_eq!(login.query["js_code"], format!("{}***", &code[..6]));
    assert_eq!(login.errcode, None);
    assert_eq!(login.status, 200);
    assert_eq!(entries[1].errcode, Some(40163));

    let stable = &entries[2];
    let body = stable.body.as_ref().expect("JSON body kept");
    assert_eq!(body["secret"], "***");
    assert_eq!(body["grant_type"], "client_credential");

    let phone = &entries[3];
    assert_eq!(phone.query["access_token"], format!("{}***", &token[..6]));
    assert_eq!(phone.errcode, Some(0));
    assert!(!format!("{entries:?}").contains(wx.sim.secret()));
    assert!(!format!("{entries:?}").contains(&token));
}

#[tokio::test]
async fn journal_filters_by_endpoint_and_clears_over_http() {
    let wx = Wx::start().await;
    wx.code2session("dev:alice").await;
    wx.token().await;
    wx.get("/nowhere", &[]).await;
    let only_login = wx
        .raw(
            wx.http
                .get(wx.url("/__sim/requests"))
                .query(&[("endpoint", "/sns/jscode2session")]),
        )
        .await
        .json();
    assert_eq!(only_login.as_array().unwrap().len(), 1);
    assert_eq!(
        only_login[0]["query"]["js_code"], "dev:alice",
        "dev codes stay readable"
    );
    let unknown = wx.sim.requests_to("/nowhere").await;
    assert_eq!(unknown[0].errcode, Some(40066));

    wx.control(Method::DELETE, "/requests", None).await;
    assert_eq!(
        wx.control(Method::GET, "/requests", None).await.json(),
        json!([])
    );
}

#[tokio::test]
async fn journal_records_the_fault_that_hit() {
    let wx = Wx::start().await;
    wx.sim
        .inject(Fault::drop_connection("/cgi-bin/token"))
        .await;
    let _ = wx.http.get(wx.url("/cgi-bin/token")).send().await;
    wx.sim.inject(Fault::errcode("/cgi-bin/token", -1)).await;
    wx.token().await;
    let entries = wx.sim.requests().await;
    assert_eq!(entries[0].fault.as_deref(), Some("drop_connection"));
    assert_eq!(entries[0].status, 0);
    assert_eq!(entries[1].fault.as_deref(), Some("errcode"));
    assert_eq!(entries[1].errcode, Some(-1));
}
