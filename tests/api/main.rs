//! End-to-end suites: the real service over HTTP, with wechat-sim standing in for WeChat.

mod backends;
mod config;
mod durability;
mod errors;
mod faults;
mod forge;
mod guards;
mod helpers;
mod login;
mod metrics;
mod openid;
mod overload;
mod pg_fixture;
mod probes;
mod profile;
mod rate_limit;
mod refresh;
mod scale_out;
mod spec;
mod system;
mod tokens;
mod wechat_faults;
mod wire;
