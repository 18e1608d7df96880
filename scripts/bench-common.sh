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
