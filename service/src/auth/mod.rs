//! PocketBase-compatible auth tokens: the only module that signs or verifies them.

mod token;

pub use token::{
    AUTH_COLLECTION_ID, AUTH_COLLECTION_NAME, AuthClaims, AuthTokens, TokenError, generate_secret,
};
