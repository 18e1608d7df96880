//! Everything the user flows can fail with. The HTTP layer maps each onto a status.

use crate::auth::TokenError;
use crate::store::StoreError;
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
    Store(#[from] StoreError),
}
