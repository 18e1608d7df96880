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
            // SIGTERM too: a script's background job ignores SIGINT, and valgrind's DHAT
            // (scripts/bench-alloc.sh) writes its counts only on a clean exit.
            async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("a SIGTERM handler");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            },
            None,
        )
        .await
}
