# Starting bai-service for a check script (readme-check, metrics-check); sourced, not run, from
# the repository root. After `start_service READY_URL [VAR=VALUE...]`, $work is the fresh
# temporary directory the service runs in (its output in $work/service.log) and $pid its
# process; on exit the service is stopped and $work removed.

# BAI_BIN, or a debug build made here.
service_bin() {
    if [[ -n "${BAI_BIN:-}" ]]; then
        printf '%s\n' "$BAI_BIN"
    else
        cargo build -q -p bai-service
        printf '%s\n' "$PWD/target/debug/bai-service"
    fi
}

# READY_URL [VAR=VALUE...]: starts the service with those variables added to the environment and
# returns once READY_URL answers 2xx; fails with the service's output after 10 s or if it exits.
start_service() {
    local ready=$1 bin
    shift
    bin="$(service_bin)"
    work="$(mktemp -d)"
    trap 'kill "${pid:-}" 2>/dev/null || true; wait "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
    (cd "$work" && exec env "$@" "$bin" >"$work/service.log" 2>&1) &
    pid=$!
    for _ in $(seq 1 100); do
        curl -sf -o /dev/null "$ready" && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "bai-service did not answer at $ready:" >&2
    cat "$work/service.log" >&2
    return 1
}
