//! `POST /api/wechat/login`: every status it can answer.

use serde_json::{Value, json};
use wechat_sim::Fault;

use crate::helpers::{assert_response_snapshot, e2e_test, snapshot, spawn_app, spawn_app_with};

const CODE2SESSION: &str = "/sns/jscode2session";

e2e_test! {
    async fn first_login_registers_the_user() {
        let app = spawn_app().await;
        let code = app.sim.login_code("alice").await.code;
        let response = app.login(&code).await;
        assert_response_snapshot!(snapshot(response).await);
    }
}

e2e_test! {
    async fn second_login_finds_the_same_user() {
        let app = spawn_app().await;
        let first = app.login_as("alice").await;
        let second = app.login_as("alice").await;
        assert_eq!(second["meta"]["data"]["status"], "login_success");
        assert_eq!(second["meta"]["msg"], "登录成功");
        assert_eq!(first["record"]["id"], second["record"]["id"]);
        assert_eq!(
            first["meta"]["data"]["user"]["users_id"],
            second["meta"]["data"]["user"]["users_id"]
        );
        assert_eq!(
            second["meta"]["data"]["user"]["openid"],
            app.sim.openid_for("alice")
        );
        assert_ne!(first["token"], Value::Null);
    }
}

e2e_test! {
    async fn the_record_never_carries_the_token_key() {
        let app = spawn_app().await;
        let body = app.login_as("alice").await.to_string();
        let id = app
            .db()
            .find_user_by_openid(&app.sim.openid_for("alice"))
            .await
            .unwrap()
            .unwrap();
        assert!(!body.contains(&id.token_key));
        assert!(!body.contains("tokenKey") && !body.contains("token_key"));
    }
}

/// The keys PocketBase 0.40.6 returns in `record` for this collection (captured from the
/// re-creation in bench/pocketbase/, docs/contract.md), with PocketBase's values of its auth fields.
const POCKETBASE_RECORD_KEYS: [&str; 15] = [
    "collectionId",
    "collectionName",
    "company_id",
    "created",
    "email",
    "emailVisibility",
    "id",
    "openid",
    "updated",
    "users_id",
    "users_name",
    "users_phone",
    "users_picture",
    "users_type",
    "verified",
];

e2e_test! {
    async fn the_record_is_pocketbases_full_auth_record() {
        let app = spawn_app().await;
        let token = app.token_for("alice").await;
        let refreshed: Value = app.refresh(Some(&token)).await.json().await.unwrap();
        for body in [app.login_as("alice").await, refreshed] {
            let record = body["record"].as_object().unwrap();
            let keys: Vec<&str> = record.keys().map(String::as_str).collect();
            assert_eq!(keys, POCKETBASE_RECORD_KEYS);
            assert_eq!(record["email"], "");
            assert_eq!(record["emailVisibility"], false);
            assert_eq!(record["verified"], false);
        }
    }
}

e2e_test! {
    async fn empty_code_is_400_naming_the_field() {
        let app = spawn_app().await;
        let response = app.login("   ").await;
        assert_response_snapshot!(snapshot(response).await);
    }
}

e2e_test! {
    async fn missing_wrong_typed_and_over_long_codes_are_400() {
        let app = spawn_app().await;
        for (body, reason) in [
            (json!({}), "不能为空"),
            (json!({ "users_wx_code": null }), "不能为空"),
            (json!({ "users_wx_code": 42 }), "必须是字符串"),
            (json!({ "users_wx_code": ["a"] }), "必须是字符串"),
            (
                json!({ "users_wx_code": "a".repeat(129) }),
                "长度不能超过 128 个字符",
            ),
            (json!({ "users_wx_code": "has space" }), "不能包含空白字符"),
        ] {
            let response = app.post_json("/api/wechat/login", &body).await;
            assert_eq!(response.status(), 400, "{body}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["code"], 400);
            assert_eq!(error["data"]["field"], "users_wx_code", "{body}");
            assert_eq!(error["data"]["reason"], reason, "{body}");
        }
        assert!(
            app.sim.requests_to(CODE2SESSION).await.is_empty(),
            "invalid input never reaches WeChat"
        );
    }
}

e2e_test! {
    async fn a_used_code_is_400() {
        // Without the guard window, WeChat itself answers that the code was used (40163).
        let app = spawn_app_with(|s| s.guard_ttl_secs = 0).await;
        let code = app.sim.login_code("bob").await.code;
        assert_eq!(app.login(&code).await.status(), 200);
        let response = app.login(&code).await;
        assert_response_snapshot!(snapshot(response).await);
    }
}

e2e_test! {
    async fn an_unknown_or_expired_code_is_400() {
        let app = spawn_app().await;
        assert_eq!(app.login("0a1b2c3d4e5f6g").await.status(), 400);
        let code = app.sim.login_code("alice").await.code;
        app.sim.advance(301).await;
        let response = app.login(&code).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["msg"], "微信登录凭证无效或已使用");
        assert_eq!(body["data"]["errcode"], 40029);
    }
}

e2e_test! {
    async fn a_risk_blocked_user_is_403() {
        let app = spawn_app().await;
        let response = app.login("err:40226").await;
        assert_response_snapshot!(snapshot(response).await);
    }
}

e2e_test! {
    async fn wechat_rate_limit_is_429_with_retry_after() {
        let app = spawn_app().await;
        app.sim.inject(Fault::errcode(CODE2SESSION, 45011)).await;
        let code = app.sim.login_code("alice").await.code;
        let response = app.login(&code).await;
        assert_response_snapshot!(snapshot(response).await);
    }
}

e2e_test! {
    async fn wechat_busy_is_503_and_releases_the_code_for_a_retry() {
        let app = spawn_app().await;
        app.sim.inject(Fault::errcode(CODE2SESSION, -1)).await;
        let code = app.sim.login_code("alice").await.code;
        let response = app.login(&code).await;
        assert_response_snapshot!(snapshot(response).await);
        assert!(
            app.stored_user("alice").await
                .is_none(),
            "nothing written"
        );
        // The claim was released: the same code goes through at once.
        assert_eq!(app.login(&code).await.status(), 200);
    }
}

e2e_test! {
    async fn wechat_timeout_is_504() {
        let app = spawn_app_with(|s| s.wechat_timeout_ms = 200).await;
        app.sim.inject(Fault::delay(CODE2SESSION, 1_000)).await;
        let code = app.sim.login_code("alice").await.code;
        let response = app.login(&code).await;
        assert_response_snapshot!(snapshot(response).await);
        assert!(
            app.stored_user("alice").await
                .is_none(),
            "nothing written"
        );
    }
}

e2e_test! {
    async fn wechat_unreachable_or_garbled_is_502() {
        let app = spawn_app().await;
        let faults = [
            Fault::drop_connection(CODE2SESSION),
            Fault::malformed(CODE2SESSION),
            Fault::truncated(CODE2SESSION),
            Fault::http_status(CODE2SESSION, 500),
        ];
        for fault in faults {
            let described = format!("{fault:?}");
            app.sim.inject(fault).await;
            let code = app.sim.login_code("alice").await.code;
            let response = app.login(&code).await;
            assert_eq!(response.status(), 502, "{described}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["msg"], "微信服务异常，请稍后再试", "{described}");
        }
        assert!(
            app.stored_user("alice").await
                .is_none(),
            "nothing written"
        );
    }
}

e2e_test! {
    async fn nothing_listening_is_502() {
        // A port that was free a moment ago: connection refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let app =
            spawn_app_with(|s| s.wechat_api_base = Some(format!("http://127.0.0.1:{port}"))).await;
        let response = app.login("dev:alice").await;
        assert_response_snapshot!(snapshot(response).await);
    }
}

e2e_test! {
    async fn a_misleading_content_type_does_not_matter() {
        let app = spawn_app().await;
        app.sim
            .inject(Fault::content_type(CODE2SESSION, "text/html"))
            .await;
        let code = app.sim.login_code("alice").await.code;
        assert_eq!(app.login(&code).await.status(), 200);
    }
}

e2e_test! {
    async fn secrets_never_reach_the_journal_unmasked_and_the_secret_is_sent() {
        let app = spawn_app().await;
        app.login_as("alice").await;
        let calls = app.sim.requests_to(CODE2SESSION).await;
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].query["appid"], app.sim.appid());
        assert_eq!(calls[0].query["grant_type"], "authorization_code");
        assert_eq!(
            calls[0].errcode, None,
            "the simulator accepted the appid and secret"
        );
    }
}

e2e_test! {
    async fn the_same_code_twice_at_once_is_one_200_and_one_429() {
        let app = spawn_app().await;
        app.sim.inject(Fault::delay(CODE2SESSION, 300)).await;
        let code = app.sim.login_code("alice").await.code;
        let (a, b) = tokio::join!(app.login(&code), app.login(&code));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 429]);
        let limited = if a.status() == 429 { a } else { b };
        assert_response_snapshot!(snapshot(limited).await, @r#"
        {
          "body": {
            "code": 429,
            "data": {},
            "msg": "重复请求过于频繁"
          },
          "headers": {
            "content-type": "application/json; charset=utf-8",
            "retry-after": "10"
          },
          "status": 429
        }
        "#);
        assert_eq!(
            app.sim.requests_to(CODE2SESSION).await.len(),
            1,
            "WeChat saw the code once"
        );
    }
}

e2e_test! {
    async fn two_first_logins_of_one_openid_at_once_create_one_user() {
        let app = spawn_app().await;
        app.sim
            .inject(Fault::delay(CODE2SESSION, 100).times(2))
            .await;
        let (c1, c2) = (
            app.sim.login_code("alice").await.code,
            app.sim.login_code("alice").await.code,
        );
        let (a, b) = tokio::join!(app.login(&c1), app.login(&c2));
        let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
        assert_eq!(a["record"]["id"], b["record"]["id"]);
        let mut statuses = [
            a["meta"]["data"]["status"].to_string(),
            b["meta"]["data"]["status"].to_string(),
        ];
        statuses.sort();
        assert_eq!(statuses, ["\"login_success\"", "\"register_success\""]);
    }
}
