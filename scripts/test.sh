#!/usr/bin/env bash
# Sets up, builds and runs every test: unit tests (GoogleTest), lit suites,
# peer comparisons against the `gguf` package and llama.cpp, and the fuzzers.
# This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${KT_BUILD_DIR:-build}
FUZZ_SECONDS=${KT_FUZZ_SECONDS:-60}

bash scripts/setup.sh
bash scripts/build.sh -DKT_WERROR=ON -DKT_BUILD_TESTS=ON

echo "[test] ctest"
(cd "${BUILD_DIR}" && ctest --output-on-failure -j"$(nproc)" --timeout 1200)

if [ "${FUZZ_SECONDS}" != 0 ]; then
  echo "[test] fuzzing the GGUF reader for ${FUZZ_SECONDS} s"
  bash scripts/fuzz.sh "${BUILD_DIR}/fuzz-gguf" "${FUZZ_SECONDS}"
  echo "[test] fuzzing the artifact loader for ${FUZZ_SECONDS} s"
  bash scripts/fuzz_artifact.sh "${BUILD_DIR}/fuzz-artifact" "${FUZZ_SECONDS}"
fi
echo "[test] all tests passed"
