// Gram / moments kernels for the avx512 ISA level (compile flags set in sources.cmake).
#define LEPTON_GRAM_ISA avx512
#define LEPTON_VEC_BYTES 64
#define LEPTON_MR_F32 8
#define LEPTON_MR_F64 8
#include "cpu/pca/gram_body.hpp"

namespace lepton::pca {
const KernelTable<float>& kernels_avx512_f32() { return avx512::table<float>(); }
const KernelTable<double>& kernels_avx512_f64() { return avx512::table<double>(); }
}  // namespace lepton::pca
