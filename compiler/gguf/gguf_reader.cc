// GGUF reader. Everything is validated before GgufFile is returned: each
// count and length is checked against the bytes that remain before anything
// is allocated from it, so a hostile file costs at most memory proportional
// to its size.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "compiler/gguf/gguf.h"
#include "compiler/gguf/gguf_internal.h"

namespace kt::gguf {
namespace {

// Smallest tensor info: empty name (u64), n_dims (u32), one dim (u64), type
// (u32), offset (u64).
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
// Smallest kv: empty key (u64), value type (u32), a one-byte value.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;

class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  const std::string& name() const { return name_; }

  Status Need(uint64_t n, std::string_view field) const {
    if (n <= remaining()) return Status::Ok();
    return KT_ERROR(kDataLoss, name_, ": truncated file: ", field, " at offset ", pos_, " needs ",
                    n, " bytes but only ", remaining(), " remain");
  }

  template <typename T>
  Status Read(T* out, std::string_view field) {
    KT_RETURN_IF_ERROR(Need(sizeof(T), field));
    std::memcpy(out, data_ + pos_, sizeof(T));  // the format is little-endian, as are kt's hosts
    pos_ += sizeof(T);
    return Status::Ok();
  }

  Status ReadString(std::string* out, std::string_view field) {
    uint64_t start = pos_;
    uint64_t len = 0;
    KT_RETURN_IF_ERROR(Read(&len, field));
    if (len > remaining()) {
      return KT_ERROR(kDataLoss, name_, ": ", field, " at offset ", start, " has length ", len,
                      " but only ", remaining(), " bytes remain in the file");
    }
    out->assign(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return Status::Ok();
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& name_;
};

template <typename T>
Status ReadScalarInto(Cursor& c, GgufValue* v, std::string_view field) {
  T x{};
  KT_RETURN_IF_ERROR(c.Read(&x, field));
  if constexpr (std::is_floating_point_v<T>) {
    v->f = x;
  } else if constexpr (std::is_signed_v<T>) {
    v->i = x;
  } else {
    v->u = x;
  }
  return Status::Ok();
}

Status ReadValue(Cursor& c, GgufType type, int depth, const std::string& key, GgufValue* v);

Status ReadArray(Cursor& c, int depth, const std::string& key, GgufValue* v) {
  uint64_t type_pos = c.pos();
  uint32_t elem_type = 0;
  KT_RETURN_IF_ERROR(c.Read(&elem_type, "array element type of '" + key + "'"));
  if (!IsKnownType(elem_type)) {
    return KT_ERROR(kDataLoss, c.name(), ": array element type of '", key, "' at offset ", type_pos,
                    " is ", elem_type, ", not a GGUF value type (0..12)");
  }
  v->elem_type = static_cast<GgufType>(elem_type);
  if (v->elem_type == GgufType::kArray && depth + 1 >= kMaxArrayDepth) {
    return KT_ERROR(kOutOfRange, c.name(), ": array nesting depth of '", key, "' at offset ",
                    type_pos, " exceeds the limit of ", kMaxArrayDepth);
  }
  uint64_t count_pos = c.pos();
  uint64_t count = 0;
  KT_RETURN_IF_ERROR(c.Read(&count, "array length of '" + key + "'"));
  uint64_t min_size = MinEncodedSize(v->elem_type);
  if (count > c.remaining() / min_size) {
    return KT_ERROR(kDataLoss, c.name(), ": array length of '", key, "' at offset ", count_pos,
                    " is ", count, " but the remaining ", c.remaining(), " bytes hold at most ",
                    c.remaining() / min_size, " ", GgufTypeName(v->elem_type), " elements");
  }
  v->elems.resize(count);  // bounded by the file size just above
  for (GgufValue& e : v->elems) {
    KT_RETURN_IF_ERROR(ReadValue(c, v->elem_type, depth + 1, key, &e));
  }
  return Status::Ok();
}

Status ReadValue(Cursor& c, GgufType type, int depth, const std::string& key, GgufValue* v) {
  v->type = type;
  switch (type) {
    case GgufType::kUint8: return ReadScalarInto<uint8_t>(c, v, key);
    case GgufType::kInt8: return ReadScalarInto<int8_t>(c, v, key);
    case GgufType::kUint16: return ReadScalarInto<uint16_t>(c, v, key);
    case GgufType::kInt16: return ReadScalarInto<int16_t>(c, v, key);
    case GgufType::kUint32: return ReadScalarInto<uint32_t>(c, v, key);
    case GgufType::kInt32: return ReadScalarInto<int32_t>(c, v, key);
    case GgufType::kUint64: return ReadScalarInto<uint64_t>(c, v, key);
    case GgufType::kInt64: return ReadScalarInto<int64_t>(c, v, key);
    case GgufType::kFloat32: return ReadScalarInto<float>(c, v, key);
    case GgufType::kFloat64: return ReadScalarInto<double>(c, v, key);
    case GgufType::kBool: {
      KT_RETURN_IF_ERROR(ReadScalarInto<uint8_t>(c, v, key));
      v->u = v->u != 0 ? 1 : 0;
      return Status::Ok();
    }
    case GgufType::kString: return c.ReadString(&v->str, "string value of '" + key + "'");
    case GgufType::kArray: return ReadArray(c, depth, key, v);
  }
  return KT_ERROR(kInternal, "unhandled GGUF type ", static_cast<uint32_t>(type));
}

std::string ShapeString(const std::vector<uint64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

StatusOr<GgufFile> GgufFile::Open(const std::string& path) {
  KT_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> mapping, MappedFile::Open(path));
  KT_ASSIGN_OR_RETURN(GgufFile file, Parse(mapping->data(), mapping->size(), path));
  file.mapping_ = std::move(mapping);
  return file;
}

StatusOr<GgufFile> GgufFile::Parse(const uint8_t* data, uint64_t size, std::string name) {
  GgufFile f;
  f.data_ = data;
  f.size_ = size;
  f.name_ = std::move(name);
  Cursor c(data, size, f.name_);

  uint32_t magic = 0;
  KT_RETURN_IF_ERROR(c.Read(&magic, "magic"));
  if (magic != kGgufMagic) {
    return KT_ERROR(kInvalidArgument, f.name_, ": bad magic at offset 0: not a GGUF file (first bytes ",
                    "0x", std::hex, magic, ", expected 0x", kGgufMagic, " \"GGUF\")");
  }
  KT_RETURN_IF_ERROR(c.Read(&f.version_, "version"));
  if (f.version_ != 2 && f.version_ != 3) {
    // A byte-swapped small number is a big-endian file (gguf-py can write those).
    bool swapped = (f.version_ & 0xFFFF) == 0 && f.version_ != 0;
    return KT_ERROR(kUnimplemented, f.name_, ": unsupported version ", f.version_,
                    " at offset 4; kt reads GGUF versions 2 and 3",
                    swapped ? " (this looks like a big-endian file, which kt does not read)" : "");
  }

  uint64_t tensor_count = 0, kv_count = 0;
  KT_RETURN_IF_ERROR(c.Read(&tensor_count, "tensor_count"));
  KT_RETURN_IF_ERROR(c.Read(&kv_count, "kv_count"));
  if (kv_count > c.remaining() / kMinKvBytes) {
    return KT_ERROR(kDataLoss, f.name_, ": kv_count ", kv_count,
                    " at offset 16 is impossible: the remaining ", c.remaining(),
                    " bytes hold at most ", c.remaining() / kMinKvBytes, " key-value pairs");
  }
  if (tensor_count > c.remaining() / kMinTensorInfoBytes) {
    return KT_ERROR(kDataLoss, f.name_, ": tensor_count ", tensor_count,
                    " at offset 8 is impossible: the remaining ", c.remaining(),
                    " bytes hold at most ", c.remaining() / kMinTensorInfoBytes, " tensor infos");
  }

  f.kvs_.reserve(kv_count);
  f.kv_index_.reserve(kv_count);
  for (uint64_t k = 0; k < kv_count; ++k) {
    uint64_t kv_pos = c.pos();
    GgufKv kv;
    KT_RETURN_IF_ERROR(c.ReadString(&kv.key, StrCat("key of kv #", k)));
    uint64_t type_pos = c.pos();
    uint32_t type = 0;
    KT_RETURN_IF_ERROR(c.Read(&type, "value type of '" + kv.key + "'"));
    if (!IsKnownType(type)) {
      return KT_ERROR(kDataLoss, f.name_, ": value type of '", kv.key, "' at offset ", type_pos,
                      " is ", type, ", not a GGUF value type (0..12)");
    }
    KT_RETURN_IF_ERROR(ReadValue(c, static_cast<GgufType>(type), 0, kv.key, &kv.value));
    if (!f.kv_index_.emplace(kv.key, f.kvs_.size()).second) {
      return KT_ERROR(kDataLoss, f.name_, ": duplicate key '", kv.key, "' at offset ", kv_pos);
    }
    if (kv.key == "general.alignment") {
      if (kv.value.type != GgufType::kUint32) {
        return KT_ERROR(kDataLoss, f.name_, ": general.alignment at offset ", kv_pos, " has type ",
                        GgufTypeName(kv.value.type), ", must be uint32");
      }
      if (!IsPowerOfTwo(kv.value.u)) {
        return KT_ERROR(kOutOfRange, f.name_, ": general.alignment at offset ", kv_pos, " is ",
                        kv.value.u, ", must be a nonzero power of two");
      }
      f.alignment_ = static_cast<uint32_t>(kv.value.u);
    }
    f.kvs_.push_back(std::move(kv));
  }

  f.tensors_.reserve(tensor_count);
  f.tensor_index_.reserve(tensor_count);
  for (uint64_t t = 0; t < tensor_count; ++t) {
    uint64_t info_pos = c.pos();
    GgufTensorInfo ti;
    KT_RETURN_IF_ERROR(c.ReadString(&ti.name, StrCat("name of tensor #", t)));
    const std::string field = "tensor '" + ti.name + "'";
    uint64_t dims_pos = c.pos();
    uint32_t n_dims = 0;
    KT_RETURN_IF_ERROR(c.Read(&n_dims, field + " n_dims"));
    if (n_dims == 0 || n_dims > kMaxDims) {
      return KT_ERROR(kOutOfRange, f.name_, ": ", field, " n_dims at offset ", dims_pos, " is ",
                      n_dims, ", must be 1..", kMaxDims);
    }
    ti.ne.resize(n_dims);
    uint64_t ne_pos = c.pos();
    for (uint32_t d = 0; d < n_dims; ++d) {
      KT_RETURN_IF_ERROR(c.Read(&ti.ne[d], StrCat(field, " ne[", d, "]")));
    }
    // ggml holds ne as int64_t: every dimension and the element count must fit.
    uint64_t n_elements = 1;
    bool overflow = false;
    for (uint64_t d : ti.ne) {
      constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
      if (d > kMax || (d != 0 && n_elements > kMax / d)) overflow = true;
      n_elements = overflow ? 0 : n_elements * d;
    }
    if (overflow) {
      return KT_ERROR(kOutOfRange, f.name_, ": ", field, " shape ", ShapeString(ti.ne),
                      " at offset ", ne_pos, " overflows: the element count does not fit int64");
    }
    uint64_t type_pos = c.pos();
    uint32_t type_id = 0;
    KT_RETURN_IF_ERROR(c.Read(&type_id, field + " type"));
    const quant::GgmlTypeInfo* info = quant::FindGgmlType(type_id);
    if (info == nullptr) {
      return KT_ERROR(kUnimplemented, f.name_, ": ", field, " type at offset ", type_pos, " is ",
                      type_id, ", not a known ggml type");
    }
    ti.type = info->type;
    std::optional<uint64_t> row = quant::RowBytes(ti.type, ti.ne[0]);
    if (!row) {
      return KT_ERROR(kDataLoss, f.name_, ": ", field, " ne[0] at offset ", ne_pos, " is ",
                      ti.ne[0], ", not a multiple of the ", info->name, " block size ",
                      info->block_elems);
    }
    uint64_t rows = ti.ne[0] == 0 ? 0 : n_elements / ti.ne[0];
    if (rows != 0 && *row > std::numeric_limits<uint64_t>::max() / rows) {
      return KT_ERROR(kOutOfRange, f.name_, ": ", field, " shape ", ShapeString(ti.ne),
                      " at offset ", ne_pos, " overflows: its byte size does not fit 64 bits");
    }
    ti.n_bytes = ti.ne[0] == 0 ? 0 : *row * rows;
    uint64_t offset_pos = c.pos();
    KT_RETURN_IF_ERROR(c.Read(&ti.offset, field + " offset"));
    if (ti.offset % f.alignment_ != 0) {
      return KT_ERROR(kDataLoss, f.name_, ": ", field, " offset ", ti.offset, " at offset ",
                      offset_pos, " is not a multiple of the alignment ", f.alignment_);
    }
    if (!f.tensor_index_.emplace(ti.name, f.tensors_.size()).second) {
      return KT_ERROR(kDataLoss, f.name_, ": duplicate tensor name '", ti.name, "' at offset ",
                      info_pos);
    }
    f.tensors_.push_back(std::move(ti));
  }

  // The data section starts at the first aligned offset after the infos.
  uint64_t end_of_infos = c.pos();
  f.data_offset_ = (end_of_infos + f.alignment_ - 1) / f.alignment_ * f.alignment_;

  for (const GgufTensorInfo& ti : f.tensors_) {
    // data_offset_ <= size + alignment and offsets are checked before adding,
    // so none of these sums wrap.
    if (f.data_offset_ > size || ti.offset > size - f.data_offset_ ||
        ti.n_bytes > size - f.data_offset_ - ti.offset) {
      return KT_ERROR(kDataLoss, f.name_, ": tensor '", ti.name, "' data [", ti.offset, ", +",
                      ti.n_bytes, ") relative to the data section at ", f.data_offset_,
                      " extends past the file end ", size);
    }
  }

  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(f.tensors_.size());
  for (const GgufTensorInfo& ti : f.tensors_) {
    if (ti.n_bytes != 0) by_offset.push_back(&ti);  // empty tensors occupy nothing
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo* a = by_offset[i - 1];
    const GgufTensorInfo* b = by_offset[i];
    if (a->offset + a->n_bytes > b->offset) {
      return KT_ERROR(kDataLoss, f.name_, ": tensors '", a->name, "' [", a->offset, ", ",
                      a->offset + a->n_bytes, ") and '", b->name, "' [", b->offset, ", ",
                      b->offset + b->n_bytes, ") overlap in the data section");
    }
  }
  return f;
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t* GgufFile::TensorData(const GgufTensorInfo& tensor) const {
  return data_ + data_offset_ + tensor.offset;
}

namespace {
StatusOr<const GgufValue*> FindOrError(const GgufFile& f, std::string_view key) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return KT_ERROR(kNotFound, f.name(), ": missing key '", key, "'");
  return v;
}
}  // namespace

StatusOr<uint64_t> GgufFile::GetUint(std::string_view key) const {
  KT_ASSIGN_OR_RETURN(const GgufValue* v, FindOrError(*this, key));
  return v->AsUint(key);
}
StatusOr<double> GgufFile::GetFloat(std::string_view key) const {
  KT_ASSIGN_OR_RETURN(const GgufValue* v, FindOrError(*this, key));
  return v->AsFloat(key);
}
StatusOr<bool> GgufFile::GetBool(std::string_view key) const {
  KT_ASSIGN_OR_RETURN(const GgufValue* v, FindOrError(*this, key));
  return v->AsBool(key);
}
StatusOr<std::string> GgufFile::GetString(std::string_view key) const {
  KT_ASSIGN_OR_RETURN(const GgufValue* v, FindOrError(*this, key));
  return v->AsString(key);
}

}  // namespace kt::gguf
