//! Identifier shapes copied from real WeChat (wechat-api.md §1.5). Stable identities (openid,
//! unionid) are hashes so fixtures survive restarts; one-off values (codes, keys, tokens) are
//! random.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{KeyInit, Mac};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

fn hashed_id(domain: &str, scope: &str, user: &str) -> String {
    let digest = Sha256::digest(format!("wechat-sim|{domain}|{scope}|{user}").as_bytes());
    let tail = URL_SAFE_NO_PAD.encode(digest);
    format!("o{}", &tail[..27])
}

/// 28 chars of `[A-Za-z0-9_-]` starting with `o`, a function of (appid, user) only.
pub fn openid(appid: &str, user: &str) -> String {
    hashed_id("openid", appid, user)
}

/// Same shape as an openid, a function of (open platform account, user) only.
pub fn unionid(open_platform: &str, user: &str) -> String {
    hashed_id("unionid", open_platform, user)
}

/// base64 of 16 random bytes: 24 chars ending `==`.
pub fn session_key() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    STANDARD.encode(bytes)
}

/// 32 alphanumeric chars, like a `wx.login` code.
pub fn login_code() -> String {
    random_alnum(32)
}

/// 64 lowercase hex chars, like a getPhoneNumber button code.
pub fn phone_code() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// `NN_` generation prefix, then 136 chars of `[A-Za-z0-9_-]`.
pub fn access_token(generation: u32) -> String {
    let mut bytes = [0u8; 102];
    rand::rng().fill(&mut bytes[..]);
    format!("{generation:02}_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// `%08x-%08x-%08x`, first segment the (virtual) Unix time, as in real errmsg suffixes.
pub fn rid(now_secs: u64) -> String {
    let mut rng = rand::rng();
    format!(
        "{:08x}-{:08x}-{:08x}",
        now_secs as u32,
        rng.random::<u32>(),
        rng.random::<u32>()
    )
}

/// hex(HMAC-SHA256(key = session_key as text, msg = "")), the checksession signature.
pub fn session_signature(session_key: &str) -> String {
    let mac = hmac::Hmac::<Sha256>::new_from_slice(session_key.as_bytes())
        .expect("HMAC accepts keys of any length");
    hex::encode(mac.finalize().into_bytes())
}

fn random_alnum(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A msg_sec_check `trace_id`: `<hex time>-<hex random>-<hex random>` like the real ones.
pub fn trace_id(now_ms: u64) -> String {
    let mut rng = rand::rng();
    format!(
        "{:08x}-{:08x}-{:08x}",
        now_ms / 1000,
        rng.random::<u32>(),
        rng.random::<u32>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_real_identifiers() {
        let id = openid("wx1", "alice");
        assert_eq!(id.len(), 28);
        assert!(id.starts_with('o'));
        assert_eq!(id, openid("wx1", "alice"));
        assert_ne!(id, openid("wx2", "alice"));
        assert_ne!(id, unionid("wx1", "alice"));
        let key = session_key();
        assert_eq!(key.len(), 24);
        assert!(key.ends_with("=="));
        assert_eq!(login_code().len(), 32);
        assert_eq!(phone_code().len(), 64);
        let token = access_token(7);
        assert!(token.starts_with("07_"));
        assert_eq!(token.len(), 3 + 136);
        assert_eq!(rid(0x652d44d0).len(), 26);
        assert!(rid(0x652d44d0).starts_with("652d44d0-"));
        assert_eq!(session_signature("k").len(), 64);
    }
}
