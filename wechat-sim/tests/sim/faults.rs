use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use wechat_sim::Fault;

use crate::assert_wire_snapshot;
use crate::helpers::{Wx, errcode, errmsg};

const LOGIN: &str = "/sns/jscode2session";

fn is_login(body: &serde_json::Value) -> bool {
    body.get("openid").is_some()
}

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
    assert!(is_login(&wx.code2session("dev:alice").await));
}

#[tokio::test]
async fn errcode_fault_answers_the_real_errmsg_once_without_using_the_code() {
    let wx = Wx::start().await;
    wx.sim.inject(Fault::errcode(LOGIN, -1)).await;
    let code = wx.sim.login_code("alice").await.code;
    let busy = wx.code2session_raw(&code).await;
    assert_eq!(busy.status, 200);
    assert_eq!(busy.content_type, "text/plain");
    let busy = busy.json();
    assert_eq!(errcode(&busy), Some(-1));
    assert_eq!(errmsg(&busy), "system error");
    assert_wire_snapshot!("fault_errcode_minus_1", busy);
    assert!(is_login(&wx.code2session(&code).await));
}

#[tokio::test]
async fn times_n_hits_exactly_n_calls() {
    let wx = Wx::start().await;
    wx.sim.inject(Fault::errcode(LOGIN, 40029).times(2)).await;
    assert_eq!(errcode(&wx.code2session("dev:a").await), Some(40029));
    assert_eq!(wx.sim.faults().await[0].remaining, Some(1));
    assert_eq!(errcode(&wx.code2session("dev:a").await), Some(40029));
    assert!(is_login(&wx.code2session("dev:a").await));
    assert!(wx.sim.faults().await.is_empty());
}

#[tokio::test]
async fn probability_one_always_and_zero_never() {
    let wx = Wx::start().await;
    wx.sim
        .inject(Fault::errcode(LOGIN, 45011).probability(0.0))
        .await;
    for _ in 0..20 {
        assert!(is_login(&wx.code2session("dev:a").await));
    }
    wx.sim.clear_faults().await;
    wx.sim
        .inject(Fault::errcode(LOGIN, 45011).probability(1.0))
        .await;
    for _ in 0..20 {
        assert_eq!(errcode(&wx.code2session("dev:a").await), Some(45011));
    }
    assert_eq!(wx.sim.faults().await[0].hits, 20);
}

#[tokio::test]
async fn faults_only_hit_their_endpoint_and_star_hits_all() {
    let wx = Wx::start().await;
    wx.sim.inject(Fault::errcode("/cgi-bin/token", -1)).await;
    assert!(is_login(&wx.code2session("dev:a").await));
    assert_eq!(errcode(&wx.token().await), Some(-1));
    wx.sim.inject(Fault::errcode("*", 50002).times(2)).await;
    assert_eq!(errcode(&wx.code2session("dev:a").await), Some(50002));
    assert_eq!(errcode(&wx.stable(false).await), Some(50002));
}

#[tokio::test]
async fn http_status_fault_answers_an_html_error_page() {
    let wx = Wx::start().await;
    wx.sim.inject(Fault::http_status(LOGIN, 502)).await;
    let raw = wx.code2session_raw("dev:a").await;
    assert_eq!(raw.status, 502);
    assert_eq!(raw.content_type, "text/html");
    assert!(raw.text.contains("502 Bad Gateway"));
}

#[tokio::test]
async fn delay_fault_delays_at_least_n_ms_without_blocking_other_calls() {
    let wx = Wx::start().await;
    wx.sim.inject(Fault::delay(LOGIN, 300)).await;
    let started = Instant::now();
    assert!(is_login(&wx.code2session("dev:a").await));
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Two hits allowed, so the fault stays listed (with its hit count) while the call waits.
    wx.sim.inject(Fault::delay(LOGIN, 60_000).times(2)).await;
    let slow = {
        let http = wx.http.clone();
        let url = wx.url(&format!(
            "{LOGIN}?appid={}&secret={}&js_code=dev:a",
            wx.sim.appid(),
            wx.sim.secret()
        ));
        tokio::spawn(async move { http.get(url).send().await })
    };
    while wx.sim.faults().await.first().is_none_or(|f| f.hits == 0) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The delayed call is in flight; other calls are answered meanwhile.
    wx.sim.clear_faults().await;
    assert!(is_login(&wx.code2session("dev:b").await));
    assert!(!slow.is_finished());
    slow.abort();
}

#[tokio::test]
async fn malformed_truncated_and_content_type_faults_still_process_the_call() {
    let wx = Wx::start().await;
    let code = wx.sim.login_code("alice").await.code;
    wx.sim.inject(Fault::malformed(LOGIN)).await;
    let malformed = wx.code2session_raw(&code).await;
    assert!(serde_json::from_str::<serde_json::Value>(&malformed.text).is_err());
    assert!(malformed.text.contains("openid:o"), "{}", malformed.text);
    assert_eq!(
        errcode(&wx.code2session(&code).await),
        Some(40163),
        "the code was used"
    );

    wx.sim.inject(Fault::truncated(LOGIN)).await;
    let truncated = wx.code2session_raw("dev:alice").await;
    assert!(truncated.text.starts_with("{\"session_key\":"));
    assert!(serde_json::from_str::<serde_json::Value>(&truncated.text).is_err());

    wx.sim.inject(Fault::content_type(LOGIN, "text/html")).await;
    let html = wx.code2session_raw("dev:alice").await;
    assert_eq!(html.content_type, "text/html");
    assert!(is_login(&html.json()));
}

#[tokio::test]
async fn faults_over_http_add_list_clear_and_validate() {
    let wx = Wx::start().await;
    let added = wx
        .control(
            Method::POST,
            "/faults",
            Some(json!({"endpoint": LOGIN, "kind": "errcode", "errcode": 40226, "times": 3})),
        )
        .await;
    assert_eq!(added.status, 200);
    let listed = wx.control(Method::GET, "/faults", None).await.json();
    assert_eq!(listed[0]["remaining"], 3);
    assert_eq!(listed[0]["fault"]["errcode"], 40226);
    assert_eq!(errcode(&wx.code2session("dev:a").await), Some(40226));

    let invalid = wx
        .control(
            Method::POST,
            "/faults",
            Some(json!({"endpoint": LOGIN, "kind": "delay"})),
        )
        .await;
    assert_eq!(invalid.status, 400);
    assert!(invalid.text.contains("delay_ms"));

    assert_eq!(
        wx.control(Method::DELETE, "/faults", None).await.status,
        200
    );
    assert_eq!(
        wx.control(Method::GET, "/faults", None).await.json(),
        json!([])
    );
    assert!(is_login(&wx.code2session("dev:a").await));
}
