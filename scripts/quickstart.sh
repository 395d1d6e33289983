#!/usr/bin/env bash
# The README's first command: installs dependencies, builds kt and runs the
# main job on a built-in tiny model: generate a tiny DeepSeek-V3-architecture
# model, show its placement plan, compile it for this CPU and generate text.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${KT_BUILD_DIR:-build}
OUT_DIR=${KT_OUT_DIR:-out/quickstart}

bash scripts/setup.sh
bash scripts/build.sh

KTC="${BUILD_DIR}/tools/ktc/ktc"
KTRUN="${BUILD_DIR}/tools/ktrun/ktrun"
MODEL="${OUT_DIR}/tiny-v3.gguf"
mkdir -p "${OUT_DIR}"

echo "[quickstart] 1/4 generating a tiny DeepSeek-V3-architecture model (q4_k_m, random weights)"
"${KTC}" gen --preset tiny-v3 --type q4_k_m --seed 1 --quiet -o "${MODEL}"

echo "[quickstart] 2/4 where each op would run with a 4 MiB GPU budget"
"${KTC}" plan "${MODEL}" --config "${OUT_DIR}/tiny-v3.config.json" --vram 4MiB --ctx 256

echo "[quickstart] 3/4 compiling for this CPU (--vram 0: no GPU needed)"
"${KTC}" compile "${MODEL}" --config "${OUT_DIR}/tiny-v3.config.json" --vram 0 --ctx 256 -o "${OUT_DIR}/tiny-v3.kta"

echo "[quickstart] 4/4 generating text (random weights, so the text is gibberish; the tokens match llama.cpp's)"
"${KTRUN}" generate "${OUT_DIR}/tiny-v3.kta" --prompt "The experts of a mixture-of-experts model" --max-tokens 24
"${KTRUN}" bench "${OUT_DIR}/tiny-v3.kta" --prompt-len 64 --gen-len 32 --repeat 1 --bandwidth-mib 256
echo "[quickstart] done: model and artifact in ${OUT_DIR}"
