// Body of the per-ISA Gram and moments kernels (see gram.hpp for the algorithm).
//
// Included by exactly one gram_<isa>.cpp each, after it defines
//   LEPTON_GRAM_ISA   the namespace / variant name (scalar, avx2, avx512)
//   LEPTON_VEC_BYTES  the SIMD register width in bytes (16, 32, 64)
//   LEPTON_MR_F32, LEPTON_MR_F64  Gram rows per micro-tile (must divide the panel width)
// Everything here is in that ISA's own namespace, so no inline function compiled for a wide ISA
// can be picked by the linker for a narrower one.
#include <cstdint>
#include <cstring>

#include "cpu/pca/gram_kernels.hpp"

#define LEPTON_GRAM_STR2(x) #x
#define LEPTON_GRAM_STR(x) LEPTON_GRAM_STR2(x)

namespace lepton::pca::LEPTON_GRAM_ISA {
namespace {

template <class T>
struct Shape {
  typedef T Vec __attribute__((vector_size(LEPTON_VEC_BYTES)));
  static constexpr int kLanes = LEPTON_VEC_BYTES / sizeof(T);
  static constexpr int kVecs = 2;  // vectors per panel row: two independent loads per k-step
  static constexpr int kPanel = kVecs * kLanes;
  static constexpr int kMR = sizeof(T) == 4 ? LEPTON_MR_F32 : LEPTON_MR_F64;
  static_assert(kPanel % kMR == 0, "a micro-tile's rows must lie in one panel");
};

template <class T>
inline typename Shape<T>::Vec load(const T* p) {
  typename Shape<T>::Vec v;
  std::memcpy(&v, p, sizeof(v));  // compiles to one unaligned vector load
  return v;
}

// Exact (float64) mean of each column of the block, into block_mean[0, d).
template <class T>
void block_means(const T* x, std::int64_t rows, std::int64_t d, double* block_mean) {
  for (std::int64_t j = 0; j < d; ++j) block_mean[j] = 0.0;
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* row = x + r * d;
    for (std::int64_t j = 0; j < d; ++j) block_mean[j] += static_cast<double>(row[j]);
  }
  const double inv = 1.0 / static_cast<double>(rows);
  for (std::int64_t j = 0; j < d; ++j) block_mean[j] *= inv;
}

// Centre the block on its mean and lay it out as panels of kPanel columns, each panel
// rows x kPanel contiguous (zero beyond column d): both micro-kernel operands then stream with
// unit stride, and the subtraction happens in float64 before the one rounding to T.
template <class T>
void pack_centred(const T* x, std::int64_t rows, std::int64_t d, std::int64_t ld,
                  const double* block_mean, T* pack) {
  constexpr int P = Shape<T>::kPanel;
  for (std::int64_t p0 = 0; p0 < ld; p0 += P) {
    T* panel = pack + p0 * rows;
    const std::int64_t width = d - p0 < P ? d - p0 : P;
    for (std::int64_t r = 0; r < rows; ++r) {
      const T* src = x + r * d + p0;
      T* dst = panel + r * P;
      for (std::int64_t c = 0; c < width; ++c)
        dst[c] = static_cast<T>(static_cast<double>(src[c]) - block_mean[p0 + c]);
      for (std::int64_t c = width; c < P; ++c) dst[c] = T(0);
    }
  }
}

// One MR x kPanel tile of the block's Gram: acc[i][j] = sum_r a[r][i] * b[r][j] in T over the
// block's rows (kept in registers), then merged into float64 with the Chan cross term.
template <class T>
void micro_tile(const T* pa, const T* pb, std::int64_t rows, double* c, std::int64_t ldc,
                const double* delta_i, const double* delta_j, double cross) {
  using S = Shape<T>;
  using Vec = typename S::Vec;
  constexpr int MR = S::kMR, NV = S::kVecs, L = S::kLanes, P = S::kPanel;
  Vec acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = Vec{};
  for (std::int64_t r = 0; r < rows; ++r) {
    Vec b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = load(pb + r * P + v * L);
    const T* a = pa + r * P;
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] += a[i] * b[v];
  }
  for (int i = 0; i < MR; ++i) {
    double* out = c + i * ldc;
    const double di = cross * delta_i[i];
    for (int v = 0; v < NV; ++v)
      for (int l = 0; l < L; ++l)
        out[v * L + l] += static_cast<double>(acc[i][v][l]) + di * delta_j[v * L + l];
  }
}

// Fold the block's mean into the running mean: Chan's update after the block's M2 is merged.
inline void advance_mean(std::int64_t rows, std::int64_t d, const double* delta, Running& st) {
  const double w = static_cast<double>(rows) / static_cast<double>(st.n + rows);
  for (std::int64_t j = 0; j < d; ++j) st.mean[j] += w * delta[j];
  st.n += rows;
}

// delta = block_mean - running mean; returns Chan's weight n_a n_b / (n_a + n_b).
inline double chan_delta(std::int64_t rows, std::int64_t d, const double* block_mean,
                         double* delta, const Running& st) {
  for (std::int64_t j = 0; j < d; ++j) delta[j] = block_mean[j] - st.mean[j];
  for (std::int64_t j = d; j < st.ld; ++j) delta[j] = 0.0;
  return static_cast<double>(st.n) * static_cast<double>(rows) /
         static_cast<double>(st.n + rows);
}

template <class T>
void gram_block(const T* x, std::int64_t rows, std::int64_t d, T* pack, double* block_mean,
                double* delta, Running& st) {
  constexpr int MR = Shape<T>::kMR, P = Shape<T>::kPanel;
  const std::int64_t ld = st.ld;
  block_means(x, rows, d, block_mean);
  const double cross = chan_delta(rows, d, block_mean, delta, st);
  pack_centred(x, rows, d, ld, block_mean, pack);
  // While the tiles compute, pull the rows that follow this block towards L2, spread evenly over
  // the tiles: the next block (usually this thread's next) then starts without a DRAM stall.
  const char* next = reinterpret_cast<const char*>(x + rows * d);
  const std::int64_t next_lines = rows * d * static_cast<std::int64_t>(sizeof(T)) / 64;
  const std::int64_t panels = (d + P - 1) / P;
  const std::int64_t tiles = panels * (panels + 1) / 2 * (P / MR);
  const std::int64_t lines_per_tile = (next_lines + tiles - 1) / tiles;
  std::int64_t prefetched = 0;
  // Upper triangle only: for the panel of columns [j0, j0 + P), Gram rows i0 < min(d, j0 + P).
  for (std::int64_t j0 = 0; j0 < d; j0 += P) {
    const T* pb = pack + j0 * rows;
    const std::int64_t i_end = j0 + P < d ? j0 + P : d;
    for (std::int64_t i0 = 0; i0 < i_end; i0 += MR) {
      const std::int64_t panel_of_i = i0 - i0 % P;
      const T* pa = pack + panel_of_i * rows + (i0 - panel_of_i);
      for (std::int64_t l = 0; l < lines_per_tile && prefetched < next_lines; ++l, ++prefetched)
        __builtin_prefetch(next + prefetched * 64, 0, 2);
      micro_tile<T>(pa, pb, rows, st.m2 + i0 * ld + j0, ld, delta + i0, delta + j0, cross);
    }
  }
  advance_mean(rows, d, delta, st);
}

template <class T>
void moments_block(const T* x, std::int64_t rows, std::int64_t d, double* block_mean,
                   Running& st) {
  block_means(x, rows, d, block_mean);
  // Per-column M2 of the block about its own mean, added to st.m2 with the Chan term, then the
  // mean update; block_mean doubles as the delta once the squares are summed.
  double* m2 = st.m2;
  const double cross = static_cast<double>(st.n) * static_cast<double>(rows) /
                       static_cast<double>(st.n + rows);
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* row = x + r * d;
    for (std::int64_t j = 0; j < d; ++j) {
      const double e = static_cast<double>(row[j]) - block_mean[j];
      m2[j] += e * e;
    }
  }
  for (std::int64_t j = 0; j < d; ++j) {
    const double delta = block_mean[j] - st.mean[j];
    m2[j] += cross * delta * delta;
    block_mean[j] = delta;
  }
  advance_mean(rows, d, block_mean, st);
}

}  // namespace

template <class T>
const KernelTable<T>& table() {
  static const KernelTable<T> t{LEPTON_GRAM_STR(LEPTON_GRAM_ISA), Shape<T>::kPanel,
                                &gram_block<T>, &moments_block<T>};
  return t;
}

}  // namespace lepton::pca::LEPTON_GRAM_ISA
