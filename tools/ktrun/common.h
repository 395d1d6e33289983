// Options every ktrun command shares (executor, threads, context, sampling)
// and the helpers that turn them into engine settings.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/engine/engine.h"
#include "tools/common/args.h"

namespace kt::ktrun {

struct CommonOptions {
  std::string artifact;
  std::string executor = "cpu";
  int64_t threads = 0;
  int64_t context = 0;
  bool verify = false;
  double temperature = 0.0;
  int64_t top_k = 0;
  double top_p = 1.0;
  double min_p = 0.0;
  double repetition_penalty = 1.0;
  int64_t seed = 0;
};

// Registers the shared options on `args` (the positional ARTIFACT too).
void AddCommonOptions(tools::ArgParser& args, CommonOptions* options, bool sampling);

StatusOr<std::unique_ptr<engine::Engine>> LoadEngine(const CommonOptions& options);
SamplerOptions SamplerFrom(const CommonOptions& options);

// Prints "ktrun <command>: <status>" to stderr and returns 1.
int Fail(const char* command, const Status& status);

}  // namespace kt::ktrun
