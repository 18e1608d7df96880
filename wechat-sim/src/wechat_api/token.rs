//! `GET /cgi-bin/token` and `POST /cgi-bin/stable_token`.

use serde::Serialize;
use serde_json::Value;

use super::login::authenticate;
use super::{Call, field};
use crate::state::Window;
use crate::wire::{JSON_ENCODING_UTF8, Reply, WxError, WxResult};

#[derive(Serialize)]
struct AccessToken {
    access_token: String,
    expires_in: u64,
}

fn answer((access_token, expires_in): (String, u64)) -> Reply {
    Reply::json(
        &AccessToken {
            access_token,
            expires_in,
        },
        JSON_ENCODING_UTF8,
    )
}

pub fn token(call: &Call) -> WxResult {
    if call.query("grant_type") != Some("client_credential") {
        return Err(WxError(40002));
    }
    let appid = call.query("appid").ok_or(WxError(41002))?;
    let secret = call.query("secret").ok_or(WxError(41004))?;
    let now = call.now_ms;
    let mut state = call.sim.state();
    authenticate(&state, appid, secret)?;
    let key = format!("token|{appid}");
    let limit = call.sim.config.limits.token_per_day;
    if !state.quotas.hit(&key, Window::Day, limit, now) {
        return Err(WxError(45009));
    }
    Ok(answer(state.tokens.issue_normal(appid, now)))
}

/// `force_refresh` as a bool, or as the string some SDKs (open-wechat) send.
fn force_refresh(value: Option<&Value>) -> Result<bool, WxError> {
    match value {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" => Ok(true),
        Some(Value::String(s)) if s == "false" || s.is_empty() => Ok(false),
        Some(_) => Err(WxError(47001)),
    }
}

pub fn stable_token(call: &Call) -> WxResult {
    call.require_post()?;
    let body = match call.json_body() {
        // WeChat reads only JSON here; a form body reads as "no grant_type".
        Err(WxError(47001)) if call.is_form_body() => return Err(WxError(40002)),
        other => other?,
    };
    if field(&body, "grant_type") != Some("client_credential") {
        return Err(WxError(40002));
    }
    let appid = field(&body, "appid").ok_or(WxError(41002))?;
    let secret = field(&body, "secret").ok_or(WxError(41004))?;
    let force = force_refresh(body.get("force_refresh"))?;
    let limits = &call.sim.config.limits;
    let now = call.now_ms;
    let mut state = call.sim.state();
    authenticate(&state, appid, secret)?;
    let key = format!("stable_token|{appid}");
    if !state
        .quotas
        .hit(&key, Window::Minute, limits.stable_token_per_minute, now)
    {
        return Err(WxError(45011));
    }
    if !state
        .quotas
        .hit(&key, Window::Day, limits.stable_token_per_day, now)
    {
        return Err(WxError(45009));
    }
    if !force {
        return Ok(answer(state.tokens.stable(appid, now)));
    }
    let min_interval_ms = limits.force_refresh_min_interval_secs * 1000;
    let too_soon = state
        .tokens
        .last_force_ms(appid)
        .is_some_and(|last| now < last + min_interval_ms);
    if too_soon {
        // "Otherwise it won't refresh": the current token, not an error.
        return Ok(answer(state.tokens.stable(appid, now)));
    }
    let force_key = format!("force_refresh|{appid}");
    if !state
        .quotas
        .hit(&force_key, Window::Day, limits.force_refresh_per_day, now)
    {
        return Err(WxError(45009));
    }
    Ok(answer(state.tokens.force_stable(appid, now)))
}
