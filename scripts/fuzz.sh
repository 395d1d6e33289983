#!/usr/bin/env bash
# Builds and runs the GGUF reader fuzzer (libFuzzer + ASan + UBSan).
#
#   scripts/fuzz.sh [OUT_DIR] [SECONDS]      defaults: build-fuzz, 60
#
# Compiles the reader's sources directly with clang++-14 (no CMake), makes a
# seed corpus of valid files (kt_gguf_write_test built alongside, and gguf-py
# files when the gguf package is installed), runs for SECONDS and exits
# non-zero on any crash, leak, sanitizer report or timeout. Crash inputs are
# left in OUT_DIR/crashes.
#
# examples:
#   scripts/fuzz.sh                    # 60 s into ./build-fuzz
#   scripts/fuzz.sh /tmp/fuzz 600      # 10 minutes
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$SRC/build-fuzz}"
SECONDS_TO_RUN="${2:-60}"
CXX="${CXX_FUZZ:-clang++-14}"
mkdir -p "$OUT" "$OUT/corpus" "$OUT/crashes"
OUT="$(cd "$OUT" && pwd)"

LIB_SRCS=(
  "$SRC/runtime/base/status.cc"
  "$SRC/runtime/base/mapped_file.cc"
  "$SRC/kernels/quant/ggml_type.cc"
  "$SRC/compiler/gguf/gguf_value.cc"
  "$SRC/compiler/gguf/gguf_reader.cc"
  "$SRC/compiler/gguf/gguf_writer.cc"
  "$SRC/compiler/gguf/gguf_json.cc"
)
FLAGS=(-std=c++20 -O1 -g -I"$SRC" -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter)
SAN=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)

echo "[fuzz] building $OUT/gguf_reader_fuzz with $CXX"
"$CXX" "${FLAGS[@]}" "${SAN[@]}" "${LIB_SRCS[@]}" \
  "$SRC/compiler/gguf/fuzz/gguf_reader_fuzz.cc" -o "$OUT/gguf_reader_fuzz"

echo "[fuzz] building the seed writer"
"$CXX" "${FLAGS[@]}" -O1 "${LIB_SRCS[@]}" "$SRC/compiler/gguf/gguf_sample.cc" \
  "$SRC/compiler/gguf/gguf_write_test_main.cc" -o "$OUT/kt_gguf_write_test"

for seed in 0 1 2 3 4 5 6 7; do
  "$OUT/kt_gguf_write_test" "$OUT/corpus/kt_seed_$seed.gguf" --seed "$seed"
done
if python3 -c "import gguf" 2>/dev/null; then
  python3 - "$OUT/corpus" <<'PY'
import sys, numpy as np
from gguf import GGUFWriter, GGMLQuantizationType, GGUFValueType
out = sys.argv[1]
for i, align in enumerate([32, 64]):
    w = GGUFWriter(f"{out}/py_{i}.gguf", "deepseek2")
    if align != 32:
        w.add_custom_alignment(align)
    w.add_uint32("deepseek2.block_count", 2)
    w.add_array("tokenizer.ggml.tokens", ["a", "b", "é"])
    w.add_array("nested", [[1, 2], [3]])
    w.add_key_value("f64", 1.5, GGUFValueType.FLOAT64)
    w.add_tensor("w", np.arange(8, dtype=np.float32))
    w.add_tensor("q", np.zeros((2, 34), dtype=np.uint8), raw_dtype=GGMLQuantizationType.Q8_0)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
PY
fi
source "$SRC/scripts/fuzz_run.sh"
kt_fuzz_run gguf_reader_fuzz "$OUT" "$SECONDS_TO_RUN"
