//! The 429 guard's claims. A row per claimed key; the upsert only takes over a row whose
//! claim has expired, so exactly one of several concurrent requests (on any replica) wins.

use super::{Db, StoreError, with_pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Acquired,
    /// Someone else holds the key until `expires_at_ms`.
    Held {
        expires_at_ms: i64,
    },
}

impl Db {
    pub async fn claim_guard(
        &self,
        key: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Claim, StoreError> {
        const CLAIM: &str = "INSERT INTO request_guards (guard_key, expires_at) VALUES ($1, $2) \
             ON CONFLICT (guard_key) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE request_guards.expires_at <= $3 \
             RETURNING guard_key";
        const HOLDER: &str = "SELECT expires_at FROM request_guards WHERE guard_key = $1";
        let claimed: Option<(String,)> = with_pool!(self, |pool| sqlx::query_as(CLAIM)
            .bind(key)
            .bind(now_ms + ttl_ms)
            .bind(now_ms)
            .fetch_optional(pool)
            .await)?;
        if claimed.is_some() {
            return Ok(Claim::Acquired);
        }
        let holder: Option<(i64,)> = with_pool!(self, |pool| sqlx::query_as(HOLDER)
            .bind(key)
            .fetch_optional(pool)
            .await)?;
        Ok(match holder {
            Some((expires_at_ms,)) => Claim::Held { expires_at_ms },
            // Released between our two statements: report it held for a moment; the client retries.
            None => Claim::Held {
                expires_at_ms: now_ms + 1_000,
            },
        })
    }

    pub async fn release_guard(&self, key: &str) -> Result<(), StoreError> {
        const SQL: &str = "DELETE FROM request_guards WHERE guard_key = $1";
        with_pool!(self, |pool| sqlx::query(SQL)
            .bind(key)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Drops expired claims; returns how many.
    pub async fn purge_expired_guards(&self, now_ms: i64) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM request_guards WHERE expires_at <= $1";
        let done = with_pool!(self, |pool| sqlx::query(SQL)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done)
    }

    /// How many claims the table holds, expired or not.
    pub async fn count_guards(&self) -> Result<u64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM request_guards";
        let (count,): (i64,) = with_pool!(self, |pool| sqlx::query_as(SQL).fetch_one(pool).await)?;
        Ok(count.max(0) as u64)
    }
}
