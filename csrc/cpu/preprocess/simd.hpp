// Vector helpers for the preprocessing kernels: GCC/Clang vector types sized by the including
// translation unit (LEPTON_PREP_VECTOR_BYTES), loads that widen, stores that stream.
// Part of kernels_impl.hpp: internal linkage only (see there).
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(LEPTON_X86)
#include <immintrin.h>
#endif

#if !defined(LEPTON_PREP_VECTOR_BYTES)
#error "include through kernels_<isa>.cpp, which defines LEPTON_PREP_VECTOR_BYTES"
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

}  // namespace
}  // namespace lepton::prep
