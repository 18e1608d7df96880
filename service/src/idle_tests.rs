use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, DuplexStream, ReadBuf};
use tokio::time::Instant;

use super::{IdleStream, head_complete};
use crate::connections::{ConnLimits, Registry};

const TIMEOUT_RESPONSE: &[u8] = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n";

fn registry(max: usize, idle_ms: u64, header_ms: u64) -> Arc<Registry> {
    Registry::new(
        max,
        ConnLimits {
            idle_timeout: Duration::from_millis(idle_ms),
            header_timeout: Duration::from_millis(header_ms),
        },
        || TIMEOUT_RESPONSE.to_vec(),
    )
}

fn stream(registry: &Arc<Registry>) -> (IdleStream<DuplexStream>, DuplexStream) {
    let (server, peer) = tokio::io::duplex(256);
    let slot = registry.admit().expect("a free slot");
    (IdleStream::new(server, registry.clone(), slot), peer)
}

async fn read(stream: &mut IdleStream<DuplexStream>) -> usize {
    let mut buf = [0u8; 64];
    let mut buf = ReadBuf::new(&mut buf);
    poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, &mut buf))
        .await
        .unwrap();
    buf.filled().len()
}

async fn write<W: AsyncWrite + Unpin>(w: &mut W, data: &[u8]) {
    poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, data))
        .await
        .unwrap();
}

// On tokio's paused clock time only moves when every task waits, so a loaded machine
// cannot stretch a 60 ms pause past the 100 ms timeout.
#[tokio::test(start_paused = true)]
async fn traffic_keeps_a_connection_open_and_silence_ends_it() {
    let timeout = Duration::from_millis(100);
    let registry = registry(10, 100, 3_600_000);
    let (mut stream, mut peer) = stream(&registry);
    let start = Instant::now();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(60)).await;
        write(&mut peer, b"ping").await;
        assert_eq!(read(&mut stream).await, 4);
    }
    // Silent from now on: end of stream once the timeout has passed since the last read.
    let last = Instant::now();
    assert_eq!(read(&mut stream).await, 0);
    assert!(last.elapsed() >= timeout);
    assert!(start.elapsed() >= Duration::from_millis(280));
}

#[tokio::test(start_paused = true)]
async fn a_head_trickled_past_the_deadline_gets_a_408_and_end_of_stream() {
    let registry = registry(10, 60_000, 1_000);
    let (mut stream, mut peer) = stream(&registry);
    let start = Instant::now();
    let mut cut = false;
    for byte in b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: 1234567890"
        .iter()
        .cycle()
        .take(100)
    {
        write(&mut peer, &[*byte]).await;
        if read(&mut stream).await == 0 {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(cut, "the trickle was never cut");
    assert!(start.elapsed() >= Duration::from_millis(1_000));
    assert!(start.elapsed() < Duration::from_millis(1_300));
    let mut answer = Vec::new();
    peer.read_to_end(&mut answer).await.unwrap();
    assert_eq!(answer, TIMEOUT_RESPONSE);
}

#[tokio::test(start_paused = true)]
async fn a_complete_head_is_not_cut_while_its_request_runs_nor_after_its_response() {
    let registry = registry(10, 5_000, 100);
    let (mut stream, mut peer) = stream(&registry);
    write(&mut peer, b"POST / HTTP/1.1\r\nHost: a\r\n\r\n{}").await;
    assert!(read(&mut stream).await > 0);
    // The handler takes far longer than the header deadline, then answers.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    write(&mut stream, b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
    // Idle keep-alive: only the idle timeout applies.
    let idle_from = Instant::now();
    assert_eq!(read(&mut stream).await, 0);
    assert!(idle_from.elapsed() >= Duration::from_millis(5_000));
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_never_sends_is_closed_at_the_header_deadline_without_an_answer() {
    let registry = registry(10, 60_000, 200);
    let (mut stream, mut peer) = stream(&registry);
    assert_eq!(read(&mut stream).await, 0);
    drop(stream);
    let mut answer = Vec::new();
    peer.read_to_end(&mut answer).await.unwrap();
    assert!(answer.is_empty());
}

#[tokio::test(start_paused = true)]
async fn at_the_cap_the_longest_idle_connection_without_a_request_makes_room() {
    let registry = registry(3, 60_000, 60_000);
    let (mut busy, mut busy_peer) = stream(&registry);
    write(&mut busy_peer, b"GET / HTTP/1.1\r\n\r\n").await;
    assert!(read(&mut busy).await > 0);
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (mut oldest_idle, _p1) = stream(&registry);
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (_newer_idle, _p2) = stream(&registry);
    assert_eq!(registry.live(), 3);

    let (_newcomer, _p3) = stream(&registry);
    assert_eq!(registry.live(), 3);
    assert_eq!(
        read(&mut oldest_idle).await,
        0,
        "the oldest idle one is closed"
    );
    let (_another, _p4) = stream(&registry);
    assert!(
        !busy.slot.is_evicted(),
        "a connection with a request in progress stays"
    );
    write(&mut busy, b"HTTP/1.1 200 OK\r\n\r\n").await;
}

#[tokio::test(start_paused = true)]
async fn at_the_cap_with_every_connection_busy_a_new_one_is_refused() {
    let registry = registry(1, 60_000, 60_000);
    let (mut busy, mut busy_peer) = stream(&registry);
    write(&mut busy_peer, b"GET / HTTP/1.1\r\n\r\n").await;
    assert!(read(&mut busy).await > 0);
    assert!(registry.admit().is_none());
    drop(busy);
    assert_eq!(registry.live(), 0, "a closed connection frees its slot");
}

#[tokio::test(start_paused = true)]
async fn an_http2_connection_only_has_the_idle_timeout() {
    let registry = registry(10, 5_000, 100);
    let (mut stream, mut peer) = stream(&registry);
    write(&mut peer, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
    assert!(read(&mut stream).await > 0);
    write(&mut stream, b"settings").await;
    // Binary frames never end in a blank line; the header deadline must not apply.
    let start = Instant::now();
    write(&mut peer, b"\x00\x00\x04headers").await;
    assert!(read(&mut stream).await > 0);
    assert_eq!(read(&mut stream).await, 0);
    assert!(start.elapsed() >= Duration::from_millis(5_000));
}

#[test]
fn the_end_of_a_head_is_found_across_reads_and_with_bare_line_feeds() {
    let mut tail = [0, 0];
    assert!(head_complete(
        &mut tail,
        b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody"
    ));
    let mut tail = [0, 0];
    assert!(!head_complete(&mut tail, b"GET / HTTP/1.1\r\nA: b\r\n"));
    assert!(!head_complete(&mut tail, b"\r"));
    assert!(head_complete(&mut tail, b"\n"));
    let mut tail = [0, 0];
    assert!(!head_complete(&mut tail, b"GET / HTTP/1.1\n"));
    assert!(head_complete(&mut tail, b"\n"));
    let mut tail = [0, 0];
    assert!(!head_complete(
        &mut tail,
        b"\r\nGET / HTTP/1.1\r\nHost: a\r\n"
    ));
}
