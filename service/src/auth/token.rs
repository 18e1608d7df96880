//! HS256 JWTs shaped exactly like PocketBase's auth tokens, so PocketBase SDKs (and a PocketBase
//! reading the same data) accept them: claims `{collectionId, exp, id, refreshable, type}`,
//! signed with the user's `token_key` followed by the auth secret.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};

/// The users collection, by the name and the id PocketBase gives it (the SDK's paths may use
/// either, and tokens carry the id).
pub const AUTH_COLLECTION_NAME: &str = "tbl_auth_users";
pub const AUTH_COLLECTION_ID: &str = "pbc_421601843";
const AUTH_TOKEN_TYPE: &str = "auth";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthClaims {
    #[serde(rename = "collectionId")]
    pub collection_id: String,
    pub exp: i64,
    pub id: String,
    pub refreshable: bool,
    #[serde(rename = "type")]
    pub token_type: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is malformed")]
    Malformed,
    #[error("token is not an auth token of this collection")]
    WrongKind,
    #[error("token signature, algorithm or expiry is invalid")]
    Invalid,
}

/// Issues and verifies tokens. Holds the service-wide auth secret.
#[derive(Clone)]
pub struct AuthTokens {
    secret: String,
    ttl: Duration,
}

impl std::fmt::Debug for AuthTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthTokens")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl AuthTokens {
    pub fn new(secret: impl Into<String>, ttl: Duration) -> Self {
        Self {
            secret: secret.into(),
            ttl,
        }
    }

    /// A fresh token for the record `user_id` whose token key is `token_key`.
    pub fn issue(&self, user_id: &str, token_key: &str) -> String {
        let claims = AuthClaims {
            collection_id: AUTH_COLLECTION_ID.to_owned(),
            exp: chrono::Utc::now().timestamp() + self.ttl.as_secs() as i64,
            id: user_id.to_owned(),
            refreshable: true,
            token_type: AUTH_TOKEN_TYPE.to_owned(),
        };
        let key = EncodingKey::from_secret(self.signing_key(token_key).as_bytes());
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
            .expect("HS256 signing with an in-memory key cannot fail")
    }

    /// Reads the claims without checking the signature, only to learn whose key to check it
    /// with. Nothing may be trusted from the result until [`AuthTokens::verify`] passes.
    pub fn peek(token: &str) -> Result<AuthClaims, TokenError> {
        let claims: AuthClaims = jsonwebtoken::dangerous::insecure_decode_claims(token)
            .map_err(|_| TokenError::Malformed)?;
        if claims.token_type != AUTH_TOKEN_TYPE || claims.collection_id != AUTH_COLLECTION_ID {
            return Err(TokenError::WrongKind);
        }
        Ok(claims)
    }

    /// Verifies algorithm (HS256 only), signature and expiry (no leeway) against `token_key`.
    pub fn verify(&self, token: &str, token_key: &str) -> Result<AuthClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        let key = DecodingKey::from_secret(self.signing_key(token_key).as_bytes());
        let data = jsonwebtoken::decode::<AuthClaims>(token, &key, &validation)
            .map_err(|_| TokenError::Invalid)?;
        if data.claims.token_type != AUTH_TOKEN_TYPE
            || data.claims.collection_id != AUTH_COLLECTION_ID
        {
            return Err(TokenError::WrongKind);
        }
        Ok(data.claims)
    }

    fn signing_key(&self, token_key: &str) -> String {
        let mut key = String::with_capacity(token_key.len() + self.secret.len());
        key.push_str(token_key);
        key.push_str(&self.secret);
        key
    }
}

/// A new random auth secret (50 alphanumerics, like PocketBase's generated secrets).
pub fn generate_secret() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 50)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> AuthTokens {
        AuthTokens::new("s".repeat(40), Duration::from_secs(60))
    }

    /// `AuthTokens` is inside `AppState`, which derives `Debug`: whatever prints it must not print
    /// the secret.
    #[test]
    fn debug_output_names_the_ttl_and_never_the_secret() {
        let shown = format!(
            "{:?}",
            AuthTokens::new("s3cr3t-value", Duration::from_secs(60))
        );
        assert!(
            shown.starts_with("AuthTokens {") && shown.contains("ttl: 60s"),
            "{shown}"
        );
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn a_token_verifies_with_its_users_key_only() {
        let token = tokens().issue("abc123def456ghi", "key-one");
        let claims = tokens().verify(&token, "key-one").unwrap();
        assert_eq!(claims.id, "abc123def456ghi");
        assert!(claims.refreshable);
        assert_eq!(tokens().verify(&token, "key-two"), Err(TokenError::Invalid));
    }

    #[test]
    fn peek_rejects_garbage() {
        assert_eq!(AuthTokens::peek("not-a-token"), Err(TokenError::Malformed));
    }

    /// A token signed correctly for `token_key`, with one claim changed.
    fn signed_with(token_key: &str, change: impl FnOnce(&mut AuthClaims)) -> String {
        let mut claims = AuthClaims {
            collection_id: AUTH_COLLECTION_ID.to_owned(),
            exp: chrono::Utc::now().timestamp() + 60,
            id: "abc123def456ghi".to_owned(),
            refreshable: true,
            token_type: AUTH_TOKEN_TYPE.to_owned(),
        };
        change(&mut claims);
        let key = EncodingKey::from_secret(tokens().signing_key(token_key).as_bytes());
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
    }

    // Each check of the trust gate must hold on its own: a correctly signed token that fails
    // exactly one of them is refused by `verify` and by `peek`.
    #[test]
    fn a_correctly_signed_token_of_another_type_is_refused() {
        let token = signed_with("key", |c| c.token_type = "file".to_owned());
        assert_eq!(tokens().verify(&token, "key"), Err(TokenError::WrongKind));
        assert_eq!(AuthTokens::peek(&token), Err(TokenError::WrongKind));
    }

    #[test]
    fn a_correctly_signed_token_of_another_collection_is_refused() {
        let token = signed_with("key", |c| c.collection_id = "_pb_users_auth_".to_owned());
        assert_eq!(tokens().verify(&token, "key"), Err(TokenError::WrongKind));
        assert_eq!(AuthTokens::peek(&token), Err(TokenError::WrongKind));
    }

    #[test]
    fn the_untouched_token_passes_both_checks() {
        let token = signed_with("key", |_| {});
        assert!(AuthTokens::peek(&token).is_ok());
        assert!(tokens().verify(&token, "key").is_ok());
    }

    #[test]
    fn generated_secrets_are_long_random_and_alphanumeric() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_eq!(a.len(), 50);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b, "two secrets are never the same");
        // 50 characters from 62 must not come out as a run of one character.
        assert!(a.bytes().collect::<std::collections::HashSet<_>>().len() > 10);
    }
}
