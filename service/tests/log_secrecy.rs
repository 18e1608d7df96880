//! Log secrecy: run the real binary with verbose JSON logs against an external wechat-sim, walk
//! through every flow (login, profile, refresh, failed logins, a 401), and check that nothing it
//! printed, on stdout or stderr, carries a secret: the app secret, the auth secret, a token or
//! its signature, a user's token key, an access token, a session_key, the full phone number,
//! or a login or phone code.

mod common;

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use wechat_sim::{Fault, Simulator};

use common::{Service, free_port};

const AUTH_SECRET: &str = "log-secrecy-auth-secret-0123456789abcdef";
const PHONE: &str = "13800138000";
const CODE2SESSION: &str = "/sns/jscode2session";
const PHONE_PATH: &str = "/wxa/business/getuserphonenumber";

/// What a run printed and the secrets that went through it.
struct Run {
    logs: String,
    /// (what, value) pairs that must not appear anywhere in `logs`.
    secrets: Vec<(String, String)>,
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut request = client.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Runs the binary with `rust_log`, drives every flow once, stops it and returns its output.
async fn run_flows(rust_log: &str) -> Run {
    let sim = Simulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("bai.db");
    let env = vec![
        ("BAI_ADDR", format!("127.0.0.1:{}", free_port())),
        (
            "BAI_DATABASE_URL",
            format!("sqlite://{}", db_path.display()),
        ),
        ("BAI_WECHAT_API_BASE", sim.base_url()),
        ("BAI_WECHAT_APPID", sim.appid().to_owned()),
        ("BAI_WECHAT_SECRET", sim.secret().to_owned()),
        ("BAI_AUTH_SECRET", AUTH_SECRET.to_owned()),
        ("BAI_LOG_FORMAT", "json".to_owned()),
        ("BAI_WECHAT_TIMEOUT_MS", "2000".to_owned()),
        ("RUST_LOG", rust_log.to_owned()),
    ];
    let mut service = Service::start(dir.path(), "service", &env).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = |path: &str| service.url(path);
    let mut secrets = vec![
        ("app secret".to_owned(), sim.secret().to_owned()),
        ("auth secret".to_owned(), AUTH_SECRET.to_owned()),
        ("phone number".to_owned(), PHONE.to_owned()),
    ];

    // Login.
    let login_code = sim.login_code("alice").await.code;
    let (status, login) = post(
        &client,
        url("/api/wechat/login"),
        None,
        &json!({ "users_wx_code": login_code }),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().unwrap().to_owned();
    secrets.push(("js_code".into(), login_code));

    // Profile, with a phone code minted the way the getPhoneNumber button does.
    let phone_code = sim.phone_code("alice", PHONE).await;
    let (status, profile) = post(
        &client,
        url("/api/wechat/profile"),
        Some(&token),
        &profile_body(&phone_code),
    )
    .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["data"]["user"]["users_phone"], PHONE);
    secrets.push(("phone code".into(), phone_code));

    // A stale access token: rejected once, renewed (force-refreshed) and retried.
    sim.inject(Fault::errcode(PHONE_PATH, 40001)).await;
    let phone_code = sim.phone_code("alice", PHONE).await;
    let (status, again) = post(
        &client,
        url("/api/wechat/profile"),
        Some(&token),
        &profile_body(&phone_code),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    secrets.push(("second phone code".into(), phone_code));

    // Refresh.
    let (status, refreshed) = post(
        &client,
        url("/api/wechat/refresh-token"),
        Some(&token),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let new_token = refreshed["token"].as_str().unwrap().to_owned();

    // Failed logins: a code WeChat rejects (400), a busy WeChat (503), an answer cut in half
    // and one with its JSON broken (502: these bodies carried a session_key).
    let mut failed = Vec::new();
    for (fault, expected) in [
        (Fault::errcode(CODE2SESSION, 40029), 400),
        (Fault::errcode(CODE2SESSION, -1), 503),
        (Fault::truncated(CODE2SESSION), 502),
        (Fault::malformed(CODE2SESSION), 502),
    ] {
        sim.inject(fault).await;
        let code = sim.login_code("bob").await.code;
        let (status, body) = post(
            &client,
            url("/api/wechat/login"),
            None,
            &json!({ "users_wx_code": code }),
        )
        .await;
        assert_eq!(status, expected, "{body}");
        failed.push(code);
    }
    for code in failed {
        secrets.push(("failed login's js_code".into(), code));
    }

    // 401: a token with a forged signature.
    let (head, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", "A".repeat(43));
    let (status, body) = post(
        &client,
        url("/api/wechat/refresh-token"),
        Some(&forged),
        &json!({}),
    )
    .await;
    assert_eq!(status, 401, "{body}");

    service.stop().await;
    let logs = service.output();

    for (what, jwt) in [
        ("token", &token),
        ("refreshed token", &new_token),
        ("forged token", &forged),
    ] {
        secrets.push((what.to_owned(), jwt.clone()));
        let signature = jwt.rsplit('.').next().unwrap();
        secrets.push((format!("{what}'s signature"), signature.to_owned()));
    }
    // The user's token key (half of every signing key).
    let options = SqliteConnectOptions::new().filename(&db_path);
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    let keys: Vec<String> = sqlx::query_scalar("SELECT token_key FROM tbl_auth_users")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(keys.len(), 1);
    secrets.push(("token key".into(), keys[0].clone()));

    Run { logs, secrets }
}

/// Runs of at least `min` characters that look like a session_key (base64 of 16 bytes: 22
/// characters of the base64 alphabet, then `==`) or an access token (`NN_` and 100 or more
/// characters of base64url).
fn secret_shaped(logs: &str) -> Vec<String> {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    let is_b64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let chars: Vec<char> = logs.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        // session_key: exactly 22 base64 characters then "==", not inside a longer run.
        if is_b64(chars[i]) && (i == 0 || !is_b64(chars[i - 1])) {
            let mut j = i;
            while j < chars.len() && is_b64(chars[j]) {
                j += 1;
            }
            if j - i == 22 && chars.get(j) == Some(&'=') && chars.get(j + 1) == Some(&'=') {
                found.push(chars[i..j + 2].iter().collect());
            }
        }
        if is_b64url(chars[i]) && (i == 0 || !is_b64url(chars[i - 1])) {
            let mut j = i;
            while j < chars.len() && is_b64url(chars[j]) {
                j += 1;
            }
            let run: String = chars[i..j].iter().collect();
            let access_token_like = run.len() >= 103
                && run.as_bytes()[..2].iter().all(u8::is_ascii_digit)
                && run.as_bytes()[2] == b'_';
            if access_token_like {
                found.push(run);
            }
        }
        i += 1;
    }
    found
}

fn assert_no_secret(run: &Run) {
    let mut leaks = Vec::new();
    for (what, secret) in &run.secrets {
        assert!(secret.len() >= 8, "{what} is too short to search for");
        for line in run.logs.lines().filter(|l| l.contains(secret.as_str())) {
            leaks.push(format!("{what}: {line}"));
        }
    }
    for shaped in secret_shaped(&run.logs) {
        let line = run.logs.lines().find(|l| l.contains(&shaped)).unwrap();
        leaks.push(format!("session_key/access token shaped {shaped}: {line}"));
    }
    assert!(
        leaks.is_empty(),
        "secrets in the logs:\n{}",
        leaks.join("\n")
    );
}

/// `LOG_SECRECY_DUMP=dir` keeps each run's output there, to read what a level prints.
fn dump(level: &str, run: &Run) {
    if let Some(dir) = std::env::var_os("LOG_SECRECY_DUMP") {
        std::fs::write(
            std::path::Path::new(&dir).join(format!("{level}.log")),
            &run.logs,
        )
        .unwrap();
    }
}

/// The logs are really there, are JSON, and cover the flows (so a silent run cannot pass).
fn assert_logs_cover_the_flows(run: &Run, expect: &[&str]) {
    let stdout_lines: Vec<Value> = run
        .logs
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(stdout_lines.len() > 20, "too few log lines:\n{}", run.logs);
    for needle in expect {
        assert!(
            run.logs.contains(needle),
            "no log line mentions {needle:?}:\n{}",
            run.logs
        );
    }
}

/// `RUST_LOG=debug`: what an operator turns on to investigate. Nothing secret may appear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_carry_no_secret() {
    let run = run_flows("debug").await;
    dump("debug", &run);
    assert_logs_cover_the_flows(
        &run,
        &[
            "bai-service is listening",
            "fetched a WeChat access token",
            "access token rejected",
            "wechat rejected the request",
            "wechat call failed",
        ],
    );
    assert_no_secret(&run);
}

/// `RUST_LOG=trace`: everything, dependencies included. Today trace only adds hyper-util's
/// connection-pool lines and reqwest's retry decisions (hyper's own wire-level tracing is not
/// compiled in, and reqwest's verbose connection logging is off), so trace is held to the same
/// standard as debug. Should a dependency start logging request lines or bodies at trace (the
/// query string of code2session carries the app secret and the js_code), this test says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_carry_no_secret() {
    let run = run_flows("trace").await;
    dump("trace", &run);
    assert_logs_cover_the_flows(&run, &["bai-service is listening"]);
    assert_no_secret(&run);
}

#[test]
fn the_shape_scanner_finds_session_keys_and_access_tokens() {
    let access_token = format!("86_{}", "aB3-_".repeat(28));
    let logs = format!(
        "{{\"a\":\"tQY+38pdTVnAIWCBNiM1+A==\"}} x {access_token} y\nrequest id 0123456789abcdef0123456789abcdef"
    );
    assert_eq!(
        secret_shaped(&logs),
        ["tQY+38pdTVnAIWCBNiM1+A==".to_owned(), access_token]
    );
    assert!(secret_shaped("a longer run tQY+38pdTVnAIWCBNiM1+Axx== is no key").is_empty());
}

/// A complete profile update with `phone_code`.
fn profile_body(phone_code: &str) -> Value {
    json!({
        "users_name": "张三",
        "users_phone_code": phone_code,
        "users_picture": "https://example.com/a.png",
    })
}
