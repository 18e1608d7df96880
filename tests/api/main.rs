//! End-to-end suites: the real service over HTTP, with wechat-sim standing in for WeChat.

mod backends;
mod config;
mod cors;
mod errors;
mod helpers;
mod login;
mod pg_fixture;
mod profile;
mod refresh;
mod scale_out;
mod snapshot_contract;
mod spec;
mod system;
mod tokens;
mod wechat_faults;
mod wire;
