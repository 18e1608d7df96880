//! The 429 guard's table: a claim ends exactly at its expiry, and expired claims are purged so
//! the table (which holds code hashes) stays bounded.

use bai_service::store::GuardClaim;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, e2e_test, spawn_app};

/// An hour from now: the app's own background purge (which reads the real clock) must not
/// touch the claims these tests place on their own time line.
fn t0() -> i64 {
    chrono::Utc::now().timestamp_millis() + 3_600_000
}

e2e_test! {
    async fn a_claim_is_held_until_its_expiry_and_free_from_that_millisecond() {
        let app = spawn_app().await;
        let db = app.db();
        let t = t0();
        assert_eq!(db.claim_guard("k", t, 100).await.unwrap(), GuardClaim::Acquired);
        assert_eq!(
            db.claim_guard("k", t + 99, 100).await.unwrap(),
            GuardClaim::Held { expires_at_ms: t + 100 }
        );
        assert_eq!(db.claim_guard("k", t + 100, 100).await.unwrap(), GuardClaim::Acquired);
        assert_eq!(
            db.claim_guard("k", t + 100, 100).await.unwrap(),
            GuardClaim::Held { expires_at_ms: t + 200 },
            "the new claim runs from its own start"
        );
    }
}

e2e_test! {
    async fn purging_removes_expired_claims_and_keeps_live_ones() {
        let app = spawn_app().await;
        let db = app.db();
        let t = t0();
        for key in ["old-1", "old-2", "old-3"] {
            db.claim_guard(key, t, 100).await.unwrap();
        }
        db.claim_guard("at-the-edge", t + 900, 100).await.unwrap();
        db.claim_guard("live", t + 950, 100).await.unwrap();
        assert_eq!(app.count_sql("SELECT COUNT(*) FROM request_guards").await, 5);

        assert_eq!(db.purge_expired_guards(t + 1_000).await.unwrap(), 4);
        assert_eq!(app.count_sql("SELECT COUNT(*) FROM request_guards").await, 1);
        assert_eq!(
            db.claim_guard("live", t + 1_000, 100).await.unwrap(),
            GuardClaim::Held { expires_at_ms: t + 1_050 },
            "a live claim survives the purge"
        );
        assert_eq!(db.purge_expired_guards(t + 1_000).await.unwrap(), 0);
    }
}

/// Makes every claim's insert a silent no-op, as if the holder released its claim between the
/// claim's two statements: the claim takes no row, and the holder's row is not there either.
async fn claims_vanish(app: &TestApp) {
    match app.backend {
        Backend::Sqlite => {
            app.execute_sql(
                "CREATE TRIGGER vanish BEFORE INSERT ON request_guards \
                 BEGIN SELECT RAISE(IGNORE); END",
            )
            .await;
        }
        Backend::Postgres => {
            app.execute_sql(
                "CREATE FUNCTION vanish() RETURNS trigger LANGUAGE plpgsql \
                 AS $$ BEGIN RETURN NULL; END $$",
            )
            .await;
            app.execute_sql(
                "CREATE TRIGGER vanish BEFORE INSERT ON request_guards \
                 FOR EACH ROW EXECUTE FUNCTION vanish()",
            )
            .await;
        }
    }
}

e2e_test! {
    async fn a_claim_released_mid_race_is_reported_held_for_one_second() {
        let app = spawn_app().await;
        claims_vanish(&app).await;
        let t = t0();
        assert_eq!(
            app.db().claim_guard("k", t, 10_000).await.unwrap(),
            GuardClaim::Held { expires_at_ms: t + 1_000 }
        );

        let code = app.sim.login_code("alice").await.code;
        let response = app.login(&code).await;
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "1", "not the guard's whole TTL");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], 429);
    }
}
