// Pass 1 inner loop: per-lane count, mean, M2, min and max of the finite values of a row view.
// Part of kernels_impl.hpp: internal linkage only (see there).
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>

#include "cpu/preprocess/kernels.hpp"
#include "cpu/preprocess/simd.hpp"

#if !defined(LEPTON_PREP_VECTOR_BYTES)
#error "include through kernels_<isa>.cpp, which defines LEPTON_PREP_VECTOR_BYTES"
#endif

namespace lepton::prep {
namespace {

constexpr int kDoubleLanes = kVectorBytes / 8;

// The float64 vector that holds a slice of V's lanes (V itself when V is double or scalar).
template <class V>
struct DoubleSlice {
  static constexpr int lanes_of_v = Lanes<V>::n;
  static constexpr int n = lanes_of_v < kDoubleLanes ? lanes_of_v : kDoubleLanes;
  static constexpr int parts = lanes_of_v / n;
  using type = std::conditional_t<n == 1, double, Vec<double, n>>;
};

// Lanes [part·n, part·n + n) of v, widened to float64.
template <class V>
inline typename DoubleSlice<V>::type as_double(const V& v, int part) {
  using E = typename Lanes<V>::elem;
  constexpr int L = Lanes<V>::n;
  if constexpr (L == 1 || std::is_same_v<E, double>) {
    return static_cast<typename DoubleSlice<V>::type>(v);
  } else if constexpr (DoubleSlice<V>::parts == 2) {
    return widen<L / 2>(half<L>(v, part));
  } else {
    return widen<L>(v);
  }
}

// Vectors per group: enough independent accumulators to hide latency, few enough that they stay in
// registers. A float vector carries 3 + 2·2 accumulators and 1 + 2 shifts, so 2 per group fit in
// 32 zmm and 1 in 16 ymm/xmm (a spilled accumulator is a loop-carried store-load, far slower).
constexpr int kGroup = kVectorBytes == 64 ? 2 : 1;
// Rows per block: a group's share of a block stays in L1 for a second pass (lanes without
// history), and the per-block merge (a division per lane) is spread over ~200 rows.
constexpr i64 kBlockBytes = 24 * 1024;

// Chan et al.'s pairwise update: folds a block's (count, mean, m2, min, max) into acc, the block
// mean given as shift + offset. The difference of the means is formed as (shift − mean_a) +
// offset: exact first term (shift is mean_a rounded to the input type), small second term, so it
// keeps its digits even when the means are large against the spread.
template <class D>
inline void merge_lanes(const LaneMoments& acc, i64 lane, D nb, D shift, D offset, D m2b, D mnb,
                        D mxb) {
  const D zero = splat<D>(0.0);
  D na = load<D>(acc.count + lane);
  D ma = load<D>(acc.mean + lane);
  D m2a = load<D>(acc.m2 + lane);
  D mna = load<D>(acc.min + lane);
  D mxa = load<D>(acc.max + lane);
  const D n = na + nb;
  const D frac = n > zero ? nb / n : zero;  // lanes with n == 0 are masked, never trapped on
  const D delta = (shift - ma) + offset;
  ma = ma + delta * frac;
  m2a = m2a + m2b + delta * delta * na * frac;
  mna = mnb < mna ? mnb : mna;
  mxa = mxb > mxa ? mxb : mxa;
  store_plain(acc.count + lane, n);
  store_plain(acc.mean + lane, ma);
  store_plain(acc.m2 + lane, m2a);
  store_plain(acc.min + lane, mna);
  store_plain(acc.max + lane, mxa);
}

// Block moments of G vectors V (G·n lanes) starting at x over `rows` rows, merged into acc.
//
// One pass of shifted sums s1 = Σ(v−K), s2 = Σ(v−K)² with K the lane's running mean (rounded to
// the input type, so a non-finite entry replaced by K contributes exactly 0): then mean = K + s1/n
// and m2 = s2 − s1²/n. With K the mean of the n_a values already merged, the cancellation error
// is below eps·(n_b/n_a + 1) of the merged m2 — a few float64 ulps for blocks of tens of rows.
// A lane with no history (n_a = 0) has no such K: then the block is done in two passes, exact
// sums then squared deviations from the block mean, while it sits in L1.
//
// Counts, min and max run in the input's precision (exact there, and float lanes are twice as
// many per instruction); the sums are float64.
//
// `next` is the same group in the next block: its lines are prefetched when a group is narrower
// than a row, since the group-by-group order then reads memory at a row stride.
template <int G, class V>
inline void stats_group(const typename Lanes<V>::elem* x, i64 rows, i64 ld, const LaneMoments& acc,
                        i64 lane, const typename Lanes<V>::elem* next, i64 next_rows) {
  using T = typename Lanes<V>::elem;
  using D = typename DoubleSlice<V>::type;
  constexpr int L = Lanes<V>::n, P = DoubleSlice<V>::parts, DL = DoubleSlice<V>::n;
  const V zero = splat<V>(0), one = splat<V>(1), inf = splat<V>(std::numeric_limits<T>::infinity());
  const D dzero = splat<D>(0.0);

  bool two_pass = false;
  for (int l = 0; l < G * L; ++l) two_pass |= acc.count[lane + l] == 0.0;
  V shift[G];
  D dshift[G][P];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    shift[g] = two_pass ? zero : load<V>(acc.mean + lane + g * L);  // rounds to T
#pragma GCC unroll 4
    for (int q = 0; q < P; ++q) dshift[g][q] = as_double(shift[g], q);
  }

  V cnt[G], mn[G], mx[G];
  D s1[G][P], s2[G][P];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    cnt[g] = zero, mn[g] = inf, mx[g] = -inf;
#pragma GCC unroll 4
    for (int q = 0; q < P; ++q) s1[g][q] = dzero, s2[g][q] = dzero;
  }
  constexpr int group_bytes = G * L * static_cast<int>(sizeof(T));
  const bool prefetch = next != nullptr && ld * static_cast<i64>(sizeof(T)) > group_bytes;
  for (i64 r = 0; r < rows; ++r) {
    const T* p = x + r * ld;
    if (prefetch && r < next_rows) {
      const char* q = reinterpret_cast<const char*>(next + r * ld);
#pragma GCC unroll 8
      for (int b = 0; b < group_bytes; b += 64) __builtin_prefetch(q + b);
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const V v = load<V>(p + g * L);
      const auto finite = is_finite(v);
      // cond ? acc op v : acc compiles to one merge-masked instruction on AVX-512.
      cnt[g] = finite ? cnt[g] + one : cnt[g];
      // min/max of (finite ? v : ±inf): one blend and one vminps/vmaxps each.
      const V low = finite ? v : inf, high = finite ? v : -inf;
      mn[g] = low < mn[g] ? low : mn[g];
      mx[g] = high > mx[g] ? high : mx[g];
      const V kept = finite ? v : shift[g];
#pragma GCC unroll 4
      for (int q = 0; q < P; ++q) {
        const D dev = as_double(kept, q) - dshift[g][q];
        s1[g][q] += dev;
        s2[g][q] += dev * dev;
      }
    }
  }

  D offset[G][P], m2[G][P];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
#pragma GCC unroll 4
    for (int q = 0; q < P; ++q) {
      const D c = as_double(cnt[g], q);
      offset[g][q] = c > dzero ? s1[g][q] / c : dzero;
      const D m = s2[g][q] - s1[g][q] * offset[g][q];
      m2[g][q] = m > dzero ? m : dzero;
    }
  }
  if (two_pass) {  // shift is 0: offset is the block mean
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g)
#pragma GCC unroll 4
      for (int q = 0; q < P; ++q) m2[g][q] = dzero;
    for (i64 r = 0; r < rows; ++r) {
      const T* p = x + r * ld;
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) {
        const V v = load<V>(p + g * L);
#pragma GCC unroll 4
        for (int q = 0; q < P; ++q) {
          const D dv = as_double(v, q);
          const D dev = dv - offset[g][q];
          m2[g][q] = is_finite(dv) ? m2[g][q] + dev * dev : m2[g][q];
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
#pragma GCC unroll 4
    for (int q = 0; q < P; ++q)
      merge_lanes<D>(acc, lane + g * L + q * DL, as_double(cnt[g], q), dshift[g][q], offset[g][q],
                     m2[g][q], as_double(mn[g], q), as_double(mx[g], q));
  }
}

template <class T>
void accumulate(const T* x, i64 rows, i64 lanes, i64 ld, const LaneMoments& acc) {
  constexpr int L = kVectorBytes / static_cast<int>(sizeof(T));
  using V = Vec<T, L>;
  constexpr i64 group_lanes = kGroup * L;
  const i64 block = std::max<i64>(1, kBlockBytes / (group_lanes * static_cast<i64>(sizeof(T))));
  for (i64 r0 = 0; r0 < rows; r0 += block) {
    const i64 nb = std::min(block, rows - r0);
    const T* xb = x + r0 * ld;
    const T* next = xb + nb * ld;
    const i64 next_rows = std::min(block, rows - r0 - nb);
    i64 l = 0;
    for (; l + group_lanes <= lanes; l += group_lanes)
      stats_group<kGroup, V>(xb + l, nb, ld, acc, l, next + l, next_rows);
    for (; l + L <= lanes; l += L) stats_group<1, V>(xb + l, nb, ld, acc, l, nullptr, 0);
    for (; l < lanes; ++l) stats_group<1, T>(xb + l, nb, ld, acc, l, nullptr, 0);
  }
}

}  // namespace
}  // namespace lepton::prep
