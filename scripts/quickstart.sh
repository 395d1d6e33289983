#!/usr/bin/env bash
# The README's first command: installs dependencies, builds kt and runs the
# main job on a built-in tiny model. What "the main job" covers grows with
# the project; today: generate a tiny DeepSeek-V3-architecture model,
# inspect it, and plan its placement when the compiler is built.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${KT_BUILD_DIR:-build}
OUT_DIR=${KT_OUT_DIR:-out/quickstart}

bash scripts/setup.sh
bash scripts/build.sh

KTC="${BUILD_DIR}/tools/ktc/ktc"
mkdir -p "${OUT_DIR}"
echo "[quickstart] generating a tiny DeepSeek-V3-architecture model (q4_k_m)"
"${KTC}" gen --preset tiny-v3 --type q4_k_m --seed 1 -o "${OUT_DIR}/tiny-v3.gguf"
echo "[quickstart] its GGUF header and tensors"
"${KTC}" gguf-info "${OUT_DIR}/tiny-v3.gguf" | head -n 40
if "${KTC}" --help | grep -q '^  plan '; then
  echo "[quickstart] placement plan for a 64 MiB GPU budget"
  "${KTC}" plan "${OUT_DIR}/tiny-v3.gguf" --config "${OUT_DIR}/tiny-v3.config.json" --vram 64MiB --ctx 1024
fi
echo "[quickstart] done: model in ${OUT_DIR}"
