//! `bai-service import pocketbase PATH` as an operator runs it: bad input ends in one line and
//! exit code 2 with nothing written; a good import prints its summary and never touches the
//! source file.

mod common;

use std::path::{Path, PathBuf};

use sqlx::Connection as _;

const FIXTURE: &str = include_str!("../../tests/fixtures/pocketbase-0.40.6.sql");
const USER: &str = "INSERT INTO tbl_auth_users (id, tokenKey, openid, users_id, users_type, created, updated) \
     VALUES ('a1b2c3d4e5f6a7b', 'aliceTokenKeyaliceTokenKeyaliceTokenKeyaliceTokenK', 'o-alice', 'U1', '游客', \
     '2025-01-02 08:00:00.000Z', '2025-01-02 08:00:00.000Z');";

/// Runs `sql` on a new SQLite file at `path`.
fn sqlite_file(path: &Path, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
}

/// A PocketBase data directory `name` with one user, then `tweak` applied.
fn pb_dir(root: &Path, name: &str, tweak: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    sqlite_file(&dir.join("data.db"), &format!("{FIXTURE}\n{USER}\n{tweak}"));
    dir
}

/// Runs `import pocketbase ARGS` against an SQLite target in `root/target`; returns the exit
/// code, stdout and the stderr lines.
fn import(root: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, Vec<String>) {
    let url = format!("sqlite://{}/target/bai.db", root.display());
    let env: Vec<_> = [("BAI_DATABASE_URL", url.as_str())]
        .into_iter()
        .chain(env.iter().copied())
        .collect();
    let args: Vec<_> = ["import", "pocketbase"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    let exit = common::run_to_exit(root, &env, &args);
    (exit.code, exit.stdout, exit.stderr)
}

#[test]
fn bad_input_exits_2_with_one_line_and_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let text = root.join("notes.txt");
    std::fs::write(&text, "not a database at all, just some text\n".repeat(200)).unwrap();
    let corrupt = pb_dir(root, "corrupt", "").join("data.db");
    let mut bytes = std::fs::read(&corrupt).unwrap();
    bytes[..16].copy_from_slice(b"garbage garbage!");
    std::fs::write(&corrupt, bytes).unwrap();
    let other = root.join("other.db");
    sqlite_file(&other, "CREATE TABLE things (id TEXT);");
    let no_users = pb_dir(
        root,
        "no_users",
        "DELETE FROM _collections WHERE name = 'tbl_auth_users';",
    );
    let renamed = pb_dir(
        root,
        "renamed",
        "ALTER TABLE tbl_auth_users RENAME COLUMN tokenKey TO token_key;",
    );
    let old = pb_dir(
        root,
        "old",
        "UPDATE _collections SET options = '{}' WHERE name = 'tbl_auth_users';",
    );
    let empty = root.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let zip = root.join("pb_backup.zip");
    std::fs::write(&zip, b"PK\x03\x04").unwrap();

    let cases: [(PathBuf, &str); 8] = [
        (root.join("missing"), "no such file"),
        (
            empty.clone(),
            "no data.db in this directory (is it a PocketBase pb_data directory?)",
        ),
        (
            text,
            "cannot read it as a PocketBase database (file is not a database)",
        ),
        (
            corrupt.clone(),
            "cannot read it as a PocketBase database (file is not a database)",
        ),
        (
            other.clone(),
            "not a PocketBase database (no _collections table)",
        ),
        (
            no_users.join("data.db"),
            "the PocketBase database has no tbl_auth_users auth collection",
        ),
        (
            renamed.join("data.db"),
            "a different schema: tbl_auth_users has no 'tokenKey' column",
        ),
        (
            old.join("data.db"),
            "a different schema: tbl_auth_users has no options.authToken.secret (PocketBase before 0.23? upgrade it first)",
        ),
    ];
    for (path, why) in cases {
        let (code, stdout, stderr) = import(root, &[], &[path.to_str().unwrap()]);
        assert_eq!(code, 2, "{path:?}: {stderr:?}");
        assert_eq!(stderr, [format!("error: {}: {why}", path.display())]);
        assert_eq!(stdout, "");
        assert!(
            !root.join("target").exists(),
            "{path:?}: the target was created"
        );
    }
    let (code, _, stderr) = import(root, &[], &[zip.to_str().unwrap()]);
    assert_eq!(code, 2);
    let prefix = format!("error: {}: not a readable zip file (", zip.display());
    assert!(
        stderr.len() == 1 && stderr[0].starts_with(&prefix),
        "{stderr:?}"
    );
    let (code, _, stderr) = import(root, &[], &[empty.to_str().unwrap(), "--dry-run"]);
    assert_eq!(
        (code, stderr.len()),
        (2, 1),
        "a dry run reports bad input the same way"
    );
}

#[test]
fn an_import_prints_a_summary_leaves_the_source_untouched_and_refuses_a_different_secret() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let source = pb_dir(root, "pb_data", "");
    let before = std::fs::read(source.join("data.db")).unwrap();

    let other_secret = "y".repeat(40);
    let (code, stdout, stderr) = import(root, &[("BAI_AUTH_SECRET", &other_secret)], &["pb_data"]);
    assert_eq!(code, 2);
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(
        stderr[0].starts_with(
            "error: BAI_AUTH_SECRET differs from PocketBase's tbl_auth_users authToken.secret"
        ),
        "{stderr:?}"
    );
    assert!(stdout.is_empty());

    let (code, stdout, stderr) = import(root, &[], &["pb_data"]);
    assert_eq!(code, 0, "{stderr:?}");
    assert!(
        stdout.contains("tbl_auth_users: 1 in PocketBase; imported 1 new"),
        "{stdout}"
    );
    assert!(stdout.contains("fields with no column here, kept per record in pocketbase_fields: tbl_auth_users: password\n"), "{stdout}");
    assert!(
        stdout.contains("auth secret: PocketBase's authToken.secret adopted"),
        "{stdout}"
    );
    assert!(
        stdout.contains("token lifetime: PocketBase authToken.duration 432000 s; BAI_TOKEN_TTL"),
        "{stdout}"
    );
    // The total includes reading the source, as the operator's clock does.
    let took = stdout.lines().last().unwrap();
    let secs: Vec<f64> = took
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        took.starts_with("took ")
            && took.contains(" s (reading the source ")
            && secs.len() == 2
            && secs[0] >= secs[1],
        "{took}"
    );

    let (code, stdout, _) = import(root, &[], &["pb_data/data.db"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("nothing to do"), "{stdout}");
    assert_eq!(
        std::fs::read(source.join("data.db")).unwrap(),
        before,
        "the source is never written"
    );
}

#[test]
fn a_live_pocketbase_in_wal_mode_keeps_writing_during_the_import() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let source = pb_dir(root, "pb_data", "PRAGMA journal_mode = WAL;");
    // PocketBase, mid-write: a write transaction holding SQLite's write lock.
    let (runtime, mut writer) = hold_source(
        &source,
        "BEGIN IMMEDIATE; INSERT INTO tbl_auth_users (id, tokenKey, openid, users_id, users_type, created, updated) \
         VALUES ('b1b2c3d4e5f6a7b', 'bobTokenKeybobTokenKeybobTokenKeybobTokenKeybobTok', 'o-bob', 'U2', '游客', \
         '2025-01-02 08:00:00.000Z', '2025-01-02 08:00:00.000Z');",
    );

    let (code, stdout, stderr) = import(root, &[], &["pb_data"]);
    assert_eq!(code, 0, "{stderr:?}");
    assert!(
        stdout.contains("tbl_auth_users: 1 in PocketBase; imported 1 new"),
        "the committed rows only: {stdout}"
    );

    // The import took no lock that stops the writer.
    runtime
        .block_on(sqlx::raw_sql("COMMIT").execute(&mut writer))
        .unwrap();
    let (count,): (i64,) = runtime
        .block_on(sqlx::query_as("SELECT COUNT(*) FROM tbl_auth_users").fetch_one(&mut writer))
        .unwrap();
    assert_eq!(count, 2);
}

/// Another process's connection to the source's `data.db`, after it ran `sql` (to take a lock
/// and keep it), with the runtime that drives it.
fn hold_source(
    source: &Path,
    sql: &'static str,
) -> (tokio::runtime::Runtime, sqlx::SqliteConnection) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("sqlite://{}/data.db", source.display());
    let mut conn = runtime
        .block_on(sqlx::SqliteConnection::connect(&url))
        .unwrap();
    runtime
        .block_on(sqlx::raw_sql(sql).execute(&mut conn))
        .unwrap();
    (runtime, conn)
}

/// A zip holding `entries` (name, file to store), as PocketBase's backups are laid out.
fn zip_of(path: &Path, entries: &[(&str, &Path)]) {
    let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, file) in entries {
        writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::copy(&mut std::fs::File::open(file).unwrap(), &mut writer).unwrap();
    }
    writer.finish().unwrap();
}

#[test]
fn a_pocketbase_backup_zip_imports_like_its_data_dir() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let source = pb_dir(root, "pb_data", "");
    let notes = root.join("notes.txt");
    std::fs::write(&notes, "hello").unwrap();
    zip_of(
        &root.join("pb_backup.zip"),
        &[("data.db", &source.join("data.db")), ("storage/x", &notes)],
    );
    zip_of(&root.join("other.zip"), &[("notes.txt", &notes)]);

    let (code, _, stderr) = import(root, &[], &["other.zip"]);
    assert_eq!(
        (code, stderr),
        (
            2,
            vec![
                "error: other.zip: no data.db in this zip (is it a PocketBase backup?)".to_owned()
            ]
        )
    );
    let (code, stdout, stderr) = import(root, &[], &["pb_backup.zip"]);
    assert_eq!(code, 0, "{stderr:?}");
    assert!(
        stdout.contains("tbl_auth_users: 1 in PocketBase; imported 1 new"),
        "{stdout}"
    );
    let (code, stdout, _) = import(root, &[], &["pb_data"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("nothing to do"),
        "the zip and the directory hold the same: {stdout}"
    );
}

#[test]
fn a_locked_or_encrypted_file_is_refused_with_one_line_and_nothing_written() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    // Not PocketBase's WAL mode: a rollback journal, where a writer's exclusive lock shuts out
    // every reader (another tool mid-write, or a copy someone holds open in exclusive mode).
    let source = pb_dir(root, "pb_data", "PRAGMA journal_mode = DELETE;");
    let (runtime, holder) = hold_source(&source, "BEGIN EXCLUSIVE");
    let (code, stdout, stderr) = import(root, &[], &["pb_data"]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr:?}");
    assert_eq!(
        stderr,
        [
            "error: pb_data: the file is locked by another process that is writing to it (database is locked): let it finish, or import a copy or a backup zip"
        ]
    );
    assert!(!root.join("target").exists(), "the target was created");
    runtime.block_on(holder.close()).unwrap();

    // SQLCipher and the like: no SQLite header, pages of noise.
    let encrypted = root.join("encrypted.db");
    let noise: Vec<u8> = (0..16_384u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&encrypted, noise).unwrap();
    let (code, _, stderr) = import(root, &[], &["encrypted.db"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        ["error: encrypted.db: cannot read it as a PocketBase database (file is not a database)"]
    );
}

#[test]
fn a_dry_run_lists_skipped_rows_with_their_reason_and_the_fields_with_no_home() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    pb_dir(
        root,
        "pb_data",
        // A deployment's own field, and no unique openid index (an older schema): duplicates.
        "ALTER TABLE tbl_auth_users ADD COLUMN nickname TEXT DEFAULT '' NOT NULL;
         DROP INDEX idx_tbl_auth_users_openid;
         INSERT INTO tbl_auth_users (id, tokenKey, openid, users_id, users_type, created, updated) VALUES
           ('n0openidn0openi', 'noOpenidKeynoOpenidKeynoOpenidKeynoOpenidKeynoOpe', '', 'U2', '游客', '2025-01-02 08:00:00.000Z', '2025-01-02 08:00:00.000Z'),
           ('dup1dup1dup1dup', 'dupKeydupKeydupKeydupKeydupKeydupKeydupKeydupKeydu', 'o-alice', 'U3', '游客', '2025-01-02 08:00:00.000Z', '2025-01-02 08:00:00.000Z'),
           ('baddatebaddateb', 'badDateKeybadDateKeybadDateKeybadDateKeybadDateKe', 'o-late', 'U4', '游客', '2025-01-02T08:00:00Z', '2025-01-02 08:00:00.000Z');",
    );
    let (code, stdout, stderr) = import(root, &[], &["pb_data", "--dry-run"]);
    assert_eq!(code, 0, "{stderr:?}");
    for line in [
        "PocketBase import from pb_data (dry run: nothing written)",
        "tbl_auth_users: 4 in PocketBase; would import 1 new,",
        "skipped rows: 3",
        "  tbl_auth_users \"n0openidn0openi\": missing openid",
        "  tbl_auth_users \"dup1dup1dup1dup\": duplicate openid",
        "  tbl_auth_users \"baddatebaddateb\": malformed date: created = '2025-01-02T08:00:00Z'",
        "fields with no column here, kept per record in pocketbase_fields: tbl_auth_users: nickname, password",
    ] {
        assert!(stdout.contains(line), "{line:?} in {stdout}");
    }
    // Written for real afterwards: the dry run left the target without a user.
    let (code, stdout, _) = import(root, &[], &["pb_data"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("imported 1 new"), "{stdout}");
}
