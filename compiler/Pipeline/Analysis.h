// The analysis half of `ktc plan` and `ktc compile`: GGUF -> kt dialect
// (compiler/Import) -> kt-annotate-costs -> kt-place-ops, flattened into
// plain structs so that the tools and the artifact builder need no MLIR.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/gguf/gguf.h"
#include "runtime/artifact/artifact_types.h"
#include "runtime/base/status.h"

namespace kt::pipeline {

// Where --emit=mlir-after=STAGE stops.
enum class Stage { kImport, kCosts, kPlace };
const char* StageName(Stage stage);  // "import", "annotate-costs", "place-ops"
bool ParseStage(const std::string& name, Stage* stage);

struct AnalysisOptions {
  std::string config_path;  // optional HF config.json to cross-check
  std::string vram = "0";   // as the user wrote it: 14GiB, 0.5GiB, 0
  uint64_t ctx = 4096;
  std::string rules_path;   // optional placement rules (YAML), see docs/compiler.md
  bool emit_mlir = false;   // print the module after `emit_after` into Analysis::mlir and stop
  Stage emit_after = Stage::kPlace;
};

// One kt op of @decode or @prefill (argmax is folded into sampling).
struct OpInfo {
  std::string record;  // placement record name, shared by @decode and @prefill
  int32_t layer = -1;
  artifact::OpKind kind = artifact::OpKind::kEmbed;
  std::string mnemonic;  // "mla", "experts", ...
  bool gpu = false;
  std::string reason;
  uint64_t weight_bytes = 0, touched_bytes = 0, flops = 0, kv_bytes = 0;
  double intensity = 0;
  std::vector<std::string> weights;  // GGUF tensor names
  std::vector<int> inputs;           // producer op indices; -1 = a function argument (host)
};

struct FunctionInfo {
  std::string name;
  std::vector<OpInfo> ops;
};

struct WeightInfo {
  std::string name;
  bool gpu = false;
  uint64_t bytes = 0;
};

struct Analysis {
  artifact::Hyperparameters hparams;
  artifact::Tokenizer tokenizer;
  FunctionInfo decode, prefill;
  std::vector<WeightInfo> weights;  // GGUF order
  uint64_t ctx = 0;
  uint64_t vram_budget = 0;
  uint64_t min_vram = 0;      // 0 for a CPU-only plan
  uint64_t kv_cache = 0;      // bytes for ctx tokens, all layers
  uint64_t kv_cache_gpu = 0;  // the part in VRAM: layers whose attention is on the GPU; the rest is in DRAM
  uint64_t workspace = 0;     // GPU activation workspace
  uint64_t gpu_weight_bytes = 0, cpu_weight_bytes = 0;
  uint64_t gguf_tensor_bytes = 0;  // sum of the GGUF's tensor sizes
  bool any_gpu = false;
  std::string mlir;  // set when AnalysisOptions::emit_mlir
  bool stopped_early = false;
  std::vector<std::string> warnings;  // from the passes (e.g. a rule that matches nothing)

  uint64_t kv_cache_cpu() const { return kv_cache - kv_cache_gpu; }
  uint64_t vram_used() const { return any_gpu ? gpu_weight_bytes + kv_cache_gpu + workspace : 0; }
  uint64_t dram_used() const { return cpu_weight_bytes + kv_cache_cpu(); }
};

// Reads `file` (already opened), imports, cross-checks the config, runs the
// passes. Pass failures (a budget below the minimum, say) are returned with
// the pass's message.
StatusOr<Analysis> Analyze(const gguf::GgufFile& file, const AnalysisOptions& options);

// Decode speed the cost model predicts: every op reads its touched bytes at
// its device's bandwidth, attention also reads the KV cache at half context.
struct SpeedEstimate {
  double seconds_per_token = 0;
  double tokens_per_second = 0;
  double gpu_bytes_per_token = 0, cpu_bytes_per_token = 0;
};
SpeedEstimate PredictDecode(const Analysis& a, double dram_gbps, double hbm_gbps);

}  // namespace kt::pipeline
