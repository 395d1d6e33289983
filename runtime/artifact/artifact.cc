#include "runtime/artifact/artifact.h"

#include "runtime/artifact/header.h"
#include "runtime/artifact/manifest_codec.h"
#include "runtime/artifact/verify.h"
#include "runtime/artifact/xxhash64.h"

namespace kt::artifact {

StatusOr<Artifact> Artifact::Open(const std::string& path, const LoadOptions& options) {
  KT_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::Open(path));
  Artifact art;
  art.mapping_ = std::move(file);
  art.data_ = art.mapping_->data();
  art.size_ = art.mapping_->size();
  art.name_ = path;
  KT_RETURN_IF_ERROR(art.Init(options));
  art.mapping_->AdviseReuse();  // verified; from now on the weights are read every token
  return art;
}

StatusOr<Artifact> Artifact::Parse(const uint8_t* data, uint64_t size, std::string name, const LoadOptions& options) {
  Artifact art;
  art.data_ = data;
  art.size_ = size;
  art.name_ = std::move(name);
  KT_RETURN_IF_ERROR(art.Init(options));
  return art;
}

Status Artifact::Init(const LoadOptions& options) {
  auto fail = [&](const Status& s) { return s.WithContext(name_); };
  StatusOr<Header> header = ParseHeader(data_, size_);
  if (!header.ok()) return fail(header.status());
  header_ = *header;
  StatusOr<Manifest> manifest = DecodeManifest(data_ + header_.manifest_offset, header_.manifest_length);
  if (!manifest.ok()) return fail(manifest.status());
  Status verified =
      VerifyManifest(*manifest, header_.manifest_offset + header_.manifest_length, size_);
  if (!verified.ok()) return fail(verified);
  manifest_ = std::move(*manifest);
  tensor_index_.reserve(manifest_.tensors.size());
  for (size_t i = 0; i < manifest_.tensors.size(); ++i) tensor_index_.emplace(manifest_.tensors[i].name, i);
  if (options.verify_checksums) {
    Status sums = VerifyChecksums();
    if (!sums.ok()) return fail(sums);
  }
  return Status::Ok();
}

const TensorInfo* Artifact::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &manifest_.tensors[it->second];
}

const Plan* Artifact::FindPlan(std::string_view name) const {
  for (const Plan& p : manifest_.plans) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const KernelImage* Artifact::FindKernelImage(std::string_view name) const {
  for (const KernelImage& k : manifest_.kernels) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::span<const uint8_t> Artifact::SegmentData(const Segment& segment) const {
  return {data_ + segment.offset, segment.length};
}

std::span<const uint8_t> Artifact::TensorData(const TensorInfo& tensor) const {
  return SegmentData(manifest_.segments[tensor.segment]).subspan(tensor.offset, tensor.length);
}

std::span<const uint8_t> Artifact::KernelImageData(const KernelImage& kernel) const {
  return SegmentData(manifest_.segments[kernel.segment]).subspan(kernel.offset, kernel.length);
}

Status Artifact::VerifyChecksums() const {
  for (const TensorInfo& t : manifest_.tensors) {
    std::span<const uint8_t> bytes = TensorData(t);
    const uint64_t got = Xxh64Of(bytes.data(), bytes.size());
    if (got != t.checksum) {
      return KT_ERROR(kDataLoss, "tensor '", t.name, "': checksum mismatch: manifest 0x", std::hex, t.checksum,
                      ", data 0x", got, " (the weights are corrupt)");
    }
  }
  for (const KernelImage& k : manifest_.kernels) {
    std::span<const uint8_t> bytes = KernelImageData(k);
    const uint64_t got = Xxh64Of(bytes.data(), bytes.size());
    if (got != k.checksum) {
      return KT_ERROR(kDataLoss, "kernel image '", k.name, "': checksum mismatch: manifest 0x", std::hex,
                      k.checksum, ", data 0x", got);
    }
  }
  return Status::Ok();
}

}  // namespace kt::artifact
