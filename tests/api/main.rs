//! End-to-end suites: the real service over HTTP, with wechat-sim standing in for WeChat.

mod backends;
mod config;
mod errors;
mod guards;
mod helpers;
mod login;
mod openid;
mod pg_fixture;
mod pocketbase_import;
mod pocketbase_sdk;
mod profile;
mod refresh;
mod scale_out;
mod spec;
mod system;
mod tokens;
mod wechat_faults;
mod wire;
