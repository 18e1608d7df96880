//! Tokens that are not a well-formed JWS at all: no header, no token, garbage, a token cut
//! short or extended, segments that are not base64url, a 10 KiB token.

use serde_json::json;

use super::{assert_401, refresh_with, target};
use crate::forge::{b64url, claims, hs256};
use crate::helpers::{e2e_test, spawn_app_with};

e2e_test! {
    async fn missing_header_is_401() {
        let app = spawn_app_with(|_| {}).await;
        assert_401(app.refresh(None).await).await;
        let body = app.profile_body("alice", "13800138000").await;
        let response = app
            .client
            .post(app.url("/api/wechat/profile"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_401(response).await;
    }
}

e2e_test! {
    async fn empty_header_is_401() {
        let app = spawn_app_with(|_| {}).await;
        for value in ["", " ", "Bearer", "Bearer ", "bearer   "] {
            assert_401(app.refresh(Some(value)).await).await;
        }
    }
}

e2e_test! {
    async fn garbage_is_401() {
        let app = spawn_app_with(|_| {}).await;
        for value in [
            "garbage",
            "Bearer garbage",
            "Bearer a.b.c",
            "Basic YWxpY2U6c2VjcmV0",
            "Bearer ...",
            "Bearer Bearer x",
        ] {
            assert_401(app.refresh(Some(value)).await).await;
        }
    }
}

e2e_test! {
    async fn a_truncated_token_is_401() {
        let (app, alice) = target().await;
        let token = &alice.token;
        let signature_at = token.rfind('.').unwrap();
        for cut in [
            &token[..token.len() - 1],
            &token[..token.len() - 4],
            &token[..signature_at + 10],
            &token[..signature_at + 1],
            &token[..signature_at],
            &token[..token.len() / 2],
            &token[..token.find('.').unwrap()],
        ] {
            assert_401(refresh_with(&app, cut).await).await;
        }
    }
}

e2e_test! {
    async fn a_fourth_segment_is_401() {
        let (app, alice) = target().await;
        let token = &alice.token;
        let (header, _) = token.split_once('.').unwrap();
        for extended in [
            format!("{token}.{header}"),
            format!("{token}."),
            format!("{header}.{token}"),
        ] {
            assert_401(refresh_with(&app, &extended).await).await;
        }
    }
}

e2e_test! {
    async fn non_base64_segments_are_401() {
        let (app, alice) = target().await;
        let parts: Vec<&str> = alice.token.split('.').collect();
        for i in 0..3 {
            let mut bad = parts.clone();
            let mangled = format!("{}*{}", &parts[i][..4], &parts[i][4..]);
            bad[i] = &mangled;
            assert_401(refresh_with(&app, &bad.join(".")).await).await;
        }
        // Padding, and the standard alphabet's `+` and `/`, are not base64url.
        let padded = format!("{}==", b64url(claims(&alice.pb_id).to_string().as_bytes()));
        assert_401(refresh_with(&app, &format!("{}.{padded}.{}", parts[0], parts[2])).await).await;
        let std_alphabet = alice.token.replace('-', "+").replace('_', "/");
        if std_alphabet != alice.token {
            assert_401(refresh_with(&app, &std_alphabet).await).await;
        }
        assert_401(refresh_with(&app, "!!!!.@@@@.####").await).await;
    }
}

e2e_test! {
    async fn a_10_kib_token_is_401() {
        let (app, alice) = target().await;
        let long_signature = format!("{}{}", alice.token, "A".repeat(10 * 1024));
        assert_401(refresh_with(&app, &long_signature).await).await;
        let mut padded = claims(&alice.pb_id);
        padded["pad"] = json!("p".repeat(10 * 1024));
        let long_claims = hs256(&padded, "not-alices-key");
        assert!(long_claims.len() > 10 * 1024);
        assert_401(refresh_with(&app, &long_claims).await).await;
    }
}
