// The avx_vnni int8 GEMM: the shared driver (kernel.hpp) instantiated with the AvxVnni traits.
// sources.cmake compiles this file with the ISA's -m flags; nothing else may include it.
#define LEPTON_KERNEL_NS avx_vnni
#include "cpu/gemm/simd_ymm.hpp"
#include "cpu/gemm/kernel.hpp"

namespace lepton::gemm {

const KernelOps& kernel_ops_avx_vnni() {
  static const KernelOps ops = LEPTON_KERNEL_NS::Kernel<LEPTON_KERNEL_NS::AvxVnni>::ops();
  return ops;
}

}  // namespace lepton::gemm
