#!/usr/bin/env bash
# Mutation testing of the critical code (docs/testing.md): cargo-mutants 27 changes one thing at a
# time in the files below and runs the tests that could notice; a mutant the tests do not catch is
# a behaviour nothing checks.
#
#   scripts/mutants.sh                 every critical file (hours on 2 cores)
#   scripts/mutants.sh --in-diff FILE  only the mutants a diff touches (CI: the diff since the base)
#   scripts/mutants.sh -f service/src/auth/token.rs   any other cargo-mutants arguments
#
# The service's mutants are tested with the service's own tests and the e2e suite on SQLite
# (`BAI_TEST_POSTGRES_URL` unset: the PostgreSQL variants report ignored, which halves the time);
# the simulator's with its own suite. Results land in mutants.out/ (outcomes.json, missed.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

version=27.1.0
tools="$PWD/target/tools"
if ! "$tools/bin/cargo-mutants" --version 2>/dev/null | grep -q "$version"; then
    cargo install --quiet --locked cargo-mutants --version "$version" --root "$tools"
fi
export PATH="$tools/bin:$PATH"
unset BAI_TEST_POSTGRES_URL

critical_service=(
    'service/src/auth/**'
    'service/src/users/**'
    'service/src/store/**'
    'service/src/api/errors.rs'
    'service/src/api/edge.rs'
    'service/src/wechat/**'
)
args=()
if [[ $# -eq 0 || "$1" == --in-diff ]]; then
    for file in "${critical_service[@]}" 'wechat-sim/src/state/**'; do
        args+=(--file "$file")
    done
fi

cargo mutants --no-shuffle --timeout-multiplier 3 \
    --test-package bai-service --test-package e2e --test-package wechat-sim \
    "${args[@]}" "$@"
