//! Start-up rules that keep a production deployment off development defaults.

use bai_service::Application;
use bai_service::config::{Environment, Secret, Settings};

fn production() -> Settings {
    let mut settings = Settings::defaults();
    settings.addr = "127.0.0.1:0".into();
    settings.environment = Environment::Production;
    settings
}

async fn refusal(settings: Settings) -> String {
    match Application::build(settings).await {
        Ok(_) => panic!("the service started"),
        Err(err) => err.to_string(),
    }
}

#[tokio::test]
async fn production_refuses_to_start_without_wechat_credentials() {
    let mut settings = production();
    settings.auth_secret = Some(Secret::from("s".repeat(40)));
    assert!(refusal(settings).await.contains("BAI_WECHAT_APPID"));
}

#[tokio::test]
async fn production_refuses_to_start_without_an_auth_secret() {
    let mut settings = production();
    settings.wechat_appid = Some("wx0000000000000001".into());
    settings.wechat_secret = Some(Secret::from("secret"));
    assert!(refusal(settings).await.contains("BAI_AUTH_SECRET"));
}

#[tokio::test]
async fn a_short_auth_secret_or_half_the_credentials_is_refused_anywhere() {
    let mut short = Settings::defaults();
    short.auth_secret = Some(Secret::from("too-short"));
    assert!(refusal(short).await.contains("at least 32"));
    let mut half = Settings::defaults();
    half.wechat_appid = Some("wx0000000000000001".into());
    assert!(refusal(half).await.contains("set together"));
}

#[tokio::test]
#[cfg_attr(not(bai_test_postgres), ignore = "BAI_TEST_POSTGRES_URL is not set")]
async fn a_missing_postgres_database_is_named_with_its_host_in_one_line() {
    let admin = crate::helpers::postgres_admin_url().unwrap();
    let (server, _) = admin.split('?').next().unwrap().rsplit_once('/').unwrap();
    let mut settings = Settings::defaults();
    settings.addr = "127.0.0.1:0".into();
    settings.database_url = format!("{server}/bai_no_such_database");
    let err = match Application::build(settings.clone()).await {
        Ok(_) => panic!("the service started"),
        Err(err) => err,
    };
    assert_eq!(
        bai_service::cli_error::one_line(&err),
        format!(
            "connecting to the database at {}: database \"bai_no_such_database\" does not exist",
            settings.database_location()
        )
    );
}
