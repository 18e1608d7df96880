//! Prometheus metrics: the recorder, the names, the per-request recording the edge middleware
//! does, and the scrape endpoint served on its own listener (`BAI_METRICS_ADDR`).
//!
//! Without `BAI_METRICS_ADDR` no recorder is installed and every `metrics` macro is a no-op.
//! Labels are `&'static str` from closed sets (route templates, methods, outcome classes), so
//! no raw path or user input ever becomes a series.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::Instant;

use metrics::{Counter, Gauge, Histogram, counter, describe_counter, describe_gauge};
use metrics::{describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::http::{Method, StatusCode};
use std::net::SocketAddr;

use anyhow::Context as _;
use poem::listener::{Acceptor, Listener as _, TcpAcceptor, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Route, Server, get, handler};

use crate::routes::RouteTable;
use crate::store::Db;

pub const HTTP_REQUESTS: &str = "bai_http_requests_total";
pub const HTTP_DURATION: &str = "bai_http_request_duration_seconds";
pub const HTTP_IN_FLIGHT: &str = "bai_http_requests_in_flight";
pub const WECHAT_CALLS: &str = "bai_wechat_calls_total";
pub const WECHAT_DURATION: &str = "bai_wechat_call_duration_seconds";
pub const WECHAT_TOKEN_REFRESHES: &str = "bai_wechat_access_token_refreshes_total";
pub const GUARD_CLAIMS: &str = "bai_guard_claims_total";
pub const RATE_LIMITED: &str = "bai_rate_limited_total";
pub const DB_POOL: &str = "bai_db_pool_connections";
pub const DB_POOL_MAX: &str = "bai_db_pool_max_connections";
pub const DB_ERRORS: &str = "bai_db_query_errors_total";
pub const BUILD_INFO: &str = "bai_build_info";

/// The label of a request whose path matches no route: one series for every unknown path.
pub const UNMATCHED: &str = "unmatched";

/// Request latencies: a health check takes tens of microseconds, a login a WeChat round trip.
const HTTP_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const WECHAT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The handle, once installed; a lock, not a `OnceLock`, because two apps starting at once
/// must not both try to install.
static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Installs the process-wide recorder once (tests start many apps in one process) and
/// returns the handle scrapes render from.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let mut installed = HANDLE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), HTTP_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(WECHAT_DURATION.into()), WECHAT_BUCKETS)?
        .install_recorder()?;
    *installed = Some(handle.clone());
    describe();
    metrics_process::Collector::default().describe();
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION"), "build_time" => env!("BAI_BUILD_TIME"))
        .set(1.0);
    Ok(handle)
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by route template, method and status."
    );
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency by route template."
    );
    describe_gauge!(HTTP_IN_FLIGHT, "HTTP requests being handled.");
    describe_counter!(
        WECHAT_CALLS,
        "WeChat API calls by api and outcome (ok, errcode class, timeout, unreachable, ...)."
    );
    describe_histogram!(
        WECHAT_DURATION,
        metrics::Unit::Seconds,
        "WeChat API call latency by api."
    );
    describe_counter!(
        WECHAT_TOKEN_REFRESHES,
        "Access tokens fetched from WeChat, by reason (expired or stale) and outcome."
    );
    describe_counter!(
        GUARD_CLAIMS,
        "Login-code guard claims: acquired, held (answered 429) or released for a retry."
    );
    describe_counter!(
        RATE_LIMITED,
        "Requests refused by a rate limit: per client or the WeChat call ceiling."
    );
    describe_gauge!(
        DB_POOL,
        "Database pool connections by state (idle, in_use), at scrape."
    );
    describe_gauge!(DB_POOL_MAX, "The database pool's configured maximum.");
    describe_counter!(DB_ERRORS, "Failed database calls by cause and operation.");
    describe_gauge!(BUILD_INFO, "1, labelled with the version and build time.");
}

/// Every route's template interned once per process, so a label is a `&'static str` and the
/// same template in two apps (tests) is one allocation.
fn intern(template: &str) -> &'static str {
    static INTERNED: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);
    let mut set = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = set.get(template) {
        return known;
    }
    let leaked: &'static str = Box::leak(template.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// The request metrics of one app: the route templates it serves, and the handles already
/// registered, so a request costs a map lookup and atomic adds, no allocation.
pub struct RequestMeters {
    routes: RouteTable<&'static str>,
    /// Prefixes served by nested endpoints (`/docs/...`).
    prefixes: Vec<&'static str>,
    in_flight: Gauge,
    counters: RwLock<HashMap<(&'static str, &'static str, u16), Counter>>,
    histograms: RwLock<HashMap<&'static str, Histogram>>,
}

impl RequestMeters {
    pub fn new<'a>(routes: impl IntoIterator<Item = &'a str>, prefixes: &[&str]) -> Self {
        Self {
            routes: routes
                .into_iter()
                .fold(RouteTable::default(), |mut table, r| {
                    let r = intern(r);
                    table.insert(r, r);
                    table
                }),
            prefixes: prefixes.iter().map(|p| intern(p)).collect(),
            in_flight: gauge!(HTTP_IN_FLIGHT),
            counters: RwLock::default(),
            histograms: RwLock::default(),
        }
    }

    /// The route template a path is served by, or `unmatched`.
    pub fn route(&self, path: &str) -> &'static str {
        if let Some(route) = self.routes.get(path) {
            return route;
        }
        self.prefixes
            .iter()
            .find(|p| {
                path.strip_prefix(**p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .copied()
            .unwrap_or(UNMATCHED)
    }

    /// Counts the request in flight until the guard drops (a client that hangs up drops the
    /// request's future, so this cannot be a call at the end).
    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.increment(1.0);
        InFlight(&self.in_flight)
    }

    pub fn finished(&self, route: &'static str, method: &Method, status: StatusCode, took: f64) {
        let method = method_label(method);
        let key = (route, method, status.as_u16());
        let counted = self
            .counters
            .read()
            .ok()
            .and_then(|c| c.get(&key).map(|c| c.increment(1)));
        if counted.is_none() {
            let counter = counter!(HTTP_REQUESTS, "route" => route, "method" => method,
                "status" => status_label(status));
            counter.increment(1);
            if let Ok(mut counters) = self.counters.write() {
                counters.insert(key, counter);
            }
        }
        let observed = self
            .histograms
            .read()
            .ok()
            .and_then(|h| h.get(route).map(|h| h.record(took)));
        if observed.is_none() {
            let histogram = histogram!(HTTP_DURATION, "route" => route);
            histogram.record(took);
            if let Ok(mut histograms) = self.histograms.write() {
                histograms.insert(route, histogram);
            }
        }
    }
}

pub struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "other",
    }
}

/// `"100"` … `"599"` made once, so a status label never allocates.
fn status_label(status: StatusCode) -> &'static str {
    static LABELS: LazyLock<Vec<String>> =
        LazyLock::new(|| (100..600).map(|s: u16| s.to_string()).collect());
    LABELS
        .get(usize::from(status.as_u16()).saturating_sub(100))
        .map_or("other", String::as_str)
}

/// One WeChat call's outcome (`ok` or its error kind's label) and latency; `api` names the
/// endpoint (`code2session`, ...).
pub fn wechat_call(api: &'static str, started: Instant, outcome: &'static str) {
    counter!(WECHAT_CALLS, "api" => api, "outcome" => outcome).increment(1);
    histogram!(WECHAT_DURATION, "api" => api).record(started.elapsed().as_secs_f64());
}

pub fn token_refresh(reason: &'static str, ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    counter!(WECHAT_TOKEN_REFRESHES, "reason" => reason, "outcome" => outcome).increment(1);
}

/// `acquired`, `held` or `released`.
pub fn guard_claim(event: &'static str) {
    counter!(GUARD_CLAIMS, "event" => event).increment(1);
}

/// `client` (per-address limit) or `wechat_ceiling`.
pub fn rate_limited(limit: &'static str) {
    counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

pub fn db_error(cause: &'static str, operation: &'static str) {
    counter!(DB_ERRORS, "cause" => cause, "operation" => operation).increment(1);
}

/// The metrics listener, bound at build so a clash fails start-up.
pub struct Listener {
    acceptor: TcpAcceptor,
    pub local_addr: SocketAddr,
    handle: PrometheusHandle,
}

pub async fn bind(addr: &str) -> anyhow::Result<Listener> {
    let handle = install().context("installing the metrics recorder")?;
    let acceptor = TcpListener::bind(addr)
        .into_acceptor()
        .await
        .with_context(|| format!("binding the metrics listener {addr} (BAI_METRICS_ADDR)"))?;
    let local_addr = *acceptor
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr())
        .context("the metrics listener has no TCP address")?;
    Ok(Listener {
        acceptor,
        local_addr,
        handle,
    })
}

impl Listener {
    /// Serves `GET /metrics` until the task is aborted; what changes only at scrape time (the
    /// pool, the process) is sampled then.
    pub async fn serve(self, db: Db) -> std::io::Result<()> {
        let upkeep = tokio::spawn(keep_up(self.handle.clone()));
        let app = Route::new().at("/metrics", get(scrape)).data(Scrape {
            handle: self.handle,
            db,
            process: Arc::new(metrics_process::Collector::default()),
        });
        let served = Server::new_with_acceptor(self.acceptor).run(app).await;
        upkeep.abort();
        served
    }
}

/// The exporter keeps every histogram sample until its upkeep folds them into buckets, and
/// `install_recorder` leaves that to us: without it, a service nobody scrapes (Prometheus down, a
/// wrong target) would hold every request's latency in memory: measured with health traffic and no
/// scrape, RSS grew 29 → 61 MiB in one minute and kept growing. Five seconds is the exporter's
/// own upkeep interval.
async fn keep_up(handle: PrometheusHandle) {
    let mut every = tokio::time::interval(UPKEEP_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        handle.run_upkeep();
    }
}

const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    db: Db,
    process: Arc<metrics_process::Collector>,
}

#[handler]
fn scrape(scrape: Data<&Scrape>) -> poem::Response {
    scrape.process.collect();
    let pool = scrape.db.pool_stats();
    gauge!(DB_POOL, "state" => "idle").set(pool.idle as f64);
    gauge!(DB_POOL, "state" => "in_use").set(pool.size.saturating_sub(pool.idle) as f64);
    gauge!(DB_POOL_MAX).set(f64::from(pool.max));
    scrape.handle.run_upkeep();
    poem::Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(scrape.handle.render())
}
