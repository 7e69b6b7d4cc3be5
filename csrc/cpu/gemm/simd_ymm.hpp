// 256-bit kernel traits: AVX2 (exact vpmaddwd path) and AVX-VNNI (VEX vpdpbusd). They share
// every int32/float32 operation and differ only in how a k group is multiplied.
// Included only by kernel_avx2.cpp and kernel_avx_vnni.cpp (compiled with -mavx2 -mfma -mf16c,
// plus -mavxvnni for the latter).
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "common/isa.hpp"
#include "cpu/gemm/kernel_ns.hpp"

namespace lepton::gemm::LEPTON_KERNEL_NS {

struct YmmOps {
  // 6 rows × 2 vectors: 12 accumulators + 2 B vectors + a broadcast (+ a product for
  // vpmaddwd) fit the 16 ymm registers without spilling.
  static constexpr int kRows = 6, kVecs = 2, kLanes = 8;
  using ivec = __m256i;
  using fvec = __m256;
  using mask = __m256;

  static ivec zero_i() { return _mm256_setzero_si256(); }
  static ivec load_i(const std::int32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static void store_i(std::int32_t* p, ivec v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
  }
  static ivec add_i(ivec a, ivec b) { return _mm256_add_epi32(a, b); }
  static ivec sub_i(ivec a, ivec b) { return _mm256_sub_epi32(a, b); }
  static ivec lane_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static void store_i_n(std::int32_t* p, ivec v, int n) {
    if (n == kLanes)
      store_i(p, v);
    else
      _mm256_maskstore_epi32(reinterpret_cast<int*>(p), lane_mask(n), v);
  }

  static fvec to_f(ivec v) { return _mm256_cvtepi32_ps(v); }
  static fvec set_f(float x) { return _mm256_set1_ps(x); }
  static fvec load_f(const float* p) { return _mm256_loadu_ps(p); }
  static fvec add(fvec a, fvec b) { return _mm256_add_ps(a, b); }
  static fvec sub(fvec a, fvec b) { return _mm256_sub_ps(a, b); }
  static fvec mul(fvec a, fvec b) { return _mm256_mul_ps(a, b); }
  static fvec div(fvec a, fvec b) { return _mm256_div_ps(a, b); }
  static fvec min(fvec a, fvec b) { return _mm256_min_ps(a, b); }
  static fvec max(fvec a, fvec b) { return _mm256_max_ps(a, b); }
  static fvec abs(fvec a) {
    return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
  }
  static mask less(fvec a, fvec b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static fvec select(mask m, fvec if_true, fvec if_false) {
    return _mm256_blendv_ps(if_false, if_true, m);
  }
  static fvec pow2i(fvec n) {
    const ivec e = _mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  static void store_f_n(float* p, fvec v, int n) {
    if (n == kLanes)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, lane_mask(n), v);
  }
  static void store_h_n(std::uint16_t* p, fvec v, int n) {
    const __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    if (n == kLanes) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), h);
    } else {
      alignas(16) std::uint16_t tmp[kLanes];
      _mm_store_si128(reinterpret_cast<__m128i*>(tmp), h);
      std::memcpy(p, tmp, static_cast<std::size_t>(n) * 2);
    }
  }
  // v: y / out_scale; stores requant.hpp's int8 (NaN → 0, clamp, round half to even).
  static void store_q_n(std::int8_t* p, fvec v, int n) {
    v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));  // NaN lanes -> +0
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
    const ivec i = _mm256_cvttps_epi32(
        _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));  // integral: exact
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    const __m128i b = _mm_packs_epi16(w, w);  // bytes 0..7 in lane order; values fit, no saturation
    if (n == kLanes) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(p), b);
    } else {
      alignas(16) std::int8_t tmp[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(tmp), b);
      std::memcpy(p, tmp, static_cast<std::size_t>(n));
    }
  }
  static ivec bcast32(const void* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
};

#if defined(__AVX2__) && !defined(__AVXVNNI__)
// Exact without VNNI: B bytes are sign-extended to int16 as they are loaded (the packed weights
// stay int8, so a memory-bound GEMV reads a quarter of float32's bytes) and A is packed as int16
// pairs. vpmaddwd adds two products of at most 128·128 = 2¹⁴, so it never saturates (unlike
// vpmaddubsw, whose u8×s8 pair sums overflow int16).
struct Avx2Madd : YmmOps {
  static constexpr ::lepton::Isa kIsa = ::lepton::Isa::avx2;
  static constexpr int kGroup = 2;
  static constexpr bool kShiftA = false;
  using a_t = std::int16_t;
  static ivec load_b(const std::int8_t* p) {  // 8 columns × 2 k as 16 bytes -> 16 int16
    return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static ivec bcast_a(const a_t* p) { return bcast32(p); }
  static ivec dot(ivec acc, ivec a, ivec b) {
#if defined(__GNUC__) && !defined(__clang__)
    // In-place asm: see Avx512Vnni::dot (GCC otherwise shuffles and spills the accumulators).
    ivec prod;
    asm("vpmaddwd %2, %1, %0" : "=x"(prod) : "x"(a), "x"(b));
    asm("vpaddd %1, %0, %0" : "+x"(acc) : "x"(prod));
    return acc;
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
  }
};
#endif

#if defined(__AVXVNNI__)
struct AvxVnni : YmmOps {
  static constexpr ::lepton::Isa kIsa = ::lepton::Isa::avx_vnni;
  static constexpr int kGroup = 4;
  static constexpr bool kShiftA = true;
  using a_t = std::uint8_t;
  static ivec load_b(const std::int8_t* p) {  // 8 columns × 4 k
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static ivec bcast_a(const a_t* p) { return bcast32(p); }
  static ivec dot(ivec acc, ivec a, ivec b) {
#if defined(__GNUC__) && !defined(__clang__)
    asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(b));  // see Avx512Vnni::dot
    return acc;
#else
    return _mm256_dpbusd_avx_epi32(acc, a, b);
#endif
  }
};
#endif

}  // namespace lepton::gemm::LEPTON_KERNEL_NS
