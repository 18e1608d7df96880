//! What can go wrong in a WeChat call, classified once ([`WechatError::kind`]) for every
//! reader: the HTTP status (`api/errors.rs`), the retry rules here and the metric labels.

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

/// The one reading of WeChat's errcodes and transport failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WechatErrorKind {
    /// 40029, 40163: the code is invalid or already used.
    InvalidCode,
    /// 40226: WeChat judged the user risky.
    UserBlocked,
    /// 45011: the per-minute limit.
    RateLimited,
    /// -1: WeChat is busy.
    Busy,
    /// 40001, 40014, 42001: a fresh access token and one retry may succeed.
    StaleToken,
    /// 40013, 41002, 40125: our appid or secret is wrong.
    Misconfigured,
    /// Any other errcode.
    OtherErrcode,
    Timeout,
    Unreachable,
    Malformed,
    HttpStatus,
}

impl WechatErrorKind {
    /// Failures that say nothing about the request itself: trying again later may succeed.
    pub fn is_transient(self) -> bool {
        use WechatErrorKind::*;
        matches!(
            self,
            Busy | RateLimited | Timeout | Unreachable | HttpStatus | Malformed
        )
    }

    /// The metric label: a closed set, so an errcode becomes its class, never its number.
    pub fn metric_label(self) -> &'static str {
        use WechatErrorKind::*;
        match self {
            Busy => "errcode_busy",
            RateLimited => "errcode_rate_limited",
            StaleToken => "errcode_token",
            InvalidCode | UserBlocked => "errcode_request",
            // Its own label, so that wrong credentials can page someone (docs/operations.md).
            Misconfigured => "errcode_config",
            OtherErrcode => "errcode_other",
            Timeout => "timeout",
            Unreachable => "unreachable",
            Malformed => "malformed",
            HttpStatus => "http_status",
        }
    }
}

impl WechatError {
    pub fn kind(&self) -> WechatErrorKind {
        match self {
            WechatError::Rejected { errcode, .. } => match errcode {
                40029 | 40163 => WechatErrorKind::InvalidCode,
                40226 => WechatErrorKind::UserBlocked,
                45011 => WechatErrorKind::RateLimited,
                -1 => WechatErrorKind::Busy,
                40001 | 40014 | 42001 => WechatErrorKind::StaleToken,
                40013 | 41002 | 40125 => WechatErrorKind::Misconfigured,
                _ => WechatErrorKind::OtherErrcode,
            },
            WechatError::Timeout => WechatErrorKind::Timeout,
            WechatError::Unreachable(_) => WechatErrorKind::Unreachable,
            WechatError::Malformed(_) => WechatErrorKind::Malformed,
            WechatError::HttpStatus(_) => WechatErrorKind::HttpStatus,
        }
    }

    /// WeChat's own number, passed on to the client in the error's `data`.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            WechatError::Rejected { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.kind().is_transient()
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

    /// The outcome label of a call's result.
    pub(crate) fn outcome_label<T>(result: &Result<T, WechatError>) -> &'static str {
        result
            .as_ref()
            .map_or_else(|err| err.kind().metric_label(), |_| "ok")
    }
}
