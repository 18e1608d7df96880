//! The token attack matrix: every way of presenting a token that must not authenticate answers
//! 401 in the envelope. Each attack changes one thing about a token that is otherwise accepted
//! (`target()` checks that the honest forgery works first), so each test fails if the check it
//! names were missing.

use insta::assert_json_snapshot;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::forge::{
    Account, account, auth_secret, b64url, claims, forge, hs256, now, sign, spawn_with_known_secret,
};
use crate::helpers::{TestApp, e2e_test, snapshot, spawn_app_with};

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
    async fn alg_none_is_401() {
        let (app, alice) = target().await;
        let unsigned = |alg: &str| {
            let header = b64url(json!({ "alg": alg, "typ": "JWT" }).to_string().as_bytes());
            let payload = b64url(claims(&alice.pb_id).to_string().as_bytes());
            format!("{header}.{payload}.")
        };
        assert_json_snapshot!(snapshot(refresh_with(&app, &unsigned("none")).await).await);
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
    async fn hs512_with_the_right_key_is_401() {
        let (app, alice) = target().await;
        let token = forge(
            &json!({ "alg": "HS512", "typ": "JWT" }),
            &claims(&alice.pb_id),
            Algorithm::HS512,
            &alice.signing_key(),
        );
        assert_401(refresh_with(&app, &token).await).await;
        let token = forge(
            &json!({ "alg": "HS384", "typ": "JWT" }),
            &claims(&alice.pb_id),
            Algorithm::HS384,
            &alice.signing_key(),
        );
        assert_401(refresh_with(&app, &token).await).await;
    }
}

e2e_test! {
    async fn rs256_labelled_header_with_an_hmac_signature_is_401() {
        let (app, alice) = target().await;
        for alg in ["RS256", "ES256", "PS256", "EdDSA"] {
            let token = forge(
                &json!({ "alg": alg, "typ": "JWT" }),
                &claims(&alice.pb_id),
                Algorithm::HS256,
                &alice.signing_key(),
            );
            assert_401(refresh_with(&app, &token).await).await;
        }
    }
}

e2e_test! {
    async fn kid_and_jku_headers_do_not_choose_the_key() {
        let (app, alice) = target().await;
        let header = json!({
            "alg": "HS256",
            "typ": "JWT",
            "kid": "attacker",
            "jku": "https://attacker.example/jwks.json",
        });
        let token = forge(
            &header,
            &claims(&alice.pb_id),
            Algorithm::HS256,
            "attacker-chosen-key",
        );
        assert_401(refresh_with(&app, &token).await).await;
    }
}

e2e_test! {
    async fn expired_by_one_second_is_401() {
        let (app, alice) = target().await;
        let mut expired = claims(&alice.pb_id);
        expired["exp"] = json!(now() - 1);
        let token = hs256(&expired, &alice.signing_key());
        assert_json_snapshot!(snapshot(refresh_with(&app, &token).await).await);
        let body = app.profile_body("alice", "13800138000").await;
        assert_401(app.profile(&token, &body).await).await;
        assert_eq!(
            stored_name(&app, &alice.pb_id).await,
            "",
            "a rejected profile update writes nothing"
        );
    }
}

e2e_test! {
    async fn exp_missing_is_401() {
        let (app, alice) = target().await;
        let mut no_exp = claims(&alice.pb_id);
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_401(refresh_with(&app, &hs256(&no_exp, &alice.signing_key())).await).await;
    }
}

e2e_test! {
    async fn exp_as_a_string_is_401() {
        let (app, alice) = target().await;
        let mut string_exp = claims(&alice.pb_id);
        string_exp["exp"] = json!((now() + 3600).to_string());
        assert_401(refresh_with(&app, &hs256(&string_exp, &alice.signing_key())).await).await;
        for odd in [
            json!(null),
            json!(true),
            json!(-1),
            json!([now() + 3600]),
            json!((now() + 3600) as f64 + 0.5),
        ] {
            let mut bad = claims(&alice.pb_id);
            bad["exp"] = odd;
            assert_401(refresh_with(&app, &hs256(&bad, &alice.signing_key())).await).await;
        }
    }
}

e2e_test! {
    async fn a_signature_with_another_users_key_is_401() {
        let (app, alice) = target().await;
        let bob = account(&app, "bob").await;
        let token = hs256(&claims(&alice.pb_id), &bob.signing_key());
        assert_401(refresh_with(&app, &token).await).await;
        let body = app.profile_body("alice", "13800138000").await;
        assert_401(app.profile(&token, &body).await).await;
        assert_eq!(stored_name(&app, &alice.pb_id).await, "");
    }
}

e2e_test! {
    async fn keys_other_than_token_key_then_secret_are_401() {
        let (app, alice) = target().await;
        let claims = claims(&alice.pb_id);
        for key in [
            alice.token_key.clone(),
            auth_secret(),
            format!("{}{}", auth_secret(), alice.token_key),
            format!("{}{}", alice.token_key, "y".repeat(40)),
        ] {
            assert_401(refresh_with(&app, &hs256(&claims, &key)).await).await;
        }
    }
}

e2e_test! {
    async fn rotating_the_token_key_revokes_every_token() {
        let (app, alice) = target().await;
        let forged = hs256(&claims(&alice.pb_id), &alice.signing_key());
        assert!(
            app.users().rotate_token_key(&alice.pb_id)
                .await
                .unwrap()
        );
        assert_401(refresh_with(&app, &alice.token).await).await;
        assert_401(refresh_with(&app, &forged).await).await;
        let body = app.profile_body("alice", "13800138000").await;
        assert_401(app.profile(&alice.token, &body).await).await;
        assert_eq!(stored_name(&app, &alice.pb_id).await, "");
        // Logging in again hands out a token under the new key.
        let fresh = app.token_for("alice").await;
        assert_eq!(refresh_with(&app, &fresh).await.status(), 200);
    }
}

e2e_test! {
    async fn wrong_collection_id_is_401() {
        let (app, alice) = target().await;
        for collection in ["_pb_users_auth_", "pbc_421601844", ""] {
            let mut wrong = claims(&alice.pb_id);
            wrong["collectionId"] = json!(collection);
            assert_401(refresh_with(&app, &hs256(&wrong, &alice.signing_key())).await).await;
        }
        let mut missing = claims(&alice.pb_id);
        missing.as_object_mut().unwrap().remove("collectionId");
        assert_401(refresh_with(&app, &hs256(&missing, &alice.signing_key())).await).await;
    }
}

e2e_test! {
    async fn a_type_other_than_auth_is_401() {
        let (app, alice) = target().await;
        for kind in ["file", "Auth", "verification", "passwordReset", ""] {
            let mut wrong = claims(&alice.pb_id);
            wrong["type"] = json!(kind);
            assert_401(refresh_with(&app, &hs256(&wrong, &alice.signing_key())).await).await;
        }
        let mut missing = claims(&alice.pb_id);
        missing.as_object_mut().unwrap().remove("type");
        assert_401(refresh_with(&app, &hs256(&missing, &alice.signing_key())).await).await;
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

e2e_test! {
    async fn a_token_for_an_id_that_never_existed_is_401() {
        let (app, alice) = target().await;
        let upper = alice.pb_id.to_uppercase();
        for id in ["zzzzzzzzzzzzzzz", "", "' OR '1'='1", upper.as_str()] {
            let token = hs256(&claims(id), &alice.signing_key());
            assert_401(refresh_with(&app, &token).await).await;
            let made_up_key = format!("{}{}", "k".repeat(50), auth_secret());
            assert_401(refresh_with(&app, &hs256(&claims(id), &made_up_key)).await).await;
        }
    }
}

e2e_test! {
    async fn a_forged_token_for_a_deleted_user_is_401_not_404() {
        let (app, alice) = target().await;
        assert!(
            app.users().delete_user(&alice.pb_id)
                .await
                .unwrap()
        );
        // Only a token that verifies against the tombstone's key learns the user is gone.
        let forged = hs256(
            &claims(&alice.pb_id),
            &format!("{}{}", "k".repeat(50), auth_secret()),
        );
        assert_401(refresh_with(&app, &forged).await).await;
        assert_eq!(refresh_with(&app, &alice.token).await.status(), 404);
    }
}

e2e_test! {
    async fn an_expired_token_of_a_deleted_user_is_401_not_404() {
        let (app, alice) = target().await;
        let mut expired = claims(&alice.pb_id);
        expired["exp"] = json!(now() - 1);
        let token = hs256(&expired, &alice.signing_key());
        assert!(
            app.users().delete_user(&alice.pb_id)
                .await
                .unwrap()
        );
        assert_401(refresh_with(&app, &token).await).await;
    }
}
