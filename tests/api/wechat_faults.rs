//! The WeChat fault matrix: every errcode the three upstream endpoints can answer (wechat-api.md
//! §1.4) and every transport failure, injected through the simulator, against the status the
//! README's mapping table documents; that a failed WeChat call writes nothing; and that the 429
//! guard on a login code is released exactly when the failure was transient.
//!
//! Each row runs on an app of its own, so that no access token is cached and no code is
//! claimed by an earlier row.
//!
//! This module holds what the rows have in common; `login` and `profile` hold the rows of
//! each endpoint and the tests that run them.

mod login;
mod profile;

use serde_json::Value;
use wechat_sim::Fault;

use crate::helpers::{TestApp, assert_response_snapshot, snapshot, spawn_app_with};

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

/// Snapshots a row's answer as `wechat_faults__<name>`, whichever submodule the row is in:
/// the names `snapshot_contract.rs` maps to routes.
fn assert_row_snapshot(name: String, answer: &Value) {
    assert_response_snapshot!(name, answer);
}
