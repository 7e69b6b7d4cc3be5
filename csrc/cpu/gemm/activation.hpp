// Epilogue activations written once over a traits type's float operations. Only IEEE add, sub,
// mul, div, min, max and exact conversions are used (the GEMM sources build with
// -ffp-contract=off), so every ISA, the portable one included, gives bit-identical results.
#pragma once
#include "cpu/gemm/kernel_ns.hpp"

namespace lepton::gemm::LEPTON_KERNEL_NS {

template <class T>
struct Activations {
  using fvec = typename T::fvec;

  static fvec horner(fvec x, const float* c, int n) {  // c[0] + c[1]·x + … + c[n-1]·x^(n-1)
    fvec acc = T::set_f(c[n - 1]);
    for (int i = n - 2; i >= 0; --i) acc = T::add(T::mul(acc, x), T::set_f(c[i]));
    return acc;
  }

  // e^x for x ≤ 0 (slightly positive rounding noise is fine), ~1 ulp. Below ln(FLT_MIN) the
  // result would be subnormal: it is returned as 0 (an absolute error under 1.2e-38).
  static fvec exp_nonpos(fvec x) {
    const fvec lowest = T::set_f(-87.33654f);
    const fvec xc = T::max(x, lowest);
    // n = round(x·log2 e) by the 1.5·2²³ trick (exact for |n| < 2²²); then x = n·ln2 + r with
    // ln2 split so that n·ln2_hi is exact (Cody–Waite), |r| ≤ ~0.35.
    const fvec magic = T::set_f(12582912.0f);
    const fvec n = T::sub(T::add(T::mul(xc, T::set_f(1.44269504f)), magic), magic);
    fvec r = T::sub(xc, T::mul(n, T::set_f(0.693359375f)));
    r = T::sub(r, T::mul(n, T::set_f(-2.12194440e-4f)));
    // Taylor to degree 7: the truncation error r⁸/8! < 6e-9 is below float32 rounding.
    static constexpr float c[8] = {1.0f,         1.0f,          0.5f,           1.0f / 6.0f,
                               1.0f / 24.0f, 1.0f / 120.0f, 1.0f / 720.0f, 1.0f / 5040.0f};
    const fvec p = horner(r, c, 8);
    return T::select(T::less(x, lowest), T::set_f(0.0f), T::mul(p, T::pow2i(n)));
  }

  // 1 / (1 + e^-v), with e = e^-|v| ≤ 1 so nothing overflows: v < 0 gives e / (1 + e).
  static fvec sigmoid(fvec v) {
    const fvec e = exp_nonpos(T::sub(T::set_f(0.0f), T::abs(v)));
    const fvec s = T::div(T::set_f(1.0f), T::add(T::set_f(1.0f), e));
    return T::select(T::less(v, T::set_f(0.0f)), T::mul(e, s), s);
  }

  // erfc(z) for z ≥ 0 with small *relative* error (~2e-7 over the float range), so the negative
  // tail of GELU keeps its relative accuracy. Form: erfc(z) = t·exp(−z² + P(t)), t = 1/(1+z/2);
  // P is a degree-10 least-squares Chebyshev fit of log(erfc(z)/t) + z² on t ∈ [0.15, 1] (mpmath
  // reference, 600 nodes), written in u = (t − 0.575)/0.425 ∈ [−1, 1] so Horner's rule in float32
  // adds only ~1e-7. z is clamped to 11 (erfc(11) ≈ 1e-54 is zero in float32 anyway).
  static fvec erfc_nonneg(fvec z) {
    static constexpr float c[11] = {-0.56999496f,  0.58103479f,   0.018218019f,  -0.031169257f,
                                -0.0015357196f, 0.0041233497f, -0.00022146546f, -0.00063425217f,
                                0.00013545776f, 6.9752767e-05f, -2.5706617e-05f};
    z = T::min(z, T::set_f(11.0f));
    const fvec t = T::div(T::set_f(1.0f), T::add(T::set_f(1.0f), T::mul(z, T::set_f(0.5f))));
    const fvec u = T::mul(T::sub(t, T::set_f(0.575f)), T::set_f(1.0f / 0.425f));
    const fvec w = T::sub(horner(u, c, 11), T::mul(z, z));
    return T::mul(t, exp_nonpos(w));
  }

  // GELU, erf form (torch's default): v·Φ(v), Φ(v) = erfc(−v/√2)/2, taken as 1 − erfc(|v|/√2)/2
  // for v ≥ 0 so neither side cancels.
  static fvec gelu(fvec v) {
    const fvec z = T::mul(T::abs(v), T::set_f(0.70710678f));
    const fvec half_c = T::mul(erfc_nonneg(z), T::set_f(0.5f));
    const fvec phi = T::select(T::less(v, T::set_f(0.0f)), half_c, T::sub(T::set_f(1.0f), half_c));
    return T::mul(v, phi);
  }

  static fvec relu(fvec v) { return T::max(v, T::set_f(0.0f)); }
};

}  // namespace lepton::gemm::LEPTON_KERNEL_NS
