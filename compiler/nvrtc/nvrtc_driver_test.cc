// Compiles kt's real kernel headers with NVRTC (no GPU needed) and checks the
// on-disk cache. KT_SOURCE_ROOT is the source tree, set by CMake.
#include "compiler/nvrtc/nvrtc_driver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace kt::nvrtc {
namespace {

const std::vector<std::string> kHeaders = {
    "kernels/cuda/common.cuh", "kernels/cuda/mma.cuh",         "kernels/cuda/gemv_quant.cuh",
    "kernels/cuda/ops.cuh",    "kernels/cuda/mla_decode.cuh", "kernels/cuda/gemm_prefill.cuh",
    "kernels/cuda/gemv_tc.cuh", "kernels/cuda/mla_prefill.cuh", "kernels/cuda/gemv_i8.cuh",
    "kernels/cuda/bulk.cuh", "kernels/cuda/gemv_smallk.cuh", "kernels/cuda/trace.cuh",
    "kernels/cuda/quant_i8.cuh"};

class NvrtcDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kt_nvrtc_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    auto headers = ReadHeaders(KT_SOURCE_ROOT, kHeaders);
    ASSERT_TRUE(headers.ok()) << headers.status().ToString();
    req_.headers = *headers;
    req_.source =
        "#include \"kernels/cuda/gemv_quant.cuh\"\n"
        "#include \"kernels/cuda/ops.cuh\"\n"
        "#include \"kernels/cuda/mla_decode.cuh\"\n"
        "#include \"kernels/cuda/gemm_prefill.cuh\"\n"
        "#include \"kernels/cuda/gemv_tc.cuh\"\n"
        "#include \"kernels/cuda/mla_prefill.cuh\"\n"
        "#include \"kernels/cuda/gemv_i8.cuh\"\n"
        "extern \"C\" __global__ void kt_probe(float* y) { y[0] = KT_PROBE_VALUE; }\n";
    req_.defines = {"KT_PROBE_VALUE=7.5f"};
    req_.name_expressions = {"&kt_cuda::GemvKernel<12, 1, 4>", "&kt_cuda::GemvKernel<8, 1, 4>",
                             "&kt_cuda::GemvTcKernel<12>",    "&kt_cuda::GemvTcKernel<8>",
                             "&kt_cuda::GemmKernel<12>",      "&kt_cuda::MlaDecodeKernel<64, 32, 3>",
                             "&kt_cuda::RmsNormKernel",       "&kt_cuda::MlaPrefillKernel",
                             "&kt_cuda::GemvI8Q4KKernel<1, 2, 3, 1>", "&kt_cuda::GemvI8Q80Kernel<1, 1, 2>",
                             "&kt_cuda::QuantizeX2Kernel", "&kt_cuda::GemvI8Q6KKernel<1, 2, 3, 8, 4>"};
    req_.cache_dir = dir_.string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  CompileRequest req_;
};

TEST_F(NvrtcDriverTest, CompilesKernelsToCubinAndPtxThenHitsCache) {
  auto first = Compile(req_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->from_cache);
  ASSERT_GE(first->cubin.size(), 4u);
  EXPECT_EQ(0, std::memcmp(first->cubin.data(), "\x7f" "ELF", 4));
  EXPECT_NE(first->ptx.find(".entry"), std::string::npos);
  EXPECT_NE(first->ptx.find(".target sm_90a"), std::string::npos);
  ASSERT_EQ(first->lowered_names.size(), req_.name_expressions.size());
  for (const auto& [expr, mangled] : first->lowered_names) {
    EXPECT_NE(first->ptx.find(mangled), std::string::npos) << expr << " -> " << mangled;
  }
  EXPECT_NE(first->ptx.find("mma.sync.aligned.m16n8k16"), std::string::npos);
  EXPECT_NE(first->ptx.find("dp4a.s32.s32"), std::string::npos);
  EXPECT_NE(first->ptx.find("griddepcontrol.wait"), std::string::npos);

  auto second = Compile(req_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->from_cache);
  EXPECT_EQ(second->key, first->key);
  EXPECT_EQ(second->cubin, first->cubin);
  EXPECT_EQ(second->ptx, first->ptx);
  EXPECT_EQ(second->lowered_names, first->lowered_names);
}

TEST_F(NvrtcDriverTest, KeyCoversDefinesArchHeadersAndSource) {
  const std::string base = CacheKey(req_);
  CompileRequest r = req_;
  r.defines = {"KT_PROBE_VALUE=8.5f"};
  EXPECT_NE(CacheKey(r), base);
  r = req_;
  r.arch = "sm_90";
  EXPECT_NE(CacheKey(r), base);
  r = req_;
  r.headers[0].content += "\n// edited\n";
  EXPECT_NE(CacheKey(r), base);
  r = req_;
  r.source += " ";
  EXPECT_NE(CacheKey(r), base);
  EXPECT_EQ(CacheKey(req_), base);
}

TEST_F(NvrtcDriverTest, DefineSpecialisesTheCode) {
  req_.name_expressions.clear();
  req_.headers.clear();
  req_.source = "extern \"C\" __global__ void kt_probe(float* y) { y[0] = KT_PROBE_VALUE; }\n";
  auto a = Compile(req_);
  req_.defines = {"KT_PROBE_VALUE=8.5f"};
  auto b = Compile(req_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->ptx.find("1089470464"), std::string::npos);  // bits of 7.5f
  EXPECT_NE(b->ptx.find("1091043328"), std::string::npos);  // bits of 8.5f
}

TEST_F(NvrtcDriverTest, CorruptCacheEntryIsRebuilt) {
  auto first = Compile(req_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  { std::ofstream(dir_ / (first->key + ".cubin"), std::ios::trunc) << "junk"; }
  auto again = Compile(req_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->from_cache);
  EXPECT_EQ(again->cubin, first->cubin);
}

TEST_F(NvrtcDriverTest, CompileErrorIsAStatusWithTheLog) {
  req_.source = "__global__ void broken( { }\n";
  req_.name_expressions.clear();
  auto r = Compile(req_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("error"), std::string::npos) << r.status().message();
}

TEST_F(NvrtcDriverTest, VirtualArchIsRejected) {
  req_.arch = "compute_90a";
  auto r = Compile(req_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kt::nvrtc
