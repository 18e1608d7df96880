//! Prometheus metrics on their own listener (`BAI_METRICS_ADDR`): what a scrape shows after a
//! real flow, that unknown paths share one series, and that the public port never serves them.
//!
//! Every app of the test binary records into one process-wide recorder, so these tests assert
//! that series exist and grow, never exact totals.

use serde_json::Value;

use crate::helpers::{TestApp, e2e_test, spawn_app, spawn_app_with};

async fn spawn_measured_app() -> TestApp {
    spawn_app_with(|s| s.metrics_addr = Some("127.0.0.1:0".into())).await
}

pub async fn scrape(app: &TestApp) -> String {
    let base = app.metrics_address.as_ref().expect("a metrics listener");
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.unwrap()
}

/// The value of the series `name{labels…}` (labels in any order, others allowed).
fn value(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let (series, number) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
        let matches = metric == name
            && labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        matches.then(|| number.parse().ok()).flatten()
    })
}

fn count(scrape: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    value(scrape, name, labels).unwrap_or(0.0)
}

/// One series, read before something happens, so that a test can say how much it grew since.
/// Other tests' apps share the recorder, so growth is at least what this test did, not exactly.
pub struct Series<'a> {
    name: &'a str,
    labels: &'a [(&'a str, &'a str)],
    before: f64,
}

impl<'a> Series<'a> {
    pub async fn watch(app: &TestApp, name: &'a str, labels: &'a [(&'a str, &'a str)]) -> Self {
        let before = count(&scrape(app).await, name, labels);
        Self {
            name,
            labels,
            before,
        }
    }

    pub async fn growth(&self, app: &TestApp) -> f64 {
        count(&scrape(app).await, self.name, self.labels) - self.before
    }
}

e2e_test! {
    async fn a_scrape_after_login_refresh_and_profile_shows_routes_wechat_calls_and_guards() {
        let app = spawn_measured_app().await;
        let before = scrape(&app).await;
        let login = |s: &str| count(s, "bai_http_requests_total",
            &[("route", "/api/wechat/login"), ("method", "POST"), ("status", "200")]);
        let refresh_401 = |s: &str| count(s, "bai_http_requests_total",
            &[("route", "/api/wechat/refresh-token"), ("status", "401")]);
        let code2session = |s: &str| count(s, "bai_wechat_calls_total",
            &[("api", "code2session"), ("outcome", "ok")]);
        let acquired = |s: &str| count(s, "bai_guard_claims_total", &[("event", "acquired")]);

        let token = app.token_for("metrics-alice").await;
        let refreshed = app.refresh(Some(&format!("Bearer {token}"))).await;
        assert_eq!(refreshed.status(), 200);
        assert_eq!(app.refresh(None).await.status(), 401);
        let body = app.profile_body("metrics-alice", "13800138000").await;
        assert_eq!(app.profile(&token, &body).await.status(), 200);

        let after = scrape(&app).await;
        assert!(login(&after) >= login(&before) + 1.0, "{after}");
        assert!(refresh_401(&after) >= refresh_401(&before) + 1.0);
        assert!(count(&after, "bai_http_requests_total",
            &[("route", "/api/wechat/refresh-token"), ("status", "200")]) >= 1.0);
        assert!(code2session(&after) >= code2session(&before) + 1.0);
        assert!(count(&after, "bai_wechat_calls_total",
            &[("api", "getuserphonenumber"), ("outcome", "ok")]) >= 1.0);
        assert!(count(&after, "bai_wechat_calls_total",
            &[("api", "stable_token"), ("outcome", "ok")]) >= 1.0);
        assert!(acquired(&after) >= acquired(&before) + 1.0);
        assert!(value(&after, "bai_http_request_duration_seconds_bucket",
            &[("route", "/api/wechat/login"), ("le", "+Inf")]).is_some());
        assert!(value(&after, "bai_wechat_call_duration_seconds_count",
            &[("api", "code2session")]).is_some());
        assert!(value(&after, "bai_http_requests_in_flight", &[]).is_some());
        assert!(value(&after, "bai_db_pool_connections", &[("state", "idle")]).is_some());
        assert!(value(&after, "bai_db_pool_max_connections", &[]).is_some());
        assert!(value(&after, "bai_build_info", &[("version", env!("CARGO_PKG_VERSION"))])
            .is_some());
        assert!(value(&after, "process_resident_memory_bytes", &[]).is_some_and(|v| v > 0.0));
        assert!(value(&after, "process_open_fds", &[]).is_some_and(|v| v > 0.0));
    }
}

#[tokio::test]
async fn a_failed_wechat_call_is_counted_by_its_class_never_its_errcode() {
    let app = spawn_measured_app().await;
    let rejected = Series::watch(
        &app,
        "bai_wechat_calls_total",
        &[("api", "code2session"), ("outcome", "errcode_request")],
    )
    .await;
    // The simulator answers an unknown code with errcode 40029.
    assert_eq!(app.login("never-minted").await.status(), 400);
    assert!(rejected.growth(&app).await >= 1.0);
    let after = scrape(&app).await;
    let calls = after
        .lines()
        .filter(|l| l.starts_with("bai_wechat_calls_total{"));
    assert!(calls.clone().all(|l| !l.contains("40029")), "{after}");
}

#[tokio::test]
async fn wrong_credentials_are_counted_apart_from_the_clients_bad_codes() {
    let app = spawn_measured_app().await;
    let config = Series::watch(
        &app,
        "bai_wechat_calls_total",
        &[("api", "code2session"), ("outcome", "errcode_config")],
    )
    .await;
    for errcode in [40013, 40125, 41002] {
        app.sim
            .inject(wechat_sim::Fault::errcode("/sns/jscode2session", errcode))
            .await;
        let code = app.sim.login_code("metrics-carol").await.code;
        assert_eq!(app.login(&code).await.status(), 502, "{errcode}");
    }
    assert!(config.growth(&app).await >= 3.0);
}

#[tokio::test]
async fn a_held_claim_is_counted() {
    let app = spawn_measured_app().await;
    let held = Series::watch(&app, "bai_guard_claims_total", &[("event", "held")]).await;
    let code = app.sim.login_code("metrics-bob").await.code;
    assert_eq!(app.login(&code).await.status(), 200);
    assert_eq!(app.login(&code).await.status(), 429);
    assert!(held.growth(&app).await >= 1.0);
}

#[tokio::test]
async fn unknown_paths_share_the_one_unmatched_series() {
    let app = spawn_measured_app().await;
    for path in ["/nope-7f3a", "/api/wechat/nope-7f3a", "/docsnope-7f3a"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404);
    }
    let scraped = scrape(&app).await;
    assert!(!scraped.contains("nope-7f3a"), "{scraped}");
    assert!(
        count(
            &scraped,
            "bai_http_requests_total",
            &[("route", "unmatched"), ("method", "GET"), ("status", "404")]
        ) >= 3.0
    );
    let swagger = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(swagger.status(), 200);
    assert!(
        value(
            &scrape(&app).await,
            "bai_http_requests_total",
            &[("route", "/docs"), ("status", "200")]
        )
        .is_some()
    );
}

#[tokio::test]
async fn a_path_with_parameters_counts_under_its_template() {
    let app = spawn_measured_app().await;
    let template = "/api/collections/{collection}/records/{id}";
    let views = |s: &str| {
        count(
            s,
            "bai_http_requests_total",
            &[("route", template), ("method", "GET"), ("status", "404")],
        )
    };
    let before = views(&scrape(&app).await);
    for id in ["rec-7f3a-one", "rec-7f3a-two"] {
        let path = format!("/api/collections/tbl_auth_users/records/{id}");
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(
            response.status(),
            404,
            "no token: the view rule hides the record"
        );
    }
    let scraped = scrape(&app).await;
    assert!(
        !scraped.contains("rec-7f3a"),
        "a path became a label: {scraped}"
    );
    assert!(views(&scraped) >= before + 2.0, "{scraped}");
}

#[tokio::test]
async fn the_public_port_never_serves_metrics() {
    let measured = spawn_measured_app().await;
    let default = spawn_app().await;
    assert!(default.metrics_address.is_none());
    for app in [&measured, &default] {
        let response = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], 404);
    }
}
