//! Identifiers: PocketBase-style record ids and token keys, and the human-friendly `users_id`.

use rand::Rng;
use rand::distr::{Alphanumeric, SampleString};

const RECORD_ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Crockford's base32 without the letters people misread (I, L, O, U).
const USERS_ID_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// 15 characters of `[a-z0-9]`, like PocketBase's record ids.
pub fn new_record_id() -> String {
    random_from(RECORD_ID_ALPHABET, 15)
}

/// 50 characters of `[A-Za-z0-9]`, like PocketBase's `tokenKey`.
pub fn new_token_key() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 50)
}

/// `U` + the UTC date as `YYMMDD` + 8 base32 characters, e.g. `U261125K7M2QD9X`: sortable by
/// registration day, readable over the phone, and unique (collisions are retried on insert).
pub fn new_users_id() -> String {
    format!(
        "U{}{}",
        chrono::Utc::now().format("%y%m%d"),
        random_from(USERS_ID_ALPHABET, 8)
    )
}

/// Where a new user's record id comes from. Production draws random ids ([`RandomIds`]); tests
/// pass their own source to `Application::build_with_ids` to force the clash that an insert
/// must survive by drawing again, which random ids make too rare to reach otherwise.
pub trait NewIds: Send + Sync + std::fmt::Debug {
    fn record_id(&self) -> String;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl NewIds for RandomIds {
    fn record_id(&self) -> String {
        new_record_id()
    }
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_their_documented_shapes() {
        let id = new_record_id();
        assert_eq!(id.len(), 15);
        assert!(id.bytes().all(|b| RECORD_ID_ALPHABET.contains(&b)));
        assert_eq!(new_token_key().len(), 50);
        let users_id = new_users_id();
        assert_eq!(users_id.len(), 15);
        assert!(users_id.starts_with('U'));
    }
}
