//! One log line per request, written when the response is ready (by [`super::edge`]).
//!
//! Replaces poem's `Tracing` middleware, which opens a span and writes two events per request:
//! at 16 connections that doubled the cost of a cheap route. The path is logged without its
//! query string (a query may carry secrets); the request id comes from the enclosing span.

use std::time::Instant;

use poem::http::{Method, StatusCode};
use poem::web::RemoteAddr;

/// Load balancers poll this; a successful probe is logged at debug so it does not drown the log.
const HEALTH_PATH: &str = "/api/system/health";

pub fn record(
    method: &Method,
    path: &str,
    status: StatusCode,
    started: Instant,
    remote: &RemoteAddr,
) {
    let status = status.as_u16();
    let micros = started.elapsed().as_micros() as u64;
    if status == 200 && path == HEALTH_PATH {
        tracing::debug!(%method, %path, status, micros, %remote, "request");
    } else if status >= 500 {
        tracing::warn!(%method, %path, status, micros, %remote, "request");
    } else {
        tracing::info!(%method, %path, status, micros, %remote, "request");
    }
}
