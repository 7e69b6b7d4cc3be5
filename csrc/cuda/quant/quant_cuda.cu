// Row quantization and dequantization kernels; the numbers match the CPU's quant_rows.hpp.
#include "cuda/quant/quant_cuda.hpp"

#include <cuda_fp16.h>

#include <cfloat>

#include "common/errors.hpp"
#include "cuda/check.cuh"
#include "cuda/device_guard.hpp"

namespace lepton::cuda::quant {
namespace {

constexpr int kThreads = 256;

// The value type a row is computed in, and the bit patterns of its magnitudes.
template <class In>
struct Work {
  using X = float;
  using U = unsigned;
  static constexpr U kAbs = 0x7fffffffu, kInf = 0x7f800000u;
  __device__ static X load(const In* p) { return static_cast<float>(*p); }
  __device__ static U abs_bits(X v) { return __float_as_uint(v) & kAbs; }
  __device__ static X from_bits(U u) { return __uint_as_float(u); }
};
template <>
struct Work<__half> : Work<float> {
  __device__ static X load(const __half* p) { return __half2float(*p); }  // exact
};
template <>
struct Work<double> {
  using X = double;
  using U = unsigned long long;
  static constexpr U kAbs = 0x7fffffffffffffffull, kInf = 0x7ff0000000000000ull;
  __device__ static X load(const double* p) { return *p; }
  __device__ static U abs_bits(X v) { return __double_as_longlong(v) & kAbs; }
  __device__ static X from_bits(U u) { return __longlong_as_double(static_cast<long long>(u)); }
};

// Block-wide max of magnitude bits: for finite values the bits order like the magnitudes, and
// every NaN/Inf is ≥ the Inf pattern, so one max finds the absmax and any non-finite value.
template <class U>
__device__ U block_max(U v, U* shared) {
  for (int off = 16; off > 0; off /= 2) {
    const U other = __shfl_xor_sync(0xffffffffu, v, off);
    v = other > v ? other : v;
  }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  U top = 0;
  for (int w = 0; w < kThreads / 32; ++w) top = shared[w] > top ? shared[w] : top;
  __syncthreads();  // shared is reused by the next row
  return top;
}

template <class In>
__global__ void __launch_bounds__(kThreads)
    quantize_rows_kernel(const In* x, long long ld_x, int rows, int cols, std::int8_t* q,
                         long long ld_q, float* scale, int* bad_row_flag) {
  using W = Work<In>;
  using X = typename W::X;
  __shared__ typename W::U shared[kThreads / 32];
  for (int r = blockIdx.x; r < rows; r += gridDim.x) {
    const In* row = x + static_cast<long long>(r) * ld_x;
    typename W::U bits = 0;
    for (int c = threadIdx.x; c < cols; c += kThreads) {
      const typename W::U b = W::abs_bits(W::load(row + c));
      bits = b > bits ? b : bits;
    }
    const typename W::U top = block_max(bits, shared);
    bool ok = top < W::kInf;
    float s = 1.0f;
    if (ok && top != 0) {
      s = static_cast<float>(W::from_bits(top) / X(127));
      ok = s <= FLT_MAX;
      s = s < FLT_MIN ? FLT_MIN : s;
    }
    std::int8_t* q_row = q + static_cast<long long>(r) * ld_q;
    const X sx = static_cast<X>(s);
    for (long long c = threadIdx.x; c < ld_q; c += kThreads) {
      int v = 0;
      if (ok && c < cols) {
        X t = rint(W::load(row + c) / sx);  // round half to even, division in X's precision
        t = t < X(-127) ? X(-127) : (t > X(127) ? X(127) : t);
        v = static_cast<int>(t);
      }
      q_row[c] = static_cast<std::int8_t>(v);
    }
    if (threadIdx.x == 0) {
      scale[r] = ok ? s : __int_as_float(0x7fc00000);  // NaN marks the bad row
      if (!ok && bad_row_flag != nullptr) *bad_row_flag = 1;
    }
  }
}

__global__ void dequantize_rows_kernel(const std::int8_t* q, int rows, int cols,
                                       const float* scale, float* out) {
  const long long total = static_cast<long long>(rows) * cols;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total;
       i += stride)
    out[i] = static_cast<float>(q[i]) * scale[i / cols];
}

int grid_for(long long items, int device) {
  int sms = 0;
  LEPTON_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const long long cap = 16LL * sms;
  return static_cast<int>(items < cap ? (items > 0 ? items : 1) : cap);
}

template <class In>
void launch_quantize(std::uintptr_t x, long long ld_x, int rows, int cols, std::uintptr_t q,
                     long long ld_q, std::uintptr_t scale, std::uintptr_t flag, int grid,
                     cudaStream_t stream) {
  quantize_rows_kernel<In><<<grid, kThreads, 0, stream>>>(
      reinterpret_cast<const In*>(x), ld_x, rows, cols, reinterpret_cast<std::int8_t*>(q), ld_q,
      reinterpret_cast<float*>(scale), reinterpret_cast<int*>(flag));
  LEPTON_CUDA_CHECK_LAUNCH("quantize_rows_kernel");
}

}  // namespace

void quantize_rows(std::uintptr_t x, int in_dtype, long long ld_x, int rows, int cols,
                   std::uintptr_t q, long long ld_q, std::uintptr_t scale,
                   std::uintptr_t bad_row_flag, int device, std::uintptr_t stream) {
  LEPTON_CHECK_ARG(rows > 0 && cols > 0, "x: expected a non-empty array");
  LEPTON_CHECK_ARG(ld_x >= cols && ld_q >= cols, "x: row strides below the row length");
  DeviceGuard guard(device);
  const int grid = grid_for(rows, device);
  auto s = reinterpret_cast<cudaStream_t>(stream);
  switch (in_dtype) {
    case kInFloat16:
      return launch_quantize<__half>(x, ld_x, rows, cols, q, ld_q, scale, bad_row_flag, grid, s);
    case kInFloat32:
      return launch_quantize<float>(x, ld_x, rows, cols, q, ld_q, scale, bad_row_flag, grid, s);
    case kInFloat64:
      return launch_quantize<double>(x, ld_x, rows, cols, q, ld_q, scale, bad_row_flag, grid, s);
    default: fail_arg("x: unknown input dtype code ", in_dtype);
  }
}

void dequantize_rows(std::uintptr_t q, int rows, int cols, std::uintptr_t scale,
                     std::uintptr_t out, int device, std::uintptr_t stream) {
  LEPTON_CHECK_ARG(rows > 0 && cols > 0, "q: expected a non-empty array");
  DeviceGuard guard(device);
  const int grid = grid_for((static_cast<long long>(rows) * cols + 255) / 256, device);
  dequantize_rows_kernel<<<grid, 256, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const std::int8_t*>(q), rows, cols, reinterpret_cast<const float*>(scale),
      reinterpret_cast<float*>(out));
  LEPTON_CUDA_CHECK_LAUNCH("dequantize_rows_kernel");
}

}  // namespace lepton::cuda::quant
