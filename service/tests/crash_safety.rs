//! Crash safety: SIGKILL the real binary in the middle of a login storm, restart it on the same
//! SQLite file, and check that every login that was answered 200 is still there, with the same
//! `pb_id` and a token that still verifies, and that the database file is intact.
//!
//! `BAI_CRASH_TEST_BIN=target/release/bai-service cargo test -p bai-service --test crash_safety`
//! runs it against another build.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use common::{Service, free_port};

/// Concurrent clients, each logging in users of its own.
const CLIENTS: usize = 4;
/// The process is killed once this many logins were answered 200.
const KILL_AFTER: usize = 200;
/// No client sends more than this, whatever happens.
const MAX_LOGINS_PER_CLIENT: usize = 1_000;
/// Hard bound on the storm phase.
const STORM_DEADLINE: Duration = Duration::from_secs(30);

/// A login the service acknowledged with 200.
#[derive(Debug, Clone)]
struct Acknowledged {
    user: String,
    pb_id: String,
    token: String,
}

fn zero_config_env(db_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("BAI_ADDR", format!("127.0.0.1:{}", free_port())),
        ("BAI_DEV_SIM_ADDR", format!("127.0.0.1:{}", free_port())),
        ("BAI_DATABASE_URL", db_url.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
        // The storm comes from one address as fast as it can: it is not abuse here.
        ("BAI_RATE_LIMIT_PER_MIN", "0".to_owned()),
        ("BAI_WECHAT_MAX_RPS", "0".to_owned()),
    ]
}

fn env_value<'a>(env: &'a [(&str, String)], key: &str) -> &'a str {
    env.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
        .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn login(client: &reqwest::Client, service_url: &str, code: &str) -> reqwest::Response {
    client
        .post(format!("{service_url}/api/wechat/login"))
        .json(&json!({ "users_wx_code": code }))
        .send()
        .await
        .expect("the restarted service answers")
}

/// `PRAGMA integrity_check` on the file, and the `pb_id` stored for each acknowledged user.
async fn inspect_database(
    db_path: &std::path::Path,
    acknowledged: &[Acknowledged],
) -> Vec<Option<String>> {
    let options = SqliteConnectOptions::new().filename(db_path);
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(integrity, ["ok"], "PRAGMA integrity_check");
    let mut stored = Vec::new();
    for ack in acknowledged {
        let openid = wechat_sim::openid(wechat_sim::DEFAULT_APPID, &ack.user);
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM tbl_auth_users WHERE openid = ?")
                .bind(&openid)
                .fetch_optional(&mut conn)
                .await
                .unwrap();
        stored.push(id);
    }
    conn.close().await.unwrap();
    stored
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_login_survives_a_sigkill() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("bai.db");
    let db_url = format!("sqlite://{}", db_path.display());

    // 1. A storm of first logins (each one writes a new user), killed half-way.
    let mut service = Service::start(dir.path(), "before", &zero_config_env(&db_url)).await;
    let acknowledged = Arc::new(Mutex::new(Vec::<Acknowledged>::new()));
    let successes = Arc::new(AtomicUsize::new(0));
    let unexpected = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (acknowledged, successes, unexpected) =
            (acknowledged.clone(), successes.clone(), unexpected.clone());
        let url = service.url("/api/wechat/login");
        clients.push(tokio::spawn(async move {
            let client = client();
            for i in 0..MAX_LOGINS_PER_CLIENT {
                let user = format!("crash-{c}-{i}");
                let sent = client
                    .post(&url)
                    .json(&json!({ "users_wx_code": format!("dev:{user}") }))
                    .send()
                    .await;
                let Ok(response) = sent else {
                    return; // the process is gone
                };
                let status = response.status();
                let Ok(body) = response.json::<Value>().await else {
                    return; // killed while the answer was on its way
                };
                if status != 200 {
                    unexpected
                        .lock()
                        .unwrap()
                        .push(format!("{user}: {status} {body}"));
                    continue;
                }
                acknowledged.lock().unwrap().push(Acknowledged {
                    user,
                    pb_id: body["record"]["id"].as_str().unwrap().to_owned(),
                    token: body["token"].as_str().unwrap().to_owned(),
                });
                successes.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    while successes.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            started.elapsed() < STORM_DEADLINE,
            "only {} logins in {STORM_DEADLINE:?}:\n{}",
            successes.load(Ordering::SeqCst),
            service.output()
        );
        assert!(
            !clients.iter().all(|c| c.is_finished()),
            "the clients stopped before the kill:\n{}",
            service.output()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    service.kill();
    for c in clients {
        c.await.unwrap();
    }
    let unexpected = unexpected.lock().unwrap().clone();
    assert!(
        unexpected.is_empty(),
        "logins under load answered other than 200: {unexpected:#?}"
    );
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= KILL_AFTER);
    eprintln!(
        "killed after {} acknowledged logins ({:?})",
        acknowledged.len(),
        started.elapsed()
    );

    // 2. The file as the crash left it: intact, and every acknowledged user in it.
    let stored = inspect_database(&db_path, &acknowledged).await;
    for (ack, id) in acknowledged.iter().zip(&stored) {
        assert_eq!(
            id.as_deref(),
            Some(ack.pb_id.as_str()),
            "{} was answered 200 but is not stored as {}",
            ack.user,
            ack.pb_id
        );
    }

    // 3. Restarted on the same file: each user logs in again (a fresh code from the restarted
    //    process's simulator) as the same record, and their pre-crash token still verifies.
    let env = zero_config_env(&db_url);
    let sim_url = format!("http://{}", env_value(&env, "BAI_DEV_SIM_ADDR"));
    let mut service = Service::start(dir.path(), "after", &env).await;
    let chunks: Vec<Vec<Acknowledged>> = acknowledged
        .chunks(acknowledged.len().div_ceil(CLIENTS))
        .map(<[Acknowledged]>::to_vec)
        .collect();
    let mut checkers = Vec::new();
    for chunk in chunks {
        let (service_url, sim_url) = (service.base_url.clone(), sim_url.clone());
        checkers.push(tokio::spawn(async move {
            let client = client();
            for ack in chunk {
                let minted: Value = client
                    .post(format!("{sim_url}/__sim/login-codes"))
                    .json(&json!({ "user": ack.user }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let code = minted["code"].as_str().unwrap();
                let response = login(&client, &service_url, code).await;
                assert_eq!(response.status(), 200, "{}", ack.user);
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["record"]["id"], ack.pb_id.as_str(), "{}", ack.user);
                assert_eq!(
                    body["meta"]["data"]["status"], "login_success",
                    "{}",
                    ack.user
                );

                let refreshed = client
                    .post(format!("{service_url}/api/wechat/refresh-token"))
                    .bearer_auth(&ack.token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(refreshed.status(), 200, "{}'s pre-crash token", ack.user);
                let body: Value = refreshed.json().await.unwrap();
                assert_eq!(body["record"]["id"], ack.pb_id.as_str(), "{}", ack.user);
            }
        }));
    }
    for checker in checkers {
        checker.await.unwrap();
    }
    service.stop().await;

    // 4. Still intact after the restarted process shut down.
    inspect_database(&db_path, &[]).await;
    eprintln!("done in {:?}", started.elapsed());
}
