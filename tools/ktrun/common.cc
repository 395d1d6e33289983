#include "tools/ktrun/common.h"

#include <cstdio>

namespace kt::ktrun {

void AddCommonOptions(tools::ArgParser& args, CommonOptions* o, bool sampling) {
  args.AddPositional("ARTIFACT", &o->artifact, "a .kta file written by `ktc compile`");
  args.AddString("--executor", &o->executor, "NAME", "cpu (optimized, default) or reference (plain float32)");
  args.AddInt("--threads", &o->threads, "N", "CPU worker threads (default: one per allowed CPU)");
  args.AddInt("--ctx", &o->context, "N", "context to allocate (default: what the artifact was compiled for)");
  args.AddFlag("--verify", &o->verify, "check every tensor's checksum before running");
  if (!sampling) return;
  args.AddFloat("--temperature", &o->temperature, "T", "sampling temperature; 0 = greedy (default 0)");
  args.AddInt("--top-k", &o->top_k, "K", "keep the K most likely tokens (0 = off)");
  args.AddFloat("--top-p", &o->top_p, "P", "nucleus sampling threshold (1 = off)");
  args.AddFloat("--min-p", &o->min_p, "P", "drop tokens below P x the best probability (0 = off)");
  args.AddFloat("--repeat-penalty", &o->repetition_penalty, "R", "repetition penalty (1 = off)");
  args.AddInt("--seed", &o->seed, "S", "random seed (default 0)");
}

StatusOr<std::unique_ptr<engine::Engine>> LoadEngine(const CommonOptions& o) {
  engine::EngineOptions e;
  if (o.executor == "cpu") {
    e.executor = engine::ExecutorKind::kCpu;
  } else if (o.executor == "reference") {
    e.executor = engine::ExecutorKind::kReference;
  } else {
    return KT_ERROR(kInvalidArgument, "unknown executor '", o.executor, "' (use cpu or reference)");
  }
  if (o.threads < 0 || o.threads > 1024) return KT_ERROR(kInvalidArgument, "--threads must be in [0, 1024]");
  if (o.context < 0 || o.context > (int64_t{1} << 24)) return KT_ERROR(kInvalidArgument, "--ctx out of range");
  e.threads = static_cast<int>(o.threads);
  e.context = static_cast<uint32_t>(o.context);
  e.verify_checksums = o.verify;
  return engine::Engine::Load(o.artifact, e);
}

SamplerOptions SamplerFrom(const CommonOptions& o) {
  SamplerOptions s;
  s.temperature = static_cast<float>(o.temperature);
  s.top_k = static_cast<int32_t>(o.top_k);
  s.top_p = static_cast<float>(o.top_p);
  s.min_p = static_cast<float>(o.min_p);
  s.repetition_penalty = static_cast<float>(o.repetition_penalty);
  s.seed = static_cast<uint64_t>(o.seed);
  return s;
}

int Fail(const char* command, const Status& status) {
  std::fprintf(stderr, "ktrun %s: %s\n", command, status.ToString().c_str());
  return 1;
}

}  // namespace kt::ktrun
