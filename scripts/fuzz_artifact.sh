#!/usr/bin/env bash
# Builds and runs the artifact loader fuzzer (libFuzzer + ASan + UBSan):
# header checks, FlatBuffers verifier, semantic verifier, checksums.
#
#   scripts/fuzz_artifact.sh [OUT_DIR] [SECONDS]      defaults: build-fuzz-artifact, 60
#
# Compiles the loader's sources directly with clang++-14 (no CMake; flatc
# generates the manifest header into OUT_DIR/gen), writes seed artifacts with
# kt_artifact_sample built alongside, runs for SECONDS and exits non-zero on
# any crash, leak, sanitizer report or timeout. Crash inputs are left in
# OUT_DIR/crashes.
#
# examples:
#   scripts/fuzz_artifact.sh                         # 60 s into ./build-fuzz-artifact
#   scripts/fuzz_artifact.sh /tmp/fuzz-artifact 600  # 10 minutes
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$SRC/build-fuzz-artifact}"
SECONDS_TO_RUN="${2:-60}"
CXX="${CXX_FUZZ:-clang++-14}"
mkdir -p "$OUT" "$OUT/corpus" "$OUT/crashes" "$OUT/gen/runtime/schema"
OUT="$(cd "$OUT" && pwd)"

flatc --cpp --scoped-enums -o "$OUT/gen/runtime/schema" "$SRC/runtime/schema/kta.fbs"

LIB_SRCS=(
  "$SRC/runtime/base/status.cc"
  "$SRC/runtime/base/mapped_file.cc"
  "$SRC/kernels/quant/ggml_type.cc"
  "$SRC/runtime/artifact/artifact.cc"
  "$SRC/runtime/artifact/artifact_types.cc"
  "$SRC/runtime/artifact/header.cc"
  "$SRC/runtime/artifact/manifest_decode.cc"
  "$SRC/runtime/artifact/manifest_encode.cc"
  "$SRC/runtime/artifact/verify.cc"
  "$SRC/runtime/artifact/xxhash64.cc"
)
FLAGS=(-std=c++20 -O1 -g -I"$SRC" -I"$OUT/gen" -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter)
SAN=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)

echo "[fuzz] building $OUT/artifact_loader_fuzz with $CXX"
"$CXX" "${FLAGS[@]}" "${SAN[@]}" "${LIB_SRCS[@]}" \
  "$SRC/runtime/artifact/fuzz/artifact_loader_fuzz.cc" -o "$OUT/artifact_loader_fuzz"

echo "[fuzz] building the seed writer"
"$CXX" "${FLAGS[@]}" "${LIB_SRCS[@]}" "$SRC/compiler/artifact/artifact_writer.cc" \
  "$SRC/compiler/artifact/sample_artifact.cc" "$SRC/compiler/artifact/sample_artifact_main.cc" \
  -o "$OUT/kt_artifact_sample"
"$OUT/kt_artifact_sample" "$OUT/corpus/sample_small.kta" --small
# Inputs that once broke the loader stay in the corpus, so every run replays them.
cp "$SRC"/test/data/fuzz/artifact/*.kta "$OUT/corpus/" 2>/dev/null || true
source "$SRC/scripts/fuzz_run.sh"
kt_fuzz_run artifact_loader_fuzz "$OUT" "$SECONDS_TO_RUN"
