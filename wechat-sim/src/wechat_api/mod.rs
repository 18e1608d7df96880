//! The WeChat surface: one poem endpoint that routes by exact path (WeChat paths are
//! case-sensitive and unknown ones answer 40066 with HTTP 200), records every call in the
//! journal and applies injected faults around the real handlers.

mod login;
mod phone;
mod respond;
mod security;
mod session;
mod subscribe;
mod token;
mod wxacode;

use std::collections::HashMap;
use std::sync::Arc;

use poem::http::Method;
use poem::{Endpoint, Request, Response};
use serde_json::{Map, Value};

use crate::faults::{Fault, FaultKind};
use crate::sim::Sim;
use crate::wire::{self, Reply, WxError, WxResult};

/// Bodies above this are refused with 47001 instead of being buffered.
const MAX_BODY: usize = 1024 * 1024;

/// Everything a handler may look at, parsed once by the dispatcher.
pub struct Call<'a> {
    pub sim: &'a Sim,
    pub method: &'a Method,
    query: HashMap<String, String>,
    body: &'a [u8],
    content_type: Option<&'a str>,
    pub now_ms: u64,
}

impl Call<'_> {
    /// A non-empty query parameter (empty ones count as missing, as at WeChat).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn require_post(&self) -> Result<(), WxError> {
        if self.method == Method::POST {
            Ok(())
        } else {
            Err(WxError(43002))
        }
    }

    /// The JSON object body: empty → 44002, anything else that is not an object → 47001.
    pub fn json_body(&self) -> Result<Map<String, Value>, WxError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(WxError(44002));
        }
        match serde_json::from_slice(self.body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(WxError(47001)),
        }
    }

    pub fn is_form_body(&self) -> bool {
        self.content_type
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
    }

    pub fn strict(&self) -> bool {
        self.sim.config.strict
    }
}

/// A non-empty string field of a JSON body.
pub fn field<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    map.get(name)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
}

/// `err:<errcode>` convenience codes: the call fails with that errcode. A malformed number is
/// just an invalid code.
pub fn fault_code(call: &Call, code: &str) -> Result<(), WxError> {
    if call.strict() {
        return Ok(());
    }
    match code.strip_prefix("err:") {
        Some(n) => Err(WxError(n.trim().parse().unwrap_or(40029))),
        None => Ok(()),
    }
}

type Handler = fn(&Call) -> WxResult;

/// The handler of a WeChat path and the Content-Type its answers (errors included) carry.
fn route(path: &str) -> (Option<Handler>, &'static str) {
    match path {
        "/sns/jscode2session" => (Some(login::code2session), wire::TEXT_PLAIN),
        "/cgi-bin/token" => (Some(token::token), wire::JSON_ENCODING_UTF8),
        "/cgi-bin/stable_token" => (Some(token::stable_token), wire::JSON_ENCODING_UTF8),
        "/wxa/business/getuserphonenumber" => (Some(phone::get_phone_number), wire::JSON_UTF8),
        "/wxa/checksession" => (Some(session::check), wire::JSON_UTF8),
        "/wxa/resetusersessionkey" => (Some(session::reset), wire::JSON_UTF8),
        "/wxa/msg_sec_check" => (Some(security::msg_sec_check), wire::JSON_UTF8),
        "/wxa/getwxacodeunlimit" => (Some(wxacode::unlimited), wire::JSON_UTF8),
        "/wxa/getwxacode" => (Some(wxacode::wxacode), wire::JSON_UTF8),
        "/cgi-bin/wxaapp/createwxaqrcode" => (Some(wxacode::qrcode), wire::JSON_ENCODING_UTF8),
        "/cgi-bin/message/subscribe/send" => (Some(subscribe::send), wire::JSON_ENCODING_UTF8),
        _ => (None, wire::JSON_UTF8),
    }
}

pub struct WeChatEndpoint {
    pub sim: Arc<Sim>,
}

impl Endpoint for WeChatEndpoint {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let sim = &*self.sim;
        let path = req.uri().path().to_owned();
        let peer = req.remote_addr().as_socket_addr().copied();
        let method = req.method().clone();
        let query: Vec<(String, String)> = req.params().unwrap_or_default();
        let content_type = req
            .headers()
            .get(poem::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = req.into_body().into_bytes_limit(MAX_BODY).await;

        let fault = sim.faults().take(&path);
        if let Some(Fault {
            kind: FaultKind::Delay,
            delay_ms: Some(ms),
            ..
        }) = &fault
        {
            tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
        }

        let now_ms = sim.clock.now_ms();
        let rid = crate::ids::rid(now_ms / 1000);
        let (handler, error_content_type) = route(&path);
        let reply =
            match (&fault, &body) {
                (Some(f), _) if f.kind == FaultKind::DropConnection => None,
                (Some(f), _) if f.kind == FaultKind::Errcode => Some(Reply::error(
                    f.errcode.unwrap_or(-1),
                    &rid,
                    error_content_type,
                )),
                (Some(f), _) if f.kind == FaultKind::HttpStatus => {
                    Some(respond::http_status_page(f.status.unwrap_or(502)))
                }
                (_, Err(_)) => Some(Reply::error(47001, &rid, error_content_type)),
                (_, Ok(bytes)) => {
                    let mut first_wins = HashMap::new();
                    for (k, v) in &query {
                        first_wins.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    let call = Call {
                        sim,
                        method: &method,
                        query: first_wins,
                        body: bytes,
                        content_type: content_type.as_deref(),
                        now_ms,
                    };
                    let result = match handler {
                        Some(handler) => handler(&call),
                        None => Err(WxError(40066)),
                    };
                    Some(result.unwrap_or_else(|WxError(code)| {
                        Reply::error(code, &rid, error_content_type)
                    }))
                }
            };

        sim.journal().record(respond::journal_entry(
            &path,
            &method,
            &query,
            body.as_deref().ok(),
            reply.as_ref(),
            fault.as_ref(),
            now_ms,
        ));
        tracing::debug!(
            path,
            errcode = reply.as_ref().and_then(|r| r.errcode),
            fault = fault.as_ref().map(|f| f.kind.name()).as_deref(),
            "wechat call"
        );
        if reply.is_none()
            && let Some(peer) = peer
        {
            sim.connections.kill(&peer);
        }
        Ok(respond::into_response(reply, fault.as_ref()))
    }
}
