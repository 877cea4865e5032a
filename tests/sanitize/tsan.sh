#!/usr/bin/env bash
# ThreadSanitizer over the hook in the real (Debian, not instrumented) kea-dhcp4:
# BUILD_DIR must hold a -DPHONEPROV_SANITIZE=thread build of dhcp_phoneprov and
# phoneprov (scripts/hardening-tests.sh tsan). libtsan is preloaded into kea-dhcp4
# so that its interceptors (pthread, malloc) run from the first instruction, and the
# address space is not randomised (setarch -R: gcc 12's TSan maps fixed shadow
# ranges). Reports go to files; any report fails the run.
#  1. tests/integration/test_all_vendors.sh (single- and multi-threaded Kea);
#  2. a render storm: Kea with 4 packet threads, 2 render threads, perfdhcp at
#     800 exchanges/s for TSAN_STORM_SECONDS (10) over 200 reserved phones whose files
#     are re-rendered on every exchange, plus the parked-ACK path (render-wait-ms).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=${SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
export SOURCE_DIR BUILD_DIR
LIBTSAN=$(gcc -print-file-name=libtsan.so.2)
[ -f "$LIBTSAN" ] || LIBTSAN=$(gcc -print-file-name=libtsan.so)
REPORTS=$(mktemp -d /tmp/phoneprov-tsan.XXXXXX)
chmod 0755 "$REPORTS"
trap 'rm -rf "$REPORTS"' EXIT
OPTS="log_path=$REPORTS/kea:suppressions=$HERE/tsan.supp:second_deadlock_stack=1:history_size=4"
# kea_exit_guard.sh: kea-dhcp4 under TSan can hang in exit() (see that script).
export PP_KEA_WRAPPER="$HERE/kea_exit_guard.sh env LD_PRELOAD=$LIBTSAN TSAN_OPTIONS=$OPTS setarch x86_64 -R"
# The instrumented tool (phoneprov simulate) reports to its stderr and fails.
export TSAN_OPTIONS="suppressions=$HERE/tsan.supp"
export PHONEPROV_TSAN_STORM_SECONDS=${TSAN_STORM_SECONDS:-10}

# reports: fails on a report with a frame in the hook (libdhcp_phoneprov.so); reports
# whose stacks are all inside Kea (not instrumented: its reference counts are invisible
# to TSan, so its own cross-thread frees look like races) are counted, not failed.
reports() {
    local found=0 f n
    for f in "$REPORTS"/kea.*; do
        [ -e "$f" ] || continue
        n=$(awk '/^WARNING: ThreadSanitizer/{if (r ~ /libdhcp_phoneprov/) c++; r=""} {r = r $0 "\n"}
                 END {if (r ~ /libdhcp_phoneprov/) c++; print c+0}' "$f")
        if [ "$n" -gt 0 ]; then
            cat "$f" >&2
            found=1
        fi
        echo "tsan: $(grep -c 'WARNING: ThreadSanitizer' "$f") report(s) in $(basename "$f"), $n with a frame in the hook"
    done
    return $found
}

start=$(date +%s)
bash "$SOURCE_DIR/tests/integration/test_all_vendors.sh"
reports || { echo "FAIL: ThreadSanitizer reports in test_all_vendors (above)" >&2; exit 1; }
echo "tsan: test_all_vendors clean ($(( $(date +%s) - start ))s)"

start=$(date +%s)
bash "$HERE/tsan_storm.sh"
reports || { echo "FAIL: ThreadSanitizer reports in the render storm (above)" >&2; exit 1; }
echo "tsan: render storm clean ($(( $(date +%s) - start ))s)"
echo "tsan: no report with a frame in the hook"
echo "PASS: ThreadSanitizer"
