//! Switching from PocketBase: `bai-service import pocketbase PATH` reads a PocketBase data
//! directory (or its `data.db`), and imports its users and companies with their ids, token keys,
//! timestamps and every other field, adopting the collection's token secret so that every token
//! PocketBase issued keeps verifying here.

mod plan;
pub mod progress;
mod report;
pub mod sdk;

use std::path::{Path, PathBuf};

use crate::store::pocketbase_source::{self, PbSource, SourceError};
use crate::store::{Db, StoreError};

pub use plan::{Conflict, Skipped};
pub use progress::{Progress, Silent, TerminalProgress};
pub use report::ImportReport;

/// What the operator asked for.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub dry_run: bool,
    pub merge: bool,
    /// `BAI_AUTH_SECRET`, when set: the import refuses if it differs from PocketBase's.
    pub configured_secret: Option<String>,
    /// `BAI_TOKEN_TTL`, reported next to PocketBase's token duration.
    pub token_ttl_secs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Bad input or a refusal: nothing was written; the CLI exits 2.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A PocketBase source read into memory, with the path it came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// As the operator named it.
    pub path: PathBuf,
    /// Where the operator can query the source's `data.db` (for the messages).
    pub data_db: String,
    pub data: PbSource,
    /// How long reading it took (unpacking a zip included), for the summary's total.
    pub read_time: std::time::Duration,
}

/// Reads the PocketBase database at `path` (a data directory, its `data.db`, or a backup zip)
/// without writing to it. Every failure is `Refused`, naming the path.
pub async fn load(path: &Path) -> Result<Source, ImportError> {
    let started = std::time::Instant::now();
    let refuse = |why: String| ImportError::Refused(format!("{}: {why}", path.display()));
    let file = if path.is_dir() {
        path.join("data.db")
    } else {
        path.to_owned()
    };
    if !file.is_file() {
        return Err(refuse(if path.is_dir() {
            "no data.db in this directory (is it a PocketBase pb_data directory?)".into()
        } else {
            "no such file".into()
        }));
    }
    // Unpacked into a directory of our own, removed when `_unzipped` drops.
    let (_unzipped, file) = if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        let zip = file.clone();
        let (dir, data_db) = tokio::task::spawn_blocking(move || unzip_data_db(&zip))
            .await
            .map_err(|err| refuse(err.to_string()))?
            .map_err(refuse)?;
        (Some(dir), data_db)
    } else {
        (None, file)
    };
    let data = pocketbase_source::read_pocketbase(&file)
        .await
        .map_err(|err| match err {
            // SQLITE_BUSY after the busy timeout: never PocketBase itself (WAL mode lets a
            // reader in), but a writer in rollback-journal or exclusive mode.
            SourceError::Sqlite(e) if is_busy(&e) => refuse(format!(
                "the file is locked by another process that is writing to it ({}): let it finish, or import a copy or a backup zip",
                sqlite_reason(&e)
            )),
            SourceError::Sqlite(e) => refuse(format!(
                "cannot read it as a PocketBase database ({})",
                sqlite_reason(&e)
            )),
            other => refuse(other.to_string()),
        })?;
    let data_db = match &_unzipped {
        Some(_) => "data.db (unzipped)".to_owned(),
        None => file.display().to_string(),
    };
    Ok(Source {
        path: path.to_owned(),
        data_db,
        data,
        read_time: started.elapsed(),
    })
}

/// The `data.db` of a PocketBase backup zip, unpacked into a new temporary directory. PocketBase
/// truncates the WAL before it archives, so `data.db` alone holds everything.
fn unzip_data_db(zip_path: &Path) -> Result<(tempfile::TempDir, PathBuf), String> {
    let file = std::fs::File::open(zip_path).map_err(|e| e.to_string())?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| format!("not a readable zip file ({e})"))?;
    let mut entry = archive
        .by_name("data.db")
        .map_err(|_| "no data.db in this zip (is it a PocketBase backup?)".to_owned())?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot unpack it: {e}"))?;
    let data_db = dir.path().join("data.db");
    let mut out = std::fs::File::create(&data_db).map_err(|e| format!("cannot unpack it: {e}"))?;
    std::io::copy(&mut entry, &mut out).map_err(|e| format!("cannot unpack data.db: {e}"))?;
    Ok((dir, data_db))
}

fn is_busy(err: &sqlx::Error) -> bool {
    // SQLITE_BUSY's primary code, whatever the extended one.
    matches!(err, sqlx::Error::Database(db) if db.code().is_some_and(|c| c.parse::<i32>().is_ok_and(|c| c & 0xff == 5)))
}

/// SQLite's own words for why a file cannot be read (corrupt, encrypted, locked).
fn sqlite_reason(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}

/// Plans the import of `source` into `db` and, unless a dry run, writes it in one transaction.
pub async fn import(
    db: &Db,
    source: &Source,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let started = std::time::Instant::now();
    if let Some(configured) = &options.configured_secret
        && configured != &source.data.auth.secret
    {
        return Err(ImportError::Refused(format!(
            "BAI_AUTH_SECRET differs from PocketBase's {} authToken.secret, so PocketBase's tokens would not verify: unset BAI_AUTH_SECRET (the import stores PocketBase's secret in the database) or set it to the value of: sqlite3 {} \"SELECT json_extract(options, '$.authToken.secret') FROM _collections WHERE name = '{}'\"",
            pocketbase_source::PB_USERS,
            source.data_db,
            pocketbase_source::PB_USERS,
        )));
    }
    let target = db.import_target().await?;
    let plan = plan::plan(&source.data, &target, options);
    if let (Some(refusal), false) = (&plan.refusal, options.dry_run) {
        return Err(ImportError::Refused(refusal.clone()));
    }
    if !options.dry_run && !plan.is_noop() {
        progress.writing(plan.write.rows());
        let written = db
            .apply_import(&plan.write, &|rows| progress.written(rows))
            .await;
        progress.finish();
        written?;
    }
    Ok(ImportReport::new(
        source,
        &plan,
        options,
        source.read_time + started.elapsed(),
    ))
}
