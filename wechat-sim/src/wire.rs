//! The WeChat wire format: errcode table with the errmsg texts real WeChat sends, the `rid:`
//! suffix, and the reply type every WeChat handler produces.

use poem::http::StatusCode;
use serde::Serialize;

/// `text/plain` is what jscode2session really answers; SDKs must parse it anyway.
pub const TEXT_PLAIN: &str = "text/plain";
/// The non-standard `encoding=` parameter is what cgi-bin answers carry.
pub const JSON_ENCODING_UTF8: &str = "application/json; encoding=utf-8";
pub const JSON_UTF8: &str = "application/json; charset=UTF-8";

/// The errmsg observed at real WeChat for each errcode (wechat-api.md §1.4), without the rid.
pub fn errmsg(errcode: i64) -> &'static str {
    match errcode {
        -1 => "system error",
        40001 => {
            "invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r"
        }
        40002 => "invalid grant_type",
        40003 => "invalid openid",
        40013 => "invalid appid",
        40014 => "invalid access_token",
        40029 => "invalid code",
        40066 => "invalid url",
        40097 => "invalid args",
        40037 => "invalid template_id",
        40125 => "invalid appsecret",
        40129 => "invalid scene",
        40163 => "code been used",
        40159 => "invalid length for path, or the data is not json string",
        40164 => "invalid ip, not in whitelist",
        40169 => "invalid length for scene, or the data is not json string",
        40226 => "code blocked",
        41001 => "access_token missing",
        41002 => "appid missing",
        41004 => "appsecret missing",
        41008 => "missing code",
        41009 => "missing openid",
        41030 => "invalid page",
        42001 => "access_token expired",
        43002 => "require POST method",
        43101 => "user refuse to accept the msg",
        44002 => "empty post data",
        44004 => "empty content",
        45009 => "reach max api daily quota limit",
        45011 => "api minute-quota reach limit, must slower, retry next minute",
        45029 => "qrcode count out of limit",
        47001 => "data format error",
        47003 => "argument invalid!",
        48001 => "api unauthorized",
        50002 => "user limited",
        50004 => "user not allow to use accesstoken, maybe for punishment",
        61010 => "code is expired",
        87007 => "session_key is not existed or expired",
        87008 => "invalid sig_method",
        87009 => "invalid signature",
        87014 => "risky content",
        _ => "unknown error",
    }
}

/// A WeChat-level failure; the dispatcher turns it into `{errcode, errmsg}` with HTTP 200.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WxError(pub i64);

pub type WxResult = Result<Reply, WxError>;

/// What a WeChat handler answers, before faults are applied.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
    /// The errcode the body carries (None on success without errcode, Some(0) for `ok`).
    pub errcode: Option<i64>,
    /// A binary answer (an image) sent instead of `body`.
    pub bytes: Option<Vec<u8>>,
}

impl Reply {
    pub fn json<T: Serialize>(value: &T, content_type: &str) -> Self {
        Self {
            status: StatusCode::OK,
            content_type: content_type.to_owned(),
            body: serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned()),
            errcode: None,
            bytes: None,
        }
    }

    pub fn binary(bytes: Vec<u8>, content_type: &str) -> Self {
        Self {
            status: StatusCode::OK,
            content_type: content_type.to_owned(),
            body: String::new(),
            errcode: None,
            bytes: Some(bytes),
        }
    }

    pub fn with_errcode(mut self, errcode: i64) -> Self {
        self.errcode = Some(errcode);
        self
    }

    pub fn error(errcode: i64, rid: &str, content_type: &str) -> Self {
        #[derive(Serialize)]
        struct ErrorBody {
            errcode: i64,
            errmsg: String,
        }
        let body = ErrorBody {
            errcode,
            errmsg: format!("{} rid: {rid}", errmsg(errcode)),
        };
        Self::json(&body, content_type).with_errcode(errcode)
    }
}

/// `{"errcode":0,"errmsg":"ok"}` plus extra fields, in that order, as real WeChat sends them.
#[derive(Serialize)]
pub struct Ok<T: Serialize> {
    pub errcode: i64,
    pub errmsg: &'static str,
    #[serde(flatten)]
    pub data: T,
}

impl<T: Serialize> Ok<T> {
    pub fn new(data: T) -> Self {
        Self {
            errcode: 0,
            errmsg: "ok",
            data,
        }
    }
}
