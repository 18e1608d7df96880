//! The token attack matrix: every way of presenting a token that must not authenticate answers
//! 401 in the envelope. Each attack changes one thing about a token that is otherwise accepted
//! (`target()` checks that the honest forgery works first), so each test fails if the check it
//! names were missing.
//!
//! Here: the kit the attacks share, the control, and the two 401s whose whole answer is pinned
//! by a snapshot (their names, `tokens__…`, follow this module). The attacks by what they
//! change: `shape` (not a well-formed JWS), `signature` (algorithm and key), `claims`.

mod claims;
mod shape;
mod signature;

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::forge::{Account, account, b64url, claims, hs256, now, sign, spawn_with_known_secret};
use crate::helpers::{TestApp, assert_response_snapshot, e2e_test, snapshot};

const UNAUTHORIZED_MSG: &str = "token 无效或已过期";

/// An app, a user, and proof that a token forged honestly for them is accepted, so that a
/// rejection below is down to the one thing the test changed.
async fn target() -> (TestApp, Account) {
    let app = spawn_with_known_secret().await;
    let alice = account(&app, "alice").await;
    let honest = hs256(&claims(&alice.pb_id), &alice.signing_key());
    let response = app.refresh(Some(&format!("Bearer {honest}"))).await;
    assert_eq!(response.status(), 200, "the control token is accepted");
    (app, alice)
}

async fn assert_401(response: reqwest::Response) {
    let status = response.status();
    assert!(response.headers().contains_key("x-request-id"));
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.text().await.unwrap();
    assert_eq!(status, 401, "{text}");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body,
        json!({ "code": 401, "msg": UNAUTHORIZED_MSG, "data": {} })
    );
}

async fn refresh_with(app: &TestApp, token: &str) -> reqwest::Response {
    app.refresh(Some(&format!("Bearer {token}"))).await
}

/// The user's row, to show a rejected request changed nothing.
async fn stored_name(app: &TestApp, pb_id: &str) -> String {
    app.db()
        .find_user_by_id(pb_id)
        .await
        .unwrap()
        .unwrap()
        .users_name
}

e2e_test! {
    async fn an_honest_forgery_is_accepted_and_matches_the_issued_token() {
        let app = spawn_with_known_secret().await;
        let alice = account(&app, "alice").await;
        // The issued token's own signature is what the kit computes from the key derivation.
        let (message, signature) = alice.token.rsplit_once('.').unwrap();
        assert_eq!(
            sign(message, Algorithm::HS256, &alice.signing_key()),
            signature
        );
        let forged = hs256(&claims(&alice.pb_id), &alice.signing_key());
        let response = refresh_with(&app, &forged).await;
        assert_eq!(response.status(), 200);
        let body = app.profile_body("alice", "13800138000").await;
        assert_eq!(app.profile(&forged, &body).await.status(), 200);
    }
}

e2e_test! {
    async fn alg_none_is_401() {
        let (app, alice) = target().await;
        let unsigned = |alg: &str| {
            let header = b64url(json!({ "alg": alg, "typ": "JWT" }).to_string().as_bytes());
            let payload = b64url(claims(&alice.pb_id).to_string().as_bytes());
            format!("{header}.{payload}.")
        };
        assert_response_snapshot!(snapshot(refresh_with(&app, &unsigned("none")).await).await);
        for alg in ["None", "NONE", "nOnE"] {
            assert_401(refresh_with(&app, &unsigned(alg)).await).await;
        }
        // Nor does keeping a valid HS256 signature help once the header says "none".
        let signed = hs256(&claims(&alice.pb_id), &alice.signing_key());
        let signature = signed.rsplit('.').next().unwrap();
        assert_401(refresh_with(&app, &format!("{}{signature}", unsigned("none"))).await).await;
    }
}

e2e_test! {
    async fn expired_by_one_second_is_401() {
        let (app, alice) = target().await;
        let mut expired = claims(&alice.pb_id);
        expired["exp"] = json!(now() - 1);
        let token = hs256(&expired, &alice.signing_key());
        assert_response_snapshot!(snapshot(refresh_with(&app, &token).await).await);
        let body = app.profile_body("alice", "13800138000").await;
        assert_401(app.profile(&token, &body).await).await;
        assert_eq!(
            stored_name(&app, &alice.pb_id).await,
            "",
            "a rejected profile update writes nothing"
        );
    }
}
