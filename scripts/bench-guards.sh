#!/usr/bin/env bash
# `just bench-guards`: the login guard table under a login storm. The service (release) runs with
# its DEFAULT guard TTL and purge interval (10 s and 60 s; not bench.sh's BAI_GUARD_TTL=0), every
# login claims a new `request_guards` row with a fresh code (wrk, login-new), and the rows are
# counted every few seconds during the storm and after it: the purge task (service/src/startup.rs,
# store/guards.rs) must keep the table near rate × (purge interval + TTL), not growing with the
# number of logins. SQLite, then PostgreSQL when BENCH_POSTGRES=1 or BENCH_POSTGRES_URL is set.
#
# Environment:
#   BENCH_GUARDS_STORM     length of the storm (default 70s: past the purge at 60 s)
#   BENCH_GUARDS_AFTER     seconds sampled after the storm (default 60: the next purge empties it)
#   BENCH_GUARDS_STEP      seconds between samples (default 5)
#   BENCH_GUARDS_PURGE_INTERVAL  BAI_GUARD_PURGE_INTERVAL for the service (default: its own, 60)
#   BENCH_CONNECTIONS      wrk connections (default 16)
#   BENCH_POSTGRES, BENCH_POSTGRES_URL  as in scripts/bench.sh
#   BENCH_PORT_BASE        ports PORT..PORT+2 (default 18290)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-guards: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
ensure_load_tools

STORM=${BENCH_GUARDS_STORM:-70s}
AFTER=${BENCH_GUARDS_AFTER:-60}
STEP=${BENCH_GUARDS_STEP:-5}
PORT_BASE=${BENCH_PORT_BASE:-18290}
SVC=127.0.0.1:$PORT_BASE
SIM=127.0.0.1:$((PORT_BASE + 1))
PG_PORT=$((PORT_BASE + 2))
RUN_ID=g$(date +%s)

cargo build --release -q -p bai-service -p wechat-sim
BIN=$(release_dir)
TMP=$(mktemp -d -t bai-guards.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [ -n "${PG_STARTED:-}" ]; then runas_pg pg_ctl -D "$TMP/pg" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

write_sim_seed "$TMP/seed.json"
RUST_LOG=warn "$BIN/wechat-sim" --addr "$SIM" --seed "$TMP/seed.json" >"$TMP/sim.log" 2>&1 &
PIDS+=($!)
wait_http "http://$SIM/__sim/openapi.json"

count() { # BACKEND URL TABLE -> its row count
    case $1 in
    sqlite) sqlite3 "file:${2#sqlite://}?mode=ro" "SELECT count(*) FROM $3" 2>/dev/null || echo "?" ;;
    postgres) psql "$2" -Atc "SELECT count(*) FROM $3" 2>/dev/null || echo "?" ;;
    esac
}

storm() { # BACKEND DATABASE_URL: appends its samples to $TMP/rows, its totals to $TMP/totals
    local backend=$1 url=$2 extra=()
    [ -n "${BENCH_GUARDS_PURGE_INTERVAL:-}" ] && extra=(BAI_GUARD_PURGE_INTERVAL="$BENCH_GUARDS_PURGE_INTERVAL")
    # Rate limits off as in bench.sh (one client address, thousands of logins a second); the
    # guard's TTL and purge interval are the defaults.
    env "${extra[@]}" BAI_ADDR="$SVC" BAI_DATABASE_URL="$url" BAI_WECHAT_API_BASE="http://$SIM" \
        BAI_RATE_LIMIT_PER_MIN=0 BAI_WECHAT_MAX_RPS=0 RUST_LOG=warn \
        "$BIN/bai-service" >"$TMP/service-$backend.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_http "http://$SVC/api/system/health"
    log "$backend: login storm for $STORM ($CONNS connections), rows counted every $STEP s, then ${AFTER} s after"
    BENCH_SCENARIO=login-new BENCH_RUN="$RUN_ID-$backend" BENCH_THREADS=1 \
        wrk -t1 -c"$CONNS" -d"$STORM" -s bench/wrk.lua "http://$SVC" >"$TMP/wrk-$backend.out" &
    local wrk_pid=$! start=$SECONDS t phase=storm after_end=""
    while :; do
        t=$((SECONDS - start))
        if [ "$phase" = storm ] && ! kill -0 "$wrk_pid" 2>/dev/null; then
            phase=after
            after_end=$((t + AFTER))
        fi
        printf '| %s | %s | %s | %s | %s |\n' "$backend" "$t" "$phase" \
            "$(count "$backend" "$url" request_guards)" "$(count "$backend" "$url" tbl_auth_users)" |
            tee -a "$TMP/rows" >&2
        [ -n "$after_end" ] && [ "$t" -ge "$after_end" ] && break
        sleep "$STEP"
    done
    wait "$wrk_pid" || true
    local result
    result=$(sed -n 's/^BENCH_RESULT //p' "$TMP/wrk-$backend.out")
    log "$backend: $(jget "$result" requests) logins, $(jget "$result" rps) req/s, errors $(jget "$result" errors)"
    printf '| %s | %s | %.0f | %s | %s |\n' "$backend" "$(jget "$result" requests)" "$(jget "$result" rps)" \
        "$(jget "$result" errors)" "$(awk '$2 == "'"$backend"'" && $8 ~ /^[0-9]+$/ && $8 > m {m = $8} END {print m + 0}' "$TMP/rows")" \
        >>"$TMP/totals"
    stop_pid "$pid"
}

storm sqlite "sqlite://$TMP/bai.db"
PG_URL=${BENCH_POSTGRES_URL:-}
if [ -z "$PG_URL" ] && [ "${BENCH_POSTGRES:-0}" = 1 ]; then start_throwaway_pg "$TMP" "$PG_PORT"; fi
if [ -n "$PG_URL" ]; then
    command -v psql >/dev/null || die "PostgreSQL needs psql to count rows"
    storm postgres "$PG_URL"
fi

echo
echo "Guard table under a login storm: \`wrk\` login-new (a fresh code per login) for $STORM, $CONNS connections;"
echo "service defaults: guard TTL 10 s, purge every ${BENCH_GUARDS_PURGE_INTERVAL:-60} s; rows counted every $STEP s (t from the storm's start)."
echo
echo "| backend | t s | phase | guard rows | users (logins so far) |"
echo "|---|---:|---|---:|---:|"
cat "$TMP/rows"
echo
echo "| backend | logins in the storm | logins/s | errors | most guard rows seen |"
echo "|---|---:|---:|---:|---:|"
cat "$TMP/totals"
