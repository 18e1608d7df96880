//! `wechat-sim`: a stateful fake of the WeChat server APIs a mini-program backend calls
//! (`jscode2session`, access tokens, phone numbers, session keys), with a control API under
//! `/__sim` and a typed handle for Rust tests.
//!
//! ```no_run
//! # async fn demo() {
//! let sim = wechat_sim::Simulator::start().await;
//! let code = sim.login_code("alice").await;
//! // point the client under test at sim.base_url() and log in with code.code
//! # }
//! ```

mod clock;
mod config;
mod connections;
mod control;
mod control_messaging;
mod control_state;
mod encrypted;
mod faults;
mod ids;
mod intercept;
mod journal;
mod json_file;
mod messaging_handle;
mod server;
mod sim;
mod snapshot;
mod state;
mod wechat_api;
mod wechat_doc;
mod wire;

pub use config::{
    AppSpec, ContentRule, FixedLoginCode, FixedPhoneCode, Limits, SeedError, SimConfig,
    TemplateSpec, UserSpec,
};
pub use encrypted::{EncryptedData, EncryptedKind};
pub use faults::{ActiveFault, Fault, FaultKind};
pub use intercept::{CaError, CaPem, WECHAT_HOSTS};
pub use journal::JournalEntry;
pub use server::Simulator;
pub use sim::LoginCode;
pub use snapshot::{KnownUser, SimState};
pub use state::{Message, Subscription};

/// The appid of the app every simulator has unless configured otherwise.
pub const DEFAULT_APPID: &str = "wx0000000000000001";
/// The secret of the default app.
pub const DEFAULT_SECRET: &str = "sim_secret_00000000000000000000001";

/// hex(HMAC-SHA256(key = session_key, message = "")): the `signature` checksession and
/// resetusersessionkey expect.
pub fn session_signature(session_key: &str) -> String {
    ids::session_signature(session_key)
}

/// The openid `user` has in app `appid`: the same in every run and every simulator.
pub fn openid(appid: &str, user: &str) -> String {
    ids::openid(appid, user)
}
