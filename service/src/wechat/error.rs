//! What can go wrong in a WeChat call, classified the way the service must react to it.

/// errcodes after which a fresh access token and one retry may succeed.
pub(crate) const STALE_TOKEN_ERRCODES: [i64; 3] = [40001, 40014, 42001];
/// WeChat is busy; retry later.
pub const ERRCODE_BUSY: i64 = -1;
/// Per-minute rate limit.
pub const ERRCODE_RATE_LIMITED: i64 = 45011;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WechatError {
    /// WeChat answered with a non-zero `errcode`.
    #[error("wechat answered errcode {errcode}: {errmsg}")]
    Rejected { errcode: i64, errmsg: String },
    #[error("wechat did not answer in time")]
    Timeout,
    #[error("wechat is unreachable: {0}")]
    Unreachable(String),
    #[error("wechat answered something unreadable: {0}")]
    Malformed(String),
    #[error("wechat answered HTTP {0}")]
    HttpStatus(u16),
}

impl WechatError {
    pub fn errcode(&self) -> Option<i64> {
        match self {
            WechatError::Rejected { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    /// Failures that say nothing about the request itself: trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            WechatError::Rejected { errcode, .. } => {
                *errcode == ERRCODE_BUSY || *errcode == ERRCODE_RATE_LIMITED
            }
            WechatError::Timeout | WechatError::Unreachable(_) | WechatError::HttpStatus(_) => true,
            WechatError::Malformed(_) => true,
        }
    }

    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        // Never keep the URL: its query carries the app secret, the code or the access token.
        let err = err.without_url();
        if err.is_timeout() {
            WechatError::Timeout
        } else if err.is_decode() || err.is_body() {
            WechatError::Malformed(err.to_string())
        } else {
            WechatError::Unreachable(err.to_string())
        }
    }
}
