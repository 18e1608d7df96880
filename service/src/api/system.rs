//! `系统` routes: hello-world and the health check.

use std::sync::LazyLock;

use super::payload::Json;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::AppState;
use super::envelope::{error_responses, msg};
use super::types::{HealthData, HealthEnvelope, HelloWorldData, HelloWorldEnvelope};

/// When this binary was built; stamped by build.rs.
static BUILD_TIME: LazyLock<Option<DateTime<Utc>>> = LazyLock::new(|| {
    DateTime::parse_from_rfc3339(env!("BAI_BUILD_TIME"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
});

pub struct SystemApi;

error_responses! {
    pub enum SystemError {
        /// 请求超时 (the request, body included, took longer than BAI_REQUEST_TIMEOUT_MS)
        408 => RequestTimeout,
        /// 请求体过大
        413 => PayloadTooLarge,
    }
}

#[derive(Debug, ApiResponse)]
pub enum HelloWorldResponse {
    /// 成功
    #[oai(status = 200)]
    Ok(Json<HelloWorldEnvelope>),
}

#[derive(Debug, ApiResponse)]
pub enum HealthResponse {
    /// 服务正常
    #[oai(status = 200)]
    Healthy(Json<HealthEnvelope>),
    /// 数据库无法访问或无法写入
    #[oai(status = 503)]
    Unhealthy(Json<HealthEnvelope>),
}

#[OpenApi(tag = "ApiTags::System")]
impl SystemApi {
    /// HelloWorld 测试接口
    #[oai(
        path = "/api/system/test-helloworld",
        method = "post",
        operation_id = "systemHelloWorld"
    )]
    async fn hello_world(&self) -> Result<HelloWorldResponse, SystemError> {
        Ok(HelloWorldResponse::Ok(Json(HelloWorldEnvelope {
            code: 200,
            msg: msg::OK.to_owned(),
            data: HelloWorldData {
                message: "Hello, World!".to_owned(),
                timestamp: Utc::now(),
                status: "success".to_owned(),
                build_time: *BUILD_TIME,
            },
        })))
    }

    /// 健康检查
    ///
    /// Checks that the database answers a read and can take a write (a write probe shared for
    /// about a second, room to grow, no storage failure of a request write since the last
    /// success); 503 `unhealthy` otherwise.
    #[oai(
        path = "/api/system/health",
        method = "post",
        operation_id = "systemHealth"
    )]
    async fn health(&self, state: Data<&AppState>) -> Result<HealthResponse, SystemError> {
        Ok(check_health(&state).await)
    }

    /// 健康检查 (GET, for load balancers)
    #[oai(
        path = "/api/system/health",
        method = "get",
        operation_id = "systemHealthGet"
    )]
    async fn health_get(&self, state: Data<&AppState>) -> Result<HealthResponse, SystemError> {
        Ok(check_health(&state).await)
    }
}

async fn check_health(state: &AppState) -> HealthResponse {
    match state.users().check_storage().await {
        Ok(()) => HealthResponse::Healthy(Json(envelope(200, msg::OK, "healthy"))),
        Err(err) => {
            tracing::warn!(error = %err, "health check: database unavailable");
            HealthResponse::Unhealthy(Json(envelope(503, msg::UNHEALTHY, "unhealthy")))
        }
    }
}

fn envelope(code: u16, msg: &str, status: &str) -> HealthEnvelope {
    HealthEnvelope {
        code,
        msg: msg.to_owned(),
        data: HealthData {
            status: status.to_owned(),
            timestamp: Utc::now(),
        },
    }
}
