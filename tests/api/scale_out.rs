//! Scale-out: several stateless replicas on one database. Everything that decides a response
//! (users, the auth secret, the 429 guard) lives in the database, so replicas agree.

use serde_json::Value;
use wechat_sim::Fault;

use crate::helpers::{e2e_test, spawn_app};

e2e_test! {
    async fn a_token_issued_by_one_replica_is_accepted_by_another() {
        let a = spawn_app().await;
        let b = a.replica().await;
        let login = a.login_as("alice").await;
        let token = login["token"].as_str().unwrap();
        let refreshed = b.refresh(Some(&format!("Bearer {token}"))).await;
        assert_eq!(refreshed.status(), 200);
        let refreshed: Value = refreshed.json().await.unwrap();
        assert_eq!(refreshed["record"]["id"], login["record"]["id"]);
        // ...and the token B issued works on A.
        let again = a.refresh(Some(refreshed["token"].as_str().unwrap())).await;
        assert_eq!(again.status(), 200);
    }
}

e2e_test! {
    async fn the_auth_secret_generated_by_the_first_replica_is_used_by_the_second() {
        let a = spawn_app().await;
        assert!(a.settings.auth_secret.is_none(), "the secret is generated, not configured");
        let b = a.replica().await;
        let stored = a.db().auth_secret_or_init("a-candidate-that-must-lose").await.unwrap();
        assert_ne!(stored, "a-candidate-that-must-lose");
        let token = b.token_for("alice").await;
        assert_eq!(a.refresh(Some(&token)).await.status(), 200);
    }
}

e2e_test! {
    async fn the_same_code_sent_to_two_replicas_at_once_is_one_200_and_one_429() {
        let a = spawn_app().await;
        let b = a.replica().await;
        a.sim.inject(Fault::delay("/sns/jscode2session", 300)).await;
        let code = a.sim.login_code("alice").await.code;
        let (ra, rb) = tokio::join!(a.login(&code), b.login(&code));
        let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 429]);
        assert_eq!(a.sim.requests_to("/sns/jscode2session").await.len(), 1, "WeChat saw the code once");
    }
}

e2e_test! {
    async fn concurrent_first_logins_of_one_openid_across_replicas_create_one_user() {
        let a = spawn_app().await;
        let b = a.replica().await;
        a.sim.inject(Fault::delay("/sns/jscode2session", 100).times(4)).await;
        let codes = [
            a.sim.login_code("alice").await.code,
            a.sim.login_code("alice").await.code,
            a.sim.login_code("alice").await.code,
            a.sim.login_code("alice").await.code,
        ];
        let (r1, r2, r3, r4) = tokio::join!(a.login(&codes[0]), b.login(&codes[1]), a.login(&codes[2]), b.login(&codes[3]));
        let mut ids = Vec::new();
        let mut registered = 0;
        for response in [r1, r2, r3, r4] {
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            ids.push(body["record"]["id"].as_str().unwrap().to_owned());
            registered += usize::from(body["meta"]["data"]["status"] == "register_success");
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "one user: {ids:?}");
        assert_eq!(registered, 1, "exactly one login created the user");
    }
}

e2e_test! {
    async fn a_profile_saved_through_one_replica_is_seen_by_another() {
        let a = spawn_app().await;
        let b = a.replica().await;
        let token = a.token_for("alice").await;
        let body = a.profile_body("alice", "13800138000").await;
        assert_eq!(b.profile(&token, &body).await.status(), 200);
        let refreshed: Value = a.refresh(Some(&token)).await.json().await.unwrap();
        assert_eq!(refreshed["meta"]["data"]["user"]["users_phone"], "13800138000");
        assert_eq!(refreshed["meta"]["data"]["is_info_complete"], true);
    }
}
