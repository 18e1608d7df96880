//! `POST /wxa/business/getuserphonenumber?access_token=`.

use serde::Serialize;

use super::{Call, fault_code, field};
use crate::state::Window;
use crate::wire::{JSON_UTF8, Ok as WxOk, Reply, WxError, WxResult};

#[derive(Serialize)]
struct PhoneAnswer {
    phone_info: PhoneInfo,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhoneInfo {
    phone_number: String,
    pure_phone_number: String,
    /// A string, as real WeChat sends it (the doc example's number 86 is wrong).
    country_code: String,
    watermark: Watermark,
}

#[derive(Serialize)]
struct Watermark {
    timestamp: u64,
    appid: String,
}

/// The number a `dev-phone:<digits>` code stands for, if it is one.
fn dev_phone<'c>(call: &Call, code: &'c str) -> Option<Result<&'c str, WxError>> {
    if call.strict() {
        return None;
    }
    let digits = code.strip_prefix("dev-phone:")?;
    let valid = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    Some(if valid {
        Ok(digits)
    } else {
        Err(WxError(40029))
    })
}

pub fn get_phone_number(call: &Call) -> WxResult {
    call.require_post()?;
    let token = call.query("access_token").ok_or(WxError(41001))?;
    let now = call.now_ms;
    let mut state = call.sim.state();
    let appid = state.tokens.check(token, now).map_err(WxError)?;
    let body = call.json_body()?;
    let code = field(&body, "code").ok_or(WxError(41008))?;
    fault_code(call, code)?;
    let limit = call.sim.config.limits.phone_number_per_minute;
    if !state
        .quotas
        .hit(&format!("phone|{appid}"), Window::Minute, limit, now)
    {
        return Err(WxError(45011));
    }

    let (phone, country_code, tapped_at_ms) = match dev_phone(call, code) {
        Some(digits) => (digits?.to_owned(), "86".to_owned(), now),
        None => {
            let rec = state.codes.peek_phone(code, &appid, now).map_err(WxError)?;
            // The optional openid must be the one of the user who tapped the button.
            if let Some(openid) = field(&body, "openid")
                && state.directory.user_by_openid(&appid, openid) != Some(rec.user.as_str())
            {
                return Err(WxError(40029));
            }
            state.codes.consume_phone(code);
            let tapped = if rec.tapped_at_ms == 0 {
                now
            } else {
                rec.tapped_at_ms
            };
            (rec.phone, rec.country_code, tapped)
        }
    };
    let phone_number = if country_code == "86" {
        phone.clone()
    } else {
        format!("+{country_code}{phone}")
    };
    let answer = PhoneAnswer {
        phone_info: PhoneInfo {
            phone_number,
            pure_phone_number: phone,
            country_code,
            watermark: Watermark {
                timestamp: tapped_at_ms / 1000,
                appid,
            },
        },
    };
    Ok(Reply::json(&WxOk::new(answer), JSON_UTF8).with_errcode(0))
}
