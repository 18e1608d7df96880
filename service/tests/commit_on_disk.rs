//! A 200 means the write is on disk, not only in the operating system's page cache: SQLite must
//! sync its write-ahead log before the answer leaves, or a power cut or kernel crash after the
//! answer loses a registration that was acknowledged. A process crash cannot show this (the page
//! cache survives it, see crash_safety.rs), so the test watches the system calls instead: the
//! real binary runs under strace, registers users one after another, and between any two answers
//! to the client the log must show an `fdatasync`/`fsync` of `bai.db-wal`.
//!
//! Needs strace (`apt-get install strace`); `.ci/run` installs it.

mod common;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use common::{Service, free_port};

/// Registrations whose answers are checked, after `WARM_UP` that are not (the first write
/// creates the WAL file, and the in-process simulator starts its own work).
const CHECKED: usize = 5;
const WARM_UP: usize = 2;

/// For each answer the service sent on its own port, in order: whether the WAL was synced
/// since the answer before it (or since the start).
fn wal_synced_before_each_answer(trace: &str, port: u16) -> Vec<bool> {
    let own_socket = format!("<TCP:[127.0.0.1:{port}->");
    let mut synced = false;
    let mut answers = Vec::new();
    for line in trace.lines() {
        // `<pid> <syscall>(<fd><path>, …`: a sync's line names the file it syncs (an interrupted
        // one names it in its "unfinished" half, which is printed first).
        let call = line
            .split_once(' ')
            .map_or(line, |(_, rest)| rest.trim_start());
        if (call.starts_with("fdatasync(") || call.starts_with("fsync("))
            && call.contains("bai.db-wal>")
        {
            synced = true;
        } else if ["write(", "writev(", "sendto(", "sendmsg("]
            .iter()
            .any(|name| call.starts_with(name))
            && call.contains(&own_socket)
            && call.contains("\"HTTP/1.1 ")
        {
            answers.push(synced);
            synced = false;
        }
    }
    answers
}

async fn register(client: &reqwest::Client, service: &Service, user: &str) {
    let response = client
        .post(service.url("/api/wechat/login"))
        .json(&json!({ "users_wx_code": format!("dev:{user}") }))
        .send()
        .await
        .expect("the service answers");
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{user}: {body}");
    assert_eq!(
        body["meta"]["data"]["status"], "register_success",
        "{user} is registered"
    );
}

/// What a traced run saw.
struct Traced {
    /// For each of the last `CHECKED` answers, whether the WAL was synced since the answer
    /// before it.
    synced: Vec<bool>,
    /// The trace's tail, for failure messages.
    trace: String,
    /// Everything the service printed.
    output: String,
}

/// Registers `WARM_UP + CHECKED` users one after another on the real binary under strace, with
/// `extra_env` added.
async fn wal_synced_before_registrations(extra_env: &[(&'static str, &str)]) -> Traced {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("bai.db").display());
    let trace_path = dir.path().join("strace.txt");
    let port = free_port();
    let mut env = vec![
        ("BAI_ADDR", format!("127.0.0.1:{port}")),
        ("BAI_DEV_SIM_ADDR", format!("127.0.0.1:{}", free_port())),
        ("BAI_DATABASE_URL", db_url),
        ("RUST_LOG", "warn".to_owned()),
    ];
    env.extend(extra_env.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let trace_arg = trace_path.display().to_string();
    let strace = [
        "strace",
        "-f",
        "-qq",
        // File paths and socket addresses beside each descriptor.
        "-yy",
        "-s",
        "16",
        "-e",
        "trace=fsync,fdatasync,write,writev,sendto,sendmsg",
        "-o",
        &trace_arg,
    ];
    assert!(
        std::process::Command::new("strace")
            .arg("-V")
            .output()
            .is_ok(),
        "strace runs (apt-get install strace)"
    );
    let mut service = Service::start_under(dir.path(), "traced", &env, &strace).await;

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for n in 0..WARM_UP + CHECKED {
        register(&client, &service, &format!("synced-{n}")).await;
    }
    service.stop().await;

    let trace = std::fs::read_to_string(&trace_path).unwrap();
    let answers = wal_synced_before_each_answer(&trace, port);
    assert!(
        answers.len() >= WARM_UP + CHECKED,
        "strace saw {} answers on port {port}; the trace: {}",
        answers.len(),
        excerpt(&trace_path)
    );
    Traced {
        synced: answers[answers.len() - CHECKED..].to_vec(),
        trace: excerpt(&trace_path),
        output: service.output(),
    }
}

#[tokio::test]
async fn every_registration_is_synced_to_disk_before_it_is_answered() {
    let run = wal_synced_before_registrations(&[]).await;
    assert_eq!(
        run.synced, [true; CHECKED],
        "a registration was answered before the WAL reached the disk; the trace: {}",
        run.trace
    );
    assert!(
        !run.output.contains("BAI_SQLITE_SYNCHRONOUS"),
        "{}",
        run.output
    );
}

#[tokio::test]
async fn bai_sqlite_synchronous_normal_answers_without_waiting_for_the_disk() {
    // The documented trade: faster writes, and an OS crash may lose the last answered ones.
    let run = wal_synced_before_registrations(&[("BAI_SQLITE_SYNCHRONOUS", "normal")]).await;
    assert_eq!(
        run.synced, [false; CHECKED],
        "with synchronous=NORMAL no commit syncs the WAL; the trace: {}",
        run.trace
    );
    // The operator is told what they traded, once, at start-up.
    let warning = "BAI_SQLITE_SYNCHRONOUS=normal: writes are answered before they reach the disk";
    assert_eq!(run.output.matches(warning).count(), 1, "{}", run.output);
}

/// The trace's last lines, for a failure message.
fn excerpt(path: &Path) -> String {
    let trace = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = trace.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[test]
fn the_trace_reader_pairs_syncs_with_the_answers_that_follow_them() {
    let trace = "\
10 fdatasync(7</tmp/x/bai.db-wal>) = 0
11 writev(9<TCP:[127.0.0.1:8080->127.0.0.1:5000]>, [{iov_base=\"HTTP/1.1 200 OK\\r\\n\"...}], 2) = 200
12 writev(12<TCP:[127.0.0.1:9090->127.0.0.1:5001]>, [{iov_base=\"HTTP/1.1 200 OK\\r\\n\"...}], 2) = 200
11 write(9<TCP:[127.0.0.1:8080->127.0.0.1:5000]>, \"HTTP/1.1 200 OK\\r\\n\"..., 300) = 300
10 fdatasync(7</tmp/x/bai.db-wal> <unfinished ...>
10 fdatasync(8</tmp/x/bai.db>) = 0
11 write(9<TCP:[127.0.0.1:8080->127.0.0.1:5000]>, \"HTTP/1.1 200 OK\\r\\n\"..., 300) = 300
";
    // The other port's answer (the simulator's) neither counts nor resets; the main database
    // file's sync is not the WAL's.
    assert_eq!(
        wal_synced_before_each_answer(trace, 8080),
        [true, false, true]
    );
}
