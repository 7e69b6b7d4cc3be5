// The avx512_vnni int8 GEMM: the shared driver (kernel.hpp) instantiated with the Avx512Vnni traits.
// sources.cmake compiles this file with the ISA's -m flags; nothing else may include it.
#define LEPTON_KERNEL_NS avx512_vnni
#include "cpu/gemm/simd_avx512.hpp"
#include "cpu/gemm/kernel.hpp"

namespace lepton::gemm {

const KernelOps& kernel_ops_avx512_vnni() {
  static const KernelOps ops = LEPTON_KERNEL_NS::Kernel<LEPTON_KERNEL_NS::Avx512Vnni>::ops();
  return ops;
}

}  // namespace lepton::gemm
