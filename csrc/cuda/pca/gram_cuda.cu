// Centred Gram matrix on the GPU: column sums → mean/shift → fused centred tile products →
// deterministic float64 reduction. Index arithmetic and the 3×TF32 splits are modelled in
// tests/ops/_gram_cuda_model.py.
#include "cuda/pca/gram_cuda.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "common/errors.hpp"
#include "cuda/check.cuh"
#include "cuda/device_guard.hpp"

namespace lepton::cuda::pca {
namespace {

constexpr int kTile = 64;       // G tile edge (features)
constexpr int kStage = 16;      // rows of x per shared-memory stage
constexpr int kThreads = 256;   // 16 × 16 threads, 4 × 4 outputs each
constexpr int kPad = 4;         // keeps 16-byte alignment of each smem row; see NOTES.md
constexpr int kFlushStages = 8; // float32 input: products summed in float32 for 128 rows at most
constexpr int kMinChunkRows = 256;
constexpr int kCtasPerSm = 2;   // resident Gram CTAs per SM the plan counts on (launch bounds)
constexpr int kSumThreads = 256;
constexpr int kSumBlocksPerSm = 8;

// Products of float32 data are summed in float32 between flushes into float64; float64 data
// is summed in float64 throughout.
template <class T>
struct Acc;
template <>
struct Acc<float> {
  using Partial = float;
  static constexpr bool kFlush = true;
};
template <>
struct Acc<double> {
  using Partial = double;
  static constexpr bool kFlush = false;
};

// Upper-triangle tile t (row-major enumeration of blocks bi ≤ bj) → (bi, bj).
__device__ __forceinline__ void tile_coords(int t, int nb, int& bi, int& bj) {
  bi = 0;
  while (t >= nb - bi) {
    t -= nb - bi;
    ++bi;
  }
  bj = bi + t;
}

__host__ __device__ __forceinline__ long long tile_index(long long bi, long long bj, long long nb) {
  return bi * nb - bi * (bi - 1) / 2 + (bj - bi);
}

// Which (stage row k, tile column c) the q-th of a thread's four loads covers. Row-major x:
// consecutive threads take consecutive columns (coalesced rows); column-major x: consecutive
// threads take consecutive rows of one column.
template <bool kColMajor>
__device__ __forceinline__ void load_slot(int tid, int q, int& k, int& c) {
  const int e = tid + kThreads * q;
  if (kColMajor) {
    k = e % kStage;
    c = e / kStage;
  } else {
    k = e / kTile;
    c = e % kTile;
  }
}

template <class T>
struct Tile {
  T v[kStage][kTile + kPad];
};

// Loads the centred values of one operand's stage into registers (0 outside x), noting any
// non-finite value.
template <class T, bool kColMajor>
__device__ __forceinline__ void load_stage(const T* __restrict__ x, long long rs, long long cs,
                                           long long row0, long long row_end, int col0, int d,
                                           const T (&shift)[4], T (&reg)[4], bool& bad) {
  const int tid = threadIdx.x;
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    int k, c;
    load_slot<kColMajor>(tid, q, k, c);
    const long long r = row0 + k;
    const int col = col0 + c;
    T v = T(0);
    if (r < row_end && col < d) {
      const T raw = __ldg(x + r * rs + static_cast<long long>(col) * cs);
      bad |= !isfinite(raw);
      v = raw - shift[q];
    }
    reg[q] = v;
  }
}

template <class T, bool kColMajor, class TileT>
__device__ __forceinline__ void store_stage(TileT& s, const T (&reg)[4]) {
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    int k, c;
    load_slot<kColMajor>(threadIdx.x, q, k, c);
    s.v[k][c] = reg[q];
  }
}

template <class T>
__device__ __forceinline__ void read4(const T* p, T (&out)[4]) {
#pragma unroll
  for (int i = 0; i < 4; ++i) out[i] = p[i];
}
template <>
__device__ __forceinline__ void read4<float>(const float* p, float (&out)[4]) {
  const float4 v = *reinterpret_cast<const float4*>(p);
  out[0] = v.x, out[1] = v.y, out[2] = v.z, out[3] = v.w;
}

// grid.x: upper-triangle tiles; grid.y: row chunks. Writes the chunk's float64 tile (all 64×64
// entries; those past d are 0) to ws[(chunk · tiles + tile) · 64² + li · 64 + lj].
template <class T, bool kColMajor>
__global__ void __launch_bounds__(kThreads, kCtasPerSm)
    gram_tiles_kernel(const T* __restrict__ x, long long n, int d, long long rs, long long cs,
                      const double* __restrict__ shift64, long long chunk_rows, int nb,
                      double* __restrict__ ws, int* flag) {
  using P = typename Acc<T>::Partial;
  __shared__ __align__(16) Tile<T> smem[2][2];  // [buffer][operand A (rows I), B (cols J)]
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  int bi, bj;
  tile_coords(blockIdx.x, nb, bi, bj);
  const bool diagonal = bi == bj;
  const int col_a = bi * kTile, col_b = bj * kTile;
  const long long row0 = blockIdx.y * chunk_rows;
  const long long row_end = min(n, row0 + chunk_rows);
  const int stages = static_cast<int>((row_end - row0 + kStage - 1) / kStage);

  T shift_a[4], shift_b[4];
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    int k, c;
    load_slot<kColMajor>(tid, q, k, c);
    shift_a[q] = col_a + c < d ? static_cast<T>(shift64[col_a + c]) : T(0);
    shift_b[q] = col_b + c < d ? static_cast<T>(shift64[col_b + c]) : T(0);
  }

  P part[4][4] = {};
  double total[4][4] = {};
  bool bad = false;
  T reg_a[4], reg_b[4];
  load_stage<T, kColMajor>(x, rs, cs, row0, row_end, col_a, d, shift_a, reg_a, bad);
  if (!diagonal) load_stage<T, kColMajor>(x, rs, cs, row0, row_end, col_b, d, shift_b, reg_b, bad);
  store_stage<T, kColMajor>(smem[0][0], reg_a);
  if (!diagonal) store_stage<T, kColMajor>(smem[0][1], reg_b);
  __syncthreads();

  for (int s = 0; s < stages; ++s) {
    const int cur = s & 1;
    const bool more = s + 1 < stages;
    if (more) {  // next stage's global loads are in flight while this one is multiplied
      const long long next = row0 + static_cast<long long>(s + 1) * kStage;
      load_stage<T, kColMajor>(x, rs, cs, next, row_end, col_a, d, shift_a, reg_a, bad);
      if (!diagonal)
        load_stage<T, kColMajor>(x, rs, cs, next, row_end, col_b, d, shift_b, reg_b, bad);
    }
    const Tile<T>& ta = smem[cur][0];
    const Tile<T>& tb = diagonal ? smem[cur][0] : smem[cur][1];
#pragma unroll
    for (int k = 0; k < kStage; ++k) {
      T a[4], b[4];
      read4(&ta.v[k][ty * 4], a);
      read4(&tb.v[k][tx * 4], b);
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) part[i][j] = fma(a[i], b[j], part[i][j]);
    }
    if (more) {
      store_stage<T, kColMajor>(smem[cur ^ 1][0], reg_a);
      if (!diagonal) store_stage<T, kColMajor>(smem[cur ^ 1][1], reg_b);
    }
    __syncthreads();
    if (Acc<T>::kFlush && ((s + 1) % kFlushStages == 0 || !more)) {
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          total[i][j] += static_cast<double>(part[i][j]);
          part[i][j] = P(0);
        }
    }
  }
  if (!Acc<T>::kFlush) {
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j) total[i][j] = static_cast<double>(part[i][j]);
  }
  if (__syncthreads_or(bad) && tid == 0) *flag = 1;

  const long long tiles = gridDim.x;
  double* out = ws + (blockIdx.y * tiles + blockIdx.x) * (kTile * kTile);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    double* row = out + (ty * 4 + i) * kTile + tx * 4;
#pragma unroll
    for (int j = 0; j < 4; ++j) row[j] = total[i][j];
  }
}

// --- 3×TF32 tensor-core tiles (float32 input) -----------------------------------------------
//
// Same grid, plan, loads (centred in registers), double-buffered stages and workspace tile as
// gram_tiles_kernel; the products run on the tensor cores (mma.sync m16n8k8 TF32, sm_80+). Each
// centred value c is split as hi = tf32(c), lo = tf32(c − hi) (cvt.rna; c − hi is exact), and
// a·b ≈ lo_a·hi_b + hi_a·lo_b + hi_a·hi_b: |a·b − that| ≤ 3·2⁻²²·|a·b| (the representation
// residual |c − hi − lo| ≤ 2⁻²²|c| on each side, and the dropped lo_a·lo_b ≤ 2⁻²²|a·b|).
// The FP32 accumulators take at most kTcFlushStages stages (64 rows: 24 MMAs) before they are
// added into float64 registers, so the tensor core's own accumulation rounding (not documented
// as round-to-nearest) acts on 64-row partial sums only. Bound per entry, all sources:
// |G̃ᵢⱼ − Gᵢⱼ| ≤ (3·2⁻²² + 24·2⁻²³ + 2·2⁻²⁴)·Σᵣ|cᵣᵢ||cᵣⱼ| ≈ 3.7e-6·Σᵣ|cᵣᵢ||cᵣⱼ| (the SIMT kernel's:
// 128·2⁻²⁴ ≈ 7.6e-6). Model: tests/ops/_gram_cuda_model.py (tc_tile_cta), NOTES.md.
//
// 8 warps: warp w owns rows [32·(w / 4), +32) × columns [16·(w % 4), +16) of the 64×64 tile as
// 2 × 2 MMA tiles of 16×8. Fragments come from the stage tiles stored [row k][feature]: with a
// row stride of 72 floats the 32 lanes' loads (k = t or t + 4, feature = g or g + 8) hit 32
// distinct banks.
constexpr int kTcPad = 8;
constexpr int kTcFlushStages = 4;
constexpr int kTcWarpRows = 32, kTcWarpCols = 16;

struct TcTile {
  float v[kStage][kTile + kTcPad];
};

// v rounded to TF32 (10 stored mantissa bits), ties away from zero: cvt.rna.tf32.f32's result
// for every finite |v| < 2¹²⁸·(1 − 2⁻¹²), in two integer ops (sm_90 has no TF32 convert: ptxas
// expands cvt.rna with an Inf test into about five). Larger |v| round to Inf, whose product
// overflows float32 sums in every engine anyway; NaN input is caught by the non-finite flag.
__device__ __forceinline__ std::uint32_t to_tf32(float v) {
  return (__float_as_uint(v) + 0x1000u) & 0xFFFFE000u;
}

// hi = tf32(v), lo = tf32(v − hi); v − hi is exact (hi is v with its low 13 bits rounded off),
// so |v − hi − lo| ≤ 2⁻¹¹·|v − hi| ≤ 2⁻²²·|v|.
__device__ __forceinline__ void split_tf32(float v, std::uint32_t& hi, std::uint32_t& lo) {
  hi = to_tf32(v);
  lo = to_tf32(__fsub_rn(v, __uint_as_float(hi)));
}

// D = A·B + D, A 16×8 (row), B 8×8 (col), TF32 in, FP32 accumulate.
__device__ __forceinline__ void mma_tf32(float (&d)[4], const std::uint32_t (&a)[4],
                                         const std::uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

template <bool kColMajor>
__global__ void __launch_bounds__(kThreads, kCtasPerSm)
    gram_tiles_tf32x3_kernel(const float* __restrict__ x, long long n, int d, long long rs,
                             long long cs, const double* __restrict__ shift64,
                             long long chunk_rows, int nb, double* __restrict__ ws, int* flag) {
  __shared__ __align__(16) TcTile smem[2][2];  // [buffer][operand A (rows I), B (cols J)]
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int g = lane / 4, t = lane % 4;  // the MMA fragments' groupID and thread-in-group
  const int row_base = (warp / 4) * kTcWarpRows, col_base = (warp % 4) * kTcWarpCols;
  int bi, bj;
  tile_coords(blockIdx.x, nb, bi, bj);
  const bool diagonal = bi == bj;
  const int col_a = bi * kTile, col_b = bj * kTile;
  const long long row0 = blockIdx.y * chunk_rows;
  const long long row_end = min(n, row0 + chunk_rows);
  const int stages = static_cast<int>((row_end - row0 + kStage - 1) / kStage);

  float shift_a[4], shift_b[4];
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    int k, c;
    load_slot<kColMajor>(tid, q, k, c);
    shift_a[q] = col_a + c < d ? static_cast<float>(shift64[col_a + c]) : 0.0f;
    shift_b[q] = col_b + c < d ? static_cast<float>(shift64[col_b + c]) : 0.0f;
  }

  float acc[2][2][4] = {};  // [m tile][n tile][fragment element]
  double total[2][2][4] = {};
  bool bad = false;
  float reg_a[4], reg_b[4];
  load_stage<float, kColMajor>(x, rs, cs, row0, row_end, col_a, d, shift_a, reg_a, bad);
  if (!diagonal)
    load_stage<float, kColMajor>(x, rs, cs, row0, row_end, col_b, d, shift_b, reg_b, bad);
  store_stage<float, kColMajor>(smem[0][0], reg_a);
  if (!diagonal) store_stage<float, kColMajor>(smem[0][1], reg_b);
  __syncthreads();

  for (int s = 0; s < stages; ++s) {
    const int cur = s & 1;
    const bool more = s + 1 < stages;
    if (more) {
      const long long next = row0 + static_cast<long long>(s + 1) * kStage;
      load_stage<float, kColMajor>(x, rs, cs, next, row_end, col_a, d, shift_a, reg_a, bad);
      if (!diagonal)
        load_stage<float, kColMajor>(x, rs, cs, next, row_end, col_b, d, shift_b, reg_b, bad);
    }
    const TcTile& ta = smem[cur][0];
    const TcTile& tb = diagonal ? smem[cur][0] : smem[cur][1];
#pragma unroll
    for (int kb = 0; kb < kStage; kb += 8) {
      std::uint32_t a_hi[2][4], a_lo[2][4], b_hi[2][2], b_lo[2][2];
#pragma unroll
      for (int mt = 0; mt < 2; ++mt) {
        const int i = row_base + mt * 16 + g;
        split_tf32(ta.v[kb + t][i], a_hi[mt][0], a_lo[mt][0]);
        split_tf32(ta.v[kb + t][i + 8], a_hi[mt][1], a_lo[mt][1]);
        split_tf32(ta.v[kb + t + 4][i], a_hi[mt][2], a_lo[mt][2]);
        split_tf32(ta.v[kb + t + 4][i + 8], a_hi[mt][3], a_lo[mt][3]);
      }
#pragma unroll
      for (int nt = 0; nt < 2; ++nt) {
        const int j = col_base + nt * 8 + g;
        split_tf32(tb.v[kb + t][j], b_hi[nt][0], b_lo[nt][0]);
        split_tf32(tb.v[kb + t + 4][j], b_hi[nt][1], b_lo[nt][1]);
      }
#pragma unroll
      for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {  // the small products first
          mma_tf32(acc[mt][nt], a_lo[mt], b_hi[nt]);
          mma_tf32(acc[mt][nt], a_hi[mt], b_lo[nt]);
          mma_tf32(acc[mt][nt], a_hi[mt], b_hi[nt]);
        }
    }
    if (more) {
      store_stage<float, kColMajor>(smem[cur ^ 1][0], reg_a);
      if (!diagonal)
        store_stage<float, kColMajor>(smem[cur ^ 1][1], reg_b);
    }
    __syncthreads();
    if ((s + 1) % kTcFlushStages == 0 || !more) {
#pragma unroll
      for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int nt = 0; nt < 2; ++nt)
#pragma unroll
          for (int r = 0; r < 4; ++r) {
            total[mt][nt][r] += static_cast<double>(acc[mt][nt][r]);
            acc[mt][nt][r] = 0.0f;
          }
    }
  }
  if (__syncthreads_or(bad) && tid == 0) *flag = 1;

  // Fragment element r of MMA tile (mt, nt): row g + 8·(r / 2), column 2t + r % 2.
  const long long tiles = gridDim.x;
  double* out = ws + (blockIdx.y * tiles + blockIdx.x) * (kTile * kTile);
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int nt = 0; nt < 2; ++nt)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int li = row_base + mt * 16 + g + 8 * h, lj = col_base + nt * 8 + 2 * t;
        *reinterpret_cast<double2*>(out + li * kTile + lj) =
            make_double2(total[mt][nt][2 * h], total[mt][nt][2 * h + 1]);
      }
}

// grid.x: column groups; grid.y: row chunks. part[chunk · d + col] = Σ rows of the chunk.
// Row-major: 32 columns × 8 row lanes per block; column-major: 8 columns × 32 row lanes.
template <class T, bool kColMajor>
__global__ void __launch_bounds__(kSumThreads)
    column_sums_kernel(const T* __restrict__ x, long long n, int d, long long rs, long long cs,
                       long long chunk_rows, double* __restrict__ part) {
  constexpr int kLanes = kColMajor ? 32 : 8, kCols = kSumThreads / kLanes;
  __shared__ double partial[kSumThreads];
  const int tid = threadIdx.x;
  const int lane = kColMajor ? tid % 32 : tid / 32;
  const int cl = kColMajor ? tid / 32 : tid % 32;
  const int col = blockIdx.x * kCols + cl;
  const long long row0 = blockIdx.y * chunk_rows, row_end = min(n, row0 + chunk_rows);
  double s = 0.0;
  if (col < d)
    for (long long r = row0 + lane; r < row_end; r += kLanes)
      s += static_cast<double>(__ldg(x + r * rs + static_cast<long long>(col) * cs));
  partial[lane * kCols + cl] = s;
  __syncthreads();
  if (lane == 0 && col < d) {
    double t = 0.0;
    for (int l = 0; l < kLanes; ++l) t += partial[l * kCols + cl];
    part[blockIdx.y * d + col] = t;
  }
}

// mean = Σ chunks / n; shift = mean rounded to T (stored as float64, exactly).
template <class T>
__global__ void mean_kernel(const double* __restrict__ part, long long chunks, long long n, int d,
                            double* __restrict__ mean, double* __restrict__ shift) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (col >= d) return;
  double s = 0.0;
  for (long long c = 0; c < chunks; ++c) s += part[c * d + col];
  const double m = s / static_cast<double>(n);
  mean[col] = m;
  shift[col] = static_cast<double>(static_cast<T>(m));
}

// G[i, j] = G[j, i] = Σ chunks (in order) − n · δᵢ δⱼ, δ = mean − shift, for i ≤ j.
__global__ void gram_reduce_kernel(const double* __restrict__ ws, long long chunks, int nb,
                                   long long tiles, long long n, int d,
                                   const double* __restrict__ mean,
                                   const double* __restrict__ shift, double* __restrict__ gram) {
  const long long idx = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (idx >= static_cast<long long>(d) * d) return;
  const int i = static_cast<int>(idx / d), j = static_cast<int>(idx % d);
  if (i > j) return;
  const long long t = tile_index(i / kTile, j / kTile, nb);
  const long long off = t * (kTile * kTile) + (i % kTile) * kTile + (j % kTile);
  double s = 0.0;
  for (long long c = 0; c < chunks; ++c) s += ws[c * tiles * (kTile * kTile) + off];
  const double di = mean[i] - shift[i], dj = mean[j] - shift[j];
  s -= static_cast<double>(n) * di * dj;
  gram[static_cast<long long>(i) * d + j] = s;
  gram[static_cast<long long>(j) * d + i] = s;
}

long long ceil_div(long long a, long long b) { return (a + b - 1) / b; }

int sm_count_of(int device) {
  int sms = 0;
  LEPTON_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return sms;
}

template <class T, bool kColMajor>
void launch_tiles(int engine, const T* x, const GramPlan& p, long long n, int d, long long rs,
                  long long cs, const double* shift, int nb, double* tiles_ws, int* flag,
                  cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(p.tiles), static_cast<unsigned>(p.chunks));
  if constexpr (std::is_same_v<T, float>) {
    if (engine == kGramTf32x3) {
      gram_tiles_tf32x3_kernel<kColMajor><<<grid, kThreads, 0, stream>>>(
          x, n, d, rs, cs, shift, p.chunk_rows, nb, tiles_ws, flag);
      LEPTON_CUDA_CHECK_LAUNCH("gram_tiles_tf32x3_kernel");
      return;
    }
  }
  gram_tiles_kernel<T, kColMajor><<<grid, kThreads, 0, stream>>>(x, n, d, rs, cs, shift,
                                                                  p.chunk_rows, nb, tiles_ws,
                                                                  flag);
  LEPTON_CUDA_CHECK_LAUNCH("gram_tiles_kernel");
}

template <class T, bool kColMajor>
void launch_all(int engine, const T* x, const GramPlan& p, long long n, int d, long long rs,
                long long cs, double* mean, double* gram, double* ws, int* flag,
                cudaStream_t stream) {
  const int nb = static_cast<int>(ceil_div(d, kTile));
  double* tiles_ws = ws;
  double* sums_ws = ws + p.chunks * p.tiles * kTile * kTile;
  double* shift = sums_ws + p.sum_chunks * d;
  constexpr int kCols = kColMajor ? kSumThreads / 32 : kSumThreads / 8;
  const dim3 sum_grid(static_cast<unsigned>(ceil_div(d, kCols)),
                      static_cast<unsigned>(p.sum_chunks));
  column_sums_kernel<T, kColMajor><<<sum_grid, kSumThreads, 0, stream>>>(x, n, d, rs, cs,
                                                                         p.sum_rows, sums_ws);
  LEPTON_CUDA_CHECK_LAUNCH("column_sums_kernel");
  mean_kernel<T><<<static_cast<unsigned>(ceil_div(d, 128)), 128, 0, stream>>>(
      sums_ws, p.sum_chunks, n, d, mean, shift);
  LEPTON_CUDA_CHECK_LAUNCH("mean_kernel");
  launch_tiles<T, kColMajor>(engine, x, p, n, d, rs, cs, shift, nb, tiles_ws, flag, stream);
  const long long elems = static_cast<long long>(d) * d;
  gram_reduce_kernel<<<static_cast<unsigned>(ceil_div(elems, 256)), 256, 0, stream>>>(
      tiles_ws, p.chunks, nb, p.tiles, n, d, mean, shift, gram);
  LEPTON_CUDA_CHECK_LAUNCH("gram_reduce_kernel");
}

template <class T>
void launch_layout(int engine, std::uintptr_t x, const GramPlan& p, long long n, int d,
                   long long rs, long long cs, double* mean, double* gram, double* ws, int* flag,
                   cudaStream_t stream) {
  const T* xp = reinterpret_cast<const T*>(x);
  // d == 1 or n == 1 satisfy both layouts; the row-major kernel then reads with cs / rs as given.
  if (cs == 1 || d == 1)
    return launch_all<T, false>(engine, xp, p, n, d, rs, d == 1 ? 1 : cs, mean, gram, ws, flag,
                                stream);
  return launch_all<T, true>(engine, xp, p, n, d, rs, cs, mean, gram, ws, flag, stream);
}

int compute_capability_major(int device) {
  int major = 0;
  LEPTON_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  return major;
}

}  // namespace

GramPlan gram_plan(long long n, long long d, int sm_count) {
  GramPlan p{};
  const long long nb = ceil_div(d, kTile);
  p.tiles = nb * (nb + 1) / 2;
  // Enough CTAs for two waves of the resident ones, each with at least kMinChunkRows rows.
  const long long target = 2LL * kCtasPerSm * std::max(sm_count, 1);
  const long long max_chunks = std::max(1LL, ceil_div(n, kMinChunkRows));
  p.chunks = std::clamp(ceil_div(target, p.tiles), 1LL, max_chunks);
  p.chunk_rows = ceil_div(ceil_div(n, p.chunks), kStage) * kStage;
  p.chunks = ceil_div(n, p.chunk_rows);  // no empty chunk
  const long long cols_per_block = 32;  // the row-major sum kernel's; column-major has 8
  const long long sum_target = static_cast<long long>(kSumBlocksPerSm) * std::max(sm_count, 1);
  p.sum_chunks = std::clamp(ceil_div(sum_target, ceil_div(d, cols_per_block)), 1LL, max_chunks);
  p.sum_rows = ceil_div(n, p.sum_chunks);
  p.sum_chunks = ceil_div(n, p.sum_rows);
  p.workspace = p.chunks * p.tiles * kTile * kTile + p.sum_chunks * d + d;
  return p;
}

long long gram_workspace_elems(long long n, long long d, int device) {
  LEPTON_CHECK_ARG(n > 0 && d > 0, "x: expected a non-empty array");
  DeviceGuard guard(device);
  return gram_plan(n, d, sm_count_of(device)).workspace;
}

void check_engine(int engine, int dtype) {
  LEPTON_CHECK_ARG(engine == kGramSimt || engine == kGramTf32x3, "engine: unknown Gram engine code ",
                   engine, " (0: simt, 1: tf32x3)");
  LEPTON_CHECK_ARG(engine != kGramTf32x3 || dtype == kGramFloat32,
                   "engine: tf32x3 takes float32 input (float64 runs on the simt engine)");
}

void centred_gram(std::uintptr_t x, int dtype, long long n, long long d, long long row_stride,
                  long long col_stride, std::uintptr_t mean, std::uintptr_t gram,
                  std::uintptr_t workspace, long long workspace_elems, std::uintptr_t flag,
                  int device, std::uintptr_t stream, int engine) {
  check_engine(engine, dtype);
  LEPTON_CHECK_ARG(n > 0 && d > 0, "x: expected a non-empty array");
  LEPTON_CHECK_ARG(d <= (1LL << 20), "x: at most 2^20 columns, got ", d);
  LEPTON_CHECK_ARG(col_stride == 1 || row_stride == 1 || d == 1 || n == 1,
                   "x: expected unit stride along rows or columns");
  LEPTON_CHECK_ARG(row_stride >= 1 && col_stride >= 1, "x: expected positive strides");
  LEPTON_CHECK_ARG(x != 0 && mean != 0 && gram != 0 && workspace != 0 && flag != 0,
                   "centred_gram: null device pointer");
  DeviceGuard guard(device);
  LEPTON_CHECK_ARG(engine != kGramTf32x3 || compute_capability_major(device) >= 8,
                   "engine: tf32x3 needs a GPU of compute capability 8.0 or newer");
  const GramPlan p = gram_plan(n, d, sm_count_of(device));
  LEPTON_CHECK_ARG(workspace_elems >= p.workspace, "workspace: expected at least ", p.workspace,
                   " float64 elements, got ", workspace_elems);
  LEPTON_CHECK_ARG(p.tiles < (1LL << 31) && p.chunks < 65536, "x: shape too large for the grid");
  auto* m = reinterpret_cast<double*>(mean);
  auto* g = reinterpret_cast<double*>(gram);
  auto* ws = reinterpret_cast<double*>(workspace);
  auto* f = reinterpret_cast<int*>(flag);
  auto s = reinterpret_cast<cudaStream_t>(stream);
  const int di = static_cast<int>(d);
  switch (dtype) {
    case kGramFloat32:
      return launch_layout<float>(engine, x, p, n, di, row_stride, col_stride, m, g, ws, f, s);
    case kGramFloat64:
      return launch_layout<double>(engine, x, p, n, di, row_stride, col_stride, m, g, ws, f, s);
    default: fail_arg("x: unknown dtype code ", dtype);
  }
}

}  // namespace lepton::cuda::pca
