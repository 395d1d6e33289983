// GGUF (version 2 and 3) reading and writing. No MLIR here: the generator,
// the compiler and the tests all use this library.
//
//   KT_ASSIGN_OR_RETURN(GgufFile file, GgufFile::Open("model.gguf"));
//   const GgufValue* v = file.Find("general.architecture");
//   const GgufTensorInfo* t = file.FindTensor("token_embd.weight");
//   const uint8_t* bytes = file.TensorData(*t);
//
// The reader validates everything before returning: a corrupt file gives a
// Status naming the field and its file offset, never a crash, and no
// allocation is sized by an unchecked count.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kernels/quant/ggml_type.h"
#include "runtime/base/mapped_file.h"
#include "runtime/base/status.h"

namespace kt::gguf {

enum class GgufType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5,
  kFloat32 = 6, kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11,
  kFloat64 = 12,
};
const char* GgufTypeName(GgufType type);

// One metadata value. Scalars are widened into one of three fields; arrays
// hold their element type and elements (which may be arrays themselves).
struct GgufValue {
  GgufType type = GgufType::kUint32;
  uint64_t u = 0;   // kUint8..kUint64, kBool (0/1)
  int64_t i = 0;    // kInt8..kInt64
  double f = 0;     // kFloat32, kFloat64
  std::string str;  // kString
  GgufType elem_type = GgufType::kUint8;  // kArray
  std::vector<GgufValue> elems;           // kArray

  // Typed access with range checks; errors name `key`.
  StatusOr<uint64_t> AsUint(std::string_view key) const;   // any unsigned or non-negative signed int
  StatusOr<int64_t> AsInt(std::string_view key) const;     // any integer that fits
  StatusOr<double> AsFloat(std::string_view key) const;    // floats and integers
  StatusOr<bool> AsBool(std::string_view key) const;
  StatusOr<std::string> AsString(std::string_view key) const;

  static GgufValue U32(uint32_t v);
  static GgufValue I32(int32_t v);
  static GgufValue U64(uint64_t v);
  static GgufValue F32(float v);
  static GgufValue Bool(bool v);
  static GgufValue Str(std::string v);
  static GgufValue StrArray(const std::vector<std::string>& v);
  static GgufValue I32Array(const std::vector<int32_t>& v);
  static GgufValue F32Array(const std::vector<float>& v);
  // The remaining scalar types, and arrays of any element type (elements
  // must all have elem_type; the writer checks).
  static GgufValue U8(uint8_t v);
  static GgufValue I8(int8_t v);
  static GgufValue U16(uint16_t v);
  static GgufValue I16(int16_t v);
  static GgufValue I64(int64_t v);
  static GgufValue F64(double v);
  static GgufValue Array(GgufType elem_type, std::vector<GgufValue> elems);
};

struct GgufKv {
  std::string key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  quant::GgmlType type = quant::GgmlType::kF32;
  std::vector<uint64_t> ne;  // ne[0] is the contiguous dimension
  uint64_t offset = 0;       // relative to the data section
  uint64_t n_bytes = 0;      // computed from type and ne
  uint64_t n_elements() const;
};

class GgufFile {
 public:
  // Maps and validates `path`.
  static StatusOr<GgufFile> Open(const std::string& path);
  // Validates an in-memory image (tests, fuzzing). `data` must outlive the result.
  static StatusOr<GgufFile> Parse(const uint8_t* data, uint64_t size, std::string name = "<memory>");

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute file offset of the data section
  uint64_t file_size() const { return size_; }
  const std::string& name() const { return name_; }

  const std::vector<GgufKv>& kvs() const { return kvs_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufValue* Find(std::string_view key) const;
  const GgufTensorInfo* FindTensor(std::string_view name) const;
  // Pointer to a tensor's bytes (n_bytes long) inside the mapping.
  const uint8_t* TensorData(const GgufTensorInfo& tensor) const;

  // Convenience getters; a missing key is kNotFound naming the key and file.
  StatusOr<uint64_t> GetUint(std::string_view key) const;
  StatusOr<double> GetFloat(std::string_view key) const;
  StatusOr<bool> GetBool(std::string_view key) const;
  StatusOr<std::string> GetString(std::string_view key) const;

 private:
  std::shared_ptr<MappedFile> mapping_;  // null for Parse()
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  std::string name_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKv> kvs_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> kv_index_;      // key -> index into kvs_
  std::unordered_map<std::string, size_t> tensor_index_;  // name -> index into tensors_
};

// Streaming writer: metadata and tensor infos first, then each tensor's data
// in declaration order (in as many chunks as the caller likes), so a 30 GB
// file needs little memory.
//
//   GgufWriter w;
//   w.AddKv("general.architecture", GgufValue::Str("deepseek2"));
//   KT_RETURN_IF_ERROR(w.AddTensor("token_embd.weight", GgmlType::kQ8_0, {2048, 102400}));
//   KT_RETURN_IF_ERROR(w.Open("out.gguf"));          // writes header, kvs, infos
//   KT_RETURN_IF_ERROR(w.WriteTensorData(ptr, n));   // repeatedly, in order
//   KT_RETURN_IF_ERROR(w.Close());                   // checks every byte was written
class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = 32);
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  void AddKv(std::string key, GgufValue value);
  Status AddTensor(std::string name, quant::GgmlType type, std::vector<uint64_t> ne);

  Status Open(const std::string& path);
  // Appends bytes of the current tensor; moves to the next tensor (after
  // alignment padding) once the current one is complete.
  Status WriteTensorData(const void* data, uint64_t n_bytes);
  Status Close();

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

 private:
  Status WritePadding();
  uint32_t alignment_;
  std::vector<GgufKv> kvs_;
  std::vector<GgufTensorInfo> tensors_;
  std::string path_;
  std::FILE* out_ = nullptr;
  size_t current_ = 0;          // index of the tensor being written
  uint64_t current_written_ = 0;
};

}  // namespace kt::gguf
