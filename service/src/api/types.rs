//! Request and response bodies of the contract. Doc comments become the spec's descriptions.

use chrono::{DateTime, Utc};
use poem_openapi::types::Example;
use poem_openapi::{Enum, Object};

use super::fields::{Code, HttpUrl, TextField};
use super::payload::Nullable;
use crate::auth::{AUTH_COLLECTION_ID, AUTH_COLLECTION_NAME};
use crate::users::fields::{
    MAX_CODE_CHARS, MAX_NAME_CHARS, MAX_PICTURE_URL_CHARS, USERS_NAME, USERS_PHONE_CODE,
    USERS_PICTURE,
};
use crate::users::{
    Account, Company, FieldError, LoginStatus, ProfileInput, User, UsersType, mask_phone,
};

/// 微信登录请求
#[derive(Debug, Object)]
#[oai(example)]
pub struct WechatLoginRequest {
    /// 微信小程序登录临时凭证 code (`wx.login`)
    pub users_wx_code: TextField<MAX_CODE_CHARS, Code>,
}

/// 更新资料请求
#[derive(Debug, Object)]
#[oai(example)]
pub struct WechatProfileRequest {
    /// 昵称 (trimmed; at most 32 characters)
    pub users_name: TextField<MAX_NAME_CHARS>,
    /// 手机号授权 code (`getPhoneNumber` button)
    pub users_phone_code: TextField<MAX_CODE_CHARS, Code>,
    /// 头像地址 (http/https, at most 512 characters)
    pub users_picture: TextField<MAX_PICTURE_URL_CHARS, HttpUrl>,
}

/// The spec's examples work as they are in zero-config mode (the in-process wechat-sim takes
/// `dev:` and `dev-phone:` codes), so Swagger UI's "Try it out" succeeds without editing.
impl Example for WechatLoginRequest {
    fn example() -> Self {
        Self {
            users_wx_code: TextField::example("dev:alice"),
        }
    }
}

impl Example for WechatProfileRequest {
    fn example() -> Self {
        Self {
            users_name: TextField::example("张三"),
            users_phone_code: TextField::example("dev-phone:13800138000"),
            users_picture: TextField::example("https://avatars.githubusercontent.com/u/9919"),
        }
    }
}

impl TryFrom<WechatProfileRequest> for ProfileInput {
    type Error = FieldError;

    fn try_from(body: WechatProfileRequest) -> Result<Self, FieldError> {
        Ok(ProfileInput {
            users_name: body.users_name.into_text(USERS_NAME)?,
            users_phone_code: body.users_phone_code.into_text(USERS_PHONE_CODE)?,
            users_picture: body.users_picture.into_text(USERS_PICTURE)?,
        })
    }
}

/// 健康检查结果
#[derive(Debug, Object)]
pub struct HealthData {
    /// `healthy`, or `unhealthy` when the database cannot be reached
    pub status: String,
    pub timestamp: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct HealthEnvelope {
    pub code: u16,
    pub msg: String,
    pub data: HealthData,
}

/// 探针结果
#[derive(Debug, Object)]
pub struct ProbeData {
    /// `alive` (livez); `ready`, or why not: `draining`, `database_unavailable`,
    /// `schema_outdated` (readyz)
    pub status: String,
    pub timestamp: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct ProbeEnvelope {
    pub code: u16,
    pub msg: String,
    pub data: ProbeData,
}

#[derive(Debug, Object)]
pub struct HelloWorldData {
    pub message: String,
    pub timestamp: DateTime<Utc>,
    pub status: String,
    /// When this binary was built (RFC 3339)
    #[oai(nullable)]
    pub build_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
pub struct HelloWorldEnvelope {
    pub code: u16,
    pub msg: String,
    pub data: HelloWorldData,
}

/// 公司信息 (`tbl_company` row), `null` when the user belongs to no company
#[derive(Debug, Clone, Object)]
pub struct CompanyInfo {
    pub company_id: String,
    pub company_name: String,
    pub created: String,
    pub updated: String,
}

impl From<Company> for CompanyInfo {
    fn from(c: Company) -> Self {
        Self {
            company_id: c.company_id,
            company_name: c.company_name,
            created: c.created,
            updated: c.updated,
        }
    }
}

/// 用户信息
#[derive(Debug, Clone, Object)]
pub struct UserInfo {
    /// PocketBase record id (15 characters `[a-z0-9]`)
    pub pb_id: String,
    /// Business id: `U` + registration date `YYMMDD` + 8 base32 characters, never changes
    pub users_id: String,
    pub users_type: UsersType,
    pub users_name: String,
    /// Full phone number (with the country prefix outside mainland China)
    pub users_phone: String,
    /// The phone number with all but the first 3 and last 4 digits hidden
    pub users_phone_masked: String,
    pub users_picture: String,
    pub openid: String,
    /// Empty when the user belongs to no company
    pub company_id: String,
    pub company: Nullable<CompanyInfo>,
    /// `2006-01-02 15:04:05.000Z`
    pub created: String,
    pub updated: String,
}

impl From<Account> for UserInfo {
    fn from(account: Account) -> Self {
        let r = account.user;
        Self {
            users_type: r.users_type,
            users_phone_masked: mask_phone(&r.users_phone),
            pb_id: r.id,
            users_id: r.users_id,
            users_name: r.users_name,
            users_phone: r.users_phone,
            users_picture: r.users_picture,
            openid: r.openid,
            company_id: r.company_id.unwrap_or_default(),
            company: Nullable(account.company.map(CompanyInfo::from)),
            created: r.created,
            updated: r.updated,
        }
    }
}

/// The PocketBase auth record, as PocketBase's own auth endpoints return it (never the token key).
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct AuthRecord {
    pub id: String,
    pub collection_id: String,
    pub collection_name: String,
    #[oai(rename = "users_id")]
    pub users_id: String,
    pub openid: String,
    #[oai(rename = "users_type")]
    pub users_type: UsersType,
    #[oai(rename = "users_name")]
    pub users_name: String,
    #[oai(rename = "users_phone")]
    pub users_phone: String,
    #[oai(rename = "users_picture")]
    pub users_picture: String,
    #[oai(rename = "company_id")]
    pub company_id: String,
    /// PocketBase's auth field: `""` for users who signed in with WeChat; a user imported from
    /// PocketBase keeps theirs (shown to the user themself, as PocketBase does)
    pub email: String,
    /// PocketBase's auth field; `false` unless imported from PocketBase as `true`
    pub email_visibility: bool,
    /// PocketBase's auth field; `false` unless imported from PocketBase as `true`
    pub verified: bool,
    pub created: String,
    pub updated: String,
}

impl AuthRecord {
    /// `info` is `user`'s own view; the record adds PocketBase's auth fields, which only an
    /// import fills (a WeChat user has no email).
    pub fn new(info: &UserInfo, user: &User) -> Self {
        Self {
            id: info.pb_id.clone(),
            collection_id: AUTH_COLLECTION_ID.to_owned(),
            collection_name: AUTH_COLLECTION_NAME.to_owned(),
            users_id: info.users_id.clone(),
            openid: info.openid.clone(),
            users_type: info.users_type,
            users_name: info.users_name.clone(),
            users_phone: info.users_phone.clone(),
            users_picture: info.users_picture.clone(),
            company_id: info.company_id.clone(),
            email: user.email.clone(),
            email_visibility: user.email_visibility,
            verified: user.verified,
            created: info.created.clone(),
            updated: info.updated.clone(),
        }
    }

    pub fn of(account: Account) -> Self {
        let user = account.user.clone();
        Self::new(&UserInfo::from(account), &user)
    }
}

/// `register_success` when this login created the user, else `login_success`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum AuthStatus {
    RegisterSuccess,
    LoginSuccess,
}

#[derive(Debug, Clone, Object)]
pub struct AuthMetaData {
    pub status: AuthStatus,
    /// Name, phone and picture are all filled in
    pub is_info_complete: bool,
    pub user: UserInfo,
}

#[derive(Debug, Clone, Object)]
pub struct AuthMeta {
    pub code: u16,
    pub msg: String,
    pub data: AuthMetaData,
}

/// PocketBase auth response: `{token, record, meta}`
#[derive(Debug, Clone, Object)]
#[oai(rename = "PocketBaseAuthResponse")]
pub struct AuthResponse {
    /// PocketBase 原生 auth token
    pub token: String,
    /// PocketBase auth record 原始对象
    pub record: AuthRecord,
    pub meta: AuthMeta,
}

impl AuthResponse {
    pub fn new(token: String, account: Account, status: LoginStatus, msg: &str) -> Self {
        let complete = account.user.is_info_complete();
        let owner = account.user.clone();
        let user = UserInfo::from(account);
        Self {
            token,
            record: AuthRecord::new(&user, &owner),
            meta: AuthMeta {
                code: 200,
                msg: msg.to_owned(),
                data: AuthMetaData {
                    status: match status {
                        LoginStatus::Registered => AuthStatus::RegisterSuccess,
                        LoginStatus::LoggedIn => AuthStatus::LoginSuccess,
                    },
                    is_info_complete: complete,
                    user,
                },
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ProfileStatus {
    UpdateSuccess,
}

#[derive(Debug, Clone, Object)]
pub struct ProfileData {
    pub status: ProfileStatus,
    pub user: UserInfo,
}

#[derive(Debug, Clone, Object)]
pub struct ProfileEnvelope {
    pub code: u16,
    pub msg: String,
    pub data: ProfileData,
}
