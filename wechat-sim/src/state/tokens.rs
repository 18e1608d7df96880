//! Access tokens of both kinds. `cgi-bin/token` and `stable_token` tokens live in one table
//! (any valid token authorises an API call) but never affect each other's lifetimes.

use std::collections::HashMap;

use super::FIVE_MINUTES_MS;
use crate::ids;

pub const TOKEN_LIFETIME_MS: u64 = 7200 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Normal,
    Stable,
}

struct TokenRec {
    appid: String,
    kind: TokenKind,
    /// Natural expiry, or earlier when a re-issue cut the token's life short.
    expires_at_ms: u64,
    natural_expiry_ms: u64,
    revoked: bool,
}

pub struct Tokens {
    by_value: HashMap<String, TokenRec>,
    stable_current: HashMap<String, String>,
    last_force_ms: HashMap<String, u64>,
    generation: u32,
}

impl Default for Tokens {
    fn default() -> Self {
        Self {
            by_value: HashMap::new(),
            stable_current: HashMap::new(),
            last_force_ms: HashMap::new(),
            // Real tokens of 2023-2025 carry prefixes in the 70s-90s.
            generation: 80,
        }
    }
}

/// A token as handed out: the value and its `expires_in` in seconds.
pub type Issued = (String, u64);

impl Tokens {
    fn mint(&mut self, appid: &str, kind: TokenKind, now_ms: u64) -> String {
        self.generation = if self.generation >= 99 {
            10
        } else {
            self.generation + 1
        };
        let token = ids::access_token(self.generation);
        let expiry = now_ms + TOKEN_LIFETIME_MS;
        self.by_value.insert(
            token.clone(),
            TokenRec {
                appid: appid.to_owned(),
                kind,
                expires_at_ms: expiry,
                natural_expiry_ms: expiry,
                revoked: false,
            },
        );
        token
    }

    /// `cgi-bin/token`: always a new token; every earlier normal token of the app stays valid
    /// for at most 5 more minutes.
    pub fn issue_normal(&mut self, appid: &str, now_ms: u64) -> Issued {
        let cutoff = now_ms + FIVE_MINUTES_MS;
        for rec in self.by_value.values_mut() {
            if rec.appid == appid && rec.kind == TokenKind::Normal {
                rec.expires_at_ms = rec.expires_at_ms.min(cutoff);
            }
        }
        (
            self.mint(appid, TokenKind::Normal, now_ms),
            TOKEN_LIFETIME_MS / 1000,
        )
    }

    fn live(&self, token: &str, now_ms: u64) -> Option<u64> {
        let rec = self.by_value.get(token)?;
        (!rec.revoked && now_ms < rec.expires_at_ms).then(|| rec.expires_at_ms - now_ms)
    }

    /// `stable_token` without force: the current token while more than 5 minutes remain,
    /// otherwise a new one (the old one lives on until its own expiry).
    pub fn stable(&mut self, appid: &str, now_ms: u64) -> Issued {
        if let Some(current) = self.stable_current.get(appid)
            && let Some(remaining) = self.live(current, now_ms)
            && remaining > FIVE_MINUTES_MS
        {
            // Rounded up, so a token fetched right after issue reports the full 7200.
            return (current.clone(), remaining.div_ceil(1000));
        }
        let token = self.mint(appid, TokenKind::Stable, now_ms);
        self.stable_current.insert(appid.to_owned(), token.clone());
        (token, TOKEN_LIFETIME_MS / 1000)
    }

    /// When the app last force-refreshed its stable token.
    pub fn last_force_ms(&self, appid: &str) -> Option<u64> {
        self.last_force_ms.get(appid).copied()
    }

    /// `stable_token` with `force_refresh=true`: revokes the current stable token at once.
    pub fn force_stable(&mut self, appid: &str, now_ms: u64) -> Issued {
        if let Some(old) = self.stable_current.remove(appid)
            && let Some(rec) = self.by_value.get_mut(&old)
        {
            rec.revoked = true;
        }
        self.last_force_ms.insert(appid.to_owned(), now_ms);
        let token = self.mint(appid, TokenKind::Stable, now_ms);
        self.stable_current.insert(appid.to_owned(), token.clone());
        (token, TOKEN_LIFETIME_MS / 1000)
    }

    /// The app a token belongs to. Unknown, revoked or superseded tokens → 40001; a token that
    /// reached its natural end → 42001.
    pub fn check(&self, token: &str, now_ms: u64) -> Result<String, i64> {
        let rec = self.by_value.get(token).ok_or(40001)?;
        if rec.revoked {
            return Err(40001);
        }
        if now_ms >= rec.expires_at_ms {
            return Err(if rec.expires_at_ms == rec.natural_expiry_ms {
                42001
            } else {
                40001
            });
        }
        Ok(rec.appid.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::{FIVE_MINUTES_MS, TOKEN_LIFETIME_MS, Tokens};

    const NOW: u64 = 1_800_000_000_000;

    fn prefix(token: &str) -> &str {
        token.split_once('_').expect("an NN_ prefix").0
    }

    /// Each token carries the next generation, 81 up to 99, then 10 again.
    #[test]
    fn tokens_carry_rising_generation_prefixes_that_wrap_after_99() {
        let mut tokens = Tokens::default();
        let prefixes: Vec<String> = (0..21)
            .map(|i| prefix(&tokens.issue_normal("app", NOW + i).0).to_owned())
            .collect();
        let expected: Vec<String> = (81..=99).chain(10..=11).map(|g| g.to_string()).collect();
        assert_eq!(prefixes, expected);
    }

    /// The stable token is kept while strictly more than five minutes remain: with exactly
    /// five minutes left, a new one is handed out.
    #[test]
    fn the_stable_token_renews_when_exactly_five_minutes_remain() {
        let mut tokens = Tokens::default();
        let (first, _) = tokens.stable("app", NOW);
        let last_kept = NOW + TOKEN_LIFETIME_MS - FIVE_MINUTES_MS - 1;
        assert_eq!(tokens.stable("app", last_kept), (first.clone(), 301));
        let (renewed, expires_in) = tokens.stable("app", last_kept + 1);
        assert_ne!(renewed, first);
        assert_eq!(expires_in, 7200);
    }

    /// A forced refresh hands out a new token with the full 7200 s.
    #[test]
    fn a_forced_stable_token_lives_7200_s() {
        let mut tokens = Tokens::default();
        let (first, _) = tokens.stable("app", NOW);
        let (forced, expires_in) = tokens.force_stable("app", NOW + 60_000);
        assert_ne!(forced, first);
        assert_eq!(expires_in, 7200);
    }
}
