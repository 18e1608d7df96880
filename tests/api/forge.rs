//! The forging kit: tokens built by hand, the way PocketBase (or an attacker who knows a key)
//! would, so the suites can check what the service issues and what it refuses.

use bai_service::config::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

pub(crate) const COLLECTION_ID: &str = "pbc_421601843";

/// The auth secret every app of these suites runs with.
pub(crate) fn auth_secret() -> String {
    "x".repeat(40)
}

pub(crate) async fn spawn_with_known_secret() -> TestApp {
    spawn_app_with(|s| s.auth_secret = Some(Secret::from(auth_secret()))).await
}

/// A logged-in user, with what is needed to forge their tokens.
pub(crate) struct Account {
    pub pb_id: String,
    pub token: String,
    pub token_key: String,
}

impl Account {
    /// What their tokens are signed with: token key, then the auth secret.
    pub(crate) fn signing_key(&self) -> String {
        format!("{}{}", self.token_key, auth_secret())
    }
}

pub(crate) async fn account(app: &TestApp, user: &str) -> Account {
    let login = app.login_as(user).await;
    let pb_id = login["record"]["id"].as_str().unwrap().to_owned();
    let token_key = app
        .db()
        .find_user_by_id(&pb_id)
        .await
        .unwrap()
        .expect("the user exists")
        .token_key;
    assert_eq!(token_key.len(), 50, "a PocketBase token key");
    Account {
        pb_id,
        token: login["token"].as_str().unwrap().to_owned(),
        token_key,
    }
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The claims the service issues, valid for an hour.
pub(crate) fn claims(id: &str) -> Value {
    json!({
        "collectionId": COLLECTION_ID,
        "exp": now() + 3600,
        "id": id,
        "refreshable": true,
        "type": "auth",
    })
}

/// Unpadded base64url, as JWS wants it.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn b64url_decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_else(|err| panic!("not base64url ({err}): {text}"))
}

/// A JWS over exactly this header and these claims, signed (HMAC) with `alg` and `key`.
pub(crate) fn forge(header: &Value, claims: &Value, alg: Algorithm, key: &str) -> String {
    let message = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let signature = sign(&message, alg, key);
    format!("{message}.{signature}")
}

/// The base64url HMAC of `message` under `key`.
pub(crate) fn sign(message: &str, alg: Algorithm, key: &str) -> String {
    jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(key.as_bytes()),
        alg,
    )
    .unwrap()
}

/// A token shaped like the service's own: HS256, `{"alg":"HS256","typ":"JWT"}`.
pub(crate) fn hs256(claims: &Value, key: &str) -> String {
    forge(
        &json!({ "alg": "HS256", "typ": "JWT" }),
        claims,
        Algorithm::HS256,
        key,
    )
}
