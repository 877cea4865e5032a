#!/usr/bin/env bash
# Installs every Debian 12 package that the build, the tests and the quick start
# use. Idempotent; needs root. Keep this list honest: CI starts from a clean machine.
set -euo pipefail
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
  nginx-light tftpd-hpa tftp-hpa curl jq iproute2 procps passwd sip-tester
  # host reservations in a real database (tests start their own cluster)
  postgresql postgresql-client
  # benchmarks/run.sh (perfdhcp comes with kea-admin)
  valgrind
  # fuzzing and sanitizer builds (scripts/hardening-tests.sh)
  clang libclang-rt-14-dev libtsan2 libasan8 libubsan1
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No init system in containers: keep package scripts from starting services.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The services we test are started by the tests themselves, on loopback only.
