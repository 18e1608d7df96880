//! End-to-end suites live in api/.
