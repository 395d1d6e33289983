#include "kernels/cpu/stream_read.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace kt::cpu {
namespace {

// Every family returns the generic sum, for lengths that do and do not fill
// whole vector steps, and from an unaligned start.
TEST(StreamReadTest, EveryIsaMatchesGeneric) {
  std::mt19937_64 rng(17);
  std::vector<uint64_t> words(4099);
  for (uint64_t& w : words) w = rng();
  const auto* bytes = reinterpret_cast<const uint8_t*>(words.data());
  for (size_t offset : {size_t{0}, size_t{8}, size_t{3}}) {
    for (size_t n : {size_t{0}, size_t{8}, size_t{200}, size_t{256}, size_t{1000}, size_t{32000}}) {
      const uint64_t want = StreamReadGeneric()(bytes + offset, n);
      for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
        if (!HostSupports(isa)) continue;
        EXPECT_EQ(GetStreamRead(isa)(bytes + offset, n), want) << IsaName(isa) << " offset " << offset << " n " << n;
      }
    }
  }
  uint64_t manual = 0;
  for (int i = 0; i < 5; ++i) manual += words[i];
  EXPECT_EQ(StreamReadGeneric()(bytes, 5 * 8 + 7), manual);
}

}  // namespace
}  // namespace kt::cpu
