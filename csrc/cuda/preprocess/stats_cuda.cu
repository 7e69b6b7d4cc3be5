// Pass 1 on the GPU: per-column count, mean, M2, min and max of the finite values in one read.
//
// Each work item (config.hpp: Plan) is summed by one block into one slot of partial moments per
// column; a second kernel merges each column's slots in a fixed order. No atomics, no
// dependence on which block ran which item: the same input and config give bit-identical
// statistics on every run.
//
// Per thread and column, values are summed as shifted sums c, s1 = Σ(v−K), s2 = Σ(v−K)² in
// float64 (or, config accumulate=f32x2, as float32 pairs: AccF32x2) with K the thread's running
// mean (its first finite value before any fold), and folded into (n, mean, M2) every kFoldSteps
// steps with Chan's merge. No division per element; the cancellation in s2 − s1²/c is bounded
// by the values since the last fold (NOTES.md).
#include "cuda/preprocess/preprocess_cuda.hpp"

#include <type_traits>

#include "common/errors.hpp"
#include "cuda/check.cuh"
#include "cuda/device_guard.hpp"
#include "cuda/preprocess/dispatch.hpp"
#include "cuda/preprocess/kernel_common.cuh"

namespace lepton::cuda::prep {
namespace {

constexpr int kFoldSteps = 8;
constexpr int kF32x2Unroll = 4;  // the one unroll the f32x2 accumulator is compiled for
constexpr int kMergeWarps = 8;  // columns per block of the slot-merge kernel

// One thread's running moments of one column.
template <class W>
struct Acc {
  double n, mean, m2;  // folded
  double s1, s2;       // since the last fold, shifted by mean
  int c;
  W lo, hi;

  __device__ __forceinline__ void init() {
    n = mean = m2 = s1 = s2 = 0.0;
    c = 0;
    lo = W(INFINITY);
    hi = W(-INFINITY);
  }
  __device__ __forceinline__ void add(W w) {
    const bool f = is_finite(w);
    const double dw = static_cast<double>(w);
    if (f && c == 0 && n == 0.0) mean = dw;  // the shift of the first block: a data value
    const double d = f ? dw - mean : 0.0;
    c += f ? 1 : 0;
    s1 += d;
    s2 = fma(d, d, s2);
    lo = f && w < lo ? w : lo;
    hi = f && w > hi ? w : hi;
  }
  __device__ __forceinline__ void fold() {
    if (c > 0) {
      const double cb = static_cast<double>(c);
      const double offset = s1 / cb;  // block mean − mean
      const double m2b = fmax(s2 - s1 * offset, 0.0);
      const double total = n + cb;
      const double frac = cb / total;
      m2 += m2b + offset * offset * n * frac;
      mean += offset * frac;
      n = total;
    }
    c = 0;
    s1 = s2 = 0.0;
  }
  __device__ __forceinline__ Moments moments() const {
    return {n, mean, m2, static_cast<double>(lo), static_cast<double>(hi)};
  }
};

// Error-free sum in float32: s + e == a + b exactly (Knuth's TwoSum; the _rn intrinsics keep
// the compiler from reassociating or contracting it).
__device__ __forceinline__ void two_sum(float a, float b, float& s, float& e) {
  s = __fadd_rn(a, b);
  const float bb = __fsub_rn(s, a);
  e = __fadd_rn(__fsub_rn(a, __fsub_rn(s, bb)), __fsub_rn(b, bb));
}

// The f32x2 accumulator (config accumulate=f32x2; float16/float32 input): Acc's shifted sums,
// but kept between folds as unevaluated float32 pairs (s1h + s1l, s2h + s2l) built from
// error-free operations, so no FP64 instruction runs per value:
//   d + de = w − k exactly (TwoSum; k = fl32(running mean), the first value before any fold),
//   s1 += d + de;  s2 += d² + 2·d·de (d² = p + pe exactly by FMA; de² ≤ 2⁻⁴⁸·d² is dropped).
// Each pair add is TwoSum on the high part with the errors summed in the low part, so a fold
// block of m values (≤ kFoldSteps·U·V = 256) carries an absolute error ≤ (m + 4)·2⁻⁴⁸ of its
// Σ|d| (s1) and Σd² (s2): ≤ 1e-12 relative, ~30× the float64 path's block round-off (m·2⁻⁵³),
// far inside the CPU agreement the docs promise. The fold is Acc's float64 Chan merge. A value
// whose |w − k| falls outside [2⁻⁵¹, 2⁵⁶) (its square would underflow, or block sums overflow,
// float32) is merged at once into the float64 moments (Welford's update): exact handling of
// every finite input, the fast path for the magnitudes data has. Nothing on the fast path
// touches a double: the first finite value only sets k (the fold starts the mean at k + offset,
// n being 0).
struct AccF32x2 {
  double n, mean, m2;  // folded (and the rare out-of-range values)
  float k;             // the block's shift
  float s1h, s1l, s2h, s2l;
  int c;
  bool seen;  // a finite value has been seen (k is set)
  float lo, hi;

  __device__ __forceinline__ void init() {
    n = mean = m2 = 0.0;
    k = s1h = s1l = s2h = s2l = 0.0f;
    c = 0;
    seen = false;
    lo = INFINITY;
    hi = -INFINITY;
  }
  __device__ __forceinline__ void add_wide(float w) {  // rare: one value into the float64 moments
    const double x = static_cast<double>(w);
    const double total = n + 1.0;
    const double delta = x - mean;
    mean += delta / total;
    m2 = fma(delta, x - mean, m2);
    n = total;
  }
  __device__ __forceinline__ void add(float w) {
    const bool f = is_finite(w);
    if (f && !seen) {
      seen = true;
      k = w;
    }
    const float ad = fabsf(__fsub_rn(w, k));
    if (f && ad < 0x1p56f && (ad >= 0x1p-51f || ad == 0.0f)) {
      float d, de, t, e;
      two_sum(w, -k, d, de);
      two_sum(s1h, d, t, e);
      s1h = t;
      s1l = __fadd_rn(s1l, __fadd_rn(e, de));
      const float p = __fmul_rn(d, d);
      const float pe = __fmaf_rn(d, d, -p);                      // d² − p, exact
      const float cross = __fmaf_rn(__fmul_rn(2.0f, d), de, pe);  // 2·d·de + pe
      two_sum(s2h, p, t, e);
      s2h = t;
      s2l = __fadd_rn(s2l, __fadd_rn(e, cross));
      c += 1;
    } else if (f) {
      add_wide(w);
    }
    lo = f && w < lo ? w : lo;
    hi = f && w > hi ? w : hi;
  }
  __device__ __forceinline__ void fold() {
    if (c > 0) {
      const double cb = static_cast<double>(c);
      const double s1 = static_cast<double>(s1h) + static_cast<double>(s1l);
      const double s2 = static_cast<double>(s2h) + static_cast<double>(s2l);
      const double offset = s1 / cb;  // block mean − k
      const double m2b = fmax(s2 - s1 * offset, 0.0);
      const double delta = (static_cast<double>(k) - mean) + offset;  // block mean − mean
      const double total = n + cb;
      const double frac = cb / total;
      m2 += m2b + delta * delta * n * frac;
      mean += delta * frac;
      n = total;
    }
    if (n > 0.0) k = static_cast<float>(mean);  // else no finite value yet: add() sets k
    c = 0;
    s1h = s1l = s2h = s2l = 0.0f;
  }
  __device__ __forceinline__ Moments moments() const {
    return {n, mean, m2, static_cast<double>(lo), static_cast<double>(hi)};
  }
};

// Merges the block's row groups of each column in shared memory with a fixed tree, then the
// first group writes slot[col]. `red` holds one Moments per thread.
__device__ __forceinline__ void block_reduce(Moments* red, const Moments& mine, int groups,
                                             int tile_vecs, bool write, Moments* slot) {
  const int tid = threadIdx.x;
  const int g = tid / tile_vecs;
  red[tid] = mine;
  __syncthreads();
  int top = 1;
  while (top < groups) top *= 2;
  for (int s = top / 2; s > 0; s /= 2) {
    if (g < s && g + s < groups) merge(red[tid], red[tid + s * tile_vecs]);
    __syncthreads();
  }
  if (g == 0 && write) *slot = red[tid];
  __syncthreads();  // red is reused
}

template <class T, int V, int U, bool kRows, class A>
__global__ void __launch_bounds__(kMaxThreads) stats_kernel(const T* __restrict__ x, std::int64_t ld, std::int64_t rows,
                             std::int64_t cols, Plan p, Moments* __restrict__ slots) {
  constexpr int kAcc = kRows ? V : 1;  // columns per thread
  extern __shared__ Moments red[];
  const int tid = threadIdx.x;
  const int cv = static_cast<int>(tid % p.tile_vecs);
  const int g = static_cast<int>(tid / p.tile_vecs);
  for (std::int64_t item = blockIdx.x; item < p.items; item += gridDim.x) {
    const std::int64_t chunk = item / p.tiles, tile = item % p.tiles;
    const std::int64_t r0 = chunk * p.rows_per_chunk;
    const std::int64_t r1 = min(rows, r0 + p.rows_per_chunk);
    A acc[kAcc];
#pragma unroll
    for (int a = 0; a < kAcc; ++a) acc[a].init();
    std::int64_t col0;  // first column of this thread
    bool active;
    if constexpr (kRows) {
      col0 = (tile * p.tile_vecs + cv) * V;
      active = g < p.groups && cv < p.tile_vecs && col0 < cols;
      if (active) {
        const std::int64_t step = std::int64_t{p.groups} * U;
        int steps = 0;
        for (std::int64_t r = r0 + g; r < r1; r += step) {
          Vec<T, V> v[U];
#pragma unroll
          for (int u = 0; u < U; ++u) {
            const std::int64_t ru = r + std::int64_t{u} * p.groups;
            if (ru < r1) {
              v[u] = load_vec<T, V>(x + ru * ld + col0);
            } else {
#pragma unroll
              for (int k = 0; k < V; ++k) v[u].v[k] = quiet_nan<T>();
            }
          }
#pragma unroll
          for (int u = 0; u < U; ++u)
#pragma unroll
            for (int k = 0; k < V; ++k) acc[k].add(widen(v[u].v[k]));
          if (++steps == kFoldSteps) {
            steps = 0;
#pragma unroll
            for (int a = 0; a < kAcc; ++a) acc[a].fold();
          }
        }
      }
    } else {
      col0 = tile;
      active = true;
      const T* base = x + col0 * ld;
      const std::int64_t step = std::int64_t{p.threads} * V * U;
      int steps = 0;
      for (std::int64_t q = r0 + std::int64_t{tid} * V; q < r1; q += step) {
        Vec<T, V> v[U];
#pragma unroll
        for (int u = 0; u < U; ++u) {
          const std::int64_t s = q + std::int64_t{u} * p.threads * V;
          if (s < r1) {
            v[u] = load_partial<T, V>(base + s, s, r1);
          } else {
#pragma unroll
            for (int k = 0; k < V; ++k) v[u].v[k] = quiet_nan<T>();
          }
        }
#pragma unroll
        for (int u = 0; u < U; ++u)
#pragma unroll
          for (int k = 0; k < V; ++k) acc[0].add(widen(v[u].v[k]));
        if (++steps == kFoldSteps) {
          steps = 0;
          acc[0].fold();
        }
      }
    }
#pragma unroll
    for (int a = 0; a < kAcc; ++a) {
      acc[a].fold();
      const Moments m = active ? acc[a].moments() : empty_moments();
      block_reduce(red, m, p.groups, static_cast<int>(p.tile_vecs), active,
                   slots + chunk * cols + col0 + a);
    }
  }
}

// One warp per column: lane l merges slots l, l+32, … in order, then a fixed shuffle tree.
__global__ void merge_slots_kernel(const Moments* __restrict__ slots, std::int64_t chunks,
                                   std::int64_t cols, double* __restrict__ result) {
  const std::int64_t col = std::int64_t{blockIdx.x} * kMergeWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (col >= cols) return;  // whole warps only: col depends on the warp
  Moments m = empty_moments();
  for (std::int64_t k = lane; k < chunks; k += 32) merge(m, slots[k * cols + col]);
  for (int off = 16; off > 0; off /= 2) {
    Moments o;
    o.n = __shfl_down_sync(0xffffffffu, m.n, off);
    o.mean = __shfl_down_sync(0xffffffffu, m.mean, off);
    o.m2 = __shfl_down_sync(0xffffffffu, m.m2, off);
    o.lo = __shfl_down_sync(0xffffffffu, m.lo, off);
    o.hi = __shfl_down_sync(0xffffffffu, m.hi, off);
    if (lane + off < 32) merge(m, o);
  }
  if (lane == 0) {
    result[col] = m.n;
    result[cols + col] = m.mean;
    result[2 * cols + col] = m.m2;
    result[3 * cols + col] = m.lo;
    result[4 * cols + col] = m.hi;
  }
}

template <class T, int V, int U, bool kRows>
void launch_stats(const Matrix& x, const Plan& p, int accumulate, Moments* slots,
                  cudaStream_t stream) {
  const std::size_t smem = sizeof(Moments) * static_cast<std::size_t>(p.threads);
  const auto* xp = reinterpret_cast<const T*>(x.ptr);
  // float64 input: float64 sums under every config. f32x2 is compiled for unroll 4 only (the
  // unroll-8 row-major float32 kernel needs more than the 128 registers a 512-thread block
  // allows: ptxas spilled 60 bytes); the table's f32x2 entries all use unroll 4 (tested).
  if constexpr (!std::is_same_v<T, double>) {
    if (accumulate == kAccumF32x2) {
      if constexpr (U == kF32x2Unroll) {
        stats_kernel<T, V, U, kRows, AccF32x2><<<p.grid, p.threads, smem, stream>>>(
            xp, x.ld, x.rows, x.cols, p, slots);
        LEPTON_CUDA_CHECK_LAUNCH("preprocess stats_kernel (f32x2)");
        return;
      } else {
        fail_arg("config: f32x2 accumulation is compiled for unroll ", kF32x2Unroll, " only");
      }
    }
  }
  stats_kernel<T, V, U, kRows, Acc<Wide<T>>><<<p.grid, p.threads, smem, stream>>>(
      xp, x.ld, x.rows, x.cols, p, slots);
  LEPTON_CUDA_CHECK_LAUNCH("preprocess stats_kernel");
}

}  // namespace

int stats_vector_width(const Matrix& x) { return vector_width(x, nullptr); }

Plan stats_plan(const Matrix& x, int config, int device) {
  check_matrix(x, "x");
  return make_plan(config_by_id(config), x.rows, x.cols, in_itemsize(x.dtype), x.layout,
                   stats_vector_width(x), sm_count(device));
}

std::int64_t stats_workspace_slots(const Matrix& x, int config, int device) {
  return stats_plan(x, config, device).chunks * x.cols;
}

void column_stats(const Matrix& x, std::uintptr_t workspace, std::int64_t workspace_slots,
                  std::uintptr_t result, int config, int device, std::uintptr_t stream) {
  DeviceGuard guard(device);
  const Plan p = stats_plan(x, config, device);
  LEPTON_CHECK_ARG(workspace_slots >= p.chunks * x.cols, "workspace: expected at least ",
                   p.chunks * x.cols, " slots, got ", workspace_slots);
  LEPTON_CHECK_ARG(workspace != 0 && result != 0, "workspace/result: null device pointer");
  auto* slots = reinterpret_cast<Moments*>(workspace);
  auto s = reinterpret_cast<cudaStream_t>(stream);
  with_kernel_shape(x, p, [&](auto in, auto rows_major, auto vec, auto unroll) {
    using T = typename decltype(in)::type;
    launch_stats<T, decltype(vec)::value, decltype(unroll)::value, decltype(rows_major)::value>(
        x, p, config_by_id(config).accumulate, slots, s);
  });
  const auto blocks = static_cast<unsigned>((x.cols + kMergeWarps - 1) / kMergeWarps);
  merge_slots_kernel<<<blocks, kMergeWarps * 32, 0, s>>>(slots, p.chunks, x.cols,
                                                        reinterpret_cast<double*>(result));
  LEPTON_CUDA_CHECK_LAUNCH("preprocess merge_slots_kernel");
}

}  // namespace lepton::cuda::prep
