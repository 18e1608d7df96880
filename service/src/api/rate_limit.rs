//! The per-client rate limit of login and profile (`BAI_RATE_LIMIT_PER_MIN`, `_BURST`), keyed
//! by the client's address as `BAI_TRUSTED_PROXIES` lets us know it. It is applied to an
//! operation with `#[oai(transform = "per_client_limit")]`, so it answers 429 before the
//! body is parsed, the token checked, WeChat called or anything written. Per replica: each
//! replica counts the requests it sees.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use poem::http::header::HeaderName;
use poem::http::{HeaderMap, StatusCode};
use poem::{Endpoint, EndpointExt, IntoResponse, Request};

use super::AppState;
use super::envelope::{ApiError, msg};
use crate::config::TrustedProxy;
use crate::meters;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// Requests per client address; addresses in one IPv6 /64 count as one client, since one
/// subscriber (or attacker) holds a whole /64.
#[derive(Debug)]
pub struct ClientLimit {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trusted: Vec<TrustedProxy>,
}

impl ClientLimit {
    /// `per_minute` 0 turns the limit off.
    pub fn new(per_minute: u32, burst: u32, trusted: Vec<TrustedProxy>) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        Self { limiter, trusted }
    }

    pub fn unlimited() -> Self {
        Self::new(0, 0, Vec::new())
    }

    /// `Err(seconds to wait)` when `client` is over its rate.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(&rate_key(client)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Forgets clients whose allowance is full again, so the table only holds recent ones.
    pub fn prune(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// How many client addresses are tracked.
    pub fn tracked(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy; then the
    /// rightmost address in `X-Forwarded-For` that is not a trusted proxy (the leftmost if
    /// all are), else `X-Real-IP`. Anything unreadable stops the walk at the last good hop.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(&peer) {
            return peer;
        }
        let mut client = peer;
        let mut forwarded = false;
        let hops = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .rev()
            .flat_map(|value| value.to_str().unwrap_or("").rsplit(','));
        for hop in hops {
            forwarded = true;
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip;
                    if !self.is_trusted(&ip) {
                        return ip;
                    }
                }
                None => return client,
            }
        }
        if !forwarded
            && let Some(ip) = headers
                .get(X_REAL_IP)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_hop)
        {
            return ip;
        }
        client
    }

    fn is_trusted(&self, ip: &IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(ip))
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
    }
}

/// The operation transform: 429 with `Retry-After` when the client is over its rate.
pub fn per_client_limit<E: Endpoint + 'static>(ep: E) -> impl Endpoint {
    ep.around(|ep, req: Request| async move {
        if let Some(state) = req.data::<AppState>()
            && let Some(peer) = req.remote_addr().as_socket_addr()
        {
            let limit = state.client_limit();
            if let Err(seconds) = limit.check(limit.client_ip(peer.ip(), req.headers())) {
                meters::rate_limited("client");
                return Ok(
                    ApiError::new(StatusCode::TOO_MANY_REQUESTS, msg::CLIENT_RATE_LIMITED)
                        .with_retry_after(seconds.max(1))
                        .into_response(),
                );
            }
        }
        ep.call(req).await.map(IntoResponse::into_response)
    })
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use poem::http::HeaderMap;

    use super::ClientLimit;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn limit(trusted: &[&str]) -> ClientLimit {
        ClientLimit::new(60, 1, trusted.iter().map(|t| t.parse().unwrap()).collect())
    }

    #[test]
    fn forwarding_headers_of_an_untrusted_peer_are_ignored() {
        let h = headers(&[("x-forwarded-for", "9.9.9.9"), ("x-real-ip", "8.8.8.8")]);
        assert_eq!(limit(&[]).client_ip(ip("1.2.3.4"), &h), ip("1.2.3.4"));
    }

    #[test]
    fn a_trusted_proxy_names_the_rightmost_untrusted_hop() {
        let l = limit(&["10.0.0.0/8", "192.168.1.1"]);
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 7.7.7.7:1234, 10.1.2.3")]);
        assert_eq!(l.client_ip(ip("192.168.1.1"), &h), ip("7.7.7.7"));
        let h = headers(&[("x-real-ip", "[2001:db8::1]:443")]);
        assert_eq!(l.client_ip(ip("10.0.0.1"), &h), ip("2001:db8::1"));
        let h = headers(&[("x-forwarded-for", "garbage, 10.0.0.2")]);
        assert_eq!(l.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.2"));
        assert_eq!(
            l.client_ip(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn one_ipv6_slash_64_is_one_client() {
        let l = limit(&[]);
        assert!(l.check(ip("2001:db8::1")).is_ok());
        assert!(l.check(ip("2001:db8::ffff")).is_err());
        assert!(l.check(ip("2001:db8:0:1::1")).is_ok());
        assert!(l.check(ip("::ffff:1.2.3.4").to_canonical()).is_ok());
        assert_eq!(l.check(ip("1.2.3.4")), Err(1));
    }

    #[test]
    fn pruning_forgets_clients_whose_allowance_is_full_again() {
        // 100 a second: an allowance of one refills in 10 ms.
        let l = ClientLimit::new(6_000, 1, Vec::new());
        assert!(l.check(ip("1.2.3.4")).is_ok());
        assert!(l.check(ip("5.6.7.8")).is_ok());
        assert_eq!(l.tracked(), 2);
        std::thread::sleep(std::time::Duration::from_millis(30));
        l.prune();
        assert_eq!(l.tracked(), 0);
    }
}
