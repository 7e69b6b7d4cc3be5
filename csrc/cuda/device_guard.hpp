// Makes `device` current for a scope and restores the caller's device after (launches and
// attribute calls act on the current device; the caller's library may have another one set).
#pragma once
#include <cuda_runtime.h>

#include "cuda/check.cuh"

namespace lepton::cuda {

class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    LEPTON_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != device) LEPTON_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }  // best effort: destructors must not throw
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

}  // namespace lepton::cuda
