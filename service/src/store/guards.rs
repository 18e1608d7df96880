//! The 429 guard's claims. A row per claimed key; the upsert only takes over a row whose
//! claim has expired, so exactly one of several concurrent requests (on any replica) wins.

use sqlx::Executor as _;

use super::{Db, StoreError, with_pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardClaim {
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
    ) -> Result<GuardClaim, StoreError> {
        const CLAIM: &str = "INSERT INTO request_guards (guard_key, expires_at) VALUES ($1, $2) \
             ON CONFLICT (guard_key) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE request_guards.expires_at <= $3 \
             RETURNING guard_key";
        const HOLDER: &str = "SELECT expires_at FROM request_guards WHERE guard_key = $1";
        let claimed = with_pool!(self, |pool| {
            let query = sqlx::query(CLAIM)
                .bind(key)
                .bind(now_ms + ttl_ms)
                .bind(now_ms);
            self.run_write(pool.fetch_many(query))
                .await
                .map(|rows| rows.len())
        })?;
        if claimed == 1 {
            return Ok(GuardClaim::Acquired);
        }
        let holder: Option<(i64,)> = with_pool!(self, |pool| sqlx::query_as(HOLDER)
            .bind(key)
            .fetch_optional(pool)
            .await)?;
        Ok(match holder {
            Some((expires_at_ms,)) => GuardClaim::Held { expires_at_ms },
            // Released between our two statements: report it held for a moment; the client retries.
            None => GuardClaim::Held {
                expires_at_ms: now_ms + 1_000,
            },
        })
    }

    pub async fn release_guard(&self, key: &str) -> Result<(), StoreError> {
        const SQL: &str = "DELETE FROM request_guards WHERE guard_key = $1";
        with_pool!(self, |pool| {
            let query = sqlx::query(SQL).bind(key);
            self.run_write(pool.fetch_many(query)).await.map(drop)
        })
    }

    /// Drops expired claims; returns how many.
    pub async fn purge_expired_guards(&self, now_ms: i64) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM request_guards WHERE expires_at <= $1";
        // `execute` reads the reply to its end, so a failed commit is reported. A background
        // sweep answers no client, so it does not count towards health's write failures.
        let done = with_pool!(self, |pool| sqlx::query(SQL)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(StoreError::Write)?;
        Ok(done)
    }
}
