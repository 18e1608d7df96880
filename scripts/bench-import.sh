#!/usr/bin/env bash
# `bai-service import pocketbase` timings: generates PocketBase-shaped databases (PocketBase
# 0.40.6's own layout, tests/fixtures/pocketbase-0.40.6.sql, plus N users: half with a complete
# profile, a third linked to one of 1 000 companies, a tenth with an email, bcrypt-length password
# hashes) and imports
# each into a fresh SQLite file (and a fresh PostgreSQL database when BENCH_POSTGRES_URL is set,
# e.g. postgres://postgres@127.0.0.1:5432/postgres). Prints a markdown table; wall-clock time of
# the whole command (reading, planning, the one write transaction, migrations of the new target)
# with its CPU time (user + system), and the 1-minute load average just before it: other builds
# share this machine, and wall-clock minus CPU is mostly waiting for a core.
#
#   BENCH_IMPORT_SIZES  user counts (default "10000 100000 1000000")
#   BENCH_POSTGRES_URL  adds the PostgreSQL target
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
log() { echo "bench-import: $*" >&2; }
die() { log "$*"; exit 1; }
command -v sqlite3 >/dev/null || die "sqlite3 is required (apt-get install sqlite3)"
[ -x /usr/bin/time ] || die "GNU time is required (apt-get install time)"
SIZES=${BENCH_IMPORT_SIZES:-10000 100000 1000000}

log "building bai-service (release)"
cargo build --release -q -p bai-service
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
BIN=${TARGET_DIR:-$ROOT/target}/release/bai-service
TMP=$(mktemp -d -t bai-bench-import.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# shellcheck source=scripts/lib/pocketbase-gen.sh
source scripts/lib/pocketbase-gen.sh

load() { cut -d' ' -f1 /proc/loadavg; }

seconds() { # CMD...: runs it, prints "WALL CPU": wall-clock and user+system CPU seconds
    /usr/bin/time -f '%e %U %S' -o "$TMP/time.txt" "$@" >"$TMP/out.txt" 2>&1 ||
        { cat "$TMP/out.txt" >&2; die "failed: $*"; }
    awk '{printf "%.2f s (CPU %.2f s)", $1, $2 + $3}' "$TMP/time.txt"
}

echo "| users | target | import | re-run (no-op) | load before |"
echo "|---:|---|---:|---:|---:|"
for n in $SIZES; do
    log "generating a PocketBase database with $n users"
    rm -rf "$TMP"/pb-* "$TMP"/target-*
    generate_pocketbase "$n" "$TMP/pb-$n"
    url="sqlite://$TMP/target-$n/bai.db"
    before=$(load)
    first=$(BAI_DATABASE_URL=$url seconds "$BIN" import pocketbase "$TMP/pb-$n")
    again=$(BAI_DATABASE_URL=$url seconds "$BIN" import pocketbase "$TMP/pb-$n")
    echo "| $n | SQLite | $first | $again | $before |"
    if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
        db=bai_bench_import_$$_$n
        server=${BENCH_POSTGRES_URL%/*}
        psql -q "$BENCH_POSTGRES_URL" -c "CREATE DATABASE $db" >/dev/null
        before=$(load)
        first=$(BAI_DATABASE_URL=$server/$db seconds "$BIN" import pocketbase "$TMP/pb-$n")
        again=$(BAI_DATABASE_URL=$server/$db seconds "$BIN" import pocketbase "$TMP/pb-$n")
        psql -q "$BENCH_POSTGRES_URL" -c "DROP DATABASE $db" >/dev/null
        echo "| $n | PostgreSQL | $first | $again | $before |"
    fi
done
