//! code2session and the phone-number exchange.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret as _;
use serde_json::json;

use super::access_token::AccessTokenCache;
use super::ceiling::{Ceiling, CeilingReached};
use super::transport::{WechatCredentials, send};
use super::wire::{self, Code2SessionBody, PhoneNumberBody};
use super::{WechatError, WechatErrorKind};
use crate::meters;

/// The outcome of `wx.login`: who the user is. (The answer's `session_key` is checked for but
/// not kept: nothing here decrypts user data with it.)
#[derive(Debug, Clone)]
pub struct Session {
    pub openid: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneInfo {
    /// With the country prefix for non-mainland numbers.
    pub phone_number: String,
}

#[derive(Debug, Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    credentials: WechatCredentials,
    tokens: AccessTokenCache,
    ceiling: Arc<Ceiling>,
}

impl WechatClient {
    pub fn new(credentials: WechatCredentials, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .expect("a reqwest client with only timeouts set always builds");
        Self {
            http,
            credentials,
            tokens: AccessTokenCache::default(),
            ceiling: Arc::default(),
        }
    }

    /// At most `per_second` exchanges started per second (0: no ceiling); see [`Self::reserve`].
    pub fn with_max_rps(mut self, per_second: u32) -> Self {
        self.ceiling = Arc::new(Ceiling::new(per_second));
        self
    }

    /// A permit for one exchange (a login, or a phone number with its token refresh), to be
    /// taken before anything is claimed or written for it.
    pub fn reserve(&self) -> Result<(), CeilingReached> {
        self.ceiling.reserve()
    }

    pub fn api_base(&self) -> &str {
        &self.credentials.api_base
    }

    /// Exchanges a `wx.login` code for the user's openid (`GET /sns/jscode2session`).
    #[tracing::instrument(name = "wechat.code2session", skip_all)]
    pub async fn code2session(&self, js_code: &str) -> Result<Session, WechatError> {
        let started = Instant::now();
        let result = self.code2session_call(js_code).await;
        meters::wechat_call("code2session", started, WechatError::outcome_label(&result));
        result
    }

    async fn code2session_call(&self, js_code: &str) -> Result<Session, WechatError> {
        let request = self.http.get(self.url("/sns/jscode2session")).query(&[
            ("appid", self.credentials.appid.as_str()),
            ("secret", self.credentials.secret.expose_secret()),
            ("js_code", js_code),
            ("grant_type", "authorization_code"),
        ]);
        let body: Code2SessionBody = wire::parse(&send(request).await?)?;
        body.status.into_result()?;
        match (body.openid, body.session_key) {
            (Some(openid), Some(_session_key)) if !openid.is_empty() => Ok(Session { openid }),
            _ => Err(WechatError::Malformed(
                "code2session answer has no openid".into(),
            )),
        }
    }

    /// Exchanges a getPhoneNumber code for the phone number. `openid` makes WeChat check that
    /// the code was issued to that user, so one user's code cannot complete another's profile.
    /// A stale access token is replaced and the call retried once, never more.
    #[tracing::instrument(name = "wechat.phone_number", skip_all)]
    pub async fn phone_number(
        &self,
        phone_code: &str,
        openid: &str,
    ) -> Result<PhoneInfo, WechatError> {
        let token = self.tokens.get(&self.http, &self.credentials).await?;
        match self.phone_number_with(&token, phone_code, openid).await {
            Err(err) if err.kind() == WechatErrorKind::StaleToken => {
                tracing::warn!(
                    errcode = err.errcode(),
                    "access token rejected; refreshing it and retrying once"
                );
                let fresh = self
                    .tokens
                    .replace_stale(&self.http, &self.credentials, &token)
                    .await?;
                self.phone_number_with(&fresh, phone_code, openid).await
            }
            other => other,
        }
    }

    async fn phone_number_with(
        &self,
        access_token: &str,
        phone_code: &str,
        openid: &str,
    ) -> Result<PhoneInfo, WechatError> {
        let started = Instant::now();
        let result = self
            .phone_number_call(access_token, phone_code, openid)
            .await;
        meters::wechat_call(
            "getuserphonenumber",
            started,
            WechatError::outcome_label(&result),
        );
        result
    }

    async fn phone_number_call(
        &self,
        access_token: &str,
        phone_code: &str,
        openid: &str,
    ) -> Result<PhoneInfo, WechatError> {
        let request = self
            .http
            .post(self.url("/wxa/business/getuserphonenumber"))
            .query(&[("access_token", access_token)])
            .json(&json!({ "code": phone_code, "openid": openid }));
        let body: PhoneNumberBody = wire::parse(&send(request).await?)?;
        body.status.into_result()?;
        let info = body
            .phone_info
            .ok_or_else(|| WechatError::Malformed("phone answer has no phone_info".into()))?;
        match (info.phone_number, info.pure_phone_number) {
            (Some(phone_number), Some(pure)) if !pure.is_empty() => {
                // An empty `phoneNumber` beside the pure one would store no phone and leave a
                // complete profile a guest: rebuild it the way WeChat writes it.
                let country_code = info.country_code.unwrap_or_else(|| "86".into());
                let phone_number = match phone_number.is_empty() {
                    false => phone_number,
                    true if country_code == "86" => pure,
                    true => format!("+{country_code}{pure}"),
                };
                Ok(PhoneInfo { phone_number })
            }
            _ => Err(WechatError::Malformed("phone_info lacks the number".into())),
        }
    }

    fn url(&self, path: &str) -> String {
        self.credentials.url(path)
    }
}
