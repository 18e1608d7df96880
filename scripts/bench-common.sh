# Shell helpers shared by scripts/bench.sh and scripts/bench-pocketbase.sh; sourced, not run.
# The sourcing script defines log() and die() first.

# The load both scripts apply (their headers document the knobs).
DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-3s}
CONNS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-1}

ensure_load_tools() { # wrk (installed from Debian when missing) and curl
    if ! command -v wrk >/dev/null; then
        log "installing wrk (Debian package)"
        local sudo=
        [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get install -y -qq wrk >/dev/null 2>&1 ||
            { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq wrk >/dev/null; } ||
            die "could not install wrk; install it (apt-get install wrk) and re-run"
    fi
    command -v curl >/dev/null || die "curl is required"
}
wait_http() { # URL: until it answers at all (any status), 10 s at most
    for _ in $(seq 1 1000); do
        curl -s -o /dev/null -m 1 -X POST "$1" && return 0
        sleep 0.01
    done
    die "nothing answers at $1"
}
stop_pid() { # PID: SIGTERM, then SIGKILL after 5 s
    kill -TERM "$1" 2>/dev/null || return 0
    for _ in $(seq 1 500); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.01; done
    kill -KILL "$1" 2>/dev/null || true
}
# release_dir: where cargo puts the release binaries (CARGO_TARGET_DIR respected).
release_dir() {
    echo "$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release"
}
kib() { awk '/^'"$1"':/ {print $2}' "/proc/$2/status"; } # FIELD PID: e.g. VmHWM in KiB
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
jget() { sed -n 's/.*"'"$2"'":\([0-9.]*\).*/\1/p' <<<"$1"; } # JSON KEY: a number from wrk.lua's result
ms() { awk -v us="$1" 'BEGIN {printf "%.2f", us / 1000}'; }

# write_sim_seed FILE: wechat-sim's quotas lifted, so a bench measures the server, not the
# simulator's rate limits (100 logins per user a minute, 10 000 phone numbers a minute).
write_sim_seed() {
    cat >"$1" <<'JSON'
{"limits": {"code2session_per_user_per_minute": 1000000000,
            "code2session_per_app_per_day": 1000000000,
            "phone_number_per_minute": 1000000000}}
JSON
}

# The login-existing scenario: BENCH_EXISTING_USERS users (default 200) registered before the run,
# then logged in with fresh single-use codes minted at wechat-sim (bench/mint.lua).
register_existing_users() { # BASE_URL: their first logins (dev: codes), not measured
    seq 0 $((${BENCH_EXISTING_USERS:-200} - 1)) | xargs -P 4 -I{} curl -s -o /dev/null -X POST \
        "$1/api/wechat/login" -H 'content-type: application/json' -d '{"users_wx_code":"dev:bench-ex-{}"}'
}
# mint_codes SIM_ADDR DURATION FILE [login|phone]: as many single-use codes (login codes by
# default; bench/mint.lua) as wechat-sim mints in twice DURATION with the bench's connections. Minting is cheaper than the login that spends a code (which calls
# the same simulator and then the database), but on a busy machine the two rates came within 1.4×
# of each other in one second: twice the time keeps a run of DURATION from using them all up.
mint_codes() {
    local secs kind=${4:-login}
    secs=$(seconds "$2")
    BENCH_MINT=$kind BENCH_CODES_OUT=$3 wrk -t1 -c"$CONNS" -d"$((secs * 2))s" -s bench/mint.lua "http://$1" >/dev/null
    [ -s "$3" ] || die "wechat-sim at $1 minted no $kind codes"
    log "minted $(wc -l <"$3") single-use $kind codes in $((secs * 2)) s (for a ${2} run)"
}
# minting_kind SCENARIO: the kind of single-use codes the scenario spends, if any.
minting_kind() {
    case $1 in
    login-existing) echo login ;;
    profile) echo phone ;;
    esac
}
seconds() { # a wrk duration (10, 10s, 2m, 1h) in whole seconds
    case $1 in
    *s) echo "${1%s}" ;;
    *m) echo $((${1%m} * 60)) ;;
    *h) echo $((${1%h} * 3600)) ;;
    *) echo "$1" ;;
    esac
}

runas_pg() { # as the postgres user when run as root (initdb refuses root)
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# start_throwaway_pg TMP PORT: a PostgreSQL cluster in TMP/pg (BENCH_POSTGRES=1); sets PG_URL and
# PG_STARTED (the caller's cleanup stops it: runas_pg pg_ctl -D TMP/pg -m immediate stop).
start_throwaway_pg() {
    if ! command -v initdb >/dev/null || ! command -v pg_ctl >/dev/null; then
        die "BENCH_POSTGRES=1 needs initdb and pg_ctl"
    fi
    log "postgres: a throwaway cluster on port $2"
    mkdir -p "$1/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$1/pg" && chmod 755 "$1"
    runas_pg initdb -D "$1/pg" -U bench -A trust >/dev/null
    runas_pg pg_ctl -D "$1/pg" -l "$1/pg/log" -w \
        -o "-p $2 -k $1/pg -c listen_addresses=127.0.0.1" start >/dev/null
    PG_STARTED=1
    PG_URL="postgres://bench@127.0.0.1:$2/postgres"
}
