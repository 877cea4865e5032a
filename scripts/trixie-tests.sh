#!/usr/bin/env bash
# Debian 13 (trixie, Kea 2.6) next to the Debian 12 host (issue 20): builds the
# project against trixie's kea-dev in a chroot and runs its unit, callout/load/command
# and integration tests there with trixie's kea-dhcp4-server, nginx and tftpd-hpa.
#
# The root is made with mmdebstrap from the Debian mirror the host's apt sources name,
# into $PHONEPROV_TRIXIE_CACHE/trixie-root (default /var/cache/kea-phoneprov-ci), and
# reused by later runs on this machine: a stamp file written last marks it complete;
# a root without it (an interrupted run) or older than $PHONEPROV_TRIXIE_MAX_AGE days
# (default 14: trixie's point releases and security updates) is made again. The
# packages the tests need are installed into it by scripts/install-deps.sh (tests).
# The source tree is bind-mounted at its own path; the build goes to build-trixie/.
# The root itself, /proc, /sys, /dev, /dev/pts, /dev/shm and the source are mounted for
# the run and always unmounted at exit. Extra arguments go to ctest (e.g. -R kea_configs);
# --build-only stops after the build.
#
# Needs root. scripts/run-tests.sh runs it as a stage (PHONEPROV_TRIXIE=0 skips it).
set -euo pipefail
BUILD_ONLY=""
[ "${1:-}" = --build-only ] && { BUILD_ONLY=1; shift; }
cd "$(dirname "$0")/.."
SRC=$PWD
[ "$(id -u)" = 0 ] || { echo "trixie-tests: run as root (mmdebstrap, chroot, mounts)" >&2; exit 1; }

CACHE=${PHONEPROV_TRIXIE_CACHE:-/var/cache/kea-phoneprov-ci}
ROOT=$CACHE/trixie-root
STAMP=$ROOT/.kea-phoneprov-root-complete
MAX_AGE=${PHONEPROV_TRIXIE_MAX_AGE:-14}
BUILD_NAME=build-trixie

log() { printf 'trixie-tests: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# The first URIs: of the host's deb822 sources (Debian 12's format), else the first
# deb line of sources.list.
mirror() {
    local m=""
    [ -r /etc/apt/sources.list.d/debian.sources ] &&
        m=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources | head -n1)
    [ -n "$m" ] || [ ! -r /etc/apt/sources.list ] ||
        m=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' /etc/apt/sources.list)
    echo "${m:-http://deb.debian.org/debian}"
}

# Every mount at or beneath the root, deepest first.
mounts_under() {
    findmnt -rn -o TARGET | awk -v r="$ROOT" 'index($0, r "/") == 1 || $0 == r' | sort -r
}

unmount_all() {
    local m
    while read -r m; do
        [ -n "$m" ] || continue
        umount "$m" 2>/dev/null || umount -l "$m" || log "could not unmount $m"
    done < <(mounts_under)
}

# Deletes the root, never through a mount (a bind-mounted /dev or source tree).
remove_root() {
    unmount_all
    [ -z "$(mounts_under)" ] || die "mounts left beneath $ROOT: $(mounts_under | tr '\n' ' ')"
    rm -rf --one-file-system "$ROOT"
}

mkdir -p "$CACHE"
# One run at a time on this machine: they share the root.
exec 8> "$CACHE/trixie.lock"
flock -w 3600 8 || die "another run holds $CACHE/trixie.lock"
# Mounts left by a run that was killed.
unmount_all

# Processes still running inside the root (a test killed on the way left its servers):
# ours, since one run at a time holds the lock.
kill_in_root() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "${p#/proc/}" 2>/dev/null
    done
    return 0
}

cleanup() {
    local rc=$?
    kill_in_root
    unmount_all
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$SECONDS
if [ -f "$STAMP" ] && [ -z "$(find "$STAMP" -mtime +"$MAX_AGE")" ]; then
    log "reusing $ROOT ($(cat "$STAMP"))"
else
    [ -e "$ROOT" ] && { log "removing the incomplete or old root $ROOT"; remove_root; }
    command -v mmdebstrap >/dev/null || {
        log "installing mmdebstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
    }
    MIRROR=$(mirror)
    log "making $ROOT with mmdebstrap (trixie from $MIRROR)"
    mmdebstrap --quiet --mode=root --variant=apt --include=ca-certificates trixie "$ROOT" "$MIRROR" \
        || { remove_root; die "mmdebstrap failed"; }
    # No init in a chroot: package scripts must not start nginx, PostgreSQL or Kea
    # on the host's network.
    printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
    echo "trixie from $MIRROR, made $(date -u +%FT%TZ)" > "$STAMP"
    log "root made in $((SECONDS - T0)) s"
fi

# The root a mount point of its own: `ip netns exec` (test_ha_pair, test_sip_pnp) makes /
# a slave mount inside the chroot, which fails on a plain folder.
mount --bind "$ROOT" "$ROOT"
for m in proc sys dev dev/pts dev/shm; do
    mkdir -p "$ROOT/$m"
    mount --bind "/$m" "$ROOT/$m"
done
mkdir -p "$ROOT$SRC"
mount --bind "$SRC" "$ROOT$SRC"
# ccache, when the host's build uses it (the compiler differs: no clash with Debian 12's objects).
CHROOT_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
            SOURCE_DIR="$SRC" BUILD_DIR="$SRC/$BUILD_NAME")
if [ "${CMAKE_CXX_COMPILER_LAUNCHER:-}" = ccache ] && [ -n "${CCACHE_DIR:-}" ] && [ -d "$CCACHE_DIR" ]; then
    mkdir -p "$ROOT$CCACHE_DIR"
    mount --bind "$CCACHE_DIR" "$ROOT$CCACHE_DIR"
    CHROOT_ENV+=(CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache CCACHE_DIR="$CCACHE_DIR")
    [ -n "${CCACHE_BASEDIR:-}" ] && CHROOT_ENV+=(CCACHE_BASEDIR="$CCACHE_BASEDIR")
    [ -n "${CCACHE_NOHASHDIR:-}" ] && CHROOT_ENV+=(CCACHE_NOHASHDIR="$CCACHE_NOHASHDIR")
fi
# In the background and waited for, so that a TERM (CI's timeout) runs the cleanup at once
# instead of after the command.
in_root() {
    chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" "$@" &
    wait $!
}

T1=$SECONDS
log "installing packages (scripts/install-deps.sh tests)"
in_root bash -c 'cd "$SOURCE_DIR" && ./scripts/install-deps.sh tests'
log "Kea $(in_root dpkg-query -W -f='${Version}' kea-dev); packages took $((SECONDS - T1)) s"

T2=$SECONDS
# No benchmarks: this stage does not run them.
in_root bash -c 'cd "$SOURCE_DIR" && ./scripts/build.sh -DPHONEPROV_BENCHMARKS=OFF'
log "build took $((SECONDS - T2)) s"
[ -z "$BUILD_ONLY" ] || exit 0

# No test is left out here, for a reason of the chroot or of Kea 2.6.3: test_packages and
# test_ha_pair run (the chroot has its own dpkg, and network namespaces work once the root
# is a mount); integration tests start Kea with the paths it accepts (lib.sh pp_kea_env,
# tests/integration/kea_confine.py). PHONEPROV_TRIXIE_EXCLUDE, a ctest -E pattern, leaves
# tests out of one run.
EXCLUDE="${PHONEPROV_TRIXIE_EXCLUDE:-}"
T3=$SECONDS
rc=0
in_root bash -c 'cd "$BUILD_DIR" && ctest -L "unit|hook|integration" ${1:+-E "$1"} --output-on-failure --timeout 600 "${@:2}"' \
    ctest "$EXCLUDE" "$@" || rc=$?
log "tests took $((SECONDS - T3)) s; the stage $((SECONDS - T0)) s"
exit "$rc"
