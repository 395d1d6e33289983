#include "runtime/engine/engine.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "runtime/cpu/numa.h"

namespace kt::engine {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

StatusOr<std::unique_ptr<Engine>> Engine::Load(const std::string& path, const EngineOptions& options) {
  artifact::LoadOptions load;
  load.verify_checksums = options.verify_checksums;
  KT_ASSIGN_OR_RETURN(artifact::Artifact art, artifact::Artifact::Open(path, load));
  std::unique_ptr<Engine> engine(new Engine(std::move(art)));
  const artifact::Manifest& m = engine->artifact_.manifest();
  // This runtime has no CUDA executor yet, so any GPU placement is refused.
  KT_RETURN_IF_ERROR(CheckTarget(m, /*gpu_available=*/false).WithContext(path));
  KT_ASSIGN_OR_RETURN(engine->config_, ConfigFromManifest(m));
  KT_ASSIGN_OR_RETURN(engine->weights_, ArtifactWeightTable::Create(engine->artifact_));
  KT_ASSIGN_OR_RETURN(engine->tokenizer_, tokenizer::Tokenizer::Create(TokenizerSpecFromManifest(m)));
  // CPU weights are read by workers on every node: spread their pages over
  // all nodes (a no-op on one node; best effort for already cached pages).
  const cpu::NumaTopology numa = cpu::DetectNumaTopology();
  for (const artifact::Segment& segment : m.segments) {
    if (segment.kind != artifact::SegmentKind::kCpuWeights) continue;
    std::span<const uint8_t> bytes = engine->artifact_.SegmentData(segment);
    if (Status s = cpu::InterleaveMemory(bytes.data(), bytes.size(), numa); !s.ok())
      std::fprintf(stderr, "kt: warning: %s\n", s.ToString().c_str());
  }
  const uint32_t compiled = m.target.max_context ? m.target.max_context : engine->config_.context_length;
  if (options.context > compiled)
    return KT_ERROR(kInvalidArgument, "context ", options.context, " exceeds the ", compiled,
                    " tokens the artifact was compiled for (ktc compile --ctx)");
  engine->context_ = options.context ? options.context : compiled;
  ExecutorOptions exec;
  exec.kind = options.executor;
  exec.context = engine->context_;
  exec.threads = options.threads;
  KT_ASSIGN_OR_RETURN(engine->executor_, CreateExecutor(engine->config_, engine->weights_, exec));
  return engine;
}

StatusOr<GenerateResult> Engine::Generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                                          const TokenCallback& on_token) {
  KT_RETURN_IF_ERROR(ValidateSamplerOptions(options.sampler));
  if (prompt.empty()) return KT_ERROR(kInvalidArgument, "the prompt has no tokens");
  if (options.max_tokens < 0) return KT_ERROR(kInvalidArgument, "max tokens must be >= 0");
  const uint64_t needed = prompt.size() + static_cast<uint64_t>(options.max_tokens);
  if (prompt.size() > context_ || needed > context_)
    return KT_ERROR(kOutOfRange, "the prompt (", prompt.size(), " tokens) plus ", options.max_tokens,
                    " new tokens needs ", needed, " positions, more than the context of ", context_,
                    " (compile with a larger --ctx or ask for fewer tokens)");
  for (size_t i = 0; i < prompt.size(); ++i)
    if (prompt[i] < 0 || static_cast<uint32_t>(prompt[i]) >= config_.vocab)
      return KT_ERROR(kOutOfRange, "prompt token ", i, " (id ", prompt[i], ") is outside the vocabulary of ",
                      config_.vocab);

  GenerateResult result;
  Sampler sampler(options.sampler);
  std::vector<int32_t> history = prompt;
  std::vector<float> logits;
  executor_->Truncate(0);

  const auto start = std::chrono::steady_clock::now();
  const uint32_t chunk = std::max<uint32_t>(1, options.prefill_chunk);
  for (size_t begin = 0; begin < prompt.size(); begin += chunk) {
    const size_t end = std::min(prompt.size(), begin + chunk);
    std::vector<uint32_t> positions(end - begin);
    for (size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<uint32_t>(begin + i);
    logits.clear();
    KT_RETURN_IF_ERROR(executor_->Forward(std::span<const int32_t>(prompt.data() + begin, end - begin), positions,
                                          options.prompt_logits, &logits));
    // Every row but the prompt's last goes out now; the last one is the
    // first generation step's, added below.
    if (options.prompt_logits && end < prompt.size())
      result.logits.insert(result.logits.end(), logits.begin(), logits.end());
  }
  result.prefill_seconds = SecondsSince(start);
  if (options.prompt_logits) {
    const size_t vocab = config_.vocab;
    if (logits.size() > vocab) {
      result.logits.insert(result.logits.end(), logits.begin(), logits.end() - vocab);
      logits.erase(logits.begin(), logits.end() - vocab);
    }
    if (!options.all_logits) result.logits.insert(result.logits.end(), logits.begin(), logits.end());
  }

  const auto decode_start = std::chrono::steady_clock::now();
  for (int32_t step = 0; step < options.max_tokens; ++step) {
    const int32_t token = sampler.Sample(logits, history);
    if (options.all_logits) result.logits.insert(result.logits.end(), logits.begin(), logits.end());
    if (step == 0) result.first_token_seconds = SecondsSince(start);
    result.tokens.push_back(token);
    history.push_back(token);
    if (on_token && !on_token(token)) break;
    if (options.stop_at_eos && token == tokenizer_->eos()) {
      result.stopped_at_eos = true;
      break;
    }
    if (step + 1 == options.max_tokens) break;
    const uint32_t pos = static_cast<uint32_t>(history.size() - 1);
    logits.clear();
    KT_RETURN_IF_ERROR(executor_->Forward(std::span<const int32_t>(&token, 1), std::span<const uint32_t>(&pos, 1),
                                          false, &logits));
  }
  result.decode_seconds = SecondsSince(decode_start);
  return result;
}

}  // namespace kt::engine
