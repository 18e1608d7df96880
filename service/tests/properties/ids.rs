//! Generated ids and keys: their alphabet and length, no repeats, the whole alphabet used.

use std::collections::HashSet;

use bai_service::users::{new_record_id, new_token_key, new_users_id};

const SAMPLES: usize = 20_000;
const RECORD_ID_ALPHABET: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#[test]
fn record_ids_are_15_chars_of_a_z_0_9_and_use_the_whole_alphabet() {
    let mut seen_chars = HashSet::new();
    let mut seen_ids = HashSet::new();
    for _ in 0..SAMPLES {
        let id = new_record_id();
        assert_eq!(id.chars().count(), 15, "{id}");
        assert!(id.chars().all(|c| RECORD_ID_ALPHABET.contains(c)), "{id}");
        seen_chars.extend(id.chars());
        assert!(seen_ids.insert(id.clone()), "duplicate record id {id}");
    }
    assert_eq!(
        seen_chars.len(),
        RECORD_ID_ALPHABET.len(),
        "some characters never appear"
    );
}

#[test]
fn users_ids_are_u_date_and_8_crockford_chars() {
    let mut seen_chars = HashSet::new();
    let mut seen_ids = HashSet::new();
    for _ in 0..SAMPLES {
        let before = chrono::Utc::now().format("%y%m%d").to_string();
        let id = new_users_id();
        let after = chrono::Utc::now().format("%y%m%d").to_string();
        assert_eq!(id.chars().count(), 15, "{id}");
        assert!(id.starts_with('U'), "{id}");
        let date = &id[1..7];
        assert!(date.bytes().all(|b| b.is_ascii_digit()), "{id}");
        assert!(
            date == before || date == after,
            "{id}: not today's UTC date"
        );
        assert!(
            chrono::NaiveDate::parse_from_str(date, "%y%m%d").is_ok(),
            "{id}"
        );
        let tail = &id[7..];
        assert_eq!(tail.chars().count(), 8, "{id}");
        assert!(tail.chars().all(|c| CROCKFORD.contains(c)), "{id}");
        assert!(!tail.contains(['I', 'L', 'O', 'U']), "{id}");
        seen_chars.extend(tail.chars());
        assert!(seen_ids.insert(id.clone()), "duplicate users_id {id}");
    }
    assert_eq!(seen_chars.len(), 32, "some base32 characters never appear");
}

#[test]
fn token_keys_are_50_alphanumerics() {
    let mut seen_chars = HashSet::new();
    let mut seen_keys = HashSet::new();
    for _ in 0..SAMPLES {
        let key = new_token_key();
        assert_eq!(key.chars().count(), 50, "{key}");
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric()), "{key}");
        seen_chars.extend(key.chars());
        assert!(seen_keys.insert(key.clone()), "duplicate token key");
    }
    assert_eq!(seen_chars.len(), 62, "some alphanumerics never appear");
}
