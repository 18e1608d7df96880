#!/usr/bin/env bash
# What a flood of idle connections leaves behind: the service (release, SQLite) takes
# BENCH_FLOOD_CONNECTIONS keep-alive connections (default 5000), one health request on each, held
# idle for 3 s and then all closed (bench/flood.py); its RSS is read before, at the peak, and 1 s to
# 60 s after the close. One row per variant: the same binary under different allocator settings
# (BENCH_FLOOD_VARIANTS, each `name:ENV=VALUE,ENV=VALUE` or just `name`), plus any extra binary
# named in BENCH_FLOOD_BINARIES (`name:/path/to/bai-service`), e.g. one built with another allocator.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-flood: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
ensure_load_tools

N=${BENCH_FLOOD_CONNECTIONS:-5000}
VARIANTS=${BENCH_FLOOD_VARIANTS:-default arena2:MALLOC_ARENA_MAX=2}
PORT_BASE=${BENCH_PORT_BASE:-18190}
SVC=127.0.0.1:$PORT_BASE
SIM=127.0.0.1:$((PORT_BASE + 1))
ulimit -n $((N * 2 + 1024)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cargo build --release -q -p bai-service -p wechat-sim
BIN=$(release_dir)
TMP=$(mktemp -d -t bai-flood.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT

RUST_LOG=warn "$BIN/wechat-sim" --addr "$SIM" >"$TMP/sim.log" 2>&1 &
PIDS+=($!)
wait_http "http://$SIM/__sim/openapi.json"

flood() { # NAME BINARY ENV… -> one markdown row
    local name=$1 bin=$2
    shift 2
    rm -f "$TMP"/bai.db*
    env "$@" BAI_ADDR="$SVC" BAI_DATABASE_URL="sqlite://$TMP/bai.db" BAI_WECHAT_API_BASE="http://$SIM" \
        BAI_RATE_LIMIT_PER_MIN=0 RUST_LOG=warn "$bin" >"$TMP/service-$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_http "http://$SVC/api/system/health"
    sleep 1
    local idle
    idle=$(kib VmRSS "$pid")
    echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
    log "$name: flood of $N connections"
    local result
    result=$(python3 bench/flood.py 127.0.0.1 "$PORT_BASE" "$N" 3)
    local peak after=()
    peak=$(kib VmHWM "$pid")
    local t=0 at
    for at in 1 5 15 30 60; do
        sleep $((at - t))
        t=$at
        after+=("$(mib "$(kib VmRSS "$pid")")")
    done
    stop_pid "$pid"
    printf '| %s | %s | %s | %s | %s |\n' "$name" "$result" "$(mib "$idle")" "$(mib "$peak")" "$(printf '%s / ' "${after[@]}" | sed 's| / $||')"
}

echo "Flood: $N keep-alive connections, one health request each, held 3 s, closed; RSS in MiB."
echo
echo "| variant | connections | idle | peak | after close: 1 s / 5 s / 15 s / 30 s / 60 s |"
echo "|---|---|---:|---:|---|"
for v in $VARIANTS; do
    name=${v%%:*}
    envs=()
    [[ "$v" == *:* ]] && IFS=',' read -r -a envs <<<"${v#*:}"
    flood "$name" "$BIN/bai-service" "${envs[@]}"
done
for b in ${BENCH_FLOOD_BINARIES:-}; do
    flood "${b%%:*}" "${b#*:}"
done
