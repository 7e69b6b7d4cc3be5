// The avx2 int8 GEMM: the shared driver (kernel.hpp) instantiated with the Avx2Madd traits.
// sources.cmake compiles this file with the ISA's -m flags; nothing else may include it.
#define LEPTON_KERNEL_NS avx2
#include "cpu/gemm/simd_ymm.hpp"
#include "cpu/gemm/kernel.hpp"

namespace lepton::gemm {

const KernelOps& kernel_ops_avx2() {
  static const KernelOps ops = LEPTON_KERNEL_NS::Kernel<LEPTON_KERNEL_NS::Avx2Madd>::ops();
  return ops;
}

}  // namespace lepton::gemm
