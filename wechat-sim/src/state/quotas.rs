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

#[cfg(test)]
mod tests {
    use super::{Quotas, Window};

    /// Past 10 000 counters, a hit sweeps out the past windows' counters and keeps the current
    /// ones: a caller at its limit stays refused until its next window. (HTTP cannot reach this:
    /// it takes 10 000 distinct users or apps.)
    #[test]
    fn the_sweep_drops_past_windows_and_keeps_the_current_counts() {
        let mut quotas = Quotas::default();
        let now = 1_800_000_000_000;
        for user in 0..5_000 {
            assert!(quotas.hit(&format!("past{user}"), Window::Minute, 1, now - 60_000));
        }
        assert!(quotas.hit("alice", Window::Minute, 1, now));
        // The 5 001st of these finds 10 001 counters and sweeps.
        for user in 0..5_001 {
            assert!(quotas.hit(&format!("now{user}"), Window::Minute, 1, now));
        }
        assert_eq!(
            quotas.counts.len(),
            1 + 5_001,
            "alice and the current users"
        );
        assert!(
            !quotas.hit("alice", Window::Minute, 1, now),
            "still at her limit"
        );
        assert!(quotas.hit("alice", Window::Minute, 1, now + 60_000));
    }

    /// The sweep bounds the map: once more than 10 000 counters are held, the next hit in a new
    /// window leaves only its own.
    #[test]
    fn past_ten_thousand_counters_a_new_window_sweeps_the_old_ones() {
        let mut quotas = Quotas::default();
        let now = 1_800_000_000_000;
        for user in 0..10_001 {
            assert!(quotas.hit(&format!("user{user}"), Window::Day, 5, now));
        }
        assert_eq!(quotas.counts.len(), 10_001);
        assert!(quotas.hit("late", Window::Day, 5, now + 86_400_000));
        assert_eq!(quotas.counts.len(), 1);
    }

    /// A minute window is the wall-clock minute, not the last 60 seconds.
    #[test]
    fn a_minute_quota_holds_to_the_end_of_the_minute() {
        let mut quotas = Quotas::default();
        let minute = 1_800_000_000 / 60 * 60 * 1_000;
        assert!(quotas.hit("alice", Window::Minute, 1, minute));
        assert!(!quotas.hit("alice", Window::Minute, 1, minute + 59_999));
        assert!(quotas.hit("alice", Window::Minute, 1, minute + 60_000));
    }

    /// A day window runs from midnight to midnight Beijing time: 16:00 to 16:00 UTC.
    #[test]
    fn a_day_quota_resets_at_beijing_midnight() {
        let mut quotas = Quotas::default();
        let utc_midnight = 1_800_000_000 / 86_400 * 86_400 * 1_000;
        let beijing_midnight = utc_midnight + 16 * 3_600_000;
        assert!(quotas.hit("app", Window::Day, 1, beijing_midnight));
        for later in [8, 16, 24 - 1] {
            let at = beijing_midnight + later * 3_600_000;
            assert!(!quotas.hit("app", Window::Day, 1, at), "{later} h later");
        }
        assert!(!quotas.hit("app", Window::Day, 1, beijing_midnight + 86_400_000 - 1));
        assert!(quotas.hit("app", Window::Day, 1, beijing_midnight + 86_400_000));
    }
}
