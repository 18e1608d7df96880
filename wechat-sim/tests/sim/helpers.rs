//! A client for the simulator's WeChat surface and control API, one method per call.

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use wechat_sim::{SimConfig, Simulator};

pub struct Wx {
    pub sim: Simulator,
    pub http: reqwest::Client,
}

/// A raw answer: status, Content-Type and body text.
pub struct Raw {
    pub status: u16,
    pub content_type: String,
    pub text: String,
}

impl Raw {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }
}

pub fn errcode(body: &Value) -> Option<i64> {
    body.get("errcode").and_then(Value::as_i64)
}

/// The errmsg without its rid suffix, after checking the suffix has the real shape.
pub fn errmsg(body: &Value) -> String {
    let msg = body["errmsg"].as_str().expect("errmsg is a string");
    let (text, rid) = msg.split_once(" rid: ").expect("errmsg carries a rid");
    let parts: Vec<_> = rid.split('-').collect();
    assert_eq!(parts.len(), 3, "rid {rid}");
    assert!(
        parts
            .iter()
            .all(|p| p.len() == 8 && p.chars().all(|c| c.is_ascii_hexdigit()))
    );
    text.to_owned()
}

impl Wx {
    pub async fn start() -> Self {
        Self::with(SimConfig::default()).await
    }

    pub async fn with(config: SimConfig) -> Self {
        Self {
            sim: Simulator::start_with(config).await,
            http: reqwest::Client::new(),
        }
    }

    /// Moves a fresh simulator's virtual clock to the start of the next 10:00 Beijing time, so
    /// that a test's calls share one minute window and its `advance(60)` steps never cross the
    /// quota day, which ends at Beijing midnight (16:00 UTC). Without it, quota tests failed
    /// when run around 16:00 UTC or across a minute boundary.
    pub async fn at_quiet_hour(&self) {
        const BEIJING_OFFSET_S: u64 = 8 * 3_600;
        const TEN_AM_S: u64 = 10 * 3_600;
        let now_s = self.sim.now_ms() / 1_000;
        let into_day = (now_s + BEIJING_OFFSET_S) % 86_400;
        let until = (TEN_AM_S + 86_400 - into_day) % 86_400;
        self.sim
            .advance(if until == 0 { 86_400 } else { until })
            .await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    pub async fn raw(&self, request: reqwest::RequestBuilder) -> Raw {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("body read");
        Raw {
            status,
            content_type,
            text,
        }
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Raw {
        self.raw(self.http.get(self.url(path)).query(query)).await
    }

    pub async fn post(&self, path: &str, query: &[(&str, &str)], body: Value) -> Raw {
        self.raw(self.http.post(self.url(path)).query(query).json(&body))
            .await
    }

    pub async fn code2session_raw(&self, js_code: &str) -> Raw {
        let (appid, secret) = (self.sim.appid().to_owned(), self.sim.secret().to_owned());
        self.get(
            "/sns/jscode2session",
            &[
                ("appid", &appid),
                ("secret", &secret),
                ("js_code", js_code),
                ("grant_type", "authorization_code"),
            ],
        )
        .await
    }

    pub async fn code2session(&self, js_code: &str) -> Value {
        self.code2session_raw(js_code).await.json()
    }

    pub async fn token(&self) -> Value {
        let (appid, secret) = (self.sim.appid().to_owned(), self.sim.secret().to_owned());
        self.get(
            "/cgi-bin/token",
            &[
                ("grant_type", "client_credential"),
                ("appid", &appid),
                ("secret", &secret),
            ],
        )
        .await
        .json()
    }

    pub async fn stable(&self, force_refresh: bool) -> Value {
        let body = json!({
            "grant_type": "client_credential",
            "appid": self.sim.appid(),
            "secret": self.sim.secret(),
            "force_refresh": force_refresh,
        });
        self.post("/cgi-bin/stable_token", &[], body).await.json()
    }

    /// A valid stable access token.
    pub async fn access_token(&self) -> String {
        self.stable(false).await["access_token"]
            .as_str()
            .expect("stable token issued")
            .to_owned()
    }

    pub async fn phone(&self, access_token: &str, code: &str) -> Value {
        self.post(
            "/wxa/business/getuserphonenumber",
            &[("access_token", access_token)],
            json!({ "code": code }),
        )
        .await
        .json()
    }

    pub async fn checksession(&self, access_token: &str, openid: &str, signature: &str) -> Value {
        self.session_call("/wxa/checksession", access_token, openid, signature)
            .await
    }

    pub async fn session_call(
        &self,
        path: &str,
        access_token: &str,
        openid: &str,
        signature: &str,
    ) -> Value {
        self.get(
            path,
            &[
                ("access_token", access_token),
                ("openid", openid),
                ("signature", signature),
                ("sig_method", "hmac_sha256"),
            ],
        )
        .await
        .json()
    }

    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Raw {
        let mut request = self
            .http
            .request(method, self.url(&format!("/__sim{path}")));
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.raw(request).await
    }
}

/// Replaces the rid of an errmsg (time + random) with a placeholder.
pub fn redact_rid(
    content: insta::internals::Content,
    _: insta::internals::ContentPath<'_>,
) -> String {
    let text = content.as_str().unwrap_or_default();
    match text.split_once(" rid: ") {
        Some((msg, _)) => format!("{msg} rid: [rid]"),
        None => text.to_owned(),
    }
}

/// A JSON snapshot of a wire body with every volatile value (rids, keys, tokens, codes,
/// timestamps) redacted. Openids stay: they are deterministic.
#[macro_export]
macro_rules! assert_wire_snapshot {
    ($name:expr, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, {
            ".errmsg" => insta::dynamic_redaction($crate::helpers::redact_rid),
            ".session_key" => "[session_key]",
            ".access_token" => "[access_token]",
            ".code" => "[code]",
            ".phone_info.watermark.timestamp" => "[timestamp]",
        })
    };
}
