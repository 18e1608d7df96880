//! Storage faults injected into a running test app, through a connection of the test's own
//! (SQL here is test fixture, not service code).
//!
//! - "Disk full": on SQLite the app's only pooled connection is capped at the file's current
//!   size (`PRAGMA max_page_count`) and the test fills the table's pages to the brim with rows
//!   smaller than any the service writes, so each of its inserts and growing updates needs a
//!   page it cannot have (`SQLITE_FULL`). On PostgreSQL a trigger raises `disk_full` (53100),
//!   as PostgreSQL does when it cannot extend a file.
//! - "Commit fails": the statement succeeds and the commit fails. SQLite: a deferred foreign
//!   key that a trigger violates (checked at COMMIT). PostgreSQL: a `DEFERRABLE INITIALLY
//!   DEFERRED` constraint trigger that raises.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};

use crate::helpers::{Backend, TestApp};

/// A connection to the app's database, beside the app's pool.
pub enum Side {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Side {
    pub async fn open(app: &TestApp) -> Side {
        let url = &app.settings.database_url;
        match app.backend {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .unwrap()
                    .busy_timeout(Duration::from_secs(10));
                Side::Sqlite(SqliteConnection::connect_with(&options).await.unwrap())
            }
            Backend::Postgres => Side::Postgres(PgConnection::connect(url).await.unwrap()),
        }
    }

    pub async fn run(&mut self, sql: &str) {
        let result = match self {
            Side::Sqlite(conn) => sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                .execute(conn)
                .await
                .map(drop),
            Side::Postgres(conn) => sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                .execute(conn)
                .await
                .map(drop),
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Which table the "disk" is full for.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Users,
    Guards,
}

/// Starts the "disk full" fault for `table` (call again for another table).
pub async fn fill_disk(app: &TestApp, side: &mut Side, table: Table) {
    match side {
        Side::Sqlite(conn) => {
            let cap = app.db().cap_sqlite_pages_for_tests(Some(0)).await.unwrap();
            sqlx::raw_sql(AssertSqlSafe(format!("PRAGMA max_page_count = {cap}")))
                .execute(&mut *conn)
                .await
                .unwrap();
            let mut inserted = 0;
            loop {
                let n = format!("{inserted:08}");
                let insert = match table {
                    Table::Users => sqlx::query(
                        "INSERT INTO tbl_auth_users (id, users_id, openid, token_key, created, updated) \
                         VALUES ('f' || $1, 'F' || $1, 'o' || $1, 'k' || $1, '', '')",
                    ),
                    // The expiry is in the far future so the sweep leaves the rows alone.
                    Table::Guards => sqlx::query(
                        "INSERT INTO request_guards (guard_key, expires_at) VALUES ('g' || $1, 4000000000000)",
                    ),
                };
                match insert.bind(&n).execute(&mut *conn).await {
                    Ok(_) => inserted += 1,
                    Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("13") => break,
                    Err(e) => panic!("filling {table:?}: {e}"),
                }
                assert!(inserted < 10_000, "{table:?} never filled up");
            }
        }
        Side::Postgres(_) => {
            side.run(
                "CREATE OR REPLACE FUNCTION bai_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$",
            )
            .await;
            // Health's probe writes app_settings: a full disk fails that too.
            for name in [pg_table(table), "app_settings"] {
                side.run(&format!(
                    "DROP TRIGGER IF EXISTS bai_test_disk_full ON {name}; \
                     CREATE TRIGGER bai_test_disk_full BEFORE INSERT OR UPDATE ON {name} \
                     FOR EACH ROW EXECUTE FUNCTION bai_test_disk_full()"
                ))
                .await;
            }
        }
    }
}

/// Ends the "disk full" fault: the space comes back.
pub async fn free_disk(app: &TestApp, side: &mut Side) {
    match side {
        Side::Sqlite(_) => {
            app.db().cap_sqlite_pages_for_tests(None).await.unwrap();
        }
        Side::Postgres(_) => {
            for name in ["tbl_auth_users", "request_guards", "app_settings"] {
                side.run(&format!(
                    "DROP TRIGGER IF EXISTS bai_test_disk_full ON {name}"
                ))
                .await;
            }
        }
    }
}

fn pg_table(table: Table) -> &'static str {
    match table {
        Table::Users => "tbl_auth_users",
        Table::Guards => "request_guards",
    }
}

/// From now on every commit that inserted a user fails.
pub async fn fail_user_commits(side: &mut Side) {
    match side {
        Side::Sqlite(_) => {
            side.run(
                "CREATE TABLE fault_parent (id TEXT PRIMARY KEY); \
                 CREATE TABLE fault_child (parent TEXT REFERENCES fault_parent (id) DEFERRABLE INITIALLY DEFERRED); \
                 CREATE TRIGGER fault_at_commit AFTER INSERT ON tbl_auth_users \
                 BEGIN INSERT INTO fault_child VALUES ('missing'); END",
            )
            .await
        }
        Side::Postgres(_) => {
            side.run(
                "CREATE FUNCTION bai_test_fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'injected failure at commit'; END $$; \
                 CREATE CONSTRAINT TRIGGER bai_test_fail_commit AFTER INSERT ON tbl_auth_users \
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bai_test_fail_commit()",
            )
            .await
        }
    }
}
