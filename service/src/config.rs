//! Typed configuration, read from `BAI_*` environment variables (or the matching flags).
//!
//! Tests never read the environment: they start from [`Settings::defaults`] and override fields.

use std::fmt;
use std::time::Duration;

use clap::{Args, ValueEnum};

pub const DEFAULT_ADDR: &str = "127.0.0.1:8090";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/bai.db";
pub const DEFAULT_DEV_SIM_ADDR: &str = "127.0.0.1:8091";
pub const DEFAULT_WECHAT_API_BASE: &str = "https://api.weixin.qq.com";
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 432_000;
pub const DEFAULT_WECHAT_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_GUARD_TTL_SECS: u64 = 10;
pub const DEFAULT_DB_MAX_CONNECTIONS: u32 = 10;
pub const DEFAULT_DB_ACQUIRE_TIMEOUT_MS: u64 = 3_000;
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 64 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;

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

    /// `pretty` for people, `json` for log collectors.
    #[arg(long, env = "BAI_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// `production` refuses to start without real WeChat credentials and an auth secret.
    #[arg(long = "env", env = "BAI_ENV", value_enum, default_value_t = Environment::Development)]
    pub environment: Environment,

    /// Secret appended to each user's token key when signing tokens. Generated and kept in
    /// the database when unset.
    #[arg(long, env = "BAI_AUTH_SECRET", hide_env_values = true)]
    pub auth_secret: Option<Secret>,

    /// Token lifetime in seconds (PocketBase's default for auth collections).
    #[arg(long, env = "BAI_TOKEN_TTL", default_value_t = DEFAULT_TOKEN_TTL_SECS)]
    pub token_ttl_secs: u64,

    /// WeChat API base URL. Without credentials it is assumed to be a wechat-sim.
    #[arg(long, env = "BAI_WECHAT_API_BASE")]
    pub wechat_api_base: Option<String>,

    /// Mini-program appid.
    #[arg(long, env = "BAI_WECHAT_APPID")]
    pub wechat_appid: Option<String>,

    /// Mini-program app secret.
    #[arg(long, env = "BAI_WECHAT_SECRET", hide_env_values = true)]
    pub wechat_secret: Option<Secret>,

    /// Timeout of each WeChat call, in milliseconds.
    #[arg(long, env = "BAI_WECHAT_TIMEOUT_MS", default_value_t = DEFAULT_WECHAT_TIMEOUT_MS)]
    pub wechat_timeout_ms: u64,

    /// Where the in-process simulator listens in zero-config development.
    #[arg(long, env = "BAI_DEV_SIM_ADDR", default_value = DEFAULT_DEV_SIM_ADDR)]
    pub dev_sim_addr: String,

    /// How long a `users_wx_code` stays claimed by the request that first sent it.
    #[arg(long, env = "BAI_GUARD_TTL", default_value_t = DEFAULT_GUARD_TTL_SECS)]
    pub guard_ttl_secs: u64,

    /// Longest a request may take, body upload included, before it answers 408.
    #[arg(long, env = "BAI_REQUEST_TIMEOUT_MS", default_value_t = DEFAULT_REQUEST_TIMEOUT_MS)]
    pub request_timeout_ms: u64,

    /// A connection with no traffic for this long is closed.
    #[arg(long, env = "BAI_IDLE_TIMEOUT", default_value_t = DEFAULT_IDLE_TIMEOUT_SECS)]
    pub idle_timeout_secs: u64,

    /// Origins browsers may call from: `*` (any, as PocketBase) or a comma-separated list.
    #[arg(long, env = "BAI_CORS_ORIGINS", default_value = "*")]
    pub cors_origins: String,
}

impl Settings {
    /// The defaults, without reading the environment.
    pub fn defaults() -> Self {
        Self {
            addr: DEFAULT_ADDR.into(),
            database_url: DEFAULT_DATABASE_URL.into(),
            db_max_connections: DEFAULT_DB_MAX_CONNECTIONS,
            db_acquire_timeout_ms: DEFAULT_DB_ACQUIRE_TIMEOUT_MS,
            log_format: LogFormat::Pretty,
            environment: Environment::Development,
            auth_secret: None,
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            wechat_api_base: None,
            wechat_appid: None,
            wechat_secret: None,
            wechat_timeout_ms: DEFAULT_WECHAT_TIMEOUT_MS,
            dev_sim_addr: DEFAULT_DEV_SIM_ADDR.into(),
            guard_ttl_secs: DEFAULT_GUARD_TTL_SECS,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            idle_timeout_secs: DEFAULT_IDLE_TIMEOUT_SECS,
            cors_origins: "*".into(),
        }
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
        if matches!(&self.auth_secret, Some(s) if s.expose().len() < 32) {
            return Err(ConfigError::Incomplete(
                "BAI_AUTH_SECRET must be at least 32 characters",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("BAI_ENV=production requires {0}")]
    MissingInProduction(&'static str),
    #[error("{0}")]
    Incomplete(&'static str),
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

/// A string that never shows up in `Debug` output, so settings can be logged whole.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}
