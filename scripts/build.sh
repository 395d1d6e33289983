#!/usr/bin/env bash
# Configures and builds kt into ${KT_BUILD_DIR:-build}. Extra arguments go to
# cmake's configure step (for example -DKT_ENABLE_COMPILER=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${KT_BUILD_DIR:-build}
JOBS=${KT_JOBS:-$(nproc)}
echo "[build] configuring ${BUILD_DIR}"
cmake -G Ninja -S . -B "${BUILD_DIR}" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
echo "[build] building with ${JOBS} jobs"
ninja -C "${BUILD_DIR}" -j"${JOBS}"
