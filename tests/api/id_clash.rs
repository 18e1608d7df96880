//! A new user's record id that clashes with a stored one is drawn again (five draws in all), so
//! a clash costs the user nothing; after five clashes the login fails and stores nothing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bai_service::users::{NewIds, new_record_id};
use serde_json::Value;

use crate::helpers::{e2e_test, spawn_app_with_ids};

/// Hands out the queued ids first, then random ones.
#[derive(Debug, Default)]
struct Scripted(Mutex<VecDeque<String>>);

impl Scripted {
    fn queue(&self, ids: impl IntoIterator<Item = String>) {
        self.0.lock().unwrap().extend(ids);
    }

    fn left(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

impl NewIds for Scripted {
    fn record_id(&self) -> String {
        let next = self.0.lock().unwrap().pop_front();
        next.unwrap_or_else(new_record_id)
    }
}

e2e_test! {
    async fn a_registration_whose_id_clashes_draws_again_up_to_the_fifth_id() {
        let ids = Arc::new(Scripted::default());
        let app = spawn_app_with_ids(|_| {}, ids.clone()).await;
        let alice = app.login_as("alice").await;
        let taken = alice["record"]["id"].as_str().unwrap().to_owned();

        let fresh = "bob000000000005".to_owned();
        ids.queue(std::iter::repeat_n(taken.clone(), 4).chain([fresh.clone()]));
        let bob = app.login_as("bob").await;
        assert_eq!(bob["record"]["id"], fresh.as_str(), "four clashes, then the fifth id");
        assert_eq!(ids.left(), 0);
        assert_eq!(app.count_sql("SELECT COUNT(*) FROM tbl_auth_users").await, 2);
        assert_eq!(
            app.stored_user("alice").await.unwrap().id,
            taken,
            "the clash left the existing user alone"
        );
    }
}

e2e_test! {
    async fn a_registration_gives_up_after_five_clashes_and_stores_nothing() {
        let ids = Arc::new(Scripted::default());
        let app = spawn_app_with_ids(|_| {}, ids.clone()).await;
        let alice = app.login_as("alice").await;
        let taken = alice["record"]["id"].as_str().unwrap().to_owned();

        ids.queue(std::iter::repeat_n(taken, 6));
        let code = app.sim.login_code("bob").await.code;
        let response = app.login(&code).await;
        assert_eq!(response.status(), 500);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], 500);
        assert!(body["msg"].as_str().unwrap().chars().any(|c| c > '\u{2e80}'), "{body}");
        assert_eq!(ids.left(), 1, "exactly five draws");
        assert_eq!(app.count_sql("SELECT COUNT(*) FROM tbl_auth_users").await, 1);
    }
}
