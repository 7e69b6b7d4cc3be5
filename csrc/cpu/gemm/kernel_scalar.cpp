// The scalar int8 GEMM: the shared driver (kernel.hpp) instantiated with the Scalar traits.
// sources.cmake compiles this file with the ISA's -m flags; nothing else may include it.
#define LEPTON_KERNEL_NS scalar
#include "cpu/gemm/simd_scalar.hpp"
#include "cpu/gemm/kernel.hpp"

namespace lepton::gemm {

const KernelOps& kernel_ops_scalar() {
  static const KernelOps ops = LEPTON_KERNEL_NS::Kernel<LEPTON_KERNEL_NS::Scalar>::ops();
  return ops;
}

}  // namespace lepton::gemm
