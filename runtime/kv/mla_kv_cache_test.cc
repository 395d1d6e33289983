#include "runtime/kv/mla_kv_cache.h"

#include <vector>

#include <gtest/gtest.h>

namespace kt::kv {
namespace {

TEST(MlaKvCacheTest, WriteReadCommitTruncate) {
  auto cache = MlaKvCache::Create(/*n_layer=*/2, /*capacity=*/8, /*kv_lora_rank=*/4, /*rope_dim=*/2);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  EXPECT_EQ(cache->length(), 0u);
  for (uint32_t layer = 0; layer < 2; ++layer) {
    for (uint32_t pos = 0; pos < 3; ++pos) {
      const float base = 100.0f * layer + 10.0f * pos;
      const std::vector<float> latent = {base, base + 1, base + 2, base + 3};
      const std::vector<float> k_pe = {-base, -base - 1};
      ASSERT_TRUE(cache->Write(layer, pos, latent, k_pe).ok());
    }
  }
  for (uint32_t pos = 0; pos < 3; ++pos) ASSERT_TRUE(cache->Commit(pos).ok());
  EXPECT_EQ(cache->length(), 3u);
  EXPECT_TRUE(cache->filled(2));
  EXPECT_FALSE(cache->filled(3));
  EXPECT_EQ(cache->Latent(1, 2)[3], 123.0f);
  EXPECT_EQ(cache->KPe(1, 2)[1], -121.0f);
  EXPECT_EQ(cache->Latent(0, 0)[0], 0.0f);

  // Rewriting a position replaces it.
  const std::vector<float> latent = {7, 7, 7, 7}, k_pe = {8, 8};
  ASSERT_TRUE(cache->Write(0, 1, latent, k_pe).ok());
  EXPECT_EQ(cache->Latent(0, 1)[2], 7.0f);
  EXPECT_EQ(cache->KPe(0, 1)[0], 8.0f);
  EXPECT_EQ(cache->Latent(1, 1)[0], 110.0f);  // other layer untouched

  cache->Truncate(1);
  EXPECT_EQ(cache->length(), 1u);
  EXPECT_TRUE(cache->filled(0));
  EXPECT_FALSE(cache->filled(1));
}

TEST(MlaKvCacheTest, OutOfOrderPositionsSetLength) {
  auto cache = MlaKvCache::Create(1, 8, 2, 2);
  ASSERT_TRUE(cache.ok());
  ASSERT_TRUE(cache->Commit(5).ok());
  EXPECT_EQ(cache->length(), 6u);
  EXPECT_FALSE(cache->filled(4));
  cache->Truncate(5);
  EXPECT_EQ(cache->length(), 0u);
}

TEST(MlaKvCacheTest, BadArgumentsAreErrors) {
  EXPECT_EQ(MlaKvCache::Create(0, 8, 2, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MlaKvCache::Create(61, 1u << 30, 512, 64, uint64_t{1} << 34).status().code(),
            StatusCode::kResourceExhausted);
  auto cache = MlaKvCache::Create(2, 4, 3, 2);
  ASSERT_TRUE(cache.ok());
  const std::vector<float> latent(3), k_pe(2), short_latent(2);
  EXPECT_EQ(cache->Write(2, 0, latent, k_pe).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(cache->Write(0, 4, latent, k_pe).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(cache->Write(0, 0, short_latent, k_pe).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cache->Commit(4).code(), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace kt::kv
