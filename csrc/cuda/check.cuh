// Every CUDA call and launch is checked; the error names the call or kernel that failed.
#pragma once
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace lepton::cuda {

inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorName(err) +
                             " (" + cudaGetErrorString(err) + ")");
}

}  // namespace lepton::cuda

#define LEPTON_CUDA_CHECK(call) ::lepton::cuda::check((call), #call)
#define LEPTON_CUDA_CHECK_LAUNCH(kernel_name) \
  ::lepton::cuda::check(cudaGetLastError(), "launch of " kernel_name)
