#include "runtime/artifact/header.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace kt::artifact {
namespace {

std::vector<uint8_t> Image(const Header& h, uint64_t size) {
  std::vector<uint8_t> out(size, 0);
  auto bytes = EncodeHeader(h);
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

Header Valid() {
  Header h;
  h.manifest_offset = 64;
  h.manifest_length = 100;
  h.file_size = 4096;
  return h;
}

TEST(Header, RoundTrips) {
  auto img = Image(Valid(), 4096);
  StatusOr<Header> h = ParseHeader(img.data(), img.size());
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  Header want = Valid();
  want.header_checksum = h->header_checksum;
  EXPECT_EQ(*h, want);
  EXPECT_NE(h->header_checksum, 0u);
}

void ExpectError(const std::vector<uint8_t>& img, StatusCode code, const std::string& text) {
  StatusOr<Header> h = ParseHeader(img.data(), img.size());
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), code) << h.status().ToString();
  EXPECT_NE(h.status().message().find(text), std::string::npos) << h.status().ToString();
}

TEST(Header, Rejects) {
  auto img = Image(Valid(), 4096);
  ExpectError(std::vector<uint8_t>(img.begin(), img.begin() + 40), StatusCode::kDataLoss, "truncated header");
  auto bad = img;
  bad[0] = 'X';
  ExpectError(bad, StatusCode::kInvalidArgument, "bad magic");
  bad = img;
  bad[20] ^= 1;  // manifest_offset bit, checksum now wrong
  ExpectError(bad, StatusCode::kDataLoss, "header_checksum mismatch");

  Header h = Valid();
  h.format_version = 2;
  ExpectError(Image(h, 4096), StatusCode::kUnimplemented, "unsupported format_version 2");
  h = Valid();
  h.flags = 1;
  ExpectError(Image(h, 4096), StatusCode::kUnimplemented, "unknown header flags");
  h = Valid();
  ExpectError(Image(h, 4000), StatusCode::kDataLoss, "file_size mismatch");
  h = Valid();
  h.manifest_length = 5000;
  ExpectError(Image(h, 4096), StatusCode::kOutOfRange, "past the end of the file");
  h = Valid();
  h.manifest_length = UINT64_MAX - 10;  // offset + length overflows
  ExpectError(Image(h, 4096), StatusCode::kOutOfRange, "past the end of the file");
  h = Valid();
  h.manifest_offset = 12;
  ExpectError(Image(h, 4096), StatusCode::kOutOfRange, "manifest_offset 12");
}

}  // namespace
}  // namespace kt::artifact
