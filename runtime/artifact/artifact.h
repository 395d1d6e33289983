// Loading a kt artifact (.kta): map -> header -> FlatBuffers verifier ->
// semantic verifier -> this object. Nothing here points into the file until
// every offset and length has been checked, so a corrupt or hostile file is
// a Status naming the field, never a crash.
//
//   KT_ASSIGN_OR_RETURN(Artifact art, Artifact::Open("model.kta", {.verify_checksums = true}));
//   const TensorInfo* t = art.FindTensor("blk.0.attn_norm.weight");
//   std::span<const uint8_t> bytes = art.TensorData(*t);
//   const Plan* decode = art.FindPlan("decode");
//
// The format is described in docs/artifact.md.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "runtime/artifact/artifact_types.h"
#include "runtime/base/mapped_file.h"
#include "runtime/base/status.h"

namespace kt::artifact {

struct LoadOptions {
  // Hash every tensor and kernel image and compare with the manifest
  // (seconds for a large model: XXH64 runs at several GB/s).
  bool verify_checksums = false;
};

class Artifact {
 public:
  static StatusOr<Artifact> Open(const std::string& path, const LoadOptions& options = {});
  // Verifies an in-memory image (tests, fuzzing). `data` must outlive the result.
  static StatusOr<Artifact> Parse(const uint8_t* data, uint64_t size, std::string name = "<memory>",
                                  const LoadOptions& options = {});

  const std::string& name() const { return name_; }
  uint64_t file_size() const { return size_; }
  const Header& header() const { return header_; }
  const Manifest& manifest() const { return manifest_; }

  const TensorInfo* FindTensor(std::string_view name) const;
  const Plan* FindPlan(std::string_view name) const;
  const KernelImage* FindKernelImage(std::string_view name) const;

  // Bytes inside the mapping; bounds were verified when loading.
  std::span<const uint8_t> SegmentData(const Segment& segment) const;
  std::span<const uint8_t> TensorData(const TensorInfo& tensor) const;
  std::span<const uint8_t> KernelImageData(const KernelImage& kernel) const;

  // Compares each tensor's and kernel image's XXH64 with the manifest; the
  // error names the first mismatch.
  Status VerifyChecksums() const;

 private:
  Artifact() = default;
  Status Init(const LoadOptions& options);

  std::shared_ptr<MappedFile> mapping_;  // null for Parse()
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  std::string name_;
  Header header_;
  Manifest manifest_;
  std::unordered_map<std::string_view, size_t> tensor_index_;  // views into manifest_ strings
};

}  // namespace kt::artifact
