//! The one error envelope, `{code, msg, data}` with `code` = HTTP status, for every error that
//! leaves the service: business errors from handlers and everything the framework produces.

use std::collections::BTreeMap;

use poem::http::StatusCode;
use poem::http::header::RETRY_AFTER;
use poem::{IntoResponse, Response};
use poem_openapi::Object;
use serde_json::Value;

/// Every error body.
#[derive(Debug, Clone, PartialEq, Object)]
#[oai(rename = "ErrorResponse")]
pub struct ErrorBody {
    /// Equal to the HTTP status.
    pub code: u16,
    /// What went wrong, for people (Chinese).
    pub msg: String,
    /// `{}`, or for invalid input `{"field": …, "reason": …}`.
    pub data: BTreeMap<String, Value>,
}

/// An error on its way out: status, body and, for 429/503, how long to wait.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, msg: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: status.as_u16(),
                msg: msg.into(),
                data: BTreeMap::new(),
            },
            retry_after: None,
        }
    }

    pub fn with_data(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.body.data.insert(key.to_owned(), value.into());
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, msg::INTERNAL)
    }

    /// As a `poem::Error` that renders exactly this response (for extractors and middleware).
    pub fn into_poem_error(self) -> poem::Error {
        poem::Error::from_response(self.into_response())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = poem_openapi::payload::Json(self.body).into_response();
        response.set_status(self.status);
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// The messages, in the original service's style.
pub mod msg {
    pub const OK: &str = "操作成功";
    pub const BAD_REQUEST: &str = "参数错误";
    pub const BAD_JSON: &str = "参数错误：请求体必须是合法的 JSON 对象";
    pub const UNAUTHORIZED: &str = "token 无效或已过期";
    pub const MISSING_OPENID: &str = "token 无效或当前 auth record 缺少 openid";
    pub const USER_GONE: &str = "用户不存在";
    pub const NOT_FOUND: &str = "接口不存在";
    pub const METHOD_NOT_ALLOWED: &str = "请求方法不允许";
    pub const PAYLOAD_TOO_LARGE: &str = "请求体过大";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "请求体必须为 application/json";
    pub const TOO_MANY_REQUESTS: &str = "重复请求过于频繁";
    pub const REQUEST_TIMEOUT: &str = "请求超时";
    pub const CLIENT_RATE_LIMITED: &str = "请求过于频繁，请稍后再试";
    pub const WECHAT_CEILING: &str = "当前请求人数过多，请稍后再试";
    pub const CORS_FORBIDDEN: &str = "跨域请求不被允许";
    pub const WECHAT_CODE_INVALID: &str = "微信登录凭证无效或已使用";
    pub const WECHAT_PHONE_CODE_INVALID: &str = "手机号授权凭证无效或已使用";
    pub const WECHAT_USER_BLOCKED: &str = "微信判定该用户存在风险，已拒绝登录";
    pub const WECHAT_RATE_LIMITED: &str = "微信接口调用过于频繁，请稍后再试";
    pub const WECHAT_BUSY: &str = "微信服务繁忙，请稍后再试";
    pub const WECHAT_BAD_GATEWAY: &str = "微信服务异常，请稍后再试";
    pub const WECHAT_TIMEOUT: &str = "微信服务响应超时，请稍后再试";
    pub const INTERNAL: &str = "服务器内部错误";
    pub const UNHEALTHY: &str = "服务不可用：数据库无法访问";
    pub const SCHEMA_OUTDATED: &str = "服务不可用：数据库结构版本不符";
    pub const DRAINING: &str = "服务正在停止";
    pub const STORAGE_UNAVAILABLE: &str = "服务暂不可用，请稍后再试";
}

/// Declares a route's error responses: each variant documents one status in the generated
/// spec, and `From<ApiError>` routes an error to its variant. A status the route did not
/// declare becomes a logged 500, so the spec never lies about what a handler answers. What the
/// request edge answers before or instead of a handler (408 past BAI_REQUEST_TIMEOUT_MS, 413)
/// can reach every route, so every route declares it.
macro_rules! error_responses {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $( $(#[doc = $doc:literal])* $status:literal => $variant:ident, )* }) => {
        $(#[$meta])*
        #[derive(Debug, poem_openapi::ApiResponse)]
        $vis enum $name {
            $(
                $(#[doc = $doc])*
                #[oai(status = $status)]
                $variant(
                    $crate::api::payload::Json<$crate::api::envelope::ErrorBody>,
                    /// Seconds to wait before retrying (429, 503).
                    #[oai(header = "Retry-After")] Option<u64>,
                ),
            )*
            /// 服务器内部错误
            #[oai(status = 500)]
            Internal($crate::api::payload::Json<$crate::api::envelope::ErrorBody>),
        }

        impl From<$crate::api::envelope::ApiError> for $name {
            fn from(err: $crate::api::envelope::ApiError) -> Self {
                match err.status.as_u16() {
                    $( $status => Self::$variant($crate::api::payload::Json(err.body), err.retry_after), )*
                    500 => Self::Internal($crate::api::payload::Json(err.body)),
                    other => {
                        tracing::error!(status = other, msg = %err.body.msg, "a route answered a status it does not declare");
                        Self::Internal($crate::api::payload::Json($crate::api::envelope::ApiError::internal().body))
                    }
                }
            }
        }

        impl From<$crate::users::UserError> for $name {
            fn from(err: $crate::users::UserError) -> Self {
                $crate::api::envelope::ApiError::from(err).into()
            }
        }

        impl From<$crate::users::FieldError> for $name {
            fn from(err: $crate::users::FieldError) -> Self {
                $crate::api::envelope::ApiError::from($crate::users::UserError::from(err)).into()
            }
        }
    };
}
pub(crate) use error_responses;
