//! End-to-end suites: the real service over HTTP, with wechat-sim standing in for WeChat.

mod errors;
mod helpers;
mod spec;
mod system;
