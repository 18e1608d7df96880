//! Per-connection deadlines: the idle timeout (`BAI_IDLE_TIMEOUT`) and the header-read deadline
//! (`BAI_HEADER_TIMEOUT_MS`); and the hook the connection cap (`connections.rs`) evicts through.
//!
//! Replaces poem's `Server::idle_timeout`, which wraps each connection so that every read and
//! write wakes a watcher task that re-arms a timer: one extra task wake-up and timer
//! registration per request (~5-7 µs of CPU per request at 16 connections). Here each connection
//! keeps one timer, armed once and moved forward only when it fires: a connection that saw
//! traffic since the last deadline gets a new one, a silent one ends as if the peer had closed.
//!
//! The header deadline rides on the same timer. The stream tells the phases of HTTP/1.1 apart
//! from the bytes alone: a request head starts with the first byte read after a response (or at
//! accept) and ends at its blank line; the response's first write ends the request. A head
//! that arrives whole in one read, as nearly every head does, never touches the timer; only a
//! head still incomplete after a read pulls the deadline in. (poem 3.1 does not expose hyper's
//! `header_read_timeout`, and hyper only honours it with a timer poem does not set.)

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::connections::{Registry, Slot};

/// Where the connection is in its request/response cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request head, since `started`. `any` says whether a byte
    /// of it arrived: a connection that never sent anything is closed without an answer.
    Head { started: Instant, any: bool },
    /// The head is complete; the request is being handled.
    Request,
    /// A response was written; nothing of the next request has arrived.
    Idle,
}

/// How an HTTP/2 prior-knowledge connection starts.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

/// Why a connection is being ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Idle,
    Head { answer: bool },
}

/// A connection with the idle and header deadlines, registered with the connection cap.
pub struct IdleStream<S> {
    inner: S,
    registry: Arc<Registry>,
    slot: Slot,
    last_activity: Instant,
    deadline: Pin<Box<Sleep>>,
    phase: Phase,
    /// The last two bytes of the head so far, to find a blank line split across reads.
    tail: [u8; 2],
    /// A deadline passed: every further read is end of stream.
    ended: bool,
    http2: bool,
}

impl<S> IdleStream<S> {
    pub(crate) fn new(inner: S, registry: Arc<Registry>, slot: Slot) -> Self {
        let now = Instant::now();
        let limits = registry.limits();
        let first_due = now + limits.idle_timeout.min(limits.header_timeout);
        Self {
            inner,
            registry,
            slot,
            last_activity: now,
            deadline: Box::pin(tokio::time::sleep_until(first_due)),
            phase: Phase::Head {
                started: now,
                any: false,
            },
            tail: [0, 0],
            ended: false,
            http2: false,
        }
    }

    /// Whether a deadline has passed. Registers the caller's waker with the timer otherwise,
    /// so a pending read is polled again when it fires.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Option<Cut> {
        let limits = self.registry.limits();
        while self.deadline.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            let idle_due = self.last_activity + limits.idle_timeout;
            let mut due = idle_due;
            if let Phase::Head { started, any } = self.phase {
                let head_due = started + limits.header_timeout;
                if now >= head_due {
                    return Some(Cut::Head { answer: any });
                }
                due = due.min(head_due);
            }
            if now >= idle_due {
                return Some(Cut::Idle);
            }
            self.deadline.as_mut().reset(due);
        }
        None
    }

    /// Follows the request/response cycle through the bytes just read.
    fn on_read(&mut self, bytes: &[u8], now: Instant) {
        if bytes.is_empty() {
            return;
        }
        match self.phase {
            Phase::Request => return,
            // HTTP/2 (h2c) frames are not HTTP/1.1 heads: such a connection only has the idle
            // timeout and the cap, as idle since its last write.
            Phase::Head { any: false, .. } if bytes.starts_with(H2_PREFACE) => {
                self.http2 = true;
                self.phase = Phase::Idle;
                return;
            }
            Phase::Idle if self.http2 => return,
            Phase::Idle => {
                self.phase = Phase::Head {
                    started: now,
                    any: true,
                };
                self.tail = [0, 0];
            }
            Phase::Head { started, .. } => {
                self.phase = Phase::Head { started, any: true };
            }
        }
        if head_complete(&mut self.tail, bytes) {
            self.phase = Phase::Request;
            self.slot.busy();
            return;
        }
        // Still in the head after this read: make sure the timer fires by its deadline.
        if let Phase::Head { started, .. } = self.phase {
            let head_due = started + self.registry.limits().header_timeout;
            if self.deadline.deadline() > head_due {
                self.deadline.as_mut().reset(head_due);
            }
        }
        self.slot
            .idle_since(self.registry.millis(self.phase_since(now)));
    }

    fn phase_since(&self, now: Instant) -> Instant {
        match self.phase {
            Phase::Head { started, .. } => started,
            _ => now,
        }
    }
}

impl<S: AsyncWrite + Unpin> IdleStream<S> {
    /// Best effort: the 408 goes out only if the socket takes it at once.
    fn answer_timeout(&mut self, cx: &mut Context<'_>) {
        let response = self.registry.timeout_response();
        if let Poll::Ready(Ok(n)) = Pin::new(&mut self.inner).poll_write(cx, &response)
            && n == response.len()
        {
            let _ = Pin::new(&mut self.inner).poll_flush(cx);
            let _ = Pin::new(&mut self.inner).poll_shutdown(cx);
        }
    }
}

/// Whether `bytes` end the head: a line feed followed by an empty line (`\n\n` or `\n\r\n`,
/// as httparse accepts both). `tail` carries the last two bytes across reads.
fn head_complete(tail: &mut [u8; 2], bytes: &[u8]) -> bool {
    let at = |i: isize| -> u8 {
        if i >= 0 {
            bytes[i as usize]
        } else {
            tail[(2 + i) as usize]
        }
    };
    for i in memchr::memchr_iter(b'\n', bytes) {
        let i = i as isize;
        if at(i - 1) == b'\n' || (at(i - 1) == b'\r' && at(i - 2) == b'\n') {
            return true;
        }
    }
    let n = bytes.len() as isize;
    *tail = [at(n - 2), at(n - 1)];
    false
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for IdleStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.ended || this.slot.is_evicted() {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                let now = Instant::now();
                this.last_activity = now;
                this.on_read(&buf.filled()[before..], now);
                // A trickle may always have a byte ready: the deadline holds all the same.
                if let Phase::Head { started, any } = this.phase
                    && now >= started + this.registry.limits().header_timeout
                {
                    buf.set_filled(before);
                    this.ended = true;
                    if any {
                        this.registry.note_header_timeout();
                        this.answer_timeout(cx);
                    }
                }
                Poll::Ready(result)
            }
            Poll::Pending => match this.poll_deadline(cx) {
                // Too slow or too silent: end of stream, so the connection closes.
                Some(cut) => {
                    this.ended = true;
                    if cut == (Cut::Head { answer: true }) {
                        this.registry.note_header_timeout();
                        this.answer_timeout(cx);
                    }
                    Poll::Ready(Ok(()))
                }
                None => {
                    this.slot.register(cx.waker());
                    // The cap may have evicted us between the check above and the register.
                    if this.slot.is_evicted() {
                        return Poll::Ready(Ok(()));
                    }
                    Poll::Pending
                }
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> IdleStream<S> {
    fn on_write(&mut self) {
        let now = Instant::now();
        self.last_activity = now;
        if self.phase != Phase::Idle {
            self.phase = Phase::Idle;
        }
        self.slot.idle_since(self.registry.millis(now));
    }

    fn evicted_error() -> io::Error {
        io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "closed to make room under BAI_MAX_CONNECTIONS",
        )
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.slot.is_evicted() {
            return Poll::Ready(Err(Self::evicted_error()));
        }
        this.on_write();
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.slot.is_evicted() {
            return Poll::Ready(Err(Self::evicted_error()));
        }
        this.on_write();
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

impl<S> Drop for IdleStream<S> {
    fn drop(&mut self) {
        self.registry.release(&self.slot);
    }
}

#[cfg(test)]
#[path = "idle_tests.rs"]
mod tests;
