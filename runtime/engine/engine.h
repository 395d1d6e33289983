// A loaded model ready to generate: the verified artifact, its tokenizer and
// an executor, plus the generation loop used by `ktrun generate/chat/bench`
// and the server.
//
//   KT_ASSIGN_OR_RETURN(auto engine, Engine::Load("model.kta", {}));
//   KT_ASSIGN_OR_RETURN(auto ids, engine->tokenizer().Encode("Hello", {.add_bos = true}));
//   KT_ASSIGN_OR_RETURN(auto result, engine->Generate(ids, {.max_tokens = 32}, on_token));
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/artifact/artifact.h"
#include "runtime/engine/artifact_model.h"
#include "runtime/engine/executor.h"
#include "runtime/sampler/sampler.h"
#include "runtime/tokenizer/tokenizer.h"

namespace kt::engine {

struct EngineOptions {
  ExecutorKind executor = ExecutorKind::kCpu;
  uint32_t context = 0;  // 0: the artifact's compiled context
  int threads = 0;
  bool verify_checksums = false;
};

struct GenerateOptions {
  int32_t max_tokens = 128;
  SamplerOptions sampler;
  bool stop_at_eos = true;
  bool all_logits = false;       // keep every step's logits in the result
  bool prompt_logits = false;    // also keep the prompt's rows (before the generated ones)
  uint32_t prefill_chunk = 256;  // tokens per prefill forward call
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (prompt excluded)
  std::vector<float> logits;    // with all_logits: one row per generated token, after
                                // one row per prompt token with prompt_logits
  double prefill_seconds = 0;
  double decode_seconds = 0;    // all steps after the first generated token
  double first_token_seconds = 0;
  bool stopped_at_eos = false;
};

// Called with each new token id; return false to stop.
using TokenCallback = std::function<bool(int32_t token)>;

class Engine {
 public:
  static StatusOr<std::unique_ptr<Engine>> Load(const std::string& path, const EngineOptions& options);

  const artifact::Artifact& artifact() const { return artifact_; }
  const model::DeepseekConfig& config() const { return config_; }
  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
  Executor& executor() { return *executor_; }
  uint32_t context() const { return context_; }

  // Runs the prompt from position 0 (the cache is reset) and samples up to
  // max_tokens new tokens.
  StatusOr<GenerateResult> Generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                                    const TokenCallback& on_token = nullptr);

 private:
  Engine(artifact::Artifact art) : artifact_(std::move(art)) {}
  artifact::Artifact artifact_;
  ArtifactWeightTable weights_;
  model::DeepseekConfig config_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<Executor> executor_;
  uint32_t context_ = 0;
};

}  // namespace kt::engine
