//! The intercepting proxy and the TLS listener: real HTTPS clients that only know
//! `https://api.weixin.qq.com` reach the simulator, and nothing else gets through.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::{Certificate, Client, Proxy};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wechat_sim::{CaPem, Fault, SimConfig, Simulator};

fn token_url(sim: &Simulator, host: &str) -> String {
    format!(
        "{host}/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
        sim.appid(),
        sim.secret()
    )
}

/// A client that trusts only the simulator's CA and goes through its proxy.
fn proxied_client(ca_pem: &str, proxy: SocketAddr) -> Client {
    Client::builder()
        .proxy(Proxy::all(format!("http://{proxy}")).unwrap())
        .tls_certs_only([Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn start_with_proxy() -> (Simulator, SocketAddr) {
    start_with_proxy_using(SimConfig::default()).await
}

async fn start_with_proxy_using(config: SimConfig) -> (Simulator, SocketAddr) {
    let sim = Simulator::start_with(config).await;
    let proxy = sim.start_proxy("127.0.0.1:0").await.unwrap();
    (sim, proxy)
}

/// The JSON a GET of `url` answers; panics on any failure on the way.
async fn get_json(client: &Client, url: impl reqwest::IntoUrl) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn https_token_through_the_proxy_is_the_simulators() {
    let (sim, proxy) = start_with_proxy().await;
    let client = proxied_client(sim.ca_pem(), proxy);
    for host in [
        "https://api.weixin.qq.com",
        "https://sh.api.weixin.qq.com",
        "https://api.wechat.com",
    ] {
        let answer = get_json(&client, token_url(&sim, host)).await;
        assert_eq!(answer["expires_in"], 7200, "{host}: {answer}");
        assert!(answer["access_token"].as_str().unwrap().len() > 20);
    }
    // Served by the simulator itself: the calls are in its journal.
    assert_eq!(sim.requests_to("/cgi-bin/token").await.len(), 3);
}

#[tokio::test]
async fn the_same_endpoint_answers_inside_the_tunnel() {
    let (sim, proxy) = start_with_proxy().await;
    let client = proxied_client(sim.ca_pem(), proxy);
    sim.inject(Fault::errcode("/sns/jscode2session", -1)).await;
    let code = sim.login_code("alice").await.code;
    let url = format!(
        "https://api.weixin.qq.com/sns/jscode2session?appid={}&secret={}&js_code={code}&grant_type=authorization_code",
        sim.appid(),
        sim.secret()
    );
    let first = get_json(&client, &url).await;
    assert_eq!(first["errcode"], -1);
    let second = get_json(&client, &url).await;
    assert_eq!(second["openid"], sim.openid_for("alice"));
}

#[tokio::test]
async fn plain_http_through_the_proxy_is_served() {
    let (sim, proxy) = start_with_proxy().await;
    let client = proxied_client(sim.ca_pem(), proxy);
    let answer = get_json(&client, token_url(&sim, "http://api.weixin.qq.com")).await;
    assert_eq!(answer["expires_in"], 7200);
}

/// A local server standing in for "the internet": it counts the connections it gets.
async fn bystander() -> (SocketAddr, tokio::task::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut seen = 0;
        while tokio::time::timeout(Duration::from_millis(500), listener.accept())
            .await
            .is_ok()
        {
            seen += 1;
        }
        seen
    });
    (addr, task)
}

async fn raw_exchange(proxy: SocketAddr, request: String) -> String {
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn other_hosts_are_refused_and_never_tunnelled() {
    let (sim, proxy) = start_with_proxy().await;
    let (target, connections) = bystander().await;

    let connect = raw_exchange(
        proxy,
        format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"),
    )
    .await;
    assert!(connect.starts_with("HTTP/1.1 403"), "{connect}");
    let plain = raw_exchange(
        proxy,
        format!("GET http://{target}/cgi-bin/token HTTP/1.1\r\nHost: {target}\r\n\r\n"),
    )
    .await;
    assert!(plain.starts_with("HTTP/1.1 403"), "{plain}");
    let named = raw_exchange(
        proxy,
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n".to_owned(),
    )
    .await;
    assert!(named.starts_with("HTTP/1.1 403"), "{named}");

    // A real client sees the refusal as a failed tunnel.
    let client = proxied_client(sim.ca_pem(), proxy);
    assert!(
        client
            .get(format!("https://{target}/"))
            .send()
            .await
            .is_err()
    );

    assert_eq!(connections.await.unwrap(), 0, "the proxy connected onwards");
    assert!(sim.requests().await.is_empty());
}

#[tokio::test]
async fn the_host_list_is_configurable() {
    let config = SimConfig {
        intercept_hosts: vec!["wx.internal.test".to_owned()],
        ..SimConfig::default()
    };
    let (sim, proxy) = start_with_proxy_using(config).await;
    let client = proxied_client(sim.ca_pem(), proxy);
    let answer = get_json(&client, token_url(&sim, "https://wx.internal.test")).await;
    assert_eq!(answer["expires_in"], 7200);
    assert!(
        client
            .get(token_url(&sim, "https://api.weixin.qq.com"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn tls_listener_serves_the_wechat_hosts() {
    let sim = Simulator::start().await;
    let tls = sim.start_tls("127.0.0.1:0").await.unwrap();
    let client = Client::builder()
        .resolve("api.weixin.qq.com", tls)
        .tls_certs_only([Certificate::from_pem(sim.ca_pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let url = token_url(&sim, &format!("https://api.weixin.qq.com:{}", tls.port()));
    let answer = get_json(&client, url).await;
    assert_eq!(answer["expires_in"], 7200);
}

#[tokio::test]
async fn ca_certificate_is_served_over_http() {
    let sim = Simulator::start().await;
    let answer = reqwest::get(format!("{}/__sim/ca.pem", sim.base_url()))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "application/x-pem-file");
    let pem = answer.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(pem, sim.ca_pem());
}

#[tokio::test]
async fn a_given_ca_signs_the_certificate() {
    // A CA from an earlier run: its certificate is what clients already trust.
    let earlier = Simulator::start().await;
    let ca = CaPem {
        cert_pem: earlier.ca_pem().to_owned(),
        key_pem: String::new(),
    };
    let err = Simulator::bind("127.0.0.1:0", SimConfig::default().with_ca(ca))
        .await
        .err()
        .expect("a CA without a key is refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);

    let (cert_pem, key_pem) = test_ca();
    let config = SimConfig::default().with_ca(CaPem {
        cert_pem: cert_pem.clone(),
        key_pem,
    });
    let (sim, proxy) = start_with_proxy_using(config).await;
    assert_eq!(sim.ca_pem(), cert_pem);
    let client = proxied_client(&cert_pem, proxy);
    let answer = get_json(&client, token_url(&sim, "https://api.weixin.qq.com")).await;
    assert_eq!(answer["expires_in"], 7200);
}

/// A CA made the way an operator would (`openssl req -x509 ...`), kept as a fixture.
fn test_ca() -> (String, String) {
    (
        include_str!("fixtures/ca.pem").to_owned(),
        include_str!("fixtures/ca.key").to_owned(),
    )
}

#[tokio::test]
async fn a_dropped_connection_fault_drops_the_tls_session() {
    let (sim, proxy) = start_with_proxy().await;
    let client = proxied_client(sim.ca_pem(), proxy);
    sim.inject(Fault::drop_connection("/cgi-bin/token")).await;
    let dropped = client
        .get(token_url(&sim, "https://api.weixin.qq.com"))
        .send()
        .await;
    assert!(dropped.is_err(), "{dropped:?}");
    let entry = &sim.requests_to("/cgi-bin/token").await[0];
    assert_eq!(
        (entry.status, entry.fault.as_deref()),
        (0, Some("drop_connection"))
    );
    let answer = get_json(&client, token_url(&sim, "https://api.weixin.qq.com")).await;
    assert_eq!(answer["expires_in"], 7200);
}
