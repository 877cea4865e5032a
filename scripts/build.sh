#!/usr/bin/env bash
# Configures and builds into ./build (or $BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
mkdir -p "$BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > "$BUILD_DIR/cmake-configure.log" 2>&1 \
  || { cat "$BUILD_DIR/cmake-configure.log"; exit 1; }
cmake --build "$BUILD_DIR" -j"$(nproc)"
