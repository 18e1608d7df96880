//! Login codes (`wx.login`) and phone codes (getPhoneNumber button): single-use, 5 minutes.

use std::collections::HashMap;

use super::FIVE_MINUTES_MS;
use crate::config::SimConfig;
use crate::ids;

#[derive(Clone, Debug)]
struct LoginCodeRec {
    appid: String,
    user: String,
    /// None for fixed seed codes, which never expire and stay reusable.
    expires_at_ms: Option<u64>,
    used: bool,
}

#[derive(Clone, Debug)]
pub struct PhoneCodeRec {
    pub appid: String,
    pub user: String,
    pub phone: String,
    pub country_code: String,
    /// When the user tapped the button: the watermark timestamp.
    pub tapped_at_ms: u64,
    expires_at_ms: Option<u64>,
    used: bool,
}

#[derive(Default)]
pub struct Codes {
    login: HashMap<String, LoginCodeRec>,
    phone: HashMap<String, PhoneCodeRec>,
}

impl Codes {
    pub fn new(config: &SimConfig, first_appid: String) -> Self {
        let mut codes = Self::default();
        for fixed in &config.login_codes {
            codes.login.insert(
                fixed.code.clone(),
                LoginCodeRec {
                    appid: fixed.appid.clone().unwrap_or_else(|| first_appid.clone()),
                    user: fixed.user.clone(),
                    expires_at_ms: None,
                    used: false,
                },
            );
        }
        for fixed in &config.phone_codes {
            codes.phone.insert(
                fixed.code.clone(),
                PhoneCodeRec {
                    appid: fixed.appid.clone().unwrap_or_else(|| first_appid.clone()),
                    user: fixed.user.clone(),
                    phone: fixed.phone.clone(),
                    country_code: fixed.country_code.clone().unwrap_or_else(|| "86".into()),
                    tapped_at_ms: 0,
                    expires_at_ms: None,
                    used: false,
                },
            );
        }
        codes
    }

    pub fn mint_login(&mut self, appid: &str, user: &str, now_ms: u64) -> String {
        // Expired codes can only ever answer 40029, which an unknown code answers too.
        self.login
            .retain(|_, rec| rec.expires_at_ms.is_none_or(|exp| exp > now_ms));
        let code = ids::login_code();
        self.login.insert(
            code.clone(),
            LoginCodeRec {
                appid: appid.to_owned(),
                user: user.to_owned(),
                expires_at_ms: Some(now_ms + FIVE_MINUTES_MS),
                used: false,
            },
        );
        code
    }

    /// The user a login code belongs to, without consuming it: unknown, expired or another
    /// app's code → 40029; an already used one → 40163.
    pub fn peek_login(&self, code: &str, appid: &str, now_ms: u64) -> Result<String, i64> {
        let rec = self.login.get(code).ok_or(40029)?;
        if rec.appid != appid || rec.expires_at_ms.is_some_and(|exp| now_ms >= exp) {
            return Err(40029);
        }
        if rec.used {
            return Err(40163);
        }
        Ok(rec.user.clone())
    }

    pub fn consume_login(&mut self, code: &str) {
        if let Some(rec) = self.login.get_mut(code)
            && rec.expires_at_ms.is_some()
        {
            rec.used = true;
        }
    }

    pub fn mint_phone(
        &mut self,
        appid: &str,
        user: &str,
        phone: &str,
        country_code: &str,
        now_ms: u64,
    ) -> String {
        self.phone
            .retain(|_, rec| rec.expires_at_ms.is_none_or(|exp| exp > now_ms));
        let code = ids::phone_code();
        self.phone.insert(
            code.clone(),
            PhoneCodeRec {
                appid: appid.to_owned(),
                user: user.to_owned(),
                phone: phone.to_owned(),
                country_code: country_code.to_owned(),
                tapped_at_ms: now_ms,
                expires_at_ms: Some(now_ms + FIVE_MINUTES_MS),
                used: false,
            },
        );
        code
    }

    /// A phone code's record, without consuming it. Unknown, expired or used → 40029 (never
    /// 40163 for phone codes); a code of another app than the access token's → 40013.
    pub fn peek_phone(&self, code: &str, appid: &str, now_ms: u64) -> Result<PhoneCodeRec, i64> {
        let rec = self.phone.get(code).ok_or(40029)?;
        if rec.used || rec.expires_at_ms.is_some_and(|exp| now_ms >= exp) {
            return Err(40029);
        }
        if rec.appid != appid {
            return Err(40013);
        }
        Ok(rec.clone())
    }

    pub fn consume_phone(&mut self, code: &str) {
        if let Some(rec) = self.phone.get_mut(code)
            && rec.expires_at_ms.is_some()
        {
            rec.used = true;
        }
    }
}
