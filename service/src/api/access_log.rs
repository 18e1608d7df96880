//! One log line per request, written when the response is ready.
//!
//! Replaces poem's `Tracing` middleware, which opens a span and writes two events per request:
//! at 16 connections that doubled the cost of a cheap route. The path is logged without its
//! query string (a query may carry secrets); the request id comes from the enclosing span.

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Request, Response, Result};

/// Load balancers poll this; a successful probe is logged at debug so it does not drown the log.
const HEALTH_PATH: &str = "/api/system/health";

pub async fn access_log<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let remote = req.remote_addr().to_string();
    let response = match next.call(req).await {
        Ok(response) => response.into_response(),
        Err(err) => err.into_response(),
    };
    let status = response.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    if status == 200 && path == HEALTH_PATH {
        tracing::debug!(%method, %path, status, micros, %remote, "request");
    } else if status >= 500 {
        tracing::warn!(%method, %path, status, micros, %remote, "request");
    } else {
        tracing::info!(%method, %path, status, micros, %remote, "request");
    }
    Ok(response)
}
