// Device pieces shared by the statistics and apply kernels: vector loads, widening, and the
// float64 moments with Chan et al.'s merge.
#pragma once
#include <cuda_fp16.h>

#include <cfloat>
#include <cstdint>
#include <type_traits>

#include "cuda/preprocess/config.hpp"

namespace lepton::cuda::prep {

// V elements loaded or stored as one access (16 bytes for the input when aligned).
template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

// The precision an input element is compared in: float16 widens to float exactly.
template <class T>
using Wide = std::conditional_t<std::is_same_v<T, double>, double, float>;

__device__ __forceinline__ float widen(__half h) { return __half2float(h); }
__device__ __forceinline__ float widen(float f) { return f; }
__device__ __forceinline__ double widen(double d) { return d; }

template <class T>
__device__ __forceinline__ T quiet_nan() {
  if constexpr (std::is_same_v<T, __half>) {
    return __ushort_as_half(0x7e00);
  } else if constexpr (std::is_same_v<T, float>) {
    return __int_as_float(0x7fc00000);
  } else {
    return __longlong_as_double(0x7ff8000000000000LL);
  }
}

__device__ __forceinline__ bool is_finite(float v) { return fabsf(v) <= FLT_MAX; }
__device__ __forceinline__ bool is_finite(double v) { return fabs(v) <= DBL_MAX; }

template <class T, int V>
__device__ __forceinline__ Vec<T, V> load_vec(const T* p) {
  return *reinterpret_cast<const Vec<T, V>*>(p);
}

// Loads V consecutive elements starting at index `first` of a run ending at `end`; elements at
// or past `end` read as NaN (ignored by the statistics, never stored by the apply pass).
template <class T, int V>
__device__ __forceinline__ Vec<T, V> load_partial(const T* p, std::int64_t first, std::int64_t end) {
  if (first + V <= end) return load_vec<T, V>(p);
  Vec<T, V> r;
#pragma unroll
  for (int k = 0; k < V; ++k) r.v[k] = first + k < end ? p[k] : quiet_nan<T>();
  return r;
}

// Count, mean, M2, min and max of a set of finite values, in float64. The empty set is
// (0, 0, 0, +inf, -inf): the identity of merge().
struct Moments {
  double n, mean, m2, lo, hi;
};

__device__ __forceinline__ Moments empty_moments() {
  return {0.0, 0.0, 0.0, __longlong_as_double(0x7ff0000000000000LL),
          __longlong_as_double(static_cast<long long>(0xfff0000000000000ULL))};
}

// Chan et al.: a becomes the moments of the union of a's and b's values (as the CPU's
// merge_into, so both paths group the same arithmetic the same way).
__device__ __forceinline__ void merge(Moments& a, const Moments& b) {
  if (b.n > 0) {
    const double n = a.n + b.n;
    const double frac = b.n / n;
    const double delta = b.mean - a.mean;
    a.mean += delta * frac;
    a.m2 += b.m2 + delta * delta * a.n * frac;
    a.n = n;
  }
  a.lo = fmin(a.lo, b.lo);
  a.hi = fmax(a.hi, b.hi);
}

}  // namespace lepton::cuda::prep
