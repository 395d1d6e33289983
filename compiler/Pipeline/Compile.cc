#include "compiler/Pipeline/Compile.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <unordered_map>
#include <vector>

#include "compiler/Pipeline/Plans.h"
#include "compiler/nvrtc/gpu_arch.h"
#ifdef KT_HAVE_NVRTC
#include "compiler/nvrtc/decode_kernels.h"
#endif
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/q4k_x8.h"
#include "kernels/quant/ggml_type.h"

namespace kt::pipeline {
namespace {

// Whether the CPU kernels want tensor `t` interleaved by 8 rows: Q4_K
// matrices whose groups of 8 rows never straddle an expert or a head
// (shape[1] % 8 == 0). The token embedding is read one row per token, so it
// keeps the ggml layout.
bool InterleaveQ4K(const gguf::GgufTensorInfo& t) {
  return t.type == quant::GgmlType::kQ4_K && t.ne.size() >= 2 && t.ne[0] % 256 == 0 &&
         t.ne[1] % cpu::kQ4KX8Rows == 0 && t.name != "token_embd.weight";
}

// Emits the tensor at `data` repacked into kernels/cpu/q4k_x8.h's layout,
// a few MiB of whole 8-row groups at a time, releasing the source pages
// once read (as BytesFromMapping does) so large models keep a small
// resident set.
artifact::ByteSource RepackedQ4KX8(const void* data, uint64_t size, uint64_t cols) {
  return [data, size, cols](const artifact::ByteSink& sink) -> Status {
    const uint64_t group_bytes = cols / 256 * cpu::kQ4KX8BlockBytes;
    if (group_bytes == 0 || size % group_bytes != 0)
      return KT_ERROR(kInternal, "Q4_K tensor of ", size, " bytes is not whole groups of 8 rows of ", cols);
    const uint64_t per_chunk = std::max<uint64_t>(1, (uint64_t{8} << 20) / group_bytes);
    std::vector<uint8_t> buf(std::min(size, per_chunk * group_bytes));
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    const auto* bytes = static_cast<const uint8_t*>(data);
    for (uint64_t done = 0; done < size;) {
      const uint64_t n = std::min<uint64_t>(buf.size(), size - done);
      cpu::RepackQ4KX8(bytes + done, static_cast<int64_t>(n / group_bytes), static_cast<int64_t>(cols), buf.data());
      KT_RETURN_IF_ERROR(sink(buf.data(), n));
      const uintptr_t begin = (reinterpret_cast<uintptr_t>(bytes + done) + page - 1) / page * page;
      const uintptr_t end = reinterpret_cast<uintptr_t>(bytes + done + n) / page * page;
      if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
      done += n;
    }
    return Status::Ok();
  };
}

}  // namespace

StatusOr<artifact::CpuIsa> ResolveCpuIsa(const std::string& name) {
  using artifact::CpuIsa;
  cpu::Isa isa = cpu::Isa::kGeneric;
  if (name == "native") {
    isa = cpu::BestHostIsa();
  } else if (!cpu::ParseIsa(name, &isa)) {
    return KT_ERROR(kInvalidArgument, "--cpu '", name, "' is not one of native, generic, avx2, avx512, amx");
  }
  switch (isa) {
    case cpu::Isa::kGeneric: return CpuIsa::kGeneric;
    case cpu::Isa::kAvx2: return CpuIsa::kAvx2;
    case cpu::Isa::kAvx512: return CpuIsa::kAvx512;
    case cpu::Isa::kAmx: return CpuIsa::kAmx;
  }
  return KT_ERROR(kInternal, "unknown ISA");
}

bool GpuKernelsAvailable() {
#ifdef KT_HAVE_NVRTC
  return true;
#else
  return false;
#endif
}

namespace {

// The decode kernels for the ggml types of the GPU's tensors, compiled by
// NVRTC for options.gpu_arch: one cubin and the same kernels as PTX (for a
// driver to JIT on a newer GPU), their mangled names as entry points.
Status AddGpuKernels(const gguf::GgufFile& file, const std::unordered_map<std::string, bool>& on_gpu,
                     const CompileOptions& options, artifact::ArtifactContents* c) {
#ifdef KT_HAVE_NVRTC
  std::set<int> types;
  for (const gguf::GgufTensorInfo& t : file.tensors())
    if (auto it = on_gpu.find(t.name); it != on_gpu.end() && it->second) types.insert(static_cast<int>(t.type));
  KT_ASSIGN_OR_RETURN(nvrtc::CompileResult compiled,
                      nvrtc::CompileDecodeKernels(types, options.gpu_arch, options.kernel_cache));
  std::vector<std::string> entries;
  for (const auto& [expression, mangled] : compiled.lowered_names) entries.push_back(mangled);
  artifact::KernelSpec cubin;
  cubin.name = "decode." + options.gpu_arch + ".cubin";
  cubin.format = artifact::KernelFormat::kCubin;
  cubin.arch = options.gpu_arch;
  cubin.entry_points = entries;
  cubin.bytes = std::move(compiled.cubin);
  artifact::KernelSpec ptx = cubin;
  ptx.name = "decode." + options.gpu_arch + ".ptx";
  ptx.format = artifact::KernelFormat::kPtx;
  ptx.bytes.assign(compiled.ptx.begin(), compiled.ptx.end());
  c->kernels.push_back(std::move(cubin));
  c->kernels.push_back(std::move(ptx));
  return Status::Ok();
#else
  (void)file;
  (void)on_gpu;
  (void)options;
  (void)c;
  return KT_ERROR(kUnimplemented, "this ktc was built without NVRTC and cannot compile GPU kernels");
#endif
}

}  // namespace

StatusOr<artifact::ArtifactContents> BuildContents(const gguf::GgufFile& file, const Analysis& a,
                                                  const CompileOptions& options) {
  artifact::ArtifactContents c;
  c.producer = options.producer;
  const std::string& path = file.name();
  const size_t slash = path.find_last_of('/');
  c.source = slash == std::string::npos ? path : path.substr(slash + 1);
  c.hparams = a.hparams;
  c.tokenizer = a.tokenizer;
  KT_ASSIGN_OR_RETURN(c.target.cpu_isa, ResolveCpuIsa(options.cpu));
  // Generic code reads plain ggml rows; the SIMD kernels stream Q4_K
  // interleaved by 8 rows (kernels/cpu/q4k_x8.h).
  const bool interleave = c.target.cpu_isa != artifact::CpuIsa::kGeneric;
  c.target.cpu_layout = interleave ? artifact::TensorLayout::kCpuRowInterleaved : artifact::TensorLayout::kGgml;
  if (a.any_gpu) {
    KT_RETURN_IF_ERROR(nvrtc::CheckGpuArch(options.gpu_arch));
    c.target.gpu_arch = options.gpu_arch;
    c.target.gpu_count = 1;
  }
  c.target.vram_budget_bytes = a.vram_budget;
  if (a.ctx > UINT32_MAX) return KT_ERROR(kOutOfRange, "--ctx ", a.ctx, " does not fit 32 bits");
  c.target.max_context = static_cast<uint32_t>(a.ctx);

  std::unordered_map<std::string, bool> on_gpu;
  for (const WeightInfo& w : a.weights) on_gpu[w.name] = w.gpu;
  std::unordered_map<std::string, uint32_t> tensor_index;
  for (const gguf::GgufTensorInfo& t : file.tensors()) {
    auto placed = on_gpu.find(t.name);
    if (placed == on_gpu.end()) return KT_ERROR(kInternal, "tensor '", t.name, "' was not placed");
    artifact::TensorSpec spec;
    spec.name = t.name;
    spec.segment = placed->second ? artifact::SegmentKind::kGpuWeights : artifact::SegmentKind::kCpuWeights;
    spec.ggml_type = static_cast<uint32_t>(t.type);
    spec.layout = artifact::TensorLayout::kGgml;
    spec.shape = t.ne;
    if (interleave && !placed->second && InterleaveQ4K(t)) {
      spec.layout = artifact::TensorLayout::kCpuRowInterleaved;
      spec.layout_rows = cpu::kQ4KX8Rows;
      spec.source = RepackedQ4KX8(file.TensorData(t), t.n_bytes, t.ne[0]);
    } else {
      spec.source = artifact::BytesFromMapping(file.TensorData(t), t.n_bytes);
    }
    tensor_index.emplace(t.name, static_cast<uint32_t>(c.tensors.size()));
    c.tensors.push_back(std::move(spec));
  }
  if (a.any_gpu && options.gpu_kernels) KT_RETURN_IF_ERROR(AddGpuKernels(file, on_gpu, options, &c));
  c.placement = BuildPlacement(a);
  c.plans.push_back(BuildPlan(a.decode, c.placement, tensor_index));
  c.plans.push_back(BuildPlan(a.prefill, c.placement, tensor_index));
  return c;
}

StatusOr<artifact::WriteResult> CompileToArtifact(const gguf::GgufFile& file, const Analysis& a,
                                                  const CompileOptions& options, const std::string& out_path) {
  KT_ASSIGN_OR_RETURN(artifact::ArtifactContents contents, BuildContents(file, a, options));
  artifact::WriteOptions write;
  write.progress = options.progress;
  return artifact::WriteArtifact(out_path, contents, write);
}

}  // namespace kt::pipeline
