//! End-to-end suites: the real service over HTTP, with wechat-sim standing in for WeChat.

mod errors;
mod helpers;
mod login;
mod profile;
mod refresh;
mod spec;
mod system;
mod tokens;
mod wire;
