// Gram / moments kernels for the scalar ISA level (compile flags set in sources.cmake).
#define LEPTON_GRAM_ISA scalar
#define LEPTON_VEC_BYTES 16
#define LEPTON_MR_F32 4
#define LEPTON_MR_F64 4
#include "cpu/pca/gram_body.hpp"

namespace lepton::pca {
const KernelTable<float>& kernels_scalar_f32() { return scalar::table<float>(); }
const KernelTable<double>& kernels_scalar_f64() { return scalar::table<double>(); }
}  // namespace lepton::pca
