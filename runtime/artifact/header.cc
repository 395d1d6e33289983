#include "runtime/artifact/header.h"

#include <cstring>

#include "runtime/artifact/xxhash64.h"

namespace kt::artifact {
namespace {

constexpr uint64_t kChecksumOffset = 56;

template <typename T>
void Put(uint8_t* out, uint64_t offset, T v) {
  std::memcpy(out + offset, &v, sizeof(T));
}
template <typename T>
T Get(const uint8_t* in, uint64_t offset) {
  T v;
  std::memcpy(&v, in + offset, sizeof(T));
  return v;
}

}  // namespace

std::array<uint8_t, kHeaderSize> EncodeHeader(const Header& header) {
  std::array<uint8_t, kHeaderSize> out{};
  std::memcpy(out.data(), kMagic, 4);
  Put<uint32_t>(out.data(), 4, header.format_version);
  Put<uint32_t>(out.data(), 8, header.flags);
  Put<uint32_t>(out.data(), 12, header.header_size);
  Put<uint64_t>(out.data(), 16, header.manifest_offset);
  Put<uint64_t>(out.data(), 24, header.manifest_length);
  Put<uint64_t>(out.data(), 32, header.file_size);
  Put<uint64_t>(out.data(), kChecksumOffset, Xxh64Of(out.data(), kChecksumOffset));
  return out;
}

StatusOr<Header> ParseHeader(const uint8_t* data, uint64_t size) {
  if (size < 4 || std::memcmp(data, kMagic, 4) != 0) {
    if (size < 4) {
      return KT_ERROR(kDataLoss, "truncated header: the file has ", size, " bytes, the header needs ",
                      kHeaderSize);
    }
    return KT_ERROR(kInvalidArgument, "bad magic: expected \"KTA\\0\", this is not a kt artifact");
  }
  if (size < kHeaderSize) {
    return KT_ERROR(kDataLoss, "truncated header: the file has ", size, " bytes, the header needs ",
                    kHeaderSize);
  }
  Header h;
  h.format_version = Get<uint32_t>(data, 4);
  h.flags = Get<uint32_t>(data, 8);
  h.header_size = Get<uint32_t>(data, 12);
  h.manifest_offset = Get<uint64_t>(data, 16);
  h.manifest_length = Get<uint64_t>(data, 24);
  h.file_size = Get<uint64_t>(data, 32);
  h.header_checksum = Get<uint64_t>(data, kChecksumOffset);

  if (h.format_version != kFormatVersion) {
    return KT_ERROR(kUnimplemented, "unsupported format_version ", h.format_version,
                    " (this build reads version ", kFormatVersion, "; recompile the model with this ktc)");
  }
  if (h.header_size != kHeaderSize) {
    return KT_ERROR(kDataLoss, "header_size is ", h.header_size, ", format version 1 requires ", kHeaderSize);
  }
  const uint64_t expected = Xxh64Of(data, kChecksumOffset);
  if (h.header_checksum != expected) {
    return KT_ERROR(kDataLoss, "header_checksum mismatch: stored 0x", std::hex, h.header_checksum,
                    ", computed 0x", expected, " (the header is corrupt)");
  }
  if (Get<uint64_t>(data, 40) != 0 || Get<uint64_t>(data, 48) != 0) {
    return KT_ERROR(kDataLoss, "header reserved bytes 40..55 are not zero");
  }
  if (h.flags != 0) {
    return KT_ERROR(kUnimplemented, "unknown header flags 0x", std::hex, h.flags);
  }
  if (h.file_size != size) {
    return KT_ERROR(kDataLoss, "file_size mismatch: the header says ", h.file_size, " bytes, the file has ",
                    size, h.file_size > size ? " (truncated?)" : " (trailing bytes?)");
  }
  if (h.manifest_offset < kHeaderSize || h.manifest_offset % 8 != 0) {
    return KT_ERROR(kOutOfRange, "manifest_offset ", h.manifest_offset,
                    " must be at least 64 and a multiple of 8");
  }
  if (h.manifest_length < 8) {
    return KT_ERROR(kDataLoss, "manifest_length ", h.manifest_length, " is too small for a FlatBuffer");
  }
  // Both values are checked against `size` one at a time, so the sum
  // cannot overflow.
  if (h.manifest_offset > size || h.manifest_length > size - h.manifest_offset) {
    return KT_ERROR(kOutOfRange, "manifest_offset ", h.manifest_offset, " + manifest_length ",
                    h.manifest_length, " is past the end of the file (", size, " bytes)");
  }
  return h;
}

}  // namespace kt::artifact
