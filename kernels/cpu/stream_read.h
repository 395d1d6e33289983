// Reading memory as fast as the core can, for the DRAM bandwidth probe
// (runtime/cpu/bandwidth.h). The probe is the yardstick decode speed is
// judged by, so it must not understate the ceiling: 8-byte scalar loads keep
// too few cache lines in flight and on the Zen 5 VM read about half of what
// full-width vector loads reach.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/cpu_features.h"

namespace kt::cpu {

// Returns the sum, modulo 2^64, of the `bytes / 8` little-endian 64-bit
// words at `data` (trailing bytes ignored). Every family returns the same
// value; the sum only keeps the reads from being optimised away.
using StreamReadFn = uint64_t (*)(const void* data, size_t bytes);

// The kernel for `isa` or the best lower family that has one; never null.
StreamReadFn GetStreamRead(Isa isa);

StreamReadFn StreamReadGeneric();
StreamReadFn StreamReadAvx2();    // nullptr off x86
StreamReadFn StreamReadAvx512();  // nullptr off x86

}  // namespace kt::cpu
