//! `POST /wxa/msg_sec_check?access_token=`: text content security, version 2 (and the old
//! version 1 answer when `version` is absent or 1).

use serde::Serialize;
use serde_json::Value;

use super::{Call, field};
use crate::state::Window;
use crate::wire::{JSON_UTF8, Ok as WxOk, Reply, WxError, WxResult};

/// Longest content WeChat checks (2500 characters).
const MAX_CONTENT_CHARS: usize = 2500;

#[derive(Serialize)]
struct Verdict {
    suggest: String,
    label: u32,
}

#[derive(Serialize)]
struct Detail {
    strategy: &'static str,
    errcode: i64,
    suggest: String,
    label: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    prob: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keyword: Option<String>,
}

#[derive(Serialize)]
struct V2Answer {
    detail: Vec<Detail>,
    trace_id: String,
    result: Verdict,
}

#[derive(Serialize)]
struct Nothing {}

/// `version` may come as a number or a string; anything else is not version 2.
fn version(body: &serde_json::Map<String, Value>) -> Option<i64> {
    match body.get("version")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub fn msg_sec_check(call: &Call) -> WxResult {
    call.require_post()?;
    let token = call.query("access_token").ok_or(WxError(41001))?;
    let mut state = call.sim.state();
    let appid = state.tokens.check(token, call.now_ms).map_err(WxError)?;
    let limit = call.sim.config.limits.msg_sec_check_per_minute;
    if !state.quotas.hit(
        &format!("msgsec|{appid}"),
        Window::Minute,
        limit,
        call.now_ms,
    ) {
        return Err(WxError(45011));
    }
    let body = call.json_body()?;
    let content = field(&body, "content").ok_or(WxError(44004))?;
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(WxError(47001));
    }
    let verdict = state.messaging.judge(content).cloned();

    match version(&body) {
        Some(2) => {}
        // Version 1: no verdict in the body, risky content is an error.
        None | Some(1) => {
            return match verdict {
                Some(_) => Err(WxError(87014)),
                None => Ok(Reply::json(&WxOk::new(Nothing {}), JSON_UTF8).with_errcode(0)),
            };
        }
        Some(_) => return Err(WxError(47001)),
    }
    let scene = body.get("scene").and_then(Value::as_i64);
    if !matches!(scene, Some(1..=4)) {
        return Err(WxError(40129));
    }
    let openid = field(&body, "openid").ok_or(WxError(41009))?;
    let user = state
        .directory
        .user_by_openid(&appid, openid)
        .ok_or(WxError(40003))?;
    // WeChat only checks for users who opened the mini-program lately; here: who logged in.
    if state.directory.session(&appid, user).is_none() {
        return Err(WxError(61010));
    }

    let model = Detail {
        strategy: "content_model",
        errcode: 0,
        suggest: verdict
            .as_ref()
            .map_or_else(|| "pass".to_owned(), |r| r.suggest.clone()),
        label: verdict.as_ref().map_or(100, |r| r.label),
        prob: Some(90),
        level: None,
        keyword: None,
    };
    let mut detail = vec![model];
    if let Some(rule) = &verdict {
        detail.push(Detail {
            strategy: "keyword",
            errcode: 0,
            suggest: rule.suggest.clone(),
            label: rule.label,
            prob: None,
            level: Some(20),
            keyword: Some(rule.pattern.clone()),
        });
    }
    let answer = V2Answer {
        detail,
        trace_id: crate::ids::trace_id(call.now_ms),
        result: Verdict {
            suggest: verdict
                .as_ref()
                .map_or_else(|| "pass".to_owned(), |r| r.suggest.clone()),
            label: verdict.as_ref().map_or(100, |r| r.label),
        },
    };
    Ok(Reply::json(&WxOk::new(answer), JSON_UTF8).with_errcode(0))
}
