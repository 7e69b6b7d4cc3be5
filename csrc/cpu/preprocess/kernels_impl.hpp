// The preprocessing inner loops, written once with GCC/Clang vector extensions.
//
// kernels_<isa>.cpp defines LEPTON_PREP_VECTOR_BYTES (16, 32 or 64) and LEPTON_PREP_TABLE, then
// includes this file; the TU's -m flags decide which instructions the vector types become.
// Everything here has internal linkage so the per-ISA copies never meet at link time (an inline
// function compiled with AVX-512 flags must not be picked for the baseline TU).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "cpu/preprocess/half.hpp"
#include "cpu/preprocess/kernels.hpp"

#if defined(LEPTON_X86)
#include <immintrin.h>
#endif

#if !defined(LEPTON_PREP_VECTOR_BYTES) || !defined(LEPTON_PREP_TABLE)
#error "define LEPTON_PREP_VECTOR_BYTES and LEPTON_PREP_TABLE before including kernels_impl.hpp"
#endif

namespace lepton::prep {
namespace {

using i64 = std::int64_t;
constexpr int kVectorBytes = LEPTON_PREP_VECTOR_BYTES;

template <class E, int N>
struct VecOf {
  typedef E type __attribute__((vector_size(N * sizeof(E))));
};
template <class E, int N>
using Vec = typename VecOf<E, N>::type;

// Lane count and element type of V, where V is a vector type or a plain scalar (one lane).
template <class V, class = void>
struct Lanes {
  using elem = V;
  static constexpr int n = 1;
};
template <class V>
struct Lanes<V, std::enable_if_t<!std::is_arithmetic_v<V>>> {
  using elem = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<V>()[0])>>;
  static constexpr int n = static_cast<int>(sizeof(V) / sizeof(elem));
};

template <class V>
inline V splat(typename Lanes<V>::elem s) {
  if constexpr (Lanes<V>::n == 1) {
    return s;
  } else {
    return V{} + s;
  }
}

// float -> double for N lanes. GCC 12 lowers __builtin_convertvector of a full register through
// 128-bit pieces (and memcpy slices through the stack); the intrinsics are one instruction.
template <int N>
inline Vec<double, N> widen(Vec<float, N> v) {
#if defined(__AVX512F__)
  if constexpr (N == 8) return (Vec<double, N>)_mm512_cvtps_pd((__m256)v);
#endif
#if defined(__AVX__)
  if constexpr (N == 4) return (Vec<double, N>)_mm256_cvtps_pd((__m128)v);
#endif
  return __builtin_convertvector(v, Vec<double, N>);
}

// Half `part` (0 = low lanes) of a float vector.
template <int N>
inline Vec<float, N / 2> half(Vec<float, N> v, int part) {
#if defined(__AVX512F__)
  if constexpr (N == 16) {
    const __m512d d = (__m512d)v;
    return (Vec<float, N / 2>)(part ? _mm512_extractf64x4_pd(d, 1) : _mm512_castpd512_pd256(d));
  }
#endif
#if defined(__AVX__)
  if constexpr (N == 8) return (Vec<float, N / 2>)(part ? _mm256_extractf128_ps((__m256)v, 1)
                                                        : _mm256_castps256_ps128((__m256)v));
#endif
#if defined(LEPTON_X86)
  if constexpr (N == 4) {
    const __m128 f = (__m128)v;
    Vec<float, 2> out;
    const __m128 h = part ? _mm_movehl_ps(f, f) : f;
    std::memcpy(&out, &h, sizeof out);
    return out;
  }
#endif
  Vec<float, N / 2> out;
  for (int i = 0; i < N / 2; ++i) out[i] = v[part * (N / 2) + i];
  return out;
}

// Loads Lanes<V>::n consecutive T and converts them to V's element type.
template <class V, class T>
inline V load(const T* p) {
  using E = typename Lanes<V>::elem;
  constexpr int n = Lanes<V>::n;
  if constexpr (n == 1) {
    return static_cast<E>(*p);
  } else if constexpr (std::is_same_v<E, T>) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  } else if constexpr (std::is_same_v<T, float> && std::is_same_v<E, double>) {
    Vec<float, n> raw;
    std::memcpy(&raw, p, sizeof raw);
    return widen<n>(raw);
  } else {
    Vec<T, n> raw;
    std::memcpy(&raw, p, sizeof raw);
    return __builtin_convertvector(raw, V);
  }
}

// True (all ones) in the lanes that hold a finite value: v - v is 0 there and NaN for NaN/±Inf.
template <class V>
inline auto is_finite(V v) {
  return (v - v) == splat<V>(0);
}

template <class V>
inline void store_plain(void* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}

// Non-temporal store of one vector whose address is a multiple of its size: the output of a large
// apply is not read again soon, and skipping the read-for-ownership saves a third of the traffic.
template <class V>
inline void store_stream(void* p, const V& v) {
#if defined(LEPTON_X86)
  if constexpr (sizeof(V) == 64) {
#if defined(__AVX512F__)
    __m512i r;
    std::memcpy(&r, &v, 64);
    _mm512_stream_si512(static_cast<__m512i*>(p), r);
#else
    store_plain(p, v);
#endif
  } else if constexpr (sizeof(V) == 32) {
#if defined(__AVX__)
    __m256i r;
    std::memcpy(&r, &v, 32);
    _mm256_stream_si256(static_cast<__m256i*>(p), r);
#else
    store_plain(p, v);
#endif
  } else if constexpr (sizeof(V) == 16) {
    __m128i r;
    std::memcpy(&r, &v, 16);
    _mm_stream_si128(static_cast<__m128i*>(p), r);
  } else if constexpr (sizeof(V) == 8) {
    long long r;
    std::memcpy(&r, &v, 8);
    _mm_stream_si64(static_cast<long long*>(p), r);
  } else {
    store_plain(p, v);
  }
#else
  store_plain(p, v);
#endif
}

// ---------------------------------------------------------------------------------------------
// Column statistics
// ---------------------------------------------------------------------------------------------

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

// Lanes per group: enough independent accumulators to hide latency, few enough that they stay in
// registers (32 zmm on AVX-512, 16 ymm/xmm below). For float input on AVX-512 a group is 64 lanes,
// so a typical 64-column row is read front to back.
constexpr int kGroup = kVectorBytes == 64 ? 4 : 2;
// Rows per block: a group's share of the block stays in L1 between its two passes.
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
      mn[g] = finite ? (v < mn[g] ? v : mn[g]) : mn[g];
      mx[g] = finite ? (v > mx[g] ? v : mx[g]) : mx[g];
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

// ---------------------------------------------------------------------------------------------
// Apply: replace -> clip -> scale -> convert, one read and one write per element
// ---------------------------------------------------------------------------------------------

// Arithmetic happens in double when the input or the output is double, in float otherwise
// (the precision sklearn's StandardScaler.transform uses for float32 data).
template <class T, class O>
using ComputeT = std::conditional_t<std::is_same_v<T, double> || std::is_same_v<O, double>, double, float>;

template <class V>
struct Coefs {
  V fill, lo, hi, center, mul;
};

template <class V, class C>
inline Coefs<V> load_coefs(const C* fill, const C* lo, const C* hi, const C* center, const C* mul,
                           i64 lane) {
  return {load<V>(fill + lane), load<V>(lo + lane), load<V>(hi + lane), load<V>(center + lane),
          load<V>(mul + lane)};
}

// Comparisons are written so that NaN passes through clip (v < lo is false for NaN).
template <class V>
inline V transform(V v, const Coefs<V>& c, V lim) {
  const auto keep = (v >= -lim) & (v <= lim);
  v = keep ? v : c.fill;
  v = v < c.lo ? c.lo : v;
  v = v > c.hi ? c.hi : v;
  return (v - c.center) * c.mul;
}

inline std::uint16_t to_half(float v) { return float_to_half_bits(v); }
inline std::uint16_t to_half(double v) { return float_to_half_bits(static_cast<float>(v)); }

template <int N>
inline Vec<std::uint16_t, N> to_half(Vec<float, N> v) {
#if defined(__AVX512F__)
  if constexpr (N == 16) {
    __m512 r;
    std::memcpy(&r, &v, sizeof r);
    __m256i h = _mm512_cvtps_ph(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    Vec<std::uint16_t, N> out;
    std::memcpy(&out, &h, sizeof out);
    return out;
  }
#endif
#if defined(__F16C__)
  if constexpr (N == 8) {
    __m256 r;
    std::memcpy(&r, &v, sizeof r);
    __m128i h = _mm256_cvtps_ph(r, _MM_FROUND_TO_NEAREST_INT);
    Vec<std::uint16_t, N> out;
    std::memcpy(&out, &h, sizeof out);
    return out;
  }
  if constexpr (N == 4) {
    __m128 r;
    std::memcpy(&r, &v, sizeof r);
    __m128i h = _mm_cvtps_ph(r, _MM_FROUND_TO_NEAREST_INT);
    Vec<std::uint16_t, N> out;
    std::memcpy(&out, &h, 8);
    return out;
  }
#endif
  Vec<std::uint16_t, N> out;
  for (int i = 0; i < N; ++i) out[i] = float_to_half_bits(v[i]);
  return out;
}
template <int N>
inline Vec<std::uint16_t, N> to_half(Vec<double, N> v) {
  return to_half<N>(__builtin_convertvector(v, Vec<float, N>));
}

// Symmetric int8: saturate to ±127, then round half to even by the add-subtract of 1.5·2^mantissa
// (exact for |v| < 2^22, true after the clamp; the default rounding mode is nearest-even).
template <class V>
inline V round_saturate_127(V v) {
  using E = typename Lanes<V>::elem;
  const V top = splat<V>(E(127)), magic = splat<V>(std::is_same_v<E, float> ? E(12582912.0f)
                                                                            : E(6755399441055744.0));
  v = v < -top ? -top : v;
  v = v > top ? top : v;
  return (v + magic) - magic;
}

// Converts the compute-type value(s) v to O and writes them at p.
template <class O, bool Stream, class V>
inline void store_out(O* p, V v) {
  constexpr int n = Lanes<V>::n;
  if constexpr (n == 1) {
    if constexpr (std::is_same_v<O, std::uint16_t>) {
      *p = to_half(v);
    } else if constexpr (std::is_same_v<O, std::int8_t>) {
      *p = static_cast<std::int8_t>(round_saturate_127(v));
    } else {
      *p = static_cast<O>(v);
    }
  } else {
    if constexpr (std::is_same_v<O, std::uint16_t>) {
      const auto h = to_half<n>(v);
      Stream ? store_stream(p, h) : store_plain(p, h);
    } else if constexpr (std::is_same_v<O, std::int8_t>) {
      const auto q = __builtin_convertvector(
          __builtin_convertvector(round_saturate_127(v), Vec<std::int32_t, n>), Vec<std::int8_t, n>);
      Stream ? store_stream(p, q) : store_plain(p, q);
    } else {
      const auto o = __builtin_convertvector(v, Vec<O, n>);
      Stream ? store_stream(p, o) : store_plain(p, o);
    }
  }
}

template <class T, class O, bool Stream>
void apply_loop(const T* x, O* out, i64 count, i64 lane, const ApplyTile& t) {
  using C = ComputeT<T, O>;
  constexpr int N = kVectorBytes / static_cast<int>(sizeof(C));
  using VC = Vec<C, N>;
  const C* fill = static_cast<const C*>(t.fill);
  const C* lo = static_cast<const C*>(t.lo);
  const C* hi = static_cast<const C*>(t.hi);
  const C* center = static_cast<const C*>(t.center);
  const C* mul = static_cast<const C*>(t.mul);
  const C lim = t.replace_inf ? std::numeric_limits<C>::max() : std::numeric_limits<C>::infinity();
  const i64 period = t.period;
  i64 i = 0;
  auto one_element = [&] {
    const auto c = load_coefs<C>(fill, lo, hi, center, mul, lane);
    store_out<O, false>(out + i, transform<C>(static_cast<C>(x[i]), c, lim));
    ++i;
    if (++lane == period) lane = 0;
  };
  if constexpr (Stream) {
    while (i < count && reinterpret_cast<std::uintptr_t>(out + i) % 64 != 0) one_element();
  }
  const VC vlim = splat<VC>(lim);
  for (; i + N <= count; i += N) {
    const auto c = load_coefs<VC>(fill, lo, hi, center, mul, lane);
    store_out<O, Stream>(out + i, transform<VC>(load<VC>(x + i), c, vlim));
    lane += N;  // period >= N, so one subtraction wraps it
    if (lane >= period) lane -= period;
  }
  while (i < count) one_element();
#if defined(LEPTON_X86)
  if constexpr (Stream) _mm_sfence();
#endif
}

template <class T, class O>
void apply(const T* x, void* out, i64 count, i64 lane0, const ApplyTile& tile) {
  O* o = static_cast<O*>(out);
  if (tile.stream)
    apply_loop<T, O, true>(x, o, count, lane0, tile);
  else
    apply_loop<T, O, false>(x, o, count, lane0, tile);
}

template <class T>
constexpr ApplyFn<T> apply_fn(OutKind kind) {
  switch (kind) {
    case OutKind::f32: return &apply<T, float>;
    case OutKind::f64: return &apply<T, double>;
    case OutKind::f16: return &apply<T, std::uint16_t>;
    case OutKind::i8: return &apply<T, std::int8_t>;
  }
  return nullptr;
}

}  // namespace

const KernelTable& LEPTON_PREP_TABLE() {
  static const KernelTable table = {
      LEPTON_PREP_ISA_NAME,
      kVectorBytes,
      &accumulate<float>,
      &accumulate<double>,
      {apply_fn<float>(OutKind::f32), apply_fn<float>(OutKind::f64), apply_fn<float>(OutKind::f16),
       apply_fn<float>(OutKind::i8)},
      {apply_fn<double>(OutKind::f32), apply_fn<double>(OutKind::f64),
       apply_fn<double>(OutKind::f16), apply_fn<double>(OutKind::i8)},
  };
  return table;
}

}  // namespace lepton::prep
