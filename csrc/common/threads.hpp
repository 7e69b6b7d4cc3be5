// One thread count for every CPU kernel (OpenMP underneath when the build has it).
#pragma once

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace lepton {

// Index of the calling thread inside an OpenMP parallel region (0 without OpenMP). static:
// every per-ISA translation unit keeps its own copy, so the linker never hands one ISA's build
// of it to another.
static inline int thread_index() {
#if defined(_OPENMP)
  return omp_get_thread_num();
#else
  return 0;
#endif
}

int num_threads();            // threads the next kernel call will use
void set_num_threads(int n);  // n >= 1; throws std::invalid_argument otherwise
bool have_openmp();

}  // namespace lepton
