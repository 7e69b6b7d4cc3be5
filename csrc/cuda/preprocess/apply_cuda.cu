// Pass 2 on the GPU: replace -> clip -> scale -> convert, one read and one write per element.
//
// Same decomposition as the statistics pass (config.hpp: Plan). A row-major thread owns `vec`
// columns for a whole work item, so it loads their coefficients once and then only streams data.
// The per-element arithmetic is the CPU kernel's (csrc/cpu/preprocess/apply_kernel.hpp), in the
// same precision with the coefficients rounded the same way, so both give identical outputs for
// identical coefficients: compute in double when the input or the output is double, else float;
// float16 widens to float exactly; ±Inf passes the `keep` test only when it is to be clipped.
#include <cuda_fp16.h>

#include <cfloat>

#include "cuda/check.cuh"
#include "cuda/device_guard.hpp"
#include "cuda/preprocess/dispatch.hpp"
#include "cuda/preprocess/kernel_common.cuh"
#include "cuda/preprocess/preprocess_cuda.hpp"

namespace lepton::cuda::prep {
namespace {

template <class T, class O>
using Compute =
    std::conditional_t<std::is_same_v<T, double> || std::is_same_v<O, double>, double, float>;

template <class C>
struct Coefs {
  C fill, lo, hi, center, mul;
};

// coefs: 5 × cols float64 (fill, lo, hi, center, mul), rounded to C like the CPU's tile.
template <class C>
__device__ __forceinline__ Coefs<C> load_coefs(const double* __restrict__ coefs, std::int64_t cols,
                                               std::int64_t col) {
  return {static_cast<C>(coefs[col]), static_cast<C>(coefs[cols + col]),
          static_cast<C>(coefs[2 * cols + col]), static_cast<C>(coefs[3 * cols + col]),
          static_cast<C>(coefs[4 * cols + col])};
}

// NaN passes through clip (a comparison with NaN is false), as in the CPU kernel.
template <class C>
__device__ __forceinline__ C transform(C v, const Coefs<C>& k, C lim) {
  const bool keep = v >= -lim && v <= lim;
  v = keep ? v : k.fill;
  v = v < k.lo ? k.lo : v;
  v = v > k.hi ? k.hi : v;
  // _rn: never contracted with anything around it. __fmul_rn is float-only (a double passed to
  // it is rounded to float first), so the double path needs __dmul_rn.
  if constexpr (std::is_same_v<C, double>) {
    return __dmul_rn(v - k.center, k.mul);
  } else {
    return __fmul_rn(v - k.center, k.mul);
  }
}

template <class O, class C>
__device__ __forceinline__ O convert(C v) {
  if constexpr (std::is_same_v<O, __half>) {
    return __float2half_rn(static_cast<float>(v));  // double -> float -> half, like the CPU
  } else if constexpr (std::is_same_v<O, std::int8_t>) {
    v = v < C(-127) ? C(-127) : v;  // saturate, then round half to even (NaN stays NaN -> 0)
    v = v > C(127) ? C(127) : v;
    return static_cast<std::int8_t>(static_cast<int>(rint(v)));
  } else {
    return static_cast<O>(v);
  }
}

template <class O>
__device__ __forceinline__ std::uint32_t bits_of(O v) {
  if constexpr (std::is_same_v<O, __half>) {
    return __half_as_ushort(v);
  } else {
    return static_cast<std::uint8_t>(v);
  }
}

// Stores V outputs as one access. Sub-word outputs (int8, float16) are packed into 32-bit words
// with shifts first: assigned byte by byte, the compiler assembles the vector in local memory.
template <class O, int V>
__device__ __forceinline__ void store_vec(O* p, const O (&o)[V]) {
  constexpr int kBytes = static_cast<int>(sizeof(O)) * V;
  if constexpr (sizeof(O) >= 4 || kBytes < 4) {
    Vec<O, V> r;
#pragma unroll
    for (int e = 0; e < V; ++e) r.v[e] = o[e];
    *reinterpret_cast<Vec<O, V>*>(p) = r;
  } else {
    constexpr int kPerWord = 4 / static_cast<int>(sizeof(O));
    Vec<std::uint32_t, kBytes / 4> w;
#pragma unroll
    for (int i = 0; i < kBytes / 4; ++i) {
      std::uint32_t word = 0;
#pragma unroll
      for (int e = 0; e < kPerWord; ++e)
        word |= bits_of(o[i * kPerWord + e]) << (8 * static_cast<int>(sizeof(O)) * e);
      w.v[i] = word;
    }
    *reinterpret_cast<Vec<std::uint32_t, kBytes / 4>*>(p) = w;
  }
}

template <class T, class O, int V, int U, bool kRows>
__global__ void __launch_bounds__(kMaxThreads) apply_kernel(const T* __restrict__ x, std::int64_t ld_x, O* __restrict__ out,
                             std::int64_t ld_out, std::int64_t rows, std::int64_t cols, Plan p,
                             const double* __restrict__ coefs, bool replace_inf, bool backward) {
  using C = Compute<T, O>;
  const C lim = replace_inf ? (std::is_same_v<C, double> ? C(DBL_MAX) : C(FLT_MAX)) : C(INFINITY);
  const int tid = threadIdx.x;
  const int cv = static_cast<int>(tid % p.tile_vecs);
  const int g = static_cast<int>(tid / p.tile_vecs);
  for (std::int64_t step_item = blockIdx.x; step_item < p.items; step_item += gridDim.x) {
    const std::int64_t item = backward ? p.items - 1 - step_item : step_item;
    const std::int64_t chunk = item / p.tiles, tile = item % p.tiles;
    const std::int64_t r0 = chunk * p.rows_per_chunk;
    const std::int64_t r1 = min(rows, r0 + p.rows_per_chunk);
    if constexpr (kRows) {
      const std::int64_t col0 = (tile * p.tile_vecs + cv) * V;
      if (g >= p.groups || col0 >= cols) continue;
      Coefs<C> k[V];
#pragma unroll
      for (int e = 0; e < V; ++e) k[e] = load_coefs<C>(coefs, cols, col0 + e);
      const std::int64_t step = std::int64_t{p.groups} * U;
#pragma unroll 1  // the U loads in flight are the unrolling; more only costs registers
      for (std::int64_t r = r0 + g; r < r1; r += step) {
        Vec<T, V> v[U];
#pragma unroll
        for (int u = 0; u < U; ++u) {
          const std::int64_t ru = r + std::int64_t{u} * p.groups;
          if (ru < r1) v[u] = load_vec<T, V>(x + ru * ld_x + col0);
        }
#pragma unroll
        for (int u = 0; u < U; ++u) {
          const std::int64_t ru = r + std::int64_t{u} * p.groups;
          if (ru < r1) {
            O o[V];
#pragma unroll
            for (int e = 0; e < V; ++e)
              o[e] = convert<O>(transform<C>(static_cast<C>(widen(v[u].v[e])), k[e], lim));
            store_vec<O, V>(out + ru * ld_out + col0, o);
          }
        }
      }
    } else {
      const std::int64_t col = tile;
      const Coefs<C> k = load_coefs<C>(coefs, cols, col);
      const T* src = x + col * ld_x;
      O* dst = out + col * ld_out;
      const std::int64_t step = std::int64_t{p.threads} * V * U;
#pragma unroll 1
      for (std::int64_t q = r0 + std::int64_t{tid} * V; q < r1; q += step) {
        Vec<T, V> v[U];
#pragma unroll
        for (int u = 0; u < U; ++u) {
          const std::int64_t s = q + std::int64_t{u} * p.threads * V;
          if (s < r1) v[u] = load_partial<T, V>(src + s, s, r1);
        }
#pragma unroll
        for (int u = 0; u < U; ++u) {
          const std::int64_t s = q + std::int64_t{u} * p.threads * V;
          if (s >= r1) continue;
          O o[V];
#pragma unroll
          for (int e = 0; e < V; ++e)
            o[e] = convert<O>(transform<C>(static_cast<C>(widen(v[u].v[e])), k, lim));
          if (s + V <= r1) {
            store_vec<O, V>(dst + s, o);
          } else {
#pragma unroll
            for (int e = 0; e < V; ++e)
              if (s + e < r1) dst[s + e] = o[e];
          }
        }
      }
    }
  }
}

template <class F>
void with_output(int dtype, F&& f) {
  switch (dtype) {
    case kOutFloat32: return f(TypeTag<float>{});
    case kOutFloat64: return f(TypeTag<double>{});
    case kOutFloat16: return f(TypeTag<__half>{});
    case kOutInt8: return f(TypeTag<std::int8_t>{});
    default: fail_arg("out: unknown output dtype code ", dtype);
  }
}

}  // namespace

int apply_vector_width(const Matrix& x, const Matrix& out) { return vector_width(x, &out); }

Plan apply_plan(const Matrix& x, const Matrix& out, int config, int device) {
  check_matrix(x, "x");
  check_matrix(out, "out");
  LEPTON_CHECK_ARG(out.rows == x.rows && out.cols == x.cols && out.layout == x.layout,
                   "out: expected the shape and memory order of x");
  return make_plan(config_by_id(config), x.rows, x.cols, in_itemsize(x.dtype), x.layout,
                   apply_vector_width(x, out), sm_count(device));
}

void apply(const Matrix& x, const Matrix& out, std::uintptr_t coefs, bool replace_inf, int config,
           int device, std::uintptr_t stream) {
  DeviceGuard guard(device);
  const Plan p = apply_plan(x, out, config, device);
  LEPTON_CHECK_ARG(coefs != 0, "coefs: null device pointer");
  const bool backward = config_by_id(config).apply_backward;
  auto s = reinterpret_cast<cudaStream_t>(stream);
  const auto* k = reinterpret_cast<const double*>(coefs);
  with_output(out.dtype, [&](auto o) {
    using O = typename decltype(o)::type;
    with_kernel_shape(x, p, [&](auto in, auto rows_major, auto vec, auto unroll) {
      using T = typename decltype(in)::type;
      constexpr bool kRows = decltype(rows_major)::value;
      constexpr int V = decltype(vec)::value, U = decltype(unroll)::value;
      apply_kernel<T, O, V, U, kRows><<<p.grid, p.threads, 0, s>>>(
          reinterpret_cast<const T*>(x.ptr), x.ld, reinterpret_cast<O*>(out.ptr), out.ld, x.rows,
          x.cols, p, k, replace_inf, backward);
      LEPTON_CUDA_CHECK_LAUNCH("preprocess apply_kernel");
    });
  });
}

}  // namespace lepton::cuda::prep
