//! The `wechat-sim` binary: flags/env → `SimConfig` → a server until Ctrl-C or SIGTERM.
//! A start-up failure is one line on stderr (`error: …`) and exit code 2 for configuration
//! (flags, seed or state file), 1 for run time (the port is taken, a file cannot be written).

mod port_taken;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use wechat_sim::{AppSpec, CaPem, DEFAULT_SECRET, SimConfig, SimState, Simulator};

/// A fake WeChat server (api.weixin.qq.com) with a control API under /__sim.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SIM_ADDR", default_value = "127.0.0.1:8091")]
    addr: String,
    /// An app as APPID:SECRET or APPID:SECRET:OPEN_PLATFORM (repeatable; replaces the default
    /// app and the seed file's apps).
    #[arg(long = "app", env = "SIM_APPS", value_delimiter = ',')]
    apps: Vec<String>,
    /// JSON seed file: {"apps": [...], "users": [...], "login_codes": [...], "phone_codes":
    /// [...], "limits": {...}, "strict": false}.
    #[arg(long, env = "SIM_SEED")]
    seed: Option<String>,
    /// Disable the convenience codes (dev:, dev-phone:, err:).
    #[arg(long, env = "SIM_STRICT")]
    strict: bool,
    /// Also run the intercepting HTTP proxy here (e.g. 127.0.0.1:8092): CONNECT to a WeChat host
    /// is answered by the simulator under its own CA, every other host gets 403.
    #[arg(long, env = "SIM_PROXY_ADDR")]
    proxy_addr: Option<String>,
    /// Also serve the WeChat API over TLS here, with a certificate for the WeChat hosts.
    #[arg(long, env = "SIM_TLS_ADDR")]
    tls_addr: Option<String>,
    /// Hosts to intercept (repeatable; replaces the default list of WeChat's API hosts).
    #[arg(
        long = "intercept-host",
        env = "SIM_INTERCEPT_HOSTS",
        value_delimiter = ','
    )]
    intercept_hosts: Vec<String>,
    /// PEM file of a CA certificate to sign the WeChat hosts' certificate with (with --ca-key);
    /// without it a new CA is generated at every start.
    #[arg(long, env = "SIM_CA_CERT", requires = "ca_key")]
    ca_cert: Option<String>,
    /// PEM file of the --ca-cert CA's private key.
    #[arg(long, env = "SIM_CA_KEY", requires = "ca_cert")]
    ca_key: Option<String>,
    /// Write the CA certificate (PEM) here at start, for clients to trust.
    #[arg(long, env = "SIM_CA_OUT")]
    ca_out: Option<String>,
    /// Keep the state (apps, users and sessions, content rules, templates, acceptances,
    /// messages) in this JSON file: loaded at start when it exists, written at shutdown.
    #[arg(long, env = "SIM_STATE_FILE")]
    state_file: Option<String>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "SIM_LOG_JSON")]
    log_json: bool,
}

fn parse_app(spec: &str) -> Result<AppSpec, String> {
    let mut parts = spec.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(appid), Some(secret), platform) if !appid.is_empty() && !secret.is_empty() => {
            let app = AppSpec::new(appid, secret);
            Ok(match platform {
                Some(platform) if !platform.is_empty() => app.bound_to(platform),
                _ => app,
            })
        }
        _ => Err(format!(
            "--app expects APPID:SECRET[:OPEN_PLATFORM], got {spec:?}"
        )),
    }
}

fn config(args: &Args) -> Result<SimConfig, String> {
    let mut config = match &args.seed {
        Some(path) => SimConfig::from_seed_file(path).map_err(|e| e.to_string())?,
        None => SimConfig::default(),
    };
    if !args.apps.is_empty() {
        config.apps = args
            .apps
            .iter()
            .map(|spec| parse_app(spec))
            .collect::<Result<_, _>>()?;
    }
    config.strict |= args.strict;
    if !args.intercept_hosts.is_empty() {
        config.intercept_hosts = args.intercept_hosts.clone();
    }
    if let (Some(cert), Some(key)) = (&args.ca_cert, &args.ca_key) {
        let read = |path: &String| {
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
        };
        config.ca = Some(CaPem {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
        });
    }
    Ok(config)
}

/// The proxy, the TLS listener and the CA file, as the flags ask.
async fn intercept(sim: &Simulator, args: &Args) -> Result<(), String> {
    if let Some(path) = &args.ca_out {
        std::fs::write(path, sim.ca_pem()).map_err(|e| format!("cannot write {path}: {e}"))?;
        println!("wechat-sim CA certificate written to {path}");
    }
    if let Some(addr) = &args.proxy_addr {
        let local = sim
            .start_proxy(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        println!("wechat-sim proxy on http://{local}  (HTTPS_PROXY=http://{local})");
    }
    if let Some(addr) = &args.tls_addr {
        let local = sim
            .start_tls(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        println!("wechat-sim TLS listener on https://{local}");
    }
    Ok(())
}

async fn load_state(sim: &Simulator, path: &str) -> Result<(), Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(run_time(format!("cannot read {path}: {e}"))),
    };
    let state: SimState = SimState::from_json(path, &text).map_err(configuration)?;
    sim.import_state(&state).await;
    println!("wechat-sim state loaded from {path}");
    Ok(())
}

/// Written next to the target and renamed, so a crash mid-write never leaves half a file.
async fn save_state(sim: &Simulator, path: &str) -> Result<(), String> {
    let json = serde_json::to_string_pretty(&sim.export_state().await)
        .map_err(|e| format!("cannot serialize the state: {e}"))?;
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, json).map_err(|e| format!("cannot write {tmp}: {e}"))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot rename {tmp} to {path}: {e}"))
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// A start-up failure: the exit code and the line to print.
struct Failure {
    code: u8,
    message: String,
}

fn configuration(message: String) -> Failure {
    Failure { code: 2, message }
}

fn run_time(message: String) -> Failure {
    Failure { code: 1, message }
}

/// The line that works when pasted: the default app's secret is public, so it is spelled out;
/// an operator's own secret is not repeated on the console.
fn try_line(sim: &Simulator) -> String {
    let appid = sim.appid();
    let secret = sim
        .config()
        .apps
        .iter()
        .find(|app| app.appid == appid)
        .map_or("", |app| app.secret.as_str());
    let (secret, note) = if secret == DEFAULT_SECRET {
        (secret, "")
    } else {
        (
            "YOUR_SECRET",
            "  (put the app's secret in place of YOUR_SECRET)",
        )
    };
    format!(
        "  try: curl '{}/sns/jscode2session?appid={appid}&secret={secret}&js_code=dev:alice&grant_type=authorization_code'{note}",
        sim.base_url()
    )
}

async fn start(args: &Args) -> Result<Simulator, Failure> {
    let config = config(args).map_err(configuration)?;
    let sim = match Simulator::bind(&args.addr, config).await {
        Ok(sim) => sim,
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(run_time(port_taken::explain(&args.addr, &error).await));
        }
        // A malformed address or CA.
        Err(error) if error.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(configuration(format!(
                "cannot listen on {}: {error}",
                args.addr
            )));
        }
        Err(error) => {
            return Err(run_time(format!("cannot listen on {}: {error}", args.addr)));
        }
    };
    if let Some(path) = &args.state_file {
        load_state(&sim, path).await?;
    }
    intercept(&sim, args).await.map_err(run_time)?;
    Ok(sim)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if args.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }

    let sim = match start(&args).await {
        Ok(sim) => sim,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            return ExitCode::from(failure.code);
        }
    };
    let base = sim.base_url();
    println!("wechat-sim listening on {base}");
    for app in &sim.config().apps {
        // The default secret is public; any other secret was chosen by the operator and is
        // not repeated on the console.
        let secret = if app.secret == DEFAULT_SECRET {
            app.secret.as_str()
        } else {
            "(as configured)"
        };
        println!("  app {}  secret {secret}", app.appid);
    }
    println!("  control API {base}/__sim/docs  (OpenAPI: {base}/__sim/openapi.json)");
    if sim.config().strict {
        println!("  strict mode: dev:/dev-phone:/err: codes are disabled");
    } else {
        println!("{}", try_line(&sim));
    }

    stop_signal().await;
    tracing::info!("shutting down");
    if let Some(path) = &args.state_file {
        match save_state(&sim, path).await {
            Ok(()) => println!("wechat-sim state written to {path}"),
            Err(error) => tracing::error!(%error, "cannot write the state file"),
        }
    }
    sim.shutdown().await;
    ExitCode::SUCCESS
}
