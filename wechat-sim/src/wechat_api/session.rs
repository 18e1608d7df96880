//! `GET /wxa/checksession` and `GET /wxa/resetusersessionkey`.

use serde::Serialize;

use super::Call;
use crate::ids;
use crate::state::{State, Window};
use crate::wire::{JSON_UTF8, Ok as WxOk, Reply, WxError, WxResult};

#[derive(Serialize)]
struct Nothing {}

#[derive(Serialize)]
struct NewKey {
    openid: String,
    session_key: String,
}

/// Checks token and signature; returns (appid, user, openid) of a verified session.
fn verify(call: &Call, state: &State) -> Result<(String, String, String), WxError> {
    let token = call.query("access_token").ok_or(WxError(41001))?;
    let appid = state.tokens.check(token, call.now_ms).map_err(WxError)?;
    let openid = call.query("openid").ok_or(WxError(41009))?;
    if call.query("sig_method") != Some("hmac_sha256") {
        return Err(WxError(87008));
    }
    let signature = call.query("signature").ok_or(WxError(87009))?;
    let user = state
        .directory
        .user_by_openid(&appid, openid)
        .ok_or(WxError(40003))?;
    let key = state
        .directory
        .session(&appid, user)
        .ok_or(WxError(87007))?;
    if !signature.eq_ignore_ascii_case(&ids::session_signature(key)) {
        return Err(WxError(87009));
    }
    Ok((appid, user.to_owned(), openid.to_owned()))
}

pub fn check(call: &Call) -> WxResult {
    let state = call.sim.state();
    verify(call, &state)?;
    Ok(Reply::json(&WxOk::new(Nothing {}), JSON_UTF8).with_errcode(0))
}

pub fn reset(call: &Call) -> WxResult {
    let mut state = call.sim.state();
    let (appid, user, openid) = verify(call, &state)?;
    let limit = call.sim.config.limits.reset_session_key_per_minute;
    if !state.quotas.hit(
        &format!("reset|{appid}"),
        Window::Minute,
        limit,
        call.now_ms,
    ) {
        return Err(WxError(45011));
    }
    let session_key = state.directory.rotate_session(&appid, &user);
    Ok(Reply::json(
        &WxOk::new(NewKey {
            openid,
            session_key,
        }),
        JSON_UTF8,
    )
    .with_errcode(0))
}
