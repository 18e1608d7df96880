//! A record without an openid never authenticates, even with a valid token: the contract's
//! 401 "token 无效或当前 auth record 缺少 openid". Imported PocketBase data can hold such records.

use serde_json::Value;

use crate::helpers::{TestApp, e2e_test, spawn_app};

const MISSING_OPENID_MSG: &str = "token 无效或当前 auth record 缺少 openid";

async fn assert_missing_openid_401(response: reqwest::Response) {
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 401);
    assert_eq!(body["msg"], MISSING_OPENID_MSG);
}

/// Logs `user` in, then empties the stored record's openid; returns its id and token.
async fn user_without_openid(app: &TestApp, user: &str) -> (String, String) {
    let login = app.login_as(user).await;
    let id = login["record"]["id"].as_str().unwrap().to_owned();
    let changed = app
        .execute_sql(&format!(
            "UPDATE tbl_auth_users SET openid = '' WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(changed, 1);
    (id, login["token"].as_str().unwrap().to_owned())
}

e2e_test! {
    async fn refresh_of_a_record_without_openid_is_401() {
        let app = spawn_app().await;
        let (_, token) = user_without_openid(&app, "alice").await;
        assert_missing_openid_401(app.refresh(Some(&format!("Bearer {token}"))).await).await;
    }
}

e2e_test! {
    async fn profile_of_a_record_without_openid_is_401_and_writes_nothing() {
        let app = spawn_app().await;
        let (id, token) = user_without_openid(&app, "alice").await;
        let body = app.profile_body("alice", "13800138000").await;
        assert_missing_openid_401(app.profile(&token, &body).await).await;
        let named = app
            .count_sql(&format!(
                "SELECT COUNT(*) FROM tbl_auth_users WHERE id = '{id}' AND users_name <> ''"
            ))
            .await;
        assert_eq!(named, 0, "nothing was written");
    }
}
