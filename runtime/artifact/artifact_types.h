// Plain C++ description of a kt artifact's manifest, shared by the writer
// (compiler/artifact) and the loader. No FlatBuffers here: the loader decodes
// the manifest into these structs, and nothing outside runtime/artifact sees
// the generated code. Enum values equal the schema's (runtime/schema/kta.fbs).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kt::artifact {

// Fixed facts of format version 1 (docs/artifact.md).
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kHeaderSize = 64;
inline constexpr uint64_t kMinSegmentAlignment = 4096;
inline constexpr uint64_t kTensorAlignment = 64;  // tensor offsets inside a segment

enum class DeviceKind : uint8_t { kCpu = 0, kGpu = 1 };
enum class GatingFunc : uint8_t { kNone = 0, kSoftmax = 1, kSigmoid = 2 };
enum class RopeScaling : uint8_t { kNone = 0, kLinear = 1, kYarn = 2 };
enum class TensorLayout : uint8_t {
  kGgml = 0, kCpuRowInterleaved = 1, kCpuAmxTiles = 2, kGpuBlocks = 3,
};
enum class CpuIsa : uint8_t { kGeneric = 0, kAvx2 = 1, kAvx512 = 2, kAvx512Vnni = 3, kAmx = 4 };
enum class OpKind : uint8_t {
  kEmbed = 0, kRmsNorm = 1, kMla = 2, kAttention = 3, kRouter = 4, kExperts = 5,
  kSharedExperts = 6, kFfn = 7, kAdd = 8, kLmHead = 9,
};
enum class SegmentKind : uint8_t { kCpuWeights = 0, kGpuWeights = 1, kKernelImages = 2 };
enum class KernelFormat : uint8_t { kCubin = 0, kPtx = 1 };
enum class StepKind : uint8_t {
  kGpuKernel = 0, kCpuOp = 1, kCopy = 2, kHostSubmitExperts = 3, kHostJoinExperts = 4,
};

// Names as they appear in the schema and in `ktc inspect`; nullptr for a
// value this build does not know.
const char* Name(DeviceKind v);
const char* Name(GatingFunc v);
const char* Name(RopeScaling v);
const char* Name(TensorLayout v);
const char* Name(CpuIsa v);
const char* Name(OpKind v);
const char* Name(SegmentKind v);
const char* Name(KernelFormat v);
const char* Name(StepKind v);

struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  uint16_t index = 0;
  bool operator==(const Device&) const = default;
};
std::string ToString(const Device& d);  // "cpu:0", "gpu:1"

struct Hyperparameters {
  std::string architecture;  // "deepseek2"
  std::string model_name;
  uint32_t context_length = 0;
  uint32_t embedding_length = 0;
  uint32_t block_count = 0;
  uint32_t feed_forward_length = 0;
  uint32_t vocab_size = 0;
  uint32_t leading_dense_block_count = 0;
  uint32_t expert_count = 0;
  uint32_t expert_used_count = 0;
  uint32_t expert_shared_count = 0;
  uint32_t expert_feed_forward_length = 0;
  float expert_weights_scale = 1.0f;
  bool expert_weights_norm = false;
  GatingFunc expert_gating_func = GatingFunc::kSoftmax;
  uint32_t expert_group_count = 0;
  uint32_t expert_group_used_count = 0;
  uint32_t head_count = 0;
  uint32_t head_count_kv = 0;
  float rms_norm_epsilon = 0;
  uint32_t q_lora_rank = 0;  // 0: no q compression ("lite")
  uint32_t kv_lora_rank = 0;
  uint32_t key_length = 0;
  uint32_t value_length = 0;
  uint32_t key_length_mla = 0;
  uint32_t value_length_mla = 0;
  uint32_t rope_dimension_count = 0;
  float rope_freq_base = 0;
  RopeScaling rope_scaling_type = RopeScaling::kNone;
  float rope_scaling_factor = 0;
  uint32_t rope_scaling_original_context_length = 0;
  float rope_scaling_yarn_log_multiplier = 0;
  bool operator==(const Hyperparameters&) const = default;
};

struct Tokenizer {
  std::string model;  // "gpt2"
  std::string pre;    // "deepseek-v3"
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;  // GGUF values; empty or one per token
  std::vector<std::string> merges;
  int32_t bos_token_id = -1;
  int32_t eos_token_id = -1;
  bool add_bos_token = false;
  bool add_eos_token = false;
  std::string chat_template;
  bool operator==(const Tokenizer&) const = default;
};

struct Target {
  CpuIsa cpu_isa = CpuIsa::kGeneric;
  TensorLayout cpu_layout = TensorLayout::kGgml;
  std::string gpu_arch;  // empty: CPU only
  uint16_t gpu_count = 0;
  uint64_t vram_budget_bytes = 0;
  uint32_t max_context = 0;
  bool operator==(const Target&) const = default;
};

struct PlacementRecord {
  std::string name;
  int32_t layer = -1;
  OpKind kind = OpKind::kEmbed;
  Device device;
  std::string reason;
  uint64_t weight_bytes = 0;
  uint64_t flops_per_token = 0;
  double intensity = 0;
  bool operator==(const PlacementRecord&) const = default;
};

struct Segment {
  SegmentKind kind = SegmentKind::kCpuWeights;
  Device device;
  uint64_t offset = 0;  // absolute file offset
  uint64_t length = 0;
  uint32_t alignment = kMinSegmentAlignment;
  bool operator==(const Segment&) const = default;
};

struct TensorInfo {
  std::string name;
  uint32_t segment = 0;  // index into Manifest::segments
  uint64_t offset = 0;   // relative to the segment start
  uint64_t length = 0;
  uint32_t ggml_type = 0;
  TensorLayout layout = TensorLayout::kGgml;
  uint32_t layout_rows = 0;
  std::vector<uint64_t> shape;  // ggml order
  uint64_t checksum = 0;        // XXH64, seed 0
  bool operator==(const TensorInfo&) const = default;
};

struct KernelImage {
  std::string name;
  KernelFormat format = KernelFormat::kCubin;
  std::string arch;
  uint32_t segment = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t checksum = 0;
  std::vector<std::string> entry_points;
  bool operator==(const KernelImage&) const = default;
};

struct Step {
  StepKind kind = StepKind::kGpuKernel;
  int32_t op = -1;  // index into Manifest::placement
  Device device;
  std::string kernel_name;
  int32_t kernel_image = -1;     // index into Manifest::kernels
  std::vector<uint32_t> tensors;  // indices into Manifest::tensors
  bool operator==(const Step&) const = default;
};

struct Plan {
  std::string name;
  std::vector<Step> steps;
  bool operator==(const Plan&) const = default;
};

struct Manifest {
  std::string producer;
  std::string source;
  Hyperparameters hparams;
  Tokenizer tokenizer;
  Target target;
  std::vector<Segment> segments;
  std::vector<TensorInfo> tensors;
  std::vector<KernelImage> kernels;
  std::vector<PlacementRecord> placement;
  std::vector<Plan> plans;
  bool operator==(const Manifest&) const = default;
};

// The fixed header at file offset 0 (little-endian, kHeaderSize bytes):
//   0 magic "KTA\0" | 4 u32 format_version | 8 u32 flags (0) | 12 u32 header_size
//   16 u64 manifest_offset | 24 u64 manifest_length | 32 u64 file_size
//   40 u64 reserved[2] (0) | 56 u64 XXH64 of bytes 0..55
struct Header {
  uint32_t format_version = kFormatVersion;
  uint32_t flags = 0;
  uint32_t header_size = kHeaderSize;
  uint64_t manifest_offset = 0;
  uint64_t manifest_length = 0;  // the size-prefixed FlatBuffer, prefix included
  uint64_t file_size = 0;
  uint64_t header_checksum = 0;
  bool operator==(const Header&) const = default;
};

}  // namespace kt::artifact
