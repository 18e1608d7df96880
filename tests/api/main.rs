//! End-to-end suites: the real service over HTTP, with wechat-sim standing in for WeChat.

mod backends;
mod config;
mod errors;
mod helpers;
mod login;
mod overload;
mod pg_fixture;
mod profile;
mod rate_limit;
mod refresh;
mod scale_out;
mod spec;
mod system;
mod tokens;
mod wechat_faults;
mod wire;
