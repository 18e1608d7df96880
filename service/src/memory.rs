//! Hands memory freed after a burst back to the operating system.
//!
//! glibc's malloc keeps what a burst freed (5,000 connections' buffers, say) in its per-thread
//! arenas and returns only the top of the main heap by itself, so the service's RSS stayed at its
//! peak for good: 19 → 165 MiB after a flood of 5,000 keep-alive connections, still 165 MiB a
//! minute later (`scripts/bench-flood.sh`). `malloc_trim` releases every whole free page of every
//! arena; with it every 10 s RSS was back at 22.5 MiB within 15 s of the flood. jemalloc (with
//! background threads) came back too but idles at 27 MiB instead of 19; mimalloc idled at 44 and
//! never came back (docs/benchmarks.md). Other C libraries manage their own; there this is a no-op.

use std::time::Duration;

/// How often freed memory is handed back.
pub const TRIM_INTERVAL: Duration = Duration::from_secs(10);

/// Runs until the task is aborted.
pub async fn trim_forever(every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        trim();
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim takes the allocator's own locks and only releases free pages; it has
    // no preconditions on the caller.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
