//! Requests the framework rejects, answered in the same envelope: unknown path, wrong method
//! (with `Allow`), bad JSON, wrong Content-Type, missing token, body too large, and panics.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use poem::error::{CorsError, MethodNotAllowedError, NotFoundError};
use poem::http::StatusCode;
use poem::http::header::{ALLOW, CONTENT_LENGTH};
use poem::{Body, IntoResponse, Request, Response, Result};
use poem_openapi::error::{AuthorizationError, ContentTypeError, ParseRequestPayloadError};

use super::envelope::{ApiError, msg};
use crate::config::DEFAULT_BODY_LIMIT_BYTES;
use crate::routes::RouteTable;

/// Which methods each path answers, for the `Allow` header of a 405.
#[derive(Debug, Clone, Default)]
pub struct AllowIndex(Arc<RouteTable<String>>);

impl AllowIndex {
    /// From the generated OpenAPI document plus the routes outside it.
    pub fn new(spec_json: &str, extra: &[(&str, &str)]) -> Self {
        let mut methods: HashMap<String, Vec<String>> = HashMap::new();
        if let Ok(spec) = serde_json::from_str::<serde_json::Value>(spec_json) {
            for (path, item) in spec["paths"].as_object().into_iter().flatten() {
                let entry = methods.entry(path.clone()).or_default();
                entry.extend(
                    item.as_object()
                        .into_iter()
                        .flatten()
                        .map(|(m, _)| m.to_uppercase()),
                );
            }
        }
        for (path, method) in extra {
            methods
                .entry((*path).to_owned())
                .or_default()
                .push((*method).to_owned());
        }
        let mut table = RouteTable::default();
        for (path, mut m) in methods {
            m.sort();
            m.dedup();
            table.insert(&path, m.join(", "));
        }
        Self(Arc::new(table))
    }

    fn allow(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }
}

/// Renders any error that reached the top of the route tree as the envelope.
pub fn render_error(err: poem::Error, path: &str, allow: &AllowIndex) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    let status = err.status();
    let api_error = if err.is::<NotFoundError>() {
        ApiError::new(StatusCode::NOT_FOUND, msg::NOT_FOUND)
    } else if err.is::<MethodNotAllowedError>() {
        let mut response =
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, msg::METHOD_NOT_ALLOWED).into_response();
        if let Some(methods) = allow.allow(path).and_then(|m| m.parse().ok()) {
            response.headers_mut().insert(ALLOW, methods);
        }
        return response;
    } else if err.is::<CorsError>() {
        ApiError::new(StatusCode::FORBIDDEN, msg::CORS_FORBIDDEN)
    } else if err.is::<ContentTypeError>() {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            msg::UNSUPPORTED_MEDIA_TYPE,
        )
    } else if err.is::<ParseRequestPayloadError>() {
        ApiError::new(StatusCode::BAD_REQUEST, msg::BAD_JSON)
    } else if err.is::<AuthorizationError>() {
        ApiError::new(StatusCode::UNAUTHORIZED, msg::UNAUTHORIZED)
    } else if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, msg::PAYLOAD_TOO_LARGE)
    } else if status.is_server_error() {
        tracing::error!(error = %err, "unhandled server error");
        ApiError::internal()
    } else {
        ApiError::new(status, msg::BAD_REQUEST)
    };
    api_error.into_response()
}

/// A panicking handler answers a 500 envelope; the panic is logged, never sent.
pub fn render_panic(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %detail, "handler panicked");
    ApiError::internal().into_response()
}

/// Rejects bodies over the limit with 413, whether or not they declare a Content-Length; the
/// body is read here, so the request timeout covers its upload.
pub async fn limit_body(req: &mut Request) -> Result<()> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > DEFAULT_BODY_LIMIT_BYTES) {
        return Err(too_large());
    }
    if declared != Some(0) {
        let body = req
            .take_body()
            .into_bytes_limit(DEFAULT_BODY_LIMIT_BYTES)
            .await
            .map_err(|err| match err {
                poem::error::ReadBodyError::PayloadTooLarge => too_large(),
                other => poem::Error::from(other),
            })?;
        req.set_body(Body::from_bytes(body));
    }
    Ok(())
}

fn too_large() -> poem::Error {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, msg::PAYLOAD_TOO_LARGE).into_poem_error()
}
