//! `微信认证` routes: login, profile and refresh-token.

use super::payload::Json;
use poem::web::Data;
use poem_openapi::OpenApi;

use super::ApiTags;
use super::AppState;
use super::envelope::error_responses;
use super::rate_limit::per_client_limit;
use super::security::BearerAuth;
use super::types::{
    AuthResponse, ProfileData, ProfileEnvelope, ProfileStatus, UserInfo, WechatLoginRequest,
    WechatProfileRequest,
};
use crate::users::fields::USERS_WX_CODE;
use crate::users::{LoginStatus, ProfileInput};

pub struct WechatApi;

/// The PocketBase auth response of login and refresh.
#[derive(Debug, poem_openapi::ApiResponse)]
pub enum AuthOk {
    /// 登录或注册成功 / 刷新成功
    #[oai(status = 200)]
    Ok(Json<AuthResponse>),
}

#[derive(Debug, poem_openapi::ApiResponse)]
pub enum ProfileOk {
    /// 更新成功
    #[oai(status = 200)]
    Ok(Json<ProfileEnvelope>),
}

error_responses! {
    pub enum LoginError {
        /// 参数错误，或微信登录凭证无效或已使用 (WeChat 40029/40163)
        400 => BadRequest,
        /// 微信判定该用户存在风险 (WeChat 40226)
        403 => Forbidden,
        /// 请求超时 (the body did not arrive within BAI_REQUEST_TIMEOUT_MS)
        408 => RequestTimeout,
        /// 请求体过大
        413 => PayloadTooLarge,
        /// 请求体必须为 application/json
        415 => UnsupportedMediaType,
        /// 重复请求过于频繁 (the same code is in flight), 请求过于频繁 (this client is over
        /// BAI_RATE_LIMIT_PER_MIN), 当前请求人数过多 (BAI_WECHAT_MAX_RPS), or WeChat 45011
        429 => TooManyRequests,
        /// 微信服务异常 (unreachable or unreadable answer)
        502 => BadGateway,
        /// 微信服务繁忙 (WeChat -1)，或服务暂不可用 (a storage fault; nothing was stored)
        503 => ServiceUnavailable,
        /// 微信服务响应超时
        504 => GatewayTimeout,
    }
}

error_responses! {
    pub enum ProfileError {
        /// 参数错误，或手机号授权凭证无效或已使用 (WeChat 40029)
        400 => BadRequest,
        /// token 无效或当前 auth record 缺少 openid
        401 => Unauthorized,
        /// 用户不存在
        404 => NotFound,
        /// 请求超时 (the body did not arrive within BAI_REQUEST_TIMEOUT_MS)
        408 => RequestTimeout,
        /// 请求体过大
        413 => PayloadTooLarge,
        /// 请求体必须为 application/json
        415 => UnsupportedMediaType,
        /// 请求过于频繁 (this client is over BAI_RATE_LIMIT_PER_MIN), 当前请求人数过多
        /// (BAI_WECHAT_MAX_RPS), or 微信接口调用过于频繁 (WeChat 45011)
        429 => TooManyRequests,
        /// 微信服务异常
        502 => BadGateway,
        /// 微信服务繁忙 (WeChat -1)，或服务暂不可用 (a storage fault; nothing was stored)
        503 => ServiceUnavailable,
        /// 微信服务响应超时
        504 => GatewayTimeout,
    }
}

error_responses! {
    pub enum RefreshError {
        /// token 无效或当前 auth record 缺少 openid
        401 => Unauthorized,
        /// 用户不存在
        404 => NotFound,
        /// 请求超时 (the request, body included, took longer than BAI_REQUEST_TIMEOUT_MS)
        408 => RequestTimeout,
        /// 请求体过大
        413 => PayloadTooLarge,
        /// 服务暂不可用 (a storage fault)
        503 => ServiceUnavailable,
    }
}

#[OpenApi(tag = "ApiTags::Wechat")]
impl WechatApi {
    /// 微信登录/注册合一
    ///
    /// 使用微信 code 换取 openid。若 `tbl_auth_users` 中不存在对应用户则自动创建 auth record，
    /// 随后返回 PocketBase 原生 auth token。
    ///
    /// **Trying it without WeChat** (zero-config mode, no `BAI_WECHAT_APPID`): the in-process
    /// wechat-sim stands in for WeChat and accepts `dev:<name>` as a `wx.login` code for the user
    /// `<name>` (the same name always gives the same openid, and the code can be reused; the same
    /// code within `BAI_GUARD_TTL` seconds answers 429, so change the name or wait). Copy the
    /// `token` of the answer into **Authorize** to call profile and refresh-token. With real
    /// WeChat credentials `dev:` codes are ordinary (invalid) codes.
    #[oai(
        path = "/api/wechat/login",
        method = "post",
        operation_id = "wechatLogin",
        transform = "per_client_limit"
    )]
    async fn login(
        &self,
        state: Data<&AppState>,
        body: Json<WechatLoginRequest>,
    ) -> Result<AuthOk, LoginError> {
        let code = body.0.users_wx_code.into_text(USERS_WX_CODE)?;
        let outcome = state.users().login(&code).await?;
        let msg = match outcome.status {
            LoginStatus::Registered => "注册成功",
            LoginStatus::LoggedIn => "登录成功",
        };
        Ok(AuthOk::Ok(Json(AuthResponse::new(
            outcome.token,
            outcome.account,
            outcome.status,
            msg,
        ))))
    }

    /// 更新微信用户资料
    ///
    /// Saves name and picture, and the phone number WeChat returns for `users_phone_code`.
    /// `users_type` becomes `注册用户` once name, phone and picture are all set.
    /// The phone code must have been issued to the logged-in user (the service sends their
    /// openid to WeChat); another user's code answers 400 `users_phone_code`.
    ///
    /// **Without WeChat** (zero-config mode): `dev-phone:<digits>` stands for a phone code of
    /// that number, usable by anyone.
    #[oai(
        path = "/api/wechat/profile",
        method = "post",
        operation_id = "wechatProfile",
        transform = "per_client_limit"
    )]
    async fn profile(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<WechatProfileRequest>,
    ) -> Result<ProfileOk, ProfileError> {
        let input = ProfileInput::try_from(body.0)?;
        let account = state.users().update_profile(&auth.0, &input).await?;
        Ok(ProfileOk::Ok(Json(ProfileEnvelope {
            code: 200,
            msg: "更新成功".to_owned(),
            data: ProfileData {
                status: ProfileStatus::UpdateSuccess,
                user: UserInfo::from(account),
            },
        })))
    }

    /// 刷新 PocketBase 原生 token
    ///
    /// 直接从当前 `Authorization` 对应的 auth record 读取 openid 并重新返回原生 auth token。
    #[oai(
        path = "/api/wechat/refresh-token",
        method = "post",
        operation_id = "wechatRefreshToken"
    )]
    async fn refresh_token(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<AuthOk, RefreshError> {
        let outcome = state.users().refresh(auth.0).await?;
        Ok(AuthOk::Ok(Json(AuthResponse::new(
            outcome.token,
            outcome.account,
            outcome.status,
            "刷新成功",
        ))))
    }
}
