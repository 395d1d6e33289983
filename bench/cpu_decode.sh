#!/usr/bin/env bash
# CPU-only decode benchmark: kt vs llama.cpp on the same GGUF, in one run.
#
#   bench/cpu_decode.sh [MODEL.gguf] [PROMPT_LEN] [GEN_LEN] [REPEAT]
#
# Without MODEL it generates the full-size DeepSeek-V2-Lite shapes at
# q4_k_m (ktc gen --preset v2-lite; ~10 GB, ~15 min on 2 cores) under
# ${KT_MODELS:-models/}. It compiles the model with --vram 0, runs
# `ktrun bench` (which also measures the DRAM read bandwidth) and
# bench/llama_cpp_bench.py with the same thread count, and writes
# bench/results/<date>-<host>-<model>.{json,md}.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${KT_BUILD_DIR:-build}
MODELS=${KT_MODELS:-models}
PROMPT_LEN=${2:-512}
GEN_LEN=${3:-128}
REPEAT=${4:-3}
THREADS=${KT_THREADS:-$(nproc)}
KTC="$BUILD/tools/ktc/ktc"
KTRUN="$BUILD/tools/ktrun/ktrun"

MODEL=${1:-}
if [ -z "$MODEL" ]; then
  MODEL="$MODELS/v2-lite-q4_k_m.gguf"
  if [ ! -f "$MODEL" ]; then
    mkdir -p "$MODELS"
    echo "[bench] generating $MODEL"
    "$KTC" gen --preset v2-lite --type q4_k_m --seed 1 -o "$MODEL"
  fi
fi
NAME=$(basename "$MODEL" .gguf)
ART="${MODEL%.gguf}.kta"
if [ ! -f "$ART" ] || [ "$ART" -ot "$MODEL" ]; then
  echo "[bench] compiling $MODEL -> $ART (--vram 0)"
  "$KTC" compile "$MODEL" --vram 0 --ctx $((PROMPT_LEN + GEN_LEN + 64)) -o "$ART"
fi

STAMP="$(date -u +%Y-%m-%d)-$(hostname -s)-$NAME"
OUT="bench/results/$STAMP"
echo "[bench] kt: ktrun bench ($THREADS threads)"
"$KTRUN" bench "$ART" --threads "$THREADS" --prompt-len "$PROMPT_LEN" --gen-len "$GEN_LEN" \
  --repeat "$REPEAT" --out "$OUT.kt.json"
echo "[bench] llama.cpp on the same GGUF ($THREADS threads)"
python3 bench/llama_cpp_bench.py "$MODEL" --threads "$THREADS" --prompt-len "$PROMPT_LEN" \
  --gen-len "$GEN_LEN" --repeat "$REPEAT" --out "$OUT.llama.json"

python3 - "$OUT" "$(lscpu | sed -n 's/^Model name: *//p')" "$THREADS" <<'PY'
import json, os, sys
out, cpu, threads = sys.argv[1], sys.argv[2], sys.argv[3]
kt = json.load(open(out + ".kt.json"))
ll = json.load(open(out + ".llama.json"))
# Results are committed: keep file names, drop this machine's directories.
kt["artifact"] = os.path.basename(kt["artifact"])
ll["model"] = os.path.basename(ll["model"])
json.dump(kt, open(out + ".kt.json", "w"))
json.dump(ll, open(out + ".llama.json", "w"))
ratio = kt["decode_tokens_per_second"] / ll["decode_tokens_per_second"]
lines = [
    f"# CPU decode: {kt['artifact']}",
    "",
    f"CPU: {cpu}, {threads} threads. Prompt {kt['prompt_len']} tokens, {kt['gen_len']} generated, median of {kt['repeat']}.",
    "",
    "| engine | prefill tok/s | decode tok/s | decode GB/s | fraction of DRAM read bandwidth |",
    "|---|---|---|---|---|",
    f"| kt ({kt['executor']}) | {kt['prefill_tokens_per_second']:.2f} | {kt['decode_tokens_per_second']:.2f} | "
    f"{kt['decode_achieved_gbps']:.2f} | {kt['decode_fraction_of_dram']:.0%} of {kt['dram_read_gbps']:.2f} GB/s |",
    f"| {ll['engine']} | {ll['prefill_tokens_per_second']:.2f} | {ll['decode_tokens_per_second']:.2f} | | |",
    "",
    f"kt / llama.cpp decode: {ratio:.2f}x. Weights read per decode token: {kt['decode_weight_bytes_per_token']/1e6:.1f} MB;",
    f"bandwidth-bound decode limit: {kt['dram_read_gbps']*1e9/kt['decode_weight_bytes_per_token']:.2f} tok/s.",
]
open(out + ".md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
