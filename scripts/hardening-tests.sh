#!/usr/bin/env bash
# The hardening stage of CI (called by scripts/run-tests.sh after the normal
# ctest run; or alone, after ./scripts/install-deps.sh):
#   fuzz  clang + libFuzzer build (build-fuzz): every fuzz target runs for
#         FUZZ_SECONDS (20) from its stored corpus; a crash fails the stage.
#         The long run (docs/security.md): FUZZ_RUNS=10000000 runs each target that
#         many executions instead; FUZZ_ONLY="sip dhcp" picks targets; the
#         libFuzzer logs are kept in FUZZ_LOGS when it is set.
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan): the unit,
#         callout/load (tests/hook) and fuzz-replay tests.
#   tsan  ThreadSanitizer build of the hook and the tool (build-tsan): the
#         multi-threaded integration test (test_all_vendors.sh) and a render storm
#         against kea-dhcp4 with multi-threading, the hook loaded into the Debian
#         kea-dhcp4 (not instrumented) with libtsan preloaded (tests/sanitize/tsan.sh).
# usage: scripts/hardening-tests.sh [fuzz] [asan] [tsan]   (default: all three)
# Times of each stage are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
STAGES=("$@")
[ ${#STAGES[@]} -gt 0 ] || STAGES=(fuzz asan tsan)
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_TARGETS=(${FUZZ_ONLY:-identify sip render params dhcp fetch})
FUZZ_RUNS=${FUZZ_RUNS:-}
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
declare -A TOOK

configure() {  # DIR ARGS...: configure once (quietly), keep the log in the folder
    local dir=$1; shift
    mkdir -p "$dir"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPHONEPROV_BENCHMARKS=OFF \
        "${LAUNCHER[@]}" "$@" > "$dir/cmake-configure.log" 2>&1 || { cat "$dir/cmake-configure.log"; exit 1; }
}

stage_fuzz() {
    configure build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DPHONEPROV_FUZZ=ON
    cmake --build build-fuzz -j"$JOBS" --target $(printf 'fuzz_%s ' "${FUZZ_TARGETS[@]}")
    local t tmp
    tmp=$(mktemp -d /tmp/phoneprov-fuzz.XXXXXX)
    trap 'rm -rf "$tmp"' RETURN
    for t in "${FUZZ_TARGETS[@]}"; do
        mkdir -p "$tmp/$t"
        # New inputs go to the temp folder; the stored corpus is read only.
        local bound=(-max_total_time="$FUZZ_SECONDS") took=$SECONDS
        [ -z "$FUZZ_RUNS" ] || bound=(-runs="$FUZZ_RUNS")
        if ! build-fuzz/tests/fuzz_$t "${bound[@]}" -timeout=10 -rss_limit_mb=2048 \
                -max_len=4096 -print_final_stats=1 -artifact_prefix="$tmp/$t/" \
                "$tmp/$t" "tests/fuzz/corpus/$t" > "$tmp/$t.log" 2>&1; then
            [ -z "${FUZZ_LOGS:-}" ] || { mkdir -p "$FUZZ_LOGS"; cp "$tmp/$t.log" "$FUZZ_LOGS/"; }
            tail -60 "$tmp/$t.log"
            # The temp folder goes at return: the artifact is printed (hex) and kept.
            local a keep=${FUZZ_LOGS:-$SRC/build-fuzz/artifacts}
            mkdir -p "$keep"
            for a in "$tmp/$t"/crash-* "$tmp/$t"/leak-* "$tmp/$t"/timeout-* "$tmp/$t"/oom-*; do
                [ -e "$a" ] || continue
                cp "$a" "$keep/"
                echo "artifact $(basename "$a") (kept in $keep), hex:"
                head -c 4096 "$a" | od -An -tx1 -v | tr -d ' \n'; echo
            done
            echo "FAIL: fuzz_$t found a problem (add the artifact to tests/fuzz/corpus/$t)" >&2
            return 1
        fi
        [ -z "${FUZZ_LOGS:-}" ] || { mkdir -p "$FUZZ_LOGS"; cp "$tmp/$t.log" "$FUZZ_LOGS/"; }
        echo "fuzz_$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$tmp/$t.log" | awk '{print $2}') executions in $((SECONDS - took))s, no crash, corpus $(ls "$tmp/$t" | wc -l) new inputs"
    done
}

# The sanitizer builds: -O1 and line tables only (what the reports need), which
# compiles in about half the time of -O2 -g on CI's two cores.
SAN_FLAGS=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG")

stage_asan() {
    configure build-asan -DPHONEPROV_SANITIZE=address "${SAN_FLAGS[@]}"
    cmake --build build-asan -j"$JOBS"
    # intercept_tls_get_addr=0: the sanitizer runtimes of GCC <= 13 and LLVM <= 16 (GCC 12's
    # libasan on Debian 12, clang 14) take a dynamic TLS block that glibc >= 2.25 malloc'ed
    # at an address 16 mod 4096 for a glibc-2.19 block with a header, read {size, start}
    # from the 16 bytes before it (ASan's own chunk header) and hand LeakSanitizer a garbage
    # range that its tracer dies scanning at exit ("Tracer caught signal 11"; google/sanitizers
    # issue 1322, fixed in LLVM 17 by b1bd52cd0d86). libre2's TLS block, allocated when the
    # dlopen'ed hook first matches a vendor class, lands there. With the interception off,
    # LSan still scans dynamic TLS: it takes every block ld.so allocates as a root.
    # Kea's own libraries are not instrumented; leaks inside them at exit are not ours
    # (lsan.supp, for the unit and fuzz tests).
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0 \
        LSAN_OPTIONS=suppressions="$SRC/tests/sanitize/lsan.supp":print_suppressions=0 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -L 'unit|fuzz' --timeout 600)
    # The hook tests without lsan.supp: its 'leak:libkea-' matches any stack through a Kea
    # library, and every callout and load() is called from libkea-hooks, so it would hide
    # any leak of ours there (a leak planted in load() was reported only without it). They
    # have no leak in Kea's libraries to suppress.
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -L 'hook' --timeout 600)
}

stage_tsan() {
    configure build-tsan -DPHONEPROV_SANITIZE=thread -DPHONEPROV_TESTS=OFF "${SAN_FLAGS[@]}"
    cmake --build build-tsan -j"$JOBS" --target dhcp_phoneprov phoneprov
    BUILD_DIR="$SRC/build-tsan" SOURCE_DIR="$SRC" bash tests/sanitize/tsan.sh
}

for s in "${STAGES[@]}"; do
    start=$(date +%s)
    "stage_$s"
    TOOK[$s]=$(( $(date +%s) - start ))
done
for s in "${STAGES[@]}"; do
    echo "hardening: $s took ${TOOK[$s]}s"
done
