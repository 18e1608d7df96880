//! `POST /cgi-bin/message/subscribe/send?access_token=`: one subscribe message to a user who
//! accepted the template (each acceptance allows one send).

use serde::Serialize;
use serde_json::Value;

use super::{Call, field};
use crate::state::Message;
use crate::wire::{JSON_ENCODING_UTF8, Ok as WxOk, Reply, WxError, WxResult};

#[derive(Serialize)]
struct Sent {
    msgid: u64,
}

/// WeChat's per-type value rules for the keywords we can tell apart by name.
fn value_ok(keyword: &str, value: &str) -> bool {
    let chars = value.chars().count();
    if keyword.starts_with("thing") {
        chars <= 20
    } else if keyword.starts_with("number") {
        chars <= 32 && value.chars().all(|c| c.is_ascii_digit() || c == '.')
    } else if keyword.starts_with("phrase") {
        chars <= 5
    } else if keyword.starts_with("character_string") {
        chars <= 32
    } else if keyword.starts_with("name") {
        chars <= 10
    } else {
        chars <= 200
    }
}

/// `data` must be `{keyword: {"value": "…"}}` with keywords of the template and valid values.
fn data_ok(data: Option<&Value>, keywords: &[String]) -> bool {
    let Some(Value::Object(data)) = data else {
        return false;
    };
    !data.is_empty()
        && data.iter().all(|(keyword, entry)| {
            let value = entry.get("value").and_then(Value::as_str);
            keywords.contains(keyword)
                && value.is_some_and(|v| !v.is_empty() && value_ok(keyword, v))
        })
}

pub fn send(call: &Call) -> WxResult {
    call.require_post()?;
    let token = call.query("access_token").ok_or(WxError(41001))?;
    let mut state = call.sim.state();
    let appid = state.tokens.check(token, call.now_ms).map_err(WxError)?;
    let body = call.json_body()?;
    let touser = field(&body, "touser").ok_or(WxError(40003))?;
    let user = state
        .directory
        .user_by_openid(&appid, touser)
        .ok_or(WxError(40003))?
        .to_owned();
    let template_id = field(&body, "template_id").ok_or(WxError(40037))?;
    let keywords = state
        .messaging
        .keywords(&appid, template_id)
        .ok_or(WxError(40037))?;
    if !data_ok(body.get("data"), keywords) {
        return Err(WxError(47003));
    }
    let miniprogram_state = field(&body, "miniprogram_state").unwrap_or("formal");
    if !matches!(miniprogram_state, "developer" | "trial" | "formal") {
        return Err(WxError(47003));
    }
    if !state.messaging.take_grant(&appid, &user, template_id) {
        return Err(WxError(43101));
    }
    let message = Message {
        msgid: 0,
        appid,
        user,
        touser: touser.to_owned(),
        template_id: template_id.to_owned(),
        page: field(&body, "page").map(str::to_owned),
        data: body.get("data").cloned().unwrap_or(Value::Null),
        miniprogram_state: miniprogram_state.to_owned(),
        lang: field(&body, "lang").unwrap_or("zh_CN").to_owned(),
        at: call.now_ms,
    };
    let msgid = state.messaging.deliver(message);
    Ok(Reply::json(&WxOk::new(Sent { msgid }), JSON_ENCODING_UTF8).with_errcode(0))
}
