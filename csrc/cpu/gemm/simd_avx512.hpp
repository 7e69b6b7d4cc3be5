// AVX-512 VNNI kernel traits (zmm, vpdpbusd u8×s8 → s32, 64 multiply-adds per instruction).
// Included only by kernel_avx512_vnni.cpp, which compiles with the matching -m flags.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "common/isa.hpp"
#include "cpu/gemm/kernel_ns.hpp"

namespace lepton::gemm::LEPTON_KERNEL_NS {

struct Avx512Vnni {
  static constexpr ::lepton::Isa kIsa = ::lepton::Isa::avx512_vnni;
  // 4 rows × 4 vectors (nr = 64): 16 accumulators hide vpdpbusd's latency at two per cycle,
  // and only 4 A broadcasts feed 16 dot instructions. Measured on Zen 5 (thread CPU time,
  // 1024³-2048³): 4×4 ~800 GOP/s per core, 6×4 / 8×3 ~740, 8×2 ~650; the broadcasts, not the
  // B loads, are what a taller tile pays for.
  static constexpr int kRows = 4, kVecs = 4, kLanes = 16, kGroup = 4;
  static constexpr bool kShiftA = true;
  using a_t = std::uint8_t;
  using ivec = __m512i;
  using fvec = __m512;
  using mask = __mmask16;

  // --- the dot product
  static ivec zero_i() { return _mm512_setzero_si512(); }
  static ivec load_b(const std::int8_t* p) { return _mm512_loadu_si512(p); }
  static ivec bcast_a(const a_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  static ivec dot(ivec acc, ivec a, ivec b) {
#if defined(__GNUC__) && !defined(__clang__)
    // GCC's intrinsic form makes it copy every accumulator each k step (its register allocator
    // does not tie the destructive operand inside the loop); the asm updates in place.
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
#else
    return _mm512_dpbusd_epi32(acc, a, b);
#endif
  }

  // --- int32 vectors
  static ivec load_i(const std::int32_t* p) { return _mm512_loadu_si512(p); }
  static void store_i(std::int32_t* p, ivec v) { _mm512_storeu_si512(p, v); }
  static ivec add_i(ivec a, ivec b) { return _mm512_add_epi32(a, b); }
  static ivec sub_i(ivec a, ivec b) { return _mm512_sub_epi32(a, b); }
  static void store_i_n(std::int32_t* p, ivec v, int n) {
    _mm512_mask_storeu_epi32(p, static_cast<mask>((1u << n) - 1), v);
  }

  // --- float32 vectors (epilogue and activations)
  static fvec to_f(ivec v) { return _mm512_cvtepi32_ps(v); }
  static fvec set_f(float x) { return _mm512_set1_ps(x); }
  static fvec load_f(const float* p) { return _mm512_loadu_ps(p); }
  static fvec add(fvec a, fvec b) { return _mm512_add_ps(a, b); }
  static fvec sub(fvec a, fvec b) { return _mm512_sub_ps(a, b); }
  static fvec mul(fvec a, fvec b) { return _mm512_mul_ps(a, b); }
  static fvec div(fvec a, fvec b) { return _mm512_div_ps(a, b); }
  static fvec min(fvec a, fvec b) { return _mm512_min_ps(a, b); }
  static fvec max(fvec a, fvec b) { return _mm512_max_ps(a, b); }
  static fvec abs(fvec a) { return _mm512_abs_ps(a); }
  static mask less(fvec a, fvec b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static fvec select(mask m, fvec if_true, fvec if_false) {
    return _mm512_mask_blend_ps(m, if_false, if_true);
  }
  // 2^n for integral n in [-126, 127], built in the exponent field.
  static fvec pow2i(fvec n) {
    const ivec e = _mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static void store_f_n(float* p, fvec v, int n) {
    if (n == kLanes)
      _mm512_storeu_ps(p, v);
    else
      _mm512_mask_storeu_ps(p, static_cast<mask>((1u << n) - 1), v);
  }
  static void store_h_n(std::uint16_t* p, fvec v, int n) {
    const __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_mask_storeu_epi16(p, static_cast<mask>((1u << n) - 1), h);
  }
  // v: y / out_scale; stores requant.hpp's int8 (NaN → 0, clamp, round half to even).
  static void store_q_n(std::int8_t* p, fvec v, int n) {
    v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);  // NaN lanes -> +0
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
    const ivec i = _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m128i b = _mm512_cvtsepi32_epi8(i);  // values fit: the saturation never acts
    if (n == kLanes)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), b);
    else
      _mm_mask_storeu_epi8(p, static_cast<mask>((1u << n) - 1), b);
  }
};

}  // namespace lepton::gemm::LEPTON_KERNEL_NS
