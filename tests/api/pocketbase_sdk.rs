//! The PocketBase JS SDK's own routes: `authRefresh()` and `getOne(id)` on `tbl_auth_users`,
//! with PocketBase's shapes and its error body `{status, message, data}`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_response_snapshot, e2e_test, snapshot, spawn_app};

async fn auth_refresh(
    app: &TestApp,
    collection: &str,
    authorization: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(&format!("/api/collections/{collection}/auth-refresh")));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.send().await.unwrap()
}

async fn get_one(app: &TestApp, id: &str, authorization: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&format!("/api/collections/tbl_auth_users/records/{id}")));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.send().await.unwrap()
}

async fn status_and_body(response: reqwest::Response) -> (u16, Value) {
    (response.status().as_u16(), response.json().await.unwrap())
}

e2e_test! {
    async fn auth_refresh_answers_token_and_record_by_collection_name_or_id() {
        let app = spawn_app().await;
        let token = app.token_for("alice").await;
        let response = auth_refresh(&app, "tbl_auth_users", Some(&token)).await;
        assert_response_snapshot!(snapshot(response).await);

        let (status, body) = status_and_body(auth_refresh(&app, "pbc_421601843", Some(&format!("Bearer {token}"))).await).await;
        assert_eq!(status, 200, "{body}");
        let renewed = body["token"].as_str().unwrap();
        let (status, again) = status_and_body(auth_refresh(&app, "tbl_auth_users", Some(renewed)).await).await;
        assert_eq!(status, 200, "the new token refreshes again");
        assert_eq!(again["record"]["id"], body["record"]["id"]);
        let profile = app.profile(renewed, &app.profile_body("alice", "13800138000").await).await;
        assert_eq!(profile.status(), 200, "the new token works on the BAI routes");
    }
}

e2e_test! {
    async fn auth_refresh_without_a_valid_token_is_pocketbases_401_and_an_unknown_collection_404() {
        let app = spawn_app().await;
        let unauthorized = json!({ "status": 401, "message": "The request requires valid record authorization token.", "data": {} });
        for authorization in [None, Some("not-a-token"), Some("Bearer ")] {
            let (status, body) = status_and_body(auth_refresh(&app, "tbl_auth_users", authorization).await).await;
            assert_eq!((status, body), (401, unauthorized.clone()), "{authorization:?}");
        }
        let token = app.token_for("alice").await;
        let (status, body) = status_and_body(auth_refresh(&app, "users", Some(&token)).await).await;
        assert_eq!((status, body), (404, json!({ "status": 404, "message": "Missing collection context.", "data": {} })));
    }
}

e2e_test! {
    async fn get_one_shows_only_the_callers_own_record() {
        let app = spawn_app().await;
        let alice = app.login_as("alice").await;
        let bob = app.login_as("bob").await;
        let alice_token = alice["token"].as_str().unwrap();
        let alice_id = alice["record"]["id"].as_str().unwrap();
        let bob_id = bob["record"]["id"].as_str().unwrap();

        let (status, record) = status_and_body(get_one(&app, alice_id, Some(alice_token)).await).await;
        assert_eq!(status, 200);
        assert_eq!(record, alice["record"], "the same record the auth routes answer");

        let hidden = json!({ "status": 404, "message": "The requested resource wasn't found.", "data": {} });
        for (id, authorization) in [(bob_id, Some(alice_token)), (alice_id, None), (alice_id, Some("forged")), ("nosuchrecord123", Some(alice_token))] {
            let (status, body) = status_and_body(get_one(&app, id, authorization).await).await;
            assert_eq!((status, body), (404, hidden.clone()), "{id} with {authorization:?}");
        }
    }
}

e2e_test! {
    async fn a_token_pocketbase_issued_refreshes_through_the_sdk_route_after_the_import() {
        let dir = tempfile::tempdir().unwrap();
        let (source, secret) = crate::pocketbase_import::pocketbase_dir(dir.path()).await;
        let app = crate::pocketbase_import::imported_app(dir.path(), &source).await;
        let token = crate::pocketbase_import::pocketbase_token(
            crate::pocketbase_import::ALICE_ID,
            crate::pocketbase_import::ALICE_KEY,
            &secret,
        );
        let (status, body) = status_and_body(auth_refresh(&app, "tbl_auth_users", Some(&token)).await).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["record"]["id"], crate::pocketbase_import::ALICE_ID);
        assert_eq!(body["record"]["company_id"], "C001");
    }
}

e2e_test! {
    async fn imported_email_visibility_and_verified_are_the_records_own_everywhere() {
        use crate::pocketbase_import::{ALICE_ID, ALICE_KEY, pocketbase_dir, pocketbase_token, sql_on_source};
        let dir = tempfile::tempdir().unwrap();
        let (source, secret) = pocketbase_dir(dir.path()).await;
        sql_on_source(&source, &format!(
            "UPDATE tbl_auth_users SET email = 'alice@example.com', emailVisibility = TRUE, verified = TRUE WHERE id = '{ALICE_ID}'"
        )).await;
        let app = crate::pocketbase_import::imported_app(dir.path(), &source).await;
        let token = pocketbase_token(ALICE_ID, ALICE_KEY, &secret);
        let expected = json!(["alice@example.com", true, true]);
        let fields = |record: &Value| json!([record["email"], record["emailVisibility"], record["verified"]]);

        let (status, body) = status_and_body(auth_refresh(&app, "pbc_421601843", Some(&token)).await).await;
        assert_eq!((status, fields(&body["record"])), (200, expected.clone()), "auth-refresh: {body}");
        let (status, body) = status_and_body(get_one(&app, ALICE_ID, Some(&token)).await).await;
        assert_eq!((status, fields(&body)), (200, expected.clone()), "getOne: {body}");
        let login = app.login_as("alice").await;
        assert_eq!(fields(&login["record"]), expected, "login: {login}");
        let bob = app.login_as("bob").await;
        assert_eq!(fields(&bob["record"]), json!(["", false, false]), "bob had none: {bob}");
        let kept_elsewhere = app
            .count_sql(&format!("SELECT COUNT(*) FROM pocketbase_fields WHERE id = '{ALICE_ID}' AND fields LIKE '%email%'"))
            .await;
        assert_eq!(kept_elsewhere, 0, "the fields have a column now, not a copy in pocketbase_fields");
    }
}
