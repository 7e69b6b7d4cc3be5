// Gram / moments kernels for the avx2 ISA level (compile flags set in sources.cmake).
#define LEPTON_GRAM_ISA avx2
#define LEPTON_VEC_BYTES 32
#define LEPTON_MR_F32 4
#define LEPTON_MR_F64 4
#include "cpu/pca/gram_body.hpp"

namespace lepton::pca {
const KernelTable<float>& kernels_avx2_f32() { return avx2::table<float>(); }
const KernelTable<double>& kernels_avx2_f64() { return avx2::table<double>(); }
}  // namespace lepton::pca
