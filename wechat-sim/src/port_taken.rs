//! (Binary only.) When the listen address is taken, say by whom: most often it is the
//! simulator bai-service runs in-process on the same default port, which is usable as it is.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The one-line error for `addr` being in use (`error` is the bind error).
pub async fn explain(addr: &str, error: &std::io::Error) -> String {
    if answers_as_simulator(addr).await {
        let other = match addr.parse::<SocketAddr>() {
            Ok(mut socket) => {
                socket.set_port(socket.port().wrapping_add(2));
                socket.to_string()
            }
            Err(_) => "HOST:PORT".to_owned(),
        };
        format!(
            "{addr} is taken by a running wechat-sim (probably bai-service's in-process one): \
             use it at http://{}, or start this one with --addr {other}",
            reachable(addr)
        )
    } else {
        format!("cannot listen on {addr}: {error}")
    }
}

/// A wildcard listen address is reached on loopback.
fn reachable(addr: &str) -> String {
    match addr.parse::<SocketAddr>() {
        Ok(mut socket) if socket.ip().is_unspecified() => {
            let loopback: IpAddr = if socket.is_ipv4() {
                Ipv4Addr::LOCALHOST.into()
            } else {
                Ipv6Addr::LOCALHOST.into()
            };
            socket.set_ip(loopback);
            socket.to_string()
        }
        _ => addr.to_owned(),
    }
}

/// `GET /__sim/health` with a short timeout: a listener that is not ours (or does not
/// answer HTTP) is simply "not a simulator".
async fn answers_as_simulator(addr: &str) -> bool {
    let target = reachable(addr);
    let probe = async {
        let mut stream = TcpStream::connect(&target).await.ok()?;
        let request =
            format!("GET /__sim/health HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        stream.take(64 * 1024).read_to_end(&mut answer).await.ok()?;
        let answer = String::from_utf8_lossy(&answer);
        Some(answer.starts_with("HTTP/1.1 200") && answer.contains("\"default_appid\""))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Some(true))
    )
}
