#!/usr/bin/env bash
# `just bench`: release builds, wechat-sim + the service on SQLite in a temp dir (then, optionally,
# PostgreSQL), load from wrk in a separate process, and the results written into
# docs/benchmarks.md between the `bench:begin`/`bench:end` markers (the rest of the file is kept).
#
# Environment:
#   BENCH_DURATION     measured run per scenario (default 10s)
#   BENCH_WARMUP       warm-up per scenario, not measured (default 3s)
#   BENCH_CONNECTIONS  concurrent connections (default 16)
#   BENCH_THREADS      wrk threads (default 1: on a 2-core machine the load generator should take
#                      as little CPU from the server as it can)
#   BENCH_POSTGRES     1: also run the service on a throwaway PostgreSQL cluster (needs initdb/pg_ctl)
#   BENCH_POSTGRES_URL run on this PostgreSQL database too (it must be empty or a bai database)
#   BENCH_OUT          the markdown file to update (default docs/benchmarks.md; "-" = stdout only)
#   BENCH_SCENARIOS    space-separated subset of: hello helloworld health refresh login-new login-mix
#                      login-existing profile metrics ("metrics": health and refresh with Prometheus
#                      metrics off and on, two services side by side, runs alternated;
#                      "login-existing": BENCH_EXISTING_USERS registered users, default 200, each
#                      request a fresh single-use code minted at wechat-sim)
#   BENCH_METRICS_ROUNDS  alternated off/on rounds of the metrics comparison (default 3)
#   BENCH_RUST_LOG     the service's RUST_LOG (default: its own default, one info line per request)
#   BENCH_PORT_BASE    ports PORT_BASE..+5 are used (default 18090)
#   BENCH_PRELOAD_POCKETBASE  a PocketBase data dir imported (`bai-service import pocketbase`) into
#                      each database before its first start: the scenarios then run with its users
#                      in the tables (scripts/bench-growth.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

OUT=${BENCH_OUT:-docs/benchmarks.md}
SCENARIOS=${BENCH_SCENARIOS:-hello helloworld health refresh login-new login-mix login-existing profile metrics}
PORT_BASE=${BENCH_PORT_BASE:-18090}
SVC_ADDR=127.0.0.1:$PORT_BASE
SIM_ADDR=127.0.0.1:$((PORT_BASE + 1))
HELLO_ADDR=127.0.0.1:$((PORT_BASE + 2))
PG_PORT=$((PORT_BASE + 3))
METRICS_SVC_ADDR=127.0.0.1:$((PORT_BASE + 4))
METRICS_ADDR=127.0.0.1:$((PORT_BASE + 5))
RUN_ID=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/bench-common.sh
source "$(dirname "$0")/bench-common.sh"

# --- the load generator --------------------------------------------------------------------------
ensure_load_tools

# --- release binaries ----------------------------------------------------------------------------
log "building release binaries"
cargo build --release -q -p bai-service -p wechat-sim -p bench
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
BIN=${TARGET_DIR:-$ROOT/target}/release
for b in bai-service wechat-sim bench-hello bench-startup; do
    [ -x "$BIN/$b" ] || die "missing $BIN/$b"
done

TMP=$(mktemp -d -t bai-bench.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [ -n "${PG_STARTED:-}" ]; then
        runas_pg pg_ctl -D "$TMP/pg" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT


# --- wechat-sim, with quotas lifted so the bench measures us, not its rate limits ----------------
write_sim_seed "$TMP/seed.json"
RUST_LOG=warn "$BIN/wechat-sim" --addr "$SIM_ADDR" --seed "$TMP/seed.json" >"$TMP/sim.log" 2>&1 &
PIDS+=($!)
wait_http "http://$SIM_ADDR/__sim/openapi.json"

# --- wrk ---------------------------------------------------------------------------------------
# run_wrk SCENARIO URL TOKEN -> prints the BENCH_RESULT json
run_wrk() {
    local scenario=$1 url=$2 token=${3:-} codes=""
    # login-existing and profile spend single-use codes: a fresh batch for the warm-up and for
    # the run.
    local kind
    kind=$(minting_kind "$scenario")
    [ -n "$kind" ] && codes=$TMP/codes && mint_codes "$SIM_ADDR" "$WARMUP" "$codes" "$kind"
    BENCH_SCENARIO=$scenario BENCH_TOKEN=$token BENCH_RUN=$RUN_ID BENCH_THREADS=$THREADS BENCH_WARMUP=1 \
        BENCH_CODES=$codes wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s bench/wrk.lua "$url" >/dev/null
    [ -n "$codes" ] && mint_codes "$SIM_ADDR" "$DURATION" "$codes" "$kind"
    BENCH_SCENARIO=$scenario BENCH_TOKEN=$token BENCH_RUN=$RUN_ID BENCH_THREADS=$THREADS BENCH_CODES=$codes \
        wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s bench/wrk.lua "$url" |
        sed -n 's/^BENCH_RESULT //p'
}

RESULTS=() # "backend|scenario|json|peak_rss_kib"
declare -A LABEL=(
    [hello]='bare poem `hello` (framework limit)'
    [helloworld]='`POST /api/system/test-helloworld` (no database)'
    [health]='`POST /api/system/health`'
    [refresh]='`POST /api/wechat/refresh-token`'
    [login-new]='`POST /api/wechat/login`, new user each time'
    [login-mix]='`POST /api/wechat/login`, 90% returning users'
    [login-existing]='`POST /api/wechat/login`, registered users, fresh single-use codes'
    [profile]='`POST /api/wechat/profile`'
)

bench_scenario() { # BACKEND SCENARIO PID BASE_URL TOKEN
    local backend=$1 scenario=$2 pid=$3 base=$4 token=${5:-}
    # Reset the peak-RSS counter so VmHWM is this scenario's peak.
    echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
    log "$backend: $scenario (${WARMUP} warm-up, ${DURATION}, $CONNS connections)"
    local result
    result=$(run_wrk "$scenario" "$base" "$token")
    [ -n "$result" ] || die "wrk printed no result for $scenario"
    local hwm
    hwm=$(kib VmHWM "$pid")
    RESULTS+=("$backend|$scenario|$result|$hwm")
    printf '   %8s req/s  p50 %s ms  p99 %s ms  errors %s  peak RSS %s MiB\n' \
        "$(jget "$result" rps)" "$(ms "$(jget "$result" p50)")" "$(ms "$(jget "$result" p99)")" \
        "$(jget "$result" errors)" "$(mib "$hwm")" >&2
}

wants() { [[ " $SCENARIOS " == *" $1 "* ]]; }

# --- the framework's limit -----------------------------------------------------------------------
if wants hello; then
    "$BIN/bench-hello" "$HELLO_ADDR" >"$TMP/hello.log" 2>&1 &
    HELLO_PID=$!
    PIDS+=("$HELLO_PID")
    wait_http "http://$HELLO_ADDR/hello"
    bench_scenario "-" hello "$HELLO_PID" "http://$HELLO_ADDR"
    stop_pid "$HELLO_PID"
fi

# --- the service ---------------------------------------------------------------------------------
declare -A STARTUP_MS IDLE_RSS
# BAI_GUARD_TTL=0: the login mix logs the same users in again and again with their `dev:` codes;
# with the default 10 s guard a repeated code would answer 429. Every login still claims its guard
# row (the same upsert), the claim just expires at once.
# BAI_RATE_LIMIT_PER_MIN=0 BAI_WECHAT_MAX_RPS=0: wrk is one client address logging in thousands of
# times a second, which the per-client limit and the WeChat ceiling exist to refuse; the benchmark
# measures the service's throughput, so both are off.
service_cmd() { # DATABASE_URL [ADDR [EXTRA_ENV…]] -> the command line, one word per line
    local url=$1 addr=${2:-$SVC_ADDR}
    shift $(($# < 2 ? $# : 2))
    printf '%s\n' env "$@" BAI_ADDR="$addr" BAI_DATABASE_URL="$url" BAI_WECHAT_API_BASE="http://$SIM_ADDR" \
        BAI_GUARD_TTL=0 BAI_RATE_LIMIT_PER_MIN=0 BAI_WECHAT_MAX_RPS=0 BAI_LOG_FORMAT=json RUST_LOG="${BENCH_RUST_LOG:-info,sqlx=warn,poem=info}" \
        BAI_DB_MAX_CONNECTIONS="${BENCH_DB_MAX_CONNECTIONS:-10}" "$BIN/bai-service"
}

bench_service() { # BACKEND DATABASE_URL
    local backend=$1 url=$2 cmd
    mapfile -t cmd < <(service_cmd "$url")
    local logfile="$TMP/service-$backend.log"
    if [ -n "${BENCH_PRELOAD_POCKETBASE:-}" ]; then
        log "$backend: importing $BENCH_PRELOAD_POCKETBASE"
        BAI_DATABASE_URL=$url BAI_LOG_FORMAT=json "$BIN/bai-service" import pocketbase "$BENCH_PRELOAD_POCKETBASE" \
            >>"$logfile" 2>&1 || die "the import failed; its log: $(tail -5 "$logfile")"
    fi
    log "$backend: first start (creates and migrates the database)"
    "${cmd[@]}" >>"$logfile" 2>&1 &
    local pid=$!
    wait_http "http://$SVC_ADDR/api/system/health"
    stop_pid "$pid"

    log "$backend: start-up with an existing database"
    local out
    out=$("$BIN/bench-startup" "$SVC_ADDR" "$logfile" -- "${cmd[@]}") ||
        die "the service did not start; its log: $(tail -5 "$logfile")"
    # `env` execs the service, so the pid bench-startup prints is the service's.
    pid=${out%% *}
    PIDS+=("$pid")
    STARTUP_MS[$backend]=${out##* }
    sleep 1
    IDLE_RSS[$backend]=$(kib VmRSS "$pid")
    log "$backend: start-up ${STARTUP_MS[$backend]} ms, idle RSS $(mib "${IDLE_RSS[$backend]}") MiB"

    local base="http://$SVC_ADDR" token
    token=$(curl -s -X POST "$base/api/wechat/login" -H 'content-type: application/json' \
        -d '{"users_wx_code":"dev:bench-token-user"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    [ -n "$token" ] || die "could not log in to get a token"
    for scenario in helloworld health refresh login-new login-mix login-existing profile; do
        wants "$scenario" || continue
        if [ "$scenario" = login-existing ]; then
            log "$backend: registering the ${BENCH_EXISTING_USERS:-200} users of login-existing (not measured)"
            register_existing_users "$base"
        fi
        bench_scenario "$backend" "$scenario" "$pid" "$base" "$token"
    done
    stop_pid "$pid"
}

bench_service sqlite "sqlite://$TMP/bai.db"

# --- the cost of Prometheus metrics ----------------------------------------------------------------
# Two services side by side on SQLite, identical but for BAI_METRICS_ADDR; health and refresh run
# against each in turn, the order flipped every round so that drift in the machine's load falls on
# both. A scraper reads /metrics every 5 s meanwhile (Prometheus' usual interval is 15 s).
METRIC_RESULTS=() # "scenario|variant|rps|p99_us"
bench_metrics_cost() {
    local rounds=${BENCH_METRICS_ROUNDS:-3} off_cmd on_cmd
    mapfile -t off_cmd < <(service_cmd "sqlite://$TMP/metrics-off.db" "$SVC_ADDR")
    mapfile -t on_cmd < <(service_cmd "sqlite://$TMP/metrics-on.db" "$METRICS_SVC_ADDR" BAI_METRICS_ADDR="$METRICS_ADDR")
    "${off_cmd[@]}" >>"$TMP/service-metrics-off.log" 2>&1 &
    local off_pid=$!
    PIDS+=("$off_pid")
    "${on_cmd[@]}" >>"$TMP/service-metrics-on.log" 2>&1 &
    local on_pid=$!
    PIDS+=("$on_pid")
    wait_http "http://$SVC_ADDR/api/system/health"
    wait_http "http://$METRICS_SVC_ADDR/api/system/health"
    curl -sf -o /dev/null "http://$METRICS_ADDR/metrics" || die "no /metrics on $METRICS_ADDR"
    (while sleep 5; do curl -s -o /dev/null "http://$METRICS_ADDR/metrics"; done) &
    local scraper=$!
    PIDS+=("$scraper")
    declare -A base=([off]="http://$SVC_ADDR" [on]="http://$METRICS_SVC_ADDR") token
    local variant
    for variant in off on; do
        token[$variant]=$(curl -s -X POST "${base[$variant]}/api/wechat/login" -H 'content-type: application/json' \
            -d '{"users_wx_code":"dev:bench-token-user"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
        [ -n "${token[$variant]}" ] || die "could not log in to the metrics-$variant service"
    done
    local round scenario order result
    for round in $(seq 1 "$rounds"); do
        order="off on"
        [ $((round % 2)) -eq 0 ] && order="on off"
        for scenario in health refresh; do
            for variant in $order; do
                log "metrics $variant: $scenario (round $round of $rounds)"
                result=$(run_wrk "$scenario" "${base[$variant]}" "${token[$variant]}")
                [ -n "$result" ] || die "wrk printed no result for $scenario (metrics $variant)"
                METRIC_RESULTS+=("$scenario|$variant|$(jget "$result" rps)|$(jget "$result" p99)")
                printf '   %8s req/s  p99 %s ms\n' "$(jget "$result" rps)" "$(ms "$(jget "$result" p99)")" >&2
            done
        done
    done
    stop_pid "$scraper"
    stop_pid "$off_pid"
    stop_pid "$on_pid"
}
median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
metric_values() { # SCENARIO VARIANT FIELD(3=rps, 4=p99)
    for r in "${METRIC_RESULTS[@]}"; do
        IFS='|' read -r s v rps p99 <<<"$r"
        [ "$s" = "$1" ] && [ "$v" = "$2" ] && { [ "$3" = 3 ] && echo "$rps" || echo "$p99"; }
    done
}
if wants metrics; then bench_metrics_cost; fi

PG_URL=${BENCH_POSTGRES_URL:-}
if [ -z "$PG_URL" ] && [ "${BENCH_POSTGRES:-0}" = 1 ]; then start_throwaway_pg "$TMP" "$PG_PORT"; fi
if [ -n "$PG_URL" ]; then bench_service postgres "$PG_URL"; fi

# --- the report ----------------------------------------------------------------------------------
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- service wechat-sim bench Cargo.toml Cargo.lock 2>/dev/null || COMMIT="$COMMIT (with uncommitted changes)"
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
CORES=$(nproc)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

report() {
    local hello_rps="" health_rps=""
    for r in "${RESULTS[@]}"; do
        IFS='|' read -r b s j h <<<"$r"
        [ "$s" = hello ] && hello_rps=$(jget "$j" rps)
    done
    echo "Generated by \`scripts/bench.sh\` (\`just bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$COMMIT\`."
    echo
    echo "- Machine: $CPU, $CORES cores, $MEM RAM, $(uname -sr); load average (1/5/15 min) $LOAD_START at the start, $LOAD_END at the end (other work on the machine makes the numbers noisy; compare rows of one run)."
    echo "- Load: \`wrk\` ($(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)), $CONNS connections, $THREADS thread(s), ${WARMUP} warm-up then ${DURATION} measured per scenario; wrk, the service and wechat-sim share the same $CORES cores."
    echo "- Service: release build, \`BAI_LOG_FORMAT=json\`, \`RUST_LOG=${BENCH_RUST_LOG:-info,sqlx=warn,poem=info}\` (one log line per request, to a file), \`BAI_DB_MAX_CONNECTIONS=${BENCH_DB_MAX_CONNECTIONS:-10}\`, \`BAI_GUARD_TTL=0\`, \`BAI_RATE_LIMIT_PER_MIN=0\`, \`BAI_WECHAT_MAX_RPS=0\` (see the set-up notes), WeChat = wechat-sim (release) over loopback HTTP."
    echo
    for backend in sqlite postgres; do
        [ -n "${STARTUP_MS[$backend]:-}" ] || continue
        echo "- **$backend**: start-up to the first healthy answer (existing database) **${STARTUP_MS[$backend]} ms**; idle RSS **$(mib "${IDLE_RSS[$backend]}") MiB**."
    done
    echo
    echo "| backend | scenario | requests/s | vs health | p50 ms | p90 ms | p99 ms | max ms | errors | peak RSS MiB |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for r in "${RESULTS[@]}"; do
        IFS='|' read -r b s j h <<<"$r"
        local rps
        rps=$(jget "$j" rps)
        if [ "$s" = health ]; then health_rps=$rps; fi
        local ratio=""
        if [ "$s" = hello ]; then
            ratio=""
        elif { [ "$s" = health ] || [ "$s" = helloworld ]; } && [ -n "$hello_rps" ]; then
            ratio=$(awk -v a="$rps" -v b="$hello_rps" 'BEGIN {printf "%.0f%% of hello", 100 * a / b}')
        elif [ "$s" != health ] && [ -n "$health_rps" ]; then
            ratio=$(awk -v a="$rps" -v b="$health_rps" 'BEGIN {printf "%.0f%%", 100 * a / b}')
        fi
        printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n' "$b" "${LABEL[$s]}" "$rps" "$ratio" \
            "$(ms "$(jget "$j" p50)")" "$(ms "$(jget "$j" p90)")" "$(ms "$(jget "$j" p99)")" \
            "$(ms "$(jget "$j" max)")" "$(jget "$j" errors)" "$(mib "$h")"
    done
}

metrics_report() {
    [ ${#METRIC_RESULTS[@]} -gt 0 ] || return 0
    echo
    echo "**The cost of metrics** (SQLite, \`BAI_METRICS_ADDR\` unset vs set with a scrape every 5 s; two services side by side, ${BENCH_METRICS_ROUNDS:-3} alternated rounds, medians; each run ${DURATION}):"
    echo
    echo "| scenario | metrics off, req/s | metrics on, req/s | cost | p99 ms off | p99 ms on | all runs off / on, req/s |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    local s off on p99off p99on
    for s in health refresh; do
        off=$(metric_values "$s" off 3 | median)
        on=$(metric_values "$s" on 3 | median)
        p99off=$(metric_values "$s" off 4 | median)
        p99on=$(metric_values "$s" on 4 | median)
        printf '| %s | %.0f | %.0f | %s | %s | %s | %s / %s |\n' "${LABEL[$s]}" "$off" "$on" \
            "$(awk -v a="$off" -v b="$on" 'BEGIN {printf "%+.1f%%", 100 * (a - b) / a}')" \
            "$(ms "$p99off")" "$(ms "$p99on")" \
            "$(metric_values "$s" off 3 | awk '{printf "%s%.0f", (NR > 1 ? ", " : ""), $1}')" \
            "$(metric_values "$s" on 3 | awk '{printf "%s%.0f", (NR > 1 ? ", " : ""), $1}')"
    done
}

REPORT=$(report; metrics_report)
printf '\n%s\n' "$REPORT"
if [ "$OUT" != "-" ]; then
    mkdir -p "$(dirname "$OUT")"
    [ -f "$OUT" ] || printf '# Benchmarks\n\n<!-- bench:begin -->\n<!-- bench:end -->\n' >"$OUT"
    grep -q '<!-- bench:begin -->' "$OUT" || printf '\n<!-- bench:begin -->\n<!-- bench:end -->\n' >>"$OUT"
    printf '%s\n' "$REPORT" >"$TMP/report.md"
    awk -v report="$TMP/report.md" '
        /<!-- bench:begin -->/ { print; while ((getline line < report) > 0) print line; skip = 1; next }
        /<!-- bench:end -->/ { skip = 0 }
        !skip { print }
    ' "$OUT" >"$TMP/out.md"
    cp "$TMP/out.md" "$OUT"
    log "wrote $OUT"
fi
