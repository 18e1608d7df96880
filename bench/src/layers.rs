//! `bench-layers LEVEL [ADDR]`: the service's route tree (no database) with the first LEVEL of
//! its middleware layers, innermost first, so that each layer's cost per request can be measured
//! with `perf stat` over a wrk run of `POST /api/system/test-helloworld`. Level 0 is poem-openapi
//! alone; the last level is the stack `build_app` serves. Logs go to stdout as JSON.

use std::time::Duration;

use bai_service::api::access_log::access_log;
use bai_service::api::api_service;
use bai_service::api::framework::{AllowIndex, limit_body, render_error, render_panic, time_limit};
use bai_service::auth::normalize_authorization;
use bai_service::config::LogFormat;
use poem::listener::TcpListener;
use poem::middleware::{CatchPanic, RequestId, ReuseId};
use poem::{Endpoint, EndpointExt, IntoResponse, Route, Server};

const TIMEOUT: Duration = Duration::from_secs(30);

fn l0() -> impl Endpoint {
    let api = api_service();
    let docs = api.swagger_ui();
    let spec_json = api.spec_endpoint();
    let spec_yaml = api.spec_endpoint_yaml();
    Route::new()
        .at("/openapi.json", spec_json)
        .at("/openapi.yaml", spec_yaml)
        .nest("/docs", docs)
        .nest("/", api)
}
fn l1() -> impl Endpoint {
    l0().around(normalize_authorization)
}
fn l2() -> impl Endpoint {
    l1().around(limit_body)
}
fn l3() -> impl Endpoint {
    l2().around(|next, req| time_limit(next, req, TIMEOUT))
}
fn l4() -> impl Endpoint {
    let allow = AllowIndex::new(&api_service().spec(), &[]);
    l3().around(move |next, req| {
        let allow = allow.clone();
        async move {
            let path = req.uri().path().to_owned();
            Ok(match next.call(req).await {
                Ok(response) => response.into_response(),
                Err(err) => render_error(err, &path, &allow),
            })
        }
    })
}
fn l5() -> impl Endpoint {
    l4().with(CatchPanic::new().with_handler(render_panic))
}
fn l6() -> impl Endpoint {
    l5().data(7u64)
}
fn l7() -> impl Endpoint {
    l6().around(access_log)
}
fn l8() -> impl Endpoint {
    l7().with(RequestId::default().reuse_id(ReuseId::Use))
}

/// `BENCH_IDLE_TIMEOUT=60` serves with poem's idle-connection timeout, as the service does.
async fn serve(addr: String, app: impl Endpoint + 'static) -> std::io::Result<()> {
    let mut server = Server::new(TcpListener::bind(addr));
    if let Some(secs) = std::env::var("BENCH_IDLE_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        server = server.idle_timeout(Duration::from_secs(secs));
    }
    server.run(app).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let level: u32 = args.next().and_then(|l| l.parse().ok()).unwrap_or(8);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8098".to_owned());
    bai_service::telemetry::init(LogFormat::Json);
    match level {
        0 => serve(addr, l0()).await,
        1 => serve(addr, l1()).await,
        2 => serve(addr, l2()).await,
        3 => serve(addr, l3()).await,
        4 => serve(addr, l4()).await,
        5 => serve(addr, l5()).await,
        6 => serve(addr, l6()).await,
        7 => serve(addr, l7()).await,
        _ => serve(addr, l8()).await,
    }
}
