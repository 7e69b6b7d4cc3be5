#include "common/threads.hpp"

#include <thread>

#include "common/errors.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace lepton {

int num_threads() {
#if defined(_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void set_num_threads(int n) {
  LEPTON_CHECK_ARG(n >= 1, "n: number of threads must be >= 1, got ", n);
#if defined(_OPENMP)
  omp_set_num_threads(n);
#endif
}

bool have_openmp() {
#if defined(_OPENMP)
  return true;
#else
  return false;
#endif
}

}  // namespace lepton
