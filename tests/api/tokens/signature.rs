//! Tokens signed with anything but HS256 under the user's own key: other algorithms, a header
//! that names another key, another user's key, a key that was rotated away.

use jsonwebtoken::Algorithm;
use serde_json::json;

use super::{assert_401, refresh_with, stored_name, target};
use crate::forge::{account, auth_secret, claims, forge, hs256};
use crate::helpers::e2e_test;

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
