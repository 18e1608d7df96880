//! The three contract flows (login, profile, refresh) plus the admin actions that make
//! "user gone" and "token revoked" reachable, on the [`Users`] value every caller holds.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::UserError;
use super::error::WechatStep;
use super::fields::{USERS_PHONE_CODE, USERS_WX_CODE};
use super::ids::{self, NewIds, RandomIds};
use super::model::{Account, User, UsersType, pocketbase_now};
use super::sanitize::{sanitize_code, sanitize_name, sanitize_picture_url};
use crate::auth::{AuthClaims, AuthTokens, TokenError};
use crate::meters;
use crate::store::{Db, GuardClaim, NewUser, ProfileUpdate, StoreError};
use crate::wechat::WechatClient;

/// Fresh ids are drawn again this many times when they clash with existing ones.
const ID_ATTEMPTS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStatus {
    /// This request created the user.
    Registered,
    LoggedIn,
}

#[derive(Debug, Clone)]
pub struct AuthOutcome {
    pub account: Account,
    pub token: String,
    pub status: LoginStatus,
}

/// A request whose token verified against its user's current key.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub claims: AuthClaims,
    pub token: String,
}

#[derive(Debug, Clone)]
pub struct ProfileInput {
    pub users_name: String,
    pub users_phone_code: String,
    pub users_picture: String,
}

/// The users domain with what it works on: the store, WeChat and the token issuer. Cheap to
/// clone; HTTP handlers (through the app state) and the CLI call the same methods.
#[derive(Debug, Clone)]
pub struct Users {
    store: Db,
    wechat: WechatClient,
    tokens: AuthTokens,
    /// How long a `users_wx_code` stays claimed by its first request.
    guard_ttl: Duration,
    /// Where new users' record ids come from (random, except in the tests of an id clash).
    ids: Arc<dyn NewIds>,
}

impl Users {
    pub fn new(store: Db, wechat: WechatClient, tokens: AuthTokens, guard_ttl: Duration) -> Self {
        Self {
            store,
            wechat,
            tokens,
            guard_ttl,
            ids: Arc::new(RandomIds),
        }
    }

    /// The same domain drawing new users' record ids from `ids` (tests force an id clash).
    pub fn with_ids(self, ids: Arc<dyn NewIds>) -> Self {
        Self { ids, ..self }
    }

    pub fn store(&self) -> &Db {
        &self.store
    }

    pub fn wechat(&self) -> &WechatClient {
        &self.wechat
    }

    /// The storage answers a read and takes a write (health's probe).
    pub async fn check_storage(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }

    /// Every migration this binary embeds is applied.
    pub async fn schema_current(&self) -> Result<bool, StoreError> {
        self.store.schema_current().await
    }

    /// Exchanges a `wx.login` code for the user (created on first login) and a token.
    pub async fn login(&self, users_wx_code: &str) -> Result<AuthOutcome, UserError> {
        let code = sanitize_code(USERS_WX_CODE, users_wx_code)?;
        // Before the claim: a flood over the ceiling must neither reach WeChat nor write a row.
        self.wechat
            .reserve()
            .inspect_err(|_| meters::rate_limited("wechat_ceiling"))?;
        let guard_key = guard_key(USERS_WX_CODE, &code);
        self.claim(&guard_key).await?;

        let session = match self.wechat.code2session(&code).await {
            Ok(session) => session,
            Err(source) => {
                if source.is_transient() {
                    // The code was not spent at WeChat: let the user retry it straight away.
                    match self.store.release_guard(&guard_key).await {
                        Ok(_) => meters::guard_claim("released"),
                        Err(err) => tracing::warn!(error = %err, "could not release a login guard"),
                    }
                }
                return Err(UserError::Wechat {
                    step: WechatStep::Login,
                    source,
                });
            }
        };

        let (user, status) = self.find_or_create(&session.openid).await?;
        let token = self.tokens.issue(&user.id, &user.token_key);
        let account = self.with_company(user).await?;
        Ok(AuthOutcome {
            account,
            token,
            status,
        })
    }

    /// Verifies a bearer token: its claims say whose key to check it with, then the signature,
    /// algorithm and expiry are checked against that key. A valid token of a deleted user is
    /// `UserGone`; anything unverifiable is `Unauthorized`.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, UserError> {
        let claims = AuthTokens::peek(token)?;
        match self.store.find_user_by_id(&claims.id).await? {
            Some(record) => {
                let claims = self.tokens.verify(token, &record.token_key)?;
                if record.openid.is_empty() {
                    return Err(UserError::MissingOpenid);
                }
                Ok(Authenticated {
                    user: record.into(),
                    claims,
                    token: token.to_owned(),
                })
            }
            None => match self.store.deleted_user_token_key(&claims.id).await? {
                Some(old_key) => {
                    self.tokens.verify(token, &old_key)?;
                    Err(UserError::UserGone)
                }
                None => Err(UserError::Unauthorized(TokenError::Invalid)),
            },
        }
    }

    /// A new token for an authenticated user. Like PocketBase, a token that says it is not
    /// refreshable is handed back unchanged.
    pub async fn refresh(&self, auth: Authenticated) -> Result<AuthOutcome, UserError> {
        let token = if auth.claims.refreshable {
            self.tokens.issue(&auth.user.id, &auth.user.token_key)
        } else {
            auth.token
        };
        let account = self.with_company(auth.user).await?;
        Ok(AuthOutcome {
            account,
            token,
            status: LoginStatus::LoggedIn,
        })
    }

    /// Validates the profile, exchanges the phone code at WeChat, and saves. Nothing is written
    /// unless every step succeeded.
    pub async fn update_profile(
        &self,
        auth: &Authenticated,
        input: &ProfileInput,
    ) -> Result<Account, UserError> {
        let users_name = sanitize_name(&input.users_name)?;
        let users_picture = sanitize_picture_url(&input.users_picture)?;
        let phone_code = sanitize_code(USERS_PHONE_CODE, &input.users_phone_code)?;
        self.wechat
            .reserve()
            .inspect_err(|_| meters::rate_limited("wechat_ceiling"))?;

        let phone = self
            .wechat
            .phone_number(&phone_code, &auth.user.openid)
            .await
            .map_err(|source| UserError::Wechat {
                step: WechatStep::PhoneNumber,
                source,
            })?;

        let mut candidate = auth.user.clone();
        candidate.users_name = users_name;
        candidate.users_phone = phone.phone_number;
        candidate.users_picture = users_picture;
        let users_type = if candidate.is_info_complete() {
            UsersType::Registered
        } else {
            UsersType::Guest
        };
        let update = ProfileUpdate {
            users_name: &candidate.users_name,
            users_phone: &candidate.users_phone,
            users_picture: &candidate.users_picture,
            users_type: users_type.as_str(),
            now: &pocketbase_now(),
        };
        let record = self
            .store
            .update_user_profile(&auth.user.id, &update)
            .await?
            .ok_or(UserError::UserGone)?;
        self.with_company(record.into()).await
    }

    /// Deletes a user; their tokens then answer 404. `false` if there was no such user.
    pub async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        self.store.delete_user(id, &pocketbase_now()).await
    }

    /// Gives the user a new token key, revoking every token they hold.
    pub async fn rotate_token_key(&self, id: &str) -> Result<bool, StoreError> {
        self.store
            .set_user_token_key(id, &ids::new_token_key(), &pocketbase_now())
            .await
    }

    async fn claim(&self, key: &str) -> Result<(), UserError> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let ttl_ms = self.guard_ttl.as_millis() as i64;
        match self.store.claim_guard(key, now_ms, ttl_ms).await? {
            GuardClaim::Acquired => {
                meters::guard_claim("acquired");
                Ok(())
            }
            GuardClaim::Held { expires_at_ms } => {
                meters::guard_claim("held");
                Err(UserError::CodeInFlight {
                    retry_after_secs: retry_after_secs(expires_at_ms, now_ms, ttl_ms),
                })
            }
        }
    }

    async fn find_or_create(&self, openid: &str) -> Result<(User, LoginStatus), UserError> {
        if let Some(existing) = self.store.find_user_by_openid(openid).await? {
            return Ok((existing.into(), LoginStatus::LoggedIn));
        }
        for _ in 0..ID_ATTEMPTS {
            let (id, users_id, token_key, now) = (
                self.ids.record_id(),
                ids::new_users_id(),
                ids::new_token_key(),
                pocketbase_now(),
            );
            let new = NewUser {
                id: &id,
                users_id: &users_id,
                openid,
                users_type: UsersType::Guest.as_str(),
                token_key: &token_key,
                now: &now,
            };
            match self.store.insert_user_if_absent(&new).await {
                Ok(Some(created)) => return Ok((created.into(), LoginStatus::Registered)),
                // A concurrent first login (on any replica) won the race: this is a login.
                Ok(None) => {
                    let existing = self
                        .store
                        .find_user_by_openid(openid)
                        .await?
                        .ok_or(UserError::UserGone)?;
                    return Ok((existing.into(), LoginStatus::LoggedIn));
                }
                Err(StoreError::UniqueViolation) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(StoreError::UniqueViolation.into())
    }

    async fn with_company(&self, user: User) -> Result<Account, UserError> {
        let company = match user.company_id.as_deref() {
            Some(company_id) => self.store.find_company(company_id).await?.map(Into::into),
            None => None,
        };
        Ok(Account { user, company })
    }
}

/// Whole seconds until a held claim expires: at least 1, and never more than the guard's TTL.
/// The cap matters because concurrent requests read the clock before they reach the database,
/// so the loser's `now` can be earlier than the winner's and the raw difference exceeds the TTL.
fn retry_after_secs(expires_at_ms: i64, now_ms: i64, ttl_ms: i64) -> u64 {
    let remaining_ms = (expires_at_ms - now_ms).clamp(0, ttl_ms.max(0)) as u64;
    remaining_ms.div_ceil(1000).max(1)
}

/// Codes are credentials for five minutes: only their hash is stored.
fn guard_key(kind: &str, code: &str) -> String {
    let digest = Sha256::new()
        .chain_update(kind)
        .chain_update(b":")
        .chain_update(code)
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::retry_after_secs;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(10_000, 0, 10_000), 10);
        assert_eq!(retry_after_secs(10_000, 1, 10_000), 10);
        assert_eq!(retry_after_secs(10_000, 9_001, 10_000), 1);
    }

    #[test]
    fn retry_after_never_exceeds_the_ttl_even_when_the_loser_read_the_clock_first() {
        assert_eq!(retry_after_secs(10_005, 0, 10_000), 10);
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        assert_eq!(retry_after_secs(5_000, 6_000, 10_000), 1);
        assert_eq!(retry_after_secs(5_000, 5_000, 0), 1);
    }
}
