# bai-api tasks. `just --list` shows them all.

# Run the service with zero config (SQLite in ./data, in-process wechat-sim).
run:
    cargo run -p bai-service

# Run the simulator alone on 127.0.0.1:8091 (`just sim --help` lists its options).
sim *ARGS:
    cargo run -p wechat-sim -- {{ARGS}}

# Every test (SQLite; Postgres too when BAI_TEST_POSTGRES_URL is set).
test:
    cargo test --workspace

# Every test on SQLite and on the local PostgreSQL.
test-pg url="postgres://postgres@127.0.0.1:5432/postgres":
    BAI_TEST_POSTGRES_URL={{url}} cargo test --workspace

# Rewrite spec/openapi.yaml from the handlers.
spec:
    cargo run -q -p bai-service -- spec > spec/openapi.yaml

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Contract tests: schemathesis against the release build, both specs (docs/contract.md).
contract:
    bash scripts/contract.sh

# Benchmarks (release; SQLite, BENCH_POSTGRES=1 adds PostgreSQL); rewrites docs/benchmarks.md.
bench:
    bash scripts/bench.sh

# RSS before, during and after a flood of 5,000 idle connections (BENCH_FLOOD_VARIANTS compares allocator settings).
bench-flood:
    bash scripts/bench-flood.sh

# Refresh, returning-user login and profile with 1k / 100k / 1M imported users in the tables (BENCH_POSTGRES=1 adds PostgreSQL).
bench-growth:
    bash scripts/bench-growth.sh

# Heap allocations per request (valgrind's DHAT) on hello, test-helloworld, health and refresh.
bench-alloc:
    bash scripts/bench-alloc.sh

# Rows of the login guard table during and after a 70 s login storm, default TTL and purge (BENCH_POSTGRES=1 adds PostgreSQL).
bench-guards:
    bash scripts/bench-guards.sh

# Check compose.yaml (compose-spec schema) and lint the Dockerfiles (hadolint); tools go in .venv.
compose-check:
    bash scripts/validate-compose.sh

# Run the README's "Try it" curl block against a zero-config service (ports 8090 and 8091).
readme-check:
    bash scripts/readme-check.sh

# What CI runs.
ci:
    bash .ci/run

# PocketBase baseline: bench/pocketbase/ hooks on PocketBase 0.40.6 (BENCH_COMPARE=1 adds bai-service).
bench-pocketbase:
    bash scripts/bench-pocketbase.sh

# WeChat SDKs we did not write (Python wechatpy, Node node-easywechat), unchanged, through
# wechat-sim's intercepting proxy; packages cached in target/sdk-cache.
sdk-check:
    bash scripts/sdk-check.sh
# Swagger UI in headless Chromium: login -> Authorize -> profile -> refresh on 127.0.0.1:38090.
docs-check:
    bash scripts/docs-check.sh

# The switch from PocketBase on the real binary: PocketBase 0.40.6 + hooks issue tokens, import, bai-service accepts them all (MIGRATE_CHECK_POSTGRES_URL adds PostgreSQL).
migrate-check:
    bash scripts/migrate-check.sh

# Mutation testing of the critical code (docs/testing.md): `just mutants auth users`, `just mutants --in-diff HEAD~1` (CI); all areas take hours on 2 cores.
mutants *args:
    bash scripts/mutants.sh {{args}}

# A scrape after a full flow, checked by `promtool check metrics` (installs Debian's prometheus).
metrics-check:
    bash scripts/metrics-check.sh
