#include "compiler/artifact/artifact_writer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "kernels/quant/ggml_type.h"
#include "runtime/artifact/header.h"
#include "runtime/artifact/manifest_codec.h"
#include "runtime/artifact/verify.h"
#include "runtime/artifact/xxhash64.h"

namespace kt::artifact {

ByteSource BytesFromMemory(const void* data, uint64_t size) {
  return [data, size](const ByteSink& sink) { return sink(data, size); };
}

ByteSource BytesFromMapping(const void* data, uint64_t size) {
  return [data, size](const ByteSink& sink) -> Status {
    constexpr uint64_t kChunk = uint64_t{64} << 20;
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    const auto* bytes = static_cast<const uint8_t*>(data);
    for (uint64_t done = 0; done < size;) {
      const uint64_t n = std::min(kChunk, size - done);
      KT_RETURN_IF_ERROR(sink(bytes + done, n));
      // Drop the whole pages just consumed from our resident set; the page
      // cache keeps them, so nothing is read twice. Best effort.
      const uintptr_t begin = (reinterpret_cast<uintptr_t>(bytes + done) + page - 1) / page * page;
      const uintptr_t end = reinterpret_cast<uintptr_t>(bytes + done + n) / page * page;
      if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
      done += n;
    }
    return Status::Ok();
  };
}

ByteSource BytesFromVector(std::vector<uint8_t> bytes) {
  auto owned = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  return [owned](const ByteSink& sink) { return sink(owned->data(), owned->size()); };
}

namespace {

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// The ggml size of a tensor, or nullopt when type or shape is invalid: the
// manifest verifier then reports exactly what is wrong.
std::optional<uint64_t> GgmlBytes(uint32_t type_id, const std::vector<uint64_t>& shape) {
  const quant::GgmlTypeInfo* type = quant::FindGgmlType(type_id);
  if (!type || shape.empty()) return std::nullopt;
  std::optional<uint64_t> bytes = quant::RowBytes(type->type, shape[0]);
  for (size_t d = 1; bytes && d < shape.size(); ++d) {
    if (shape[d] != 0 && *bytes > UINT64_MAX / shape[d]) return std::nullopt;
    *bytes *= shape[d];
  }
  return bytes;
}

// The file being written: a temporary name until Commit().
class OutFile {
 public:
  ~OutFile() {
    if (f_) {
      std::fclose(f_);
      std::remove(tmp_.c_str());
    }
  }
  Status Open(const std::string& path) {
    path_ = path;
    tmp_ = path + ".tmp";
    f_ = std::fopen(tmp_.c_str(), "wb");
    if (!f_) return KT_ERROR(kIoError, "cannot create ", tmp_, ": ", std::strerror(errno));
    std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
    return Status::Ok();
  }
  Status Write(const void* data, uint64_t size) {
    if (size && std::fwrite(data, 1, size, f_) != size) {
      return KT_ERROR(kIoError, "writing ", tmp_, ": ", std::strerror(errno));
    }
    pos_ += size;
    return Status::Ok();
  }
  Status ZeroFillTo(uint64_t offset) {
    static const std::array<uint8_t, 4096> kZeros{};
    if (offset < pos_) return KT_ERROR(kInternal, "writer layout goes backwards: at ", pos_, ", asked for ", offset);
    while (pos_ < offset) KT_RETURN_IF_ERROR(Write(kZeros.data(), std::min<uint64_t>(kZeros.size(), offset - pos_)));
    return Status::Ok();
  }
  Status WriteAt(uint64_t offset, const void* data, uint64_t size) {
    if (std::fseek(f_, static_cast<long>(offset), SEEK_SET) != 0) {
      return KT_ERROR(kIoError, "seeking in ", tmp_, ": ", std::strerror(errno));
    }
    return Write(data, size);
  }
  Status Commit() {
    bool ok = std::fflush(f_) == 0 && ::fsync(fileno(f_)) == 0;
    ok = std::fclose(f_) == 0 && ok;
    f_ = nullptr;
    if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      Status s = KT_ERROR(kIoError, "finishing ", path_, ": ", std::strerror(errno));
      std::remove(tmp_.c_str());
      return s;
    }
    return Status::Ok();
  }
  uint64_t pos() const { return pos_; }

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  uint64_t pos_ = 0;
};

// Streams one source into the file, hashing as it goes; returns the checksum.
StatusOr<uint64_t> Stream(OutFile& out, const ByteSource& source, uint64_t length, const std::string& what) {
  if (!source) return KT_ERROR(kInvalidArgument, what, ": no byte source");
  Xxh64 hash;
  uint64_t written = 0;
  Status sink_status;  // the writer's own errors already name the tensor
  Status s = source([&](const void* data, uint64_t size) -> Status {
    if (size > length - written) {
      sink_status = KT_ERROR(kInvalidArgument, what, ": source emitted more than its ", length, " bytes");
    } else {
      hash.Update(data, size);
      written += size;
      sink_status = out.Write(data, size);
    }
    return sink_status;
  });
  if (!sink_status.ok()) return sink_status;
  if (!s.ok()) return s.WithContext(what);
  if (written != length) {
    return KT_ERROR(kInvalidArgument, what, ": source emitted ", written, " of its ", length, " bytes");
  }
  return hash.Digest();
}

struct Item {
  bool is_tensor;
  size_t index;
  uint64_t offset;
};

}  // namespace

StatusOr<WriteResult> WriteArtifact(const std::string& path, const ArtifactContents& c, const WriteOptions& options) {
  const uint64_t align = options.segment_alignment;
  if (align < kMinSegmentAlignment || (align & (align - 1)) != 0) {
    return KT_ERROR(kInvalidArgument, "segment_alignment ", align, " must be a power of two >= 4096");
  }
  Manifest m;
  m.producer = c.producer;
  m.source = c.source;
  m.hparams = c.hparams;
  m.tokenizer = c.tokenizer;
  m.target = c.target;
  m.placement = c.placement;
  m.plans = c.plans;

  // Segments in a fixed order: CPU weights per node, GPU weights per GPU, kernel images.
  std::map<std::pair<uint8_t, uint16_t>, uint32_t> seg_of;
  for (const TensorSpec& t : c.tensors) seg_of.emplace(std::pair{uint8_t(t.segment), t.device_index}, 0);
  for (const KernelSpec& k : c.kernels) seg_of.emplace(std::pair{uint8_t(SegmentKind::kKernelImages), k.gpu_index}, 0);
  for (auto& [key, index] : seg_of) {
    index = static_cast<uint32_t>(m.segments.size());
    const auto kind = static_cast<SegmentKind>(key.first);
    const DeviceKind dev = kind == SegmentKind::kCpuWeights ? DeviceKind::kCpu : DeviceKind::kGpu;
    m.segments.push_back(Segment{kind, Device{dev, key.second}, 0, 0, static_cast<uint32_t>(align)});
  }
  std::vector<std::vector<Item>> items(m.segments.size());
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const TensorSpec& t = c.tensors[i];
    const uint32_t seg = seg_of.at({uint8_t(t.segment), t.device_index});
    const uint64_t length = GgmlBytes(t.ggml_type, t.shape).value_or(0);
    const uint64_t offset = AlignUp(m.segments[seg].length, kTensorAlignment);
    m.segments[seg].length = offset + length;
    m.tensors.push_back(TensorInfo{t.name, seg, offset, length, t.ggml_type, t.layout, t.layout_rows, t.shape, 0});
    items[seg].push_back(Item{true, i, offset});
  }
  for (size_t i = 0; i < c.kernels.size(); ++i) {
    const KernelSpec& k = c.kernels[i];
    const uint32_t seg = seg_of.at({uint8_t(SegmentKind::kKernelImages), k.gpu_index});
    const uint64_t offset = AlignUp(m.segments[seg].length, kTensorAlignment);
    m.segments[seg].length = offset + k.bytes.size();
    m.kernels.push_back(KernelImage{k.name, k.format, k.arch, seg, offset, k.bytes.size(), 0, k.entry_points});
    items[seg].push_back(Item{false, i, offset});
  }

  // Scalars do not change the encoded size (EncodeManifest writes them all),
  // so the size measured now holds once offsets and checksums are filled in.
  const uint64_t manifest_size = EncodeManifest(m).size();
  const uint64_t manifest_end = kHeaderSize + manifest_size;
  uint64_t cursor = AlignUp(manifest_end + options.manifest_slack, align);
  uint64_t file_size = manifest_end + options.manifest_slack;
  for (Segment& s : m.segments) {
    s.offset = cursor;
    file_size = s.offset + s.length;
    cursor = AlignUp(file_size, align);
  }
  Status verified = VerifyManifest(m, manifest_end, file_size);
  if (!verified.ok()) return verified.WithContext("refusing to write an invalid artifact");

  uint64_t total = 0;
  for (const TensorInfo& t : m.tensors) total += t.length;
  uint64_t done = 0;

  OutFile out;
  KT_RETURN_IF_ERROR(out.Open(path));
  for (size_t s = 0; s < m.segments.size(); ++s) {
    for (const Item& item : items[s]) {
      KT_RETURN_IF_ERROR(out.ZeroFillTo(m.segments[s].offset + item.offset));
      if (item.is_tensor) {
        TensorInfo& t = m.tensors[item.index];
        KT_ASSIGN_OR_RETURN(t.checksum, Stream(out, c.tensors[item.index].source, t.length,
                                               StrCat("tensor '", t.name, "'")));
        done += t.length;
        if (options.progress) options.progress(done, total);
      } else {
        KernelImage& k = m.kernels[item.index];
        const std::vector<uint8_t>& bytes = c.kernels[item.index].bytes;
        KT_ASSIGN_OR_RETURN(k.checksum, Stream(out, BytesFromMemory(bytes.data(), bytes.size()), k.length,
                                               StrCat("kernel image '", k.name, "'")));
      }
    }
  }
  KT_RETURN_IF_ERROR(out.ZeroFillTo(file_size));

  const std::vector<uint8_t> manifest = EncodeManifest(m);
  if (manifest.size() != manifest_size) {
    return KT_ERROR(kInternal, "manifest size changed from ", manifest_size, " to ", manifest.size(),
                    " after filling in checksums");
  }
  Header header;
  header.manifest_offset = kHeaderSize;
  header.manifest_length = manifest_size;
  header.file_size = file_size;
  const auto header_bytes = EncodeHeader(header);
  std::memcpy(&header.header_checksum, header_bytes.data() + 56, 8);
  KT_RETURN_IF_ERROR(out.WriteAt(kHeaderSize, manifest.data(), manifest.size()));
  KT_RETURN_IF_ERROR(out.WriteAt(0, header_bytes.data(), header_bytes.size()));
  KT_RETURN_IF_ERROR(out.Commit());
  return WriteResult{header, std::move(m)};
}

}  // namespace kt::artifact
