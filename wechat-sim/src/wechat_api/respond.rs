//! Turning a handler's reply into bytes on the wire, with response-side faults applied, and
//! into a journal entry.

use std::collections::BTreeMap;

use poem::http::{Method, StatusCode, header};
use poem::{Body, Response};

use crate::faults::{Fault, FaultKind};
use crate::journal::{self, JournalEntry};
use crate::wire::Reply;

/// What a gateway in front of WeChat answers when it fails: an HTML page, not JSON.
pub fn http_status_page(status: u16) -> Reply {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    Reply {
        status,
        content_type: "text/html".to_owned(),
        body: format!(
            "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
        ),
        errcode: None,
        bytes: None,
    }
}

pub fn into_response(reply: Option<Reply>, fault: Option<&Fault>) -> Response {
    let Some(mut reply) = reply else {
        return dropped_connection();
    };
    if let Some(mut bytes) = reply.bytes.take() {
        match fault.map(|f| f.kind) {
            Some(FaultKind::Truncated) => bytes.truncate(bytes.len() / 2),
            // A PNG without its signature: still bytes, no longer an image.
            Some(FaultKind::Malformed) => bytes.iter_mut().take(8).for_each(|b| *b = 0),
            Some(FaultKind::ContentType) => {
                if let Some(ct) = fault.and_then(|f| f.content_type.clone()) {
                    reply.content_type = ct;
                }
            }
            _ => {}
        }
        return Response::builder()
            .status(reply.status)
            .header(header::CONTENT_TYPE, reply.content_type)
            .body(bytes);
    }
    match fault.map(|f| f.kind) {
        // Removing the quotes keeps the body recognisable to a human but not parseable.
        Some(FaultKind::Malformed) => reply.body = reply.body.replace('"', ""),
        Some(FaultKind::Truncated) => {
            let mut cut = reply.body.len() / 2;
            while !reply.body.is_char_boundary(cut) {
                cut -= 1;
            }
            reply.body.truncate(cut);
        }
        Some(FaultKind::ContentType) => {
            if let Some(ct) = fault.and_then(|f| f.content_type.clone()) {
                reply.content_type = ct;
            }
        }
        _ => {}
    }
    Response::builder()
        .status(reply.status)
        .header(header::CONTENT_TYPE, reply.content_type)
        .body(reply.body)
}

/// Fallback when the connection's kill switch is unknown (see `connections`): a body that
/// fails, so the client at least sees the response break off.
fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Vec<u8>, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "wechat-sim: injected dropped connection",
        ))
    });
    Response::builder().body(Body::from_bytes_stream(failing))
}

pub fn journal_entry(
    path: &str,
    method: &Method,
    query: &[(String, String)],
    body: Option<&[u8]>,
    reply: Option<&Reply>,
    fault: Option<&Fault>,
    now_ms: u64,
) -> JournalEntry {
    let mut masked_query = BTreeMap::new();
    for (k, v) in query {
        masked_query
            .entry(k.clone())
            .or_insert_with(|| journal::mask(k, v));
    }
    let body = body.filter(|b| !b.is_empty()).map(|bytes| {
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(value) => journal::mask_json(&value),
            // A non-JSON body may carry a secret in any shape, so only its size is kept.
            Err(_) => serde_json::Value::String(format!("<{} bytes, not JSON>", bytes.len())),
        }
    });
    JournalEntry {
        seq: 0,
        endpoint: path.to_owned(),
        method: method.to_string(),
        query: masked_query,
        body,
        errcode: reply.and_then(|r| r.errcode),
        status: reply.map_or(0, |r| r.status.as_u16()),
        fault: fault.map(|f| f.kind.name()),
        at: now_ms,
    }
}
