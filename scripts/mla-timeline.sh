#!/usr/bin/env bash
# Builds kt_mla_timeline (the MLA kernels with their phase timestamps
# compiled in, KT_CUDA_TRACE) and runs it: where one MLA decode call spends
# its time, block by block. Arguments go to the tool (see its --help).
#
#   scripts/mla-timeline.sh --heads 128 --ctx 32768 --config 5
#   scripts/mla-timeline.sh --heads 16 --ctx 4096 --config 6
# Environment: NVCC, KT_GPU_BUILD, KT_CUDA_GENCODE, KT_NVCC_FLAGS as for gpu-check.sh.
# Exit: the tool's (77: no GPU, SKIPPED).
set -euo pipefail
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then sed -n '2,10p' "$0"; exit 0; fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KT_GPU_BUILD:-$root/build-gpu}
nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
mkdir -p "$build"
gencode=${KT_CUDA_GENCODE:--gencode arch=compute_90a,code=sm_90a}
flags=(-std=c++17 -O3 $gencode ${KT_NVCC_FLAGS:-} -I"$root" -DKT_CUDA_TRACE -Xcompiler=-Wall,-Wextra,-Wno-unused-parameter -Werror=all-warnings)
if [[ "$gencode" == *sm_90a* ]]; then flags+=(-DKT_CUDA_WGMMA_BUILT=1); fi
"$nvcc" "${flags[@]}" "$root/kernels/cuda/mla_timeline.cu" -o "$build/kt_mla_timeline"
exec "$build/kt_mla_timeline" "$@"
