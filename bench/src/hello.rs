//! `bench-hello`: the smallest poem server, built with the same release profile as the
//! service, so `scripts/bench.sh` can show what the framework allows on this machine.
//! `POST /hello` (and `GET`) answers 200 `hello`. The address is the first argument
//! (default `127.0.0.1:8099`).

use poem::listener::TcpListener;
use poem::{Route, Server, handler, post};

#[handler]
fn hello() -> &'static str {
    "hello"
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8099".to_owned());
    let app = Route::new().at("/hello", post(hello).get(hello));
    Server::new(TcpListener::bind(addr))
        .run_with_graceful_shutdown(
            app,
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            None,
        )
        .await
}
