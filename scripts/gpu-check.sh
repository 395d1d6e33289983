#!/usr/bin/env bash
# Builds kt's CUDA kernels with plain nvcc (no CMake, MLIR or gtest needed)
# and runs the GPU checks and benchmarks; the short table is printed last.
#
#   scripts/gpu-check.sh              checks + benchmarks
#   scripts/gpu-check.sh --test       checks only
#   scripts/gpu-check.sh --bench      benchmarks only
#   scripts/gpu-check.sh --quick      smaller subset of both
#   scripts/gpu-check.sh --timeline --heads 128 --ctx 32768 --config 5
#                                     one MLA call's phases block by block
#                                     (kt_mla_timeline; the rest goes to it)
# Environment: NVCC (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc),
#   KT_GPU_BUILD (build dir, default build-gpu), KT_CUDA_GENCODE (nvcc target
#   flags; default from the GPU's compute capability, sm_90a on Hopper),
#   KT_NVCC_FLAGS (extra nvcc flags, e.g. -lineinfo for a profiler).
# Exit: 0 all passed, 1 a check failed, 77 no GPU (SKIPPED).
set -euo pipefail
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then sed -n '2,16p' "$0"; exit 0; fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KT_GPU_BUILD:-$root/build-gpu}
nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
mkdir -p "$build"

timeline=0
args=()
if [[ "${1:-}" == "--timeline" ]]; then
  timeline=1  # the other arguments are kt_mla_timeline's
  shift
else
  for a in "$@"; do
    case "$a" in
      --test|--bench|--quick) args+=("$a") ;;
      *) echo "gpu-check: unknown argument $a (see --help)" >&2; exit 2 ;;
    esac
  done
  if [[ ${#args[@]} -eq 0 || ( ${#args[@]} -eq 1 && "${args[0]}" == --quick ) ]]; then
    args+=(--test --bench)
  fi
fi

if [[ -z "${KT_CUDA_GENCODE:-}" ]]; then
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .' || true)
  case "$cc" in
    90) KT_CUDA_GENCODE="-gencode arch=compute_90a,code=sm_90a" ;;
    "") KT_CUDA_GENCODE="-gencode arch=compute_90a,code=sm_90a" ;;
    *) KT_CUDA_GENCODE="-gencode arch=compute_${cc},code=sm_${cc}" ;;
  esac
fi
flags=(-std=c++17 -O3 $KT_CUDA_GENCODE ${KT_NVCC_FLAGS:-} -I"$root" -Xcompiler=-Wall,-Wextra,-Wno-unused-parameter -Werror=all-warnings)
# The host code may pick the wgmma MLA kernel only if its sm_90a build exists.
if [[ "$KT_CUDA_GENCODE" == *sm_90a* ]]; then flags+=(-DKT_CUDA_WGMMA_BUILT=1); fi
if [[ $timeline -eq 1 ]]; then
  # The MLA kernels with their phase stamps compiled in (trace.cuh).
  "$nvcc" "${flags[@]}" -DKT_CUDA_TRACE "$root/kernels/cuda/mla_timeline.cu" -o "$build/kt_mla_timeline"
  exec "$build/kt_mla_timeline" "$@"
fi
# Host-only C++ of the NVRTC check (the driver and the kt_base status it
# returns), in the C++ standard CMake builds it with; nvcc finds nvrtc.h.
ccflags=(-std=c++20 -O2 -I"$root" -Xcompiler=-Wall,-Wextra,-Wno-unused-parameter -Werror=all-warnings)
echo "gpu-check: building with $nvcc $KT_CUDA_GENCODE into $build"
cuda_srcs=(kernels gemm_prefill gemm_cublas gpu_test gpu_fused_test gpu_layer_bench gpu_nvrtc_check)
pids=()
for src in "${cuda_srcs[@]}"; do
  "$nvcc" "${flags[@]}" -c "$root/kernels/cuda/$src.cu" -o "$build/$src.o" &
  pids+=($!)
done
for src in compiler/nvrtc/nvrtc_driver runtime/base/status; do
  "$nvcc" "${ccflags[@]}" -c "$root/$src.cc" -o "$build/$(basename "$src").o" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
objs=()
for o in "${cuda_srcs[@]}" nvrtc_driver status; do
  objs+=("$build/$o.o")
done
"$nvcc" $KT_CUDA_GENCODE "${objs[@]}" -lcublas -lnvrtc -o "$build/kt_gpu_test"
"$nvcc" "${flags[@]}" "$root/kernels/cuda/smoke_test.cu" -o "$build/kt_cuda_smoke_test"

set +e
"$build/kt_cuda_smoke_test"
rc=$?
if [[ $rc -eq 77 ]]; then echo "gpu-check: SKIPPED (no usable GPU)"; exit 77; fi
# KT_SOURCE_ROOT: where the NVRTC check reads the kernel headers it compiles.
KT_SOURCE_ROOT="$root" "$build/kt_gpu_test" "${args[@]}" --table "$build/bench.md" 2>&1 | tee "$build/gpu-check.log"
rc2=${PIPESTATUS[0]}
set -e
echo
echo "gpu-check: smoke test rc=$rc, kt_gpu_test rc=$rc2 (log: $build/gpu-check.log, table: $build/bench.md)"
grep -E "^checks:" "$build/gpu-check.log" | tail -1 || true
[[ $rc -eq 0 && $rc2 -eq 0 ]]
