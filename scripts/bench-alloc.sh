#!/usr/bin/env bash
# Heap allocations per request (issue 16): the release binaries under valgrind's DHAT, which counts
# every allocation. Each scenario runs twice on a fresh process, with BENCH_ALLOC_FEW and
# BENCH_ALLOC_MANY sequential requests on one keep-alive connection (bench/alloc.py); the difference
# divided by the difference in requests is the cost of one request, with start-up, the first
# request's one-off work and shutdown cancelled out. Instruction-level tools count the same on a
# loaded machine, so unlike `just bench` this needs no quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-alloc: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

FEW=${BENCH_ALLOC_FEW:-200}
MANY=${BENCH_ALLOC_MANY:-1200}
PORT_BASE=${BENCH_PORT_BASE:-18290}
SVC=127.0.0.1:$PORT_BASE
SIM=127.0.0.1:$((PORT_BASE + 1))
HELLO=127.0.0.1:$((PORT_BASE + 2))
command -v valgrind >/dev/null || die "valgrind is required (apt-get install valgrind)"
command -v curl >/dev/null || die "curl is required"

cargo build --release -q -p bai-service -p wechat-sim -p bench
BIN=$(release_dir)
TMP=$(mktemp -d -t bai-alloc.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT

write_sim_seed "$TMP/seed.json"
RUST_LOG=warn "$BIN/wechat-sim" --addr "$SIM" --seed "$TMP/seed.json" >"$TMP/sim.log" 2>&1 &
PIDS+=($!)
wait_http "http://$SIM/__sim/openapi.json"

# Waits (60 s at most: valgrind is slow to start) until URL answers at all.
wait_slow() {
    for _ in $(seq 1 600); do
        curl -s -o /dev/null -m 2 -X POST "$1" && return 0
        sleep 0.1
    done
    die "nothing answers at $1"
}

# measure NAME COUNT PATH: sets TOTAL to "blocks bytes" allocated over the whole life of one
# process that served COUNT requests to PATH (after a login, for the token, when NAME is refresh).
# Not run in a subshell: one would inherit the EXIT trap and tear everything down when it ends.
measure() {
    local name=$1 count=$2 path=$3 out="$TMP/dhat-$1-$2.json" pid token=""
    if [ "$name" = hello ]; then
        valgrind --tool=dhat --dhat-out-file="$out" "$BIN/bench-hello" "$HELLO" >"$TMP/$name.log" 2>&1 &
        pid=$!
        PIDS+=("$pid")
        wait_slow "http://$HELLO/hello"
        python3 bench/alloc.py "$HELLO" /hello "$count" || die "$name failed"
        kill -TERM "$pid"
    else
        rm -f "$TMP"/bai.db*
        env BAI_ADDR="$SVC" BAI_DATABASE_URL="sqlite://$TMP/bai.db" BAI_WECHAT_API_BASE="http://$SIM" \
            BAI_RATE_LIMIT_PER_MIN=0 BAI_WECHAT_MAX_RPS=0 BAI_LOG_FORMAT=json \
            RUST_LOG=info,sqlx=warn,poem=info \
            valgrind --tool=dhat --dhat-out-file="$out" "$BIN/bai-service" >"$TMP/$name.log" 2>&1 &
        pid=$!
        PIDS+=("$pid")
        wait_slow "http://$SVC/api/system/health"
        if [ "$name" = refresh ]; then
            token=$(curl -s -X POST "http://$SVC/api/wechat/login" -H 'content-type: application/json' \
                -d '{"users_wx_code":"dev:alloc-user"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
            [ -n "$token" ] || die "could not log in"
        fi
        python3 bench/alloc.py "$SVC" "$path" "$count" "$token" || die "$name failed"
        kill -TERM "$pid"
    fi
    wait "$pid" 2>/dev/null || true
    [ -s "$out" ] || die "no DHAT output for $name (log: $(tail -3 "$TMP/$name.log"))"
    TOTAL=$(python3 bench/dhat_total.py "$out")
}

echo "| scenario | allocations per request | bytes allocated per request |"
echo "|---|---:|---:|"
declare -A PATHS=([hello]=/hello [helloworld]=/api/system/test-helloworld
    [health]=/api/system/health [refresh]=/api/wechat/refresh-token)
for name in ${BENCH_ALLOC_SCENARIOS:-hello helloworld health refresh}; do
    path=${PATHS[$name]:-}
    [ -n "$path" ] || die "unknown scenario $name (${!PATHS[*]})"
    log "$name: $FEW then $MANY requests under DHAT"
    measure "$name" "$FEW" "$path"
    read -r few_blocks few_bytes <<<"$TOTAL"
    measure "$name" "$MANY" "$path"
    read -r many_blocks many_bytes <<<"$TOTAL"
    awk -v n="$name" -v b1="$few_blocks" -v b2="$many_blocks" -v y1="$few_bytes" -v y2="$many_bytes" \
        -v r=$((MANY - FEW)) 'BEGIN {printf "| %s | %.1f | %.0f |\n", n, (b2 - b1) / r, (y2 - y1) / r}'
done
