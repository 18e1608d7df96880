//! Service-wide values every replica must share.

use super::{Db, StoreError, with_pool};

const AUTH_SECRET_KEY: &str = "auth_secret";

impl Db {
    /// Stores `candidate` as the auth secret unless one exists, and returns the one in force.
    /// The first replica to start wins; every other replica reads the same value.
    pub async fn auth_secret_or_init(&self, candidate: &str) -> Result<String, StoreError> {
        const INSERT: &str =
            "INSERT INTO app_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
        const SELECT: &str = "SELECT value FROM app_settings WHERE key = $1";
        // `execute` reads the reply to its end: a failed commit is an error, not a secret
        // that only this process knows.
        with_pool!(self, |pool| sqlx::query(INSERT)
            .bind(AUTH_SECRET_KEY)
            .bind(candidate)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(StoreError::Write)?;
        let (value,): (String,) = with_pool!(self, |pool| sqlx::query_as(SELECT)
            .bind(AUTH_SECRET_KEY)
            .fetch_one(pool)
            .await)?;
        Ok(value)
    }
}
