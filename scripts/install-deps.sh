#!/usr/bin/env bash
# Installs every Debian package that the build, the tests and the quick start use,
# on Debian 12 (bookworm, Kea 2.2) or Debian 13 (trixie, Kea 2.6). Idempotent;
# needs root. Keep this list honest: CI starts from a clean machine.
#
# usage: install-deps.sh [all|tests]
#   all    (default) everything, the hardening stage and the benchmarks included
#   tests  the build, the unit, callout and integration tests (scripts/trixie-tests.sh)
set -euo pipefail
SET=${1:-all}
case "$SET" in all|tests) ;; *) echo "usage: $0 [all|tests]" >&2; exit 2 ;; esac

# shellcheck disable=SC1091
. /etc/os-release
case "${VERSION_CODENAME:-}" in
  bookworm) CLANG_RT=libclang-rt-14-dev ;;   # clang 14
  trixie)   CLANG_RT=libclang-rt-19-dev ;;   # clang 19
  *) echo "install-deps: Debian 12 (bookworm) or 13 (trixie) expected, not '${PRETTY_NAME:-unknown}'" >&2
     exit 1 ;;
esac

PACKAGES=(
  # build
  build-essential cmake pkg-config python3
  kea-dev libre2-dev libkainjow-mustache-dev nlohmann-json3-dev libboost-dev
  # HMAC-SHA-256 of the per-device token (core/token.cc)
  libssl-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libsqlite3-dev
  # packages (scripts/build-packages.sh): dpkg-buildflags, dpkg-shlibdeps, rpmbuild
  dpkg-dev rpm
  # run time
  kea-dhcp4-server kea-ctrl-agent kea-admin kea-common ieee-data tzdata
  # integration tests and the quick start
  nginx-light tftpd-hpa tftp-hpa curl jq iproute2 procps passwd mount sip-tester openssl
  # tftpd-hpa's requests reach the hook through rsyslog (test_fetch_tftp_rsyslog)
  rsyslog
  # host reservations in a real database (tests start their own cluster)
  postgresql postgresql-client
)
if [ "$SET" = all ]; then
  PACKAGES+=(
    # benchmarks/run.sh (perfdhcp comes with kea-admin)
    valgrind
    # the fleet page in a real browser (tests/integration/test_fleet_page.sh; skipped
    # without it, as in scripts/trixie-tests.sh's root); fonts for its screenshot (only
    # recommended by chromium, and recommends are not installed here)
    chromium fonts-liberation
    # fuzzing and sanitizer builds (scripts/hardening-tests.sh)
    clang "$CLANG_RT" libtsan2 libasan8 libubsan1
  )
fi
# ccache when the build is told to use it (CMAKE_CXX_COMPILER_LAUNCHER=ccache).
[ "${CMAKE_CXX_COMPILER_LAUNCHER:-}" = ccache ] && PACKAGES+=(ccache)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No init system in containers: keep package scripts from starting services (the
  # tests start nginx, tftpd-hpa, rsyslogd... themselves, on loopback only).
  # policy-rc.d 101 is Debian's "do not start" answer to invoke-rc.d.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  rc=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || exit "$rc"
fi
# The services we test are started by the tests themselves, on loopback only.
