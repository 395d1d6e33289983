// Streaming GGUF writer. The file is written to "<path>.tmp" and renamed on a
// successful Close(), so a crash or an error never leaves a file that looks
// complete.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "compiler/gguf/gguf.h"
#include "compiler/gguf/gguf_internal.h"

namespace kt::gguf {
namespace {

constexpr size_t kBufferBytes = 1 << 20;

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Serialises into a memory buffer first; metadata is small next to tensor data.
class Encoder {
 public:
  template <typename T>
  void Put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void PutString(std::string_view s) {
    Put<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  Status PutValue(const GgufValue& v, std::string_view key, int depth) {
    switch (v.type) {
      case GgufType::kUint8: return PutUnsigned<uint8_t>(v.u, key);
      case GgufType::kUint16: return PutUnsigned<uint16_t>(v.u, key);
      case GgufType::kUint32: return PutUnsigned<uint32_t>(v.u, key);
      case GgufType::kUint64: return PutUnsigned<uint64_t>(v.u, key);
      case GgufType::kInt8: return PutSigned<int8_t>(v.i, key);
      case GgufType::kInt16: return PutSigned<int16_t>(v.i, key);
      case GgufType::kInt32: return PutSigned<int32_t>(v.i, key);
      case GgufType::kInt64: return PutSigned<int64_t>(v.i, key);
      case GgufType::kFloat32: Put<float>(static_cast<float>(v.f)); return Status::Ok();
      case GgufType::kFloat64: Put<double>(v.f); return Status::Ok();
      case GgufType::kBool: Put<uint8_t>(v.u != 0 ? 1 : 0); return Status::Ok();
      case GgufType::kString: PutString(v.str); return Status::Ok();
      case GgufType::kArray: {
        if (!IsKnownType(static_cast<uint32_t>(v.elem_type))) {
          return KT_ERROR(kInvalidArgument, "key '", key, "': unknown array element type ",
                          static_cast<uint32_t>(v.elem_type));
        }
        if (v.elem_type == GgufType::kArray && depth + 1 >= kMaxArrayDepth) {
          return KT_ERROR(kInvalidArgument, "key '", key, "': arrays nest deeper than ",
                          kMaxArrayDepth);
        }
        Put<uint32_t>(static_cast<uint32_t>(v.elem_type));
        Put<uint64_t>(v.elems.size());
        for (const GgufValue& e : v.elems) {
          if (e.type != v.elem_type) {
            return KT_ERROR(kInvalidArgument, "key '", key, "': array of ",
                            GgufTypeName(v.elem_type), " holds a ", GgufTypeName(e.type));
          }
          KT_RETURN_IF_ERROR(PutValue(e, key, depth + 1));
        }
        return Status::Ok();
      }
    }
    return KT_ERROR(kInvalidArgument, "key '", key, "': unknown value type ",
                    static_cast<uint32_t>(v.type));
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  template <typename T>
  Status PutUnsigned(uint64_t v, std::string_view key) {
    if (v > std::numeric_limits<T>::max())
      return KT_ERROR(kOutOfRange, "key '", key, "': value ", v, " does not fit its type");
    Put<T>(static_cast<T>(v));
    return Status::Ok();
  }
  template <typename T>
  Status PutSigned(int64_t v, std::string_view key) {
    if (v > std::numeric_limits<T>::max() || v < std::numeric_limits<T>::min())
      return KT_ERROR(kOutOfRange, "key '", key, "': value ", v, " does not fit its type");
    Put<T>(static_cast<T>(v));
    return Status::Ok();
  }
  std::vector<uint8_t> bytes_;
};

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {}

GgufWriter::~GgufWriter() {
  if (out_ != nullptr) {
    std::fclose(out_);
    std::remove((path_ + ".tmp").c_str());
  }
}

void GgufWriter::AddKv(std::string key, GgufValue value) {
  kvs_.push_back(GgufKv{std::move(key), std::move(value)});
}

Status GgufWriter::AddTensor(std::string name, quant::GgmlType type, std::vector<uint64_t> ne) {
  if (out_ != nullptr) {
    return KT_ERROR(kFailedPrecondition, "tensor '", name, "' added after Open()");
  }
  if (!IsPowerOfTwo(alignment_)) {
    return KT_ERROR(kInvalidArgument, "GGUF alignment ", alignment_, " is not a power of two");
  }
  if (name.size() > kMaxTensorNameBytes) {
    return KT_ERROR(kInvalidArgument, "tensor name '", name, "' is longer than ",
                    kMaxTensorNameBytes, " bytes (llama.cpp cannot load it)");
  }
  if (ne.empty() || ne.size() > kMaxDims) {
    return KT_ERROR(kInvalidArgument, "tensor '", name, "' has ", ne.size(),
                    " dimensions, must be 1..", kMaxDims);
  }
  for (const GgufTensorInfo& t : tensors_) {
    if (t.name == name) return KT_ERROR(kInvalidArgument, "duplicate tensor name '", name, "'");
  }
  const quant::GgmlTypeInfo* info = quant::FindGgmlType(static_cast<uint32_t>(type));
  if (info == nullptr) {
    return KT_ERROR(kInvalidArgument, "tensor '", name, "': unknown ggml type ",
                    static_cast<uint32_t>(type));
  }
  std::optional<uint64_t> row = quant::RowBytes(type, ne[0]);
  if (!row) {
    return KT_ERROR(kInvalidArgument, "tensor '", name, "': ne[0] = ", ne[0],
                    " is not a multiple of the ", info->name, " block size ", info->block_elems);
  }
  uint64_t rows = 1;
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  for (size_t d = 0; d < ne.size(); ++d) {
    if (ne[d] > kMax) return KT_ERROR(kOutOfRange, "tensor '", name, "': ne[", d, "] too large");
    if (d == 0) continue;
    if (ne[d] != 0 && rows > kMax / ne[d])
      return KT_ERROR(kOutOfRange, "tensor '", name, "': shape overflows");
    rows *= ne[d];
  }
  if (rows != 0 && *row > kMax / rows) {
    return KT_ERROR(kOutOfRange, "tensor '", name, "': byte size overflows");
  }
  GgufTensorInfo t;
  t.name = std::move(name);
  t.type = type;
  t.ne = std::move(ne);
  t.n_bytes = *row * rows;
  uint64_t offset = 0;
  if (!tensors_.empty()) {
    const GgufTensorInfo& prev = tensors_.back();
    offset = AlignUp(prev.offset + prev.n_bytes, alignment_);
  }
  t.offset = offset;
  tensors_.push_back(std::move(t));
  return Status::Ok();
}

Status GgufWriter::Open(const std::string& path) {
  if (out_ != nullptr) return KT_ERROR(kFailedPrecondition, "GgufWriter already open on '", path_, "'");
  if (!IsPowerOfTwo(alignment_)) {
    return KT_ERROR(kInvalidArgument, "GGUF alignment ", alignment_, " is not a power of two");
  }
  // general.alignment must agree with the constructor's; add it when it is
  // not the default so that readers find the tensors.
  bool have_alignment = false;
  std::unordered_set<std::string_view> keys;
  for (const GgufKv& kv : kvs_) {
    if (!keys.insert(kv.key).second) {
      return KT_ERROR(kInvalidArgument, "'", path, "': duplicate key '", kv.key, "'");
    }
    if (kv.key == "general.alignment") {
      if (kv.value.type != GgufType::kUint32 || kv.value.u != alignment_) {
        return KT_ERROR(kInvalidArgument, "'", path, "': general.alignment must be the uint32 ",
                        alignment_, " given to GgufWriter");
      }
      have_alignment = true;
    }
  }
  if (!have_alignment && alignment_ != kDefaultAlignment) {
    kvs_.push_back(GgufKv{"general.alignment", GgufValue::U32(alignment_)});
  }

  Encoder e;
  e.Put<uint32_t>(kGgufMagic);
  e.Put<uint32_t>(3);
  e.Put<uint64_t>(tensors_.size());
  e.Put<uint64_t>(kvs_.size());
  for (const GgufKv& kv : kvs_) {
    e.PutString(kv.key);
    e.Put<uint32_t>(static_cast<uint32_t>(kv.value.type));
    KT_RETURN_IF_ERROR(e.PutValue(kv.value, kv.key, 0).WithContext("'" + path + "'"));
  }
  for (const GgufTensorInfo& t : tensors_) {
    e.PutString(t.name);
    e.Put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (uint64_t d : t.ne) e.Put<uint64_t>(d);
    e.Put<uint32_t>(static_cast<uint32_t>(t.type));
    e.Put<uint64_t>(t.offset);
  }
  e.bytes().resize(AlignUp(e.bytes().size(), alignment_), 0);

  path_ = path;
  std::string tmp = path + ".tmp";
  out_ = std::fopen(tmp.c_str(), "wb");
  if (out_ == nullptr) {
    return KT_ERROR(kIoError, "cannot create '", tmp, "': ", std::strerror(errno));
  }
  std::setvbuf(out_, nullptr, _IOFBF, kBufferBytes);
  if (std::fwrite(e.bytes().data(), 1, e.bytes().size(), out_) != e.bytes().size()) {
    return KT_ERROR(kIoError, "writing the header of '", tmp, "': ", std::strerror(errno));
  }
  current_ = 0;
  current_written_ = 0;
  return Status::Ok();
}

Status GgufWriter::WritePadding() {
  const GgufTensorInfo& t = tensors_[current_];
  uint64_t pad = AlignUp(t.n_bytes, alignment_) - t.n_bytes;
  static constexpr uint8_t kZeros[256] = {};
  while (pad > 0) {
    size_t n = pad < sizeof(kZeros) ? static_cast<size_t>(pad) : sizeof(kZeros);
    if (std::fwrite(kZeros, 1, n, out_) != n) {
      return KT_ERROR(kIoError, "writing '", path_, ".tmp': ", std::strerror(errno));
    }
    pad -= n;
  }
  return Status::Ok();
}

Status GgufWriter::WriteTensorData(const void* data, uint64_t n_bytes) {
  if (out_ == nullptr) return KT_ERROR(kFailedPrecondition, "GgufWriter::WriteTensorData before Open()");
  const auto* p = static_cast<const uint8_t*>(data);
  while (true) {
    // Tensors of zero bytes are complete before anything is written.
    while (current_ < tensors_.size() && current_written_ == tensors_[current_].n_bytes) {
      KT_RETURN_IF_ERROR(WritePadding());
      ++current_;
      current_written_ = 0;
    }
    if (n_bytes == 0) return Status::Ok();
    if (current_ == tensors_.size()) {
      return KT_ERROR(kInvalidArgument, "'", path_, "': ", n_bytes,
                      " bytes written past the last tensor");
    }
    const GgufTensorInfo& t = tensors_[current_];
    uint64_t n = std::min(n_bytes, t.n_bytes - current_written_);
    if (std::fwrite(p, 1, n, out_) != n) {
      return KT_ERROR(kIoError, "writing tensor '", t.name, "' to '", path_, ".tmp': ",
                      std::strerror(errno));
    }
    p += n;
    n_bytes -= n;
    current_written_ += n;
  }
}

Status GgufWriter::Close() {
  if (out_ == nullptr) return KT_ERROR(kFailedPrecondition, "GgufWriter::Close before Open()");
  KT_RETURN_IF_ERROR(WriteTensorData(nullptr, 0));  // completes trailing empty tensors
  if (current_ != tensors_.size()) {
    const GgufTensorInfo& t = tensors_[current_];
    return KT_ERROR(kFailedPrecondition, "'", path_, "': closed with tensor '", t.name, "' at ",
                    current_written_, " of ", t.n_bytes, " bytes (", tensors_.size() - current_,
                    " of ", tensors_.size(), " tensors incomplete)");
  }
  std::string tmp = path_ + ".tmp";
  bool flushed = std::fflush(out_) == 0;
  int err = errno;
  bool closed = std::fclose(out_) == 0;
  if (!closed) err = errno;
  out_ = nullptr;
  if (!flushed || !closed) {
    std::remove(tmp.c_str());
    return KT_ERROR(kIoError, "writing '", tmp, "': ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    err = errno;
    std::remove(tmp.c_str());
    return KT_ERROR(kIoError, "cannot rename '", tmp, "' to '", path_, "': ", std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace kt::gguf
