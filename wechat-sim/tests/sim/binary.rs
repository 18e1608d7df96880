//! The `wechat-sim` binary as a newcomer runs it: the printed try-line works, and start-up
//! mistakes end in one line and the documented exit code.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use wechat_sim::Simulator;

const BINARY: &str = env!("CARGO_BIN_EXE_wechat-sim");

/// Runs the binary to its (expected) early exit: the exit code and stderr's first line. A
/// binary that starts instead is killed after 30 s and the test fails.
async fn failed_start(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(BINARY)
        .args(args)
        .env_remove("RUST_LOG")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    for _ in 0..600 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("wechat-sim {args:?} started instead of failing");
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line, no backtrace: {stderr}"
    );
    let first = stderr.lines().next().unwrap_or_default().to_owned();
    (status.code().expect("exited, not killed"), first)
}

/// Kills the child when the test ends, passed or not.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_printed_try_line_works_when_pasted() {
    let mut child = Running(
        Command::new(BINARY)
            .args(["--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .find(|line| line.trim_start().starts_with("try: curl '"))
        }),
    )
    .await
    .expect("the try line is printed")
    .unwrap()
    .expect("the try line is printed");
    let url = line.split('\'').nth(1).expect("the URL is quoted");
    let answer: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert_eq!(answer.get("errcode"), None, "{line} answered {answer}");
    assert_eq!(
        answer["openid"],
        wechat_sim::openid(wechat_sim::DEFAULT_APPID, "alice")
    );
    assert!(answer["session_key"].is_string(), "{answer}");
}

#[tokio::test]
async fn a_port_taken_by_a_simulator_says_so_and_how_to_use_it() {
    let running = Simulator::start().await;
    let addr = running.base_url().trim_start_matches("http://").to_owned();
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    let (code, line) = failed_start(&["--addr", &addr]).await;
    assert_eq!(code, 1);
    assert_eq!(
        line,
        format!(
            "error: {addr} is taken by a running wechat-sim (probably bai-service's in-process one): \
             use it at http://{addr}, or start this one with --addr 127.0.0.1:{}",
            port + 2
        )
    );
}

#[tokio::test]
async fn a_port_taken_by_something_else_is_a_plain_error() {
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = other.local_addr().unwrap().to_string();
    let (code, line) = failed_start(&["--addr", &addr]).await;
    assert_eq!(code, 1);
    assert!(
        line.starts_with(&format!(
            "error: cannot listen on {addr}: Address already in use"
        )),
        "{line}"
    );
}

#[tokio::test]
async fn an_unknown_seed_key_is_named_with_its_path() {
    let dir = std::env::temp_dir().join(format!("wechat-sim-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.json");
    std::fs::write(
        &seed,
        "{\n  \"limits\": {\n    \"code2session_per_user_per_minut\": 5\n  }\n}\n",
    )
    .unwrap();
    let seed = seed.to_str().unwrap();
    let (code, line) = failed_start(&["--addr", "127.0.0.1:0", "--seed", seed]).await;
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 2);
    assert!(
        line.starts_with(&format!(
            "error: {seed}: unknown key limits.code2session_per_user_per_minut (expected one of `code2session_per_user_per_minute`, "
        )),
        "{line}"
    );
    assert!(line.ends_with(" at line 3 column 37"), "{line}");
}

#[tokio::test]
async fn an_unknown_state_file_key_is_a_configuration_error() {
    let dir = std::env::temp_dir().join(format!("wechat-sim-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    std::fs::write(
        &state,
        r#"{"users": [{"name": "alice", "phonenumber": "1"}]}"#,
    )
    .unwrap();
    let state = state.to_str().unwrap();
    let (code, line) = failed_start(&["--addr", "127.0.0.1:0", "--state-file", state]).await;
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, 2);
    assert!(
        line.starts_with(&format!(
            "error: {state}: unknown key users[0].phonenumber (expected "
        )),
        "{line}"
    );
}

#[tokio::test]
async fn a_bad_flag_value_is_a_configuration_error() {
    let (code, line) = failed_start(&["--addr", "127.0.0.1:0", "--app", "nonsense"]).await;
    assert_eq!(code, 2);
    assert_eq!(
        line,
        r#"error: --app expects APPID:SECRET[:OPEN_PLATFORM], got "nonsense""#
    );
    let (code, line) = failed_start(&["--addr", "not-an-address"]).await;
    assert_eq!(code, 2);
    assert!(
        line.starts_with("error: cannot listen on not-an-address: "),
        "{line}"
    );
}
