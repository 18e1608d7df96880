//! `POST /api/wechat/refresh-token`: a new PocketBase token for the holder of a valid one.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::forge::{
    Account, COLLECTION_ID, account, b64url_decode, claims, hs256, now, spawn_with_known_secret,
};
use crate::helpers::{TestApp, assert_response_snapshot, e2e_test, snapshot};

const TTL_SECS: i64 = 432_000;

async fn refresh_ok(app: &TestApp, authorization: &str) -> Value {
    let response = app.refresh(Some(authorization)).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// Verifies `token` as a PocketBase would: HS256 only, no leeway, signed with the user's key.
fn verify(token: &str, user: &Account) -> Value {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let key = DecodingKey::from_secret(user.signing_key().as_bytes());
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the token verifies")
        .claims
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&b64url_decode(token.split('.').next().unwrap())).unwrap()
}

fn keys_named(value: &Value, name: &str) -> usize {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| usize::from(k == name) + keys_named(v, name))
            .sum(),
        Value::Array(items) => items.iter().map(|v| keys_named(v, name)).sum(),
        _ => 0,
    }
}

e2e_test! {
    async fn refresh_returns_a_new_token_and_the_record() {
        let app = spawn_with_known_secret().await;
        let token = app.token_for("alice").await;
        let response = app.refresh(Some(&format!("Bearer {token}"))).await;
        assert_response_snapshot!(snapshot(response).await);
    }
}

e2e_test! {
    async fn the_new_token_verifies_and_refreshes_again() {
        let app = spawn_with_known_secret().await;
        let alice = account(&app, "alice").await;

        let before = now();
        let body = refresh_ok(&app, &format!("Bearer {}", alice.token)).await;
        let after = now();
        let token = body["token"].as_str().unwrap();
        assert_eq!(body["record"]["id"], alice.pb_id.as_str());
        assert_eq!(body["meta"]["data"]["user"]["pb_id"], alice.pb_id.as_str());

        assert_eq!(header_of(token), json!({ "alg": "HS256", "typ": "JWT" }));
        let claims = verify(token, &alice);
        let exp = claims["exp"].as_i64().unwrap();
        assert!(
            (before + TTL_SECS..=after + TTL_SECS).contains(&exp),
            "exp {exp} is not now + {TTL_SECS}"
        );
        assert_eq!(
            claims,
            json!({ "collectionId": COLLECTION_ID, "exp": exp, "id": alice.pb_id, "refreshable": true, "type": "auth" })
        );

        let again = refresh_ok(&app, &format!("Bearer {token}")).await;
        assert_eq!(again["record"]["id"], alice.pb_id.as_str());
        let claims = verify(again["token"].as_str().unwrap(), &alice);
        assert!(claims["exp"].as_i64().unwrap() >= exp);
    }
}

e2e_test! {
    async fn the_old_token_stays_valid_after_a_refresh() {
        let app = spawn_with_known_secret().await;
        let token = app.token_for("alice").await;
        refresh_ok(&app, &format!("Bearer {token}")).await;
        refresh_ok(&app, &format!("Bearer {token}")).await;
    }
}

e2e_test! {
    async fn the_token_key_never_leaves_the_service() {
        let app = spawn_with_known_secret().await;
        let alice = account(&app, "alice").await;
        let response = app.refresh(Some(&format!("Bearer {}", alice.token))).await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        for name in ["tokenKey", "token_key"] {
            assert_eq!(keys_named(&body, name), 0, "{name} in {body}");
        }
        assert!(
            !text.contains(&alice.token_key),
            "the token key's value leaked: {text}"
        );
    }
}

e2e_test! {
    async fn refresh_after_delete_user_is_404() {
        let app = spawn_with_known_secret().await;
        let alice = account(&app, "alice").await;
        assert!(
            app.users().delete_user(&alice.pb_id)
                .await
                .unwrap()
        );
        let response = app.refresh(Some(&format!("Bearer {}", alice.token))).await;
        assert_response_snapshot!(snapshot(response).await);
        let body = app.profile_body("alice", "13800138000").await;
        assert_eq!(app.profile(&alice.token, &body).await.status(), 404);
    }
}

e2e_test! {
    async fn a_token_that_is_not_refreshable_comes_back_unchanged() {
        let app = spawn_with_known_secret().await;
        let alice = account(&app, "alice").await;
        let mut unrefreshable = claims(&alice.pb_id);
        unrefreshable["refreshable"] = json!(false);
        let token = hs256(&unrefreshable, &alice.signing_key());
        let body = refresh_ok(&app, &format!("Bearer {token}")).await;
        assert_eq!(body["token"], token.as_str());
        assert_eq!(body["record"]["id"], alice.pb_id.as_str());
        assert_eq!(body["meta"]["data"]["status"], "login_success");
    }
}

e2e_test! {
    async fn every_bearer_spelling_is_accepted() {
        let app = spawn_with_known_secret().await;
        let alice = account(&app, "alice").await;
        let token = &alice.token;
        for authorization in [
            format!("Bearer {token}"),
            format!("bearer {token}"),
            format!("BEARER  {token}"),
            format!("Bearer  {token}"),
            format!("bEaReR {token}"),
            token.clone(),
        ] {
            let body = refresh_ok(&app, &authorization).await;
            assert_eq!(
                body["record"]["id"],
                alice.pb_id.as_str(),
                "{authorization}"
            );
            verify(body["token"].as_str().unwrap(), &alice);
        }
    }
}

e2e_test! {
    async fn refresh_returns_the_current_record() {
        let app = spawn_with_known_secret().await;
        let alice = account(&app, "alice").await;
        let profile = app.profile_body("alice", "13800138000").await;
        assert_eq!(app.profile(&alice.token, &profile).await.status(), 200);
        app.execute_sql(
            "INSERT INTO tbl_company (company_id, company_name, created, updated) VALUES \
             ('C0001', '示例公司', '2024-01-01 00:00:00.000Z', '2024-01-01 00:00:00.000Z')",
        )
        .await;
        let linked = app
            .execute_sql(&format!(
                "UPDATE tbl_auth_users SET company_id = 'C0001' WHERE id = '{}'",
                alice.pb_id
            ))
            .await;
        assert_eq!(linked, 1);

        let body = refresh_ok(&app, &format!("Bearer {}", alice.token)).await;
        assert_eq!(body["meta"]["data"]["is_info_complete"], true);
        assert_eq!(body["meta"]["msg"], "刷新成功");
        let user = &body["meta"]["data"]["user"];
        assert_eq!(user["users_name"], "张三");
        assert_eq!(user["users_phone"], "13800138000");
        assert_eq!(user["users_type"], "注册用户");
        assert_eq!(user["company_id"], "C0001");
        assert_eq!(user["company"]["company_name"], "示例公司");
        assert_eq!(body["record"]["users_type"], "注册用户");
        assert_eq!(body["record"]["company_id"], "C0001");
    }
}

e2e_test! {
    async fn a_refreshed_token_is_new_and_lives_a_full_ttl() {
        let app = spawn_with_known_secret().await;
        let alice = account(&app, "alice").await;
        // A token issued earlier, with an hour left: the refresh must not hand it back.
        let old = hs256(&claims(&alice.pb_id), &alice.signing_key());
        let before = now();
        let body = refresh_ok(&app, &format!("Bearer {old}")).await;
        let new = body["token"].as_str().unwrap();
        assert_ne!(new, old);
        let exp = verify(new, &alice)["exp"].as_i64().unwrap();
        assert!(
            (before + TTL_SECS..=now() + TTL_SECS).contains(&exp),
            "exp {exp} is a full TTL from the refresh"
        );
    }
}

e2e_test! {
    async fn a_record_missing_any_of_name_phone_picture_is_not_complete() {
        // The API only ever saves all three, but an imported PocketBase record can hold some.
        let app = crate::helpers::spawn_app().await;
        let login = app.login_as("alice").await;
        let (id, token) = (login["record"]["id"].as_str().unwrap(), login["token"].as_str().unwrap());
        for (name, phone, picture) in [
            ("Ann", "", ""),
            ("Ann", "13800138000", ""),
            ("Ann", "", "https://e.com/a.png"),
            ("", "13800138000", "https://e.com/a.png"),
        ] {
            app.execute_sql(&format!(
                "UPDATE tbl_auth_users SET users_name = '{name}', users_phone = '{phone}', \
                 users_picture = '{picture}' WHERE id = '{id}'"
            ))
            .await;
            let body: Value = app.refresh(Some(token)).await.json().await.unwrap();
            assert_eq!(
                body["meta"]["data"]["is_info_complete"], false,
                "name {name:?}, phone {phone:?}, picture {picture:?}"
            );
        }
    }
}
