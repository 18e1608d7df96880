//! Wiring: settings → state → route tree → listening server. `main` and every test use this.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{Endpoint, EndpointExt, Response, Route, Server};
use wechat_sim::{SimConfig, Simulator};

use crate::api::api_service;
use crate::api::cors::{CorsOrigins, with_cors};
use crate::api::edge::Edge;
use crate::api::framework::AllowIndex;
use crate::auth::{Tokens, generate_secret};
use crate::config::{DEFAULT_WECHAT_API_BASE, Secret, Settings};
use crate::idle::IdleTimeout;
use crate::state::AppState;
use crate::store::{Db, DbOptions};
use crate::wechat::{WechatClient, WechatCredentials};

/// How often expired 429-guard claims are swept away.
const GUARD_PURGE_INTERVAL: Duration = Duration::from_secs(60);
/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The service, bound to its port and ready to run.
pub struct Application {
    acceptor: TcpAcceptor,
    local_addr: SocketAddr,
    state: AppState,
    limits: ServerLimits,
    /// The in-process simulator of zero-config development; lives as long as the app.
    simulator: Option<Simulator>,
}

impl Application {
    /// Connects and migrates the database, resolves WeChat (starting the in-process simulator
    /// when no credentials are configured), and binds the listener (`:0` picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let cors = CorsOrigins::parse(&settings.cors_origins).map_err(anyhow::Error::msg)?;
        let db = Db::connect(&DbOptions {
            url: settings.database_url.clone(),
            max_connections: settings.db_max_connections,
            acquire_timeout: Duration::from_millis(settings.db_acquire_timeout_ms),
        })
        .await
        .context("connecting to the database")?;

        let secret = match &settings.auth_secret {
            Some(secret) => secret.expose().to_owned(),
            None => db
                .auth_secret_or_init(&generate_secret())
                .await
                .context("loading the auth secret")?,
        };
        let tokens = Tokens::new(secret, Duration::from_secs(settings.token_ttl_secs));

        let (credentials, simulator) = resolve_wechat(&settings).await?;
        let wechat = WechatClient::new(credentials, settings.wechat_timeout());
        let state = AppState::new(
            db,
            tokens,
            wechat,
            Duration::from_secs(settings.guard_ttl_secs),
        );

        let acceptor = TcpListener::bind(settings.addr.as_str())
            .into_acceptor()
            .await
            .with_context(|| format!("binding {}", settings.addr))?;
        let local_addr = *acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr())
            .context("the listener has no TCP address")?;
        let limits = ServerLimits {
            request_timeout: Duration::from_millis(settings.request_timeout_ms),
            idle_timeout: Duration::from_secs(settings.idle_timeout_secs),
            cors,
        };
        Ok(Self {
            acceptor,
            local_addr,
            state,
            limits,
            simulator,
        })
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn simulator(&self) -> Option<&Simulator> {
        self.simulator.as_ref()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let purge = tokio::spawn(purge_guards_forever(self.state.clone()));
        let app = build_app(self.state.clone(), self.limits.clone());
        let acceptor = IdleTimeout::new(self.acceptor, self.limits.idle_timeout);
        let result = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(app, shutdown, Some(SHUTDOWN_GRACE))
            .await;
        purge.abort();
        self.state.db.close().await;
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
            database = self.state.db.backend(),
            wechat = %self.state.wechat.api_base(),
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
    /// `BAI_CORS_ORIGINS`
    pub cors: CorsOrigins,
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
    let (spec_json, spec_yaml, docs) = crate::api::document::endpoints();
    let routes = Route::new()
        .at("/openapi.json", spec_json)
        .at("/openapi.yaml", spec_yaml)
        .nest("/docs", docs)
        .nest("/", api);
    with_cors(routes, limits.cors, allow.clone()).with(Edge::new(
        state,
        allow,
        limits.request_timeout,
    ))
}

/// With credentials: real WeChat (or whatever `BAI_WECHAT_API_BASE` says). Without, but with a
/// base URL: an external wechat-sim with its default app. With neither: an in-process one.
async fn resolve_wechat(
    settings: &Settings,
) -> anyhow::Result<(WechatCredentials, Option<Simulator>)> {
    if let (Some(appid), Some(secret)) = (&settings.wechat_appid, &settings.wechat_secret) {
        let api_base = settings
            .wechat_api_base
            .clone()
            .unwrap_or_else(|| DEFAULT_WECHAT_API_BASE.to_owned());
        return Ok((
            WechatCredentials {
                api_base,
                appid: appid.clone(),
                secret: secret.clone(),
            },
            None,
        ));
    }
    let sim_defaults = SimConfig::default();
    if let Some(api_base) = &settings.wechat_api_base {
        return Ok((
            WechatCredentials {
                api_base: api_base.clone(),
                appid: wechat_sim::DEFAULT_APPID.to_owned(),
                secret: Secret::new(wechat_sim::DEFAULT_SECRET),
            },
            None,
        ));
    }
    let simulator = Simulator::bind(&settings.dev_sim_addr, sim_defaults)
        .await
        .with_context(|| {
            format!(
                "starting the in-process wechat-sim on {}",
                settings.dev_sim_addr
            )
        })?;
    let credentials = WechatCredentials {
        api_base: simulator.base_url(),
        appid: simulator.appid().to_owned(),
        secret: Secret::new(simulator.secret()),
    };
    Ok((credentials, Some(simulator)))
}

async fn purge_guards_forever(state: AppState) {
    let mut tick = tokio::time::interval(GUARD_PURGE_INTERVAL);
    loop {
        tick.tick().await;
        if let Err(err) = state
            .db
            .purge_expired_guards(chrono::Utc::now().timestamp_millis())
            .await
        {
            tracing::warn!(error = %err, "could not purge expired login guards");
        }
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
