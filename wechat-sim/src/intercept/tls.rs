//! TLS termination. The proxy's `CONNECT` tunnels and the `--tls-addr` listener both hand
//! their TLS sessions to one channel; a poem server reads the channel as its acceptor, so the
//! WeChat API inside TLS is the very same endpoint as over plain HTTP (journal, faults and
//! dropped connections included).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

use crate::connections::{KillSwitches, KillableStream};

/// A client that never finishes its handshake must not hold a task forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

pub struct TlsConn {
    io: Box<dyn Io>,
    local: SocketAddr,
    peer: SocketAddr,
}

/// Performs handshakes and passes the sessions on to the TLS-side server.
#[derive(Clone)]
pub struct TlsTerminator {
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<TlsConn>,
}

impl TlsTerminator {
    pub fn new(config: Arc<ServerConfig>, switches: Arc<KillSwitches>) -> (Self, TlsConnAcceptor) {
        let (tx, rx) = mpsc::channel(64);
        let terminator = Self {
            acceptor: TlsAcceptor::from(config),
            tx,
        };
        (terminator, TlsConnAcceptor { rx, switches })
    }

    /// Handshakes on the stream `stream` resolves to, in the background.
    pub fn spawn<S: Io>(
        &self,
        stream: impl Future<Output = io::Result<S>> + Send + 'static,
        local: SocketAddr,
        peer: SocketAddr,
    ) {
        let this = self.clone();
        tokio::spawn(async move {
            let handshake = async {
                let stream = stream.await?;
                this.acceptor.accept(stream).await
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                Ok(Ok(tls)) => {
                    let conn = TlsConn {
                        io: Box::new(tls),
                        local,
                        peer,
                    };
                    let _ = this.tx.send(conn).await;
                }
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }

    /// Accepts TCP connections on `listener` until `stop` flips, terminating TLS on each.
    pub async fn serve(self, listener: TcpListener, mut stop: watch::Receiver<bool>) {
        let local = match listener.local_addr() {
            Ok(addr) => addr,
            Err(_) => return,
        };
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => self.spawn(async { Ok(stream) }, local, peer),
                    Err(error) => {
                        tracing::warn!(%error, "TLS listener accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
    }
}

/// The TLS-side server's acceptor: sessions arrive already decrypted-ready.
pub struct TlsConnAcceptor {
    rx: mpsc::Receiver<TlsConn>,
    switches: Arc<KillSwitches>,
}

impl Acceptor for TlsConnAcceptor {
    type Io = KillableStream<Box<dyn Io>>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        Vec::new()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let Some(conn) = self.rx.recv().await else {
            // Every sender is gone only while the simulator shuts down, which stops the
            // server anyway.
            return std::future::pending().await;
        };
        let killed = self.switches.register(conn.peer);
        Ok((
            KillableStream::new(conn.io, killed),
            LocalAddr(poem::Addr::SocketAddr(conn.local)),
            RemoteAddr(poem::Addr::SocketAddr(conn.peer)),
            Scheme::HTTPS,
        ))
    }
}
