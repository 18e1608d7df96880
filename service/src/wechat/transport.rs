//! What every WeChat call shares: the credentials, and sending a request and reading its body.

use super::WechatError;
use crate::config::Secret;

/// Largest WeChat answer we read; real ones are a few hundred bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct WechatCredentials {
    pub api_base: String,
    pub appid: String,
    pub secret: Secret,
}

impl WechatCredentials {
    /// `path` on the configured API base.
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{}", self.api_base.trim_end_matches('/'), path)
    }
}

/// Sends the request and reads the body, whatever its Content-Type (code2session says
/// `text/plain`). WeChat answers 200 even for errors, so any other status is a failure.
pub(super) async fn send(request: reqwest::RequestBuilder) -> Result<Vec<u8>, WechatError> {
    let mut response = request.send().await.map_err(WechatError::from_reqwest)?;
    let status = response.status();
    if !status.is_success() {
        return Err(WechatError::HttpStatus(status.as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(WechatError::from_reqwest)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(WechatError::Malformed("answer too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
