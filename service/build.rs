//! Stamps the build time into the binary (helloworld's `build_time`) and makes
//! cargo re-embed the migrations when a file under `migrations/` changes.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // Reproducible builds pin the stamp through SOURCE_DATE_EPOCH.
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now);
    println!(
        "cargo:rustc-env=BAI_BUILD_TIME={}",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
}
