//! The HTTP edge: poem-openapi handlers, one file per tag, and the one error envelope.

pub mod access_log;
mod bearer;
pub mod cors;
pub mod document;
pub mod edge;
pub mod envelope;
mod errors;
mod fields;
pub mod payload;
mod pocketbase;
mod probes;
pub mod rate_limit;
pub mod rejections;
mod security;
mod state;
mod system;
pub mod types;
mod users_type;
mod wechat;

use poem_openapi::{LicenseObject, OpenApiService, Tags};

pub use envelope::{ApiError, ErrorBody};
pub use pocketbase::PocketBaseApi;
pub use probes::ProbeApi;
pub use state::AppState;
pub use system::SystemApi;
pub use wechat::WechatApi;

#[derive(Tags)]
pub enum ApiTags {
    /// 基础检查接口
    #[oai(rename = "系统")]
    System,
    /// 基于微信 openid 与 PocketBase 原生 token 的认证接口
    #[oai(rename = "微信认证")]
    Wechat,
    /// PocketBase JS SDK 自带的 auth 接口（authRefresh、getOne），PocketBase 的响应与错误格式
    #[oai(rename = "PocketBase SDK")]
    PocketBase,
}

pub type ApiService = OpenApiService<(SystemApi, ProbeApi, WechatApi, PocketBaseApi), ()>;

/// The API with its generated OpenAPI document. `build_app`, `bai-service spec` and the
/// spec drift test all use this one function.
pub fn api_service() -> ApiService {
    OpenApiService::new(
        (SystemApi, ProbeApi, WechatApi, PocketBaseApi),
        "BAI API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "WeChat mini-program backend, compatible with the PocketBase `bai_api_pb_hooks` API. \
             Every error is `{code, msg, data}` with `code` equal to the HTTP status. \
             On any path, a request whose headers do not arrive within BAI_HEADER_TIMEOUT_MS is \
             answered 408 before it is routed.",
    )
    .license(LicenseObject::new("MIT").url("https://opensource.org/licenses/MIT"))
}
