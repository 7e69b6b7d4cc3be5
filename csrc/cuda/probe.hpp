// Toolchain proof: a tiny kernel compiled into the module that runs when a GPU is present.
// Plain C++ interface so the bindings need no CUDA headers.
#pragma once
#include <cstdint>
#include <string>

namespace lepton::cuda {

struct DeviceInfo {
  int index;
  std::string name;
  int major;
  int minor;
  int sm_count;
  long long total_memory;
};

int device_count();  // 0 when there is no driver or no GPU (never throws)
DeviceInfo device_info(int index);
// Runs an axpy over n elements on `device` and checks it on the host; returns the max abs error.
// Throws std::runtime_error naming the failing CUDA call.
double run_probe(int device, int n);
std::string compiled_architectures();
// Device index of a device pointer (std::invalid_argument if it is not device memory).
int pointer_device(std::uintptr_t ptr);

}  // namespace lepton::cuda
