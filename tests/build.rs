//! The PostgreSQL variants of the end-to-end tests are compiled as ignored ("not run") when
//! `BAI_TEST_POSTGRES_URL` is unset, so a run on SQLite alone says so in its summary instead of
//! counting them as passed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(bai_test_postgres)");
    println!("cargo::rerun-if-env-changed=BAI_TEST_POSTGRES_URL");
    if std::env::var("BAI_TEST_POSTGRES_URL").is_ok_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=bai_test_postgres");
    }
}
