//! Property tests of the users domain's pure functions: input sanitising, phone masking and
//! id generation. Each property is something the README promises of every input, not of a
//! few examples.

mod ids;
mod masking;
mod sanitize;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// `cases` cases per property, or `PROPTEST_CASES` when set (a longer soak:
/// `PROPTEST_CASES=100000 cargo test -p bai-service --test properties --release`).
/// Failures found are kept beside each module (`sanitize.proptest-regressions`): proptest's
/// default would put every module's in one `tests/proptest-regressions/` for all test crates.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::with_cases(cases)
    }
}
