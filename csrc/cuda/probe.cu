#include <cmath>
#include <stdexcept>
#include <vector>

#include "cuda/check.cuh"
#include "cuda/probe.hpp"

namespace lepton::cuda {
namespace {

__global__ void axpy_kernel(int n, float alpha, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = alpha * x[i] + y[i];
}

// Owns probe buffers only; real kernels never allocate (callers' libraries own device memory).
struct DeviceBuffer {
  float* ptr = nullptr;
  explicit DeviceBuffer(size_t n) { LEPTON_CUDA_CHECK(cudaMalloc(&ptr, n * sizeof(float))); }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error so later calls start clean
    return 0;
  }
  return n;
}

DeviceInfo device_info(int index) {
  cudaDeviceProp p{};
  LEPTON_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
  return {index, p.name, p.major, p.minor, p.multiProcessorCount,
          static_cast<long long>(p.totalGlobalMem)};
}

double run_probe(int device, int n) {
  LEPTON_CUDA_CHECK(cudaSetDevice(device));
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) {
    x[i] = static_cast<float>(i % 97);
    y[i] = static_cast<float>(i % 13);
  }
  DeviceBuffer dx(n), dy(n);
  LEPTON_CUDA_CHECK(cudaMemcpy(dx.ptr, x.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  LEPTON_CUDA_CHECK(cudaMemcpy(dy.ptr, y.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  axpy_kernel<<<(n + 255) / 256, 256>>>(n, 2.0f, dx.ptr, dy.ptr);
  LEPTON_CUDA_CHECK_LAUNCH("axpy_kernel");
  LEPTON_CUDA_CHECK(cudaMemcpy(y.data(), dy.ptr, n * sizeof(float), cudaMemcpyDeviceToHost));
  double max_err = 0.0;
  for (int i = 0; i < n; ++i) {
    double want = 2.0 * (i % 97) + (i % 13);
    max_err = std::fmax(max_err, std::fabs(y[i] - want));
  }
  return max_err;
}

int pointer_device(std::uintptr_t ptr) {
  cudaPointerAttributes attr{};
  LEPTON_CUDA_CHECK(cudaPointerGetAttributes(&attr, reinterpret_cast<const void*>(ptr)));
  if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
    throw std::invalid_argument("pointer: not CUDA device memory");
  return attr.device;
}

std::string compiled_architectures() { return LEPTON_CUDA_ARCHS_STRING; }

}  // namespace lepton::cuda
