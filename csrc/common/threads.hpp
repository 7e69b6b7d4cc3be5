// One thread count for every CPU kernel (OpenMP underneath when the build has it).
#pragma once

namespace lepton {

int num_threads();            // threads the next kernel call will use
void set_num_threads(int n);  // n >= 1; throws std::invalid_argument otherwise
bool have_openmp();

}  // namespace lepton
