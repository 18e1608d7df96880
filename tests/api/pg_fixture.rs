//! PostgreSQL fixtures: a schema of its own per test (cheap to create and drop) in a shared
//! `bai_e2e` database, or a whole database when a test must take it offline.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;

const TEST_DATABASE: &str = "bai_e2e";

/// The server `BAI_TEST_POSTGRES_URL` names (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
/// Unset: the Postgres variants of the tests skip.
pub fn admin_url() -> Option<String> {
    std::env::var("BAI_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

enum Created {
    Schema(String),
    Database(String),
}

thread_local! {
    /// What the test on this thread created (each test runs on a thread of its own).
    static CREATED: RefCell<Vec<Created>> = const { RefCell::new(Vec::new()) };
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Names carry the process id, so a later run can tell (and sweep) what earlier runs left.
fn unique_name(kind: &str) -> String {
    format!(
        "bai_{kind}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn url_of(database: &str) -> String {
    let admin = admin_url().expect("BAI_TEST_POSTGRES_URL is set");
    let without_query = admin.split('?').next().unwrap();
    let (server, _) = without_query
        .rsplit_once('/')
        .expect("a database URL ends in /<database>");
    format!("{server}/{database}")
}

async fn execute(url: &str, sql: String) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await?;
    conn.close().await
}

/// A database URL whose connections see only a fresh, empty schema.
pub async fn fresh_schema() -> String {
    static READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    READY
        .get_or_init(|| async {
            // "already exists" from a concurrent run is fine.
            let _ = execute(
                &admin_url().unwrap(),
                format!("CREATE DATABASE {TEST_DATABASE}"),
            )
            .await;
            sweep_stale_schemas().await;
        })
        .await;
    let schema = unique_name("schema");
    execute(&url_of(TEST_DATABASE), format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create a test schema");
    CREATED.with(|c| c.borrow_mut().push(Created::Schema(schema.clone())));
    format!(
        "{}?options=-c%20search_path%3D{schema}",
        url_of(TEST_DATABASE)
    )
}

/// A database of its own, for a test that makes it unreachable.
pub async fn fresh_database() -> String {
    let name = unique_name("db");
    execute(&admin_url().unwrap(), format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    CREATED.with(|c| c.borrow_mut().push(Created::Database(name.clone())));
    url_of(&name)
}

/// Drops what the test on this thread created. Called only after a test passed: a failed
/// test keeps its data for a look, and a later run sweeps it.
pub async fn drop_created() {
    for created in CREATED.with(|c| std::mem::take(&mut *c.borrow_mut())) {
        let result = match &created {
            Created::Schema(name) => {
                execute(
                    &url_of(TEST_DATABASE),
                    format!("DROP SCHEMA IF EXISTS {name} CASCADE"),
                )
                .await
            }
            Created::Database(name) => {
                execute(
                    &admin_url().unwrap(),
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                )
                .await
            }
        };
        if let Err(err) = result {
            eprintln!("could not drop a test schema or database: {err}");
        }
    }
}

async fn sweep_stale_schemas() {
    let Ok(mut conn) = sqlx::PgConnection::connect(&url_of(TEST_DATABASE)).await else {
        return;
    };
    let schemas: Vec<(String,)> =
        sqlx::query_as("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bai\\_schema\\_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
    // Another test process on this machine may be running right now (two worktrees, or a
    // mutation run beside a test run): its schemas are in use, and dropping them fails its tests
    // with "relation _sqlx_migrations does not exist". Only a dead process's schemas are stale.
    for (name,) in schemas
        .into_iter()
        .filter(|(name,)| !owner_is_running(name))
    {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE"
        )))
        .execute(&mut conn)
        .await;
    }
}

/// Whether the process whose id is in `bai_schema_<pid>_<n>` still runs on this machine.
fn owner_is_running(schema: &str) -> bool {
    schema
        .strip_prefix("bai_schema_")
        .and_then(|rest| rest.split('_').next())
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
}
