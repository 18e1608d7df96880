//! The WeChat API client: the only module that talks HTTP to WeChat.

mod access_token;
mod ceiling;
mod client;
mod error;
mod transport;
mod wire;

pub use ceiling::CeilingReached;
pub use client::{PhoneInfo, Session, WechatClient};
pub use error::{WechatError, WechatErrorKind};
pub use transport::WechatCredentials;
