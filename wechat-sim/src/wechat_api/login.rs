//! `GET /sns/jscode2session`.

use serde::Serialize;

use super::{Call, fault_code};
use crate::state::Window;
use crate::wire::{Reply, TEXT_PLAIN, WxError, WxResult};

#[derive(Serialize)]
struct Session {
    session_key: String,
    openid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    unionid: Option<String>,
}

/// Checks an appid/secret pair: unknown app → 40013, wrong secret → 40125.
pub fn authenticate(state: &crate::state::State, appid: &str, secret: &str) -> Result<(), WxError> {
    let app = state.directory.app(appid).ok_or(WxError(40013))?;
    if app.secret != secret {
        return Err(WxError(40125));
    }
    Ok(())
}

pub fn code2session(call: &Call) -> WxResult {
    // Parameters come from the query string only (a form body gives 41002 at WeChat too);
    // extra ones such as WxJava's access_token are ignored.
    let appid = call.query("appid").ok_or(WxError(41002))?;
    let secret = call.query("secret").ok_or(WxError(41004))?;
    let js_code = call.query("js_code").ok_or(WxError(41008))?;
    if call
        .query("grant_type")
        .is_some_and(|g| g != "authorization_code")
    {
        return Err(WxError(40002));
    }
    let limits = &call.sim.config.limits;
    let now = call.now_ms;
    let mut state = call.sim.state();
    authenticate(&state, appid, secret)?;
    fault_code(call, js_code)?;

    let dev_user = js_code
        .strip_prefix("dev:")
        .filter(|user| !user.is_empty() && !call.strict());
    let user = match dev_user {
        Some(user) => user.to_owned(),
        None => state
            .codes
            .peek_login(js_code, appid, now)
            .map_err(WxError)?,
    };
    // Quotas are checked before the code is used up, so a client may retry with it.
    let per_user = format!("code2session|{appid}|{user}");
    if !state.quotas.hit(
        &per_user,
        Window::Minute,
        limits.code2session_per_user_per_minute,
        now,
    ) {
        return Err(WxError(45011));
    }
    let per_app = format!("code2session|{appid}");
    if !state.quotas.hit(
        &per_app,
        Window::Day,
        limits.code2session_per_app_per_day,
        now,
    ) {
        return Err(WxError(45009));
    }
    if dev_user.is_none() {
        state.codes.consume_login(js_code);
    }
    if state.directory.user(&user).blocked {
        return Err(WxError(40226));
    }
    let (openid, unionid) = state.directory.identity(appid, &user);
    let session_key = state.directory.rotate_session(appid, &user);
    Ok(Reply::json(
        &Session {
            session_key,
            openid,
            unionid,
        },
        TEXT_PLAIN,
    ))
}
