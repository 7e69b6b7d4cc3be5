// The preprocessing inner loops, written once with GCC/Clang vector extensions.
//
// kernels_<isa>.cpp defines LEPTON_PREP_VECTOR_BYTES (16, 32 or 64) and LEPTON_PREP_TABLE, then
// includes this file; the TU's -m flags decide which instructions the vector types become.
// Everything here has internal linkage so the per-ISA copies never meet at link time (an inline
// function compiled with AVX-512 flags must not be picked for the baseline TU).
//
// The loops live in simd.hpp (vector helpers), stats_kernel.hpp and apply_kernel.hpp; this file
// gathers them and defines the TU's kernel table.
#include "cpu/preprocess/apply_kernel.hpp"
#include "cpu/preprocess/kernels.hpp"
#include "cpu/preprocess/stats_kernel.hpp"

#if !defined(LEPTON_PREP_VECTOR_BYTES) || !defined(LEPTON_PREP_TABLE)
#error "define LEPTON_PREP_VECTOR_BYTES and LEPTON_PREP_TABLE before including kernels_impl.hpp"
#endif

namespace lepton::prep {

const KernelTable& LEPTON_PREP_TABLE() {
  static const KernelTable table = {
      LEPTON_PREP_ISA_NAME,
      kVectorBytes,
      &accumulate<float>,
      &accumulate<double>,
      {apply_fn<float>(OutKind::f32), apply_fn<float>(OutKind::f64), apply_fn<float>(OutKind::f16),
       apply_fn<float>(OutKind::i8)},
      {apply_fn<double>(OutKind::f32), apply_fn<double>(OutKind::f64),
       apply_fn<double>(OutKind::f16), apply_fn<double>(OutKind::i8)},
  };
  return table;
}

}  // namespace lepton::prep
