#!/usr/bin/env bash
# Mutation testing of the critical code (docs/testing.md): cargo-mutants 27 changes one thing at a
# time in the files below and runs the tests that could notice; a mutant the tests do not catch is
# a behaviour nothing checks.
#
#   scripts/mutants.sh                  every area, most critical first (hours on 2 cores)
#   scripts/mutants.sh auth users       some areas (auth users api guards wechat sim health import store)
#   scripts/mutants.sh --in-diff [BASE] CI: only the mutants of critical code changed since BASE
#                                       (default HEAD~1, the previous commit of main)
#   scripts/mutants.sh auth -- --shard 1/4   anything after -- goes to cargo-mutants
#
# The service's mutants are tested with its unit tests, its property tests and the e2e suite on
# SQLite (`BAI_TEST_POSTGRES_URL` unset: the PostgreSQL variants report ignored, which halves the
# time); the simulator's with its own suite. The other service test binaries (crash safety, the
# import CLI, start-up errors, log secrecy) are not built per mutant: they test the binary's
# edges rather than this code, and each would be relinked for every mutant.
# Results: target/mutants/<area>/mutants.out/ (outcomes.json, caught.txt, missed.txt, ...).
#
# MUTANTS_MAX (default 6) caps --in-diff: a diff with more mutants than that is skipped with a
# message (at about 2 minutes a mutant, 6 keep .ci/run under 45 minutes); run the areas by hand then.
# MUTANTS_TOOLS is where cargo-mutants is installed (default target/tools; CI keeps it outside its
# fresh clone so that it is built once per machine). MUTANTS_IN_PLACE=1 mutates the checkout itself (CI, a fresh clone) so that the build reuses
# target/ instead of copying the tree and building it from nothing. MUTANTS_BASELINE=skip skips
# the unmutated run (when the same tree just passed it).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A files=(
    [auth]='service/src/auth/**'
    [users]='service/src/users/**'
    [api]='service/src/api/errors.rs service/src/api/edge.rs service/src/api/bearer.rs'
    [guards]='service/src/store/guards.rs'
    [wechat]='service/src/wechat/**'
    [sim]='wechat-sim/src/state/**'
    [health]='service/src/store/health.rs service/src/store/fault.rs'
    [import]='service/src/store/import.rs service/src/store/pocketbase_source.rs'
    [store]='service/src/store/mod.rs service/src/store/users.rs service/src/store/settings.rs service/src/store/files.rs'
)
order=(auth users api guards wechat sim health import store)
# Areas whose mutants first run against only the tests that exercise them (test-name filters:
# the area's unit tests and the e2e modules that reach it). A mutant that pass catches is
# caught; narrowing can only make one look missed, so the survivors then run again against the
# whole suite (`--iterate`), on PostgreSQL too when BAI_TEST_POSTGRES_URL is set. Measured on
# `health`: 7-9 s of tests per mutant instead of 35-45 s.
declare -A first_pass=(
    [wechat]='wechat:: login:: profile:: refresh:: metrics:: overload:: rate_limit:: scale_out:: wechat_faults:: wire:: startup_log::'
    [users]='users:: ids:: sanitize:: masking:: login:: profile:: refresh:: openid:: id_clash:: tokens:: errors:: forge:: guards:: wechat_faults:: wire:: rate_limit:: snapshot_contract:: pocketbase'
    [health]='store:: probes:: durability:: backends:: faults:: system:: metrics::'
    [import]='store:: pocketbase'
    [store]='store:: login:: profile:: refresh:: openid:: id_clash:: scale_out:: durability:: backends:: guards:: probes:: startup_log:: pocketbase_import::'
)
# `--workspace` lets e2e (not a default member) be named. `-C` goes to the build as well as to
# the test run, so the service's other test binaries are neither linked nor run; `api` is e2e's
# and only the run may name it.
service_tests=(
    --workspace --test-package bai-service --test-package e2e
    -C --lib -C --test=properties --cargo-test-arg=--test=api
)
sim_tests=(--package wechat-sim --test-package wechat-sim)

file_args() {
    local globs
    read -ra globs <<<"${files[$1]}"
    for glob in "${globs[@]}"; do
        printf '%s\n' --file "$glob"
    done
}

# The mutants of area $1 (one per line), narrowed by any further cargo-mutants arguments.
list_mutants() {
    local area="$1" args=()
    shift
    mapfile -t args < <(file_args "$area")
    [[ "$area" == sim ]] && args+=(--package wechat-sim)
    cargo mutants --list "${args[@]}" "$@"
}

areas=()
extra=()
in_diff=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --in-diff)
            in_diff="${2:-HEAD~1}"
            [[ $# -ge 2 ]] && shift
            ;;
        --) shift; extra=("$@"); break ;;
        *)
            [[ -n "${files[$1]:-}" ]] || { echo "unknown area $1 (${order[*]})" >&2; exit 64; }
            areas+=("$1")
            ;;
    esac
    shift
done

critical_paths=(service/src/auth service/src/users service/src/store service/src/api/errors.rs
    service/src/api/edge.rs service/src/api/bearer.rs service/src/wechat wechat-sim/src/state)
if [[ -n "$in_diff" ]]; then
    # Before anything is installed or built: a commit that changes no critical code costs nothing.
    if ! git rev-parse --verify --quiet "$in_diff^{commit}" >/dev/null; then
        echo "mutants: no commit $in_diff to diff against (shallow clone?): skipped"
        exit 0
    fi
    if git diff --quiet "$in_diff" -- "${critical_paths[@]}"; then
        echo "mutants: no critical file changed since $in_diff: nothing to mutate"
        exit 0
    fi
fi

version=27.1.0
tools="${MUTANTS_TOOLS:-$PWD/target/tools}"
if ! "$tools/bin/cargo-mutants" mutants --version 2>/dev/null | grep -q "$version"; then
    cargo install --quiet --locked cargo-mutants --version "$version" --root "$tools"
fi
export PATH="$tools/bin:$PATH"
postgres_url="${BAI_TEST_POSTGRES_URL:-}"
unset BAI_TEST_POSTGRES_URL
# The crates rebuilt for every mutant are built without debuginfo (dependencies keep theirs, so
# a warm target/ stays warm).
no_debuginfo=(--config=profile.dev.package.bai-service.debug=0
    --config=profile.dev.package.e2e.debug=0 --config=profile.dev.package.wechat-sim.debug=0)
# cargo-mutants' own baseline tests only the mutated package, where `--test=api` does not exist:
# the script runs the same tests once itself instead (CI's --in-diff skips it: the suite just
# passed). A red baseline would make every mutant look caught.
common=(--no-shuffle --baseline skip --timeout 300 --build-timeout 1800)
for flag in "${no_debuginfo[@]}"; do
    common+=(-C "$flag")
done
[[ "${MUTANTS_IN_PLACE:-0}" == 1 ]] && common+=(--in-place)

baseline() {
    echo "== mutants: baseline (the tests each mutant runs, unmutated)"
    if [[ "$1" == sim ]]; then
        cargo test "${no_debuginfo[@]}" -p wechat-sim
    else
        cargo test "${no_debuginfo[@]}" -p bai-service -p e2e --lib --test properties --test api
    fi
}

# Runs one area's mutants (those in $diff only, when given) with the tests that can see them.
run_area() {
    local area="$1" diff="${2:-}"
    local tests=("${service_tests[@]}")
    [[ "$area" == sim ]] && tests=("${sim_tests[@]}")
    local args=()
    mapfile -t args < <(file_args "$area")
    [[ -n "$diff" ]] && args+=(--in-diff "$diff")
    local out="target/mutants/$area"
    mkdir -p "$out"
    # cargo-mutants passes when nothing matches; a whole area matching nothing means its files
    # moved (or a typo here), which must not read as a clean run.
    if [[ -z "$diff" ]]; then
        if [[ -z "$(list_mutants "$area")" ]]; then
            echo "mutants: $area (${files[$area]}) has no mutants: did its files move?" >&2
            return 1
        fi
    fi
    local filters=()
    [[ -z "$diff" && -n "${first_pass[$area]:-}" ]] && read -ra filters <<<"${first_pass[$area]}"
    if [[ ${#filters[@]} -eq 0 ]]; then
        echo "== mutants: $area"
        cargo mutants "${common[@]}" "${tests[@]}" "${args[@]}" -o "$out" "${extra[@]}"
        return
    fi
    local narrowed=(--cargo-test-arg=--)
    for filter in "${filters[@]}"; do
        narrowed+=("--cargo-test-arg=$filter")
    done
    echo "== mutants: $area, first pass (tests: ${filters[*]})"
    local status=0
    cargo mutants "${common[@]}" "${tests[@]}" "${args[@]}" "${narrowed[@]}" -o "$out" \
        "${extra[@]}" || status=$?
    # 2 is "some mutants missed", 3 "some timed out"; anything else is the run failing.
    [[ "$status" -eq 2 || "$status" -eq 3 ]] || return "$status"
    echo "== mutants: $area, second pass (the first pass's survivors, the whole suite)"
    env ${postgres_url:+BAI_TEST_POSTGRES_URL="$postgres_url"} cargo mutants "${common[@]}" "${tests[@]}" \
        "${args[@]}" --iterate -o "$out" "${extra[@]}"
}

if [[ -z "$in_diff" ]]; then
    [[ ${#areas[@]} -gt 0 ]] || areas=("${order[@]}")
    status=0
    if [[ "${MUTANTS_BASELINE:-run}" != skip ]]; then
        baseline service
        [[ " ${areas[*]} " == *" sim "* ]] && baseline sim
    fi
    for area in "${areas[@]}"; do
        run_area "$area" || status=$?
    done
    exit "$status"
fi

mkdir -p target/mutants
diff_file="$PWD/target/mutants/changes.diff"
git diff "$in_diff" -- "${critical_paths[@]}" >"$diff_file"
declare -A counts=()
total=0
for area in "${order[@]}"; do
    n=$(list_mutants "$area" --in-diff "$diff_file" | wc -l)
    counts[$area]=$n
    total=$((total + n))
done
max="${MUTANTS_MAX:-6}"
echo "mutants: $total in the critical code changed since $in_diff (cap $max)"
if [[ "$total" -eq 0 ]]; then
    exit 0
fi
if [[ "$total" -gt "$max" ]]; then
    echo "mutants: SKIPPED, $total mutants exceed MUTANTS_MAX=$max (about 2 minutes each);" \
        "run \`just mutants\` on the areas changed before merging"
    exit 0
fi
status=0
for area in "${!counts[@]}"; do
    [[ "${counts[$area]}" -gt 0 ]] || continue
    run_area "$area" "$diff_file" || status=$?
done
exit "$status"
