//! WeChat for a service started without credentials: zero-config development. Behind the
//! `dev-sim` cargo feature (on by default, so `cargo run` needs nothing), so that release
//! images carry no test double: built without it, the service requires real credentials.

use crate::config::Settings;
use crate::wechat::WechatCredentials;

/// What a build without the simulator says when it is started without credentials.
pub const CREDENTIALS_REQUIRED: &str = "BAI_WECHAT_APPID and BAI_WECHAT_SECRET are required: this \
     build has no in-process wechat-sim (it was built without the dev-sim feature)";

/// Serving without credentials needs the simulator: refused up front, before the database is
/// touched, in a build without it. (The other commands need no WeChat at all.)
pub fn check_available(settings: &Settings) -> Result<(), crate::config::ConfigError> {
    if cfg!(feature = "dev-sim") || settings.wechat_appid.is_some() {
        return Ok(());
    }
    Err(crate::config::ConfigError::Incomplete(CREDENTIALS_REQUIRED))
}

#[cfg(feature = "dev-sim")]
pub use enabled::{DevSimulator, resolve};

#[cfg(not(feature = "dev-sim"))]
pub use disabled::{DevSimulator, resolve};

#[cfg(feature = "dev-sim")]
mod enabled {
    use anyhow::Context as _;
    use wechat_sim::{SimConfig, Simulator};

    use super::{Settings, WechatCredentials};
    use crate::config::Secret;

    pub type DevSimulator = Simulator;

    /// With a base URL: an external wechat-sim with its default app. Without: one started
    /// in-process on `BAI_DEV_SIM_ADDR`, which lives as long as the service.
    pub async fn resolve(
        settings: &Settings,
    ) -> anyhow::Result<(WechatCredentials, Option<DevSimulator>)> {
        if let Some(api_base) = &settings.wechat_api_base {
            let credentials = WechatCredentials {
                api_base: api_base.clone(),
                appid: wechat_sim::DEFAULT_APPID.to_owned(),
                secret: Secret::from(wechat_sim::DEFAULT_SECRET),
            };
            return Ok((credentials, None));
        }
        let simulator = Simulator::bind(&settings.dev_sim_addr, SimConfig::default())
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
            secret: Secret::from(simulator.secret()),
        };
        Ok((credentials, Some(simulator)))
    }
}

#[cfg(not(feature = "dev-sim"))]
mod disabled {
    use super::{CREDENTIALS_REQUIRED, Settings, WechatCredentials};
    use crate::config::ConfigError;

    /// Never exists in a build without the simulator.
    pub enum DevSimulator {}

    impl DevSimulator {
        pub fn base_url(&self) -> String {
            match *self {}
        }

        pub async fn shutdown(self) {
            match self {}
        }
    }

    pub async fn resolve(
        _: &Settings,
    ) -> anyhow::Result<(WechatCredentials, Option<DevSimulator>)> {
        Err(ConfigError::Incomplete(CREDENTIALS_REQUIRED).into())
    }
}
