//! The three contract flows (login, profile, refresh) plus the admin actions that make
//! "user gone" and "token revoked" reachable.

use sha2::{Digest, Sha256};

use super::error::WechatStep;
use super::model::{
    USERS_TYPE_GUEST, USERS_TYPE_REGISTERED, User, is_info_complete, pocketbase_now,
};
use super::sanitize::{sanitize_code, sanitize_name, sanitize_picture_url};
use super::{UserError, ids};
use crate::auth::{AuthClaims, TokenError, Tokens};
use crate::meters;
use crate::state::AppState;
use crate::store::{Claim, Db, NewUser, ProfileUpdate, StoreError, UserRecord};

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
    pub user: User,
    pub token: String,
    pub status: LoginStatus,
}

/// A request whose token verified against its user's current key.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub record: UserRecord,
    pub claims: AuthClaims,
    pub token: String,
}

#[derive(Debug, Clone)]
pub struct ProfileInput {
    pub users_name: String,
    pub users_phone_code: String,
    pub users_picture: String,
}

/// Exchanges a `wx.login` code for the user (created on first login) and a token.
pub async fn login(state: &AppState, users_wx_code: &str) -> Result<AuthOutcome, UserError> {
    let code = sanitize_code("users_wx_code", users_wx_code)?;
    // Before the claim: a flood over the ceiling must neither reach WeChat nor write a row.
    state
        .wechat
        .reserve()
        .inspect_err(|_| meters::rate_limited("wechat_ceiling"))?;
    let guard_key = guard_key("users_wx_code", &code);
    claim(state, &guard_key).await?;

    let session = match state.wechat.code2session(&code).await {
        Ok(session) => session,
        Err(source) => {
            if source.is_transient() {
                // The code was not spent at WeChat: let the user retry it straight away.
                match state.db.release_guard(&guard_key).await {
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

    let (record, status) = find_or_create(state, &session.openid).await?;
    let token = state.tokens.issue(&record.id, &record.token_key);
    let user = with_company(&state.db, record).await?;
    Ok(AuthOutcome {
        user,
        token,
        status,
    })
}

/// Verifies a bearer token: its claims say whose key to check it with, then the signature,
/// algorithm and expiry are checked against that key. A valid token of a deleted user is
/// `UserGone`; anything unverifiable is `Unauthorized`.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Authenticated, UserError> {
    let claims = Tokens::peek(token)?;
    match state.db.find_user_by_id(&claims.id).await? {
        Some(record) => {
            let claims = state.tokens.verify(token, &record.token_key)?;
            if record.openid.is_empty() {
                return Err(UserError::MissingOpenid);
            }
            Ok(Authenticated {
                record,
                claims,
                token: token.to_owned(),
            })
        }
        None => match state.db.deleted_user_token_key(&claims.id).await? {
            Some(old_key) => {
                state.tokens.verify(token, &old_key)?;
                Err(UserError::UserGone)
            }
            None => Err(UserError::Unauthorized(TokenError::Invalid)),
        },
    }
}

/// A new token for an authenticated user. Like PocketBase, a token that says it is not
/// refreshable is handed back unchanged.
pub async fn refresh(state: &AppState, auth: Authenticated) -> Result<AuthOutcome, UserError> {
    let token = if auth.claims.refreshable {
        state.tokens.issue(&auth.record.id, &auth.record.token_key)
    } else {
        auth.token
    };
    let user = with_company(&state.db, auth.record).await?;
    Ok(AuthOutcome {
        user,
        token,
        status: LoginStatus::LoggedIn,
    })
}

/// Validates the profile, exchanges the phone code at WeChat, and saves. Nothing is written
/// unless every step succeeded.
pub async fn update_profile(
    state: &AppState,
    auth: &Authenticated,
    input: &ProfileInput,
) -> Result<User, UserError> {
    let users_name = sanitize_name(&input.users_name)?;
    let users_picture = sanitize_picture_url(&input.users_picture)?;
    let phone_code = sanitize_code("users_phone_code", &input.users_phone_code)?;
    state
        .wechat
        .reserve()
        .inspect_err(|_| meters::rate_limited("wechat_ceiling"))?;

    let phone = state
        .wechat
        .phone_number(&phone_code, &auth.record.openid)
        .await
        .map_err(|source| UserError::Wechat {
            step: WechatStep::PhoneNumber,
            source,
        })?;

    let mut candidate = auth.record.clone();
    candidate.users_name = users_name;
    candidate.users_phone = phone.phone_number;
    candidate.users_picture = users_picture;
    let users_type = if is_info_complete(&candidate) {
        USERS_TYPE_REGISTERED
    } else {
        USERS_TYPE_GUEST
    };
    let update = ProfileUpdate {
        users_name: &candidate.users_name,
        users_phone: &candidate.users_phone,
        users_picture: &candidate.users_picture,
        users_type,
        now: &pocketbase_now(),
    };
    let record = state
        .db
        .update_user_profile(&auth.record.id, &update)
        .await?
        .ok_or(UserError::UserGone)?;
    with_company(&state.db, record).await
}

/// Deletes a user; their tokens then answer 404. `false` if there was no such user.
pub async fn delete_user(db: &Db, id: &str) -> Result<bool, StoreError> {
    db.delete_user(id, &pocketbase_now()).await
}

/// Gives the user a new token key, revoking every token they hold.
pub async fn rotate_token_key(db: &Db, id: &str) -> Result<bool, StoreError> {
    db.set_user_token_key(id, &ids::new_token_key(), &pocketbase_now())
        .await
}

async fn claim(state: &AppState, key: &str) -> Result<(), UserError> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let ttl_ms = state.guard_ttl.as_millis() as i64;
    match state.db.claim_guard(key, now_ms, ttl_ms).await? {
        Claim::Acquired => {
            meters::guard_claim("acquired");
            Ok(())
        }
        Claim::Held { expires_at_ms } => {
            meters::guard_claim("held");
            Err(UserError::CodeInFlight {
                retry_after_secs: retry_after_secs(expires_at_ms, now_ms, ttl_ms),
            })
        }
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

async fn find_or_create(
    state: &AppState,
    openid: &str,
) -> Result<(UserRecord, LoginStatus), UserError> {
    let db = &state.db;
    if let Some(existing) = db.find_user_by_openid(openid).await? {
        return Ok((existing, LoginStatus::LoggedIn));
    }
    for _ in 0..ID_ATTEMPTS {
        let (id, users_id, token_key, now) = (
            state.ids.record_id(),
            ids::new_users_id(),
            ids::new_token_key(),
            pocketbase_now(),
        );
        let new = NewUser {
            id: &id,
            users_id: &users_id,
            openid,
            users_type: USERS_TYPE_GUEST,
            token_key: &token_key,
            now: &now,
        };
        match db.insert_user_if_absent(&new).await {
            Ok(Some(created)) => return Ok((created, LoginStatus::Registered)),
            // A concurrent first login (on any replica) won the race: this is a login.
            Ok(None) => {
                let existing = db
                    .find_user_by_openid(openid)
                    .await?
                    .ok_or(UserError::UserGone)?;
                return Ok((existing, LoginStatus::LoggedIn));
            }
            Err(StoreError::UniqueViolation) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(StoreError::UniqueViolation.into())
}

async fn with_company(db: &Db, record: UserRecord) -> Result<User, UserError> {
    let company = match record.company_id.as_deref() {
        Some(company_id) => db.find_company(company_id).await?,
        None => None,
    };
    Ok(User { record, company })
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
