//! The WeChat fault matrix: every errcode the three upstream endpoints can answer (wechat-api.md
//! §1.4) and every transport failure, injected through the simulator, against the status the
//! README's mapping table documents; that a failed WeChat call writes nothing; and that the 429
//! guard on a login code is released exactly when the failure was transient.
//!
//! Each row runs on an app of its own, so that no access token is cached and no code is
//! claimed by an earlier row.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wechat_sim::Fault;

use crate::helpers::{TestApp, assert_response_snapshot, e2e_test, snapshot, spawn_app_with};

const CODE2SESSION: &str = "/sns/jscode2session";
const PHONE: &str = "/wxa/business/getuserphonenumber";
const STABLE_TOKEN: &str = "/cgi-bin/stable_token";

/// The WeChat timeout of the apps in this file's timeout rows.
const TIMEOUT_MS: u64 = 200;
/// How long an injected delay holds the answer back: far beyond `TIMEOUT_MS`.
const DELAY_MS: u64 = 3_000;

const BUSY: &str = "微信服务繁忙，请稍后再试";
const RATE_LIMITED: &str = "微信接口调用过于频繁，请稍后再试";
const BAD_GATEWAY: &str = "微信服务异常，请稍后再试";
const TIMED_OUT: &str = "微信服务响应超时，请稍后再试";
const CODE_INVALID: &str = "微信登录凭证无效或已使用";
const PHONE_CODE_INVALID: &str = "手机号授权凭证无效或已使用";
const BLOCKED: &str = "微信判定该用户存在风险，已拒绝登录";
const GUARD_HELD: &str = "重复请求过于频繁";

/// What the service must answer.
#[derive(Debug, Clone, Copy)]
struct Expect {
    status: u16,
    msg: &'static str,
    errcode: Option<i64>,
    retry_after: Option<&'static str>,
    field: Option<&'static str>,
}

impl Expect {
    const fn ok() -> Self {
        Self {
            status: 200,
            msg: "",
            errcode: None,
            retry_after: None,
            field: None,
        }
    }
    const fn status(status: u16, msg: &'static str, errcode: Option<i64>) -> Self {
        Self {
            status,
            msg,
            errcode,
            retry_after: None,
            field: None,
        }
    }
    const fn busy() -> Self {
        Self {
            retry_after: Some("1"),
            ..Self::status(503, BUSY, Some(-1))
        }
    }
    const fn rate_limited() -> Self {
        Self {
            retry_after: Some("60"),
            ..Self::status(429, RATE_LIMITED, Some(45011))
        }
    }
    const fn bad_gateway(errcode: i64) -> Self {
        Self::status(502, BAD_GATEWAY, Some(errcode))
    }
    const fn broken() -> Self {
        Self::status(502, BAD_GATEWAY, None)
    }
    const fn timed_out() -> Self {
        Self::status(504, TIMED_OUT, None)
    }
    const fn code_invalid(errcode: i64) -> Self {
        Self {
            field: Some("users_wx_code"),
            ..Self::status(400, CODE_INVALID, Some(errcode))
        }
    }
    const fn phone_code_invalid() -> Self {
        Self {
            field: Some("users_phone_code"),
            ..Self::status(400, PHONE_CODE_INVALID, Some(40029))
        }
    }
}

/// What happens to the login code's claim after the failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// Transient: the same code goes through as soon as WeChat is well again.
    Released,
    /// Definitive: the same code answers 429 for `BAI_GUARD_TTL` seconds.
    Kept,
}

struct Row {
    label: &'static str,
    fault: Fault,
    expect: Expect,
    /// Snapshot the answer too (a representative few).
    snapshot: bool,
}

fn row(label: &'static str, fault: Fault, expect: Expect) -> Row {
    Row {
        label,
        fault,
        expect,
        snapshot: false,
    }
}

fn snap(mut row: Row) -> Row {
    row.snapshot = true;
    row
}

/// Faults that break the exchange itself, the same for every endpoint.
fn transport_rows(endpoint: &str) -> Vec<Row> {
    vec![
        row(
            "delay",
            Fault::delay(endpoint, DELAY_MS),
            Expect::timed_out(),
        ),
        row(
            "dropped_connection",
            Fault::drop_connection(endpoint),
            Expect::broken(),
        ),
        row("malformed", Fault::malformed(endpoint), Expect::broken()),
        row("truncated", Fault::truncated(endpoint), Expect::broken()),
        row(
            "http_500",
            Fault::http_status(endpoint, 500),
            Expect::broken(),
        ),
        row(
            "http_502",
            Fault::http_status(endpoint, 502),
            Expect::broken(),
        ),
        row(
            "http_503",
            Fault::http_status(endpoint, 503),
            Expect::broken(),
        ),
        row(
            "http_404",
            Fault::http_status(endpoint, 404),
            Expect::broken(),
        ),
        row(
            "content_type_html",
            Fault::content_type(endpoint, "text/html"),
            Expect::ok(),
        ),
        row(
            "content_type_octet_stream",
            Fault::content_type(endpoint, "application/octet-stream"),
            Expect::ok(),
        ),
    ]
}

async fn app_for(row: &Row) -> TestApp {
    let timeout_ms = match row.fault.delay_ms {
        Some(_) => TIMEOUT_MS,
        None => 2_000,
    };
    spawn_app_with(|s| s.wechat_timeout_ms = timeout_ms).await
}

/// Checks an answer against `expect` and returns its snapshot form.
async fn check(context: &str, response: reqwest::Response, expect: Expect) -> Value {
    let answer = snapshot(response).await;
    assert_eq!(answer["status"], expect.status, "{context}: {answer:#}");
    if expect.status == 200 {
        return answer;
    }
    let body = &answer["body"];
    assert_eq!(body["code"], expect.status, "{context}: {answer:#}");
    assert_eq!(body["msg"], expect.msg, "{context}: {answer:#}");
    assert_eq!(
        body["data"].get("errcode").and_then(Value::as_i64),
        expect.errcode,
        "{context}: data.errcode in {answer:#}"
    );
    assert_eq!(
        body["data"].get("field").and_then(Value::as_str),
        expect.field,
        "{context}: data.field in {answer:#}"
    );
    assert_eq!(
        answer["headers"].get("retry-after").and_then(Value::as_str),
        expect.retry_after,
        "{context}: Retry-After in {answer:#}"
    );
    answer
}

// ---------------------------------------------------------------------------------------------
// Login: /sns/jscode2session

fn login_errcode_rows() -> Vec<(Row, Guard)> {
    use Guard::{Kept, Released};
    let e = |code| Fault::errcode(CODE2SESSION, code);
    vec![
        (row("busy", e(-1), Expect::busy()), Released),
        (
            row("rate_limited", e(45011), Expect::rate_limited()),
            Released,
        ),
        (
            snap(row("invalid_code", e(40029), Expect::code_invalid(40029))),
            Kept,
        ),
        (
            row("code_used", e(40163), Expect::code_invalid(40163)),
            Kept,
        ),
        (
            row(
                "risk_blocked",
                e(40226),
                Expect::status(403, BLOCKED, Some(40226)),
            ),
            Kept,
        ),
        (
            snap(row("invalid_appid", e(40013), Expect::bad_gateway(40013))),
            Kept,
        ),
        (
            row("invalid_appsecret", e(40125), Expect::bad_gateway(40125)),
            Kept,
        ),
        (
            row("invalid_grant_type", e(40002), Expect::bad_gateway(40002)),
            Kept,
        ),
        (
            row("appid_missing", e(41002), Expect::bad_gateway(41002)),
            Kept,
        ),
        (
            row("appsecret_missing", e(41004), Expect::bad_gateway(41004)),
            Kept,
        ),
        (
            row("code_missing", e(41008), Expect::bad_gateway(41008)),
            Kept,
        ),
        (
            row("data_format_error", e(47001), Expect::bad_gateway(47001)),
            Kept,
        ),
        (
            row("user_limited", e(50002), Expect::bad_gateway(50002)),
            Kept,
        ),
        (
            row("invalid_url", e(40066), Expect::bad_gateway(40066)),
            Kept,
        ),
    ]
}

/// Every transport failure is transient. Faults the simulator applies after processing the
/// call (delay, malformed, truncated, content type) spend a minted code at WeChat, so those
/// rows log in with a `dev:` code, which the simulator never spends: what is tested is the
/// guard, not WeChat's memory (see `a_garbled_answer_releases_the_claim_but_wechat_spent_the_code`).
fn login_transport_rows() -> Vec<(Row, Guard)> {
    transport_rows(CODE2SESSION)
        .into_iter()
        .map(|row| {
            let row = if row.label == "dropped_connection" {
                snap(row)
            } else {
                row
            };
            (row, Guard::Released)
        })
        .collect()
}

async fn run_login_row(row: Row, guard: Guard) {
    let context = format!("login {}", row.label);
    let app = app_for(&row).await;
    let code = if matches!(
        row.fault.kind,
        wechat_sim::FaultKind::Errcode
            | wechat_sim::FaultKind::HttpStatus
            | wechat_sim::FaultKind::DropConnection
    ) {
        app.sim.login_code("alice").await.code
    } else {
        "dev:alice".to_owned()
    };
    app.sim.inject(row.fault.clone()).await;

    let started = Instant::now();
    let response = app.login(&code).await;
    let elapsed = started.elapsed();
    let answer = check(&context, response, row.expect).await;
    if row.snapshot {
        assert_response_snapshot!(format!("login_{}", row.label), answer);
    }
    if row.expect.status == 200 {
        assert!(app.stored_user("alice").await.is_some(), "{context}");
        return;
    }
    if row.fault.delay_ms.is_some() {
        assert!(
            elapsed < Duration::from_millis(DELAY_MS - 1_000),
            "{context}: gave up after {elapsed:?}, not after the {TIMEOUT_MS} ms timeout"
        );
    }
    assert!(
        app.stored_user("alice").await.is_none(),
        "{context}: a failed login created the user"
    );

    app.sim.clear_faults().await;
    let retry = app.login(&code).await;
    match guard {
        Guard::Released => {
            let answer = check(&format!("{context}, retried"), retry, Expect::ok()).await;
            assert_eq!(
                answer["body"]["meta"]["data"]["status"], "register_success",
                "{context}: the retry registers the user"
            );
        }
        Guard::Kept => {
            let answer = snapshot(retry).await;
            assert_eq!(answer["status"], 429, "{context}, retried: {answer:#}");
            assert_eq!(answer["body"]["msg"], GUARD_HELD, "{context}: {answer:#}");
            let retry_after: u64 = answer["headers"]["retry-after"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{context}: Retry-After in {answer:#}"));
            assert!((1..=10).contains(&retry_after), "{context}: {retry_after}");
            assert_eq!(
                app.sim.requests_to(CODE2SESSION).await.len(),
                1,
                "{context}: a held code never reaches WeChat again"
            );
            assert!(app.stored_user("alice").await.is_none(), "{context}");
        }
    }
}

e2e_test! {
    async fn login_errcode_matrix() {
        for (row, guard) in login_errcode_rows() {
            run_login_row(row, guard).await;
        }
    }
}

e2e_test! {
    async fn login_transport_matrix() {
        for (row, guard) in login_transport_rows() {
            run_login_row(row, guard).await;
        }
    }
}

e2e_test! {
    async fn a_definitive_failure_holds_the_code_for_the_guard_ttl_and_no_longer() {
        let app = spawn_app_with(|s| s.guard_ttl_secs = 1).await;
        app.sim.inject(Fault::errcode(CODE2SESSION, 40029)).await;
        let code = app.sim.login_code("alice").await.code;
        check("first", app.login(&code).await, Expect::code_invalid(40029)).await;
        let held = snapshot(app.login(&code).await).await;
        assert_eq!(held["status"], 429, "{held:#}");
        assert_eq!(held["headers"]["retry-after"], "1", "{held:#}");
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        // The claim expired: the code reaches WeChat again (and, being unspent there, works).
        check("after the TTL", app.login(&code).await, Expect::ok()).await;
        assert_eq!(app.sim.requests_to(CODE2SESSION).await.len(), 2);
    }
}

e2e_test! {
    async fn a_garbled_answer_releases_the_claim_but_wechat_spent_the_code() {
        // WeChat processed the call and only the answer was lost: the service cannot know, so
        // it releases the claim; the retry reaches WeChat, which says the code was used.
        let app = spawn_app_with(|_| {}).await;
        app.sim.inject(Fault::truncated(CODE2SESSION)).await;
        let code = app.sim.login_code("alice").await.code;
        check("first", app.login(&code).await, Expect::broken()).await;
        check("retry", app.login(&code).await, Expect::code_invalid(40163)).await;
        assert_eq!(app.sim.requests_to(CODE2SESSION).await.len(), 2);
        assert!(app.stored_user("alice").await.is_none());
    }
}

// ---------------------------------------------------------------------------------------------
// Profile: /wxa/business/getuserphonenumber and /cgi-bin/stable_token

/// What the same profile request does once the fault is cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// It succeeds: the failure spent nothing and cached nothing.
    Succeeds,
    /// WeChat processed the phone code before the answer was lost: 400, code used.
    PhoneCodeSpent,
}

fn phone_errcode_rows() -> Vec<Row> {
    let e = |code| Fault::errcode(PHONE, code);
    vec![
        row("busy", e(-1), Expect::busy()),
        snap(row("rate_limited", e(45011), Expect::rate_limited())),
        row("invalid_code", e(40029), Expect::phone_code_invalid()),
        row("invalid_appid", e(40013), Expect::bad_gateway(40013)),
        row("access_token_missing", e(41001), Expect::bad_gateway(41001)),
        row("api_unauthorized", e(48001), Expect::bad_gateway(48001)),
        row("data_format_error", e(47001), Expect::bad_gateway(47001)),
        row("require_post", e(43002), Expect::bad_gateway(43002)),
        row("empty_post_data", e(44002), Expect::bad_gateway(44002)),
        row("user_limited", e(50002), Expect::bad_gateway(50002)),
        row("invalid_url", e(40066), Expect::bad_gateway(40066)),
        // A stale access token is replaced and the call retried once: one rejection is
        // invisible to the client, two are a 502.
        row("stale_40001_once", e(40001), Expect::ok()),
        row("stale_40014_once", e(40014), Expect::ok()),
        row("stale_42001_once", e(42001), Expect::ok()),
        snap(row(
            "stale_40001_twice",
            e(40001).times(2),
            Expect::bad_gateway(40001),
        )),
        row(
            "stale_40014_twice",
            e(40014).times(2),
            Expect::bad_gateway(40014),
        ),
        row(
            "stale_42001_twice",
            e(42001).times(2),
            Expect::bad_gateway(42001),
        ),
    ]
}

fn stable_token_errcode_rows() -> Vec<Row> {
    let e = |code| Fault::errcode(STABLE_TOKEN, code);
    vec![
        row("busy", e(-1), Expect::busy()),
        row("rate_limited", e(45011), Expect::rate_limited()),
        row("invalid_appid", e(40013), Expect::bad_gateway(40013)),
        row("invalid_appsecret", e(40125), Expect::bad_gateway(40125)),
        row("invalid_grant_type", e(40002), Expect::bad_gateway(40002)),
        row("appid_missing", e(41002), Expect::bad_gateway(41002)),
        row("appsecret_missing", e(41004), Expect::bad_gateway(41004)),
        snap(row("daily_quota", e(45009), Expect::bad_gateway(45009))),
        row("ip_not_whitelisted", e(40164), Expect::bad_gateway(40164)),
        row("appsecret_frozen", e(40243), Expect::bad_gateway(40243)),
        row("data_format_error", e(47001), Expect::bad_gateway(47001)),
        row("token_use_forbidden", e(50004), Expect::bad_gateway(50004)),
        row("account_frozen", e(50007), Expect::bad_gateway(50007)),
        row("third_party_token", e(61024), Expect::bad_gateway(61024)),
        row(
            "ip_needs_confirmation",
            e(89503),
            Expect::bad_gateway(89503),
        ),
    ]
}

async fn run_profile_row(endpoint: &str, row: Row) {
    let context = format!("profile {endpoint} {}", row.label);
    let app = app_for(&row).await;
    let token = app.token_for("alice").await;
    let before = app.stored_user("alice").await.expect("alice logged in");
    app.sim.clear_requests().await;
    app.sim.inject(row.fault.clone()).await;

    let body = app.profile_body("alice", "13800138000").await;
    let started = Instant::now();
    let response = app.profile(&token, &body).await;
    let elapsed = started.elapsed();
    let answer = check(&context, response, row.expect).await;
    if row.snapshot {
        let endpoint_name = if endpoint == PHONE {
            "phone"
        } else {
            "stable_token"
        };
        assert_response_snapshot!(format!("profile_{endpoint_name}_{}", row.label), answer);
    }

    let phone_calls = app.sim.requests_to(PHONE).await;
    let token_calls = app.sim.requests_to(STABLE_TOKEN).await;
    if row.label.starts_with("stale_") {
        assert_eq!(phone_calls.len(), 2, "{context}: retried once, never more");
        assert_eq!(token_calls.len(), 3, "{context}: {token_calls:#?}");
        assert_eq!(
            token_calls[2]
                .body
                .as_ref()
                .map(|b| b["force_refresh"].clone()),
            Some(json!(true)),
            "{context}: WeChat handed back the rejected token, so it was force-refreshed"
        );
    } else if endpoint == STABLE_TOKEN && row.expect.status != 200 {
        assert!(
            phone_calls.is_empty(),
            "{context}: no access token, no phone call"
        );
    }

    let after = app.stored_user("alice").await.expect("alice still exists");
    if row.expect.status == 200 {
        assert_eq!(after.users_phone, "13800138000", "{context}");
        assert_eq!(after.users_type, "注册用户", "{context}");
        return;
    }
    assert_eq!(
        after, before,
        "{context}: a failed profile update wrote something"
    );
    if row.fault.delay_ms.is_some() {
        assert!(
            elapsed < Duration::from_millis(DELAY_MS - 1_000),
            "{context}: gave up after {elapsed:?}, not after the {TIMEOUT_MS} ms timeout"
        );
    }

    // Nothing was spent or cached by the failure, except what WeChat itself processed.
    let then = match row.fault.kind {
        wechat_sim::FaultKind::Malformed | wechat_sim::FaultKind::Truncated
            if endpoint == PHONE =>
        {
            Then::PhoneCodeSpent
        }
        _ => Then::Succeeds,
    };
    app.sim.clear_faults().await;
    let retry = app.profile(&token, &body).await;
    match then {
        Then::Succeeds => {
            check(&format!("{context}, retried"), retry, Expect::ok()).await;
            let saved = app.stored_user("alice").await.unwrap();
            assert_eq!(saved.users_phone, "13800138000", "{context}");
        }
        Then::PhoneCodeSpent => {
            check(
                &format!("{context}, retried"),
                retry,
                Expect::phone_code_invalid(),
            )
            .await;
            assert_eq!(app.stored_user("alice").await.unwrap(), before, "{context}");
        }
    }
}

e2e_test! {
    async fn phone_number_errcode_matrix() {
        for row in phone_errcode_rows() {
            run_profile_row(PHONE, row).await;
        }
    }
}

e2e_test! {
    async fn phone_number_transport_matrix() {
        for row in transport_rows(PHONE) {
            run_profile_row(PHONE, row).await;
        }
    }
}

e2e_test! {
    async fn access_token_errcode_matrix() {
        for row in stable_token_errcode_rows() {
            run_profile_row(STABLE_TOKEN, row).await;
        }
    }
}

e2e_test! {
    async fn access_token_transport_matrix() {
        for row in transport_rows(STABLE_TOKEN) {
            let row = if row.label == "delay" { snap(row) } else { row };
            run_profile_row(STABLE_TOKEN, row).await;
        }
    }
}

e2e_test! {
    async fn a_stale_token_whose_renewal_fails_answers_the_renewal_error() {
        let app = spawn_app_with(|_| {}).await;
        let token = app.token_for("alice").await;
        // A first profile caches an access token.
        let body = app.profile_body("alice", "13800138000").await;
        check("warm-up", app.profile(&token, &body).await, Expect::ok()).await;
        let before = app.stored_user("alice").await.unwrap();

        app.sim.inject(Fault::errcode(PHONE, 40001)).await;
        app.sim.inject(Fault::errcode(STABLE_TOKEN, -1)).await;
        let body = app.profile_body("alice", "13900139000").await;
        check("renewal busy", app.profile(&token, &body).await, Expect::busy()).await;
        assert_eq!(app.stored_user("alice").await.unwrap(), before);
        assert_eq!(app.sim.requests_to(PHONE).await.len(), 2, "no retry without a token");

        // Nothing half-done is left behind: the same request goes through once WeChat is well.
        check("after", app.profile(&token, &body).await, Expect::ok()).await;
        assert_eq!(app.stored_user("alice").await.unwrap().users_phone, "13900139000");
    }
}
