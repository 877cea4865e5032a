#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is needed, builds, runs every
# test with ctest: unit, callout and load tests, then the integration tests with
# the real kea-dhcp4, nginx and tftpd-hpa on loopback; on Debian 12, the same build
# and tests against Debian 13's Kea 2.6 in a chroot (scripts/trixie-tests.sh); then the
# hardening stage (scripts/hardening-tests.sh: fuzzing, AddressSanitizer+UBSan,
# ThreadSanitizer).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and starts servers)" >&2; exit 1; }
./scripts/install-deps.sh
./scripts/build.sh
(cd build && ctest --output-on-failure --timeout 600 "$@")
# Debian 13 (Kea 2.6.3): build, unit, callout and integration tests in a trixie root made
# with mmdebstrap and cached in /var/cache/kea-phoneprov-ci. PHONEPROV_TRIXIE=0 skips it;
# on Debian 13 itself the tests above already ran against its Kea.
if [ "${PHONEPROV_TRIXIE:-1}" != 0 ] && [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" != trixie ]; then
    ./scripts/trixie-tests.sh
fi
# Hardening (docs/security.md): every fuzz target for 20 s from its corpus, then the
# unit and callout tests under ASan+UBSan and the multi-threaded integration test under
# TSan. PHONEPROV_HARDENING=fuzz (or asan, tsan, space-separated) runs only those parts,
# 0 none.
case "${PHONEPROV_HARDENING:-all}" in
    0) ;;
    all) ./scripts/hardening-tests.sh fuzz asan tsan ;;
    *) ./scripts/hardening-tests.sh ${PHONEPROV_HARDENING} ;;
esac
