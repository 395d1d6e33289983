// Options shared by `ktc plan` and `ktc compile`, and the step both run:
// open the GGUF, import, annotate costs, place.
#pragma once

#include <optional>
#include <string>

#include "compiler/Pipeline/Analysis.h"
#include "compiler/Pipeline/Report.h"
#include "tools/common/args.h"

namespace kt::ktc {

struct AnalysisArgs {
  std::string model;
  std::string config;
  std::string vram;
  std::string rules;
  int64_t ctx = 4096;
  double dram_gbps = 100;
  double hbm_gbps = 3000;

  void Register(tools::ArgParser& args);
  // Checks values, fills `options` (vram normalised to bytes) and `bw`.
  Status Resolve(const tools::ArgParser& args, pipeline::AnalysisOptions* options, pipeline::Bandwidths* bw) const;

  // Parses argv, prints --help (usage + about + examples), resolves. Returns
  // the exit code to stop with (0 after help, 2 on bad usage), or nullopt to
  // go on. `command` prefixes messages ("ktc plan").
  std::optional<int> ParseAndResolve(tools::ArgParser& args, int argc, char** argv, const char* command,
                                     const char* about, const char* examples, pipeline::AnalysisOptions* options,
                                     pipeline::Bandwidths* bw) const;
};

}  // namespace kt::ktc
