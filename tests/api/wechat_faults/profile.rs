//! Profile: the phone-number call (`/wxa/business/getuserphonenumber`) and the access token
//! it needs (`/cgi-bin/stable_token`), every errcode and transport failure of each.

use std::time::{Duration, Instant};

use serde_json::json;
use wechat_sim::Fault;

use super::{
    DELAY_MS, Expect, PHONE, Row, STABLE_TOKEN, TIMEOUT_MS, app_for, assert_row_snapshot, check,
    row, snap, transport_rows,
};
use crate::helpers::{e2e_test, spawn_app_with};

/// What the same profile request does once the fault is cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// It succeeds: the failure spent nothing and cached nothing.
    Succeeds,
    /// WeChat processed the phone code before the answer was lost: 400, code used.
    PhoneCodeSpent,
}

fn phone_errcode_rows() -> Vec<Row> {
    let e = |code| Fault::errcode(PHONE, code);
    vec![
        row("busy", e(-1), Expect::busy()),
        snap(row("rate_limited", e(45011), Expect::rate_limited())),
        row("invalid_code", e(40029), Expect::phone_code_invalid()),
        row("invalid_appid", e(40013), Expect::bad_gateway(40013)),
        row("access_token_missing", e(41001), Expect::bad_gateway(41001)),
        row("api_unauthorized", e(48001), Expect::bad_gateway(48001)),
        row("data_format_error", e(47001), Expect::bad_gateway(47001)),
        row("require_post", e(43002), Expect::bad_gateway(43002)),
        row("empty_post_data", e(44002), Expect::bad_gateway(44002)),
        row("user_limited", e(50002), Expect::bad_gateway(50002)),
        row("invalid_url", e(40066), Expect::bad_gateway(40066)),
        // A stale access token is replaced and the call retried once: one rejection is
        // invisible to the client, two are a 502.
        row("stale_40001_once", e(40001), Expect::ok()),
        row("stale_40014_once", e(40014), Expect::ok()),
        row("stale_42001_once", e(42001), Expect::ok()),
        snap(row(
            "stale_40001_twice",
            e(40001).times(2),
            Expect::bad_gateway(40001),
        )),
        row(
            "stale_40014_twice",
            e(40014).times(2),
            Expect::bad_gateway(40014),
        ),
        row(
            "stale_42001_twice",
            e(42001).times(2),
            Expect::bad_gateway(42001),
        ),
    ]
}

fn stable_token_errcode_rows() -> Vec<Row> {
    let e = |code| Fault::errcode(STABLE_TOKEN, code);
    vec![
        row("busy", e(-1), Expect::busy()),
        row("rate_limited", e(45011), Expect::rate_limited()),
        row("invalid_appid", e(40013), Expect::bad_gateway(40013)),
        row("invalid_appsecret", e(40125), Expect::bad_gateway(40125)),
        row("invalid_grant_type", e(40002), Expect::bad_gateway(40002)),
        row("appid_missing", e(41002), Expect::bad_gateway(41002)),
        row("appsecret_missing", e(41004), Expect::bad_gateway(41004)),
        snap(row("daily_quota", e(45009), Expect::bad_gateway(45009))),
        row("ip_not_whitelisted", e(40164), Expect::bad_gateway(40164)),
        row("appsecret_frozen", e(40243), Expect::bad_gateway(40243)),
        row("data_format_error", e(47001), Expect::bad_gateway(47001)),
        row("token_use_forbidden", e(50004), Expect::bad_gateway(50004)),
        row("account_frozen", e(50007), Expect::bad_gateway(50007)),
        row("third_party_token", e(61024), Expect::bad_gateway(61024)),
        row(
            "ip_needs_confirmation",
            e(89503),
            Expect::bad_gateway(89503),
        ),
    ]
}

async fn run_profile_row(endpoint: &str, row: Row) {
    let context = format!("profile {endpoint} {}", row.label);
    let app = app_for(&row).await;
    let token = app.token_for("alice").await;
    let before = app.stored_user("alice").await.expect("alice logged in");
    app.sim.clear_requests().await;
    app.sim.inject(row.fault.clone()).await;

    let body = app.profile_body("alice", "13800138000").await;
    let started = Instant::now();
    let response = app.profile(&token, &body).await;
    let elapsed = started.elapsed();
    let answer = check(&context, response, row.expect).await;
    if row.snapshot {
        let endpoint_name = if endpoint == PHONE {
            "phone"
        } else {
            "stable_token"
        };
        assert_row_snapshot(format!("profile_{endpoint_name}_{}", row.label), &answer);
    }

    let phone_calls = app.sim.requests_to(PHONE).await;
    let token_calls = app.sim.requests_to(STABLE_TOKEN).await;
    if row.label.starts_with("stale_") {
        assert_eq!(phone_calls.len(), 2, "{context}: retried once, never more");
        assert_eq!(token_calls.len(), 3, "{context}: {token_calls:#?}");
        assert_eq!(
            token_calls[2]
                .body
                .as_ref()
                .map(|b| b["force_refresh"].clone()),
            Some(json!(true)),
            "{context}: WeChat handed back the rejected token, so it was force-refreshed"
        );
    } else if endpoint == STABLE_TOKEN && row.expect.status != 200 {
        assert!(
            phone_calls.is_empty(),
            "{context}: no access token, no phone call"
        );
    }

    let after = app.stored_user("alice").await.expect("alice still exists");
    if row.expect.status == 200 {
        assert_eq!(after.users_phone, "13800138000", "{context}");
        assert_eq!(after.users_type, "注册用户", "{context}");
        return;
    }
    assert_eq!(
        after, before,
        "{context}: a failed profile update wrote something"
    );
    if row.fault.delay_ms.is_some() {
        assert!(
            elapsed < Duration::from_millis(DELAY_MS - 1_000),
            "{context}: gave up after {elapsed:?}, not after the {TIMEOUT_MS} ms timeout"
        );
    }

    // Nothing was spent or cached by the failure, except what WeChat itself processed.
    let then = match row.fault.kind {
        wechat_sim::FaultKind::Malformed | wechat_sim::FaultKind::Truncated
            if endpoint == PHONE =>
        {
            Then::PhoneCodeSpent
        }
        _ => Then::Succeeds,
    };
    app.sim.clear_faults().await;
    let retry = app.profile(&token, &body).await;
    match then {
        Then::Succeeds => {
            check(&format!("{context}, retried"), retry, Expect::ok()).await;
            let saved = app.stored_user("alice").await.unwrap();
            assert_eq!(saved.users_phone, "13800138000", "{context}");
        }
        Then::PhoneCodeSpent => {
            check(
                &format!("{context}, retried"),
                retry,
                Expect::phone_code_invalid(),
            )
            .await;
            assert_eq!(app.stored_user("alice").await.unwrap(), before, "{context}");
        }
    }
}

e2e_test! {
    async fn phone_number_errcode_matrix() {
        for row in phone_errcode_rows() {
            run_profile_row(PHONE, row).await;
        }
    }
}

e2e_test! {
    async fn phone_number_transport_matrix() {
        for row in transport_rows(PHONE) {
            run_profile_row(PHONE, row).await;
        }
    }
}

e2e_test! {
    async fn access_token_errcode_matrix() {
        for row in stable_token_errcode_rows() {
            run_profile_row(STABLE_TOKEN, row).await;
        }
    }
}

e2e_test! {
    async fn access_token_transport_matrix() {
        for row in transport_rows(STABLE_TOKEN) {
            let row = if row.label == "delay" { snap(row) } else { row };
            run_profile_row(STABLE_TOKEN, row).await;
        }
    }
}

e2e_test! {
    async fn a_stale_token_whose_renewal_fails_answers_the_renewal_error() {
        let app = spawn_app_with(|_| {}).await;
        let token = app.token_for("alice").await;
        // A first profile caches an access token.
        let body = app.profile_body("alice", "13800138000").await;
        check("warm-up", app.profile(&token, &body).await, Expect::ok()).await;
        let before = app.stored_user("alice").await.unwrap();

        app.sim.inject(Fault::errcode(PHONE, 40001)).await;
        app.sim.inject(Fault::errcode(STABLE_TOKEN, -1)).await;
        let body = app.profile_body("alice", "13900139000").await;
        check("renewal busy", app.profile(&token, &body).await, Expect::busy()).await;
        assert_eq!(app.stored_user("alice").await.unwrap(), before);
        assert_eq!(app.sim.requests_to(PHONE).await.len(), 2, "no retry without a token");

        // Nothing half-done is left behind: the same request goes through once WeChat is well.
        check("after", app.profile(&token, &body).await, Expect::ok()).await;
        assert_eq!(app.stored_user("alice").await.unwrap().users_phone, "13900139000");
    }
}
