//! Login (`/sns/jscode2session`): every errcode and transport failure, and what becomes of
//! the code's 429 guard afterwards.

use std::time::{Duration, Instant};

use wechat_sim::Fault;

use super::{
    BLOCKED, CODE2SESSION, DELAY_MS, Expect, GUARD_HELD, Row, TIMEOUT_MS, app_for,
    assert_row_snapshot, check, row, snap, transport_rows,
};
use crate::helpers::{e2e_test, snapshot, spawn_app_with};

/// What happens to the login code's claim after the failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// Transient: the same code goes through as soon as WeChat is well again.
    Released,
    /// Definitive: the same code answers 429 for `BAI_GUARD_TTL` seconds.
    Kept,
}

fn login_errcode_rows() -> Vec<(Row, Guard)> {
    use Guard::{Kept, Released};
    let e = |code| Fault::errcode(CODE2SESSION, code);
    vec![
        (row("busy", e(-1), Expect::busy()), Released),
        (
            row("rate_limited", e(45011), Expect::rate_limited()),
            Released,
        ),
        (
            snap(row("invalid_code", e(40029), Expect::code_invalid(40029))),
            Kept,
        ),
        (
            row("code_used", e(40163), Expect::code_invalid(40163)),
            Kept,
        ),
        (
            row(
                "risk_blocked",
                e(40226),
                Expect::status(403, BLOCKED, Some(40226)),
            ),
            Kept,
        ),
        (
            snap(row("invalid_appid", e(40013), Expect::bad_gateway(40013))),
            Kept,
        ),
        (
            row("invalid_appsecret", e(40125), Expect::bad_gateway(40125)),
            Kept,
        ),
        (
            row("invalid_grant_type", e(40002), Expect::bad_gateway(40002)),
            Kept,
        ),
        (
            row("appid_missing", e(41002), Expect::bad_gateway(41002)),
            Kept,
        ),
        (
            row("appsecret_missing", e(41004), Expect::bad_gateway(41004)),
            Kept,
        ),
        (
            row("code_missing", e(41008), Expect::bad_gateway(41008)),
            Kept,
        ),
        (
            row("data_format_error", e(47001), Expect::bad_gateway(47001)),
            Kept,
        ),
        (
            row("user_limited", e(50002), Expect::bad_gateway(50002)),
            Kept,
        ),
        (
            row("invalid_url", e(40066), Expect::bad_gateway(40066)),
            Kept,
        ),
    ]
}

/// Every transport failure is transient. Faults the simulator applies after processing the
/// call (delay, malformed, truncated, content type) spend a minted code at WeChat, so those
/// rows log in with a `dev:` code, which the simulator never spends: what is tested is the
/// guard, not WeChat's memory (see `a_garbled_answer_releases_the_claim_but_wechat_spent_the_code`).
fn login_transport_rows() -> Vec<(Row, Guard)> {
    transport_rows(CODE2SESSION)
        .into_iter()
        .map(|row| {
            let row = if row.label == "dropped_connection" {
                snap(row)
            } else {
                row
            };
            (row, Guard::Released)
        })
        .collect()
}

async fn run_login_row(row: Row, guard: Guard) {
    let context = format!("login {}", row.label);
    let app = app_for(&row).await;
    let code = if matches!(
        row.fault.kind,
        wechat_sim::FaultKind::Errcode
            | wechat_sim::FaultKind::HttpStatus
            | wechat_sim::FaultKind::DropConnection
    ) {
        app.sim.login_code("alice").await.code
    } else {
        "dev:alice".to_owned()
    };
    app.sim.inject(row.fault.clone()).await;

    let started = Instant::now();
    let response = app.login(&code).await;
    let elapsed = started.elapsed();
    let answer = check(&context, response, row.expect).await;
    if row.snapshot {
        assert_row_snapshot(format!("login_{}", row.label), &answer);
    }
    if row.expect.status == 200 {
        assert!(app.stored_user("alice").await.is_some(), "{context}");
        return;
    }
    if row.fault.delay_ms.is_some() {
        assert!(
            elapsed < Duration::from_millis(DELAY_MS - 1_000),
            "{context}: gave up after {elapsed:?}, not after the {TIMEOUT_MS} ms timeout"
        );
    }
    assert!(
        app.stored_user("alice").await.is_none(),
        "{context}: a failed login created the user"
    );

    app.sim.clear_faults().await;
    let retry = app.login(&code).await;
    match guard {
        Guard::Released => {
            let answer = check(&format!("{context}, retried"), retry, Expect::ok()).await;
            assert_eq!(
                answer["body"]["meta"]["data"]["status"], "register_success",
                "{context}: the retry registers the user"
            );
        }
        Guard::Kept => {
            let answer = snapshot(retry).await;
            assert_eq!(answer["status"], 429, "{context}, retried: {answer:#}");
            assert_eq!(answer["body"]["msg"], GUARD_HELD, "{context}: {answer:#}");
            let retry_after: u64 = answer["headers"]["retry-after"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{context}: Retry-After in {answer:#}"));
            assert!((1..=10).contains(&retry_after), "{context}: {retry_after}");
            assert_eq!(
                app.sim.requests_to(CODE2SESSION).await.len(),
                1,
                "{context}: a held code never reaches WeChat again"
            );
            assert!(app.stored_user("alice").await.is_none(), "{context}");
        }
    }
}

e2e_test! {
    async fn login_errcode_matrix() {
        for (row, guard) in login_errcode_rows() {
            run_login_row(row, guard).await;
        }
    }
}

e2e_test! {
    async fn login_transport_matrix() {
        for (row, guard) in login_transport_rows() {
            run_login_row(row, guard).await;
        }
    }
}

e2e_test! {
    async fn a_definitive_failure_holds_the_code_for_the_guard_ttl_and_no_longer() {
        let app = spawn_app_with(|s| s.guard_ttl_secs = 1).await;
        app.sim.inject(Fault::errcode(CODE2SESSION, 40029)).await;
        let code = app.sim.login_code("alice").await.code;
        check("first", app.login(&code).await, Expect::code_invalid(40029)).await;
        let held = snapshot(app.login(&code).await).await;
        assert_eq!(held["status"], 429, "{held:#}");
        assert_eq!(held["headers"]["retry-after"], "1", "{held:#}");
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        // The claim expired: the code reaches WeChat again (and, being unspent there, works).
        check("after the TTL", app.login(&code).await, Expect::ok()).await;
        assert_eq!(app.sim.requests_to(CODE2SESSION).await.len(), 2);
    }
}

e2e_test! {
    async fn a_garbled_answer_releases_the_claim_but_wechat_spent_the_code() {
        // WeChat processed the call and only the answer was lost: the service cannot know, so
        // it releases the claim; the retry reaches WeChat, which says the code was used.
        let app = spawn_app_with(|_| {}).await;
        app.sim.inject(Fault::truncated(CODE2SESSION)).await;
        let code = app.sim.login_code("alice").await.code;
        check("first", app.login(&code).await, Expect::broken()).await;
        check("retry", app.login(&code).await, Expect::code_invalid(40163)).await;
        assert_eq!(app.sim.requests_to(CODE2SESSION).await.len(), 2);
        assert!(app.stored_user("alice").await.is_none());
    }
}
