//! Typed configuration, read from `BAI_*` environment variables (or the matching flags).
//!
//! Tests never read the environment: they start from [`Settings::defaults`] and override fields.

use std::time::Duration;

use clap::{Args, FromArgMatches as _, ValueEnum};
use secrecy::ExposeSecret as _;

pub const DEFAULT_ADDR: &str = "127.0.0.1:8090";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/bai.db";
pub const DEFAULT_DEV_SIM_ADDR: &str = "127.0.0.1:8091";
pub const DEFAULT_WECHAT_API_BASE: &str = "https://api.weixin.qq.com";
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 432_000;
pub const DEFAULT_WECHAT_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_GUARD_TTL_SECS: u64 = 10;
pub const DEFAULT_DB_MAX_CONNECTIONS: u32 = 10;
pub const DEFAULT_DB_ACQUIRE_TIMEOUT_MS: u64 = 3_000;
pub const DEFAULT_DB_BUSY_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 64 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
/// Sustained logins and profile updates per minute from one client address. Generous because
/// carrier NAT puts many phones behind one address.
pub const DEFAULT_CLIENT_RATE_PER_MIN: u32 = 600;
pub const DEFAULT_CLIENT_BURST: u32 = 120;
pub const DEFAULT_WECHAT_MAX_RPS: u32 = 50;
pub const DEFAULT_GUARD_PURGE_INTERVAL_SECS: u64 = 60;

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address the HTTP server listens on.
    #[arg(long, env = "BAI_ADDR", default_value = DEFAULT_ADDR)]
    pub addr: String,

    /// `sqlite://path` (embedded, created on first start) or `postgres://…`.
    #[arg(long, env = "BAI_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Largest number of pooled database connections per replica.
    #[arg(long, env = "BAI_DB_MAX_CONNECTIONS", default_value_t = DEFAULT_DB_MAX_CONNECTIONS)]
    pub db_max_connections: u32,

    /// How long a request waits for a pooled connection before it fails.
    #[arg(long, env = "BAI_DB_ACQUIRE_TIMEOUT_MS", default_value_t = DEFAULT_DB_ACQUIRE_TIMEOUT_MS)]
    pub db_acquire_timeout_ms: u64,

    /// How long an SQLite write waits for another connection's (or process's) lock before it
    /// answers 503.
    #[arg(long, env = "BAI_DB_BUSY_TIMEOUT_MS", default_value_t = DEFAULT_DB_BUSY_TIMEOUT_MS)]
    pub db_busy_timeout_ms: u64,

    /// SQLite only: `full` syncs the write-ahead log to disk on every commit, so an answered
    /// write survives a power cut or an OS crash; `normal` skips that sync (it still survives a
    /// crash of this process) for faster writes, and an OS crash may lose the last answered ones.
    #[arg(long, env = "BAI_SQLITE_SYNCHRONOUS", value_enum, default_value_t = SqliteSynchronous::Full)]
    pub sqlite_synchronous: SqliteSynchronous,

    /// `pretty` for people, `json` for log collectors.
    #[arg(long, env = "BAI_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// `production` refuses to start without real WeChat credentials and an auth secret.
    #[arg(long = "env", env = "BAI_ENV", value_enum, default_value_t = Environment::Development)]
    pub environment: Environment,

    /// Secret appended to each user's token key when signing tokens. Generated and kept in
    /// the database when unset.
    #[arg(long, env = "BAI_AUTH_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub auth_secret: Option<Secret>,

    /// Token lifetime in seconds (PocketBase's default for auth collections).
    #[arg(long = "token-ttl", env = "BAI_TOKEN_TTL", default_value_t = DEFAULT_TOKEN_TTL_SECS)]
    pub token_ttl_secs: u64,

    /// WeChat API base URL. Without credentials it is assumed to be a wechat-sim.
    #[arg(long, env = "BAI_WECHAT_API_BASE")]
    pub wechat_api_base: Option<String>,

    /// Mini-program appid.
    #[arg(long, env = "BAI_WECHAT_APPID")]
    pub wechat_appid: Option<String>,

    /// Mini-program app secret.
    #[arg(long, env = "BAI_WECHAT_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub wechat_secret: Option<Secret>,

    /// Timeout of each WeChat call, in milliseconds.
    #[arg(long, env = "BAI_WECHAT_TIMEOUT_MS", default_value_t = DEFAULT_WECHAT_TIMEOUT_MS)]
    pub wechat_timeout_ms: u64,

    /// Where the in-process simulator listens in zero-config development.
    #[arg(long, env = "BAI_DEV_SIM_ADDR", default_value = DEFAULT_DEV_SIM_ADDR)]
    pub dev_sim_addr: String,

    /// How long a `users_wx_code` stays claimed by the request that first sent it.
    #[arg(long = "guard-ttl", env = "BAI_GUARD_TTL", default_value_t = DEFAULT_GUARD_TTL_SECS)]
    pub guard_ttl_secs: u64,

    /// Longest a request may take, body upload included, before it answers 408.
    #[arg(long, env = "BAI_REQUEST_TIMEOUT_MS", default_value_t = DEFAULT_REQUEST_TIMEOUT_MS)]
    pub request_timeout_ms: u64,

    /// A connection with no traffic for this long is closed.
    #[arg(long = "idle-timeout", env = "BAI_IDLE_TIMEOUT", default_value_t = DEFAULT_IDLE_TIMEOUT_SECS)]
    pub idle_timeout_secs: u64,

    /// A request whose headers have not all arrived this long after its first byte (or after
    /// the connection opened) is answered 408 and its connection closed.
    #[arg(long, env = "BAI_HEADER_TIMEOUT_MS", default_value_t = DEFAULT_HEADER_TIMEOUT_MS)]
    pub header_timeout_ms: u64,

    /// Most connections held at once; past it the longest-idle connection without a request
    /// in progress is closed to make room. Default: the open-file limit less headroom.
    #[arg(long, env = "BAI_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// Peers (IPs or CIDRs, comma-separated) whose `X-Forwarded-For` / `X-Real-IP` names the
    /// client. Other peers' forwarding headers are ignored.
    #[arg(long, env = "BAI_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<TrustedProxy>,

    /// Logins and profile updates per minute from one client address, per replica (0: no limit).
    #[arg(long, env = "BAI_RATE_LIMIT_PER_MIN", default_value_t = DEFAULT_CLIENT_RATE_PER_MIN)]
    pub rate_limit_per_min: u32,

    /// How many of those one client address may send at once before the rate applies.
    #[arg(long, env = "BAI_RATE_LIMIT_BURST", default_value_t = DEFAULT_CLIENT_BURST)]
    pub rate_limit_burst: u32,

    /// WeChat exchanges (logins, phone numbers) started per second, per replica (0: no limit).
    #[arg(long, env = "BAI_WECHAT_MAX_RPS", default_value_t = DEFAULT_WECHAT_MAX_RPS)]
    pub wechat_max_rps: u32,

    /// How often expired 429-guard claims are deleted, in seconds.
    #[arg(long, env = "BAI_GUARD_PURGE_INTERVAL", default_value_t = DEFAULT_GUARD_PURGE_INTERVAL_SECS)]
    pub guard_purge_interval_secs: u64,
    /// Origins browsers may call from: `*` (any, as PocketBase) or a comma-separated list.
    #[arg(long, env = "BAI_CORS_ORIGINS", default_value = "*")]
    pub cors_origins: String,

    /// Where Prometheus scrapes `GET /metrics`, e.g. `127.0.0.1:9464`; unset: no metrics.
    /// Always a listener of its own, never the public port.
    #[arg(long, env = "BAI_METRICS_ADDR")]
    pub metrics_addr: Option<String>,

    /// After SIGTERM, how long `/readyz` answers 503 while requests are still served, so load
    /// balancers stop sending traffic before the listener closes, in milliseconds.
    #[arg(long, env = "BAI_SHUTDOWN_DRAIN_MS", default_value_t = 0)]
    pub shutdown_drain_ms: u64,
}

impl Settings {
    /// The defaults, without reading the environment: the flags' own defaults (each written
    /// once, in its `#[arg]`), parsed from an empty command line with every `env` dropped.
    pub fn defaults() -> Self {
        let command =
            Self::augment_args(clap::Command::new("bai-service")).mut_args(|arg| arg.env(None));
        let matches = command
            .try_get_matches_from(["bai-service"])
            .expect("every setting has a default or is optional");
        Self::from_arg_matches(&matches).expect("the defaults parse")
    }

    /// The database settings, with `max_connections` pooled connections (the server's
    /// `BAI_DB_MAX_CONNECTIONS`; a CLI command needs fewer).
    pub fn db_options(&self, max_connections: u32) -> crate::store::DbOptions {
        crate::store::DbOptions {
            url: self.database_url.clone(),
            max_connections,
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            busy_timeout: Duration::from_millis(self.db_busy_timeout_ms),
            sqlite_sync_commits: self.sqlite_synchronous == SqliteSynchronous::Full,
        }
    }

    /// Where the data lives, for start-up lines and errors, without credentials: the SQLite
    /// file's absolute path, or PostgreSQL's `host:port/database`.
    pub fn database_location(&self) -> String {
        let url = &self.database_url;
        if url.starts_with("postgres") {
            return match url::Url::parse(url) {
                Ok(parsed) => format!(
                    "{}:{}{}",
                    parsed.host_str().unwrap_or("localhost"),
                    parsed.port().unwrap_or(5432),
                    parsed.path()
                ),
                Err(_) => "an unparsable PostgreSQL URL".to_owned(),
            };
        }
        let path = url
            .trim_start_matches("sqlite:")
            .trim_start_matches("//")
            .split('?')
            .next()
            .unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return "memory".to_owned();
        }
        std::path::absolute(path)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.to_owned())
    }

    pub fn wechat_timeout(&self) -> Duration {
        Duration::from_millis(self.wechat_timeout_ms)
    }

    /// Checks the rules that keep a production deployment from running on development defaults.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.environment == Environment::Production {
            if self.wechat_appid.is_none() || self.wechat_secret.is_none() {
                return Err(ConfigError::MissingInProduction(
                    "BAI_WECHAT_APPID and BAI_WECHAT_SECRET",
                ));
            }
            if self.auth_secret.is_none() {
                return Err(ConfigError::MissingInProduction("BAI_AUTH_SECRET"));
            }
        }
        if self.wechat_appid.is_some() != self.wechat_secret.is_some() {
            return Err(ConfigError::Incomplete(
                "BAI_WECHAT_APPID and BAI_WECHAT_SECRET must be set together",
            ));
        }
        if self.max_connections == Some(0) {
            return Err(ConfigError::Incomplete(
                "BAI_MAX_CONNECTIONS must be at least 1",
            ));
        }
        if self.guard_purge_interval_secs == 0 {
            return Err(ConfigError::Incomplete(
                "BAI_GUARD_PURGE_INTERVAL must be at least 1",
            ));
        }
        if matches!(&self.auth_secret, Some(s) if s.expose_secret().len() < 32) {
            return Err(ConfigError::Incomplete(
                "BAI_AUTH_SECRET must be at least 32 characters",
            ));
        }
        if !is_database_url(&self.database_url) {
            return Err(ConfigError::DatabaseUrl(self.database_url.clone()));
        }
        Ok(())
    }
}

/// `sqlite:` (a path, or `sqlite::memory:`) or `postgres:`/`postgresql:`; anything else (a bare
/// path, `mysql://`, the typo `postgress://`) would otherwise be taken as an SQLite file name.
fn is_database_url(url: &str) -> bool {
    ["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|scheme| url.len() > scheme.len() && url.starts_with(scheme))
}

/// A setting that cannot work: the service exits with code 2 and this one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("BAI_ENV=production requires {0}")]
    MissingInProduction(&'static str),
    #[error("{0}")]
    Incomplete(&'static str),
    #[error(
        "BAI_DATABASE_URL: '{0}' is not a database URL; use sqlite://PATH (e.g. sqlite://data/bai.db) or postgres://USER@HOST:PORT/DATABASE"
    )]
    DatabaseUrl(String),
}

/// SQLite's `PRAGMA synchronous` in WAL mode, as `BAI_SQLITE_SYNCHRONOUS` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqliteSynchronous {
    Full,
    Normal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

/// A peer allowed to say who the client is: an address or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy(pub ipnet::IpNet);

impl TrustedProxy {
    pub fn contains(&self, ip: &std::net::IpAddr) -> bool {
        self.0.contains(ip)
    }
}

impl std::str::FromStr for TrustedProxy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map(Self)
            .map_err(|_| format!("not an IP address or CIDR block: {s:?}"))
    }
}

/// A string that never shows up in `Debug` output, so settings can be logged whole.
pub type Secret = secrecy::SecretString;

fn parse_secret(value: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::from(value))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Settings;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    #[test]
    fn the_overload_settings_parse_and_default_as_documented() {
        let cli = Cli::try_parse_from([
            "bai-service",
            "--trusted-proxies",
            "10.0.0.0/8, 192.168.1.1,2001:db8::/32",
            "--max-connections",
            "20",
        ])
        .unwrap();
        let proxies = &cli.settings.trusted_proxies;
        assert_eq!(proxies.len(), 3);
        assert!(proxies[0].contains(&"10.9.8.7".parse().unwrap()));
        assert!(proxies[1].contains(&"192.168.1.1".parse().unwrap()));
        assert!(!proxies[1].contains(&"192.168.1.2".parse().unwrap()));
        assert_eq!(cli.settings.max_connections, Some(20));
        assert!(Cli::try_parse_from(["bai-service", "--trusted-proxies", "nope"]).is_err());

        let parsed = Cli::try_parse_from(["bai-service"]).unwrap().settings;
        let defaults = Settings::defaults();
        assert_eq!(parsed.header_timeout_ms, defaults.header_timeout_ms);
        assert_eq!(parsed.max_connections, None);
        assert_eq!(parsed.rate_limit_per_min, defaults.rate_limit_per_min);
        assert_eq!(parsed.rate_limit_burst, defaults.rate_limit_burst);
        assert_eq!(parsed.wechat_max_rps, defaults.wechat_max_rps);
        assert_eq!(
            parsed.guard_purge_interval_secs,
            defaults.guard_purge_interval_secs
        );
    }
}
