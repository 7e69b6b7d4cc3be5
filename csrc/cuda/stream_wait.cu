#include "cuda/stream_wait.hpp"

#include "cuda/check.cuh"
#include "cuda/device_guard.hpp"

namespace lepton::cuda {

void stream_wait(int device, std::uintptr_t waiter, std::uintptr_t producer) {
  DeviceGuard guard(device);
  cudaEvent_t event = nullptr;
  LEPTON_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  const cudaError_t recorded = cudaEventRecord(event, reinterpret_cast<cudaStream_t>(producer));
  const cudaError_t waited =
      recorded == cudaSuccess
          ? cudaStreamWaitEvent(reinterpret_cast<cudaStream_t>(waiter), event, 0)
          : recorded;
  cudaEventDestroy(event);  // safe while pending: released once the wait is satisfied
  check(recorded, "cudaEventRecord(producer stream)");
  check(waited, "cudaStreamWaitEvent(launch stream)");
}

}  // namespace lepton::cuda
