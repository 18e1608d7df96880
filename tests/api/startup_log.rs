//! What an operator reads at start-up: the banner names the database backend and the WeChat
//! API in use, and an SQLite database whose commits do not wait for the disk says so.

use std::io::Write;
use std::sync::{Arc, Mutex};

use bai_service::Application;
use bai_service::config::SqliteSynchronous;
use serde_json::Value;
use wechat_sim::Simulator;

use crate::helpers::{BACKEND, Backend, e2e_test, test_settings};

/// The JSON log lines the app wrote while it was built and logged its banner, and where its
/// WeChat is.
async fn start_up_log(synchronous: SqliteSynchronous) -> (Vec<Value>, String) {
    let sim = Simulator::start().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&sim, &data_dir).await;
    settings.sqlite_synchronous = synchronous;
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || LogBuffer(writer.clone()))
        .finish();
    // The test's runtime has one thread, so everything the build logs is logged here.
    let guard = tracing::subscriber::set_default(subscriber);
    let app = Application::build(settings).await.expect("the app builds");
    app.log_banner();
    drop(guard);
    let bytes = buffer.lock().unwrap().clone();
    let lines = String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (lines, sim.base_url())
}

struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The warnings about `BAI_SQLITE_SYNCHRONOUS` (development mode warns of its generated
/// auth secret too).
fn sync_warnings(log: &[Value]) -> Vec<String> {
    log.iter()
        .filter(|line| line["level"] == "WARN")
        .filter_map(|line| line["fields"]["message"].as_str())
        .filter(|message| message.contains("BAI_SQLITE_SYNCHRONOUS"))
        .map(str::to_owned)
        .collect()
}

e2e_test! {
    async fn the_banner_names_the_backend_and_only_unsynced_sqlite_warns() {
        let backend = BACKEND.with(|b| *b);
        let expected = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let (full, wechat) = start_up_log(SqliteSynchronous::Full).await;
        let banner = full
            .iter()
            .find(|line| line["fields"]["message"] == "bai-service is listening")
            .expect("a banner");
        assert_eq!(banner["fields"]["database"], expected, "{banner}");
        assert_eq!(banner["fields"]["wechat"], wechat.as_str(), "{banner}");
        assert_eq!(sync_warnings(&full), Vec::<String>::new());

        // PostgreSQL ignores the SQLite setting, and so does the warning.
        let (normal, _) = start_up_log(SqliteSynchronous::Normal).await;
        let warnings = sync_warnings(&normal);
        match backend {
            Backend::Sqlite => {
                assert_eq!(warnings.len(), 1, "{warnings:?}");
                assert!(warnings[0].contains("a power cut"), "{warnings:?}");
            }
            Backend::Postgres => assert_eq!(warnings, Vec::<String>::new()),
        }
    }
}
