// Toolchain proof: a tiny kernel compiled into the module that runs when a GPU is present.
// Plain C++ interface so the bindings need no CUDA headers.
#pragma once
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

}  // namespace lepton::cuda
