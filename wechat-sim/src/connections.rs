//! Dropped-connection faults. A response body that errors still lets hyper flush the status
//! line first, so the client would see `200 OK` and then a broken body. To make the client
//! see the connection die before any byte of the answer, every accepted socket carries a
//! kill switch the handler can flip: once flipped, the socket refuses every write and hyper
//! closes it without responding.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Kill switches of the open connections, by the client's address.
#[derive(Default)]
pub struct KillSwitches {
    switches: Mutex<HashMap<SocketAddr, Weak<AtomicBool>>>,
}

impl KillSwitches {
    pub(crate) fn register(&self, peer: SocketAddr) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        let mut switches = self.switches.lock().unwrap_or_else(|p| p.into_inner());
        switches.retain(|_, weak| weak.strong_count() > 0);
        switches.insert(peer, Arc::downgrade(&flag));
        flag
    }

    /// Makes the connection from `peer` fail its next write. False if it is not known.
    pub fn kill(&self, peer: &SocketAddr) -> bool {
        let switches = self.switches.lock().unwrap_or_else(|p| p.into_inner());
        match switches.get(peer).and_then(Weak::upgrade) {
            Some(flag) => {
                flag.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }
}

pub struct KillableAcceptor {
    pub inner: TcpAcceptor,
    pub switches: Arc<KillSwitches>,
}

impl Acceptor for KillableAcceptor {
    type Io = KillableStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(KillableStream, LocalAddr, RemoteAddr, Scheme)> {
        let (stream, local, remote, scheme) = self.inner.accept().await?;
        let killed = match remote.as_socket_addr() {
            Some(peer) => self.switches.register(*peer),
            None => Arc::new(AtomicBool::new(false)),
        };
        Ok((KillableStream { stream, killed }, local, remote, scheme))
    }
}

/// A connection with a kill switch: a TCP socket, or a TLS session the intercepting proxy or
/// the TLS listener terminated.
pub struct KillableStream<S = TcpStream> {
    stream: S,
    killed: Arc<AtomicBool>,
}

impl<S> KillableStream<S> {
    pub(crate) fn new(stream: S, killed: Arc<AtomicBool>) -> Self {
        Self { stream, killed }
    }

    fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

fn aborted() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "wechat-sim: injected dropped connection",
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for KillableStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for KillableStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
