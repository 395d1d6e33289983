// Writing a kt artifact (.kta) from a plain description. No MLIR: `ktc
// compile` fills an ArtifactContents from its placement, layout and plan
// passes; tests fill one by hand.
//
// Weights are streamed: each tensor has a ByteSource that emits its bytes in
// order, in chunks of any size (a GGUF mapping emits one span, a repacking
// function emits rows as it produces them), so a 30 GB model needs only a
// small buffer. Checksums are computed while streaming; the manifest and the
// header are patched in at the end and the file is renamed into place, so a
// half-written artifact never has the final name.
//
//   ArtifactContents c;
//   c.hparams = ...; c.tokenizer = ...; c.target = ...;
//   c.tensors.push_back({.name = "token_embd.weight", .segment = SegmentKind::kGpuWeights,
//                        .ggml_type = 8, .shape = {2048, 102400},
//                        .source = BytesFromMemory(gguf.TensorData(*info), info->n_bytes)});
//   c.plans.push_back({.name = "decode", .steps = {...}});  // tensor refs index c.tensors
//   KT_ASSIGN_OR_RETURN(WriteResult r, WriteArtifact("model.kta", c));
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/artifact/artifact_types.h"
#include "runtime/base/status.h"

namespace kt::artifact {

// Receives consecutive chunks of one tensor's bytes.
using ByteSink = std::function<Status(const void* data, uint64_t size)>;
// Emits all of a tensor's bytes, in order, through `sink`. Called once.
using ByteSource = std::function<Status(const ByteSink& sink)>;

// Emits [data, data + size) in one chunk; nothing is copied, so `data`
// (a GGUF mapping, say) must outlive WriteArtifact.
ByteSource BytesFromMemory(const void* data, uint64_t size);
// As BytesFromMemory, for a read-only file mapping: emits 64 MiB chunks and
// releases each chunk's pages from the process once written, so compiling a
// model larger than RAM keeps a small resident set.
ByteSource BytesFromMapping(const void* data, uint64_t size);
// Owns its bytes (small tensors, tests).
ByteSource BytesFromVector(std::vector<uint8_t> bytes);

struct TensorSpec {
  std::string name;
  // Tensors with the same (segment, device_index) share a segment.
  SegmentKind segment = SegmentKind::kCpuWeights;
  uint16_t device_index = 0;  // NUMA node for CPU weights, GPU index for GPU weights
  uint32_t ggml_type = 0;
  TensorLayout layout = TensorLayout::kGgml;
  uint32_t layout_rows = 0;
  std::vector<uint64_t> shape;  // ggml order; the byte length follows from type and shape
  ByteSource source;
};

struct KernelSpec {
  std::string name;
  KernelFormat format = KernelFormat::kCubin;
  std::string arch;
  std::vector<std::string> entry_points;
  uint16_t gpu_index = 0;
  std::vector<uint8_t> bytes;  // cubins and PTX are small
};

struct ArtifactContents {
  std::string producer;
  std::string source;
  Hyperparameters hparams;
  Tokenizer tokenizer;
  Target target;
  std::vector<PlacementRecord> placement;
  // Step::op indexes `placement`, Step::kernel_image `kernels`, Step::tensors
  // `tensors`: the manifest keeps these orders.
  std::vector<Plan> plans;
  std::vector<TensorSpec> tensors;
  std::vector<KernelSpec> kernels;
};

struct WriteOptions {
  uint32_t segment_alignment = 4096;  // power of two, >= 4096 (2 MiB suits huge pages)
  // Room left after the manifest, for tools that patch it later (and tests).
  uint64_t manifest_slack = 0;
  // Called after each tensor with bytes written so far and the total.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct WriteResult {
  Header header;
  Manifest manifest;  // as written, checksums included
};

// Lays out segments, verifies the manifest it is about to write (the same
// semantic verifier the loader runs), streams every tensor and kernel image,
// then writes manifest and header. Errors name the tensor; on error the
// temporary file is removed.
StatusOr<WriteResult> WriteArtifact(const std::string& path, const ArtifactContents& contents,
                                    const WriteOptions& options = {});

}  // namespace kt::artifact
