//! The PocketBase JS SDK's own auth calls on `tbl_auth_users`, with PocketBase's rules:
//! `authRefresh()` needs a valid token of this collection; `getOne(id)` shows a user only their
//! own record and answers every other id as not found, as PocketBase does for a record its view
//! rule hides.

use crate::auth::{AUTH_COLLECTION_ID, AUTH_COLLECTION_NAME};
use crate::users::{Account, AuthOutcome, Authenticated, UserError, Users};

/// The collection, by name or by id, as PocketBase accepts either in the path.
pub fn is_users_collection(name_or_id: &str) -> bool {
    name_or_id == AUTH_COLLECTION_NAME || name_or_id == AUTH_COLLECTION_ID
}

#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error("no valid auth token of this collection")]
    Unauthorized,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Internal(UserError),
}

async fn authenticated(users: &Users, token: Option<&str>) -> Result<Authenticated, SdkError> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(SdkError::Unauthorized)?;
    users.authenticate(token).await.map_err(|err| match err {
        UserError::Store(_) => SdkError::Internal(err),
        // PocketBase ignores a token it cannot verify, and the request is then anonymous.
        _ => SdkError::Unauthorized,
    })
}

/// `POST /api/collections/tbl_auth_users/auth-refresh`.
pub async fn auth_refresh(users: &Users, token: Option<&str>) -> Result<AuthOutcome, SdkError> {
    let auth = authenticated(users, token).await?;
    users.refresh(auth).await.map_err(SdkError::Internal)
}

/// `GET /api/collections/tbl_auth_users/records/{id}`.
pub async fn view_record(
    users: &Users,
    token: Option<&str>,
    id: &str,
) -> Result<Account, SdkError> {
    let mut auth = match authenticated(users, token).await {
        Ok(auth) if auth.user.id == id => auth,
        Err(SdkError::Internal(err)) => return Err(SdkError::Internal(err)),
        _ => return Err(SdkError::NotFound),
    };
    // The refresh flow's read of the record and its company; a token marked not refreshable is
    // handed back as it is, so nothing is signed.
    auth.claims.refreshable = false;
    users
        .refresh(auth)
        .await
        .map(|outcome| outcome.account)
        .map_err(SdkError::Internal)
}
