//! The listener's acceptor: every accepted connection takes a slot under the cap
//! ([`crate::connections`]) and is wrapped to carry its deadlines ([`crate::idle`]).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};

use crate::connections::Registry;
use crate::idle::IdleStream;

/// How long to back off when `accept` fails for lack of file descriptors.
const FD_EXHAUSTED_BACKOFF: Duration = Duration::from_millis(20);

/// An acceptor whose connections take a slot under the cap and carry the deadlines.
pub struct Capped<A> {
    inner: A,
    registry: Arc<Registry>,
}

impl<A> Capped<A> {
    pub fn new(inner: A, registry: Arc<Registry>) -> Self {
        Self { inner, registry }
    }
}

impl<A: Acceptor> Acceptor for Capped<A>
where
    A::Io: tokio::io::AsyncRead,
{
    type Io = IdleStream<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            match self.inner.accept().await {
                Ok((io, local, remote, scheme)) => {
                    // Without a slot the connection is dropped here: closed at once.
                    if let Some(slot) = self.registry.admit() {
                        let io = IdleStream::new(io, self.registry.clone(), slot);
                        return Ok((io, local, remote, scheme));
                    }
                }
                // poem retries a failed accept at once, which spins while the process is out
                // of file descriptors; free one if we can and back off instead.
                Err(err) if is_out_of_fds(&err) => {
                    self.registry.evict_one();
                    self.registry
                        .note_over_cap("out of file descriptors: raise the open-file limit or lower BAI_MAX_CONNECTIONS");
                    tokio::time::sleep(FD_EXHAUSTED_BACKOFF).await;
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// EMFILE or ENFILE (the same numbers on Linux and the BSDs).
fn is_out_of_fds(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(23 | 24))
}
