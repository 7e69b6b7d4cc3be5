// Pass 2 inner loop: replace -> clip -> scale -> convert, one read and one write per element.
// Part of kernels_impl.hpp: internal linkage only (see there).
#pragma once
#include <cstdint>
#include <limits>
#include <type_traits>

#include "cpu/preprocess/half.hpp"
#include "cpu/preprocess/kernels.hpp"
#include "cpu/preprocess/simd.hpp"

#if !defined(LEPTON_PREP_VECTOR_BYTES)
#error "include through kernels_<isa>.cpp, which defines LEPTON_PREP_VECTOR_BYTES"
#endif

namespace lepton::prep {
namespace {

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
}  // namespace lepton::prep
