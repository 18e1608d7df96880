#!/usr/bin/env bash
# Cost as the user table grows: for each size in BENCH_GROWTH_SIZES (default "1000 100000
# 1000000"), a generated PocketBase database with that many users is imported into a fresh
# database (scripts/lib/pocketbase-gen.sh, the same generator as scripts/bench-import.sh), then
# `scripts/bench.sh` runs the per-user scenarios (refresh, login with 90% returning users, profile)
# against it. Prints one markdown table, requests/s per size, and the change from the smallest.
#
#   BENCH_GROWTH_SIZES  user counts (default "1000 100000 1000000")
#   BENCH_POSTGRES=1    also on a throwaway PostgreSQL cluster (as scripts/bench.sh)
#   BENCH_DURATION, BENCH_WARMUP, …  passed on to scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench-growth: %s\n' "$*" >&2; exit 1; }
command -v sqlite3 >/dev/null || die "sqlite3 is required (apt-get install sqlite3)"
# shellcheck source=scripts/lib/pocketbase-gen.sh
source scripts/lib/pocketbase-gen.sh

SIZES=${BENCH_GROWTH_SIZES:-1000 100000 1000000}
SCENARIOS="refresh login-mix profile"
TMP=$(mktemp -d -t bai-bench-growth.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

declare -A RPS
for n in $SIZES; do
    log "$n users: generating the PocketBase database"
    rm -rf "$TMP/pb"
    generate_pocketbase "$n" "$TMP/pb"
    BENCH_PRELOAD_POCKETBASE="$TMP/pb" BENCH_SCENARIOS="$SCENARIOS" BENCH_OUT="$TMP/report-$n.md" \
        BENCH_PORT_BASE=${BENCH_PORT_BASE:-18390} bash scripts/bench.sh >/dev/null
    while IFS='|' read -r _ backend scenario rps _; do
        backend=$(echo "$backend" | xargs)
        for s in $SCENARIOS; do
            case "$scenario" in
            *refresh-token*) key=refresh ;;
            *returning*) key=login-mix ;;
            *profile*) key=profile ;;
            *) continue ;;
            esac
            [ "$key" = "$s" ] && RPS[$backend/$s/$n]=$(echo "$rps" | xargs)
        done
    done < <(grep -E '^\| (sqlite|postgres) \|' "$TMP/report-$n.md")
done

first=${SIZES%% *}
echo "| backend | scenario | $(printf '%s users | ' $SIZES)change ${first} → ${SIZES##* } |"
echo "|---|---|$(printf -- '---:|%.0s' $SIZES)---:|"
for backend in sqlite postgres; do
    for s in $SCENARIOS; do
        [ -n "${RPS[$backend/$s/$first]:-}" ] || continue
        row="| $backend | $s |"
        for n in $SIZES; do row+=" ${RPS[$backend/$s/$n]:-} |"; done
        last=${SIZES##* }
        row+=" $(awk -v a="${RPS[$backend/$s/$first]}" -v b="${RPS[$backend/$s/$last]:-0}" 'BEGIN {printf "%+.1f%%", 100 * (b - a) / a}') |"
        echo "$row"
    done
done
