#include "cpu/preprocess/kernels.hpp"

namespace lepton::prep {

// avx_vnni adds nothing the preprocessing loops use, so it shares the AVX2 kernels.
const KernelTable& kernel_table(Isa isa) {
#if defined(LEPTON_X86)
  switch (isa) {
    case Isa::avx512_vnni: return kernels_avx512();
    case Isa::avx_vnni:
    case Isa::avx2: return kernels_avx2();
    case Isa::scalar: return kernels_baseline();
  }
#else
  (void)isa;
#endif
  return kernels_baseline();
}

}  // namespace lepton::prep
