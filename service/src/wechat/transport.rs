//! What every WeChat call shares: the credentials, and sending a request and reading its body.

use super::WechatError;
use crate::config::Secret;

/// Largest WeChat answer we read; real ones are a few hundred bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct WechatCredentials {
    pub api_base: String,
    pub appid: String,
    pub secret: Secret,
}

impl WechatCredentials {
    /// `path` on the configured API base.
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{}", self.api_base.trim_end_matches('/'), path)
    }
}

/// Sends the request and reads the body, whatever its Content-Type (code2session says
/// `text/plain`). WeChat answers 200 even for errors, so any other status is a failure.
pub(super) async fn send(request: reqwest::RequestBuilder) -> Result<Vec<u8>, WechatError> {
    let mut response = request.send().await.map_err(WechatError::from_reqwest)?;
    let status = response.status();
    if !status.is_success() {
        return Err(WechatError::HttpStatus(status.as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(WechatError::from_reqwest)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(WechatError::Malformed("answer too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::send;
    use crate::wechat::WechatError;

    /// A server that answers its first request with `raw` bytes, then hangs up.
    fn server_answering(raw: &'static [u8]) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            // The whole request first: unread bytes would turn the hang-up into a reset.
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).unwrap();
                if n == 0 {
                    return;
                }
                request.extend_from_slice(&buf[..n]);
            }
            socket.write_all(raw).unwrap();
        });
        format!("http://{address}/")
    }

    async fn get(url: &str) -> Result<Vec<u8>, WechatError> {
        send(reqwest::Client::new().get(url)).await
    }

    #[tokio::test]
    async fn a_whole_answer_is_read() {
        let url = server_answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        assert_eq!(get(&url).await.unwrap(), b"{}");
    }

    /// WeChat answered, but not all of it: malformed (its metric label), not unreachable.
    #[tokio::test]
    async fn an_answer_cut_off_mid_body_is_malformed() {
        let url = server_answering(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"openid\"");
        assert!(matches!(get(&url).await, Err(WechatError::Malformed(_))));
    }

    #[tokio::test]
    async fn a_refused_connection_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        drop(listener);
        assert!(matches!(get(&url).await, Err(WechatError::Unreachable(_))));
    }

    #[tokio::test]
    async fn a_status_other_than_200_is_a_failure_of_its_own() {
        let url =
            server_answering(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
        assert!(matches!(get(&url).await, Err(WechatError::HttpStatus(503))));
    }
}
