#include "kernels/cpu/q4k_x8.h"

#include <cstring>

#include "kernels/quant/blocks.h"
#include "kernels/quant/fp16.h"
#include "kernels/quant/k_scales.h"

namespace kt::cpu {
namespace {

using quant::BlockQ4_K;
using quant::BlockQ8_K;

// Offsets inside one interleaved super-block.
constexpr size_t kD = 0, kDmin = 16, kScales = 32, kQs = 128;
static_assert(kQs + 1024 == kQ4KX8BlockBytes);

// Moves one row's block between the ggml form and its slot in an interleaved
// super-block; `to_x8` picks the direction.
void MoveBlock(uint8_t* x8, int r, BlockQ4_K* row_block, bool to_x8) {
  auto move = [&](void* interleaved, void* plain, size_t n) {
    if (to_x8) std::memcpy(interleaved, plain, n);
    else std::memcpy(plain, interleaved, n);
  };
  move(x8 + kD + 2 * r, &row_block->d, 2);
  move(x8 + kDmin + 2 * r, &row_block->dmin, 2);
  move(x8 + kScales + 12 * r, row_block->scales, 12);
  for (int u = 0; u < 32; ++u) move(x8 + kQs + 4 * (8 * u + r), row_block->qs + 4 * u, 4);
}

void Convert(const void* src, int64_t groups, int64_t cols, void* dst, bool to_x8) {
  const int64_t nb = cols / 256;
  for (int64_t g = 0; g < groups; ++g) {
    for (int r = 0; r < 8; ++r) {
      for (int64_t b = 0; b < nb; ++b) {
        const size_t x8_off = static_cast<size_t>(g * nb + b) * kQ4KX8BlockBytes;
        const size_t row_off = static_cast<size_t>((8 * g + r) * nb + b) * sizeof(BlockQ4_K);
        BlockQ4_K block;
        if (to_x8) {
          std::memcpy(&block, static_cast<const uint8_t*>(src) + row_off, sizeof(block));
          MoveBlock(static_cast<uint8_t*>(dst) + x8_off, r, &block, true);
        } else {
          MoveBlock(const_cast<uint8_t*>(static_cast<const uint8_t*>(src)) + x8_off, r, &block, false);
          std::memcpy(static_cast<uint8_t*>(dst) + row_off, &block, sizeof(block));
        }
      }
    }
  }
}

// The reference: the per-row Q4_K arithmetic of vec_dot_generic.cc, with
// every operand read from its interleaved place.
void GemvGeneric(int64_t n, const void* group, const void* act, float* y) {
  const auto* base = static_cast<const uint8_t*>(group);
  const auto* xb = static_cast<const BlockQ8_K*>(act);
  for (int r = 0; r < 8; ++r) y[r] = 0;
  for (int64_t b = 0; b < n / 256; ++b) {
    const uint8_t* blk = base + b * kQ4KX8BlockBytes;
    for (int r = 0; r < 8; ++r) {
      uint16_t d, dmin;
      std::memcpy(&d, blk + kD + 2 * r, 2);
      std::memcpy(&dmin, blk + kDmin + 2 * r, 2);
      const uint8_t* scales = blk + kScales + 12 * r;
      int32_t acc = 0, mins = 0;
      for (int j = 0; j < 8; ++j) {
        const quant::ScaleMin sm = quant::GetScaleMinK4(j, scales);
        const int shift = (j & 1) ? 4 : 0;
        int32_t sub = 0;
        for (int l = 0; l < 32; ++l) {
          const int i = 32 * (j / 2) + l;  // qs byte index in the row's block
          const uint8_t q = blk[kQs + 4 * (8 * (i / 4) + r) + i % 4];
          sub += ((q >> shift) & 15) * xb[b].qs[32 * j + l];
        }
        acc += sm.scale * sub;
        mins += sm.min * (xb[b].bsums[2 * j] + xb[b].bsums[2 * j + 1]);
      }
      y[r] += xb[b].d * (quant::Fp16ToFloat(d) * static_cast<float>(acc) -
                         quant::Fp16ToFloat(dmin) * static_cast<float>(mins));
    }
  }
}

}  // namespace

void RepackQ4KX8(const void* src, int64_t groups, int64_t cols, void* dst) {
  Convert(src, groups, cols, dst, true);
}

void UnrepackQ4KX8(const void* src, int64_t groups, int64_t cols, void* dst) {
  Convert(src, groups, cols, dst, false);
}

void UnpackRowQ4KX8(const void* group, int64_t cols, int r, void* dst_row) {
  auto* x8 = const_cast<uint8_t*>(static_cast<const uint8_t*>(group));
  for (int64_t b = 0; b < cols / 256; ++b) {
    BlockQ4_K block;
    MoveBlock(x8 + b * kQ4KX8BlockBytes, r, &block, false);
    std::memcpy(static_cast<uint8_t*>(dst_row) + b * sizeof(block), &block, sizeof(block));
  }
}

GemvQ4KX8Fn GemvQ4KX8Generic() { return GemvGeneric; }

GemvQ4KX8Fn GetGemvQ4KX8(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (isa >= Isa::kAvx512 && HostSupports(Isa::kAvx512)) return GemvQ4KX8Avx512();
  if (isa >= Isa::kAvx2 && HostSupports(Isa::kAvx2)) return GemvQ4KX8Avx2();
#else
  (void)isa;
#endif
  return GemvGeneric;
}

}  // namespace kt::cpu
