//! The connection cap (`BAI_MAX_CONNECTIONS`) and the open-file limit it is sized from.
//!
//! Every accepted connection takes a slot. At the cap, the longest-idle connection without a
//! request in progress is closed to make room (a connection still sending its head counts as
//! idle since the head began), so idle or slow connections can never lock a well-behaved
//! client out; only when every slot is busy with a request is the new connection closed at
//! once. Either way the connections serving requests keep going. Both, like the header-read
//! timeouts, are logged once per burst, not per connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use atomic_waker::AtomicWaker;
use tokio::time::Instant;

/// File descriptors kept free for everything that is not a client connection: stdio, the
/// runtime's epoll and timer, log files, the in-process simulator, migrations.
const RESERVED_FDS: u64 = 64;
/// Kept free for outgoing WeChat calls without a ceiling on them (`BAI_WECHAT_MAX_RPS=0`).
const WECHAT_FDS_UNCAPPED: u64 = 256;
/// Kept free for WeChat calls at least: reqwest's idle pool and the access-token refresh.
const WECHAT_FDS_MIN: u64 = 16;
/// Each pooled SQLite connection holds the database, its WAL and its shared-memory file.
const FDS_PER_DB_CONNECTION: u64 = 3;
/// The default cap never goes beyond this, however high the open-file limit: each idle
/// connection costs memory (buffers, a task), and a flood should find a bound.
const MAX_DEFAULT_CONNECTIONS: u64 = 10_000;
/// Nor below this, even under a tiny open-file limit.
const MIN_DEFAULT_CONNECTIONS: u64 = 16;
/// At most one log line per this long for each kind of overload event.
const BURST_LOG_INTERVAL: Duration = Duration::from_secs(10);
/// `since` of a connection with a request in progress: never evicted.
const BUSY: u64 = u64::MAX;

/// The open-file limit after start-up raised the soft limit to the hard one.
#[derive(Debug, Clone, Copy)]
pub struct FileLimit {
    pub soft_before: u64,
    pub soft: u64,
    pub hard: u64,
}

/// Raises the soft open-file limit to the hard limit and logs both.
pub fn raise_file_limit() -> Option<FileLimit> {
    let (soft_before, hard) = rlimit::Resource::NOFILE.get().ok()?;
    let soft = match rlimit::increase_nofile_limit(hard) {
        Ok(soft) => soft,
        Err(err) => {
            tracing::warn!(error = %err, soft = soft_before, hard, "could not raise the open-file limit");
            soft_before
        }
    };
    tracing::info!(
        soft_before,
        soft,
        hard,
        "open-file limit (RLIMIT_NOFILE): soft raised to the hard limit"
    );
    Some(FileLimit {
        soft_before,
        soft,
        hard,
    })
}

/// What the cap leaves room for besides client connections.
#[derive(Debug, Clone, Copy)]
pub struct Headroom {
    pub db_max_connections: u32,
    /// `BAI_WECHAT_MAX_RPS` (0: none).
    pub wechat_max_rps: u32,
    pub wechat_timeout: Duration,
}

impl Headroom {
    /// Calls in flight are at most the ceiling times the timeout (WeChat hanging on every one).
    fn wechat_fds(&self) -> u64 {
        if self.wechat_max_rps == 0 {
            return WECHAT_FDS_UNCAPPED;
        }
        let timeout_secs = self.wechat_timeout.as_millis().div_ceil(1000) as u64;
        (u64::from(self.wechat_max_rps) * timeout_secs.max(1)).max(WECHAT_FDS_MIN)
    }
}

/// `BAI_MAX_CONNECTIONS` when unset: the open-file limit less what the database pool, WeChat
/// calls and the process itself need, within sane bounds.
pub fn default_max_connections(open_files: u64, headroom: Headroom) -> usize {
    let reserved = RESERVED_FDS
        + headroom.wechat_fds()
        + u64::from(headroom.db_max_connections) * FDS_PER_DB_CONNECTION;
    open_files
        .saturating_sub(reserved)
        .clamp(MIN_DEFAULT_CONNECTIONS, MAX_DEFAULT_CONNECTIONS) as usize
}

/// What one connection shares with the registry.
#[derive(Debug)]
struct Shared {
    /// Milliseconds (since the registry's start) since when the connection has been idle or
    /// sending its head; `BUSY` while a request is in progress.
    since: AtomicU64,
    evicted: AtomicBool,
    waker: AtomicWaker,
}

/// A connection's slot under the cap.
#[derive(Debug)]
pub(crate) struct Slot {
    id: u64,
    shared: Arc<Shared>,
}

impl Slot {
    pub(crate) fn busy(&self) {
        self.shared.since.store(BUSY, Ordering::Relaxed);
    }

    pub(crate) fn idle_since(&self, millis: u64) {
        self.shared.since.store(millis, Ordering::Relaxed);
    }

    pub(crate) fn is_evicted(&self) -> bool {
        self.shared.evicted.load(Ordering::Relaxed)
    }

    pub(crate) fn register(&self, waker: &Waker) {
        self.shared.waker.register(waker);
    }
}

/// Counts events and says when to log them: the first of a burst at once, then at most one
/// line per interval with how many happened since.
#[derive(Debug, Default)]
struct BurstLog {
    state: Mutex<(Option<Instant>, u64)>,
}

impl BurstLog {
    /// `Some(n)`: log now, `n` events since the last line (this one included).
    fn note(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1 += 1;
        let now = Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < BURST_LOG_INTERVAL => None,
            _ => {
                let count = state.1;
                *state = (Some(now), 0);
                Some(count)
            }
        }
    }
}

/// The live connections of one server.
pub struct Registry {
    start: Instant,
    max: usize,
    limits: ConnLimits,
    timeout_response: Box<dyn Fn() -> Vec<u8> + Send + Sync>,
    slots: Mutex<Slots>,
    over_cap: BurstLog,
    header_timeouts: BurstLog,
}

#[derive(Default)]
struct Slots {
    next_id: u64,
    live: HashMap<u64, Arc<Shared>>,
}

impl Registry {
    /// `timeout_response` renders the raw HTTP/1.1 408 sent when a head is too slow.
    pub fn new(
        max: usize,
        limits: ConnLimits,
        timeout_response: impl Fn() -> Vec<u8> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            max: max.max(1),
            limits,
            timeout_response: Box::new(timeout_response),
            slots: Mutex::default(),
            over_cap: BurstLog::default(),
            header_timeouts: BurstLog::default(),
        })
    }

    pub(crate) fn limits(&self) -> ConnLimits {
        self.limits
    }

    pub(crate) fn timeout_response(&self) -> Vec<u8> {
        (self.timeout_response)()
    }

    pub(crate) fn millis(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_millis() as u64
    }

    /// How many connections hold a slot.
    pub fn live(&self) -> usize {
        self.lock().live.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a new connection, evicting the longest-idle one at the cap; `None` when
    /// every slot has a request in progress.
    pub(crate) fn admit(&self) -> Option<Slot> {
        let mut slots = self.lock();
        let at_cap = slots.live.len() >= self.max;
        if at_cap && !Self::evict_longest_idle(&mut slots) {
            drop(slots);
            self.note_over_cap("every connection has a request in progress: refused a new one");
            return None;
        }
        let id = slots.next_id;
        slots.next_id += 1;
        let shared = Arc::new(Shared {
            since: AtomicU64::new(self.millis(Instant::now())),
            evicted: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        slots.live.insert(id, shared.clone());
        drop(slots);
        if at_cap {
            self.note_over_cap("closing the longest-idle connections to make room");
        }
        Some(Slot { id, shared })
    }

    /// Frees one slot, if some connection has no request in progress.
    pub(crate) fn evict_one(&self) -> bool {
        Self::evict_longest_idle(&mut self.lock())
    }

    fn evict_longest_idle(slots: &mut Slots) -> bool {
        let victim = slots
            .live
            .iter()
            .map(|(id, shared)| (*id, shared.since.load(Ordering::Relaxed)))
            .filter(|(_, since)| *since != BUSY)
            .min_by_key(|(_, since)| *since)
            .map(|(id, _)| id);
        let Some(shared) = victim.and_then(|id| slots.live.remove(&id)) else {
            return false;
        };
        shared.evicted.store(true, Ordering::Relaxed);
        shared.waker.wake();
        true
    }

    pub(crate) fn release(&self, slot: &Slot) {
        self.lock().live.remove(&slot.id);
    }

    pub(crate) fn note_over_cap(&self, what: &str) {
        if let Some(events) = self.over_cap.note() {
            tracing::warn!(
                max_connections = self.max,
                events,
                "connection limit (BAI_MAX_CONNECTIONS) reached: {what}"
            );
        }
    }

    pub(crate) fn note_header_timeout(&self) {
        if let Some(connections) = self.header_timeouts.note() {
            tracing::warn!(
                connections,
                header_timeout_ms = self.limits.header_timeout.as_millis() as u64,
                "closed connections whose request headers did not arrive in time (408)"
            );
        }
    }
}

/// The deadlines every connection gets.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub idle_timeout: Duration,
    pub header_timeout: Duration,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{BurstLog, Headroom, default_max_connections};

    const DEFAULTS: Headroom = Headroom {
        db_max_connections: 10,
        wechat_max_rps: 50,
        wechat_timeout: Duration::from_millis(5_000),
    };

    #[test]
    fn the_default_cap_leaves_room_for_the_pool_and_wechat() {
        // The process, 50 calls a second that may each hang for 5 s, 10 SQLite connections.
        assert_eq!(
            default_max_connections(1024, DEFAULTS),
            1024 - 64 - 250 - 30
        );
        assert_eq!(default_max_connections(1_048_576, DEFAULTS), 10_000);
        assert_eq!(default_max_connections(100, DEFAULTS), 16);
        let uncapped = Headroom {
            wechat_max_rps: 0,
            ..DEFAULTS
        };
        assert_eq!(
            default_max_connections(1024, uncapped),
            1024 - 64 - 256 - 30
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_logged_once_then_at_most_once_per_interval_with_its_count() {
        let log = BurstLog::default();
        assert_eq!(
            log.note(),
            Some(1),
            "the first event of a burst is logged at once"
        );
        for _ in 0..999 {
            assert_eq!(log.note(), None);
        }
        tokio::time::sleep(super::BURST_LOG_INTERVAL).await;
        assert_eq!(
            log.note(),
            Some(1000),
            "then one line with the count since the last"
        );
    }
}
