//! The target side of `import pocketbase`: what the database already holds, and writing a whole
//! import in one transaction (an interrupted import leaves the database as it was).

use super::{CompanyRecord, Db, StoreError, UserRecord, with_pool};

/// Rows per multi-row INSERT: 14 binds each stays far below both backends' bind limits.
const BATCH: usize = 500;
const AUTH_SECRET_KEY: &str = "auth_secret";

/// What the target database holds before an import.
#[derive(Debug, Default)]
pub struct ImportTarget {
    pub users: Vec<UserRecord>,
    pub companies: Vec<CompanyRecord>,
    pub auth_secret: Option<String>,
}

/// Everything one import writes.
#[derive(Debug, Default)]
pub struct ImportWrite {
    /// The auth secret to store (`None`: leave it).
    pub auth_secret: Option<String>,
    pub new_companies: Vec<CompanyRecord>,
    pub changed_companies: Vec<CompanyRecord>,
    pub new_users: Vec<UserRecord>,
    pub changed_users: Vec<UserRecord>,
    /// `(collection, id, JSON object)` rows of `pocketbase_fields`.
    pub extra_fields: Vec<(String, String, String)>,
}

impl ImportWrite {
    /// The rows `apply_import` inserts or updates (the secret aside).
    pub fn rows(&self) -> u64 {
        (self.new_companies.len()
            + self.changed_companies.len()
            + self.new_users.len()
            + self.changed_users.len()
            + self.extra_fields.len()) as u64
    }
}

impl Db {
    pub async fn import_target(&self) -> Result<ImportTarget, StoreError> {
        const USERS: &str = "SELECT id, users_id, openid, users_type, users_name, users_phone, \
             users_picture, company_id, token_key, created, updated, email, email_visibility, \
             verified FROM tbl_auth_users";
        const COMPANIES: &str =
            "SELECT company_id, company_name, created, updated FROM tbl_company";
        const SECRET: &str = "SELECT value FROM app_settings WHERE key = $1";
        let users = with_pool!(self, |pool| sqlx::query_as(USERS).fetch_all(pool).await)?;
        let companies = with_pool!(self, |pool| sqlx::query_as(COMPANIES).fetch_all(pool).await)?;
        let secret: Option<(String,)> = with_pool!(self, |pool| sqlx::query_as(SECRET)
            .bind(AUTH_SECRET_KEY)
            .fetch_optional(pool)
            .await)?;
        Ok(ImportTarget {
            users,
            companies,
            auth_secret: secret.map(|(s,)| s),
        })
    }

    /// Writes `write` in one transaction: all of it or nothing. `on_rows` hears how many rows
    /// each statement wrote (for a progress bar; they count only once the commit succeeds).
    pub async fn apply_import(
        &self,
        write: &ImportWrite,
        on_rows: &(dyn Fn(u64) + Sync),
    ) -> Result<(), StoreError> {
        const SECRET: &str = "INSERT INTO app_settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        const UPDATE_COMPANY: &str = "UPDATE tbl_company SET company_name = $2, created = $3, \
             updated = $4 WHERE company_id = $1";
        const UPDATE_USER: &str = "UPDATE tbl_auth_users SET users_id = $2, openid = $3, \
             users_type = $4, users_name = $5, users_phone = $6, users_picture = $7, \
             company_id = $8, token_key = $9, created = $10, updated = $11, email = $12, \
             email_visibility = $13, verified = $14 WHERE id = $1";
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            if let Some(secret) = &write.auth_secret {
                sqlx::query(SECRET)
                    .bind(AUTH_SECRET_KEY)
                    .bind(secret)
                    .execute(&mut *tx)
                    .await?;
            }
            for chunk in write.new_companies.chunks(BATCH) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO tbl_company (company_id, company_name, created, updated) ",
                );
                insert.push_values(chunk, |mut row, c| {
                    row.push_bind(&c.company_id)
                        .push_bind(&c.company_name)
                        .push_bind(&c.created)
                        .push_bind(&c.updated);
                });
                insert.build().execute(&mut *tx).await?;
                on_rows(chunk.len() as u64);
            }
            for c in &write.changed_companies {
                sqlx::query(UPDATE_COMPANY)
                    .bind(&c.company_id)
                    .bind(&c.company_name)
                    .bind(&c.created)
                    .bind(&c.updated)
                    .execute(&mut *tx)
                    .await?;
                on_rows(1);
            }
            for chunk in write.new_users.chunks(BATCH) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO tbl_auth_users (id, users_id, openid, users_type, users_name, \
                     users_phone, users_picture, company_id, token_key, created, updated, email, \
                     email_visibility, verified) ",
                );
                insert.push_values(chunk, |mut row, u| {
                    row.push_bind(&u.id)
                        .push_bind(&u.users_id)
                        .push_bind(&u.openid)
                        .push_bind(&u.users_type)
                        .push_bind(&u.users_name)
                        .push_bind(&u.users_phone)
                        .push_bind(&u.users_picture)
                        .push_bind(&u.company_id)
                        .push_bind(&u.token_key)
                        .push_bind(&u.created)
                        .push_bind(&u.updated)
                        .push_bind(&u.email)
                        .push_bind(u.email_visibility)
                        .push_bind(u.verified);
                });
                insert.build().execute(&mut *tx).await?;
                on_rows(chunk.len() as u64);
            }
            for u in &write.changed_users {
                sqlx::query(UPDATE_USER)
                    .bind(&u.id)
                    .bind(&u.users_id)
                    .bind(&u.openid)
                    .bind(&u.users_type)
                    .bind(&u.users_name)
                    .bind(&u.users_phone)
                    .bind(&u.users_picture)
                    .bind(&u.company_id)
                    .bind(&u.token_key)
                    .bind(&u.created)
                    .bind(&u.updated)
                    .bind(&u.email)
                    .bind(u.email_visibility)
                    .bind(u.verified)
                    .execute(&mut *tx)
                    .await?;
                on_rows(1);
            }
            for chunk in write.extra_fields.chunks(BATCH) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO pocketbase_fields (collection, id, fields) ",
                );
                insert.push_values(chunk, |mut row, (collection, id, fields)| {
                    row.push_bind(collection).push_bind(id).push_bind(fields);
                });
                insert.push(" ON CONFLICT (collection, id) DO UPDATE SET fields = excluded.fields");
                insert.build().execute(&mut *tx).await?;
                on_rows(chunk.len() as u64);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ImportWrite;
    use crate::store::{CompanyRecord, UserRecord};

    fn company() -> CompanyRecord {
        CompanyRecord {
            company_id: "C1".into(),
            company_name: String::new(),
            created: String::new(),
            updated: String::new(),
        }
    }

    fn user() -> UserRecord {
        UserRecord {
            id: "u".into(),
            users_id: String::new(),
            openid: String::new(),
            users_type: String::new(),
            users_name: String::new(),
            users_phone: String::new(),
            users_picture: String::new(),
            company_id: None,
            token_key: String::new(),
            created: String::new(),
            updated: String::new(),
            email: String::new(),
            email_visibility: false,
            verified: false,
        }
    }

    /// The progress bar's length: every row written, whatever its table.
    #[test]
    fn the_rows_to_write_count_every_table() {
        let write = ImportWrite {
            auth_secret: Some("secret".into()),
            new_companies: vec![company()],
            changed_companies: vec![company(); 2],
            new_users: vec![user(); 3],
            changed_users: vec![user(); 4],
            extra_fields: vec![(String::new(), String::new(), String::new()); 5],
        };
        assert_eq!(write.rows(), 15);
        assert_eq!(ImportWrite::default().rows(), 0);
    }
}
