//! PocketBase-compatible auth tokens: the only module that signs or verifies them.

mod header;
mod token;

pub use header::normalize_authorization;
pub use token::{AUTH_COLLECTION_ID, AuthClaims, TokenError, Tokens, generate_secret};
