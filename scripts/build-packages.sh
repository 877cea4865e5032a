#!/usr/bin/env bash
# Builds the DEB and the RPM (cpack) into build/packages/ (or $PACKAGES_DIR),
# from a build tree of their own, build/pkg (or $PKG_BUILD_DIR), configured for
# /usr with Debian's build flags. Incremental: run it again after a change.
# Prints the paths of the packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG_BUILD_DIR=${PKG_BUILD_DIR:-$PWD/build/pkg}
PACKAGES_DIR=${PACKAGES_DIR:-$PWD/build/packages}
mkdir -p "$PKG_BUILD_DIR" "$PACKAGES_DIR"

# Debian's hardening flags; no -g: cpack strips the binaries anyway.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all DEB_CXXFLAGS_MAINT_STRIP=-g
CXXFLAGS="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
LDFLAGS=$(dpkg-buildflags --get LDFLAGS)

log="$PKG_BUILD_DIR/build-packages.log"
# (set -e does not act inside a list that ends in ||: chain with &&.)
{
    cmake -S . -B "$PKG_BUILD_DIR" -DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX=/usr \
        -DPHONEPROV_PACKAGING=ON -DPHONEPROV_TESTS=OFF -DPHONEPROV_BENCHMARKS=OFF \
        -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_EXE_LINKER_FLAGS="$LDFLAGS" \
        -DCMAKE_SHARED_LINKER_FLAGS="$LDFLAGS" -DCMAKE_MODULE_LINKER_FLAGS="$LDFLAGS" &&
    cmake --build "$PKG_BUILD_DIR" -j"$(nproc)" &&
    rm -rf "$PKG_BUILD_DIR/cpack" &&
    (cd "$PKG_BUILD_DIR" && cpack -B "$PKG_BUILD_DIR/cpack")
} > "$log" 2>&1 || { tail -n 40 "$log" >&2; echo "build-packages: failed, see $log" >&2; exit 1; }

rm -f "$PACKAGES_DIR"/kea-phoneprov_*.deb "$PACKAGES_DIR"/kea-phoneprov-*.rpm
mv "$PKG_BUILD_DIR"/cpack/kea-phoneprov*.deb "$PKG_BUILD_DIR"/cpack/kea-phoneprov*.rpm "$PACKAGES_DIR"/
ls -1 "$PACKAGES_DIR"/kea-phoneprov_*.deb "$PACKAGES_DIR"/kea-phoneprov-*.rpm
