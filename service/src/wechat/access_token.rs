//! The access-token cache: a stable token (`POST /cgi-bin/stable_token`, idempotent across
//! replicas, unlike `cgi-bin/token`), renewed five minutes before expiry, with one refresh
//! in flight at a time (the mutex is held across the fetch, so concurrent callers wait for it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret as _;
use serde_json::json;
use tokio::sync::Mutex;

use super::WechatError;
use super::transport::{WechatCredentials, send};
use super::wire::{self, AccessTokenBody};
use crate::meters;

const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Default)]
pub(crate) struct AccessTokenCache {
    current: Arc<Mutex<Option<CachedToken>>>,
}

#[derive(Debug, Clone)]
struct CachedToken {
    value: String,
    renew_at: Instant,
}

impl AccessTokenCache {
    pub async fn get(
        &self,
        http: &reqwest::Client,
        creds: &WechatCredentials,
    ) -> Result<String, WechatError> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let token = fetch(http, creds, false).await;
        meters::token_refresh("expired", token.is_ok());
        let token = token?;
        let value = token.value.clone();
        *current = Some(token);
        Ok(value)
    }

    /// Called after WeChat rejected `stale`. If another task already replaced it, that token
    /// is used; otherwise the stable token is fetched again, and force-refreshed only if
    /// WeChat hands back the very token it just rejected.
    pub async fn replace_stale(
        &self,
        http: &reqwest::Client,
        creds: &WechatCredentials,
        stale: &str,
    ) -> Result<String, WechatError> {
        let mut current = self.current.lock().await;
        if let Some(token) = current
            .as_ref()
            .filter(|t| t.value != stale && Instant::now() < t.renew_at)
        {
            return Ok(token.value.clone());
        }
        let token = fetch(http, creds, false).await;
        meters::token_refresh("stale", token.is_ok());
        let mut token = token?;
        if token.value == stale {
            let forced = fetch(http, creds, true).await;
            meters::token_refresh("force", forced.is_ok());
            token = forced?;
        }
        let value = token.value.clone();
        *current = Some(token);
        Ok(value)
    }
}

async fn fetch(
    http: &reqwest::Client,
    creds: &WechatCredentials,
    force_refresh: bool,
) -> Result<CachedToken, WechatError> {
    let request = http.post(creds.url("/cgi-bin/stable_token")).json(&json!({
        "grant_type": "client_credential",
        "appid": creds.appid,
        "secret": creds.secret.expose_secret(),
        "force_refresh": force_refresh,
    }));
    let started = Instant::now();
    let result = send(request).await;
    let body = result.and_then(|bytes| {
        let body: AccessTokenBody = wire::parse(&bytes)?;
        body.status.clone().into_result()?;
        Ok(body)
    });
    meters::wechat_call("stable_token", started, WechatError::outcome_label(&body));
    let body = body?;
    let value = body
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| WechatError::Malformed("token answer has no access_token".into()))?;
    let expires_in = Duration::from_secs(body.expires_in.unwrap_or(7200).max(0) as u64);
    let renew_at = Instant::now() + expires_in.saturating_sub(RENEW_BEFORE_EXPIRY);
    tracing::debug!(
        expires_in = expires_in.as_secs(),
        force_refresh,
        "fetched a WeChat access token"
    );
    Ok(CachedToken { value, renew_at })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{AccessTokenCache, CachedToken};
    use crate::wechat::WechatError;
    use crate::wechat::transport::WechatCredentials;

    /// Nothing listens on port 9 (discard) here: any call to WeChat fails as unreachable.
    fn nowhere() -> WechatCredentials {
        WechatCredentials {
            api_base: "http://127.0.0.1:9".to_owned(),
            appid: "wx-test".to_owned(),
            secret: "secret".to_owned().into(),
        }
    }

    fn cache_holding(value: &str, renew_in: Duration) -> AccessTokenCache {
        let cache = AccessTokenCache::default();
        *cache.current.try_lock().unwrap() = Some(CachedToken {
            value: value.to_owned(),
            renew_at: Instant::now() + renew_in,
        });
        cache
    }

    /// Two requests rejected with the same stale token: the second finds the first's
    /// replacement in the cache and uses it, without asking WeChat again.
    #[tokio::test]
    async fn a_stale_token_already_replaced_is_answered_from_the_cache() {
        let cache = cache_holding("fresh", Duration::from_secs(600));
        let http = reqwest::Client::new();
        let token = cache.replace_stale(&http, &nowhere(), "stale").await;
        assert_eq!(token.unwrap(), "fresh");
    }

    /// The replacement in the cache is due for renewal itself: it is fetched again.
    #[tokio::test]
    async fn a_replacement_due_for_renewal_is_fetched_again() {
        let cache = cache_holding("fresh", Duration::ZERO);
        let http = reqwest::Client::new();
        let token = cache.replace_stale(&http, &nowhere(), "stale").await;
        assert!(
            matches!(token, Err(WechatError::Unreachable(_))),
            "{token:?}"
        );
    }
}
