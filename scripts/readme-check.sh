#!/usr/bin/env bash
# Runs the README's "Try it" curl block, as pasted, against a zero-config service started in a
# temporary directory, and checks that each step answered as the README says.
# BAI_BIN picks the binary (default: a debug build made here).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/service.sh
source scripts/lib/service.sh
start_service localhost:8090/api/system/health

python3 - "$work/try.sh" <<'PY'
import sys
text = open("README.md", encoding="utf-8").read()
start = text.index("# 1. Log in. `dev:")
end = text.index("```", start)
open(sys.argv[1], "w", encoding="utf-8").write(text[start:end])
PY

out="$(bash "$work/try.sh")"
for expected in '"status":"register_success"' '"status":"update_success"' '"users_type":"注册用户"' '"msg":"刷新成功"'; do
    if ! grep -qF "$expected" <<<"$out"; then
        echo "README 'Try it' block: no $expected in its output:" >&2
        echo "$out" >&2
        exit 1
    fi
done
echo "README 'Try it' block: all four steps answered as documented"
