#!/usr/bin/env bash
# Scrapes the metrics listener after a full flow (login, duplicate login, profile, refresh, an
# unknown path) and checks the exposition with `promtool check metrics` (Debian's `prometheus`
# package, installed when missing). Ports: 18090 (API), 18091 (simulator), 19464 (metrics).
# BAI_BIN picks the binary (default: a debug build made here).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null; then
    (apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y --no-install-recommends prometheus >/dev/null; })
fi
# shellcheck source=scripts/lib/service.sh
source scripts/lib/service.sh
api=localhost:18090
start_service "$api/readyz" BAI_ADDR=127.0.0.1:18090 BAI_DEV_SIM_ADDR=127.0.0.1:18091 \
    BAI_METRICS_ADDR=127.0.0.1:19464

json='content-type: application/json'
login=$(curl -s -X POST "$api/api/wechat/login" -H "$json" -d '{"users_wx_code": "dev:promtool"}')
token=$(echo "$login" | sed -E 's/.*"token":"([^"]+)".*/\1/')
curl -s -o /dev/null -X POST "$api/api/wechat/login" -H "$json" -d '{"users_wx_code": "dev:promtool"}'
curl -s -o /dev/null -X POST "$api/api/wechat/profile" -H "authorization: Bearer $token" -H "$json" \
    -d '{"users_name": "张三", "users_phone_code": "dev-phone:13800138000", "users_picture": "https://example.com/a.png"}'
curl -s -o /dev/null -X POST "$api/api/wechat/refresh-token" -H "authorization: Bearer $token"
curl -s -o /dev/null "$api/no-such-path"
curl -s -o /dev/null "$api/livez"

curl -sf localhost:19464/metrics >"$work/scrape.txt"
for series in 'bai_http_requests_total{route="/api/wechat/login"' 'bai_wechat_calls_total{api="code2session",outcome="ok"}' \
    'bai_guard_claims_total{event="held"}' 'route="unmatched"' process_resident_memory_bytes; do
    grep -qF "$series" "$work/scrape.txt" || { echo "no $series in the scrape:" >&2; cat "$work/scrape.txt" >&2; exit 1; }
done
promtool check metrics <"$work/scrape.txt"
echo "metrics-check: $(grep -vc '^#' "$work/scrape.txt") samples, promtool finds no problem"
