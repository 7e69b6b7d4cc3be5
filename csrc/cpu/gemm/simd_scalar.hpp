// Portable kernel traits: "vectors" of 8 lanes held in plain arrays, every operation a loop of
// IEEE scalar operations. Runs on any CPU; because each lane does exactly the operations the
// SIMD traits do, in the same order, its results are bit-identical to theirs.
#pragma once
#include <cstdint>
#include <cstring>

#include "common/isa.hpp"
#include "cpu/gemm/kernel_ns.hpp"
#include "cpu/gemm/requant.hpp"

namespace lepton::gemm::LEPTON_KERNEL_NS {

struct Scalar {
  static constexpr ::lepton::Isa kIsa = ::lepton::Isa::scalar;
  static constexpr int kRows = 4, kVecs = 1, kLanes = 8, kGroup = 1;
  static constexpr bool kShiftA = false;
  using a_t = std::int8_t;
  struct ivec {
    std::int32_t v[kLanes];
  };
  struct fvec {
    float v[kLanes];
  };
  struct mask {
    bool v[kLanes];
  };

  template <class V, class F>
  static V map(F f) {
    V out;
    for (int i = 0; i < kLanes; ++i) out.v[i] = f(i);
    return out;
  }

  static ivec zero_i() { return map<ivec>([](int) { return 0; }); }
  static ivec load_b(const std::int8_t* p) { return map<ivec>([p](int i) { return std::int32_t{p[i]}; }); }
  static std::int32_t bcast_a(const a_t* p) { return *p; }
  static ivec dot(ivec acc, std::int32_t a, ivec b) {
    return map<ivec>([&](int i) { return acc.v[i] + a * b.v[i]; });
  }

  static ivec load_i(const std::int32_t* p) { return map<ivec>([p](int i) { return p[i]; }); }
  static void store_i(std::int32_t* p, ivec v) { std::memcpy(p, v.v, sizeof v.v); }
  static ivec add_i(ivec a, ivec b) { return map<ivec>([&](int i) { return a.v[i] + b.v[i]; }); }
  static ivec sub_i(ivec a, ivec b) { return map<ivec>([&](int i) { return a.v[i] - b.v[i]; }); }
  static void store_i_n(std::int32_t* p, ivec v, int n) {
    std::memcpy(p, v.v, static_cast<std::size_t>(n) * 4);
  }

  static fvec to_f(ivec a) { return map<fvec>([&](int i) { return static_cast<float>(a.v[i]); }); }
  static fvec set_f(float x) { return map<fvec>([x](int) { return x; }); }
  static fvec load_f(const float* p) { return map<fvec>([p](int i) { return p[i]; }); }
  static fvec add(fvec a, fvec b) { return map<fvec>([&](int i) { return a.v[i] + b.v[i]; }); }
  static fvec sub(fvec a, fvec b) { return map<fvec>([&](int i) { return a.v[i] - b.v[i]; }); }
  static fvec mul(fvec a, fvec b) { return map<fvec>([&](int i) { return a.v[i] * b.v[i]; }); }
  static fvec div(fvec a, fvec b) { return map<fvec>([&](int i) { return a.v[i] / b.v[i]; }); }
  // The SIMD min/max return the second operand unless the first is strictly smaller/larger.
  static fvec min(fvec a, fvec b) {
    return map<fvec>([&](int i) { return a.v[i] < b.v[i] ? a.v[i] : b.v[i]; });
  }
  static fvec max(fvec a, fvec b) {
    return map<fvec>([&](int i) { return a.v[i] > b.v[i] ? a.v[i] : b.v[i]; });
  }
  static fvec abs(fvec a) {
    return map<fvec>([&](int i) {
      std::uint32_t bits;
      std::memcpy(&bits, &a.v[i], 4);
      bits &= 0x7fffffffu;
      float out;
      std::memcpy(&out, &bits, 4);
      return out;
    });
  }
  static mask less(fvec a, fvec b) { return map<mask>([&](int i) { return a.v[i] < b.v[i]; }); }
  static fvec select(mask m, fvec t, fvec f) {
    return map<fvec>([&](int i) { return m.v[i] ? t.v[i] : f.v[i]; });
  }
  static fvec pow2i(fvec n) {
    return map<fvec>([&](int i) {
      const std::uint32_t bits = static_cast<std::uint32_t>(static_cast<std::int32_t>(n.v[i]) + 127)
                                 << 23;
      float out;
      std::memcpy(&out, &bits, 4);
      return out;
    });
  }
  static void store_f_n(float* p, fvec v, int n) {
    std::memcpy(p, v.v, static_cast<std::size_t>(n) * 4);
  }
  static void store_h_n(std::uint16_t* p, fvec v, int n) {
    for (int i = 0; i < n; ++i) p[i] = float_to_half(v.v[i]);
  }
  // v: y / out_scale; stores requant.hpp's int8.
  static void store_q_n(std::int8_t* p, fvec v, int n) {
    for (int i = 0; i < n; ++i) p[i] = requantize_quotient(v.v[i]);
  }

  // float32 -> IEEE binary16, round to nearest even: what F16C's vcvtps2ph and numpy do.
  static std::uint16_t float_to_half(float f) {
    std::uint32_t x;
    std::memcpy(&x, &f, 4);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u)  // Inf stays Inf; NaN keeps its top payload bits and turns quiet
      return static_cast<std::uint16_t>(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0u));
    if (ax >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // ≥ 65520: Inf
    if (ax < 0x38800000u) {  // below 2^-14: a binary16 subnormal (units of 2^-24) or zero
      const std::uint32_t e = ax >> 23;
      if (e < 102) return static_cast<std::uint16_t>(sign);  // below 2^-25: rounds to ±0
      const std::uint32_t m = (ax & 0x7fffffu) | 0x800000u;
      const std::uint32_t shift = 126 - e;  // value / 2^-24 = m >> shift
      std::uint32_t q = m >> shift;
      const std::uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
      if (rem > half || (rem == half && (q & 1u))) ++q;
      return static_cast<std::uint16_t>(sign | q);
    }
    // Normal: rebias the exponent (127 -> 15) and round 23 mantissa bits to 10; a carry out of
    // the mantissa correctly bumps the exponent.
    const std::uint32_t r = ax - 0x38000000u;
    std::uint32_t q = r >> 13;
    const std::uint32_t rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u))) ++q;
    return static_cast<std::uint16_t>(sign | q);
  }
};

}  // namespace lepton::gemm::LEPTON_KERNEL_NS
