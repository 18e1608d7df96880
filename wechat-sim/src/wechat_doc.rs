//! The OpenAPI document of the WeChat surface (`/__sim/wechat-openapi.json`). The WeChat paths
//! are served by `wechat_api` (one endpoint routing by exact path, with WeChat's own errors);
//! this service only describes them, so its handlers are never mounted.

use poem_openapi::param::Query;
use poem_openapi::payload::{Binary, Json, PlainText};
use poem_openapi::{ApiResponse, OpenApi, OpenApiService, Tags};
use serde_json::Value;

#[derive(Tags)]
enum Tag {
    /// Login and session keys.
    Login,
    /// Access tokens.
    Token,
    /// Phone numbers.
    Phone,
    /// Content security.
    Security,
    /// Subscribe messages.
    Messages,
    /// Mini-program codes.
    Codes,
}

#[derive(ApiResponse)]
enum Image {
    /// A PNG QR code whose payload is JSON naming the app, page or path and scene. Errors
    /// are `{errcode, errmsg}` JSON, also with HTTP 200, as at WeChat.
    #[oai(status = 200, content_type = "image/png")]
    Png(Binary<Vec<u8>>),
}

type Answer = Json<Value>;

fn described() -> Answer {
    Json(Value::Null)
}

pub struct WeChatDoc;

#[OpenApi]
impl WeChatDoc {
    /// code2Session: `{session_key, openid, unionid?}` as text/plain; errors 40029, 40163,
    /// 40226, 45011, 40013, 40125, 41002/41004/41008, 40002.
    #[oai(
        path = "/sns/jscode2session",
        method = "get",
        tag = "Tag::Login",
        operation_id = "code2session"
    )]
    async fn code2session(
        &self,
        appid: Query<String>,
        secret: Query<String>,
        js_code: Query<String>,
        grant_type: Query<String>,
    ) -> PlainText<String> {
        let _ = (appid, secret, js_code, grant_type);
        PlainText(String::new())
    }

    /// checkSessionKey: signature = hex(HMAC-SHA256(session_key, "")); 87009, 87008, 40003, 87007.
    #[oai(
        path = "/wxa/checksession",
        method = "get",
        tag = "Tag::Login",
        operation_id = "checkSession"
    )]
    async fn checksession(
        &self,
        access_token: Query<String>,
        openid: Query<String>,
        signature: Query<String>,
        sig_method: Query<String>,
    ) -> Answer {
        let _ = (access_token, openid, signature, sig_method);
        described()
    }

    /// resetUserSessionKey: `{errcode:0, errmsg:"ok", openid, session_key}` with a new key.
    #[oai(
        path = "/wxa/resetusersessionkey",
        method = "get",
        tag = "Tag::Login",
        operation_id = "resetUserSessionKey"
    )]
    async fn resetusersessionkey(
        &self,
        access_token: Query<String>,
        openid: Query<String>,
        signature: Query<String>,
        sig_method: Query<String>,
    ) -> Answer {
        let _ = (access_token, openid, signature, sig_method);
        described()
    }

    /// getAccessToken: `{access_token, expires_in: 7200}`; 40013, 40125, 40002, 45009.
    #[oai(
        path = "/cgi-bin/token",
        method = "get",
        tag = "Tag::Token",
        operation_id = "token"
    )]
    async fn token(
        &self,
        grant_type: Query<String>,
        appid: Query<String>,
        secret: Query<String>,
    ) -> Answer {
        let _ = (grant_type, appid, secret);
        described()
    }

    /// getStableAccessToken: `{grant_type, appid, secret, force_refresh?}`.
    #[oai(
        path = "/cgi-bin/stable_token",
        method = "post",
        tag = "Tag::Token",
        operation_id = "stableToken"
    )]
    async fn stable_token(&self, body: Json<Value>) -> Answer {
        let _ = body;
        described()
    }

    /// getPhoneNumber: `{code, openid?}` → `phone_info`; 40029, 40013, 45011.
    #[oai(
        path = "/wxa/business/getuserphonenumber",
        method = "post",
        tag = "Tag::Phone",
        operation_id = "getPhoneNumber"
    )]
    async fn phone(&self, access_token: Query<String>, body: Json<Value>) -> Answer {
        let _ = (access_token, body);
        described()
    }

    /// msgSecCheck: `{version: 2, scene: 1-4, openid, content}` → `result {suggest, label}`,
    /// `detail`, `trace_id`; version 1 → 87014 for risky content; 44004, 40129, 40003, 61010.
    #[oai(
        path = "/wxa/msg_sec_check",
        method = "post",
        tag = "Tag::Security",
        operation_id = "msgSecCheck"
    )]
    async fn msg_sec_check(&self, access_token: Query<String>, body: Json<Value>) -> Answer {
        let _ = (access_token, body);
        described()
    }

    /// subscribeMessage.send: `{touser, template_id, page?, data, miniprogram_state?, lang?}` →
    /// `{errcode:0, errmsg:"ok", msgid}`; 43101, 40037, 47003, 40003.
    #[oai(
        path = "/cgi-bin/message/subscribe/send",
        method = "post",
        tag = "Tag::Messages",
        operation_id = "sendSubscribeMessage"
    )]
    async fn subscribe_send(&self, access_token: Query<String>, body: Json<Value>) -> Answer {
        let _ = (access_token, body);
        described()
    }

    /// getUnlimitedQRCode: `{scene, page?, env_version?, width?}`; 40169, 41030, 40097.
    #[oai(
        path = "/wxa/getwxacodeunlimit",
        method = "post",
        tag = "Tag::Codes",
        operation_id = "getUnlimitedQRCode"
    )]
    async fn unlimited(&self, access_token: Query<String>, body: Json<Value>) -> Image {
        let _ = (access_token, body);
        Image::Png(Binary(Vec::new()))
    }

    /// getQRCode: `{path, width?, env_version?}`; 40159.
    #[oai(
        path = "/wxa/getwxacode",
        method = "post",
        tag = "Tag::Codes",
        operation_id = "getQRCode"
    )]
    async fn wxacode(&self, access_token: Query<String>, body: Json<Value>) -> Image {
        let _ = (access_token, body);
        Image::Png(Binary(Vec::new()))
    }

    /// createQRCode: `{path, width?}`; 40159.
    #[oai(
        path = "/cgi-bin/wxaapp/createwxaqrcode",
        method = "post",
        tag = "Tag::Codes",
        operation_id = "createQRCode"
    )]
    async fn qrcode(&self, access_token: Query<String>, body: Json<Value>) -> Image {
        let _ = (access_token, body);
        Image::Png(Binary(Vec::new()))
    }
}

pub fn service() -> OpenApiService<WeChatDoc, ()> {
    OpenApiService::new(
        WeChatDoc,
        "wechat-sim WeChat API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "The WeChat server API the simulator serves (api.weixin.qq.com paths). Every error \
             is HTTP 200 with {errcode, errmsg}; unknown paths answer 40066. Details and \
             sources: wechat-sim/README.md.",
    )
    .server("/")
}
