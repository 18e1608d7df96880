//! Everything WeChat remembers between calls. One `Mutex<State>` per simulator: calls are short
//! and never await while holding it, so a plain std mutex is enough.

mod apps;
mod codes;
mod messaging;
mod quotas;
mod tokens;

pub use apps::Directory;
pub use codes::Codes;
pub use messaging::{Message, Messaging, Subscription};
pub use quotas::{Quotas, Window};
pub use tokens::Tokens;

use crate::config::SimConfig;

/// Five minutes: lifetime of login and phone codes, overlap of a re-issued token, and the
/// stable-token renewal window.
pub const FIVE_MINUTES_MS: u64 = 5 * 60 * 1000;

pub struct State {
    pub directory: Directory,
    pub codes: Codes,
    pub tokens: Tokens,
    pub quotas: Quotas,
    pub messaging: Messaging,
}

impl State {
    pub fn new(config: &SimConfig) -> Self {
        let directory = Directory::new(config);
        let codes = Codes::new(config, directory.first_appid());
        let messaging = Messaging::new(
            &config.content_rules,
            &config.templates,
            &directory.first_appid(),
        );
        Self {
            messaging,
            directory,
            codes,
            tokens: Tokens::default(),
            quotas: Quotas::default(),
        }
    }
}
