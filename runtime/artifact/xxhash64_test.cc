#include "runtime/artifact/xxhash64.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace kt::artifact {
namespace {

// Outputs of the reference xxHash implementation (XXH64, seed 0).
TEST(Xxh64, KnownVectors) {
  EXPECT_EQ(Xxh64Of("", 0), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(Xxh64Of("a", 1), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(Xxh64Of("abc", 3), 0x44BC2CF5AD770999ULL);
  const char* s = "Nobody inspects the spammish repetition";
  EXPECT_EQ(Xxh64Of(s, std::strlen(s)), 0xFBCEA83C8A378BF1ULL);
}

// Streaming in any chunking must equal hashing in one call, across the
// 32-byte stripe and the 8/4/1-byte tails.
TEST(Xxh64, ChunkingDoesNotMatter) {
  std::vector<uint8_t> data(300);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  for (size_t len : {0, 1, 3, 4, 7, 8, 31, 32, 33, 63, 64, 65, 100, 300}) {
    const uint64_t whole = Xxh64Of(data.data(), len);
    for (size_t chunk : {1, 5, 13, 32, 40}) {
      Xxh64 h;
      for (size_t pos = 0; pos < len; pos += chunk) h.Update(data.data() + pos, std::min(chunk, len - pos));
      EXPECT_EQ(h.Digest(), whole) << "len " << len << " chunk " << chunk;
    }
  }
  EXPECT_NE(Xxh64Of(data.data(), 100), Xxh64Of(data.data(), 99));
}

}  // namespace
}  // namespace kt::artifact
