// Non-x86 hosts: only the generic kernels exist.
#include "kernels/cpu/vec_dot.h"

namespace kt::cpu {
VecDotFn GetVecDotAvx2(quant::GgmlType) { return nullptr; }
VecDotFn GetVecDotAvx512(quant::GgmlType) { return nullptr; }
}  // namespace kt::cpu
