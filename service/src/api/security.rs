//! The `bearerAuth` scheme: a PocketBase auth token in `Authorization`.

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use super::AppState;
use super::envelope::ApiError;
use crate::users::Authenticated;

/// PocketBase auth token (`Authorization: Bearer <token>`; the prefix may be omitted).
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    bearer_format = "PocketBaseAuthToken",
    rename = "bearerAuth",
    checker = "check_token"
)]
pub struct BearerAuth(pub Authenticated);

async fn check_token(req: &Request, bearer: Bearer) -> poem::Result<Authenticated> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| ApiError::internal().into_poem_error())?;
    state
        .users()
        .authenticate(&bearer.token)
        .await
        .map_err(|err| ApiError::from(err).into_poem_error())
}
