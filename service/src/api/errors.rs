//! Domain errors → HTTP: the single table of which failure answers which status.

use poem::http::StatusCode;

use super::envelope::{ApiError, msg};
use crate::meters;
use crate::users::fields::{USERS_PHONE_CODE, USERS_WX_CODE};
use crate::users::{StorageFault, UserError, WechatStep};
use crate::wechat::{WechatError, WechatErrorKind};

/// How long a client should wait after WeChat said it is busy.
const WECHAT_BUSY_RETRY_AFTER_SECS: u64 = 1;
/// WeChat's per-minute limit resets within a minute.
const WECHAT_RATE_LIMIT_RETRY_AFTER_SECS: u64 = 60;
/// After a storage fault: about what a PostgreSQL restart or failover, a competing SQLite
/// writer (the busy timeout is 5 s) or a pool drained by an outage takes to clear. Sooner
/// only adds load to a database that is recovering; a full disk needs an operator anyway.
pub const STORAGE_RETRY_AFTER_SECS: u64 = 5;

impl From<UserError> for ApiError {
    fn from(err: UserError) -> Self {
        match err {
            UserError::InvalidField(field) => ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{}：{} {}", msg::BAD_REQUEST, field.field, field.reason),
            )
            .with_data("field", field.field)
            .with_data("reason", field.reason),
            UserError::CodeInFlight { retry_after_secs } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, msg::TOO_MANY_REQUESTS)
                    .with_retry_after(retry_after_secs)
            }
            UserError::Unauthorized(_) => {
                ApiError::new(StatusCode::UNAUTHORIZED, msg::UNAUTHORIZED)
            }
            UserError::MissingOpenid => {
                ApiError::new(StatusCode::UNAUTHORIZED, msg::MISSING_OPENID)
            }
            UserError::UserGone => ApiError::new(StatusCode::NOT_FOUND, msg::USER_GONE),
            UserError::Wechat { step, source } => from_wechat(step, &source),
            UserError::WechatCeiling(over) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, msg::WECHAT_CEILING)
                    .with_retry_after(over.retry_after_secs)
            }
            UserError::Store(err) => from_store(&err),
        }
    }
}

/// The one place a failed database call is logged: once per request, inside its span (so
/// with its request id), with the cause class and the database's message, never the data.
fn from_store(err: &StorageFault) -> ApiError {
    let operation = err.operation();
    match err.unavailable_cause() {
        Some(cause) => {
            meters::db_error(cause, operation);
            tracing::error!(cause, operation, error = %err, "database unavailable");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, msg::STORAGE_UNAVAILABLE)
                .with_retry_after(STORAGE_RETRY_AFTER_SECS)
        }
        None => {
            meters::db_error("bug", operation);
            tracing::error!(error = %err, "database failure");
            ApiError::internal()
        }
    }
}

fn from_wechat(step: WechatStep, err: &WechatError) -> ApiError {
    let api_error = match (err.kind(), step) {
        (WechatErrorKind::InvalidCode, WechatStep::Login) => {
            ApiError::new(StatusCode::BAD_REQUEST, msg::WECHAT_CODE_INVALID)
                .with_data("field", USERS_WX_CODE)
        }
        (WechatErrorKind::InvalidCode, WechatStep::PhoneNumber) => {
            ApiError::new(StatusCode::BAD_REQUEST, msg::WECHAT_PHONE_CODE_INVALID)
                .with_data("field", USERS_PHONE_CODE)
        }
        (WechatErrorKind::UserBlocked, _) => {
            ApiError::new(StatusCode::FORBIDDEN, msg::WECHAT_USER_BLOCKED)
        }
        (WechatErrorKind::RateLimited, _) => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, msg::WECHAT_RATE_LIMITED)
                .with_retry_after(WECHAT_RATE_LIMIT_RETRY_AFTER_SECS)
        }
        (WechatErrorKind::Busy, _) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, msg::WECHAT_BUSY)
                .with_retry_after(WECHAT_BUSY_RETRY_AFTER_SECS)
        }
        (WechatErrorKind::Timeout, _) => {
            ApiError::new(StatusCode::GATEWAY_TIMEOUT, msg::WECHAT_TIMEOUT)
        }
        // Anything else (unreachable, unreadable, an errcode that means our own
        // configuration is wrong) is WeChat failing us, not the client's doing.
        _ => ApiError::new(StatusCode::BAD_GATEWAY, msg::WECHAT_BAD_GATEWAY),
    };
    if api_error.status.is_server_error() {
        tracing::warn!(error = %err, ?step, status = api_error.status.as_u16(), "wechat call failed");
    } else {
        tracing::info!(
            errcode = err.errcode(),
            ?step,
            "wechat rejected the request"
        );
    }
    match err.errcode() {
        Some(errcode) => api_error.with_data("errcode", errcode),
        None => api_error,
    }
}
