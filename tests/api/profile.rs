//! `POST /api/wechat/profile`: every status it can answer.

use serde_json::{Value, json};
use wechat_sim::Fault;

use crate::helpers::{assert_response_snapshot, e2e_test, snapshot, spawn_app, spawn_app_with};

const PHONE: &str = "/wxa/business/getuserphonenumber";
const STABLE_TOKEN: &str = "/cgi-bin/stable_token";

e2e_test! {
    async fn a_complete_profile_registers_the_user() {
        let app = spawn_app().await;
        let token = app.token_for("alice").await;
        let body = app.profile_body("alice", "13800138000").await;
        let response = app.profile(&token, &body).await;
        assert_response_snapshot!(snapshot(response).await);

        // The next login sees the saved profile.
        let login = app.login_as("alice").await;
        assert_eq!(login["meta"]["data"]["is_info_complete"], true);
        assert_eq!(login["meta"]["data"]["user"]["users_phone"], "13800138000");
        assert_eq!(login["record"]["users_type"], "注册用户");
    }
}

e2e_test! {
    async fn a_profile_update_changes_its_own_user_and_no_other() {
        let app = spawn_app().await;
        let bob_before = app.login_as("bob").await;
        let token = app.token_for("alice").await;
        let body = app.profile_body("alice", "13800138000").await;
        assert_eq!(app.profile(&token, &body).await.status(), 200);

        let bob = app.login_as("bob").await;
        assert_eq!(bob["record"], bob_before["record"]);
        assert_eq!(bob["record"]["users_type"], "游客");
        assert_eq!(bob["meta"]["data"]["is_info_complete"], false);
    }
}

e2e_test! {
    async fn text_is_sanitised_before_it_is_saved() {
        let app = spawn_app().await;
        let token = app.token_for("alice").await;
        let mut body = app.profile_body("alice", "13800138000").await;
        body["users_name"] = json!("  张\u{200B}三\n ");
        body["users_picture"] = json!(" https://example.com/a.png ");
        let response: Value = app.profile(&token, &body).await.json().await.unwrap();
        assert_eq!(response["data"]["user"]["users_name"], "张三");
        assert_eq!(
            response["data"]["user"]["users_picture"],
            "https://example.com/a.png"
        );
    }
}

e2e_test! {
    async fn a_foreign_number_keeps_its_country_prefix() {
        let app = spawn_app().await;
        let token = app.token_for("alice").await;
        let phone_code = app.sim.phone_code_in_country("alice", "852", "61234567").await;
        let body = json!({ "users_name": "Ann", "users_phone_code": phone_code, "users_picture": "https://e.com/a.png" });
        let response: Value = app.profile(&token, &body).await.json().await.unwrap();
        let phone = response["data"]["user"]["users_phone"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(phone.ends_with("61234567"), "{phone}");
        let masked = response["data"]["user"]["users_phone_masked"]
            .as_str()
            .unwrap();
        assert!(
            masked.chars().filter(char::is_ascii_digit).count() <= 7,
            "{masked}"
        );
        assert!(masked.ends_with("4567") && masked.contains('*'), "{masked}");
    }
}

e2e_test! {
    async fn each_invalid_field_is_400_naming_it_and_nothing_is_written() {
        let app = spawn_app().await;
        let token = app.token_for("alice").await;
        let valid = json!({ "users_name": "张三", "users_phone_code": "dev-phone:13800138000", "users_picture": "https://e.com/a.png" });
        let cases = [
            ("users_name", json!(null), "不能为空"),
            ("users_name", json!(" \u{200B} "), "不能为空"),
            // Hangul fillers and the Braille blank: the usual way to a blank-looking nickname.
            ("users_name", json!("\u{3164}\u{3164}\u{2800}"), "不能为空"),
            (
                "users_name",
                json!("名".repeat(33)),
                "长度不能超过 32 个字符",
            ),
            ("users_name", json!(7), "必须是字符串"),
            ("users_phone_code", json!(""), "不能为空"),
            ("users_phone_code", json!({}), "必须是字符串"),
            (
                "users_picture",
                json!("ftp://e.com/a.png"),
                "必须是 http 或 https 地址",
            ),
            ("users_picture", json!("not a url"), "不是有效的 URL"),
            (
                "users_picture",
                json!(format!("https://e.com/{}", "a".repeat(500))),
                "长度不能超过 512 个字符",
            ),
        ];
        for (field, value, reason) in cases {
            let mut body = valid.clone();
            body[field] = value.clone();
            let response = app.profile(&token, &body).await;
            assert_eq!(response.status(), 400, "{field}={value}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["data"]["field"], field, "{field}={value}");
            assert_eq!(error["data"]["reason"], reason, "{field}={value}");
        }
        let mut missing = valid.clone();
        missing.as_object_mut().unwrap().remove("users_picture");
        let response = app.profile(&token, &missing).await;
        assert_response_snapshot!(snapshot(response).await);

        let user = app
            .db()
            .find_user_by_openid(&app.sim.openid_for("alice"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (user.users_name.as_str(), user.users_phone.as_str()),
            ("", ""),
            "nothing written"
        );
        assert!(
            app.sim.requests_to(PHONE).await.is_empty(),
            "invalid input never reaches WeChat"
        );
    }
}

e2e_test! {
    async fn a_used_phone_code_is_400_and_nothing_is_written() {
        let app = spawn_app().await;
        let token = app.token_for("alice").await;
        let body = app.profile_body("alice", "13800138000").await;
        assert_eq!(app.profile(&token, &body).await.status(), 200);
        let mut again = body.clone();
        again["users_name"] = json!("李四");
        let response = app.profile(&token, &again).await;
        assert_response_snapshot!(snapshot(response).await);
        let user = app
            .db()
            .find_user_by_openid(&app.sim.openid_for("alice"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.users_name, "张三");
    }
}

e2e_test! {
    async fn a_phone_code_issued_to_another_user_is_400_and_nothing_is_written() {
        let app = spawn_app().await;
        let alice = app.token_for("alice").await;
        let bob = app.token_for("bob").await;
        let bobs_code = app.profile_body("bob", "13900139000").await;
        let response = app.profile(&alice, &bobs_code).await;
        assert_response_snapshot!(snapshot(response).await);
        let stored = app.stored_user("alice").await.unwrap();
        assert_eq!(
            (stored.users_name.as_str(), stored.users_phone.as_str()),
            ("", ""),
            "nothing written"
        );
        // The refused call did not spend the code: its owner still can.
        let response = app.profile(&bob, &bobs_code).await;
        assert_eq!(response.status(), 200);
        assert_eq!(app.stored_user("bob").await.unwrap().users_phone, "13900139000");
    }
}

e2e_test! {
    async fn without_a_token_it_is_401() {
        let app = spawn_app().await;
        let response = app
            .client
            .post(app.url("/api/wechat/profile"))
            .json(&json!({ "users_name": "a", "users_phone_code": "b", "users_picture": "https://e.com" }))
            .send()
            .await
            .unwrap();
        assert_response_snapshot!(snapshot(response).await);
    }
}

e2e_test! {
    async fn a_deleted_users_token_is_404() {
        let app = spawn_app().await;
        let login = app.login_as("alice").await;
        let token = login["token"].as_str().unwrap();
        let pb_id = login["record"]["id"].as_str().unwrap();
        assert!(
            app.users().delete_user(pb_id)
                .await
                .unwrap()
        );
        let body = app.profile_body("alice", "13800138000").await;
        let response = app.profile(token, &body).await;
        assert_response_snapshot!(snapshot(response).await);
    }
}

e2e_test! {
    async fn non_json_body_is_415() {
        let app = spawn_app().await;
        let token = app.token_for("alice").await;
        let response = app
            .client
            .post(app.url("/api/wechat/profile"))
            .bearer_auth(&token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("users_name=a")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415);
    }
}

e2e_test! {
    async fn upstream_failures_map_to_their_statuses_and_write_nothing() {
        let app = spawn_app_with(|s| s.wechat_timeout_ms = 200).await;
        let token = app.token_for("alice").await;
        let cases = [
            // First, while no access token is cached yet.
            (Fault::errcode(STABLE_TOKEN, 40013), 502),
            (Fault::errcode(PHONE, -1), 503),
            (Fault::errcode(PHONE, 45011), 429),
            (Fault::delay(PHONE, 1_000), 504),
            (Fault::drop_connection(PHONE), 502),
            (Fault::malformed(PHONE), 502),
        ];
        for (fault, status) in cases {
            let described = format!("{fault:?}");
            app.sim.inject(fault).await;
            let body = app.profile_body("alice", "13800138000").await;
            let response = app.profile(&token, &body).await;
            assert_eq!(response.status(), status, "{described}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["code"], status, "{described}");
        }
        let user = app
            .db()
            .find_user_by_openid(&app.sim.openid_for("alice"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.users_phone, "", "nothing written");
    }
}

e2e_test! {
    async fn a_stale_access_token_is_replaced_and_the_call_retried_once() {
        let app = spawn_app().await;
        let token = app.token_for("alice").await;
        app.sim.inject(Fault::errcode(PHONE, 40001)).await;
        let body = app.profile_body("alice", "13800138000").await;
        assert_eq!(app.profile(&token, &body).await.status(), 200);
        assert_eq!(app.sim.requests_to(PHONE).await.len(), 2);
    }
}

e2e_test! {
    async fn a_token_rejected_twice_is_not_retried_a_third_time() {
        let app = spawn_app().await;
        let token = app.token_for("alice").await;
        app.sim.inject(Fault::errcode(PHONE, 42001).times(5)).await;
        let body = app.profile_body("alice", "13800138000").await;
        assert_eq!(app.profile(&token, &body).await.status(), 502);
        assert_eq!(
            app.sim.requests_to(PHONE).await.len(),
            2,
            "one call and one retry, never more"
        );
    }
}

e2e_test! {
    async fn the_access_token_is_cached_across_requests() {
        let app = spawn_app().await;
        let token = app.token_for("alice").await;
        for phone in ["13800138000", "13900139000", "13700137000"] {
            let body = app.profile_body("alice", phone).await;
            assert_eq!(app.profile(&token, &body).await.status(), 200);
        }
        assert_eq!(app.sim.requests_to(STABLE_TOKEN).await.len(), 1);
    }
}

e2e_test! {
    async fn concurrent_first_calls_share_one_token_fetch() {
        let app = spawn_app().await;
        app.sim.inject(Fault::delay(STABLE_TOKEN, 200)).await;
        let token = app.token_for("alice").await;
        let (b1, b2, b3) = (
            app.profile_body("alice", "13800138000").await,
            app.profile_body("alice", "13900139000").await,
            app.profile_body("alice", "13700137000").await,
        );
        let (r1, r2, r3) = tokio::join!(
            app.profile(&token, &b1),
            app.profile(&token, &b2),
            app.profile(&token, &b3)
        );
        assert_eq!([r1.status(), r2.status(), r3.status()], [200, 200, 200]);
        assert_eq!(
            app.sim.requests_to(STABLE_TOKEN).await.len(),
            1,
            "a single in-flight refresh"
        );
    }
}
