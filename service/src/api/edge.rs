//! The edge of every request, as one middleware: the request id (reused from `x-request-id` or
//! generated, sent back, and the span every log line of the request carries), the access-log
//! line, the app state, panics as a 500 envelope, the request timeout (408), the body limit
//! (413), the `Authorization` normalisation, and framework errors rendered as the envelope.
//!
//! These were seven nested `around`/`with` layers (poem's `RequestId`, `CatchPanic`, `AddData`
//! and four closures); one endpoint does the same work with one future. The method, URI and
//! peer address are copied once per request for the access-log line and the metrics; the
//! copies are cheap (the URI's clone shares its bytes, a TCP peer is a socket address).

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use poem::http::header::HeaderName;
use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tracing::Instrument;

use super::AppState;
use super::access_log;
use super::bearer::normalize_authorization;
use super::envelope::{ApiError, msg};
use super::rejections::{AllowIndex, limit_body, render_error, render_panic};
use crate::meters::RequestMeters;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The middleware; `build_app` wraps the whole route tree in it.
#[derive(Clone)]
pub struct Edge {
    state: AppState,
    allow: AllowIndex,
    request_timeout: Duration,
    /// Request metrics, when a metrics listener is configured.
    meters: Option<Arc<RequestMeters>>,
}

impl Edge {
    pub fn new(state: AppState, allow: AllowIndex, request_timeout: Duration) -> Self {
        Self {
            state,
            allow,
            request_timeout,
            meters: None,
        }
    }

    pub fn with_meters(mut self, meters: Option<RequestMeters>) -> Self {
        self.meters = meters.map(Arc::new);
        self
    }
}

impl<E: Endpoint> Middleware<E> for Edge {
    type Output = EdgeEndpoint<E>;

    fn transform(&self, next: E) -> EdgeEndpoint<E> {
        EdgeEndpoint {
            next,
            edge: self.clone(),
        }
    }
}

pub struct EdgeEndpoint<E> {
    next: E,
    edge: Edge,
}

impl<E: Endpoint> Endpoint for EdgeEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let request_id = request_id(&req);
        let span =
            tracing::error_span!("request", request_id = %request_id.to_str().unwrap_or_default());
        let mut response = self.respond(req).instrument(span).await;
        response.headers_mut().insert(X_REQUEST_ID, request_id);
        Ok(response)
    }
}

impl<E: Endpoint> EdgeEndpoint<E> {
    /// Everything inside the request span: the access log around the panic catcher, around the
    /// error renderer, around the timeout, around the request itself.
    async fn respond(&self, mut req: Request) -> Response {
        let started = Instant::now();
        let method = req.method().clone();
        let uri = req.uri().clone();
        let remote = req.remote_addr().clone();
        let meters = self.edge.meters.as_deref();
        let in_flight = meters.map(RequestMeters::start);
        req.set_data(self.edge.state.clone());
        let bounded = tokio::time::timeout(self.edge.request_timeout, self.handle(req));
        let response = match catch_panic(bounded).await {
            Ok(Ok(Ok(response))) => response,
            Ok(Ok(Err(err))) => render_error(err, uri.path(), &self.edge.allow),
            Ok(Err(_elapsed)) => {
                ApiError::new(StatusCode::REQUEST_TIMEOUT, msg::REQUEST_TIMEOUT).into_response()
            }
            Err(panic) => render_panic(panic),
        };
        access_log::record(&method, uri.path(), response.status(), started, &remote);
        if let Some(meters) = meters {
            let took = started.elapsed().as_secs_f64();
            meters.finished(meters.route(uri.path()), &method, response.status(), took);
        }
        drop(in_flight);
        response
    }

    /// Bounded by the request timeout, body upload included.
    async fn handle(&self, mut req: Request) -> Result<Response> {
        limit_body(&mut req).await?;
        normalize_authorization(req.headers_mut());
        self.next.call(req).await.map(IntoResponse::into_response)
    }
}

/// The 408 the connection layer writes itself when a request head arrives too slowly: no
/// request was parsed, so no endpoint can answer. Raw HTTP/1.1, closing the connection.
pub fn header_timeout_response() -> Vec<u8> {
    use poem_openapi::types::ToJSON as _;
    let body = ApiError::new(StatusCode::REQUEST_TIMEOUT, msg::REQUEST_TIMEOUT)
        .body
        .to_json_string();
    let id = new_request_id();
    format!(
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\nx-request-id: {}\r\n\r\n{body}",
        body.len(),
        id.to_str().unwrap_or_default(),
    )
    .into_bytes()
}

/// The incoming `x-request-id` when it is visible ASCII, else a fresh UUID v4.
fn request_id(req: &Request) -> HeaderValue {
    if let Some(incoming) = req
        .headers()
        .get(&X_REQUEST_ID)
        .filter(|value| value.to_str().is_ok())
    {
        return incoming.clone();
    }
    new_request_id()
}

fn new_request_id() -> HeaderValue {
    let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buf = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut buf))
        .expect("a hyphenated UUID is a valid header value")
}

/// Runs `future`, turning a panic in any of its polls into `Err` with the panic's payload.
async fn catch_panic<F: Future>(future: F) -> std::thread::Result<F::Output> {
    let mut future = pin!(future);
    poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use poem::http::{Method, StatusCode};
    use poem::{Endpoint, EndpointExt, Request, Response, Route, handler, post};

    use super::{AllowIndex, Edge};
    use crate::api::AppState;
    use crate::auth::AuthTokens;
    use crate::config::Secret;
    use crate::store::{Db, DbOptions};
    use crate::users::Users;
    use crate::wechat::{WechatClient, WechatCredentials};

    #[handler]
    fn boom() -> &'static str {
        panic!("boom")
    }

    #[handler]
    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "late"
    }

    async fn call(path: &str, request_id: Option<&str>) -> (Response, String) {
        let db = Db::connect(&DbOptions {
            url: "sqlite::memory:".to_owned(),
            max_connections: 1,
            acquire_timeout: Duration::from_secs(1),
            busy_timeout: Duration::from_secs(1),
            sqlite_sync_commits: true,
        })
        .await
        .unwrap();
        let wechat = WechatClient::new(
            WechatCredentials {
                api_base: "http://127.0.0.1:9".to_owned(),
                appid: "app".to_owned(),
                secret: Secret::from("secret"),
            },
            Duration::from_secs(1),
        );
        let tokens = AuthTokens::new("s".repeat(40), Duration::from_secs(60));
        let state = AppState::new(Users::new(db, wechat, tokens, Duration::from_secs(1)));
        let app = Route::new()
            .at("/boom", post(boom))
            .at("/slow", post(slow))
            .with(Edge::new(
                state,
                AllowIndex::default(),
                Duration::from_millis(50),
            ));
        let mut request = Request::builder().method(Method::POST).uri_str(path);
        if let Some(id) = request_id {
            request = request.header("x-request-id", id);
        }
        let mut response = app.call(request.finish()).await.unwrap();
        let body = response.take_body().into_string().await.unwrap();
        (response, body)
    }

    #[tokio::test]
    async fn a_panic_is_a_500_envelope_with_a_request_id() {
        let (response, body) = call("/boom", None).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()["x-request-id"].len(), 36);
        assert_eq!(body, r#"{"code":500,"data":{},"msg":"服务器内部错误"}"#);
    }

    #[tokio::test]
    async fn a_slow_request_is_a_408_envelope_and_the_request_id_is_reused() {
        let (response, body) = call("/slow", Some("trace-1")).await;
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(response.headers()["x-request-id"], "trace-1");
        assert_eq!(body, r#"{"code":408,"data":{},"msg":"请求超时"}"#);
    }
}
