//! Interception instead of reconfiguration: an HTTP proxy and a TLS listener that present a
//! certificate for WeChat's hosts, signed by the simulator's own CA, so that SDKs with a
//! hard-coded `https://api.weixin.qq.com` reach the simulator unchanged.

mod api;
mod ca;
mod proxy;
mod tls;

use poem::Request;

pub use api::InterceptApi;
pub use ca::{Authority, CaError, CaPem};
pub use proxy::ProxyEndpoint;
pub use tls::TlsTerminator;

/// WeChat's API hosts: the main one, its disaster-recovery and regional aliases, and the
/// overseas ones (wechat-sim/README.md, "Intercepted hosts").
pub const WECHAT_HOSTS: &[&str] = &[
    "api.weixin.qq.com",
    "api2.weixin.qq.com",
    "sh.api.weixin.qq.com",
    "sz.api.weixin.qq.com",
    "hk.api.weixin.qq.com",
    "api.wechat.com",
    "sg.api.wechat.com",
    "hk.api.wechat.com",
];

pub fn default_hosts() -> Vec<String> {
    WECHAT_HOSTS.iter().map(|h| (*h).to_owned()).collect()
}

fn normalize(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

pub fn host_allowed(hosts: &[String], host: &str) -> bool {
    let host = normalize(host);
    !host.is_empty() && hosts.iter().any(|h| normalize(h) == host)
}

/// The host a proxied request is for: the authority of `CONNECT host:port` or of an
/// absolute-form URI, else the `Host` header.
fn request_host(req: &Request) -> Option<String> {
    if let Some(host) = req.uri().host() {
        return Some(host.to_owned());
    }
    let header = req.headers().get(poem::http::header::HOST)?.to_str().ok()?;
    let authority: poem::http::uri::Authority = header.parse().ok()?;
    Some(authority.host().to_owned())
}
