//! Slow clients and connection floods: the header-read deadline (`BAI_HEADER_TIMEOUT_MS`) and
//! the connection cap (`BAI_MAX_CONNECTIONS`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wechat_sim::Fault;

use crate::helpers::{TestApp, e2e_test, spawn_app_with};

/// How long each trickled byte waits: the trickle would take 60 × this to finish.
const TRICKLE_MS: u64 = 50;
const TRICKLE_BYTES: usize = 60;

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .expect("connected")
}

/// Whether the server has closed `stream`: end of stream or a reset within `wait`.
async fn closed_by_server(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 512];
    match tokio::time::timeout(wait, stream.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => panic!("an idle connection was sent data"),
        Err(_) => false,
    }
}

/// Splits a raw HTTP/1.1 response into its status line, headers and JSON body.
fn parse_raw(raw: &[u8]) -> (String, String, Value) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("body not JSON: {body:?}"));
    (status.to_owned(), headers.to_lowercase(), body)
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_at_the_header_deadline_with_a_408() {
    let app = spawn_app_with(|s| s.header_timeout_ms = 300).await;
    let stream = connect(&app).await;
    let (mut reader, mut writer) = stream.into_split();
    let sent = Arc::new(AtomicUsize::new(0));
    let trickle = tokio::spawn({
        let sent = sent.clone();
        async move {
            if writer
                .write_all(b"POST /api/system/health HTTP/1.1\r\nhost: x\r\nx-slow: ")
                .await
                .is_err()
            {
                return;
            }
            for _ in 0..TRICKLE_BYTES {
                tokio::time::sleep(Duration::from_millis(TRICKLE_MS)).await;
                if writer.write_all(b"a").await.is_err() {
                    return;
                }
                sent.fetch_add(1, Ordering::SeqCst);
            }
            // Bounded: the trickle ends here whatever happened; keep the socket open.
            std::future::pending::<()>().await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        Duration::from_millis(TRICKLE_MS * TRICKLE_BYTES as u64 + 2_000),
        reader.read_to_end(&mut answer),
    )
    .await;
    let trickled = sent.load(Ordering::SeqCst);
    trickle.abort();
    assert!(
        read.is_ok(),
        "the connection was still open after the whole trickle"
    );
    assert!(
        trickled < TRICKLE_BYTES,
        "the server let the head trickle on for {trickled} bytes"
    );
    let (status, headers, body) = parse_raw(&answer);
    assert_eq!(status, "HTTP/1.1 408 Request Timeout");
    assert!(headers.contains("content-type: application/json; charset=utf-8"));
    assert!(headers.contains("connection: close"));
    assert!(headers.contains("x-request-id: "));
    assert_eq!(body, json!({"code": 408, "msg": "请求超时", "data": {}}));
}

#[tokio::test]
async fn the_header_deadline_spares_a_keep_alive_connection_between_requests() {
    let app = spawn_app_with(|s| s.header_timeout_ms = 300).await;
    let mut stream = connect(&app).await;
    for _ in 0..2 {
        stream
            .write_all(b"GET /api/system/health HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let n = stream.read(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
        // Idle longer than the header deadline, well within the idle timeout.
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
}

e2e_test! {
    async fn with_the_cap_at_20_a_hundred_idle_connections_do_not_lock_out_a_client() {
        let app = spawn_app_with(|s| s.max_connections = Some(20)).await;
        let mut idle = Vec::new();
        for _ in 0..100 {
            idle.push(connect(&app).await);
        }
        let health = app.post("/api/system/health").await;
        assert_eq!(health.status(), 200);

        let checks = idle
            .iter_mut()
            .map(|stream| closed_by_server(stream, Duration::from_millis(1_000)));
        let closed = futures::future::join_all(checks)
            .await
            .into_iter()
            .filter(|closed| *closed)
            .count();
        // The health check's connection holds a slot too.
        assert!(
            closed >= 81,
            "only {closed} of 100 idle connections were closed under a cap of 20"
        );
    }
}

e2e_test! {
    async fn a_request_in_progress_survives_a_connection_flood() {
        let app = spawn_app_with(|s| s.max_connections = Some(5)).await;
        app.sim
            .inject(Fault::delay("/sns/jscode2session", 1_000).once())
            .await;
        let code = app.sim.login_code("alice").await.code;
        let login = tokio::spawn({
            let (client, url) = (app.client.clone(), app.url("/api/wechat/login"));
            async move {
                client
                    .post(url)
                    .json(&json!({ "users_wx_code": code }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        });
        // Let the login reach WeChat, then flood.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut flood = Vec::new();
        for _ in 0..50 {
            flood.push(connect(&app).await);
        }
        assert_eq!(login.await.unwrap(), 200);
        assert!(app.stored_user("alice").await.is_some());
    }
}
