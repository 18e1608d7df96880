//! Wiring: settings → state → route tree → listening server. `main` and every test use this.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{Endpoint, EndpointExt, Response, Route, Server};
use secrecy::ExposeSecret as _;

use crate::accept::Capped;
use crate::api::AppState;
use crate::api::api_service;
use crate::api::cors::{CorsOrigins, with_cors};
use crate::api::edge::{Edge, header_timeout_response};
use crate::api::rate_limit::ClientLimit;
use crate::api::rejections::AllowIndex;
use crate::auth::{AuthTokens, generate_secret};
use crate::config::{DEFAULT_WECHAT_API_BASE, Settings, SqliteSynchronous};
use crate::connections::{
    ConnLimits, Headroom, Registry, default_max_connections, raise_file_limit,
};
use crate::dev_sim::{self, DevSimulator};
use crate::meters::{self, RequestMeters};
use crate::store::Db;
use crate::users::{NewIds, RandomIds, Users};
use crate::wechat::{WechatClient, WechatCredentials};

/// How often the per-client rate limiter forgets clients whose allowance is full again.
const CLIENT_LIMIT_PRUNE_INTERVAL: Duration = Duration::from_secs(60);
/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The service, bound to its port and ready to run.
pub struct Application {
    acceptor: TcpAcceptor,
    local_addr: SocketAddr,
    state: AppState,
    limits: ServerLimits,
    /// The SQLite file's absolute path or PostgreSQL's `host:port/database`, for the banner.
    database_location: String,
    /// The in-process simulator of zero-config development; lives as long as the app.
    simulator: Option<DevSimulator>,
    /// The metrics listener (`BAI_METRICS_ADDR`), bound at build so a clash fails start-up.
    metrics: Option<meters::Listener>,
    /// How long `/readyz` answers 503 before the listener closes on shutdown.
    shutdown_drain: Duration,
}

impl Application {
    /// Connects and migrates the database, resolves WeChat (starting the in-process simulator
    /// when no credentials are configured), and binds the listener (`:0` picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_ids(settings, Arc::new(RandomIds)).await
    }

    /// `build` with the source of new users' record ids given (tests force an id clash).
    pub async fn build_with_ids(settings: Settings, ids: Arc<dyn NewIds>) -> anyhow::Result<Self> {
        settings.validate()?;
        dev_sim::check_available(&settings)?;
        let cors = CorsOrigins::parse(&settings.cors_origins).map_err(anyhow::Error::msg)?;
        let db = Db::connect(&settings.db_options(settings.db_max_connections))
            .await
            .with_context(|| {
                format!(
                    "connecting to the database at {}",
                    settings.database_location()
                )
            })?;

        if db.backend() == "sqlite" && settings.sqlite_synchronous == SqliteSynchronous::Normal {
            tracing::warn!(
                "BAI_SQLITE_SYNCHRONOUS=normal: writes are answered before they reach the disk; \
                 a power cut or an OS crash may lose the last answered registrations and profiles"
            );
        }

        let (credentials, simulator) = resolve_wechat(&settings).await?;
        let users = users_domain(&settings, db, credentials)
            .await?
            .with_ids(ids);
        let client_limit = ClientLimit::new(
            settings.rate_limit_per_min,
            settings.rate_limit_burst,
            settings.trusted_proxies.clone(),
        );
        let state = AppState::with_client_limit(users, client_limit);

        let acceptor = TcpListener::bind(settings.addr.as_str())
            .into_acceptor()
            .await
            .with_context(|| format!("binding {}", settings.addr))?;
        let local_addr = *acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr())
            .context("the listener has no TCP address")?;
        let metrics = match &settings.metrics_addr {
            Some(addr) => Some(meters::bind(addr).await?),
            None => None,
        };
        let limits = ServerLimits {
            request_timeout: Duration::from_millis(settings.request_timeout_ms),
            idle_timeout: Duration::from_secs(settings.idle_timeout_secs),
            header_timeout: Duration::from_millis(settings.header_timeout_ms),
            max_connections: max_connections(&settings),
            guard_purge_interval: Duration::from_secs(settings.guard_purge_interval_secs),
            cors,
            metrics: metrics.is_some(),
        };
        Ok(Self {
            acceptor,
            local_addr,
            state,
            limits,
            database_location: settings.database_location(),
            simulator,
            metrics,
            shutdown_drain: Duration::from_millis(settings.shutdown_drain_ms),
        })
    }

    /// Where `GET /metrics` is served, when `BAI_METRICS_ADDR` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|m| m.local_addr)
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let purge = tokio::spawn(purge_guards_forever(
            self.state.clone(),
            self.limits.guard_purge_interval,
        ));
        let prune = tokio::spawn(prune_client_limit_forever(self.state.clone()));
        let trim = tokio::spawn(crate::memory::trim_forever(crate::memory::TRIM_INTERVAL));
        let app = build_app(self.state.clone(), self.limits.clone());
        let registry = Registry::new(
            self.limits.max_connections,
            ConnLimits {
                idle_timeout: self.limits.idle_timeout,
                header_timeout: self.limits.header_timeout,
            },
            header_timeout_response,
        );
        let acceptor = Capped::new(self.acceptor, registry);
        // `/readyz` fails first and the listener closes after the drain: load balancers go first.
        let state = self.state.clone();
        let drain = self.shutdown_drain;
        let shutdown = async move {
            shutdown.await;
            state.start_draining();
            tokio::time::sleep(drain).await;
        };
        let metrics = self
            .metrics
            .map(|m| tokio::spawn(m.serve(self.state.users().store().clone())));
        let result = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(app, shutdown, Some(SHUTDOWN_GRACE))
            .await;
        // Scrapes are served until the very end, so the drain itself can be watched.
        metrics.inspect(tokio::task::JoinHandle::abort);
        purge.abort();
        prune.abort();
        trim.abort();
        self.state.users().store().close().await;
        if let Some(simulator) = self.simulator {
            simulator.shutdown().await;
        }
        result
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// The start-up banner: where everything is and how to log in.
    pub fn log_banner(&self) {
        let base = format!("http://{}", self.local_addr);
        tracing::info!(
            api = %base,
            docs = %format!("{base}/docs"),
            spec = %format!("{base}/openapi.yaml"),
            database = self.state.users().store().backend(),
            database_location = %self.database_location,
            wechat = %self.state.users().wechat().api_base(),
            metrics = %self
                .metrics_addr()
                .map_or_else(|| "off".to_owned(), |a| format!("http://{a}/metrics")),
            "bai-service is listening"
        );
        if let Some(sim) = &self.simulator {
            tracing::info!(
                simulator = %sim.base_url(),
                control_api = %format!("{}/__sim/docs", sim.base_url()),
                "no WeChat credentials configured: using the in-process wechat-sim. \
                 Log in with POST /api/wechat/login {{\"users_wx_code\": \"dev:alice\"}}; \
                 phone codes: \"dev-phone:13800138000\""
            );
        }
    }
}

/// Bounds on what one client may take of the server.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    pub header_timeout: Duration,
    pub max_connections: usize,
    pub guard_purge_interval: Duration,
    /// `BAI_CORS_ORIGINS`
    pub cors: CorsOrigins,
    /// Whether requests are measured (a metrics listener is configured).
    pub metrics: bool,
}

/// `BAI_MAX_CONNECTIONS`, or what the open-file limit (raised to its hard limit) allows.
fn max_connections(settings: &Settings) -> usize {
    let files = raise_file_limit();
    let headroom = Headroom {
        db_max_connections: settings.db_max_connections,
        wechat_max_rps: settings.wechat_max_rps,
        wechat_timeout: settings.wechat_timeout(),
    };
    let from_files = files.map(|f| default_max_connections(f.soft, headroom));
    let max = match (settings.max_connections, from_files) {
        (Some(max), Some(fits)) if max > fits => {
            tracing::warn!(
                max_connections = max,
                open_file_limit = files.map(|f| f.soft),
                "BAI_MAX_CONNECTIONS leaves too little of the open-file limit for the database \
                 pool and WeChat calls: raise the limit (ulimit -n, LimitNOFILE) or lower it"
            );
            max
        }
        (Some(max), _) => max,
        (None, Some(fits)) => fits,
        (None, None) => default_max_connections(1024, headroom),
    };
    tracing::info!(
        max_connections = max,
        from = if settings.max_connections.is_some() {
            "BAI_MAX_CONNECTIONS"
        } else {
            "the open-file limit"
        },
        "connection cap"
    );
    max
}

/// The route tree with every middleware: the one endpoint `main` and the tests serve.
pub fn build_app(state: AppState, limits: ServerLimits) -> impl Endpoint<Output = Response> {
    let api = api_service();
    let allow = AllowIndex::new(
        &api.spec(),
        &[
            ("/docs", "GET"),
            ("/openapi.json", "GET"),
            ("/openapi.yaml", "GET"),
        ],
    );
    let meters = limits.metrics.then(|| {
        let spec: serde_json::Value = serde_json::from_str(&api.spec()).unwrap_or_default();
        let paths = spec["paths"]
            .as_object()
            .map(|p| p.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        RequestMeters::new(
            paths
                .iter()
                .map(String::as_str)
                .chain(["/openapi.json", "/openapi.yaml"]),
            &["/docs"],
        )
    });
    let (spec_json, spec_yaml, docs) = crate::api::document::endpoints();
    let routes = Route::new()
        .at("/openapi.json", spec_json)
        .at("/openapi.yaml", spec_yaml)
        .nest("/docs", docs)
        .nest("/", api);
    with_cors(routes, limits.cors, allow.clone())
        .with(Edge::new(state, allow, limits.request_timeout).with_meters(meters))
}

/// The users domain on `db`, built alike for the server and the CLI: tokens signed with
/// BAI_AUTH_SECRET or, without it, the development secret kept in the database.
pub async fn users_domain(
    settings: &Settings,
    db: Db,
    credentials: WechatCredentials,
) -> anyhow::Result<Users> {
    let secret = match &settings.auth_secret {
        Some(secret) => secret.expose_secret().to_owned(),
        None => {
            tracing::warn!(
                "BAI_AUTH_SECRET is not set: tokens are signed with a generated secret kept \
                 in the database, for development only (anyone who can read the database \
                 can forge tokens; production requires BAI_AUTH_SECRET)"
            );
            db.auth_secret_or_init(&generate_secret())
                .await
                .context("loading the auth secret")?
        }
    };
    let tokens = AuthTokens::new(secret, Duration::from_secs(settings.token_ttl_secs));
    let wechat = WechatClient::new(credentials, settings.wechat_timeout())
        .with_max_rps(settings.wechat_max_rps);
    Ok(Users::new(
        db,
        wechat,
        tokens,
        Duration::from_secs(settings.guard_ttl_secs),
    ))
}

/// The configured WeChat: real WeChat or whatever `BAI_WECHAT_API_BASE` says.
pub fn configured_wechat(settings: &Settings) -> Option<WechatCredentials> {
    let (Some(appid), Some(secret)) = (&settings.wechat_appid, &settings.wechat_secret) else {
        return None;
    };
    let api_base = settings
        .wechat_api_base
        .clone()
        .unwrap_or_else(|| DEFAULT_WECHAT_API_BASE.to_owned());
    Some(WechatCredentials {
        api_base,
        appid: appid.clone(),
        secret: secret.clone(),
    })
}

/// With credentials: the configured WeChat. Without: the development stand-in (`dev_sim`).
async fn resolve_wechat(
    settings: &Settings,
) -> anyhow::Result<(WechatCredentials, Option<DevSimulator>)> {
    if let Some(credentials) = configured_wechat(settings) {
        return Ok((credentials, None));
    }
    dev_sim::resolve(settings).await
}

/// Keeps `request_guards` bounded without a request ever waiting on it.
async fn purge_guards_forever(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(err) = state
            .users()
            .store()
            .purge_expired_guards(chrono::Utc::now().timestamp_millis())
            .await
        {
            tracing::warn!(error = %err, "could not purge expired login guards");
        }
    }
}

async fn prune_client_limit_forever(state: AppState) {
    let mut tick = tokio::time::interval(CLIENT_LIMIT_PRUNE_INTERVAL);
    loop {
        tick.tick().await;
        state.client_limit().prune();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
