//! bai-service: the WeChat mini-program backend.
//!
//! Data flows one way: HTTP ([`api`]) → domain ([`users`], one [`users::Users`] value) →
//! [`store`] / [`wechat`] / [`auth`], and typed results flow back up to be mapped onto the
//! contract's envelope. `api` imports nothing from `store`, and no two modules import each
//! other; [`startup`] wires the layers together, for the server and the CLI alike.

mod accept;
pub mod api;
pub mod auth;
pub mod cli_error;
pub mod config;
pub mod connections;
pub mod dev_sim;
mod idle;
mod memory;
pub mod meters;
pub mod pocketbase;
mod routes;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod users;
pub mod wechat;

pub use api::api_service;
pub use config::Settings;
pub use startup::{Application, build_app};
