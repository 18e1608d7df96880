//! Orchestrator probes beside the contract's health route: `/livez` (the process answers) and
//! `/readyz` (this instance should get traffic: database writable, schema current, not
//! shutting down).

use chrono::Utc;
use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::AppState;
use super::envelope::msg;
use super::payload::Json;
use super::system::SystemError;
use super::types::{ProbeData, ProbeEnvelope};

pub struct ProbeApi;

#[derive(Debug, ApiResponse)]
pub enum LiveResponse {
    /// 进程存活
    #[oai(status = 200)]
    Alive(Json<ProbeEnvelope>),
}

#[derive(Debug, ApiResponse)]
pub enum ReadyResponse {
    /// 可以接收流量
    #[oai(status = 200)]
    Ready(Json<ProbeEnvelope>),
    /// 不应接收流量：数据库不可写、数据库结构版本不符，或正在停止
    #[oai(status = 503)]
    NotReady(Json<ProbeEnvelope>),
}

#[OpenApi(tag = "ApiTags::System")]
impl ProbeApi {
    /// 存活探针
    ///
    /// 200 whenever the process can answer; touches nothing else (a database outage must not
    /// get the process restarted).
    #[oai(path = "/livez", method = "get", operation_id = "systemLivez")]
    async fn livez(&self) -> Result<LiveResponse, SystemError> {
        Ok(LiveResponse::Alive(Json(envelope(200, msg::OK, "alive"))))
    }

    /// 就绪探针
    ///
    /// 200 `ready` when the database answers a read and takes a write (the health check's
    /// probe) and every migration this binary embeds is applied; 503 with `status`
    /// `draining` once a graceful shutdown began, `database_unavailable` or
    /// `schema_outdated` otherwise.
    #[oai(path = "/readyz", method = "get", operation_id = "systemReadyz")]
    async fn readyz(&self, state: Data<&AppState>) -> Result<ReadyResponse, SystemError> {
        Ok(readiness(&state).await)
    }
}

async fn readiness(state: &AppState) -> ReadyResponse {
    if state.is_draining() {
        return not_ready(msg::DRAINING, "draining");
    }
    if let Err(err) = state.users().check_storage().await {
        tracing::warn!(error = %err, "readiness: database unavailable");
        return not_ready(msg::UNHEALTHY, "database_unavailable");
    }
    match state.users().schema_current().await {
        Ok(true) => ReadyResponse::Ready(Json(envelope(200, msg::OK, "ready"))),
        Ok(false) => not_ready(msg::SCHEMA_OUTDATED, "schema_outdated"),
        Err(err) => {
            tracing::warn!(error = %err, "readiness: cannot read the migration version");
            not_ready(msg::UNHEALTHY, "database_unavailable")
        }
    }
}

fn not_ready(msg: &str, status: &str) -> ReadyResponse {
    ReadyResponse::NotReady(Json(envelope(503, msg, status)))
}

fn envelope(code: u16, msg: &str, status: &str) -> ProbeEnvelope {
    ProbeEnvelope {
        code,
        msg: msg.to_owned(),
        data: ProbeData {
            status: status.to_owned(),
            timestamp: Utc::now(),
        },
    }
}
