//! The intercepting HTTP proxy. `CONNECT` to a WeChat host is answered by the simulator itself
//! (TLS terminated with the simulator's leaf certificate); plain proxied requests to a WeChat
//! host are served directly. Every other host gets 403: the proxy never opens a connection
//! anywhere, so nothing a test does leaves the machine.

use std::sync::Arc;

use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use super::tls::TlsTerminator;
use super::{host_allowed, request_host};

pub struct ProxyEndpoint<E> {
    pub hosts: Arc<Vec<String>>,
    pub inner: E,
    pub tls: TlsTerminator,
}

fn refuse(host: &str) -> Response {
    tracing::warn!(
        host,
        "proxy refused a host that is not an intercepted WeChat host"
    );
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(format!(
            "wechat-sim proxy: {host:?} is not an intercepted WeChat host; \
             nothing is forwarded to the internet\n"
        ))
}

impl<E: Endpoint> Endpoint for ProxyEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let host = request_host(&req).unwrap_or_default();
        if !host_allowed(&self.hosts, &host) {
            return Ok(refuse(&host));
        }
        if req.method() != Method::CONNECT {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let (Some(local), Some(peer)) = (
            req.local_addr().as_socket_addr().copied(),
            req.remote_addr().as_socket_addr().copied(),
        ) else {
            return Ok(StatusCode::BAD_REQUEST.into_response());
        };
        let upgrade = match req.take_upgrade() {
            Ok(upgrade) => upgrade,
            Err(_) => return Ok(StatusCode::BAD_REQUEST.into_response()),
        };
        self.tls.spawn(
            async move { upgrade.await.map_err(std::io::Error::other) },
            local,
            peer,
        );
        Ok(Response::builder().status(StatusCode::OK).finish())
    }
}
