#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is needed, builds, runs every
# test with ctest: unit, callout and load tests, then the integration tests with
# the real kea-dhcp4, nginx and tftpd-hpa on loopback; then the hardening stage
# (scripts/hardening-tests.sh: fuzzing, AddressSanitizer+UBSan, ThreadSanitizer).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and starts servers)" >&2; exit 1; }
./scripts/install-deps.sh
./scripts/build.sh
(cd build && ctest --output-on-failure --timeout 600 "$@")
# Fuzzing (20 s per target), ASan+UBSan and TSan builds and runs (docs/security.md).
# PHONEPROV_HARDENING=0 skips them (a quick local run).
if [ "${PHONEPROV_HARDENING:-1}" != 0 ]; then
    ./scripts/hardening-tests.sh
fi
