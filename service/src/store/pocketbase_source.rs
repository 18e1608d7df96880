//! Reading a PocketBase (0.23+) `data.db`: read-only (`mode=ro`, no journal-mode change, no
//! write lock) and consistent (every read inside one read transaction, which in WAL mode never
//! stops a live PocketBase from writing).

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection as _, Row as _};

/// The users collection the BAI hooks log into.
pub const PB_USERS: &str = crate::auth::AUTH_COLLECTION_NAME;
/// The companies collection.
pub const PB_COMPANIES: &str = "tbl_company";

/// Columns of `tbl_auth_users` that have a column here; all but these are kept as extra fields.
const USER_REQUIRED: [&str; 6] = ["id", "tokenKey", "openid", "users_id", "created", "updated"];
const USER_OPTIONAL: [&str; 8] = [
    "users_type",
    "users_name",
    "users_phone",
    "users_picture",
    "company_id",
    "email",
    "emailVisibility",
    "verified",
];
const COMPANY_REQUIRED: [&str; 3] = ["company_id", "created", "updated"];
const COMPANY_OPTIONAL: [&str; 1] = ["company_name"];

/// Why a file cannot be read as a PocketBase database (all bad input).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("not a PocketBase database (no _collections table)")]
    NotPocketBase,
    #[error("the PocketBase database has no {PB_USERS} auth collection")]
    NoUsersCollection,
    #[error("a different schema: {0}")]
    Schema(String),
    #[error("{0}")]
    Sqlite(#[from] sqlx::Error),
}

/// `tbl_auth_users`'s token settings (collection options `authToken`).
#[derive(Debug, Clone)]
pub struct PbAuthCollection {
    pub id: String,
    pub secret: String,
    pub duration_secs: Option<i64>,
}

/// One `tbl_auth_users` row: the columns that have a home here, and the rest as a JSON object.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PbUser {
    pub id: String,
    pub token_key: String,
    pub openid: String,
    pub users_id: String,
    pub users_type: String,
    pub users_name: String,
    pub users_phone: String,
    pub users_picture: String,
    pub company_id: String,
    pub created: String,
    pub updated: String,
    pub email: String,
    /// PocketBase's bool fields as SQLite stores them, as text: `1` is true.
    pub email_visibility: String,
    pub verified: String,
    pub extra: String,
}

/// One `tbl_company` row, likewise.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PbCompany {
    pub company_id: String,
    pub company_name: String,
    pub created: String,
    pub updated: String,
    pub extra: String,
}

/// Everything the import needs from the source, read in one transaction.
#[derive(Debug, Clone)]
pub struct PbSource {
    pub auth: PbAuthCollection,
    pub users: Vec<PbUser>,
    pub companies: Vec<PbCompany>,
    /// Per collection, the source columns with no column here (kept as extra fields).
    pub extra_fields: Vec<(&'static str, Vec<String>)>,
}

/// Reads `data_db` (a file path) read-only, in one read transaction.
pub async fn read_pocketbase(data_db: &Path) -> Result<PbSource, SourceError> {
    let options = SqliteConnectOptions::new()
        .filename(data_db)
        .read_only(true)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(5));
    let mut conn = SqliteConnection::connect_with(&options).await?;
    // A deferred transaction takes its snapshot at the first read and holds no write lock.
    let mut tx = conn.begin().await?;
    let source = read_all(&mut tx).await;
    tx.rollback().await?;
    conn.close().await?;
    source
}

async fn read_all(conn: &mut SqliteConnection) -> Result<PbSource, SourceError> {
    let has_collections: Option<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_collections'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if has_collections.is_none() {
        return Err(SourceError::NotPocketBase);
    }
    let auth = auth_collection(conn).await?;
    let (user_columns, user_extra) =
        columns(conn, PB_USERS, &USER_REQUIRED, &USER_OPTIONAL).await?;
    let users_sql = select_sql(
        PB_USERS,
        &user_columns,
        &user_extra,
        &[
            ("tokenKey", "token_key"),
            ("emailVisibility", "email_visibility"),
        ],
    );
    let users = sqlx::query_as(sqlx::AssertSqlSafe(users_sql))
        .fetch_all(&mut *conn)
        .await?;
    let has_companies: Option<(String,)> =
        sqlx::query_as("SELECT name FROM _collections WHERE name = $1 AND type = 'base'")
            .bind(PB_COMPANIES)
            .fetch_optional(&mut *conn)
            .await?;
    let (companies, company_extra) = match has_companies {
        Some(_) => {
            let (cols, extra) =
                columns(conn, PB_COMPANIES, &COMPANY_REQUIRED, &COMPANY_OPTIONAL).await?;
            let sql = select_sql(PB_COMPANIES, &cols, &extra, &[]);
            let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *conn)
                .await?;
            (rows, extra)
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(PbSource {
        auth,
        users,
        companies,
        extra_fields: vec![(PB_USERS, user_extra), (PB_COMPANIES, company_extra)],
    })
}

async fn auth_collection(conn: &mut SqliteConnection) -> Result<PbAuthCollection, SourceError> {
    let row = sqlx::query(
        "SELECT id, type, CAST(options AS TEXT) AS options FROM _collections WHERE name = $1",
    )
    .bind(PB_USERS)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|_| SourceError::Schema("_collections has no id, type or options column".into()))?
    .ok_or(SourceError::NoUsersCollection)?;
    let (id, kind, options): (String, String, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    if kind != "auth" {
        return Err(SourceError::Schema(format!(
            "{PB_USERS} is a '{kind}' collection, not 'auth'"
        )));
    }
    let options: serde_json::Value = serde_json::from_str(&options)
        .map_err(|_| SourceError::Schema(format!("{PB_USERS}'s options are not JSON")))?;
    let token = &options["authToken"];
    let secret = token["secret"].as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
        SourceError::Schema(format!(
            "{PB_USERS} has no options.authToken.secret (PocketBase before 0.23? upgrade it first)"
        ))
    })?;
    Ok(PbAuthCollection {
        id,
        secret: secret.to_owned(),
        duration_secs: token["duration"].as_i64(),
    })
}

/// The table's columns split into those read here (required ones must exist; missing optional
/// ones read as '') and the rest.
async fn columns(
    conn: &mut SqliteConnection,
    table: &str,
    required: &[&str],
    optional: &[&str],
) -> Result<(Vec<(String, bool)>, Vec<String>), SourceError> {
    let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1)")
        .bind(table)
        .fetch_all(&mut *conn)
        .await?;
    let names: Vec<String> = names.into_iter().map(|(n,)| n).collect();
    if names.is_empty() {
        return Err(SourceError::Schema(format!(
            "the collection {table} has no table"
        )));
    }
    if let Some(missing) = required.iter().find(|c| !names.iter().any(|n| n == *c)) {
        return Err(SourceError::Schema(format!(
            "{table} has no '{missing}' column"
        )));
    }
    let known = required
        .iter()
        .chain(optional)
        .map(|c| (c.to_string(), names.iter().any(|n| n == c)))
        .collect();
    let mut extra: Vec<String> = names
        .into_iter()
        .filter(|n| !required.contains(&n.as_str()) && !optional.contains(&n.as_str()))
        .collect();
    extra.sort();
    Ok((known, extra))
}

/// `SELECT` of the known columns as text (a missing optional one as '') under their names here,
/// plus `extra`: the other columns as one JSON object.
fn select_sql(
    table: &str,
    known: &[(String, bool)],
    extra: &[String],
    renames: &[(&str, &str)],
) -> String {
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let mut parts: Vec<String> = known
        .iter()
        .map(|(name, present)| {
            let alias = renames
                .iter()
                .find(|(from, _)| from == name)
                .map_or(name.as_str(), |(_, to)| to);
            let value = if *present {
                format!("CAST(COALESCE({}, '') AS TEXT)", quote(name))
            } else {
                "''".to_owned()
            };
            format!("{value} AS {}", quote(alias))
        })
        .collect();
    let pairs: Vec<String> = extra
        .iter()
        .map(|name| format!("'{}', {}", name.replace('\'', "''"), quote(name)))
        .collect();
    parts.push(format!("json_object({}) AS extra", pairs.join(", ")));
    format!(
        "SELECT {} FROM {} ORDER BY rowid",
        parts.join(", "),
        quote(table)
    )
}
