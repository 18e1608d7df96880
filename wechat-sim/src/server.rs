//! The HTTP server: route tree and the `Simulator` handle that owns the server task.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use std::sync::Mutex;

use poem::listener::{Acceptor, TcpAcceptor};
use poem::{Endpoint, EndpointExt, Route, Server};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{AppSpec, SimConfig};
use crate::connections::KillableAcceptor;
use crate::faults::{ActiveFault, Fault};
use crate::intercept::{Authority, ProxyEndpoint, TlsTerminator};
use crate::journal::JournalEntry;
use crate::sim::{LoginCode, Sim};
use crate::wechat_api::WeChatEndpoint;
use crate::{DEFAULT_APPID, DEFAULT_SECRET, control, ids};

/// The whole route tree: the control API under `/__sim`, everything else is WeChat's.
pub(crate) fn build_app(sim: Arc<Sim>) -> impl Endpoint + 'static {
    let control = control::service(sim.clone());
    Route::new()
        .at("/__sim/openapi.json", control.spec_endpoint())
        .at(
            "/__sim/wechat-openapi.json",
            crate::wechat_doc::service().spec_endpoint(),
        )
        .nest("/__sim/docs", control.swagger_ui())
        .nest("/__sim", control)
        .nest("/", WeChatEndpoint { sim })
        .map_to_response()
}

/// A running simulator. Dropping it (or calling [`Simulator::shutdown`]) stops the server and
/// any proxy or TLS listener started on it.
pub struct Simulator {
    sim: Arc<Sim>,
    addr: SocketAddr,
    hosts: Arc<Vec<String>>,
    tls: TlsTerminator,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// Runs a poem server on `acceptor` until `stop` flips.
fn spawn_server<A: Acceptor + 'static>(
    acceptor: A,
    app: impl Endpoint + 'static,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let stopped = async move {
            let _ = stop.changed().await;
        };
        // A short grace period: open keep-alive connections must not hold a test hostage.
        let result = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(app, stopped, Some(Duration::from_secs(1)))
            .await;
        if let Err(error) = result {
            tracing::error!(%error, "wechat-sim server failed");
        }
    })
}

impl Simulator {
    /// Starts on `127.0.0.1:0` with the default config. Panics only if it cannot bind.
    pub async fn start() -> Simulator {
        Self::start_with(SimConfig::default()).await
    }

    /// Starts on `127.0.0.1:0`. Panics only if it cannot bind (or the configured CA is
    /// invalid).
    pub async fn start_with(config: SimConfig) -> Simulator {
        Self::bind("127.0.0.1:0", config)
            .await
            .expect("wechat-sim: cannot start on 127.0.0.1:0")
    }

    /// Starts on a fixed address (port 0 picks a free one). An invalid `config.ca` is an
    /// `InvalidInput` error.
    pub async fn bind(addr: &str, mut config: SimConfig) -> std::io::Result<Simulator> {
        if config.apps.is_empty() {
            config
                .apps
                .push(AppSpec::new(DEFAULT_APPID, DEFAULT_SECRET));
        }
        let authority = Authority::new(config.ca.as_ref(), &config.intercept_hosts)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let hosts = Arc::new(config.intercept_hosts.clone());
        let sim = Arc::new(Sim::new(config, authority.cert_pem));
        let acceptor = KillableAcceptor {
            inner: TcpAcceptor::from_tokio(listener)?,
            switches: sim.connections.clone(),
        };
        let (stop, stopped) = watch::channel(false);
        let (tls, tls_acceptor) = TlsTerminator::new(authority.tls, sim.connections.clone());
        let tasks = vec![
            spawn_server(acceptor, build_app(sim.clone()), stopped.clone()),
            spawn_server(tls_acceptor, build_app(sim.clone()), stopped),
        ];
        Ok(Simulator {
            sim,
            addr,
            hosts,
            tls,
            stop,
            tasks: Mutex::new(tasks),
        })
    }

    /// Starts the intercepting HTTP proxy on `addr` (port 0 picks a free one) and returns its
    /// address: point `HTTPS_PROXY` (or a client's proxy setting) at `http://` + it and trust
    /// [`Simulator::ca_pem`].
    pub async fn start_proxy(&self, addr: &str) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let acceptor = KillableAcceptor {
            inner: TcpAcceptor::from_tokio(listener)?,
            switches: self.sim.connections.clone(),
        };
        let proxy = ProxyEndpoint {
            hosts: self.hosts.clone(),
            inner: build_app(self.sim.clone()),
            tls: self.tls.clone(),
        };
        let task = spawn_server(acceptor, proxy, self.stop.subscribe());
        self.tasks().push(task);
        Ok(local)
    }

    /// Starts a TLS listener on `addr` serving the same API with the WeChat hosts'
    /// certificate (for setups that resolve `api.weixin.qq.com` to this machine).
    pub async fn start_tls(&self, addr: &str) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let task = tokio::spawn(self.tls.clone().serve(listener, self.stop.subscribe()));
        self.tasks().push(task);
        Ok(local)
    }

    /// The CA certificate (PEM) clients must trust to use the proxy or the TLS listener.
    pub fn ca_pem(&self) -> &str {
        &self.sim.ca_pem
    }

    pub(crate) fn core(&self) -> &Sim {
        &self.sim
    }

    fn tasks(&self) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `http://127.0.0.1:PORT`, no trailing slash. A wildcard bind is reported as loopback so
    /// the URL is always usable from the same machine.
    pub fn base_url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first (default) app's appid.
    pub fn appid(&self) -> &str {
        &self.sim.config.apps[0].appid
    }

    /// The first (default) app's secret.
    pub fn secret(&self) -> &str {
        &self.sim.config.apps[0].secret
    }

    pub fn config(&self) -> &SimConfig {
        &self.sim.config
    }

    /// A single-use login code of the default app, valid 5 minutes of virtual time.
    pub async fn login_code(&self, user: &str) -> LoginCode {
        self.sim
            .mint_login_code(user, None)
            .expect("the default app always exists")
    }

    /// A login code of another registered app. Panics if the app is unknown.
    pub async fn login_code_for(&self, appid: &str, user: &str) -> LoginCode {
        self.sim
            .mint_login_code(user, Some(appid))
            .unwrap_or_else(|e| panic!("wechat-sim: {e}"))
    }

    /// A single-use phone code (country code 86) of the default app, valid 5 minutes.
    pub async fn phone_code(&self, user: &str, phone: &str) -> String {
        self.sim
            .mint_phone_code(user, phone, None, None)
            .expect("the default app always exists")
    }

    /// A phone code for a number outside mainland China, e.g. `("dave", "1", "4155552671")`:
    /// the answer has `countryCode` "1" and `phoneNumber` "+14155552671".
    pub async fn phone_code_in_country(
        &self,
        user: &str,
        country_code: &str,
        phone: &str,
    ) -> String {
        self.sim
            .mint_phone_code(user, phone, Some(country_code), None)
            .expect("the default app always exists")
    }

    /// Injects a fault. Panics if the fault lacks the field its kind needs.
    pub async fn inject(&self, fault: Fault) {
        if let Err(problem) = fault.validate() {
            panic!("wechat-sim: invalid fault: {problem}");
        }
        self.sim.faults().add(fault);
    }

    pub async fn faults(&self) -> Vec<ActiveFault> {
        self.sim.faults().list()
    }

    pub async fn clear_faults(&self) {
        self.sim.faults().clear();
    }

    /// Moves virtual time forward.
    pub async fn advance(&self, seconds: u64) {
        self.sim.clock.advance_secs(seconds);
    }

    /// Virtual Unix time in milliseconds: what code and token expiry and quota windows go by.
    pub fn now_ms(&self) -> u64 {
        self.sim.clock.now_ms()
    }

    /// Every call to the WeChat endpoints so far, oldest first, secrets masked.
    pub async fn requests(&self) -> Vec<JournalEntry> {
        self.sim.journal().list(None)
    }

    /// The calls to one path, e.g. `/sns/jscode2session`.
    pub async fn requests_to(&self, endpoint: &str) -> Vec<JournalEntry> {
        self.sim.journal().list(Some(endpoint))
    }

    pub async fn clear_requests(&self) {
        self.sim.journal().clear();
    }

    /// Back to the start state (see `POST /__sim/reset`).
    pub async fn reset(&self) {
        self.sim.reset();
    }

    /// The openid `user` has in the default app (also what `dev:<user>` logs in as).
    pub fn openid_for(&self, user: &str) -> String {
        ids::openid(self.appid(), user)
    }

    /// The openid `user` has in any app.
    pub fn openid_in(&self, appid: &str, user: &str) -> String {
        ids::openid(appid, user)
    }

    /// Stops the servers and waits for them to finish.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut *self.tasks());
        for task in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        // Drop cannot wait; aborting makes sure the ports are released even if the graceful
        // path never gets to run (e.g. the runtime is shutting down).
        for task in self.tasks().drain(..) {
            task.abort();
        }
    }
}
