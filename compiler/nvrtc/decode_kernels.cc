#include "compiler/nvrtc/decode_kernels.h"

#include "compiler/nvrtc/kernel_headers.h"

namespace kt::nvrtc {
namespace {

// ggml type ids (kernels/cuda/common.cuh names them the same way).
constexpr int kF32 = 0, kF16 = 1, kQ8_0 = 8, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kBF16 = 30;

}  // namespace

std::vector<std::string> DecodeKernelNames(const std::set<int>& gpu_types, const std::string& arch) {
  // What every GPU layer runs whatever its weights: norms (also with the
  // quantising epilogue), RoPE, the MLA cache append, the quantisers, MLA
  // decode in the block shapes MlaDecode picks (configs 1-4, the
  // warp-specialised kernel (config 6) and on sm_90a the wgmma kernel
  // (config 5)) and its merge (both widths), the router (one instance per
  // experts-per-lane count), the FFN's element-wise ops (also with the
  // quantising epilogue), lm_head's argmax.
  std::vector<std::string> names = {
      "&kt_cuda::RmsNormKernel",           "&kt_cuda::RopeYarnKernel",
      "&kt_cuda::QuantizeX2Kernel",        "&kt_cuda::QuantizeMmaKernel",
      "&kt_cuda::MlaDecodeKernel<16, 64, 2, 1>", "&kt_cuda::MlaDecodeKernel<16, 32, 5, 1>",
      "&kt_cuda::MlaDecodeKernel<64, 32, 3, 1>", "&kt_cuda::MlaDecodeKernel<16, 32, 2, 2>",
      "&kt_cuda::MlaDecodeWsKernel",       "&kt_cuda::MlaCombineKernel<2>",
      "&kt_cuda::MlaCombineKernel<4>", "&kt_cuda::RouterKernel<1>",
      "&kt_cuda::RouterKernel<2>",         "&kt_cuda::RouterKernel<4>",
      "&kt_cuda::RouterKernel<8>",         "&kt_cuda::RouterKernel<16>",
      "&kt_cuda::RouterKernel<32>",
      "&kt_cuda::SiluMulKernel",           "&kt_cuda::AddKernel",
      "&kt_cuda::ArgmaxKernel",            "&kt_cuda::F32ToBf16Kernel",
      "&kt_cuda::RmsNormI8Kernel",         "&kt_cuda::SiluMulI8Kernel",
      "&kt_cuda::MlaKvAppendKernel",
  };
  if (arch == "sm_90a") names.push_back("&kt_cuda::MlaDecodeWgmmaKernel");
  // One token per step (int8 dp4a GEMV, K split or not) and 3-16 tokens
  // (int8 tensor-core GEMV, 8 or 16 tokens per tile, 3 or 5 stages).
  auto mma = [&](int type) {
    for (int nt : {1, 2})
      for (int s : {3, 5})
        names.push_back("&kt_cuda::GemvMmaKernel<" + std::to_string(type) + ", 1, " + std::to_string(nt) + ", " +
                        std::to_string(s) + ">");
  };
  if (gpu_types.count(kQ4_K)) {
    names.push_back("&kt_cuda::GemvI8Q4KKernel<1, 4, 2, 1>");
    names.push_back("&kt_cuda::GemvI8Q4KKernel<1, 4, 2, 4>");
    mma(kQ4_K);
  }
  if (gpu_types.count(kQ8_0)) {
    names.push_back("&kt_cuda::GemvI8Q80Kernel<1, 2, 2>");
    names.push_back("&kt_cuda::GemvSmallKKernel<8>");  // the per-head absorption matrices
    names.push_back("&kt_cuda::GemvSmallKQ80SharedKernel");
    mma(kQ8_0);
  }
  if (gpu_types.count(kQ5_K)) mma(kQ5_K);  // Q5_K at every token count
  if (gpu_types.count(kQ6_K)) {
    for (int chunk : {16, 8, 4}) names.push_back("&kt_cuda::GemvI8Q6KKernel<1, 2, 3, " + std::to_string(chunk) + ", 1>");
    mma(kQ6_K);
  }
  for (int type : {kF32, kF16, kBF16}) {  // the router (f32) and unquantised matrices
    if (!gpu_types.count(type)) continue;
    names.push_back("&kt_cuda::GemvKernel<" + std::to_string(type) + ", 1, 4>");
    names.push_back("&kt_cuda::GemvSmallKKernel<" + std::to_string(type) + ">");
  }
  return names;
}

StatusOr<CompileResult> CompileDecodeKernels(const std::set<int>& gpu_types, const std::string& arch,
                                             const std::string& cache_dir) {
  KT_RETURN_IF_ERROR(CheckGpuArch(arch));
  CompileRequest request;
  request.source_name = "kt_decode_kernels.cu";
  request.source =
      "#include \"kernels/cuda/ops.cuh\"\n"
      "#include \"kernels/cuda/gemv_quant.cuh\"\n"
      "#include \"kernels/cuda/gemv_smallk.cuh\"\n"
      "#include \"kernels/cuda/gemv_i8.cuh\"\n"
      "#include \"kernels/cuda/gemv_mma.cuh\"\n"
      "#include \"kernels/cuda/mla_decode.cuh\"\n"
      "#include \"kernels/cuda/mla_decode_ws.cuh\"\n"
      "#include \"kernels/cuda/mla_decode_wgmma.cuh\"\n"
      "#include \"kernels/cuda/gemm_prefill.cuh\"\n";
  request.headers = EmbeddedKernelHeaders();
  request.arch = arch;
  request.name_expressions = DecodeKernelNames(gpu_types, arch);
  request.cache_dir = cache_dir;
  return Compile(request);
}

}  // namespace kt::nvrtc
