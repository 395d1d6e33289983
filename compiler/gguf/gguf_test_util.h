// Builds GGUF images byte by byte so that tests can produce any corruption.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace kt::gguf::testing {

class ByteBuilder {
 public:
  template <typename T>
  ByteBuilder& Put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
    return *this;
  }
  ByteBuilder& U8(uint8_t v) { return Put(v); }
  ByteBuilder& U32(uint32_t v) { return Put(v); }
  ByteBuilder& U64(uint64_t v) { return Put(v); }
  ByteBuilder& Str(std::string_view s) {
    U64(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  ByteBuilder& Header(uint64_t n_tensors, uint64_t n_kvs, uint32_t version = 3) {
    U32(0x46554747);
    U32(version);
    U64(n_tensors);
    return U64(n_kvs);
  }
  // name, n_dims, ne..., type, offset
  ByteBuilder& TensorInfo(std::string_view name, const std::vector<uint64_t>& ne, uint32_t type,
                          uint64_t offset) {
    Str(name);
    U32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) U64(d);
    U32(type);
    return U64(offset);
  }
  ByteBuilder& PadTo(uint64_t alignment) {
    while (bytes.size() % alignment != 0) bytes.push_back(0);
    return *this;
  }
  ByteBuilder& Zeros(uint64_t n) {
    bytes.insert(bytes.end(), n, 0);
    return *this;
  }
  size_t size() const { return bytes.size(); }

  std::vector<uint8_t> bytes;
};

}  // namespace kt::gguf::testing
