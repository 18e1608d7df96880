//! Tokens honestly signed whose claims must not pass: `exp` missing or of the wrong type, a
//! collection or type other than the auth one, an id that never existed or was deleted.

use serde_json::json;

use super::{assert_401, refresh_with, target};
use crate::forge::{auth_secret, claims, hs256, now};
use crate::helpers::e2e_test;

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
