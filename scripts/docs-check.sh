#!/usr/bin/env bash
# `just docs-check`: Swagger UI works as a newcomer uses it. Starts bai-service in zero-config mode on
# a non-default port (BAI_ADDR=127.0.0.1:$DOCS_PORT, default 38090), opens http://127.0.0.1:PORT/docs
# in headless Chromium (Debian package `chromium`; CHROMIUM=path for another) driven by playwright-core
# (npm, pinned, installed once into target/docs-check), and runs login (pre-filled dev:alice) ->
# Authorize -> profile (pre-filled dev-phone code) -> refresh-token, each of which must answer 200.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${DOCS_PORT:-38090}
PLAYWRIGHT_VERSION=1.65.1

die() { printf 'docs-check: %s\n' "$*" >&2; exit 1; }
command -v "${CHROMIUM:-/usr/bin/chromium}" >/dev/null ||
    die "no Chromium: apt-get install chromium (or set CHROMIUM)"
TOOLS=$ROOT/target/docs-check
if [ ! -d "$TOOLS/node_modules/playwright-core" ]; then
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-audit --no-fund --silent "playwright-core@$PLAYWRIGHT_VERSION"
fi
cargo build -q -p bai-service
TMP=$(mktemp -d -t bai-docs-check.XXXXXX)
SIM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -i PATH="$PATH" HOME="${HOME:-/tmp}" BAI_ADDR="127.0.0.1:$PORT" BAI_DEV_SIM_ADDR="127.0.0.1:$SIM_PORT" \
    BAI_DATABASE_URL="sqlite://$TMP/bai.db" RUST_LOG=warn \
    "$ROOT/target/debug/bai-service" >"$TMP/service.log" 2>&1 &
SVC_PID=$!
trap 'kill "$SVC_PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 1 500); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/system/health" && break
    kill -0 "$SVC_PID" 2>/dev/null || { cat "$TMP/service.log" >&2; die "bai-service exited"; }
    sleep 0.02
done
# ES modules resolve packages from the script's own directory, so it runs from beside them.
cp "$ROOT/scripts/docs_check.mjs" "$TOOLS/"
node "$TOOLS/docs_check.mjs" "http://127.0.0.1:$PORT" &&
    echo "docs-check: Swagger UI login -> Authorize -> profile -> refresh-token all 200 on 127.0.0.1:$PORT"
