#!/usr/bin/env bash
# `just sdk-check`: WeChat SDKs we did not write, unchanged, against wechat-sim through its
# intercepting proxy (wechat-sim/README.md, "Unchanged SDKs").
#
# Starts the simulator (debug build of the wechat-sim crate only) with --proxy-addr on free
# ports and runs
#   1. Python wechatpy (scripts/sdk-check/wechatpy_check.py) with HTTPS_PROXY and
#      REQUESTS_CA_BUNDLE: access token, wxa.code_to_session for a minted code, the reuse
#      error 40163 as wechatpy's WeChatClientException;
#   2. Node node-easywechat (scripts/sdk-check/easywechat_check.js) with NODE_EXTRA_CA_CERTS
#      and global-agent preloaded through NODE_OPTIONS: access token, codeToSession, 40163;
#   3. each SDK once more without the CA: it must fail its TLS handshake, which proves the
#      calls really went through the proxy's TLS and not around it.
# Packages are pinned (scripts/sdk-check/requirements.txt, package-lock.json) and cached in
# $SDK_CACHE (default: sdk-cache in cargo's target dir), so a second run installs nothing.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'sdk-check: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is required"
command -v node >/dev/null || die "node (20 or later) is required"
command -v npm >/dev/null || die "npm is required"
command -v curl >/dev/null || die "curl is required"

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
TARGET_DIR=${TARGET_DIR:-$ROOT/target}
CACHE=${SDK_CACHE:-$TARGET_DIR/sdk-cache}
SPEC=$ROOT/scripts/sdk-check
mkdir -p "$CACHE"

# --- the SDKs, pinned, installed once ----------------------------------------------------------
VENV=$CACHE/venv
if ! cmp -s "$SPEC/requirements.txt" "$VENV/requirements.installed" 2>/dev/null; then
    log "installing wechatpy into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$SPEC/requirements.txt"
    cp "$SPEC/requirements.txt" "$VENV/requirements.installed"
fi
NODE_DIR=$CACHE/node
if ! cmp -s "$SPEC/package-lock.json" "$NODE_DIR/package-lock.installed" 2>/dev/null; then
    log "installing node-easywechat into $NODE_DIR"
    rm -rf "$NODE_DIR"
    mkdir -p "$NODE_DIR"
    cp "$SPEC/package.json" "$SPEC/package-lock.json" "$NODE_DIR/"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$SPEC/package-lock.json" "$NODE_DIR/package-lock.installed"
fi

# --- the simulator -------------------------------------------------------------------------------
log "building wechat-sim"
cargo build -q -p wechat-sim
TMP=$(mktemp -d -t wechat-sdk-check.XXXXXX)
SIM_PID=
cleanup() {
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
CA=$TMP/wechat-sim-ca.pem
RUST_LOG=warn "$TARGET_DIR/debug/wechat-sim" --addr 127.0.0.1:0 --proxy-addr 127.0.0.1:0 \
    --ca-out "$CA" >"$TMP/sim.out" 2>"$TMP/sim.err" &
SIM_PID=$!
for _ in $(seq 1 100); do
    grep -q '^wechat-sim listening on' "$TMP/sim.out" 2>/dev/null && break
    kill -0 "$SIM_PID" 2>/dev/null || { cat "$TMP/sim.err" >&2; die "wechat-sim exited"; }
    sleep 0.1
done
SIM_URL=$(sed -n 's/^wechat-sim listening on \(http:[^ ]*\).*/\1/p' "$TMP/sim.out")
PROXY=$(sed -n 's/^wechat-sim proxy on \(http:[^ ]*\).*/\1/p' "$TMP/sim.out")
[ -n "$SIM_URL" ] && [ -n "$PROXY" ] || { cat "$TMP/sim.out" "$TMP/sim.err" >&2; die "wechat-sim did not start"; }
export SIM_URL SIM_APPID=wx0000000000000001 SIM_SECRET=sim_secret_00000000000000000000001
log "wechat-sim on $SIM_URL, proxy $PROXY"

reset() { curl -fsS -X POST "$SIM_URL/__sim/reset" >/dev/null; }

# --- Python: wechatpy --------------------------------------------------------------------------
python_sdk() {
    (cd "$TMP" && env HTTPS_PROXY="$PROXY" HTTP_PROXY="$PROXY" NO_PROXY=127.0.0.1,localhost \
        "$@" "$VENV/bin/python" "$SPEC/wechatpy_check.py")
}
reset
python_sdk REQUESTS_CA_BUNDLE="$CA"
reset
if python_sdk REQUESTS_CA_BUNDLE=/nonexistent SSL_CERT_FILE= >"$TMP/py-noca.log" 2>&1 ||
    ! grep -q 'SSLError\|CERTIFICATE_VERIFY_FAILED\|OSError\|TLS CA' "$TMP/py-noca.log"; then
    cat "$TMP/py-noca.log" >&2
    die "wechatpy did not fail without the simulator's CA"
fi
log "wechatpy without the CA fails its TLS handshake, as it must"

# --- Node: node-easywechat through global-agent --------------------------------------------------
node_sdk() {
    # Node's https ignores HTTPS_PROXY; global-agent (preloaded) routes it through the proxy.
    # HTTPS_PROXY stays unset so axios does not apply its own (plain-text) proxying.
    (cd "$TMP" && env -u HTTPS_PROXY -u HTTP_PROXY -u https_proxy -u http_proxy \
        NODE_PATH="$NODE_DIR/node_modules" \
        NODE_OPTIONS="-r $NODE_DIR/node_modules/global-agent/bootstrap" \
        GLOBAL_AGENT_HTTP_PROXY="$PROXY" GLOBAL_AGENT_NO_PROXY=127.0.0.1,localhost \
        "$@" node "$SPEC/easywechat_check.js")
}
reset
node_sdk NODE_EXTRA_CA_CERTS="$CA"
reset
if node_sdk >"$TMP/node-noca.log" 2>&1 ||
    ! grep -qi 'certificate\|UNABLE_TO_GET_ISSUER\|self.signed\|unable to verify' "$TMP/node-noca.log"; then
    cat "$TMP/node-noca.log" >&2
    die "node-easywechat did not fail without the simulator's CA"
fi
log "node-easywechat without the CA fails its TLS handshake, as it must"

log "sdk-check passed"
