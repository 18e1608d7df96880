//! A start-up that cannot work ends with one line that names what to fix, an optional hint, no
//! backtrace (even under `RUST_BACKTRACE=1`), exit code 2 for configuration and 1 for run time.

mod common;

use std::net::TcpListener;
use std::path::Path;

/// Runs the binary with exactly `env` (plus `RUST_BACKTRACE=1`, as on developer machines) in
/// `dir`; returns the exit code and the lines it wrote to stderr.
fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, Vec<String>) {
    let env: Vec<_> = [("RUST_BACKTRACE", "1")]
        .into_iter()
        .chain(env.iter().copied())
        .collect();
    let exit = common::run_to_exit(dir, &env, args);
    (exit.code, exit.stderr)
}

fn url_error(url: &str) -> String {
    format!(
        "error: BAI_DATABASE_URL: '{url}' is not a database URL; use sqlite://PATH (e.g. sqlite://data/bai.db) or postgres://USER@HOST:PORT/DATABASE"
    )
}

#[test]
fn a_database_url_of_no_known_kind_exits_2_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "nonsense",
        "mysql://root@localhost/bai",
        "postgress://postgres@127.0.0.1/bai",
    ] {
        let (code, stderr) = run(dir.path(), &[("BAI_DATABASE_URL", url)], &[]);
        assert_eq!(code, 2, "{url}: {stderr:?}");
        assert_eq!(stderr, [url_error(url)], "{url}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "nothing created in the working directory: {left:?}"
    );
}

#[test]
fn a_bad_value_names_the_variable_or_the_flag_that_was_set() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = run(dir.path(), &[("BAI_TOKEN_TTL", "abc")], &[]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        ["error: BAI_TOKEN_TTL: invalid value 'abc' (invalid digit found in string)"]
    );
    let (code, stderr) = run(dir.path(), &[], &["--token-ttl", "abc"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        ["error: --token-ttl: invalid value 'abc' (invalid digit found in string)"]
    );
    let (code, stderr) = run(dir.path(), &[("BAI_LOG_FORMAT", "xml")], &[]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        ["error: BAI_LOG_FORMAT: invalid value 'xml' (expected one of pretty, json)"]
    );
}

#[test]
fn a_taken_port_is_one_line_and_a_hint_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, stderr) = run(
        dir.path(),
        &[
            ("BAI_ADDR", &addr),
            ("BAI_DATABASE_URL", "sqlite://bai.db"),
            ("BAI_WECHAT_API_BASE", "http://127.0.0.1:9"),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        [
            format!("error: binding {addr}: Address already in use (os error 98)"),
            "hint: another process listens there: stop it, or set BAI_ADDR (or BAI_DEV_SIM_ADDR)"
                .to_owned(),
        ]
    );
}

#[test]
fn a_data_path_that_cannot_be_created_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    let db = dir.path().join("file/data/bai.db");
    let url = format!("sqlite://{}", db.display());
    let (code, stderr) = run(dir.path(), &[("BAI_DATABASE_URL", &url)], &[]);
    assert_eq!(code, 1);
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert_eq!(
        stderr[0],
        format!(
            "error: connecting to the database at {}: could not prepare the database directory: Not a directory (os error 20)",
            db.display()
        )
    );
}

#[test]
fn an_unreachable_postgres_names_its_host_and_port() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/bai");
    let (code, stderr) = run(
        dir.path(),
        &[
            ("BAI_DATABASE_URL", &url),
            ("BAI_DB_ACQUIRE_TIMEOUT_MS", "300"),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(stderr.len(), 1, "{stderr:?}");
    assert!(
        stderr[0].starts_with(&format!(
            "error: connecting to the database at 127.0.0.1:{port}/bai: "
        )),
        "{stderr:?}"
    );
}
