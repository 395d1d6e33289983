// The optimized CPU executor against the reference executor on generated
// tiny models of both architectures, float and Q4_K_M weights, both MLA
// weight layouts: same greedy tokens, logits close.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "compiler/gen/gen.h"
#include "compiler/gguf_model/deepseek_gguf.h"
#include "runtime/engine/executor.h"
#include "runtime/sampler/sampler.h"

namespace kt::engine {
namespace {

struct Case {
  const char* preset;
  gen::WeightType type;
  bool legacy;
  const char* name;
};

class CpuExecutorTest : public ::testing::TestWithParam<Case> {};

TEST_P(CpuExecutorTest, MatchesReference) {
  const Case c = GetParam();
  std::string file = "cpu_exec_";
  file += c.name;
  file += ".gguf";
  const std::string path = (std::filesystem::path(::testing::TempDir()) / file).string();
  gen::GenOptions options;
  options.preset = c.preset;
  options.type = c.type;
  options.seed = 7;
  options.legacy_kv_b = c.legacy;
  options.output = path;
  options.config_out = "-";
  ASSERT_TRUE(gen::GenerateModel(options).ok());
  auto model = gguf_model::GgufDeepseekModel::Open(path);
  ASSERT_TRUE(model.ok()) << model.status().ToString();

  ExecutorOptions ref_options{ExecutorKind::kReference, 64, 0};
  ExecutorOptions cpu_options{ExecutorKind::kCpu, 64, 2};
  auto ref = CreateExecutor((*model)->config, (*model)->table, ref_options);
  auto cpu = CreateExecutor((*model)->config, (*model)->table, cpu_options);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();

  const uint32_t vocab = (*model)->config.vocab;
  std::vector<int32_t> prompt;
  for (int i = 0; i < 10; ++i) prompt.push_back(static_cast<int32_t>((i * 37 + 11) % vocab));
  std::vector<uint32_t> positions(prompt.size());
  for (size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<uint32_t>(i);

  std::vector<float> ref_logits, cpu_logits;
  ASSERT_TRUE((*ref)->Forward(prompt, positions, true, &ref_logits).ok());
  ASSERT_TRUE((*cpu)->Forward(prompt, positions, true, &cpu_logits).ok());
  ASSERT_EQ(ref_logits.size(), cpu_logits.size());

  double worst = 0;
  auto compare_rows = [&](const std::vector<float>& a, const std::vector<float>& b) {
    for (size_t row = 0; row < a.size() / vocab; ++row) {
      double max_ref = 0, max_diff = 0;
      for (uint32_t v = 0; v < vocab; ++v) {
        const float x = a[row * vocab + v], y = b[row * vocab + v];
        ASSERT_TRUE(std::isfinite(y));
        max_ref = std::max(max_ref, std::fabs(double(x)));
        max_diff = std::max(max_diff, std::fabs(double(x) - y));
      }
      worst = std::max(worst, max_diff / max_ref);
    }
  };
  compare_rows(ref_logits, cpu_logits);

  // Float weights take float activations: the two executors must agree to
  // rounding, token for token. Quantised weights take 8-bit activations
  // (as llama.cpp's CPU backend does), which moves each product by ~0.5%; on
  // these tiny random models that is enough to flip near-tied expert
  // choices and attention weights, after which logits differ by up to ~25%
  // of their range (tiny-v3; a few % for tiny-v2-lite). So
  // quantised models are held to a looser bound and compared token by token
  // only in the float case; test/peer/test_ktrun_llama.py measures both
  // executors against llama.cpp.
  const bool exact = c.type == gen::WeightType::kF32 || c.type == gen::WeightType::kF16;
  int32_t token_ref = ArgMax(std::span<const float>(ref_logits).last(vocab));
  int32_t token_cpu = ArgMax(std::span<const float>(cpu_logits).last(vocab));
  for (uint32_t step = 0; step < 16; ++step) {
    std::vector<float> top(ref_logits.end() - vocab, ref_logits.end());
    std::nth_element(top.begin(), top.begin() + 1, top.end(), std::greater<float>());
    const double margin = top[0] - top[1];
    if (exact && margin > 1e-3 * std::fabs(top[0])) {
      ASSERT_EQ(token_ref, token_cpu) << "step " << step;
    }
    if (token_ref != token_cpu) break;  // sequences diverge on a tie; stop comparing
    const uint32_t pos = static_cast<uint32_t>(prompt.size() + step);
    ref_logits.clear();
    cpu_logits.clear();
    ASSERT_TRUE((*ref)->Forward(std::span<const int32_t>(&token_ref, 1), std::span<const uint32_t>(&pos, 1), false,
                                &ref_logits).ok());
    ASSERT_TRUE((*cpu)->Forward(std::span<const int32_t>(&token_cpu, 1), std::span<const uint32_t>(&pos, 1), false,
                                &cpu_logits).ok());
    compare_rows(ref_logits, cpu_logits);
    token_ref = ArgMax(ref_logits);
    token_cpu = ArgMax(cpu_logits);
  }
  std::printf("[%s] max relative logit error, cpu vs reference: %.3g\n", c.name, worst);
  EXPECT_LT(worst, exact ? 1e-4 : 0.35);
}

INSTANTIATE_TEST_SUITE_P(
    Models, CpuExecutorTest,
    ::testing::Values(Case{"tiny-v3", gen::WeightType::kF32, false, "v3_f32"},
                      Case{"tiny-v3", gen::WeightType::kQ4_K_M, false, "v3_q4km"},
                      Case{"tiny-v2-lite", gen::WeightType::kF32, false, "v2lite_f32"},
                      Case{"tiny-v2-lite", gen::WeightType::kQ4_K_M, false, "v2lite_q4km"},
                      Case{"tiny-v2-lite", gen::WeightType::kQ8_0, false, "v2lite_q8"},
                      Case{"tiny-v2-lite", gen::WeightType::kF16, false, "v2lite_f16"},
                      Case{"tiny-v3", gen::WeightType::kQ4_K_M, true, "v3_q4km_legacy"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace kt::engine
