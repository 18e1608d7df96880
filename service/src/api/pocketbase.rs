//! `PocketBase SDK` routes: what `pb.collection('tbl_auth_users').authRefresh()` and `.getOne(id)`
//! call, with PocketBase's shapes, including its error body `{status, message, data}` (the SDK
//! reads `message`), not this API's envelope.

use poem::Request;
use poem::http::header::AUTHORIZATION;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{Object, OpenApi};

use super::ApiTags;
use super::AppState;
use super::envelope::ErrorBody;
use super::payload::Json;
use super::types::AuthRecord;
use crate::pocketbase::sdk::{self, SdkError};

pub struct PocketBaseApi;

/// PocketBase's error body.
#[derive(Debug, Clone, Object)]
pub struct PocketBaseError {
    /// The HTTP status.
    pub status: u16,
    pub message: String,
    /// Per-field details; always empty on these routes.
    pub data: std::collections::BTreeMap<String, serde_json::Value>,
}

/// `{token, record}`, as PocketBase's auth endpoints answer.
#[derive(Debug, Clone, Object)]
pub struct PocketBaseAuth {
    pub token: String,
    pub record: AuthRecord,
}

// One value per request, moved once into the response: boxing the record would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, poem_openapi::ApiResponse)]
pub enum AuthRefreshResponse {
    /// A new token (the same one when it is not refreshable) and the record
    #[oai(status = 200)]
    Ok(Json<PocketBaseAuth>),
    /// No valid token of this collection
    #[oai(status = 401)]
    Unauthorized(Json<PocketBaseError>),
    /// No such collection
    #[oai(status = 404)]
    NotFound(Json<PocketBaseError>),
    /// 请求超时: the request took longer than BAI_REQUEST_TIMEOUT_MS (this API's envelope,
    /// answered by the request edge)
    #[oai(status = 408)]
    RequestTimeout(Json<ErrorBody>),
    /// 请求体过大 (this API's envelope, answered by the request edge)
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Internal error
    #[oai(status = 500)]
    Internal(Json<PocketBaseError>),
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, poem_openapi::ApiResponse)]
pub enum ViewResponse {
    /// The record of the token's own user
    #[oai(status = 200)]
    Ok(Json<AuthRecord>),
    /// Any other record, or no valid token (the view rule hides it)
    #[oai(status = 404)]
    NotFound(Json<PocketBaseError>),
    /// 请求超时: the request took longer than BAI_REQUEST_TIMEOUT_MS (this API's envelope,
    /// answered by the request edge)
    #[oai(status = 408)]
    RequestTimeout(Json<ErrorBody>),
    /// 请求体过大 (this API's envelope, answered by the request edge)
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Internal error
    #[oai(status = 500)]
    Internal(Json<PocketBaseError>),
}

fn error(status: u16, message: &str) -> Json<PocketBaseError> {
    Json(PocketBaseError {
        status,
        message: message.to_owned(),
        data: std::collections::BTreeMap::new(),
    })
}

const MISSING_COLLECTION: &str = "Missing collection context.";
const NOT_FOUND: &str = "The requested resource wasn't found.";
const INTERNAL: &str = "Something went wrong while processing your request.";

/// The token, with or without the `Bearer ` prefix (the edge normalises it to `Bearer <t>`).
fn token(req: &Request) -> Option<&str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    Some(value.strip_prefix("Bearer ").unwrap_or(value).trim())
}

fn internal(err: &SdkError) -> Json<PocketBaseError> {
    tracing::error!(error = %err, "PocketBase SDK route failed");
    error(500, INTERNAL)
}

#[OpenApi(tag = "ApiTags::PocketBase")]
impl PocketBaseApi {
    /// authRefresh()：刷新 PocketBase 原生 token
    ///
    /// `Authorization: <token>` (with or without `Bearer `). `collection` is `tbl_auth_users` or
    /// its id `pbc_421601843`. PocketBase's response and error shapes.
    #[oai(
        path = "/api/collections/:collection/auth-refresh",
        method = "post",
        operation_id = "pocketbaseAuthRefresh"
    )]
    async fn auth_refresh(
        &self,
        state: Data<&AppState>,
        req: &Request,
        collection: Path<String>,
    ) -> AuthRefreshResponse {
        if !sdk::is_users_collection(&collection.0) {
            return AuthRefreshResponse::NotFound(error(404, MISSING_COLLECTION));
        }
        match sdk::auth_refresh(state.users(), token(req)).await {
            Ok(outcome) => AuthRefreshResponse::Ok(Json(PocketBaseAuth {
                token: outcome.token,
                record: AuthRecord::of(outcome.account),
            })),
            Err(SdkError::Unauthorized | SdkError::NotFound) => {
                AuthRefreshResponse::Unauthorized(error(
                    401,
                    "The request requires valid record authorization token.",
                ))
            }
            Err(err) => AuthRefreshResponse::Internal(internal(&err)),
        }
    }

    /// getOne(id)：读取自己的 auth record
    ///
    /// Only the token's own record; any other id answers 404, as PocketBase does for a record
    /// its view rule hides.
    #[oai(
        path = "/api/collections/:collection/records/:id",
        method = "get",
        operation_id = "pocketbaseViewRecord"
    )]
    async fn view(
        &self,
        state: Data<&AppState>,
        req: &Request,
        collection: Path<String>,
        id: Path<String>,
    ) -> ViewResponse {
        if !sdk::is_users_collection(&collection.0) {
            return ViewResponse::NotFound(error(404, MISSING_COLLECTION));
        }
        match sdk::view_record(state.users(), token(req), &id.0).await {
            Ok(account) => ViewResponse::Ok(Json(AuthRecord::of(account))),
            Err(SdkError::Internal(err)) => {
                ViewResponse::Internal(internal(&SdkError::Internal(err)))
            }
            Err(_) => ViewResponse::NotFound(error(404, NOT_FOUND)),
        }
    }
}
