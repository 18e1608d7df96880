//! Everything the user flows can fail with. The HTTP layer maps each onto a status.

use crate::auth::TokenError;
use crate::store::{FaultKind, StoreError};
use crate::wechat::{CeilingReached, WechatError};

use super::FieldError;

/// Which WeChat exchange failed, so the client is told which code to fetch again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WechatStep {
    Login,
    PhoneNumber,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("invalid field: {0}")]
    InvalidField(#[from] FieldError),
    #[error("the same login code is already being processed")]
    CodeInFlight { retry_after_secs: u64 },
    #[error("token rejected: {0}")]
    Unauthorized(#[from] TokenError),
    #[error("the token's user record has no openid")]
    MissingOpenid,
    #[error("the token's user no longer exists")]
    UserGone,
    #[error("wechat {step:?} failed: {source}")]
    Wechat {
        step: WechatStep,
        #[source]
        source: WechatError,
    },
    /// The replica's ceiling on WeChat calls (`BAI_WECHAT_MAX_RPS`) is reached.
    #[error(transparent)]
    WechatCeiling(#[from] CeilingReached),
    #[error(transparent)]
    Store(StorageFault),
}

impl From<StoreError> for UserError {
    fn from(err: StoreError) -> Self {
        UserError::Store(StorageFault(err))
    }
}

/// A failed database call, as the caller needs to see it: unavailable storage (a retry later
/// may succeed) or a defect of ours.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StorageFault(StoreError);

impl StorageFault {
    /// The cause class (`disk_full`, `pool_timeout`, ...) when the storage is unavailable;
    /// `None` when the failure is our own bug.
    pub fn unavailable_cause(&self) -> Option<&'static str> {
        match self.0.kind() {
            FaultKind::Unavailable(cause) => Some(cause.as_str()),
            FaultKind::Bug => None,
        }
    }

    /// `write` or `read`, for the log line and the metric.
    pub fn operation(&self) -> &'static str {
        if self.0.is_write() { "write" } else { "read" }
    }
}
