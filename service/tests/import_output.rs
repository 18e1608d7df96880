//! What `bai-service import pocketbase` prints, run as an operator runs it: on a terminal a
//! progress bar while a large import writes, then the summary; piped, the summary alone; with
//! `BAI_LOG_FORMAT=json`, JSON log lines only (the summary as one event), on a terminal too.
//! The terminal is a real pseudo-terminal, from util-linux's `script`.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use sqlx::Connection as _;

const FIXTURE: &str = include_str!("../../tests/fixtures/pocketbase-0.40.6.sql");
const USERS: u32 = 3_000;

/// A PocketBase data directory `root/pb_data` with `USERS` users.
fn large_source(root: &Path) {
    let users = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {USERS})
         INSERT INTO tbl_auth_users (id, tokenKey, openid, users_id, users_type, created, updated)
         SELECT printf('%015d', i), printf('k%049d', i), printf('o%027d', i), printf('U%08d', i),
             '游客', '2025-01-02 08:00:00.000Z', '2025-01-02 08:00:00.000Z' FROM n;"
    );
    let dir = root.join("pb_data");
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = format!("sqlite://{}/data.db?mode=rwc", dir.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("{FIXTURE}\n{users}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
}

/// `import pocketbase pb_data ARGS` into `root/<target>/bai.db` with exactly `env`.
fn command(root: &Path, target: &str, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut command = Command::new(common::binary());
    command
        .args(["import", "pocketbase", "pb_data"])
        .args(args)
        .env_clear()
        .env(
            "BAI_DATABASE_URL",
            format!("sqlite://{}/{target}/bai.db", root.display()),
        )
        .envs(env.iter().copied())
        .current_dir(root);
    command
}

/// Runs `command` on a pseudo-terminal (stdin, stdout and stderr all on it, as in a shell);
/// returns the exit code and everything the terminal showed.
fn on_terminal(command: &Command) -> (i32, String) {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_str().unwrap().replace('\'', r"'\''"));
    let line: Vec<String> = std::iter::once(quote(command.get_program()))
        .chain(command.get_args().map(quote))
        .collect();
    let mut script = Command::new("script");
    script
        .args([
            "--quiet",
            "--return",
            "--command",
            &line.join(" "),
            "/dev/null",
        ])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "xterm-256color")
        .current_dir(command.get_current_dir().unwrap());
    for (key, value) in command.get_envs() {
        script.env(key, value.unwrap());
    }
    let output = script
        .output()
        .expect("util-linux's script runs (apt-get install bsdutils)");
    let shown = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code().expect("an exit code"), shown)
}

/// Every non-empty line of `text` as JSON; fails naming the first line that is not.
fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l:?}")))
        .collect()
}

#[test]
fn on_a_terminal_a_large_import_shows_a_progress_bar_then_the_summary() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    large_source(root);

    let (code, shown) = on_terminal(&command(root, "tty", &[], &[]));
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("importing ") && shown.contains("/6,000 rows ("),
        "a bar over every row written (users and their kept fields): {shown}"
    );
    assert!(
        shown.contains(&format!(
            "tbl_auth_users: {USERS} in PocketBase; imported {USERS} new"
        )),
        "{shown}"
    );

    let output = command(root, "piped", &[], &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let (stdout, stderr) = (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    );
    assert_eq!(stderr, "", "nothing drawn when stderr is not a terminal");
    assert!(
        stdout.starts_with("PocketBase import from pb_data\n"),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\r') && !stdout.contains('\u{1b}'),
        "{stdout:?}"
    );
}

#[test]
fn json_log_mode_prints_json_lines_only_with_the_summary_as_one_event() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    large_source(root);
    let json = [("BAI_LOG_FORMAT", "json")];

    // On a terminal: no bar, no text.
    let (code, shown) = on_terminal(&command(root, "target", &json, &[]));
    assert_eq!(code, 0, "{shown}");
    let events = json_lines(&shown);
    let summaries: Vec<&Value> = events
        .iter()
        .filter(|e| e["message"] == "PocketBase import finished")
        .collect();
    assert_eq!(summaries.len(), 1, "{events:?}");
    let summary = summaries[0];
    assert_eq!(summary["level"], "INFO");
    assert_eq!(summary["users_source"], USERS);
    assert_eq!(summary["users_new"], USERS);
    assert_eq!(summary["pocketbase_token_duration_secs"], 432_000);
    let kept: Value = serde_json::from_str(
        summary["fields_kept_in_pocketbase_fields"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(kept["tbl_auth_users"], serde_json::json!(["password"]));

    // Piped: the same, and a dry run's summary is one event too.
    let output = command(root, "target", &json, &["--dry-run"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    let events = json_lines(&String::from_utf8_lossy(&output.stdout));
    let dry: Vec<&Value> = events.iter().filter(|e| e["level"] == "INFO").collect();
    assert_eq!(dry.len(), 1, "{events:?}");
    assert_eq!(dry[0]["message"], "PocketBase import dry run");
    assert_eq!(dry[0]["nothing_to_do"], true);

    // A refusal: one JSON error event, exit code 2.
    let secret = [
        ("BAI_LOG_FORMAT", "json"),
        ("BAI_AUTH_SECRET", &*"y".repeat(40)),
    ];
    let (code, shown) = on_terminal(&command(root, "other", &secret, &[]));
    assert_eq!(code, 2, "{shown}");
    let events = json_lines(&shown);
    let errors: Vec<&Value> = events.iter().filter(|e| e["level"] == "ERROR").collect();
    assert_eq!(errors.len(), 1, "{events:?}");
    assert!(
        errors[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("BAI_AUTH_SECRET differs from PocketBase's"),
        "{events:?}"
    );
}
