//! `bai-service import pocketbase`: a database in PocketBase 0.40.6's own layout (the dump of a
//! real `pocketbase migrate up`, tests/fixtures/) imported into either backend, after which
//! every token PocketBase issued still verifies and every user logs in as the same record.

use std::path::{Path, PathBuf};

use bai_service::pocketbase::{self, ImportError, ImportOptions, ImportReport};
use bai_service::store::{Db, DbOptions};
use serde_json::{Value, json};
use sqlx::Connection as _;

use crate::forge::hs256;
use crate::helpers::{BACKEND, Backend, TestApp, e2e_test, spawn_app_with};

const FIXTURE: &str = include_str!("../fixtures/pocketbase-0.40.6.sql");
pub const ALICE_ID: &str = "a1b2c3d4e5f6a7b";
const BOB_ID: &str = "b1b2c3d4e5f6a7b";
pub const ALICE_KEY: &str = "aliceTokenKeyaliceTokenKeyaliceTokenKeyaliceTokenK";
const BOB_KEY: &str = "bobTokenKeybobTokenKeybobTokenKeybobTokenKeybobTok";

/// A PocketBase data directory with alice (complete profile, in company C001), bob (a guest)
/// and a record without an openid; returns it and the collection's token secret.
pub async fn pocketbase_dir(dir: &Path) -> (PathBuf, String) {
    let data = dir.join("pb_data");
    std::fs::create_dir_all(&data).unwrap();
    let alice = wechat_sim::openid(wechat_sim::DEFAULT_APPID, "alice");
    let bob = wechat_sim::openid(wechat_sim::DEFAULT_APPID, "bob");
    let rows = format!(
        "INSERT INTO tbl_company (id, company_id, company_name, created, updated) VALUES \
           ('c0mpanyc0mpany1', 'C001', 'ACME 公司', '2025-01-01 08:00:00.000Z', '2025-01-01 08:00:00.000Z');
         INSERT INTO tbl_auth_users (id, tokenKey, email, password, openid, users_id, users_type, users_name, users_phone, users_picture, company_id, created, updated) VALUES \
           ('{ALICE_ID}', '{ALICE_KEY}', '', '$2a$10$hash', '{alice}', 'U100001', '注册用户', '爱丽丝', '13800138000', 'https://img.example/a.png', 'C001', '2025-01-02 08:00:00.000Z', '2025-01-03 08:00:00.000Z'),
           ('{BOB_ID}', '{BOB_KEY}', '', '$2a$10$hash', '{bob}', 'U100002', '游客', '', '', '', '', '2025-01-02 09:00:00.000Z', '2025-01-02 09:00:00.000Z'),
           ('n0openidn0openi', 'noOpenidKeynoOpenidKeynoOpenidKeynoOpenidKeynoOpe', '', '$2a$10$hash', '', 'U100003', '游客', '', '', '', '', '2025-01-02 10:00:00.000Z', '2025-01-02 10:00:00.000Z');"
    );
    sql_on_source(&data, &format!("{FIXTURE}\n{rows}")).await;
    let (secret,): (String,) = sqlite(&data)
        .await
        .pipe_query("SELECT json_extract(options, '$.authToken.secret') FROM _collections WHERE name = 'tbl_auth_users'")
        .await;
    (data, secret)
}

/// Runs `sql` (any number of statements) on `data_dir/data.db`, creating it.
pub async fn sql_on_source(data_dir: &Path, sql: &str) {
    let mut conn = sqlite(data_dir).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap();
}

async fn sqlite(data_dir: &Path) -> sqlx::SqliteConnection {
    let url = format!("sqlite://{}/data.db?mode=rwc", data_dir.display());
    sqlx::SqliteConnection::connect(&url).await.unwrap()
}

trait PipeQuery {
    async fn pipe_query(self, sql: &'static str) -> (String,);
}

impl PipeQuery for sqlx::SqliteConnection {
    async fn pipe_query(mut self, sql: &'static str) -> (String,) {
        sqlx::query_as(sql).fetch_one(&mut self).await.unwrap()
    }
}

/// A fresh, migrated, empty target on the current backend.
async fn target(dir: &Path) -> (String, Db) {
    let url = match BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite) {
        Backend::Sqlite => format!("sqlite://{}/bai.db", dir.display()),
        Backend::Postgres => crate::pg_fixture::fresh_schema().await,
    };
    let db = Db::connect(&DbOptions {
        url: url.clone(),
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
        busy_timeout: std::time::Duration::from_secs(5),
        sqlite_sync_commits: true,
    })
    .await
    .unwrap();
    (url, db)
}

async fn run_import(
    db: &Db,
    source: &Path,
    customize: impl FnOnce(&mut ImportOptions),
) -> Result<ImportReport, ImportError> {
    let mut options = ImportOptions {
        token_ttl_secs: 432_000,
        ..ImportOptions::default()
    };
    customize(&mut options);
    let source = pocketbase::load(source).await?;
    pocketbase::import(db, &source, &options, &pocketbase::Silent).await
}

/// A token exactly as PocketBase signs it: key = the record's tokenKey + the collection secret.
pub fn pocketbase_token(id: &str, token_key: &str, secret: &str) -> String {
    let exp = chrono::Utc::now().timestamp() + 3600;
    let claims = json!({ "collectionId": "pbc_421601843", "exp": exp, "id": id, "refreshable": true, "type": "auth" });
    hs256(&claims, &format!("{token_key}{secret}"))
}

/// The app on a fresh target into which `source` was imported.
pub async fn imported_app(dir: &Path, source: &Path) -> TestApp {
    let (url, db) = target(dir).await;
    run_import(&db, source, |_| {}).await.unwrap();
    db.close().await;
    app_on(url).await
}

async fn app_on(url: String) -> TestApp {
    spawn_app_with(move |s| s.database_url = url).await
}

async fn counts(app_or_url: &TestApp) -> [i64; 4] {
    let mut out = [0; 4];
    for (i, table) in [
        "tbl_auth_users",
        "tbl_company",
        "app_settings",
        "pocketbase_fields",
    ]
    .into_iter()
    .enumerate()
    {
        out[i] = app_or_url
            .count_sql(&format!("SELECT COUNT(*) FROM {table}"))
            .await;
    }
    out
}

e2e_test! {
    async fn pocketbase_tokens_verify_after_the_import_and_logins_keep_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let (source, secret) = pocketbase_dir(dir.path()).await;
        let (url, db) = target(dir.path()).await;
        let report = run_import(&db, &source, |_| {}).await.unwrap();
        assert_eq!((report.users.new, report.companies.new, report.skipped.len()), (2, 1, 1));
        assert_eq!(report.skipped[0].reason, "missing openid");
        db.close().await;
        let app = app_on(url).await;

        for (id, key) in [(ALICE_ID, ALICE_KEY), (BOB_ID, BOB_KEY)] {
            let token = pocketbase_token(id, key, &secret);
            let response = app.refresh(Some(&format!("Bearer {token}"))).await;
            assert_eq!(response.status(), 200, "the PocketBase token of {id}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["record"]["id"], id);
        }
        let forged = pocketbase_token(ALICE_ID, BOB_KEY, &secret);
        assert_eq!(app.refresh(Some(&format!("Bearer {forged}"))).await.status(), 401);

        let login = app.login_as("alice").await;
        let data = &login["meta"]["data"];
        assert_eq!(data["status"], "login_success");
        let user = &data["user"];
        assert_eq!(
            [&user["pb_id"], &user["users_id"], &user["users_name"], &user["users_phone"], &user["users_picture"], &user["users_type"], &user["company_id"], &user["created"]],
            [ALICE_ID, "U100001", "爱丽丝", "13800138000", "https://img.example/a.png", "注册用户", "C001", "2025-01-02 08:00:00.000Z"]
        );
        assert_eq!(user["company"]["company_name"], "ACME 公司");
        let kept = app
            .count_sql(&format!("SELECT COUNT(*) FROM pocketbase_fields WHERE id = '{ALICE_ID}' AND fields LIKE '%\"password\":\"$2a$10$hash\"%'"))
            .await;
        assert_eq!(kept, 1, "fields with no column here are kept");
    }
}

e2e_test! {
    async fn a_dry_run_writes_nothing_and_a_second_run_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let (source, _) = pocketbase_dir(dir.path()).await;
        let (url, db) = target(dir.path()).await;
        let dry = run_import(&db, &source, |o| o.dry_run = true).await.unwrap();
        assert_eq!((dry.users.new, dry.companies.new), (2, 1));
        assert!(dry.to_string().contains("dry run: nothing written"), "{dry}");
        let untouched = Db::import_target(&db).await.unwrap();
        assert!(untouched.users.is_empty() && untouched.companies.is_empty() && untouched.auth_secret.is_none());

        run_import(&db, &source, |_| {}).await.unwrap();
        let again = run_import(&db, &source, |_| {}).await.unwrap();
        assert!(again.nothing_to_do, "{again}");
        assert_eq!((again.users.unchanged, again.users.new, again.companies.unchanged), (2, 0, 1));
        db.close().await;
        let app = app_on(url).await;
        assert_eq!(counts(&app).await, [2, 1, 1, 3]);
    }
}

e2e_test! {
    async fn a_target_with_users_needs_merge_which_keeps_newer_rows_and_reports_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let (source, _) = pocketbase_dir(dir.path()).await;
        let (url, db) = target(dir.path()).await;
        run_import(&db, &source, |_| {}).await.unwrap();
        db.close().await;
        let app = app_on(url).await;
        // Here: alice edits her profile after the switch; zed registers.
        app.execute_sql(&format!("UPDATE tbl_auth_users SET users_name = '新名字', updated = '2030-01-01 00:00:00.000Z' WHERE id = '{ALICE_ID}'")).await;
        let zed = app.login_as("zed").await["meta"]["data"]["user"]["pb_id"].as_str().unwrap().to_owned();
        let zed_openid = wechat_sim::openid(wechat_sim::DEFAULT_APPID, "zed");
        // Meanwhile in PocketBase: alice and bob change (alice's edit is older), carol registers,
        // and zed registers there too under another record id.
        sql_on_source(&source, &format!(
            "UPDATE tbl_auth_users SET users_name = '旧名字', updated = '2026-01-01 00:00:00.000Z' WHERE id = '{ALICE_ID}';
             UPDATE tbl_auth_users SET users_name = '鲍勃', updated = '2026-01-01 00:00:00.000Z' WHERE id = '{BOB_ID}';
             INSERT INTO tbl_auth_users (id, tokenKey, openid, users_id, users_type, created, updated) VALUES
               ('c4r0lc4r0lc4r0l', 'carolKeycarolKeycarolKeycarolKeycarolKeycarolKeyca', 'o-carol', 'U100004', '游客', '2026-01-01 00:00:00.000Z', '2026-01-01 00:00:00.000Z'),
               ('z3dz3dz3dz3dz3d', 'zedKeyzedKeyzedKeyzedKeyzedKeyzedKeyzedKeyzedKeyze', '{zed_openid}', 'U100005', '游客', '2026-01-01 00:00:00.000Z', '2026-01-01 00:00:00.000Z');"
        )).await;
        let db = app.db().clone();
        let before = counts(&app).await;

        let refused = run_import(&db, &source, |_| {}).await.unwrap_err();
        assert!(matches!(&refused, ImportError::Refused(why) if why.contains("--merge")), "{refused}");
        assert_eq!(counts(&app).await, before, "a refusal writes nothing");

        let report = run_import(&db, &source, |o| o.merge = true).await.unwrap();
        assert_eq!((report.users.new, report.users.changed, report.users.kept), (1, 1, 1), "{report}");
        assert_eq!(report.conflicts.len(), 1, "{report}");
        let conflict = &report.conflicts[0];
        assert_eq!((conflict.field, conflict.value.as_str(), conflict.source_id.as_str(), conflict.target_id.as_str()),
            ("openid", zed_openid.as_str(), "z3dz3dz3dz3dz3d", zed.as_str()));
        assert!(report.to_string().contains(&format!("record {zed} here")), "{report}");
        let named = app
            .count_sql(&format!("SELECT COUNT(*) FROM tbl_auth_users WHERE (id = '{ALICE_ID}' AND users_name = '新名字') OR (id = '{BOB_ID}' AND users_name = '鲍勃')"))
            .await;
        assert_eq!(named, 2, "alice's newer edit kept, bob's taken");
        assert_eq!(app.count_sql("SELECT COUNT(*) FROM tbl_auth_users").await, 4);
    }
}

e2e_test! {
    async fn an_interrupted_import_leaves_the_target_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let (source, _) = pocketbase_dir(dir.path()).await;
        let (url, db) = target(dir.path()).await;
        let app = app_on(url.clone()).await;
        // The second user's insert fails, after the secret, the company and the first user.
        let trigger = if bai_service::store::is_postgres_url(&url) {
            format!("CREATE FUNCTION fail_bob() RETURNS trigger AS $$ BEGIN IF NEW.id = '{BOB_ID}' THEN RAISE EXCEPTION 'interrupted'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
                     CREATE TRIGGER fail_bob BEFORE INSERT ON tbl_auth_users FOR EACH ROW EXECUTE FUNCTION fail_bob();")
        } else {
            format!("CREATE TRIGGER fail_bob BEFORE INSERT ON tbl_auth_users WHEN NEW.id = '{BOB_ID}' BEGIN SELECT RAISE(ABORT, 'interrupted'); END;")
        };
        exec_raw(&url, &trigger).await;
        let before = Db::import_target(&db).await.unwrap().auth_secret;
        let err = run_import(&db, &source, |_| {}).await.unwrap_err();
        assert!(matches!(err, ImportError::Store(_)), "{err}");
        assert_eq!(counts(&app).await, [0, 0, 1, 0], "only the secret the app generated at start");
        assert_eq!(Db::import_target(&db).await.unwrap().auth_secret, before);
    }
}

e2e_test! {
    async fn a_different_bai_auth_secret_is_refused_naming_what_to_set() {
        let dir = tempfile::tempdir().unwrap();
        let (source, secret) = pocketbase_dir(dir.path()).await;
        let (_, db) = target(dir.path()).await;
        let err = run_import(&db, &source, |o| o.configured_secret = Some("x".repeat(40))).await.unwrap_err();
        let ImportError::Refused(why) = err else { panic!("{err}") };
        assert!(why.starts_with("BAI_AUTH_SECRET differs from PocketBase's tbl_auth_users authToken.secret"), "{why}");
        assert!(!why.contains(&secret), "the secret itself is never printed");
        assert!(Db::import_target(&db).await.unwrap().users.is_empty());
        let same = run_import(&db, &source, |o| o.configured_secret = Some(secret.clone())).await.unwrap();
        assert_eq!(same.users.new, 2);
    }
}

async fn exec_raw(url: &str, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if bai_service::store::is_postgres_url(url) {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    }
}

e2e_test! {
    async fn a_target_whose_users_hold_tokens_of_another_secret_is_refused_even_with_merge() {
        let dir = tempfile::tempdir().unwrap();
        let (source, _) = pocketbase_dir(dir.path()).await;
        let (url, db) = target(dir.path()).await;
        let app = app_on(url).await;
        let token = app.token_for("zed").await;
        for merge in [false, true] {
            let err = run_import(&db, &source, |o| o.merge = merge).await.unwrap_err();
            let ImportError::Refused(why) = err else { panic!("{err}") };
            assert!(why.starts_with("the target database's auth secret differs from PocketBase's and its 1 users"), "{why}");
        }
        let dry = run_import(&db, &source, |o| o.dry_run = true).await.unwrap();
        assert!(dry.to_string().contains("would refuse: the target database's auth secret differs"), "{dry}");
        assert_eq!(app.refresh(Some(&format!("Bearer {token}"))).await.status(), 200, "zed's token still verifies");
        assert_eq!(app.count_sql("SELECT COUNT(*) FROM tbl_auth_users").await, 1);
    }
}

/// A source from an older schema, without the optional `users_picture` and `emailVisibility`
/// columns: they import as empty, and the rest as it was.
#[tokio::test]
async fn a_source_without_an_optional_column_imports_it_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _) = pocketbase_dir(dir.path()).await;
    sql_on_source(
        &source,
        "ALTER TABLE tbl_auth_users DROP COLUMN users_picture; \
         ALTER TABLE tbl_auth_users DROP COLUMN emailVisibility;",
    )
    .await;
    let (_, db) = target(dir.path()).await;
    let report = run_import(&db, &source, |_| {}).await.unwrap();
    assert_eq!(report.users.new, 2);
    let alice = db.find_user_by_id(ALICE_ID).await.unwrap().unwrap();
    assert_eq!(
        (alice.users_name.as_str(), alice.users_picture.as_str()),
        ("爱丽丝", "")
    );
    assert!(!alice.email_visibility);
}

/// Without a column this service cannot do without, nothing is imported and the message names it.
#[tokio::test]
async fn a_source_without_a_required_column_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _) = pocketbase_dir(dir.path()).await;
    sql_on_source(
        &source,
        "DROP INDEX idx_tbl_auth_users_openid; ALTER TABLE tbl_auth_users DROP COLUMN openid;",
    )
    .await;
    let (_, db) = target(dir.path()).await;
    let err = run_import(&db, &source, |_| {}).await.unwrap_err();
    assert!(err.to_string().contains("no 'openid' column"), "{err}");
    assert_eq!(db.import_target().await.unwrap().users.len(), 0);
}
