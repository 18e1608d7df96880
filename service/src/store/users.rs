//! `tbl_auth_users`, `tbl_company` and the deleted-user tombstones.

use sqlx::Executor as _;

use super::{Db, StoreError, decode, map_unique, with_pool};

/// A row of `tbl_auth_users`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    pub users_id: String,
    pub openid: String,
    pub users_type: String,
    pub users_name: String,
    pub users_phone: String,
    pub users_picture: String,
    pub company_id: Option<String>,
    pub token_key: String,
    pub created: String,
    pub updated: String,
    /// PocketBase's auth fields: set only by an import (WeChat users have no email).
    pub email: String,
    pub email_visibility: bool,
    pub verified: bool,
}

/// A row of `tbl_company`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CompanyRecord {
    pub company_id: String,
    pub company_name: String,
    pub created: String,
    pub updated: String,
}

/// What a first login writes.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub users_id: &'a str,
    pub openid: &'a str,
    pub users_type: &'a str,
    pub token_key: &'a str,
    pub now: &'a str,
}

/// What a profile update writes.
#[derive(Debug, Clone)]
pub struct ProfileUpdate<'a> {
    pub users_name: &'a str,
    pub users_phone: &'a str,
    pub users_picture: &'a str,
    pub users_type: &'a str,
    pub now: &'a str,
}

/// The columns of `UserRecord`, in one place for every query that returns a user.
macro_rules! user_columns {
    () => {
        "id, users_id, openid, users_type, users_name, users_phone, users_picture, company_id, token_key, created, updated, email, email_visibility, verified"
    };
}

const SELECT_USER_BY_OPENID: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM tbl_auth_users WHERE openid = $1"
);
const SELECT_USER_BY_ID: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM tbl_auth_users WHERE id = $1"
);

impl Db {
    pub async fn find_user_by_openid(
        &self,
        openid: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let user = with_pool!(self, |pool| sqlx::query_as(SELECT_USER_BY_OPENID)
            .bind(openid)
            .fetch_optional(pool)
            .await)?;
        Ok(user)
    }

    pub async fn find_user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let user = with_pool!(self, |pool| sqlx::query_as(SELECT_USER_BY_ID)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(user)
    }

    /// Inserts the user unless one with the same openid exists. `None` means another request
    /// (possibly on another replica) created it first. A clash on any other unique column
    /// (id, users_id, token_key) is `UniqueViolation`, for the caller to retry with new ids.
    pub async fn insert_user_if_absent(
        &self,
        new: &NewUser<'_>,
    ) -> Result<Option<UserRecord>, StoreError> {
        const SQL: &str = concat!(
            "INSERT INTO tbl_auth_users \
             (id, users_id, openid, users_type, users_name, users_phone, users_picture, company_id, token_key, created, updated) \
             VALUES ($1, $2, $3, $4, '', '', '', NULL, $5, $6, $6) \
             ON CONFLICT (openid) DO NOTHING \
             RETURNING ",
            user_columns!()
        );
        let users: Vec<UserRecord> = with_pool!(self, |pool| {
            let query = sqlx::query(SQL)
                .bind(new.id)
                .bind(new.users_id)
                .bind(new.openid)
                .bind(new.users_type)
                .bind(new.token_key)
                .bind(new.now);
            decode(
                &self
                    .run_write(pool.fetch_many(query))
                    .await
                    .map_err(map_unique)?,
            )
        })?;
        Ok(users.into_iter().next())
    }

    pub async fn update_user_profile(
        &self,
        id: &str,
        update: &ProfileUpdate<'_>,
    ) -> Result<Option<UserRecord>, StoreError> {
        const SQL: &str = concat!(
            "UPDATE tbl_auth_users SET users_name = $2, users_phone = $3, users_picture = $4, \
             users_type = $5, updated = $6 WHERE id = $1 \
             RETURNING ",
            user_columns!()
        );
        let users: Vec<UserRecord> = with_pool!(self, |pool| {
            let query = sqlx::query(SQL)
                .bind(id)
                .bind(update.users_name)
                .bind(update.users_phone)
                .bind(update.users_picture)
                .bind(update.users_type)
                .bind(update.now);
            decode(&self.run_write(pool.fetch_many(query)).await?)
        })?;
        Ok(users.into_iter().next())
    }

    /// Replaces the user's token key, which revokes every token issued to them.
    pub async fn set_user_token_key(
        &self,
        id: &str,
        token_key: &str,
        now: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str =
            "UPDATE tbl_auth_users SET token_key = $2, updated = $3 WHERE id = $1 RETURNING id";
        let updated = with_pool!(self, |pool| {
            let query = sqlx::query(SQL).bind(id).bind(token_key).bind(now);
            self.run_write(pool.fetch_many(query))
                .await
                .map(|rows| rows.len())
        })
        .map_err(map_unique)?;
        Ok(updated == 1)
    }

    /// Deletes the user and leaves a tombstone with their token key. `false` if there was none.
    pub async fn delete_user(&self, id: &str, now: &str) -> Result<bool, StoreError> {
        const TOMBSTONE: &str = "INSERT INTO tbl_deleted_users (id, token_key, deleted) \
             SELECT id, token_key, $2 FROM tbl_auth_users WHERE id = $1 \
             ON CONFLICT (id) DO UPDATE SET token_key = excluded.token_key, deleted = excluded.deleted";
        const DELETE: &str = "DELETE FROM tbl_auth_users WHERE id = $1";
        let outcome = with_pool!(self, |pool| {
            let mut conn = pool.acquire().await.map_err(StoreError::Write)?;
            let mut tx = sqlx::Connection::begin(&mut *conn)
                .await
                .map_err(StoreError::Write)?;
            let statements = async {
                sqlx::query(TOMBSTONE)
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(DELETE).bind(id).execute(&mut *tx).await
            };
            match statements.await {
                Err(err) => Err(StoreError::Write(err)),
                Ok(done) => match tx.commit().await {
                    Ok(()) => Ok(done.rows_affected() == 1),
                    Err(err) => {
                        // After a failed COMMIT SQLite may or may not have rolled back, and
                        // sqlx's transaction depth may disagree: use a fresh connection.
                        conn.close_on_drop();
                        Err(StoreError::Commit(err))
                    }
                },
            }
        });
        self.health.record_write(&outcome);
        outcome
    }

    /// The token key a deleted user had, if `id` was deleted.
    pub async fn deleted_user_token_key(&self, id: &str) -> Result<Option<String>, StoreError> {
        const SQL: &str = "SELECT token_key FROM tbl_deleted_users WHERE id = $1";
        let row: Option<(String,)> = with_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|(key,)| key))
    }

    pub async fn find_company(
        &self,
        company_id: &str,
    ) -> Result<Option<CompanyRecord>, StoreError> {
        const SQL: &str = "SELECT company_id, company_name, created, updated FROM tbl_company WHERE company_id = $1";
        let company = with_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(company_id)
            .fetch_optional(pool)
            .await)?;
        Ok(company)
    }
}
