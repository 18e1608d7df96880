//! Closes connections that stay silent for the idle timeout (`BAI_IDLE_TIMEOUT`).
//!
//! Replaces poem's `Server::idle_timeout`, which wraps each connection so that every read and
//! write wakes a watcher task that re-arms a timer: one extra task wake-up and timer
//! registration per request (~5-7 µs of CPU per request at 16 connections). Here each connection
//! keeps one timer, armed once and moved forward only when it fires: a connection that saw
//! traffic since the last deadline gets a new one, a silent one ends as if the peer had closed.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// An acceptor whose connections close after `timeout` without reads or writes.
pub struct IdleTimeout<A> {
    inner: A,
    timeout: Duration,
}

impl<A> IdleTimeout<A> {
    pub fn new(inner: A, timeout: Duration) -> Self {
        Self { inner, timeout }
    }
}

impl<A: Acceptor> Acceptor for IdleTimeout<A> {
    type Io = IdleStream<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        Ok((IdleStream::new(io, self.timeout), local, remote, scheme))
    }
}

/// A connection that reports end-of-stream once it has been silent for its timeout.
pub struct IdleStream<S> {
    inner: S,
    timeout: Duration,
    last_activity: Instant,
    deadline: Pin<Box<Sleep>>,
}

impl<S> IdleStream<S> {
    fn new(inner: S, timeout: Duration) -> Self {
        let now = Instant::now();
        Self {
            inner,
            timeout,
            last_activity: now,
            deadline: Box::pin(tokio::time::sleep_until(now + timeout)),
        }
    }

    /// Whether the connection has been silent for the whole timeout. Registers the caller's
    /// waker with the timer otherwise, so a pending read is polled again when it fires.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> bool {
        while self.deadline.as_mut().poll(cx).is_ready() {
            let due = self.last_activity + self.timeout;
            if Instant::now() >= due {
                return true;
            }
            self.deadline.as_mut().reset(due);
        }
        false
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.last_activity = Instant::now();
                Poll::Ready(result)
            }
            // Silent too long: end of stream, so the connection closes.
            Poll::Pending if this.poll_idle(cx) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.last_activity = Instant::now();
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.last_activity = Instant::now();
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::pin::Pin;
    use std::time::Duration;

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::time::Instant;

    use super::IdleStream;

    async fn read(stream: &mut IdleStream<tokio::io::DuplexStream>) -> usize {
        let mut buf = [0u8; 16];
        let mut buf = ReadBuf::new(&mut buf);
        poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, &mut buf))
            .await
            .unwrap();
        buf.filled().len()
    }

    async fn write(peer: &mut tokio::io::DuplexStream, data: &[u8]) {
        poll_fn(|cx| Pin::new(&mut *peer).poll_write(cx, data))
            .await
            .unwrap();
    }

    // On tokio's paused clock time only moves when every task waits, so a loaded machine
    // cannot stretch a 60 ms pause past the 100 ms timeout.
    #[tokio::test(start_paused = true)]
    async fn traffic_keeps_a_connection_open_and_silence_ends_it() {
        let timeout = Duration::from_millis(100);
        let (server, mut peer) = tokio::io::duplex(64);
        let mut stream = IdleStream::new(server, timeout);
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
}
