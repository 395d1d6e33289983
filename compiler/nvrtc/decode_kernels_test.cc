// The decode kernel set compiles from the embedded headers alone, for the
// weight types asked for, and bad targets are refused before NVRTC runs.
#include "compiler/nvrtc/decode_kernels.h"

#include <gtest/gtest.h>

#include <cstring>

#include "compiler/nvrtc/kernel_headers.h"

namespace kt::nvrtc {
namespace {

TEST(DecodeKernelsTest, EmbeddedHeadersAreTheKernelSources) {
  const auto& headers = EmbeddedKernelHeaders();
  bool common = false, mla = false;
  for (const Header& h : headers) {
    EXPECT_EQ(h.name.rfind("kernels/cuda/", 0), 0u) << h.name;
    EXPECT_FALSE(h.content.empty()) << h.name;
    common |= h.name == "kernels/cuda/common.cuh" && h.content.find("namespace kt_cuda") != std::string::npos;
    mla |= h.name == "kernels/cuda/mla_decode.cuh" && h.content.find("MlaDecodeKernel") != std::string::npos;
  }
  EXPECT_TRUE(common);
  EXPECT_TRUE(mla);
}

TEST(DecodeKernelsTest, KernelSetFollowsTheGpuTypes) {
  const auto q4k = DecodeKernelNames({12}, "sm_90a");
  const auto all = DecodeKernelNames({0, 8, 12, 14}, "sm_90a");
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    for (const std::string& n : v)
      if (n.find(s) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has(q4k, "GemvI8Q4KKernel"));
  EXPECT_TRUE(has(q4k, "GemvMmaKernel<12"));
  EXPECT_TRUE(has(q4k, "MlaDecodeKernel"));
  EXPECT_FALSE(has(q4k, "GemvI8Q6KKernel"));
  EXPECT_FALSE(has(q4k, "GemvMmaKernel<8"));
  EXPECT_TRUE(has(all, "GemvI8Q6KKernel"));
  EXPECT_TRUE(has(all, "GemvSmallKQ80SharedKernel"));
  EXPECT_TRUE(has(all, "GemvKernel<0, 1, 4>"));
  EXPECT_GT(all.size(), q4k.size());
  // The wgmma MLA kernel exists only for sm_90a.
  EXPECT_TRUE(has(q4k, "MlaDecodeWgmmaKernel"));
  EXPECT_FALSE(has(DecodeKernelNames({12}, "sm_90"), "MlaDecodeWgmmaKernel"));
  EXPECT_FALSE(has(DecodeKernelNames({12}, "sm_80"), "MlaDecodeWgmmaKernel"));
}

TEST(DecodeKernelsTest, CompilesToCubinAndPtxForTheTarget) {
  const std::set<int> types = {0, 8, 12, 14};
  auto r = CompileDecodeKernels(types, "sm_90a", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_GE(r->cubin.size(), 4u);
  EXPECT_EQ(0, std::memcmp(r->cubin.data(), "\x7f" "ELF", 4));
  EXPECT_NE(r->ptx.find(".target sm_90a"), std::string::npos);
  const auto names = DecodeKernelNames(types, "sm_90a");
  ASSERT_EQ(r->lowered_names.size(), names.size());
  for (const std::string& n : names) {
    auto it = r->lowered_names.find(n);
    ASSERT_NE(it, r->lowered_names.end()) << n;
    EXPECT_EQ(it->second.rfind("_ZN7kt_cuda", 0), 0u) << n << " -> " << it->second;
    EXPECT_NE(r->ptx.find(".entry " + it->second), std::string::npos) << it->second;
  }
}

TEST(DecodeKernelsTest, BadTargetsAreRefused) {
  for (const char* arch : {"sm_75", "compute_90", "sm_9", "sm_90b", "sm_", "90a", ""}) {
    auto r = CompileDecodeKernels({12}, arch, "");
    ASSERT_FALSE(r.ok()) << arch;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << arch;
    EXPECT_NE(r.status().message().find("GPU target"), std::string::npos) << r.status().message();
  }
  EXPECT_TRUE(CheckGpuArch("sm_80").ok());
  EXPECT_TRUE(CheckGpuArch("sm_90a").ok());
  EXPECT_TRUE(CheckGpuArch("sm_100a").ok());
}

}  // namespace
}  // namespace kt::nvrtc
