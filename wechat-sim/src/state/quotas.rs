//! Fixed-window call counters for 45011 (per minute) and 45009 (per day).

use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    Minute,
    /// WeChat quotas reset at midnight Beijing time (UTC+8).
    Day,
}

impl Window {
    fn index(self, now_ms: u64) -> u64 {
        let secs = now_ms / 1000;
        match self {
            Window::Minute => secs / 60,
            Window::Day => (secs + 8 * 3600) / 86_400,
        }
    }
}

#[derive(Default)]
pub struct Quotas {
    counts: HashMap<(String, Window, u64), u32>,
}

impl Quotas {
    /// Counts one call against `key` and says whether it is within `limit`. A refused call is
    /// not counted, so the quota is exactly `limit` successful calls per window.
    pub fn hit(&mut self, key: &str, window: Window, limit: u32, now_ms: u64) -> bool {
        let index = window.index(now_ms);
        if self.counts.len() > 10_000 {
            self.counts.retain(|(_, w, i), _| *i == w.index(now_ms));
        }
        let count = self
            .counts
            .entry((key.to_owned(), window, index))
            .or_insert(0);
        if *count >= limit {
            return false;
        }
        *count += 1;
        true
    }
}
