//! The ceiling on WeChat exchanges started per second (`BAI_WECHAT_MAX_RPS`, per replica), so
//! that no flood can spend the app's WeChat quota. The domain flows reserve a permit before
//! they claim anything or call WeChat.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// Over the ceiling: try again after this many whole seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the WeChat call ceiling is reached; retry in {retry_after_secs} s")]
pub struct CeilingReached {
    pub retry_after_secs: u64,
}

#[derive(Debug, Default)]
pub(super) struct Ceiling(Option<DefaultDirectRateLimiter>);

impl Ceiling {
    /// `per_second` 0: no ceiling. The burst is one second's worth.
    pub(super) fn new(per_second: u32) -> Self {
        Self(NonZeroU32::new(per_second).map(|rate| RateLimiter::direct(Quota::per_second(rate))))
    }

    pub(super) fn reserve(&self) -> Result<(), CeilingReached> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        // A per-second quota refills a permit every 1/rate s, so the wait is never more than
        // one second: in whole seconds, always 1.
        limiter.check().map_err(|_| CeilingReached {
            retry_after_secs: 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Ceiling;

    #[test]
    fn the_ceiling_lets_one_seconds_worth_through_then_says_when_to_retry() {
        let ceiling = Ceiling::new(2);
        assert!(ceiling.reserve().is_ok());
        assert!(ceiling.reserve().is_ok());
        assert_eq!(ceiling.reserve().unwrap_err().retry_after_secs, 1);
        assert!(Ceiling::new(0).reserve().is_ok());
    }
}
