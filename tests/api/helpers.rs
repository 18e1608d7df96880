//! The harness: a `TestApp` runs the real service on a random port with a fresh database and
//! an in-process wechat-sim, and tests talk HTTP to it.

use std::sync::{Arc, LazyLock};

use bai_service::api::AppState;
use bai_service::config::{Secret, Settings};
use bai_service::store::Db;
use bai_service::users::{NewIds, RandomIds};
use bai_service::{Application, telemetry};
use serde_json::{Value, json};
use wechat_sim::Simulator;

/// Where a test's data lives. `e2e_test!` runs each test once per backend; a plain
/// `#[tokio::test]` runs on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

tokio::task_local! {
    pub static BACKEND: Backend;
}

pub use crate::pg_fixture::admin_url as postgres_admin_url;

fn current_backend() -> Backend {
    BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite)
}

/// Declares an end-to-end test that runs on SQLite and, when `BAI_TEST_POSTGRES_URL` is set,
/// on PostgreSQL too (`<name>::sqlite`, `<name>::postgres`). Both share one insta snapshot.
/// Without the variable the PostgreSQL variant is ignored, so the summary counts it as not run.
macro_rules! e2e_test {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        $(#[$meta])*
        async fn $name() $body

        mod $name {
            #[test]
            fn sqlite() {
                $crate::helpers::run_on($crate::helpers::Backend::Sqlite, super::$name());
            }

            #[test]
            #[cfg_attr(not(bai_test_postgres), ignore = "BAI_TEST_POSTGRES_URL is not set")]
            fn postgres() {
                $crate::helpers::run_on($crate::helpers::Backend::Postgres, super::$name());
            }
        }
    };
}
pub(crate) use e2e_test;

/// Runs a test body on `backend`, as `#[tokio::test]` would (a current-thread runtime).
/// Both backends assert against the same snapshot file, hence `allow_duplicates`.
pub fn run_on(backend: Backend, body: impl std::future::Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    insta::allow_duplicates! {
        runtime.block_on(BACKEND.scope(backend, body))
    }
    runtime.block_on(crate::pg_fixture::drop_created());
}

static TRACING: LazyLock<()> = LazyLock::new(|| {
    // Quiet unless asked: `TEST_LOG=1 cargo test`.
    if std::env::var_os("TEST_LOG").is_some() {
        telemetry::init(bai_service::config::LogFormat::Pretty);
    }
});

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub sim: Arc<Simulator>,
    pub state: AppState,
    pub backend: Backend,
    /// What the app was started with, so that a replica can be started on the same data.
    pub settings: Settings,
    /// `http://host:port` of the metrics listener, when `metrics_addr` was set.
    pub metrics_address: Option<String>,
    stop: Arc<tokio::sync::Notify>,
    _data_dir: Arc<tempfile::TempDir>,
}

/// A running app with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A running app on the current backend with a fresh database and its own simulator;
/// `customize` may change any setting (the WeChat ones point at the simulator).
pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with_ids(customize, Arc::new(RandomIds)).await
}

/// `spawn_app_with`, new users' record ids drawn from `ids` (to force an id clash).
pub async fn spawn_app_with_ids(
    customize: impl FnOnce(&mut Settings),
    ids: Arc<dyn NewIds>,
) -> TestApp {
    LazyLock::force(&TRACING);
    let backend = current_backend();
    let sim = Arc::new(Simulator::start().await);
    let data_dir = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let mut settings = test_settings(&sim, &data_dir).await;
    customize(&mut settings);
    start(settings, sim, data_dir, backend, ids).await
}

/// The settings of a test app on the current backend: a fresh database (in `data_dir` on
/// SQLite), WeChat at `sim`, a random port.
pub async fn test_settings(sim: &Simulator, data_dir: &tempfile::TempDir) -> Settings {
    let mut settings = Settings::defaults();
    settings.addr = "127.0.0.1:0".into();
    settings.database_url = match current_backend() {
        Backend::Sqlite => format!("sqlite://{}/bai.db", data_dir.path().display()),
        Backend::Postgres => crate::pg_fixture::fresh_schema().await,
    };
    settings.wechat_api_base = Some(sim.base_url());
    settings.wechat_appid = Some(sim.appid().to_owned());
    settings.wechat_secret = Some(Secret::from(sim.secret()));
    settings.wechat_timeout_ms = 2_000;
    settings
}

async fn start(
    settings: Settings,
    sim: Arc<Simulator>,
    data_dir: Arc<tempfile::TempDir>,
    backend: Backend,
    ids: Arc<dyn NewIds>,
) -> TestApp {
    let app = Application::build_with_ids(settings.clone(), ids)
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let metrics_address = app.metrics_addr().map(|addr| format!("http://{addr}"));
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopped = stop.clone();
    tokio::spawn(app.run_until(async move { stopped.notified().await }));
    TestApp {
        address,
        client: reqwest::Client::builder().build().unwrap(),
        sim,
        state,
        backend,
        settings,
        metrics_address,
        stop,
        _data_dir: data_dir,
    }
}

impl TestApp {
    /// Another instance of the service on the same database and the same simulator: a replica.
    pub async fn replica(&self) -> TestApp {
        start(
            self.settings.clone(),
            self.sim.clone(),
            self._data_dir.clone(),
            self.backend,
            Arc::new(RandomIds),
        )
        .await
    }

    /// Begins a graceful shutdown, as SIGTERM does.
    pub fn shut_down(&self) {
        self.stop.notify_one();
    }

    pub fn db(&self) -> &Db {
        self.state.users().store()
    }

    pub fn users(&self) -> &bai_service::users::Users {
        self.state.users()
    }

    /// Runs `sql` on the app's database over a connection of the test's own, to set up states
    /// the API cannot reach (a record without an openid, an expired guard claim).
    pub async fn execute_sql(&self, sql: &str) -> u64 {
        use sqlx::Connection as _;
        let url = &self.settings.database_url;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let result = if bai_service::store::is_postgres_url(url) {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(sql)
                .execute(&mut conn)
                .await
                .map(|r| r.rows_affected())
        } else {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sql)
                .execute(&mut conn)
                .await
                .map(|r| r.rows_affected())
        };
        result.unwrap_or_else(|err| panic!("{err}"))
    }

    /// The single number `sql` selects, read like `execute_sql` writes.
    pub async fn count_sql(&self, sql: &str) -> i64 {
        use sqlx::Connection as _;
        let url = &self.settings.database_url;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let (n,): (i64,) = if bai_service::store::is_postgres_url(url) {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_as(sql).fetch_one(&mut conn).await.unwrap()
        } else {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_as(sql).fetch_one(&mut conn).await.unwrap()
        };
        n
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A POST without a body.
    pub async fn post(&self, path: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// The stored record of the simulator's user `user`, if the service has one.
    pub async fn stored_user(&self, user: &str) -> Option<bai_service::store::UserRecord> {
        self.db()
            .find_user_by_openid(&self.sim.openid_for(user))
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_json_with_token(
        &self,
        path: &str,
        token: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("Authorization", format!("Bearer {token}"))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn login(&self, code: &str) -> reqwest::Response {
        self.post_json("/api/wechat/login", &json!({ "users_wx_code": code }))
            .await
    }

    /// Logs `user` in through a freshly minted code; returns the whole auth response.
    pub async fn login_as(&self, user: &str) -> Value {
        let code = self.sim.login_code(user).await.code;
        let response = self.login(&code).await;
        assert_eq!(response.status(), 200, "login of {user} failed");
        response.json().await.unwrap()
    }

    pub async fn token_for(&self, user: &str) -> String {
        self.login_as(user).await["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn refresh(&self, authorization: Option<&str>) -> reqwest::Response {
        let mut request = self.client.post(self.url("/api/wechat/refresh-token"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        request.send().await.expect("request sent")
    }

    pub async fn profile(&self, token: &str, body: &Value) -> reqwest::Response {
        self.post_json_with_token("/api/wechat/profile", token, body)
            .await
    }

    /// A complete, valid profile body with a phone code minted for `user`.
    pub async fn profile_body(&self, user: &str, phone: &str) -> Value {
        let phone_code = self.sim.phone_code(user, phone).await;
        json!({
            "users_name": "张三",
            "users_phone_code": phone_code,
            "users_picture": "https://example.com/avatar.png",
        })
    }
}

/// Status, the headers a client acts on, and the body, ready for `assert_response_snapshot!`
/// (which redacts the volatile values).
pub async fn snapshot(response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is not JSON: {text}"));
    let mut picked = serde_json::Map::new();
    for name in ["content-type", "retry-after", "allow"] {
        if let Some(value) = headers.get(name) {
            picked.insert(name.to_owned(), json!(value.to_str().unwrap()));
        }
    }
    assert!(
        headers.contains_key("x-request-id"),
        "every response carries x-request-id"
    );
    json!({ "status": status, "headers": picked, "body": body })
}

/// `insta::assert_json_snapshot!` (same arguments) of a `snapshot()` value under `redactions()`.
macro_rules! assert_response_snapshot {
    ($($arg:tt)*) => {{
        let _redacted = $crate::helpers::redactions().bind_to_scope();
        insta::assert_json_snapshot!($($arg)*);
    }};
}
pub(crate) use assert_response_snapshot;

/// The body's volatile values, at any depth, replaced by placeholders. Each value's shape is
/// checked first, so a snapshot cannot hide a malformed id or timestamp.
pub fn redactions() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    let jwt = |t: &str| t.split('.').count() == 3;
    redact(&mut settings, "token", "[token]", "a JWT", jwt);
    let rfc3339 = |t: &str| chrono::DateTime::parse_from_rfc3339(t).is_ok();
    for key in ["timestamp", "build_time"] {
        redact(&mut settings, key, "[rfc3339]", "RFC 3339", rfc3339);
    }
    let pb_datetime = |t: &str| {
        chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.3fZ").is_ok() && t.len() == 24
    };
    for key in ["created", "updated"] {
        redact(
            &mut settings,
            key,
            "[pb-datetime]",
            "PocketBase datetime",
            pb_datetime,
        );
    }
    let record_id = |id: &str| {
        id.len() == 15
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    for key in ["pb_id", "id"] {
        redact(&mut settings, key, "[record-id]", "record id", record_id);
    }
    let users_id = |id: &str| id.len() == 15 && id.starts_with('U');
    redact(
        &mut settings,
        "users_id",
        "[users-id]",
        "users_id",
        users_id,
    );
    settings
}

/// Redacts every string under `key` in the body to `placeholder` once `valid` accepts it;
/// other values under `key` (none in today's answers) are kept.
fn redact(
    settings: &mut insta::Settings,
    key: &str,
    placeholder: &'static str,
    shape: &'static str,
    valid: fn(&str) -> bool,
) {
    settings.add_dynamic_redaction(&format!(".body.**.{key}"), move |value, path| {
        let Some(text) = value.as_str() else {
            return value;
        };
        assert!(valid(text), "{shape} at {path}: {text}");
        placeholder.into()
    });
}
