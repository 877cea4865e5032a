#!/usr/bin/env bash
# Runs the unit, hook and integration tests N times in a row (default 10), stopping
# at the first failure, while another build loads the machine: a test that depends on
# the machine being fast, or on a race it does not control, shows here. Not run by CI
# (it takes N times the suite); run it after touching anything timing-related.
#   scripts/repeat-tests.sh [N]          PHONEPROV_REPEAT_LOAD=0: no build beside it
#   PHONEPROV_REPEAT_JOBS=J: J tests at a time (default: one per core, as CI's ctest -j)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (the integration tests start servers)" >&2; exit 1; }
N=${1:-10}
BUILD_DIR=${BUILD_DIR:-build}
BUILD_DIR=$BUILD_DIR ./scripts/build.sh >/dev/null
LOAD_PID=""
cleanup() {
    if [ -n "$LOAD_PID" ]; then
        kill -- "-$LOAD_PID" 2>/dev/null || kill "$LOAD_PID" 2>/dev/null || true
        wait "$LOAD_PID" 2>/dev/null || true
    fi
    rm -rf "${LOAD_DIR:-}"
}
trap cleanup EXIT
if [ "${PHONEPROV_REPEAT_LOAD:-1}" != 0 ]; then
    # Another build beside the tests: the whole project compiled again and again,
    # without ccache, in a folder of its own, on every core.
    LOAD_DIR=$(mktemp -d /tmp/phoneprov-load.XXXXXX)
    set -m
    ( export CCACHE_DISABLE=1
      cmake -S . -B "$LOAD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER_LAUNCHER= >/dev/null
      while :; do cmake --build "$LOAD_DIR" --clean-first -j"$(nproc)" >/dev/null 2>&1 || true; done ) &
    LOAD_PID=$!
    set +m
    echo "load: a build looping beside the tests (pid $LOAD_PID)"
fi
start=$(date +%s)
rc=0
(cd "$BUILD_DIR" && ctest -L 'unit|hook|integration' --repeat "until-fail:$N" --timeout 900 \
    -j"${PHONEPROV_REPEAT_JOBS:-$(nproc)}" \
    --output-on-failure) || rc=$?
echo "repeat-tests: $N rounds of unit|hook|integration, ${PHONEPROV_REPEAT_JOBS:-$(nproc)} at a time, exit $rc, $(( $(date +%s) - start )) s"
exit "$rc"
